//! `vein-testnet contract ...`: Solidity contracts on a running testnet through a node's
//! Ethereum JSON-RPC (`POST /rpc`, docs/evm.md), with the SDK's client (`vein_sdk::Client`'s
//! `eth_*` calls). `deploy` sends a compiled artifact's bytecode with its constructor's
//! arguments, `send` a signed call, `call` an `eth_call` that changes nothing.
//!
//! Model: transactions are signed here with an Ethereum key given on the command line (a
//! test wallet's; the node holds no Ethereum keys), as EIP-155 legacy transactions at the
//! 1 gwei price, with the nonce the node reports as pending; the command waits for the
//! receipt. What would fail for certain is refused first with a typed error: an address with
//! no balance to pay gas (it says how to fund it), an argument that does not fit its type
//! (`contract_abi`). A transaction that executed and reverted is an error too, with its hash.

use crate::contract_abi::{AbiError, AbiType, Function, decode, encode, parse_types};
use crate::manifest::Manifest;
use crate::{TestnetError, reachable};
use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Address, Signature, TxKind, U256};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use clap::Subcommand;
use k256::ecdsa::SigningKey;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vein_node::core::evm::{GAS_PRICE_MIN_WEI, account_of};
use vein_sdk::eth::EthReceipt;
use vein_sdk::{Client, SdkError};

/// How long a command waits for its transaction's receipt.
const RECEIPT_WAIT: Duration = Duration::from_secs(60);

/// Why a contract command refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ContractCliError {
    /// A signature, argument or return type that does not fit the ABI.
    #[error(transparent)]
    Abi(#[from] AbiError),
    /// `--key` is not 32 bytes of hex, or not a valid secp256k1 secret key.
    #[error("--key must be a secp256k1 secret key, 0x and 64 hex digits: {reason}")]
    BadKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The artifact could not be read, or is not `{abi, bytecode}` JSON.
    #[error("artifact {path}: {reason} (contracts/build/*.json is the expected form)")]
    Artifact {
        /// The file given.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// `--to` is not an address.
    #[error("--to {to:?} is not an address (0x and 40 hex digits)")]
    BadAddress {
        /// The value given.
        to: String,
    },
    /// The signer's address holds nothing to pay gas with.
    #[error(
        "{address} holds no balance to pay gas; fund it with a native transfer: \
         vein-testnet tx --from faucet --to {account} --amount 1000000000"
    )]
    NoFunds {
        /// The signer's Ethereum address.
        address: String,
        /// The native account holding its balance (64 hex).
        account: String,
    },
    /// `--to` has no code: a call there would do nothing.
    #[error("no contract at {to}")]
    NoContract {
        /// The address called.
        to: String,
    },
    /// The transaction executed with status 0 (a revert or out of gas): its gas was paid.
    #[error("transaction {hash} reverted (status 0, {gas_used} gas used)")]
    Reverted {
        /// The transaction's hash.
        hash: String,
        /// Gas it used (a quantity).
        gas_used: String,
    },
    /// The node's JSON-RPC refused or failed (a revert of `call` is `-32000`/`3` here).
    #[error(transparent)]
    Rpc(#[from] SdkError),
}

