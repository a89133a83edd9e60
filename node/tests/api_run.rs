//! `vein-node run` as a process: it starts from a genesis file and a key file, answers `/ready`
//! and `/status`, and turns every kind of bad input into a 4xx JSON error without dying.

// Test code: panics are the failure report; the wall clock bounds the waits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vein_node::core::crypto::Keypair;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::PocMode;
use vein_node::genesis_file::GenesisFile;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// One HTTP/1.1 request; returns (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A running `vein-node run` (no plots: it never mines, so nothing it accepts is confirmed),
/// its API address and its key, funded with 1,000,000 at genesis. `extra` goes to `run`.
fn start(dir: &std::path::Path, extra: &[&str]) -> (Killed, SocketAddr, Keypair) {
    let key = Keypair::derived("api-run", 0);
    let genesis = Genesis {
        chain_id: "api-run".into(),
        timestamp_ms: 0,
        allocations: vec![(key.account(), 1_000_000)],
        initial_base_target: 1_000,
        poc: PocMode::Real,
        params: Params::default(),
    };
    let genesis_path = dir.join("genesis.json");
    GenesisFile::from_genesis(&genesis).save(&genesis_path).unwrap();
    let key_path = dir.join("key.hex");
    std::fs::write(&key_path, hex::encode(key.seed())).unwrap();
    let (listen, api) = (free_addr(), free_addr());
    let child = Command::new(env!("CARGO_BIN_EXE_vein-node"))
        .arg("run")
        .arg("--genesis")
        .arg(&genesis_path)
        .arg("--key")
        .arg(&key_path)
        .args(["--listen", &listen.to_string(), "--api", &api.to_string()])
        .arg("--data")
        .arg(dir.join("data"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Killed(child);
    let started = Instant::now();
    while http(api, "GET", "/ready", "").is_none_or(|(status, _)| status != 200) {
        assert!(started.elapsed() < Duration::from_secs(30), "node not ready in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, api, key)
}

#[test]
fn run_serves_the_api_and_refuses_bad_input_with_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, key) = start(dir.path(), &[]);
    let (status, body) = http(api, "GET", "/status", "").unwrap();
    assert_eq!(status, 200);
    let status_json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_json["account"], key.account().to_hex());
    assert_eq!(status_json["balance"], 1_000_000);

    let long_id = format!("/unit/{}", "ab".repeat(32));
    let unknown_ids = format!("{{\"ids\": [\"{}\"]}}", "ab".repeat(32));
    let too_many_ids = format!("{{\"ids\": [{}]}}", vec!["\"00\""; 10_001].join(","));
    let cases: [(&str, &str, &str, u16); 21] = [
        ("POST", "/tx", "not json", 400),
        ("POST", "/tx", "{\"tx\": \"zz\"}", 400),
        ("POST", "/tx", "{\"tx\": \"00ff\"}", 400),
        ("POST", "/tx", "{\"to\": \"00\", \"amount\": 1}", 400),
        ("POST", "/tx", &format!("{{\"to\": \"{}\", \"amount\": 5000000}}", "11".repeat(32)), 422),
        ("GET", "/unit/xyz", "", 400),
        ("GET", &long_id, "", 404),
        ("GET", "/checkpoints?limit=-1", "", 400),
        ("POST", "/control/loss", "{\"per_mille\": 2000}", 400),
        ("GET", "/parents?count=0", "", 400),
        ("GET", "/parents?count=10001", "", 400),
        ("GET", "/parents?count=x", "", 400),
        ("POST", "/units", "not json", 400),
        ("POST", "/units", "{}", 400),
        ("POST", "/units", "{\"ids\": \"ab\"}", 400),
        ("POST", "/units", "{\"ids\": [7]}", 400),
        ("POST", "/units", "{\"ids\": [\"zz\"]}", 400),
        ("POST", "/units", &too_many_ids, 400),
        ("POST", "/txs", "{\"txs\": [\"00ff\"]}", 400),
        ("POST", "/txs", "{\"txs\": [1]}", 400),
        ("POST", "/txs", "{\"txs\": \"00\"}", 400),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = http(api, method, path, body).unwrap();
        assert_eq!(status, expected, "{method} {path} {body}: {answer}");
        let error: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert!(error["error"].is_string(), "{answer}");
    }
    // Parent pairs for a wallet: distinct draws on the genesis-only DAG name genesis twice.
    let (status, answer) = http(api, "GET", "/parents?count=3", "").unwrap();
    assert_eq!(status, 200, "{answer}");
    let parents: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let pairs = parents["parents"].as_array().unwrap();
    assert_eq!(pairs.len(), 3, "{answer}");
    assert!(pairs.iter().all(|pair| pair.as_array().unwrap().len() == 2), "{answer}");
    // A batch status of an id the node does not hold is null, not an error.
    let (status, answer) = http(api, "POST", "/units", &unknown_ids).unwrap();
    assert_eq!(status, 200, "{answer}");
    let units: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(units["units"], serde_json::json!([null]), "{answer}");
    let (status, metrics) = http(api, "GET", "/metrics", "").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("vein_height 0"), "{metrics}");
    // Still alive after all of it.
    assert_eq!(http(api, "GET", "/ready", "").unwrap().0, 200);
}

#[test]
fn parents_answer_busy_past_the_backlog_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &["--parents-backlog-max", "2"]);
    let (status, answer) = http(api, "GET", "/parents?count=1", "").unwrap();
    assert_eq!(status, 200, "{answer}");
    // The node never mines, so every transfer it signs stays unconfirmed: the third one puts
    // its backlog over the bound of 2.
    let transfer = format!("{{\"to\": \"{}\", \"amount\": 5}}", "11".repeat(32));
    for count in 1..=3 {
        let (status, answer) = http(api, "POST", "/tx", &transfer).unwrap();
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = http(api, "GET", "/parents?count=1", "").unwrap();
        if count <= 2 {
            assert_eq!(status, 200, "after {count}: {answer}");
        } else {
            assert_eq!(status, 503, "after {count}: {answer}");
            let error: serde_json::Value = serde_json::from_str(&answer).unwrap();
            let text = error["error"].as_str().unwrap();
            assert!(text.contains("busy: 3 unconfirmed units (over 2)"), "{text}");
        }
    }
    // A bad value is refused by the command line, not at run time.
    let output = Command::new(env!("CARGO_BIN_EXE_vein-node"))
        .args(["run", "--parents-backlog-max", "many"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--parents-backlog-max"));
}
