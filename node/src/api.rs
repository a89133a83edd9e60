//! The node's JSON HTTP API (axum on the node's tokio runtime). Every read goes through
//! `DriverHandle::inspect`, so the API never races the driver: a query runs between two core
//! steps and sees a consistent state. Bad input is a 4xx JSON `{"error": ...}`, never a panic.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | explorer page (HTML, polls the JSON routes) |
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
//!
//! Privileged (need `Authorization: Bearer <token>`, see [`auth`]): `/control/*` and the faucet
//! forms of `POST /tx` and `POST /txs`, where the node signs with its own key. Everything else
//! is open: reads, pre-signed transactions, and `POST /shard`, whose bytes must match the root
//! an on-chain contract committed to for a shard assigned to this node (the file's owner
//! uploads it and holds no operator token; the node spends nothing and changes no setting).

use crate::core::crypto::AccountId;
use crate::core::dag::Outcome;
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::core::transaction::{Transaction, TxKind};
use crate::driver::DriverHandle;
use crate::service::{Faults, HeardFrom, LinkFault, SharedFaults, SharedTelemetry, TxTimes};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::net::SocketAddr;

mod auth;
pub use auth::{ApiAuth, ApiToken, ApiTokenError, TOKEN_ENV};

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
/// Largest `POST /shard` body: a 32 MiB shard as hex plus the JSON around it.
const SHARD_BODY_MAX: usize = (64 << 20) + 1024;

#[derive(Clone)]
pub struct ApiState {
    pub handle: DriverHandle,
    pub faults: SharedFaults,
    pub heard: HeardFrom,
    pub telemetry: SharedTelemetry,
    pub account: AccountId,
    pub listen: SocketAddr,
    pub chain_id: String,
    /// Unconfirmed units above which `GET /parents` answers 503 busy.
    pub parents_backlog_max: usize,
    pub plot_nonces: u64,
    /// Guards the privileged routes.
    pub auth: ApiAuth,
}

/// A 4xx/5xx answer with a JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    fn unavailable() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the node is shutting down".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme the client should use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type ApiResult = Result<axum::Json<Value>, ApiError>;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(explorer))
        .route("/ready", get(ready))
        .route("/status", get(status))
        .route("/balance/{account}", get(balance))
        .route("/tx", post(submit))
        .route("/txs", get(recent_txs).post(submit_batch))
        .route("/dag", get(dag_near_tips))
        .route("/accounts", get(accounts))
        .route("/unit/{id}", get(unit))
        .route("/units", post(units_status))
        .route("/checkpoints", get(checkpoints))
        .route("/tips", get(tips))
        .route("/parents", get(parents))
        .route("/metrics", get(metrics))
        .route("/control/{action}", post(control))
        .route("/contract/{file_id}", get(contract))
        .route(
            "/shard/{file_id}/{index}",
            get(get_shard).post(put_shard).layer(DefaultBodyLimit::max(SHARD_BODY_MAX)),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
}

pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) {
    if let Err(error) = axum::serve(listener, router(state)).await {
        tracing::error!(%error, "API server stopped");
    }
}

pub fn parse_hash(text: &str) -> Result<Hash, ApiError> {
    let bytes = hex::decode(text.trim()).map_err(|_| ApiError::bad_request("id is not hex"))?;
    let array: [u8; 32] =
        bytes.try_into().map_err(|_| ApiError::bad_request("id must be 32 bytes (64 hex)"))?;
    Ok(Hash(array))
}

fn parse_account(text: &str) -> Result<AccountId, ApiError> {
    AccountId::from_hex(text).map_err(|e| ApiError::bad_request(format!("account: {e}")))
}

async fn inspect<T: Send + 'static>(
    state: &ApiState,
    query: impl FnOnce(&Node) -> T + Send + 'static,
) -> Result<T, ApiError> {
    state.handle.inspect(query).await.ok_or_else(ApiError::unavailable)
}

async fn ready(State(state): State<ApiState>) -> ApiResult {
    let height = inspect(&state, |node| node.chain().height()).await?;
    Ok(axum::Json(json!({ "ready": true, "height": height })))
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => "applied",
        Outcome::Ignored => "ignored",
    }
}

