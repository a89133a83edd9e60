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
mod explorer;
mod fl;
mod ledger_history;
mod peg;

pub use consortium::{
    ConsortiumAttestations, ConsortiumDetail, ConsortiumEntryView, ConsortiumList,
    ConsortiumMemberView, ConsortiumProposalView, ConsortiumQuery, ConsortiumQueryAnswer,
    ConsortiumRowAnswer, ConsortiumRowRequest, ConsortiumSummary, ConsortiumVerify, DivergedMember,
};
pub use explorer::{
    CheckpointDetail, ConfirmedUnit, EvmReceiptRow, EvmReceipts, ExplorerConfig, ExplorerLink,
    ExplorerPanel, ExplorerTheme, ForkNode, ForkTree, SearchKind, SearchMatch, SearchResults,
};
pub use fl::{
    FlCommitRow, FlParticipantRow, FlRevealedSeed, FlRoundRow, FlTaskDetail, FlTaskList,
    FlTaskSummary, FlUpdatePost, FlUpdateRow, FlUpdateStored, FlUpdates,
};
pub use ledger_history::{LedgerBalance, LedgerHistory, LedgerHistoryEntry, LedgerHistoryRequest};
pub use peg::{
    AnchorSegment, ClaimedEntry, EscrowView, HeaderRef, OutboxEntryView, PegClaimCheck,
    PegClaimVerdict, PegProofView, PegProofs, PegRefusal, PegView, PinAnswer, PinOutcomeName,
    PinRequest, PinView, SideChainList, SideChainView, WrappedView,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

/// Every 4xx/5xx answer: `{"error": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// What was wrong, in words.
    pub error: String,
}

/// `GET /ready`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ready {
    /// Always true: a node that is not ready does not answer 200.
    pub ready: bool,
    /// Height of the node's head checkpoint when it answered.
    pub height: u64,
}

/// Faults injected on a node (`/control/*`), as `GET /status` and `/control/*` answer them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LinkFaults {
    /// Milliseconds each message on the link is held back.
    pub delay_ms: u64,
    /// Messages on the link dropped, in parts per thousand.
    pub loss_per_mille: u32,
}

/// `GET /status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Status {
    /// The node's own account (64 hex).
    pub account: String,
    /// Hash of the genesis: nodes agree on a chain only if theirs are equal.
    pub genesis_id: String,
    /// Height of the head (the tip of the active chain).
    pub height: u64,
    /// Id of the head checkpoint.
    pub head: String,
    /// Ledger root after the head checkpoint.
    pub head_ledger_root: String,
    /// Height of the newest final checkpoint.
    pub final_height: u64,
    /// `null` when the final checkpoint's header is not held.
    pub final_id: Option<String>,
    /// Ledger root after the final checkpoint; `null` when its header is not held.
    pub final_ledger_root: Option<String>,
    /// Confirmed units the head checkpoint names: parents for a transaction signed elsewhere.
    pub anchors: Vec<String>,
    /// Peers known to the core.
    pub peers: u64,
    /// Units in the DAG, confirmed or not (orphans are counted apart).
    pub dag_units: u64,
    /// Units held back because a parent is missing.
    pub orphans: u64,
    /// Units no other unit approves yet.
    pub tips: u64,
    /// The node's own account's confirmed balance and next nonce.
    pub balance: u64,
    /// The next nonce the node's own account may spend (confirmed state).
    pub next_nonce: u64,
    /// Coins in existence at the head, base units (genesis plus minted minus burned).
    pub supply: u64,
    /// The genesis file's network name.
    pub chain_id: String,
    /// The peer-to-peer listening address (`ip:port`).
    pub listen: String,
    /// Peers (listening addresses) heard from lately.
    pub peers_live: Vec<String>,
    /// Nonces in the plots the node mines with; 0 if it does not mine.
    pub plot_nonces: u64,
    /// How the node treats its own checkpoints: `honest`, or an attacker policy
    /// (`vein-node run --policy`, docs/testnet.md "Attackers").
    pub policy: String,
    /// A `withhold` node: the highest private checkpoint its release rule has published
    /// (`null` for every other policy).
    pub released_height: Option<u64>,
    /// The faults injected on this node (`/control/*`).
    pub faults: InjectedFaults,
}

/// `GET /balance/{account}`, and one row of `GET /accounts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountBalance {
    /// The account (64 hex).
    pub account: String,
    /// Confirmed balance at the head, base units.
    pub balance: u64,
    /// The nonce its next transaction must carry (confirmed state; pending ones not counted).
    pub next_nonce: u64,
}

