//! Aggregation rules over fixed-point updates, all in integers so every participant that
//! recomputes an aggregate gets the same bits:
//! - **FedAvg** (McMahan et al., 2017): Σ nᵢ·uᵢ / Σ nᵢ, weighted by declared sample counts,
//!   summed in i128 and divided once (truncating toward zero).
//! - **Coordinate-wise median** (Yin et al., 2018): per coordinate, the middle value; for an
//!   even count, the floor of the mean of the two middle values.
//! - **Trimmed mean** (Yin et al., 2018): per coordinate, drop the `trim` smallest and largest,
//!   average the rest (floor).
//! - **Krum** (Blanchard et al., 2017): the one update whose summed squared distance to its
//!   n − f − 2 nearest others is smallest (ties: the earliest in the given order); needs
//!   n ≥ 2f + 3.
//!
//! Median, trimmed mean and Krum read every individual update, so they cannot run on the masked
//! sum that secure aggregation yields; only FedAvg can (`masking.rs`). A task chooses.

use super::error::FlError;
use super::fixed::Fixed;
use serde::{Deserialize, Serialize};

/// Which rule a task's rounds use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggregationRule {
    /// Sample-weighted mean (McMahan et al., 2017); the only rule that works under masking.
    FedAvg,
    /// Coordinate-wise median (Yin et al., 2018).
    Median,
    /// Drop `trim` values from each end of every coordinate.
    TrimmedMean {
        /// Values dropped from each end per coordinate; 2 · trim must be below the contribution
        /// count.
        trim: u32,
    },
    /// Tolerate up to `byzantine` bad updates.
    Krum {
        /// Bad updates f to tolerate; a round then needs at least 2f + 3 contributions.
        byzantine: u32,
    },
}

impl AggregationRule {
    /// The rule's name in error messages (`FedAvg`, `median`, `trimmed mean`, `Krum`).
    pub fn name(&self) -> &'static str {
        match self {
            AggregationRule::FedAvg => "FedAvg",
            AggregationRule::Median => "median",
            AggregationRule::TrimmedMean { .. } => "trimmed mean",
            AggregationRule::Krum { .. } => "Krum",
        }
    }

    /// Whether the rule can run on a sum alone (and so under pairwise masking).
    pub fn works_on_sums(&self) -> bool {
        matches!(self, AggregationRule::FedAvg)
    }
}

/// One participant's update and its declared sample count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// The participant's decoded update: one value per model weight.
    pub update: Vec<Fixed>,
    /// Its declared sample count (the FedAvg weight).
    pub samples: u64,
}

/// Aggregate `contributions` (all of `dimension` values) under `rule`.
pub fn aggregate(
    rule: AggregationRule,
    contributions: &[Contribution],
    dimension: usize,
) -> Result<Vec<Fixed>, FlError> {
    if contributions.is_empty() {
        return Err(FlError::NoContributions);
    }
    if let Some(bad) = contributions.iter().find(|c| c.update.len() != dimension) {
        return Err(FlError::WrongDimension { expected: dimension, got: bad.update.len() });
    }
    match rule {
        AggregationRule::FedAvg => fed_avg(contributions, dimension),
        AggregationRule::Median => Ok(per_coordinate(contributions, dimension, median)),
        AggregationRule::TrimmedMean { trim } => {
            let trim = trim as usize;
            if contributions.len() <= 2 * trim {
                return Err(FlError::TrimTooLarge { trim, count: contributions.len() });
            }
            Ok(per_coordinate(contributions, dimension, |sorted| {
                mean(&sorted[trim..sorted.len() - trim])
            }))
        }
        AggregationRule::Krum { byzantine } => krum(contributions, byzantine as usize),
    }
}

