//! The JSON HTTP API's request and response bodies, defined once for both sides: the node's
//! handlers (`api`) build these and `vein-testnet` parses its answers into them, so a renamed
//! or retyped field is a compile error on both sides instead of a `null` read back by a string
//! key. This is the client-side type set; it needs only serde (no tokio, no axum).
//!
//! The wire shape is plain JSON: ids, accounts and roots are lowercase hex strings, addresses
//! are `ip:port` strings. A field written as `null` when unknown is an `Option` without
//! `skip_serializing_if`; a field the request may leave out carries `skip_serializing_if`.
//! `null` entries of `POST /units` are `None` items. Every `final` key is the Rust field
//! `is_final` (`final` is a keyword).

mod consortium;

pub use consortium::{
    ConsortiumAttestations, ConsortiumDetail, ConsortiumEntryView, ConsortiumList,
    ConsortiumMemberView, ConsortiumProposalView, ConsortiumQuery, ConsortiumQueryAnswer,
    ConsortiumRowAnswer, ConsortiumRowRequest, ConsortiumSummary, ConsortiumVerify, DivergedMember,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// Every 4xx/5xx answer: `{"error": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `GET /ready`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    pub ready: bool,
    pub height: u64,
}

/// Faults injected on a node (`/control/*`), as `GET /status` and `/control/*` answer them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedFaults {
    /// Peers (listening addresses) cut off in both directions.
    pub blocked: BTreeSet<SocketAddr>,
    /// Added to every outbound message.
    pub delay_ms: u64,
    /// Outbound messages dropped, in parts per thousand.
    pub loss_per_mille: u32,
    /// One-way faults on the link to one peer, on top of the node-wide ones.
    pub links: BTreeMap<SocketAddr, LinkFaults>,
}

/// Delay and loss on one outbound link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFaults {
    pub delay_ms: u64,
    pub loss_per_mille: u32,
}

/// `GET /status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub account: String,
    pub genesis_id: String,
    pub height: u64,
    pub head: String,
    pub head_ledger_root: String,
    pub final_height: u64,
    /// `null` when the final checkpoint's header is not held.
    pub final_id: Option<String>,
    pub final_ledger_root: Option<String>,
    /// Confirmed units the head checkpoint names: parents for a transaction signed elsewhere.
    pub anchors: Vec<String>,
    /// Peers known to the core.
    pub peers: u64,
    pub dag_units: u64,
    pub orphans: u64,
    pub tips: u64,
    /// The node's own account's confirmed balance and next nonce.
    pub balance: u64,
    pub next_nonce: u64,
    pub supply: u64,
    pub chain_id: String,
    pub listen: String,
    /// Peers (listening addresses) heard from lately.
    pub peers_live: Vec<String>,
    pub plot_nonces: u64,
    pub faults: InjectedFaults,
}

/// `GET /balance/{account}`, and one row of `GET /accounts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    pub account: String,
    pub balance: u64,
    pub next_nonce: u64,
}

/// `GET /accounts?limit=N`: the richest accounts and how many the ledger holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    pub count: u64,
    pub accounts: Vec<AccountBalance>,
}

/// A transfer the node signs from its own account (the faucet form of `POST /tx`, and the
/// items of `POST /txs` `transfers`). `fee` left out means 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    /// Recipient account (64 hex).
    pub to: String,
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<u64>,
}

/// `POST /tx` with a transaction its sender signed: `{"tx": hex of the encoded transaction}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTxRequest {
    pub tx: String,
}

/// `POST /tx`: a signed transaction (open) or a transfer for the node to sign (privileged).
/// The node tells them apart by the `tx` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TxRequest {
    Signed(SignedTxRequest),
    Faucet(TransferRequest),
}

/// `POST /tx` accepted: the transaction's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxAccepted {
    pub id: String,
}

/// `POST /txs`: signed transactions and/or transfers for the node to sign (which make the
/// request privileged). Either list may be left out, not both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBatchRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub txs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfers: Vec<TransferRequest>,
}

