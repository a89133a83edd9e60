//! Fault injection (`POST /control/{action}`, privileged): the faults the node's network
//! wrapper applies to what it sends (see `service`). Every action answers the faults now in
//! force.

use super::{ApiError, ApiResult, ApiState, parse_body};
use crate::api_types::{
    ControlResponse, DelayRequest, InjectedFaults, LinkFaults, LinkRequest, LossRequest,
    PartitionRequest,
};
use crate::faults::{Faults, LinkFault};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::net::SocketAddr;

/// Largest delay `/control/delay` and `/control/link` set, in ms.
const DELAY_MS_MAX: u64 = 60_000;
/// Most peers the blocked set of `/control/partition` may hold (over all requests until a
/// heal): far above any testnet (`vein-testnet up` makes at most 64 nodes), and it keeps the
/// table every send consults, and `/status` which shows it, small.
pub const PARTITION_PEERS_MAX: usize = 1_024;

/// The faults as the API shows them.
pub(super) fn injected(faults: &Faults) -> InjectedFaults {
    InjectedFaults {
        blocked: faults.blocked.clone(),
        delay_ms: faults.delay_ms,
        loss_per_mille: faults.loss_per_mille,
        links: faults
            .links
            .iter()
            .map(|(peer, link)| {
                (*peer, LinkFaults { delay_ms: link.delay_ms, loss_per_mille: link.loss_per_mille })
            })
            .collect(),
    }
}

/// A control body; an empty one reads as `{}`. `shape` is the message for JSON of another shape.
fn control_body<T: DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    parse_body(body, |_| shape.to_string())
}

fn per_mille(value: u64, name: &str) -> Result<u32, ApiError> {
    match u32::try_from(value) {
        Ok(per_mille) if per_mille <= 1000 => Ok(per_mille),
        _ => Err(ApiError::bad_request(format!("{name} must be at most 1000"))),
    }
}

/// `POST /control/partition {"peers": ["127.0.0.1:4001", ...]}` blocks those peers (added to
/// the blocked set); `/control/heal` clears every fault; `/control/delay {"ms": N}`;
/// `/control/loss {"per_mille": N}`; `/control/link {"peer", "delay_ms", "loss_per_mille"}`.
pub(super) async fn control(
    State(state): State<ApiState>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ControlResponse> {
    state.auth.authorize(&headers, "fault injection (/control)")?;
    // A body that is not JSON is refused whatever the action (as an unknown action is).
    if !body.is_empty() {
        parse_body::<IgnoredAny>(&body, |_| String::new())?;
    }
    let mut faults =
        state.faults.lock().map_err(|_| ApiError::bad_request("fault table poisoned"))?;
    match action.as_str() {
        "partition" => {
            let request: PartitionRequest =
                control_body(&body, "peers must be an array of addresses")?;
            if request.peers.len() > PARTITION_PEERS_MAX {
                return Err(ApiError::bad_request(format!(
                    "a partition names at most {PARTITION_PEERS_MAX} peers, not {}",
                    request.peers.len()
                )));
            }
            let mut parsed = Vec::new();
            for peer in &request.peers {
                let addr = peer
                    .parse::<SocketAddr>()
                    .map_err(|_| ApiError::bad_request(format!("bad peer address {peer:?}")))?;
                parsed.push(addr);
            }
            let mut blocked = faults.blocked.clone();
            blocked.extend(parsed);
            if blocked.len() > PARTITION_PEERS_MAX {
                return Err(ApiError::bad_request(format!(
                    "the blocked set would hold {} peers, over {PARTITION_PEERS_MAX}; heal first",
                    blocked.len()
                )));
            }
            faults.blocked = blocked;
        }
        "heal" => *faults = Faults::default(),
        "link" => {
            // One-way faults on the link to `peer`; an omitted field keeps its value, both
            // zero removes the entry.
            let request: LinkRequest = control_body(
                &body,
                "expected {\"peer\": listening address, \"delay_ms\": N, \"loss_per_mille\": N}",
            )?;
            let peer = request
                .peer
                .parse::<SocketAddr>()
                .map_err(|_| ApiError::bad_request("peer must be a listening address"))?;
            let mut link = faults.links.get(&peer).copied().unwrap_or_default();
            if let Some(delay_ms) = request.delay_ms {
                link.delay_ms = delay_ms.min(DELAY_MS_MAX);
            }
            if let Some(loss) = request.loss_per_mille {
                link.loss_per_mille = per_mille(loss, "loss_per_mille")?;
            }
            if link == LinkFault::default() {
                faults.links.remove(&peer);
            } else {
                faults.links.insert(peer, link);
            }
        }
        "delay" => {
            let request: DelayRequest = control_body(&body, "ms must be an unsigned integer")?;
            faults.delay_ms = request.ms.min(DELAY_MS_MAX);
        }
        "loss" => {
            let request: LossRequest =
                control_body(&body, "per_mille must be an unsigned integer")?;
            faults.loss_per_mille = per_mille(request.per_mille, "per_mille")?;
        }
        other => return Err(ApiError::not_found(format!("unknown control action {other:?}"))),
    }
    tracing::info!(action, faults = ?*faults, "faults changed");
    Ok(Json(ControlResponse { faults: injected(&faults) }))
}
