//! Storage routes: a file's active contract, and the shards a contract assigns to this node
//! (handed over by the file's owner, read back by anyone). A shard is kept only if an on-chain
//! contract committed to exactly those bytes for a shard assigned to this node, so nobody can
//! make the node store (and prove) bytes no contract pays for.

use super::{ApiError, ApiResult, ApiState, inspect, parse_body, parse_hash};
use crate::api_types::{Contract, Shard, ShardStored};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::node::Node;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

fn parse_shard_index(text: &str) -> Result<u8, ApiError> {
    text.parse().map_err(|_| ApiError::bad_request("shard index must be 0..=255"))
}

/// `GET /contract/{file_id}`: the active contract of a file, with its put wire-encoded (hex) so
/// a client gets the exact roots and node list the ledger holds.
pub(super) async fn contract(
    State(state): State<ApiState>,
    Path(file_id): Path<String>,
) -> ApiResult<Contract> {
    let file_id = parse_hash(&file_id)?;
    let answer = inspect(&state, move |node| {
        let contract = node.chain().ledger().contract(&file_id)?;
        let put = crate::core::wire::encode_body(&*contract.put, "store put").ok()?;
        Some(Contract {
            file_id: file_id.to_string(),
            put: hex::encode(put),
            owner: contract.owner.to_hex(),
            opened_at: contract.opened_at,
            first_round: contract.first_round,
            escrow: contract.escrow,
            storage_nodes: contract.put.storage_nodes.iter().map(AccountId::to_hex).collect(),
            missed_rounds: contract.missed_rounds.clone(),
        })
    })
    .await?;
    answer
        .map(Json)
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
/// that assigns it to this node. Checked against the contract first; durable (synced) before
/// the answer.
pub(super) async fn put_shard(
    State(state): State<ApiState>,
    Path((file_id, index)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<ShardStored> {
    let file_id = parse_hash(&file_id)?;
    let shard_index = parse_shard_index(&index)?;
    let request: Shard = parse_body(&body, |_| "expected {\"shard\": hex}".into())?;
    let bytes =
        hex::decode(request.shard.trim()).map_err(|_| ApiError::bad_request("shard: not hex"))?;
    let account = state.account;
    let (checked, bytes) = inspect(&state, move |node| {
        let checked = check_handed_shard(node, &account, &file_id, shard_index, &bytes);
        (checked, bytes)
    })
    .await?;
    if checked? {
        return Ok(Json(ShardStored { stored: true, already_held: true }));
    }
    match state.handle.store_shard(file_id, shard_index, bytes).await {
        None => Err(ApiError::unavailable()),
        Some(Ok(())) => Ok(Json(ShardStored { stored: true, already_held: false })),
        Some(Err(error)) => Err(ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("storing the shard failed: {error}"),
        }),
    }
}

/// `GET /shard/{file_id}/{index}`: a shard this node holds (what `GetShard` would answer).
pub(super) async fn get_shard(
    State(state): State<ApiState>,
    Path((file_id, index)): Path<(String, String)>,
) -> ApiResult<Shard> {
    let file_id = parse_hash(&file_id)?;
    let shard_index = parse_shard_index(&index)?;
    let shard =
        inspect(&state, move |node| node.shard(&file_id, shard_index).map(hex::encode)).await?;
    shard.map(|shard| Json(Shard { shard })).ok_or_else(|| {
        ApiError::not_found(format!("this node holds no shard {shard_index} of {file_id}"))
    })
}
