//! The statistical gate: a family-wise error-controlled verdict over many comparisons.
//!
//! Model: a report holds `m` judged comparisons, each a measurement beside the reference it
//! should match. Judging each one at 95% (reference inside the interval) lets about one in twenty
//! of the true ones fail by chance, so a suite of 140 comparisons would fail on luck nearly every
//! run. The gate instead gives each comparison a two-sided p-value for "the reference is the true
//! value", from the same estimator its interval uses, and applies Holm's step-down procedure
//! (Holm 1979, Scand. J. Statist. 6:65–70) at family-wise level [`FAMILY_WISE_ALPHA`]: sort the
//! p-values ascending, reject the i-th smallest while `p_(i) ≤ α / (m − i + 1)`, and stop at the
//! first that is not. Whatever the dependence between comparisons, the probability that any true
//! reference is rejected is at most `α`, so a suite run fails on chance at most one time in twenty.
//!
//! The p-values invert the intervals exactly, so a single comparison (`m = 1`) rejects precisely
//! when its reference lies outside the 95% interval:
//! - a proportion (Wilson score interval) gets the score test's
//!   `p = 2·(1 − Φ(|p̂ − p₀| / √(p₀(1 − p₀)/n)))`; at `p₀ ∈ {0, 1}` an outcome the reference
//!   forbids has `p = 0` and any other `p = 1`. Where fewer than ten successes or failures are
//!   expected (`n·min(p₀, 1 − p₀) < 10`) the normal tail is too thin and the exact binomial test
//!   replaces it (`binomial`; its acceptance region is the Clopper–Pearson interval, so there
//!   a reference just outside the Wilson interval may still pass);
//! - a mean of samples (Student-t interval) gets the one-sample t test's
//!   `p = I_{ν/(ν+t²)}(ν/2, 1/2)`, `ν = n − 1`; with zero spread, `p = 1` if the mean equals the
//!   reference and `0` otherwise.
//!
//! Everything is a pure function of the measurements: the same report gives the same decisions.

use serde::{Deserialize, Serialize};

use crate::binomial;
use crate::metrics::{Measurement, MeasurementData};
use crate::reference::{ln_gamma, regularized_incomplete_beta};

/// Family-wise error rate the gate controls: the chance that a run in which every reference is
/// true fails at all.
pub const FAMILY_WISE_ALPHA: f64 = 0.05;

/// The gate's decision for one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    /// Two-sided p-value of "the reference is the true value" (score test or t test).
    pub p_value: f64,
    /// 1 for the smallest p-value of the report, `m` for the largest (ties by report order).
    pub rank: u64,
    /// Holm's threshold at this rank, `α / (m − rank + 1)`.
    pub holm_threshold: f64,
    /// Holm-adjusted p-value, `max_{j ≤ rank} min(1, (m − j + 1)·p_(j))`; rejected iff `≤ α`.
    pub p_adjusted: f64,
    /// Whether the gate rejects the reference (the report then fails).
    pub rejected: bool,
}

/// The gate over a whole report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateSummary {
    /// Family-wise error rate controlled.
    pub alpha: f64,
    /// Judged comparisons (measurements with a reference), `m`.
    pub comparisons: u64,
    /// Comparisons whose reference the gate rejects.
    pub rejected: u64,
    /// Comparisons whose reference lies outside its raw 95% interval (shown, not gating).
    pub outside_raw_interval: u64,
}

impl Default for GateSummary {
    /// An empty gate (nothing judged), as read from a report written before the gate existed.
    fn default() -> Self {
        Self { alpha: FAMILY_WISE_ALPHA, comparisons: 0, rejected: 0, outside_raw_interval: 0 }
    }
}

/// Environment variable of the test-only bias knob, `SCENARIO:RELATIVE` (e.g. `tips:0.05`).
pub const INJECTED_BIAS_VARIABLE: &str = "VEIN_TEST_INJECT_BIAS";

