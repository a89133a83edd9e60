//! Synthetic, deterministic report data: every chart kind and a small run, without a simulator.
//!
//! Why: the report format and the charts must be reviewable (and snapshot-tested) before the
//! simulator exists, and afterwards they must stay checkable without running it. The data are drawn
//! from a tiny fixed-seed generator (SplitMix64) so they look like simulation output, with the
//! analytic references of [`crate::reference`] as the ground truth.

use std::collections::BTreeMap;

use crate::metrics::{Measurement, MetricsError, Reference, RunMetrics, Series, Violation};
use crate::plots::{
    Bar, BarChart, CdfChart, CdfSeries, Chart, ChartLabels, Curve, HistogramChart, IntervalChart,
    IntervalPoint, IntervalSeries, LegendCorner, LineStyle, TimeSeriesChart, YScale,
};
use crate::reference::{
    self, CITATION_NAKAMOTO, CITATION_PROTOCOL, CITATION_ROSENFELD, CITATION_STRICTLY_HEAVIER,
    ReferenceError,
};
use crate::stats::{self, EmpiricalCdf, Histogram, StatsError};

/// Errors building the synthetic data (they indicate a bug in this module).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemoError {
    /// An analytic reference refused the demo's fixed parameters.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A statistic refused the synthetic sample.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The synthetic runs could not be pooled.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fixed, good enough for synthetic data.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole state is `seed`: the same seed gives the same stream.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `(0, 1]` (never 0, so `ln` is finite).
    pub fn next_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with the given mean.
    pub fn next_exponential(&mut self, mean: f64) -> f64 {
        -self.next_unit().ln() * mean
    }

    /// Successes in `trials` Bernoulli(`p`) draws.
    pub fn binomial(&mut self, trials: u64, p: f64) -> u64 {
        (0..trials).filter(|_| self.next_unit() <= p).count() as u64
    }
}

fn parameters(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(name, value)| (name.to_string(), *value)).collect()
}

/// Double-spend success vs attacker share for several waits, with both closed forms.
pub fn double_spend_chart(rng: &mut SplitMix64, trials: u64) -> Result<Chart, DemoError> {
    let shares = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4];
    let waits = [1u32, 2, 4];
    let mut series = Vec::new();
    let mut curves = Vec::new();
    for (index, z) in waits.iter().enumerate() {
        let mut points = Vec::new();
        for q in shares {
            let p = reference::double_spend_strictly_heavier(q, *z)?;
            let interval = stats::wilson_interval(rng.binomial(trials, p), trials)?;
            points.push(IntervalPoint {
                x: q,
                y: interval.estimate,
                low: interval.low,
                high: interval.high,
            });
        }
        series.push(IntervalSeries { label: format!("z = {z}, simulated"), points });
        curves.push(Curve::from_function(
            &format!("z = {z}, strictly heavier (exact)"),
            0.0..0.45,
            91,
            index,
            LineStyle::Solid,
            |q| reference::double_spend_strictly_heavier(q, *z).ok(),
        ));
        curves.push(Curve::from_function(
            &format!("z = {z}, Nakamoto 2008"),
            0.0..0.45,
            91,
            index,
            LineStyle::Dashed,
            |q| reference::nakamoto_double_spend(q, *z).ok(),
        ));
    }
    Ok(Chart::Intervals(IntervalChart {
        labels: ChartLabels::new(
            "Double-spend success vs attacker space share",
            "attacker share of space q",
            "success probability",
        ),
        series,
        curves,
        legend: LegendCorner::UpperLeft,
        y_scale: YScale::Linear,
    }))
}

/// Double-spend success vs confirmations on a log axis: the exponential decay in `z`.
pub fn double_spend_by_depth_chart(rng: &mut SplitMix64, trials: u64) -> Result<Chart, DemoError> {
    let mut series = Vec::new();
    let mut curves = Vec::new();
    for (index, q) in [0.1, 0.2, 0.3].into_iter().enumerate() {
        let mut points = Vec::new();
        for z in 1..=8u32 {
            let p = reference::double_spend_strictly_heavier(q, z)?;
            let interval = stats::wilson_interval(rng.binomial(trials, p), trials)?;
            points.push(IntervalPoint {
                x: f64::from(z),
                y: interval.estimate,
                low: interval.low,
                high: interval.high,
            });
        }
        series.push(IntervalSeries { label: format!("q = {q}, simulated"), points });
        let exact = (1..=8u32)
            .filter_map(|z| {
                let value = reference::double_spend_strictly_heavier(q, z).ok()?;
                Some((f64::from(z), value))
            })
            .collect();
        curves.push(Curve::new(
            &format!("q = {q}, strictly heavier (exact)"),
            exact,
            index,
            LineStyle::Solid,
        ));
    }
    Ok(Chart::Intervals(IntervalChart {
        labels: ChartLabels::new(
            "Double-spend success vs confirmations (log scale)",
            "confirmations z (checkpoints)",
            "success probability",
        ),
        series,
        curves,
        legend: LegendCorner::LowerLeft,
        y_scale: YScale::Log,
    }))
}

