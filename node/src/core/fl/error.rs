//! Typed errors of the learning core and of the on-chain task rules. Every input that comes from
//! a peer, a file or a transaction is checked into one of these; nothing panics on it.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

/// Why a learning computation failed, or why the chain refuses an FL transaction. Task ids are
/// `task_id` hashes; rounds are 0-based round indices; amounts are base units of the coin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlError {
    /// A fixed-point or integer step left the representable range.
    #[error("fixed-point overflow in {operation}")]
    Overflow {
        /// The step that overflowed (`add`, `mul`, `gradient`, `fedavg`, `weigh`, ...).
        operation: &'static str,
    },
    /// A vector (weights, update, data set row, masked words, committed dimension) does not
    /// have the model's dimension.
    #[error("wrong dimension: expected {expected}, got {got}")]
    WrongDimension {
        /// Values the model or task has.
        expected: usize,
        /// Values received.
        got: usize,
    },
    /// Update bytes from a peer do not decode (`update::decode_update`).
    #[error("malformed update: {reason}")]
    MalformedUpdate {
        /// What is wrong with the bytes.
        reason: &'static str,
    },
    /// Update bytes from a peer are not the ones its chain commit names.
    #[error("update bytes hash to {got:?}, the chain holds {committed:?}")]
    UpdateHashMismatch {
        /// The hash the participant committed on chain.
        committed: Hash,
        /// `update::update_hash` of the bytes received.
        got: Hash,
    },
    /// An aggregate over no update at all.
    #[error("no contributions to aggregate")]
    NoContributions,
    /// FedAvg over contributions whose sample counts sum to zero.
    #[error("every contribution has zero samples")]
    ZeroSamples,
    /// A trimmed mean whose `2 · trim` is at least the contribution count.
    #[error("trimming {trim} from each end leaves nothing of {count} contributions")]
    TrimTooLarge {
        /// Values the rule drops from each end.
        trim: usize,
        /// Contributions in the round.
        count: usize,
    },
    /// Krum with fewer than `2f + 3` contributions.
    #[error("Krum with {byzantine} Byzantine needs at least {needed} contributions, got {count}")]
    KrumTooFew {
        /// Bad updates f the rule tolerates.
        byzantine: usize,
        /// Contributions in the round.
        count: usize,
        /// `2f + 3`.
        needed: usize,
    },
    /// A masked task asks for a rule other than FedAvg, which cannot run on a masked sum.
    #[error("{rule} needs individual updates and cannot run under masking")]
    RuleNeedsIndividualUpdates {
        /// The rule's name (`AggregationRule::name`).
        rule: &'static str,
    },
    /// `Dataset::new` got no record, an empty record, rows of different lengths, or a label
    /// count unlike the record count.
    #[error("the data set is empty or its rows differ in length")]
    BadDataset,
    /// An IID split asked for zero participants or more participants than samples.
    #[error("split of {samples} samples over {participants} participants is impossible")]
    BadSplit {
        /// Records in the data set.
        samples: usize,
        /// Participants to split over.
        participants: usize,
    },
    /// Masking or unmasking got inconsistent seeds.
    #[error("masking: {reason}")]
    Masking {
        /// Which seed is wrong or missing.
        reason: &'static str,
    },
    /// A posted spec is out of bounds (`TaskSpec::validate`, `TrainingSpec::validate`).
    #[error("task spec invalid: {reason}")]
    InvalidSpec {
        /// The bound broken, with its allowed range.
        reason: &'static str,
    },
    /// A posted spec has a price per round of 0.
    #[error("a task must escrow a positive price per round")]
    NoEscrow,
    /// A posted spec's `price_per_round · rounds` does not fit in a u64.
    #[error("escrow of {price_per_round} × {rounds} rounds overflows")]
    EscrowOverflow {
        /// Base units per round.
        price_per_round: u64,
        /// Rounds asked for.
        rounds: u32,
    },
    /// A post would create an id that exists (a replayed signer and nonce).
    #[error("task {task:?} already exists")]
    TaskExists {
        /// The existing task's id.
        task: Hash,
    },
    /// A transaction names a task that was never posted or is closed.
    #[error("no task {task:?}")]
    UnknownTask {
        /// The id named.
        task: Hash,
    },
    /// A join after round 0's first update commit.
    #[error("task {task:?} is no longer open to joins")]
    JoinClosed {
        /// `task_id` of the task the transaction names.
        task: Hash,
    },
    /// An account joins a task twice.
    #[error("{account:?} already joined task {task:?}")]
    AlreadyJoined {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// The joining account.
        account: AccountId,
    },
    /// A join declaring zero samples.
    #[error("a participant must declare at least one sample")]
    NoSamples,
    /// A join once `task::PARTICIPANTS_MAX` joined.
    #[error("task {task:?} has its maximum of {limit} participants")]
    TooManyParticipants {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// Most participants allowed.
        limit: usize,
    },
    /// A commit by, or a payout to, an account that did not join.
    #[error("{account:?} is not a participant of task {task:?}")]
    NotParticipant {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// The account.
        account: AccountId,
    },
    /// An update commit before the spec's minimum participants joined.
    #[error("task {task:?} has {joined} participants, needs {needed} to start a round")]
    NotEnoughParticipants {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// Participants so far.
        joined: usize,
        /// The spec's `min_participants`.
        needed: usize,
    },
    /// A commit or settlement names a round that already settled.
    #[error("round {round} of task {task:?} is closed (current round {current})")]
    RoundClosed {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// Round index the transaction names.
        round: u32,
        /// The task's open round (its count of settled rounds).
        current: u32,
    },
    /// A commit or settlement names a round after the open one.
    #[error("round {round} of task {task:?} is not open yet (current round {current})")]
    RoundNotOpen {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// Round index the transaction names.
        round: u32,
        /// The task's open round (its count of settled rounds).
        current: u32,
    },
    /// A commit or settlement on a task whose every round settled.
    #[error("task {task:?} has settled all its rounds")]
    TaskFinished {
        /// `task_id` of the task the transaction names.
        task: Hash,
    },
    /// A second update commit, aggregate commit or seed reveal by one account in one round.
    #[error("{account:?} already committed for round {round} of task {task:?}")]
    AlreadyCommitted {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// The task's open round (its count of settled rounds).
        round: u32,
        /// The committing account.
        account: AccountId,
    },
    /// An update commit after the round's first aggregate commit or first seed reveal.
    #[error("round {round} of task {task:?} takes no more updates: its update set is frozen")]
    UpdatesClosed {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// The task's open round (its count of settled rounds).
        round: u32,
    },
    /// An aggregate commit by a participant that committed no update this round.
    #[error("{account:?} committed no update for round {round}")]
    NoUpdateCommitted {
        /// The task's open round (its count of settled rounds).
        round: u32,
        /// The committing account.
        account: AccountId,
    },
    /// A second settlement of a round.
    #[error("round {round} is already settled: no second payment")]
    AlreadySettled {
        /// Round index the transaction names.
        round: u32,
    },
    /// A settlement before a strict majority of the contributors, and at least the minimum
    /// participants, committed one aggregate hash.
    #[error("round {round}: {agreeing} participants agree on one aggregate, {needed} needed")]
    NoAgreement {
        /// The task's open round (its count of settled rounds).
        round: u32,
        /// Contributors in the largest group committing one hash.
        agreeing: usize,
        /// Matching commits needed.
        needed: usize,
    },
    /// A close signed by another account than the poster.
    #[error("only the poster may close task {task:?}")]
    NotPoster {
        /// `task_id` of the task the transaction names.
        task: Hash,
    },
    /// A close while the open round has update commits.
    #[error("round {round} of task {task:?} has committed work: settle it before closing")]
    WorkPending {
        /// `task_id` of the task the transaction names.
        task: Hash,
        /// The task's open round (its count of settled rounds).
        round: u32,
    },
    /// A seed reveal in a task whose updates travel in the clear.
    #[error("task {task:?} is not masked: there are no seeds to reveal")]
    NotMasked {
        /// `task_id` of the task the transaction names.
        task: Hash,
    },
    /// A seed reveal in a round every participant contributed to: no mask is left to cancel.
    #[error("round {round}: every participant committed an update, nothing to reveal")]
    NothingToReveal {
        /// The task's open round (its count of settled rounds).
        round: u32,
    },
    /// A seed reveal naming other participants than the round's drop-outs (the joined ones
    /// without an update commit), in account order, one seed each.
    #[error("round {round}: {named} seeds revealed for {dropped} dropped participants")]
    RevealMismatch {
        /// The task's open round (its count of settled rounds).
        round: u32,
        /// Participants without an update commit this round.
        dropped: usize,
        /// Seeds the reveal carries (or the position of the first misnamed one).
        named: usize,
    },
    /// A seed reveal with fewer contributors than the minimum participants: the round could
    /// not settle, and a sum over so few would expose individual updates.
    #[error("round {round}: {survivors} contributors, {needed} needed to recover drop-outs")]
    NotEnoughSurvivors {
        /// The task's open round (its count of settled rounds).
        round: u32,
        /// Participants that committed an update this round.
        survivors: usize,
        /// The task's minimum participants.
        needed: usize,
    },
    /// A payout share or a participant's paid total does not fit in a u64, or the escrow is
    /// short of a round's price (a bug: the escrow invariant broke).
    #[error("a payout overflows a balance")]
    PayoutOverflow,
}