/// One item's answer in `POST /txs`: `{"id"}` or `{"error"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TxBatchItem {
    Accepted { id: String },
    Refused { error: String },
}

/// `POST /txs`: how many were accepted and each item's answer, in request order (`txs` first,
/// then `transfers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBatchResponse {
    pub accepted: u64,
    pub results: Vec<TxBatchItem>,
}

/// How the checkpoint that confirmed a transaction ruled on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Applied,
    Ignored,
}

/// A transaction's status as the explorer shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    Pending,
    Applied,
    Ignored,
    Final,
}

/// What a transaction does (`GET /unit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKindName {
    Transfer,
    StorePut,
    StorageProof,
    StoreRepair,
    Consortium,
    /// An Ethereum transaction carried for the EVM (docs/evm.md).
    Evm,
    /// A federated-learning task action (docs/federated-learning.md).
    Fl,
    /// A business token transaction (docs/tokens.md).
    Token,
}

/// When this node first saw a transaction, and when it was confirmed and became final (Unix
/// ms, this node's clock); `null` for what has not happened or was forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitTimes {
    pub accepted_ms: Option<u64>,
    pub confirmed_ms: Option<u64>,
    pub final_ms: Option<u64>,
}

/// `GET /unit/{id}`: a transaction, its confirmation, finality and local timings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub kind: TxKindName,
    pub from: String,
    pub nonce: u64,
    /// The recipient of a transfer, `null` for other kinds.
    pub to: Option<String>,
    /// A transfer's amount, a put's prepaid fee, 0 otherwise.
    pub amount: u64,
    pub fee: u64,
    pub parents: Vec<String>,
    pub issued_at_ms: u64,
    pub confirmed_height: Option<u64>,
    pub outcome: Option<Outcome>,
    #[serde(rename = "final")]
    pub is_final: bool,
    /// `null` when this node keeps no times for it.
    pub times: Option<UnitTimes>,
}

/// `POST /units`: `{"ids": [hex, ...]}`, at most 10,000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitsRequest {
    pub ids: Vec<String>,
}

/// One id's status in `POST /units`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitStatus {
    pub confirmed_height: Option<u64>,
    pub outcome: Option<Outcome>,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub times: Option<UnitTimes>,
}

/// `POST /units`: per id, in order, its status or `null` if the node does not hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitsResponse {
    pub units: Vec<Option<UnitStatus>>,
}

/// One row of `GET /txs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentTx {
    pub id: String,
    pub from: String,
    pub nonce: u64,
    pub to: Option<String>,
    pub amount: u64,
    pub fee: u64,
    pub status: TxStatus,
    pub confirmed_height: Option<u64>,
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `GET /txs?limit=N`: the transactions this node saw last, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentTxs {
    pub txs: Vec<RecentTx>,
}

/// One unit of `GET /dag`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DagUnit {
    pub id: String,
    pub from: String,
    pub nonce: u64,
    pub parents: Vec<String>,
    pub tip: bool,
    pub status: TxStatus,
}

/// `GET /dag?limit=N`: the tip count and the units nearest the tips, breadth first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DagView {
    pub tips: u64,
    pub units: Vec<DagUnit>,
}

/// One checkpoint of `GET /checkpoints`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRow {
    pub height: u64,
    pub id: String,
    pub author: String,
    pub timestamp_ms: u64,
    pub base_target: u64,
    pub ledger_root: String,
    /// How many units it names as parents.
    pub parents: u64,
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `GET /checkpoints?limit=N`: the active chain, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoints {
    pub height: u64,
    pub final_height: u64,
    pub checkpoints: Vec<CheckpointRow>,
}

/// `GET /tips`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tips {
    pub tips: Vec<String>,
}

/// `GET /parents?count=N`: parent pairs from the node's tip selection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parents {
    pub parents: Vec<[String; 2]>,
}

/// `GET /contract/{file_id}`: the active storage contract of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub file_id: String,
    /// The `StorePut` as the wire encodes it (hex): the exact roots and node list.
    pub put: String,
    pub owner: String,
    pub opened_at: u64,
    pub first_round: u64,
    pub escrow: u64,
    pub storage_nodes: Vec<String>,
    /// Per shard: settled rounds without a valid proof.
    pub missed_rounds: Vec<u64>,
}

