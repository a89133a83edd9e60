//! The Ethereum JSON-RPC driven by a real client: a one-node testnet, the deployer's EVM
//! address funded from the faucet by a native transfer, then `testnet/eth/ethers-test.mjs`
//! (ethers v6 from package-lock.json) deploys the ERC-20 and the escrow of `contracts/`,
//! transfers, waits for receipts, reads balances and filters logs. A business token issued by
//! `vein-testnet token` is driven by `testnet/eth/token-view-test.mjs` as a standard ERC-20 at
//! its `erc20_address`. Also: the committed contract build is what the pinned solc-js makes of
//! the sources.
//!
//! Needs `node` and `testnet/eth/node_modules` (`npm ci --prefix testnet/eth`; `./just test`
//! and `.ci/run` run it). Without them the tests fail when `CI` or `VEIN_REQUIRE_NODE` is set
//! and otherwise skip with a loud message.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use vein_node::api_types;
use vein_testnet::http;

/// The ethers test's deployer: the key 0x…01's address, as the native account holding its
/// balance (12 zero bytes, then the address; docs/evm.md).
const DEPLOYER_ACCOUNT: &str = "0000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf";
/// 10 ether in native units (gwei).
const FUNDING: u64 = 10_000_000_000;

fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("eth")
}

/// `node` and the package's modules, or `None` after failing (required) or announcing a skip.
fn node_ready() -> Option<()> {
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let modules = package_dir().join("node_modules").join("ethers").is_dir();
    if node && modules {
        return Some(());
    }
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("VEIN_REQUIRE_NODE").is_some();
    let missing =
        if node { "testnet/eth/node_modules (npm ci --prefix testnet/eth)" } else { "node" };
    assert!(!required, "{missing} is required (CI or VEIN_REQUIRE_NODE is set) but missing");
    eprintln!(
        "\n!!!!! SKIPPED: the ethers test needs {missing}; set VEIN_REQUIRE_NODE=1 to fail !!!!!\n"
    );
    None
}

#[test]
fn the_committed_contract_build_is_what_the_pinned_solc_makes_of_the_sources() {
    if node_ready().is_none() {
        return;
    }
    let output = Command::new("node")
        .arg("compile.mjs")
        .arg("--check")
        .current_dir(package_dir())
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "contracts/build differs from the sources: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Fund the deployer's account with native units from the faucet and wait until it holds them.
fn fund_deployer(net: &Net, api: std::net::SocketAddr) {
    net.cli(&[
        "tx",
        "--from",
        "faucet",
        "--to",
        DEPLOYER_ACCOUNT,
        "--amount",
        &FUNDING.to_string(),
    ]);
    let balance = || {
        http::get::<api_types::AccountBalance>(api, &format!("/balance/{DEPLOYER_ACCOUNT}"))
            .map_or(0, |answer| answer.balance)
    };
    wait_until("the deployer funded", Duration::from_secs(60), || balance() == FUNDING);
}

/// Run `script` in the package with `env`; it must exit 0 after printing "all steps passed".
fn run_script(script: &str, env: &[(&str, String)]) {
    let output = Command::new("node")
        .arg(script)
        .current_dir(package_dir())
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("all steps passed"),
        "{script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn ethers_deploys_an_erc20_and_the_escrow_transfers_and_filters_logs() {
    if node_ready().is_none() {
        return;
    }
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"]);
    let api = net.manifest().nodes[0].api;
    fund_deployer(&net, api);
    run_script("ethers-test.mjs", &[("VEIN_RPC", format!("http://{api}/rpc"))]);
}

#[test]
fn ethers_sees_a_business_token_as_an_erc20_transfers_filters_and_reverts() {
    if node_ready().is_none() {
        return;
    }
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"]);
    let api = net.manifest().nodes[0].api;
    let args = ["token", "issue", "--name", "Acme Points", "--symbol", "ACME", "--decimals", "2"];
    let token = net.cli(&[&args[..], &["--supply", "1000000"]].concat());
    // The wallet's share moves from the issuer (the faucet) to the key 0x…01's mapped account.
    let held = "250000";
    net.cli(&["token", "transfer", "--token", &token, "--to", DEPLOYER_ACCOUNT, "--amount", held]);
    fund_deployer(&net, api);
    run_script(
        "token-view-test.mjs",
        &[
            ("VEIN_API", format!("http://{api}")),
            ("VEIN_TOKEN", token.clone()),
            ("VEIN_TOKEN_HELD", held.to_string()),
        ],
    );
    // The script's transfer, as the native side sees it: the recipient's mapped account (key
    // 0x…02's address) holds what ethers sent, and the holder the rest.
    let recipient = "0000000000000000000000002b5ad5c4795c026514f8317c7a215e218dccd6cf";
    let balance =
        |account: &str| net.cli(&["token", "balance", "--token", &token, "--account", account]);
    assert_eq!(balance(recipient), "12345");
    assert_eq!(balance(DEPLOYER_ACCOUNT), "237655");
}
