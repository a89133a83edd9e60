//! What the node keeps of every executed Ethereum transaction, for the JSON-RPC: the receipt and
//! its logs, indexed by transaction hash and by checkpoint height. History, not state: kept out
//! of the ledger root, but undone on a reorganisation like the state it describes.

use revm::primitives::{Address, B256, Bytes};

/// One log an execution emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptLog {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    /// Position among all logs of the checkpoint.
    pub log_index: u64,
}

/// The receipt of one executed Ethereum transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub hash: B256,
    /// Height of the checkpoint that executed it (its Ethereum block number).
    pub height: u64,
    /// Position among the checkpoint's executed transactions.
    pub index: u64,
    pub from: Address,
    pub to: Option<Address>,
    pub contract_address: Option<Address>,
    /// EIP-658: true = 1 (success), false = 0 (revert, out of gas, any halt).
    pub success: bool,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub effective_gas_price: u128,
    pub logs: Vec<ReceiptLog>,
    /// Output of a call, or the revert data.
    pub output: Bytes,
    /// The transaction as signed (EIP-2718), for `eth_getTransactionByHash`.
    pub raw: Bytes,
}
