//! Submit a signed transfer and wait until it is final.
//!
//! ```bash
//! cargo run -p vein-sdk --example transfer -- --node 127.0.0.1:PORT \
//!     --key-file NET/faucet.key --to ACCOUNT_HEX --amount 1000
//! ```

mod common;

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vein_sdk::vein_node::core::crypto::AccountId;
use vein_sdk::{Client, load_key};

/// Send `--amount` base units from the key's account to `--to`.
#[derive(Parser)]
struct Args {
    /// The node's API address (default: VEIN_NODE).
    #[arg(long)]
    node: Option<SocketAddr>,
    /// The sender's key: its ed25519 seed as 64 hex characters.
    #[arg(long)]
    key_file: PathBuf,
    /// The recipient account (64 hex).
    #[arg(long)]
    to: String,
    /// Base units to move.
    #[arg(long)]
    amount: u64,
    /// The fee in base units.
    #[arg(long, default_value_t = 1)]
    fee: u64,
    /// Seconds to wait for finality.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn run(args: Args) -> Result<(), String> {
    let client = Client::new(common::node(args.node)?);
    let key = load_key(&args.key_file).map_err(|error| error.to_string())?;
    let to = AccountId::from_hex(&args.to).map_err(|error| format!("--to: {error}"))?;
    let before = client.balance(&key.account()).map_err(|error| error.to_string())?;
    println!("sender {} holds {}", key.account(), before.balance);
    let sent =
        client.transfer(&key, &to, args.amount, args.fee).map_err(|error| error.to_string())?;
    println!("sent transfer {} of {} to {to} (nonce {})", sent.id, args.amount, sent.nonce);
    let seen = client
        .wait_final(&sent.id, Duration::from_secs(args.timeout))
        .map_err(|error| error.to_string())?;
    println!("final at height {}", seen.height);
    let after = client.balance(&to).map_err(|error| error.to_string())?;
    println!("recipient {to} holds {}", after.balance);
    Ok(())
}

fn main() -> ExitCode {
    common::finish(run(Args::parse()))
}
