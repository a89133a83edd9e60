//! Every learning task, as one field of the ledger: changed only through [`FlTasks::check`]
//! (which computes the next state of one task and what it pays) then [`FlTasks::apply`],
//! reverted through [`FlUndo`], and hashed into the ledger root when non-empty.

use super::error::FlError;
use super::task::{FlTx, PARTICIPANTS_MAX, Participant, RoundCommits, SettledRound, Task, task_id};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::wire;
use std::collections::BTreeMap;

/// Every open learning task, by `task_id`; the FL field of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlTasks {
    tasks: BTreeMap<Hash, Task>,
}

/// What a checked transaction changes: one task's next state (`None`: it leaves the state),
/// balances to credit from its escrow, and units to burn from its escrow.
#[derive(Debug)]
pub struct FlEffect {
    /// The task changed.
    pub task: Hash,
    /// Its next state; `None` when it leaves the state (closed).
    pub next: Option<Task>,
    /// Base units to credit from its escrow, per account.
    pub credits: Vec<(AccountId, u64)>,
    /// Base units to burn from its escrow.
    pub burned: u64,
}

/// The task states to restore on a revert.
#[derive(Clone, Debug, Default)]
pub struct FlUndo {
    tasks: Vec<(Hash, Option<Task>)>,
}

/// A task whose escrow is not what its unsettled rounds must hold: a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscrowMismatch {
    /// The task.
    pub task: Hash,
    /// Base units its escrow holds.
    pub escrow: u64,
    /// Base units it should hold (`Task::expected_escrow`).
    pub expected: u64,
}

impl FlTasks {
    /// True while no task is open (the ledger root then leaves the section out).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The open task with this id, if any.
    pub fn get(&self, id: &Hash) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// Every open task, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }

    /// Units held in task escrows.
    pub fn escrowed(&self) -> u64 {
        self.tasks.values().map(|task| task.escrow).sum()
    }

    fn existing(&self, id: &Hash) -> Result<&Task, FlError> {
        self.tasks.get(id).ok_or(FlError::UnknownTask { task: *id })
    }

    /// Would `tx`, signed by `from` with `nonce`, apply now? Returns what it would change. The
    /// ledger has already checked that `from` can pay `tx.debit()` and the fee.
    pub fn check(&self, tx: &FlTx, from: &AccountId, nonce: u64) -> Result<FlEffect, FlError> {
        let effect = |next: Task| FlEffect {
            task: next.id,
            next: Some(next),
            credits: Vec::new(),
            burned: 0,
        };
        match tx {
            FlTx::Post(spec) => {
                spec.validate()?;
                let escrow = spec.escrow().ok_or(FlError::EscrowOverflow {
                    price_per_round: spec.price_per_round,
                    rounds: spec.rounds,
                })?;
                let id = task_id(from, nonce);
                if self.tasks.contains_key(&id) {
                    return Err(FlError::TaskExists { task: id });
                }
                Ok(effect(Task {
                    id,
                    poster: *from,
                    spec: spec.clone(),
                    participants: BTreeMap::new(),
                    open_round: RoundCommits::default(),
                    settled: Vec::new(),
                    escrow,
                }))
            }
            FlTx::Join { task, samples, mask_key } => {
                let mut next = self.existing(task)?.clone();
                if next.current_round() > 0 || !next.open_round.updates.is_empty() {
                    return Err(FlError::JoinClosed { task: *task });
                }
                if *samples == 0 {
                    return Err(FlError::NoSamples);
                }
                if next.participants.contains_key(from) {
                    return Err(FlError::AlreadyJoined { task: *task, account: *from });
                }
                if next.participants.len() >= PARTICIPANTS_MAX {
                    return Err(FlError::TooManyParticipants {
                        task: *task,
                        limit: PARTICIPANTS_MAX,
                    });
                }
                let participant = Participant { samples: *samples, mask_key: *mask_key, paid: 0 };
                next.participants.insert(*from, participant);
                Ok(effect(next))
            }
            FlTx::CommitUpdate { task, round, dimension, update } => {
                let mut next = self.existing(task)?.clone();
                next.require_participant(from)?;
                next.require_open_round(*round)?;
                let needed = next.spec.min_participants as usize;
                if next.participants.len() < needed {
                    let joined = next.participants.len();
                    return Err(FlError::NotEnoughParticipants { task: *task, joined, needed });
                }
                if next.open_round.updates_frozen() {
                    return Err(FlError::UpdatesClosed { task: *task, round: *round });
                }
                let expected = next.spec.training.dimension;
                if *dimension != expected {
                    return Err(FlError::WrongDimension {
                        expected: expected as usize,
                        got: *dimension as usize,
                    });
                }
                if next.open_round.updates.insert(*from, *update).is_some() {
                    return Err(FlError::AlreadyCommitted {
                        task: *task,
                        round: *round,
                        account: *from,
                    });
                }
                Ok(effect(next))
            }
            FlTx::CommitAggregate { task, round, aggregate } => {
                let mut next = self.existing(task)?.clone();
                next.require_participant(from)?;
                next.require_open_round(*round)?;
                if !next.open_round.updates.contains_key(from) {
                    return Err(FlError::NoUpdateCommitted { round: *round, account: *from });
                }
                if next.open_round.aggregates.insert(*from, *aggregate).is_some() {
                    return Err(FlError::AlreadyCommitted {
                        task: *task,
                        round: *round,
                        account: *from,
                    });
                }
                let enough = next.open_round.updates.len() >= next.spec.min_participants as usize;
                if enough && !next.agreement_reachable() {
                    // The votes split so that no hash can win, and the update set is frozen:
                    // start over. (Below m contributors the round could never settle anyway;
                    // that is the committer's mistake, not a split, and is left frozen.)
                    next.open_round = next.open_round.restarted();
                }
                Ok(effect(next))
            }
            FlTx::RevealSeeds { task, round, seeds } => {
                let mut next = self.existing(task)?.clone();
                super::recovery::check_reveal(&next, from, *round, seeds)?;
                next.open_round.revealed.insert(*from, seeds.iter().copied().collect());
                Ok(effect(next))
            }
            FlTx::Settle { task, round } => self.check_settle(task, *round),
            FlTx::Close { task } => {
                let current = self.existing(task)?;
                if current.poster != *from {
                    return Err(FlError::NotPoster { task: *task });
                }
                if !current.finished() && !current.open_round.updates.is_empty() {
                    return Err(FlError::WorkPending {
                        task: *task,
                        round: current.current_round(),
                    });
                }
                let credits = if current.escrow > 0 {
                    vec![(current.poster, current.escrow)]
                } else {
                    Vec::new()
                };
                Ok(FlEffect { task: *task, next: None, credits, burned: 0 })
            }
        }
    }

