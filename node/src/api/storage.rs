//! Storage routes: a file's active contract, and the shards a contract assigns to this node
//! (handed over by the file's owner, read back by anyone). A shard is kept only if an on-chain
//! contract committed to exactly those bytes for a shard assigned to this node, so nobody can
//! make the node store (and prove) bytes no contract pays for.

use super::{ApiError, ApiResult, ApiState, inspect, parse_body, parse_hash};
use crate::api_types::{Contract, Shard, ShardStored};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::core::storage::commitment::StorePut;
use axum::Json;
use axum::body::{Body, Bytes, HttpBody};
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

/// JSON around a shard's hex in `{"shard": "..."}`, with room for the whitespace a client may
/// add.
const SHARD_JSON_OVERHEAD_BYTES: u64 = 256;

/// Largest `POST /shard` body for a shard of `shard_bytes`: its hex and the JSON around it. The
/// contract fixes the length of every shard of a file, so nothing longer can be a shard of it.
fn shard_body_bytes_max(shard_bytes: u64) -> usize {
    let bytes = shard_bytes.saturating_mul(2).saturating_add(SHARD_JSON_OVERHEAD_BYTES);
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The put of the active contract of `file_id` if it assigns shard `shard_index` to this node
/// (what can be checked before the shard's bytes are seen).
fn assigned_put<'a>(
    node: &'a Node,
    account: &AccountId,
    file_id: &Hash,
    shard_index: u8,
) -> Result<&'a StorePut, ApiError> {
    let contract = node.chain().ledger().contract(file_id).ok_or_else(|| {
        // Not yet applied here (the put may still be on its way): the client retries.
        ApiError::not_found(format!("no active contract for file {file_id} on this node yet"))
    })?;
    let put = &*contract.put;
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
    Ok(put)
}

/// Why this node refuses to keep a shard handed to it; `Ok(true)` if it holds it already.
fn check_handed_shard(
    node: &Node,
    account: &AccountId,
    file_id: &Hash,
    shard_index: u8,
    bytes: &[u8],
) -> Result<bool, ApiError> {
    let put = assigned_put(node, account, file_id, shard_index)?;
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

/// The body of a `POST /shard`, read only up to `limit` bytes (413 beyond).
async fn read_shard_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = |detail: String| ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("a shard of this file is at most {limit} bytes as JSON{detail}"),
    };
    // A declared length over the bound is refused before anything is read.
    if HttpBody::size_hint(&body).lower() > limit as u64 {
        return Err(too_large(String::new()));
    }
    axum::body::to_bytes(body, limit).await.map_err(|error| too_large(format!(" ({error})")))
}

/// `POST /shard/{file_id}/{index}` with `{"shard": hex}`: keep a shard of an active contract
/// that assigns it to this node. The contract and the assignment are checked from the path
/// before the body is read, and the body is read only up to what that contract's shard can be
/// as JSON: a post for a file no contract pays for costs the node its headers, not a decode.
/// The bytes are then checked against the contract's root; durable (synced) before the answer.
pub(super) async fn put_shard(
    State(state): State<ApiState>,
    Path((file_id, index)): Path<(String, String)>,
    body: Body,
) -> ApiResult<ShardStored> {
    let file_id = parse_hash(&file_id)?;
    let shard_index = parse_shard_index(&index)?;
    let account = state.account;
    let shard_bytes = inspect(&state, move |node| {
        assigned_put(node, &account, &file_id, shard_index).map(|put| put.shard_bytes)
    })
    .await??;
    let body = read_shard_body(body, shard_body_bytes_max(shard_bytes)).await?;
    let request: Shard = parse_body(&body, |_| "expected {\"shard\": hex}".into())?;
    let bytes =
        hex::decode(request.shard.trim()).map_err(|_| ApiError::bad_request("shard: not hex"))?;
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
