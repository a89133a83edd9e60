//! Typed requests and responses of the consortium routes (docs/consortium.md): what every node
//! shows (sizes, hashes, schemas, votes), and what a member's replica answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /consortia`: what every node can tell about each consortium: sizes and hashes only
/// (its rows are ciphertext to a non-member).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumSummary {
    /// The consortium id (64 hex): hash of its creator and the nonce of the creation.
    pub id: String,
    /// Display name chosen at creation.
    pub name: String,
    /// Accounts that govern it (vote on proposals and entries).
    pub parties: usize,
    /// Member nodes holding the data key, and so a plaintext replica.
    pub members: usize,
    /// Approvals (m of the parties) a permission change needs.
    pub quorum: u16,
    /// Table names, in name order.
    pub tables: Vec<String>,
    /// Generation of the data key: it moves on each member added or removed (a rekey).
    pub key_epoch: u64,
    /// Proposals waiting for a quorum.
    pub open_proposals: usize,
    /// Actions applied on chain so far (the length of the action log).
    pub actions: u64,
    /// The head of the consortium's on-chain action hash chain.
    pub action_log_head: String,
    /// Whether this node keeps a replica (it is a member node).
    pub replica: bool,
}

/// `GET /consortia`: every consortium on the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumList {
    /// One summary per consortium, in id order.
    pub consortia: Vec<ConsortiumSummary>,
}

/// `POST /consortium/{id}/query`: one read-only SELECT over the tables as of height `at`
/// (`None`: the replica's latest height).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumQuery {
    /// A single read-only SELECT (SQLite dialect); anything else is refused.
    pub sql: String,
    /// Checkpoint height to read the tables as of; `None`: the replica's latest.
    #[serde(default)]
    pub at: Option<u64>,
}

/// The answer to a [`ConsortiumQuery`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumQueryAnswer {
    /// The height the query read the tables as of.
    pub height: u64,
    /// The replica's state root at `height`.
    pub root: String,
    /// The result's column names, in order.
    pub columns: Vec<String>,
    /// The result rows, each with one value per column.
    pub rows: Vec<Vec<crate::core::consortium::Value>>,
}

/// `POST /consortium/{id}/row`: one row by primary key as of `at`, with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumRowRequest {
    /// The table's name.
    pub table: String,
    /// The row's primary-key value.
    pub key: crate::core::consortium::Value,
    /// Checkpoint height to read as of; `None`: the replica's latest.
    #[serde(default)]
    pub at: Option<u64>,
}

/// The answer to a [`ConsortiumRowRequest`]: the row and a proof a client can check itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumRowAnswer {
    /// The height the row was read as of.
    pub height: u64,
    /// The replica's state root at `height`, the root the proof leads to.
    pub root: String,
    /// The row's values in column order; `None` if no row has that key (the proof then shows
    /// its absence).
    pub row: Option<Vec<crate::core::consortium::Value>>,
    /// Merkle proof of the row (or its absence) under `root`.
    pub proof: crate::consortium_db::RowProof,
    /// The node checked the proof against `root` before answering.
    pub verified: bool,
}

/// `GET /consortium/{id}/verify`: the replica against a rebuild from its action log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumVerify {
    /// The replica's height (its last applied action's checkpoint).
    pub height: u64,
    /// The replica's state root.
    pub root: String,
    /// The root of a fresh replica rebuilt from the action log.
    pub rebuilt_root: String,
    /// Whether the two roots are equal: the replica is exactly what its log makes.
    pub matches: bool,
    /// Actions this node's replicas applied since start (all consortia).
    pub actions_applied: u64,
    /// Actions they refused under the consortium's rules since start (all consortia).
    pub actions_refused: u64,
    /// Failures of the replicas themselves (SQLite, a missing key) since start: a replica is
    /// then behind the chain.
    pub replica_errors: u64,
    /// The latest such failure, if any.
    pub last_error: Option<String>,
}

