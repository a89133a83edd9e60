//! What `fl status` and `fl model` print: a task's rounds and payments as a table, and the
//! accepted model rebuilt from a participant's kept aggregates, each checked against the hash
//! the chain accepted for its round.

use super::FlCliError;
use super::participant::ModelLog;
use crate::TestnetError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vein_fl_lab::convert::{accuracy, to_f64};
use vein_fl_lab::scenarios::wine_setup;
use vein_node::api_types::FlTaskDetail;
use vein_node::core::fl::Fixed;
use vein_node::core::fl::model::apply_update;
use vein_node::core::fl::update::{aggregate_hash, decode_update, encode_update};
use vein_node::core::hash::Hash;

/// What `fl model` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// The task id.
    pub task: String,
    /// Settled rounds whose aggregates were checked and applied.
    pub rounds: u32,
    /// The weights (bias last), as floats for people.
    pub weights: Vec<f64>,
    /// The weights exactly, as Q47.16 integers.
    pub weights_fixed: Vec<i64>,
    /// BLAKE3 of the encoded weights.
    pub weights_hash: String,
    /// Fraction of the held-out records classified correctly.
    pub accuracy: f64,
    /// Held-out records.
    pub held_out: usize,
}

/// One round's timing over the participants' logs in the testnet directory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RoundTime {
    /// The slowest participant's round time (start to settlement as it saw them), in ms.
    pub(super) wall_ms: u64,
    /// The slowest participant's local training, in ms.
    pub(super) training_ms: u64,
    /// (k + 1) · T, in ms.
    pub(super) final_ms: u64,
    /// Logs that timed the round (participants that caught it up later are left out).
    pub(super) logs: usize,
}

/// The participants' logs of `task` under `dir` (sorted; none if the directory is absent).
fn logs(dir: &Path, task: &Hash) -> Vec<PathBuf> {
    let folder = dir.join("fl").join(task.to_string());
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    logs.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    logs.sort();
    logs
}

/// Per round, the slowest wall and training times the participants' logs under `dir` hold.
pub(super) fn timing_rows(dir: &Path, task: &Hash) -> Vec<RoundTime> {
    let mut rows: Vec<RoundTime> = Vec::new();
    for path in logs(dir, task) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(log) = serde_json::from_str::<ModelLog>(&text) else { continue };
        for (round, timing) in log.timing.iter().enumerate() {
            if timing.caught_up {
                continue;
            }
            if rows.len() <= round {
                rows.resize(
                    round + 1,
                    RoundTime { wall_ms: 0, training_ms: 0, final_ms: 0, logs: 0 },
                );
            }
            let row = &mut rows[round];
            row.wall_ms = row.wall_ms.max(timing.wall_ms);
            row.training_ms = row.training_ms.max(timing.training_ms);
            row.final_ms = timing.final_ms;
            row.logs += 1;
        }
    }
    rows
}

pub(super) fn status_text(detail: &FlTaskDetail, timing: &[RoundTime]) -> String {
    let summary = &detail.summary;
    let mut out = format!(
        "task {}: {} {}, {} of {} rounds settled, {} participants (min {}), price {} per \
         round, escrow {}\n",
        summary.id,
        summary.rule,
        if summary.masked { "masked" } else { "unmasked" },
        summary.settled_rounds,
        summary.rounds,
        summary.participants,
        summary.min_participants,
        summary.price_per_round,
        summary.escrow,
    );
    out.push_str("round  contributors  accepted  paid  burned  aggregate\n");
    for row in &detail.settled {
        out.push_str(&format!(
            "{:>5}  {:>12}  {:>8}  {:>4}  {:>6}  {}\n",
            row.round, row.contributors, row.accepted, row.paid, row.burned, row.aggregate
        ));
    }
    if !timing.is_empty() {
        out.push_str("round  wall s  (k+1)T s  training s  wall / ((k+1)T + training)  logs\n");
        for (round, row) in timing.iter().enumerate() {
            let budget = (row.final_ms + row.training_ms).max(1) as f64;
            out.push_str(&format!(
                "{round:>5}  {:>6.1}  {:>8.1}  {:>10.2}  {:>26.2}  {:>4}\n",
                row.wall_ms as f64 / 1000.0,
                row.final_ms as f64 / 1000.0,
                row.training_ms as f64 / 1000.0,
                row.wall_ms as f64 / budget,
                row.logs,
            ));
        }
    }
    out.push_str(
        "participant                                                        samples  paid\n",
    );
    for row in &detail.participants {
        out.push_str(&format!("{}  {:>7}  {}\n", row.account, row.samples, row.paid));
    }
    out.trim_end().to_string()
}

/// Read a participant's log, check every round against the chain, apply the aggregates.
pub(super) fn model(
    dir: &Path,
    task: &Hash,
    detail: &FlTaskDetail,
    seed: u64,
) -> Result<ModelReport, TestnetError> {
    let folder = dir.join("fl").join(task.to_string());
    let path = logs(dir, task).first().cloned().ok_or_else(|| FlCliError::Log {
        path: folder.clone(),
        reason: "no participant wrote a log here (run `fl join` first)".into(),
    })?;
    let bad = |reason: String| FlCliError::Log { path: path.clone(), reason };
    let text = std::fs::read_to_string(&path).map_err(crate::error::io("reading", &path))?;
    let log: ModelLog = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let dimension = detail.summary.dimension as usize;
    let mut weights = vec![Fixed::ZERO; dimension];
    for (round, settled) in detail.settled.iter().enumerate() {
        let encoded = log
            .aggregates
            .get(round)
            .ok_or_else(|| bad(format!("no aggregate for settled round {round}")))?;
        let bytes = hex::decode(encoded).map_err(|_| bad(format!("round {round}: not hex")))?;
        let aggregate = decode_update(&bytes, dimension).map_err(FlCliError::from)?;
        let hash = aggregate_hash(task, round as u32, &aggregate);
        if hash.to_string() != settled.aggregate {
            return Err(bad(format!(
                "round {round}: aggregate {hash} is not the accepted {}",
                settled.aggregate
            ))
            .into());
        }
        weights = apply_update(&weights, &aggregate).map_err(FlCliError::from)?;
    }
    let setup = wine_setup(seed).map_err(FlCliError::from)?;
    let accuracy = accuracy(&weights, &setup.test).map_err(FlCliError::from)?;
    Ok(ModelReport {
        task: task.to_string(),
        rounds: detail.settled.len() as u32,
        weights: weights.iter().map(|w| to_f64(*w)).collect(),
        weights_fixed: weights.iter().map(|w| w.0).collect(),
        weights_hash: Hash::of(&encode_update(&weights)).to_string(),
        accuracy,
        held_out: setup.test.len(),
    })
}
