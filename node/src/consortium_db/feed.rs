//! Feeding a member node's replicas from the core's events: `ConsortiumChanged` opens a
//! replica for every consortium the node is a member of (and refreshes its keys),
//! `ConsortiumWrite` applies a sealed action at its checkpoint height, and
//! `CheckpointDisconnected` restores every replica to below the disconnected height, so a reorg
//! undoes the rows exactly as the ledger's undo log undoes the chain state. The node needs no
//! consortium branch of its own: the feed is an event sink like telemetry.
//!
//! A node restarting replays its chain from its log, and with it these events; a replica is
//! restored below the first height it sees in a run, so a reopened replica file is brought to
//! exactly what the chain says, never applied twice.

use super::{ActionOutcome, KeyRing, Replica, ReplicaError};
use crate::core::consortium::Consortium;
use crate::core::consortium::keys::MemberSecret;
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
    pub inner: S,
    pub feed: SharedFeed,
}

impl<S: EventSink> EventSink for FeedSink<S> {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        self.inner.on_event(now_ms, event);
        let ours = matches!(
            event,
            Event::ConsortiumChanged { .. }
                | Event::ConsortiumWrite { .. }
                | Event::CheckpointDisconnected { .. }
        );
        if ours && let Ok(mut feed) = self.feed.lock() {
            feed.on_event(event);
        }
    }
}

/// Counters of what the feed did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    pub applied: u64,
    pub refused: u64,
    pub restores: u64,
    /// Errors of the replica itself (SQLite, a missing key): the replica is then behind the
    /// chain and `last_error` says why.
    pub errors: u64,
    pub last_error: Option<String>,
}

pub struct ReplicaFeed {
    node: AccountId,
    secret: MemberSecret,
    /// Where replica files go (`None`: in memory).
    directory: Option<PathBuf>,
    replicas: BTreeMap<Hash, Replica>,
    /// Consortia whose replica was restored to the chain in this run.
    synced: BTreeSet<Hash>,
    consortia: BTreeMap<Hash, Consortium>,
    /// Per consortium, the heights at which this node became or stopped being a member, cut
    /// back with the replicas on a disconnection: a removal on a branch that loses must not
    /// keep the node from applying the winning branch's writes.
    membership: BTreeMap<Hash, Vec<(u64, bool)>>,
    pub stats: FeedStats,
}

impl ReplicaFeed {
    pub fn new(node: AccountId, secret: MemberSecret, directory: Option<PathBuf>) -> ReplicaFeed {
        ReplicaFeed {
            node,
            secret,
            directory,
            replicas: BTreeMap::new(),
            synced: BTreeSet::new(),
            consortia: BTreeMap::new(),
            membership: BTreeMap::new(),
            stats: FeedStats::default(),
        }
    }

    pub fn replica(&self, consortium: &Hash) -> Option<&Replica> {
        self.replicas.get(consortium)
    }

    pub fn replicas(&self) -> impl Iterator<Item = (&Hash, &Replica)> {
        self.replicas.iter()
    }

    /// The consortium's chain state as last seen in an event.
    pub fn consortium(&self, id: &Hash) -> Option<&Consortium> {
        self.consortia.get(id)
    }

    pub fn on_event(&mut self, event: &Event) {
        let result = match event {
            Event::ConsortiumChanged { height, consortium } => self.changed(*height, consortium),
            Event::ConsortiumWrite { height, action, .. } => {
                // A removed member keeps its replica of the past but holds no later key.
                let member = self
                    .membership
                    .get(&action.consortium)
                    .and_then(|changes| changes.last())
                    .is_some_and(|(_, member)| *member);
                match self.replicas.get_mut(&action.consortium).filter(|_| member) {
                    Some(replica) => replica.apply(*height, action).map(|outcome| match outcome {
                        ActionOutcome::Applied { .. } => self.stats.applied += 1,
                        ActionOutcome::Refused { .. } => self.stats.refused += 1,
                    }),
                    None => Ok(()),
                }
            }
            Event::CheckpointDisconnected { height, .. } => self.disconnected(*height),
            _ => Ok(()),
        };
        if let Err(error) = result {
            self.stats.errors += 1;
            self.stats.last_error = Some(error.to_string());
        }
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
        for changes in self.membership.values_mut() {
            changes.retain(|(at, _)| *at < height);
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

    /// A removal applied on a branch that is then disconnected does not keep the member from
    /// applying the winning branch's writes at that height (the simulator's `replica-root`
    /// checker found a member that did, seed 126).
    #[test]
    fn a_removal_on_a_losing_branch_does_not_stop_writes_on_the_winning_one() {
        let (consortium, secret, node, key) = setup();
        let mut feed = ReplicaFeed::new(node, secret, None);
        let created = Arc::new(consortium.clone());
        feed.on_event(&Event::ConsortiumChanged { height: 1, consortium: created });
        let mut removed = consortium.clone();
        removed.members.clear();
        feed.on_event(&Event::ConsortiumChanged { height: 3, consortium: Arc::new(removed) });
        feed.on_event(&write(&consortium, &key, 1, 3));
        assert_eq!(feed.stats.applied, 0, "removed at 3: the write at 3 is not for this node");
        let author = node;
        feed.on_event(&Event::CheckpointDisconnected { id: Hash::ZERO, height: 3, author });
        feed.on_event(&write(&consortium, &key, 2, 3));
        let replica = feed.replica(&consortium.id).unwrap();
        assert_eq!(replica.get("t", &Value::Integer(2)).unwrap(), Some(vec![Value::Integer(2)]));
        assert_eq!((feed.stats.applied, feed.stats.errors), (1, 0));
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
