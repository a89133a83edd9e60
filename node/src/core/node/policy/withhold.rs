//! [`Policy::Withhold`]: keep own checkpoints private (no relay, no head announcement) until the
//! driver releases them. Fork choice is unchanged, so the node mines on its private branch while
//! that is at least as heavy as anything it has seen.

use crate::core::message::Message;
use crate::core::node::{Node, PeerId, Policy};
use std::sync::Arc;

impl Node {
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
}