async fn status(State(state): State<ApiState>) -> ApiResult {
    let account = state.account;
    let mut body = inspect(&state, move |node| {
        let chain = node.chain();
        let head = chain.head();
        let final_height = chain.final_height();
        let final_header = chain.active_at(final_height).and_then(|id| chain.header(&id));
        json!({
            "account": account.to_hex(),
            "genesis_id": chain.genesis_id().to_string(),
            "height": head.height,
            "head": head.id.to_string(),
            "head_ledger_root": head.ledger_root.to_string(),
            "final_height": final_height,
            "final_id": final_header.map(|h| h.id.to_string()),
            "final_ledger_root": final_header.map(|h| h.ledger_root.to_string()),
            "anchors": chain.anchors().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            "peers": node.peers().count(),
            "dag_units": node.dag().len(),
            "orphans": node.dag().orphan_count(),
            "tips": node.dag().tips().len(),
            "balance": chain.ledger().balance(&account),
            "next_nonce": chain.ledger().next_nonce(&account),
            "supply": chain.ledger().supply(),
        })
    })
    .await?;
    let now = crate::runtime::Clock::now_ms(&crate::runtime::tokio_impl::TokioClock);
    let live: Vec<String> = state
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
    let faults = state.faults.lock().map(|f| f.clone()).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        map.insert("chain_id".into(), json!(state.chain_id));
        map.insert("listen".into(), json!(state.listen.to_string()));
        map.insert("peers_live".into(), json!(live));
        map.insert("plot_nonces".into(), json!(state.plot_nonces));
        map.insert("faults".into(), json!(faults));
    }
    Ok(axum::Json(body))
}

async fn balance(State(state): State<ApiState>, Path(account): Path<String>) -> ApiResult {
    let account = parse_account(&account)?;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        axum::Json(json!({
            "account": account.to_hex(),
            "balance": ledger.balance(&account),
            "next_nonce": ledger.next_nonce(&account),
        }))
    })
    .await
}

/// The ledger refuses a transfer to its own sender, but nothing refuses it on arrival: it would
/// sit in the DAG as a tip no one may approve, pending forever. Refuse it at the door instead.
fn refuse_self_transfer(from: &AccountId, kind: &TxKind) -> Result<(), ApiError> {
    match kind {
        TxKind::Transfer { to, .. } if to == from => {
            Err(ApiError::bad_request("a transfer to oneself is not allowed (it never applies)"))
        }
        _ => Ok(()),
    }
}

/// `POST /tx`: a pre-signed transaction (open) or a faucet transfer from the node's own account
/// (privileged).
async fn submit(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not JSON: {e}")))?;
    let result = if let Some(tx) = request.get("tx") {
        let text = tx.as_str().ok_or_else(|| ApiError::bad_request("tx must be a hex string"))?;
        let bytes = hex::decode(text.trim()).map_err(|_| ApiError::bad_request("tx: not hex"))?;
        let tx = Transaction::decode(&bytes)
            .map_err(|e| ApiError::bad_request(format!("tx does not decode: {e}")))?;
        refuse_self_transfer(&tx.body.from, &tx.body.kind)?;
        state.handle.submit(tx).await
    } else {
        state.auth.authorize(&headers, "the faucet (a transfer the node signs)")?;
        let (to, amount, fee) =
            parse_transfer(&request, "expected {\"tx\": hex} or {to, amount, fee}")?;
        refuse_self_transfer(&state.account, &TxKind::Transfer { to, amount })?;
        state.handle.transfer(to, amount, fee).await
    };
    match result {
        None => Err(ApiError::unavailable()),
        Some(Ok(id)) => Ok(axum::Json(json!({ "id": id.to_string() }))),
        Some(Err(reason)) => Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("{} ({})", reason, reason.kind()),
        }),
    }
}

