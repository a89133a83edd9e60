//! [`Policy::Grind`] (PROTOCOL.md §7 #5, challenge grinding): forge each own checkpoint in
//! several versions (different timestamps and parent sets, so different content and ids) and
//! publish the one after which this node's own next deadline is smallest. Needs model proofs,
//! whose deadlines the node can compute itself; with real plots it publishes the first version.

use crate::core::checkpoint::{Checkpoint, CheckpointBody};
use crate::core::hash::Hash;
use crate::core::node::{Node, PendingForge};
use crate::core::poc::Challenge;
use crate::core::poc::challenge::successor_challenge;

impl Node {
    /// Forge the checkpoint for `forge` in `variants` versions and keep the one after which this
    /// node's own next deadline is smallest (the first when deadlines are unknown).
    pub(in crate::core::node) fn forge_ground(
        &mut self,
        forge: &PendingForge,
        parents: &[Hash],
        variants: u8,
    ) {
        let mut chosen: Option<(u64, Checkpoint)> = None;
        let mut signatures: Vec<Hash> = Vec::new();
        for variant in 0..variants {
            // Version i is published i ms later and leaves out a different parent (when there
            // is more than one): another id, root and timestamp for the same proof.
            let mut variant_parents = parents.to_vec();
            if variant > 0 && variant_parents.len() > 1 {
                variant_parents.remove(usize::from(variant) % variant_parents.len());
            }
            let timestamp_ms = forge.at_ms + u64::from(variant);
            let Some(checkpoint) = self.build_checkpoint(forge, variant_parents, timestamp_ms)
            else {
                continue;
            };
            let next = self.challenge_after(&checkpoint.body);
            if !signatures.contains(&next.generation_signature) {
                signatures.push(next.generation_signature);
            }
            let score = self.own_model_deadline(&next).unwrap_or(u64::MAX);
            if chosen.as_ref().is_none_or(|(best, _)| score < *best) {
                chosen = Some((score, checkpoint));
            }
        }
        self.stats.grind_rounds += 1;
        if signatures.len() == 1 {
            self.stats.grind_rounds_one_signature += 1;
        }
        let Some((_, checkpoint)) = chosen else { return };
        self.accept_own_checkpoint(checkpoint, forge.deadline_ms);
    }

    /// The challenge the successor of a checkpoint with `body` would answer.
    pub(in crate::core::node) fn challenge_after(&self, body: &CheckpointBody) -> Challenge {
        successor_challenge(
            body.height,
            &body.generation_signature,
            &body.author,
            self.chain.base_target_after(body),
            self.chain.params().challenge_refresh,
        )
    }
}
