//! Running scenarios: parameter grids, seeds, shards, parallel execution, merging and reports.
//!
//! Model: a sweep is a grid of parameter points × seeds. The seeds of each point are cut into
//! chunks of consecutive seeds (a family's `SEEDS_PER_CHUNK`), numbered point-major, and shard
//! `i/n` takes the chunks whose number is `i mod n`, so that n processes (CI matrix jobs,
//! Kubernetes indexed jobs, Slurm arrays) split any sweep without talking to each other. Chunks,
//! not single seeds, are dealt out so that a shard's records are exactly some of the records one
//! process would write: merged, n shards give the same report as one process, bit for bit (but
//! for wall-clock seconds). Within a process rayon runs the chunks in parallel; a chunk's runs
//! are folded into one [`RunMetrics`] (proportions add up, samples concatenate) to keep
//! `runs.jsonl` small. A report directory holds
//! `runs.jsonl` (the raw chunk records, which `merge` reads back), and the pooled
//! `metrics.json`, `summary.md`, `index.html` and `plots/` written by crate vein-reports.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use thiserror::Error;
use vein_node::core::hash::Hash;
use vein_reports::gate::InjectedBias;
use vein_reports::metrics::{Measurement, MetricsError, RunMetrics, SweepReport, Verdict};
use vein_reports::summary::{self, SummaryError};

use crate::engine::{Engine, LocalNetEngine};
use crate::families;
use crate::run_error::RunError;
use crate::scenario::{EngineKind, InvalidValue, Scenario, parse_range};

/// Name of the raw-records file in a report directory.
pub const RUNS_FILE: &str = "runs.jsonl";

/// Errors of the runner; every input error names what was wrong.
#[derive(Debug, Error)]
pub enum RunnerError {
    /// A `--param` specification has no `=`.
    #[error("--param {spec:?}: expected NAME=RANGE, e.g. q=0.1..0.3:0.1 or z=1..6")]
    ParamSyntax {
        /// The specification as given.
        spec: String,
    },
    /// The range of a `--param` or `[sweep]` entry does not parse (bad number, step or order).
    #[error("--param {name}: {message}")]
    ParamRange {
        /// The parameter name.
        name: String,
        /// What is wrong with its range, from the range parser.
        message: String,
    },
    /// Applying a grid point's values to the scenario made it invalid.
    #[error("parameter point {point}: {source}")]
    Point {
        /// The point's overrides as `name=value` pairs, space-separated.
        point: String,
        /// The first value the scenario's validation refused.
        source: InvalidValue,
    },
    /// `--shard` is not `i/n` with `0 <= i < n`.
    #[error("--shard {spec:?}: expected i/n with 0 <= i < n, e.g. 0/4")]
    Shard {
        /// The specification as given.
        spec: String,
    },
    /// One run of one seed failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Records could not be folded or pooled (mixed kinds, schema mismatch, bad statistic).
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The report directory could not be written by crate vein-reports.
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// A shard directory's `runs.jsonl` could not be read during a merge.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The report directory or its `runs.jsonl` could not be created or written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of a `runs.jsonl` is not a valid run record.
    #[error("{path} line {line}: {source}")]
    Record {
        /// The `runs.jsonl` file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why the record did not parse.
        source: MetricsError,
    },
    /// A merge found no run record at all (or a chunk produced none).
    #[error("no run records found in {paths}")]
    NoRecords {
        /// The directories searched, comma-separated.
        paths: String,
    },
    /// A sweep's grid (the product of its parameters' value counts) is above [`GRID_POINTS_MAX`].
    #[error(
        "the sweep's grid has {points} points, above the limit of {limit}: sweep fewer \
         parameters at once or coarser ranges"
    )]
    GridTooLarge {
        /// Points the grid would have (the product of the value counts).
        points: u128,
        /// [`GRID_POINTS_MAX`].
        limit: u64,
    },
    /// A scenario with `engine = "madsim"` was handed to the LocalNet runner.
    #[error(
        "scenario {scenario:?} says engine = \"madsim\": run it on the simulator with \
         `vein-sim scenario FILE` (a madsim build, docs/scenarios.md), or set engine = \"localnet\""
    )]
    NeedsSimulator {
        /// `name` of the scenario file.
        scenario: String,
    },
}

/// One grid point: the scenario with overrides applied.
#[derive(Debug, Clone)]
pub struct Point {
    /// The base scenario with this point's values set (validated).
    pub scenario: Scenario,
    /// The swept parameters and their values at this point; empty for the scenario as written.
    pub overrides: BTreeMap<String, f64>,
}

