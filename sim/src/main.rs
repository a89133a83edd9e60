//! `vein-sim`: run deterministic simulations of a vein network, check determinism, benchmark,
//! shrink failing runs.
//! The simulator exists only in madsim builds (`RUSTFLAGS="--cfg madsim"`); a normal build of
//! this binary explains how to get one and exits with status 2.

#[cfg(not(madsim))]
fn main() {
    eprintln!(
        "vein-sim runs on the madsim deterministic runtime and must be built with it:\n\n  \
         RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/madsim \\\n    \
         cargo run -p vein-sim --profile sim -- run --seed 1 --nodes 50\n\n\
         (a separate target directory keeps the madsim build from invalidating the normal one)"
    );
    std::process::exit(2);
}

/// A simulation allocates and frees small objects (envelopes, units, queue entries) for every
/// one of millions of messages; glibc's allocator was ~8% of a 1,000-node run. Allocation
/// addresses never reach simulated behaviour (nothing iterates a hash map or orders by
/// address), so the allocator cannot change a trace.
#[cfg(madsim)]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(madsim)]
fn main() {
    std::process::exit(cli::main());
}

#[cfg(madsim)]
mod cli {
    // The wall clock is read only to report speed, never inside the simulation.
    #![allow(clippy::disallowed_methods)]

    use clap::{Args, Parser, Subcommand};
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    use vein_sim::bench::{self, BenchRow};
    use vein_sim::config::{ConfigError, FAULT_NAMES, FaultKinds, SimConfig};
    use vein_sim::net::{LatencyModel, NetConfig, parse_rate};
    use vein_sim::selftest::{SELF_TEST_NAMES, SelfTestBug};
    use vein_sim::shrink::{self, DEFAULT_MAX_RUNS, ShrinkError};
    use vein_sim::simulation::{self, Progress, RunReport};

    const EXAMPLES: &str = "\
Examples:
  # 50 nodes for 5 simulated minutes, no faults
  vein-sim run --seed 1 --nodes 50

  # every fault kind, fast checkpoints; fails with a replay line on any violation
  vein-sim run --seed 7 --nodes 30 --duration 240 --faults all --interval-ms 2000 --finality 3

  # let the seed pick the fault kinds (swarm testing), and check the run replays bit for bit
  vein-sim run --seed 42 --faults swarm --check-determinism

  # wall-clock speed of 100 and 1,000 node networks over 10 simulated minutes
  vein-sim bench --nodes 100,1000

  # minimise a failing run (same flags as run): fewer nodes, seconds, faults and transfers while
  # the same invariant fails; prints the smallest replay line. Exit 0 shrunk, 2 the run passes.
  vein-sim shrink --seed 7 --nodes 30 --duration 240 --faults all --interval-ms 2000 --finality 3

  # time travel: replay seed 7 to 25.5 simulated s and dump node 3 (fork tree, DAG, ledger,
  # orphans, peers; DOT, GraphML, SVG, and index.html with the fork tree over time)
  vein-sim inspect --seed 7 --nodes 8 --duration 60 --interval-ms 2000 --finality 3 \\
    --node 3 --at 25.5 --every 1 --out out/inspect

  # checker self-test: node 0 misreports ledger roots, so the ledger-root checker must fire
  vein-sim run --seed 1 --nodes 4 --duration 30 --interval-ms 2000 --finality 3 \\
    --checker-self-test ledger-root

Build: RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/madsim cargo run -p vein-sim --profile sim -- ...";

