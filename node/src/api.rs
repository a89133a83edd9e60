//! The node's JSON HTTP API (axum on the node's tokio runtime). Every read goes through
//! `DriverHandle::inspect`, so the API never races the driver: a query runs between two core
//! steps and sees a consistent state. Bad input is a 4xx JSON `{"error": ...}`, never a panic.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | explorer page (HTML, polls the JSON routes; docs/explorer.md) |
//! | `GET /explorer/{style.css,app.js,graph.js,panels.js}` | the explorer's static assets |
//! | `GET /explorer/config` | the operator's explorer configuration (`--explorer-config`) |
//! | `GET /forks?limit=N` | the checkpoint tree near the head, side branches included |
//! | `GET /checkpoint/{id}` | one checkpoint on any branch, with the units it confirmed |
//! | `GET /evm/receipts?limit=N` | the newest executed Ethereum transactions |
//! | `GET /search?q=TERM` | what an id, account, address or hash names on this node |
//! | `GET /openapi.json` | the OpenAPI 3.0 document of these routes ([`openapi`]) |
//! | `GET /ready` | 200 once the peer listener, the driver and the API are up |
//! | `GET /status` | height, head, final height and root, peers, DAG size, tips, own balance |
//! | `GET /balance/{account}` | balance and next nonce |
//! | `POST /tx` | `{"tx": "<hex of a signed transaction>"}` or `{"to", "amount", "fee"}` (faucet) |
//! | `POST /txs` | a batch: `{"txs": [hex, ...]}` and/or `{"transfers": [{to, amount, fee}, ...]}` |
//! | `GET /txs?limit=N` | the transactions this node saw last, with status (pending/applied/ignored/final) |
//! | `GET /dag?limit=N` | the units nearest the tips (breadth first from the tips), with parents |
//! | `GET /accounts?limit=N` | ledger accounts by balance |
//! | `GET /unit/{id}` | a transaction, its confirmation, finality and local timings |
//! | `POST /units` | `{"ids": [hex, ...]}`: status and local timings of many transactions |
//! | `GET /checkpoints?limit=N` | the active chain, newest first |
//! | `GET /tips` | current DAG tips |
//! | `GET /parents?count=N` | N parent pairs from the node's tip selection (503 while backlogged) |
//! | `GET /metrics` | Prometheus text |
//! | `GET /contract/{file_id}` | the active storage contract: its `StorePut` (wire hex) and state |
//! | `POST /shard/{file_id}/{index}` | `{"shard": hex}`: keep a shard this node is assigned |
//! | `GET /shard/{file_id}/{index}` | `{"shard": hex}` of a shard this node holds |
//! | `POST /control/{partition,heal,delay,loss,link}` | fault injection (see `service`) |
//! | `GET /consortia` | every consortium's sizes, key epoch, action count and log hash |
//! | `GET /consortium/{id}` | one consortium's parties, member keys, schemas, writers, proposals |
//! | `POST /consortium/{id}/query`, `/row`; `GET .../verify` | a member's replica (token) |
//! | `GET /consortium/{id}/attestations` | certified roots, divergences, this node's verdicts |
//! | `GET /fl/tasks`, `GET /fl/task/{id}` | federated-learning tasks: terms, escrow, rounds, payments |
//! | `POST /fl/task/{id}/update`, `GET /fl/task/{id}/updates/{round}` | the update exchange |
//! | `POST /rpc` | the Ethereum JSON-RPC (`eth_rpc`, docs/evm.md) |
//! | `GET /tokens`, `/token/{id}`, `/token/{id}/balance/{account}` | business tokens |
//! | `GET /sidechains`, `/sidechain/headers?from=H&interval=A` | followed chains, anchor headers |
//! | `GET /peg`, `/peg/proofs/{chain}`; `POST /peg/claim/check` | peg state, proofs, claim check |
//! | `GET /sidechain/pin`; `POST /sidechain/pin` | the anchor pin in force; pin a final anchor |
//!
//! Every request and response body is a type of [`crate::api_types`] (the clients' type set).
//!
//! Privileged (need `Authorization: Bearer <token>`, see [`auth`]): `/control/*`, `POST
//! /sidechain/pin` (it overrides fork choice) and the faucet forms of `POST /tx` and `POST
//! /txs`, where the node signs with its own key. Everything else
//! is open: reads, pre-signed transactions, and `POST /shard`, whose bytes must match the root
//! an on-chain contract committed to for a shard assigned to this node (the file's owner
//! uploads it and holds no operator token; the node spends nothing and changes no setting).

