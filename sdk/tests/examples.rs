//! The SDK's examples against a real testnet: four `vein-node` processes started through the
//! testnet library (keys, genesis, real plots), then each example binary run as a user would
//! run it, and what it claims checked independently through the API: the transfer is final
//! and the recipient holds the amount; the stored file reads back byte-equal with the owner
//! key it printed; the consortium's member replica holds the row; the contract has code and
//! the deployer's `balanceOf` is the supply. A business token is issued and moved through the
//! SDK directly. A bad argument exits non-zero with a message.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use vein_sdk::storage::Holders;
use vein_sdk::vein_node::api_types::{self, ConsortiumQuery, ConsortiumQueryAnswer};
use vein_sdk::vein_node::core::consortium::Value;
use vein_sdk::vein_node::core::crypto::Keypair;
use vein_sdk::vein_node::core::storage::OwnerKey;
use vein_sdk::vein_node::core::token::{IssueToken, SupplyRule};
use vein_sdk::{Client, parse_hash};
use vein_testnet::manifest::Manifest;

/// `target/<profile>/`: the test runs from its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

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

/// Build `args` with cargo into this test's target directory unless every one of `binaries`
/// is newer than every file under `sources` (a workspace run has built them already). Cargo
/// relinks only what changed, so one build brings all of them up to date.
fn build_if_stale(binaries: &[PathBuf], sources: &[PathBuf], args: &[&str]) {
    let newest = sources.iter().map(|dir| newest_mtime(dir)).max().unwrap();
    let current = binaries.iter().all(|binary| {
        let built = std::fs::metadata(binary).and_then(|m| m.modified()).ok();
        built.is_some_and(|built| built >= newest)
    });
    if current {
        return;
    }
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(other) => other.to_string(),
    };
    let status = Command::new(env!("CARGO"))
        .arg("build")
        .args(args)
        .args(["--profile", &profile])
        .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap())
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo build {args:?} failed");
}

/// The example binaries and `vein-node`, current.
fn build_binaries() {
    let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let node = sdk.join("../node/src");
    let node_bin = [profile_dir().join("vein-node")];
    build_if_stale(
        &node_bin,
        std::slice::from_ref(&node),
        &["-p", "vein-node", "--bin", "vein-node"],
    );
    let examples = ["transfer", "store_file", "consortium", "deploy_contract"]
        .map(|name| profile_dir().join("examples").join(name));
    let sources = [sdk.join("src"), sdk.join("examples"), node];
    build_if_stale(&examples, &sources, &["-p", "vein-sdk", "--examples"]);
}

/// A testnet that is brought down when the test ends, pass or fail.
struct Net {
    manifest: Manifest,
    _dir: tempfile::TempDir,
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = vein_testnet::down(&mut self.manifest, false);
    }
}

impl Net {
    fn up(nodes: usize) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let options = vein_testnet::UpOptions {
            dir: dir.path().join("net"),
            nodes,
            nonces: 16,
            target_interval_ms: 1_000,
            finality_depth: 2,
            label: None,
            node_bin: Some(profile_dir().join("vein-node")),
            ready_timeout: Duration::from_secs(120),
            attackers: Vec::new(),
            attacker_nonces: None,
        };
        let manifest = vein_testnet::up(&options).expect("testnet up");
        Net { manifest, _dir: dir }
    }

    fn api(&self, index: usize) -> std::net::SocketAddr {
        self.manifest.nodes[index].api
    }

    fn token(&self) -> String {
        let path = self.manifest.api_token.clone().expect("the testnet writes a token");
        std::fs::read_to_string(path).unwrap().trim().to_string()
    }
}

/// Run example `name` with `args`; returns its output, whatever its exit.
fn example(name: &str, args: &[&str]) -> Output {
    Command::new(profile_dir().join("examples").join(name))
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("run example {name}: {error}"))
}

/// Run example `name`, which must succeed; returns its stdout.
fn example_ok(name: &str, args: &[&str]) -> String {
    let output = example(name, args);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "example {name} failed:\n{stdout}\n{stderr}");
    eprintln!("--- {name}\n{stdout}");
    stdout
}

/// The word after `prefix` on the line of `stdout` that starts with it.
fn field<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{stdout}"))
}

/// Deterministic bytes of length `len` (not compressible, not all one value).
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

