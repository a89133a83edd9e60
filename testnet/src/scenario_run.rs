//! `vein-testnet scenario FILE`: a scenario file of crate vein-scenarios (scenarios/*.toml) run
//! on real `vein-node` processes, written as the same report as the other engines write
//! (`vein-scenarios run` on LocalNet, `vein-sim scenario` on madsim; docs/metrics-schema.md).
//!
//! Model: each seed is one fresh testnet in `OUT/nets/`, started with the scenario's consensus
//! parameters (`vein_scenarios::net_setup::attack_params`), its honest nodes and an attacker
//! node whose policy plays the family's attacker ([`crate::scenario_family`]); the run is
//! observed from outside ([`crate::scenario_observe`]) and measured by the family's own
//! measurement function, so the record is the one the simulated engines write for that seed.
//! What a real run cannot keep from the scenario, and what it does instead:
//! - time: loopback and debug binaries cannot keep up with any interval, so the interval is
//!   `--interval-ms` and every duration is scaled by the same factor (the formulas depend on
//!   the interval only through the latency-to-interval ratio, which stays small);
//! - latency: the links' own (loopback plus processing), not the scenario's `latency_ms`;
//! - seeds: a seed names the keys and the chain; it does not replay a run (real timing
//!   decides), so `trace_hash` is the hash of the settled chain's ids, not a replay handle;
//! - space: real plots of `--nonces` per honest node, the attacker's sized to its share.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use vein_node::core::hash::Hash;
use vein_reports::metrics::{RunMetrics, Verdict, Violation};
use vein_scenarios::chain_view::BLOCK_CHECKPOINTS;
use vein_scenarios::net_setup::attack_params;
use vein_scenarios::run_error::RunError;
use vein_scenarios::runner::{self, Point, RunnerError};
use vein_scenarios::scenario::Scenario;
use vein_scenarios::scenario_error::ScenarioError;
use vein_scenarios::selfish::revenue_measurement;

use crate::manifest::Manifest;
use crate::scenario_family::{TestnetFamily, UnsupportedOnTestnet, real_share};
use crate::scenario_observe::{ChainLog, counter, poll};
use crate::{TestnetError, UpOptions, down, up_with_consensus};

/// Exit status: the report's verdict is pass.
pub const EXIT_PASS: u8 = 0;
/// Exit status: the report was written and a reference is rejected or an invariant violated.
pub const EXIT_VERDICT: u8 = 1;
/// Exit status: refused before any node started (file, family, argument).
pub const EXIT_REFUSED: u8 = 2;
/// Exit status: a run failed (a node did not start, the chain has a gap, the run was short).
pub const EXIT_RUN_FAILED: u8 = 5;

/// Arguments of `vein-testnet scenario`.
#[derive(Clone, Debug, clap::Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML, scenarios/*.toml).
    pub file: PathBuf,
    /// Report directory (metrics.json, summary.md, index.html, runs.jsonl, testnet-plan.json);
    /// each seed's testnet lives in OUT/nets/ while it runs.
    #[arg(long, default_value = "out/testnet-scenario")]
    pub out: PathBuf,
    /// Seeds per point (default: the scenario's, at most 3: each is a real run).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// First seed (default: the scenario's).
    #[arg(long)]
    pub first_seed: Option<u64>,
    /// Override a parameter, e.g. --param q=0.25 (repeatable; a range sweeps).
    #[arg(long = "param", value_name = "NAME=RANGE")]
    pub params: Vec<String>,
    /// Checkpoint interval on the testnet; the scenario's durations scale by the same factor.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
    /// Seconds each seed runs (default: the scenario's duration, scaled).
    #[arg(long)]
    pub duration_s: Option<u64>,
    /// Plot size of each honest node in nonces (256 KiB each); the attacker's follows its share.
    #[arg(long, default_value_t = 64)]
    pub nonces: u64,
    /// The vein-node binary (default: next to this executable).
    #[arg(long)]
    pub node_bin: Option<PathBuf>,
    /// Keep each seed's testnet directory (logs, data, plots) after its run.
    #[arg(long)]
    pub keep: bool,
}

