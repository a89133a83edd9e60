//! Typed requests and responses of the consortium routes (docs/consortium.md): what every node
//! shows (sizes, hashes, schemas, votes), and what a member's replica answers.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /consortia`: what every node can tell about each consortium: sizes and hashes only
/// (its rows are ciphertext to a non-member).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumSummary {
    pub id: String,
    pub name: String,
    pub parties: usize,
    pub members: usize,
    pub quorum: u16,
    pub tables: Vec<String>,
    pub key_epoch: u64,
    pub open_proposals: usize,
    pub actions: u64,
    /// The head of the consortium's on-chain action hash chain.
    pub action_log_head: String,
    /// Whether this node keeps a replica (it is a member node).
    pub replica: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumList {
    pub consortia: Vec<ConsortiumSummary>,
}

/// `POST /consortium/{id}/query`: one read-only SELECT over the tables as of height `at`
/// (`None`: the replica's latest height).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumQuery {
    pub sql: String,
    #[serde(default)]
    pub at: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumQueryAnswer {
    pub height: u64,
    /// The replica's state root at `height`.
    pub root: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<crate::core::consortium::Value>>,
}

/// `POST /consortium/{id}/row`: one row by primary key as of `at`, with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumRowRequest {
    pub table: String,
    pub key: crate::core::consortium::Value,
    #[serde(default)]
    pub at: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumRowAnswer {
    pub height: u64,
    pub root: String,
    pub row: Option<Vec<crate::core::consortium::Value>>,
    pub proof: crate::consortium_db::RowProof,
    /// The node checked the proof against `root` before answering.
    pub verified: bool,
}

/// `GET /consortium/{id}/verify`: the replica against a rebuild from its action log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumVerify {
    pub height: u64,
    pub root: String,
    pub rebuilt_root: String,
    pub matches: bool,
    pub actions_applied: u64,
    pub actions_refused: u64,
    pub replica_errors: u64,
    pub last_error: Option<String>,
}

/// `GET /consortium/{id}`: what the chain holds in clear about one consortium (public: its
/// parties, member nodes and their X25519 keys, table schemas, writers and open proposals are
/// on chain for every node), plus this node's replica height and root if it is a member. No
/// rows: those are ciphertext on chain and plaintext only in a member's replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumDetail {
    pub summary: ConsortiumSummary,
    /// Party accounts (hex).
    pub parties: Vec<String>,
    pub members: Vec<ConsortiumMemberView>,
    pub tables: Vec<crate::core::consortium::TableSchema>,
    /// Accounts (hex) that may write each table; a table nobody may write is absent.
    pub writers: BTreeMap<String, Vec<String>>,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumMemberView {
    pub account: String,
    pub key: String,
}

/// An open proposal: its id, proposer, the approvals so far and the change in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumProposalView {
    pub id: String,
    pub proposer: String,
    pub approvals: Vec<String>,
    pub change: String,
}

/// A pending entry: its id (`entry_id`), table, writer, action hash and the votes so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumEntryView {
    pub id: String,
    pub table: String,
    pub writer: String,
    pub log_hash: String,
    pub approvals: Vec<String>,
    pub denials: Vec<String>,
}

/// `GET /consortium/{id}/attestations`: the chain's attestation state of a consortium and
/// this node's own view (its replica against certified roots, divergences it saw).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsortiumAttestations {
    pub certified_height: Option<u64>,
    pub certified_root: Option<String>,
    /// Open heights: (height, votes, certified root if any).
    pub open_heights: Vec<(u64, usize, Option<String>)>,
    /// Members the chain records as diverged.
    pub diverged: Vec<DivergedMember>,
    /// This node's replica disagreed with a certified root (and was repaired).
    pub own_divergence: Option<DivergedMember>,
    /// Other members this node saw named as diverged.
    pub peers_seen_diverged: Vec<DivergedMember>,
    pub attestations_queued: u64,
    pub repairs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DivergedMember {
    pub member: String,
    pub height: u64,
    /// The attested root, when known.
    pub attested: Option<String>,
    pub certified: Option<String>,
    /// The checkpoint that revealed it, when this node saw it.
    pub detected_at: Option<u64>,
}