/// A transfer for the node to sign (its own account, next free nonce): `to`, `amount` and an
/// optional `fee` (default 1). `missing_to` is the error message when `to` is absent.
fn parse_transfer(request: &Value, missing_to: &str) -> Result<(AccountId, u64, u64), ApiError> {
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be an unsigned integer")))
    };
    let to = request
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request(missing_to))?;
    let to = parse_account(to)?;
    let amount = field("amount")?;
    let fee = if request.get("fee").is_none() { 1 } else { field("fee")? };
    Ok((to, amount, fee))
}

/// `POST /txs`: many transactions in one request, so a load generator is not bound by one
/// HTTP round trip per transaction. Every item is parsed before any is submitted (a malformed
/// batch submits nothing); then each is submitted in order and answers `{"id"}` or
/// `{"error"}` at its position: pre-signed `txs` first, then node-signed `transfers` (which make
/// the whole request privileged).
async fn submit_batch(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not JSON: {e}")))?;
    let list = |name: &str| -> Result<Vec<Value>, ApiError> {
        match request.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be an array"))),
        }
    };
    let (raw_txs, raw_transfers) = (list("txs")?, list("transfers")?);
    if !raw_transfers.is_empty() {
        state.auth.authorize(&headers, "transfers (the node signs them)")?;
    }
    if raw_txs.is_empty() && raw_transfers.is_empty() {
        return Err(ApiError::bad_request(
            "expected {\"txs\": [hex, ...]} or {\"transfers\": [...]}",
        ));
    }
    if raw_txs.len() + raw_transfers.len() > BATCH_MAX {
        return Err(ApiError::bad_request(format!("at most {BATCH_MAX} transactions per batch")));
    }
    let mut txs = Vec::with_capacity(raw_txs.len());
    for (index, item) in raw_txs.iter().enumerate() {
        let text = item
            .as_str()
            .ok_or_else(|| ApiError::bad_request(format!("txs[{index}] must be a hex string")))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| ApiError::bad_request(format!("txs[{index}]: not hex")))?;
        let tx = Transaction::decode(&bytes)
            .map_err(|e| ApiError::bad_request(format!("txs[{index}] does not decode: {e}")))?;
        refuse_self_transfer(&tx.body.from, &tx.body.kind)?;
        txs.push(tx);
    }
    let transfers = raw_transfers
        .iter()
        .map(|item| parse_transfer(item, "a transfer needs to, amount (and fee)"))
        .collect::<Result<Vec<_>, ApiError>>()?;
    for (to, amount, _) in &transfers {
        refuse_self_transfer(&state.account, &TxKind::Transfer { to: *to, amount: *amount })?;
    }
    let answer = |result: Option<Result<Hash, crate::core::node::RejectReason>>| match result {
        None => Err(ApiError::unavailable()),
        Some(Ok(id)) => Ok(json!({ "id": id.to_string() })),
        Some(Err(reason)) => Ok(json!({ "error": format!("{} ({})", reason, reason.kind()) })),
    };
    let mut results = Vec::with_capacity(txs.len() + transfers.len());
    if !txs.is_empty() {
        // One driver command for all of them: no channel round trip per transaction.
        let outcomes = state.handle.submit_batch(txs).await.ok_or_else(ApiError::unavailable)?;
        for outcome in outcomes {
            results.push(answer(Some(outcome))?);
        }
    }
    for (to, amount, fee) in transfers {
        results.push(answer(state.handle.transfer(to, amount, fee).await)?);
    }
    let accepted = results.iter().filter(|result| result.get("id").is_some()).count();
    Ok(axum::Json(json!({ "accepted": accepted, "results": results })))
}

fn parse_shard_index(text: &str) -> Result<u8, ApiError> {
    text.parse().map_err(|_| ApiError::bad_request("shard index must be 0..=255"))
}

