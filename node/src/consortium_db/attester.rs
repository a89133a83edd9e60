//! A member node's side of "states on chain" (docs/consortium.md): which replica roots it
//! attests, what it concludes from the chain's verdicts, and when it repairs its replica.
//!
//! Model:
//! - Heights attested: every checkpoint height at which the consortium applied a write. Every
//!   member sees the same writes, so every honest member attests the same heights and a quorum
//!   forms; an idle consortium costs nothing. A height is attested once the head reached it
//!   (`HeadChanged`, emitted after the checkpoints are connected), so the root is complete.
//! - The attestations are queued here as `ConsortiumTx::Attest` for the node to sign and
//!   submit (the service, or a harness acting for it): the feed stays an event sink with no
//!   access to the node. The queue is bounded; an attestation older than the chain's window
//!   would be refused anyway, so the oldest is dropped first.
//! - A verdict (`ConsortiumCertified`) is checked against this replica's own root at the
//!   certified height. A mismatch is this member's divergence: it is reported at once (a
//!   `tracing` warning, a counter, the API) and the replica is repaired by replaying its copy
//!   of the on-chain action log; its next attestation then matches. A repair that did not reach
//!   the certified root is not repeated at every later verdict. Other members named as
//!   diverged are recorded as peer divergences, with the checkpoint that revealed them.

use super::{Replica, ReplicaError};
use crate::core::consortium::{ATTESTATION_WINDOW, ConsortiumTx};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Most queued attestations (all consortia): a node that does not submit them loses the oldest.
pub const OUTGOING_MAX: usize = 256;

/// Counters of the attestation side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestStats {
    /// Attestations queued for the node to submit.
    pub attestations_queued: u64,
    /// Queued attestations dropped unsent because the queue was full (`OUTGOING_MAX`).
    pub attestations_dropped: u64,
    /// Verdicts (`ConsortiumCertified` events) judged.
    pub verdicts_seen: u64,
    /// This node's replica disagreed with a certified root.
    pub self_divergences: u64,
    /// Another member named as diverged at a height above any it was named at before.
    pub peer_divergences: u64,
    /// Replays of the action log after this replica disagreed with a certified root.
    pub repairs: u64,
}

/// What this node knows about one consortium's certified states.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// The highest certified height seen and its root.
    pub certified: Option<(u64, Hash)>,
    /// This replica's last disagreement with a certified root.
    pub own: Option<OwnDivergence>,
    /// Other members named as diverged, the latest height each: the attested height and the
    /// checkpoint that said so (history: the chain's `Attestations::diverged` is the state).
    pub peers: BTreeMap<AccountId, PeerDivergence>,
}

/// This replica's disagreement with a certified root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnDivergence {
    /// The certified height.
    pub height: u64,
    /// This replica's root at that height before the repair.
    pub ours: Hash,
    /// The root the chain certified there.
    pub certified: Hash,
    /// The checkpoint whose verdict revealed it.
    pub detected_at: u64,
    /// The root at `height` after handling it: after the repair (equal to `certified` when it
    /// worked), or unchanged when an earlier repair had already failed to reach the chain.
    pub repaired_root: Option<Hash>,
}

/// Another member named as diverged by a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerDivergence {
    /// The attested height at which it diverged.
    pub height: u64,
    /// The checkpoint whose verdict named it.
    pub detected_at: u64,
}

/// A verdict from the chain, as the feed hands it over.
pub struct Verdict<'a> {
    /// Height of the checkpoint that applied the certifying attestation.
    pub checkpoint: u64,
    /// Id of the consortium whose height was certified.
    pub consortium: Hash,
    /// The attested height now certified.
    pub height: u64,
    /// The certified root.
    pub root: Hash,
    /// Members whose attested root at `height` differs from `root`.
    pub diverged: &'a [AccountId],
}

/// This member node's attestation side, across every consortium it replicates: which heights
/// to attest, the queue of `Attest` transactions, and the verdicts seen.
#[derive(Debug, Default)]
pub struct Attester {
    /// Per consortium, heights with applied writes not yet attested.
    unattested: BTreeMap<Hash, BTreeSet<u64>>,
    outgoing: VecDeque<ConsortiumTx>,
    verdicts: BTreeMap<Hash, Verdicts>,
    /// Counters since the node started.
    pub stats: AttestStats,
}

