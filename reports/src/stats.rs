//! Small, pure statistics used to put a simulated figure beside its analytic reference.
//!
//! Model: every simulated metric is either a **proportion** (successes out of independent trials,
//! e.g. "double spend succeeded" or "checkpoint won by the attacker") or a **sample** of real
//! values
//! (checkpoint intervals, latencies). Proportions get a Wilson score interval because the normal
//! ("Wald") interval collapses to zero width at 0 or n successes and undercovers for small `n`,
//! which is exactly where attack probabilities live (e.g. 1 success in 2,000 races). Means get a
//! Student-t interval, which is exact for normal data and conservative-enough for the sample sizes
//! we run. Everything here is deterministic: same input, same output, bit for bit; no randomness
//! and no iteration over unordered containers.

use thiserror::Error;

/// Two-sided 95% standard normal quantile, `Φ⁻¹(0.975)`.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Errors from the statistics helpers; each names the offending input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// The sample is smaller than the statistic needs (1 for a mean, 2 for a variance).
    #[error("empty sample: {what} needs at least {needed} value(s)")]
    TooFewSamples {
        /// The statistic, e.g. `"sample variance"`.
        what: &'static str,
        /// Smallest sample size it accepts.
        needed: usize,
    },
    /// Zero trials, or more successes than trials.
    #[error("invalid proportion: {successes} successes out of {trials} trials")]
    InvalidProportion {
        /// Successes given.
        successes: u64,
        /// Trials given.
        trials: u64,
    },
    /// A sample holds NaN or an infinity.
    #[error("non-finite value {value} at index {index} in {what}")]
    NonFinite {
        /// The statistic that was given the sample.
        what: &'static str,
        /// 0-based index of the first non-finite value.
        index: usize,
        /// That value.
        value: f64,
    },
    /// Zero bins, a non-finite bound, or `low >= high`.
    #[error("invalid histogram: low {low}, high {high}, bins {bins}")]
    InvalidHistogram {
        /// Lower bound given.
        low: f64,
        /// Upper bound given.
        high: f64,
        /// Number of bins given.
        bins: usize,
    },
    /// The sample's mean is 0, so `s / x̄` has no value.
    #[error("coefficient of variation undefined: mean is {mean}")]
    ZeroMean {
        /// The mean (0).
        mean: f64,
    },
    /// A quantile was asked at a level outside `[0, 1]` (or NaN).
    #[error("quantile level {level} outside [0, 1]")]
    InvalidQuantile {
        /// The level given.
        level: f64,
    },
}

/// A point estimate with a two-sided 95% confidence interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    /// The point estimate: the sample mean, or `k/n` for a proportion (not the Wilson centre).
    pub estimate: f64,
    /// Lower bound of the 95% interval.
    pub low: f64,
    /// Upper bound of the 95% interval.
    pub high: f64,
}

impl ConfidenceInterval {
    /// Whether `value` lies inside the closed interval.
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

fn check_finite(what: &'static str, samples: &[f64]) -> Result<(), StatsError> {
    match samples.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { what, index, value: samples[index] }),
        None => Ok(()),
    }
}

/// Wilson score interval at 95% for `successes` out of `trials` independent Bernoulli trials.
///
/// `p̂ = k/n`; centre `(p̂ + z²/2n) / (1 + z²/n)`; half-width
/// `z·sqrt(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n)`. Wilson (1927), JASA 22:209–212.
pub fn wilson_interval(successes: u64, trials: u64) -> Result<ConfidenceInterval, StatsError> {
    if trials == 0 || successes > trials {
        return Err(StatsError::InvalidProportion { successes, trials });
    }
    let n = trials as f64;
    let p_hat = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p_hat + z2 / (2.0 * n)) / denominator;
    let half_width = Z_95 * (p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // In exact arithmetic the interval lies inside [0, 1], contains p̂, and touches 0 at k = 0
    // and 1 at k = n; rounding can miss each by an ulp, so restore those facts explicitly.
    let low = if successes == 0 { 0.0 } else { (centre - half_width).clamp(0.0, p_hat) };
    let high = if successes == trials { 1.0 } else { (centre + half_width).clamp(p_hat, 1.0) };
    debug_assert!(low <= p_hat && p_hat <= high);
    Ok(ConfidenceInterval { estimate: p_hat, low, high })
}

