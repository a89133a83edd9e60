//! The updates a node keeps for federated-learning participants (docs/federated-learning.md,
//! "Update exchange").
//!
//! Model: a participant trains, commits the hash of its encoded update on chain
//! (`FlTx::CommitUpdate`), and then hands the bytes to its own node (`POST
//! /fl/task/{id}/update`). The node keeps them here and serves them to anyone who asks (`GET
//! /fl/task/{id}/updates/{round}`); the other participants ask every node they know and so
//! collect the round's updates wherever each was posted. Nothing is relayed between nodes.
//!
//! What is admitted: only bytes whose `update_hash` equals the participant's commit for the
//! task's open round in this node's ledger, and that decode to the task's dimension. The hash
//! binds task, round and participant, so nobody can make a node keep bytes no participant
//! committed to, and an update is at most `DIMENSION_MAX` values: a node stores no training
//! record, only what the chain already names. A commit not applied yet on this node is
//! `NotCommitted` (409): the participant retries once its commit is confirmed.
//!
//! Bounds: at most `UPDATES_MAX` updates and `STORED_BYTES_MAX` bytes. When an admission would
//! pass a bound, the updates of rounds their task settled (and of tasks that left the ledger)
//! are dropped first; a store still full after that refuses (`StoreFull`, 507) instead of
//! evicting an update a round in progress needs.

use crate::core::crypto::AccountId;
use crate::core::fl::error::FlError;
use crate::core::fl::model::DIMENSION_MAX;
use crate::core::fl::state::FlTasks;
use crate::core::fl::update::{decode_update, update_hash};
use crate::core::hash::Hash;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most updates one node keeps at a time (all tasks and rounds together).
pub const UPDATES_MAX: usize = 4096;
/// Most update bytes one node keeps at a time.
pub const STORED_BYTES_MAX: usize = 32 * 1024 * 1024;
/// The largest encoded update: the header and `DIMENSION_MAX` values.
pub const UPDATE_BYTES_MAX: usize = 12 + 8 * DIMENSION_MAX as usize;

/// Why an update was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlUpdateError {
    /// No task with this id in the node's ledger.
    #[error("no learning task {task}")]
    UnknownTask {
        /// The id asked for.
        task: Hash,
    },
    /// The account did not join the task.
    #[error("{participant} is not a participant of task {task}")]
    NotParticipant {
        /// The task.
        task: Hash,
        /// The account named.
        participant: AccountId,
    },
    /// The round is settled (or the task finished): no aggregate will use the update.
    #[error("round {round} of task {task} is closed (open round: {current})")]
    RoundClosed {
        /// The task.
        task: Hash,
        /// The round named.
        round: u32,
        /// The task's open round (its rounds count when finished).
        current: u32,
    },
    /// The round is not open yet.
    #[error("round {round} of task {task} is not open yet (open round: {current})")]
    RoundNotOpen {
        /// The task.
        task: Hash,
        /// The round named.
        round: u32,
        /// The task's open round.
        current: u32,
    },
    /// This node's ledger holds no commit of the participant for the open round (yet).
    #[error("{participant} has no update commit for round {round} of task {task} on this node")]
    NotCommitted {
        /// The task.
        task: Hash,
        /// The round.
        round: u32,
        /// The participant.
        participant: AccountId,
    },
    /// The bytes hash to something other than the participant's commit.
    #[error("the update does not match the commit: committed {committed}, got {got}")]
    HashMismatch {
        /// The hash on chain.
        committed: Hash,
        /// The hash of the bytes posted.
        got: Hash,
    },
    /// The bytes are not an update of the task's dimension (`FlError::MalformedUpdate`).
    #[error("malformed update: {reason}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The update has another number of values than the task's model.
    #[error("the task's model has {expected} values, the update {got}")]
    WrongDimension {
        /// The task's dimension.
        expected: usize,
        /// The update's.
        got: usize,
    },
    /// More bytes than any update can have.
    #[error("an update is at most {max} bytes, got {got}")]
    TooLarge {
        /// `UPDATE_BYTES_MAX`.
        max: usize,
        /// The bytes posted.
        got: usize,
    },
    /// The store is full of updates of rounds still in progress.
    #[error("update store full: {updates} updates, {bytes} bytes held")]
    StoreFull {
        /// Updates held.
        updates: usize,
        /// Bytes held.
        bytes: usize,
    },
}

