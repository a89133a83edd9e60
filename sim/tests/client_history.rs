//! The transfer workload's client history (`vein_sim::client_history`): on fresh swarm seeds
//! every transfer the client saw final is in every node's ledger once, at its height, with its
//! outcome, and the check really looks: node 0's ledger view with the first final transfer
//! dropped, or held twice, fails the run with `client-history`. Build and run with
//! `RUSTFLAGS="--cfg madsim" cargo test -p vein-sim --profile sim --test client_history`.
#![cfg(madsim)]

use vein_sim::config::FaultKinds;
use vein_sim::selftest::SelfTestBug;
use vein_sim::simulation::run;

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use common::{assert_safe, fast};

/// Seeds not used by any other test (fresh plans of every swarm fault).
const SEEDS: [u64; 2] = [21_701, 21_702];

#[test]
fn swarm_runs_keep_what_the_client_saw_final() {
    for seed in SEEDS {
        let faults = FaultKinds::parse("swarm", seed).unwrap();
        let report = run(&fast(seed, 10, 80, faults), None).unwrap();
        assert_safe(&report);
        let history = &report.history;
        assert!(history.seen_final >= 20, "seed {seed}: {history:?}");
        // Every running node was read and held to every final transfer it has finalised.
        assert_eq!(history.nodes, 10, "seed {seed}: {history:?}");
        assert!(history.verified >= history.seen_final * 5, "seed {seed}: {history:?}");
        assert!(history.entries_read >= history.verified, "seed {seed}: {history:?}");
    }
}

#[test]
fn a_ledger_view_losing_or_doubling_a_final_transfer_fails_the_run() {
    for bug in [SelfTestBug::HistoryDropFinal, SelfTestBug::HistoryDoubleApply] {
        let mut config = fast(SEEDS[0], 6, 60, FaultKinds::none());
        config.self_test = Some(bug);
        let report = run(&config, None).unwrap();
        let found: Vec<_> = report.violations.iter().map(|v| v.invariant).collect();
        assert!(
            !found.is_empty() && found.iter().all(|name| *name == "client-history"),
            "{bug:?}: {:#?}",
            report.violations
        );
        let detail = &report.violations[0].detail;
        let expected = match bug {
            SelfTestBug::HistoryDropFinal => "missing-final",
            _ => "applied-twice",
        };
        assert!(detail.starts_with(expected), "{bug:?}: {detail}");
        assert_eq!(report.violations[0].node, 0);
        assert!(report.config.replay_command().contains(bug.name()));
    }
}