/// `GET /consortium/{id}`: what the chain holds in clear about one consortium (public: its
/// parties, member nodes and their X25519 keys, table schemas, writers and open proposals are
/// on chain for every node), plus this node's replica height and root if it is a member. No
/// rows: those are ciphertext on chain and plaintext only in a member's replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumDetail {
    /// The same summary `GET /consortia` lists.
    pub summary: ConsortiumSummary,
    /// Party accounts (hex).
    pub parties: Vec<String>,
    /// Member nodes and their keys, in account order.
    pub members: Vec<ConsortiumMemberView>,
    /// Each table's schema, in name order.
    pub tables: Vec<crate::core::consortium::TableSchema>,
    /// Accounts (hex) that may write each table; a table nobody may write is absent.
    pub writers: BTreeMap<String, Vec<String>>,
    /// Open permission-change proposals, in id order.
    pub proposals: Vec<ConsortiumProposalView>,
    /// Tables whose every entry waits for the parties' approval.
    pub approval_tables: Vec<String>,
    /// Entries waiting for the parties' decision (hashes only: the action is ciphertext).
    pub pending_entries: Vec<ConsortiumEntryView>,
    /// The height of this node's replica (its last applied action); `null` on a non-member.
    pub replica_height: Option<u64>,
    /// This node's replica root at `replica_height`; `null` on a non-member.
    pub replica_root: Option<String>,
}

/// A member node of a consortium: its account and the X25519 public key its data key is
/// wrapped for (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumMemberView {
    /// The member node's account.
    pub account: String,
    /// Its X25519 public key (64 hex).
    pub key: String,
}

/// An open proposal: its id, proposer, the approvals so far and the change in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumProposalView {
    /// The proposal id.
    pub id: String,
    /// The party that proposed it.
    pub proposer: String,
    /// Parties that approved so far; it applies once they reach the quorum.
    pub approvals: Vec<String>,
    /// The change in words, e.g. `grant <account> on <table>`.
    pub change: String,
}

/// A pending entry: its id (`entry_id`), table, writer, action hash and the votes so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumEntryView {
    /// The entry id.
    pub id: String,
    /// The table it writes to.
    pub table: String,
    /// The account that wrote it.
    pub writer: String,
    /// Hash of the sealed action (its content stays ciphertext).
    pub log_hash: String,
    /// Parties that approved it so far.
    pub approvals: Vec<String>,
    /// Parties that denied it so far.
    pub denials: Vec<String>,
}

/// `GET /consortium/{id}/attestations`: the chain's attestation state of a consortium and
/// this node's own view (its replica against certified roots, divergences it saw).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsortiumAttestations {
    /// The highest height whose replica root a quorum of members attested; `null` if none.
    pub certified_height: Option<u64>,
    /// The root certified at `certified_height`.
    pub certified_root: Option<String>,
    /// Open heights: (height, votes, certified root if any).
    pub open_heights: Vec<(u64, usize, Option<String>)>,
    /// Members the chain records as diverged.
    pub diverged: Vec<DivergedMember>,
    /// This node's replica disagreed with a certified root (and was repaired).
    pub own_divergence: Option<DivergedMember>,
    /// Other members this node saw named as diverged.
    pub peers_seen_diverged: Vec<DivergedMember>,
    /// Root attestations this node queued for submission since start (all consortia).
    pub attestations_queued: u64,
    /// Times this node repaired a replica that disagreed with a certified root (all
    /// consortia).
    pub repairs: u64,
}

/// A member whose replica root differed from the certified root at some height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DivergedMember {
    /// The member node's account.
    pub member: String,
    /// The certified height at which it diverged.
    pub height: u64,
    /// The attested root, when known.
    pub attested: Option<String>,
    /// The certified root at that height, when known.
    pub certified: Option<String>,
    /// The checkpoint that revealed it, when this node saw it.
    pub detected_at: Option<u64>,
}