/// `GET /accounts?limit=N`: the richest accounts and how many the ledger holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Accounts {
    /// Accounts the ledger holds, listed or not.
    pub count: u64,
    /// Up to `limit` accounts, richest first (ties by account).
    pub accounts: Vec<AccountBalance>,
}

/// A transfer the node signs from its own account (the faucet form of `POST /tx`, and the
/// items of `POST /txs` `transfers`). `fee` left out means 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TransferRequest {
    /// Recipient account (64 hex).
    pub to: String,
    /// Base units to move.
    pub amount: u64,
    /// Fee in base units; left out: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<u64>,
}

/// `POST /tx` with a transaction its sender signed: `{"tx": hex of the encoded transaction}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignedTxRequest {
    /// The signed transaction's wire encoding, as hex.
    pub tx: String,
}

/// `POST /tx`: a signed transaction (open) or a transfer for the node to sign (privileged).
/// The node tells them apart by the `tx` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TxRequest {
    /// A transaction its sender signed: open to anyone.
    Signed(SignedTxRequest),
    /// A transfer the node signs and pays from its own account: needs the API token.
    Faucet(TransferRequest),
}

/// `POST /tx` accepted: the transaction's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxAccepted {
    /// The transaction's unit id (hash of its encoding), for `/unit/{id}`.
    pub id: String,
}

/// `POST /txs`: signed transactions and/or transfers for the node to sign (which make the
/// request privileged). Either list may be left out, not both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxBatchRequest {
    /// Signed transactions, each as the hex of its wire encoding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub txs: Vec<String>,
    /// Transfers for the node to sign from its own account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfers: Vec<TransferRequest>,
}

/// One item's answer in `POST /txs`: `{"id"}` or `{"error"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TxBatchItem {
    /// The node took the transaction.
    Accepted {
        /// Its unit id.
        id: String,
    },
    /// The node refused it.
    Refused {
        /// Why, e.g. `nonce used (stale_nonce)`.
        error: String,
    },
}

/// `POST /txs`: how many were accepted and each item's answer, in request order (`txs` first,
/// then `transfers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxBatchResponse {
    /// Items accepted.
    pub accepted: u64,
    /// One answer per item, in request order.
    pub results: Vec<TxBatchItem>,
}

/// How the checkpoint that confirmed a transaction ruled on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It took effect in the ledger.
    Applied,
    /// It was ordered but the ledger refused it (a used nonce, missing funds...): no effect.
    Ignored,
}

/// A transaction's status as the explorer shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// Not confirmed by a checkpoint of the active chain yet.
    Pending,
    /// Confirmed and applied, not yet final.
    Applied,
    /// Confirmed but without effect (final or not: it stays without effect).
    Ignored,
    /// Confirmed, applied, and its checkpoint is final.
    Final,
}

/// What a transaction does (`GET /unit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxKindName {
    /// Moves coins to another account.
    Transfer,
    /// Opens a storage contract for a file (docs/storage.md).
    StorePut,
    /// A storage node's proof of possession for one round.
    StorageProof,
    /// Moves a departed node's shard to a new node.
    StoreRepair,
    /// A consortium database action (docs/consortium.md).
    Consortium,
    /// An Ethereum transaction carried for the EVM (docs/evm.md).
    Evm,
    /// A federated-learning task action (docs/federated-learning.md).
    Fl,
    /// A business token transaction (docs/tokens.md).
    Token,
    /// A side chain's registration or anchor (docs/sidechains.md).
    SideChain,
    /// A two-way peg lock, mint, burn or release (docs/peg.md).
    Peg,
}

/// When this node first saw a transaction, and when it was confirmed and became final (Unix
/// ms, this node's clock); `null` for what has not happened or was forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnitTimes {
    /// When the unit entered this node's DAG.
    pub accepted_ms: Option<u64>,
    /// When a checkpoint first confirmed it.
    pub confirmed_ms: Option<u64>,
    /// When its confirming checkpoint became final.
    pub final_ms: Option<u64>,
}