/// Where one update belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UpdateKey {
    /// The task id.
    pub task: Hash,
    /// The round.
    pub round: u32,
    /// The participant that committed it.
    pub participant: AccountId,
}

/// The updates this node keeps, checked against its ledger on admission.
#[derive(Debug, Default)]
pub struct UpdateStore {
    updates: BTreeMap<UpdateKey, Vec<u8>>,
    bytes: usize,
}

/// The store as the API shares it between requests.
pub type SharedUpdates = Arc<Mutex<UpdateStore>>;

impl UpdateStore {
    /// Admit `encoded` as `key.participant`'s update for `key.round`, checked against `tasks`
    /// (this node's ledger). Returns true if it was new, false if the same bytes were held.
    pub fn admit(
        &mut self,
        tasks: &FlTasks,
        key: UpdateKey,
        encoded: Vec<u8>,
    ) -> Result<bool, FlUpdateError> {
        if encoded.len() > UPDATE_BYTES_MAX {
            return Err(FlUpdateError::TooLarge { max: UPDATE_BYTES_MAX, got: encoded.len() });
        }
        let task = tasks.get(&key.task).ok_or(FlUpdateError::UnknownTask { task: key.task })?;
        if !task.participants.contains_key(&key.participant) {
            return Err(FlUpdateError::NotParticipant {
                task: key.task,
                participant: key.participant,
            });
        }
        let current = task.current_round();
        if key.round < current || task.finished() {
            return Err(FlUpdateError::RoundClosed { task: key.task, round: key.round, current });
        }
        if key.round > current {
            return Err(FlUpdateError::RoundNotOpen { task: key.task, round: key.round, current });
        }
        let committed =
            task.open_round.updates.get(&key.participant).ok_or(FlUpdateError::NotCommitted {
                task: key.task,
                round: key.round,
                participant: key.participant,
            })?;
        let got = update_hash(&key.task, key.round, &key.participant, &encoded);
        if got != *committed {
            return Err(FlUpdateError::HashMismatch { committed: *committed, got });
        }
        decode_update(&encoded, task.spec.training.dimension as usize).map_err(|e| match e {
            FlError::WrongDimension { expected, got } => {
                FlUpdateError::WrongDimension { expected, got }
            }
            FlError::MalformedUpdate { reason } => FlUpdateError::Malformed { reason },
            _ => FlUpdateError::Malformed { reason: "undecodable" },
        })?;
        if let Some(held) = self.updates.get(&key) {
            // The commit fixes the bytes: what is held is what was posted again, unless the
            // round restarted (`RoundCommits::attempt`) and the participant committed anew.
            if *held == encoded {
                return Ok(false);
            }
            self.bytes -= held.len();
            self.updates.remove(&key);
        }
        let full = |store: &UpdateStore| {
            store.updates.len() >= UPDATES_MAX || store.bytes + encoded.len() > STORED_BYTES_MAX
        };
        // Updates of settled rounds stay until room is needed: a participant that fell behind
        // still fetches the round it missed, to learn the model the others moved on with.
        if full(self) {
            self.prune(tasks);
        }
        if full(self) {
            return Err(FlUpdateError::StoreFull {
                updates: self.updates.len(),
                bytes: self.bytes,
            });
        }
        self.bytes += encoded.len();
        self.updates.insert(key, encoded);
        debug_assert!(self.updates.len() <= UPDATES_MAX);
        debug_assert!(self.bytes <= STORED_BYTES_MAX);
        Ok(true)
    }

    /// The updates held for `task`'s `round`, in participant order.
    pub fn round(&self, task: &Hash, round: u32) -> Vec<(AccountId, &[u8])> {
        let from = UpdateKey { task: *task, round, participant: AccountId([0; 32]) };
        self.updates
            .range(from..)
            .take_while(|(key, _)| key.task == *task && key.round == round)
            .map(|(key, bytes)| (key.participant, bytes.as_slice()))
            .collect()
    }