/// Checkpoint share vs space share with `y = x`.
pub fn win_share_chart(rng: &mut SplitMix64, trials: u64) -> Result<Chart, DemoError> {
    let mut points = Vec::new();
    for s in [0.05, 0.1, 0.2, 0.3, 0.4, 0.5] {
        let interval = stats::wilson_interval(rng.binomial(trials, s), trials)?;
        points.push(IntervalPoint {
            x: s,
            y: interval.estimate,
            low: interval.low,
            high: interval.high,
        });
    }
    Ok(Chart::Intervals(IntervalChart {
        labels: ChartLabels::new(
            "Checkpoints won vs share of space",
            "share of space s",
            "fraction of checkpoints won",
        ),
        series: vec![IntervalSeries { label: "simulated".into(), points }],
        curves: vec![Curve::new(
            "expected: y = s",
            vec![(0.0, 0.0), (0.55, 0.55)],
            0,
            LineStyle::Dashed,
        )],
        legend: LegendCorner::UpperLeft,
        y_scale: YScale::Linear,
    }))
}

/// Checkpoint-interval histogram with the exponential density.
pub fn interval_histogram_chart(rng: &mut SplitMix64, samples: usize) -> Result<Chart, DemoError> {
    let mean = 10.0;
    let intervals: Vec<f64> = (0..samples).map(|_| rng.next_exponential(mean)).collect();
    let histogram = Histogram::new(&intervals, 0.0, 60.0, 30)?;
    let density = Curve::from_function(
        "exponential density, mean 10 s",
        0.0..60.0,
        121,
        1,
        LineStyle::Solid,
        |x| reference::exponential_density(x, mean).ok(),
    );
    Ok(Chart::Histogram(HistogramChart {
        labels: ChartLabels::new("Checkpoint intervals", "interval (s)", "density (1/s)"),
        histogram_label: format!("simulated, n = {samples}"),
        histogram,
        density: Some(density),
        legend: LegendCorner::UpperRight,
    }))
}

/// Confirmation-latency CDF for two configurations.
pub fn latency_cdf_chart(rng: &mut SplitMix64, samples: usize) -> Result<Chart, DemoError> {
    let mut series = Vec::new();
    for (label, k) in [("k = 3", 3), ("k = 6", 6)] {
        // Latency of k checkpoints is a sum of k exponential intervals (Erlang).
        let latencies: Vec<f64> =
            (0..samples).map(|_| (0..k).map(|_| rng.next_exponential(10.0)).sum()).collect();
        series.push(CdfSeries { label: label.into(), cdf: EmpiricalCdf::new(&latencies)? });
    }
    Ok(Chart::Cdf(CdfChart {
        labels: ChartLabels::new(
            "Confirmation latency",
            "time to finality (s)",
            "fraction of transactions",
        ),
        series,
        curves: Vec::new(),
        legend: LegendCorner::LowerRight,
    }))
}

/// Tips over time with the `2λh` level.
pub fn tips_chart(rng: &mut SplitMix64) -> Result<Chart, DemoError> {
    let expected = reference::uniform_tip_count(50.0, 0.2)?;
    let mut tips = expected;
    let mut points = Vec::new();
    for second in 0..=300 {
        // Mean-reverting walk around 2λh: shaped like the real series, nothing more.
        tips += 0.1 * (expected - tips) + 2.0 * (rng.next_unit() - 0.5) * 3.0;
        points.push((f64::from(second), tips.max(1.0)));
    }
    Ok(Chart::TimeSeries(TimeSeriesChart {
        labels: ChartLabels::new("Tips over time (λ = 50/s, h = 0.2 s)", "time (s)", "tips"),
        curves: vec![
            Curve::new("simulated", points, 0, LineStyle::Solid),
            Curve::new("2λh = 20", vec![(0.0, expected), (300.0, expected)], 1, LineStyle::Dashed),
        ],
        legend: LegendCorner::LowerRight,
    }))
}

