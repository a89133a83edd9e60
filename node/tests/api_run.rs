//! `vein-node run` as a process: it starts from a genesis file and a key file, answers `/ready`
//! and `/status`, and turns every kind of bad input into a 4xx JSON error without dying. Its
//! privileged routes (fault injection, transfers it signs) answer only to the bearer token it
//! was given, and it refuses to expose its API beyond loopback without one.

// Test code: panics are the failure report; the wall clock bounds the waits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

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

/// The API token the nodes of these tests are given, unless a test says otherwise.
const TOKEN: &str = "api-run-token-0123456789abcdef0123456789abcdef";

/// One HTTP/1.1 request with the test token; returns (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    http_as(addr, method, path, body, Some(TOKEN))
}

/// One HTTP/1.1 request, with `Authorization: Bearer <token>` when a token is given.
fn http_as(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let authorization =
        token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{authorization}\
         Content-Length: {}\r\n\r\n{body}",
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
/// its API address and its key, funded with 1,000,000 at genesis, with [`TOKEN`] as its API
/// token. `extra` goes to `run`.
fn start(dir: &std::path::Path, extra: &[&str]) -> (Killed, SocketAddr, Keypair) {
    let token_path = dir.join("api-token");
    std::fs::write(&token_path, format!("{TOKEN}\n")).unwrap();
    let token_path = token_path.to_str().unwrap().to_string();
    let mut args = vec!["--api-token-file", token_path.as_str()];
    args.extend_from_slice(extra);
    start_without_token(dir, &args)
}

/// The command line of `vein-node run` for the node of [`start`] (genesis and key written to
/// `dir`), serving its API on `api`, without `--api-token-file`.
fn run_command(dir: &std::path::Path, api: SocketAddr) -> (Command, Keypair) {
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_vein-node"));
    command
        .arg("run")
        .arg("--genesis")
        .arg(&genesis_path)
        .arg("--key")
        .arg(&key_path)
        .args(["--listen", &free_addr().to_string(), "--api", &api.to_string()])
        .arg("--data")
        .arg(dir.join("data"))
        .env_remove("VEIN_API_TOKEN");
    (command, key)
}

/// [`start`] without a token unless `extra` gives one.
fn start_without_token(dir: &std::path::Path, extra: &[&str]) -> (Killed, SocketAddr, Keypair) {
    let api = free_addr();
    let (mut command, key) = run_command(dir, api);
    let child = command.args(extra).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut child = Killed(child);
    wait_ready(&mut child, api);
    (child, api, key)
}

/// Wait until the node answers `/ready` on `api` (failing if it exits or takes over 30 s).
fn wait_ready(child: &mut Killed, api: SocketAddr) {
    let started = Instant::now();
    while http(api, "GET", "/ready", "").is_none_or(|(status, _)| status != 200) {
        assert!(child.0.try_wait().unwrap().is_none(), "the node exited during start-up");
        assert!(started.elapsed() < Duration::from_secs(30), "node not ready in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run `command` until it exits (at most 30 s: a node that keeps running fails the test);
/// returns whether it succeeded and its stderr.
fn run_to_exit(mut command: Command) -> (bool, String) {
    let mut child = Killed(command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the node kept running");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.success(), stderr)
}

/// The JSON error message of an answer.
fn error_of(answer: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(answer).unwrap();
    value["error"].as_str().unwrap().to_string()
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

/// Every privileged request of the API: fault injection and the transfers the node signs.
fn privileged_requests() -> [(&'static str, String); 4] {
    let transfer = format!("{{\"to\": \"{}\", \"amount\": 5}}", "11".repeat(32));
    [
        ("/control/delay", "{\"ms\": 0}".to_string()),
        ("/control/heal", String::new()),
        ("/tx", transfer.clone()),
        ("/txs", format!("{{\"transfers\": [{transfer}]}}")),
    ]
}

#[test]
fn privileged_routes_answer_only_to_the_token_and_the_rest_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, key) = start(dir.path(), &[]);
    // A transaction its sender signed needs no token, alone or in a batch.
    let (_, status) = http_as(api, "GET", "/status", "", None).unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let genesis_id = vein_node::api::parse_hash(status["genesis_id"].as_str().unwrap()).unwrap();
    let to = vein_node::core::crypto::AccountId([0x11; 32]);
    let signed = |nonce: u64| {
        let mut body = common::genesis_transfer(key.account(), to, 5, 1, genesis_id, 1_000);
        body.nonce = nonce;
        hex::encode(body.sign(&key).unwrap().encode().unwrap())
    };
    let body = format!("{{\"tx\": \"{}\"}}", signed(0));
    let (status, answer) = http_as(api, "POST", "/tx", &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let body = format!("{{\"txs\": [\"{}\"]}}", signed(1));
    let (status, answer) = http_as(api, "POST", "/txs", &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"accepted\":1"), "{answer}");
    // Reads need no token.
    let account = format!("/balance/{}", key.account().to_hex());
    for path in ["/", "/ready", "/status", &account, "/txs", "/dag", "/metrics", "/parents"] {
        let (status, answer) = http_as(api, "GET", path, "", None).unwrap();
        assert_eq!(status, 200, "GET {path}: {answer}");
    }
    for (path, body) in privileged_requests() {
        let (status, answer) = http_as(api, "POST", path, &body, None).unwrap();
        assert_eq!(status, 401, "{path} without a token: {answer}");
        let error = error_of(&answer);
        assert!(error.contains("Authorization: Bearer"), "{path}: {error}");
        let (status, answer) = http_as(api, "POST", path, &body, Some(&TOKEN[1..])).unwrap();
        assert_eq!(status, 403, "{path} with a wrong token: {answer}");
        assert!(error_of(&answer).contains("wrong API token"), "{answer}");
        let (status, answer) = http_as(api, "POST", path, &body, Some(TOKEN)).unwrap();
        assert_eq!(status, 200, "{path} with the token: {answer}");
    }
    // The one faucet transfer and the one batched transfer that carried the token, plus the
    // two signed ones: nothing else reached the node.
    let (_, recent) = http(api, "GET", "/txs?limit=100", "").unwrap();
    let recent: serde_json::Value = serde_json::from_str(&recent).unwrap();
    assert_eq!(recent["txs"].as_array().unwrap().len(), 4, "{recent}");
}

#[test]
fn a_transaction_is_listed_as_soon_as_its_submission_is_answered() {
    // The driver answers a submission only after the turn's events reached the telemetry the
    // listing reads: a client that reads right after its answer sees what it submitted.
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let transfer = format!("{{\"to\": \"{}\", \"amount\": 5}}", "11".repeat(32));
    for round in 0..100 {
        let (status, answer) = http(api, "POST", "/tx", &transfer).unwrap();
        assert_eq!(status, 200, "{answer}");
        let accepted: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let (_, recent) = http(api, "GET", "/txs?limit=1", "").unwrap();
        let recent: serde_json::Value = serde_json::from_str(&recent).unwrap();
        assert_eq!(recent["txs"][0]["id"], accepted["id"], "submission {round}: {recent}");
    }
}

#[test]
fn a_node_without_a_token_refuses_privileged_routes_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start_without_token(dir.path(), &[]);
    for (path, body) in privileged_requests() {
        let (status, answer) = http_as(api, "POST", path, &body, Some(TOKEN)).unwrap();
        assert_eq!(status, 401, "{path}: {answer}");
        let error = error_of(&answer);
        assert!(error.contains("started without --api-token-file"), "{path}: {error}");
    }
    assert_eq!(http_as(api, "GET", "/status", "", None).unwrap().0, 200);
}

#[test]
fn the_token_may_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let api = free_addr();
    let (mut command, _key) = run_command(dir.path(), api);
    let child = command.env("VEIN_API_TOKEN", TOKEN).stderr(Stdio::null()).spawn().unwrap();
    let mut child = Killed(child);
    wait_ready(&mut child, api);
    assert_eq!(http_as(api, "POST", "/control/heal", "", Some(TOKEN)).unwrap().0, 200);
    assert_eq!(http_as(api, "POST", "/control/heal", "", None).unwrap().0, 401);
}

#[test]
fn an_api_beyond_loopback_needs_a_token_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_addr().port();
    let everywhere: SocketAddr = format!("0.0.0.0:{port}").parse().unwrap();
    let (command, _key) = run_command(dir.path(), everywhere);
    let (ok, stderr) = run_to_exit(command);
    assert!(!ok, "a node with an open API on 0.0.0.0 started: {stderr}");
    assert!(stderr.contains("not loopback"), "{stderr}");
    assert!(stderr.contains("--api-token-file"), "{stderr}");
    // A token too short to be a secret is refused as well, by name.
    let short = dir.path().join("short-token");
    std::fs::write(&short, "secret\n").unwrap();
    let (mut command, _key) = run_command(dir.path(), everywhere);
    command.arg("--api-token-file").arg(&short);
    let (ok, stderr) = run_to_exit(command);
    assert!(!ok && stderr.contains("short-token"), "{stderr}");
    // With a token it serves on every interface, loopback included.
    let token_path = dir.path().join("api-token");
    std::fs::write(&token_path, TOKEN).unwrap();
    let (mut command, _key) = run_command(dir.path(), everywhere);
    command.arg("--api-token-file").arg(&token_path);
    let mut child = Killed(command.stderr(Stdio::null()).spawn().unwrap());
    let local: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_ready(&mut child, local);
    assert_eq!(http_as(local, "POST", "/control/heal", "", Some(TOKEN)).unwrap().0, 200);
}

/// Send `head` (request line and headers, without the blank line) and `body` from a thread of
/// its own, and read the answer while it writes: the node may answer before it has read the
/// body (or without reading it at all) and close, and what it answered is kept even if the
/// connection then ends in a reset. Returns (status, body).
fn http_raw(addr: SocketAddr, head: &str, body: Vec<u8>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut writer = stream.try_clone().ok()?;
    let request = [format!("{head}\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes(), body];
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&request.concat());
    });
    let mut raw = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..read]);
    }
    drop(stream);
    let _ = sending.join();
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A shard post names its file in the path, so the node checks for the file's contract before
/// it reads the body: a post for a file no contract pays for is answered 404 without the body
/// being read, however large it claims to be. (It was read whole, up to 64 MiB, and decoded
/// first: six parallel 66 MB posts took a node to 750 MB.)
#[test]
fn a_shard_post_for_a_file_without_contract_is_refused_before_its_body_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let path = format!("/shard/{}/0", "ab".repeat(32));
    // Not JSON at all: decoded first, this was a 400 "body is not JSON".
    let (status, answer) = http(api, "POST", &path, "not json at all").unwrap();
    assert_eq!(status, 404, "{answer}");
    assert!(error_of(&answer).contains("no active contract"), "{answer}");
    // 64 MiB announced, 1 KiB sent: answered at once (waiting for the rest, the node would not
    // answer within the client's 5 s).
    let head = format!("POST {path} HTTP/1.1\r\nContent-Length: {}", 64 << 20);
    let (status, answer) = http_raw(api, &head, vec![b'a'; 1024]).unwrap();
    assert_eq!(status, 404, "{answer}");
    assert!(error_of(&answer).contains("no active contract"), "{answer}");
    assert_eq!(http(api, "GET", "/ready", "").unwrap().0, 200);
}

