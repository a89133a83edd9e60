//! Anchor pins: side-chain fork choice below an anchor that is final on the main chain
//! (docs/sidechain-fork-choice.md).
//!
//! Model. A side chain posts every a-th checkpoint to the main chain; once the main chain holds
//! that anchor as final, the side chain's history up to it is settled by the main chain's
//! security, not by the side chain's (possibly small) space. [`Chain::pin_anchor`] records such
//! an anchor `(height, id)`. From then on fork choice refuses every candidate head whose branch
//! does not contain the pinned checkpoint at that height, however heavy: no reorganisation
//! reaches at or below the pin, and a node whose head lacks the pin moves to the best branch that
//! holds it (even a lighter one). Pins only move up: a new pin must descend from the current one
//! (a lower pin must be its ancestor and then changes nothing); anything else is a typed
//! [`PinError`], and the pin in force stays.
//!
//! A pin on a header this node has not accepted yet cannot be checked against the branches it
//! knows, so it waits ([`PinOutcome::Pending`]) and refuses nothing until the header is accepted
//! (its predecessors known, its proof and signature valid), at which point it is checked like a
//! fresh pin and, if it descends from the pin in force, takes effect before the next fork-choice
//! decision. Pending pins are bounded; the lowest goes first, since a higher pin implies it.
//!
//! A candidate refused for lacking the pin can never hold a later pin either (later pins
//! descend from this one), so it leaves the ranking for good: each refused candidate is counted
//! once ([`PinStatus::refused_switches`]) and costs fork choice nothing afterwards.

use super::Chain;
use super::header::Header;
use crate::core::hash::Hash;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Pins waiting for their header; beyond this the lowest is dropped (a higher one implies it).
const PENDING_PINS_MAX: usize = 64;

/// A side checkpoint final on the main chain: every branch fork choice may take contains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AnchorPin {
    /// Height of the anchored checkpoint.
    pub height: u64,
    /// Its id.
    pub id: Hash,
}

/// What [`Chain::pin_anchor`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// The pin is now in force (fork choice honours it from its next decision).
    Pinned,
    /// The pin in force already implies it (the same pin, or one of its ancestors).
    Unchanged,
    /// The header is not accepted here yet: the pin waits for it (see the module docs).
    Pending,
}

/// A pin that cannot be honoured. The pin in force is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// The anchor is not on the branch of the pin in force (or of a pending pin at its
    /// height): the main chain finalised two different side histories.
    #[error(
        "anchor {id:?} at height {height} conflicts with the pin {pinned_id:?} at height \
         {pinned_height}"
    )]
    Conflict {
        /// Height of the refused anchor.
        height: u64,
        /// Id of the refused anchor.
        id: Hash,
        /// Height of the pin it conflicts with.
        pinned_height: u64,
        /// Id of the pin it conflicts with.
        pinned_id: Hash,
    },
    /// The anchor names a known header at another height.
    #[error("anchor {id:?} claims height {height}, but its header is at height {actual}")]
    WrongHeight {
        /// The claimed height.
        height: u64,
        /// The anchor's id.
        id: Hash,
        /// The height of the header with that id.
        actual: u64,
    },
    /// The anchor is higher than the pin in force but the headers between them are not held
    /// (pruned): it cannot be shown to descend from it.
    #[error(
        "anchor {id:?} at height {height}: its ancestor at the pinned height {pinned_height} \
         is not held"
    )]
    AncestryUnknown {
        /// Height of the refused anchor.
        height: u64,
        /// Id of the refused anchor.
        id: Hash,
        /// Height of the pin in force.
        pinned_height: u64,
    },
}

/// The pin state of one chain, for scenarios and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinStatus {
    /// The pin in force, if any.
    pub pinned: Option<AnchorPin>,
    /// Pins waiting for their header.
    pub pending: usize,
    /// Candidate heads fork choice refused because their branch lacks the pin (each once).
    pub refused_switches: u64,
    /// Pending pins dropped when their header arrived: they conflicted with the pin in force.
    pub pending_conflicts: u64,
}

/// A chain's pins (the [`Chain`] field).
#[derive(Debug, Default)]
pub(super) struct AnchorPins {
    pinned: Option<AnchorPin>,
    /// Height to id of pins whose header is not accepted yet.
    pending: BTreeMap<u64, Hash>,
    refused_switches: u64,
    pending_conflicts: u64,
}

impl Chain {
    /// Pins the anchor `(height, id)`, final on the main chain (see the module docs). Fork
    /// choice honours it from its next decision ([`Chain::update_head`]; `Node::pin_anchor`
    /// runs one at once).
    pub fn pin_anchor(&mut self, height: u64, id: Hash) -> Result<PinOutcome, PinError> {
        let anchor = AnchorPin { height, id };
        let outcome = self.check_pin(anchor)?;
        match outcome {
            PinOutcome::Pinned => {
                self.pins.pinned = Some(anchor);
                self.pins.pending.retain(|pending_height, _| *pending_height > height);
            }
            PinOutcome::Pending => {
                self.pins.pending.insert(height, id);
                while self.pins.pending.len() > PENDING_PINS_MAX {
                    self.pins.pending.pop_first();
                }
            }
            PinOutcome::Unchanged => {}
        }
        debug_assert!(self.pins.pending.len() <= PENDING_PINS_MAX);
        Ok(outcome)
    }

