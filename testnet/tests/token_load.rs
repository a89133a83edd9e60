//! `vein-testnet load --token`: against a real 1-node testnet the faucet issues a token, funds
//! the load accounts with it (and with native coin for the fees), and every token transfer the
//! load got accepted ends applied and final, through the same pacing and finality report as
//! native load. Afterwards the token's supply invariant holds on the node's API: the faucet's
//! and the load accounts' balances sum to `issued + minted − burned`, and each load account
//! holds exactly what the ring of 1-unit transfers leaves it. Bad `--token` values get clear
//! errors before anything is sent.

// Test code: panics are the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Net;
use serde_json::Value;
use vein_node::api_types::{TokenBalance, TokenSummary};
use vein_testnet::load_asset::{NEW_TOKEN_SUPPLY, TOKEN_LOAD_FUNDS};

const ACCOUNTS: usize = 8;
const RATE: u64 = 30;
const DURATION_S: u64 = 3;

fn balance(net: &Net, token: &str, account: &str) -> u64 {
    let route = format!("/token/{token}/balance/{account}");
    net.get::<TokenBalance>(0, &route).unwrap().balance
}

#[test]
fn token_load_applies_every_transfer_and_keeps_the_supply() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);

    // Refused before anything is sent: nodes sign native transfers only, and a token the
    // node does not know is named.
    let output = net.run(&["load", "--token", "new", "--accounts", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = net.cli_fails(&["load", "--token", &"ab".repeat(32), "--accounts", "8"]);
    assert!(stderr.contains("unknown token"), "{stderr}");

    let rate = RATE.to_string();
    let duration = DURATION_S.to_string();
    let accounts = ACCOUNTS.to_string();
    let report = net.cli(&[
        "load",
        "--token",
        "new",
        "--rate",
        &rate,
        "--duration",
        &duration,
        "--settle",
        "90",
        "--concurrency",
        "4",
        "--accounts",
        &accounts,
    ]);
    let report: Value = serde_json::from_str(&report).unwrap();
    let sent = RATE * DURATION_S;
    for (field, expected) in [
        ("refused", 0),
        ("submitted", sent),
        ("applied", sent),
        ("ignored", 0),
        ("final_count", sent),
    ] {
        assert_eq!(report[field], expected, "{field}: {report}");
    }
    assert!(report["final_latency_ms_p50"].as_u64().is_some(), "{report}");
    assert!(report["funding_s"].as_f64().unwrap() > 0.0, "{report}");
    let token = report["token"].as_str().expect("a token load names its token").to_owned();

    // The supply invariant through the API: nothing minted or burned, and every base unit is
    // held by the faucet or a load account.
    let summary: TokenSummary = net.get(0, &format!("/token/{token}")).unwrap();
    assert_eq!((summary.issued, summary.minted, summary.burned), (NEW_TOKEN_SUPPLY, 0, 0));
    assert_eq!(summary.total_supply, NEW_TOKEN_SUPPLY);
    assert_eq!(summary.holders, ACCOUNTS + 1, "{summary:?}");
    let manifest = net.manifest();
    let faucet = balance(&net, &token, &manifest.faucet_account);
    assert_eq!(faucet, NEW_TOKEN_SUPPLY - TOKEN_LOAD_FUNDS * ACCOUNTS as u64);
    let mut held = faucet;
    // Transfer t goes from load account t mod n to the next one, 1 unit each: account i has
    // sent its own count and received its predecessor's.
    let sent_by = |index: usize| (0..sent).filter(|t| *t as usize % ACCOUNTS == index).count();
    for index in 0..ACCOUNTS {
        let account = vein_testnet::load_key(&manifest.chain_id, index).account().to_hex();
        let has = balance(&net, &token, &account);
        let previous = (index + ACCOUNTS - 1) % ACCOUNTS;
        let expected = TOKEN_LOAD_FUNDS + sent_by(previous) as u64 - sent_by(index) as u64;
        assert_eq!(has, expected, "load account {index}");
        held += has;
    }
    assert_eq!(held, summary.total_supply);
}