    #[derive(Parser)]
    #[command(
        name = "vein-sim",
        about = "Deterministic simulator of a vein network (madsim): faults, invariant checks, \
                 trace hashes, benchmarks",
        after_help = EXAMPLES
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Simulate one network from one seed, check every invariant, write metrics.json.
        Run(RunArgs),
        /// Measure wall-clock speed for several network sizes (10 simulated minutes each).
        Bench(BenchArgs),
        /// Minimise a failing run (same flags as `run`): fewer nodes, a shorter duration, fewer
        /// faults and transfers, keeping each reduction only if the same invariant still fails;
        /// prints the smallest replay line. `--check-determinism` replays the shrunk run and
        /// compares trace hashes; `--out` gets the shrunk run's metrics.json. Exit status: 0
        /// shrunk, 1 the shrunk run did not replay (with --check-determinism), 2 the run does
        /// not fail, 3 invalid configuration or simulation error, 64 bad usage.
        Shrink(ShrinkArgs),
        /// Run a scenario file of crate vein-scenarios (scenarios/*.toml) on the simulator: the
        /// same families, seeds and report as `vein-scenarios run`, with every node a madsim
        /// node on the network model of the file's [simulator] table (without one, latency is
        /// uniform in [latency_ms, 1.5 latency_ms], as on LocalNet). Runs files of either
        /// `engine`. Exit status: 0 pass, 1 a reference missed or an invariant violated, 2 bad
        /// file or run error, 64 bad usage.
        Scenario(ScenarioArgs),
        /// Time travel: replay a run (same flags as `run`) to simulated instant --at and dump
        /// node --node's state there into --out: state.json (head, fork tree, DAG near the tips,
        /// ledger summary, orphans, peer scores, its chain events), forks.{dot,graphml,svg},
        /// dag.{dot,graphml,svg}, and index.html, whose slider steps through the fork tree every
        /// --every seconds. The same flags give the same files, byte for byte. Exit status: 0
        /// written, 2 node or instant out of range, node down, run stopped or error, 64 bad
        /// usage.
        Inspect(InspectArgs),
        /// Many seeds across fault families on every core (the nightly run): each seed runs
        /// the property tests' small network (10 nodes, 80 s, T = 2 s, k = 6) under its family's
        /// faults; progress with seeds per hour on stderr; failing seeds with their invariant
        /// and replay line in OUT/failures.txt, totals in OUT/summary.json. Exit status: 0 no
        /// violation, 1 some seed failed, 64 bad usage.
        Seeds(SeedsArgs),
    }

    #[derive(Args)]
    struct SeedsArgs {
        /// Seeds to run, dealt to the families in turn.
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// `--faults` arguments separated by `;`, one family each.
        #[arg(
            long,
            default_value = "none;partition;kill;skew,loss,latency;disk;swarm;all,corrupt"
        )]
        families: String,
        /// Consecutive seeds from this one; default: fresh seeds from the OS (printed first).
        #[arg(long)]
        first_seed: Option<u64>,
        /// Worker threads; default: every core.
        #[arg(long)]
        jobs: Option<usize>,
        /// Directory for failures.txt and summary.json.
        #[arg(long, default_value = "out/seeds")]
        out: PathBuf,
    }

    const INSPECT_EXAMPLES: &str = "\
Examples:
  # node 3 of seed 7 at 25.5 simulated s, fork-tree frames every second
  vein-sim inspect --seed 7 --nodes 8 --duration 60 --interval-ms 2000 --finality 3 \\
    --node 3 --at 25.5 --every 1 --out out/inspect
  # then open out/inspect/index.html; render a graph with graphviz if you have it:
  #   dot -Tpng out/inspect/forks.dot > forks.png

  # the instant a failing run's violation names (its replay line plus --node and --at)
  vein-sim inspect --seed 7 --nodes 30 --duration 240 --faults all --interval-ms 2000 \\
    --finality 3 --node 12 --at 131.2";

    #[derive(Args)]
    #[command(after_help = INSPECT_EXAMPLES)]
    struct InspectArgs {
        #[command(flatten)]
        run: RunArgs,
        /// The node to inspect (0-based index).
        #[arg(long)]
        node: usize,
        /// Simulated instant in seconds (ms precision: 25.5, 0.001); within the run's duration.
        #[arg(long, value_parser = parse_seconds_ms)]
        at: u64,
        /// Seconds between the fork tree's frames in index.html (0: only the one at --at).
        #[arg(long, value_parser = parse_seconds_ms, default_value = "5")]
        every: u64,
    }

    /// Seconds with up to three decimals, as milliseconds.
    fn parse_seconds_ms(text: &str) -> Result<u64, String> {
        let seconds: f64 = text.parse().map_err(|_| format!("not a number of seconds: {text}"))?;
        if !seconds.is_finite() || !(0.0..=1e12).contains(&seconds) {
            return Err(format!("seconds must be between 0 and 10^12: {text}"));
        }
        Ok((seconds * 1e3).round() as u64)
    }

    #[derive(Args)]
    struct ScenarioArgs {
        /// Scenario file (TOML).
        file: PathBuf,
        /// Seeds (independent runs); default: run.seeds of the file.
        #[arg(long)]
        seeds: Option<u64>,
        /// First seed; default: run.first_seed of the file.
        #[arg(long)]
        first_seed: Option<u64>,
        /// NAME=RANGE parameter grid, e.g. q=0.1..0.3:0.1 (repeatable); default: none (the
        /// file as written).
        #[arg(long = "param")]
        params: Vec<String>,
        /// Report directory (runs.jsonl, metrics.json, summary.md, index.html, plots/).
        #[arg(long, default_value = "out/sim-scenario")]
        out: PathBuf,
    }

    #[derive(Args)]
    struct ShrinkArgs {
        #[command(flatten)]
        run: RunArgs,
        /// Most simulation runs to spend (the original's included).
        #[arg(long, default_value_t = DEFAULT_MAX_RUNS)]
        max_runs: usize,
    }

    const RUN_EXAMPLES: &str = "\
Network model (all draws from the seed; see docs/simulator.md):
  # a wide-area network: log-normal latency, 5% duplicates, 10% reordered, 1 MB/s uplinks
  vein-sim run --seed 3 --latency lognormal:median_ms=80,sigma=0.5 --duplicate 0.05 \\
    --reorder 0.1 --uplink 1M

  # nodes in three regions (us-east, us-west, europe), 3-way splits and one-way cuts
  vein-sim run --seed 4 --latency geo:regions=3 --faults split,cut --interval-ms 2000 --finality 3