impl Attester {
    /// What this node knows about the certified states of `consortium`; `None` before its first
    /// verdict.
    pub fn verdicts(&self, consortium: &Hash) -> Option<&Verdicts> {
        self.verdicts.get(consortium)
    }

    /// The replica of `consortium` applied a write at `height`.
    pub fn wrote(&mut self, consortium: Hash, height: u64) {
        self.unattested.entry(consortium).or_default().insert(height);
    }

    /// The head reached `height`: attest every written height up to it.
    pub fn head(&mut self, height: u64, replicas: &BTreeMap<Hash, Replica>) {
        for (consortium, heights) in &mut self.unattested {
            let Some(replica) = replicas.get(consortium) else { continue };
            let later = heights.split_off(&(height + 1));
            for attested in std::mem::replace(heights, later) {
                // Applied at `height + 1` at the earliest: an older height would be refused
                // (a restarted node replaying its log reaches here with its whole history).
                if attested + ATTESTATION_WINDOW <= height {
                    continue;
                }
                let root = replica.root_at(attested);
                if self.outgoing.len() >= OUTGOING_MAX {
                    self.outgoing.pop_front();
                    self.stats.attestations_dropped += 1;
                }
                self.outgoing.push_back(ConsortiumTx::Attest {
                    consortium: *consortium,
                    height: attested,
                    root,
                    certificate: None,
                });
                self.stats.attestations_queued += 1;
            }
        }
        self.unattested.retain(|_, heights| !heights.is_empty());
        debug_assert!(self.outgoing.len() <= OUTGOING_MAX);
    }

    /// Checkpoints from `height` up left the chain: their writes are no longer to attest.
    pub fn disconnected(&mut self, height: u64) {
        for heights in self.unattested.values_mut() {
            heights.split_off(&height);
        }
        self.unattested.retain(|_, heights| !heights.is_empty());
    }

    /// The attestations to sign and submit, oldest first.
    pub fn take_outgoing(&mut self) -> Vec<ConsortiumTx> {
        self.outgoing.drain(..).collect()
    }