use crate::api_types::{
    AccountBalance, Accounts, CheckpointRow, Checkpoints, Parents, Ready, Status, Tips, UnitTimes,
};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::driver::DriverHandle;
use crate::faults::{HeardFrom, SharedFaults};
use crate::telemetry::{SharedTelemetry, TxTimes};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

mod anchor_pin;
mod auth;
mod consortium;
mod control;
mod error;
pub mod eth_rpc;
pub mod explorer;
mod fl;
mod ledger_history;
pub mod openapi;
mod peg;
mod rejections;
mod storage;
mod tokens;
mod txs;
pub use auth::{ApiAuth, ApiToken, ApiTokenError, TOKEN_ENV};
pub use control::PARTITION_PEERS_MAX;
pub use error::ApiError;
pub use explorer::SharedExplorerConfig;
pub use explorer::config::{ExplorerConfigError, load as load_explorer_config};
pub use rejections::URI_BYTES_MAX;

/// Checkpoints one `/checkpoints` call may return.
const CHECKPOINTS_LIMIT_MAX: u64 = 1_000;
/// A peer heard from within this window counts as live in `/status`.
const PEER_LIVE_MS: u64 = 10_000;
/// Transactions one `POST /txs` may carry (a bound on one request's work and memory).
const BATCH_MAX: usize = 10_000;
/// Parent pairs one `GET /parents` may ask for (each is one tip selection on the driver).
const PARENTS_MAX: u64 = 10_000;
/// Unconfirmed units beyond which `GET /parents` answers 503 (busy) instead of selecting. Past
/// about the tip selector's cone bound (60,000 units) clean-cone answers stop and every
/// selection replays a cone of that size: a node fed faster than it confirms then spends all
/// its time selecting and stops confirming at all (seen at 5,000 tx/s offered on the 4-node
/// testnet with a 20,000 bound). Refusing new parents well before that is the wallet's
/// backpressure. The default of `vein-node run --parents-backlog-max`. Between checkpoints the
/// backlog grows with the interval, which is exponential:
/// at 5,000 transfers/s and T = 1 s, 30,000 units is 6 s without a checkpoint (probability
/// e^-6 ≈ 0.25% per interval). The earlier 10,000 (2 s, 13.5%) refused ~10% of 5,000 offered
/// in exactly those long intervals (docs/testnet.md).
pub const UNCONFIRMED_FOR_PARENTS_MAX: usize = 30_000;
/// Rows one `/txs`, `/dag` or `/accounts` call may return.
const LIST_LIMIT_MAX: u64 = 1_000;

/// What every handler is given: the way into the driver and the node's shared tables. Cheap to
/// clone (handles and `Arc`s); built once by [`crate::service::run`].
#[derive(Clone)]
pub struct ApiState {
    /// The driver's handle: reads run through `inspect`, submissions through `operate`.
    pub handle: DriverHandle,
    /// The fault table `POST /control/*` writes and the network wrapper reads.
    pub faults: SharedFaults,
    /// When each peer was last heard from: `/status` lists those heard within 10 s as live.
    pub heard: HeardFrom,
    /// Counters and per-transaction timings, for `/status`, `/txs`, `/unit` and `/metrics`.
    pub telemetry: SharedTelemetry,
    /// The node's own account: it signs faucet transfers and is the account of `/status`.
    pub account: AccountId,
    /// The peer-to-peer listening address as bound (the port resolved), shown in `/status`.
    pub listen: SocketAddr,
    /// The genesis file's network name, shown in `/status`.
    pub chain_id: String,
    /// Unconfirmed units above which `GET /parents` answers 503 busy.
    pub parents_backlog_max: usize,
    /// Nonces in the plots this node mines with (0: it does not mine), shown in `/status`.
    pub plot_nonces: u64,
    /// Guards the privileged routes.
    pub auth: ApiAuth,
    /// This node's consortium replicas.
    pub consortia: crate::consortium_db::SharedFeed,
    /// Ethereum transactions sent through `/rpc` and not executed yet.
    pub eth_sent: eth_rpc::SharedSentTxs,
    /// Federated-learning updates posted to this node (`POST /fl/task/{id}/update`).
    pub fl_updates: crate::fl_updates::SharedUpdates,
    /// The explorer page's configuration (title, theme, panels, links), read at start. Its
    /// type is spelled out, not `SharedExplorerConfig`: the explorer's handlers use this
    /// state, so naming the explorer's alias here would make the two files import each other.
    pub explorer: std::sync::Arc<crate::api_types::ExplorerConfig>,
}

