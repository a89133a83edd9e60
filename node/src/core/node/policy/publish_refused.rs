//! [`Policy::PublishRefused`] (PROTOCOL.md §7 #8, plot sharing): an identity claiming a plot
//! bound to another account forges as an honest node would; when its own validation refuses the
//! checkpoint (`PlotOfAnotherAccount`), it publishes it to every peer anyway, so that the honest
//! nodes have to judge it.

use crate::core::checkpoint::Checkpoint;
use crate::core::message::Message;
use crate::core::node::{Node, Output, PeerId};
use std::sync::Arc;

impl Node {
    /// [`Policy::PublishRefused`]: send a checkpoint this node refused to every peer.
    pub(in crate::core::node) fn publish_refused(&mut self, checkpoint: &Option<Checkpoint>) {
        let Some(checkpoint) = checkpoint else { return };
        let Ok(bytes) = Message::Checkpoint(checkpoint.clone()).encode() else { return };
        let bytes = Arc::new(bytes);
        self.stats.refused_own_published += 1;
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.push(Output::Send { to: peer, bytes: bytes.clone() });
        }
    }
}
