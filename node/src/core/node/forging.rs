//! Forging: the challenge for the round after the head goes to the driver's prover; its answer
//! (`Node::on_proof`) becomes a pending forge at the predecessor's time plus the deadline; when
//! that time comes the node chooses the checkpoint's parents, previews the ledger root, signs
//! and accepts its own checkpoint like any other. Attacker policies change when and on what a
//! node forges (`policy`), never how a checkpoint is built.

use super::{Node, Output, PendingForge, Policy};
use crate::core::checkpoint::{Checkpoint, CheckpointBody};
use crate::core::checkpoint_parents::checkpoint_parents;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::poc::challenge::{successor_challenge, weight};
use crate::core::poc::model::model_deadline_ms;
use crate::core::poc::{Challenge, PocMode};

/// A forge more than this many target intervals past its time is late: the head is stale.
const LATE_FORGE_INTERVALS: u64 = 2;

/// After a start, late forges wait this many announce (or target, if longer) intervals: time
/// for peers' head announcements and relays to bring the network's chain.
const CATCH_UP_GRACE_INTERVALS: u64 = 2;

/// A late forge waits at most this many announce (or target) intervals for a heavier branch
/// this node knows of to connect: a bound, so that a heavy header whose units never come (an
/// attacker's) cannot stop a stalled network from resuming.
const HEAVIER_BRANCH_HOLD_INTERVALS: u64 = 16;

impl Node {
    /// Forge the pending checkpoint once its time has come (and the node is not catching up
    /// after a start), if the head is still the one it was planned on.
    pub(super) fn forge_if_due(&mut self) {
        self.note_late_hold();
        if let Some(forge) = &self.forge
            && forge.at_ms <= self.now_ms
            && self.forge_is_premature(forge.at_ms).is_none()
        {
            let forge = forge.clone();
            self.forge = None;
            if forge.prev == self.chain.head().id {
                self.forge_checkpoint(forge);
            }
        }
    }

    /// A forge whose time passed long ago right after a start means the node started on an old
    /// store: forging at once would put a burst of checkpoints on the stale head (their
    /// timestamps all lie in the past, so nothing makes them wait), and a burst of k + 1 would
    /// be final on this node alone until the network's heavier chain arrived and reverted it
    /// (seen in the testnet end-to-end test after a restart; docs/protocol.md, "Catching up
    /// before forging"). So for a grace period after its start a node forges only on time;
    /// peers' announcements and relays bring the chain meanwhile. After the grace, a late forge
    /// still waits while the node knows a heavier branch it has not connected yet (its units
    /// are on their way), for at most [`HEAVIER_BRANCH_HOLD_INTERVALS`]: a burst on the stale
    /// head is mined in the past, so it carries the node's share of all the time it was away
    /// and, against a network slowed by delays, can outweigh k checkpoints of it
    /// (docs/protocol.md, "Waiting for a heavier branch it knows of"). Returns the time a late forge may go ahead, or `None` if it may go now (or is not late).
    pub(super) fn forge_is_premature(&self, at_ms: u64) -> Option<u64> {
        let params = self.chain.params();
        let late_ms = params.target_interval_ms.saturating_mul(LATE_FORGE_INTERVALS);
        if at_ms.saturating_add(late_ms) >= self.now_ms {
            return None;
        }
        let interval_ms = self.config.announce_interval_ms.max(params.target_interval_ms);
        let grace_ms = interval_ms.saturating_mul(CATCH_UP_GRACE_INTERVALS);
        let settled_ms = self.started_ms.unwrap_or(self.now_ms).saturating_add(grace_ms);
        if settled_ms > self.now_ms {
            return Some(settled_ms);
        }
        if !self.chain.heavier_candidate_known() {
            return None;
        }
        let head = self.chain.head().id;
        let since = match self.late_hold {
            Some((held, since)) if held == head => since,
            _ => self.now_ms,
        };
        let until = since.saturating_add(interval_ms.saturating_mul(HEAVIER_BRANCH_HOLD_INTERVALS));
        (until > self.now_ms).then_some(until)
    }

    /// Remember when a late forge began to wait on this head for a heavier branch (the bound
    /// of [`Node::forge_is_premature`] counts from then); forget it once the head moved.
    fn note_late_hold(&mut self) {
        let head = self.chain.head().id;
        if self.late_hold.is_some_and(|(held, _)| held != head) {
            self.late_hold = None;
        }
        let late_ms = self.chain.params().target_interval_ms.saturating_mul(LATE_FORGE_INTERVALS);
        let late = self
            .forge
            .as_ref()
            .is_some_and(|forge| forge.at_ms.saturating_add(late_ms) < self.now_ms);
        if late && self.late_hold.is_none() && self.chain.heavier_candidate_known() {
            self.late_hold = Some((head, self.now_ms));
        }
    }