#[test]
fn every_example_does_what_it_says_on_a_real_testnet() {
    build_binaries();
    let net = Net::up(4);
    let node = net.api(0).to_string();
    let client = Client::new(net.api(0)).with_token(Some(net.token()));
    let faucet = net.manifest.faucet_key.to_str().unwrap().to_string();

    // A transfer to a fresh account: final, applied, and the recipient holds the amount.
    let recipient = Keypair::derived("vein-sdk examples test", 1).account();
    let args = ["--node", &node, "--key-file", &faucet, "--to", &recipient.to_hex()];
    let stdout = example_ok("transfer", &[&args[..], &["--amount", "12345"]].concat());
    let id = parse_hash(field(&stdout, "sent transfer ")).unwrap();
    let unit = client.unit(&id).unwrap().expect("the node holds the transfer");
    assert!(unit.is_final, "{unit:?}");
    assert_eq!(unit.outcome, Some(api_types::Outcome::Applied));
    assert_eq!(client.balance(&recipient).unwrap().balance, 12_345);

    // A business token (no example of its own): issued, then moved with `token_transfer`.
    let faucet_key = vein_sdk::load_key(&net.manifest.faucet_key).unwrap();
    let issue = IssueToken {
        name: "SDK Test Token".into(),
        symbol: "SDKT".into(),
        decimals: 2,
        initial_supply: 10_000,
        supply: SupplyRule::Fixed,
    };
    let (token, issued) = client.issue_token(&faucet_key, issue, 1).unwrap();
    client.wait_final(&issued.id, Duration::from_secs(60)).unwrap();
    let moved = client.token_transfer(&faucet_key, &token, &recipient, 250, 1).unwrap();
    client.wait_final(&moved.id, Duration::from_secs(60)).unwrap();
    assert_eq!(client.token_balance(&token, &recipient).unwrap().balance, 250);
    assert_eq!(client.token_balance(&token, &faucet_key.account()).unwrap().balance, 9_750);

    // A file over three of the four nodes, k = 2: read back here with the key it printed.
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("input.bin");
    let output = work.path().join("output.bin");
    let plaintext = content(50 * 1024 + 3, 0x5d4);
    std::fs::write(&input, &plaintext).unwrap();
    let holders: Vec<String> = (0..4).map(|index| net.api(index).to_string()).collect();
    let mut args = vec!["--node", &node, "--key-file", &faucet];
    let genesis = net.manifest.genesis.to_str().unwrap().to_string();
    args.extend(["--genesis", &genesis, "--file", input.to_str().unwrap()]);
    args.extend(["--out", output.to_str().unwrap(), "--k", "2", "--n", "3"]);
    for holder in &holders {
        args.extend(["--holder", holder]);
    }
    let stdout = example_ok("store_file", &args);
    assert_eq!(std::fs::read(&output).unwrap(), plaintext, "the example's own read-back");
    let file_id = parse_hash(field(&stdout, "stored 51203 bytes as file ")).unwrap();
    let owner_key: [u8; 32] =
        hex::decode(field(&stdout, "owner key ")).unwrap().try_into().unwrap();
    let apis: Vec<_> = (0..4).map(|index| net.api(index)).collect();
    let holders: Holders = Client::holders(&apis).unwrap();
    let read = client.fetch_file(&file_id, &OwnerKey(owner_key), &holders).unwrap();
    assert!(read == plaintext, "the file read back through the API differs");
    let (contract, _) = client.contract(&file_id).unwrap().expect("an active contract");
    assert_eq!(contract.storage_nodes.len(), 3);

    // A consortium with node 0 as its member: its replica holds the row.
    let token_file = net.manifest.api_token.clone().unwrap();
    let member_key = net.manifest.nodes[0].key.to_str().unwrap().to_string();
    let stdout = example_ok(
        "consortium",
        &[
            "--node",
            &node,
            "--token-file",
            token_file.to_str().unwrap(),
            "--key-file",
            &faucet,
            "--member-key-file",
            &member_key,
            "--id",
            "7",
            "--body",
            "checked by the test",
        ],
    );
    let consortium = parse_hash(field(&stdout, "created consortium ")).unwrap();
    assert_eq!(client.consortium(&consortium).unwrap().summary.actions, 1);
    let query = ConsortiumQuery { sql: "SELECT id, body FROM notes".into(), at: None };
    let answer: ConsortiumQueryAnswer =
        client.post(&format!("/consortium/{consortium}/query"), &query).unwrap();
    assert_eq!(
        answer.rows,
        vec![vec![Value::Integer(7), Value::Text("checked by the test".into())]]
    );

    // An ERC-20 deployed from a wallet funded by the faucet: code, and the supply minted.
    let stdout = example_ok(
        "deploy_contract",
        &[
            "--node",
            &node,
            "--eth-key",
            &"11".repeat(32),
            "--fund-key-file",
            &faucet,
            "--supply",
            "4242",
        ],
    );
    let contract = field(&stdout, "deployed SDK at ").to_string();
    let wallet = field(&stdout, "wallet ").to_string();
    assert!(!client.eth_code(&contract).unwrap().is_empty(), "no code at {contract}");
    let mut call = vec![0x70, 0xa0, 0x82, 0x31];
    call.extend_from_slice(&[0u8; 12]);
    call.extend_from_slice(&hex::decode(wallet.trim_start_matches("0x")).unwrap());
    let balance = client.eth_call(&contract, &call).unwrap();
    let mut expected = [0u8; 32];
    expected[24..].copy_from_slice(&4242u64.to_be_bytes());
    assert_eq!(balance, expected, "balanceOf the deployer");

    // A bad argument: exit 1 with the reason, no panic.
    let output = example(
        "transfer",
        &["--node", &node, "--key-file", &faucet, "--to", "zz", "--amount", "1"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: --to"), "{stderr}");
}
