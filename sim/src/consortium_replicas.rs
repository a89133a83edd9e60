//! Every simulated node's view of the consortia (docs/consortium.md, "In the simulator"): the
//! node's in-memory replicas, fed from its own core events by the same `ReplicaFeed` the node
//! process wraps in its event sink, and beside them what the checks need from the node's chain:
//! the writes it holds in order and when it was a member of each consortium (both cut back on a
//! disconnected checkpoint, as the replicas are restored). A node that restarts starts a fresh
//! view, as a process whose replicas live in memory does, and replays its log into it.
//!
//! The checks:
//! - `replica-root` (in [`crate::checker`]): at each height a node reports final, every
//!   member's replica root as of that height ([`MemberView::final_roots`]) must be equal;
//! - `time-machine` ([`check_time_machine`]): for heights drawn from the seed, every member's
//!   `root_at(H)`, `select_as_of(QUERY, H)` and `get_as_of` of a drawn key equal those of a fresh
//!   replica fed only the chain's final writes up to H (the reference node's, each one checked
//!   against what nodes reported final), keyed with the workload's keys, not the members';
//! - `replica-error`: a replica that failed (SQLite, a key) is behind the chain;
//! - `consortium-plaintext`: a node never a member holds a replica, or a removed member holds
//!   a version from after its removal (wire and disk leaks are `crate::canary`'s).

use crate::checker::{FinalTx, Violation};
use crate::consortium_workload::{QUERY, ROW_KEYS, TABLE};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use vein_node::consortium_db::{KeyRing, Replica, ReplicaFeed};
use vein_node::core::consortium::SealedAction;
use vein_node::core::consortium::Value;
use vein_node::core::consortium::keys::MemberSecret;
use vein_node::core::crypto::AccountId;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;

/// Heights drawn per consortium for the time-machine check (the final height is added).
const HEIGHTS_DRAWN: usize = 8;

/// A write as a node's chain holds it.
#[derive(Clone, Debug)]
pub struct ChainWrite {
    /// Height of the checkpoint whose order applied the write.
    pub height: u64,
    /// Id of the transaction that carried it (the key of the checker's final transactions).
    pub tx: Hash,
    /// The write as sealed on chain: consortium id, table, key epoch and ciphertext.
    pub action: Arc<SealedAction>,
}

/// One node's consortium state for one start of the node: its replicas (through the feed),
/// the consortium writes its chain holds and its membership history, all fed from its events.
pub struct MemberView {
    node: AccountId,
    feed: ReplicaFeed,
    writes: Vec<ChainWrite>,
    /// Per consortium, the heights at which this node became or stopped being a member.
    membership: BTreeMap<Hash, Vec<(u64, bool)>>,
    /// Checker self-test: writes to a replica this node holds still to withhold from the feed
    /// (0 in every real run), and the writes withheld.
    skip_writes: u64,
    skipped: BTreeSet<Hash>,
}

impl MemberView {
    /// A fresh view for the node with account `node`, opening sealed data keys with `secret`;
    /// `skip_writes` is the `replica-skip` self-test's count of writes to withhold (0 in every
    /// real run).
    pub fn new(node: AccountId, secret: MemberSecret, skip_writes: u64) -> MemberView {
        MemberView {
            node,
            feed: ReplicaFeed::new(node, secret, None),
            writes: Vec::new(),
            membership: BTreeMap::new(),
            skip_writes,
            skipped: BTreeSet::new(),
        }
    }

