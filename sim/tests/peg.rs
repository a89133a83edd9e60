//! Side chains and the two-way peg in one madsim run (issue #19, docs/peg.md "In the
//! simulator"): the main network and a side network of four nodes, each under its own fault
//! plan of the same kinds, a relayer anchoring each chain on the other and relaying peg proofs,
//! and a workload locking main node 0's token for side accounts and burning it back. A run
//! passes only with no violation of any checker on either network, the peg's included:
//! `peg-conservation` (escrow = minted − burned + in flight, per token, on every comparable pair
//! of main and side heads, every simulated second), `light-client-state` (equal light clients at
//! equal heads) and `anchor-rewritten` (nothing below an anchor final on main ever changes).
//! These tests also assert that the load was real: tokens were minted on the side chain and
//! released back on main, through light clients on both sides.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use std::path::PathBuf;
use vein_reports::seed_file::{self, SeedFile};
use vein_sim::config::SimConfig;
use vein_sim::simulation::{RunReport, run};

const FRESH_SEEDS: usize = 2;

/// The subsystem network (10 main nodes, 2 s checkpoints, k = 6) for 120 simulated s, one side
/// chain of 4 nodes anchored every 2 checkpoints.
fn config(faults: &str, seed: u64) -> SimConfig {
    let mut config = common::subsystem(faults, seed);
    config.duration_s = 120;
    config.side_chains = 1;
    config.side_nodes = 4;
    config.anchor_interval = 2;
    config
}

/// The first violation, or too little peg traffic, as a failure line with the replay.
fn failure(report: &RunReport) -> Option<String> {
    if let Some(line) = common::first_violation(report) {
        return Some(line);
    }
    let (seed, replay) = (report.config.seed, report.config.replay_command());
    let peg = &report.peg;
    let exercised = peg.minted > 0
        && peg.released > 0
        && peg.conservation_checks > 0
        && peg.anchors_final > 0
        && peg.replays_submitted > 0;
    (!exercised)
        .then(|| format!("seed {seed}: too little peg traffic: {peg:?}\n  replay: {replay}"))
}

/// The property: on fresh seeds under swarm faults (recorded in `sim/failing-seeds.txt` as
/// family `peg` when one fails), no checker violation on either network and a real round trip.
#[test]
fn peg_conserves_under_swarm_faults_on_both_networks() {
    let fresh = seed_file::fresh_seeds(FRESH_SEEDS).unwrap();
    let file = SeedFile::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt"));
    let ran = seed_file::check_seeds(&file, "peg", &fresh, |seed, _replay| {
        failure(&run(&config("swarm", seed), None).unwrap())
    })
    .unwrap();
    let failures: Vec<&str> = ran.iter().filter_map(|ran| ran.failure.as_deref()).collect();
    assert!(failures.is_empty(), "peg runs failed:\n{}", failures.join("\n"));
}

/// The same seed twice gives the same trace and the same peg counters; the side chain changes
/// the trace, and without it nothing of the peg runs.
#[test]
fn side_chain_runs_are_deterministic() {
    let config = config("kill,partition", 7);
    let first = run(&config, None).unwrap();
    let second = run(&config, None).unwrap();
    assert_eq!(failure(&first), None);
    assert!(first.faults_applied > 0);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.peg, second.peg);
    let without = run(&SimConfig { side_chains: 0, ..config }, None).unwrap();
    assert_ne!(without.trace_hash, first.trace_hash);
    assert_eq!(without.peg, Default::default());
}
