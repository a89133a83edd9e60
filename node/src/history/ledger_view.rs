//! What one node's ledger says about a client's transactions: the units its active chain
//! confirmed, height by height, with their sender, nonce and outcome, and the senders'
//! balances. The simulator reads it from the core directly; a real node serves it at
//! `POST /ledger/history` (the same [`view_of`]), in pages of whole heights.

use crate::core::crypto::AccountId;
use crate::core::dag::Outcome;
use crate::core::hash::Hash;
use crate::core::node::Node;
use std::collections::{BTreeMap, BTreeSet};

/// One unit an active checkpoint confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Height of the confirming checkpoint.
    pub height: u64,
    /// The confirming checkpoint's id.
    pub checkpoint: Hash,
    /// The unit's id.
    pub id: Hash,
    /// Its sender.
    pub from: AccountId,
    /// The sender's nonce it spends.
    pub nonce: u64,
    /// Whether the ledger applied it.
    pub applied: bool,
}

/// One node's active chain from `from_height` to `to_height`, restricted to some senders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerView {
    /// The node's index in the net.
    pub node: usize,
    /// The node's final height.
    pub final_height: u64,
    /// The node's head height.
    pub head_height: u64,
    /// The lowest height read: what was asked, raised past what the node pruned.
    pub from_height: u64,
    /// The highest height read (the head, unless a page stopped early).
    pub to_height: u64,
    /// Every unit of the senders asked for confirmed at those heights, in chain order.
    pub entries: Vec<LedgerEntry>,
    /// Units confirmed at those heights whose body the node no longer holds.
    pub bodies_missing: u64,
    /// The senders' balances at the head, read with the entries (only when `to_height` is the
    /// head).
    pub balances: BTreeMap<AccountId, u64>,
}

impl LedgerView {
    /// Append the next page (heights above this view's) read from the same node.
    pub fn extend(&mut self, page: LedgerView) {
        self.final_height = page.final_height;
        self.head_height = page.head_height;
        self.to_height = page.to_height;
        self.entries.extend(page.entries);
        self.bodies_missing += page.bodies_missing;
        self.balances = page.balances;
    }

    /// Whether the view reaches the node's head (its balances are then those of its entries).
    pub fn complete(&self) -> bool {
        self.to_height >= self.head_height
    }
}

/// Read node `index`'s view from `from_height` for `senders` (every sender when empty),
/// stopping after the first height at which `max_units` units have been scanned.
pub fn view_of(
    node: &Node,
    index: usize,
    senders: &BTreeSet<AccountId>,
    from_height: u64,
    max_units: usize,
) -> LedgerView {
    let chain = node.chain();
    let dag = node.dag();
    let head_height = chain.height();
    // Units at or below the prune horizon left memory: their senders are unknown here.
    let start = from_height.max(chain.lowest_held_height()).max(chain.prune_horizon() + 1);
    let mut view = LedgerView {
        node: index,
        final_height: chain.final_height(),
        head_height,
        from_height: start,
        to_height: start.saturating_sub(1),
        ..LedgerView::default()
    };
    let mut scanned = 0;
    for height in start..=head_height {
        let (Some(checkpoint), Some(confirmed)) =
            (chain.active_at(height), chain.confirmed_at(height))
        else {
            break;
        };
        for (id, outcome) in confirmed {
            scanned += 1;
            let Some(unit) = dag.get(id) else {
                view.bodies_missing += 1;
                continue;
            };
            let body = &unit.tx.body;
            if !senders.is_empty() && !senders.contains(&body.from) {
                continue;
            }
            view.entries.push(LedgerEntry {
                height,
                checkpoint,
                id: *id,
                from: body.from,
                nonce: body.nonce,
                applied: *outcome == Outcome::Applied,
            });
        }
        view.to_height = height;
        if scanned >= max_units {
            break;
        }
    }
    if view.complete() {
        let ledger = chain.ledger();
        view.balances = senders.iter().map(|account| (*account, ledger.balance(account))).collect();
    }
    view
}