/// The answers axum and the HTTP layer make themselves (a method a route does not take, a
/// body over the limit, an overlong URI) have the API's JSON error shape like every other.
#[test]
fn rejections_of_the_http_layer_are_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let (status, answer) = http(api, "DELETE", "/status", "").unwrap();
    assert_eq!(status, 405, "{answer}");
    assert!(error_of(&answer).contains("/status does not take DELETE"), "{answer}");
    let (status, answer) = http(api, "GET", "/tx", "").unwrap();
    assert_eq!(status, 405, "{answer}");
    assert!(error_of(&answer).contains("/tx does not take GET"), "{answer}");

    // Over the 2 MiB default body limit of POST /tx.
    let body = vec![b' '; (2 << 20) + 4096];
    let head = format!("POST /tx HTTP/1.1\r\nContent-Length: {}", body.len());
    let (status, answer) = http_raw(api, &head, body).unwrap();
    assert_eq!(status, 413, "{answer}");
    assert!(error_of(&answer).contains("limit"), "{answer}");

    let long = format!("/status?pad={}", "a".repeat(vein_node::api::URI_BYTES_MAX));
    let (status, answer) = http(api, "GET", &long, "").unwrap();
    assert_eq!(status, 414, "{answer}");
    assert!(error_of(&answer).contains("URI"), "{answer}");
    assert_eq!(http(api, "GET", "/ready", "").unwrap().0, 200);
}

