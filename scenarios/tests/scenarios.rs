//! Scenario files are refused with one clear error each; small canonical runs are pinned.

use std::path::Path;

use vein_reports::metrics::SweepReport;
use vein_reports::summary::sweep_summary_markdown;
use vein_scenarios::double_spend::PrivateRace;
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::Scenario;

const VALID: &str = r#"
name = "t"
description = "test"

[network]
nodes = 3
latency_ms = 1
target_interval_ms = 1000
retarget = false

[run]
duration_s = 600
seeds = 4

[attacker]
kind = "private-race"
q = 0.3
z = 1

[metric]
name = "double_spend_success"
reference = "strictly-heavier"
"#;

fn error_of(text: &str) -> String {
    match Scenario::parse(text, Path::new("bad.toml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_valid_file_parses() {
    let scenario = Scenario::parse(VALID, Path::new("ok.toml")).expect("valid");
    let race: PrivateRace = scenario.attacker.read().expect("kind = \"private-race\"");
    assert_eq!((race.q, race.z, race.give_up_behind), (0.3, 1, None));
}

#[test]
fn every_shipped_scenario_file_is_valid() {
    assert!(vein_scenarios::suite::ENTRIES.len() >= 4);
    for entry in vein_scenarios::suite::ENTRIES {
        Scenario::parse(entry.text, Path::new(entry.file)).expect(entry.file);
    }
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "honest-baseline",
        "win-share",
        "identity-split",
        "double-spend",
        "selfish",
        "tips",
        "grinding",
        "conflict-spam",
        "network-split",
        "lazy-tips",
    ] {
        Scenario::load(&directory.join(format!("{name}.toml"))).expect(name);
    }
}

#[test]
fn unknown_field_names_the_field_line_and_file() {
    let message = error_of(&VALID.replace("latency_ms = 1", "latency_ms = 1\nlatncy = 3"));
    assert!(message.starts_with("bad.toml: "), "{message}");
    assert!(message.contains("unknown field `latncy`"), "{message}");
    assert!(message.contains("line 8"), "{message}");
}

#[test]
fn wrong_type_names_the_line() {
    let message = error_of(&VALID.replace("nodes = 3", "nodes = \"three\""));
    assert!(message.contains("line 6"), "{message}");
    assert!(message.contains("invalid type"), "{message}");
}

#[test]
fn share_outside_its_range_is_refused() {
    let message = error_of(&VALID.replace("q = 0.3", "q = 1.5"));
    assert_eq!(message, "bad.toml: invalid value: attacker.q = 1.5 must be in (0, 0.5)");
}

#[test]
fn madsim_files_parse_and_the_localnet_runner_points_to_the_simulator() {
    let madsim = VALID.replace(
        "[network]",
        "engine = \"madsim\"\n\n[simulator]\nlatency = \"geo:regions=3\"\nloss = 0.01\n\n[network]",
    );
    let scenario = Scenario::parse(&madsim, Path::new("sim.toml")).expect("valid");
    let simulator = scenario.simulator.clone().expect("[simulator]");
    assert_eq!(simulator.latency.as_deref(), Some("geo:regions=3"));
    assert_eq!((simulator.loss, simulator.reorder_ms), (0.01, 200));
    let points = runner::grid(&scenario, &[]).unwrap();
    let error = runner::execute("t", &points, 1, None, Shard::WHOLE).unwrap_err().to_string();
    assert!(error.contains("vein-sim scenario FILE"), "{error}");
    // The table belongs to the simulator, and its probabilities are checked here.
    let message = error_of(&madsim.replace("engine = \"madsim\"", "engine = \"localnet\""));
    assert!(message.contains("[simulator] table applies only with engine = \"madsim\""));
    let message = error_of(&madsim.replace("loss = 0.01", "loss = 2"));
    assert!(message.contains("simulator.loss = 2 must be a probability"), "{message}");
}

#[test]
fn zero_nodes_are_refused() {
    let message = error_of(&VALID.replace("nodes = 3", "nodes = 0"));
    assert_eq!(message, "bad.toml: invalid value: network.nodes = 0 must be in [1, ...]");
}

#[test]
fn zero_finality_depth_is_refused() {
    let message =
        error_of(&VALID.replace("retarget = false", "retarget = false\nfinality_depth = 0"));
    assert_eq!(message, "bad.toml: invalid value: network.finality_depth = 0 must be in [1, ...]");
}

#[test]
fn missing_and_unused_attacker_fields_are_named() {
    // Each names the file, the key and, for a key the kind does not have, the keys it allows.
    let message = error_of(&VALID.replace("z = 1\n", ""));
    assert!(message.starts_with("bad.toml: "), "{message}");
    assert!(message.contains("missing field `z`"), "{message}");
    let message = error_of(&VALID.replace("z = 1\n", "z = 1\ns = 0.2\n"));
    assert!(message.starts_with("bad.toml: "), "{message}");
    assert!(message.contains("unknown field `s`"), "{message}");
    assert!(message.contains("`q`, `z`, `give_up_behind`"), "{message}");
}

#[test]
fn unknown_attacker_kind_lists_the_kinds() {
    let message = error_of(&VALID.replace("\"private-race\"", "\"private-rase\""));
    assert!(message.starts_with("bad.toml: "), "{message}");
    assert!(message.contains("unknown attacker kind `private-rase`"), "{message}");
    for kind in [
        "none",
        "large-miner",
        "private-race",
        "withhold",
        "conflict-spam",
        "grind",
        "network-split",
        "lazy-tips",
        "on-the-fly",
        "extend-all-forks",
        "plot-sharing",
    ] {
        assert!(message.contains(&format!("`{kind}`")), "{kind}: {message}");
    }
}

#[test]
fn metric_and_attacker_must_agree() {
    let message = error_of(&VALID.replace("double_spend_success", "win_share"));
    assert!(message.contains("needs attacker.kind = \"large-miner\""), "{message}");
}

#[test]
fn identity_split_needs_another_miner() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("identity-split.toml");
    let text = std::fs::read_to_string(path).expect("file");
    let message = error_of(&text.replace("split = 4", "split = 10"));
    assert!(
        message.contains("network.nodes = 10 must be in at least attacker.split + 1"),
        "{message}"
    );
}