/// Why `vein-testnet scenario` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioRunError {
    /// The scenario file did not load or validate.
    #[error(transparent)]
    Load(#[from] ScenarioError),
    /// The scenario's family has no attacker that runs on real processes.
    #[error("{file}: {source}")]
    Unsupported {
        /// The scenario file.
        file: PathBuf,
        /// The family and why.
        source: UnsupportedOnTestnet,
    },
    /// A command-line value is out of range.
    #[error("--{name}: {reason}")]
    Argument {
        /// The option.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A grid, a record or the report failed (crate vein-scenarios' runner).
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// A seed's measurement failed (too short, a reference out of domain).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A seed's testnet failed to start or stop.
    #[error("seed {seed}: {source}")]
    Testnet {
        /// The seed whose net failed.
        seed: u64,
        /// The testnet's error.
        source: TestnetError,
    },
    /// Node 0's chain was not collected at some height (its API did not answer for long).
    #[error("seed {seed}: node 0's chain was not collected at height {height}; see its log")]
    Gap {
        /// The seed of the run.
        seed: u64,
        /// The first missing height.
        height: u64,
    },
    /// A file of the report or the work directory could not be written or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ScenarioRunError {
    /// The exit status this error ends the command with.
    pub fn exit_code(&self) -> u8 {
        match self {
            ScenarioRunError::Load(_)
            | ScenarioRunError::Unsupported { .. }
            | ScenarioRunError::Argument { .. } => EXIT_REFUSED,
            ScenarioRunError::Runner(RunnerError::ParamSyntax { .. })
            | ScenarioRunError::Runner(RunnerError::ParamRange { .. })
            | ScenarioRunError::Runner(RunnerError::Point { .. })
            | ScenarioRunError::Runner(RunnerError::GridTooLarge { .. }) => EXIT_REFUSED,
            _ => EXIT_RUN_FAILED,
        }
    }
}

/// How a scenario maps onto testnets, written beside the report (`testnet-plan.json`).
#[derive(Debug, Clone, Serialize)]
pub struct TestnetPlan {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's interval `T`.
    pub scenario_interval_ms: u64,
    /// The testnet's interval.
    pub interval_ms: u64,
    /// `interval_ms / scenario_interval_ms`: every duration is scaled by it.
    pub time_scale: f64,
    /// Seconds each seed runs.
    pub duration_s: u64,
    /// Honest nodes (the attacker is one more).
    pub honest_nodes: usize,
    /// Nonces of each honest plot.
    pub nonces: u64,
    /// Nonces of the attacker's plot.
    pub attacker_nonces: u64,
    /// The attacker's share of the real space (the scenario asks for `q`).
    pub real_share: f64,
    /// Seeds per point.
    pub seeds: u64,
    /// The scenario's one-way latency, which loopback replaces.
    pub scenario_latency_ms: u64,
}

fn refused(name: &'static str, reason: impl Into<String>) -> ScenarioRunError {
    ScenarioRunError::Argument { name, reason: reason.into() }
}

/// Loads, checks and plans `args`: every refusal happens here, before any node starts.
pub fn prepare(
    args: &ScenarioArgs,
) -> Result<(Vec<Point>, TestnetPlan, TestnetFamily), ScenarioRunError> {
    let scenario = Scenario::load(&args.file)?;
    let family = TestnetFamily::of(&scenario)
        .map_err(|source| ScenarioRunError::Unsupported { file: args.file.clone(), source })?;
    if args.interval_ms < 50 {
        return Err(refused("interval-ms", "must be at least 50 (loopback and the node's tick)"));
    }
    if args.nonces == 0 || args.nonces > 1 << 16 {
        return Err(refused("nonces", "must be 1..=65536 (256 KiB each)"));
    }
    let honest = scenario.network.nodes as usize;
    if honest == 0 || honest > 32 {
        return Err(refused("file", "network.nodes must be 1..=32 for real processes"));
    }
    let parameters =
        args.params.iter().map(|spec| runner::parse_param(spec)).collect::<Result<Vec<_>, _>>()?;
    let points = runner::grid(&scenario, &parameters)?;
    let time_scale = args.interval_ms as f64 / scenario.network.target_interval_ms as f64;
    let duration_s = match args.duration_s {
        Some(0) => return Err(refused("duration-s", "must be at least 1")),
        Some(seconds) => seconds,
        None => ((scenario.run.duration_s as f64 * time_scale).ceil() as u64).max(1),
    };
    let attacker_nonces = family.attacker_nonces(honest, args.nonces);
    let plan = TestnetPlan {
        scenario: scenario.name.clone(),
        scenario_interval_ms: scenario.network.target_interval_ms,
        interval_ms: args.interval_ms,
        time_scale,
        duration_s,
        honest_nodes: honest,
        nonces: args.nonces,
        attacker_nonces,
        real_share: real_share(attacker_nonces, honest, args.nonces),
        seeds: args.seeds.unwrap_or(scenario.run.seeds.min(3)).max(1),
        scenario_latency_ms: scenario.network.latency_ms,
    };
    Ok((points, plan, family))
}

/// Runs `vein-testnet scenario`; the exit status scripts read.
pub fn main(args: &ScenarioArgs) -> u8 {
    match run(args) {
        Ok(Verdict::Pass) => {
            println!("verdict: pass");
            EXIT_PASS
        }
        Ok(Verdict::ReferenceMismatch) => {
            println!("verdict: the gate rejects a reference (see summary.md)");
            EXIT_VERDICT
        }
        Ok(Verdict::Violation) => {
            println!("verdict: invariant violated (see summary.md)");
            EXIT_VERDICT
        }
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}

/// Plans, runs every point × seed on fresh testnets, and writes the report.
pub fn run(args: &ScenarioArgs) -> Result<Verdict, ScenarioRunError> {
    let (points, plan, family) = prepare(args)?;
    eprintln!(
        "{}: {} honest nodes x {} nonces + attacker {} nonces (share {:.4}); T {} ms -> {} ms \
         (x{}); {} s per seed, {} seeds x {} points; loopback latency (the scenario's {} ms is \
         not added)",
        plan.scenario,
        plan.honest_nodes,
        plan.nonces,
        plan.attacker_nonces,
        plan.real_share,
        plan.scenario_interval_ms,
        plan.interval_ms,
        plan.time_scale,
        plan.duration_s,
        plan.seeds,
        points.len(),
        plan.scenario_latency_ms,
    );
    let work = args.out.join("nets");
    let mut runs = Vec::new();
    for point in &points {
        let family = TestnetFamily::of(&point.scenario).unwrap_or(family);
        let first = args.first_seed.unwrap_or(point.scenario.run.first_seed);
        for seed in first..first + plan.seeds {
            let run = run_seed(args, &plan, family, point, seed, &work)?;
            runs.push(run);
        }
    }
    let verdict = runner::write_report(&args.out, &runs)?;
    let plan_path = args.out.join("testnet-plan.json");
    let text = serde_json::to_string_pretty(&plan).unwrap_or_default();
    std::fs::write(&plan_path, format!("{text}\n"))
        .map_err(|source| ScenarioRunError::Io { path: plan_path, source })?;
    println!("report: {}", args.out.join("summary.md").display());
    Ok(verdict)
}

/// Stops a seed's testnet however its run ends.
struct NetGuard {
    manifest: Manifest,
    purge: bool,
}

impl Drop for NetGuard {
    fn drop(&mut self) {
        let _ = down(&mut self.manifest, self.purge);
    }
}

/// Removes what an earlier, interrupted run left in `dir` (stopping its nodes first).
fn clear(dir: &Path) -> Result<(), ScenarioRunError> {
    if let Ok(mut manifest) = Manifest::load(dir) {
        let _ = down(&mut manifest, true);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|source| ScenarioRunError::Io { path: dir.to_path_buf(), source })?;
    }
    Ok(())
}

/// One seed on one fresh testnet: start, observe for the plan's duration, measure, stop.
fn run_seed(
    args: &ScenarioArgs,
    plan: &TestnetPlan,
    family: TestnetFamily,
    point: &Point,
    seed: u64,
    work: &Path,
) -> Result<RunMetrics, ScenarioRunError> {
    let scenario = &point.scenario;
    let point_label: Vec<String> = point.overrides.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let label = format!("{}-{}-seed{seed}", scenario.name, point_label.join("-"));
    let dir = work.join(&label);
    clear(&dir)?;
    let honest = plan.honest_nodes;
    let options = UpOptions {
        dir: dir.clone(),
        nodes: honest + 1,
        nonces: plan.nonces,
        target_interval_ms: plan.interval_ms,
        finality_depth: scenario.network.finality_depth,
        label: Some(label.clone()),
        node_bin: args.node_bin.clone(),
        ready_timeout: Duration::from_secs(60),
        attackers: vec![family.attacker(honest)],
        attacker_nonces: Some(family.attacker_nonces(honest, plan.nonces)),
    };
    let started = Instant::now();
    eprintln!("[{label}] plotting and starting {} nodes", honest + 1);
    let manifest = up_with_consensus(&options, Some(&attack_params(scenario)))
        .map_err(|source| ScenarioRunError::Testnet { seed, source })?;
    let guard = NetGuard { manifest, purge: !args.keep };
    let observed = observe(&guard.manifest, honest, plan, &label);
    let violations = findings(&guard.manifest, honest, &observed);
    let messages: u64 = guard
        .manifest
        .nodes
        .iter()
        .filter_map(|node| counter(node.api, "vein_messages_in_total"))
        .sum();
    let attacker_account = guard.manifest.nodes[honest].account.clone();
    drop(guard);
    let mut run = measure(point, seed, family, &observed, &attacker_account)?;
    run.nodes = (honest + 1) as u64;
    run.wall_seconds = started.elapsed().as_secs_f64();
    run.messages_delivered = messages;
    run.violations = violations;
    eprintln!(
        "[{label}] done: {} checkpoints, attacker's share {:.3}, {} findings",
        run.checkpoints,
        run.measurements.first().map_or(0.0, |m| m.estimate),
        run.violations.len()
    );
    Ok(run)
}

/// The safety findings of a run: what the polls saw change or disagree, and every honest node
/// whose own `vein_final_reverted_total` counter is above zero.
fn findings(manifest: &Manifest, honest: usize, observed: &Observed) -> Vec<Violation> {
    let seconds = observed.observed_s;
    let mut violations = observed.log.violations.clone();
    violations.extend(observed.log.conflicting_finality(seconds));
    for node in 0..honest {
        let reverted = counter(manifest.nodes[node].api, "vein_final_reverted_total").unwrap_or(0);
        if reverted > 0 {
            violations.push(Violation {
                invariant: "final-reverted".into(),
                at_simulated_seconds: seconds,
                node: Some(node as u64),
                detail: format!("vein_final_reverted_total = {reverted} on honest node {node}"),
            });
        }
    }
    violations
}

/// The family's measurement of node 0's settled chain, in a record of the run.
fn measure(
    point: &Point,
    seed: u64,
    family: TestnetFamily,
    observed: &Observed,
    attacker_account: &str,
) -> Result<RunMetrics, ScenarioRunError> {
    let scenario = &point.scenario;
    let skip_top = scenario.network.finality_depth.max(10);
    let settled =
        observed.log.settled(skip_top).map_err(|height| ScenarioRunError::Gap { seed, height })?;
    let needed = 2 * BLOCK_CHECKPOINTS;
    if settled.len() < needed {
        return Err(ScenarioRunError::Run(RunError::TooShort {
            scenario: scenario.name.clone(),
            seed,
            checkpoints: settled.len(),
            needed,
        }));
    }
    let mut labels = scenario.labels();
    labels.extend(point.overrides.iter().map(|(k, v)| (k.clone(), *v)));
    let TestnetFamily::Selfish { q } = family;
    let by_attacker: Vec<bool> = settled.iter().map(|row| row.author == attacker_account).collect();
    let measurement = revenue_measurement(scenario, labels, q, &by_attacker)?;
    let ids: Vec<&[u8]> = settled.iter().map(|row| row.id.as_bytes()).collect();
    let trace = Hash::of_parts(&ids);
    let mut run = RunMetrics::new(&scenario.name, seed, hex::encode(trace.as_bytes()));
    run.simulated_seconds = observed.observed_s;
    run.checkpoints = observed.log.head;
    run.measurements = vec![measurement];
    Ok(run)
}

/// A seed's observations and how long they covered.
struct Observed {
    log: ChainLog,
    observed_s: f64,
}

/// Polls the honest nodes every second for `plan.duration_s`, printing progress every 10 s.
fn observe(manifest: &Manifest, honest: usize, plan: &TestnetPlan, label: &str) -> Observed {
    let started = Instant::now();
    let duration = Duration::from_secs(plan.duration_s);
    let mut log = ChainLog::default();
    let mut next_progress = Duration::from_secs(10);
    let attacker_api = manifest.nodes[honest].api;
    loop {
        let at = started.elapsed();
        for node in 0..honest {
            if let Some(answer) = poll(manifest.nodes[node].api) {
                log.record(node, &answer, at.as_secs_f64());
            }
        }
        if at >= duration {
            return Observed { log, observed_s: at.as_secs_f64() };
        }
        if at >= next_progress {
            next_progress += Duration::from_secs(10);
            let released = counter(attacker_api, "vein_checkpoints_released_total");
            eprintln!(
                "[{label}] {:.0}/{} s: node 0 height {} final {}; attacker released {}; {} \
                 findings",
                at.as_secs_f64(),
                plan.duration_s,
                log.head,
                log.final_height,
                released.map_or("-".to_string(), |n| n.to_string()),
                log.violations.len(),
            );
        }
        std::thread::sleep(Duration::from_secs(1).min(duration.saturating_sub(at)));
    }
}
