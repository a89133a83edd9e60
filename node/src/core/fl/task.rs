//! A learning task on chain: what its poster asked for, who joined, what each round committed,
//! and the escrow that pays for it. Only hashes, counts and keys live here; updates travel
//! between participants and records never leave their node.
//!
//! Life of a task (one transaction each, all in White Flag order):
//! 1. `Post`: the spec, rounds R, minimum participants m and price per round p; R·p moves from
//!    the poster's balance into the task's escrow (refused if p = 0: a task without escrow).
//! 2. `Join`: a data owner declares its sample count and its X25519 mask key; open until round
//!    0's first update commit.
//! 3. Per round r: each participant commits the hash of its update (`CommitUpdate`). The first
//!    `CommitAggregate` closes the round's update set; from then on every contributor
//!    recomputes the aggregate over exactly the committed updates and commits its hash.
//!    In a masked round some participant may never commit an update (it dropped out): each
//!    contributor then reveals its pairwise seeds with the drop-outs (`RevealSeeds`, see
//!    `recovery`), the first reveal freezing the update set, and the aggregate is FedAvg over
//!    the contributors.
//!    **Restart**: the update set is frozen, so once the aggregate commits of a round with at
//!    least m contributors split so that no hash can reach agreement any more (the largest group plus the contributors yet to commit fall
//!    short of it), the commit that made it so restarts the round: its commits are cleared and
//!    the participants commit again (`RoundCommits::attempt`). Without it, an update ordered in
//!    the same checkpoint as the first aggregate commit could split the votes for good.
//! 4. `Settle` (anyone): **agreement** is an aggregate hash committed by a strict majority of
//!    the round's contributors and by at least m of them. Those agreeing are the accepted
//!    contributions; they share p minus the burned commission pro rata to declared samples,
//!    rounding dust burned with the commission. A round settles once: a second `Settle` is
//!    `AlreadySettled`.
//! 5. `Close` (the poster, when no round has pending commits): the unspent escrow is refunded
//!    and the task leaves the state.
//!
//! Invariant: escrow = p · (R − settled rounds) for every open task, and the ledger counts
//! escrow in its supply (`Ledger::check_invariants`).

use super::aggregate::AggregationRule;
use super::error::FlError;
use super::model::TrainingSpec;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most participants one task admits; also bounds the masking range (`masking::WEIGHTED_MAX`).
pub const PARTICIPANTS_MAX: usize = 256;
/// Most rounds one task may ask for.
pub const ROUNDS_MAX: u32 = 1000;
/// The share of each round's payment burned as the network's commission, in basis points.
pub const COMMISSION_BPS: u64 = 100;
/// Below this, masking hides nothing: with two participants each learns the other's update
/// from the sum.
pub const MASKED_PARTICIPANTS_MIN: u32 = 3;

/// What a poster asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// How each participant trains locally in a round.
    pub training: TrainingSpec,
    /// How a round's updates are combined into the next global model.
    pub rule: AggregationRule,
    /// Updates are sent under pairwise masks (FedAvg only).
    pub masked: bool,
    /// Rounds R the escrow pays for (1..=`ROUNDS_MAX`).
    pub rounds: u32,
    /// Minimum participants m: a round takes updates only once m joined, and agreement needs at
    /// least m matching aggregate commits (1..=`PARTICIPANTS_MAX`; at least 3 when masked).
    pub min_participants: u32,
    /// Price p paid per settled round, in base units of the coin; positive.
    pub price_per_round: u64,
}

impl TaskSpec {
    /// Check the spec's bounds; a post with a spec that fails this is refused.
    pub fn validate(&self) -> Result<(), FlError> {
        self.training.validate()?;
        if self.price_per_round == 0 {
            return Err(FlError::NoEscrow);
        }
        if self.masked && !self.rule.works_on_sums() {
            return Err(FlError::RuleNeedsIndividualUpdates { rule: self.rule.name() });
        }
        let reason = if self.rounds == 0 || self.rounds > ROUNDS_MAX {
            "rounds must be in 1..=1000"
        } else if self.min_participants == 0 || self.min_participants as usize > PARTICIPANTS_MAX {
            "minimum participants must be in 1..=256"
        } else if self.masked && self.min_participants < MASKED_PARTICIPANTS_MIN {
            "a masked task needs at least 3 participants"
        } else {
            return Ok(());
        };
        Err(FlError::InvalidSpec { reason })
    }

