//! A data set in the form training uses: each record's features standardised (z-scores over
//! the whole set) and converted once to fixed point, a constant 1 appended for the bias, and a
//! binary label. The raw floats are read here and nowhere after: from this point on training is
//! integer arithmetic.
//!
//! Standardising with the pooled mean and deviation is a simplification: in a real federation
//! each silo would standardise with statistics agreed beforehand (for example a secure sum of
//! per-silo moments). Every experiment here, centralised or federated, uses the same features,
//! so the comparison between them is fair.

use super::error::FlError;
use super::fixed::Fixed;
use crate::core::random::DetRng;

/// Records ready for training. `rows[i]` has `dimension()` entries, the last the bias input 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    rows: Vec<Vec<Fixed>>,
    labels: Vec<bool>,
}

impl Dataset {
    /// Standardise `records` column by column and convert to fixed point. Refuses an empty set,
    /// rows of different lengths, a label count that differs, and non-finite values.
    pub fn from_f64(records: &[Vec<f64>], labels: &[bool]) -> Result<Dataset, FlError> {
        let features = records.first().map(Vec::len).ok_or(FlError::BadDataset)?;
        if features == 0
            || records.len() != labels.len()
            || records.iter().any(|row| row.len() != features)
        {
            return Err(FlError::BadDataset);
        }
        let count = records.len() as f64;
        let mut means = vec![0.0; features];
        let mut deviations = vec![0.0; features];
        for column in 0..features {
            let mean = records.iter().map(|row| row[column]).sum::<f64>() / count;
            let variance =
                records.iter().map(|row| (row[column] - mean).powi(2)).sum::<f64>() / count;
            means[column] = mean;
            // A constant column carries no information: leave it at zero, not NaN.
            deviations[column] = if variance > 0.0 { variance.sqrt() } else { 1.0 };
        }
        let mut rows = Vec::with_capacity(records.len());
        for row in records {
            let mut converted = Vec::with_capacity(features + 1);
            for column in 0..features {
                converted
                    .push(Fixed::from_f64((row[column] - means[column]) / deviations[column])?);
            }
            converted.push(Fixed::ONE);
            rows.push(converted);
        }
        Ok(Dataset { rows, labels: labels.to_vec() })
    }

    /// Inputs per record, the bias included: the model's dimension.
    pub fn dimension(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn row(&self, index: usize) -> Option<(&[Fixed], bool)> {
        Some((self.rows.get(index)?.as_slice(), *self.labels.get(index)?))
    }

    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    /// The records at `indices` (out-of-range indices are skipped), in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut rows = Vec::with_capacity(indices.len());
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            if let (Some(row), Some(label)) = (self.rows.get(index), self.labels.get(index)) {
                rows.push(row.clone());
                labels.push(*label);
            }
        }
        Dataset { rows, labels }
    }

    /// A seeded shuffle cut into a training part and a held-out test part of
    /// `test_percent` percent (1..=99).
    pub fn train_test(
        &self,
        test_percent: u32,
        seed: [u8; 32],
    ) -> Result<(Dataset, Dataset), FlError> {
        if !(1..=99).contains(&test_percent) || self.len() < 2 {
            return Err(FlError::BadSplit { samples: self.len(), participants: 2 });
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut order, &mut DetRng::from_seed(seed));
        let test_count = (self.len() * test_percent as usize / 100).max(1);
        let (test, train) = order.split_at(test_count);
        Ok((self.subset(train), self.subset(test)))
    }
}

/// Fisher–Yates with the core's seeded generator.
pub fn shuffle<T>(items: &mut [T], rng: &mut DetRng) {
    for index in (1..items.len()).rev() {
        let other = rng.index(index + 1);
        items.swap(index, other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_appends_the_bias_and_refuses_bad_shapes() {
        let records = vec![vec![1.0, 5.0], vec![3.0, 5.0]];
        let data = Dataset::from_f64(&records, &[true, false]).unwrap();
        assert_eq!(data.dimension(), 3);
        let (row, label) = data.row(0).unwrap();
        assert_eq!(row, &[Fixed(-Fixed::ONE.0), Fixed(0), Fixed::ONE]);
        assert!(label);
        assert_eq!(data.row(1).unwrap().0[0], Fixed::ONE);
        assert_eq!(Dataset::from_f64(&[], &[]), Err(FlError::BadDataset));
        assert_eq!(
            Dataset::from_f64(&[vec![1.0], vec![]], &[true, true]),
            Err(FlError::BadDataset)
        );
        assert_eq!(Dataset::from_f64(&[vec![1.0]], &[]), Err(FlError::BadDataset));
        assert!(Dataset::from_f64(&[vec![f64::NAN], vec![1.0]], &[true, true]).is_err());
    }

    #[test]
    fn train_test_split_is_seeded_and_partitions_the_records() {
        let records: Vec<Vec<f64>> = (0..100).map(|i| vec![f64::from(i)]).collect();
        let labels: Vec<bool> = (0..100).map(|i| i % 2 == 0).collect();
        let data = Dataset::from_f64(&records, &labels).unwrap();
        let (train, test) = data.train_test(20, [1; 32]).unwrap();
        assert_eq!((train.len(), test.len()), (80, 20));
        assert_eq!(data.train_test(20, [1; 32]).unwrap(), (train.clone(), test.clone()));
        assert_ne!(data.train_test(20, [2; 32]).unwrap().0, train);
        let mut all: Vec<Fixed> = train.rows.iter().chain(&test.rows).map(|row| row[0]).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 100, "every record lands in exactly one part");
        assert!(data.train_test(0, [1; 32]).is_err());
    }
}
