//! A [`LedgerView`] as `POST /ledger/history` carries it, and back.

use super::ledger_view::{LedgerEntry, LedgerView};
use super::record::parse_hash;
use crate::api_types::{LedgerBalance, LedgerHistory, LedgerHistoryEntry, Outcome};
use crate::core::crypto::AccountId;

/// An answer of `POST /ledger/history` that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum WireViewError {
    /// An id or account is not 64 hex.
    #[error("ledger history of node {node}: {field} {text:?} is not 64 hex")]
    BadHex {
        /// The node asked.
        node: usize,
        /// Which field.
        field: &'static str,
        /// What it held.
        text: String,
    },
}

/// The wire form of `view`.
pub fn to_wire(view: &LedgerView) -> LedgerHistory {
    LedgerHistory {
        final_height: view.final_height,
        head_height: view.head_height,
        from_height: view.from_height,
        to_height: view.to_height,
        entries: view
            .entries
            .iter()
            .map(|entry| LedgerHistoryEntry {
                height: entry.height,
                checkpoint: entry.checkpoint.to_string(),
                id: entry.id.to_string(),
                from: entry.from.to_hex(),
                nonce: entry.nonce,
                outcome: if entry.applied { Outcome::Applied } else { Outcome::Ignored },
            })
            .collect(),
        bodies_missing: view.bodies_missing,
        balances: view
            .balances
            .iter()
            .map(|(account, balance)| LedgerBalance {
                account: account.to_hex(),
                balance: *balance,
            })
            .collect(),
    }
}

/// Node `node`'s answer as a view.
pub fn from_wire(node: usize, wire: &LedgerHistory) -> Result<LedgerView, WireViewError> {
    let bad = |field, text: &str| WireViewError::BadHex { node, field, text: text.to_string() };
    let hash = |field, text: &str| parse_hash(text).ok_or_else(|| bad(field, text));
    let account = |field, text: &str| AccountId::from_hex(text).map_err(|_| bad(field, text));
    let entries = wire
        .entries
        .iter()
        .map(|entry| {
            Ok(LedgerEntry {
                height: entry.height,
                checkpoint: hash("checkpoint", &entry.checkpoint)?,
                id: hash("id", &entry.id)?,
                from: account("from", &entry.from)?,
                nonce: entry.nonce,
                applied: entry.outcome == Outcome::Applied,
            })
        })
        .collect::<Result<Vec<_>, WireViewError>>()?;
    let balances = wire
        .balances
        .iter()
        .map(|row| Ok((account("account", &row.account)?, row.balance)))
        .collect::<Result<_, WireViewError>>()?;
    Ok(LedgerView {
        node,
        final_height: wire.final_height,
        head_height: wire.head_height,
        from_height: wire.from_height,
        to_height: wire.to_height,
        entries,
        bodies_missing: wire.bodies_missing,
        balances,
    })
}
