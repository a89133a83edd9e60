//! The exact binomial test, for proportions whose expected count of successes (or of failures)
//! is small. There the score test's normal tail is far too thin: 7 of 38 against p₀ = 0.047
//! (n·p₀ ≈ 1.8) has a score-test p of 7·10⁻⁵ but an exact one of 3.5·10⁻³, so a true reference
//! would be rejected by chance far more often than the gate's 5% allows.
//!
//! The p-value is the doubled smaller tail, `min(1, 2·min(P(X ≤ x), P(X ≥ x)))` for
//! `X ~ Binomial(n, p₀)`: the test whose acceptance region is the Clopper–Pearson interval. It is
//! conservative (its size never exceeds the nominal level), which is what a gate that must not
//! fail on luck wants. Probabilities are summed in log space term by term, so n in the millions
//! is fine.

use crate::reference::ln_gamma;

/// Below this many expected successes or failures the gate uses the exact test; at and above,
/// the score test (whose acceptance region is the Wilson interval the report shows).
pub const EXPECTED_COUNT_EXACT_BELOW: f64 = 10.0;

/// Two-sided exact p-value of `successes` in `trials` against `p₀ = reference`, for a reference
/// strictly inside (0, 1) and `successes ≤ trials`; 1 for any other input (no evidence).
pub fn exact_two_sided_p(successes: u64, trials: u64, reference: f64) -> f64 {
    if trials == 0 || successes > trials || !(reference > 0.0 && reference < 1.0) {
        return 1.0;
    }
    let n = trials as f64;
    let (ln_p, ln_q) = (reference.ln(), (1.0 - reference).ln());
    let ln_n_factorial = ln_gamma(n + 1.0);
    let probability = |k: u64| {
        let k = k as f64;
        (ln_n_factorial - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0) + k * ln_p + (n - k) * ln_q)
            .exp()
    };
    let lower: f64 = (0..=successes).map(probability).sum();
    let upper: f64 = (successes..=trials).map(probability).sum();
    (2.0 * lower.min(upper)).clamp(0.0, 1.0)
}

/// Whether a proportion against `reference` over `trials` is judged by the exact test.
pub fn wants_exact(trials: u64, reference: f64) -> bool {
    let n = trials as f64;
    (n * reference).min(n * (1.0 - reference)) < EXPECTED_COUNT_EXACT_BELOW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.max(1e-12)
    }

    /// Against sums of exact rational terms (Python's `math.comb`, doubled smaller tail).
    #[test]
    fn matches_exact_sums() {
        for (successes, trials, reference, want) in [
            (7, 38, 0.047, 0.003_529_700_063_823_393),
            (8, 40, 0.05, 0.001_423_016_876_135_122),
            (0, 10, 0.1, 0.697_356_880_2),
            (1, 200, 0.02, 0.178_750_967_543_863_44),
        ] {
            let got = exact_two_sided_p(successes, trials, reference);
            assert!(close(got, want), "{successes}/{trials} vs {reference}: {got} not {want}");
        }
        assert_eq!(exact_two_sided_p(2, 40, 0.05), 1.0, "the modal count");
    }

    #[test]
    fn degenerate_inputs_give_no_evidence() {
        assert_eq!(exact_two_sided_p(0, 0, 0.5), 1.0);
        assert_eq!(exact_two_sided_p(5, 4, 0.5), 1.0);
        assert_eq!(exact_two_sided_p(1, 4, 0.0), 1.0);
        assert_eq!(exact_two_sided_p(1, 4, f64::NAN), 1.0);
    }

    /// The size never exceeds the level: over every outcome, the probability of a p ≤ 0.05
    /// under the reference is at most 0.05.
    #[test]
    fn is_conservative_at_five_percent() {
        for (trials, reference) in [(38, 0.047), (40, 0.05), (200, 0.02), (25, 0.3), (60, 0.9)] {
            let size: f64 = (0..=trials)
                .filter(|&k| exact_two_sided_p(k, trials, reference) <= 0.05)
                .map(|k| {
                    let n = trials as f64;
                    let k = k as f64;
                    (ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
                        + k * reference.ln()
                        + (n - k) * (1.0 - reference).ln())
                    .exp()
                })
                .sum();
            assert!(size <= 0.05 + 1e-12, "n {trials}, p0 {reference}: size {size}");
        }
    }
}
