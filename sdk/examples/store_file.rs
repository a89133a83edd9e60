//! Store a file on the storage nodes and read it back byte for byte.
//!
//! ```bash
//! cargo run -p vein-sdk --example store_file -- --node 127.0.0.1:PORT \
//!     --key-file NET/faucet.key --genesis NET/genesis.json --file report.pdf \
//!     --holder 127.0.0.1:PORT0 --holder 127.0.0.1:PORT1 ... --k 2 --n 3
//! ```
//!
//! Prints the file id and the owner key (hex): the key is the only way to read the file.

mod common;

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vein_sdk::storage::StoreOptions;
use vein_sdk::vein_node::genesis_file::GenesisFile;
use vein_sdk::{Client, load_key};

/// Store `--file`, paid by `--key-file`, over the genesis storage accounts.
#[derive(Parser)]
struct Args {
    /// The node taking the put (default: VEIN_NODE).
    #[arg(long)]
    node: Option<SocketAddr>,
    /// The paying key: its ed25519 seed as 64 hex characters.
    #[arg(long)]
    key_file: PathBuf,
    /// The chain's genesis file: its allocations are the storage node set.
    #[arg(long)]
    genesis: PathBuf,
    /// The file to store.
    #[arg(long)]
    file: PathBuf,
    /// The API address of a storage node (repeat; default: --node only).
    #[arg(long = "holder")]
    holders: Vec<SocketAddr>,
    /// k: shards any of which recover the file.
    #[arg(long, default_value_t = 2)]
    k: u8,
    /// n: shards made and placed.
    #[arg(long, default_value_t = 3)]
    n: u8,
    /// Contract term in rounds.
    #[arg(long, default_value_t = 100)]
    term_rounds: u64,
    /// Write the file read back here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds to wait for the holders.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn run(args: Args) -> Result<(), String> {
    let node = common::node(args.node)?;
    let client = Client::new(node);
    let payer = load_key(&args.key_file).map_err(|error| error.to_string())?;
    let genesis = GenesisFile::load(&args.genesis)
        .and_then(|file| file.to_genesis())
        .map_err(|error| format!("genesis {}: {error}", args.genesis.display()))?;
    let data = std::fs::read(&args.file)
        .map_err(|error| format!("reading {}: {error}", args.file.display()))?;
    let apis = if args.holders.is_empty() { vec![node] } else { args.holders.clone() };
    let holders = Client::holders(&apis).map_err(|error| error.to_string())?;
    let options = StoreOptions {
        data_shards: args.k,
        total_shards: args.n,
        term_rounds: args.term_rounds,
        fee: 1,
        timeout: Duration::from_secs(args.timeout),
    };
    let stored = client
        .store_file(&payer, &data, &genesis.storage_nodes(), &holders, &options)
        .map_err(|error| error.to_string())?;
    println!("stored {} bytes as file {}", data.len(), stored.file_id);
    println!("owner key {}", hex::encode(stored.owner_key.0));
    let read = client
        .fetch_file(&stored.file_id, &stored.owner_key, &holders)
        .map_err(|error| error.to_string())?;
    if read != data {
        return Err(format!("read back {} bytes that differ from the file", read.len()));
    }
    println!("read back {} bytes, equal to the file", read.len());
    if let Some(out) = &args.out {
        std::fs::write(out, &read)
            .map_err(|error| format!("writing {}: {error}", out.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    common::finish(run(Args::parse()))
}