#[test]
fn sweep_parameters_are_checked() {
    let scenario = Scenario::parse(VALID, Path::new("ok.toml")).expect("valid");
    let error = runner::parse_param("q").expect_err("no range");
    assert!(error.to_string().contains("expected NAME=RANGE"));
    let parameters = vec![runner::parse_param("q=0.2..0.6:0.2").expect("range")];
    let error = runner::grid(&scenario, &parameters).expect_err("q = 0.6");
    assert!(error.to_string().contains("attacker.q = 0.6 must be in (0, 0.5)"), "{error}");
    let error = runner::grid(&scenario, &[("bogus".into(), vec![1.0])]).expect_err("unknown");
    assert!(error.to_string().contains("unknown parameter \"bogus\""), "{error}");
    // A parameter another family declares is named as unused by this one.
    let error = runner::grid(&scenario, &[("s".into(), vec![0.2])]).expect_err("not private-race");
    assert!(
        error.to_string().contains(
            "parameter \"s\" is not used by metric \"double_spend_success\" \
             (attacker.kind = \"private-race\")"
        ),
        "{error}"
    );
    // A grid too large to hold is refused before any point is built (three parameters of
    // 10,000 values each would be 10^12 scenarios).
    let wide = vec![
        runner::parse_param("q=0.0001..0.4:0.00004").expect("10,000 values"),
        runner::parse_param("z=1..50").expect("range"),
        runner::parse_param("give_up_behind=1..500").expect("range"),
    ];
    let error = runner::grid(&scenario, &wide).expect_err("too large");
    assert!(error.to_string().contains("above the limit of 100000"), "{error}");
    // A sweep writes the value back into the attacker table the family reads.
    let points = runner::grid(&scenario, &[("z".into(), vec![3.0])]).expect("z = 3");
    let race: PrivateRace = points[0].scenario.attacker.read().expect("reads");
    assert_eq!((race.q, race.z), (0.3, 3));
}

#[test]
fn same_seed_same_metrics() {
    let scenario = Scenario::parse(VALID, Path::new("ok.toml")).expect("valid");
    let run = |seed| {
        let mut run = run_seed::<LocalNetEngine>(&scenario, seed).expect("runs");
        run.wall_seconds = 0.0;
        run.to_json().expect("json")
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn shards_partition_the_work_and_merge_to_the_whole() {
    let scenario = Scenario::parse(VALID, Path::new("ok.toml")).expect("valid");
    let points = runner::grid(&scenario, &[("z".into(), vec![1.0, 2.0])]).expect("grid");
    let strip = |mut runs: Vec<vein_reports::metrics::RunMetrics>| {
        runs.iter_mut().for_each(|run| run.wall_seconds = 0.0);
        let mut sweep = SweepReport::from_runs(&runs).expect("merges");
        sweep.wall_seconds = 0.0;
        sweep.measurements
    };
    let whole = runner::execute("t", &points, 6, None, Shard::WHOLE).expect("runs");
    let mut parts =
        runner::execute("t", &points, 6, None, Shard { index: 0, count: 2 }).expect("shard 0");
    parts.extend(
        runner::execute("t", &points, 6, None, Shard { index: 1, count: 2 }).expect("shard 1"),
    );
    let whole = strip(whole);
    let parts = strip(parts);
    assert_eq!(whole.len(), 2);
    for (a, b) in whole.iter().zip(&parts) {
        assert_eq!(a.measurement.data, b.measurement.data);
    }
}

#[test]
fn canonical_double_spend_summary() {
    let scenario = Scenario::parse(VALID, Path::new("ok.toml")).expect("valid");
    let points = runner::grid(&scenario, &[]).expect("grid");
    let runs = runner::execute("canonical", &points, 40, Some(1), Shard::WHOLE).expect("runs");
    let sweep = SweepReport::from_runs(&runs).expect("merges");
    let charts = vein_scenarios::charts::sweep_charts(&sweep);
    insta::assert_snapshot!("canonical_double_spend", sweep_summary_markdown(&sweep, &charts));
}

/// Families read each node's whole chain after the run. Pruning below finality (on by default
/// in every node) once left the honest baseline 51 checkpoints to read out of ~300, so the
/// scenario engines keep history; this fails if they stop doing so.
#[test]
fn the_baseline_reads_the_whole_chain_of_a_long_run() {
    let text = r#"
name = "baseline"
description = "test"

[network]
nodes = 3
latency_ms = 1
target_interval_ms = 1000

[run]
duration_s = 300
seeds = 1

[metric]
name = "checkpoint_interval"
reference = "target-interval"
"#;
    let scenario = Scenario::parse(text, Path::new("baseline.toml")).expect("valid");
    let run =
        run_seed::<LocalNetEngine>(&scenario, 1).expect("a 300-checkpoint run is long enough");
    assert!(!run.measurements.is_empty());
}