/// `POST /shard/{file_id}/{index}` (request) and `GET /shard/{file_id}/{index}` (answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// The shard's bytes as hex.
    pub shard: String,
}

/// `POST /shard/{file_id}/{index}` kept the shard (durably).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStored {
    pub stored: bool,
    pub already_held: bool,
}

/// `POST /control/partition`: block these peers (listening addresses), added to the blocked set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRequest {
    pub peers: Vec<String>,
}

/// `POST /control/link`: one-way faults on the link to `peer`; a field left out keeps its
/// value, both zero remove the entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub peer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_per_mille: Option<u64>,
}

/// `POST /control/delay`: added to every outbound message (at most 60,000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRequest {
    pub ms: u64,
}

/// `POST /control/loss`: outbound messages dropped, per mille (at most 1,000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossRequest {
    pub per_mille: u64,
}

/// `POST /control/heal` (and any bodiless request): `{}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyRequest {}

/// Every `/control/*` answer: the faults now in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlResponse {
    pub faults: InjectedFaults,
}

/// One filled-in value of every response type, for the tests here and the explorer's.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    pub fn status() -> Status {
        let peer: SocketAddr = "127.0.0.1:4001".parse().unwrap();
        Status {
            account: "aa".into(),
            genesis_id: "00".into(),
            height: 7,
            head: "11".into(),
            head_ledger_root: "22".into(),
            final_height: 4,
            final_id: None,
            final_ledger_root: Some("33".into()),
            anchors: vec!["44".into()],
            peers: 3,
            dag_units: 100,
            orphans: 0,
            tips: 2,
            balance: 5,
            next_nonce: 1,
            supply: 1_000,
            chain_id: "test".into(),
            listen: "127.0.0.1:4000".into(),
            peers_live: vec![peer.to_string()],
            plot_nonces: 16,
            faults: InjectedFaults {
                blocked: [peer].into(),
                delay_ms: 5,
                loss_per_mille: 10,
                links: [(peer, LinkFaults { delay_ms: 300, loss_per_mille: 0 })].into(),
            },
        }
    }

    pub fn checkpoints() -> Checkpoints {
        let row = CheckpointRow {
            height: 3,
            id: "55".into(),
            author: "aa".into(),
            timestamp_ms: 1_000,
            base_target: 9,
            ledger_root: "66".into(),
            parents: 8,
            is_final: true,
        };
        Checkpoints { height: 3, final_height: 1, checkpoints: vec![row] }
    }

    pub fn recent_txs() -> RecentTxs {
        let tx = RecentTx {
            id: "77".into(),
            from: "aa".into(),
            nonce: 0,
            to: Some("bb".into()),
            amount: 5,
            fee: 1,
            status: TxStatus::Final,
            confirmed_height: Some(2),
            is_final: true,
        };
        RecentTxs { txs: vec![tx] }
    }

    pub fn dag() -> DagView {
        let unit = DagUnit {
            id: "77".into(),
            from: "aa".into(),
            nonce: 0,
            parents: vec!["00".into(), "00".into()],
            tip: true,
            status: TxStatus::Pending,
        };
        DagView { tips: 1, units: vec![unit] }
    }

    pub fn accounts() -> Accounts {
        let row = AccountBalance { account: "aa".into(), balance: 5, next_nonce: 1 };
        Accounts { count: 1, accounts: vec![row] }
    }

    pub fn consortia() -> ConsortiumList {
        ConsortiumList {
            consortia: vec![ConsortiumSummary {
                id: "88".into(),
                name: "clinic".into(),
                parties: 3,
                members: 3,
                quorum: 2,
                tables: vec!["patients".into()],
                key_epoch: 0,
                open_proposals: 1,
                actions: 4,
                action_log_head: "99".into(),
                replica: true,
            }],
        }
    }

    pub fn consortium_detail() -> ConsortiumDetail {
        use crate::core::consortium::{Column, ColumnType, TableSchema};
        let column =
            Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false };
        let table = TableSchema { name: "patients".into(), columns: vec![column], primary_key: 0 };
        ConsortiumDetail {
            summary: consortia().consortia.remove(0),
            parties: vec!["aa".into()],
            members: vec![ConsortiumMemberView { account: "aa".into(), key: "bb".into() }],
            tables: vec![table],
            writers: [("patients".to_string(), vec!["aa".to_string()])].into(),
            proposals: vec![ConsortiumProposalView {
                id: "cc".into(),
                proposer: "aa".into(),
                approvals: vec!["aa".into()],
                change: "deny aa on every table".into(),
            }],
            approval_tables: vec!["patients".into()],
            pending_entries: vec![ConsortiumEntryView {
                id: "ee".into(),
                table: "patients".into(),
                writer: "aa".into(),
                log_hash: "ff".into(),
                approvals: vec![],
                denials: vec!["aa".into()],
            }],
            replica_height: Some(9),
            replica_root: Some("dd".into()),
        }
    }

    pub fn unit() -> Unit {
        Unit {
            id: "77".into(),
            kind: TxKindName::StorePut,
            from: "aa".into(),
            nonce: 0,
            to: None,
            amount: 5,
            fee: 1,
            parents: vec!["00".into()],
            issued_at_ms: 9,
            confirmed_height: None,
            outcome: Some(Outcome::Ignored),
            is_final: false,
            times: None,
        }
    }
}

