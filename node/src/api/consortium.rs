//! Consortium routes (docs/consortium.md). `GET /consortia` is public and shows only what the
//! chain shows everyone: sizes, epochs, action counts and hashes; `GET /consortium/{id}` adds
//! what the chain holds in clear about one consortium (parties, member keys, schemas, writers,
//! open proposals) and, on a member, its replica's height and root. Reading rows needs the API
//! token, because a member node's replica holds the consortium's plaintext:
//! `POST /consortium/{id}/query` (a read-only SELECT as of a height), `POST /consortium/{id}/row`
//! (one row by key as of a height, with its Merkle proof), `GET /consortium/{id}/verify` (the
//! replica against a rebuild from its own action log). `GET /consortium/{id}/attestations` is
//! public (roots are hashes): certified heights, divergences, and this node's own verdicts.

use super::{ApiError, ApiResult, ApiState, inspect, parse_body, parse_hash};
use crate::api_types::{
    ConsortiumAttestations, ConsortiumDetail, ConsortiumEntryView, ConsortiumList,
    ConsortiumMemberView, ConsortiumProposalView, ConsortiumQuery, ConsortiumQueryAnswer,
    ConsortiumRowAnswer, ConsortiumRowRequest, ConsortiumSummary, ConsortiumVerify, DivergedMember,
};
use crate::consortium_db::{Replica, ReplicaError, ReplicaFeed};
use crate::core::consortium::{Consortia, Consortium, PermissionChange};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

