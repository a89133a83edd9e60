//! Federated-learning routes (docs/federated-learning.md): public reads of what the chain holds
//! about each task (terms, escrow, commits per round, payments), and the update exchange: a
//! participant posts its encoded update to its node once the hash is committed, and anyone
//! reads a round's updates back ([`crate::fl_updates`] keeps them, checked against the ledger).
//! Records are never sent; an update is open to the other participants by design (a masked
//! task's updates are masked words), so none of these routes needs the operator token.

use super::{ApiError, ApiResult, ApiState, inspect, parse_account, parse_body, parse_hash};
use crate::api_types::{
    FlCommitRow, FlParticipantRow, FlRevealedSeed, FlRoundRow, FlTaskDetail, FlTaskList,
    FlTaskSummary, FlUpdatePost, FlUpdateRow, FlUpdateStored, FlUpdates,
};
use crate::core::fl::Task;
use crate::core::fl::aggregate::AggregationRule;
use crate::fl_updates::{FlUpdateError, UPDATE_BYTES_MAX, UpdateKey};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

fn summary(task: &Task) -> FlTaskSummary {
    FlTaskSummary {
        id: task.id.to_string(),
        poster: task.poster.to_hex(),
        rule: task.spec.rule.name().to_string(),
        masked: task.spec.masked,
        rule_parameter: match task.spec.rule {
            AggregationRule::TrimmedMean { trim } => Some(trim),
            AggregationRule::Krum { byzantine } => Some(byzantine),
            AggregationRule::FedAvg | AggregationRule::Median => None,
        },
        dimension: task.spec.training.dimension,
        learning_rate_fixed: task.spec.training.learning_rate.0,
        local_epochs: task.spec.training.local_epochs,
        batch_size: task.spec.training.batch_size,
        rounds: task.spec.rounds,
        settled_rounds: task.current_round(),
        min_participants: task.spec.min_participants,
        participants: task.participants.len(),
        price_per_round: task.spec.price_per_round,
        escrow: task.escrow,
        open_round_updates: task.open_round.updates.len(),
        open_round_aggregates: task.open_round.aggregates.len(),
        open_round_attempt: task.open_round.attempt,
    }
}

fn detail(task: &Task) -> FlTaskDetail {
    FlTaskDetail {
        summary: summary(task),
        participants: task
            .participants
            .iter()
            .map(|(account, participant)| FlParticipantRow {
                account: account.to_hex(),
                samples: participant.samples,
                mask_key: hex::encode(participant.mask_key),
                paid: participant.paid,
            })
            .collect(),
        settled: task
            .settled
            .iter()
            .enumerate()
            .map(|(round, settled)| FlRoundRow {
                round: round as u32,
                aggregate: settled.aggregate.to_string(),
                contributors: settled.contributors,
                accepted: settled.accepted,
                paid: settled.paid,
                burned: settled.burned,
            })
            .collect(),
        open_round: open_round(task),
    }
}

fn open_round(task: &Task) -> Vec<FlCommitRow> {
    let commits = &task.open_round;
    let mut accounts: Vec<_> = commits.updates.keys().chain(commits.aggregates.keys()).collect();
    accounts.sort();
    accounts.dedup();
    accounts
        .into_iter()
        .map(|account| FlCommitRow {
            account: account.to_hex(),
            update: commits.updates.get(account).map(ToString::to_string),
            aggregate: commits.aggregates.get(account).map(ToString::to_string),
            revealed: commits
                .revealed
                .get(account)
                .into_iter()
                .flatten()
                .map(|(dropped, seed)| FlRevealedSeed {
                    dropped: dropped.to_hex(),
                    seed: hex::encode(seed),
                })
                .collect(),
        })
        .collect()
}

/// `GET /fl/tasks`
pub(super) async fn list(State(state): State<ApiState>) -> ApiResult<FlTaskList> {
    let tasks =
        inspect(&state, |node| node.chain().ledger().fl().iter().map(summary).collect()).await?;
    Ok(Json(FlTaskList { tasks }))
}