    /// Feed one of the node's core events: consortium writes and membership changes are
    /// recorded (and cut back on a disconnected checkpoint) and passed to the replicas; other
    /// events are ignored.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::ConsortiumWrite { height, tx, action } => {
                self.writes.push(ChainWrite { height: *height, tx: *tx, action: action.clone() });
                let held = self.feed.replica(&action.consortium).is_some();
                if self.skipped.contains(tx) || (self.skip_writes > 0 && held) {
                    // The same write again after a reorg is withheld again.
                    self.skip_writes = self.skip_writes.saturating_sub(1);
                    self.skipped.insert(*tx);
                    return;
                }
            }
            Event::ConsortiumChanged { height, consortium } => {
                let member = consortium.members.contains_key(&self.node);
                let changes = self.membership.entry(consortium.id).or_default();
                if changes.last().is_none_or(|(_, was)| *was != member) {
                    changes.push((*height, member));
                }
            }
            Event::CheckpointDisconnected { height, .. } => {
                self.writes.retain(|write| write.height < *height);
                for changes in self.membership.values_mut() {
                    changes.retain(|(at, _)| at < height);
                }
            }
            _ => return,
        }
        self.feed.on_event(event);
    }

    /// The node's replicas and the feed's counters.
    pub fn feed(&self) -> &ReplicaFeed {
        &self.feed
    }

    /// Every consortium write on the node's active chain, in chain order (final or not).
    pub fn writes(&self) -> &[ChainWrite] {
        &self.writes
    }

    /// The consortia this node's chain holds.
    pub fn consortia(&self) -> impl Iterator<Item = &Hash> {
        self.membership.keys()
    }

    /// Whether this node's chain lists it as a member of `consortium` at the end of `height`.
    pub fn member_at(&self, consortium: &Hash, height: u64) -> bool {
        self.membership.get(consortium).is_some_and(|changes| {
            changes.iter().rev().find(|(at, _)| *at <= height).is_some_and(|(_, member)| *member)
        })
    }

    /// Whether this node's chain ever listed it as a member of `consortium`.
    pub fn ever_member(&self, consortium: &Hash) -> bool {
        self.membership.get(consortium).is_some_and(|changes| changes.iter().any(|(_, m)| *m))
    }

    /// The height at which this node stopped being a member of `consortium`, if it did.
    pub fn removed_at(&self, consortium: &Hash) -> Option<u64> {
        let changes = self.membership.get(consortium)?;
        let joined = changes.iter().position(|(_, member)| *member)?;
        changes[joined..].iter().find(|(_, member)| !*member).map(|(at, _)| *at)
    }

    /// The root as of `height` of every replica of a consortium this node is a member of at
    /// that height: what the `replica-root` checker compares when `height` becomes final.
    pub fn final_roots(&self, height: u64) -> Vec<(Hash, Hash)> {
        self.feed
            .replicas()
            .filter(|(id, _)| self.member_at(id, height))
            .map(|(id, replica)| (*id, replica.root_at(height)))
            .collect()
    }
}

/// One node's view at the end of a run.
pub struct EndView<'a> {
    /// Index of the node in the run.
    pub node: usize,
    /// The node's final height at the end: only heights up to it are compared.
    pub final_height: u64,
    /// The node's view of its current start.
    pub view: &'a MemberView,
}

/// What the end checks found besides violations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsortiumEnd {
    /// Consortia on the reference node's chain (the node furthest final).
    pub consortia: u64,
    /// Writes final on the reference node's chain.
    pub final_writes: u64,
    /// Writes members' replicas applied and refused (summed over members), restores.
    pub applied: u64,
    /// Sealed actions members' replicas refused whole (did not open or did not fit).
    pub refused: u64,
    /// Replicas restored below a disconnected checkpoint, summed over members.
    pub restores: u64,
    /// Replicas held at the end, summed over consortia and nodes.
    pub member_replicas: u64,
    /// Members removed (on the chains of the nodes they run), whose replicas then stopped.
    pub removed_members: u64,
    /// Member answers compared with the oracle (each one root, one query and one key).
    pub as_of_checks: u64,
}

/// The consortium part of a run's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsortiumReport {
    /// Consortium transactions the workload submitted, and steps it skipped (the node was
    /// down, or its view made the step pointless).
    pub submitted: u64,
    /// Consortium steps of the workload not submitted (see `submitted`).
    pub skipped: u64,
    /// Replica roots compared at final heights (`replica-root`).
    pub root_checks: u64,
    /// Envelopes scanned for the canary.
    pub envelopes_scanned: u64,
    /// The counters of the end-of-run checks.
    pub end: ConsortiumEnd,
}

