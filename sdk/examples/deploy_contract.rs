//! Deploy the ERC-20 of `contracts/build/VeinToken.json` through the Ethereum JSON-RPC
//! (`eth_sendRawTransaction`), with a secp256k1 wallet signed here in Rust, wait for the
//! receipt and read the deployer's `balanceOf`.
//!
//! ```bash
//! cargo run -p vein-sdk --example deploy_contract -- --node 127.0.0.1:PORT \
//!     --eth-key 0x...32 bytes... --fund-key-file NET/faucet.key
//! ```
//!
//! Gas is paid from the wallet's native balance (one native unit is 1 gwei): `--fund-key-file`
//! first moves `--fund-gwei` to it with a native transfer.

mod common;

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Bytes, Signature, TxKind as EthTxKind};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use clap::Parser;
use k256::ecdsa::SigningKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vein_sdk::vein_node::core::evm::{Address, U256, account_of};
use vein_sdk::{Client, load_key};

/// 1 gwei in wei: the node's minimum gas price and its native unit.
const GWEI: u128 = 1_000_000_000;
/// Gas limit of the deployment (a checkpoint executes up to 30 million).
const DEPLOY_GAS: u64 = 3_000_000;
/// The committed build of `contracts/VeinToken.sol`.
const ARTIFACT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/build/VeinToken.json");
/// `balanceOf(address)`'s selector: keccak256 of the signature, first 4 bytes.
const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];

/// Deploy VeinToken(`--name`, `--symbol`, `--supply`) from the wallet `--eth-key`.
#[derive(Parser)]
struct Args {
    /// The node's API address (default: VEIN_NODE).
    #[arg(long)]
    node: Option<SocketAddr>,
    /// The wallet's secp256k1 private key, 64 hex characters (optional 0x).
    #[arg(long)]
    eth_key: String,
    /// A native key to fund the wallet from first (its ed25519 seed file).
    #[arg(long)]
    fund_key_file: Option<PathBuf>,
    /// Native units (gwei) to fund the wallet with.
    #[arg(long, default_value_t = 1_000_000_000)]
    fund_gwei: u64,
    /// The contract build (ABI and bytecode).
    #[arg(long, default_value = ARTIFACT)]
    artifact: PathBuf,
    /// The token's name.
    #[arg(long, default_value = "SDK Token")]
    name: String,
    /// The token's symbol.
    #[arg(long, default_value = "SDK")]
    symbol: String,
    /// The supply minted to the deployer.
    #[arg(long, default_value_t = 1_000_000)]
    supply: u64,
    /// Seconds to wait for the funding and the receipt.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// The fields of a solc-js build this example reads.
#[derive(serde::Deserialize)]
struct Artifact {
    bytecode: String,
}

/// A 32-byte ABI word holding `value`.
fn word(value: u64) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&value.to_be_bytes());
    word
}

/// A dynamic `string` argument's tail: its length, then its bytes padded to 32.
fn string_tail(text: &str) -> Vec<u8> {
    let mut tail = word(text.len() as u64).to_vec();
    tail.extend_from_slice(text.as_bytes());
    tail.resize(32 + text.len().div_ceil(32) * 32, 0);
    tail
}

/// ABI encoding of `(string name, string symbol, uint256 supply)`.
fn constructor_args(name: &str, symbol: &str, supply: u64) -> Vec<u8> {
    let name_tail = string_tail(name);
    let symbol_tail = string_tail(symbol);
    let mut encoded = word(3 * 32).to_vec();
    encoded.extend_from_slice(&word((3 * 32 + name_tail.len()) as u64));
    encoded.extend_from_slice(&word(supply));
    encoded.extend_from_slice(&name_tail);
    encoded.extend_from_slice(&symbol_tail);
    encoded
}

/// Sign a legacy (EIP-155) transaction and encode it as EIP-2718 bytes.
fn sign(key: &SigningKey, tx: TxLegacy) -> Result<Vec<u8>, String> {
    let (signature, recovery) = key
        .sign_prehash_recoverable(tx.signature_hash().as_slice())
        .map_err(|error| format!("signing: {error}"))?;
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    Ok(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

fn run(args: Args) -> Result<(), String> {
    let client = Client::new(common::node(args.node)?);
    let timeout = Duration::from_secs(args.timeout);
    let secret = hex::decode(args.eth_key.trim().trim_start_matches("0x"))
        .map_err(|_| "--eth-key is not hex".to_string())?;
    let wallet = SigningKey::from_slice(&secret).map_err(|error| format!("--eth-key: {error}"))?;
    let address = Address::from_private_key(&wallet);
    let address_text = format!("{address:#x}");
    println!("wallet {address_text}");

    if let Some(path) = &args.fund_key_file {
        let funder = load_key(path).map_err(|error| error.to_string())?;
        let sent = client
            .transfer(&funder, &account_of(&address), args.fund_gwei, 1)
            .map_err(|error| error.to_string())?;
        let seen = client.wait_final(&sent.id, timeout).map_err(|error| error.to_string())?;
        println!("funded with {} gwei, final at height {}", args.fund_gwei, seen.height);
    }

    let text = std::fs::read_to_string(&args.artifact)
        .map_err(|error| format!("reading {}: {error}", args.artifact.display()))?;
    let artifact: Artifact = serde_json::from_str(&text)
        .map_err(|error| format!("{}: {error}", args.artifact.display()))?;
    let mut input = hex::decode(artifact.bytecode.trim_start_matches("0x"))
        .map_err(|_| format!("{}: the bytecode is not hex", args.artifact.display()))?;
    input.extend_from_slice(&constructor_args(&args.name, &args.symbol, args.supply));

    let chain_id = client.eth_chain_id().map_err(|error| error.to_string())?;
    let nonce = client.eth_nonce(&address_text).map_err(|error| error.to_string())?;
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: GWEI,
        gas_limit: DEPLOY_GAS,
        to: EthTxKind::Create,
        value: U256::ZERO,
        input: Bytes::from(input),
    };
    let hash = client.eth_send_raw_transaction(&sign(&wallet, tx)?).map_err(|e| e.to_string())?;
    println!("sent deployment {hash} (chain id {chain_id}, nonce {nonce})");
    let receipt = client.eth_wait_receipt(&hash, timeout).map_err(|error| error.to_string())?;
    if !receipt.succeeded() {
        return Err(format!("the deployment failed: status {} ({receipt:?})", receipt.status));
    }
    let contract = receipt.contract_address.ok_or("the receipt names no contract address")?;
    println!("deployed {} at {contract} in block {}", args.symbol, receipt.block_number);
    let code = client.eth_code(&contract).map_err(|error| error.to_string())?;
    println!("contract code: {} bytes", code.len());

    let mut call = BALANCE_OF.to_vec();
    call.extend_from_slice(&[0u8; 12]);
    call.extend_from_slice(address.as_slice());
    let answer = client.eth_call(&contract, &call).map_err(|error| error.to_string())?;
    let balance = U256::try_from_be_slice(&answer).ok_or("balanceOf answered no 32-byte word")?;
    println!("balanceOf({address_text}) = {balance}");
    if balance != U256::from(args.supply) {
        return Err(format!("balanceOf is {balance}, the supply minted was {}", args.supply));
    }
    Ok(())
}

fn main() -> ExitCode {
    common::finish(run(Args::parse()))
}
