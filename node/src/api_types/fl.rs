//! Federated-learning bodies (docs/federated-learning.md): the tasks as the chain holds them,
//! and the update exchange (`POST /fl/task/{id}/update`, `GET /fl/task/{id}/updates/{round}`).
//! An update travels as the hex of its canonical encoding (`core::fl::update`), never a record.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /fl/tasks`: each federated-learning task's terms and progress (docs/federated-learning.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlTaskSummary {
    /// The task id: hash of the poster and the nonce of its `Post`.
    pub id: String,
    /// The account that posted the task and funds its escrow.
    pub poster: String,
    /// `FedAvg`, `median`, `trimmed mean` or `Krum`.
    pub rule: String,
    /// Whether updates travel under pairwise masks (FedAvg only).
    pub masked: bool,
    /// `trim` of a trimmed mean or `byzantine` of Krum; `null` for FedAvg and median.
    pub rule_parameter: Option<u32>,
    /// Parameters in the model being trained (the length of every update).
    pub dimension: u32,
    /// SGD step size of local training, in Q47.16 fixed point (65536 is 1).
    pub learning_rate_fixed: i64,
    /// Passes over its records each participant makes per round.
    pub local_epochs: u32,
    /// Records per SGD step.
    pub batch_size: u32,
    /// Rounds the poster paid for.
    pub rounds: u32,
    /// Rounds settled so far; the open round's number.
    pub settled_rounds: u32,
    /// Agreeing contributors a round needs to settle with a payment.
    pub min_participants: u32,
    /// Participants that joined.
    pub participants: usize,
    /// Base units paid out per settled round, commission included.
    pub price_per_round: u64,
    /// Base units still escrowed: `price_per_round × (rounds − settled_rounds)`.
    pub escrow: u64,
    /// Update hashes committed in the open round.
    pub open_round_updates: usize,
    /// Aggregate hashes committed in the open round.
    pub open_round_aggregates: usize,
    /// Restarts of the open round (0 for its first attempt): a masked update of this attempt
    /// uses this attempt's pairwise seeds (`MaskSecret::attempt_seed`).
    pub open_round_attempt: u32,
}

/// `GET /fl/tasks`: every open task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlTaskList {
    /// The tasks in id order.
    pub tasks: Vec<FlTaskSummary>,
}

/// One participant of a task: declared samples and what it was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlParticipantRow {
    /// The participant's account.
    pub account: String,
    /// Training samples it declared when joining: its weight in the payment.
    pub samples: u64,
    /// Its X25519 mask public key (64 hex), for the pairwise masks of a masked task.
    pub mask_key: String,
    /// Base units paid to it so far.
    pub paid: u64,
}

/// One settled round: the agreed aggregate's hash and the payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlRoundRow {
    /// The round's number, from 0.
    pub round: u32,
    /// Hash of the aggregate a majority agreed on.
    pub aggregate: String,
    /// Participants that committed an update in the round.
    pub contributors: u32,
    /// Contributors that committed the agreed aggregate, and so were paid.
    pub accepted: u32,
    /// Base units paid to them.
    pub paid: u64,
    /// Base units burned: the commission and the rounding dust.
    pub burned: u64,
}

/// `GET /fl/task/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlTaskDetail {
    /// The task's terms and progress.
    pub summary: FlTaskSummary,
    /// Every participant, in account order.
    pub participants: Vec<FlParticipantRow>,
    /// Every settled round, oldest first.
    pub settled: Vec<FlRoundRow>,
    /// The open round's commits, one row per participant that committed something.
    pub open_round: Vec<FlCommitRow>,
}

/// One participant's commits in the open round: what a fetcher checks updates against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlCommitRow {
    /// The participant's account (64 hex).
    pub account: String,
    /// Its committed update hash, if any.
    pub update: Option<String>,
    /// Its committed aggregate hash, if any.
    pub aggregate: Option<String>,
    /// Masked rounds with drop-outs: the pairwise seeds it revealed, one per participant
    /// without an update commit (`FlTx::RevealSeeds`); empty before it revealed.
    pub revealed: Vec<FlRevealedSeed>,
}

/// One pairwise seed a contributor revealed for a dropped participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlRevealedSeed {
    /// The participant that committed no update (64 hex).
    pub dropped: String,
    /// The contributor's seed with it for the open round's attempt (64 hex).
    pub seed: String,
}

/// `POST /fl/task/{id}/update`: a participant's encoded update for a round, whose hash it has
/// committed on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlUpdatePost {
    /// The participant's account (64 hex): the update hash binds it.
    pub participant: String,
    /// The round the update belongs to (the task's open round).
    pub round: u32,
    /// Hex of the encoded update (`core::fl::update::encode_update`).
    pub update: String,
}

/// `POST /fl/task/{id}/update`: the update was checked against its commit and is served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlUpdateStored {
    /// False when this node already held the same update.
    pub new: bool,
    /// Updates this node holds now, all tasks together.
    pub held_updates: usize,
    /// Bytes of updates this node holds now.
    pub held_bytes: usize,
}

/// One update this node holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlUpdateRow {
    /// The participant that committed it (64 hex).
    pub participant: String,
    /// Hex of the encoded update; its hash matched the participant's commit when posted.
    pub update: String,
}

/// `GET /fl/task/{id}/updates/{round}`: the updates of a round posted to this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlUpdates {
    /// The task id.
    pub task: String,
    /// The round.
    pub round: u32,
    /// The updates held, in participant order (only those posted to this node).
    pub updates: Vec<FlUpdateRow>,
}