/// `GET /fl/task/{id}`
pub(super) async fn task(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<FlTaskDetail> {
    let id = parse_hash(&id)?;
    let found =
        inspect(&state, move |node| node.chain().ledger().fl().get(&id).map(detail)).await?;
    found.map(Json).ok_or_else(|| ApiError::not_found(format!("no learning task {id}")))
}

/// The status each refusal is answered with.
fn refusal(error: FlUpdateError) -> ApiError {
    let status = match &error {
        FlUpdateError::UnknownTask { .. } => StatusCode::NOT_FOUND,
        FlUpdateError::NotParticipant { .. } => StatusCode::FORBIDDEN,
        FlUpdateError::RoundClosed { .. }
        | FlUpdateError::RoundNotOpen { .. }
        | FlUpdateError::NotCommitted { .. } => StatusCode::CONFLICT,
        FlUpdateError::Malformed { .. } => StatusCode::BAD_REQUEST,
        FlUpdateError::HashMismatch { .. } | FlUpdateError::WrongDimension { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        FlUpdateError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        FlUpdateError::StoreFull { .. } => StatusCode::INSUFFICIENT_STORAGE,
    };
    ApiError { status, message: error.to_string() }
}

/// `POST /fl/task/{id}/update`: keep a participant's update if it matches its commit.
pub(super) async fn post_update(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<FlUpdateStored> {
    let task = parse_hash(&id)?;
    let post: FlUpdatePost =
        parse_body(&body, |e| format!("expected {{participant, round, update}}: {e}"))?;
    let participant = parse_account(&post.participant)?;
    // Checked before decoding so that a huge hex string costs no allocation.
    if post.update.len() > 2 * UPDATE_BYTES_MAX {
        let got = post.update.len() / 2;
        return Err(refusal(FlUpdateError::TooLarge { max: UPDATE_BYTES_MAX, got }));
    }
    let encoded = hex::decode(post.update.trim())
        .map_err(|_| refusal(FlUpdateError::Malformed { reason: "update is not hex" }))?;
    let key = UpdateKey { task, round: post.round, participant };
    let store = state.fl_updates.clone();
    let admitted = inspect(&state, move |node| {
        let mut store = store.lock().map_err(|_| ApiError::unavailable())?;
        let new = store.admit(node.chain().ledger().fl(), key, encoded).map_err(refusal)?;
        let (held_updates, held_bytes) = store.held();
        Ok(FlUpdateStored { new, held_updates, held_bytes })
    })
    .await??;
    Ok(Json(admitted))
}

/// `GET /fl/task/{id}/updates/{round}`: the round's updates posted to this node.
pub(super) async fn updates(
    State(state): State<ApiState>,
    Path((id, round)): Path<(String, String)>,
) -> ApiResult<FlUpdates> {
    let task = parse_hash(&id)?;
    let round: u32 = round.parse().map_err(|_| ApiError::bad_request("round must be a u32"))?;
    let store = state.fl_updates.lock().map_err(|_| ApiError::unavailable())?;
    let updates = store
        .round(&task, round)
        .into_iter()
        .map(|(participant, bytes)| FlUpdateRow {
            participant: participant.to_hex(),
            update: hex::encode(bytes),
        })
        .collect();
    Ok(Json(FlUpdates { task: task.to_string(), round, updates }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::AccountId;
    use crate::core::fl::task::{Participant, RoundCommits, SettledRound, TaskSpec};
    use crate::core::fl::{Fixed, TrainingSpec};
    use crate::core::hash::Hash;
    use std::collections::BTreeMap;

    #[test]
    fn a_task_is_shown_with_its_terms_progress_and_payments() {
        let spec = TaskSpec {
            training: TrainingSpec {
                dimension: 12,
                learning_rate: Fixed(3276),
                local_epochs: 1,
                batch_size: 16,
            },
            rule: AggregationRule::Median,
            masked: false,
            rounds: 4,
            min_participants: 1,
            price_per_round: 100,
        };
        let participant = Participant { samples: 7, mask_key: [0; 32], paid: 99 };
        let settled = SettledRound {
            aggregate: Hash::of(b"a"),
            contributors: 1,
            accepted: 1,
            paid: 99,
            burned: 1,
        };
        let task = Task {
            id: Hash::of(b"task"),
            poster: AccountId([1; 32]),
            spec,
            participants: BTreeMap::from([(AccountId([2; 32]), participant)]),
            open_round: RoundCommits::default(),
            settled: vec![settled],
            escrow: 300,
        };
        let shown = detail(&task);
        assert_eq!(shown.summary.rule, "median");
        assert_eq!((shown.summary.rounds, shown.summary.settled_rounds), (4, 1));
        assert_eq!(shown.summary.escrow, 300);
        assert_eq!(shown.participants[0].account, AccountId([2; 32]).to_hex());
        assert_eq!((shown.participants[0].samples, shown.participants[0].paid), (7, 99));
        assert_eq!(shown.settled[0].aggregate, Hash::of(b"a").to_string());
    }
}
