//! The checkpoint tree the explorer draws (`GET /forks`) and one checkpoint's page
//! (`GET /checkpoint/{id}`). The chain keeps a header for every accepted checkpoint, on any
//! branch, but lists none: the active chain is walked by height, and side branches come from
//! the checkpoints this node accepted lately (telemetry remembers their ids), each looked up
//! by id. A side-branch checkpoint is one whose id is not the active one at its height.

use crate::api::{ApiError, ApiResult, ApiState, inspect, list_limit, parse_hash};
use crate::api_types::{CheckpointDetail, ConfirmedUnit, ForkNode, ForkTree, Outcome};
use crate::core::chain::{Chain, Header};
use crate::core::dag::Outcome as DagOutcome;
use axum::Json;
use axum::extract::{Path, RawQuery, State};

/// Units one `/checkpoint/{id}` answer lists (the count says how many there are).
const CONFIRMED_LISTED_MAX: usize = 1_000;

fn is_active(chain: &Chain, header: &Header) -> bool {
    chain.active_at(header.height) == Some(header.id)
}

fn node_of(chain: &Chain, header: &Header) -> ForkNode {
    let active = is_active(chain, header);
    ForkNode {
        id: header.id.to_string(),
        prev: header.prev.to_string(),
        height: header.height,
        author: header.author.to_hex(),
        timestamp_ms: header.timestamp_ms,
        active,
        is_final: active && header.height <= chain.final_height(),
    }
}

/// `GET /forks?limit=N`: the last `limit` heights of the tree (default 20, at most 1,000).
pub(crate) async fn fork_tree(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<ForkTree> {
    let heights = list_limit(query.as_deref())? as u64;
    let recent: Vec<_> = state
        .telemetry
        .lock()
        .map(|telemetry| telemetry.recent_checkpoints.iter().copied().collect())
        .unwrap_or_default();
    inspect(&state, move |node| {
        let chain = node.chain();
        let head = chain.head();
        let lowest = (head.height + 1).saturating_sub(heights).max(chain.lowest_held_height());
        let mut checkpoints: Vec<ForkNode> = (lowest..=head.height)
            .filter_map(|height| chain.active_at(height))
            .filter_map(|id| chain.header(&id))
            .map(|header| node_of(chain, header))
            .collect();
        let side = recent
            .iter()
            .filter_map(|id| chain.header(id))
            .filter(|header| header.height >= lowest && !is_active(chain, header));
        checkpoints.extend(side.map(|header| node_of(chain, header)));
        checkpoints.sort_by(|a, b| b.height.cmp(&a.height).then_with(|| a.id.cmp(&b.id)));
        checkpoints.dedup_by(|a, b| a.id == b.id);
        Json(ForkTree {
            head: head.id.to_string(),
            height: head.height,
            final_height: chain.final_height(),
            checkpoints,
        })
    })
    .await
}

/// `GET /checkpoint/{id}`: 404 for a checkpoint whose header this node does not hold.
pub(crate) async fn checkpoint(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<CheckpointDetail> {
    let id = parse_hash(&id)?;
    let found = inspect(&state, move |node| {
        let chain = node.chain();
        let header = chain.header(&id)?;
        let active = is_active(chain, header);
        let confirmed = if active { chain.confirmed_at(header.height) } else { None };
        let confirmed = confirmed.unwrap_or(&[]);
        Some(CheckpointDetail {
            id: header.id.to_string(),
            height: header.height,
            prev: header.prev.to_string(),
            author: header.author.to_hex(),
            timestamp_ms: header.timestamp_ms,
            base_target: header.base_target,
            ledger_root: header.ledger_root.to_string(),
            generation_signature: header.generation_signature.to_string(),
            active,
            is_final: active && header.height <= chain.final_height(),
            parents: header.parents().iter().map(ToString::to_string).collect(),
            confirmed: confirmed
                .iter()
                .take(CONFIRMED_LISTED_MAX)
                .map(|(unit, outcome)| ConfirmedUnit {
                    id: unit.to_string(),
                    outcome: match outcome {
                        DagOutcome::Applied => Outcome::Applied,
                        DagOutcome::Ignored => Outcome::Ignored,
                    },
                })
                .collect(),
            confirmed_count: confirmed.len() as u64,
        })
    })
    .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("checkpoint {id} unknown")))
}
