//! `vein-scenarios`: list, explain, run, sweep, merge and the default suite. See `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vein_reports::metrics::Verdict;
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::Scenario;

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
  vein-scenarios suite --out out/suite

Exit codes: 0 every reference inside its 95% interval and no invariant violated;
1 a reference outside its interval or an invariant violated; 2 bad input."
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
        /// Run only work items i mod n (e.g. 0/4); merge the shard directories afterwards.
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
    /// The default suite of the main families, one report (a few minutes on two cores).
    Suite {
        #[arg(long, default_value = "out/suite")]
        out: PathBuf,
        /// Multiply every entry's seeds (e.g. 0.1 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        seeds_scale: f64,
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
            eprintln!("verdict: a reference lies outside its 95% interval (see summary.md)");
            ExitCode::from(1)
        }
        Verdict::Violation => {
            eprintln!("verdict: invariant violated (see summary.md)");
            ExitCode::from(1)
        }
    }
}

fn execute(command: Command) -> Result<ExitCode, String> {
    let text = |error: &dyn std::fmt::Display| error.to_string();
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
            let verdict = runner::write_report(&out, &runs).map_err(|e| text(&e))?;
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
            let verdict = runner::write_report(&out, &runs).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
        Command::Merge { directories, out } => {
            let runs = runner::read_runs(&directories).map_err(|e| text(&e))?;
            let verdict = runner::write_report(&out, &runs).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
        Command::Suite { out, seeds_scale } => {
            if !(seeds_scale.is_finite() && seeds_scale > 0.0) {
                return Err(format!("--seeds-scale {seeds_scale} must be positive"));
            }
            let verdict =
                vein_scenarios::suite::run_suite(&out, seeds_scale).map_err(|e| text(&e))?;
            Ok(verdict_code(verdict, &out))
        }
    }
}
