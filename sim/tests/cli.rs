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