/// `GET /unit/{id}`: a transaction, its confirmation, finality and local timings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unit {
    /// The unit id (hash of the transaction's encoding).
    pub id: String,
    /// What the transaction does.
    pub kind: TxKindName,
    /// The signer and payer (64 hex).
    pub from: String,
    /// The signer's nonce this transaction spends.
    pub nonce: u64,
    /// The recipient of a transfer, `null` for other kinds.
    pub to: Option<String>,
    /// A transfer's amount, a put's prepaid fee, 0 otherwise.
    pub amount: u64,
    /// Fee in base units, paid whatever the outcome.
    pub fee: u64,
    /// The two earlier units it approves.
    pub parents: Vec<String>,
    /// The issuer's clock when it signed (Unix ms); a unit dated more than the network's
    /// `future_drift_ms` ahead of the receiving node's clock is refused.
    pub issued_at_ms: u64,
    /// Height of the active-chain checkpoint that confirmed it; `null` while pending.
    pub confirmed_height: Option<u64>,
    /// How that checkpoint ruled on it; `null` while pending.
    pub outcome: Option<Outcome>,
    /// Whether the confirming checkpoint is final (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// `null` when this node keeps no times for it.
    pub times: Option<UnitTimes>,
}

/// `POST /units`: `{"ids": [hex, ...]}`, at most 10,000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnitsRequest {
    /// Unit ids (64 hex).
    pub ids: Vec<String>,
}

/// One id's status in `POST /units`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnitStatus {
    /// Height of the active-chain checkpoint that confirmed it; `null` while pending.
    pub confirmed_height: Option<u64>,
    /// How that checkpoint ruled on it; `null` while pending.
    pub outcome: Option<Outcome>,
    /// Whether the confirming checkpoint is final (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// This node's timings; `null` when it keeps none for the unit.
    pub times: Option<UnitTimes>,
}

/// `POST /units`: per id, in order, its status or `null` if the node does not hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnitsResponse {
    /// One entry per requested id, in request order.
    pub units: Vec<Option<UnitStatus>>,
}

/// One row of `GET /txs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecentTx {
    /// The unit id.
    pub id: String,
    /// The signer (64 hex).
    pub from: String,
    /// The signer's nonce it spends.
    pub nonce: u64,
    /// The recipient of a transfer; `null` for other kinds.
    pub to: Option<String>,
    /// A transfer's amount in base units; 0 for other kinds.
    pub amount: u64,
    /// Fee in base units.
    pub fee: u64,
    /// Where it stands.
    pub status: TxStatus,
    /// Height of the confirming checkpoint; `null` while pending.
    pub confirmed_height: Option<u64>,
    /// Whether the confirming checkpoint is final (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `GET /txs?limit=N`: the transactions this node saw last, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecentTxs {
    /// Up to `limit` rows; transactions the DAG no longer holds are left out.
    pub txs: Vec<RecentTx>,
}

/// One unit of `GET /dag`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DagUnit {
    /// The unit id.
    pub id: String,
    /// The signer (64 hex).
    pub from: String,
    /// The signer's nonce it spends.
    pub nonce: u64,
    /// The two units it approves.
    pub parents: Vec<String>,
    /// Whether no unit approves it yet.
    pub tip: bool,
    /// Where it stands.
    pub status: TxStatus,
}

/// `GET /dag?limit=N`: the tip count and the units nearest the tips, breadth first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DagView {
    /// Tips in the DAG, all counted even if `limit` lists fewer units.
    pub tips: u64,
    /// Up to `limit` units, the tips first.
    pub units: Vec<DagUnit>,
}

/// One checkpoint of `GET /checkpoints`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointRow {
    /// Its height on the active chain.
    pub height: u64,
    /// The checkpoint id.
    pub id: String,
    /// The miner that forged it (64 hex).
    pub author: String,
    /// Its timestamp, Unix ms: the previous one's plus the author's deadline.
    pub timestamp_ms: u64,
    /// The base target its proof was measured against (`deadline = hit / base_target` s).
    pub base_target: u64,
    /// Ledger root after applying it.
    pub ledger_root: String,
    /// How many units it names as parents.
    pub parents: u64,
    /// Whether its height is at or below the final height (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `GET /checkpoints?limit=N`: the active chain, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Checkpoints {
    /// Height of the head.
    pub height: u64,
    /// Height of the newest final checkpoint.
    pub final_height: u64,
    /// Up to `limit` checkpoints (default 20), from the head down.
    pub checkpoints: Vec<CheckpointRow>,
}

/// `GET /tips`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tips {
    /// Ids of the units no other unit approves yet.
    pub tips: Vec<String>,
}

/// `GET /parents?count=N`: parent pairs from the node's tip selection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Parents {
    /// `count` pairs of unit ids, each the two parents for one new transaction.
    pub parents: Vec<[String; 2]>,
}