fn fed_avg(contributions: &[Contribution], dimension: usize) -> Result<Vec<Fixed>, FlError> {
    let total: u128 = contributions.iter().map(|c| u128::from(c.samples)).sum();
    if total == 0 {
        return Err(FlError::ZeroSamples);
    }
    let mut sums = vec![0i128; dimension];
    for contribution in contributions {
        for (sum, value) in sums.iter_mut().zip(&contribution.update) {
            let weighted = i128::from(value.0)
                .checked_mul(i128::from(contribution.samples))
                .ok_or(FlError::Overflow { operation: "fedavg" })?;
            *sum = sum.checked_add(weighted).ok_or(FlError::Overflow { operation: "fedavg" })?;
        }
    }
    divide(&sums, total)
}

/// `sums[i] / divisor` for each coordinate, truncating toward zero.
pub fn divide(sums: &[i128], divisor: u128) -> Result<Vec<Fixed>, FlError> {
    let divisor = i128::try_from(divisor).map_err(|_| FlError::Overflow { operation: "divide" })?;
    if divisor == 0 {
        return Err(FlError::ZeroSamples);
    }
    sums.iter()
        .map(|sum| {
            i64::try_from(sum / divisor)
                .map(Fixed)
                .map_err(|_| FlError::Overflow { operation: "divide" })
        })
        .collect()
}

/// Apply `reduce` to each coordinate's values, sorted ascending.
fn per_coordinate(
    contributions: &[Contribution],
    dimension: usize,
    reduce: impl Fn(&[i64]) -> i64,
) -> Vec<Fixed> {
    let mut column = Vec::with_capacity(contributions.len());
    (0..dimension)
        .map(|coordinate| {
            column.clear();
            column.extend(contributions.iter().map(|c| c.update[coordinate].0));
            column.sort_unstable();
            Fixed(reduce(&column))
        })
        .collect()
}

fn median(sorted: &[i64]) -> i64 {
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[middle] } else { mean(&sorted[middle - 1..=middle]) }
}

/// Floor of the mean of a non-empty slice (the sum cannot overflow i128).
fn mean(values: &[i64]) -> i64 {
    let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
    // The mean of i64 values lies within i64's range.
    sum.div_euclid(values.len() as i128) as i64
}

fn krum(contributions: &[Contribution], byzantine: usize) -> Result<Vec<Fixed>, FlError> {
    let count = contributions.len();
    let needed = 2 * byzantine + 3;
    if count < needed {
        return Err(FlError::KrumTooFew { byzantine, count, needed });
    }
    let neighbours = count - byzantine - 2;
    let mut best: Option<(u128, usize)> = None;
    let mut distances = Vec::with_capacity(count - 1);
    for (i, candidate) in contributions.iter().enumerate() {
        distances.clear();
        for (j, other) in contributions.iter().enumerate() {
            if i != j {
                distances.push(squared_distance(&candidate.update, &other.update));
            }
        }
        distances.sort_unstable();
        let score = distances[..neighbours].iter().fold(0u128, |sum, d| sum.saturating_add(*d));
        if best.is_none_or(|(best_score, _)| score < best_score) {
            best = Some((score, i));
        }
    }
    let (_, chosen) = best.ok_or(FlError::NoContributions)?;
    Ok(contributions[chosen].update.clone())
}

