//! Typed errors of the learning core and of the on-chain task rules. Every input that comes from
//! a peer, a file or a transaction is checked into one of these; nothing panics on it.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlError {
    #[error("fixed-point overflow in {operation}")]
    Overflow { operation: &'static str },
    #[error("wrong dimension: expected {expected}, got {got}")]
    WrongDimension { expected: usize, got: usize },
    #[error("malformed update: {reason}")]
    MalformedUpdate { reason: &'static str },
    #[error("update bytes hash to {got:?}, the chain holds {committed:?}")]
    UpdateHashMismatch { committed: Hash, got: Hash },
    #[error("no contributions to aggregate")]
    NoContributions,
    #[error("every contribution has zero samples")]
    ZeroSamples,
    #[error("trimming {trim} from each end leaves nothing of {count} contributions")]
    TrimTooLarge { trim: usize, count: usize },
    #[error("Krum with {byzantine} Byzantine needs at least {needed} contributions, got {count}")]
    KrumTooFew { byzantine: usize, count: usize, needed: usize },
    #[error("{rule} needs individual updates and cannot run under masking")]
    RuleNeedsIndividualUpdates { rule: &'static str },
    #[error("the data set is empty or its rows differ in length")]
    BadDataset,
    #[error("split of {samples} samples over {participants} participants is impossible")]
    BadSplit { samples: usize, participants: usize },
    #[error("masking: {reason}")]
    Masking { reason: &'static str },
    #[error("task spec invalid: {reason}")]
    InvalidSpec { reason: &'static str },
    #[error("a task must escrow a positive price per round")]
    NoEscrow,
    #[error("escrow of {price_per_round} × {rounds} rounds overflows")]
    EscrowOverflow { price_per_round: u64, rounds: u32 },
    #[error("task {task:?} already exists")]
    TaskExists { task: Hash },
    #[error("no task {task:?}")]
    UnknownTask { task: Hash },
    #[error("task {task:?} is no longer open to joins")]
    JoinClosed { task: Hash },
    #[error("{account:?} already joined task {task:?}")]
    AlreadyJoined { task: Hash, account: AccountId },
    #[error("a participant must declare at least one sample")]
    NoSamples,
    #[error("task {task:?} has its maximum of {limit} participants")]
    TooManyParticipants { task: Hash, limit: usize },
    #[error("{account:?} is not a participant of task {task:?}")]
    NotParticipant { task: Hash, account: AccountId },
    #[error("task {task:?} has {joined} participants, needs {needed} to start a round")]
    NotEnoughParticipants { task: Hash, joined: usize, needed: usize },
    #[error("round {round} of task {task:?} is closed (current round {current})")]
    RoundClosed { task: Hash, round: u32, current: u32 },
    #[error("round {round} of task {task:?} is not open yet (current round {current})")]
    RoundNotOpen { task: Hash, round: u32, current: u32 },
    #[error("task {task:?} has settled all its rounds")]
    TaskFinished { task: Hash },
    #[error("{account:?} already committed for round {round} of task {task:?}")]
    AlreadyCommitted { task: Hash, round: u32, account: AccountId },
    #[error("round {round} of task {task:?} takes no more updates: an aggregate was committed")]
    UpdatesClosed { task: Hash, round: u32 },
    #[error("{account:?} committed no update for round {round}")]
    NoUpdateCommitted { round: u32, account: AccountId },
    #[error("round {round} is already settled: no second payment")]
    AlreadySettled { round: u32 },
    #[error("round {round}: {agreeing} participants agree on one aggregate, {needed} needed")]
    NoAgreement { round: u32, agreeing: usize, needed: usize },
    #[error("only the poster may close task {task:?}")]
    NotPoster { task: Hash },
    #[error("round {round} of task {task:?} has committed work: settle it before closing")]
    WorkPending { task: Hash, round: u32 },
    #[error("a payout overflows a balance")]
    PayoutOverflow,
}