/// `GET /contract/{file_id}`: the active storage contract of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Contract {
    /// The file id (64 hex).
    pub file_id: String,
    /// The `StorePut` as the wire encodes it (hex): the exact roots and node list.
    pub put: String,
    /// The account that put the file and paid for it.
    pub owner: String,
    /// Height of the checkpoint that confirmed the put.
    pub opened_at: u64,
    /// The first round (checkpoint height) whose proofs are paid: `opened_at + 1`.
    pub first_round: u64,
    /// Base units of the prepaid fee not yet paid out or burned.
    pub escrow: u64,
    /// The node holding each shard now, in shard order (repairs included).
    pub storage_nodes: Vec<String>,
    /// Per shard: settled rounds without a valid proof.
    pub missed_rounds: Vec<u64>,
}

/// `POST /shard/{file_id}/{index}` (request) and `GET /shard/{file_id}/{index}` (answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Shard {
    /// The shard's bytes as hex.
    pub shard: String,
}

/// `POST /shard/{file_id}/{index}` kept the shard (durably).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardStored {
    /// Always true: the shard is held and synced to disk when the node answers.
    pub stored: bool,
    /// Whether the node held it before this request (nothing was written again).
    pub already_held: bool,
}

/// `POST /control/partition`: block these peers (listening addresses), added to the blocked set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PartitionRequest {
    /// Peer listening addresses as `ip:port`.
    pub peers: Vec<String>,
}

/// `POST /control/link`: one-way faults on the link to `peer`; a field left out keeps its
/// value, both zero remove the entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LinkRequest {
    /// The peer's listening address (`ip:port`).
    pub peer: String,
    /// Milliseconds each message to the peer is held back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Messages to the peer dropped, in parts per thousand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_per_mille: Option<u64>,
}

/// `POST /control/delay`: added to every outbound message (at most 60,000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DelayRequest {
    /// Milliseconds; 0 removes the delay.
    pub ms: u64,
}

/// `POST /control/loss`: outbound messages dropped, per mille (at most 1,000).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LossRequest {
    /// Parts per thousand; 0 removes the loss.
    pub per_mille: u64,
}

/// `POST /control/heal` (and any bodiless request): `{}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EmptyRequest {}

/// Every `/control/*` answer: the faults now in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ControlResponse {
    /// The node's whole fault table after the change.
    pub faults: InjectedFaults,
}

/// Who may mint a business token: its issuer, or a consortium's quorum (by consortium id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenMinterView {
    /// The account that issued the token.
    Issuer,
    /// The quorum of the consortium with this id (64 hex).
    Consortium(String),
    /// The two-way peg: the wrapped form of a token of another chain (docs/peg.md).
    Peg {
        /// The home chain's genesis id (64 hex).
        source_chain: String,
        /// The token's id on its home chain (64 hex).
        source_token: String,
    },
}

/// `GET /tokens` (each) and `GET /token/{id}`: one business token (docs/tokens.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenSummary {
    /// Hash of the issuer and its nonce at issue; fixed for the token's life.
    pub id: String,
    /// Display name chosen at issue.
    pub name: String,
    /// Ticker symbol chosen at issue.
    pub symbol: String,
    /// Decimal places wallets show: a balance of 1 is `10^-decimals` of a whole token.
    pub decimals: u8,
    /// The account that issued it and received the initial supply.
    pub issuer: String,
    /// `false` for a fixed supply.
    pub mintable: bool,
    /// Who mints a mintable token (`null` for a fixed supply).
    pub minter: Option<TokenMinterView>,
    /// The most ever issued plus minted, if the token has a cap.
    pub cap: Option<u64>,
    /// The initial supply, credited to the issuer at issue.
    pub issued: u64,
    /// Added by mints since.
    pub minted: u64,
    /// Destroyed by burns since.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenList {
    /// Up to `limit` tokens, from the smallest id.
    pub tokens: Vec<TokenSummary>,
    /// Tokens on the ledger, listed or not.
    pub total: usize,
}

/// `GET /token/{id}/balance/{account}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenBalance {
    /// The token id.
    pub token: String,
    /// The account (64 hex).
    pub account: String,
    /// Its balance in the token's smallest unit (see `decimals`).
    pub balance: u64,
    /// The head height the answer was read at.
    pub height: u64,
}

/// One filled-in value of every response type, for the tests here and the explorer's.
#[cfg(test)]
pub(crate) mod samples;

#[cfg(test)]
mod tests;
