//! The binary: exit codes 0 / 1 / 2 and the files a run writes.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_vein-scenarios");

fn scenario(directory: &std::path::Path, q: &str) -> std::path::PathBuf {
    let text = format!(
        r#"name = "cli"
description = "cli test"
[network]
nodes = 2
latency_ms = 1
target_interval_ms = 1000
retarget = false
[run]
duration_s = 600
seeds = 20
[attacker]
kind = "private-race"
q = {q}
z = 1
[metric]
name = "double_spend_success"
reference = "strictly-heavier"
"#
    );
    let path = directory.join("cli.toml");
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn bad_input_exits_2_with_one_clear_message() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = scenario(root.path(), "1.5");
    let output = Command::new(BINARY).arg("explain").arg(&file).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("attacker.q = 1.5 must be in (0, 0.5)"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let output = Command::new(BINARY)
        .args(["sweep", "--param", "q=oops"])
        .arg(scenario(root.path(), "0.2"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn run_writes_a_report_and_exits_by_verdict() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = scenario(root.path(), "0.3");
    let out = root.path().join("out");
    let output = Command::new(BINARY)
        .arg("run")
        .arg(&file)
        .args(["--seeds", "20", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    // 20 races: the verdict may go either way; the code must say which.
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary");
    let expected = if summary.contains("**Verdict:** PASS") { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(expected));
    for file in ["index.html", "metrics.json", "runs.jsonl", "plots/double_spend_by_depth.png"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("double_spend_success"), "{stdout}");
}

#[test]
fn three_worlds_compares_report_directories_and_exits_by_agreement() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = scenario(root.path(), "0.3");
    // Two reports of the same file on disjoint seeds stand in for two worlds.
    for (world, first_seed) in [("a", "1"), ("b", "101")] {
        let output = Command::new(BINARY)
            .arg("run")
            .arg(&file)
            .args(["--seeds", "20", "--first-seed", first_seed, "--out"])
            .arg(root.path().join(world))
            .output()
            .expect("runs");
        assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
    }
    let out = root.path().join("three");
    let output = Command::new(BINARY)
        .arg("three-worlds")
        .arg("--localnet")
        .arg(root.path().join("a"))
        .arg("--madsim")
        .arg(root.path().join("b"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    let json = std::fs::read_to_string(out.join("three-worlds.json")).expect("json");
    let report: vein_scenarios::three_worlds::ThreeWorldsReport =
        serde_json::from_str(&json).expect("report");
    assert_eq!(report.tests, 1, "{json}");
    let expected = if report.disagreements == 0 { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(expected));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("| double_spend_success | q=0.3 z=1 | localnet vs madsim"), "{stdout}");
    assert!(stdout.contains("two-proportion z"), "{stdout}");
    assert!(out.join("three-worlds.md").exists());
    // One world is no comparison: refused with the reason, exit 2.
    let output = Command::new(BINARY)
        .arg("three-worlds")
        .arg("--localnet")
        .arg(root.path().join("a"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("give at least two"), "{stderr}");
    // A directory without records is named.
    let output = Command::new(BINARY)
        .args(["three-worlds", "--localnet"])
        .arg(root.path().join("a"))
        .arg("--testnet")
        .arg(root.path().join("missing"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("testnet report"));
}
