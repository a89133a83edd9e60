//! Peers, their scores and bans. A peer starts at 100 and loses the penalty of every input of
//! its that is refused ([`RejectReason::penalty`]: clock skew and staleness cost nothing); below
//! `Limits::peer_score_min` it is dropped, the driver told to disconnect it, and it is banned
//! for `Limits::peer_ban_ms`: whatever it sends meanwhile is dropped unread, so a disconnected
//! peer cannot come back at full score with its next frame. After the ban it starts again at
//! 100, which bounds what one misbehaving identity costs per ban period.

use super::{Node, Output, PeerId, RejectReason};
use crate::core::events::Event;

/// Bans held at once: one more evicts the ban that ends soonest (a bound on memory against a
/// transport that lets a hostile peer appear under many names).
const BANNED_MAX: usize = 4_096;

impl Node {
    /// Connected peers and their scores, by peer id.
    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, &i64)> {
        self.peers.iter()
    }

    /// The driver connected `peer`: it starts at score 100 (an already known peer keeps its
    /// score).
    pub fn add_peer(&mut self, peer: PeerId) {
        self.peers.entry(peer).or_insert(100);
    }

    /// The driver lost the connection to `peer`; its score is forgotten (a ban is not).
    pub fn remove_peer(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    /// Banned peers and the local time (ms) each ban ends.
    pub fn banned(&self) -> impl Iterator<Item = (&PeerId, &u64)> {
        self.banned.iter()
    }

    /// Whether `peer` is banned now; a ban that has ended is forgotten here.
    pub(super) fn is_banned(&mut self, peer: PeerId) -> bool {
        match self.banned.get(&peer) {
            Some(&until_ms) if self.now_ms < until_ms => true,
            Some(_) => {
                self.banned.remove(&peer);
                false
            }
            None => false,
        }
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
            self.ban(peer);
            self.emit(Event::PeerDisconnected { peer, score });
            self.outputs.push_back(Output::Disconnect { peer });
        }
    }

    fn ban(&mut self, peer: PeerId) {
        let now_ms = self.now_ms;
        self.banned.retain(|_, until_ms| now_ms < *until_ms);
        if self.banned.len() >= BANNED_MAX {
            let soonest = self.banned.iter().min_by_key(|(id, until)| (**until, **id));
            if let Some((&soonest, _)) = soonest {
                self.banned.remove(&soonest);
            }
        }
        let until_ms = now_ms.saturating_add(self.config.limits.peer_ban_ms);
        self.banned.insert(peer, until_ms);
        debug_assert!(self.banned.len() <= BANNED_MAX);
    }
}
