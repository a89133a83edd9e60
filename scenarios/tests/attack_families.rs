//! The extend-all-forks (#4) and fake-space (#7) families: small fixed-seed runs land on their
//! references, and bad values are refused with the field's name.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vein_reports::metrics::{Measurement, RunMetrics};
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::scenario::Scenario;

fn text(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

fn shipped(file: &str, edit: impl Fn(&mut Scenario)) -> Scenario {
    let mut scenario = Scenario::parse(&text(file), Path::new(file)).unwrap();
    edit(&mut scenario);
    scenario.validate().unwrap();
    scenario
}

fn measurement<'a>(run: &'a RunMetrics, name: &str) -> &'a Measurement {
    run.measurements.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn error_of(file: &str, from: &str, to: &str) -> String {
    let edited = text(file).replace(from, to);
    assert_ne!(edited, text(file), "{from:?} not in {file}");
    match Scenario::parse(&edited, Path::new("bad.toml")) {
        Ok(_) => panic!("accepted {to:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_two_files_are_valid_and_explained() {
    for file in ["extend-all-forks.toml", "fake-space.toml"] {
        let scenario = shipped(file, |_| {});
        let story = vein_scenarios::explain::explain(&scenario);
        assert!(story.contains("reference"), "{story}");
    }
}

#[test]
fn extend_all_forks_lands_on_the_branching_model() {
    let scenario = shipped("extend-all-forks.toml", |s| s.set_parameter("q", 0.3).unwrap());
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let height = measurement(&run, "fork_private_height");
    assert_eq!(height.reference_inside_ci, Some(true), "{height:?}");
    // Four identities at c = 1 out-grow one chain of the same space (λt = 10.7 here).
    let one_chain = height.other_references[0].value;
    assert!(height.estimate > 1.1 * one_chain, "{} vs {one_chain}", height.estimate);
    assert_eq!(measurement(&run, "fork_catch_up").reference_inside_ci, Some(true));
}

#[test]
fn one_identity_gains_nothing_from_extending_all_forks() {
    let scenario = shipped("extend-all-forks.toml", |s| s.set_parameter("split", 1.0).unwrap());
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    let height = measurement(&run, "fork_private_height");
    let one_chain = height.other_references[0].value;
    // The model is one Poisson chain: its mean is λt itself.
    assert!((height.reference.as_ref().unwrap().value - one_chain).abs() < 0.05);
    assert_eq!(height.reference_inside_ci, Some(true), "{height:?}");
}

#[test]
fn fake_space_lands_on_the_rayleigh_race() {
    let scenario = shipped("fake-space.toml", |s| {
        s.run.duration_s = 300;
        s.set_parameter("nonces_per_s", 3_000.0).unwrap();
    });
    let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let share = measurement(&run, "fake_space_share");
    assert!((share.reference.as_ref().unwrap().value - 0.4544).abs() < 0.002);
    assert_eq!(share.reference_inside_ci, Some(true), "{share:?}");
    // The stored-plot reading κ/(1+κ) = 0.5 is shown beside it.
    assert!((share.other_references[0].value - 0.5).abs() < 0.01);
}

#[test]
fn bad_values_name_their_field() {
    let message = error_of("fake-space.toml", "nonces_per_s = 300 ", "nonces_per_s = -5 ");
    assert!(message.contains("attacker.nonces_per_s = -5 must be in (0, 10000000]"), "{message}");
    let message = error_of("fake-space.toml", "retarget = false", "retarget = true");
    assert!(message.contains("network.retarget = true"), "{message}");
    let message = error_of("fake-space.toml", "nonces_per_s = 300 ", "");
    assert!(message.starts_with("bad.toml: "), "{message}");
    assert!(message.contains("missing field `nonces_per_s`"), "{message}");
    let message =
        error_of("extend-all-forks.toml", "challenge_refresh = 1 ", "challenge_refresh = 0 ");
    assert!(message.contains("network.challenge_refresh = 0 must be in [1, ...]"), "{message}");
    let message = error_of("extend-all-forks.toml", "q = 0.3", "q = 1");
    assert!(message.contains("attacker.q = 1 must be in (0, 0.5)"), "{message}");
    let message = error_of("extend-all-forks.toml", "split = 4 ", "split = 17 ");
    assert!(message.contains("attacker.split = 17 must be in [.., 16]"), "{message}");
    let message = error_of("extend-all-forks.toml", "split = 4 ", "split = 0 ");
    assert!(message.contains("attacker.split = 0 must be in [1, ...]"), "{message}");
    // Sweeps are validated point by point.
    let scenario = shipped("fake-space.toml", |_| {});
    let parameters = vec![("nonces_per_s".to_string(), vec![-1.0])];
    let error = vein_scenarios::runner::grid(&scenario, &parameters).unwrap_err();
    assert!(error.to_string().contains("attacker.nonces_per_s = -1"), "{error}");
}

/// The private tree is bounded: a race whose identities outgrow the bound stops with an error
/// naming the knobs, instead of running on (here a bound of 50 against the hundreds to thousands
/// of checkpoints q = 0.4 grows in 25 s).
#[test]
fn extend_all_forks_refuses_a_tree_above_its_bound() {
    let scenario = shipped("extend-all-forks.toml", |s| s.set_parameter("q", 0.4).unwrap());
    let error =
        vein_scenarios::extend_forks::run_bounded::<LocalNetEngine>(&scenario, 1, 50).unwrap_err();
    assert!(
        matches!(error, vein_scenarios::families::RunError::TooLarge { limit: 50, .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("private tree (checkpoints) reached"), "{message}");
    assert!(message.contains("lower run.duration_s, attacker.q or attacker.split"), "{message}");
    // The shipped bound is far above what the shipped sweep grows.
    const { assert!(vein_scenarios::extend_forks::MAX_TREE_CHECKPOINTS >= 20_000) };
}
