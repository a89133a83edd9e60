//! `vein-testnet contract deploy|call|send` on a real one-node testnet: an unfunded signer is
//! refused with the funding command, the ERC-20 of `contracts/` is deployed with typed
//! constructor arguments, read with `call`, moved with `send`, a reverting `send` fails naming
//! its transaction, and an argument that is not of its type fails before anything is sent.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::path::PathBuf;
use std::time::Duration;
use vein_node::api_types;
use vein_testnet::http;

/// The key 0x…01, its address and the native account that holds its balance.
const KEY: &str = "0x0000000000000000000000000000000000000000000000000000000000000001";
const ADDRESS: &str = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf";
const ACCOUNT: &str = "0000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf";
/// The key 0x…02's address.
const RECIPIENT: &str = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF";
/// 1 ether in native units (gwei).
const FUNDING: u64 = 1_000_000_000;

#[test]
fn contract_commands_deploy_call_and_send_an_erc20() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"]);
    let api = net.manifest().nodes[0].api;
    let artifact = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../contracts/build/VeinToken.json")
        .display()
        .to_string();
    let deploy = [
        "contract",
        "deploy",
        "--artifact",
        &artifact,
        "--arg",
        "Acme",
        "--arg",
        "ACME",
        "--arg",
        "1000000",
        "--key",
        KEY,
    ];

    let unfunded = net.cli_fails(&deploy);
    assert!(unfunded.contains("holds no balance") && unfunded.contains(ACCOUNT), "{unfunded}");
    net.cli(&["tx", "--from", "faucet", "--to", ACCOUNT, "--amount", &FUNDING.to_string()]);
    let balance = || {
        http::get::<api_types::AccountBalance>(api, &format!("/balance/{ACCOUNT}"))
            .map_or(0, |answer| answer.balance)
    };
    wait_until("the signer funded", Duration::from_secs(60), || balance() == FUNDING);

    let token = net.cli(&deploy);
    assert!(token.starts_with("0x") && token.len() == 42, "{token}");
    let call = |function: &str, args: &[&str], returns: &str| {
        let mut command = vec!["contract", "call", "--to", &token, "--function", function];
        for arg in args {
            command.extend(["--arg", arg]);
        }
        net.cli(&[&command[..], &["--returns", returns]].concat())
    };
    assert_eq!(call("symbol()", &[], "string"), "ACME");
    assert_eq!(call("balanceOf(address)", &[ADDRESS], "uint256"), "1000000");

    let transfer = |amount: &str| {
        let function = "transfer(address,uint256)";
        ["contract", "send", "--to", &token, "--function", function, "--arg", RECIPIENT]
            .into_iter()
            .map(str::to_string)
            .chain(["--arg".to_string(), amount.to_string(), "--key".into(), KEY.into()])
            .collect::<Vec<String>>()
    };
    let args = transfer("250");
    let hash = net.cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(hash.starts_with("0x") && hash.len() == 66, "{hash}");
    assert_eq!(call("balanceOf(address)", &[RECIPIENT], "uint256"), "250");
    assert_eq!(call("balanceOf(address)", &[ADDRESS], "uint256"), "999750");

    // More than the balance: the transaction executes, reverts, and the command says so.
    let args = transfer("2000000");
    let reverted = net.cli_fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(reverted.contains("reverted (status 0"), "{reverted}");
    assert_eq!(call("balanceOf(address)", &[ADDRESS], "uint256"), "999750");

    // Not a number: refused before anything is signed.
    let args = transfer("lots");
    let refused = net.cli_fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(refused.contains("argument 1 (\"lots\") is not a uint256"), "{refused}");
}
