//! What the testnet's end-to-end tests share: making sure the `vein-node` binary is current, and
//! a testnet in a temporary directory that is brought down when the test ends.

// Each test binary uses a different part of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use vein_testnet::http;
use vein_testnet::manifest::Manifest;

pub const CLI: &str = env!("CARGO_BIN_EXE_vein-testnet");

/// Newest modification time of any file under `dir`.
pub fn newest_mtime(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(newest)
        };
        newest = newest.max(time);
    }
    newest
}

/// Make sure the `vein-node` binary next to the CLI is current (cargo builds only this crate's
/// binaries for its tests). A workspace test run has built it already: rebuilding then could
/// re-resolve features and recompile dependencies for minutes, so build only when it is
/// missing or older than the node's sources.
pub fn build_node_binary() {
    let cli = Path::new(CLI);
    let profile_dir = cli.parent().unwrap();
    let binary = profile_dir.join("vein-node");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node");
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    if built.is_some_and(|built| built >= newest_mtime(&sources.join("src"))) {
        return;
    }
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let target_dir = profile_dir.parent().unwrap();
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "vein-node", "--bin", "vein-node", "--profile", &profile])
        .env("CARGO_TARGET_DIR", target_dir)
        .status()
        .expect("run cargo");
    assert!(status.success(), "building vein-node failed");
}

/// A testnet that is brought down when the test ends, pass or fail.
pub struct Net {
    pub dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new(CLI).arg("--dir").arg(self.dir.path()).arg("down").output();
    }
}

impl Net {
    /// A testnet directory (nothing started yet), with a current `vein-node` binary.
    pub fn new() -> Net {
        build_node_binary();
        Net { dir: tempfile::tempdir().unwrap() }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(CLI).arg("--dir").arg(self.dir.path()).args(args).output().expect("run CLI")
    }

    /// Run a command that must succeed; returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        self.cli_with_log(args).0
    }

    /// Run a command that must succeed; returns (stdout, stderr).
    pub fn cli_with_log(&self, args: &[&str]) -> (String, String) {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "vein-testnet {args:?} failed: {stderr}");
        (String::from_utf8_lossy(&output.stdout).trim().to_string(), stderr)
    }

    /// Run a command that must fail; returns its stderr.
    pub fn cli_fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(!output.status.success(), "vein-testnet {args:?} should have failed");
        assert!(!stderr.contains("panicked"), "vein-testnet {args:?} panicked: {stderr}");
        stderr
    }

    pub fn manifest(&self) -> Manifest {
        Manifest::load(self.dir.path()).expect("manifest")
    }

    /// `GET path` on node `node`'s API; `None` when the node does not answer (or not as `T`).
    pub fn get<T: serde::de::DeserializeOwned>(&self, node: usize, path: &str) -> Option<T> {
        http::get(self.manifest().nodes[node].api, path).ok()
    }
}

/// Poll `done` every 200 ms until it holds; fail naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("[{:>5.1}s] {what}", started.elapsed().as_secs_f64());
}