/// `GET /fl/tasks`: each federated-learning task's terms and progress (docs/federated-learning.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlTaskSummary {
    pub id: String,
    pub poster: String,
    /// `FedAvg`, `median`, `trimmed mean` or `Krum`.
    pub rule: String,
    pub masked: bool,
    pub dimension: u32,
    pub rounds: u32,
    pub settled_rounds: u32,
    pub min_participants: u32,
    pub participants: usize,
    pub price_per_round: u64,
    pub escrow: u64,
    /// Update and aggregate hashes committed in the open round.
    pub open_round_updates: usize,
    pub open_round_aggregates: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlTaskList {
    pub tasks: Vec<FlTaskSummary>,
}

/// One participant of a task: declared samples and what it was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlParticipantRow {
    pub account: String,
    pub samples: u64,
    pub paid: u64,
}

/// One settled round: the agreed aggregate's hash and the payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlRoundRow {
    pub round: u32,
    pub aggregate: String,
    pub contributors: u32,
    pub accepted: u32,
    pub paid: u64,
    pub burned: u64,
}

/// `GET /fl/task/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlTaskDetail {
    pub summary: FlTaskSummary,
    pub participants: Vec<FlParticipantRow>,
    pub settled: Vec<FlRoundRow>,
}

/// Who may mint a business token: its issuer, or a consortium's quorum (by consortium id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMinterView {
    Issuer,
    Consortium(String),
}

/// `GET /tokens` (each) and `GET /token/{id}`: one business token (docs/tokens.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    pub symbol: String,
    pub decimals: u8,
    pub issuer: String,
    /// `false` for a fixed supply.
    pub mintable: bool,
    /// Who mints a mintable token (`null` for a fixed supply).
    pub minter: Option<TokenMinterView>,
    /// The most ever issued plus minted, if the token has a cap.
    pub cap: Option<u64>,
    pub issued: u64,
    pub minted: u64,
    pub burned: u64,
    /// `issued + minted − burned`: what the balances sum to.
    pub total_supply: u64,
    /// Accounts holding a non-zero balance.
    pub holders: usize,
    /// Where contracts and wallets see the token as an ERC-20 (0x and 40 hex digits).
    pub erc20_address: String,
    /// The head height the answer was read at.
    pub height: u64,
}

/// `GET /tokens?limit=N`: tokens in id order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenSummary>,
    /// Tokens on the ledger, listed or not.
    pub total: usize,
}

/// `GET /token/{id}/balance/{account}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBalance {
    pub token: String,
    pub account: String,
    pub balance: u64,
    pub height: u64,
}

