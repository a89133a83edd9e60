//! The floating-point edge of learning, kept out of the core: a raw data set is standardised
//! (z-scores over the whole set) and converted once to the core's fixed point, and a trained
//! model's correct count is reported as an accuracy. Nothing here reaches an update, an
//! aggregate, a hash or the ledger.
//!
//! Standardising with the pooled mean and deviation is a simplification: in a real federation
//! each silo would standardise with statistics agreed beforehand (for example a secure sum of
//! per-silo moments). Every experiment here, centralised or federated, uses the same features,
//! so the comparison between them is fair.

use vein_node::core::fl::fixed::ONE;
use vein_node::core::fl::{Dataset, Fixed, FlError, correct_count};

/// The nearest fixed-point value to `value`; refuses NaN, infinities and values out of range.
pub fn fixed_from_f64(value: f64) -> Result<Fixed, FlError> {
    let scaled = (value * ONE as f64).round();
    // i64::MAX as f64 rounds up to 2^63, so the upper test is strict.
    if !scaled.is_finite() || scaled < i64::MIN as f64 || scaled >= i64::MAX as f64 {
        return Err(FlError::Overflow { operation: "from_f64" });
    }
    Ok(Fixed(scaled as i64))
}

/// For reporting only.
pub fn to_f64(value: Fixed) -> f64 {
    value.0 as f64 / ONE as f64
}

/// Standardise `records` column by column and convert them to a fixed-point data set (the core
/// appends the bias input). Refuses an empty set, rows of different lengths, a label count that
/// differs, and non-finite values.
pub fn standardise(records: &[Vec<f64>], labels: &[bool]) -> Result<Dataset, FlError> {
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
        let variance = records.iter().map(|row| (row[column] - mean).powi(2)).sum::<f64>() / count;
        means[column] = mean;
        // A constant column carries no information: leave it at zero, not NaN.
        deviations[column] = if variance > 0.0 { variance.sqrt() } else { 1.0 };
    }
    let mut rows = Vec::with_capacity(records.len());
    for row in records {
        let converted = (0..features)
            .map(|column| fixed_from_f64((row[column] - means[column]) / deviations[column]))
            .collect::<Result<Vec<Fixed>, FlError>>()?;
        rows.push(converted);
    }
    Dataset::new(rows, labels.to_vec())
}

/// Fraction of `data` the model classifies correctly; 0 for an empty set.
pub fn accuracy(weights: &[Fixed], data: &Dataset) -> Result<f64, FlError> {
    if data.is_empty() {
        return Ok(0.0);
    }
    Ok(correct_count(weights, data)? as f64 / data.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_and_refuses_what_does_not_fit() {
        assert_eq!(fixed_from_f64(1.0), Ok(Fixed(ONE)));
        assert_eq!(fixed_from_f64(-0.5), Ok(Fixed(-ONE / 2)));
        assert_eq!(fixed_from_f64(1.0 / 65536.0 * 0.6), Ok(Fixed(1)));
        assert_eq!(fixed_from_f64(f64::NAN), Err(FlError::Overflow { operation: "from_f64" }));
        assert_eq!(fixed_from_f64(1e300), Err(FlError::Overflow { operation: "from_f64" }));
        assert_eq!(to_f64(Fixed(ONE * 3)), 3.0);
    }

    #[test]
    fn standardises_appends_the_bias_and_refuses_bad_shapes() {
        let records = vec![vec![1.0, 5.0], vec![3.0, 5.0]];
        let data = standardise(&records, &[true, false]).unwrap();
        assert_eq!(data.dimension(), 3);
        let (row, label) = data.row(0).unwrap();
        assert_eq!(row, &[Fixed(-ONE), Fixed(0), Fixed::ONE]);
        assert!(label);
        assert_eq!(data.row(1).unwrap().0[0], Fixed::ONE);
        assert_eq!(standardise(&[], &[]), Err(FlError::BadDataset));
        assert_eq!(standardise(&[vec![1.0], vec![]], &[true, true]), Err(FlError::BadDataset));
        assert_eq!(standardise(&[vec![1.0]], &[]), Err(FlError::BadDataset));
        assert!(standardise(&[vec![f64::NAN], vec![1.0]], &[true, true]).is_err());
    }

    /// The core's table sigmoid against the real one (the core checks symmetry and order).
    #[test]
    fn the_core_sigmoid_is_close_to_the_real_one() {
        for raw in (-12 * ONE..=12 * ONE).step_by(997) {
            let z = Fixed(raw);
            let got = to_f64(z.sigmoid());
            let want = 1.0 / (1.0 + (-to_f64(z)).exp());
            assert!((got - want).abs() < 5e-4, "σ({}) = {got} not {want}", to_f64(z));
        }
    }

    #[test]
    fn accuracy_is_the_correct_fraction() {
        let data = standardise(&[vec![-1.0], vec![1.0], vec![2.0]], &[false, true, false]).unwrap();
        // w = (1, 0): predicts positive for x >= 0, so 2 of 3 are right.
        let weights = [Fixed::ONE, Fixed::ZERO];
        assert!((accuracy(&weights, &data).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }
}
