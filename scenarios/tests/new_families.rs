//! Small fixed-seed runs of the tip-dynamics, grinding and conflict-spam families: each lands on
//! its reference and holds its invariants. Runs are deterministic, so these pin behaviour, not
//! luck.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vein_reports::metrics::{Measurement, MeasurementData, RunMetrics};
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::scenario::Scenario;

fn shipped(file: &str, edit: impl Fn(&mut Scenario)) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut scenario = Scenario::load(&path).unwrap();
    edit(&mut scenario);
    scenario.validate().unwrap();
    scenario
}

fn measurement<'a>(run: &'a RunMetrics, name: &str) -> &'a Measurement {
    run.measurements.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn all_succeeded(measurement: &Measurement) -> bool {
    matches!(measurement.data, MeasurementData::Proportion { successes, trials }
        if trials > 0 && successes == trials)
}

#[test]
fn tip_count_lands_on_two_lambda_h() {
    let scenario = shipped("tips.toml", |s| {
        s.run.duration_s = 100;
        s.workload.tx_per_s = 10.0;
    });
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let tips = measurement(&run, "tip_count");
    assert_eq!(tips.reference.as_ref().unwrap().value, 10.0);
    assert_eq!(
        tips.reference_inside_ci,
        Some(true),
        "tips {} [{}, {}]",
        tips.estimate,
        tips.ci_low,
        tips.ci_high
    );
}

#[test]
fn grinding_changes_neither_the_signature_nor_the_share() {
    let scenario = shipped("grinding.toml", |s| s.run.duration_s = 400);
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert!(all_succeeded(measurement(&run, "grind_one_signature")));
    let share = measurement(&run, "grind_share");
    assert_eq!(share.reference_inside_ci, Some(true));
    // The content-dependent alternative (0.54 at s = 0.2, g = 8) lies far above the interval.
    assert!(share.other_references[0].value > share.ci_high);
}

#[test]
fn conflict_spam_applies_each_conflict_once_and_confirms_honest_transfers() {
    let scenario = shipped("conflict-spam.toml", |s| {
        s.run.duration_s = 60;
        s.set_parameter("rate", 5.0).unwrap();
    });
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert!(all_succeeded(measurement(&run, "conflicts_applied_at_most_once")));
    let none = measurement(&run, "conflicts_applied_none");
    assert!(
        matches!(none.data, MeasurementData::Proportion { successes: 0, trials } if trials > 100)
    );
    assert!(all_succeeded(measurement(&run, "honest_confirmed")));
}

#[test]
fn lazy_parasite_units_leave_honest_transfers_alone() {
    let scenario = shipped("lazy-tips.toml", |s| {
        s.run.duration_s = 100;
        s.set_parameter("rate", 5.0).unwrap();
    });
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert!(all_succeeded(measurement(&run, "lazy_honest_confirmed")));
    let increase = measurement(&run, "lazy_honest_latency_increase_s");
    assert_eq!(increase.reference_inside_ci, Some(true), "{increase:?}");
    // The parasite chain is issued and judged: some lazy units exist and were settled.
    let lazy = measurement(&run, "lazy_confirmed");
    assert!(matches!(lazy.data, MeasurementData::Proportion { trials, .. } if trials > 100));
}
