//! [`Policy::ExtendAllForks`] (PROTOCOL.md §7 #4, double dipping, "nothing at stake"): forge on
//! every checkpoint this node knows, not only on its fork-choice head, each at its own deadline
//! for that checkpoint's successor challenge. Two checkpoints whose successors answer the same
//! challenge (height and generation signature) give this node the same deadline, so it forges
//! only on the one allowing the earliest time. Model networks only (the node computes its own
//! deadlines).

use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::node::{Node, PendingForge, Policy};
use crate::core::poc::challenge::successor_challenge;
use crate::core::poc::{PocMode, PocProof};

impl Node {
    /// Plan a forge on every checkpoint the chain just accepted.
    pub(in crate::core::node) fn plan_fork_forges(&mut self, events: &[Event]) {
        if self.config.policy != Policy::ExtendAllForks {
            return;
        }
        for event in events {
            if let Event::CheckpointAccepted { id, .. } = event {
                self.plan_fork_forge(id);
            }
        }
    }

    /// [`Policy::ExtendAllForks`]: plan a forge on checkpoint `id` at this node's deadline for
    /// its successor, unless a forge for the same successor challenge is planned earlier or done.
    pub(in crate::core::node) fn plan_fork_forge(&mut self, id: &Hash) {
        if self.config.policy != Policy::ExtendAllForks || !self.config.mining {
            return;
        }
        let Some(header) = self.chain.header(id) else { return };
        let challenge = successor_challenge(
            header.height,
            &header.generation_signature,
            &header.author,
            header.next_base_target,
            self.chain.params().challenge_refresh,
        );
        let key = (challenge.height, challenge.generation_signature);
        let prev_timestamp_ms = header.timestamp_ms;
        let seen = self.fork_seen.entry(key).or_insert(prev_timestamp_ms);
        *seen = (*seen).min(prev_timestamp_ms);
        let Some(deadline_ms) = self.own_model_deadline(&challenge) else { return };
        let PocMode::Model { capacities } = &self.config.genesis.poc else { return };
        let Some(&nonces) = capacities.get(&self.account) else { return };
        let at_ms = prev_timestamp_ms.saturating_add(deadline_ms);
        if self.forked.contains(&key)
            || self.fork_forges.get(&key).is_some_and(|planned| planned.at_ms <= at_ms)
        {
            return;
        }
        let proof = PocProof::Model { nonces };
        self.fork_forges
            .insert(key, PendingForge { prev: *id, challenge, proof, deadline_ms, at_ms });
    }

    /// [`Policy::ExtendAllForks`]: forge every planned checkpoint whose time has come, on its
    /// own predecessor (the ledger root is previewed on that branch).
    pub(in crate::core::node) fn forge_on_forks(&mut self) {
        let due: Vec<(u64, Hash)> = self
            .fork_forges
            .iter()
            .filter(|(_, forge)| forge.at_ms <= self.now_ms)
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            let Some(forge) = self.fork_forges.remove(&key) else { continue };
            self.forked.insert(key);
            // Skip a child whose own successor challenge a known checkpoint of the same height
            // already opened no later (another identity's child inside a refresh window, where
            // the author does not enter the signature): it would add nothing to the tree.
            // Only the height and signature key the lottery, so the child's own (not yet
            // retargeted) base target stands in for its successor's.
            let next = successor_challenge(
                forge.challenge.height,
                &forge.challenge.generation_signature,
                &self.account,
                forge.challenge.base_target,
                self.chain.params().challenge_refresh,
            );
            let next_key = (next.height, next.generation_signature);
            if self.fork_seen.get(&next_key).is_some_and(|at| *at <= forge.at_ms) {
                continue;
            }
            let Some(prev) = self.chain.header(&forge.prev).cloned() else { continue };
            let parents = if prev.parents().is_empty() {
                vec![self.chain.genesis_id()]
            } else {
                prev.parents().to_vec()
            };
            let ledger_root = match self.chain.preview_root_after(
                &prev.id,
                &parents,
                &self.account,
                &mut self.dag,
            ) {
                Ok(root) => root,
                Err(error) => {
                    let reason = error.to_string();
                    self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                    continue;
                }
            };
            let (prev, prev_weight) = (prev.id, prev.cumulative_weight);
            let Some(checkpoint) =
                self.sign_checkpoint(prev, prev_weight, &forge, parents, ledger_root, forge.at_ms)
            else {
                continue;
            };
            self.accept_own_checkpoint(checkpoint, forge.deadline_ms);
        }
    }
}