/// ‖a − b‖², saturating at u128::MAX (a difference of two i64 fits i128; its square fits u128).
fn squared_distance(a: &[Fixed], b: &[Fixed]) -> u128 {
    a.iter().zip(b).fold(0u128, |sum, (x, y)| {
        let difference = (i128::from(x.0) - i128::from(y.0)).unsigned_abs();
        sum.saturating_add(difference.saturating_mul(difference))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(values: &[i64], samples: u64) -> Contribution {
        Contribution { update: values.iter().map(|&v| Fixed(v)).collect(), samples }
    }

    fn raw(values: Vec<Fixed>) -> Vec<i64> {
        values.into_iter().map(|v| v.0).collect()
    }

    #[test]
    fn fed_avg_weights_by_samples() {
        let got = aggregate(AggregationRule::FedAvg, &[c(&[10, -4], 1), c(&[40, 8], 2)], 2);
        // (10 + 80) / 3 = 30; (-4 + 16) / 3 = 4.
        assert_eq!(raw(got.unwrap()), vec![30, 4]);
        // Truncation toward zero: (1 + 0) / 2 = 0 and (-1 + 0) / 2 = 0.
        let got = aggregate(AggregationRule::FedAvg, &[c(&[1, -1], 1), c(&[0, 0], 1)], 2);
        assert_eq!(raw(got.unwrap()), vec![0, 0]);
        assert_eq!(aggregate(AggregationRule::FedAvg, &[c(&[1], 0)], 1), Err(FlError::ZeroSamples));
        let huge = aggregate(AggregationRule::FedAvg, &[c(&[i64::MAX], 2)], 1);
        assert_eq!(huge, Ok(vec![Fixed(i64::MAX)]), "the i128 sum holds n · i64::MAX");
    }

    #[test]
    fn median_is_robust_to_one_outlier() {
        let updates = [c(&[1, 5], 1), c(&[2, 6], 1), c(&[1_000_000, -1_000_000], 1)];
        assert_eq!(raw(aggregate(AggregationRule::Median, &updates, 2).unwrap()), vec![2, 5]);
        // Even count: floor of the mean of the two middle values, (2 + 3) / 2 = 2, (−3 + −2)/2 = −3.
        let even = [c(&[1, -1], 1), c(&[2, -2], 1), c(&[3, -3], 1), c(&[4, -4], 1)];
        assert_eq!(raw(aggregate(AggregationRule::Median, &even, 2).unwrap()), vec![2, -3]);
    }

    #[test]
    fn trimmed_mean_drops_both_ends() {
        let updates = [c(&[-100], 1), c(&[1], 1), c(&[2], 1), c(&[6], 1), c(&[900], 1)];
        let rule = AggregationRule::TrimmedMean { trim: 1 };
        assert_eq!(raw(aggregate(rule, &updates, 1).unwrap()), vec![3]);
        let rule = AggregationRule::TrimmedMean { trim: 3 };
        assert_eq!(aggregate(rule, &updates, 1), Err(FlError::TrimTooLarge { trim: 3, count: 5 }));
    }

    #[test]
    fn krum_picks_the_update_closest_to_its_neighbours() {
        // Four honest updates around (10, 10), one far away: f = 1, n = 5 ≥ 2f + 3.
        let updates =
            [c(&[10, 10], 1), c(&[11, 10], 1), c(&[10, 12], 1), c(&[9, 9], 1), c(&[-500, 700], 1)];
        let rule = AggregationRule::Krum { byzantine: 1 };
        // Scores over the n − f − 2 = 2 nearest: (10,10): 1 + 2 = 3; (11,10): 1 + 5 = 6;
        // (10,12): 4 + 5 = 9; (9,9): 2 + 5 = 7. The first wins.
        assert_eq!(raw(aggregate(rule, &updates, 2).unwrap()), vec![10, 10]);
        let rule = AggregationRule::Krum { byzantine: 2 };
        assert_eq!(
            aggregate(rule, &updates, 2),
            Err(FlError::KrumTooFew { byzantine: 2, count: 5, needed: 7 })
        );
    }

    #[test]
    fn empty_input_and_wrong_dimensions_are_refused() {
        assert_eq!(aggregate(AggregationRule::Median, &[], 2), Err(FlError::NoContributions));
        assert_eq!(
            aggregate(AggregationRule::Median, &[c(&[1, 2], 1), c(&[1], 1)], 2),
            Err(FlError::WrongDimension { expected: 2, got: 1 })
        );
        assert!(AggregationRule::FedAvg.works_on_sums());
        assert!(!AggregationRule::Krum { byzantine: 1 }.works_on_sums());
    }
}