    fn check_settle(&self, task: &Hash, round: u32) -> Result<FlEffect, FlError> {
        let mut next = self.existing(task)?.clone();
        if round < next.current_round() {
            return Err(FlError::AlreadySettled { round });
        }
        next.require_open_round(round)?;
        let (aggregate, accepted) = next.agreement(round)?;
        let payout = next.payout(&accepted)?;
        for (account, amount) in &payout.credits {
            if let Some(participant) = next.participants.get_mut(account) {
                participant.paid =
                    participant.paid.checked_add(*amount).ok_or(FlError::PayoutOverflow)?;
            }
        }
        let price = next.spec.price_per_round;
        next.escrow = next.escrow.checked_sub(price).ok_or(FlError::PayoutOverflow)?;
        let paid = price - payout.burned;
        next.settled.push(SettledRound {
            aggregate,
            contributors: next.open_round.updates.len() as u32,
            accepted: accepted.len() as u32,
            paid,
            burned: payout.burned,
        });
        next.open_round = RoundCommits::default();
        debug_assert_eq!(next.escrow, next.expected_escrow());
        Ok(FlEffect {
            task: *task,
            next: Some(next),
            credits: payout.credits,
            burned: payout.burned,
        })
    }

    /// Commit the task state `check` computed (balances are the ledger's job).
    pub fn apply(&mut self, task: Hash, next: Option<Task>, undo: &mut FlUndo) {
        let previous = match next {
            Some(next) => self.tasks.insert(task, next),
            None => self.tasks.remove(&task),
        };
        undo.tasks.push((task, previous));
    }

    /// Undo every change recorded in `undo`, newest first.
    pub fn revert(&mut self, undo: FlUndo) {
        for (id, previous) in undo.tasks.into_iter().rev() {
            match previous {
                Some(task) => self.tasks.insert(id, task),
                None => self.tasks.remove(&id),
            };
        }
    }

    /// Every task escrows exactly its unsettled rounds' price.
    pub fn check_escrows(&self) -> Result<(), EscrowMismatch> {
        for task in self.tasks.values() {
            let expected = task.expected_escrow();
            if task.escrow != expected {
                return Err(EscrowMismatch { task: task.id, escrow: task.escrow, expected });
            }
        }
        Ok(())
    }

    /// Feed the tasks section of the ledger root: a domain tag, the count, then each task's
    /// canonical encoding in id order.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/fl/v0");
        hasher.update(&(self.tasks.len() as u64).to_le_bytes());
        for task in self.tasks.values() {
            // Encoding maps, integers and arrays cannot fail; an error would be a bug, and
            // hashing a marker keeps the root a function of the state.
            let bytes = wire::encode_body(task, "fl task").unwrap_or_default();
            debug_assert!(!bytes.is_empty());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
    }
}