/// The `vein-testnet contract` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum ContractCommand {
    /// Deploy a compiled contract (contracts/build/NAME.json). Prints its address.
    Deploy {
        /// The artifact: JSON with `abi` and `bytecode`, as `npm run compile` writes it.
        #[arg(long)]
        artifact: PathBuf,
        /// A constructor argument, in order (repeat); typed by the artifact's ABI.
        #[arg(long = "arg", allow_hyphen_values = true)]
        args: Vec<String>,
        /// The signer's secp256k1 secret key (0x and 64 hex digits).
        #[arg(long)]
        key: String,
        /// Gas limit.
        #[arg(long, default_value_t = 3_000_000)]
        gas: u64,
        /// Node whose JSON-RPC to use.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
    /// Read a contract: an `eth_call`, nothing is sent. Prints the values, one a line.
    Call {
        /// The contract's address.
        #[arg(long)]
        to: String,
        /// The function, e.g. 'balanceOf(address)'.
        #[arg(long)]
        function: String,
        /// An argument, in order (repeat).
        #[arg(long = "arg", allow_hyphen_values = true)]
        args: Vec<String>,
        /// The return types, comma-separated, e.g. 'uint256' (default: the raw 0x hex).
        #[arg(long)]
        returns: Option<String>,
        /// Node whose JSON-RPC to use.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
    /// Send a signed call and wait for its receipt. Prints the transaction hash.
    Send {
        /// The contract's address.
        #[arg(long)]
        to: String,
        /// The function, e.g. 'transfer(address,uint256)'.
        #[arg(long)]
        function: String,
        /// An argument, in order (repeat).
        #[arg(long = "arg", allow_hyphen_values = true)]
        args: Vec<String>,
        /// The signer's secp256k1 secret key (0x and 64 hex digits).
        #[arg(long)]
        key: String,
        /// Gas limit.
        #[arg(long, default_value_t = 300_000)]
        gas: u64,
        /// Node whose JSON-RPC to use.
        #[arg(long, default_value_t = 0)]
        via: usize,
    },
}

/// Runs one contract command; what it prints.
pub fn run(manifest: &Manifest, command: &ContractCommand) -> Result<String, TestnetError> {
    match command {
        ContractCommand::Deploy { artifact, args, key, gas, via } => {
            let client = Client::new(reachable(manifest, *via)?.api);
            let (types, mut code) = read_artifact(artifact)?;
            code.extend(encode(&types, args).map_err(ContractCliError::from)?);
            let key = parse_key(key)?;
            let receipt = send(&client, &key, TxKind::Create, code, *gas)?;
            let address = receipt.contract_address.ok_or_else(|| ContractCliError::Reverted {
                hash: receipt.transaction_hash.clone(),
                gas_used: receipt.gas_used.clone(),
            })?;
            Ok(address)
        }
        ContractCommand::Call { to, function, args, returns, via } => {
            let client = Client::new(reachable(manifest, *via)?.api);
            let to = parse_address(to)?;
            let function = Function::parse(function).map_err(ContractCliError::from)?;
            let data = function.calldata(args).map_err(ContractCliError::from)?;
            let types = returns.as_deref().map(parse_types).transpose();
            let types = types.map_err(ContractCliError::from)?;
            require_code(&client, &to)?;
            let output = client.eth_call(&to.to_string(), &data).map_err(ContractCliError::from)?;
            Ok(match types {
                Some(types) => decode(&types, &output).map_err(ContractCliError::from)?.join("\n"),
                None => format!("0x{}", hex::encode(output)),
            })
        }
        ContractCommand::Send { to, function, args, key, gas, via } => {
            let client = Client::new(reachable(manifest, *via)?.api);
            let to = parse_address(to)?;
            let function = Function::parse(function).map_err(ContractCliError::from)?;
            let data = function.calldata(args).map_err(ContractCliError::from)?;
            let key = parse_key(key)?;
            require_code(&client, &to)?;
            Ok(send(&client, &key, TxKind::Call(to), data, *gas)?.transaction_hash)
        }
    }
}

/// Signs `input` for `to` at the signer's pending nonce, sends it and waits for a successful
/// receipt.
pub(crate) fn send(
    client: &Client,
    key: &SigningKey,
    to: TxKind,
    input: Vec<u8>,
    gas: u64,
) -> Result<EthReceipt, ContractCliError> {
    let sender = Address::from_private_key(key);
    let balance: String =
        client.rpc("eth_getBalance", &[Value::from(sender.to_string()), "latest".into()])?;
    if balance == "0x0" {
        return Err(ContractCliError::NoFunds {
            address: sender.to_checksum(None),
            account: account_of(&sender).to_string(),
        });
    }
    let tx = TxLegacy {
        chain_id: Some(client.eth_chain_id()?),
        nonce: client.eth_nonce(&sender.to_string())?,
        gas_price: GAS_PRICE_MIN_WEI,
        gas_limit: gas,
        to,
        value: U256::ZERO,
        input: input.into(),
    };
    let (signature, recovery) = key
        .sign_prehash_recoverable(tx.signature_hash().as_slice())
        .map_err(|_| ContractCliError::BadKey { reason: "it cannot sign" })?;
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    let hash = client.eth_send_raw_transaction(&raw)?;
    let receipt = client.eth_wait_receipt(&hash, RECEIPT_WAIT)?;
    if !receipt.succeeded() {
        return Err(ContractCliError::Reverted { hash, gas_used: receipt.gas_used });
    }
    Ok(receipt)
}

fn parse_key(text: &str) -> Result<SigningKey, ContractCliError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes: [u8; 32] = hex::decode(digits)
        .map_err(|_| ContractCliError::BadKey { reason: "not hex" })?
        .try_into()
        .map_err(|_| ContractCliError::BadKey { reason: "not 32 bytes" })?;
    SigningKey::from_bytes(&bytes.into())
        .map_err(|_| ContractCliError::BadKey { reason: "zero or above the group order" })
}

fn parse_address(text: &str) -> Result<Address, ContractCliError> {
    text.parse().map_err(|_| ContractCliError::BadAddress { to: text.to_string() })
}

fn require_code(client: &Client, to: &Address) -> Result<(), ContractCliError> {
    if client.eth_code(&to.to_string())?.is_empty() {
        return Err(ContractCliError::NoContract { to: to.to_checksum(None) });
    }
    Ok(())
}

/// The constructor's parameter types and the bytecode of an artifact.
pub(crate) fn read_artifact(path: &Path) -> Result<(Vec<AbiType>, Vec<u8>), ContractCliError> {
    let bad = |reason: String| ContractCliError::Artifact { path: path.to_path_buf(), reason };
    let text = std::fs::read_to_string(path).map_err(|error| bad(error.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|error| bad(error.to_string()))?;
    let bytecode = json["bytecode"].as_str().ok_or_else(|| bad("no bytecode string".into()))?;
    let code = hex::decode(bytecode.trim_start_matches("0x"))
        .map_err(|error| bad(format!("bytecode: {error}")))?;
    let abi = json["abi"].as_array().ok_or_else(|| bad("no abi array".into()))?;
    let constructor = abi.iter().find(|entry| entry["type"] == "constructor");
    let inputs = constructor.and_then(|entry| entry["inputs"].as_array());
    let types = inputs
        .map(|inputs| {
            inputs
                .iter()
                .map(|input| AbiType::parse(input["type"].as_str().unwrap_or("?")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok((types, code))
}
