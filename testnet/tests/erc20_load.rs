//! `vein-testnet erc20-load` on a real one-node testnet at a low rate: it funds its EVM senders,
//! deploys the shipped ERC-20, gives the senders tokens, sends paced EIP-1559 transfers through
//! `eth_sendRawTransaction`, and every one it got accepted ends with a successful receipt at a
//! final height; the native phase runs in the same command and both phases report the nodes'
//! CPU. Waits are bounded by `--settle`, not timed.

// Test code: panics are the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Net;
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn erc20_load_applies_and_finalizes_every_transfer_and_reports_cpu() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"]);
    let artifact = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../contracts/build/VeinToken.json")
        .display()
        .to_string();
    let report = net.cli(&[
        "erc20-load",
        "--rate",
        "6",
        "--duration",
        "3",
        "--settle",
        "90",
        "--senders",
        "2",
        "--concurrency",
        "2",
        "--native-rate",
        "6",
        "--idle-s",
        "1",
        "--artifact",
        &artifact,
    ]);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["offered"], 18, "{report}");
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["submitted"], 18, "{report}");
    assert_eq!(report["applied"], 18, "{report}");
    assert_eq!(report["reverted"], 0, "{report}");
    assert_eq!(report["final_count"], 18, "{report}");
    assert!(report["final_latency_ms_p50"].as_u64().is_some(), "{report}");
    // A transfer between holders: about 35,000 gas, well under the 100,000 limit signed.
    let gas = report["gas_per_transfer_p50"].as_u64().unwrap();
    assert!((21_000..100_000).contains(&gas), "{report}");
    assert!(report["erc20_cpu"]["cpu_ms_per_transfer"].as_f64().is_some(), "{report}");
    let native = &report["native"];
    assert_eq!(native["report"]["final_count"], 18, "{report}");
    assert!(native["cpu"]["cpu_ms_per_transfer"].as_f64().is_some(), "{report}");
}
