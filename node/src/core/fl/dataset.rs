//! A data set in the form training uses: each record's features already in fixed point, a
//! constant 1 appended for the bias, and a binary label. The core takes fixed-point features and
//! never sees a float: reading a raw data set and standardising it (z-scores, in floating point)
//! is the lab's job (`vein-fl-lab`), done once on a participant's own records before anything
//! reaches training.

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
    /// Records of `features` fixed-point inputs each, the bias input appended. Refuses an empty
    /// set, a record without features, records of different lengths and a label count that
    /// differs.
    pub fn new(features: Vec<Vec<Fixed>>, labels: Vec<bool>) -> Result<Dataset, FlError> {
        let width = features.first().map(Vec::len).ok_or(FlError::BadDataset)?;
        if width == 0
            || features.len() != labels.len()
            || features.iter().any(|row| row.len() != width)
        {
            return Err(FlError::BadDataset);
        }
        let rows = features
            .into_iter()
            .map(|mut row| {
                row.push(Fixed::ONE);
                row
            })
            .collect();
        Ok(Dataset { rows, labels })
    }

    /// Inputs per record, the bias included: the model's dimension.
    pub fn dimension(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there is no record (never, for a set built by `new`).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Record `index`: its inputs (bias last) and its label, or `None` past the end.
    pub fn row(&self, index: usize) -> Option<(&[Fixed], bool)> {
        Some((self.rows.get(index)?.as_slice(), *self.labels.get(index)?))
    }

    /// The labels, in record order.
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

    fn fixed(values: &[i64]) -> Vec<Fixed> {
        values.iter().map(|&value| Fixed(value)).collect()
    }

    #[test]
    fn appends_the_bias_and_refuses_bad_shapes() {
        let data = Dataset::new(vec![fixed(&[-7, 0]), fixed(&[3, 5])], vec![true, false]).unwrap();
        assert_eq!(data.dimension(), 3);
        let (row, label) = data.row(0).unwrap();
        assert_eq!(row, &[Fixed(-7), Fixed(0), Fixed::ONE]);
        assert!(label);
        assert_eq!(data.row(1).unwrap().0, &[Fixed(3), Fixed(5), Fixed::ONE]);
        assert_eq!(Dataset::new(vec![], vec![]), Err(FlError::BadDataset));
        assert_eq!(Dataset::new(vec![vec![]], vec![true]), Err(FlError::BadDataset));
        assert_eq!(
            Dataset::new(vec![fixed(&[1]), fixed(&[])], vec![true, true]),
            Err(FlError::BadDataset)
        );
        assert_eq!(Dataset::new(vec![fixed(&[1])], vec![]), Err(FlError::BadDataset));
    }

    #[test]
    fn train_test_split_is_seeded_and_partitions_the_records() {
        let records: Vec<Vec<Fixed>> = (0..100).map(|i| vec![Fixed(i)]).collect();
        let labels: Vec<bool> = (0..100).map(|i| i % 2 == 0).collect();
        let data = Dataset::new(records, labels).unwrap();
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
