//! [`Policy::Withhold`]: keep own checkpoints private (no relay, no head announcement) until the
//! driver releases them. Fork choice is unchanged, so the node mines on its private branch while
//! that is at least as heavy as anything it has seen. The scenario engines release from outside
//! (they show the rule the honest nodes' chain); a real process releases by the same rule,
//! [`SelfishRelease`], shown its own view ([`Node::start_release_rule`]).

use super::selfish_release::{SelfishRelease, WithholdView};
use crate::core::checkpoint::Checkpoint;
use crate::core::message::Message;
use crate::core::node::{Node, Output, PeerId, Policy};
use std::sync::Arc;

impl Node {
    /// The node's policy (honest or an attacker's).
    pub fn policy(&self) -> Policy {
        self.config.policy
    }

    /// Whether a checkpoint that came `from` (`None`: forged here) stays private.
    pub(in crate::core::node) fn withholds_own(&self, from: Option<PeerId>) -> bool {
        from.is_none() && self.config.policy == Policy::Withhold
    }

    /// The checkpoint at `height` of this node's active chain, encoded for peers: how a driver
    /// releases what a [`Policy::Withhold`] node kept private.
    pub fn release_message(&self, height: u64) -> Option<Arc<Vec<u8>>> {
        let id = self.chain.active_at(height)?;
        let checkpoint = self.chain.header(&id)?.checkpoint.clone()?;
        Message::Checkpoint((*checkpoint).clone()).encode().ok().map(Arc::new)
    }

    /// From now on this [`Policy::Withhold`] node publishes its private branch itself, by the
    /// selfish-mining rule, after every step ([`Node::release_by_rule`]). A real process has no
    /// outside driver to do it; the public chain it sees is the highest checkpoint its peers
    /// sent. Does nothing under another policy.
    pub fn start_release_rule(&mut self) {
        if self.config.policy != Policy::Withhold {
            return;
        }
        self.public_height_seen = self.public_height_seen.max(self.chain.height());
        self.release_rule = Some(SelfishRelease::new(self.withhold_view()));
    }

    /// The height of the highest checkpoint released by the rule (`None`: no rule runs).
    pub fn released_height(&self) -> Option<u64> {
        self.release_rule.as_ref().map(SelfishRelease::released_height)
    }

    /// Show the release rule (if one runs) this node's view and send what it releases to every
    /// peer, in height order.
    pub fn release_by_rule(&mut self) {
        let view = self.withhold_view();
        let Some(rule) = &mut self.release_rule else { return };
        let Some(heights) = rule.observe(view) else { return };
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for height in heights {
            let Some(bytes) = self.release_message(height) else { continue };
            self.stats.checkpoints_released += 1;
            for peer in &peers {
                self.push(Output::Send { to: *peer, bytes: bytes.clone() });
            }
        }
    }

    /// Count a checkpoint (and the parked descendants it connected) a peer sent toward the
    /// public height a withholding node's rule sees.
    pub(in crate::core::node) fn note_public_height(
        &mut self,
        checkpoint: &Checkpoint,
        released: &[Arc<Checkpoint>],
        from: Option<PeerId>,
    ) {
        if from.is_none() || self.release_rule.is_none() {
            return;
        }
        let highest = released.iter().map(|header| header.body.height).max().unwrap_or(0);
        self.public_height_seen = self.public_height_seen.max(checkpoint.body.height).max(highest);
    }

    /// This node's own view for the release rule: the public chain is what peers sent, the
    /// private one its active chain; it is on its own branch while its head is its own.
    fn withhold_view(&self) -> WithholdView {
        let head = self.chain.head();
        WithholdView {
            public_height: self.public_height_seen,
            private_height: head.height,
            checkpoints_won: self.stats.checkpoints_won,
            heads_differ: head.author == self.account,
        }
    }
}
