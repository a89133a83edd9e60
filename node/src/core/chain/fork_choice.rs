//! Fork choice: which header is the head. Every structurally valid checkpoint becomes a
//! header and a head candidate, ranked heavier first, then first seen, then by id. The head
//! moves to the best candidate whose branch connects (see `connect`), within the reorg limit
//! and above the prune horizon; a branch that fails to connect is marked invalid with all its
//! descendants, and the next candidate is tried. A candidate whose branch lacks the anchor pin
//! in force is refused whatever its weight (`anchor_pin`).

use super::header::{Header, retarget_after};
use super::{Chain, OfferOutcome, RankKey, WAITING_CHECKPOINTS_MAX};
use crate::core::checkpoint::{Checkpoint, CheckpointBody, CheckpointError, ValidationContext};
use crate::core::dag::Dag;
use crate::core::events::Event;
use crate::core::hash::Hash;
use std::cmp::Reverse;
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::Arc;

impl Chain {
    /// Offer a checkpoint received from a peer or forged locally.
    pub fn offer(
        &mut self,
        checkpoint: Arc<Checkpoint>,
        now_ms: u64,
        dag: &mut Dag,
    ) -> Result<OfferOutcome, CheckpointError> {
        let id = checkpoint.id()?;
        if self.headers.contains_key(&id) || self.invalid.contains_key(&id) {
            return Ok(OfferOutcome::Duplicate);
        }
        if self.prune_horizon > 0 && checkpoint.body.height <= self.prune_horizon {
            // Pruned history, or a fork below it this node can never switch to. Not
            // misbehaviour: a slow peer may relay or answer with an old checkpoint.
            return Ok(OfferOutcome::BelowHorizon { horizon: self.prune_horizon });
        }
        let prev = checkpoint.body.prev;
        if self.invalid.contains_key(&prev) {
            self.invalid.insert(id, checkpoint.body.height);
            return Err(CheckpointError::LedgerRootMismatch { height: checkpoint.body.height - 1 });
        }
        if !self.headers.contains_key(&prev) {
            if self.waiting.len() >= WAITING_CHECKPOINTS_MAX {
                self.waiting.pop_first();
            }
            self.waiting.insert(id, (prev, checkpoint));
            return Ok(OfferOutcome::MissingPrev { prev });
        }
        self.insert_header(id, checkpoint, now_ms)?;
        // Release parked descendants, in id order (deterministic).
        let mut accepted = Vec::new();
        let mut released = vec![id];
        while let Some(parent) = released.pop() {
            let children: Vec<Hash> = self
                .waiting
                .iter()
                .filter(|(_, (prev, _))| *prev == parent)
                .map(|(child, _)| *child)
                .collect();
            for child in children {
                if let Some((_, checkpoint)) = self.waiting.remove(&child)
                    && self.insert_header(child, checkpoint.clone(), now_ms).is_ok()
                {
                    released.push(child);
                    accepted.push(checkpoint);
                }
            }
        }
        let missing_units = self.update_head(dag);
        Ok(OfferOutcome::Accepted { missing_units, released: accepted })
    }

    fn insert_header(
        &mut self,
        id: Hash,
        checkpoint: Arc<Checkpoint>,
        now_ms: u64,
    ) -> Result<(), CheckpointError> {
        let prev = self
            .headers
            .get(&checkpoint.body.prev)
            .ok_or(CheckpointError::WrongHeight {
                found: checkpoint.body.height,
                expected_minus_one: u64::MAX,
            })?
            .predecessor();
        let context = ValidationContext {
            now_ms,
            future_drift_ms: self.params.future_drift_ms,
            challenge_refresh: self.params.challenge_refresh,
            parents_max: self.params.checkpoint_parents_max,
            poc: &self.genesis.poc,
            signature_checked: self
                .signature_memo
                .as_ref()
                .is_some_and(|memo| memo.checkpoint_signature_checked(&id)),
        };
        checkpoint.validate_header(&prev, &context)?;
        if let Some(memo) = &self.signature_memo {
            memo.record_checkpoint_signature(id);
        }
        let mut header = Header::from_body(id, &checkpoint.body, self.next_seq);
        self.next_seq += 1;
        header.next_base_target = retarget_after(&header, &self.headers, &self.params);
        header.checkpoint = Some(checkpoint);
        self.ranking.insert((Reverse(header.cumulative_weight), header.seen_seq, id));
        self.events.push(Event::CheckpointAccepted {
            id,
            height: header.height,
            author: header.author,
        });
        self.headers.insert(id, header);
        Ok(())
    }

    /// Base target for the successor of a checkpoint with `body` on this chain's headers (what
    /// `next_base_target` of its header will be once accepted): a grinding miner compares the
    /// versions of its own checkpoint with it.
    pub fn base_target_after(&self, body: &CheckpointBody) -> u64 {
        let Some(prev) = self.headers.get(&body.prev) else { return body.base_target };
        let header = Header::from_body(Hash::ZERO, body, prev.seen_seq);
        retarget_after(&header, &self.headers, &self.params)
    }

