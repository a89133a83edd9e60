//! The model: logistic regression on fixed-point weights, trained by local mini-batch SGD
//! (the client step of FedAvg, McMahan et al., 2017). Every step is integer arithmetic over
//! [`Fixed`], with a seeded shuffle per epoch, so a participant's update is a pure function of
//! (global weights, its records, the spec, its seed): anyone holding the same inputs reproduces
//! it bit for bit.
//!
//! Gradient of the log-loss for one record: (σ(w·x) − y) · x. A batch's gradients are summed in
//! i128 and divided by the batch size (truncating toward zero), then scaled by the learning
//! rate. Prediction is w·x ≥ 0, i.e. σ ≥ 1/2, so accuracy never needs the sigmoid.

use super::dataset::{Dataset, shuffle};
use super::error::FlError;
use super::fixed::{FRACTION_BITS, Fixed, dot};
use crate::core::random::DetRng;
use serde::{Deserialize, Serialize};

/// Largest model a task may ask for (weights per update).
pub const DIMENSION_MAX: u32 = 4096;
/// Bounds that keep one round's local work finite.
pub const LOCAL_EPOCHS_MAX: u32 = 100;
/// Largest mini-batch, in records.
pub const BATCH_SIZE_MAX: u32 = 4096;

/// How each participant trains in a round: part of a task's spec on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingSpec {
    /// Weights per model, the bias included.
    pub dimension: u32,
    /// Step size of SGD, in (0, 1].
    pub learning_rate: Fixed,
    /// Passes over the participant's records per round (1..=`LOCAL_EPOCHS_MAX`).
    pub local_epochs: u32,
    /// Records per mini-batch (1..=`BATCH_SIZE_MAX`).
    pub batch_size: u32,
}

impl TrainingSpec {
    /// Check each field's bounds; a post whose spec fails this is refused (`InvalidSpec`).
    pub fn validate(&self) -> Result<(), FlError> {
        let reason = if self.dimension == 0 || self.dimension > DIMENSION_MAX {
            "dimension must be in 1..=4096"
        } else if self.learning_rate.0 <= 0 || self.learning_rate > Fixed::ONE {
            "learning rate must be in (0, 1]"
        } else if self.local_epochs == 0 || self.local_epochs > LOCAL_EPOCHS_MAX {
            "local epochs must be in 1..=100"
        } else if self.batch_size == 0 || self.batch_size > BATCH_SIZE_MAX {
            "batch size must be in 1..=4096"
        } else {
            return Ok(());
        };
        Err(FlError::InvalidSpec { reason })
    }

    /// The initial global model: all zeros (logistic regression's loss is convex, so the start
    /// only changes the path, and zeros need no agreed seed).
    pub fn initial_weights(&self) -> Vec<Fixed> {
        vec![Fixed::ZERO; self.dimension as usize]
    }
}