/// `GET /contract/{file_id}`: the active contract of a file, with its put wire-encoded (hex) so
/// a client gets the exact roots and node list the ledger holds.
async fn contract(State(state): State<ApiState>, Path(file_id): Path<String>) -> ApiResult {
    let file_id = parse_hash(&file_id)?;
    let answer = inspect(&state, move |node| {
        let contract = node.chain().ledger().contract(&file_id)?;
        let put = crate::core::wire::encode_body(&*contract.put, "store put").ok()?;
        Some(json!({
            "file_id": file_id.to_string(),
            "put": hex::encode(put),
            "owner": contract.owner.to_hex(),
            "opened_at": contract.opened_at,
            "first_round": contract.first_round,
            "escrow": contract.escrow,
            "storage_nodes": contract.put.storage_nodes.iter().map(AccountId::to_hex)
                .collect::<Vec<_>>(),
            "missed_rounds": contract.missed_rounds,
        }))
    })
    .await?;
    answer
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no active contract for file {file_id}")))
}

/// Why this node refuses to keep a shard handed to it.
fn check_handed_shard(
    node: &Node,
    account: &AccountId,
    file_id: &Hash,
    shard_index: u8,
    bytes: &[u8],
) -> Result<bool, ApiError> {
    let contract = node.chain().ledger().contract(file_id).ok_or_else(|| {
        // Not yet applied here (the put may still be on its way): the client retries.
        ApiError::not_found(format!("no active contract for file {file_id} on this node yet"))
    })?;
    let put = &contract.put;
    let holder = put.storage_nodes.get(usize::from(shard_index)).ok_or_else(|| {
        ApiError::bad_request(format!("the file has {} shards", put.total_shards))
    })?;
    if holder != account {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            message: format!(
                "shard {shard_index} is assigned to {}, not this node",
                holder.to_hex()
            ),
        });
    }
    let root = crate::core::storage::merkle::root(bytes, put.chunk_bytes).ok();
    if bytes.len() as u64 != put.shard_bytes
        || root.as_ref() != put.shard_roots.get(usize::from(shard_index))
    {
        return Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("shard {shard_index} does not match the contract's root and length"),
        });
    }
    Ok(node.shard(file_id, shard_index).is_some())
}

/// `POST /shard/{file_id}/{index}` with `{"shard": hex}`: keep a shard of an active contract
/// that assigns it to this node. Checked against the contract first, so nobody can make a node
/// store (and prove) bytes no contract pays for; durable (synced) before the answer.
async fn put_shard(
    State(state): State<ApiState>,
    Path((file_id, index)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let file_id = parse_hash(&file_id)?;
    let shard_index = parse_shard_index(&index)?;
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not JSON: {e}")))?;
    let text = request
        .get("shard")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("expected {\"shard\": hex}"))?;
    let bytes = hex::decode(text.trim()).map_err(|_| ApiError::bad_request("shard: not hex"))?;
    let account = state.account;
    let (checked, bytes) = inspect(&state, move |node| {
        let checked = check_handed_shard(node, &account, &file_id, shard_index, &bytes);
        (checked, bytes)
    })
    .await?;
    if checked? {
        return Ok(axum::Json(json!({ "stored": true, "already_held": true })));
    }
    match state.handle.store_shard(file_id, shard_index, bytes).await {
        None => Err(ApiError::unavailable()),
        Some(Ok(())) => Ok(axum::Json(json!({ "stored": true, "already_held": false }))),
        Some(Err(error)) => Err(ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("storing the shard failed: {error}"),
        }),
    }
}

/// `GET /shard/{file_id}/{index}`: a shard this node holds (what `GetShard` would answer).
async fn get_shard(
    State(state): State<ApiState>,
    Path((file_id, index)): Path<(String, String)>,
) -> ApiResult {
    let file_id = parse_hash(&file_id)?;
    let shard_index = parse_shard_index(&index)?;
    let shard =
        inspect(&state, move |node| node.shard(&file_id, shard_index).map(hex::encode)).await?;
    shard.map(|shard| axum::Json(json!({ "shard": shard }))).ok_or_else(|| {
        ApiError::not_found(format!("this node holds no shard {shard_index} of {file_id}"))
    })
}

/// Status of a transaction as the explorer shows it.
fn tx_status(
    confirmation: Option<crate::core::dag::Confirmation>,
    final_height: u64,
) -> &'static str {
    match confirmation {
        None => "pending",
        Some(c) if c.outcome == Outcome::Ignored => "ignored",
        Some(c) if c.height <= final_height => "final",
        Some(_) => "applied",
    }
}

