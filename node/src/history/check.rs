//! The checker: a client's [`History`] against every live node's [`LedgerView`], read after
//! the net settled.
//!
//! Violations (each a [`HistoryViolation`] with its evidence):
//! - `missing-final`: a transfer the client saw final at height H is not in the ledger of a
//!   node that has finalised H;
//! - `final-differs`: it is there, but at another height, with another outcome, or under
//!   another checkpoint than the client saw;
//! - `applied-twice`: one unit confirmed at two heights of one node's chain;
//! - `nonce-twice`: two units spending one (sender, nonce) both applied on one node's chain;
//! - `refused-present`: a transfer the node refused is in a ledger anyway;
//! - `unexplained`: (with balances) a unit from one of the client's accounts that the client
//!   never sent;
//! - `balance`: (with balances) an account's balance on a node is not its balance before the
//!   run plus the effects of the client's transfers that node applied: amount from the sender
//!   to the recipient, the fee out of the sender (burned or paid to a checkpoint author per the
//!   fee policy: either way it leaves the client's accounts).
//!
//! Not violations, reported: operations acknowledged but never seen final (the client stopped
//! waiting; whether a ledger holds them is listed), and (operation, node) pairs that could not
//! be checked because the node has not finalised the height yet or pruned it.

use super::ledger_view::{LedgerEntry, LedgerView};
use super::record::{Answer, History, Operation};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::Serialize;
use std::collections::BTreeMap;

/// A broken guarantee, with what shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "violation", rename_all = "kebab-case")]
pub enum HistoryViolation {
    /// A transfer seen final is missing from a node that finalised its height.
    #[error(
        "missing-final: op {op}, transfer {id} seen final at height {height} is not in node \
             {node}'s ledger (final to {node_final_height})"
    )]
    MissingFinal {
        /// The operation.
        op: u64,
        /// The unit id.
        #[serde(serialize_with = "hex")]
        id: Hash,
        /// The node.
        node: usize,
        /// The height the client saw it final at.
        height: u64,
        /// The node's final height.
        node_final_height: u64,
    },
    /// A transfer seen final is held differently.
    #[error(
        "final-differs: op {op}, transfer {id} seen final at height {height} (applied \
             {applied}), node {node} holds it at height {node_height} (applied {node_applied}, \
             checkpoint differs: {checkpoint_differs})"
    )]
    FinalDiffers {
        /// The operation.
        op: u64,
        /// The unit id.
        #[serde(serialize_with = "hex")]
        id: Hash,
        /// The node.
        node: usize,
        /// Height the client saw.
        height: u64,
        /// Outcome the client saw.
        applied: bool,
        /// Height the node holds it at.
        node_height: u64,
        /// Outcome the node holds.
        node_applied: bool,
        /// The client learnt another checkpoint id at that height.
        checkpoint_differs: bool,
    },
    /// One unit confirmed twice on one chain.
    #[error(
        "applied-twice: unit {id} confirmed at heights {first_height} and {second_height} \
             of node {node}'s chain"
    )]
    AppliedTwice {
        /// The unit id.
        #[serde(serialize_with = "hex")]
        id: Hash,
        /// The node.
        node: usize,
        /// The first height.
        first_height: u64,
        /// The second height.
        second_height: u64,
    },
    /// Two units spending one nonce both applied.
    #[error(
        "nonce-twice: node {node} applied {first} (height {first_height}) and {second} \
             (height {second_height}), both spending nonce {nonce} of {from}"
    )]
    NonceTwice {
        /// The sender.
        #[serde(serialize_with = "hex_account")]
        from: AccountId,
        /// The nonce.
        nonce: u64,
        /// The node.
        node: usize,
        /// The first unit.
        #[serde(serialize_with = "hex")]
        first: Hash,
        /// Its height.
        first_height: u64,
        /// The second unit.
        #[serde(serialize_with = "hex")]
        second: Hash,
        /// Its height.
        second_height: u64,
    },
    /// A refused transfer entered a ledger.
    #[error(
        "refused-present: op {op}, transfer {id} was refused but node {node} confirmed it \
             at height {height}"
    )]
    RefusedPresent {
        /// The operation.
        op: u64,
        /// The unit id.
        #[serde(serialize_with = "hex")]
        id: Hash,
        /// The node.
        node: usize,
        /// Where.
        height: u64,
    },
    /// A unit from a client account that the client never sent.
    #[error(
        "unexplained: node {node} confirmed {id} (nonce {nonce} of client account {from}) at \
             height {height}, which the client never sent"
    )]
    Unexplained {
        /// The unit id.
        #[serde(serialize_with = "hex")]
        id: Hash,
        /// The node.
        node: usize,
        /// Its sender.
        #[serde(serialize_with = "hex_account")]
        from: AccountId,
        /// Its nonce.
        nonce: u64,
        /// Where.
        height: u64,
    },
    /// A balance the client's transfers do not explain.
    #[error(
        "balance: account {account} holds {held} on node {node}; {before} before the run \
             and the transfers it applied make {expected}"
    )]
    Balance {
        /// The account.
        #[serde(serialize_with = "hex_account")]
        account: AccountId,
        /// The node.
        node: usize,
        /// Its balance before the run.
        before: u64,
        /// Before plus the applied transfers' effects.
        expected: i128,
        /// What the node holds.
        held: u64,
    },
}