/// A partition names at most `PARTITION_PEERS_MAX` peers; more is refused and changes nothing
/// (60,000 were taken and grew `/status` to 1.17 MB).
#[test]
fn a_partition_of_too_many_peers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let peers = |count: usize, port: usize| {
        let peers: Vec<String> = (0..count)
            .map(|index| {
                format!("\"10.{}.{}.{}:{port}\"", index >> 16, (index >> 8) & 255, index & 255)
            })
            .collect();
        format!("{{\"peers\": [{}]}}", peers.join(","))
    };
    let (status, answer) = http(api, "POST", "/control/partition", &peers(60_000, 7000)).unwrap();
    assert_eq!(status, 400, "{answer}");
    assert!(error_of(&answer).contains("at most 1024"), "{answer}");
    // Up to the bound in one request, then one more in another: the set would exceed it.
    let max = vein_node::api::PARTITION_PEERS_MAX;
    let (status, answer) = http(api, "POST", "/control/partition", &peers(max, 7000)).unwrap();
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = http(api, "POST", "/control/partition", &peers(1, 7001)).unwrap();
    assert_eq!(status, 400, "{answer}");
    let (_, status) = http(api, "GET", "/status", "").unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["faults"]["blocked"].as_array().unwrap().len(), max);
}

/// A transfer of amount 0 is refused with its own reason, by the faucet route as by admission.
#[test]
fn a_zero_amount_transfer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let body = format!("{{\"to\": \"{}\", \"amount\": 0}}", "11".repeat(32));
    let (status, answer) = http(api, "POST", "/tx", &body).unwrap();
    assert_eq!(status, 422, "{answer}");
    assert!(error_of(&answer).contains("zero_amount"), "{answer}");
}

