//! The JSON-RPC 2.0 envelope and the Ethereum objects the methods answer with, as typed
//! structs (quantities and data are `0x` hex strings, as the Ethereum JSON-RPC writes them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// JSON-RPC 2.0 error codes (and the Ethereum conventions on top).
pub mod code {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON that is not a request object, or a batch that is empty or over 1,000 requests.
    pub const INVALID_REQUEST: i64 = -32600;
    /// A method this node does not serve.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Parameters missing, of the wrong type, or not the hex the method expects.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The node failed to answer (shutting down, or an object it could not encode).
    pub const INTERNAL: i64 = -32603;
    /// Geth's "server error": a transaction refused, state not available.
    pub const SERVER: i64 = -32000;
    /// EIP-1474 / geth: execution reverted, with the revert data.
    pub const EXECUTION_REVERTED: i64 = 3;
}

/// One JSON-RPC request, alone or as an item of a batch.
#[derive(Clone, Debug, Deserialize)]
pub struct Request {
    /// Should be `"2.0"`; not checked, since some clients omit it.
    #[serde(default)]
    pub jsonrpc: Option<String>,
    /// The method name, e.g. `eth_getBalance`.
    pub method: String,
    /// Positional parameters; absent or null means none, an object is refused.
    #[serde(default)]
    pub params: Option<Value>,
    /// Absent for a notification (answered anyway: wallets do not send them).
    #[serde(default)]
    pub id: Option<Value>,
}

/// A JSON-RPC error object: what a method returns instead of a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// One of the [`code`] constants.
    pub code: i64,
    /// What went wrong, for a person.
    pub message: String,
    /// Extra data as `0x` hex: the revert output for [`code::EXECUTION_REVERTED`], else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl RpcError {
    /// An error with `code` and `message` and no data.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError { code, message: message.into(), data: None }
    }

    /// An invalid-params error ([`code::INVALID_PARAMS`]).
    pub fn params(message: impl Into<String>) -> RpcError {
        RpcError::new(code::INVALID_PARAMS, message)
    }

    /// A server error ([`code::SERVER`]): a refused transaction, state the node does not keep.
    pub fn server(message: impl Into<String>) -> RpcError {
        RpcError::new(code::SERVER, message)
    }
}

/// The answer to one request: exactly one of `result` and `error` is set.
#[derive(Clone, Debug, Serialize)]
pub struct Response {
    /// Always `"2.0"`.
    pub jsonrpc: &'static str,
    /// The request's id, or null when it had none or could not be read.
    pub id: Value,
    /// The method's result on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

/// A call object (`eth_call`, `eth_estimateGas`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallObject {
    /// Caller address (`0x` + 40 hex); absent: the zero address.
    pub from: Option<String>,
    /// Callee address; absent: a contract creation with `input` as init code.
    pub to: Option<String>,
    /// Gas limit (quantity), capped at the per-checkpoint gas cap; absent: that cap.
    pub gas: Option<String>,
    /// Wei sent with the call (quantity); absent: 0.
    pub value: Option<String>,
    /// Calldata (`0x` hex); the older name of `input`, used when `input` is absent.
    pub data: Option<String>,
    /// Calldata (`0x` hex); takes precedence over `data`.
    pub input: Option<String>,
}

/// An `eth_getLogs` filter.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFilter {
    /// First height (number or tag); absent: `latest`. Ignored when `block_hash` is set.
    pub from_block: Option<String>,
    /// Last height (number or tag), capped at the head; absent: `latest`.
    pub to_block: Option<String>,
    /// One block of the active chain by hash, instead of a range.
    pub block_hash: Option<String>,
    /// One address or a list.
    pub address: Option<Value>,
    /// Per position: null (any), one topic, or a list (any of them).
    pub topics: Option<Vec<Value>>,
}

/// One log, as `eth_getLogs` and receipts list it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    /// The contract that emitted it.
    pub address: String,
    /// Its indexed topics (32 bytes each), the event signature's hash first for Solidity events.
    pub topics: Vec<String>,
    /// Its non-indexed data.
    pub data: String,
    /// Height of the checkpoint that executed the transaction (quantity).
    pub block_number: String,
    /// Id of that checkpoint (32 bytes).
    pub block_hash: String,
    /// Hash of the Ethereum transaction that emitted it.
    pub transaction_hash: String,
    /// The transaction's position among the checkpoint's executed transactions (quantity).
    pub transaction_index: String,
    /// Position among all logs of the checkpoint (quantity).
    pub log_index: String,
    /// Always false: logs of a reorganised-away checkpoint are dropped, not reported removed.
    pub removed: bool,
}

/// A transaction receipt (`eth_getTransactionReceipt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// Hash of the Ethereum transaction (keccak of its signed EIP-2718 bytes).
    pub transaction_hash: String,
    /// Position among the checkpoint's executed transactions (quantity).
    pub transaction_index: String,
    /// Id of the checkpoint that executed it.
    pub block_hash: String,
    /// Height of that checkpoint (quantity).
    pub block_number: String,
    /// The sender recovered from the signature.
    pub from: String,
    /// The callee; null for a contract creation.
    pub to: Option<String>,
    /// Gas used by this and every earlier transaction of the checkpoint (quantity).
    pub cumulative_gas_used: String,
    /// Gas this transaction used (quantity).
    pub gas_used: String,
    /// Wei paid per unit of gas (quantity).
    pub effective_gas_price: String,
    /// The contract a creation deployed; null for a call.
    pub contract_address: Option<String>,
    /// The logs it emitted, in order.
    pub logs: Vec<Log>,
    /// The 256-byte bloom of its logs' addresses and topics (Yellow Paper §4.3.1).
    pub logs_bloom: String,
    /// `0x1` success, `0x0` revert or halt (EIP-658).
    pub status: String,
    /// The EIP-2718 type: `0x0` legacy, `0x1` access list, `0x2` dynamic fee.
    #[serde(rename = "type")]
    pub tx_type: String,
}

