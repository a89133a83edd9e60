//! What `fl status` and `fl model` print: a task's rounds and payments as a table, and the
//! accepted model rebuilt from a participant's kept aggregates, each checked against the hash
//! the chain accepted for its round.

use super::FlCliError;
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

/// A participant's log: the accepted aggregate of every settled round, encoded.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct ModelLog {
    pub(super) aggregates: Vec<String>,
}

pub(super) fn status_text(detail: &FlTaskDetail) -> String {
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
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(crate::error::io("reading", &folder))?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    logs.sort();
    let path = logs.first().cloned().ok_or_else(|| FlCliError::Log {
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
