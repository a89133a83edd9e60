//! Transaction routes: submitting (one, or a batch), and what this node knows of transactions
//! (recent ones, the DAG near its tips, one unit, the status of many). Bodies parse into the
//! shared [`crate::api_types`]; the checks that need the ledger (decoding, self-transfers,
//! batch bounds) keep their own messages.

use super::{
    ApiError, ApiResult, ApiState, BATCH_MAX, inspect, list_limit, parse_account, parse_body,
    parse_hash,
};
use crate::api_types::{
    DagUnit, DagView, Outcome, RecentTx, RecentTxs, SignedTxRequest, TransferRequest, TxAccepted,
    TxBatchItem, TxBatchRequest, TxBatchResponse, TxKindName, TxStatus, Unit, UnitStatus,
    UnitsRequest, UnitsResponse,
};
use crate::core::crypto::AccountId;
use crate::core::dag::{Confirmation, Outcome as DagOutcome};
use crate::core::hash::Hash;
use crate::core::node::RejectReason;
use crate::core::transaction::{Transaction, TxKind};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

fn outcome(outcome: DagOutcome) -> Outcome {
    match outcome {
        DagOutcome::Applied => Outcome::Applied,
        DagOutcome::Ignored => Outcome::Ignored,
    }
}

/// Status of a transaction as the explorer shows it.
fn tx_status(confirmation: Option<Confirmation>, final_height: u64) -> TxStatus {
    match confirmation {
        None => TxStatus::Pending,
        Some(c) if c.outcome == DagOutcome::Ignored => TxStatus::Ignored,
        Some(c) if c.height <= final_height => TxStatus::Final,
        Some(_) => TxStatus::Applied,
    }
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

/// A transfer for the node to sign (its own account, next free nonce): fee 1 when left out.
fn transfer_of(request: &TransferRequest) -> Result<(AccountId, u64, u64), ApiError> {
    Ok((parse_account(&request.to)?, request.amount, request.fee.unwrap_or(1)))
}

/// A signed transaction from its hex; `name` says where it sat in the request.
fn decode_signed(text: &str, name: &str) -> Result<Transaction, ApiError> {
    let bytes =
        hex::decode(text.trim()).map_err(|_| ApiError::bad_request(format!("{name}: not hex")))?;
    let tx = Transaction::decode(&bytes)
        .map_err(|e| ApiError::bad_request(format!("{name} does not decode: {e}")))?;
    refuse_self_transfer(&tx.body.from, &tx.body.kind)?;
    Ok(tx)
}

fn rejected(reason: &RejectReason) -> String {
    format!("{} ({})", reason, reason.kind())
}

/// `POST /tx`: a pre-signed transaction (open) or a faucet transfer from the node's own account
/// (privileged). The `tx` key tells them apart, and is looked for before anything else is
/// parsed, so that a faucet request without the token is refused for the token whatever its
/// fields hold.
pub(super) async fn submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<TxAccepted> {
    let keys: BTreeMap<String, IgnoredAny> =
        parse_body(&body, |_| String::new()).unwrap_or_default();
    let result = if keys.contains_key("tx") {
        let request: SignedTxRequest = parse_body(&body, |_| "tx must be a hex string".into())?;
        let tx = decode_signed(&request.tx, "tx")?;
        state.handle.submit(tx).await
    } else {
        state.auth.authorize(&headers, "the faucet (a transfer the node signs)")?;
        let request: TransferRequest =
            parse_body(&body, |e| format!("expected {{\"tx\": hex}} or {{to, amount, fee}}: {e}"))?;
        let (to, amount, fee) = transfer_of(&request)?;
        refuse_self_transfer(&state.account, &TxKind::Transfer { to, amount })?;
        state.handle.transfer(to, amount, fee).await
    };
    match result {
        None => Err(ApiError::unavailable()),
        Some(Ok(id)) => Ok(Json(TxAccepted { id: id.to_string() })),
        Some(Err(reason)) => {
            Err(ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: rejected(&reason) })
        }
    }
}