    /// Updates and bytes held.
    pub fn held(&self) -> (usize, usize) {
        (self.updates.len(), self.bytes)
    }

    /// Drop the updates no round can use any more: of settled rounds and of tasks gone.
    fn prune(&mut self, tasks: &FlTasks) {
        let before = self.updates.len();
        self.updates.retain(|key, _| {
            tasks.get(&key.task).is_some_and(|task| key.round >= task.current_round())
        });
        if self.updates.len() != before {
            self.bytes = self.updates.values().map(Vec::len).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fl::aggregate::AggregationRule;
    use crate::core::fl::state::FlUndo;
    use crate::core::fl::task::{Participant, RoundCommits, SettledRound, Task, TaskSpec};
    use crate::core::fl::update::encode_update;
    use crate::core::fl::{Fixed, TrainingSpec};

    const ALICE: AccountId = AccountId([1; 32]);
    const BOB: AccountId = AccountId([2; 32]);

    fn task(id: Hash, settled: usize) -> Task {
        let spec = TaskSpec {
            training: TrainingSpec {
                dimension: 2,
                learning_rate: Fixed(3276),
                local_epochs: 1,
                batch_size: 16,
            },
            rule: AggregationRule::FedAvg,
            masked: false,
            rounds: 3,
            min_participants: 1,
            price_per_round: 100,
        };
        let joined = Participant { samples: 5, mask_key: [0; 32], paid: 0 };
        let done = SettledRound {
            aggregate: Hash::ZERO,
            contributors: 1,
            accepted: 1,
            paid: 99,
            burned: 1,
        };
        Task {
            id,
            poster: AccountId([9; 32]),
            spec,
            participants: BTreeMap::from([(ALICE, joined.clone()), (BOB, joined)]),
            open_round: RoundCommits::default(),
            settled: vec![done; settled],
            escrow: 100 * (3 - settled as u64),
        }
    }

    fn ledger(tasks: Vec<Task>) -> FlTasks {
        let mut state = FlTasks::default();
        for task in tasks {
            state.apply(task.id, Some(task), &mut FlUndo::default());
        }
        state
    }

    fn commit(task: &mut Task, participant: AccountId, bytes: &[u8]) {
        let hash = update_hash(&task.id, task.current_round(), &participant, bytes);
        task.open_round.updates.insert(participant, hash);
    }

    /// After a restart of the round the participant commits new bytes; they replace the ones
    /// held for the earlier attempt, which no longer match any commit.
    #[test]
    fn a_restarted_round_s_new_commit_replaces_the_bytes_held() {
        let id = Hash::of(b"task");
        let (first, second) =
            (encode_update(&[Fixed(1), Fixed(-1)]), encode_update(&[Fixed(2), Fixed(-2)]));
        let mut open = task(id, 1);
        let key = UpdateKey { task: id, round: 1, participant: ALICE };
        let mut store = UpdateStore::default();
        commit(&mut open, ALICE, &first);
        assert_eq!(store.admit(&ledger(vec![open.clone()]), key, first.clone()), Ok(true));
        open.open_round = open.open_round.restarted();
        commit(&mut open, ALICE, &second);
        assert_eq!(store.admit(&ledger(vec![open.clone()]), key, second.clone()), Ok(true));
        assert_eq!(store.round(&id, 1), vec![(ALICE, &second[..])]);
        assert_eq!(store.bytes, second.len());
    }

    #[test]
    fn only_the_committed_bytes_of_an_open_round_are_kept_and_served() {
        let id = Hash::of(b"task");
        let bytes = encode_update(&[Fixed(1), Fixed(-1)]);
        let mut open = task(id, 1);
        let key = |round, participant| UpdateKey { task: id, round, participant };
        let mut store = UpdateStore::default();

        let before = ledger(vec![open.clone()]);
        let unknown = UpdateKey { task: Hash::of(b"other"), round: 1, participant: ALICE };
        assert_eq!(
            store.admit(&before, unknown, bytes.clone()),
            Err(FlUpdateError::UnknownTask { task: unknown.task })
        );
        let stranger = AccountId([7; 32]);
        assert!(matches!(
            store.admit(&before, key(1, stranger), bytes.clone()),
            Err(FlUpdateError::NotParticipant { .. })
        ));
        assert!(matches!(
            store.admit(&before, key(1, ALICE), bytes.clone()),
            Err(FlUpdateError::NotCommitted { .. })
        ));
        assert!(matches!(
            store.admit(&before, key(0, ALICE), bytes.clone()),
            Err(FlUpdateError::RoundClosed { round: 0, current: 1, .. })
        ));
        assert!(matches!(
            store.admit(&before, key(2, ALICE), bytes.clone()),
            Err(FlUpdateError::RoundNotOpen { round: 2, current: 1, .. })
        ));

        commit(&mut open, ALICE, &bytes);
        let three = encode_update(&[Fixed(1), Fixed(2), Fixed(3)]);
        commit(&mut open, BOB, &three);
        let tasks = ledger(vec![open.clone()]);
        let mut other = bytes.clone();
        other[12] ^= 1;
        assert!(matches!(
            store.admit(&tasks, key(1, ALICE), other),
            Err(FlUpdateError::HashMismatch { .. })
        ));
        // Bob committed to three values: the hash matches but the model has two.
        assert_eq!(
            store.admit(&tasks, key(1, BOB), three),
            Err(FlUpdateError::WrongDimension { expected: 2, got: 3 })
        );
        let garbage = b"not an update".to_vec();
        commit(&mut open, BOB, &garbage);
        let tasks = ledger(vec![open.clone()]);
        assert!(matches!(
            store.admit(&tasks, key(1, BOB), garbage),
            Err(FlUpdateError::Malformed { .. })
        ));
        assert!(matches!(
            store.admit(&tasks, key(1, ALICE), vec![0; UPDATE_BYTES_MAX + 1]),
            Err(FlUpdateError::TooLarge { .. })
        ));
        assert_eq!(store.held(), (0, 0), "nothing refused is kept");

        assert_eq!(store.admit(&tasks, key(1, ALICE), bytes.clone()), Ok(true));
        assert_eq!(store.admit(&tasks, key(1, ALICE), bytes.clone()), Ok(false));
        assert_eq!(store.round(&id, 1), vec![(ALICE, bytes.as_slice())]);
        assert!(store.round(&id, 0).is_empty());
        assert_eq!(store.held(), (1, bytes.len()));
    }

    #[test]
    fn settled_rounds_are_pruned_and_a_full_store_refuses() {
        let bytes = encode_update(&[Fixed(4), Fixed(5)]);
        let mut store = UpdateStore::default();
        // Fill the store with round-0 updates of many tasks, each committed on the ledger.
        let mut tasks = Vec::new();
        for index in 0..UPDATES_MAX / 2 {
            let mut open = task(Hash::of(&(index as u64).to_le_bytes()), 0);
            commit(&mut open, ALICE, &bytes);
            commit(&mut open, BOB, &bytes);
            tasks.push(open);
        }
        let state = ledger(tasks.clone());
        for open in &tasks {
            for participant in [ALICE, BOB] {
                let key = UpdateKey { task: open.id, round: 0, participant };
                assert_eq!(store.admit(&state, key, bytes.clone()), Ok(true));
            }
        }
        assert_eq!(store.held(), (UPDATES_MAX, UPDATES_MAX * bytes.len()));
        let mut extra = task(Hash::of(b"extra"), 0);
        commit(&mut extra, ALICE, &bytes);
        let mut all = tasks.clone();
        all.push(extra.clone());
        let key = UpdateKey { task: extra.id, round: 0, participant: ALICE };
        assert!(matches!(
            store.admit(&ledger(all.clone()), key, bytes.clone()),
            Err(FlUpdateError::StoreFull { updates: UPDATES_MAX, .. })
        ));
        // Once the first task settles round 0, its two updates go and the new one fits.
        all[0] = task(all[0].id, 1);
        assert_eq!(store.admit(&ledger(all), key, bytes.clone()), Ok(true));
        assert_eq!(store.held(), (UPDATES_MAX - 1, (UPDATES_MAX - 1) * bytes.len()));
        assert!(store.round(&tasks[0].id, 0).is_empty());
    }
}
