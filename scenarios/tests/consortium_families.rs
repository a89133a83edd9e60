//! The consortium families (issue #17) on LocalNet, one short fixed seed each: the revocation
//! race never applies a denied account's write and applies every permitted one, with one deny
//! latency sample per round; a tampering member, forging a row of its replica file or
//! attesting false roots, is named by every honest member at the verdict of the first
//! certified height after the tampering, and no honest member is ever named. Runs are
//! deterministic, so these pin behaviour, not luck.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vein_reports::metrics::{Measurement, MeasurementData, RunMetrics};
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::scenario::Scenario;

fn shipped(file: &str, edit: impl Fn(&mut toml::Table)) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    edit(&mut table);
    Scenario::parse(&table.to_string(), &path).unwrap()
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    table.get_mut(section).and_then(toml::Value::as_table_mut).unwrap().insert(key.into(), value);
}

fn measurement<'a>(run: &'a RunMetrics, name: &str) -> &'a Measurement {
    run.measurements.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn proportion(measurement: &Measurement) -> (u64, u64) {
    match measurement.data {
        MeasurementData::Proportion { successes, trials } => (successes, trials),
        MeasurementData::Samples { .. } => panic!("{} is not a proportion", measurement.name),
    }
}

fn samples(measurement: &Measurement) -> &[f64] {
    match &measurement.data {
        MeasurementData::Samples { values } => values,
        MeasurementData::Proportion { .. } => panic!("{} is not a mean", measurement.name),
    }
}

/// Two rounds at 4 writes a second: many writes race each deny, none of them applies after
/// it. Fails if a denied write applies (with the permission check of `Consortia::check`
/// removed: `write-after-deny` on every honest node, and revoked_writes_applied > 0).
#[test]
fn a_denied_account_never_writes_after_the_deny() {
    let scenario = shipped("revocation-race.toml", |table| {
        set(table, "attacker", "rounds", 2.into());
    });
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (applied, denied) = proportion(measurement(&run, "revoked_writes_applied"));
    assert_eq!(applied, 0);
    assert!(denied >= 20, "only {denied} writes raced a deny");
    let (applied, permitted) = proportion(measurement(&run, "granted_writes_applied"));
    assert!(permitted >= 10, "only {permitted} permitted writes");
    assert_eq!(applied, permitted, "every permitted write applies");
    let latencies = samples(measurement(&run, "deny_final_latency_t"));
    assert_eq!(latencies.len(), 2, "one sample per round");
    // Finality needs k checkpoints above the deny's: never less than a few milliseconds.
    assert!(latencies.iter().all(|latency| latency.is_finite() && *latency > 0.0));
    let (_, rounds) = proportion(measurement(&run, "deny_final_within_bound"));
    assert_eq!(rounds, 2);
}

fn tampered(mode: &str) -> RunMetrics {
    let scenario = shipped("tampering-member.toml", |table| {
        set(table, "attacker", "mode", mode.into());
    });
    run_seed::<LocalNetEngine>(&scenario, 1).unwrap()
}

fn assert_named_in_time_and_nobody_else(run: &RunMetrics) {
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert_eq!(proportion(measurement(run, "tamperer_named_by_next_verdict")), (3, 3));
    let (accusing, verdicts) = proportion(measurement(run, "honest_members_accused"));
    assert_eq!(accusing, 0);
    assert!(verdicts >= 20, "only {verdicts} verdicts");
}

/// Fails if a forged replica row never reaches the attested root (the replica's
/// `data_version` check) or the chain stops naming diverged members.
#[test]
fn a_forged_replica_row_is_named_at_the_next_verdict() {
    let run = tampered("forged-row");
    assert_named_in_time_and_nobody_else(&run);
    // Two checkpoints is the floor: one applies the next write, one orders its attestation.
    let latencies = samples(measurement(&run, "detection_latency_checkpoints"));
    assert_eq!(latencies.len(), 3);
    assert!(latencies.iter().all(|latency| *latency >= 2.0), "{latencies:?}");
}

#[test]
fn a_false_root_is_named_at_the_next_verdict() {
    let run = tampered("false-root");
    assert_named_in_time_and_nobody_else(&run);
}
