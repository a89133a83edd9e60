//! `vein-scenarios`: list, explain, run, sweep, merge and the default suite. See `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vein_reports::gate::{INJECTED_BIAS_VARIABLE, InjectedBias};
use vein_reports::metrics::Verdict;
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::Scenario;
use vein_scenarios::suite::SuiteOptions;
use vein_scenarios::three_worlds::{self, World};

#[derive(Parser)]
#[command(
    name = "vein-scenarios",
    about = "Attack and fault scenarios for vein, compared with their analytic references",
    after_help = "Examples:
  vein-scenarios list scenarios
  vein-scenarios explain scenarios/double-spend.toml
  vein-scenarios run scenarios/double-spend.toml --seeds 2000 --out out/ds
  vein-scenarios sweep scenarios/double-spend.toml --param q=0.1..0.3:0.1 --param z=1..6 \\
      --seeds 2500 --out out/ds-0 --shard 0/2
  vein-scenarios merge out/ds-0 out/ds-1 --out out/ds
  vein-scenarios k8s-job scenarios/double-spend.toml --shards 8 --image IMAGE > sweep.yaml
  vein-scenarios suite --out out/suite
  vein-scenarios suite --seed-offset 1000 --skip plot-sharing.toml --out out/suite-1000
  vein-scenarios three-worlds --localnet out/selfish-localnet --madsim out/selfish-madsim \\
      --testnet out/selfish-testnet --out out/selfish-3w   (one file's reports side by side)

Verdict: each comparison of an estimate with its reference gets a p-value (score test for
proportions, t test for means); Holm's procedure over all of a report's comparisons rejects
references at a family-wise error rate of 5%, so a report in which every reference is true fails
at most one time in twenty, however many comparisons it makes.

Exit codes: 0 the gate rejects no reference and no invariant is violated; 1 the gate rejects a
reference or an invariant is violated; 2 bad input. A shard of several (--shard i/n, n > 1)
exits 0 when only the gate rejects: the merged report judges, since Holm needs every comparison.

Test-only: VEIN_TEST_INJECT_BIAS=SCENARIO:RELATIVE (e.g. tips:0.05) multiplies one scenario's
pooled estimates by 1 + RELATIVE before the gate judges them (the report names it), to measure
the gate's power. Never set it for a real run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scenario files in a directory, one line each.
    List {
        #[arg(default_value = "scenarios")]
        directory: PathBuf,
    },
    /// What a scenario does, what it measures and the reference formula.
    Explain { file: PathBuf },
    /// Run a scenario as written over many seeds and write a report.
    Run {
        /// Scenario file (TOML).
        file: PathBuf,
        /// Seeds (independent runs); default: run.seeds of the file.
        #[arg(long)]
        seeds: Option<u64>,
        /// First seed; default: run.first_seed of the file.
        #[arg(long)]
        first_seed: Option<u64>,
        #[arg(long, default_value = "out/run")]
        out: PathBuf,
    },
    /// Run a parameter grid × seeds; without --param, the file's [sweep] table.
    Sweep {
        /// Scenario file (TOML).
        file: PathBuf,
        /// NAME=RANGE, e.g. q=0.1..0.3:0.1, z=1..6, s=0.1,0.3 (repeatable).
        #[arg(long = "param")]
        params: Vec<String>,
        /// Seeds per grid point; default: run.seeds of the file.
        #[arg(long)]
        seeds: Option<u64>,
        /// First seed; default: run.first_seed of the file.
        #[arg(long)]
        first_seed: Option<u64>,
        #[arg(long, default_value = "out/sweep")]
        out: PathBuf,
        /// Run only seed chunks i mod n (e.g. 0/4); merge the shard directories afterwards.
        #[arg(long)]
        shard: Option<String>,
    },
    /// Merge the runs.jsonl of several report directories into one report.
    Merge {
        #[arg(required = true)]
        directories: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a Kubernetes Indexed Job (and its scenario ConfigMap) running a sweep in shards;
    /// with --merge, the Job that merges the shards once it is complete.
    K8sJob {
        /// Scenario file (TOML), embedded in the ConfigMap.
        file: PathBuf,
        #[arg(long)]
        shards: u64,
        /// Container image with vein-scenarios on its PATH.
        #[arg(long)]
        image: String,
        /// Job name (DNS-1123 label); default: the scenario file's stem.
        #[arg(long)]
        name: Option<String>,
        /// NAME=RANGE as for sweep (repeatable); default: the file's [sweep] table.
        #[arg(long = "param")]
        params: Vec<String>,
        /// Seeds per grid point; default: run.seeds of the file.
        #[arg(long)]
        seeds: Option<u64>,
        /// ReadWriteMany PersistentVolumeClaim for the results (not generated).
        #[arg(long, default_value = "vein-sweep-results")]
        claim: String,
        /// Print the merge Job instead of the sweep.
        #[arg(long)]
        merge: bool,
    },
    /// One scenario file's reports from LocalNet (`vein-scenarios run`), madsim (`vein-sim
    /// scenario`) and real processes (`vein-testnet scenario`) side by side: each pair of worlds
    /// tested for equality per measurement (Welch's t for means, the two-proportion z test for
    /// proportions, Holm over all tests at 5%). Writes three-worlds.md and three-worlds.json.
    /// Exit: 0 all tested pairs agree, 1 some disagree, 2 bad input.
    ThreeWorlds {
        /// Report directory of the LocalNet run.
        #[arg(long)]
        localnet: Option<PathBuf>,
        /// Report directory of the madsim run.
        #[arg(long)]
        madsim: Option<PathBuf>,
        /// Report directory of the real-process run.
        #[arg(long)]
        testnet: Option<PathBuf>,
        #[arg(long, default_value = "out/three-worlds")]
        out: PathBuf,
    },
    /// The default suite of the main families, one report (a few minutes on two cores).
    Suite {
        #[arg(long, default_value = "out/suite")]
        out: PathBuf,
        /// Multiply every entry's seeds (e.g. 0.1 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        seeds_scale: f64,
        /// Add this to every scenario's first seed: a suite run on fresh seeds.
        #[arg(long, default_value_t = 0)]
        seed_offset: u64,
        /// Leave out entries by file name, comma-separated (e.g. plot-sharing.toml).
        #[arg(long, value_delimiter = ',')]
        skip: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("vein-scenarios: {message}");
            ExitCode::from(2)
        }
    }
}