    /// R · p, or `None` on overflow.
    pub fn escrow(&self) -> Option<u64> {
        self.price_per_round.checked_mul(u64::from(self.rounds))
    }
}

/// The payload of `TxKind::Fl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlTx {
    /// Post a task; its escrow R·p leaves the poster's balance and its id is
    /// `task_id(signer, nonce)`.
    Post(TaskSpec),
    /// The signer joins as a data owner; open until round 0's first update commit.
    Join {
        /// Id of the task (`task_id`).
        task: Hash,
        /// Records the joiner trains on (positive): its FedAvg weight and payout share.
        samples: u64,
        /// The joiner's X25519 mask public key for this task (`MaskSecret::public`).
        mask_key: [u8; 32],
    },
    /// A participant commits the hash of its update for the open round.
    CommitUpdate {
        /// Id of the task.
        task: Hash,
        /// The open round's index; any other is refused.
        round: u32,
        /// Values in the update; must equal the spec's `training.dimension`.
        dimension: u32,
        /// `update::update_hash` of the encoded update, which travels off chain.
        update: Hash,
    },
    /// A contributor commits the hash of the aggregate it recomputed; the first such commit
    /// closes the round to updates.
    CommitAggregate {
        /// Id of the task.
        task: Hash,
        /// The open round's index.
        round: u32,
        /// `update::aggregate_hash` of the aggregate over the committed updates.
        aggregate: Hash,
    },
    /// A contributor to a masked round reveals its pairwise seed with each participant that
    /// committed no update (`recovery`), so the survivors' masks with them cancel. The first
    /// reveal freezes the round's update set, as an aggregate commit does.
    RevealSeeds {
        /// Id of the task.
        task: Hash,
        /// The open round's index.
        round: u32,
        /// (dropped participant, `MaskSecret::pairwise_seed` with it), one per participant
        /// without an update commit, in account order.
        seeds: Vec<(AccountId, [u8; 32])>,
    },
    /// Anyone settles the open round once its aggregate commits agree: the agreeing
    /// contributors are paid from the escrow.
    Settle {
        /// Id of the task.
        task: Hash,
        /// The open round's index; an already settled one is refused.
        round: u32,
    },
    /// The poster closes the task and gets the unspent escrow back; refused while the open
    /// round has commits.
    Close {
        /// Id of the task.
        task: Hash,
    },
}

impl FlTx {
    /// What leaves the signer's balance besides the fee: a post's escrow.
    pub fn debit(&self) -> Option<u64> {
        match self {
            FlTx::Post(spec) => spec.escrow(),
            _ => Some(0),
        }
    }
}

/// A task's id, known before it is ordered: derived from the poster's spend key.
pub fn task_id(poster: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[b"vein/fl/task/v0", poster.as_bytes(), &nonce.to_le_bytes()])
}

/// A data owner that joined a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Sample count it declared when joining: its weight in FedAvg and its share of each payout.
    pub samples: u64,
    /// Its X25519 mask public key (`masking::MaskSecret::public`), for pairwise seeds.
    pub mask_key: [u8; 32],
    /// Paid to it so far.
    pub paid: u64,
}

/// The commits of the open round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundCommits {
    /// Each participant's committed update hash (`update::update_hash`) this round.
    pub updates: BTreeMap<AccountId, Hash>,
    /// Each contributor's committed aggregate hash (`update::aggregate_hash`); the first one
    /// closes the round to updates.
    pub aggregates: BTreeMap<AccountId, Hash>,
    /// Masked rounds with drop-outs: each contributor's revealed seeds, by dropped participant
    /// (`FlTx::RevealSeeds`); the first reveal closes the round to updates.
    pub revealed: BTreeMap<AccountId, BTreeMap<AccountId, [u8; 32]>>,
    /// Times this round restarted because no aggregate could reach agreement any more (0 for
    /// the first attempt); masks of a restarted round use fresh seeds
    /// (`MaskSecret::attempt_seed`).
    pub attempt: u32,
}

impl RoundCommits {
    /// The commits of a fresh attempt at the same round, after this one can no longer agree.
    pub fn restarted(&self) -> RoundCommits {
        // Each restart costs every contributor a fee; u32::MAX attempts are out of reach.
        RoundCommits { attempt: self.attempt.saturating_add(1), ..RoundCommits::default() }
    }

    /// True once an aggregate commit or a seed reveal fixed the round's contributors.
    pub fn updates_frozen(&self) -> bool {
        !self.aggregates.is_empty() || !self.revealed.is_empty()
    }
}

