//! The property test CI runs every time: each fault family on a few FRESH seeds per run, so that
//! over many CI runs the simulator explores many seeds instead of the same fixed few.
//!
//! - Seeds: `VEIN_SEEDS` (comma-separated u64s, used for every family) if set, else
//!   [`FRESH_SEEDS`] per family drawn from OS entropy. OS entropy only *chooses* a seed; the
//!   simulation itself sees nothing but that seed, so every run stays deterministic and replays.
//!   The seeds are written to stderr before the runs start (not captured by the test harness).
//! - Memory: `sim/failing-seeds.txt` (one `family seed` per line, committed) holds every seed
//!   that ever failed; each family re-runs its recorded seeds first, and a fresh seed that fails
//!   is appended. A recorded seed stays as a regression case after the bug is fixed.
//! - Each failure is reported with its invariant and replay line (`vein-sim run ...`, which
//!   `vein-sim shrink` accepts as is).
//!
//! Small and short on purpose (10 nodes, 50 simulated seconds, 2 s checkpoints, k = 3): CI runs
//! this on every push.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Write;
use std::path::PathBuf;
use vein_sim::config::{FaultKinds, SimConfig};
use vein_sim::simulation::run;

/// Fresh seeds per family and run when `VEIN_SEEDS` is not set.
const FRESH_SEEDS: usize = 3;
const NODES: usize = 10;
const DURATION_S: u64 = 50;

fn seed_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt")
}

fn config(faults: &str, seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, NODES);
    config.duration_s = DURATION_S;
    config.tx_rate = 4.0;
    config.target_interval_ms = 2_000;
    config.finality_depth = 3;
    config.faults = FaultKinds::parse(faults, seed).unwrap();
    config.settle_s = config.default_settle_s();
    config
}

/// Seeds recorded for `family` in the seed file.
fn recorded(family: &str) -> Vec<u64> {
    let text = match std::fs::read_to_string(seed_file()) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => panic!("{}: {error}", seed_file().display()),
    };
    let mut seeds = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line
            .split_once(char::is_whitespace)
            .and_then(|(name, seed)| Some((name, seed.trim().parse::<u64>().ok()?)));
        let Some((name, seed)) = parsed else {
            panic!("{}:{}: expected `family seed`, got {line:?}", seed_file().display(), number + 1)
        };
        if name == family && !seeds.contains(&seed) {
            seeds.push(seed);
        }
    }
    seeds
}

/// The fresh seeds of this run.
fn fresh() -> Vec<u64> {
    if let Ok(list) = std::env::var("VEIN_SEEDS") {
        return list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|word| !word.is_empty())
            .map(|word| word.parse().unwrap_or_else(|_| panic!("VEIN_SEEDS: bad seed {word:?}")))
            .collect();
    }
    // OS entropy picks the seeds only (RandomState's keys come from the OS; each instance has
    // new ones), never anything inside a simulation.
    (0..FRESH_SEEDS as u64).map(|index| RandomState::new().hash_one(index)).collect()
}

/// Append a failing seed to the seed file (one `write` of one line, so concurrent tests append
/// whole lines).
fn record(family: &str, seed: u64) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(seed_file())
        .unwrap_or_else(|error| panic!("{}: {error}", seed_file().display()));
    file.write_all(format!("{family} {seed}\n").as_bytes()).unwrap();
}

/// Run `family` (the `--faults` argument `faults`) on its recorded seeds, then on fresh ones.
fn check_family(family: &str, faults: &str) {
    let recorded = recorded(family);
    let fresh: Vec<u64> = fresh().into_iter().filter(|seed| !recorded.contains(seed)).collect();
    let fresh_list: Vec<String> = fresh.iter().map(u64::to_string).collect();
    // Straight to stderr, past the harness's capture: the seeds must be visible even when the
    // process dies mid-run.
    let _ = writeln!(
        std::io::stderr(),
        "properties/{family}: recorded seeds {recorded:?}, fresh seeds {fresh:?} \
         (rerun with VEIN_SEEDS={})",
        fresh_list.join(",")
    );
    let mut failures = Vec::new();
    for seed in recorded.iter().chain(&fresh).copied() {
        let config = config(faults, seed);
        let report = run(&config, None).unwrap();
        let Some(first) = report.violations.first() else { continue };
        if !recorded.contains(&seed) {
            record(family, seed);
        }
        failures
            .push(format!("{family} seed {seed}: {first}\n  replay: {}", config.replay_command()));
    }
    assert!(
        failures.is_empty(),
        "{} failing seed(s) (recorded in {}):\n{}",
        failures.len(),
        seed_file().display(),
        failures.join("\n")
    );
}

#[test]
fn no_faults() {
    check_family("none", "none");
}

#[test]
fn partitions() {
    check_family("partition", "partition");
}

#[test]
fn crash_and_restart() {
    check_family("kill", "kill");
}

#[test]
fn skew_loss_and_latency() {
    check_family("network", "skew,loss,latency");
}

#[test]
fn swarm() {
    check_family("swarm", "swarm");
}
