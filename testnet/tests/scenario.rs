//! `vein-testnet scenario FILE`: a scenario file on real processes, written as the report the
//! simulated engines write. Families without a real-process attacker are refused by name before
//! anything starts; the selfish miner (a `--policy withhold` node, 2 honest nodes beside it)
//! runs one short seed and its report holds the family's measurement, the plan of how the
//! scenario was scaled, and every finality finding the node counters confirm.
//!
//! Bounded: debug binaries, 3 nodes of 64-85 nonces, one checkpoint every 250 ms, 90 s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vein_reports::metrics::{MeasurementData, SweepReport, Verdict};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scenario(args: &[&str], file: &Path, out: &Path) -> Output {
    Command::new(common::CLI)
        .arg("scenario")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run vein-testnet scenario")
}

#[test]
fn families_without_a_real_process_attacker_and_bad_arguments_are_refused_before_starting() {
    let out = tempfile::tempdir().unwrap();
    let refused = scenario(&[], &scenarios_dir().join("double-spend.toml"), out.path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"private-race\"") && stderr.contains("real processes"), "{stderr}");
    let storage = scenario(&[], &scenarios_dir().join("storage-cheating.toml"), out.path());
    assert_eq!(storage.status.code(), Some(2));
    let fast =
        scenario(&["--interval-ms", "10"], &scenarios_dir().join("selfish.toml"), out.path());
    let stderr = String::from_utf8_lossy(&fast.stderr);
    assert_eq!(fast.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--interval-ms"), "{stderr}");
    // Nothing was started or written.
    assert!(!out.path().join("nets").exists());
    assert!(!out.path().join("metrics.json").exists());
}

#[test]
fn a_selfish_miner_on_real_processes_writes_the_family_report() {
    common::build_node_binary();
    let work = tempfile::tempdir().unwrap();
    // The suite's selfish file with 2 honest nodes instead of 4: fewer processes, same story.
    let text = std::fs::read_to_string(scenarios_dir().join("selfish.toml")).unwrap();
    assert!(text.contains("nodes = 4\n"), "selfish.toml changed its network");
    let file = work.path().join("selfish-small.toml");
    std::fs::write(&file, text.replace("nodes = 4\n", "nodes = 2\n")).unwrap();
    let out = work.path().join("report");
    let run =
        scenario(&["--seeds", "1", "--interval-ms", "250", "--duration-s", "90"], &file, &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    eprintln!("{stderr}\n{stdout}");
    let metrics = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let report: SweepReport = serde_json::from_str(&metrics).unwrap();
    // The exit status is the verdict's: 0 pass, 1 otherwise (a final checkpoint reverted by the
    // attacker's release is a violation the report must show, not hide).
    let expected = if report.verdict == Verdict::Pass { 0 } else { 1 };
    assert_eq!(run.status.code(), Some(expected), "{stderr}");
    assert_eq!(report.runs, 1);
    let pooled = &report.measurements[0];
    assert_eq!(pooled.measurement.name, "selfish_revenue");
    assert_eq!(pooled.measurement.parameters.get("q"), Some(&0.4));
    let MeasurementData::Samples { values } = &pooled.measurement.data else {
        panic!("selfish_revenue is a mean of block shares: {:?}", pooled.measurement.data)
    };
    // 90 s at 250 ms: ~250 checkpoints or more, of which at least 200 settled, two blocks of 100.
    assert!(values.len() >= 2, "{values:?}");
    assert!(values.iter().all(|share| (0.0..=1.0).contains(share)), "{values:?}");
    // The attacker mined: its share of the settled chain is above zero.
    assert!(pooled.measurement.estimate > 0.0, "{:?}", pooled.measurement);
    assert!(pooled.measurement.reference.is_some());
    // Every counter-confirmed revert is named per node; findings never go missing.
    for violation in &report.violations {
        let invariant = violation.violation.invariant.as_str();
        assert!(matches!(invariant, "final-reverted" | "conflicting-finality"), "{invariant}");
    }
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("testnet-plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["interval_ms"], 250);
    assert_eq!(plan["time_scale"], 0.25);
    assert_eq!(plan["attacker_nonces"], 85);
    // The seed's testnet was brought down and purged.
    let nets: Vec<_> = std::fs::read_dir(out.join("nets")).unwrap().flatten().collect();
    assert!(nets.is_empty(), "{nets:?}");
}