type ApiResult<T> = Result<axum::Json<T>, ApiError>;

/// Every route of the table above over `state`, with the JSON error middleware.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(explorer::index))
        .route("/explorer/style.css", get(explorer::style))
        .route("/explorer/app.js", get(explorer::app_script))
        .route("/explorer/graph.js", get(explorer::graph_script))
        .route("/explorer/panels.js", get(explorer::panels_script))
        .route("/explorer/config", get(explorer::configuration))
        .route("/forks", get(explorer::forks::fork_tree))
        .route("/checkpoint/{id}", get(explorer::forks::checkpoint))
        .route("/evm/receipts", get(explorer::evm_receipts::receipts))
        .route("/search", get(explorer::search::search))
        .route("/openapi.json", get(openapi_document))
        .route("/ready", get(ready))
        .route("/status", get(status))
        .route("/balance/{account}", get(balance))
        .route("/tx", post(txs::submit))
        .route("/txs", get(txs::recent_txs).post(txs::submit_batch))
        .route("/dag", get(txs::dag_near_tips))
        .route("/accounts", get(accounts))
        .route("/unit/{id}", get(txs::unit))
        .route("/units", post(txs::units_status))
        .route("/ledger/history", post(ledger_history::ledger_history))
        .route("/checkpoints", get(checkpoints))
        .route("/tips", get(tips))
        .route("/parents", get(parents))
        .route("/metrics", get(metrics))
        .route("/control/{action}", post(control::control))
        .route("/rpc", post(eth_rpc::rpc))
        .route("/contract/{file_id}", get(storage::contract))
        .route("/shard/{file_id}/{index}", get(storage::get_shard).post(storage::put_shard))
        .route("/consortia", get(consortium::list))
        .route("/consortium/{id}", get(consortium::detail))
        .route("/consortium/{id}/query", post(consortium::query))
        .route("/consortium/{id}/row", post(consortium::row))
        .route("/consortium/{id}/verify", get(consortium::verify))
        .route("/consortium/{id}/attestations", get(consortium::attestations))
        .route("/fl/tasks", get(fl::list))
        .route("/fl/task/{id}", get(fl::task))
        .route("/fl/task/{id}/update", post(fl::post_update))
        .route("/fl/task/{id}/updates/{round}", get(fl::updates))
        .route("/tokens", get(tokens::list))
        .route("/token/{id}", get(tokens::token))
        .route("/token/{id}/balance/{account}", get(tokens::balance))
        .route("/sidechains", get(peg::side_chains))
        .route("/sidechain/headers", get(peg::headers))
        .route("/peg", get(peg::peg))
        .route("/peg/proofs/{chain}", get(peg::proofs))
        .route("/peg/claim/check", post(peg::claim_check))
        .route("/sidechain/pin", get(anchor_pin::pins).post(anchor_pin::pin))
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
        .layer(axum::middleware::from_fn(rejections::json_errors))
}

/// Serve the API on `listener` until the task is aborted; a server error is logged, not returned.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) {
    if let Err(error) = axum::serve(listener, router(state)).await {
        tracing::error!(%error, "API server stopped");
    }
}

/// A 32-byte id (unit, file, consortium...) from 64 hex characters, surrounding whitespace
/// allowed; anything else is a 400.
pub fn parse_hash(text: &str) -> Result<Hash, ApiError> {
    let bytes = hex::decode(text.trim()).map_err(|_| ApiError::bad_request("id is not hex"))?;
    let array: [u8; 32] =
        bytes.try_into().map_err(|_| ApiError::bad_request("id must be 32 bytes (64 hex)"))?;
    Ok(Hash(array))
}

