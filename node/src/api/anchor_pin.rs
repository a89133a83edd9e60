//! Anchor pins through the API (docs/sidechains.md, "Fork choice below a final anchor"): the
//! relayer, having seen a side checkpoint final as an anchor on the main chain, pins it on the
//! side chain's nodes (`Node::pin_anchor`), so their fork choice never reorganises below it.
//!
//! - `GET /sidechain/pin`: the pin in force and its counters (open).
//! - `POST /sidechain/pin {"height", "id"}` (privileged: a pin overrides fork choice, so only
//!   the operator's relayer may set one): `pinned`, `unchanged` or `pending`; a pin the chain
//!   cannot honour is refused with its reason ([`PinError`]) and the pin in force stays.

use super::{ApiError, ApiResult, ApiState, inspect, parse_body, parse_hash};
use crate::api_types::{HeaderRef, PinAnswer, PinOutcomeName, PinRequest, PinView};
use crate::core::chain::{PinError, PinOutcome, PinStatus};
use crate::runtime::Clock;
use crate::runtime::tokio_impl::TokioClock;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

fn view(status: PinStatus) -> PinView {
    PinView {
        pinned: status.pinned.map(|pin| HeaderRef { height: pin.height, id: pin.id.to_string() }),
        pending: status.pending as u64,
        refused_switches: status.refused_switches,
        pending_conflicts: status.pending_conflicts,
    }
}

/// A refused pin: 409 when it contradicts a pin (the main chain finalised two histories, or
/// the relayer is confused), 422 when it does not fit the headers held here.
fn refused(error: PinError) -> ApiError {
    let status = match error {
        PinError::Conflict { .. } => StatusCode::CONFLICT,
        PinError::WrongHeight { .. } | PinError::AncestryUnknown { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    ApiError { status, message: format!("pin refused: {error}") }
}

/// `GET /sidechain/pin`
pub(super) async fn pins(State(state): State<ApiState>) -> ApiResult<PinView> {
    inspect(&state, |node| Json(view(node.chain().pin_status()))).await
}

/// `POST /sidechain/pin`
pub(super) async fn pin(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<PinAnswer> {
    state.auth.authorize(&headers, "anchor pins (/sidechain/pin)")?;
    let request: PinRequest =
        parse_body(&body, |_| "expected {\"height\": N, \"id\": 64 hex}".to_string())?;
    let id = parse_hash(&request.id)?;
    let height = request.height;
    let now_ms = TokioClock.now_ms();
    let (outcome, status) = state
        .handle
        .operate(move |node| {
            let outcome = node.pin_anchor(now_ms, height, id);
            (outcome, node.chain().pin_status())
        })
        .await
        .ok_or_else(ApiError::unavailable)?;
    let outcome = match outcome.map_err(refused)? {
        PinOutcome::Pinned => PinOutcomeName::Pinned,
        PinOutcome::Unchanged => PinOutcomeName::Unchanged,
        PinOutcome::Pending => PinOutcomeName::Pending,
    };
    Ok(Json(PinAnswer { outcome, pins: view(status) }))
}
