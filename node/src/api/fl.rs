//! Federated-learning routes (docs/federated-learning.md): public reads of what the chain holds
//! about each task (terms, escrow, commits per round, payments). Updates and records are never
//! on chain, so there is nothing private to guard here.

use super::{ApiError, ApiResult, ApiState, inspect, parse_hash};
use crate::api_types::{FlParticipantRow, FlRoundRow, FlTaskDetail, FlTaskList, FlTaskSummary};
use crate::core::fl::Task;
use axum::Json;
use axum::extract::{Path, State};

fn summary(task: &Task) -> FlTaskSummary {
    FlTaskSummary {
        id: task.id.to_string(),
        poster: task.poster.to_hex(),
        rule: task.spec.rule.name().to_string(),
        masked: task.spec.masked,
        dimension: task.spec.training.dimension,
        rounds: task.spec.rounds,
        settled_rounds: task.current_round(),
        min_participants: task.spec.min_participants,
        participants: task.participants.len(),
        price_per_round: task.spec.price_per_round,
        escrow: task.escrow,
        open_round_updates: task.open_round.updates.len(),
        open_round_aggregates: task.open_round.aggregates.len(),
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
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::AccountId;
    use crate::core::fl::aggregate::AggregationRule;
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