fn parse_account(text: &str) -> Result<AccountId, ApiError> {
    AccountId::from_hex(text).map_err(|e| ApiError::bad_request(format!("account: {e}")))
}

/// A JSON body as `T`. Bytes that are not JSON at all are "body is not JSON"; JSON of another
/// shape is a 400 with the message `shape` makes of serde's error (which names what it
/// expected and where).
fn parse_body<T: DeserializeOwned>(
    body: &[u8],
    shape: impl FnOnce(&serde_json::Error) -> String,
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        if error.is_data() {
            ApiError::bad_request(shape(&error))
        } else {
            ApiError::bad_request(format!("body is not JSON: {error}"))
        }
    })
}

/// A transaction's local times as the API shows them.
fn unit_times(times: TxTimes) -> UnitTimes {
    UnitTimes {
        accepted_ms: times.accepted_ms,
        confirmed_ms: times.confirmed_ms,
        final_ms: times.final_ms,
    }
}

async fn inspect<T: Send + 'static>(
    state: &ApiState,
    query: impl FnOnce(&Node) -> T + Send + 'static,
) -> Result<T, ApiError> {
    state.handle.inspect(query).await.ok_or_else(ApiError::unavailable)
}

/// `GET /openapi.json`: generated once per process (it depends only on the types).
async fn openapi_document() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(openapi::document).clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn ready(State(state): State<ApiState>) -> ApiResult<Ready> {
    let height = inspect(&state, |node| node.chain().height()).await?;
    Ok(axum::Json(Ready { ready: true, height }))
}

async fn status(State(state): State<ApiState>) -> ApiResult<Status> {
    let account = state.account;
    let (chain_id, listen, plot_nonces) =
        (state.chain_id.clone(), state.listen.to_string(), state.plot_nonces);
    let mut status = inspect(&state, move |node| {
        let chain = node.chain();
        let head = chain.head();
        let final_height = chain.final_height();
        let final_header = chain.active_at(final_height).and_then(|id| chain.header(&id));
        Status {
            account: account.to_hex(),
            genesis_id: chain.genesis_id().to_string(),
            height: head.height,
            head: head.id.to_string(),
            head_ledger_root: head.ledger_root.to_string(),
            final_height,
            final_id: final_header.map(|h| h.id.to_string()),
            final_ledger_root: final_header.map(|h| h.ledger_root.to_string()),
            anchors: chain.anchors().iter().map(|a| a.to_string()).collect(),
            peers: node.peers().count() as u64,
            dag_units: node.dag().len() as u64,
            orphans: node.dag().orphan_count() as u64,
            tips: node.dag().tips().len() as u64,
            balance: chain.ledger().balance(&account),
            next_nonce: chain.ledger().next_nonce(&account),
            supply: chain.ledger().supply(),
            chain_id,
            listen,
            peers_live: Vec::new(),
            plot_nonces,
            policy: node.policy().to_string(),
            released_height: node.released_height(),
            faults: Default::default(),
        }
    })
    .await?;
    let now = crate::runtime::Clock::now_ms(&crate::runtime::tokio_impl::TokioClock);
    status.peers_live = state
        .heard
        .lock()
        .map(|heard| {
            heard
                .iter()
                .filter(|(_, at)| now.saturating_sub(**at) <= PEER_LIVE_MS)
                .map(|(addr, _)| addr.to_string())
                .collect()
        })
        .unwrap_or_default();
    status.faults = state.faults.lock().map(|f| control::injected(&f)).unwrap_or_default();
    Ok(axum::Json(status))
}

async fn balance(
    State(state): State<ApiState>,
    Path(account): Path<String>,
) -> ApiResult<AccountBalance> {
    let account = parse_account(&account)?;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        axum::Json(AccountBalance {
            account: account.to_hex(),
            balance: ledger.balance(&account),
            next_nonce: ledger.next_nonce(&account),
        })
    })
    .await
}

fn list_limit(query: Option<&str>) -> Result<usize, ApiError> {
    Ok(query_u64(query, "limit")?.unwrap_or(20).min(LIST_LIMIT_MAX) as usize)
}