fn list_limit(query: Option<&str>) -> Result<usize, ApiError> {
    Ok(query_u64(query, "limit")?.unwrap_or(20).min(LIST_LIMIT_MAX) as usize)
}

/// `GET /txs?limit=N`: the transactions this node accepted last, newest first.
async fn recent_txs(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult {
    let limit = list_limit(query.as_deref())?;
    let ids = state.telemetry.lock().map(|t| t.recent(limit)).unwrap_or_default();
    inspect(&state, move |node| {
        let dag = node.dag();
        let final_height = node.chain().final_height();
        let list: Vec<Value> = ids
            .iter()
            .filter_map(|id| {
                let unit = dag.get(id)?;
                let body = &unit.tx.body;
                let confirmation = dag.confirmation(id);
                let (to, amount) = match &body.kind {
                    TxKind::Transfer { to, amount } => (Some(to.to_hex()), *amount),
                    _ => (None, 0),
                };
                Some(json!({
                    "id": id.to_string(),
                    "from": body.from.to_hex(),
                    "nonce": body.nonce,
                    "to": to,
                    "amount": amount,
                    "fee": body.fee,
                    "status": tx_status(confirmation, final_height),
                    "confirmed_height": confirmation.map(|c| c.height),
                    "final": confirmation.is_some_and(|c| c.height <= final_height),
                }))
            })
            .collect();
        axum::Json(json!({ "txs": list }))
    })
    .await
}

/// `GET /dag?limit=N`: the units nearest the tips, breadth first backwards from the tips.
async fn dag_near_tips(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| {
        let dag = node.dag();
        let final_height = node.chain().final_height();
        let tips = dag.tips();
        let mut queue: std::collections::VecDeque<Hash> = tips.as_slice().iter().copied().collect();
        let mut seen: std::collections::BTreeSet<Hash> = queue.iter().copied().collect();
        let mut units = Vec::new();
        while let Some(id) = queue.pop_front() {
            if units.len() >= limit {
                break;
            }
            let Some(unit) = dag.get(&id) else { continue };
            for parent in &unit.tx.body.parents {
                if seen.insert(*parent) {
                    queue.push_back(*parent);
                }
            }
            units.push(json!({
                "id": id.to_string(),
                "from": unit.tx.body.from.to_hex(),
                "nonce": unit.tx.body.nonce,
                "parents": unit.tx.body.parents.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "tip": tips.contains(&id),
                "status": tx_status(dag.confirmation(&id), final_height),
            }));
        }
        axum::Json(json!({ "tips": tips.len(), "units": units }))
    })
    .await
}

/// `GET /accounts?limit=N`: confirmed ledger accounts, richest first.
async fn accounts(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        let mut rows: Vec<(&AccountId, u64, u64)> = ledger
            .accounts()
            .map(|(account, state)| (account, state.balance, state.next_nonce()))
            .collect();
        // Ties broken by account so that the order is stable between polls.
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let total = rows.len();
        let list: Vec<Value> = rows
            .into_iter()
            .take(limit)
            .map(|(account, balance, next_nonce)| {
                json!({ "account": account.to_hex(), "balance": balance, "next_nonce": next_nonce })
            })
            .collect();
        axum::Json(json!({ "count": total, "accounts": list }))
    })
    .await
}

