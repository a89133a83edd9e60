//! Peers and their scores. A peer starts at 100 and loses the penalty of every input of its
//! that is refused ([`RejectReason::penalty`]: clock skew and staleness cost nothing); below
//! `Limits::peer_score_min` it is dropped and the driver told to disconnect it.

use super::{Node, Output, PeerId, RejectReason};
use crate::core::events::Event;

impl Node {
    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, &i64)> {
        self.peers.iter()
    }

    pub fn add_peer(&mut self, peer: PeerId) {
        self.peers.entry(peer).or_insert(100);
    }

    pub fn remove_peer(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    pub(super) fn reject(&mut self, peer: Option<PeerId>, reason: RejectReason) {
        let kind = reason.kind();
        *self.stats.rejected.entry(kind).or_insert(0) += 1;
        let penalty = reason.penalty();
        self.emit(Event::InputRejected { peer, kind, reason: reason.to_string() });
        let Some(peer) = peer else { return };
        let Some(score) = self.peers.get_mut(&peer) else { return };
        *score -= penalty;
        let score = *score;
        if score < self.config.limits.peer_score_min {
            self.peers.remove(&peer);
            self.emit(Event::PeerDisconnected { peer, score });
            self.outputs.push_back(Output::Disconnect { peer });
        }
    }
}