#[cfg(test)]
mod tests {
    use super::samples;
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    /// Serialized as JSON, `value` has exactly the keys `keys`, and parses back to itself.
    fn assert_keys<T>(value: &T, keys: &[&str]) -> Value
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_value(value).unwrap();
        let found: BTreeSet<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(found, keys.iter().copied().collect::<BTreeSet<_>>(), "{json}");
        let back: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&back, value);
        json
    }

    #[test]
    fn every_response_has_the_keys_clients_read_and_round_trips() {
        let status = assert_keys(
            &samples::status(),
            &[
                "account",
                "genesis_id",
                "height",
                "head",
                "head_ledger_root",
                "final_height",
                "final_id",
                "final_ledger_root",
                "anchors",
                "peers",
                "dag_units",
                "orphans",
                "tips",
                "balance",
                "next_nonce",
                "supply",
                "chain_id",
                "listen",
                "peers_live",
                "plot_nonces",
                "faults",
            ],
        );
        // Unknown values are written as null, not left out; faults keep the service's shape.
        assert_eq!(status["final_id"], Value::Null);
        assert_eq!(
            status["faults"],
            json!({ "blocked": ["127.0.0.1:4001"], "delay_ms": 5, "loss_per_mille": 10,
                    "links": { "127.0.0.1:4001": { "delay_ms": 300, "loss_per_mille": 0 } } })
        );
        let checkpoints = samples::checkpoints();
        assert_keys(&checkpoints, &["height", "final_height", "checkpoints"]);
        let row_keys = [
            "height",
            "id",
            "author",
            "timestamp_ms",
            "base_target",
            "ledger_root",
            "parents",
            "final",
        ];
        assert_keys(&checkpoints.checkpoints[0], &row_keys);
        let txs = samples::recent_txs();
        assert_keys(&txs, &["txs"]);
        let tx_keys =
            ["id", "from", "nonce", "to", "amount", "fee", "status", "confirmed_height", "final"];
        let tx = assert_keys(&txs.txs[0], &tx_keys);
        assert_eq!(tx["status"], "final");
        let dag = samples::dag();
        assert_keys(&dag, &["tips", "units"]);
        let unit = assert_keys(&dag.units[0], &["id", "from", "nonce", "parents", "tip", "status"]);
        assert_eq!(unit["status"], "pending");
        let accounts = samples::accounts();
        assert_keys(&accounts, &["count", "accounts"]);
        assert_keys(&accounts.accounts[0], &["account", "balance", "next_nonce"]);
        let detail = samples::consortium_detail();
        let detail_keys = [
            "summary",
            "parties",
            "members",
            "tables",
            "writers",
            "proposals",
            "approval_tables",
            "pending_entries",
            "replica_height",
            "replica_root",
        ];
        assert_keys(&detail, &detail_keys);
        let entry_keys = ["id", "table", "writer", "log_hash", "approvals", "denials"];
        assert_keys(&detail.pending_entries[0], &entry_keys);
        assert_keys(&detail.members[0], &["account", "key"]);
        assert_keys(&detail.proposals[0], &["id", "proposer", "approvals", "change"]);
        let unit_keys = [
            "id",
            "kind",
            "from",
            "nonce",
            "to",
            "amount",
            "fee",
            "parents",
            "issued_at_ms",
            "confirmed_height",
            "outcome",
            "final",
            "times",
        ];
        let unit = assert_keys(&samples::unit(), &unit_keys);
        assert_eq!((&unit["kind"], &unit["outcome"]), (&json!("store_put"), &json!("ignored")));
        assert_eq!(unit["times"], Value::Null);
        let times = UnitTimes { accepted_ms: Some(1), confirmed_ms: None, final_ms: Some(3) };
        let times = assert_keys(&times, &["accepted_ms", "confirmed_ms", "final_ms"]);
        assert_eq!(times["confirmed_ms"], Value::Null);
        assert_keys(&Ready { ready: true, height: 0 }, &["ready", "height"]);
        assert_keys(&ErrorBody { error: "no".into() }, &["error"]);
        assert_keys(&TxAccepted { id: "77".into() }, &["id"]);
        assert_keys(&Tips { tips: vec![] }, &["tips"]);
        let parents = Parents { parents: vec![["00".into(), "11".into()]] };
        assert_eq!(assert_keys(&parents, &["parents"])["parents"], json!([["00", "11"]]));
        let contract = Contract {
            file_id: "88".into(),
            put: "99".into(),
            owner: "aa".into(),
            opened_at: 1,
            first_round: 2,
            escrow: 3,
            storage_nodes: vec!["bb".into()],
            missed_rounds: vec![0],
        };
        let contract_keys = [
            "file_id",
            "put",
            "owner",
            "opened_at",
            "first_round",
            "escrow",
            "storage_nodes",
            "missed_rounds",
        ];
        assert_keys(&contract, &contract_keys);
        assert_keys(&Shard { shard: "00".into() }, &["shard"]);
        assert_keys(
            &ShardStored { stored: true, already_held: false },
            &["stored", "already_held"],
        );
        let faults = samples::status().faults;
        assert_keys(&ControlResponse { faults }, &["faults"]);
    }

    #[test]
    fn batch_and_unit_lists_keep_their_null_and_either_or_shapes() {
        let results = vec![
            TxBatchItem::Accepted { id: "77".into() },
            TxBatchItem::Refused { error: "nonce used (stale_nonce)".into() },
        ];
        let response = TxBatchResponse { accepted: 1, results };
        let json = assert_keys(&response, &["accepted", "results"]);
        assert_eq!(
            json["results"],
            json!([{ "id": "77" }, { "error": "nonce used (stale_nonce)" }])
        );
        let status = UnitStatus {
            confirmed_height: Some(2),
            outcome: Some(Outcome::Applied),
            is_final: true,
            times: Some(UnitTimes::default()),
        };
        assert_keys(&status, &["confirmed_height", "outcome", "final", "times"]);
        let units = UnitsResponse { units: vec![None, Some(status)] };
        let json = assert_keys(&units, &["units"]);
        assert_eq!(json["units"][0], Value::Null);
        assert_eq!(json["units"][1]["outcome"], "applied");
    }

    #[test]
    fn requests_leave_out_what_the_client_left_out() {
        let transfer = TransferRequest { to: "bb".into(), amount: 5, fee: None };
        assert_keys(&transfer, &["to", "amount"]);
        let faucet = serde_json::to_value(TxRequest::Faucet(transfer.clone())).unwrap();
        assert_eq!(faucet, json!({ "to": "bb", "amount": 5 }));
        let signed = TxRequest::Signed(SignedTxRequest { tx: "00ff".into() });
        assert_eq!(serde_json::to_value(&signed).unwrap(), json!({ "tx": "00ff" }));
        // The node tells the two forms apart by the `tx` key; so does the type.
        let parsed: TxRequest = serde_json::from_value(json!({ "tx": "00ff" })).unwrap();
        assert_eq!(parsed, signed);
        let parsed: TxRequest = serde_json::from_value(json!({ "to": "bb", "amount": 5 })).unwrap();
        assert_eq!(parsed, TxRequest::Faucet(transfer.clone()));
        let batch = TxBatchRequest { txs: vec!["00".into()], transfers: vec![] };
        assert_keys(&batch, &["txs"]);
        let batch = TxBatchRequest { txs: vec![], transfers: vec![transfer] };
        assert_keys(&batch, &["transfers"]);
        assert_keys(&UnitsRequest { ids: vec!["77".into()] }, &["ids"]);
        let link =
            LinkRequest { peer: "127.0.0.1:1".into(), delay_ms: Some(3), loss_per_mille: None };
        assert_keys(&link, &["peer", "delay_ms"]);
        assert_keys(&PartitionRequest { peers: vec![] }, &["peers"]);
        assert_keys(&DelayRequest { ms: 1 }, &["ms"]);
        assert_keys(&LossRequest { per_mille: 1 }, &["per_mille"]);
        assert_eq!(serde_json::to_string(&EmptyRequest {}).unwrap(), "{}");
    }
}
