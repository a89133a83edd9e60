//! The `vein-sim` binary: without madsim it explains how to build it and exits 2; with madsim a
//! small run with `--check-determinism` succeeds and writes a readable metrics.json.

use std::process::Command;

#[cfg(not(madsim))]
#[test]
fn without_madsim_the_binary_explains_how_to_build_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_vein-sim")).arg("run").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("--cfg madsim"), "{text}");
}

#[cfg(madsim)]
#[test]
fn a_small_run_replays_and_writes_metrics() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
        .args(["run", "--seed", "9", "--nodes", "6", "--duration", "40", "--interval-ms"])
        .args(["2000", "--finality", "3", "--faults", "kill,skew", "--check-determinism"])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("determinism: ok"), "{text}");
    let json = std::fs::read_to_string(out.path().join("metrics.json")).unwrap();
    let metrics = vein_reports::metrics::RunMetrics::from_json(&json).unwrap();
    assert_eq!(metrics.seed, 9);
    assert_eq!(metrics.nodes, 6);
    assert!(metrics.violations.is_empty());
    assert!(text.contains(&metrics.trace_hash), "{text}");
}

#[cfg(madsim)]
#[test]
fn bad_network_flags_exit_2_with_the_expected_syntax() {
    for args in [
        ["--latency", "pareto"],
        ["--latency", "lognormal:sigma=x"],
        ["--duplicate", "1.5"],
        ["--uplink", "0"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_vein-sim")).arg("run").args(args).output();
        let output = output.unwrap();
        let text = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.starts_with("error: "), "{args:?}: {text}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
        .args(["run", "--latency", "pareto"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("lognormal:median_ms=M,sigma=S"));
}

#[cfg(madsim)]
#[test]
fn a_scenario_file_runs_on_the_simulator_and_bad_files_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/double-spend.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
        .args(["scenario", file, "--seeds", "20", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{text}");
    assert!(text.contains("verdict:"), "{text}");
    assert!(out.path().join("summary.md").exists());
    assert!(out.path().join("runs.jsonl").exists());
    let bad = out.path().join("bad.toml");
    let text = std::fs::read_to_string(file).unwrap().replace(
        "[network]",
        "engine = \"madsim\"\n[simulator]\nlatency = \"pareto\"\n\n[network]",
    );
    std::fs::write(&bad, text).unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_vein-sim")).arg("scenario").arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("[simulator]") && text.contains("pareto"), "{text}");
}

#[cfg(madsim)]
#[test]
fn watching_nodes_prints_their_chain_events_and_changes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let run = |watch: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
            .args(["run", "--seed", "4", "--nodes", "4", "--duration", "60", "--interval-ms"])
            .args(["2000", "--finality", "3", "--faults", "partition"])
            .args(watch)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let hash = stdout.lines().find(|line| line.starts_with("trace hash:")).unwrap().to_string();
        (hash, String::from_utf8_lossy(&output.stderr).to_string())
    };
    let (plain, quiet) = run(&[]);
    let (watched, events) = run(&["--watch", "1,2"]);
    assert_eq!(plain, watched);
    assert!(!quiet.contains("node 1 (clock"), "{quiet}");
    assert!(events.contains("node 1 (clock") && events.contains("node 2 (clock"), "{events}");
    assert!(!events.contains("node 0 (clock"), "{events}");
    assert!(events.contains("FINAL") && events.contains("fault: partition"), "{events}");
}