    /// Accept a checkpoint this node forged, counting the win or reporting why it was refused.
    pub(super) fn accept_own_checkpoint(&mut self, checkpoint: Checkpoint, deadline_ms: u64) {
        let id = checkpoint.id().unwrap_or(Hash::ZERO);
        let height = checkpoint.body.height;
        // Only an attacker policy needs the refused checkpoint back; honest nodes skip the copy.
        let checkpoint_copy =
            (self.config.policy == Policy::PublishRefused).then(|| checkpoint.clone());
        match self.accept_checkpoint(checkpoint, None) {
            Ok(()) => {
                self.stats.checkpoints_won += 1;
                self.emit(Event::CheckpointWon { id, height, deadline_ms });
            }
            Err(reason) => {
                if self.config.policy == Policy::PublishRefused {
                    self.publish_refused(&checkpoint_copy);
                }
                self.emit(Event::InputRejected {
                    peer: None,
                    kind: "own_checkpoint",
                    reason: reason.to_string(),
                })
            }
        }
    }

    pub(super) fn next_challenge(&self) -> Challenge {
        let head = self.chain.head();
        successor_challenge(
            head.height,
            &head.generation_signature,
            &head.author,
            head.next_base_target,
            self.chain.params().challenge_refresh,
        )
    }

    pub(super) fn issue_challenge(&mut self) {
        if !self.config.mining {
            return;
        }
        let head = self.chain.head().id;
        if self.challenged_head == Some(head) {
            return;
        }
        self.challenged_head = Some(head);
        if self.config.policy == Policy::ExtendAllForks {
            return; // Every checkpoint, the head included, is planned by `plan_fork_forge`.
        }
        let challenge = self.next_challenge();
        if let Policy::OnTheFly { nonces_per_s } = self.config.policy {
            return self.start_fly(challenge, nonces_per_s);
        }
        self.push(Output::Challenge(challenge));
    }

    /// Forge on the head for `forge`: choose the parents, sign, accept.
    fn forge_checkpoint(&mut self, forge: PendingForge) {
        let parents = checkpoint_parents(&self.dag, &self.chain, &mut self.tips);
        if let Policy::Grind { variants } = self.config.policy
            && variants > 1
        {
            return self.forge_ground(&forge, &parents, variants);
        }
        let Some(checkpoint) = self.build_checkpoint(&forge, parents, forge.at_ms) else { return };
        self.accept_own_checkpoint(checkpoint, forge.deadline_ms);
    }

    /// This node's own deadline for `challenge`, when the network runs model proofs.
    pub(super) fn own_model_deadline(&self, challenge: &Challenge) -> Option<u64> {
        let PocMode::Model { capacities } = &self.config.genesis.poc else { return None };
        let nonces = *capacities.get(&self.account)?;
        Some(model_deadline_ms(&self.account, nonces, challenge))
    }

    /// Sign a checkpoint on the head for `forge` with these parents and timestamp.
    pub(super) fn build_checkpoint(
        &mut self,
        forge: &PendingForge,
        parents: Vec<Hash>,
        timestamp_ms: u64,
    ) -> Option<Checkpoint> {
        let head = self.chain.head();
        let (prev, prev_weight) = (head.id, head.cumulative_weight);
        debug_assert_eq!(forge.prev, prev);
        let ledger_root = match self.chain.preview_root(&parents, &self.account, &self.dag) {
            Ok(root) => root,
            Err(error) => {
                let reason = error.to_string();
                self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                return None;
            }
        };
        self.sign_checkpoint(prev, prev_weight, forge, parents, ledger_root, timestamp_ms)
    }

    /// Sign this node's checkpoint for `forge` after `prev` (of cumulative weight
    /// `prev_weight`): the one place an own checkpoint's body is built. A failure to sign is
    /// reported as a refused own checkpoint.
    pub(super) fn sign_checkpoint(
        &mut self,
        prev: Hash,
        prev_weight: u128,
        forge: &PendingForge,
        parents: Vec<Hash>,
        ledger_root: Hash,
        timestamp_ms: u64,
    ) -> Option<Checkpoint> {
        let body = CheckpointBody {
            height: forge.challenge.height,
            prev,
            generation_signature: forge.challenge.generation_signature,
            proof: forge.proof.clone(),
            parents,
            base_target: forge.challenge.base_target,
            cumulative_weight: prev_weight + weight(forge.challenge.base_target),
            ledger_root,
            timestamp_ms,
            author: self.account,
        };
        match body.sign(&self.config.key) {
            Ok(checkpoint) => Some(checkpoint),
            Err(error) => {
                let reason = error.to_string();
                self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                None
            }
        }
    }
}