/// A test-only knob: multiply one scenario's pooled estimates by `1 + relative` before the gate
/// judges them, to measure the gate's power against a known bias. Never set it for a real run;
/// the report names it in its facts when it is set.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedBias {
    /// Scenario name (`RunMetrics::scenario`) whose estimates are biased; others are untouched.
    pub scenario: String,
    /// Relative bias in `(-1, 10]`: `0.05` scales the pooled successes (rounded, at most the
    /// trials) or sample values by 1.05.
    pub relative: f64,
}

/// A malformed bias specification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InjectedBiasError {
    /// No `:`, an empty scenario name, or a bias that is not a number.
    #[error("{INJECTED_BIAS_VARIABLE}={spec:?}: expected SCENARIO:RELATIVE, e.g. tips:0.05")]
    Syntax {
        /// The variable's value as set.
        spec: String,
    },
    /// The bias is not finite, is at most -1 (it would zero or flip an estimate) or above 10.
    #[error("{INJECTED_BIAS_VARIABLE}={spec:?}: relative bias {relative} must lie in (-1, 10]")]
    OutOfRange {
        /// The variable's value as set.
        spec: String,
        /// The parsed relative bias.
        relative: f64,
    },
}

impl InjectedBias {
    /// Parses `SCENARIO:RELATIVE`.
    pub fn parse(spec: &str) -> Result<Self, InjectedBiasError> {
        let syntax = || InjectedBiasError::Syntax { spec: spec.into() };
        let (scenario, relative) = spec.rsplit_once(':').ok_or_else(syntax)?;
        let relative: f64 = relative.trim().parse().map_err(|_| syntax())?;
        if scenario.trim().is_empty() {
            return Err(syntax());
        }
        if !(relative.is_finite() && relative > -1.0 && relative <= 10.0) {
            return Err(InjectedBiasError::OutOfRange { spec: spec.into(), relative });
        }
        Ok(Self { scenario: scenario.trim().into(), relative })
    }

    /// The knob from [`INJECTED_BIAS_VARIABLE`]; `None` when unset or empty.
    pub fn from_environment() -> Result<Option<Self>, InjectedBiasError> {
        match std::env::var(INJECTED_BIAS_VARIABLE) {
            Ok(spec) if !spec.trim().is_empty() => Self::parse(&spec).map(Some),
            _ => Ok(None),
        }
    }

    /// Pooled data with the estimate scaled by `1 + relative`: samples scale one by one; a
    /// proportion's successes scale and round (on the pooled count, so small chunks do not round
    /// the bias away), capped at the trials.
    pub fn apply(&self, data: MeasurementData) -> MeasurementData {
        let factor = 1.0 + self.relative;
        match data {
            MeasurementData::Proportion { successes, trials } => {
                let scaled = (successes as f64 * factor).round().clamp(0.0, trials as f64) as u64;
                MeasurementData::Proportion { successes: scaled, trials }
            }
            MeasurementData::Samples { values } => MeasurementData::Samples {
                values: values.into_iter().map(|v| v * factor).collect(),
            },
        }
    }
}

/// Standard normal two-sided tail `P(|Z| ≥ z) = erfc(z/√2) = Q(1/2, z²/2)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    upper_regularized_gamma_half(z * z / 2.0)
}