async fn unit(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult {
    let id = parse_hash(&id)?;
    let found = inspect(&state, move |node| {
        let dag = node.dag();
        let unit = dag.get(&id)?;
        let body = &unit.tx.body;
        let confirmation = dag.confirmation(&id);
        let final_height = node.chain().final_height();
        let (kind, to, amount) = match &body.kind {
            TxKind::Transfer { to, amount } => ("transfer", Some(to.to_hex()), *amount),
            TxKind::StorePut(put) => ("store_put", None, put.prepaid_fee),
            TxKind::StorageProof(_) => ("storage_proof", None, 0),
            TxKind::StoreRepair { .. } => ("store_repair", None, 0),
        };
        Some(json!({
            "id": id.to_string(),
            "kind": kind,
            "from": body.from.to_hex(),
            "nonce": body.nonce,
            "to": to,
            "amount": amount,
            "fee": body.fee,
            "parents": body.parents.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "issued_at_ms": body.issued_at_ms,
            "confirmed_height": confirmation.map(|c| c.height),
            "outcome": confirmation.map(|c| outcome_name(c.outcome)),
            "final": confirmation.is_some_and(|c| c.height <= final_height),
        }))
    })
    .await?;
    let mut body = found.ok_or_else(|| ApiError::not_found(format!("unit {id} unknown")))?;
    // Times are read after the node answered, never before: see `units_status`.
    let times: Option<TxTimes> =
        state.telemetry.lock().ok().and_then(|telemetry| telemetry.tx_times.get(&id).copied());
    if let Value::Object(map) = &mut body {
        map.insert("times".into(), json!(times));
    }
    Ok(axum::Json(body))
}

/// `POST /units` with `{"ids": [hex, ...]}` (at most 10 000): for each id, in order, `null` if
/// the node does not hold it, else `confirmed_height`, `outcome`, `final` and the local `times`
/// (accepted/confirmed/final, Unix ms, as in `GET /unit`). One request for a whole load run's
/// transactions instead of one each; every id is parsed before anything is looked up.
async fn units_status(State(state): State<ApiState>, body: Bytes) -> ApiResult {
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not JSON: {e}")))?;
    let items = request
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("expected {\"ids\": [hex, ...]}"))?;
    if items.len() > BATCH_MAX {
        return Err(ApiError::bad_request(format!("at most {BATCH_MAX} ids per request")));
    }
    let ids = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let text = item
                .as_str()
                .ok_or_else(|| ApiError::bad_request(format!("ids[{index}] must be a string")))?;
            parse_hash(text)
                .map_err(|e| ApiError::bad_request(format!("ids[{index}]: {}", e.message)))
        })
        .collect::<Result<Vec<Hash>, ApiError>>()?;
    let (ids, mut units) = inspect(&state, move |node| {
        let dag = node.dag();
        let final_height = node.chain().final_height();
        let units = ids
            .iter()
            .map(|id| {
                if !dag.contains(id) && dag.pruned_height(id).is_none() {
                    return Value::Null;
                }
                let confirmation = dag.confirmation(id);
                json!({
                    "confirmed_height": confirmation.map(|c| c.height),
                    "outcome": confirmation.map(|c| outcome_name(c.outcome)),
                    "final": confirmation.is_some_and(|c| c.height <= final_height),
                })
            })
            .collect::<Vec<Value>>();
        (ids, units)
    })
    .await?;
    // The times are read after the node answered: the driver hands a turn's events to the
    // telemetry before it serves the next command, so every state the answer shows (final,
    // say) already has its time. Read before, a turn could fall in between and the answer say
    // `final` without `final_ms` (seen: 2,100 of 100,000 transfers in a load run, which the
    // client then never asked again and left out of its latencies).
    if let Ok(telemetry) = state.telemetry.lock() {
        for (id, unit) in ids.iter().zip(units.iter_mut()) {
            if let Value::Object(map) = unit {
                map.insert("times".into(), json!(telemetry.tx_times.get(id).copied()));
            }
        }
    }
    Ok(axum::Json(json!({ "units": units })))
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