fn replica_error(error: ReplicaError) -> ApiError {
    let status = match error {
        // A query that does not prepare is the caller's SQL (a typo, an unknown column).
        ReplicaError::Sql { operation: "preparing a query", .. } => StatusCode::BAD_REQUEST,
        ReplicaError::Sql { .. } | ReplicaError::Corrupt { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError { status, message: error.to_string() }
}

/// Run `read` on this node's replica of `id` (404 if the node keeps none).
fn with_replica<T>(
    state: &ApiState,
    id: &Hash,
    read: impl FnOnce(&ReplicaFeed, &Replica) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let feed = state.consortia.lock().map_err(|_| ApiError::unavailable())?;
    let replica = feed
        .replica(id)
        .ok_or_else(|| ApiError::not_found("this node keeps no replica of that consortium"))?;
    read(&feed, replica)
}

/// What every node can tell about `consortium`: sizes, epochs, counts and hashes.
fn summary(consortia: &Consortia, consortium: &Consortium) -> ConsortiumSummary {
    let log = consortia.log(&consortium.id);
    ConsortiumSummary {
        id: consortium.id.to_string(),
        name: consortium.name.clone(),
        parties: consortium.parties.len(),
        members: consortium.members.len(),
        quorum: consortium.quorum,
        tables: consortium.tables.keys().cloned().collect(),
        key_epoch: consortium.key_epoch,
        open_proposals: consortium.proposals.len(),
        actions: log.count,
        action_log_head: log.head.to_string(),
        replica: false,
    }
}

/// `GET /consortia`
pub(super) async fn list(State(state): State<ApiState>) -> ApiResult<ConsortiumList> {
    let mut consortia = inspect(&state, |node| {
        let consortia = node.chain().ledger().consortia();
        consortia.iter().map(|consortium| summary(consortia, consortium)).collect::<Vec<_>>()
    })
    .await?;
    if let Ok(feed) = state.consortia.lock() {
        for summary in &mut consortia {
            summary.replica = feed.replicas().any(|(id, _)| id.to_string() == summary.id);
        }
    }
    Ok(Json(ConsortiumList { consortia }))
}

/// A permission change in words, for people reading the detail or the explorer.
fn describe(change: &PermissionChange) -> String {
    match change {
        PermissionChange::Grant { account, table } => format!("grant {account} on {table}"),
        PermissionChange::Deny { account, table: Some(table) } => {
            format!("deny {account} on {table}")
        }
        PermissionChange::Deny { account, table: None } => {
            format!("deny {account} on every table")
        }
        PermissionChange::AddMember { node, rekey, .. } => {
            format!("add member {node} (key epoch {})", rekey.epoch)
        }
        PermissionChange::RemoveMember { node, rekey } => {
            format!("remove member {node} (key epoch {})", rekey.epoch)
        }
        PermissionChange::EntryApproval { table, required: true } => {
            format!("require approval of each entry of {table}")
        }
        PermissionChange::EntryApproval { table, required: false } => {
            format!("stop requiring approval of entries of {table}")
        }
        PermissionChange::MintToken { token, to, amount } => {
            format!("mint {amount} of token {token} to {to}")
        }
    }
}

fn hex_accounts<'a>(accounts: impl Iterator<Item = &'a AccountId>) -> Vec<String> {
    accounts.map(AccountId::to_hex).collect()
}

/// `GET /consortium/{id}`: public, like `/consortia`; see [`ConsortiumDetail`].
pub(super) async fn detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<ConsortiumDetail> {
    let id = parse_hash(&id)?;
    let detail = inspect(&state, move |node| {
        let consortia = node.chain().ledger().consortia();
        let consortium = consortia.get(&id)?;
        Some(ConsortiumDetail {
            summary: summary(consortia, consortium),
            parties: hex_accounts(consortium.parties.iter()),
            members: consortium
                .members
                .iter()
                .map(|(account, key)| ConsortiumMemberView {
                    account: account.to_hex(),
                    key: hex::encode(key),
                })
                .collect(),
            tables: consortium.tables.values().cloned().collect(),
            writers: consortium
                .writers
                .iter()
                .map(|(table, writers)| (table.clone(), hex_accounts(writers.iter())))
                .collect(),
            proposals: consortium
                .proposals
                .iter()
                .map(|(id, proposal)| ConsortiumProposalView {
                    id: id.to_string(),
                    proposer: proposal.proposer.to_hex(),
                    approvals: hex_accounts(proposal.approvals.iter()),
                    change: describe(&proposal.change),
                })
                .collect(),
            approval_tables: consortium.approval_tables.iter().cloned().collect(),
            pending_entries: consortia
                .pending_entries(&id)
                .map(|(entry, pending)| ConsortiumEntryView {
                    id: entry.to_string(),
                    table: pending.table.clone(),
                    writer: pending.writer.to_hex(),
                    log_hash: pending.log_hash.to_string(),
                    approvals: hex_accounts(pending.approvals.iter()),
                    denials: hex_accounts(pending.denials.iter()),
                })
                .collect(),
            replica_height: None,
            replica_root: None,
        })
    })
    .await?;
    let mut detail = detail.ok_or_else(|| ApiError::not_found("no such consortium"))?;
    if let Ok(feed) = state.consortia.lock()
        && let Some(replica) = feed.replica(&id)
    {
        detail.summary.replica = true;
        detail.replica_height = Some(replica.height());
        detail.replica_root = Some(replica.root().to_string());
    }
    Ok(Json(detail))
}

/// `POST /consortium/{id}/query` (token)
pub(super) async fn query(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<ConsortiumQueryAnswer> {
    state.auth.authorize(&headers, "reading a consortium replica")?;
    let id = parse_hash(&id)?;
    let request: ConsortiumQuery =
        parse_body(&body, |error| format!("expected {{\"sql\", \"at\"?}}: {error}"))?;
    with_replica(&state, &id, |_, replica| {
        let height = request.at.unwrap_or(replica.height());
        let answer = replica.select_as_of(&request.sql, height).map_err(replica_error)?;
        Ok(Json(ConsortiumQueryAnswer {
            height,
            root: replica.root_at(height).to_string(),
            columns: answer.columns,
            rows: answer.rows,
        }))
    })
}

/// `POST /consortium/{id}/row` (token)
pub(super) async fn row(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<ConsortiumRowAnswer> {
    state.auth.authorize(&headers, "reading a consortium replica")?;
    let id = parse_hash(&id)?;
    let request: ConsortiumRowRequest =
        parse_body(&body, |error| format!("expected {{\"table\", \"key\", \"at\"?}}: {error}"))?;
    with_replica(&state, &id, |_, replica| {
        let height = request.at.unwrap_or(replica.height());
        let (row, proof) = if height >= replica.height() {
            replica.prove(&request.table, &request.key)
        } else {
            replica.prove_as_of(&request.table, &request.key, height)
        }
        .map_err(replica_error)?;
        let root = replica.root_at(height);
        let verified = proof.verify(&root, &request.table, &request.key, row.as_deref());
        Ok(Json(ConsortiumRowAnswer { height, root: root.to_string(), row, proof, verified }))
    })
}

/// `GET /consortium/{id}/verify` (token: it rebuilds the replica, which costs the node work)
pub(super) async fn verify(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<ConsortiumVerify> {
    state.auth.authorize(&headers, "verifying a consortium replica")?;
    let id = parse_hash(&id)?;
    with_replica(&state, &id, |feed, replica| {
        let consortium = feed
            .consortium(&id)
            .ok_or_else(|| ApiError::not_found("the consortium is not known to the feed"))?;
        let rebuilt = replica.rebuild(consortium).map_err(replica_error)?;
        Ok(Json(ConsortiumVerify {
            height: replica.height(),
            root: replica.root().to_string(),
            rebuilt_root: rebuilt.root().to_string(),
            matches: rebuilt.root() == replica.root(),
            actions_applied: feed.stats.applied,
            actions_refused: feed.stats.refused,
            replica_errors: feed.stats.errors,
            last_error: feed.stats.last_error.clone(),
        }))
    })
}

/// `GET /consortium/{id}/attestations`
pub(super) async fn attestations(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<ConsortiumAttestations> {
    let id = parse_hash(&id)?;
    let (known, chain) = inspect(&state, move |node| {
        let consortia = node.chain().ledger().consortia();
        (consortia.get(&id).is_some(), consortia.attestations(&id).cloned().unwrap_or_default())
    })
    .await?;
    if !known {
        return Err(ApiError::not_found("no such consortium"));
    }
    let feed = state.consortia.lock().map_err(|_| ApiError::unavailable())?;
    let verdicts = feed.attester.verdicts(&id).cloned().unwrap_or_default();
    let diverged = chain
        .diverged
        .iter()
        .map(|(member, divergence)| DivergedMember {
            member: member.to_string(),
            height: divergence.height,
            attested: Some(divergence.attested.to_string()),
            certified: Some(divergence.certified.to_string()),
            detected_at: verdicts.peers.get(member).map(|seen| seen.detected_at),
        })
        .collect();
    Ok(Json(ConsortiumAttestations {
        certified_height: chain.certified.map(|certified| certified.height),
        certified_root: chain.certified.map(|certified| certified.root.to_string()),
        open_heights: chain
            .heights
            .iter()
            .map(|(height, votes)| {
                (*height, votes.votes.len(), votes.certified.map(|root| root.to_string()))
            })
            .collect(),
        diverged,
        own_divergence: verdicts.own.map(|own| DivergedMember {
            member: feed.node().to_string(),
            height: own.height,
            attested: Some(own.ours.to_string()),
            certified: Some(own.certified.to_string()),
            detected_at: Some(own.detected_at),
        }),
        peers_seen_diverged: verdicts
            .peers
            .iter()
            .map(|(member, seen)| DivergedMember {
                member: member.to_string(),
                height: seen.height,
                attested: None,
                certified: None,
                detected_at: Some(seen.detected_at),
            })
            .collect(),
        attestations_queued: feed.attester.stats.attestations_queued,
        repairs: feed.attester.stats.repairs,
    }))
}

/// The attestation counters of `/metrics`, appended to `text`.
pub(super) fn metrics_text(state: &ApiState, text: &mut String) {
    let Ok(feed) = state.consortia.lock() else { return };
    let stats = &feed.attester.stats;
    for (name, help, value) in [
        (
            "vein_consortium_attestations_queued_total",
            "Replica root attestations queued for submission.",
            stats.attestations_queued,
        ),
        (
            "vein_consortium_self_divergences_total",
            "Times this node's replica root differed from a certified root.",
            stats.self_divergences,
        ),
        (
            "vein_consortium_peer_divergences_total",
            "Other members seen attesting a root other than the certified one.",
            stats.peer_divergences,
        ),
        ("vein_consortium_repairs_total", "Replicas repaired from the log.", stats.repairs),
    ] {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"));
    }
}
