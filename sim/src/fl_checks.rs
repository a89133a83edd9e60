//! The federated-learning checks of a simulated run (`SimConfig::fl_share`,
//! docs/federated-learning.md "In the simulator"), as pure functions over what a node's ledger
//! holds, so they unit-test without madsim:
//! - `fl-escrow` ([`task_conservation`]): for every task a node holds, escrow + paid + burned
//!   equals R·p minus the refund of a closed task's unsettled rounds (a task in the state is
//!   not closed, so: escrow + Σ settled (paid + burned) = R·p), every settled round paid plus
//!   burned exactly p, the participants' `paid` sums to the rounds' paid (nothing paid twice,
//!   nothing lost), no more rounds settled than asked for, and every settled round had at
//!   least m contributors and m accepted aggregates.
//! - `fl-masked` ([`masked_recovery`]): the task is masked; every aggregate a participant
//!   recovers from the masked updates and the seeds revealed for the round's drop-outs equals,
//!   bit for bit, FedAvg over the same contributors' unmasked updates (which only the
//!   workload's memory of each owner holds: the oracle).
//! - `fl-root` ([`fl_root`]): two nodes at the same head checkpoint hold the same task state.
//!   The ledger root in the header covers it, so this fails only if the FL section escaped
//!   the root or a node applied FL transactions differently.
//! - `fl-stalled` ([`progress`]): after the faults end every participant is alive again, so a
//!   task that has at least m participants must settle at least one more round in the settle
//!   phase (unless it finished), once the chain gave it [`STALL_CHECKPOINTS`] checkpoints to
//!   do so. A round needs four confirmations in sequence (updates, the first aggregate, the
//!   others' aggregates, the settle), and a clock jump can leave a healthy chain forging only
//!   a few checkpoints in the whole settle phase: counting checkpoints, not seconds, keeps a
//!   slow chain from passing for a stalled task.

use std::collections::BTreeMap;
use vein_node::core::crypto::AccountId;
use vein_node::core::fl::{
    AggregationRule, Contribution, Fixed, FlError, FlTasks, Task, aggregate,
};
use vein_node::core::hash::Hash;

/// The hash of every task a ledger holds: the ledger root's FL section, alone.
pub fn fl_root(tasks: &FlTasks) -> Hash {
    let mut hasher = blake3::Hasher::new();
    tasks.hash_into(&mut hasher);
    Hash(*hasher.finalize().as_bytes())
}

/// Why a task's books do not balance, or `None` if they do (see the module docs).
pub fn task_conservation(task: &Task) -> Option<String> {
    let spec = &task.spec;
    let price = spec.price_per_round;
    let total = u128::from(price) * u128::from(spec.rounds);
    if task.settled.len() > spec.rounds as usize {
        return Some(format!("{} rounds settled of {}", task.settled.len(), spec.rounds));
    }
    let mut paid: u128 = 0;
    let mut burned: u128 = 0;
    for (round, settled) in task.settled.iter().enumerate() {
        if u128::from(settled.paid) + u128::from(settled.burned) != u128::from(price) {
            return Some(format!(
                "round {round}: paid {} + burned {} != price {price}",
                settled.paid, settled.burned
            ));
        }
        let m = spec.min_participants;
        if settled.contributors < m || settled.accepted < m {
            return Some(format!(
                "round {round} settled with {} contributors and {} accepted, minimum {m}",
                settled.contributors, settled.accepted
            ));
        }
        if settled.accepted > settled.contributors {
            return Some(format!(
                "round {round}: {} accepted of {} contributors",
                settled.accepted, settled.contributors
            ));
        }
        paid += u128::from(settled.paid);
        burned += u128::from(settled.burned);
    }
    let escrow = u128::from(task.escrow);
    if escrow + paid + burned != total {
        return Some(format!(
            "escrow {escrow} + paid {paid} + burned {burned} != R·p {total} ({} rounds settled)",
            task.settled.len()
        ));
    }
    let received: u128 = task.participants.values().map(|p| u128::from(p.paid)).sum();
    if received != paid {
        return Some(format!("participants received {received}, rounds paid {paid}"));
    }
    None
}

/// `fl-masked`: what a participant recovered from the open round's masked updates (and the
/// seeds revealed for its drop-outs) against the oracle, FedAvg over the same contributors'
/// unmasked updates (`plain`, which only the workload's memory holds). `None` when equal bit
/// for bit; a recovery error while every contributor revealed is a finding too.
pub fn masked_recovery(
    task: &Task,
    recovered: &Result<Vec<Fixed>, FlError>,
    plain: impl Fn(&AccountId) -> Option<Vec<Fixed>>,
) -> Option<String> {
    let round = task.current_round();
    let mut contributions = Vec::new();
    for account in task.open_round.updates.keys() {
        let samples = task.participants.get(account)?.samples;
        contributions.push(Contribution { update: plain(account)?, samples });
    }
    let dimension = task.spec.training.dimension as usize;
    let expected = aggregate(AggregationRule::FedAvg, &contributions, dimension).ok()?;
    let dropped = task.dropped().len();
    match recovered {
        Ok(words) if *words == expected => None,
        Ok(_) => Some(format!(
            "round {round}: the aggregate recovered over {} contributors ({dropped} dropped) is \
             not their plain FedAvg",
            contributions.len()
        )),
        Err(error) => Some(format!("round {round}: recovery failed ({dropped} dropped): {error}")),
    }
}