/// A settled round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledRound {
    /// The agreed aggregate hash (`update::aggregate_hash`).
    pub aggregate: Hash,
    /// Participants that committed an update this round.
    pub contributors: u32,
    /// Contributors whose aggregate commit matched the agreed one (the paid ones).
    pub accepted: u32,
    /// Base units credited to the accepted contributors.
    pub paid: u64,
    /// Base units burned: the commission plus the rounding dust.
    pub burned: u64,
}

/// A learning task on chain (see the module docs for its life).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// `task_id` of the poster and the nonce of its `Post`.
    pub id: Hash,
    /// The account that posted (and paid for) the task; only it may close it.
    pub poster: AccountId,
    /// What the poster asked for; fixed for the task's life.
    pub spec: TaskSpec,
    /// Data owners that joined, by account (at most `PARTICIPANTS_MAX`).
    pub participants: BTreeMap<AccountId, Participant>,
    /// The commits of the current (unsettled) round.
    pub open_round: RoundCommits,
    /// One entry per settled round; its length is the current round.
    pub settled: Vec<SettledRound>,
    /// Base units still held for the unsettled rounds: p · (R − settled rounds).
    pub escrow: u64,
}

/// What settling a round pays and burns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    /// Base units each accepted contributor receives, in account order; zero shares left out.
    pub credits: Vec<(AccountId, u64)>,
    /// Base units burned: the commission plus the rounding dust.
    pub burned: u64,
}

impl Task {
    /// The open round's index: the number of settled rounds (0-based).
    pub fn current_round(&self) -> u32 {
        self.settled.len() as u32
    }

    /// True once every one of the spec's rounds settled; the task then takes no more commits.
    pub fn finished(&self) -> bool {
        self.current_round() >= self.spec.rounds
    }

    /// The open round's drop-outs: participants without an update commit, in account order.
    pub fn dropped(&self) -> Vec<AccountId> {
        let updates = &self.open_round.updates;
        self.participants.keys().filter(|account| !updates.contains_key(account)).copied().collect()
    }

    /// Escrow the unsettled rounds must hold.
    pub fn expected_escrow(&self) -> u64 {
        let left = u64::from(self.spec.rounds.saturating_sub(self.current_round()));
        self.spec.price_per_round.saturating_mul(left)
    }

    pub(super) fn require_participant(&self, account: &AccountId) -> Result<&Participant, FlError> {
        self.participants
            .get(account)
            .ok_or(FlError::NotParticipant { task: self.id, account: *account })
    }

    /// `round` must be the open one of an unfinished task.
    pub(super) fn require_open_round(&self, round: u32) -> Result<(), FlError> {
        if self.finished() {
            return Err(FlError::TaskFinished { task: self.id });
        }
        let current = self.current_round();
        if round < current {
            return Err(FlError::RoundClosed { task: self.id, round, current });
        }
        if round > current {
            return Err(FlError::RoundNotOpen { task: self.id, round, current });
        }
        Ok(())
    }

    /// Whether some aggregate hash can still reach agreement in the open round: the largest
    /// group of equal commits plus the contributors that have not committed one reach the
    /// threshold `agreement` asks for. The update set is frozen once any aggregate is in, so
    /// this only goes from true to false.
    pub fn agreement_reachable(&self) -> bool {
        let commits = &self.open_round;
        let mut votes: BTreeMap<Hash, usize> = BTreeMap::new();
        for hash in commits.aggregates.values() {
            *votes.entry(*hash).or_default() += 1;
        }
        let largest = votes.values().copied().max().unwrap_or(0);
        let pending = commits.updates.len().saturating_sub(commits.aggregates.len());
        largest + pending >= self.agreement_threshold()
    }

    /// Matching aggregate commits a round needs: a strict majority of its contributors, and
    /// at least m.
    fn agreement_threshold(&self) -> usize {
        (self.open_round.updates.len() / 2 + 1).max(self.spec.min_participants as usize)
    }

