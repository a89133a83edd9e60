//! Gossip: how units and checkpoints spread. A new transaction goes to `gossip_fanout` random
//! peers (its shared envelope bytes, never re-encoded); every valid checkpoint header goes to
//! every peer; the head is announced to one random peer per interval; missing units and
//! checkpoints are requested from the peer that referred to them, and retried from random
//! peers until they arrive.

use super::{Node, Output, PeerId, Policy};
use crate::core::checkpoint::Checkpoint;
use crate::core::dag::Unit;
use crate::core::hash::Hash;
use crate::core::message::{Message, REQUEST_IDS_MAX};
use std::sync::Arc;

impl Node {
    /// Every announce interval: tell one random peer about the head (anti-entropy; a
    /// withholding or otherwise scheming node keeps quiet) and ask again for what is missing.
    pub(super) fn announce(&mut self) {
        if self.now_ms < self.next_announce_ms {
            return;
        }
        self.next_announce_ms = self.now_ms + self.config.announce_interval_ms.max(1);
        if self.config.policy == Policy::Honest
            && let Some(peer) = self.random_peer(None)
        {
            let head = self.chain.head();
            let message = Message::Head {
                id: head.id,
                height: head.height,
                cumulative_weight: head.cumulative_weight,
            };
            self.send(peer, &message);
        }
        self.retry_requests();
    }

    /// Relay every valid header so that forks propagate and fork choice can act; a
    /// withholding node keeps its own to itself until released. That includes the parked
    /// descendants this one connected (`released`): relaying only the parent spread a branch
    /// one checkpoint short of its tip after a partition healed, which left half of a simulated
    /// network on an equally heavy rival branch that a split then finalised (sim seed 114,
    /// docs/simulator.md).
    pub(super) fn relay_checkpoints(
        &mut self,
        checkpoint: &Arc<Checkpoint>,
        released: &[Arc<Checkpoint>],
        from: Option<PeerId>,
    ) {
        let withheld = self.withholds_own(from);
        let relayed = if withheld { &[][..] } else { std::slice::from_ref(checkpoint) };
        let peers: Vec<PeerId> =
            self.peers.keys().copied().filter(|peer| Some(*peer) != from).collect();
        for header in relayed.iter().chain(released) {
            let Ok(bytes) = Message::Checkpoint((**header).clone()).encode() else {
                continue;
            };
            let bytes = Arc::new(bytes);
            for peer in &peers {
                self.push(Output::Send { to: *peer, bytes: bytes.clone() });
            }
        }
    }

    /// Ask a random peer again for everything still missing: a request or its answer may have
    /// been lost, and without a retry a node could wait forever for one checkpoint or unit
    /// (found by the simulator). Bounded by the request size limit.
    pub(super) fn retry_requests(&mut self) {
        let mut missing: Vec<Hash> = self.chain.missing_prevs(REQUEST_IDS_MAX);
        missing.extend(self.missing_units.iter().filter(|id| !self.dag.knows(id)).copied());
        missing.extend(self.dag.missing_parents(REQUEST_IDS_MAX));
        missing.sort();
        missing.dedup();
        missing.truncate(REQUEST_IDS_MAX);
        if !missing.is_empty()
            && let Some(peer) = self.random_peer(None)
        {
            self.request(peer, missing);
        }
    }

    pub(super) fn gossip_transaction(&mut self, unit: &Arc<Unit>, from: Option<PeerId>) {
        let made = unit.envelope_if_made().is_some();
        let Ok(bytes) = unit.envelope() else { return };
        if !made && let Some(cache) = &self.config.unit_cache {
            cache.record_envelope(unit);
        }
        let candidates: Vec<PeerId> =
            self.peers.keys().copied().filter(|peer| Some(*peer) != from).collect();
        let fanout = self.config.gossip_fanout.min(candidates.len());
        // Partial Fisher-Yates: the first `fanout` entries become a uniform sample.
        let mut candidates = candidates;
        for index in 0..fanout {
            let pick = index + self.rng.index(candidates.len() - index);
            candidates.swap(index, pick);
            self.push(Output::Send { to: candidates[index], bytes: bytes.clone() });
        }
    }

    pub(super) fn serve(&mut self, to: PeerId, ids: &[Hash]) {
        for id in ids.iter().take(REQUEST_IDS_MAX) {
            let message = if let Some(unit) = self.dag.get(id) {
                Message::Transaction(unit.tx.clone())
            } else if let Some(checkpoint) =
                self.chain.header(id).and_then(|header| header.checkpoint.clone())
            {
                Message::Checkpoint((*checkpoint).clone())
            } else {
                // Unknown, or pruned: no negative answer exists on the wire, so the requester's
                // orphan waits in its bounded pool (docs/protocol.md, "Bounded state").
                if self.dag.pruned_height(id).is_some() {
                    self.stats.pruned_requests += 1;
                }
                continue;
            };
            self.send(to, &message);
        }
    }

    pub(super) fn request(&mut self, peer: PeerId, ids: Vec<Hash>) {
        if self.requested.len() > 65_536 {
            // Bounded: forgetting old requests only re-applies the plausibility checks.
            self.requested.clear();
        }
        self.requested.extend(ids.iter().copied());
        for chunk in ids.chunks(REQUEST_IDS_MAX) {
            self.send(peer, &Message::GetUnits(chunk.to_vec()));
        }
    }

    pub(super) fn send(&mut self, to: PeerId, message: &Message) {
        if let Ok(bytes) = message.encode() {
            self.push(Output::Send { to, bytes: Arc::new(bytes) });
        }
    }

    pub(super) fn random_peer(&mut self, except: Option<PeerId>) -> Option<PeerId> {
        let peers: Vec<PeerId> =
            self.peers.keys().copied().filter(|peer| Some(*peer) != except).collect();
        if peers.is_empty() { None } else { Some(peers[self.rng.index(peers.len())]) }
    }
}
