//! Consortium databases in the simulator (issue #17, docs/consortium.md "In the simulator"):
//! the time machine under swarm faults on fresh seeds, and the self-tests that show the
//! `replica-root` and `consortium-plaintext` checks can fail.
//!
//! Every consortium run carries the checks: `replica-root` at each final height, and at the end
//! `time-machine` (members' as-of answers against a replay of the chain's final writes),
//! `replica-error` and `consortium-plaintext` (the canary on the wire, on disk, or with a
//! non-member). A run passes only with none of them, so these tests assert that the run is
//! clean and that the checks really had something to compare.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use std::path::PathBuf;
use vein_reports::seed_file::{self, SeedFile};
use vein_sim::config::SimConfig;
use vein_sim::selftest::SelfTestBug;
use vein_sim::simulation::{RunReport, run};

const FRESH_SEEDS: usize = 3;

/// 10 nodes, 80 simulated s, 2 s checkpoints, k = 6 (as the CI property test), 4 tx/s with a
/// third of them consortium transactions.
fn config(faults: &str, seed: u64) -> SimConfig {
    let mut config = common::subsystem(faults, seed);
    config.consortium_share = 0.3;
    config
}

/// What the checks had too little of to compare, if anything: writes must become final,
/// members hold replicas, roots be compared at final heights, as-of answers against the
/// replay, and envelopes be scanned.
fn unexercised(report: &RunReport) -> Option<String> {
    let consortium = &report.consortium;
    let end = &consortium.end;
    let enough = end.consortia >= 1
        && end.final_writes >= 5
        && end.member_replicas >= 3
        && end.applied > 0
        && consortium.root_checks > 0
        && end.as_of_checks > 0
        && consortium.envelopes_scanned > 1_000;
    (!enough).then(|| format!("seed {}: too little checked: {consortium:?}", report.config.seed))
}

fn assert_exercised(report: &RunReport) {
    assert_eq!(unexercised(report), None);
}

/// The time-machine property: on fresh seeds under swarm faults (recorded in
/// `sim/failing-seeds.txt` as family `consortium` when one fails), every member's answer as of
/// random heights equals a replay of the chain's final writes, members' roots agree at every
/// final height, and the canary never leaves the members. The first seed runs twice: equal
/// trace hashes.
#[test]
fn time_machine_and_confidentiality_under_swarm_faults() {
    let fresh = seed_file::fresh_seeds(FRESH_SEEDS).unwrap();
    let file = SeedFile::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("failing-seeds.txt"));
    let ran = seed_file::check_seeds(&file, "consortium", &fresh, |seed, replay| {
        let config = config("swarm", seed);
        let report = run(&config, None).unwrap();
        if let Some(failure) = common::first_violation(&report).or_else(|| unexercised(&report)) {
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
    assert!(failures.is_empty(), "consortium runs failed:\n{}", failures.join("\n"));
}

/// A fixed seed with crashes and restarts: restarted members rebuild their in-memory replicas
/// from their logs and still agree with the replay; the removal happened (a member's replica
/// stopped, the others moved to the next key epoch).
#[test]
fn restarted_members_rebuild_and_a_removed_member_stops() {
    let report = run(&config("kill,partition", 21), None).unwrap();
    assert!(report.ok(), "{}", common::first_violation(&report).unwrap_or_default());
    assert_exercised(&report);
    assert!(report.faults_applied >= 4, "{} faults", report.faults_applied);
    assert!(report.consortium.end.removed_members >= 1, "{:?}", report.consortium);
}

/// The `replica-root` checker fires when one member's replica misses one write.
#[test]
fn a_member_that_skips_a_write_is_caught() {
    let mut config = config("none", 8);
    config.self_test = Some(SelfTestBug::ReplicaSkip);
    let report = run(&config, None).unwrap();
    let first = report.violations.first().map(|violation| violation.invariant);
    assert_eq!(first, Some("replica-root"), "{:?}", report.violations);
    let first = &report.violations[0];
    assert!(first.node == 0 || first.other == Some(0), "node 0 is involved: {first}");
}

/// With the plaintext on chain in place of the ciphertext, the canary is found on the wire and
/// on disk; the same seed with encryption is clean.
#[test]
fn plaintext_on_chain_is_caught_on_the_wire_and_on_disk() {
    let sealed = run(&config("none", 8), None).unwrap();
    assert!(sealed.ok(), "{}", common::first_violation(&sealed).unwrap_or_default());
    assert_exercised(&sealed);
    let mut config = config("none", 8);
    config.self_test = Some(SelfTestBug::UnsealedActions);
    let report = run(&config, None).unwrap();
    let leaks: Vec<&str> = report
        .violations
        .iter()
        .filter(|violation| violation.invariant == "consortium-plaintext")
        .map(|violation| violation.detail.as_str())
        .collect();
    assert!(leaks.iter().any(|detail| detail.contains("envelopes")), "{leaks:?}");
    assert!(leaks.iter().any(|detail| detail.contains("units.log")), "{leaks:?}");
}