    /// Move the active chain to the best connectable candidate. Returns DAG units the best
    /// candidate still lacks (the caller requests them).
    pub fn update_head(&mut self, dag: &mut Dag) -> Vec<Hash> {
        let mut missing = Vec::new();
        self.resolve_pending_pins();
        // Walked with a cursor rather than collected: this runs for every inserted unit, and
        // almost always stops at the first candidate (the head), while the ranking holds every
        // header above the prune horizon. Entries removed behind the loop's back (a branch that
        // failed to connect) are invalid, and `branch_to` would skip them anyway.
        let mut cursor: Option<RankKey> = None;
        loop {
            let next = match &cursor {
                None => self.ranking.iter().next(),
                Some(key) => self.ranking.range((Excluded(key), Unbounded)).next(),
            };
            let Some(key) = next.copied() else { break };
            cursor = Some(key);
            let candidate = key.2;
            if candidate == self.head().id {
                if self.head_holds_pin() {
                    return missing;
                }
                // The head lost the pin: move to the best branch that holds it, even a lighter one.
                self.refuse_unpinned(candidate);
                continue;
            }
            let Some(branch) = self.branch_to(&candidate) else { continue };
            let fork_height = branch.first().map_or(self.height(), |h| h.height - 1);
            // A candidate that is an ancestor of the head (branch empty) is lighter; skip.
            if branch.is_empty() {
                continue;
            }
            if !self.branch_holds_pin(fork_height, &branch) {
                self.refuse_unpinned(candidate);
                continue;
            }
            let depth = self.height() - fork_height;
            // Only the reorg limit refuses a branch. Disconnecting a final checkpoint is allowed
            // and reported (`FinalReverted`): PROTOCOL.md makes that a detected safety violation,
            // and refusing it would strand a node (or a withholding attacker) on a dead branch.
            if depth > self.params.reorg_limit {
                self.events.push(Event::ReorgRefused {
                    depth,
                    limit: self.params.reorg_limit,
                    candidate,
                });
                continue;
            }
            // The horizon never exceeds height - R when it moves, but the head may since have
            // moved to a heavier, shorter branch: the pruned units are gone either way.
            if fork_height < self.prune_horizon {
                self.events.push(Event::ReorgRefused {
                    depth,
                    limit: self.height().saturating_sub(self.prune_horizon),
                    candidate,
                });
                continue;
            }
            let lacking: Vec<Hash> = branch
                .iter()
                .flat_map(|header| header.parents().to_vec())
                .filter(|unit| !dag.has_parent(unit))
                .collect();
            if !lacking.is_empty() {
                // The best branch cannot be connected yet: fetch its units, try lighter ones.
                if missing.is_empty() {
                    missing = lacking;
                }
                continue;
            }
            if self.switch_to(fork_height, &branch, dag) {
                return missing;
            }
        }
        missing
    }

    /// Headers from the fork point (exclusive) to `tip`, oldest first; `None` if the branch
    /// contains an invalid or unknown header.
    pub(super) fn branch_to(&self, tip: &Hash) -> Option<Vec<Header>> {
        let mut branch = Vec::new();
        let mut cursor = *tip;
        loop {
            let header = self.headers.get(&cursor)?;
            if self.active_at(header.height) == Some(cursor) {
                break;
            }
            if self.invalid.contains_key(&cursor) {
                return None;
            }
            branch.push(header.clone());
            cursor = header.prev;
        }
        branch.reverse();
        Some(branch)
    }

    /// Disconnect to `fork_height`, connect `branch`. On a bad ledger root, restore the old chain
    /// and return false.
    fn switch_to(&mut self, fork_height: u64, branch: &[Header], dag: &mut Dag) -> bool {
        let old_head = self.head().id;
        let old_weight = self.head().cumulative_weight;
        let old_height = self.height();
        let old_held_pin = self.head_holds_pin();
        let old_branch: Vec<Header> = ((fork_height + 1)..=old_height)
            .filter_map(|height| self.active_at(height))
            .filter_map(|id| self.headers.get(&id).cloned())
            .collect();
        self.disconnect_to(fork_height, dag);
        for (index, header) in branch.iter().enumerate() {
            if let Err(error) = self.connect(header, dag) {
                self.events.push(Event::CheckpointInvalid {
                    id: header.id,
                    height: header.height,
                    reason: error.to_string(),
                });
                for bad in &branch[index..] {
                    self.invalid.insert(bad.id, bad.height);
                    self.ranking.remove(&(Reverse(bad.cumulative_weight), bad.seen_seq, bad.id));
                }
                self.disconnect_to(fork_height, dag);
                for old in &old_branch {
                    // The old branch connected before, so it connects again identically.
                    let reconnected = self.connect(old, dag);
                    debug_assert!(reconnected.is_ok());
                }
                self.epoch += 1;
                return false;
            }
        }
        self.epoch += 1;
        let head = self.head().clone();
        // Fork choice only leaves the head for a candidate ranked before it, never a lighter
        // one, unless the head had lost the anchor pin (then the best branch holding it wins).
        debug_assert!(
            head.cumulative_weight >= old_weight || !old_held_pin,
            "head weight fell from {old_weight} to {} at a switch to height {}",
            head.cumulative_weight,
            head.height
        );
        if fork_height < old_height {
            self.events.push(Event::Reorg {
                depth: old_height - fork_height,
                old_head,
                new_head: head.id,
            });
        }
        self.events.push(Event::HeadChanged {
            id: head.id,
            height: head.height,
            cumulative_weight: head.cumulative_weight,
            timestamp_ms: head.timestamp_ms,
        });
        self.emit_finality(dag);
        true
    }
}