/// `GET /accounts?limit=N`: confirmed ledger accounts, richest first.
async fn accounts(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult<Accounts> {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        let mut rows: Vec<(&AccountId, u64, u64)> = ledger
            .accounts()
            .map(|(account, state)| (account, state.balance, state.next_nonce()))
            .collect();
        // Ties broken by account so that the order is stable between polls.
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let count = rows.len() as u64;
        let accounts = rows
            .into_iter()
            .take(limit)
            .map(|(account, balance, next_nonce)| AccountBalance {
                account: account.to_hex(),
                balance,
                next_nonce,
            })
            .collect();
        axum::Json(Accounts { count, accounts })
    })
    .await
}

/// Parse `limit=N` out of a raw query string (by hand, so that errors stay JSON).
fn query_u64(query: Option<&str>, name: &str) -> Result<Option<u64>, ApiError> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            let value = value.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{name} must be an unsigned integer"))
            })?;
            return Ok(Some(value));
        }
    }
    Ok(None)
}

async fn checkpoints(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Checkpoints> {
    let limit = query_u64(query.as_deref(), "limit")?.unwrap_or(20).min(CHECKPOINTS_LIMIT_MAX);
    inspect(&state, move |node| {
        let chain = node.chain();
        let final_height = chain.final_height();
        let top = chain.height();
        let checkpoints = (0..=top)
            .rev()
            .take(limit as usize)
            .filter_map(|height| {
                let header = chain.header(&chain.active_at(height)?)?;
                Some(CheckpointRow {
                    height: header.height,
                    id: header.id.to_string(),
                    author: header.author.to_hex(),
                    timestamp_ms: header.timestamp_ms,
                    base_target: header.base_target,
                    ledger_root: header.ledger_root.to_string(),
                    parents: header.parents().len() as u64,
                    is_final: header.height <= final_height,
                })
            })
            .collect();
        axum::Json(Checkpoints { height: top, final_height, checkpoints })
    })
    .await
}

async fn tips(State(state): State<ApiState>) -> ApiResult<Tips> {
    inspect(&state, |node| {
        let tips = node.dag().tips().as_slice().iter().map(|t| t.to_string()).collect();
        axum::Json(Tips { tips })
    })
    .await
}

/// `GET /parents?count=N` (default 1, at most 10 000): parent pairs chosen by this node's tip
/// selection, as it would choose them for a transaction it signed itself. A wallet that signs
/// elsewhere (the load generator) asks here instead of picking tips on its own: the node
/// knows which tips are eligible. Each pair is an independent draw on the current DAG.
async fn parents(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult<Parents> {
    let count = query_u64(query.as_deref(), "count")?.unwrap_or(1);
    if count == 0 || count > PARENTS_MAX {
        return Err(ApiError::bad_request(format!("count must be 1..={PARENTS_MAX}")));
    }
    let limit = state.parents_backlog_max;
    let pairs = state
        .handle
        .operate(move |node| {
            let backlog = node.dag().unconfirmed_len();
            if backlog > limit {
                return Err(backlog);
            }
            Ok((0..count).map(|_| node.select_parents()).collect::<Vec<_>>())
        })
        .await
        .ok_or_else(ApiError::unavailable)?
        .map_err(|backlog| ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("busy: {backlog} unconfirmed units (over {limit}); retry later"),
        })?;
    let parents = pairs.iter().map(|[a, b]| [a.to_string(), b.to_string()]).collect();
    Ok(axum::Json(Parents { parents }))
}

async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let mut text = inspect(&state, |node| {
        let stats = node.stats();
        let chain = node.chain();
        let mut text = String::new();
        let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        };
        gauge("vein_height", "Height of the head checkpoint.", "gauge", chain.height());
        gauge("vein_final_height", "Highest final checkpoint.", "gauge", chain.final_height());
        gauge("vein_dag_units", "Units in the DAG.", "gauge", node.dag().len() as u64);
        gauge("vein_tips", "Current DAG tips.", "gauge", node.dag().tips().len() as u64);
        gauge("vein_peers", "Peers known to the core.", "gauge", node.peers().count() as u64);
        gauge("vein_messages_in_total", "Messages received.", "counter", stats.messages_in);
        gauge("vein_messages_out_total", "Messages sent.", "counter", stats.messages_out);
        gauge("vein_units_accepted_total", "Units accepted.", "counter", stats.units_accepted);
        gauge(
            "vein_evm_receipts_pruned_total",
            "EVM receipts forgotten (Limits::evm_receipt_heights).",
            "counter",
            stats.evm_receipts_pruned,
        );
        let receipts_kept = chain.ledger().evm().receipts_kept() as u64;
        gauge("vein_evm_receipts", "EVM receipts kept.", "gauge", receipts_kept);
        gauge(
            "vein_checkpoints_won_total",
            "Checkpoints forged.",
            "counter",
            stats.checkpoints_won,
        );
        gauge(
            "vein_checkpoints_released_total",
            "Private checkpoints a withholding node's release rule published.",
            "counter",
            stats.checkpoints_released,
        );
        gauge(
            "vein_outputs_dropped_total",
            "Sends dropped by backpressure.",
            "counter",
            stats.outputs_dropped,
        );
        let policy = node.policy();
        text.push_str(&format!(
            "# HELP vein_policy_info The node's policy (1 for the one it runs).\n\
             # TYPE vein_policy_info gauge\nvein_policy_info{{policy=\"{policy}\"}} 1\n"
        ));
        text.push_str(
            "# HELP vein_rejected_total Inputs rejected, by kind.\n\
             # TYPE vein_rejected_total counter\n",
        );
        for (kind, count) in &stats.rejected {
            text.push_str(&format!("vein_rejected_total{{kind=\"{kind}\"}} {count}\n"));
        }
        text
    })
    .await?;
    // Process-wide counters (a vein-node process runs one node): read without the driver.
    let senders = crate::core::evm::SenderRecoveries::now();
    text.push_str(&format!(
        "# HELP vein_evm_sender_recoveries_total Ethereum senders recovered from signatures.\n\
         # TYPE vein_evm_sender_recoveries_total counter\n\
         vein_evm_sender_recoveries_total {}\n\
         # HELP vein_evm_sender_reuses_total Decodes that reused a recovered sender.\n\
         # TYPE vein_evm_sender_reuses_total counter\nvein_evm_sender_reuses_total {}\n",
        senders.recovered, senders.reused
    ));
    if let Ok(telemetry) = state.telemetry.lock() {
        for (name, value) in [
            ("vein_reorgs_total", telemetry.reorgs),
            ("vein_final_reverted_total", telemetry.final_reverted),
            ("vein_txs_applied_total", telemetry.txs_applied),
            ("vein_txs_ignored_total", telemetry.txs_ignored),
            ("vein_txs_final_total", telemetry.txs_final),
        ] {
            text.push_str(&format!("# TYPE {name} counter\n{name} {value}\n"));
        }
        let p2p = telemetry.p2p.snapshot();
        text.push_str(&format!(
            "# HELP vein_p2p_inbound_open Inbound peer connections open.\n\
             # TYPE vein_p2p_inbound_open gauge\nvein_p2p_inbound_open {}\n\
             # HELP vein_p2p_inbound_accepted_total Inbound peer connections admitted.\n\
             # TYPE vein_p2p_inbound_accepted_total counter\n\
             vein_p2p_inbound_accepted_total {}\n\
             # HELP vein_p2p_refused_total Inbound peer connections closed by this node, by \
             kind.\n# TYPE vein_p2p_refused_total counter\n",
            p2p.inbound_open, p2p.inbound_accepted
        ));
        for (kind, count) in &p2p.refused {
            text.push_str(&format!("vein_p2p_refused_total{{kind=\"{}\"}} {count}\n", kind.name()));
        }
    }
    consortium::metrics_text(&state, &mut text);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_is_strict_but_optional() {
        assert_eq!(query_u64(None, "limit").unwrap(), None);
        assert_eq!(query_u64(Some("a=1&limit=7"), "limit").unwrap(), Some(7));
        assert!(query_u64(Some("limit=x"), "limit").is_err());
        assert!(parse_hash("zz").is_err());
        assert!(parse_hash(&"ab".repeat(32)).is_ok());
    }
}