/// Parses `NAME=RANGE`.
pub fn parse_param(spec: &str) -> Result<(String, Vec<f64>), RunnerError> {
    let (name, range) =
        spec.split_once('=').ok_or_else(|| RunnerError::ParamSyntax { spec: spec.into() })?;
    let values = parse_range(range.trim())
        .map_err(|message| RunnerError::ParamRange { name: name.trim().into(), message })?;
    Ok((name.trim().to_string(), values))
}

/// Most points a sweep's grid may have. Each point is a scenario held in memory and run for all
/// its seeds; three parameters of 10,000 values each would ask for 10^12 of them, which no run
/// finishes and no machine holds, so the grid is refused before anything is allocated.
pub const GRID_POINTS_MAX: u64 = 100_000;

/// The cartesian product of `parameters` applied to `base`, first parameter outermost.
pub fn grid(base: &Scenario, parameters: &[(String, Vec<f64>)]) -> Result<Vec<Point>, RunnerError> {
    let points: u128 = parameters
        .iter()
        .map(|(_, values)| values.len() as u128)
        .try_fold(1u128, |product, count| product.checked_mul(count))
        .unwrap_or(u128::MAX);
    if points > u128::from(GRID_POINTS_MAX) {
        return Err(RunnerError::GridTooLarge { points, limit: GRID_POINTS_MAX });
    }
    let mut points = vec![Point { scenario: base.clone(), overrides: BTreeMap::new() }];
    for (name, values) in parameters {
        let mut next = Vec::with_capacity(points.len() * values.len());
        for point in &points {
            for value in values {
                let mut scenario = point.scenario.clone();
                let mut overrides = point.overrides.clone();
                overrides.insert(name.clone(), *value);
                scenario
                    .set_parameter(name, *value)
                    .map_err(|source| RunnerError::Point { point: describe(&overrides), source })?;
                next.push(Point { scenario, overrides });
            }
        }
        points = next;
    }
    Ok(points)
}

/// The scenario's own `[sweep]` table as `--param` values.
pub fn default_sweep(scenario: &Scenario) -> Result<Vec<(String, Vec<f64>)>, RunnerError> {
    scenario
        .sweep
        .iter()
        .map(|(name, range)| {
            let values = parse_range(range)
                .map_err(|message| RunnerError::ParamRange { name: name.clone(), message })?;
            Ok((name.clone(), values))
        })
        .collect()
}

fn describe(overrides: &BTreeMap<String, f64>) -> String {
    let parts: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if parts.is_empty() { "(scenario as written)".into() } else { parts.join(" ") }
}

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's shard, in `0..count`; it runs the chunks whose number modulo `count` is
    /// `index`.
    pub index: u64,
    /// Number of shards the sweep is split into (at least 1).
    pub count: u64,
}

impl Shard {
    /// The whole sweep in one process (`0/1`).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` (e.g. `--shard 0/4`), refusing `n = 0` and `i >= n`.
    pub fn parse(spec: &str) -> Result<Shard, RunnerError> {
        let error = || RunnerError::Shard { spec: spec.into() };
        let (index, count) = spec.split_once('/').ok_or_else(error)?;
        let index: u64 = index.trim().parse().map_err(|_| error())?;
        let count: u64 = count.trim().parse().map_err(|_| error())?;
        if count == 0 || index >= count {
            return Err(error());
        }
        Ok(Shard { index, count })
    }
}

/// Seeds per chunk: races are milliseconds each, long runs are seconds each.
fn chunk_size(scenario: &Scenario) -> usize {
    families::seeds_per_chunk(&scenario.metric.name)
}

struct Chunk {
    point: usize,
    seeds: Vec<u64>,
}

/// Progress lines on stderr, at most one per second.
struct Progress {
    label: String,
    total: usize,
    done: AtomicUsize,
    last_print: Mutex<f64>,
    started: std::time::Instant,
}

impl Progress {
    #[allow(clippy::disallowed_methods)] // A harness, not the core: progress uses the wall clock.
    fn new(label: &str, total: usize) -> Progress {
        Progress {
            label: label.into(),
            total,
            done: AtomicUsize::new(0),
            last_print: Mutex::new(0.0),
            started: std::time::Instant::now(),
        }
    }

    fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn tick(&self, seeds: usize) {
        let done = self.done.fetch_add(seeds, Ordering::Relaxed) + seeds;
        let elapsed = self.elapsed_s();
        let Ok(mut last) = self.last_print.lock() else { return };
        if done == self.total || elapsed - *last >= 1.0 {
            *last = elapsed;
            eprintln!("[{}] {done}/{} runs, {elapsed:.1} s", self.label, self.total);
        }
    }
}