fn verdict_code(verdict: Verdict, out: &Path) -> ExitCode {
    eprintln!("report: {}", out.join("summary.md").display());
    match verdict {
        Verdict::Pass => {
            eprintln!("verdict: pass");
            ExitCode::SUCCESS
        }
        Verdict::ReferenceMismatch => {
            eprintln!("verdict: the family-wise gate rejects a reference (see summary.md)");
            ExitCode::from(1)
        }
        Verdict::Violation => {
            eprintln!("verdict: invariant violated (see summary.md)");
            ExitCode::from(1)
        }
    }
}

/// `three-worlds`: reads the given worlds' reports, compares and writes the report.
fn three_worlds(given: &[(World, Option<PathBuf>)], out: &Path) -> Result<ExitCode, String> {
    let mut worlds = Vec::new();
    for (world, directory) in given {
        if let Some(directory) = directory {
            eprintln!("reading the {} report in {}", world.name(), directory.display());
            worlds.push((
                *world,
                three_worlds::read_world(*world, directory).map_err(|e| e.to_string())?,
            ));
        }
    }
    let report = three_worlds::compare(&worlds).map_err(|e| e.to_string())?;
    three_worlds::write(out, &report).map_err(|e| e.to_string())?;
    print!("{}", three_worlds::markdown(&report));
    eprintln!("report: {}", out.join("three-worlds.md").display());
    Ok(if report.disagreements == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn execute(command: Command) -> Result<ExitCode, String> {
    let text = |error: &dyn std::fmt::Display| error.to_string();
    let bias = InjectedBias::from_environment().map_err(|e| text(&e))?;
    if let Some(bias) = &bias {
        eprintln!(
            "TEST-ONLY: {INJECTED_BIAS_VARIABLE} biases {} by {:+}",
            bias.scenario, bias.relative
        );
    }
    match command {
        Command::List { directory } => {
            let entries = std::fs::read_dir(&directory)
                .map_err(|error| format!("cannot list {}: {error}", directory.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                // The crate manifest lives beside the scenario files.
                .filter(|path| !path.ends_with("Cargo.toml"))
                .collect();
            files.sort();
            for file in files {
                match Scenario::load(&file) {
                    Ok(scenario) => println!("{:<34} {}", file.display(), scenario.description),
                    Err(error) => println!("{:<34} INVALID: {error}", file.display()),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { file } => {
            let scenario = Scenario::load(&file).map_err(|e| text(&e))?;
            print!("{}", vein_scenarios::explain::explain(&scenario));
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { file, seeds, first_seed, out } => {
            let scenario = Scenario::load(&file).map_err(|e| text(&e))?;
            let points = runner::grid(&scenario, &[]).map_err(|e| text(&e))?;
            let seeds = seeds.unwrap_or(scenario.run.seeds).max(1);
            let runs = runner::execute(&scenario.name, &points, seeds, first_seed, Shard::WHOLE)
                .map_err(|e| text(&e))?;
            let verdict =
                runner::write_report_with_bias(&out, &runs, bias.as_ref()).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
        Command::Sweep { file, params, seeds, first_seed, out, shard } => {
            let scenario = Scenario::load(&file).map_err(|e| text(&e))?;
            let parameters = if params.is_empty() {
                runner::default_sweep(&scenario).map_err(|e| text(&e))?
            } else {
                params
                    .iter()
                    .map(|spec| runner::parse_param(spec))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| text(&e))?
            };
            let shard = match shard {
                Some(spec) => Shard::parse(&spec).map_err(|e| text(&e))?,
                None => Shard::WHOLE,
            };
            let points = runner::grid(&scenario, &parameters).map_err(|e| text(&e))?;
            let seeds = seeds.unwrap_or(scenario.run.seeds).max(1);
            eprintln!(
                "[{}] {} points x {seeds} seeds, shard {}/{}",
                scenario.name,
                points.len(),
                shard.index,
                shard.count
            );
            let runs = runner::execute(&scenario.name, &points, seeds, first_seed, shard)
                .map_err(|e| text(&e))?;
            let verdict =
                runner::write_report_with_bias(&out, &runs, bias.as_ref()).map_err(|e| text(&e))?;
            if shard.count > 1 && verdict == Verdict::ReferenceMismatch {
                eprintln!(
                    "shard {}/{}: references are judged on the merged report",
                    shard.index, shard.count
                );
                return Ok(ExitCode::SUCCESS);
            }
            Ok(verdict_code(verdict, &out))
        }
        Command::Merge { directories, out } => {
            let runs = runner::read_runs(&directories).map_err(|e| text(&e))?;
            let verdict =
                runner::write_report_with_bias(&out, &runs, bias.as_ref()).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
        Command::K8sJob { file, shards, image, name, params, seeds, claim, merge } => {
            // Parsed so that a bad file fails here, not in every pod.
            let scenario = Scenario::load(&file).map_err(|e| text(&e))?;
            let scenario_text = std::fs::read_to_string(&file)
                .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let stem = file.file_stem().map(|n| n.to_string_lossy().into_owned());
            let spec = vein_scenarios::k8s_job::JobSpec {
                name: name.or(stem).unwrap_or_else(|| scenario.name.clone()),
                image,
                file_name: file_name.unwrap_or_default(),
                scenario_text,
                shards,
                seeds,
                params,
                claim,
            };
            let manifest = if merge {
                vein_scenarios::k8s_job::merge_manifest(&spec)
            } else {
                vein_scenarios::k8s_job::sweep_manifest(&spec)
            };
            print!("{}", manifest.map_err(|e| text(&e))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::ThreeWorlds { localnet, madsim, testnet, out } => three_worlds(
            &[(World::LocalNet, localnet), (World::Madsim, madsim), (World::Testnet, testnet)],
            &out,
        ),
        Command::Suite { out, seeds_scale, seed_offset, skip } => {
            if !(seeds_scale.is_finite() && seeds_scale > 0.0) {
                return Err(format!("--seeds-scale {seeds_scale} must be positive"));
            }
            let options = SuiteOptions { seeds_scale, seed_offset, skip, bias };
            let verdict = vein_scenarios::suite::run_suite(&out, &options).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
    }
}