    /// The pin in force, waiting pins and refusals.
    pub fn pin_status(&self) -> PinStatus {
        PinStatus {
            pinned: self.pins.pinned,
            pending: self.pins.pending.len(),
            refused_switches: self.pins.refused_switches,
            pending_conflicts: self.pins.pending_conflicts,
        }
    }

    /// What pinning `anchor` would do, without doing it.
    fn check_pin(&self, anchor: AnchorPin) -> Result<PinOutcome, PinError> {
        let conflict = |pin: AnchorPin| PinError::Conflict {
            height: anchor.height,
            id: anchor.id,
            pinned_height: pin.height,
            pinned_id: pin.id,
        };
        if let Some(header) = self.headers.get(&anchor.id)
            && header.height != anchor.height
        {
            return Err(PinError::WrongHeight {
                height: anchor.height,
                id: anchor.id,
                actual: header.height,
            });
        }
        if let Some(pending) = self.pins.pending.get(&anchor.height)
            && *pending != anchor.id
        {
            return Err(conflict(AnchorPin { height: anchor.height, id: *pending }));
        }
        let known = self.headers.contains_key(&anchor.id);
        let Some(pin) = self.pins.pinned else {
            return Ok(if known { PinOutcome::Pinned } else { PinOutcome::Pending });
        };
        if anchor.height <= pin.height {
            // Only an ancestor of the pin in force (or the pin itself) is consistent with it;
            // where that ancestor is no longer held there is nothing left to protect.
            return match self.ancestor_at(pin.id, anchor.height) {
                Some(ancestor) if ancestor != anchor.id => Err(conflict(pin)),
                _ => Ok(PinOutcome::Unchanged),
            };
        }
        if !known {
            return Ok(PinOutcome::Pending);
        }
        match self.ancestor_at(anchor.id, pin.height) {
            Some(ancestor) if ancestor == pin.id => Ok(PinOutcome::Pinned),
            Some(_) => Err(conflict(pin)),
            None => Err(PinError::AncestryUnknown {
                height: anchor.height,
                id: anchor.id,
                pinned_height: pin.height,
            }),
        }
    }

    /// Id of the ancestor of header `id` at `height` (itself at its own height), if held.
    fn ancestor_at(&self, id: Hash, height: u64) -> Option<Hash> {
        let mut cursor = self.headers.get(&id)?;
        while cursor.height > height {
            cursor = self.headers.get(&cursor.prev)?;
        }
        (cursor.height == height).then_some(cursor.id)
    }

    /// Applies the pending pins whose header has been accepted since (lowest first, so a chain
    /// of them moves the pin up step by step); one that conflicts is dropped and counted.
    pub(super) fn resolve_pending_pins(&mut self) {
        if self.pins.pending.is_empty() {
            return;
        }
        let ready: Vec<(u64, Hash)> = self
            .pins
            .pending
            .iter()
            .filter(|(_, id)| self.headers.contains_key(id))
            .map(|(height, id)| (*height, *id))
            .collect();
        for (height, id) in ready {
            self.pins.pending.remove(&height);
            if self.pin_anchor(height, id).is_err() {
                self.pins.pending_conflicts += 1;
            }
        }
    }

    /// Whether the head's branch holds the pin in force (true without one). Below the lowest
    /// link held the active chain can no longer change, so a pin there is taken as held.
    pub(super) fn head_holds_pin(&self) -> bool {
        let Some(pin) = self.pins.pinned else { return true };
        if pin.height < self.active_base {
            return true;
        }
        self.active_at(pin.height) == Some(pin.id)
    }

    /// Whether the branch made of the active chain up to `fork_height` and then `branch`
    /// (oldest first) holds the pin in force (true without one).
    pub(super) fn branch_holds_pin(&self, fork_height: u64, branch: &[Header]) -> bool {
        let Some(pin) = self.pins.pinned else { return true };
        if pin.height <= fork_height {
            return self.head_holds_pin();
        }
        branch.iter().any(|header| header.height == pin.height && header.id == pin.id)
    }

    /// Fork choice refused `candidate` for lacking the pin: it never will hold it (later pins
    /// descend from this one), so it leaves the ranking and is counted once.
    pub(super) fn refuse_unpinned(&mut self, candidate: Hash) {
        if let Some(header) = self.headers.get(&candidate) {
            let key = (Reverse(header.cumulative_weight), header.seen_seq, candidate);
            self.ranking.remove(&key);
        }
        self.pins.refused_switches += 1;
    }
}
