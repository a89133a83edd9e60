//! Bodies the explorer page reads beyond the other routes (docs/explorer.md): the operator's
//! page configuration, the checkpoint tree with its side branches, one checkpoint, the recent
//! EVM receipts, and what a search term names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A panel of the explorer's front page.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExplorerPanel {
    /// Height, head, finality, peers and the node's own account.
    Status,
    /// The recent active chain as a table.
    Checkpoints,
    /// The checkpoint tree near the head as a drawing: active branch and side branches.
    Forks,
    /// The DAG near the tips as a drawing, and as a table.
    Dag,
    /// The transactions this node saw last, with their status.
    Transactions,
    /// Ledger accounts by balance.
    Accounts,
    /// Business tokens: supply and holders (docs/tokens.md).
    Tokens,
    /// EVM contract creations and calls (docs/evm.md).
    Contracts,
    /// Consortium databases with their certified heights (docs/consortium.md).
    Consortia,
    /// Federated-learning tasks: rounds, participants, escrow (docs/federated-learning.md).
    Learning,
}

impl ExplorerPanel {
    /// Every panel, in the order the page shows them by default.
    pub const ALL: [ExplorerPanel; 10] = [
        ExplorerPanel::Status,
        ExplorerPanel::Forks,
        ExplorerPanel::Dag,
        ExplorerPanel::Checkpoints,
        ExplorerPanel::Transactions,
        ExplorerPanel::Accounts,
        ExplorerPanel::Tokens,
        ExplorerPanel::Contracts,
        ExplorerPanel::Consortia,
        ExplorerPanel::Learning,
    ];
}

/// The explorer's colour scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExplorerTheme {
    /// Dark text on a light background.
    Light,
    /// Light text on a dark background.
    Dark,
}

/// A link the operator puts in the page's header (their documentation, a faucet, a status
/// page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplorerLink {
    /// The link's text.
    pub label: String,
    /// Where it points: an `http://` or `https://` URL.
    pub url: String,
}

/// `GET /explorer/config`: the page's operator configuration (`vein-node run
/// --explorer-config FILE`, docs/explorer.md), or the defaults without a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplorerConfig {
    /// The page's title and heading.
    #[serde(default = "default_title")]
    pub title: String,
    /// The colour scheme.
    #[serde(default = "default_theme")]
    pub theme: ExplorerTheme,
    /// The panels of the front page, in order; a panel not listed is not shown.
    #[serde(default = "default_panels")]
    pub panels: Vec<ExplorerPanel>,
    /// Links shown in the page's header.
    #[serde(default)]
    pub links: Vec<ExplorerLink>,
    /// How often the front page polls the node, in milliseconds.
    #[serde(default = "default_refresh_ms")]
    pub refresh_ms: u64,
}

fn default_title() -> String {
    "vein node".into()
}

fn default_theme() -> ExplorerTheme {
    ExplorerTheme::Light
}

fn default_panels() -> Vec<ExplorerPanel> {
    ExplorerPanel::ALL.to_vec()
}

fn default_refresh_ms() -> u64 {
    2_000
}

impl Default for ExplorerConfig {
    fn default() -> ExplorerConfig {
        ExplorerConfig {
            title: default_title(),
            theme: default_theme(),
            panels: default_panels(),
            links: Vec::new(),
            refresh_ms: default_refresh_ms(),
        }
    }
}

/// One checkpoint of `GET /forks`: a node of the checkpoint tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForkNode {
    /// The checkpoint id.
    pub id: String,
    /// Its predecessor's id.
    pub prev: String,
    /// Its height.
    pub height: u64,
    /// The miner that forged it.
    pub author: String,
    /// Its timestamp, Unix ms.
    pub timestamp_ms: u64,
    /// Whether it is on the active chain (else on a side branch).
    pub active: bool,
    /// Whether it is on the active chain at or below the final height (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// `GET /forks?limit=N`: the checkpoint tree near the head: the active chain's last `limit`
/// heights and every side-branch checkpoint this node accepted lately at those heights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ForkTree {
    /// The head's id.
    pub head: String,
    /// The head's height.
    pub height: u64,
    /// Height of the newest final checkpoint.
    pub final_height: u64,
    /// The checkpoints, by height descending then id; side branches marked `active: false`.
    pub checkpoints: Vec<ForkNode>,
}

/// A unit a checkpoint confirmed and how it ruled on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmedUnit {
    /// The unit id.
    pub id: String,
    /// Applied or ignored.
    pub outcome: super::Outcome,
}

/// `GET /checkpoint/{id}`: one checkpoint this node holds a header of, on any branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointDetail {
    /// The checkpoint id.
    pub id: String,
    /// Its height.
    pub height: u64,
    /// Its predecessor's id.
    pub prev: String,
    /// The miner that forged it.
    pub author: String,
    /// Its timestamp, Unix ms.
    pub timestamp_ms: u64,
    /// The base target its proof was measured against.
    pub base_target: u64,
    /// The ledger root its author signed.
    pub ledger_root: String,
    /// The generation signature (the next round's challenge seed).
    pub generation_signature: String,
    /// Whether it is on the active chain.
    pub active: bool,
    /// Whether it is active and at or below the final height (`final` on the wire).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The DAG units it names as parents.
    pub parents: Vec<String>,
    /// On the active chain: the units it confirmed in White Flag order (at most 1,000; empty
    /// once pruned or on a side branch).
    pub confirmed: Vec<ConfirmedUnit>,
    /// How many units it confirmed, listed or not.
    pub confirmed_count: u64,
}

/// One executed Ethereum transaction of `GET /evm/receipts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvmReceiptRow {
    /// The Ethereum transaction hash (0x and 64 hex).
    pub hash: String,
    /// Height of the checkpoint that executed it.
    pub height: u64,
    /// Its position among that checkpoint's executed transactions.
    pub index: u64,
    /// The sender (0x and 40 hex).
    pub from: String,
    /// The callee; `null` for a contract creation.
    pub to: Option<String>,
    /// The address a successful creation deployed to; `null` otherwise.
    pub contract_address: Option<String>,
    /// Whether it succeeded (a revert or halt is `false`).
    pub success: bool,
    /// Gas it used.
    pub gas_used: u64,
    /// Logs it emitted.
    pub logs: u64,
}

/// `GET /evm/receipts?limit=N`: the newest executed Ethereum transactions, and the contracts
/// deployed on the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvmReceipts {
    /// Accounts holding code (deployed contracts), all counted.
    pub contracts: u64,
    /// Up to `limit` receipts, newest first.
    pub receipts: Vec<EvmReceiptRow>,
}

/// What a search term can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// A DAG unit (a transaction), by id.
    Unit,
    /// A checkpoint on any branch, by id.
    Checkpoint,
    /// A ledger account (64 hex), or the native account of an EVM address.
    Account,
    /// A business token, by id or ERC-20 address.
    Token,
    /// An EVM contract, by address.
    Contract,
    /// An executed Ethereum transaction, by hash.
    EvmTx,
    /// A consortium, by id.
    Consortium,
    /// A federated-learning task, by id.
    LearningTask,
}

/// One thing a search term names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SearchMatch {
    /// What it is.
    pub kind: SearchKind,
    /// Its id as the page's route for it takes it (64 hex, or 0x and 40 hex for a contract).
    pub id: String,
}

/// `GET /search?q=TERM`: everything the term names on this node (an id can name several
/// things only by accident; all are listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SearchResults {
    /// The term as searched (trimmed, lowercase).
    pub query: String,
    /// What it names, in the order of [`SearchKind`].
    pub matches: Vec<SearchMatch>,
}