/// Arithmetic mean.
pub fn mean(samples: &[f64]) -> Result<f64, StatsError> {
    if samples.is_empty() {
        return Err(StatsError::TooFewSamples { what: "mean", needed: 1 });
    }
    check_finite("mean", samples)?;
    Ok(samples.iter().sum::<f64>() / samples.len() as f64)
}

/// Unbiased sample variance (divisor `n − 1`).
pub fn sample_variance(samples: &[f64]) -> Result<f64, StatsError> {
    if samples.len() < 2 {
        return Err(StatsError::TooFewSamples { what: "sample variance", needed: 2 });
    }
    let centre = mean(samples)?;
    let squares: f64 = samples.iter().map(|value| (value - centre) * (value - centre)).sum();
    Ok(squares / (samples.len() - 1) as f64)
}

/// Two-sided 95% quantile of Student's t with `degrees_of_freedom` (`t_{0.975, ν}`).
///
/// Exact table values for ν ≤ 30 (rounded to 6 digits); above that the Cornish–Fisher expansion
/// around the normal quantile, whose error is below 1e-5 there. `ν = 0` returns infinity.
pub fn student_t_975(degrees_of_freedom: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
        2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
        2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
        2.048407, 2.045230, 2.042272,
    ];
    match degrees_of_freedom {
        0 => f64::INFINITY,
        1..=30 => TABLE[(degrees_of_freedom - 1) as usize],
        _ => {
            let z = Z_95;
            let nu = degrees_of_freedom as f64;
            let z3 = z.powi(3);
            let z5 = z.powi(5);
            let z7 = z.powi(7);
            z + (z3 + z) / (4.0 * nu)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * nu.powi(3))
        }
    }
}

/// Mean with a 95% Student-t interval `x̄ ± t_{0.975,n−1} · s/√n`.
pub fn mean_interval(samples: &[f64]) -> Result<ConfidenceInterval, StatsError> {
    let centre = mean(samples)?;
    let variance = sample_variance(samples)?;
    let n = samples.len() as f64;
    let half_width = student_t_975(samples.len() as u64 - 1) * (variance / n).sqrt();
    Ok(ConfidenceInterval { estimate: centre, low: centre - half_width, high: centre + half_width })
}

/// Coefficient of variation `s / x̄` (sample standard deviation over mean). Exponential
/// inter-arrival times have CV = 1, which is the baseline check of scenario 1.
pub fn coefficient_of_variation(samples: &[f64]) -> Result<f64, StatsError> {
    let centre = mean(samples)?;
    if centre == 0.0 {
        return Err(StatsError::ZeroMean { mean: centre });
    }
    Ok(sample_variance(samples)?.sqrt() / centre.abs())
}

/// Empirical cumulative distribution function of a finite sample.
#[derive(Debug, Clone, PartialEq)]
pub struct EmpiricalCdf {
    sorted: Vec<f64>,
}

