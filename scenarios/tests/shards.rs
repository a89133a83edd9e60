//! Sharding as a cluster scheduler runs it: n separate `vein-scenarios sweep --shard i/n`
//! processes, then `merge`, must write the same report as one process, bit for bit, but for the
//! wall-clock seconds (the one field that is not a function of the seeds).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_vein-scenarios");

/// A double-spend race with 120 seeds per point: three chunks of 50 seeds or fewer per point,
/// nine chunks over the three points, so three shards get three chunks each.
const SCENARIO: &str = r#"name = "shards"
description = "shard test"
[network]
nodes = 2
latency_ms = 1
target_interval_ms = 1000
retarget = false
[run]
duration_s = 600
seeds = 120
[attacker]
kind = "private-race"
q = 0.2
z = 1
[metric]
name = "double_spend_success"
reference = "strictly-heavier"
"#;

fn sweep(file: &Path, out: &Path, shard: Option<&str>) -> Child {
    let mut command = Command::new(BINARY);
    command.arg("sweep").arg(file).args(["--param", "q=0.1,0.2,0.3", "--out"]).arg(out);
    if let Some(shard) = shard {
        command.args(["--shard", shard]);
    }
    command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    command.spawn().expect("starts")
}

fn exit_code(mut child: Child) -> Option<i32> {
    child.wait().expect("waits").code()
}

/// `metrics.json` with its wall-clock field zeroed.
fn metrics_without_wall_clock(directory: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(directory.join("metrics.json")).expect("metrics.json");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
    value["wall_seconds"] = serde_json::json!(0.0);
    value
}

/// `runs.jsonl` records with wall-clock seconds zeroed, sorted (shards list theirs in shard order).
fn records_without_wall_clock(directory: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(directory.join("runs.jsonl")).expect("runs.jsonl");
    let mut records: Vec<String> = text
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).expect("json");
            value["wall_seconds"] = serde_json::json!(0.0);
            value.to_string()
        })
        .collect();
    records.sort();
    records
}

fn report_files(directory: &Path) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("summary.md"), PathBuf::from("index.html")];
    let mut plots: Vec<PathBuf> = std::fs::read_dir(directory.join("plots"))
        .expect("plots")
        .map(|entry| Path::new("plots").join(entry.expect("entry").file_name()))
        .collect();
    plots.sort();
    files.extend(plots);
    files
}

#[test]
fn three_shard_processes_merged_equal_one_process_bit_for_bit() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = root.path().join("shards.toml");
    std::fs::write(&file, SCENARIO).expect("write");
    let whole = root.path().join("whole");
    let shards: Vec<PathBuf> = (0..3).map(|i| root.path().join(format!("shard-{i}"))).collect();
    let mut children = vec![sweep(&file, &whole, None)];
    for (index, out) in shards.iter().enumerate() {
        children.push(sweep(&file, out, Some(&format!("{index}/3"))));
    }
    let codes: Vec<Option<i32>> = children.into_iter().map(exit_code).collect();
    assert!(codes.iter().all(|code| matches!(code, Some(0 | 1))), "{codes:?}");
    for shard in &shards {
        let records = records_without_wall_clock(shard);
        assert_eq!(records.len(), 3, "each shard holds three of the nine chunks");
    }
    let merged = root.path().join("merged");
    let merge = Command::new(BINARY)
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .expect("merges");
    assert_eq!(merge.status.code(), codes[0], "{}", String::from_utf8_lossy(&merge.stderr));

    let files = report_files(&whole);
    assert!(files.len() > 2, "{files:?}");
    assert_eq!(files, report_files(&merged));
    for name in &files {
        let a = std::fs::read(whole.join(name)).expect("whole");
        let b = std::fs::read(merged.join(name)).expect("merged");
        assert!(a == b, "{} differs between one process and three merged shards", name.display());
    }
    assert_eq!(metrics_without_wall_clock(&whole), metrics_without_wall_clock(&merged));
    assert_eq!(records_without_wall_clock(&whole), records_without_wall_clock(&merged));
}