/// The `transfers` of a batch, read on their own: present and non-empty makes the request
/// privileged even when the rest of it is malformed.
#[derive(Deserialize)]
struct TransfersProbe {
    #[serde(default)]
    transfers: Vec<IgnoredAny>,
}

/// `POST /txs`: many transactions in one request, so a load generator is not bound by one
/// HTTP round trip per transaction. Every item is parsed before any is submitted (a malformed
/// batch submits nothing); then each is submitted in order and answers `{"id"}` or
/// `{"error"}` at its position: pre-signed `txs` first, then node-signed `transfers` (which make
/// the whole request privileged).
pub(super) async fn submit_batch(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<TxBatchResponse> {
    let request = parse_body::<TxBatchRequest>(&body, |e| {
        format!("expected {{\"txs\": [hex, ...]}} and/or {{\"transfers\": [{{to, amount}}]}}: {e}")
    });
    let privileged = match &request {
        Ok(request) => !request.transfers.is_empty(),
        Err(_) => serde_json::from_slice::<TransfersProbe>(&body)
            .is_ok_and(|probe| !probe.transfers.is_empty()),
    };
    if privileged {
        state.auth.authorize(&headers, "transfers (the node signs them)")?;
    }
    let request = request?;
    if request.txs.is_empty() && request.transfers.is_empty() {
        return Err(ApiError::bad_request(
            "expected {\"txs\": [hex, ...]} or {\"transfers\": [...]}",
        ));
    }
    if request.txs.len() + request.transfers.len() > BATCH_MAX {
        return Err(ApiError::bad_request(format!("at most {BATCH_MAX} transactions per batch")));
    }
    let txs = request
        .txs
        .iter()
        .enumerate()
        .map(|(index, text)| decode_signed(text, &format!("txs[{index}]")))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let transfers = request.transfers.iter().map(transfer_of).collect::<Result<Vec<_>, _>>()?;
    for (to, amount, _) in &transfers {
        refuse_self_transfer(&state.account, &TxKind::Transfer { to: *to, amount: *amount })?;
    }
    let answer = |result: Option<Result<Hash, RejectReason>>| match result {
        None => Err(ApiError::unavailable()),
        Some(Ok(id)) => Ok(TxBatchItem::Accepted { id: id.to_string() }),
        Some(Err(reason)) => Ok(TxBatchItem::Refused { error: rejected(&reason) }),
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
    let accepted =
        results.iter().filter(|result| matches!(result, TxBatchItem::Accepted { .. })).count();
    Ok(Json(TxBatchResponse { accepted: accepted as u64, results }))
}

/// `GET /txs?limit=N`: the transactions this node accepted last, newest first.
pub(super) async fn recent_txs(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<RecentTxs> {
    let limit = list_limit(query.as_deref())?;
    let ids = state.telemetry.lock().map(|t| t.recent(limit)).unwrap_or_default();
    inspect(&state, move |node| {
        let dag = node.dag();
        let final_height = node.chain().final_height();
        let txs = ids
            .iter()
            .filter_map(|id| {
                let unit = dag.get(id)?;
                let body = &unit.tx.body;
                let confirmation = dag.confirmation(id);
                let (to, amount) = match &body.kind {
                    TxKind::Transfer { to, amount } => (Some(to.to_hex()), *amount),
                    _ => (None, 0),
                };
                Some(RecentTx {
                    id: id.to_string(),
                    from: body.from.to_hex(),
                    nonce: body.nonce,
                    to,
                    amount,
                    fee: body.fee,
                    status: tx_status(confirmation, final_height),
                    confirmed_height: confirmation.map(|c| c.height),
                    is_final: confirmation.is_some_and(|c| c.height <= final_height),
                })
            })
            .collect();
        Json(RecentTxs { txs })
    })
    .await
}

/// `GET /dag?limit=N`: the units nearest the tips, breadth first backwards from the tips.
pub(super) async fn dag_near_tips(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<DagView> {
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
            units.push(DagUnit {
                id: id.to_string(),
                from: unit.tx.body.from.to_hex(),
                nonce: unit.tx.body.nonce,
                parents: unit.tx.body.parents.iter().map(|p| p.to_string()).collect(),
                tip: tips.contains(&id),
                status: tx_status(dag.confirmation(&id), final_height),
            });
        }
        Json(DagView { tips: tips.len() as u64, units })
    })
    .await
}

/// `GET /unit/{id}`: a transaction, its confirmation, finality and local timings.
pub(super) async fn unit(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Unit> {
    let id = parse_hash(&id)?;
    let found = inspect(&state, move |node| {
        let dag = node.dag();
        let unit = dag.get(&id)?;
        let body = &unit.tx.body;
        let confirmation = dag.confirmation(&id);
        let final_height = node.chain().final_height();
        let (kind, to, amount) = match &body.kind {
            TxKind::Transfer { to, amount } => (TxKindName::Transfer, Some(to.to_hex()), *amount),
            TxKind::StorePut(put) => (TxKindName::StorePut, None, put.prepaid_fee),
            TxKind::StorageProof(_) => (TxKindName::StorageProof, None, 0),
            TxKind::StoreRepair { .. } => (TxKindName::StoreRepair, None, 0),
            TxKind::Consortium(_) => (TxKindName::Consortium, None, 0),
            TxKind::Evm(_) => (TxKindName::Evm, None, 0),
            TxKind::Fl(fl) => (TxKindName::Fl, None, fl.debit().unwrap_or(0)),
            TxKind::Token(_) => (TxKindName::Token, None, 0),
            TxKind::SideChain(_) => (TxKindName::SideChain, None, 0),
            TxKind::Peg(_) => (TxKindName::Peg, None, 0),
        };
        Some(Unit {
            id: id.to_string(),
            kind,
            from: body.from.to_hex(),
            nonce: body.nonce,
            to,
            amount,
            fee: body.fee,
            parents: body.parents.iter().map(|p| p.to_string()).collect(),
            issued_at_ms: body.issued_at_ms,
            confirmed_height: confirmation.map(|c| c.height),
            outcome: confirmation.map(|c| outcome(c.outcome)),
            is_final: confirmation.is_some_and(|c| c.height <= final_height),
            times: None,
        })
    })
    .await?;
    let mut unit = found.ok_or_else(|| ApiError::not_found(format!("unit {id} unknown")))?;
    // Times are read after the node answered, never before: see `units_status`.
    unit.times = state
        .telemetry
        .lock()
        .ok()
        .and_then(|telemetry| telemetry.tx_times.get(&id).copied())
        .map(super::unit_times);
    Ok(Json(unit))
}

/// `POST /units` with `{"ids": [hex, ...]}` (at most 10 000): for each id, in order, `null` if
/// the node does not hold it, else `confirmed_height`, `outcome`, `final` and the local `times`
/// (accepted/confirmed/final, Unix ms, as in `GET /unit`). One request for a whole load run's
/// transactions instead of one each; every id is parsed before anything is looked up.
pub(super) async fn units_status(
    State(state): State<ApiState>,
    body: Bytes,
) -> ApiResult<UnitsResponse> {
    let request: UnitsRequest =
        parse_body(&body, |e| format!("expected {{\"ids\": [hex, ...]}}: {e}"))?;
    if request.ids.len() > BATCH_MAX {
        return Err(ApiError::bad_request(format!("at most {BATCH_MAX} ids per request")));
    }
    let ids = request
        .ids
        .iter()
        .enumerate()
        .map(|(index, text)| {
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
                    return None;
                }
                let confirmation = dag.confirmation(id);
                Some(UnitStatus {
                    confirmed_height: confirmation.map(|c| c.height),
                    outcome: confirmation.map(|c| outcome(c.outcome)),
                    is_final: confirmation.is_some_and(|c| c.height <= final_height),
                    times: None,
                })
            })
            .collect::<Vec<_>>();
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
            if let Some(unit) = unit {
                unit.times = telemetry.tx_times.get(id).copied().map(super::unit_times);
            }
        }
    }
    Ok(Json(UnitsResponse { units }))
}