async fn checkpoints(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult {
    let limit = query_u64(query.as_deref(), "limit")?.unwrap_or(20).min(CHECKPOINTS_LIMIT_MAX);
    inspect(&state, move |node| {
        let chain = node.chain();
        let final_height = chain.final_height();
        let top = chain.height();
        let list: Vec<Value> = (0..=top)
            .rev()
            .take(limit as usize)
            .filter_map(|height| {
                let header = chain.header(&chain.active_at(height)?)?;
                Some(json!({
                    "height": header.height,
                    "id": header.id.to_string(),
                    "author": header.author.to_hex(),
                    "timestamp_ms": header.timestamp_ms,
                    "base_target": header.base_target,
                    "ledger_root": header.ledger_root.to_string(),
                    "parents": header.parents().len(),
                    "final": header.height <= final_height,
                }))
            })
            .collect();
        axum::Json(json!({ "height": top, "final_height": final_height, "checkpoints": list }))
    })
    .await
}

async fn tips(State(state): State<ApiState>) -> ApiResult {
    inspect(&state, |node| {
        let tips: Vec<String> =
            node.dag().tips().as_slice().iter().map(|t| t.to_string()).collect();
        axum::Json(json!({ "tips": tips }))
    })
    .await
}

/// `GET /parents?count=N` (default 1, at most 10 000): parent pairs chosen by this node's tip
/// selection, as it would choose them for a transaction it signed itself. A wallet that signs
/// elsewhere (the load generator) asks here instead of picking tips on its own: the node
/// knows which tips are eligible. Each pair is an independent draw on the current DAG.
async fn parents(State(state): State<ApiState>, RawQuery(query): RawQuery) -> ApiResult {
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
    let pairs: Vec<[String; 2]> =
        pairs.iter().map(|[a, b]| [a.to_string(), b.to_string()]).collect();
    Ok(axum::Json(json!({ "parents": pairs })))
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
            "vein_checkpoints_won_total",
            "Checkpoints forged.",
            "counter",
            stats.checkpoints_won,
        );
        gauge(
            "vein_outputs_dropped_total",
            "Sends dropped by backpressure.",
            "counter",
            stats.outputs_dropped,
        );
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
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// `POST /control/partition {"peers": ["127.0.0.1:4001", ...]}` blocks those peers (added to
/// the blocked set); `/control/heal` clears every fault; `/control/delay {"ms": N}`;
/// `/control/loss {"per_mille": N}`.
async fn control(
    State(state): State<ApiState>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    state.auth.authorize(&headers, "fault injection (/control)")?;
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("body is not JSON: {e}")))?
    };
    let number = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be an unsigned integer")))
    };
    let mut faults =
        state.faults.lock().map_err(|_| ApiError::bad_request("fault table poisoned"))?;
    match action.as_str() {
        "partition" => {
            let peers = request
                .get("peers")
                .and_then(Value::as_array)
                .ok_or_else(|| ApiError::bad_request("peers must be an array of addresses"))?;
            let mut parsed = Vec::new();
            for peer in peers {
                let addr = peer
                    .as_str()
                    .and_then(|text| text.parse::<SocketAddr>().ok())
                    .ok_or_else(|| ApiError::bad_request(format!("bad peer address {peer}")))?;
                parsed.push(addr);
            }
            faults.blocked.extend(parsed);
        }
        "heal" => *faults = Faults::default(),
        "link" => {
            // `{"peer": addr, "delay_ms": N, "loss_per_mille": N}`: one-way faults on the link
            // to `peer`; an omitted field keeps its value, both zero removes the entry.
            let peer = request
                .get("peer")
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<SocketAddr>().ok())
                .ok_or_else(|| ApiError::bad_request("peer must be a listening address"))?;
            let mut link = faults.links.get(&peer).copied().unwrap_or_default();
            if request.get("delay_ms").is_some() {
                link.delay_ms = number("delay_ms")?.min(60_000);
            }
            if request.get("loss_per_mille").is_some() {
                let per_mille = number("loss_per_mille")?;
                if per_mille > 1000 {
                    return Err(ApiError::bad_request("loss_per_mille must be at most 1000"));
                }
                link.loss_per_mille = per_mille as u32;
            }
            if link == LinkFault::default() {
                faults.links.remove(&peer);
            } else {
                faults.links.insert(peer, link);
            }
        }
        "delay" => faults.delay_ms = number("ms")?.min(60_000),
        "loss" => {
            let per_mille = number("per_mille")?;
            if per_mille > 1000 {
                return Err(ApiError::bad_request("per_mille must be at most 1000"));
            }
            faults.loss_per_mille = per_mille as u32;
        }
        other => return Err(ApiError::not_found(format!("unknown control action {other:?}"))),
    }
    tracing::info!(action, faults = ?*faults, "faults changed");
    Ok(axum::Json(json!({ "faults": *faults })))
}