impl HistoryViolation {
    /// The node whose ledger shows it.
    pub fn node(&self) -> usize {
        match self {
            HistoryViolation::MissingFinal { node, .. }
            | HistoryViolation::FinalDiffers { node, .. }
            | HistoryViolation::AppliedTwice { node, .. }
            | HistoryViolation::NonceTwice { node, .. }
            | HistoryViolation::RefusedPresent { node, .. }
            | HistoryViolation::Unexplained { node, .. }
            | HistoryViolation::Balance { node, .. } => *node,
        }
    }
}

fn hex<S: serde::Serializer>(id: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&id.to_string())
}

fn hex_account<S: serde::Serializer>(id: &AccountId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&id.to_hex())
}

/// An operation acknowledged but never seen final, and where the first view holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotFinal {
    /// The operation.
    pub op: u64,
    /// The unit id.
    #[serde(serialize_with = "hex")]
    pub id: Hash,
    /// Height the first node's chain confirms it at, if any.
    pub confirmed_height: Option<u64>,
    /// Whether that height is final there.
    pub is_final: bool,
}

/// How many acknowledged-not-final operations a report lists (all are counted).
pub const NOT_FINAL_LISTED: usize = 20;

/// What the checker found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryReport {
    /// Operations invoked.
    pub operations: u64,
    /// Acknowledged by their node.
    pub acknowledged: u64,
    /// Refused by their node.
    pub refused: u64,
    /// Without a definite answer.
    pub unknown: u64,
    /// Seen final by the client.
    pub seen_final: u64,
    /// Nodes whose ledgers were read.
    pub nodes: u64,
    /// (final operation, node) pairs verified present exactly as seen.
    pub verified: u64,
    /// Pairs not checkable: the node had not finalised the height, or pruned it.
    pub unverifiable: u64,
    /// Ledger entries of the client's senders read, over all nodes.
    pub entries_read: u64,
    /// (account, node) balances checked (0 without balances from before the run).
    pub balances_checked: u64,
    /// Acknowledged operations the client never saw final.
    pub acknowledged_not_final: u64,
    /// The first [`NOT_FINAL_LISTED`] of them.
    pub not_final: Vec<NotFinal>,
    /// Everything broken.
    pub violations: Vec<HistoryViolation>,
}

/// Check `history` against `views`. With balances in the history (the client's accounts, used
/// by nobody else, and their balances when it began), balances are checked on every complete
/// view.
pub fn check(history: &History, views: &[LedgerView]) -> HistoryReport {
    let before = history.balances.as_ref();
    let mut report = HistoryReport { nodes: views.len() as u64, ..HistoryReport::default() };
    let mut by_id: BTreeMap<Hash, &Operation> = BTreeMap::new();
    for operation in history.operations.values() {
        report.operations += 1;
        match operation.answer {
            Answer::Ok(_) => report.acknowledged += 1,
            Answer::Fail(_) => report.refused += 1,
            Answer::Unknown(_) | Answer::None => report.unknown += 1,
        }
        if let Some(id) = operation.id() {
            by_id.insert(id, operation);
        }
    }
    report.seen_final = history.finals().count() as u64;
    for view in views {
        report.entries_read += view.entries.len() as u64;
        check_view(history, &by_id, view, &mut report);
        if let Some(before) = before.filter(|_| view.complete()) {
            check_balances(&by_id, view, before, &mut report);
        }
    }
    not_final(history, views.first(), &mut report);
    report
}