/// Runs every point × seed of this shard on LocalNet; records come back in a deterministic
/// order. Scenarios that ask for the madsim engine are refused (the simulator's binary runs
/// them through [`execute_on`]).
pub fn execute(
    label: &str,
    points: &[Point],
    seeds: u64,
    first_seed: Option<u64>,
    shard: Shard,
) -> Result<Vec<RunMetrics>, RunnerError> {
    if let Some(point) = points.iter().find(|point| point.scenario.engine == EngineKind::Madsim) {
        return Err(RunnerError::NeedsSimulator { scenario: point.scenario.name.clone() });
    }
    execute_on::<LocalNetEngine>(label, points, seeds, first_seed, shard)
}

/// As [`execute`], on engine `E`, whatever engine the scenario names.
pub fn execute_on<E: Engine>(
    label: &str,
    points: &[Point],
    seeds: u64,
    first_seed: Option<u64>,
    shard: Shard,
) -> Result<Vec<RunMetrics>, RunnerError> {
    let mut chunks = Vec::new();
    let mut number = 0u64;
    for (index, point) in points.iter().enumerate() {
        let first = first_seed.unwrap_or(point.scenario.run.first_seed);
        let size = chunk_size(&point.scenario);
        let all: Vec<u64> = (0..seeds).map(|j| first + j).collect();
        for seeds in all.chunks(size) {
            if number % shard.count == shard.index {
                chunks.push(Chunk { point: index, seeds: seeds.to_vec() });
            }
            number += 1;
        }
    }
    let total = chunks.iter().map(|chunk| chunk.seeds.len()).sum();
    let progress = Progress::new(label, total);
    let results: Vec<Result<RunMetrics, RunnerError>> = chunks
        .par_iter()
        .map(|chunk| {
            let point = &points[chunk.point];
            let chunk_started = progress.elapsed_s();
            let mut runs = Vec::with_capacity(chunk.seeds.len());
            for seed in &chunk.seeds {
                let mut run = families::run_seed::<E>(&point.scenario, *seed)?;
                label_overrides(&mut run, &point.overrides);
                runs.push(run);
            }
            let mut merged = fold(runs)?;
            merged.wall_seconds = progress.elapsed_s() - chunk_started;
            progress.tick(chunk.seeds.len());
            Ok(merged)
        })
        .collect();
    let runs: Vec<RunMetrics> = results.into_iter().collect::<Result<_, _>>()?;
    eprintln!("[{label}] done: {total} runs in {:.1} s", progress.elapsed_s());
    Ok(runs)
}

/// Swept parameters become measurement parameters, so the sweep groups points by them.
fn label_overrides(run: &mut RunMetrics, overrides: &BTreeMap<String, f64>) {
    for measurement in &mut run.measurements {
        for (name, value) in overrides {
            measurement.parameters.insert(name.clone(), *value);
        }
    }
}

/// Folds the runs of one chunk into one record: first seed, combined trace hash, summed
/// counters, pooled measurements.
pub fn fold(runs: Vec<RunMetrics>) -> Result<RunMetrics, RunnerError> {
    let mut iterator = runs.into_iter();
    let Some(mut merged) = iterator.next() else {
        return Err(RunnerError::NoRecords { paths: "(empty chunk)".into() });
    };
    let mut traces = vec![merged.trace_hash.clone()];
    for run in iterator {
        traces.push(run.trace_hash.clone());
        merged.nodes = merged.nodes.max(run.nodes);
        merged.simulated_seconds += run.simulated_seconds;
        merged.wall_seconds += run.wall_seconds;
        merged.messages_delivered += run.messages_delivered;
        merged.checkpoints += run.checkpoints;
        merged.transactions_final += run.transactions_final;
        merged.violations.extend(run.violations);
        for measurement in run.measurements {
            pool_into(&mut merged.measurements, measurement)?;
        }
    }
    if traces.len() > 1 {
        let parts: Vec<&[u8]> = traces.iter().map(|trace| trace.as_bytes()).collect();
        let hash = Hash::of_parts(&parts);
        merged.trace_hash = hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    }
    Ok(merged)
}

fn pool_into(into: &mut Vec<Measurement>, next: Measurement) -> Result<(), RunnerError> {
    use vein_reports::metrics::MeasurementData;
    let same = |m: &Measurement| {
        m.name == next.name
            && m.parameters.len() == next.parameters.len()
            && m.parameters
                .iter()
                .zip(&next.parameters)
                .all(|((a, x), (b, y))| a == b && x.to_bits() == y.to_bits())
    };
    let Some(existing) = into.iter_mut().find(|m| same(m)) else {
        into.push(next);
        return Ok(());
    };
    let data = match (&existing.data, next.data) {
        (
            MeasurementData::Proportion { successes, trials },
            MeasurementData::Proportion { successes: s, trials: t },
        ) => MeasurementData::Proportion { successes: successes + s, trials: trials + t },
        (MeasurementData::Samples { values }, MeasurementData::Samples { values: more }) => {
            let mut values = values.clone();
            values.extend(more);
            MeasurementData::Samples { values }
        }
        _ => {
            return Err(RunnerError::Metrics(MetricsError::MixedKinds {
                scenario: String::new(),
                name: next.name,
            }));
        }
    };
    let mut pooled = Measurement::from_data(
        existing.name.clone(),
        existing.parameters.clone(),
        data,
        existing.reference.clone(),
    )?;
    pooled.other_references = existing.other_references.clone();
    *existing = pooled;
    Ok(())
}