impl EmpiricalCdf {
    /// Builds the ECDF; rejects empty or non-finite samples.
    pub fn new(samples: &[f64]) -> Result<Self, StatsError> {
        if samples.is_empty() {
            return Err(StatsError::TooFewSamples { what: "empirical CDF", needed: 1 });
        }
        check_finite("empirical CDF", samples)?;
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Ok(Self { sorted })
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: construction rejects empty samples.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The sorted observations.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// `F̂(x)` = fraction of observations `≤ x`.
    pub fn eval(&self, x: f64) -> f64 {
        let at_or_below = self.sorted.partition_point(|value| *value <= x);
        at_or_below as f64 / self.sorted.len() as f64
    }

    /// The lower empirical quantile: smallest observation `v` with `F̂(v) ≥ level`.
    pub fn quantile(&self, level: f64) -> Result<f64, StatsError> {
        if !(0.0..=1.0).contains(&level) {
            return Err(StatsError::InvalidQuantile { level });
        }
        let n = self.sorted.len();
        let rank = ((level * n as f64).ceil() as usize).clamp(1, n);
        Ok(self.sorted[rank - 1])
    }

    /// Step points `(x_i, i/n)` for plotting, one per observation in ascending order.
    pub fn steps(&self) -> Vec<(f64, f64)> {
        let n = self.sorted.len() as f64;
        self.sorted.iter().enumerate().map(|(i, x)| (*x, (i + 1) as f64 / n)).collect()
    }
}

/// Equal-width histogram over `[low, high)`; values outside are counted, not dropped silently.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub low: f64,
    /// Right edge of the last bin; a value equal to it is counted in the last bin.
    pub high: f64,
    /// Observations per bin, left to right; its length is the number of bins (at least 1).
    pub counts: Vec<u64>,
    /// Observations below `low`.
    pub underflow: u64,
    /// Observations above `high`.
    pub overflow: u64,
}

impl Histogram {
    /// Bins `samples` into `bins` equal-width bins over `[low, high)`; `high` itself goes to the
    /// last bin so that `Histogram::new(x, min, max, ..)` keeps every observation.
    pub fn new(samples: &[f64], low: f64, high: f64, bins: usize) -> Result<Self, StatsError> {
        if bins == 0 || !low.is_finite() || !high.is_finite() || low >= high {
            return Err(StatsError::InvalidHistogram { low, high, bins });
        }
        check_finite("histogram", samples)?;
        let mut histogram = Self { low, high, counts: vec![0; bins], underflow: 0, overflow: 0 };
        let width = histogram.bin_width();
        for value in samples {
            if *value < low {
                histogram.underflow += 1;
            } else if *value > high {
                histogram.overflow += 1;
            } else {
                let index = (((value - low) / width) as usize).min(bins - 1);
                histogram.counts[index] += 1;
            }
        }
        Ok(histogram)
    }

    /// Width of every bin.
    pub fn bin_width(&self) -> f64 {
        (self.high - self.low) / self.counts.len() as f64
    }

