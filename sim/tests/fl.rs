//! Federated learning under churn and partitions (issue #20, docs/federated-learning.md "In the
//! simulator"): node 0 posts a task with its price in escrow, six other funded nodes join,
//! train, commit updates and aggregates and settle rounds while the fault plan kills, restarts
//! and partitions their nodes. A run passes only with no violation of any checker, the FL ones
//! included: `fl-escrow` (escrow + paid + burned = R·p on every node, at every tick and at the
//! end; nothing paid twice; every settled round had m contributors), `fl-root` (equal task
//! state at equal heads) and `fl-stalled` (a round settles after the faults end). These tests
//! also assert that the load was real: the task gathered its participants and settled rounds.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use std::path::PathBuf;
use vein_reports::seed_file::{self, SeedFile};
use vein_sim::config::SimConfig;
use vein_sim::simulation::{RunReport, run};

const FRESH_SEEDS: usize = 3;
/// Seeds pinned for the fault families the property names (kill and restart; partition).
const KILL_SEED: u64 = 11;
const PARTITION_SEED: u64 = 12;

/// 10 nodes, 80 simulated s, 2 s checkpoints, k = 6 (as the EVM property), 4 slots/s of which
/// 30% are FL ticks.
fn config(faults: &str, seed: u64) -> SimConfig {
    let mut config = common::subsystem(faults, seed);
    config.fl_share = 0.3;
    config
}

/// The first violation, or too little FL load, as a failure line with the replay.
fn failure(report: &RunReport) -> Option<String> {
    if let Some(line) = common::first_violation(report) {
        return Some(line);
    }
    let (seed, replay) = (report.config.seed, report.config.replay_command());
    let fl = &report.fl;
    let exercised =
        fl.participants >= 3 && fl.rounds_settled >= 2 && fl.root_checks > 0 && fl.unmasked > 0;
    (!exercised).then(|| format!("seed {seed}: too little FL load: {fl:?}\n  replay: {replay}"))
}

/// The property: on fresh seeds under swarm faults (recorded in `sim/failing-seeds.txt` as
/// family `fl` when one fails) and on one seed each of kill/restart and partition, no checker
/// violation and real progress. The first fresh seed runs twice (determinism).
#[test]
fn rounds_settle_and_escrow_is_conserved_under_churn_and_partitions() {
    let fresh = seed_file::fresh_seeds(FRESH_SEEDS).unwrap();
    let file = SeedFile::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt"));
    let ran = seed_file::check_seeds(&file, "fl", &fresh, |seed, replay| {
        let config = config("swarm", seed);
        let report = run(&config, None).unwrap();
        if let Some(failure) = failure(&report) {
            return Some(failure);
        }
        if replay {
            let again = run(&config, None).unwrap();
            if again.trace_hash != report.trace_hash {
                return Some(format!("seed {seed}: not deterministic"));
            }
        }
        None
    })
    .unwrap();
    let failures: Vec<&str> = ran.iter().filter_map(|ran| ran.failure.as_deref()).collect();
    assert!(failures.is_empty(), "fl runs failed:\n{}", failures.join("\n"));

    for (faults, seed) in [("kill", KILL_SEED), ("partition", PARTITION_SEED)] {
        let report = run(&config(faults, seed), None).unwrap();
        assert_eq!(failure(&report), None, "{faults}");
        assert!(report.faults_applied > 0, "{faults}: no fault applied");
    }
}

/// Masked aggregation recovers from drop-outs: under kill/restart and partition faults on fresh
/// seeds (family
/// `fl-masked` in `sim/failing-seeds.txt`), owners whose node is down miss rounds, the others
/// reveal their seeds with them, and every such round settles with at least m contributors on
/// the survivors' plain FedAvg (`fl-masked`, checked by each recovering owner) with escrow
/// conserved (`fl-escrow`). Over the seeds some rounds must really have recovered.
#[test]
fn masked_rounds_recover_from_drop_outs_under_kills() {
    let fresh = seed_file::fresh_seeds(FRESH_SEEDS).unwrap();
    let file = SeedFile::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt"));
    let mut recovered = 0;
    let mut reveals = 0;
    let ran = seed_file::check_seeds(&file, "fl-masked", &fresh, |seed, _| {
        let report = run(&config("kill,partition", seed), None).unwrap();
        recovered += report.fl.rounds_recovered;
        reveals += report.fl.reveals;
        failure(&report)
    })
    .unwrap();
    let failures: Vec<&str> = ran.iter().filter_map(|ran| ran.failure.as_deref()).collect();
    assert!(failures.is_empty(), "masked fl runs failed:\n{}", failures.join("\n"));
    assert!(recovered > 0 && reveals > 0, "no drop-out was recovered: {recovered}, {reveals}");
}

/// The same seed twice gives the same trace and the same FL counters; the FL share changes the
/// trace, and without it nothing of the FL workload runs (its draws come from a stream of its
/// own, drawn only when it is on: a run without it has the trace main's binary gives).
#[test]
fn fl_runs_are_deterministic() {
    let config = config("kill,partition", 5);
    let first = run(&config, None).unwrap();
    let second = run(&config, None).unwrap();
    assert_eq!(failure(&first), None);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.fl, second.fl);
    let without = run(&SimConfig { fl_share: 0.0, ..config }, None).unwrap();
    assert_ne!(without.trace_hash, first.trace_hash);
    assert_eq!(without.fl.posts, 0);
}