/// Writes `runs.jsonl` and the pooled report; returns the verdict.
pub fn write_report(directory: &Path, runs: &[RunMetrics]) -> Result<Verdict, RunnerError> {
    write_report_with_bias(directory, runs, None)
}

/// As [`write_report`], with the test-only bias knob ([`InjectedBias`]) applied to the pooled
/// report (never to `runs.jsonl`, which keeps the raw records).
pub fn write_report_with_bias(
    directory: &Path,
    runs: &[RunMetrics],
    bias: Option<&InjectedBias>,
) -> Result<Verdict, RunnerError> {
    std::fs::create_dir_all(directory)
        .map_err(|source| RunnerError::Write { path: directory.to_path_buf(), source })?;
    let path = directory.join(RUNS_FILE);
    let mut text = String::new();
    for run in runs {
        let line = serde_json::to_string(run)
            .map_err(|error| MetricsError::Json { message: error.to_string() })?;
        text.push_str(&line);
        text.push('\n');
    }
    let mut file = std::fs::File::create(&path)
        .map_err(|source| RunnerError::Write { path: path.clone(), source })?;
    file.write_all(text.as_bytes())
        .map_err(|source| RunnerError::Write { path: path.clone(), source })?;
    let sweep = SweepReport::from_runs_with_bias(runs, bias)?;
    let charts = crate::charts::sweep_charts(&sweep);
    summary::write_sweep_report(directory, &sweep, &charts)?;
    print_table(&sweep);
    Ok(sweep.verdict)
}

/// One line per pooled measurement on stdout: the result without opening the report.
fn print_table(sweep: &SweepReport) {
    use vein_reports::summary::format_number;
    for pooled in &sweep.measurements {
        let m = &pooled.measurement;
        let parameters: Vec<String> =
            m.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let reference = m.reference.as_ref().map_or_else(
            || "no reference".to_string(),
            |r| format!("ref {} ({})", format_number(r.value), r.formula_name),
        );
        let inside = match m.reference_inside_ci {
            Some(true) => "inside",
            Some(false) => "outside",
            None => "-",
        };
        let verdict = match pooled.gate {
            Some(gate) if gate.rejected => format!("{inside}, p {:.2e}: REJECTED", gate.p_value),
            Some(gate) => format!("{inside}, p {:.2e}", gate.p_value),
            None => inside.to_string(),
        };
        println!(
            "{:<16} {:<22} {:<18} n={:<6} {} [{}, {}]  {reference}  {verdict}",
            pooled.scenario,
            m.name,
            parameters.join(" "),
            m.sample_size(),
            format_number(m.estimate),
            format_number(m.ci_low),
            format_number(m.ci_high),
        );
    }
    println!(
        "gate: Holm at {} over {} comparisons: {} rejected ({} outside their raw 95% interval){}",
        sweep.gate.alpha,
        sweep.gate.comparisons,
        sweep.gate.rejected,
        sweep.gate.outside_raw_interval,
        sweep.injected_bias.as_ref().map_or(String::new(), |b| format!("; TEST-ONLY bias {b}")),
    );
    for violation in &sweep.violations {
        println!(
            "VIOLATION {} seed {}: {} ({})",
            violation.scenario,
            violation.seed,
            violation.violation.invariant,
            violation.violation.detail
        );
    }
}

/// Reads the `runs.jsonl` of each directory.
pub fn read_runs(directories: &[PathBuf]) -> Result<Vec<RunMetrics>, RunnerError> {
    let mut runs = Vec::new();
    for directory in directories {
        let path = directory.join(RUNS_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|source| RunnerError::Read { path: path.clone(), source })?;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let run = RunMetrics::from_json(line).map_err(|source| RunnerError::Record {
                path: path.clone(),
                line: index + 1,
                source,
            })?;
            runs.push(run);
        }
    }
    if runs.is_empty() {
        let paths: Vec<String> = directories.iter().map(|d| d.display().to_string()).collect();
        return Err(RunnerError::NoRecords { paths: paths.join(", ") });
    }
    Ok(runs)
}
