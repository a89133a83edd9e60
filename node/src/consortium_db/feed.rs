//! Feeding a member node's replicas from the core's events: `ConsortiumChanged` opens a
//! replica for every consortium the node is a member of (and refreshes its keys),
//! `ConsortiumWrite` applies a sealed action at its checkpoint height, and
//! `CheckpointDisconnected` restores every replica to below the disconnected height, so a reorg
//! undoes the rows exactly as the ledger's undo log undoes the chain state. The node needs no
//! consortium branch of its own: the feed is an event sink like telemetry.
//!
//! `HeadChanged` and `ConsortiumCertified` drive the attestations ([`Attester`]): the feed
//! queues this member's `Attest` transactions for the node to submit, and judges the chain's
//! verdicts against its replicas, repairing one that disagrees.
//!
//! A node restarting replays its chain from its log, and with it these events; a replica is
//! restored below the first height it sees in a run, so a reopened replica file is brought to
//! exactly what the chain says, never applied twice.

use super::attester::{Attester, Verdict};
use super::{ActionOutcome, KeyRing, Replica, ReplicaError};
use crate::core::consortium::keys::MemberSecret;
use crate::core::consortium::{Consortium, ConsortiumTx, SealedAction};
use crate::core::crypto::AccountId;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::driver::EventSink;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A feed shared between the driver's event sink and the API.
pub type SharedFeed = Arc<Mutex<ReplicaFeed>>;

/// An event sink that hands every event to `inner` (telemetry, say) and then to the feed.
pub struct FeedSink<S> {
    /// The sink that sees every event first.
    pub inner: S,
    /// The feed that then sees the consortium and head events.
    pub feed: SharedFeed,
}

impl<S: EventSink> EventSink for FeedSink<S> {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        self.inner.on_event(now_ms, event);
        let ours = matches!(
            event,
            Event::ConsortiumChanged { .. }
                | Event::ConsortiumWrite { .. }
                | Event::ConsortiumEntryPending { .. }
                | Event::ConsortiumEntryDecided { .. }
                | Event::CheckpointDisconnected { .. }
                | Event::HeadChanged { .. }
                | Event::ConsortiumCertified { .. }
        );
        if ours && let Ok(mut feed) = self.feed.lock() {
            feed.on_event(event);
        }
    }
}

/// Counters of what the feed did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Sealed actions applied to a replica.
    pub applied: u64,
    /// Sealed actions refused whole (they did not open or did not fit).
    pub refused: u64,
    /// Replicas restored below a disconnected checkpoint.
    pub restores: u64,
    /// Errors of the replica itself (SQLite, a missing key): the replica is then behind the
    /// chain and `last_error` says why.
    pub errors: u64,
    /// The last such error's message; `None` if none happened.
    pub last_error: Option<String>,
}

/// Every replica of a member node, fed from the core's events (see the module docs).
pub struct ReplicaFeed {
    node: AccountId,
    secret: MemberSecret,
    /// Where replica files go (`None`: in memory).
    directory: Option<PathBuf>,
    replicas: BTreeMap<Hash, Replica>,
    /// Consortia whose replica was restored to the chain in this run.
    synced: BTreeSet<Hash>,
    consortia: BTreeMap<Hash, Consortium>,
    /// Actions of pending entries (of consortia this node is a member of), by entry id, with
    /// the height of the write that made them pending.
    pending: BTreeMap<Hash, (u64, Arc<SealedAction>)>,
    /// Entries decided at most [`DECIDED_RETAINED_HEIGHTS`] ago, with the height of their
    /// decision: a reorg that disconnects the decision makes them pending again.
    decided: BTreeMap<Hash, Decided>,
    /// Per consortium, the heights at which this node became or stopped being a member, cut
    /// back with the replicas on a disconnection: a removal on a branch that loses must not
    /// keep the node from applying the winning branch's writes.
    membership: BTreeMap<Hash, Vec<(u64, bool)>>,
    /// Counters since the node started.
    pub stats: FeedStats,
    /// This member's attestations and the chain's verdicts.
    pub attester: Attester,
}

/// How long a decided entry's action is kept for a reorg that undoes the decision: far deeper
/// than any reorg finality allows.
pub const DECIDED_RETAINED_HEIGHTS: u64 = 1_024;

struct Decided {
    written: u64,
    decided: u64,
    action: Arc<SealedAction>,
}

