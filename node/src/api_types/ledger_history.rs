//! `POST /ledger/history`: the units a node's active chain confirmed from a height on, for a
//! client's history check (`crate::history`, docs/testnet.md "Client histories").

use super::Outcome;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /ledger/history` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerHistoryRequest {
    /// First height to read (raised past what the node pruned).
    pub from_height: u64,
    /// Senders whose units are listed, and whose balances are given (64 hex each, at most
    /// 10,000); empty lists every sender's units and no balance.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Stop after the height at which this many units were scanned (default and maximum
    /// 100,000); ask again from `to_height + 1` for the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_units: Option<u64>,
}

/// One unit a checkpoint of the active chain confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerHistoryEntry {
    /// Height of the confirming checkpoint.
    pub height: u64,
    /// The confirming checkpoint's id.
    pub checkpoint: String,
    /// The unit id.
    pub id: String,
    /// Its sender (64 hex).
    pub from: String,
    /// The sender's nonce it spends.
    pub nonce: u64,
    /// How the checkpoint ruled on it.
    pub outcome: Outcome,
}

/// `POST /ledger/history` answer: one consistent read of the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerHistory {
    /// The node's final height.
    pub final_height: u64,
    /// The node's head height.
    pub head_height: u64,
    /// The lowest height read.
    pub from_height: u64,
    /// The highest height read: the head, unless `max_units` stopped the read early.
    pub to_height: u64,
    /// Units of the asked senders confirmed at those heights, in chain order.
    pub entries: Vec<LedgerHistoryEntry>,
    /// Units confirmed at those heights whose body the node no longer holds.
    pub bodies_missing: u64,
    /// The asked accounts' balances at the head, when `to_height` is the head (else empty).
    pub balances: Vec<LedgerBalance>,
}

/// An account's balance at the head, read with the entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LedgerBalance {
    /// The account (64 hex).
    pub account: String,
    /// Its balance, base units.
    pub balance: u64,
}