    /// The agreed aggregate of the open round and the accounts that committed it.
    pub(super) fn agreement(&self, round: u32) -> Result<(Hash, Vec<AccountId>), FlError> {
        let mut votes: BTreeMap<Hash, Vec<AccountId>> = BTreeMap::new();
        for (account, hash) in &self.open_round.aggregates {
            votes.entry(*hash).or_default().push(*account);
        }
        let needed = self.agreement_threshold();
        // Largest group; on a tie the smaller hash, though a tie can never reach a strict majority.
        let best = votes.into_iter().max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(&a.0)));
        match best {
            Some((hash, accepted)) if accepted.len() >= needed => Ok((hash, accepted)),
            best => Err(FlError::NoAgreement {
                round,
                agreeing: best.map_or(0, |(_, accepted)| accepted.len()),
                needed,
            }),
        }
    }

    /// Split one round's price among `accepted` pro rata to declared samples; the commission
    /// and the rounding dust are burned. Paid + burned is exactly the price.
    pub(super) fn payout(&self, accepted: &[AccountId]) -> Result<Payout, FlError> {
        let price = self.spec.price_per_round;
        let commission = price / 10_000 * COMMISSION_BPS + price % 10_000 * COMMISSION_BPS / 10_000;
        let distributable = price - commission;
        let mut samples = Vec::with_capacity(accepted.len());
        for account in accepted {
            samples.push((*account, self.require_participant(account)?.samples));
        }
        let total: u128 = samples.iter().map(|(_, n)| u128::from(*n)).sum();
        let mut credits = Vec::with_capacity(samples.len());
        let mut paid: u64 = 0;
        for (account, n) in samples {
            let share = u128::from(distributable) * u128::from(n) / total.max(1);
            // share ≤ distributable because n ≤ total.
            let share = u64::try_from(share).map_err(|_| FlError::PayoutOverflow)?;
            paid = paid.checked_add(share).ok_or(FlError::PayoutOverflow)?;
            if share > 0 {
                credits.push((account, share));
            }
        }
        debug_assert!(paid <= distributable);
        Ok(Payout { credits, burned: price - paid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fl::fixed::Fixed;

    pub(crate) fn spec() -> TaskSpec {
        TaskSpec {
            training: TrainingSpec {
                dimension: 12,
                learning_rate: Fixed(Fixed::ONE.0 / 10),
                local_epochs: 2,
                batch_size: 16,
            },
            rule: AggregationRule::FedAvg,
            masked: true,
            rounds: 3,
            min_participants: 3,
            price_per_round: 10_000,
        }
    }

    #[test]
    fn spec_validation_names_each_problem() {
        assert_eq!(spec().validate(), Ok(()));
        assert_eq!(spec().escrow(), Some(30_000));
        let mut free = spec();
        free.price_per_round = 0;
        assert_eq!(free.validate(), Err(FlError::NoEscrow));
        let mut krum = spec();
        krum.rule = AggregationRule::Krum { byzantine: 1 };
        assert_eq!(krum.validate(), Err(FlError::RuleNeedsIndividualUpdates { rule: "Krum" }));
        krum.masked = false;
        assert_eq!(krum.validate(), Ok(()));
        let mut pair = spec();
        pair.min_participants = 2;
        assert!(matches!(pair.validate(), Err(FlError::InvalidSpec { .. })));
        let mut long = spec();
        long.rounds = ROUNDS_MAX + 1;
        assert!(matches!(long.validate(), Err(FlError::InvalidSpec { .. })));
        let mut costly = spec();
        costly.price_per_round = u64::MAX;
        assert_eq!(costly.escrow(), None);
    }

    #[test]
    fn payout_is_pro_rata_and_pays_plus_burns_exactly_the_price() {
        let mut task = Task {
            id: Hash::of(b"t"),
            poster: AccountId([9; 32]),
            spec: spec(),
            participants: BTreeMap::new(),
            open_round: RoundCommits::default(),
            settled: Vec::new(),
            escrow: 30_000,
        };
        for (byte, samples) in [(1u8, 100u64), (2, 200), (3, 3)] {
            task.participants
                .insert(AccountId([byte; 32]), Participant { samples, mask_key: [0; 32], paid: 0 });
        }
        let accepted = [AccountId([1; 32]), AccountId([2; 32]), AccountId([3; 32])];
        let payout = task.payout(&accepted).unwrap();
        // 1% commission: 9,900 distributable over 303 samples.
        assert_eq!(
            payout.credits,
            vec![(accepted[0], 3267), (accepted[1], 6534), (accepted[2], 98)]
        );
        assert_eq!(payout.burned, 10_000 - 3267 - 6534 - 98);
        let paid: u64 = payout.credits.iter().map(|(_, a)| a).sum();
        assert_eq!(paid + payout.burned, 10_000);
        assert!(task.payout(&[AccountId([7; 32])]).is_err(), "only participants are paid");
    }
}
