//! #12, network-split double-spend: fixed seeds pooled at one grid point land on the two-Poisson
//! race, every run keeps one spend of the nonce and converges after the heal, and the scenario
//! file refuses what the family cannot run. Runs are deterministic, so these pin behaviour.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vein_reports::metrics::SweepReport;
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::{InvalidValue, Scenario, ScenarioError};

fn shipped(edit: impl Fn(&mut Scenario)) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("network-split.toml");
    let mut scenario = Scenario::load(&path).unwrap();
    edit(&mut scenario);
    scenario.validate().unwrap();
    scenario
}

#[test]
fn pooled_seeds_land_on_the_poisson_race() {
    // d = 4 T, z = 1, s = 0.4: reverted with 0.476, delivered with 0.798.
    let scenario = shipped(|_| {});
    let points = runner::grid(&scenario, &[]).unwrap();
    let runs = runner::execute("split", &points, 120, Some(1), Shard::WHOLE).unwrap();
    assert!(runs.iter().all(|run| run.violations.is_empty()));
    let sweep = SweepReport::from_runs(&runs).unwrap();
    for name in ["split_revert", "split_delivered"] {
        let pooled = sweep
            .measurements
            .iter()
            .map(|pooled| &pooled.measurement)
            .find(|m| m.name == name)
            .unwrap();
        assert_eq!(
            pooled.reference_inside_ci,
            Some(true),
            "{name}: {} [{}, {}] vs {:?}",
            pooled.estimate,
            pooled.ci_low,
            pooled.ci_high,
            pooled.reference
        );
    }
    let charts = vein_scenarios::charts::sweep_charts(&sweep);
    assert!(charts.iter().any(|chart| chart.stem == "split_revert"));
}

#[test]
fn a_revert_needs_a_delivery_and_every_heal_converges() {
    let scenario = shipped(|s| s.set_parameter("d", 8.0).unwrap());
    let mut reverted = 0;
    let mut kept = 0;
    for seed in 1..=30 {
        let run = run_seed::<LocalNetEngine>(&scenario, seed).unwrap();
        // Convergence after the heal and never both spends applied (invariants + double-apply).
        assert!(run.violations.is_empty(), "seed {seed}: {:?}", run.violations);
        let outcome = |name: &str| {
            let m = run.measurements.iter().find(|m| m.name == name).unwrap();
            m.estimate == 1.0
        };
        if outcome("split_revert") {
            assert!(outcome("split_delivered"), "seed {seed}: reverted but never delivered");
            reverted += 1;
        } else if outcome("split_delivered") {
            kept += 1;
        }
    }
    // At d = 8 T both endings are common (0.68 reverted, 0.28 delivered and kept).
    assert!(reverted > 0 && kept > 0, "reverted {reverted}, kept {kept}");
}

#[test]
fn the_file_refuses_what_the_family_cannot_run() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("network-split.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("d = 4.0"), "the shipped file sets d");
    let message = Scenario::parse(&text.replace("d = 4.0", ""), &path).unwrap_err().to_string();
    assert!(message.contains("network-split.toml"), "{message}");
    assert!(message.contains("missing field `d`"), "{message}");
    assert!(matches!(
        Scenario::parse(&text.replace("d = 4.0", "d = -1.0"), &path),
        Err(ScenarioError::Invalid {
            source: InvalidValue::OutOfRange { field: "attacker.d", .. },
            ..
        })
    ));
    let mut scenario = Scenario::load(&path).unwrap();
    scenario.network.nodes = 3;
    assert!(matches!(
        scenario.validate(),
        Err(InvalidValue::OutOfRange { field: "network.nodes", .. })
    ));
    scenario.network.nodes = 4;
    scenario.set_parameter("d", 3.0).unwrap();
    assert_eq!(scenario.labels().get("d"), Some(&3.0));
}
