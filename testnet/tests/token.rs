//! Business tokens end to end, through the real CLI and real node processes: issue a fixed and a
//! mintable token, transfer, mint and burn, read balances back from every node's API, and get a
//! clear error (non-zero exit, no panic) for an unknown token, a spend over the balance, a mint
//! of a fixed supply, a mint by a non-minter and a malformed issue.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::time::Duration;
use vein_node::api_types::{TokenList, TokenSummary};

#[test]
fn issue_transfer_mint_burn_and_clear_refusals() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);

    // Refused before anything is signed: a malformed issue is a usage error (exit 2).
    let output =
        net.run(&["token", "issue", "--name", "Acme", "--symbol", "acme", "--supply", "5"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr =
        net.cli_fails(&["token", "balance", "--token", &"ab".repeat(32), "--account", "1"]);
    assert!(stderr.contains("unknown token"), "{stderr}");

    let args = ["token", "issue", "--name", "Acme Points", "--symbol", "ACME", "--decimals", "2"];
    let fixed = net.cli(&[&args[..], &["--supply", "100000"]].concat());
    assert_eq!(fixed.len(), 64, "issue printed {fixed:?}");
    assert_eq!(net.cli(&["token", "balance", "--token", &fixed, "--account", "faucet"]), "100000");

    net.cli(&["token", "transfer", "--token", &fixed, "--to", "1", "--amount", "2500"]);
    net.cli(&["token", "burn", "--token", &fixed, "--amount", "500", "--from", "1"]);
    // Every node's ledger holds the same balances (the transfer is final everywhere in time).
    wait_until("every node sees node 1's token balance", Duration::from_secs(60), || {
        (0..4).all(|node| {
            let route = format!("/token/{fixed}/balance/{}", net.manifest().nodes[1].account);
            net.get::<vein_node::api_types::TokenBalance>(node, &route)
                .is_some_and(|answer| answer.balance == 2000)
        })
    });
    let summary: TokenSummary = net.get(2, &format!("/token/{fixed}")).unwrap();
    assert_eq!((summary.total_supply, summary.burned, summary.holders), (99_500, 500, 2));
    assert!(summary.erc20_address.starts_with("0xe20ce20c"), "{}", summary.erc20_address);

    // Clear refusals, nothing sent.
    let stderr = net.cli_fails(&[
        "token", "transfer", "--token", &fixed, "--to", "2", "--amount", "2001", "--from", "1",
    ]);
    assert!(stderr.contains("holds 2000"), "{stderr}");
    let stderr = net.cli_fails(&["token", "mint", "--token", &fixed, "--to", "1", "--amount", "1"]);
    assert!(stderr.contains("fixed supply"), "{stderr}");

    // A token node 1 may mint, up to a cap.
    let mintable = net.cli(&[
        "token",
        "issue",
        "--name",
        "Bonus",
        "--symbol",
        "BNS",
        "--supply",
        "10",
        "--mintable",
        "--cap",
        "100",
        "--from",
        "1",
    ]);
    net.cli(&["token", "mint", "--token", &mintable, "--to", "3", "--amount", "40", "--from", "1"]);
    assert_eq!(net.cli(&["token", "balance", "--token", &mintable, "--account", "3"]), "40");
    let stderr =
        net.cli_fails(&["token", "mint", "--token", &mintable, "--to", "3", "--amount", "1"]);
    assert!(stderr.contains("is minted by its issuer"), "{stderr}");

    let list: TokenList = serde_json::from_str(&net.cli(&["token", "list"])).unwrap();
    assert_eq!(list.total, 2);
    let bonus = list.tokens.iter().find(|token| token.id == mintable).unwrap();
    assert_eq!((bonus.minted, bonus.total_supply, bonus.cap), (40, 50, Some(100)));
}
