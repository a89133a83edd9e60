//! Re-execution under faults (issue #18, docs/evm.md "In the simulator"): swarm runs with
//! contract load on fresh seeds. Every node recomputes the ledger root, contract state
//! included, of each checkpoint it connects (a differing one is `invalid-final` when another
//! node holds it final), nodes with equal heads hold equal roots (`supply`), and receipts agree
//! at every height two nodes hold final (`evm-receipts`). A run passes only with none of those;
//! these tests also assert that the load was real: receipts on every seed, reverted or halted
//! calls among them, and reorganisations that took checkpoints with EVM effects off a chain
//! and executed their carriers again on the new branch.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use std::path::PathBuf;
use vein_reports::seed_file::{self, SeedFile};
use vein_sim::config::SimConfig;
use vein_sim::simulation::{RunReport, run};

const FRESH_SEEDS: usize = 3;
/// A seed whose swarm draw (partition, cut) splits the network long enough for both sides to
/// execute contract calls, so that every run of this test sees EVM effects disconnected and
/// re-executed, whatever the fresh seeds draw.
const REORG_SEED: u64 = 3;

/// 10 nodes, 80 simulated s, 2 s checkpoints, k = 6 (as the CI property test), 4 tx/s with
/// 30% of them Ethereum transactions.
fn config(faults: &str, seed: u64) -> SimConfig {
    let mut config = common::subsystem(faults, seed);
    config.evm_share = 0.3;
    config
}

/// The first violation, or too little EVM load checked, as a failure line with the replay.
fn failure(report: &RunReport) -> Option<String> {
    if let Some(line) = common::first_violation(report) {
        return Some(line);
    }
    let (seed, replay) = (report.config.seed, report.config.replay_command());
    let evm = &report.evm;
    let exercised = evm.receipts > 0 && evm.failed_receipts > 0 && evm.carriers_applied > 0;
    (!exercised).then(|| format!("seed {seed}: too little EVM load: {evm:?}\n  replay: {replay}"))
}

/// The property: on fresh seeds under swarm faults (recorded in `sim/failing-seeds.txt` as
/// family `evm` when one fails) and on [`REORG_SEED`], no checker violation, receipts (some
/// reverted or out of gas) on every seed, and across the seeds checkpoints with EVM effects
/// disconnected and their carriers executed again. The first fresh seed runs twice.
#[test]
fn contract_state_agrees_under_swarm_faults_and_reorgs_re_execute() {
    let fresh = seed_file::fresh_seeds(FRESH_SEEDS).unwrap();
    let file = SeedFile::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt"));
    let mut reports = Vec::new();
    let ran = seed_file::check_seeds(&file, "evm", &fresh, |seed, replay| {
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
        reports.push(report);
        None
    })
    .unwrap();
    let failures: Vec<&str> = ran.iter().filter_map(|ran| ran.failure.as_deref()).collect();
    assert!(failures.is_empty(), "evm runs failed:\n{}", failures.join("\n"));

    let pinned = run(&config("swarm", REORG_SEED), None).unwrap();
    assert_eq!(failure(&pinned), None);
    reports.push(pinned);
    let disconnected: u64 = reports.iter().map(|report| report.evm.disconnected_checkpoints).sum();
    let reexecuted: u64 = reports.iter().map(|report| report.evm.reexecuted_carriers).sum();
    let counts: Vec<_> = reports.iter().map(|report| (report.config.seed, report.evm)).collect();
    assert!(disconnected > 0, "no reorg disconnected EVM effects: {counts:?}");
    assert!(reexecuted > 0, "no disconnected carrier executed again: {counts:?}");
}

/// The same seed with EVM load twice gives the same trace, and the load changes the trace
/// (the EVM share is in the run, not beside it); without it the run is the one it was before
/// the EVM workload existed (the canonical trace hashes in `tests/simulation.rs` pin that).
#[test]
fn evm_runs_are_deterministic() {
    let config = config("kill,partition", 5);
    let first = run(&config, None).unwrap();
    let second = run(&config, None).unwrap();
    assert_eq!(failure(&first), None);
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.evm, second.evm);
    let without = run(&SimConfig { evm_share: 0.0, ..config }, None).unwrap();
    assert_ne!(without.trace_hash, first.trace_hash);
    assert_eq!(without.evm.submitted, 0);
}
