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

/// A manifest of two stopped nodes (no processes), for the error paths of the new commands.
fn stopped_net(dir: &std::path::Path) {
    use vein_testnet::manifest::{MANIFEST_VERSION, Manifest, NodeEntry};
    let node = |index: usize| NodeEntry {
        index,
        account: format!("{index:02}").repeat(32),
        listen: format!("127.0.0.1:{}", 1 + index).parse().unwrap(),
        api: format!("127.0.0.1:{}", 11 + index).parse().unwrap(),
        dir: dir.join(format!("node{index}")),
        key: dir.join(format!("node{index}/key.hex")),
        data: dir.join(format!("node{index}/data")),
        plots: dir.join(format!("node{index}/plots")),
        log: dir.join(format!("node{index}/node.log")),
        pid: None,
        paused: false,
    };
    Manifest {
        version: MANIFEST_VERSION,
        chain_id: "vein-testnet-cli".into(),
        dir: dir.to_path_buf(),
        genesis: dir.join("genesis.json"),
        node_bin: "/nonexistent/vein-node".into(),
        faucet_account: "ff".repeat(32),
        faucet_key: dir.join("faucet.key"),
        api_token: None,
        nodes: vec![node(0), node(1)],
    }
    .save()
    .unwrap();
}

#[test]
fn pause_resume_and_link_faults_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = run(dir.path(), &["pause", "0"]);
    assert!(!ok && stderr.contains("no testnet"), "{stderr}");
    stopped_net(dir.path());
    let cases: [(&[&str], &str); 10] = [
        (&["pause", "0"], "node 0 is not running"),
        (&["resume", "1"], "node 1 is not running"),
        (&["pause", "2"], "no node 2"),
        (&["resume", "9"], "no node 9"),
        (&["delay", "0", "1", "--ms", "50"], "node 0 is not running"),
        (&["delay", "0", "5", "--ms", "50"], "no node 5"),
        (&["delay", "1", "1", "--ms", "50"], "two nodes"),
        (&["loss", "0", "1", "--percent", "101"], "--percent must be in 0..=100"),
        (&["loss", "0", "1", "--percent", "lots"], "invalid value"),
        (&["delay", "0", "1"], "--ms"),
    ];
    for (args, expected) in cases {
        let (ok, stderr) = run(dir.path(), args);
        assert!(!ok, "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    std::fs::write(dir.path().join("testnet.json"), "[1, 2").unwrap();
    for args in [&["resume", "0"][..], &["loss", "0", "1", "--percent", "5"]] {
        let (ok, stderr) = run(dir.path(), args);
        assert!(!ok && stderr.contains("corrupt"), "{args:?}: {stderr}");
    }
}

#[test]
fn load_refuses_bad_options_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    stopped_net(dir.path());
    for (args, expected) in [
        (&["load", "--rate", "0"][..], "--rate"),
        (&["load", "--rate", "10", "--concurrency", "0"], "--concurrency"),
        (&["load", "--rate", "10", "--batch", "20000"], "--batch"),
        (&["load", "--rate", "10", "--accounts", "1"], "--accounts 1"),
        (&["load", "--rate", "10", "--accounts", "5000"], "--accounts"),
        (&["load", "--rate", "10"], "no running"),
    ] {
        let (ok, stderr) = run(dir.path(), args);
        assert!(!ok, "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
}