impl ReplicaFeed {
    /// A feed for member node `node`, whose X25519 `secret` unwraps data keys; replica files
    /// go into `directory` (`None`: in memory).
    pub fn new(node: AccountId, secret: MemberSecret, directory: Option<PathBuf>) -> ReplicaFeed {
        ReplicaFeed {
            node,
            secret,
            directory,
            replicas: BTreeMap::new(),
            synced: BTreeSet::new(),
            consortia: BTreeMap::new(),
            pending: BTreeMap::new(),
            decided: BTreeMap::new(),
            membership: BTreeMap::new(),
            stats: FeedStats::default(),
            attester: Attester::default(),
        }
    }

    /// This node's account (the signer of its attestations).
    pub fn node(&self) -> AccountId {
        self.node
    }

    /// The attestations queued since the last call, for the node to sign and submit.
    pub fn take_outgoing(&mut self) -> Vec<ConsortiumTx> {
        self.attester.take_outgoing()
    }

    /// The replica of `consortium`, if this node is one of its members.
    pub fn replica(&self, consortium: &Hash) -> Option<&Replica> {
        self.replicas.get(consortium)
    }

    /// Every replica this node keeps, by consortium id.
    pub fn replicas(&self) -> impl Iterator<Item = (&Hash, &Replica)> {
        self.replicas.iter()
    }

    /// The consortium's chain state as last seen in an event.
    pub fn consortium(&self, id: &Hash) -> Option<&Consortium> {
        self.consortia.get(id)
    }

    /// Entries whose action this node holds while the parties decide.
    pub fn pending_entries(&self) -> usize {
        self.pending.len()
    }

    /// Handle one core event; a replica error is counted in `stats`, not returned.
    pub fn on_event(&mut self, event: &Event) {
        let result = match event {
            Event::ConsortiumChanged { height, consortium } => self.changed(*height, consortium),
            Event::ConsortiumWrite { height, action, .. } => self.write(*height, action),
            Event::ConsortiumEntryPending { height, entry, action, .. } => {
                if self.is_member(&action.consortium) {
                    self.pending.insert(*entry, (*height, action.clone()));
                }
                Ok(())
            }
            Event::ConsortiumEntryDecided { height, entry, passed, .. } => {
                self.decided(*height, entry, *passed)
            }
            Event::HeadChanged { height, .. } => {
                self.attester.head(*height, &self.replicas);
                Ok(())
            }
            Event::ConsortiumCertified { height, consortium, attested_height, root, diverged } => {
                let member = self
                    .consortia
                    .get(consortium)
                    .is_some_and(|known| known.members.contains_key(&self.node));
                let verdict = Verdict {
                    checkpoint: *height,
                    consortium: *consortium,
                    height: *attested_height,
                    root: *root,
                    diverged,
                };
                let replica = self.replicas.get_mut(consortium).filter(|_| member);
                self.attester.verdict(&self.node, &verdict, replica)
            }
            Event::CheckpointDisconnected { height, .. } => {
                self.attester.disconnected(*height);
                self.disconnected(*height)
            }
            _ => Ok(()),
        };
        if let Err(error) = result {
            self.stats.errors += 1;
            self.stats.last_error = Some(error.to_string());
        }
    }

    /// A removed member keeps its replica of the past but holds no later key.
    fn is_member(&self, consortium: &Hash) -> bool {
        self.membership
            .get(consortium)
            .and_then(|changes| changes.last())
            .is_some_and(|(_, member)| *member)
    }

    fn write(&mut self, height: u64, action: &SealedAction) -> Result<(), ReplicaError> {
        let member = self.is_member(&action.consortium);
        match self.replicas.get_mut(&action.consortium).filter(|_| member) {
            Some(replica) => replica.apply(height, action).map(|outcome| {
                match outcome {
                    ActionOutcome::Applied { .. } => self.stats.applied += 1,
                    ActionOutcome::Refused { .. } => self.stats.refused += 1,
                }
                // A refused action is refused by every member: the height's root is still one
                // every member attests.
                self.attester.wrote(action.consortium, height);
            }),
            None => Ok(()),
        }
    }

    /// A passed entry's action applies at the height of its decision; a dropped one is
    /// forgotten. Either is kept a while, for a reorg that undoes the decision.
    fn decided(&mut self, height: u64, entry: &Hash, passed: bool) -> Result<(), ReplicaError> {
        self.decided.retain(|_, decided| decided.decided + DECIDED_RETAINED_HEIGHTS >= height);
        // Not ours: this node is no member, or saw the write before it became one.
        let Some((written, action)) = self.pending.remove(entry) else { return Ok(()) };
        self.decided.insert(*entry, Decided { written, decided: height, action: action.clone() });
        if passed { self.write(height, &action) } else { Ok(()) }
    }