/// A transaction (`eth_getTransactionByHash`, full blocks), decoded from its signed bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionObject {
    /// Hash of the signed transaction.
    pub hash: String,
    /// The sender's Ethereum nonce (quantity).
    pub nonce: String,
    /// Id of the checkpoint that executed it; null while it is only sent.
    pub block_hash: Option<String>,
    /// Height of that checkpoint (quantity); null while it is only sent.
    pub block_number: Option<String>,
    /// Position among the checkpoint's executed transactions; null while it is only sent.
    pub transaction_index: Option<String>,
    /// The sender recovered from the signature.
    pub from: String,
    /// The callee; null for a contract creation.
    pub to: Option<String>,
    /// Wei transferred (quantity).
    pub value: String,
    /// Gas limit (quantity).
    pub gas: String,
    /// Effective gas price in wei (quantity): the legacy price, or the dynamic-fee price paid.
    pub gas_price: String,
    /// EIP-1559 fee cap in wei; dynamic-fee (type 2) transactions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fee_per_gas: Option<String>,
    /// EIP-1559 tip cap in wei; dynamic-fee transactions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_priority_fee_per_gas: Option<String>,
    /// Calldata, or init code for a creation.
    pub input: String,
    /// The EIP-2718 type (quantity).
    #[serde(rename = "type")]
    pub tx_type: String,
    /// The EIP-155 chain id it was signed for (quantity).
    pub chain_id: String,
    /// Signature recovery value: EIP-155 `v` for legacy transactions, the y parity otherwise.
    pub v: String,
    /// Signature `r` (quantity).
    pub r: String,
    /// Signature `s` (quantity).
    pub s: String,
    /// Signature y parity; typed (non-legacy) transactions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y_parity: Option<String>,
    /// EIP-2930 access list; typed transactions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_list: Option<Vec<AccessListEntry>>,
}

/// One entry of an EIP-2930 access list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListEntry {
    /// The account the transaction declares it touches.
    pub address: String,
    /// The storage slots of that account it declares (32 bytes each).
    pub storage_keys: Vec<String>,
}

/// A block's transactions: hashes, or whole objects when asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockTransactions {
    /// Transaction hashes in execution order (`full` = false).
    Hashes(Vec<String>),
    /// Whole transaction objects in execution order (`full` = true).
    Full(Vec<TransactionObject>),
}

/// A checkpoint seen as an Ethereum block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Height of the checkpoint (quantity).
    pub number: String,
    /// The checkpoint's id.
    pub hash: String,
    /// The previous checkpoint's id; all zeros for genesis.
    pub parent_hash: String,
    /// Always eight zero bytes: there is no proof-of-work nonce.
    pub nonce: String,
    /// Always zero: there are no uncles.
    pub sha3_uncles: String,
    /// Union of the blooms of the block's receipts.
    pub logs_bloom: String,
    /// Always zero: no Ethereum transaction trie is built.
    pub transactions_root: String,
    /// The checkpoint's vein ledger root (not an Ethereum state trie root).
    pub state_root: String,
    /// Always zero: no receipt trie is built.
    pub receipts_root: String,
    /// The Ethereum address derived from the checkpoint author's account.
    pub miner: String,
    /// Always `0x0`: proof of capacity has no difficulty in Ethereum's sense.
    pub difficulty: String,
    /// Always `0x0`.
    pub total_difficulty: String,
    /// Always `0x`.
    pub extra_data: String,
    /// Always `0x0`: the size is not computed.
    pub size: String,
    /// The per-checkpoint gas cap (quantity).
    pub gas_limit: String,
    /// Gas used by the block's transactions (quantity).
    pub gas_used: String,
    /// The checkpoint's timestamp in Unix seconds (quantity).
    pub timestamp: String,
    /// The transactions the checkpoint executed.
    pub transactions: BlockTransactions,
    /// Always empty.
    pub uncles: Vec<String>,
    /// Always `0x0`: there is no EIP-1559 base fee.
    pub base_fee_per_gas: String,
    /// The checkpoint's generation signature, the proof-of-capacity challenge seed.
    pub mix_hash: String,
}

/// The answer to `eth_feeHistory`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeHistory {
    /// Height of the first block described (quantity).
    pub oldest_block: String,
    /// Base fee per block, plus one for the next block: always `0x0`.
    pub base_fee_per_gas: Vec<String>,
    /// Per block: gas used over the per-checkpoint gas cap, 0.0 to 1.0.
    pub gas_used_ratio: Vec<f64>,
    /// Per block, one tip per requested percentile (all the minimum gas price); absent when no
    /// percentiles were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward: Option<Vec<Vec<String>>>,
}