/// Reorganisation depth counts.
pub fn reorg_chart() -> Chart {
    let counts = [(1, 412.0), (2, 61.0), (3, 9.0), (4, 2.0), (5, 0.0), (6, 0.0)];
    Chart::Bars(BarChart {
        labels: ChartLabels::new("Reorganisation depth", "depth (checkpoints)", "reorganisations"),
        bars: counts
            .iter()
            .map(|(depth, count)| Bar { category: format!("{depth}"), value: *count })
            .collect(),
    })
}

/// Every demo chart with its file stem.
pub fn demo_charts(seed: u64) -> Result<Vec<(String, Chart)>, DemoError> {
    let mut rng = SplitMix64::new(seed);
    Ok(vec![
        ("double_spend".into(), double_spend_chart(&mut rng, 2_000)?),
        ("double_spend_by_depth".into(), double_spend_by_depth_chart(&mut rng, 20_000)?),
        ("win_share".into(), win_share_chart(&mut rng, 1_000)?),
        ("interval_histogram".into(), interval_histogram_chart(&mut rng, 5_000)?),
        ("latency_cdf".into(), latency_cdf_chart(&mut rng, 1_000)?),
        ("tips".into(), tips_chart(&mut rng)?),
        ("reorg_depth".into(), reorg_chart()),
    ])
}

/// A small synthetic run of the storage-cheating and double-spend scenarios.
pub fn demo_run(seed: u64) -> Result<RunMetrics, DemoError> {
    let mut rng = SplitMix64::new(seed);
    let mut run = RunMetrics::new("demo", seed, format!("{:016x}", rng.next_u64()));
    run.nodes = 100;
    run.simulated_seconds = 3_600.0;
    run.wall_seconds = 0.0;
    run.messages_delivered = 1_234_567;
    run.checkpoints = 360;
    run.transactions_final = 18_000;
    for (f, c) in [(0.1, 10u32), (0.05, 20)] {
        let expected = reference::storage_detection_probability(f, c)?;
        let trials = 400;
        run.measurements.push(Measurement::proportion(
            "storage_detection",
            parameters(&[("f", f), ("c", f64::from(c))]),
            rng.binomial(trials, expected),
            trials,
            Some(Reference::new(expected, "1 - (1 - f)^c", CITATION_PROTOCOL)),
        )?);
    }
    for (q, z) in [(0.1, 2u32), (0.3, 4)] {
        let exact = reference::double_spend_strictly_heavier(q, z)?;
        let trials = 2_000;
        let successes = rng.binomial(trials, exact);
        let measurement = Measurement::proportion(
            "double_spend_success",
            parameters(&[("q", q), ("z", f64::from(z))]),
            successes,
            trials,
            Some(Reference::new(exact, "NB race, strictly heavier", CITATION_STRICTLY_HEAVIER)),
        )?
        .with_other_reference(Reference::new(
            reference::rosenfeld_double_spend(q, z)?,
            "NB race, catch up",
            CITATION_ROSENFELD,
        ))
        .with_other_reference(Reference::new(
            reference::nakamoto_double_spend(q, z)?,
            "Poisson approximation, catch up",
            CITATION_NAKAMOTO,
        ));
        run.measurements.push(measurement);
    }
    let intervals: Vec<f64> = (0..360).map(|_| rng.next_exponential(10.0)).collect();
    run.measurements.push(Measurement::mean_of(
        "checkpoint_interval_s",
        parameters(&[("target_s", 10.0)]),
        intervals.clone(),
        Some(Reference::new(10.0, "target interval T", CITATION_PROTOCOL)),
    )?);
    run.series.insert(
        "checkpoint_interval_s".into(),
        Series {
            x_label: "height".into(),
            y_label: "interval_s".into(),
            points: intervals.iter().enumerate().map(|(i, v)| [i as f64, *v]).collect(),
        },
    );
    Ok(run)
}

/// The same run with one safety violation, for the failing-verdict path.
pub fn demo_run_with_violation(seed: u64) -> Result<RunMetrics, DemoError> {
    let mut run = demo_run(seed)?;
    run.violations.push(Violation {
        invariant: "conflicting-finality".into(),
        at_simulated_seconds: 1_812.25,
        node: Some(17),
        detail: "nodes 17 and 42 hold different final transactions at height 181".into(),
    });
    Ok(run)
}
