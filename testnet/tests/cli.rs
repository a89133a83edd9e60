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
        policy: None,
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
        side: None,
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

/// Run the CLI; returns its exit code and stderr.
fn run_code(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(CLI).arg("--dir").arg(dir).args(args).output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).to_string())
}

/// `up` checks every argument before it plots or writes anything: a wrong one exits 2 (a usage
/// error, as clap's own) and leaves no directory behind. `--interval-ms 0` used to plot every
/// node and then fail, leaving a half-made testnet; `--k 0` was taken.
#[test]
fn up_refuses_bad_arguments_before_making_anything() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let net_dir = net.to_str().unwrap();
    for (args, expected) in [
        (&["--nonces", "1", "--interval-ms", "0"][..], "--interval-ms must be at least 1"),
        (&["--nonces", "1", "--k", "0"], "--k (finality depth) must be at least 1"),
        (&["--nonces", "1", "--nodes", "0"], "--nodes must be 1..=64"),
        (&["--nonces", "0"], "--nonces must be at least 1"),
    ] {
        // The CLI stands in for the node binary: it must never get as far as starting one.
        let mut all = vec!["up", "--node-bin", CLI, "--ready-timeout", "5"];
        all.extend_from_slice(args);
        let (code, stderr) = run_code(&net, &all);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
        assert!(!net.exists(), "{args:?} left {net_dir} behind");
    }
}

/// `fault` checks every setting and every named node before it changes any node: a refused
/// command changes nothing (it used to apply the delay, then fail on the loss, or skip a named
/// node that was not running and report success).
#[test]
fn fault_checks_everything_before_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    stopped_net(dir.path());
    for (args, code, expected) in [
        (&["fault", "--loss-per-mille", "2000"][..], 2, "--loss-per-mille must be at most 1000"),
        (&["fault", "--delay-ms", "60001"], 2, "--delay-ms must be at most 60000"),
        (&["fault", "--node", "1"], 2, "--delay-ms and/or --loss-per-mille is needed"),
        (&["fault", "--delay-ms", "10", "--node", "1"], 1, "node 1 is not running"),
        (&["fault", "--delay-ms", "10", "--node", "7"], 1, "no node 7"),
    ] {
        let (status, stderr) = run_code(dir.path(), args);
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
}

/// `tx` through a node that cannot answer says which node and why, at once (through a paused
/// node it waited 10 s and printed `os error 11`).
#[test]
fn tx_through_a_node_that_cannot_answer_names_it() {
    let dir = tempfile::tempdir().unwrap();
    stopped_net(dir.path());
    let (code, stderr) = run_code(dir.path(), &["tx", "--from", "0", "--to", "1", "--amount", "5"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("node 0 is not running"), "{stderr}");
    let mut manifest = vein_testnet::manifest::Manifest::load(dir.path()).unwrap();
    manifest.nodes[1].paused = true;
    manifest.save().unwrap();
    let args = ["tx", "--from", "faucet", "--to", "0", "--amount", "5", "--via", "1"];
    let (code, stderr) = run_code(dir.path(), &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("node 1 is paused"), "{stderr}");
    let (code, stderr) = run_code(dir.path(), &["tx", "--from", "x", "--to", "0", "--amount", "5"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = run_code(dir.path(), &["tx", "--from", "0", "--to", "1", "--amount", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--amount must be at least 1"), "{stderr}");
}

/// `logs --follow` prints the tail and then follows; for a node that is not running it prints
/// what the log holds and stops at once with a clear line (exit 0), instead of waiting forever.
#[test]
fn logs_follow_stops_when_the_node_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    stopped_net(dir.path());
    std::fs::create_dir_all(dir.path().join("node0")).unwrap();
    std::fs::write(dir.path().join("node0/node.log"), "one\ntwo\nthree\n").unwrap();
    let output = Command::new(CLI)
        .arg("--dir")
        .arg(dir.path())
        .args(["logs", "0", "--lines", "2", "--follow"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, "two\nthree\n");
    assert!(stderr.contains("node 0 is not running; stopped following"), "{stderr}");
    let (code, stderr) = run_code(dir.path(), &["logs", "1", "--follow"]);
    assert_eq!(code, Some(1), "a missing log is an error: {stderr}");
}