Fault kinds: partition (two sides), split (3-4 groups), cut (one way), kill (crash + restart),
skew (clock offset within 3 s), jump (clock forward 2-8 s), loss, latency (extra delay),
duplicate, reorder, disk (I/O errors on a node's appends and syncs).";

    #[derive(Args)]
    #[command(after_help = RUN_EXAMPLES)]
    struct RunArgs {
        /// The seed: with the other flags it determines the whole run.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 50)]
        nodes: usize,
        /// Simulated seconds.
        #[arg(long, default_value_t = 300)]
        duration: u64,
        /// Network-wide transfers per simulated second.
        #[arg(long, default_value_t = 2.0)]
        tx_rate: f64,
        /// Share of those that are business token transactions (issue, transfer, mint, burn).
        #[arg(long, default_value_t = 0.0)]
        token_share: f64,
        /// Share of those that are consortium transactions (create, write, grant, deny, remove
        /// a member with a rekey); members keep replicas and the consortium checks run.
        #[arg(long, default_value_t = 0.0)]
        consortium_share: f64,
        /// Share of those that are Ethereum transactions: seeded wallets deploy the committed
        /// ERC-20 (contracts/build/VeinToken.json) and transfer it, some calls reverting or
        /// running out of gas; the `evm-receipts` check compares receipts at final heights.
        #[arg(long, default_value_t = 0.0)]
        evm_share: f64,
        /// Share of the workload's slots that are federated-learning ticks: node 0 posts a
        /// task with escrow, other funded nodes join, train, commit and settle rounds; the
        /// `fl-escrow`, `fl-root` and `fl-stalled` checks run.
        #[arg(long, default_value_t = 0.0)]
        fl_share: f64,
        /// Side networks beside the main one, each with its own genesis and nodes under the
        /// same fault kinds; a relayer anchors them to main and main to them, pegs a token of
        /// main node 0 both ways, and the `peg-conservation`, `light-client-state` and
        /// `anchor-rewritten` checks run (docs/peg.md).
        #[arg(long, default_value_t = 0)]
        side_chains: usize,
        /// Nodes of each side network.
        #[arg(long, default_value_t = 4)]
        side_nodes: usize,
        /// Anchor interval `a` of the side chains on main (and of main on them).
        #[arg(long, default_value_t = 2)]
        anchor_interval: u64,
        /// Fault kinds, comma separated.
        #[arg(long, default_value = "none", help = format!("Fault kinds: {FAULT_NAMES}"))]
        faults: String,
        /// Target checkpoint interval in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        interval_ms: u64,
        /// Finality depth k.
        #[arg(long, default_value_t = 6)]
        finality: u64,
        /// Random peers each node picks (links are symmetric).
        #[arg(long, default_value_t = 6)]
        peers: usize,
        /// Liveness phase at the end, fault free (default: (k + 12) checkpoint intervals).
        #[arg(long)]
        settle: Option<u64>,
        /// Messages a driver handles per turn when more have already arrived (default: drawn
        /// from the seed out of 1, 4, 16, 64; production takes 64).
        #[arg(long)]
        receive_batch: Option<usize>,
        /// Per-message latency of every link: constant:ms=M, uniform:min_ms=A,max_ms=B,
        /// lognormal:median_ms=M,sigma=S, or geo:regions=N,jitter_ms=J (nodes placed in the
        /// first N of us-east, us-west, europe, asia-east, south-america, oceania by the seed;
        /// region-pair base latency plus uniform jitter). Omitted parameters take defaults.
        #[arg(long, default_value = "uniform:min_ms=5,max_ms=50")]
        latency: String,
        /// Probability that a message is delivered twice (the copy up to --reorder-ms later).
        #[arg(long, default_value_t = 0.0)]
        duplicate: f64,
        /// Probability that a message is held back up to --reorder-ms, so later ones overtake it.
        #[arg(long, default_value_t = 0.0)]
        reorder: f64,
        /// Largest extra delay of a reordered message or a duplicate, in milliseconds.
        #[arg(long, default_value_t = 200)]
        reorder_ms: u64,
        /// Uplink of every node in bytes per second (suffixes k, M, G: 500k, 2M); messages
        /// queue behind earlier ones. Default: unlimited.
        #[arg(long)]
        uplink: Option<String>,
        /// Directory for metrics.json.
        #[arg(long, default_value = "vein-sim-out")]
        out: PathBuf,
        /// Run twice and fail if the trace hashes differ.
        #[arg(long)]
        check_determinism: bool,
        /// Nodes keep all history in memory (to measure what pruning saves).
        #[arg(long)]
        no_prune: bool,
        /// Fault episodes (0-based, in drawing order) to leave out of the seed's fault plan;
        /// `shrink` prints this in its replay line.
        #[arg(long, value_delimiter = ',')]
        drop_faults: Vec<usize>,
        /// Print these nodes' chain events (checkpoints accepted, won, head changes, reorgs,
        /// finality) and every fault to stderr as they happen, with simulated time and each
        /// node's own clock. Output only: the run and its trace hash are the same without it.
        #[arg(long, value_delimiter = ',')]
        watch: Vec<usize>,
        /// CHECKER SELF-TEST ONLY: inject a deliberate bug that a checker must catch (a node
        /// misreports its final checkpoints). Never set in a real run.
        #[arg(long, value_name = "BUG", help_heading = "Checker self-test", long_help = format!(
            "CHECKER SELF-TEST ONLY: inject a deliberate bug that a checker must catch: a node \
             misreports its final checkpoints (ledger-root: node 0, corrupted ledger roots, \
             caught by `ledger-root`; conflicting-final: node 0, other checkpoint ids, caught by \
             `conflicting-finality`; restart-ledger-root: every node once restarted, corrupted \
             ledger roots, caught by `ledger-root` in runs with kills). Never set in a real run. \
             One of: {SELF_TEST_NAMES}"
        ))]
        checker_self_test: Option<String>,
    }

    #[derive(Args)]
    struct BenchArgs {
        /// Network sizes, comma separated.
        #[arg(long, default_value = "100,1000,10000", value_delimiter = ',')]
        nodes: Vec<usize>,
        /// Simulated seconds per size.
        #[arg(long, default_value_t = 600)]
        duration: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Skip the raw madsim message-rate baseline.
        #[arg(long)]
        no_raw: bool,
        /// Nodes keep all history in memory (to measure what pruning saves).
        #[arg(long)]
        no_prune: bool,
    }

    /// Exit status of bad usage (EX_USAGE), distinct from every command's own statuses.
    const USAGE: i32 = 64;

    pub fn main() -> i32 {
        let cli = match Cli::try_parse() {
            Ok(cli) => cli,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() { USAGE } else { 0 };
            }
        };
        match cli.command {
            Command::Run(args) => run(args),
            Command::Bench(args) => bench(args),
            Command::Shrink(args) => shrink(args),
            Command::Scenario(args) => scenario(args),
            Command::Seeds(args) => seeds(args),
            Command::Inspect(args) => inspect(args),
        }
    }

    fn inspect(args: InspectArgs) -> i32 {
        use vein_sim::inspect::inspect as replay_to;
        use vein_sim::inspect_report;
        let config = match sim_config(&args.run) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        let inspection = match replay_to(&config, args.node, args.at, args.every) {
            Ok(inspection) => inspection,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        let state = &inspection.state;
        let replay = format!(
            "{} --node {} --at {} --every {}",
            config.replay_command().replacen(" -- run ", " -- inspect ", 1),
            args.node,
            args.at as f64 / 1e3,
            args.every as f64 / 1e3
        );
        let files = inspect_report::files(state, &inspection.history, &inspection.frames, &replay);
        let written = files.map_err(|error| error.to_string()).and_then(|files| {
            inspect_report::write(&args.run.out, &files).map_err(|e| e.to_string())
        });
        if let Err(error) = written {
            eprintln!("error writing the report: {error}");
            return 2;
        }
        println!(
            "node {} at {:.3} s: head {} at height {}, final {}, {} checkpoints held ({} side), \
             {} units ({} tips), {} orphans, {} peers",
            state.node,
            state.at_ms as f64 / 1e3,
            state.head.id,
            state.head.height,
            state.final_height,
            state.checkpoints.len(),
            state.checkpoints.iter().filter(|c| !c.active).count(),
            state.units_held,
            state.tips.len(),
            state.orphan_count,
            state.peers.len()
        );
        println!("trace hash at the read: {}", inspection.report.trace_hash);
        println!("report: {}", args.run.out.join("index.html").display());
        0
    }

    fn seeds(args: SeedsArgs) -> i32 {
        use vein_sim::seeds::{SeedsOptions, SeedsReport, run_seeds};
        let families: Vec<String> = args
            .families
            .split(';')
            .map(str::trim)
            .filter(|family| !family.is_empty())
            .map(String::from)
            .collect();
        let seeds: Vec<u64> = match args.first_seed {
            Some(first) => (0..args.count as u64).map(|i| first.wrapping_add(i)).collect(),
            None => match vein_reports::seed_file::fresh_seeds(args.count) {
                Ok(seeds) => seeds,
                Err(error) => {
                    eprintln!("error: {error}");
                    return USAGE;
                }
            },
        };
        let jobs = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        eprintln!(
            "seeds: {} seeds over {} families on {jobs} worker(s); first seeds {:?}",
            seeds.len(),
            families.len(),
            &seeds[..seeds.len().min(3)]
        );
        let total = seeds.len();
        let options = SeedsOptions { families, seeds, jobs };
        // When progress was last printed, and how many failures have been.
        let printed = std::sync::Mutex::new((Instant::now(), 0usize));
        let progress = |report: &SeedsReport| {
            let mut printed = printed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for failure in report.failures.iter().skip(printed.1) {
                eprintln!("FAIL {} seed {}: {}", failure.family, failure.seed, failure.detail);
            }
            printed.1 = report.failures.len();
            let done = report.seeds_run as usize;
            if printed.0.elapsed() >= Duration::from_secs(5) || done == total {
                printed.0 = Instant::now();
                eprintln!(
                    "[{done:>6}/{total}] {:>8.0} seeds/hour, {} failing, {:.0} s",
                    report.seeds_per_hour(),
                    report.failures.len(),
                    report.wall.as_secs_f64()
                );
            }
        };
        let report = match run_seeds(&options, &progress) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("error: {error}");
                return USAGE;
            }
        };
        if let Err(error) = write_seeds_report(&args.out, &report) {
            eprintln!("error: writing {}: {error}", args.out.display());
            return 2;
        }
        println!(
            "{} seeds in {:.0} s ({:.0} seeds/hour), {} failing; {}",
            report.seeds_run,
            report.wall.as_secs_f64(),
            report.seeds_per_hour(),
            report.failures.len(),
            args.out.join("summary.json").display()
        );
        for failure in &report.failures {
            println!(
                "FAIL {} seed {}: {}\n  replay: {}",
                failure.family, failure.seed, failure.detail, failure.replay
            );
        }
        i32::from(!report.failures.is_empty())
    }

    fn write_seeds_report(
        out: &std::path::Path,
        report: &vein_sim::seeds::SeedsReport,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(out)?;
        let mut failures = String::new();
        for failure in &report.failures {
            failures.push_str(&format!(
                "{} {} {}\n  replay: {}\n",
                failure.family, failure.seed, failure.detail, failure.replay
            ));
        }
        std::fs::write(out.join("failures.txt"), failures)?;
        let summary = serde_json::to_string_pretty(&report.summary())?;
        std::fs::write(out.join("summary.json"), format!("{summary}\n"))
    }

    fn scenario(args: ScenarioArgs) -> i32 {
        use vein_reports::metrics::Verdict;
        use vein_scenarios::runner::{self, Shard};
        use vein_sim::scenario_engine::{MadsimEngine, SimSettings, set_settings};
        let prepared = (|| -> Result<_, String> {
            let scenario =
                vein_scenarios::scenario::Scenario::load(&args.file).map_err(|e| e.to_string())?;
            vein_sim::scenario_engine::check_supported(&scenario)
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let settings = SimSettings::from_spec(scenario.simulator.as_ref())
                .map_err(|e| format!("{}: [simulator]: {e}", args.file.display()))?;
            let parameters = args
                .params
                .iter()
                .map(|spec| runner::parse_param(spec))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let points = runner::grid(&scenario, &parameters).map_err(|e| e.to_string())?;
            Ok((scenario, settings, points))
        })();
        let (scenario, settings, points) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        set_settings(settings);
        let seeds = args.seeds.unwrap_or(scenario.run.seeds).max(1);
        let label = format!("{} (madsim)", scenario.name);
        let runs = match runner::execute_on::<MadsimEngine>(
            &label,
            &points,
            seeds,
            args.first_seed,
            Shard::WHOLE,
        ) {
            Ok(runs) => runs,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        let verdict = match runner::write_report(&args.out, &runs) {
            Ok(verdict) => verdict,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        println!("report: {}", args.out.join("summary.md").display());
        match verdict {
            Verdict::Pass => {
                println!("verdict: pass");
                0
            }
            Verdict::ReferenceMismatch => {
                println!("verdict: a reference lies outside its 95% interval (see summary.md)");
                1
            }
            Verdict::Violation => {
                println!("verdict: invariant violated (see summary.md)");
                1
            }
        }
    }

    /// The configuration `args` describe.
    fn sim_config(args: &RunArgs) -> Result<SimConfig, String> {
        let faults = FaultKinds::parse(&args.faults, args.seed).map_err(|e| e.to_string())?;
        let mut config = SimConfig::new(args.seed, args.nodes);
        config.duration_s = args.duration;
        config.tx_rate = args.tx_rate;
        config.token_share = args.token_share;
        config.consortium_share = args.consortium_share;
        config.evm_share = args.evm_share;
        config.fl_share = args.fl_share;
        config.side_chains = args.side_chains;
        config.side_nodes = args.side_nodes;
        config.anchor_interval = args.anchor_interval;
        config.faults = faults;
        config.target_interval_ms = args.interval_ms;
        config.finality_depth = args.finality;
        config.peers_per_node = args.peers;
        config.settle_s = args.settle.unwrap_or_else(|| config.default_settle_s());
        if let Some(messages) = args.receive_batch {
            config.receive_batch = messages;
        }
        config.dropped_faults = args.drop_faults.iter().copied().collect();
        config.watch = args.watch.iter().copied().collect();
        config.self_test = match &args.checker_self_test {
            Some(name) => Some(SelfTestBug::parse(name).map_err(|e| e.to_string())?),
            None => None,
        };
        config.net = net_config(args).map_err(|e| e.to_string())?;
        config.prune = !args.no_prune;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// The configuration a replay line (`SimConfig::replay_command`) reruns.
    fn replay_config(line: &str) -> Result<SimConfig, String> {
        let (_, args) = line.split_once(" -- ").ok_or("replay line without ` -- `")?;
        let words = std::iter::once("vein-sim").chain(args.split_whitespace());
        match Cli::try_parse_from(words).map_err(|e| e.to_string())?.command {
            Command::Run(args) => sim_config(&args),
            _ => Err("replay line is not a `run` command".to_string()),
        }
    }

    /// Prints simulated time, wall time and event rate every few seconds from a real thread
    /// (madsim's clock overrides apply only inside the runtime's thread context).
    struct ProgressPrinter {
        stop: Arc<AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl ProgressPrinter {
        fn start(progress: Arc<Progress>, label: String) -> ProgressPrinter {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let thread = std::thread::spawn(move || {
                let start = Instant::now();
                let mut last_print = start;
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(Duration::from_millis(200));
                    if last_print.elapsed() < Duration::from_secs(5) {
                        continue;
                    }
                    last_print = Instant::now();
                    let wall = start.elapsed().as_secs_f64();
                    let events = progress.events.load(Ordering::Relaxed)
                        + progress.messages.load(Ordering::Relaxed);
                    eprintln!(
                        "[{label}] simulated {:.0} s, wall {wall:.0} s, {:.0} events/s",
                        progress.simulated_ms.load(Ordering::Relaxed) as f64 / 1e3,
                        events as f64 / wall.max(1e-9)
                    );
                }
            });
            ProgressPrinter { stop, thread: Some(thread) }
        }
    }

    impl Drop for ProgressPrinter {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            if let Some(thread) = self.thread.take() {
                thread.thread().unpark();
                let _ = thread.join();
            }
        }
    }

    fn timed_run(config: &SimConfig, label: &str) -> Result<(RunReport, f64), String> {
        let progress = Arc::new(Progress::default());
        let printer = ProgressPrinter::start(progress.clone(), label.to_string());
        let start = Instant::now();
        let report = simulation::run(config, Some(progress)).map_err(|e| e.to_string())?;
        let wall = start.elapsed().as_secs_f64();
        drop(printer);
        Ok((report, wall))
    }

    fn run(args: RunArgs) -> i32 {
        let config = match sim_config(&args) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        println!(
            "vein-sim: seed {} nodes {} duration {} s tx-rate {}/s faults {} receive-batch {}",
            config.seed,
            config.nodes,
            config.duration_s,
            config.tx_rate,
            config.faults.describe(),
            config.receive_batch
        );
        let (report, wall) = match timed_run(&config, "run") {
            Ok(done) => done,
            Err(error) => {
                eprintln!("error: {error}");
                return 2;
            }
        };
        print_report(&report, wall);
        let mut status = 0;
        if let Some(first) = report.violations.first() {
            println!("VIOLATION (seed {}): {first}", config.seed);
            println!("replay: {}", config.replay_command());
            status = 1;
        }
        if args.check_determinism {
            let again = match timed_run(&config, "rerun") {
                Ok((again, _)) => again,
                Err(error) => {
                    eprintln!("error: {error}");
                    return 2;
                }
            };
            if again.trace_hash == report.trace_hash {
                println!("determinism: ok (second run: same trace hash)");
            } else {
                println!(
                    "DETERMINISM FAILURE (seed {}): trace {} then {}",
                    config.seed, report.trace_hash, again.trace_hash
                );
                println!("replay: {} --check-determinism", config.replay_command());
                status = 1;
            }
        }
        if let Err(error) = write_metrics(&report, wall, &args.out) {
            eprintln!("error writing metrics: {error}");
            status = status.max(2);
        }
        status
    }

    fn write_metrics(report: &RunReport, wall: f64, out: &std::path::Path) -> Result<(), String> {
        let json = report.to_metrics(wall).to_json().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
        std::fs::write(out.join("metrics.json"), json).map_err(|e| e.to_string())?;
        println!("metrics: {}", out.join("metrics.json").display());
        Ok(())
    }

    /// A run's report and its wall-clock seconds.
    struct Timed(RunReport, f64);

    impl shrink::Outcome for Timed {
        fn first_violation(&self) -> Option<&vein_sim::checker::Violation> {
            self.0.violations.first()
        }
    }

    /// Exit statuses of `shrink`.
    const SHRUNK: i32 = 0;
    const NOT_REPLAYED: i32 = 1;
    const NOTHING_TO_SHRINK: i32 = 2;
    const SHRINK_ERROR: i32 = 3;

    fn shrink(args: ShrinkArgs) -> i32 {
        let config = match sim_config(&args.run) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: {error}");
                return SHRINK_ERROR;
            }
        };
        println!(
            "vein-sim shrink: seed {} nodes {} duration {} s tx-rate {}/s faults {} \
             (at most {} runs)",
            config.seed,
            config.nodes,
            config.duration_s,
            config.tx_rate,
            config.faults.describe(),
            args.max_runs
        );
        let start = Instant::now();
        let result = shrink::shrink(
            &config,
            args.max_runs,
            // With the progress line on stderr, for candidates that take long.
            |candidate| timed_run(candidate, "shrink").map(|(report, wall)| Timed(report, wall)),
            |step| println!("{step}"),
        );
        let shrunk = match result {
            Ok(shrunk) => shrunk,
            Err(error @ ShrinkError::Passes) => {
                println!("{error}");
                return NOTHING_TO_SHRINK;
            }
            Err(error) => {
                eprintln!("error: {error}");
                return SHRINK_ERROR;
            }
        };
        let wall = start.elapsed().as_secs_f64();
        println!(
            "shrunk in {} runs ({wall:.1} s wall{}): {}",
            shrunk.runs,
            if shrunk.exhausted { ", run budget spent" } else { "" },
            shrunk.summary()
        );
        println!("invariant: {}", shrunk.violation.invariant);
        println!("VIOLATION (seed {}): {}", shrunk.config.seed, shrunk.violation);
        let replay = shrunk.config.replay_command();
        // The replay line must rerun exactly the run that was kept, flag for flag.
        match replay_config(&replay) {
            Ok(parsed) if parsed == shrunk.config => {}
            Ok(_) => {
                eprintln!("error: the replay line does not describe the shrunk run: {replay}");
                return SHRINK_ERROR;
            }
            Err(error) => {
                eprintln!("error: the replay line does not parse ({error}): {replay}");
                return SHRINK_ERROR;
            }
        }
        println!("replay: {replay}");
        let mut status = SHRUNK;
        if args.run.check_determinism {
            match simulation::run(&shrunk.config, None) {
                Ok(again) if again.trace_hash == shrunk.outcome.0.trace_hash => {
                    println!("determinism: ok (shrunk run replayed: same trace hash)");
                }
                Ok(again) => {
                    println!(
                        "DETERMINISM FAILURE (seed {}): trace {} then {}",
                        shrunk.config.seed, shrunk.outcome.0.trace_hash, again.trace_hash
                    );
                    status = NOT_REPLAYED;
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    return SHRINK_ERROR;
                }
            }
        }
        if let Err(error) = write_metrics(&shrunk.outcome.0, shrunk.outcome.1, &args.run.out) {
            eprintln!("error writing metrics: {error}");
            return SHRINK_ERROR;
        }
        status
    }

    fn net_config(args: &RunArgs) -> Result<NetConfig, ConfigError> {
        Ok(NetConfig {
            latency: LatencyModel::parse(&args.latency)?,
            duplicate: args.duplicate,
            reorder: args.reorder,
            reorder_ms: args.reorder_ms,
            uplink_bytes_per_s: args.uplink.as_deref().map(parse_rate).transpose()?,
        })
    }

    fn print_report(report: &RunReport, wall: f64) {
        println!("seed:               {}", report.config.seed);
        println!("trace hash:         {}", report.trace_hash);
        println!(
            "simulated:          {:.0} s in {wall:.1} s wall ({:.1}x)",
            report.simulated_ms as f64 / 1e3,
            report.simulated_ms as f64 / 1e3 / wall.max(1e-9)
        );
        println!("messages delivered: {}", report.messages_delivered);
        println!(
            "final checkpoints:  {} (final heights at the end {}..={})",
            report.checkpoints_final, report.final_height_range.0, report.final_height_range.1
        );
        println!(
            "transfers:          {} submitted, {} refused, {} final ({} applied)",
            report.transfers_submitted,
            report.transfers_refused,
            report.transactions_final,
            report.transactions_applied
        );
        let history = &report.history;
        println!(
            "client history:     {} transfers seen final, {} (transfer, node) checks passed, {} \
             not checkable yet; {} acknowledged never seen final",
            history.seen_final,
            history.verified,
            history.unverifiable,
            history.acknowledged_not_final
        );
        if report.config.token_share > 0.0 {
            println!(
                "token txs:          {} submitted, {} tokens at the end",
                report.token_txs_submitted, report.tokens_at_end
            );
        }
        if report.config.consortium_share > 0.0 {
            let end = &report.consortium;
            println!(
                "consortium txs:     {} submitted, {} skipped; {} consortia, {} writes final",
                end.submitted, end.skipped, end.end.consortia, end.end.final_writes
            );
            println!(
                "replicas:           {} members ({} removed): {} actions applied, {} refused, \
                 {} restores; {} root and {} as-of checks; {} envelopes scanned for the canary",
                end.end.member_replicas,
                end.end.removed_members,
                end.end.applied,
                end.end.refused,
                end.end.restores,
                end.root_checks,
                end.end.as_of_checks,
                end.envelopes_scanned
            );
        }
        if report.config.evm_share > 0.0 {
            let evm = &report.evm;
            println!(
                "evm txs:            {} submitted ({} gap fills), {} refused; carriers final: \
                 {} applied, {} ignored",
                evm.submitted,
                evm.gap_fills,
                evm.refused,
                evm.carriers_applied,
                evm.carriers_ignored
            );
            println!(
                "evm receipts:       {} at final heights ({} reverted or halted)",
                evm.receipts, evm.failed_receipts
            );
            println!(
                "evm reorgs:         {} checkpoint disconnections with EVM effects ({} carriers), \
                 {} carriers re-executed",
                evm.disconnected_checkpoints, evm.disconnected_carriers, evm.reexecuted_carriers
            );
        }
        if report.config.fl_share > 0.0 {
            let fl = &report.fl;
            println!(
                "fl task:            {} participants, {} rounds settled ({} when the faults \
                 ended); signed {} posts, {} joins, {} updates, {} aggregates, {} settles; \
                 {} root checks",
                fl.participants,
                fl.rounds_settled,
                fl.rounds_at_faults_end,
                fl.posts,
                fl.joins,
                fl.updates,
                fl.aggregates,
                fl.settles,
                fl.root_checks
            );
        }
        if report.config.side_chains > 0 {
            let peg = &report.peg;
            println!(
                "side chains, peg:   {} anchors ({} final on main), {} pins; signed {} locks, {} \
                 mints, {} burns, {} releases, {} replays; {} minted, {} released; {} \
                 conservation checks",
                peg.anchors_submitted,
                peg.anchors_final,
                peg.pins,
                peg.locks_submitted,
                peg.mints_submitted,
                peg.burns_submitted,
                peg.releases_submitted,
                peg.replays_submitted,
                peg.minted,
                peg.released,
                peg.conservation_checks
            );
        }
        println!("faults applied:     {}", report.faults_applied);
        if report.config.faults.corrupt {
            let (applied, detected) = report.corruptions;
            println!("logs corrupted:     {applied} ({detected} detected at restart, restored)");
        }
        println!("violations:         {}", report.violations.len());
    }

    fn bench(args: BenchArgs) -> i32 {
        let mut rows: Vec<BenchRow> = Vec::new();
        let mut sizes = args.nodes.clone();
        // Peak RSS is a process-wide high-water mark: measure small networks first.
        sizes.sort_unstable();
        for nodes in sizes {
            let mut config = bench::bench_config(args.seed, nodes, args.duration);
            config.prune = !args.no_prune;
            eprintln!(
                "bench: {nodes} nodes, {} simulated s, {} tx/s",
                args.duration, config.tx_rate
            );
            let (report, wall) = match timed_run(&config, &format!("bench {nodes}")) {
                Ok(done) => done,
                Err(error) => {
                    eprintln!("error: {error}");
                    return 2;
                }
            };
            let raw = if args.no_raw {
                None
            } else {
                let start = Instant::now();
                let delivered = bench::raw_messages(&config, &report);
                Some((delivered, start.elapsed().as_secs_f64()))
            };
            let row = BenchRow::new(&report, wall, bench::peak_rss_bytes(), raw);
            println!("{}", row.describe());
            rows.push(row);
        }
        println!();
        println!("{}", bench::table(&rows));
        0
    }
}