    /// Observations inside `[low, high]`.
    pub fn total_in_range(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(bin_low, bin_high, density)` per bin, normalised by *all* observations (including
    /// under/overflow) so that it is comparable with a probability density.
    pub fn densities(&self) -> Vec<(f64, f64, f64)> {
        let total = (self.total_in_range() + self.underflow + self.overflow) as f64;
        let width = self.bin_width();
        self.counts
            .iter()
            .enumerate()
            .map(|(i, count)| {
                let bin_low = self.low + i as f64 * width;
                let density = if total > 0.0 { *count as f64 / (total * width) } else { 0.0 };
                (bin_low, bin_low + width, density)
            })
            .collect()
    }
}

/// Two-sample Kolmogorov–Smirnov statistic `D = sup |F_a − F_b|`.
///
/// Used to compare the `RealPlots` and `ModelPlots` interval distributions (PROTOCOL.md §3).
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Result<f64, StatsError> {
    let cdf_a = EmpiricalCdf::new(a)?;
    let cdf_b = EmpiricalCdf::new(b)?;
    let (xs, ys) = (cdf_a.sorted(), cdf_b.sorted());
    let (n, m) = (xs.len() as f64, ys.len() as f64);
    let (mut i, mut j, mut distance) = (0usize, 0usize, 0.0f64);
    // Walk both sorted samples; evaluate after consuming every copy of the current value so that
    // ties across samples do not create a spurious gap.
    while i < xs.len() && j < ys.len() {
        let x = xs[i].min(ys[j]);
        while i < xs.len() && xs[i] <= x {
            i += 1;
        }
        while j < ys.len() && ys[j] <= x {
            j += 1;
        }
        distance = distance.max((i as f64 / n - j as f64 / m).abs());
    }
    Ok(distance)
}

/// Asymptotic 5% critical value for the two-sample KS test: `1.358 · sqrt((n + m) / (n·m))`.
pub fn ks_critical_95(n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    1.358_098_8 * ((n + m) / (n * m)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn wilson_matches_published_example() {
        // Newcombe (1998), Stat. Med. 17:857, table I: 81/263 → 0.2553 to 0.3662.
        let ci = wilson_interval(81, 263).expect("valid");
        assert!(close(ci.low, 0.2553, 1e-4), "{ci:?}");
        assert!(close(ci.high, 0.3662, 1e-4), "{ci:?}");
        // Zero successes still gives a non-degenerate upper bound (Newcombe: 0/10 → 0 to 0.2775).
        let zero = wilson_interval(0, 10).expect("valid");
        assert_eq!(zero.low, 0.0);
        assert!(close(zero.high, 0.2775, 1e-4), "{zero:?}");
    }

    #[test]
    fn wilson_rejects_impossible_counts() {
        assert!(wilson_interval(3, 2).is_err());
        assert!(wilson_interval(0, 0).is_err());
    }

    #[test]
    fn student_t_is_continuous_at_the_table_edge() {
        assert!(close(student_t_975(30), 2.042272, 1e-6));
        assert!(close(student_t_975(31), 2.039513, 1e-4));
        assert!(close(student_t_975(60), 2.000298, 1e-4));
        assert!(close(student_t_975(1_000_000), Z_95, 1e-5));
    }

    #[test]
    fn mean_interval_of_known_sample() {
        let ci = mean_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]).expect("valid");
        assert_eq!(ci.estimate, 3.0);
        // s = sqrt(2.5), t_{0.975,4} = 2.776445.
        let half = 2.776445 * (2.5f64 / 5.0).sqrt();
        assert!(close(ci.low, 3.0 - half, 1e-9));
        assert!(close(ci.high, 3.0 + half, 1e-9));
    }

    #[test]
    fn coefficient_of_variation_of_known_sample() {
        let cv = coefficient_of_variation(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("ok");
        // mean 5, sample sd sqrt(32/7).
        assert!(close(cv, (32.0f64 / 7.0).sqrt() / 5.0, 1e-12));
        assert!(coefficient_of_variation(&[-1.0, 1.0]).is_err());
    }

    #[test]
    fn empirical_cdf_steps_and_quantiles() {
        let cdf = EmpiricalCdf::new(&[3.0, 1.0, 2.0, 2.0]).expect("valid");
        assert_eq!(cdf.eval(0.5), 0.0);
        assert_eq!(cdf.eval(2.0), 0.75);
        assert_eq!(cdf.eval(10.0), 1.0);
        assert_eq!(cdf.quantile(0.5).expect("valid"), 2.0);
        assert_eq!(cdf.quantile(1.0).expect("valid"), 3.0);
        assert_eq!(cdf.steps().last().copied(), Some((3.0, 1.0)));
        assert!(EmpiricalCdf::new(&[f64::NAN]).is_err());
    }

    #[test]
    fn histogram_counts_every_observation() {
        let histogram =
            Histogram::new(&[-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0], 0.0, 2.0, 4).expect("valid");
        assert_eq!(histogram.counts, vec![1, 1, 1, 2]);
        assert_eq!((histogram.underflow, histogram.overflow), (1, 1));
        let area: f64 = histogram.densities().iter().map(|(a, b, d)| (b - a) * d).sum();
        assert!(close(area, 5.0 / 7.0, 1e-12));
        assert!(Histogram::new(&[], 1.0, 1.0, 3).is_err());
    }

    #[test]
    fn ks_statistic_of_shifted_and_equal_samples() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(ks_two_sample(&a, &a).expect("valid"), 0.0);
        let b = [3.0, 4.0, 5.0, 6.0];
        assert_eq!(ks_two_sample(&a, &b).expect("valid"), 0.5);
        assert!(close(ks_critical_95(100, 100), 0.19206, 1e-4));
    }
}
