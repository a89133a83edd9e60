//! The scenario families on the madsim engine (`vein-sim scenario`): the honest baseline, the
//! private double-spend race, identity splitting, grinding, tips and lazy tips, shard loss and
//! the consortium families (revocation race, tampering member) run end to end on simulated
//! nodes; the baseline replays bit for bit and answers the
//! `[simulator]` table of a scenario file; plot sharing (real plots) is refused by name.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Mutex;
use vein_reports::metrics::{MeasurementData, RunMetrics};
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

/// A family's shipped file with `edit` applied, validated.
fn shipped(file: &str, edit: impl Fn(&mut Scenario)) -> Scenario {
    let mut scenario = load(file);
    edit(&mut scenario);
    scenario.validate().unwrap();
    scenario
}

fn proportion(run: &RunMetrics, name: &str) -> (u64, u64) {
    let found = run.measurements.iter().find(|m| m.name == name);
    match found.unwrap_or_else(|| panic!("no {name}")).data {
        MeasurementData::Proportion { successes, trials } => (successes, trials),
        MeasurementData::Samples { .. } => panic!("{name} is not a proportion"),
    }
}

#[test]
fn identity_split_runs_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let scenario = shipped("identity-split.toml", |s| {
        s.run.duration_s = 600;
        s.set_parameter("split", 4.0).unwrap();
    });
    let run = run_seed::<MadsimEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    // Share 0.3 over 4 identities, ~600 checkpoints: the binomial sd is 0.019, so all four
    // together win 0.3 within 0.1 (5 sd) unless splitting changed the lottery.
    let (won, checkpoints) = proportion(&run, "split_share");
    assert!(checkpoints > 400, "{checkpoints} checkpoints");
    let share = won as f64 / checkpoints as f64;
    assert!((share - 0.3).abs() < 0.1, "split share {share}");
}

#[test]
fn grinding_runs_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let scenario = shipped("grinding.toml", |s| s.run.duration_s = 400);
    let run = run_seed::<MadsimEngine>(&scenario, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    // The signature never depends on the grinder's choice of version: every ground round led
    // to one next generation signature, on simulated nodes as on LocalNet.
    let (one, rounds) = proportion(&run, "grind_one_signature");
    assert!(rounds > 0 && one == rounds, "{one} of {rounds} rounds with one signature");
    let share = run.measurements.iter().find(|m| m.name == "grind_share").unwrap();
    // The content-dependent alternative lies far above what the grinder won.
    assert!(share.other_references[0].value > share.ci_high, "{share:?}");
}

#[test]
fn tips_and_lazy_tips_run_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let tips = shipped("tips.toml", |s| {
        s.run.duration_s = 100;
        s.workload.tx_per_s = 10.0;
    });
    let run = run_seed::<MadsimEngine>(&tips, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let count = run.measurements.iter().find(|m| m.name == "tip_count").unwrap();
    // 2λh = 10 tips; the count is a small number of the same order, never a runaway.
    assert!((2.0..30.0).contains(&count.estimate), "{} tips", count.estimate);

    let lazy = shipped("lazy-tips.toml", |s| {
        s.run.duration_s = 100;
        s.set_parameter("rate", 5.0).unwrap();
    });
    let run = run_seed::<MadsimEngine>(&lazy, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (confirmed, honest) = proportion(&run, "lazy_honest_confirmed");
    assert!(honest > 0 && confirmed == honest, "{confirmed} of {honest} honest confirmed");
    let (_, lazy_units) = proportion(&run, "lazy_confirmed");
    assert!(lazy_units > 100, "{lazy_units} lazy units");
}

#[test]
fn shard_loss_runs_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let mut scenario = shipped("shard-loss.toml", |s| s.run.duration_s = 60);
    // n = 6, k = 3: the file survives 3 crashed holders (and is repaired), not 4.
    for (crashed, survives) in [(3u64, true), (4, false)] {
        scenario.set_parameter("crashed", crashed as f64).unwrap();
        let run = run_seed::<MadsimEngine>(&scenario, 1).unwrap();
        // The family checks every decode against the k-of-n rule (`data-lost-with-k-shards`).
        assert!(run.violations.is_empty(), "{:?}", run.violations);
        let expected = u64::from(survives);
        assert_eq!(proportion(&run, "shard_loss_recoverable"), (expected, 1), "crashed {crashed}");
        assert_eq!(proportion(&run, "shard_loss_restored"), (expected, 1), "crashed {crashed}");
    }
}

/// The consortium families (issue #17) on simulated nodes: no write of a denied account
/// applies after the deny, every permitted one does; a member forging a replica row is named
/// by every honest member at the first certified height after it, and nobody else is.
#[test]
fn consortium_families_run_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let race = load("revocation-race.toml");
    let run = run_seed::<MadsimEngine>(&race, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let (applied, denied) = proportion(&run, "revoked_writes_applied");
    assert!(applied == 0 && denied >= 20, "{applied} of {denied} denied writes applied");
    let (applied, permitted) = proportion(&run, "granted_writes_applied");
    assert!(permitted > 0 && applied == permitted, "{applied} of {permitted} permitted");

    let tamper = load("tampering-member.toml");
    let run = run_seed::<MadsimEngine>(&tamper, 1).unwrap();
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert_eq!(proportion(&run, "tamperer_named_by_next_verdict"), (3, 3));
    let (accusing, verdicts) = proportion(&run, "honest_members_accused");
    assert!(accusing == 0 && verdicts > 0, "{accusing} of {verdicts} verdicts accuse");
}

/// The side-chain families (issue #19) on simulated nodes: a majority attacker against anchors
/// every 2 checkpoints and a strict bridge; no honest node ever holds a chain without its pin
/// (`rewrite-below-anchor`), and the strict bridge is never double-spent.
#[test]
fn sidechain_families_run_on_simulated_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    let mut takeover = load("sidechain-takeover.toml");
    takeover.set_parameter("a", 2.0).unwrap();
    let mut bridge = load("cross-chain-double-spend.toml");
    bridge.set_parameter("q", 0.6).unwrap();
    for seed in 1..=3 {
        let run = run_seed::<MadsimEngine>(&takeover, seed).unwrap();
        assert!(run.violations.is_empty(), "seed {seed}: {:?}", run.violations);
        let run = run_seed::<MadsimEngine>(&bridge, seed).unwrap();
        assert!(run.violations.is_empty(), "seed {seed}: {:?}", run.violations);
        assert_eq!(proportion(&run, "cross_chain_double_spend_success").0, 0);
    }
}

#[test]
fn plot_sharing_is_refused_by_name() {
    let scenario = load("plot-sharing.toml");
    let error = vein_sim::scenario_engine::check_supported(&scenario).unwrap_err();
    assert_eq!(error.family, "plot-sharing");
    assert!(error.to_string().contains("\"plot-sharing\""), "{error}");
    // Behind the up-front check, the engine itself refuses real plots with a typed error.
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    set_settings(SimSettings::default());
    match run_seed::<MadsimEngine>(&scenario, 1) {
        Err(vein_scenarios::families::RunError::Start {
            source: vein_scenarios::engine::StartError::RealPlotsUnsupported,
            ..
        }) => {}
        other => panic!("expected the real-plot refusal, got {other:?}"),
    }
    for file in ["identity-split.toml", "grinding.toml", "tips.toml", "shard-loss.toml"] {
        vein_sim::scenario_engine::check_supported(&load(file)).unwrap();
    }
}