/// Train from `global` on `data` for the spec's local epochs; returns the new weights.
pub fn train_local(
    global: &[Fixed],
    data: &Dataset,
    spec: &TrainingSpec,
    seed: [u8; 32],
) -> Result<Vec<Fixed>, FlError> {
    spec.validate()?;
    let dimension = spec.dimension as usize;
    if global.len() != dimension {
        return Err(FlError::WrongDimension { expected: dimension, got: global.len() });
    }
    if !data.is_empty() && data.dimension() != dimension {
        return Err(FlError::WrongDimension { expected: dimension, got: data.dimension() });
    }
    let mut weights = global.to_vec();
    let mut rng = DetRng::from_seed(seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut gradient = vec![0i128; dimension];
    for _ in 0..spec.local_epochs {
        shuffle(&mut order, &mut rng);
        for batch in order.chunks(spec.batch_size as usize) {
            gradient.iter_mut().for_each(|g| *g = 0);
            for &index in batch {
                let Some((row, label)) = data.row(index) else { continue };
                let target = if label { Fixed::ONE } else { Fixed::ZERO };
                let error = dot(&weights, row)?.sigmoid().checked_sub(target)?;
                for (g, x) in gradient.iter_mut().zip(row) {
                    *g = g
                        .checked_add(i128::from(error.0) * i128::from(x.0))
                        .ok_or(FlError::Overflow { operation: "gradient" })?;
                }
            }
            let count = batch.len() as i128;
            for (w, g) in weights.iter_mut().zip(&gradient) {
                // Mean gradient in Q16 (the product above is Q32), then the step lr · g.
                let mean = i64::try_from((g >> FRACTION_BITS) / count)
                    .map_err(|_| FlError::Overflow { operation: "gradient" })?;
                *w = w.checked_sub(spec.learning_rate.checked_mul(Fixed(mean))?)?;
            }
        }
    }
    Ok(weights)
}

/// `new − old`, coordinate-wise: the update a participant sends.
pub fn difference(new: &[Fixed], old: &[Fixed]) -> Result<Vec<Fixed>, FlError> {
    if new.len() != old.len() {
        return Err(FlError::WrongDimension { expected: old.len(), got: new.len() });
    }
    new.iter().zip(old).map(|(a, b)| a.checked_sub(*b)).collect()
}

/// `weights + update`, coordinate-wise: the next global model.
pub fn apply_update(weights: &[Fixed], update: &[Fixed]) -> Result<Vec<Fixed>, FlError> {
    if weights.len() != update.len() {
        return Err(FlError::WrongDimension { expected: weights.len(), got: update.len() });
    }
    weights.iter().zip(update).map(|(a, b)| a.checked_add(*b)).collect()
}

/// How many records of `data` the model classifies correctly (w·x ≥ 0 predicts the positive
/// class). A count, so the core reports no float; the lab turns it into an accuracy.
pub fn correct_count(weights: &[Fixed], data: &Dataset) -> Result<usize, FlError> {
    let mut correct = 0usize;
    for index in 0..data.len() {
        let Some((row, label)) = data.row(index) else { continue };
        if (dot(weights, row)?.0 >= 0) == label {
            correct += 1;
        }
    }
    Ok(correct)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dimension: u32) -> TrainingSpec {
        TrainingSpec {
            dimension,
            learning_rate: Fixed(Fixed::ONE.0 / 4),
            local_epochs: 5,
            batch_size: 8,
        }
    }

    /// Two separable clusters: x > 0 is positive (x odd in -99..=99, scaled near unit variance),
    /// plus an uninformative second feature. Training from zero must separate them.
    fn separable() -> Dataset {
        let x = |i: i64| (i % 100) * 2 - 99;
        let records: Vec<Vec<Fixed>> = (0..200)
            .map(|i| vec![Fixed(x(i) * Fixed::ONE.0 / 58), Fixed((i % 7 - 3) * Fixed::ONE.0 / 2)])
            .collect();
        let labels: Vec<bool> = (0..200).map(|i| x(i) > 0).collect();
        Dataset::new(records, labels).unwrap()
    }

    #[test]
    fn training_learns_a_separable_set_and_is_reproducible() {
        let data = separable();
        let spec = spec(3);
        let start = spec.initial_weights();
        let correct = |weights: &[Fixed]| correct_count(weights, &data).unwrap();
        assert_eq!(correct(&start) * 2, data.len(), "all-zero weights predict positive");
        let trained = train_local(&start, &data, &spec, [1; 32]).unwrap();
        assert!(
            correct(&trained) * 100 >= data.len() * 97,
            "{} of {}",
            correct(&trained),
            data.len()
        );
        assert_eq!(train_local(&start, &data, &spec, [1; 32]).unwrap(), trained);
        assert_ne!(train_local(&start, &data, &spec, [2; 32]).unwrap(), trained);
        let update = difference(&trained, &start).unwrap();
        assert_eq!(apply_update(&start, &update).unwrap(), trained);
    }

    #[test]
    fn bad_specs_and_dimensions_are_typed_errors() {
        let data = separable();
        let mut bad = spec(3);
        bad.learning_rate = Fixed::ZERO;
        assert!(matches!(bad.validate(), Err(FlError::InvalidSpec { .. })));
        assert!(matches!(spec(0).validate(), Err(FlError::InvalidSpec { .. })));
        assert!(matches!(spec(DIMENSION_MAX + 1).validate(), Err(FlError::InvalidSpec { .. })));
        assert_eq!(
            train_local(&[Fixed::ZERO; 2], &data, &spec(3), [1; 32]),
            Err(FlError::WrongDimension { expected: 3, got: 2 })
        );
        assert_eq!(
            train_local(&[Fixed::ZERO; 4], &data, &spec(4), [1; 32]),
            Err(FlError::WrongDimension { expected: 4, got: 3 })
        );
        assert!(difference(&[Fixed::ZERO], &[]).is_err());
        assert!(apply_update(&[Fixed(i64::MAX)], &[Fixed(1)]).is_err());
    }
}
