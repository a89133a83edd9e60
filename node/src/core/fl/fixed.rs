//! Fixed-point numbers for everything that reaches an aggregate or a hash: weights, gradients,
//! updates. A value is an `i64` holding `x · 2^16` (Q47.16). Integer arithmetic is the same on
//! every machine and under every compiler flag, so every participant computes the same update
//! and every verifier the same aggregate, bit for bit. The core has no float conversion at all:
//! the lab (`vein-fl-lab`) converts a raw data set once and reports accuracy.
//!
//! Overflow is never silent: `checked_*` return [`FlError::Overflow`] naming the operation, and
//! products are formed in `i128` before rescaling. Rescaling floors (arithmetic shift), which is
//! deterministic; the bias it introduces (< 2^-16 per product) is far below the model's noise.

use super::error::FlError;
use serde::{Deserialize, Serialize};

/// Fractional bits.
pub const FRACTION_BITS: u32 = 16;
/// The raw value of 1.0.
pub const ONE: i64 = 1 << FRACTION_BITS;

/// A Q47.16 fixed-point number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fixed(pub i64);

impl Fixed {
    /// 0.0.
    pub const ZERO: Fixed = Fixed(0);
    /// 1.0 (raw value `2^16`).
    pub const ONE: Fixed = Fixed(ONE);

    /// `self + other`, or `Overflow` naming `add`.
    pub fn checked_add(self, other: Fixed) -> Result<Fixed, FlError> {
        self.0.checked_add(other.0).map(Fixed).ok_or(FlError::Overflow { operation: "add" })
    }

    /// `self - other`, or `Overflow` naming `sub`.
    pub fn checked_sub(self, other: Fixed) -> Result<Fixed, FlError> {
        self.0.checked_sub(other.0).map(Fixed).ok_or(FlError::Overflow { operation: "sub" })
    }

    /// `self · other`, floored to the grid.
    pub fn checked_mul(self, other: Fixed) -> Result<Fixed, FlError> {
        let product = i128::from(self.0) * i128::from(other.0);
        i64::try_from(product >> FRACTION_BITS)
            .map(Fixed)
            .map_err(|_| FlError::Overflow { operation: "mul" })
    }

    /// The logistic function, from a table of σ(k/8) for k = 0..=64 (rounded once, offline)
    /// with linear interpolation: at most ~2·10^-4 from the real σ, and the same integers
    /// everywhere. Symmetric: σ(−z) = 1 − σ(z); beyond |z| = 8 it holds the table's end.
    pub fn sigmoid(self) -> Fixed {
        let magnitude = self.0.unsigned_abs();
        // Table step 1/8 = 2^13 raw units.
        const STEP_BITS: u32 = FRACTION_BITS - 3;
        let index = magnitude >> STEP_BITS;
        let positive = if index >= (SIGMOID_TABLE.len() - 1) as u64 {
            SIGMOID_TABLE[SIGMOID_TABLE.len() - 1]
        } else {
            let index = index as usize;
            let low = SIGMOID_TABLE[index];
            let high = SIGMOID_TABLE[index + 1];
            let fraction = (magnitude & ((1 << STEP_BITS) - 1)) as i64;
            low + (((high - low) * fraction) >> STEP_BITS)
        };
        debug_assert!((ONE / 2..=ONE).contains(&positive));
        if self.0 < 0 { Fixed(ONE - positive) } else { Fixed(positive) }
    }
}

/// σ(k/8)·2^16 for k = 0..=64, rounded.
const SIGMOID_TABLE: [i64; 65] = [
    32768, 34813, 36843, 38841, 40793, 42687, 44511, 46254, 47911, 49474, 50941, 52310, 53581,
    54754, 55834, 56822, 57724, 58544, 59287, 59959, 60565, 61109, 61598, 62036, 62428, 62778,
    63090, 63368, 63615, 63835, 64030, 64203, 64357, 64494, 64614, 64721, 64816, 64900, 64974,
    65039, 65097, 65149, 65194, 65234, 65269, 65300, 65328, 65352, 65374, 65393, 65410, 65425,
    65438, 65449, 65459, 65468, 65476, 65483, 65489, 65495, 65500, 65504, 65508, 65511, 65514,
];

/// `Σ a_i · b_i` over two equal-length slices, accumulated in i128 and rescaled once (one
/// rounding per dot product, not per term).
pub fn dot(a: &[Fixed], b: &[Fixed]) -> Result<Fixed, FlError> {
    if a.len() != b.len() {
        return Err(FlError::WrongDimension { expected: a.len(), got: b.len() });
    }
    let mut sum: i128 = 0;
    for (x, y) in a.iter().zip(b) {
        sum = sum
            .checked_add(i128::from(x.0) * i128::from(y.0))
            .ok_or(FlError::Overflow { operation: "dot" })?;
    }
    i64::try_from(sum >> FRACTION_BITS)
        .map(Fixed)
        .map_err(|_| FlError::Overflow { operation: "dot" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_on_the_grid_and_overflow_is_an_error() {
        let half = Fixed(ONE / 2);
        assert_eq!(half.checked_mul(half), Ok(Fixed(ONE / 4)));
        assert_eq!(Fixed(-ONE).checked_mul(Fixed(3 * ONE)), Ok(Fixed(-3 * ONE)));
        // Flooring: -1 raw · 0.5 = -0.5 raw floors to -1.
        assert_eq!(Fixed(-1).checked_mul(half), Ok(Fixed(-1)));
        assert_eq!(
            Fixed(i64::MAX).checked_add(Fixed(1)),
            Err(FlError::Overflow { operation: "add" })
        );
        assert_eq!(
            Fixed(i64::MIN).checked_sub(Fixed(1)),
            Err(FlError::Overflow { operation: "sub" })
        );
        assert_eq!(
            Fixed(i64::MAX).checked_mul(Fixed(2 * ONE)),
            Err(FlError::Overflow { operation: "mul" })
        );
        assert_eq!(dot(&[half, Fixed(ONE)], &[Fixed(2 * ONE), Fixed(3 * ONE)]), Ok(Fixed(4 * ONE)));
        assert!(matches!(dot(&[half], &[]), Err(FlError::WrongDimension { expected: 1, got: 0 })));
    }

    /// Closeness to the real σ is checked in floating point where floats belong, in the lab
    /// (`vein_fl_lab::convert`); here, what integers can say.
    #[test]
    fn sigmoid_is_symmetric_and_monotone() {
        let mut previous = Fixed(0);
        for raw in (-12 * ONE..=12 * ONE).step_by(997) {
            let got = Fixed(raw).sigmoid();
            assert_eq!(got.0 + Fixed(-raw).sigmoid().0, ONE, "symmetry at {raw}");
            assert!(got >= previous);
            previous = got;
        }
        assert_eq!(Fixed(0).sigmoid(), Fixed(ONE / 2));
        assert_eq!(Fixed(i64::MIN).sigmoid().0, ONE - 65514);
    }
}
