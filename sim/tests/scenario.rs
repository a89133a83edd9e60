//! The scenario families on the madsim engine (`vein-sim scenario`): the honest baseline and
//! the private double-spend race run end to end on simulated nodes, replay bit for bit, and
//! answer the `[simulator]` table of a scenario file.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Mutex;
use vein_reports::metrics::RunMetrics;
use vein_scenarios::families::run_seed;
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::Scenario;
use vein_sim::scenario_engine::{MadsimEngine, SimSettings, set_settings};

/// The engine's settings are process-wide: tests that start engines run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn load(file: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
    Scenario::load(&path).unwrap()
}

fn baseline() -> Scenario {
    let mut scenario = load("honest-baseline.toml");
    // 400 checkpoints: enough for the two 100-checkpoint blocks the family needs, and fast.
    scenario.run.duration_s = 400;
    scenario
}

fn measurement(run: &RunMetrics, name: &str) -> f64 {
    run.measurements.iter().find(|m| m.name == name).unwrap().estimate
}

#[test]
fn honest_baseline_runs_on_simulated_nodes_and_replays() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let scenario = baseline();
    let first = run_seed::<MadsimEngine>(&scenario, 1).unwrap();
    assert!(first.violations.is_empty(), "{:?}", first.violations);
    assert!(first.messages_delivered > 1_000, "{} messages", first.messages_delivered);
    // ~400 checkpoints of T = 1 s: the mean interval is T within a few standard errors (1/20).
    let interval = measurement(&first, "checkpoint_interval_s");
    assert!((0.8..1.25).contains(&interval), "mean interval {interval} s");
    let again = run_seed::<MadsimEngine>(&scenario, 1).unwrap();
    assert_eq!(first.trace_hash, again.trace_hash, "same seed, another trace");
    let other = run_seed::<MadsimEngine>(&scenario, 2).unwrap();
    assert_ne!(first.trace_hash, other.trace_hash, "another seed, the same trace");
}

#[test]
fn double_spend_races_run_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let scenario = load("double-spend.toml");
    let points = runner::grid(&scenario, &[]).unwrap();
    let runs =
        runner::execute_on::<MadsimEngine>("test", &points, 100, Some(1), Shard::WHOLE).unwrap();
    let merged = runner::fold(runs).unwrap();
    assert!(merged.violations.is_empty(), "{:?}", merged.violations);
    // q = 0.2, z = 2: the strictly-heavier race succeeds with probability 0.072. Some races must
    // be won and most lost; P(more than 25 of 100 | p = 0.072) < 1e-6, P(0) = 6e-4.
    let success = measurement(&merged, "double_spend_success");
    assert!(success > 0.0 && success <= 0.25, "success rate {success}");
}

#[test]
fn the_simulator_table_sets_the_network_model() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let scenario = baseline();
    set_settings(SimSettings::default());
    let plain = run_seed::<MadsimEngine>(&scenario, 3).unwrap();
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/honest-baseline.toml"),
    )
    .unwrap()
    .replace("[network]", "engine = \"madsim\"\n\n[simulator]\nlatency = \"lognormal:median_ms=20,sigma=0.5\"\nduplicate = 0.05\n\n[network]");
    let wide_area = Scenario::parse(&text, std::path::Path::new("wide-area.toml")).unwrap();
    let settings = SimSettings::from_spec(wide_area.simulator.as_ref()).unwrap();
    assert_eq!(settings.duplicate, 0.05);
    set_settings(settings);
    let mut wide_area = wide_area;
    wide_area.run.duration_s = scenario.run.duration_s;
    let slow = run_seed::<MadsimEngine>(&wide_area, 3).unwrap();
    set_settings(SimSettings::default());
    assert!(slow.violations.is_empty(), "{:?}", slow.violations);
    assert_ne!(plain.trace_hash, slow.trace_hash);
    // Duplicates: more deliveries for about the same traffic.
    assert!(
        slow.messages_delivered > plain.messages_delivered,
        "{} with 5% duplicates, {} without",
        slow.messages_delivered,
        plain.messages_delivered
    );
    // A bad latency spec is the simulator's to refuse, with its message.
    let bad = text.replace("lognormal:median_ms=20,sigma=0.5", "lognormal:median_ms=-1");
    let bad = Scenario::parse(&bad, std::path::Path::new("bad.toml")).unwrap();
    assert!(SimSettings::from_spec(bad.simulator.as_ref()).is_err());
}
