//! What the node keeps of every executed Ethereum transaction, for the JSON-RPC: the receipt and
//! its logs, indexed by transaction hash and by checkpoint height. History, not state: kept out
//! of the ledger root, but undone on a reorganisation like the state it describes.

use revm::primitives::{Address, B256, Bytes};

/// One log an execution emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptLog {
    /// Contract that emitted the log.
    pub address: Address,
    /// Indexed topics (topic 0 is the event signature's keccak256).
    pub topics: Vec<B256>,
    /// Non-indexed event data, ABI-encoded.
    pub data: Bytes,
    /// Position among all logs of the checkpoint.
    pub log_index: u64,
}

/// The receipt of one executed Ethereum transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The Ethereum transaction hash (keccak256 of its raw bytes).
    pub hash: B256,
    /// Height of the checkpoint that executed it (its Ethereum block number).
    pub height: u64,
    /// Position among the checkpoint's executed transactions.
    pub index: u64,
    /// The sender recovered from the signature.
    pub from: Address,
    /// Callee; `None` for a contract creation.
    pub to: Option<Address>,
    /// Address a successful creation deployed to; `None` otherwise.
    pub contract_address: Option<Address>,
    /// EIP-658: true = 1 (success), false = 0 (revert, out of gas, any halt).
    pub success: bool,
    /// Gas this transaction used.
    pub gas_used: u64,
    /// Gas used by the checkpoint's executed transactions up to and including this one.
    pub cumulative_gas_used: u64,
    /// Wei paid per gas (`DecodedTx::effective_gas_price`).
    pub effective_gas_price: u128,
    /// Logs emitted, in order, with their checkpoint-wide index.
    pub logs: Vec<ReceiptLog>,
    /// Output of a call, or the revert data.
    pub output: Bytes,
    /// The transaction as signed (EIP-2718), for `eth_getTransactionByHash`.
    pub raw: Bytes,
}
