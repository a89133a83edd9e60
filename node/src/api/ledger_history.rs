//! `POST /ledger/history`: what this node's active chain confirmed from a height on, for a
//! client's history check (`crate::history`; docs/testnet.md "Client histories").

use super::{ApiError, ApiResult, ApiState, BATCH_MAX, inspect, parse_account, parse_body};
use crate::api_types::{LedgerHistory, LedgerHistoryRequest};
use crate::history::{view_of, wire};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use std::collections::BTreeSet;

/// Units scanned per answer at most (and by default): a page is whole heights, so one height
/// holding more goes out whole.
pub const LEDGER_HISTORY_UNITS_MAX: u64 = 100_000;

/// `POST /ledger/history` with `{from_height, accounts, max_units}`.
pub(super) async fn ledger_history(
    State(state): State<ApiState>,
    body: Bytes,
) -> ApiResult<LedgerHistory> {
    let request: LedgerHistoryRequest = parse_body(&body, |e| {
        format!("expected {{\"from_height\": n, \"accounts\": [hex, ...], \"max_units\": n}}: {e}")
    })?;
    if request.accounts.len() > BATCH_MAX {
        return Err(ApiError::bad_request(format!("at most {BATCH_MAX} accounts per request")));
    }
    let max_units = request.max_units.unwrap_or(LEDGER_HISTORY_UNITS_MAX);
    if max_units == 0 || max_units > LEDGER_HISTORY_UNITS_MAX {
        return Err(ApiError::bad_request(format!(
            "max_units must be 1..={LEDGER_HISTORY_UNITS_MAX}"
        )));
    }
    let senders = request
        .accounts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            parse_account(text)
                .map_err(|e| ApiError::bad_request(format!("accounts[{index}]: {}", e.message)))
        })
        .collect::<Result<BTreeSet<_>, ApiError>>()?;
    let from_height = request.from_height;
    let view =
        inspect(&state, move |node| view_of(node, 0, &senders, from_height, max_units as usize))
            .await?;
    Ok(Json(wire::to_wire(&view)))
}