    fn changed(&mut self, height: u64, consortium: &Consortium) -> Result<(), ReplicaError> {
        self.consortia.insert(consortium.id, consortium.clone());
        let member = consortium.members.contains_key(&self.node);
        let changes = self.membership.entry(consortium.id).or_default();
        if changes.last().is_none_or(|(_, was)| *was != member) {
            changes.push((height, member));
        }
        let keys = KeyRing::unlock(consortium, &self.node, &self.secret).map_err(|error| {
            ReplicaError::Invalid(crate::core::consortium::ConsortiumError::Key(error))
        })?;
        if let Some(replica) = self.replicas.get_mut(&consortium.id) {
            replica.add_keys(keys);
            return Ok(());
        }
        if !consortium.members.contains_key(&self.node) {
            return Ok(());
        }
        let mut replica = match &self.directory {
            Some(directory) => {
                let path = directory.join(format!("consortium-{}.sqlite", consortium.id));
                Replica::open(&path, consortium, keys)?
            }
            None => Replica::in_memory(consortium, keys)?,
        };
        if self.synced.insert(consortium.id) && replica.height() >= height {
            replica.restore_to(height.saturating_sub(1))?;
        }
        self.replicas.insert(consortium.id, replica);
        Ok(())
    }

    fn disconnected(&mut self, height: u64) -> Result<(), ReplicaError> {
        // Writes at or above `height` are undone (a new branch that applies them again emits
        // them again); decisions there are undone, so their entries are pending again.
        self.pending.retain(|_, (written, _)| *written < height);
        for changes in self.membership.values_mut() {
            changes.retain(|(at, _)| *at < height);
        }
        let undone: Vec<Hash> = self
            .decided
            .iter()
            .filter(|(_, decided)| decided.decided >= height)
            .map(|(entry, _)| *entry)
            .collect();
        for entry in undone {
            if let Some(decided) = self.decided.remove(&entry)
                && decided.written < height
            {
                self.pending.insert(entry, (decided.written, decided.action));
            }
        }
        for replica in self.replicas.values_mut() {
            if replica.height() >= height {
                replica.restore_to(height.saturating_sub(1))?;
                self.stats.restores += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consortium::keys::{self, DataKey};
    use crate::core::consortium::{
        Action, Column, ColumnType, CreateConsortium, RowOp, TableSchema, Value, consortium_id,
    };
    use crate::core::crypto::Keypair;

    fn setup() -> (Consortium, MemberSecret, AccountId, DataKey) {
        let creator = Keypair::derived("feed", 0).account();
        let node = Keypair::derived("feed-node", 0).account();
        let secret = MemberSecret::from_bytes([5u8; 32]);
        let id = consortium_id(&creator, 0);
        let key = DataKey([6u8; 32]);
        let wrapped = keys::wrap(&key, &id, 0, &secret.public(), [7u8; 32]).unwrap();
        let create = CreateConsortium {
            name: "c".into(),
            parties: BTreeSet::from([creator]),
            members: BTreeMap::from([(node, secret.public())]),
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
            wrapped: BTreeMap::from([(node, wrapped)]),
        };
        (Consortium::create(&create, &creator, id).unwrap(), secret, node, key)
    }

    fn write(consortium: &Consortium, key: &DataKey, id: i64, height: u64) -> Event {
        let action = Action {
            table: "t".into(),
            ops: vec![RowOp::Insert { row: vec![Value::Integer(id)] }],
            salt: [id as u8; 16],
        };
        let sealed = action.seal(key, consortium.id, 0).unwrap();
        Event::ConsortiumWrite { height, tx: Hash::ZERO, action: Arc::new(sealed) }
    }

    #[test]
    fn a_member_applies_writes_and_a_disconnection_restores_below_it() {
        let (consortium, secret, node, key) = setup();
        let mut feed = ReplicaFeed::new(node, secret, None);
        let shared = Arc::new(consortium.clone());
        feed.on_event(&Event::ConsortiumChanged { height: 1, consortium: shared });
        feed.on_event(&write(&consortium, &key, 1, 1));
        feed.on_event(&write(&consortium, &key, 2, 2));
        let replica = feed.replica(&consortium.id).unwrap();
        assert_eq!(replica.get("t", &Value::Integer(2)).unwrap(), Some(vec![Value::Integer(2)]));
        let root_at_1 = replica.root_at(1);
        let disconnected =
            Event::CheckpointDisconnected { id: Hash::ZERO, height: 2, author: node };
        feed.on_event(&disconnected);
        let replica = feed.replica(&consortium.id).unwrap();
        assert_eq!(replica.get("t", &Value::Integer(2)).unwrap(), None);
        assert_eq!(replica.root(), root_at_1);
        assert_eq!(feed.stats.applied, 2);
        assert_eq!(feed.stats.restores, 1);
        assert_eq!(feed.stats.errors, 0);
    }

    fn action(consortium: &Consortium, key: &DataKey, id: i64) -> Arc<SealedAction> {
        match write(consortium, key, id, 0) {
            Event::ConsortiumWrite { action, .. } => action,
            _ => unreachable!("write builds a ConsortiumWrite"),
        }
    }

    /// A pending entry applies at its decision's height; a reorg undoing the decision makes it
    /// pending again, and the new branch's decision applies it at its own height.
    #[test]
    fn a_passed_entry_applies_at_its_decision_and_a_reorg_undoes_the_decision() {
        let (consortium, secret, node, key) = setup();
        let mut feed = ReplicaFeed::new(node, secret, None);
        let shared = Arc::new(consortium.clone());
        feed.on_event(&Event::ConsortiumChanged { height: 1, consortium: shared });
        let (entry, dropped) = (Hash([1; 32]), Hash([2; 32]));
        let c = consortium.id;
        for (e, row) in [(entry, 1), (dropped, 2)] {
            let action = action(&consortium, &key, row);
            feed.on_event(&Event::ConsortiumEntryPending { height: 2, tx: e, entry: e, action });
        }
        let row = |feed: &ReplicaFeed, id: i64| {
            feed.replica(&c).unwrap().get("t", &Value::Integer(id)).unwrap()
        };
        assert_eq!((row(&feed, 1), feed.pending_entries()), (None, 2));
        let decide = |height, entry, passed| Event::ConsortiumEntryDecided {
            height,
            consortium: c,
            entry,
            passed,
        };
        feed.on_event(&decide(3, entry, true));
        feed.on_event(&decide(3, dropped, false));
        assert_eq!(row(&feed, 1), Some(vec![Value::Integer(1)]));
        assert_eq!((row(&feed, 2), feed.pending_entries()), (None, 0));
        let disconnected =
            Event::CheckpointDisconnected { id: Hash::ZERO, height: 3, author: node };
        feed.on_event(&disconnected);
        assert_eq!((row(&feed, 1), feed.pending_entries()), (None, 2), "pending again");
        feed.on_event(&decide(4, entry, true));
        assert_eq!(row(&feed, 1), Some(vec![Value::Integer(1)]));
        assert_eq!(feed.replica(&c).unwrap().height(), 4);
        // A reorg below the write forgets the entry: the new branch would write it again.
        let below = Event::CheckpointDisconnected { id: Hash::ZERO, height: 2, author: node };
        feed.on_event(&below);
        assert_eq!((row(&feed, 1), feed.pending_entries()), (None, 0));
        assert_eq!(feed.stats.errors, 0, "{:?}", feed.stats.last_error);
    }

    /// The node process reaches the feed only through `FeedSink`: every event the feed acts on
    /// must pass its filter.
    #[test]
    fn the_sink_forwards_the_entry_events() {
        struct Nothing;
        impl EventSink for Nothing {
            fn on_event(&mut self, _: u64, _: &Event) {}
        }
        let (consortium, secret, node, key) = setup();
        let feed = Arc::new(Mutex::new(ReplicaFeed::new(node, secret, None)));
        let mut sink = FeedSink { inner: Nothing, feed: feed.clone() };
        let shared = Arc::new(consortium.clone());
        sink.on_event(0, &Event::ConsortiumChanged { height: 1, consortium: shared });
        let (entry, c) = (Hash([1; 32]), consortium.id);
        let action = action(&consortium, &key, 1);
        sink.on_event(0, &Event::ConsortiumEntryPending { height: 2, tx: entry, entry, action });
        assert_eq!(feed.lock().unwrap().pending_entries(), 1);
        let decided =
            Event::ConsortiumEntryDecided { height: 3, consortium: c, entry, passed: true };
        sink.on_event(0, &decided);
        let feed = feed.lock().unwrap();
        let row = feed.replica(&c).unwrap().get("t", &Value::Integer(1)).unwrap();
        assert_eq!(row, Some(vec![Value::Integer(1)]));
    }

    #[test]
    fn a_non_member_keeps_no_replica() {
        let (consortium, _, _, key) = setup();
        let outsider = Keypair::derived("feed-outsider", 0).account();
        let mut feed = ReplicaFeed::new(outsider, MemberSecret::from_bytes([8u8; 32]), None);
        let shared = Arc::new(consortium.clone());
        feed.on_event(&Event::ConsortiumChanged { height: 1, consortium: shared });
        feed.on_event(&write(&consortium, &key, 1, 1));
        assert!(feed.replica(&consortium.id).is_none());
        assert_eq!(feed.stats, FeedStats::default());
    }
}