    /// Judge a verdict against this node's replica (`None`: not a member) and repair the
    /// replica if it disagrees. `node` is this node's account.
    pub fn verdict(
        &mut self,
        node: &AccountId,
        verdict: &Verdict<'_>,
        replica: Option<&mut Replica>,
    ) -> Result<(), ReplicaError> {
        self.stats.verdicts_seen += 1;
        let known = self.verdicts.entry(verdict.consortium).or_default();
        if known.certified.is_none_or(|(height, _)| height < verdict.height) {
            known.certified = Some((verdict.height, verdict.root));
        }
        for member in verdict.diverged.iter().filter(|member| *member != node) {
            let new = known.peers.get(member).is_none_or(|seen| seen.height < verdict.height);
            if new {
                self.stats.peer_divergences += 1;
                tracing::warn!(
                    consortium = %verdict.consortium,
                    member = %member,
                    height = verdict.height,
                    checkpoint = verdict.checkpoint,
                    "a consortium member attested a root other than the certified one"
                );
                known.peers.insert(
                    *member,
                    PeerDivergence { height: verdict.height, detected_at: verdict.checkpoint },
                );
            }
        }
        let Some(replica) = replica else { return Ok(()) };
        let ours = replica.root_at(verdict.height);
        if ours == verdict.root {
            return Ok(());
        }
        self.stats.self_divergences += 1;
        tracing::error!(
            consortium = %verdict.consortium,
            height = verdict.height,
            ours = %ours,
            certified = %verdict.root,
            "this replica's root differs from the certified root: repairing it from the log"
        );
        let mut own = OwnDivergence {
            height: verdict.height,
            ours,
            certified: verdict.root,
            detected_at: verdict.checkpoint,
            repaired_root: None,
        };
        // A repair replays this replica's own log; if that did not reach the certified root
        // once (a member that joined without the history, a log copy that is itself wrong),
        // replaying it again at every verdict would not either: it stays reported.
        let futile = known.own.is_some_and(|last| last.repaired_root != Some(last.certified));
        if futile {
            own.repaired_root = Some(ours);
            known.own = Some(own);
            return Ok(());
        }
        replica.repair()?;
        self.stats.repairs += 1;
        own.repaired_root = Some(replica.root_at(verdict.height));
        known.own = Some(own);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consortium_db::KeyRing;
    use crate::core::consortium::keys::{DataKey, MemberSecret};
    use crate::core::consortium::{Column, ColumnType, Consortium, CreateConsortium, TableSchema};
    use crate::core::consortium::{consortium_id, keys};
    use crate::core::crypto::Keypair;
    use std::collections::BTreeSet;

    fn replica() -> (Hash, BTreeMap<Hash, Replica>) {
        let creator = Keypair::derived("attester", 0).account();
        let secret = MemberSecret::from_bytes([3u8; 32]);
        let id = consortium_id(&creator, 0);
        let key = DataKey([4u8; 32]);
        let create = CreateConsortium {
            name: "c".into(),
            parties: BTreeSet::from([creator]),
            members: BTreeMap::from([(creator, secret.public())]),
            tables: vec![TableSchema {
                name: "t".into(),
                columns: vec![Column {
                    name: "id".into(),
                    column_type: ColumnType::Integer,
                    nullable: false,
                }],
                primary_key: 0,
            }],
            quorum: 1,
            wrapped: BTreeMap::from([(
                creator,
                keys::wrap(&key, &id, 0, &secret.public(), [5u8; 32]).unwrap(),
            )]),
        };
        let consortium = Consortium::create(&create, &creator, id).unwrap();
        let replica = Replica::in_memory(&consortium, KeyRing::with_key(0, key)).unwrap();
        (id, BTreeMap::from([(id, replica)]))
    }

    fn heights(outgoing: &[ConsortiumTx]) -> Vec<u64> {
        outgoing
            .iter()
            .filter_map(|tx| match tx {
                ConsortiumTx::Attest { height, .. } => Some(*height),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn written_heights_are_attested_once_the_head_passes_them_and_not_after_a_disconnect() {
        let (id, replicas) = replica();
        let mut attester = Attester::default();
        for height in [3, 4, 6, 7] {
            attester.wrote(id, height);
        }
        attester.head(4, &replicas);
        assert_eq!(heights(&attester.take_outgoing()), vec![3, 4]);
        attester.disconnected(7);
        attester.head(8, &replicas);
        assert_eq!(heights(&attester.take_outgoing()), vec![6], "7 left the chain");
        // A replay of old history (a restart) queues nothing the chain would refuse.
        attester.wrote(id, 10);
        attester.head(10 + ATTESTATION_WINDOW, &replicas);
        assert!(attester.take_outgoing().is_empty());
        assert_eq!(attester.stats.attestations_queued, 3);
    }

    #[test]
    fn a_repair_that_cannot_reach_the_certified_root_is_not_repeated_at_every_verdict() {
        let (id, mut replicas) = replica();
        let node = Keypair::derived("attester", 0).account();
        let peer = Keypair::derived("attester", 1).account();
        let mut attester = Attester::default();
        for (checkpoint, height) in [(3, 2), (4, 3)] {
            let verdict = Verdict {
                checkpoint,
                consortium: id,
                height,
                root: Hash::of(b"a root no replay of this log gives"),
                diverged: &[peer],
            };
            attester.verdict(&node, &verdict, replicas.get_mut(&id)).unwrap();
        }
        assert_eq!(attester.stats.self_divergences, 2, "reported each time");
        assert_eq!(attester.stats.repairs, 1, "replayed once");
        assert_eq!(attester.stats.peer_divergences, 2, "the peer at two heights");
        let verdicts = attester.verdicts(&id).unwrap();
        assert_eq!(verdicts.own.unwrap().detected_at, 4);
        assert_eq!(verdicts.peers[&peer].height, 3);
    }
}