async fn explorer() -> Html<&'static str> {
    Html(EXPLORER_HTML)
}

/// A single self-contained page: it polls the JSON routes every two seconds and renders the
/// node's status, recent checkpoints, the DAG near its tips, recent transactions with their
/// status, and the ledger's accounts. Every value from the node is escaped before rendering.
const EXPLORER_HTML: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>vein node</title>
<style>body{font:14px monospace;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px}h2{margin-top:1.5em}
.pending{color:#a60}.applied{color:#06a}.final{color:#080}.ignored{color:#a00}</style></head>
<body><h1>vein node</h1><p id="updated">loading…</p><table id="status"></table>
<h2>Transaction</h2><input id="txid" size="70" placeholder="transaction id (hex)">
<button onclick="lookup()">look up</button><pre id="tx"></pre>
<h2>Recent checkpoints</h2><table id="cps"></table>
<h2>Recent transactions</h2><table id="txs"></table>
<h2>DAG near the tips</h2><p id="dag-summary"></p><table id="dag"></table>
<h2>Accounts</h2><p id="accounts-summary"></p><table id="accounts"></table>
<script>
async function j(p){const r=await fetch(p);return r.json()}
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
function short(s){return s==null?'-':esc(String(s).slice(0,16))}
function row(cells,cls,id){return '<tr'+(cls?' class="'+esc(cls)+'"':'')+(id?' data-id="'+esc(id)+'"':'')+'>'+
 cells.map(c=>'<td>'+c+'</td>').join('')+'</tr>'}
function head(names){return '<tr>'+names.map(n=>'<th>'+n+'</th>').join('')+'</tr>'}
function fill(id,html){document.getElementById(id).innerHTML=html}
async function refresh(){
 try{
  const s=await j('/status');
  const keys=['chain_id','height','head','final_height','final_ledger_root','dag_units','tips',
   'peers_live','account','balance','supply','faults'];
  fill('status',keys.map(k=>'<tr><th>'+esc(k)+'</th><td class="st-'+esc(k)+'">'+
   esc(JSON.stringify(s[k]))+'</td></tr>').join(''));
  const c=await j('/checkpoints?limit=15');
  fill('cps',head(['height','id','author','ledger root','parents','final'])+c.checkpoints.map(x=>
   row([x.height,short(x.id),short(x.author),short(x.ledger_root),x.parents,x.final],
   x.final?'final':'applied',x.id)).join(''));
  const t=await j('/txs?limit=25');
  fill('txs',head(['id','from','nonce','to','amount','fee','status','height'])+t.txs.map(x=>
   row([short(x.id),short(x.from),x.nonce,short(x.to),x.amount,x.fee,
   '<span class="status">'+esc(x.status)+'</span>',x.confirmed_height==null?'-':x.confirmed_height],
   x.status,x.id)).join(''));
  const d=await j('/dag?limit=30');
  fill('dag-summary',esc(d.tips)+' tips; the '+esc(d.units.length)+' units nearest them:');
  fill('dag',head(['unit','from','nonce','parents','tip','status'])+d.units.map(x=>
   row([short(x.id),short(x.from),x.nonce,x.parents.map(short).join(' '),x.tip?'tip':'',
   esc(x.status)],x.status,x.id)).join(''));
  const a=await j('/accounts?limit=50');
  fill('accounts-summary',esc(a.count)+' accounts');
  fill('accounts',head(['account','balance','next nonce'])+a.accounts.map(x=>
   row(['<span class="account">'+esc(x.account)+'</span>','<span class="balance">'+esc(x.balance)+
   '</span>',x.next_nonce],'',x.account)).join(''));
  document.getElementById('updated').textContent='height '+s.height+', final '+s.final_height+
   ' (updated '+new Date().toISOString()+')';
 }catch(e){document.getElementById('updated').textContent='node unreachable: '+e}
}
async function lookup(){const id=document.getElementById('txid').value.trim();
 document.getElementById('tx').textContent=JSON.stringify(await j('/unit/'+id),null,1)}
refresh();setInterval(refresh,2000);
</script></body></html>
"#;

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
