//! Poisoning and free riding, measured on the wine-quality set (docs/federated-learning.md,
//! "Poisoning and free riders"):
//! - **sign flipping**: a Byzantine participant sends −s·u for its honest update u (s = 4);
//! - **label flipping**: a Byzantine participant trains honestly on its records with every
//!   label inverted, so its update is a well-formed step toward the wrong model;
//! - **free riders**: a participant that trains nothing and, to be paid, returns the global
//!   model unchanged (a zero update) or noise scaled like the previous round's aggregate.
//!
//! Detection of free riders (a rule any aggregator can run on the individual updates it
//! already holds under a robust rule, never under masking): a participant is flagged when, over
//! the rounds, the mean cosine similarity of its update with the round's aggregate is below
//! [`COSINE_MIN`], or its mean update norm is below [`NORM_RATIO_MIN`] of the median
//! participant's. An honest IID participant's update points the way the aggregate does; a zero
//! update has norm 0; noise has a cosine near 0 in expectation. The floats here are the lab's
//! measurements, not consensus: the aggregate itself stays integer.

use crate::convert::{accuracy, to_f64};
use crate::scenarios::{Setup, seed_bytes};
use vein_node::core::fl::aggregate::{AggregationRule, Contribution, aggregate};
use vein_node::core::fl::model::{apply_update, difference};
use vein_node::core::fl::{Dataset, Fixed, FlError, train_local};
use vein_node::core::random::DetRng;

/// Mean cosine with the aggregate below which a participant is flagged as a free rider.
pub const COSINE_MIN: f64 = 0.3;
/// Mean update norm, as a fraction of the median participant's, below which it is flagged.
pub const NORM_RATIO_MIN: f64 = 0.1;
/// `s` of the sign flip.
pub const FLIP_SCALE: i64 = 4;

/// What the Byzantine participants do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Send −s·u.
    SignFlip,
    /// Train on inverted labels.
    LabelFlip,
}

/// What a free rider returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeRide {
    /// The global model it received: a zero update.
    GlobalModel,
    /// Uniform noise per coordinate, as large as the previous aggregate's mean magnitude.
    Noise,
}

/// Who misbehaves: the first `byzantine` participants attack, the next ones free-ride (one per
/// entry of `free_riders`), the rest are honest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adversaries {
    /// What the Byzantine participants do.
    pub attack: Attack,
    /// How many attack.
    pub byzantine: usize,
    /// One free rider per entry.
    pub free_riders: Vec<FreeRide>,
}

/// What a poisoned run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct PoisonRun {
    /// Test accuracy after the last round.
    pub final_accuracy: f64,
    /// Test accuracy after each round.
    pub accuracy_per_round: Vec<f64>,
    /// Per participant: flagged as a free rider by the detection rule.
    pub flagged: Vec<bool>,
    /// Per participant: its mean cosine with the aggregate over the rounds.
    pub mean_cosine: Vec<f64>,
}

impl PoisonRun {
    /// Honest participants flagged, of the honest ones (`first_honest..`).
    pub fn false_positives(&self, first_honest: usize) -> (usize, usize) {
        let honest = &self.flagged[first_honest.min(self.flagged.len())..];
        (honest.iter().filter(|flag| **flag).count(), honest.len())
    }
}

/// `data` with every label inverted (features and the bias kept).
pub fn flip_labels(data: &Dataset) -> Result<Dataset, FlError> {
    let width = data.dimension().saturating_sub(1);
    let mut features = Vec::with_capacity(data.len());
    let mut labels = Vec::with_capacity(data.len());
    for index in 0..data.len() {
        let Some((row, label)) = data.row(index) else { continue };
        features.push(row[..width].to_vec());
        labels.push(!label);
    }
    Dataset::new(features, labels)
}

fn norm(values: &[Fixed]) -> f64 {
    values.iter().map(|v| to_f64(*v).powi(2)).sum::<f64>().sqrt()
}

fn cosine(a: &[Fixed], b: &[Fixed]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| to_f64(*x) * to_f64(*y)).sum();
    let norms = norm(a) * norm(b);
    if norms == 0.0 { 0.0 } else { dot / norms }
}

/// R rounds over `shards` under `rule` with `adversaries`, and the free-rider detection.
pub fn poisoned(
    setup: &Setup,
    shards: &[Dataset],
    rule: AggregationRule,
    adversaries: &Adversaries,
) -> Result<PoisonRun, FlError> {
    let dimension = setup.training.dimension as usize;
    let riders = adversaries.byzantine..adversaries.byzantine + adversaries.free_riders.len();
    let flipped: Vec<Option<Dataset>> = shards
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let flips = adversaries.attack == Attack::LabelFlip && i < adversaries.byzantine;
            flips.then(|| flip_labels(shard)).transpose()
        })
        .collect::<Result<_, _>>()?;
    let mut global = setup.training.initial_weights();
    let mut previous_magnitude = Fixed::ONE.0 / 100;
    let mut noise = DetRng::from_seed(seed_bytes(b"free-rider-noise", setup.seed, 0, 0));
    let mut cosines = vec![0.0; shards.len()];
    let mut norms = vec![0.0; shards.len()];
    let mut accuracy_per_round = Vec::with_capacity(setup.rounds as usize);
    for round in 0..setup.rounds {
        let mut contributions = Vec::with_capacity(shards.len());
        for (i, shard) in shards.iter().enumerate() {
            let update = if riders.contains(&i) {
                match adversaries.free_riders[i - riders.start] {
                    FreeRide::GlobalModel => vec![Fixed::ZERO; dimension],
                    FreeRide::Noise => (0..dimension)
                        .map(|_| {
                            let span = 2 * previous_magnitude.max(1) as u64;
                            Fixed(noise.below(span) as i64 - previous_magnitude)
                        })
                        .collect(),
                }
            } else {
                let data = flipped[i].as_ref().unwrap_or(shard);
                let seed = seed_bytes(b"local", setup.seed, round, i);
                let mut update =
                    difference(&train_local(&global, data, &setup.training, seed)?, &global)?;
                if adversaries.attack == Attack::SignFlip && i < adversaries.byzantine {
                    for value in &mut update {
                        let flipped = value.0.checked_mul(-FLIP_SCALE);
                        *value = Fixed(flipped.ok_or(FlError::Overflow { operation: "flip" })?);
                    }
                }
                update
            };
            contributions.push(Contribution { update, samples: shard.len() as u64 });
        }
        let combined = aggregate(rule, &contributions, dimension)?;
        for (i, contribution) in contributions.iter().enumerate() {
            cosines[i] += cosine(&contribution.update, &combined) / f64::from(setup.rounds);
            norms[i] += norm(&contribution.update) / f64::from(setup.rounds);
        }
        let magnitude: i64 = combined.iter().map(|v| v.0.abs()).sum::<i64>() / dimension as i64;
        previous_magnitude = magnitude.max(1);
        global = apply_update(&global, &combined)?;
        accuracy_per_round.push(accuracy(&global, &setup.test)?);
    }
    let mut sorted = norms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let flagged = cosines
        .iter()
        .zip(&norms)
        .map(|(cos, norm)| *cos < COSINE_MIN || *norm < NORM_RATIO_MIN * median)
        .collect();
    let final_accuracy = accuracy_per_round.last().copied().unwrap_or(0.0);
    Ok(PoisonRun { final_accuracy, accuracy_per_round, flagged, mean_cosine: cosines })
}