/// The time-machine, replica-error and in-memory confidentiality checks over `views`;
/// `keys(consortium)` gives every epoch's key the workload used, `finals` the transactions
/// reported final during the run.
pub fn check_time_machine(
    views: &[EndView<'_>],
    keys: &dyn Fn(&Hash) -> Option<KeyRing>,
    finals: &BTreeMap<Hash, FinalTx>,
    rng: &mut DetRng,
    at_ms: u64,
) -> (Vec<Violation>, ConsortiumEnd) {
    let mut violations = Vec::new();
    let mut end = ConsortiumEnd::default();
    let violation =
        |invariant, node, detail: String| Violation { invariant, at_ms, node, other: None, detail };
    for end_view in views {
        let stats = &end_view.view.feed().stats;
        end.applied += stats.applied;
        end.refused += stats.refused;
        end.restores += stats.restores;
        if stats.errors > 0 {
            let detail = format!("{} errors, last {:?}", stats.errors, stats.last_error);
            violations.push(violation("replica-error", end_view.node, detail));
        }
    }
    // The reference chain: the node furthest final (the lowest index among equals).
    let Some(reference) = views.iter().max_by_key(|v| (v.final_height, std::cmp::Reverse(v.node)))
    else {
        return (violations, end);
    };
    for id in reference.view.consortia() {
        end.consortia += 1;
        confidentiality(views, id, &mut violations, at_ms);
        let Some(consortium) = reference.view.feed().consortium(id) else { continue };
        let Some(ring) = keys(id) else {
            let detail = format!("consortium {} was not created by the workload", id.short());
            violations.push(violation("time-machine", reference.node, detail));
            continue;
        };
        let writes: Vec<&ChainWrite> = reference
            .view
            .writes()
            .iter()
            .filter(|write| write.action.consortium == *id)
            .filter(|write| write.height <= reference.final_height)
            .collect();
        end.final_writes += writes.len() as u64;
        for write in &writes {
            let reported = finals.get(&write.tx);
            if reported.is_none_or(|tx| tx.height != write.height || tx.outcome != Outcome::Applied)
            {
                let detail = format!(
                    "write {} at height {} on the reference chain, reported final as {:?}",
                    write.tx.short(),
                    write.height,
                    reported
                );
                violations.push(violation("time-machine", reference.node, detail));
            }
        }
        let mut heights: Vec<u64> = (0..HEIGHTS_DRAWN)
            .map(|_| rng.below(reference.final_height + 1))
            .chain([reference.final_height])
            .collect();
        heights.sort_unstable();
        heights.dedup();
        let mut oracle = match Replica::in_memory(consortium, ring) {
            Ok(oracle) => oracle,
            Err(error) => {
                violations.push(violation("time-machine", reference.node, error.to_string()));
                continue;
            }
        };
        let mut next = writes.iter().peekable();
        for height in heights {
            while let Some(write) = next.next_if(|write| write.height <= height) {
                if let Err(error) = oracle.apply(write.height, &write.action) {
                    let detail = format!("oracle replay: {error}");
                    violations.push(violation("time-machine", reference.node, detail));
                }
            }
            let key = Value::Integer(rng.below(ROW_KEYS) as i64);
            for end_view in views {
                let Some(replica) = end_view.view.feed().replica(id) else { continue };
                if end_view.final_height < height || !end_view.view.member_at(id, height) {
                    continue;
                }
                end.as_of_checks += 1;
                if let Some(detail) = compare(replica, &oracle, height, &key) {
                    let detail = format!("consortium {} as of {height}: {detail}", id.short());
                    violations.push(violation("time-machine", end_view.node, detail));
                }
            }
        }
        let with_replica = views.iter().filter(|v| v.view.feed().replica(id).is_some());
        end.member_replicas += with_replica.clone().count() as u64;
        end.removed_members +=
            with_replica.filter(|v| v.view.removed_at(id).is_some()).count() as u64;
    }
    (violations, end)
}

/// How `replica`'s answers as of `height` differ from the oracle's current ones (the oracle
/// holds nothing after `height`), if they do.
fn compare(replica: &Replica, oracle: &Replica, height: u64, key: &Value) -> Option<String> {
    if replica.root_at(height) != oracle.root() {
        return Some(format!(
            "root {} here, {} by replay",
            replica.root_at(height).short(),
            oracle.root().short()
        ));
    }
    match (replica.select_as_of(QUERY, height), oracle.select_as_of(QUERY, height)) {
        (Ok(here), Ok(replayed)) if here != replayed => {
            return Some(format!(
                "{} rows here, {} by replay",
                here.rows.len(),
                replayed.rows.len()
            ));
        }
        (Err(error), _) | (_, Err(error)) => return Some(format!("query failed: {error}")),
        _ => {}
    }
    match (replica.get_as_of(TABLE, key, height), oracle.get(TABLE, key)) {
        (Ok(here), Ok(replayed)) if here != replayed => {
            Some(format!("key {key:?}: {here:?} here, {replayed:?} by replay"))
        }
        (Err(error), _) | (_, Err(error)) => Some(format!("key lookup failed: {error}")),
        _ => None,
    }
}

/// No node that was never a member holds a replica of `id`; a removed member holds nothing
/// from after its removal.
fn confidentiality(views: &[EndView<'_>], id: &Hash, violations: &mut Vec<Violation>, at: u64) {
    for end_view in views {
        let Some(replica) = end_view.view.feed().replica(id) else { continue };
        let detail = if !end_view.view.ever_member(id) {
            Some(format!("a replica of consortium {} on a node never a member", id.short()))
        } else {
            end_view.view.removed_at(id).filter(|removed| replica.height() > *removed).map(
                |removed| {
                    format!(
                        "removed from {} at height {removed}, its replica holds height {}",
                        id.short(),
                        replica.height()
                    )
                },
            )
        };
        if let Some(detail) = detail {
            violations.push(Violation {
                invariant: "consortium-plaintext",
                at_ms: at,
                node: end_view.node,
                other: None,
                detail,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consortium_workload::{self, ConsortiumDraw, data_key, member_secret};
    use vein_node::core::consortium::Consortium;
    use vein_node::core::crypto::Keypair;

    struct Fixture {
        consortium: Arc<Consortium>,
        keys: Vec<Keypair>,
        views: Vec<MemberView>,
    }

    /// Node 0..4 members of plan 0 (seed 3), node 5 an outsider; every view sees the creation
    /// at height 1.
    fn fixture(skip_on_node_0: u64) -> Fixture {
        let keys: Vec<Keypair> = (0..6).map(|i| Keypair::derived("vein-sim", i)).collect();
        let plan = consortium_workload::plans(3, &keys[..4], 4).remove(0);
        let (id, create) = consortium_workload::create(3, &plan, 0).unwrap();
        let consortium =
            Arc::new(Consortium::create(&create, &plan.members[0].account, id).unwrap());
        let mut views: Vec<MemberView> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let skip = if i == 0 { skip_on_node_0 } else { 0 };
                MemberView::new(key.account(), member_secret(key), skip)
            })
            .collect();
        let created = Event::ConsortiumChanged { height: 1, consortium: consortium.clone() };
        for view in &mut views {
            view.on_event(&created);
        }
        Fixture { consortium, keys, views }
    }

    fn write_event(id: Hash, height: u64, seed: u64) -> (Event, Hash) {
        let draw = ConsortiumDraw::draw(&mut DetRng::from_seed([seed as u8; 32]));
        let action = consortium_workload::write_action(&draw);
        let sealed = action.seal(&data_key(3, 0, 0), id, 0).unwrap();
        let tx = Hash::of(&seed.to_le_bytes());
        (Event::ConsortiumWrite { height, tx, action: Arc::new(sealed) }, tx)
    }

    fn finish(fixture: &Fixture, finals: &BTreeMap<Hash, FinalTx>) -> Vec<&'static str> {
        let end: Vec<EndView<'_>> = fixture
            .views
            .iter()
            .enumerate()
            .map(|(node, view)| EndView { node, final_height: 9, view })
            .collect();
        let keys = |_: &Hash| Some(KeyRing::with_key(0, data_key(3, 0, 0)));
        let mut rng = DetRng::from_seed([2; 32]);
        let (violations, end) = check_time_machine(&end, &keys, finals, &mut rng, 0);
        assert!(end.as_of_checks > 0);
        violations.iter().map(|v| v.invariant).collect()
    }

    /// Writes at heights 2..=9 with a disconnection of height 5 in the middle (its writes are
    /// replaced): members agree with the replay; the outsider keeps no replica; a member that
    /// skipped one write fails both the final-root comparison and the time machine.
    #[test]
    fn members_match_the_replay_and_a_skipped_write_is_caught() {
        for skip in [0, 1] {
            let mut fixture = fixture(skip);
            let id = fixture.consortium.id;
            let mut finals = BTreeMap::new();
            for height in 2..=9u64 {
                if height == 5 {
                    let (orphan, _) = write_event(id, 5, 100);
                    let author = fixture.keys[0].account();
                    let gone = Event::CheckpointDisconnected { id: Hash::ZERO, height: 5, author };
                    for view in &mut fixture.views {
                        view.on_event(&orphan);
                        view.on_event(&gone);
                    }
                }
                let (event, tx) = write_event(id, height, height);
                let final_tx = FinalTx { height, outcome: Outcome::Applied, node: 0 };
                finals.insert(tx, final_tx);
                for view in &mut fixture.views {
                    view.on_event(&event);
                }
            }
            assert!(fixture.views[5].feed().replica(&id).is_none());
            let roots: Vec<Vec<(Hash, Hash)>> =
                fixture.views.iter().map(|view| view.final_roots(9)).collect();
            assert_eq!(roots[1], roots[2]);
            assert!(roots[5].is_empty(), "the outsider reports no root");
            let found = finish(&fixture, &finals);
            if skip == 0 {
                assert_eq!(roots[0], roots[1]);
                assert!(found.is_empty(), "{found:?}");
            } else {
                assert_ne!(roots[0], roots[1]);
                assert!(found.contains(&"time-machine"), "{found:?}");
            }
        }
    }

    #[test]
    fn membership_follows_changes_and_disconnections() {
        let mut fixture = fixture(0);
        let victim = fixture.keys[1].account();
        let mut removed = (*fixture.consortium).clone();
        removed.members.remove(&victim);
        let id = removed.id;
        let change = Event::ConsortiumChanged { height: 4, consortium: Arc::new(removed) };
        fixture.views[1].on_event(&change);
        let view = &fixture.views[1];
        assert!(view.member_at(&id, 3) && !view.member_at(&id, 4) && !view.member_at(&id, 0));
        assert_eq!(view.removed_at(&id), Some(4));
        let author = fixture.keys[0].account();
        fixture.views[1].on_event(&Event::CheckpointDisconnected {
            id: Hash::ZERO,
            height: 4,
            author,
        });
        assert!(fixture.views[1].member_at(&id, 4));
        assert_eq!(fixture.views[1].removed_at(&id), None);
    }
}
