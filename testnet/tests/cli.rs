//! The CLI's error paths: no testnet, a corrupt manifest, unknown nodes and bad partitions give
//! one clear line on stderr and a non-zero exit, never a panic.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const CLI: &str = env!("CARGO_BIN_EXE_vein-testnet");

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(CLI).arg("--dir").arg(dir).args(args).output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).to_string())
}

#[test]
fn errors_are_clear_and_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = run(dir.path(), &["status"]);
    assert!(!ok);
    assert!(stderr.contains("no testnet"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    std::fs::write(dir.path().join("testnet.json"), "{ broken").unwrap();
    let (ok, stderr) = run(dir.path(), &["kill", "0"]);
    assert!(!ok);
    assert!(stderr.contains("corrupt"), "{stderr}");

    let (ok, stderr) = run(dir.path(), &["up", "--node-bin", "/nonexistent/vein-node"]);
    assert!(!ok);
    assert!(stderr.contains("already exists"), "{stderr}");

    std::fs::remove_file(dir.path().join("testnet.json")).unwrap();
    let (ok, stderr) = run(dir.path(), &["up", "--node-bin", "/nonexistent/vein-node"]);
    assert!(!ok);
    assert!(stderr.contains("cannot find the vein-node binary"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_teaches_by_example() {
    let output = Command::new(CLI).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(text.contains("vein-testnet up --nodes 4"), "{text}");
    assert!(text.contains("partition 0,1|2,3"), "{text}");
}