/// `Q(1/2, x)` by the series of `P` below `x < 1.5` and Lentz's continued fraction above
/// (Numerical Recipes §6.2), accurate to ~1e-15 relative.
fn upper_regularized_gamma_half(x: f64) -> f64 {
    const A: f64 = 0.5;
    const EPSILON: f64 = 1e-16;
    const ITERATIONS_MAX: u32 = 10_000;
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let ln_front = -x + A * x.ln() - ln_gamma(A);
    if x < A + 1.0 {
        let (mut term, mut sum, mut denominator) = (1.0 / A, 1.0 / A, A);
        for _ in 0..ITERATIONS_MAX {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        return (1.0 - sum * ln_front.exp()).clamp(0.0, 1.0);
    }
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - A;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut fraction = d;
    for i in 1..=ITERATIONS_MAX {
        let i = f64::from(i);
        let an = -i * (i - A);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    (ln_front.exp() * fraction).clamp(0.0, 1.0)
}

/// Two-sided Student-t tail `P(|T_ν| ≥ t) = I_{ν/(ν+t²)}(ν/2, 1/2)`.
pub fn student_t_two_sided_p(t: f64, degrees_of_freedom: u64) -> f64 {
    if degrees_of_freedom == 0 || t.is_nan() {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let nu = degrees_of_freedom as f64;
    let x = nu / (nu + t * t);
    // x ∈ (0, 1] always, so the domain check cannot fail; 1.0 (no evidence) if it ever did.
    regularized_incomplete_beta(x, nu / 2.0, 0.5).map_or(1.0, |p| p.clamp(0.0, 1.0))
}

/// The two-sided p-value of a measurement against its judged reference; `None` without one.
pub fn p_value(measurement: &Measurement) -> Option<f64> {
    let reference = measurement.reference.as_ref()?.value;
    Some(match &measurement.data {
        MeasurementData::Proportion { successes, trials } => {
            proportion_p_value(*successes, *trials, reference)
        }
        MeasurementData::Samples { values } => mean_p_value(values, reference),
    })
}

/// Test of `p₀ = reference`: the score test (whose acceptance region is the Wilson interval),
/// or the exact binomial test when fewer than ten successes or failures are expected, where the
/// score test's normal tail is too thin (`binomial`).
fn proportion_p_value(successes: u64, trials: u64, reference: f64) -> f64 {
    if trials == 0 {
        return 1.0;
    }
    let n = trials as f64;
    let estimate = successes as f64 / n;
    let variance = reference * (1.0 - reference) / n;
    if variance <= 0.0 || !variance.is_finite() {
        // A reference of 0 or 1 (or outside [0, 1]) forbids every other outcome.
        return if estimate == reference { 1.0 } else { 0.0 };
    }
    if binomial::wants_exact(trials, reference) {
        return binomial::exact_two_sided_p(successes, trials, reference);
    }
    normal_two_sided_p((estimate - reference).abs() / variance.sqrt())
}

/// One-sample t test of `mean = reference`: the test whose acceptance region is the t interval.
fn mean_p_value(values: &[f64], reference: f64) -> f64 {
    let n = values.len();
    if n < 2 || values.iter().any(|value| !value.is_finite()) {
        return 1.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let squares: f64 = values.iter().map(|value| (value - mean) * (value - mean)).sum();
    let standard_error = (squares / (n - 1) as f64 / n as f64).sqrt();
    if standard_error == 0.0 {
        return if mean == reference { 1.0 } else { 0.0 };
    }
    student_t_two_sided_p((mean - reference) / standard_error, n as u64 - 1)
}

/// Holm's step-down procedure at level `alpha` over `p_values` (in report order); one decision
/// per input, in the same order.
pub fn holm(p_values: &[f64], alpha: f64) -> Vec<GateDecision> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    // A stable sort on the total order: ties keep report order, so decisions are deterministic.
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]));
    let mut decisions = vec![
        GateDecision {
            p_value: 1.0,
            rank: 0,
            holm_threshold: alpha,
            p_adjusted: 1.0,
            rejected: false
        };
        m
    ];
    let (mut running_max, mut still_rejecting) = (0.0f64, true);
    for (position, index) in order.iter().enumerate() {
        let p = p_values[*index];
        let remaining = (m - position) as f64;
        running_max = running_max.max((remaining * p).min(1.0));
        let threshold = alpha / remaining;
        still_rejecting = still_rejecting && p <= threshold;
        decisions[*index] = GateDecision {
            p_value: p,
            rank: position as u64 + 1,
            holm_threshold: threshold,
            p_adjusted: running_max,
            rejected: still_rejecting,
        };
        debug_assert!(still_rejecting == (running_max <= alpha));
    }
    decisions
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::Reference;
    use crate::stats::Z_95;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn normal_tail_matches_published_values() {
        // Values of erfc(z/√2) from Python's math.erfc (Cody's rational approximations).
        assert!(close(normal_two_sided_p(0.0), 1.0, 1e-15));
        assert!(close(normal_two_sided_p(Z_95), 0.05, 1e-12));
        assert!(close(normal_two_sided_p(1.0), 0.317_310_507_862_914_1, 1e-13));
        assert!(close(normal_two_sided_p(3.0), 0.002_699_796_063_260_19, 1e-15));
        let six = normal_two_sided_p(6.0);
        assert!(close(six / 1.973_175_290_075_402_4e-9, 1.0, 1e-10), "{six:e}");
    }

    #[test]
    fn student_tail_matches_published_values() {
        // t_{0.975, 4} = 2.776445 and t_{0.975, 30} = 2.042272 (the interval's own table).
        assert!(close(student_t_two_sided_p(2.776_445, 4), 0.05, 1e-6));
        assert!(close(student_t_two_sided_p(2.042_272, 30), 0.05, 1e-6));
        // ν = 1 is Cauchy: P(|T| ≥ 1) = 1/2.
        assert!(close(student_t_two_sided_p(1.0, 1), 0.5, 1e-12));
    }

    /// Holm's procedure on p-values whose decisions are worked out by hand: m = 5, α = 0.05,
    /// thresholds 0.01, 0.0125, 0.01667, 0.025, 0.05.
    #[test]
    fn holm_rejects_step_down_and_stops_at_the_first_acceptance() {
        let decisions = holm(&[0.04, 0.005, 0.011, 0.03, 0.012], 0.05);
        let rejected: Vec<bool> = decisions.iter().map(|d| d.rejected).collect();
        // Sorted: 0.005 ≤ 0.01 yes, 0.011 ≤ 0.0125 yes, 0.012 ≤ 0.01667 yes, 0.03 > 0.025 stop.
        assert_eq!(rejected, [false, true, true, false, true]);
        let ranks: Vec<u64> = decisions.iter().map(|d| d.rank).collect();
        assert_eq!(ranks, [5, 1, 2, 4, 3]);
        assert!(close(decisions[3].holm_threshold, 0.025, 1e-15));
        // Adjusted: 5·0.005, 4·0.011, 3·0.012, 2·0.03, max(0.06, 0.04).
        let adjusted: Vec<f64> = decisions.iter().map(|d| d.p_adjusted).collect();
        for (got, want) in adjusted.iter().zip([0.06, 0.025, 0.044, 0.06, 0.044]) {
            assert!(close(*got, want, 1e-12), "{adjusted:?}");
        }
        // Input order does not matter; a run of p-values just above their thresholds passes.
        assert!(holm(&[0.2, 0.001], 0.05).iter().map(|d| d.rejected).eq([false, true]));
        assert!(holm(&[0.03, 0.04], 0.05).iter().all(|d| !d.rejected));
        assert!(holm(&[], 0.05).is_empty());
    }

    fn proportion(successes: u64, trials: u64, reference: f64) -> Measurement {
        let reference = Some(Reference::new(reference, "r", "test"));
        Measurement::proportion("x", BTreeMap::new(), successes, trials, reference).expect("valid")
    }

    /// One comparison alone: the gate rejects exactly when the reference is outside the 95%
    /// interval, because each p-value inverts its interval.
    #[test]
    fn a_single_comparison_rejects_exactly_outside_its_interval() {
        for (successes, trials) in [(81, 263), (3, 40), (120, 200), (0, 10), (10, 10)] {
            for step in 0..=200 {
                let reference = f64::from(step) / 200.0;
                if binomial::wants_exact(trials, reference) && reference > 0.0 && reference < 1.0 {
                    continue;
                }
                let measurement = proportion(successes, trials, reference);
                let p = p_value(&measurement).expect("judged");
                let rejected = holm(&[p], FAMILY_WISE_ALPHA)[0].rejected;
                let inside = measurement.reference_inside_ci == Some(true);
                // Exactly on the boundary the two may round apart; skip a 1e-9 band.
                if (p - FAMILY_WISE_ALPHA).abs() > 1e-9 {
                    assert_eq!(rejected, !inside, "{successes}/{trials} vs {reference}: p {p}");
                }
            }
        }
        let samples = [1.0, 2.0, 3.0, 4.0, 5.0];
        for step in 0..=80 {
            let reference = f64::from(step) / 10.0;
            let measurement = Measurement::mean_of(
                "y",
                BTreeMap::new(),
                samples.to_vec(),
                Some(Reference::new(reference, "r", "test")),
            )
            .expect("valid");
            let p = p_value(&measurement).expect("judged");
            if (p - FAMILY_WISE_ALPHA).abs() > 1e-6 {
                let inside = measurement.reference_inside_ci == Some(true);
                assert_eq!(p > FAMILY_WISE_ALPHA, inside, "mean 3 vs {reference}: p {p}");
            }
        }
    }

    /// Few expected successes: the exact test, not the score test, so the network-split point
    /// that failed a suite run on chance (7 of 38 against 0.047, score p 7·10⁻⁵) passes Holm.
    #[test]
    fn small_expected_counts_use_the_exact_test() {
        let p = p_value(&proportion(7, 38, 0.047)).expect("judged");
        assert!(close(p, 0.003_529_700_063_823_393, 1e-12), "{p}");
        let score = normal_two_sided_p((7.0 / 38.0 - 0.047) / (0.047 * 0.953f64 / 38.0).sqrt());
        assert!(score < 1e-4 && p > 30.0 * score);
        let many = vec![0.5; 65].into_iter().chain([p]).collect::<Vec<_>>();
        assert!(!holm(&many, FAMILY_WISE_ALPHA)[65].rejected);
        // Enough expected successes: the score test, as before.
        let large = p_value(&proportion(81, 263, 0.3)).expect("judged");
        let z = (81.0 / 263.0 - 0.3) / (0.3 * 0.7f64 / 263.0).sqrt();
        assert!(close(large, normal_two_sided_p(z), 1e-15));
    }

    #[test]
    fn degenerate_references_forbid_other_outcomes() {
        assert_eq!(p_value(&proportion(10, 10, 1.0)), Some(1.0));
        assert_eq!(p_value(&proportion(9, 10, 1.0)), Some(0.0));
        assert_eq!(p_value(&proportion(0, 10, 0.0)), Some(1.0));
        let constant = |value: f64, reference: f64| {
            let reference = Some(Reference::new(reference, "r", "test"));
            let m = Measurement::mean_of("z", BTreeMap::new(), vec![value; 4], reference);
            p_value(&m.expect("valid"))
        };
        assert_eq!(constant(0.0, 0.0), Some(1.0));
        assert_eq!(constant(0.5, 0.0), Some(0.0));
        let unjudged = Measurement::proportion("u", BTreeMap::new(), 1, 2, None).expect("valid");
        assert_eq!(p_value(&unjudged), None);
    }

    #[test]
    fn injected_bias_parses_and_scales_pooled_data() {
        let bias = InjectedBias::parse("tips:0.05").expect("valid");
        assert_eq!(bias, InjectedBias { scenario: "tips".into(), relative: 0.05 });
        assert!(InjectedBias::parse("tips").is_err());
        assert!(InjectedBias::parse(":0.1").is_err());
        assert!(InjectedBias::parse("tips:-1").is_err());
        assert!(InjectedBias::parse("tips:x").is_err());
        let proportion = MeasurementData::Proportion { successes: 300, trials: 1000 };
        assert_eq!(
            bias.apply(proportion),
            MeasurementData::Proportion { successes: 315, trials: 1000 }
        );
        let full = MeasurementData::Proportion { successes: 990, trials: 1000 };
        assert_eq!(bias.apply(full), MeasurementData::Proportion { successes: 1000, trials: 1000 });
        let samples = MeasurementData::Samples { values: vec![10.0, 20.0] };
        assert_eq!(bias.apply(samples), MeasurementData::Samples { values: vec![10.5, 21.0] });
    }
}