#[test]
fn consortium_routes_list_publicly_and_read_replicas_only_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let (status, answer) = http_as(api, "GET", "/consortia", "", None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let list: vein_node::api_types::ConsortiumList = serde_json::from_str(&answer).unwrap();
    assert!(list.consortia.is_empty());
    let id = "ab".repeat(32);
    let query = "{\"sql\": \"SELECT 1\", \"at\": 3}";
    let row = "{\"table\": \"t\", \"key\": {\"Integer\": 1}}";
    for (method, path, body) in [
        ("POST", format!("/consortium/{id}/query"), query),
        ("POST", format!("/consortium/{id}/row"), row),
        ("GET", format!("/consortium/{id}/verify"), ""),
    ] {
        let (status, answer) = http_as(api, method, &path, body, None).unwrap();
        assert_eq!(status, 401, "{path} without a token: {answer}");
        let (status, answer) = http(api, method, &path, body).unwrap();
        assert_eq!(status, 404, "{path}: this node keeps no replica: {answer}");
        assert!(error_of(&answer).contains("no replica"), "{answer}");
    }
    let (status, answer) =
        http(api, "POST", &format!("/consortium/{id}/query"), "{\"at\": 1}").unwrap();
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = http(api, "POST", "/consortium/zz/query", query).unwrap();
    assert_eq!(status, 400, "{answer}");
    assert!(dir.path().join("data").join("consortia").is_dir(), "the replica directory exists");
    // Attestations are public (roots are hashes); an unknown consortium is a 404.
    let path = format!("/consortium/{id}/attestations");
    let (status, answer) = http_as(api, "GET", &path, "", None).unwrap();
    assert_eq!(status, 404, "{answer}");
    assert!(error_of(&answer).contains("no such consortium"), "{answer}");
    let (status, metrics) = http_as(api, "GET", "/metrics", "", None).unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("vein_consortium_self_divergences_total 0"), "{metrics}");
    assert!(metrics.contains("vein_consortium_peer_divergences_total 0"), "{metrics}");
}