/// The aggregate hash the open round's commits agree on and its committers, as the chain's
/// `Settle` rule decides it: committed by a strict majority of the contributors and by at
/// least m of them.
pub fn agreement(task: &Task) -> Option<(Hash, Vec<AccountId>)> {
    let mut votes: BTreeMap<Hash, Vec<AccountId>> = BTreeMap::new();
    for (account, hash) in &task.open_round.aggregates {
        votes.entry(*hash).or_default().push(*account);
    }
    let contributors = task.open_round.updates.len();
    let needed = (contributors / 2 + 1).max(task.spec.min_participants as usize);
    votes.into_iter().find(|(_, accepted)| accepted.len() >= needed)
}

/// Checkpoints after the faults end within which a task with m live participants must settle
/// a round: three rounds' worth of the four confirmations each needs.
pub const STALL_CHECKPOINTS: u64 = 12;

/// `fl-stalled`: the task's settled rounds at the end against the fewest any running node held
/// when the faults ended (a reorganisation at the heal can only move a node to a branch at
/// least as long as the shortest one), given that the node's head advanced `checkpoints`
/// since. `None` when the task progressed, finished, never gathered m participants, or the
/// chain gave it fewer than [`STALL_CHECKPOINTS`] checkpoints.
pub fn progress(task: &Task, settled_at_faults_end: u32, checkpoints: u64) -> Option<String> {
    let settled = task.current_round();
    if task.finished()
        || task.participants.len() < task.spec.min_participants as usize
        || checkpoints < STALL_CHECKPOINTS
    {
        return None;
    }
    (settled <= settled_at_faults_end).then(|| {
        let mut votes: BTreeMap<Hash, usize> = BTreeMap::new();
        for hash in task.open_round.aggregates.values() {
            *votes.entry(*hash).or_default() += 1;
        }
        let groups: Vec<usize> = votes.values().copied().collect();
        format!(
            "{} participants (minimum {}) but no round settled after the faults ended: {} \
             settled then, {settled} at the end, {checkpoints} checkpoints later; open round: {} updates, {} aggregates \
             (groups of equal hashes {groups:?}, agreement {})",
            task.participants.len(),
            task.spec.min_participants,
            settled_at_faults_end,
            task.open_round.updates.len(),
            task.open_round.aggregates.len(),
            agreement(task).is_some()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::core::fl::task::{Participant, RoundCommits, SettledRound};
    use vein_node::core::fl::{AggregationRule, Fixed, TaskSpec, TrainingSpec};

    fn task() -> Task {
        let spec = TaskSpec {
            training: TrainingSpec {
                dimension: 4,
                learning_rate: Fixed(Fixed::ONE.0 / 4),
                local_epochs: 1,
                batch_size: 8,
            },
            rule: AggregationRule::FedAvg,
            masked: false,
            rounds: 3,
            min_participants: 2,
            price_per_round: 1_000,
        };
        let mut participants = BTreeMap::new();
        for byte in 1..=3u8 {
            participants.insert(
                AccountId([byte; 32]),
                Participant { samples: 10, mask_key: [0; 32], paid: 330 },
            );
        }
        Task {
            id: Hash([7; 32]),
            poster: AccountId([9; 32]),
            spec,
            participants,
            open_round: RoundCommits::default(),
            settled: vec![SettledRound {
                aggregate: Hash([1; 32]),
                contributors: 3,
                accepted: 3,
                paid: 990,
                burned: 10,
            }],
            escrow: 2_000,
        }
    }

    #[test]
    fn balanced_books_pass_and_each_leak_is_named() {
        assert_eq!(task_conservation(&task()), None);
        let mut lost = task();
        lost.escrow -= 1;
        assert!(task_conservation(&lost).unwrap().contains("R·p"));
        let mut twice = task();
        twice.participants.values_mut().next().unwrap().paid += 330;
        assert!(task_conservation(&twice).unwrap().contains("received"));
        let mut short = task();
        short.settled[0].burned = 9;
        assert!(task_conservation(&short).unwrap().contains("price"));
        let mut thin = task();
        thin.settled[0].accepted = 1;
        assert!(task_conservation(&thin).unwrap().contains("minimum"));
    }

    #[test]
    fn agreement_needs_a_strict_majority_and_m() {
        let mut open = task();
        let accounts: Vec<AccountId> = open.participants.keys().copied().collect();
        for account in &accounts {
            open.open_round.updates.insert(*account, Hash([2; 32]));
        }
        open.open_round.aggregates.insert(accounts[0], Hash([3; 32]));
        assert_eq!(agreement(&open), None);
        open.open_round.aggregates.insert(accounts[1], Hash([4; 32]));
        assert_eq!(agreement(&open), None);
        open.open_round.aggregates.insert(accounts[2], Hash([3; 32]));
        assert_eq!(agreement(&open), Some((Hash([3; 32]), vec![accounts[0], accounts[2]])));
    }

    #[test]
    fn a_stalled_task_is_named_and_a_finished_one_is_not() {
        let stalled = task();
        assert!(progress(&stalled, 1, STALL_CHECKPOINTS).unwrap().contains("no round settled"));
        assert_eq!(progress(&stalled, 1, STALL_CHECKPOINTS - 1), None, "the chain was slow");
        assert_eq!(progress(&stalled, 0, STALL_CHECKPOINTS), None);
        let mut done = task();
        done.spec.rounds = 1;
        assert_eq!(progress(&done, 1, STALL_CHECKPOINTS), None);
        let roots = (fl_root(&FlTasks::default()), fl_root(&FlTasks::default()));
        assert_eq!(roots.0, roots.1);
    }
}