/// The final-operation, uniqueness and refusal checks on one node's view.
fn check_view(
    history: &History,
    by_id: &BTreeMap<Hash, &Operation>,
    view: &LedgerView,
    report: &mut HistoryReport,
) {
    let node = view.node;
    let mut held: BTreeMap<Hash, &LedgerEntry> = BTreeMap::new();
    let mut spends: BTreeMap<(AccountId, u64), &LedgerEntry> = BTreeMap::new();
    for entry in &view.entries {
        if let Some(first) = held.insert(entry.id, entry) {
            report.violations.push(HistoryViolation::AppliedTwice {
                id: entry.id,
                node,
                first_height: first.height,
                second_height: entry.height,
            });
        }
        if !entry.applied {
            continue;
        }
        if let Some(first) = spends.insert((entry.from, entry.nonce), entry) {
            report.violations.push(HistoryViolation::NonceTwice {
                from: entry.from,
                nonce: entry.nonce,
                node,
                first: first.id,
                first_height: first.height,
                second: entry.id,
                second_height: entry.height,
            });
        }
    }
    for (operation, seen) in history.finals() {
        let Some(id) = operation.id() else { continue };
        if seen.height > view.final_height.min(view.to_height) || seen.height < view.from_height {
            report.unverifiable += 1;
            continue;
        }
        let Some(entry) = held.get(&id) else {
            report.violations.push(HistoryViolation::MissingFinal {
                op: operation.op,
                id,
                node,
                height: seen.height,
                node_final_height: view.final_height,
            });
            continue;
        };
        let checkpoint_differs = seen.checkpoint.is_some_and(|seen| seen != entry.checkpoint);
        if entry.height != seen.height || entry.applied != seen.applied || checkpoint_differs {
            report.violations.push(HistoryViolation::FinalDiffers {
                op: operation.op,
                id,
                node,
                height: seen.height,
                applied: seen.applied,
                node_height: entry.height,
                node_applied: entry.applied,
                checkpoint_differs,
            });
            continue;
        }
        report.verified += 1;
    }
    for (id, operation) in by_id {
        if let (Answer::Fail(_), Some(entry)) = (&operation.answer, held.get(id)) {
            report.violations.push(HistoryViolation::RefusedPresent {
                op: operation.op,
                id: *id,
                node,
                height: entry.height,
            });
        }
    }
}

/// Every client account's balance on `view`'s node against before plus what it applied.
fn check_balances(
    by_id: &BTreeMap<Hash, &Operation>,
    view: &LedgerView,
    before: &BTreeMap<AccountId, u64>,
    report: &mut HistoryReport,
) {
    let mut expected: BTreeMap<AccountId, i128> =
        before.iter().map(|(account, balance)| (*account, i128::from(*balance))).collect();
    for entry in view.entries.iter().filter(|entry| before.contains_key(&entry.from)) {
        let Some(operation) = by_id.get(&entry.id) else {
            report.violations.push(HistoryViolation::Unexplained {
                id: entry.id,
                node: view.node,
                from: entry.from,
                nonce: entry.nonce,
                height: entry.height,
            });
            continue;
        };
        if !entry.applied {
            continue;
        }
        let transfer = &operation.transfer;
        let debit = i128::from(transfer.amount) + i128::from(transfer.fee);
        *expected.entry(transfer.from).or_default() -= debit;
        if let Some(balance) = expected.get_mut(&transfer.to) {
            *balance += i128::from(transfer.amount);
        }
    }
    for (account, expected) in expected {
        let Some(held) = view.balances.get(&account).copied() else { continue };
        report.balances_checked += 1;
        if i128::from(held) != expected {
            report.violations.push(HistoryViolation::Balance {
                account,
                node: view.node,
                before: before.get(&account).copied().unwrap_or(0),
                expected,
                held,
            });
        }
    }
}

/// Acknowledged operations never seen final, with where `first` holds them.
fn not_final(history: &History, first: Option<&LedgerView>, report: &mut HistoryReport) {
    for operation in history.operations.values() {
        let (Answer::Ok(id), None) = (&operation.answer, operation.seen_final) else { continue };
        report.acknowledged_not_final += 1;
        if report.not_final.len() >= NOT_FINAL_LISTED {
            continue;
        }
        let entry = first.and_then(|view| view.entries.iter().find(|entry| entry.id == *id));
        let final_height = first.map_or(0, |view| view.final_height);
        report.not_final.push(NotFinal {
            op: operation.op,
            id: *id,
            confirmed_height: entry.map(|entry| entry.height),
            is_final: entry.is_some_and(|entry| entry.height <= final_height),
        });
    }
}
