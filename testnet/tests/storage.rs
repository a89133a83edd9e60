//! Storage end to end, through the real CLI and real node processes: `put` a ~100 KiB file on a
//! 4-node testnet, `get` it back byte-identical; the holders' disks never see the plaintext; kill
//! a shard holder and `get` still recovers it from the others; kill holders until fewer than k
//! shards are reachable and `get` fails with a clear error, as do an unknown id and a missing file.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Output};
use vein_testnet::http;
use vein_testnet::manifest::Manifest;

const CLI: &str = env!("CARGO_BIN_EXE_vein-testnet");

/// Newest modification time of any file under `dir`.
fn newest_mtime(dir: &Path) -> std::time::SystemTime {
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
fn build_node_binary() {
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
struct Net {
    dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new(CLI).arg("--dir").arg(self.dir.path()).arg("down").output();
    }
}

impl Net {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(CLI).arg("--dir").arg(self.dir.path()).args(args).output().expect("run CLI")
    }

    /// Run a command that must succeed; returns (stdout, stderr).
    fn cli(&self, args: &[&str]) -> (String, String) {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "vein-testnet {args:?} failed: {stderr}");
        (String::from_utf8_lossy(&output.stdout).trim().to_string(), stderr)
    }

    /// Run a command that must fail; returns its stderr.
    fn cli_fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(!output.status.success(), "vein-testnet {args:?} should have failed");
        assert!(!stderr.contains("panicked"), "vein-testnet {args:?} panicked: {stderr}");
        stderr
    }

    fn manifest(&self) -> Manifest {
        Manifest::load(self.dir.path()).expect("manifest")
    }
}

/// Seeded pseudo-random bytes (xorshift64): incompressible content, same on every run.
fn content(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn put_get_and_survive_a_lost_holder() {
    build_node_binary();
    let net = Net { dir: tempfile::tempdir().unwrap() };
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "6"]);
    let work = tempfile::tempdir().unwrap();
    let plaintext = content(100 * 1024 + 17, 0x5eed);
    let input = work.path().join("input.bin");
    std::fs::write(&input, &plaintext).unwrap();

    // Clear errors before anything is stored.
    let missing = work.path().join("no-such-file");
    let stderr = net.cli_fails(&["put", missing.to_str().unwrap()]);
    assert!(stderr.contains("file not found"), "{stderr}");
    let stderr = net.cli_fails(&["get", &"ab".repeat(32), "--out", "/dev/null"]);
    assert!(stderr.contains("unknown file id"), "{stderr}");

    // n = 4 over 5 storage accounts (4 nodes and the faucet), k = 2.
    let (file_id, put_log) = net.cli(&["put", input.to_str().unwrap(), "--n", "4", "--k", "2"]);
    assert_eq!(file_id.len(), 64, "put printed {file_id:?}; log: {put_log}");
    assert!(net.dir.path().join("files").join(format!("{file_id}.key")).exists());

    let out = work.path().join("out.bin");
    let (_, get_log) = net.cli(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(std::fs::read(&out).unwrap() == plaintext, "first get differs; log: {get_log}");

    // The holders keep ciphertext only: no 64-byte piece of the plaintext is on their disks.
    let manifest = net.manifest();
    let mut holders = Vec::new();
    let contract = http::get(manifest.nodes[0].api, &format!("/contract/{file_id}")).unwrap();
    let assigned: Vec<String> = contract["storage_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account.as_str().unwrap().to_string())
        .collect();
    for (shard, account) in assigned.iter().enumerate() {
        if let Some(node) = manifest.nodes.iter().find(|node| &node.account == account) {
            let answer = http::get(node.api, &format!("/shard/{file_id}/{shard}"));
            assert!(answer.is_ok(), "node {} does not serve shard {shard}", node.index);
            holders.push(node.index);
            let log = std::fs::read(node.data.join("shards.log")).unwrap();
            for piece in plaintext.chunks(64).take(16) {
                assert!(!log.windows(piece.len()).any(|window| window == piece));
            }
        }
    }
    assert!(holders.len() >= 3, "holders {holders:?} of {assigned:?}");

    // A holder refuses bytes that do not match the contract, and a node refuses a shard that is
    // not assigned to it: nobody makes a node keep (and prove) what no contract pays for.
    let holder = &manifest.nodes[holders[0]];
    let shard = assigned.iter().position(|account| *account == holder.account).unwrap();
    let route = format!("/shard/{file_id}/{shard}");
    let served = http::get(holder.api, &route).unwrap();
    let mut bytes = hex::decode(served["shard"].as_str().unwrap()).unwrap();
    bytes[100] ^= 0xff;
    let corrupt = serde_json::json!({ "shard": hex::encode(&bytes) });
    let refused = http::post(holder.api, &route, &corrupt).unwrap_err().to_string();
    assert!(refused.contains("422"), "{refused}");
    bytes[100] ^= 0xff;
    let other = manifest.nodes.iter().find(|node| node.index != holder.index).unwrap();
    let original = serde_json::json!({ "shard": hex::encode(&bytes) });
    let misplaced = http::get(other.api, &route).is_err();
    let refused = http::post(other.api, &route, &original).unwrap_err().to_string();
    assert!(misplaced && refused.contains("409"), "{refused}");

    // Lose one holder: any two of the others still recover the file.
    let lost = holders[0].to_string();
    net.cli(&["kill", &lost]);
    std::fs::remove_file(&out).unwrap();
    let (_, get_log) = net.cli(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(std::fs::read(&out).unwrap() == plaintext, "get after a kill differs: {get_log}");
    assert!(get_log.contains("not running"), "the lost shard is reported: {get_log}");

    // Below k: a clear error, no output file.
    for holder in &holders[1..holders.len() - 1] {
        net.cli(&["kill", &holder.to_string()]);
    }
    std::fs::remove_file(&out).unwrap();
    let stderr = net.cli_fails(&["get", &file_id, "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("only 1 intact shard(s)"), "{stderr}");
    assert!(!out.exists());
    net.cli(&["down"]);
}