#[test]
fn learning_task_routes_list_tasks_and_refuse_bad_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let (status, answer) = http(api, "GET", "/fl/tasks", "").unwrap();
    assert_eq!(status, 200, "{answer}");
    let list: vein_node::api_types::FlTaskList = serde_json::from_str(&answer).unwrap();
    assert!(list.tasks.is_empty());
    let (status, answer) = http(api, "GET", &format!("/fl/task/{}", "ab".repeat(32)), "").unwrap();
    assert_eq!(status, 404, "{answer}");
    assert!(error_of(&answer).contains("no learning task"), "{answer}");
    let (status, answer) = http(api, "GET", "/fl/task/zz", "").unwrap();
    assert_eq!(status, 400, "{answer}");
}

/// `POST /sidechain/pin` answers only to the operator's token (a pin overrides fork choice),
/// gives each outcome of `Node::pin_anchor` by name and each refusal its own status with the
/// chain's reason, and leaves the pin in force after a refusal; `GET /sidechain/pin` shows it.
/// The node never mines, so its only checkpoint is genesis, at height 0.
#[test]
fn anchor_pins_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let (_child, api, _key) = start(dir.path(), &[]);
    let (_, status) = http(api, "GET", "/status", "").unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["height"], 0, "{status}");
    let genesis = status["head"].as_str().unwrap().to_string();
    let pin_as = |height: u64, id: &str, token: Option<&str>| {
        let body = format!("{{\"height\": {height}, \"id\": \"{id}\"}}");
        let (code, answer) = http_as(api, "POST", "/sidechain/pin", &body, token).unwrap();
        (code, serde_json::from_str::<serde_json::Value>(&answer).unwrap())
    };
    let pin = |height: u64, id: &str| pin_as(height, id, Some(TOKEN));
    let pins = || {
        let (code, answer) = http_as(api, "GET", "/sidechain/pin", "", None).unwrap();
        assert_eq!(code, 200, "{answer}");
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    assert_eq!(pins()["pinned"], serde_json::Value::Null);

    let (code, answer) = pin_as(0, &genesis, None);
    assert_eq!(code, 401, "{answer}");
    assert_eq!(pins()["pinned"], serde_json::Value::Null, "a refused pin changes nothing");
    let (code, answer) = pin(0, &genesis);
    assert_eq!((code, answer["outcome"].as_str()), (200, Some("pinned")), "{answer}");
    assert_eq!(answer["pins"]["pinned"]["id"], genesis.as_str(), "{answer}");
    let (code, answer) = pin(0, &genesis);
    assert_eq!((code, answer["outcome"].as_str()), (200, Some("unchanged")), "{answer}");

    // Refusals: the pin in force stays.
    let (code, answer) = pin(3, &genesis);
    assert_eq!(code, 422, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("its header is at height 0"), "{answer}");
    let (code, answer) = pin(0, &"ab".repeat(32));
    assert_eq!(code, 409, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("conflicts with the pin"), "{answer}");
    // A header not held yet waits; a second one at its height conflicts with it.
    let (code, answer) = pin(7, &"cd".repeat(32));
    assert_eq!((code, answer["outcome"].as_str()), (200, Some("pending")), "{answer}");
    let (code, answer) = pin(7, &"ef".repeat(32));
    assert_eq!(code, 409, "{answer}");
    let now = pins();
    assert_eq!((now["pinned"]["height"].as_u64(), now["pending"].as_u64()), (Some(0), Some(1)));
    assert_eq!(now["pinned"]["id"], genesis.as_str(), "{now}");

    // Bad bodies are 400s that say what is expected.
    for body in ["{\"height\": 1}", "{\"height\": 1, \"id\": \"zz\"}", "[]", "{\"height\": -1}"] {
        let (code, answer) = http(api, "POST", "/sidechain/pin", body).unwrap();
        assert_eq!(code, 400, "{body}: {answer}");
    }
    let extra = format!("{{\"height\": 0, \"id\": \"{genesis}\", \"force\": true}}");
    let (code, answer) = http(api, "POST", "/sidechain/pin", &extra).unwrap();
    assert_eq!(code, 400, "an unknown field is refused: {answer}");
}
