//! Charts of a pooled sweep, chosen by which measurements it holds: every family draws its
//! simulated points with 95% intervals beside the reference it is judged against.

use vein_reports::charts::interval_chart;
use vein_reports::metrics::{Measurement, MeasurementData, SweepReport};
use vein_reports::plots::{
    Chart, ChartLabels, Curve, HistogramChart, LegendCorner, LineStyle, YScale,
};
use vein_reports::reference;
use vein_reports::stats::Histogram;
use vein_reports::summary::NamedChart;

fn named<'a>(sweep: &'a SweepReport, name: &'a str) -> impl Iterator<Item = &'a Measurement> {
    sweep
        .measurements
        .iter()
        .map(|pooled| &pooled.measurement)
        .filter(move |measurement| measurement.name == name)
}

/// Distinct values of parameter `name` among `measurements`, ascending.
fn values<'a>(measurements: impl Iterator<Item = &'a Measurement>, name: &str) -> Vec<f64> {
    let mut values: Vec<f64> =
        measurements.filter_map(|m| m.parameters.get(name).copied()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
}

/// Every chart the sweep's measurements call for.
pub fn sweep_charts(sweep: &SweepReport) -> Vec<NamedChart> {
    let mut charts = Vec::new();
    double_spend(sweep, &mut charts);
    if named(sweep, "win_share").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Checkpoints won vs share of space",
                "share of space s",
                "fraction of checkpoints won",
            ),
            named(sweep, "win_share"),
            "s",
            None,
        );
        // The judged reference is y = s itself: draw it whole instead of joining the points.
        chart.curves = vec![Curve::new(
            "reference: y = s",
            vec![(0.0, 0.0), (0.6, 0.6)],
            1,
            LineStyle::Dashed,
        )];
        charts.push(NamedChart::new("win_share", Chart::Intervals(chart)));
    }
    if named(sweep, "split_share").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Identity splitting: one owner's share of checkpoints vs identities",
                "identities the space is split over",
                "fraction of checkpoints won, all identities",
            ),
            named(sweep, "split_share"),
            "split",
            Some("s"),
        );
        chart.legend = LegendCorner::LowerRight;
        charts.push(NamedChart::new("split_share", Chart::Intervals(chart)));
    }
    if named(sweep, "selfish_revenue").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Selfish mining: revenue share vs attacker share",
                "attacker share of space q",
                "share of the final chain",
            ),
            named(sweep, "selfish_revenue"),
            "q",
            None,
        );
        // The smooth judged curve replaces the segments joining the judged values; Eyal–Sirer's
        // own (a fresh race after each release) is dashed beside it.
        chart.curves.clear();
        chart.curves.push(Curve::from_function(
            "Eyal–Sirer strategy, γ = 0, deadline credit (judged)",
            0.0..0.49,
            99,
            1,
            LineStyle::Solid,
            |q| reference::selfish_mining_revenue_deadline_credit(q).ok(),
        ));
        chart.curves.push(Curve::from_function(
            "Eyal–Sirer, γ = 0",
            0.0..0.49,
            99,
            1,
            LineStyle::Dashed,
            |q| reference::selfish_mining_revenue(q, 0.0).ok(),
        ));
        chart.curves.push(Curve::new(
            "honest mining: y = q",
            vec![(0.0, 0.0), (0.5, 0.5)],
            2,
            LineStyle::Solid,
        ));
        charts.push(NamedChart::new("selfish_revenue", Chart::Intervals(chart)));
    }
    if let Some(chart) = interval_histogram(sweep) {
        charts.push(NamedChart::new("checkpoint_intervals", chart));
    }
    if named(sweep, "tip_count").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Tips under uniform tip selection",
                "arrival rate λ (tx/s)",
                "tips at a node",
            ),
            named(sweep, "tip_count"),
            "tx_per_s",
            Some("latency_ms"),
        );
        chart.legend = LegendCorner::UpperLeft;
        charts.push(NamedChart::new("tip_count", Chart::Intervals(chart)));
    }
    crate::storage::charts(sweep, &mut charts);
    grinding(sweep, &mut charts);
    fake_space(sweep, &mut charts);
    extend_forks(sweep, &mut charts);
    plot_sharing(sweep, &mut charts);
    conflict_spam(sweep, &mut charts);
    network_split(sweep, &mut charts);
    lazy_tips(sweep, &mut charts);
    charts
}

/// #10 lazy tips: honest latency change (judged, 0) and the lazy units' own latency (shown).
fn lazy_tips(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    if named(sweep, "lazy_honest_latency_increase_s").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Lazy tips / parasite chain: honest confirmation latency, lazy minus silent",
                "lazy transfers per second",
                "latency increase (s)",
            ),
            named(sweep, "lazy_honest_latency_increase_s"),
            "rate",
            None,
        );
        chart.legend = LegendCorner::UpperLeft;
        relabel_references(&mut chart.curves);
        charts.push(NamedChart::new("lazy_tips_honest_latency", Chart::Intervals(chart)));
    }
    if named(sweep, "lazy_latency_s").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Lazy tips / parasite chain: the lazy units' own confirmation latency",
                "lazy transfers per second",
                "latency (s), not judged",
            ),
            named(sweep, "lazy_latency_s"),
            "rate",
            None,
        );
        chart.legend = LegendCorner::UpperRight;
        charts.push(NamedChart::new("lazy_tips_lazy_latency", Chart::Intervals(chart)));
    }
}

/// #12: the merchant's payment reverted against the split's duration, one series per wait z,
/// each beside its two-Poisson race curve.
fn network_split(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    let name = "split_revert";
    if named(sweep, name).next().is_none() {
        return;
    }
    let shares = values(named(sweep, name), "s");
    let s_text = shares.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    let mut chart = interval_chart(
        ChartLabels::new(
            &format!(
                "Network split: merchant's delivered payment reverted (merchant side s = {s_text})"
            ),
            "split duration d (target intervals T)",
            "probability the payment is reverted",
        ),
        named(sweep, name),
        "d",
        Some("z"),
    );
    chart.legend = LegendCorner::UpperLeft;
    // Smooth race curves in place of the segments joining the judged values.
    chart.curves.clear();
    let high = values(named(sweep, name), "d").last().copied().unwrap_or(1.0);
    for (index, z) in values(named(sweep, name), "z").into_iter().enumerate() {
        for s in &shares {
            chart.curves.push(Curve::from_function(
                &format!("z = {z}: Poisson race (judged)"),
                0.0..high,
                97,
                index,
                LineStyle::Dashed,
                |d| reference::network_split_revert(*s, d, z as u32).ok(),
            ));
        }
    }
    charts.push(NamedChart::new("split_revert", Chart::Intervals(chart)));
}

/// #5: the grinder's share against the versions it forges, beside the share it would get if
/// content entered the generation signature.
fn grinding(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    let name = "grind_share";
    if named(sweep, name).next().is_none() {
        return;
    }
    let mut chart = interval_chart(
        ChartLabels::new(
            "Grinding: share won vs versions forged per checkpoint",
            "versions per checkpoint g",
            "fraction of checkpoints won",
        ),
        named(sweep, name),
        "variants",
        Some("s"),
    );
    chart.legend = LegendCorner::UpperLeft;
    for (index, s) in values(named(sweep, name), "s").into_iter().enumerate() {
        let high = values(named(sweep, name), "variants").last().copied().unwrap_or(1.0);
        chart.curves.push(Curve::from_function(
            &format!("s = {s}: if content were in the signature (not judged)"),
            1.0..high,
            64,
            index,
            LineStyle::Solid,
            |g| Some(s / (s + (1.0 - s).powf(g))),
        ));
    }
    charts.push(NamedChart::new("grind_share", Chart::Intervals(chart)));
}

/// #4: the extend-all-forks attacker's private depth and catch-up chance against its share,
/// one series per challenge refresh period c, beside the branching-random-walk model.
fn extend_forks(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    for (name, title, y) in [
        (
            "fork_private_height",
            "Extend all forks: deepest private branch vs attacker share (per refresh period c)",
            "private height at the end of the race",
        ),
        (
            "fork_catch_up",
            "Extend all forks: private branch ends above the honest chain (per c)",
            "probability",
        ),
    ] {
        if named(sweep, name).next().is_none() {
            continue;
        }
        let mut chart = interval_chart(
            ChartLabels::new(title, "attacker share of space q", y),
            named(sweep, name),
            "q",
            Some("c"),
        );
        chart.legend = LegendCorner::UpperLeft;
        charts.push(NamedChart::new(name, Chart::Intervals(chart)));
    }
}

/// #8 plot sharing: the group's share against the number of identities claiming one plot
/// (reference: the owner's real share s), and the fraction of the non-owners' proofs refused
/// (reference: 1).
fn plot_sharing(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    for (name, labels) in [
        (
            "plot_sharing_share",
            ChartLabels::new(
                "Plot sharing: checkpoints won by the identities sharing one real plot",
                "identities claiming the plot (owner included)",
                "fraction of checkpoints won, all identities",
            ),
        ),
        (
            "shared_proof_refused",
            ChartLabels::new(
                "Plot sharing: non-owners' proofs refused by honest nodes",
                "identities claiming the plot (owner included)",
                "fraction refused as plot of another account",
            ),
        ),
    ] {
        if named(sweep, name).next().is_none() {
            continue;
        }
        let mut chart = interval_chart(labels, named(sweep, name), "split", Some("s"));
        chart.legend = LegendCorner::LowerRight;
        relabel_references(&mut chart.curves);
        charts.push(NamedChart::new(name, Chart::Intervals(chart)));
    }
}

/// #7: the on-the-fly plotter's share against its nonce rate, beside the Rayleigh race
/// (judged, joined between the simulated rates) and the stored-plot reading (not judged).
fn fake_space(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    let name = "fake_space_share";
    if named(sweep, name).next().is_none() {
        return;
    }
    let mut chart = interval_chart(
        ChartLabels::new(
            "Fake space: share won by an on-the-fly plotter vs nonces computed per second",
            "log10 of nonces computed per second R",
            "fraction of checkpoints won",
        ),
        named(sweep, name),
        "nonces_per_s",
        None,
    );
    chart.legend = LegendCorner::UpperLeft;
    relabel_references(&mut chart.curves);
    let naive: Vec<(f64, f64)> = named(sweep, name)
        .filter_map(|m| {
            let rate = *m.parameters.get("nonces_per_s")?;
            Some((rate, m.other_references.first()?.value))
        })
        .collect();
    let mut naive = naive;
    naive.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.curves.push(Curve::new(
        "stored plot of R·T_h nonces: κ/(1+κ) (not judged)",
        naive,
        2,
        LineStyle::Solid,
    ));
    // The swept rates span decades (30 to 30,000): on a linear axis all but the last crowd
    // against the left edge, so the x axis is log10 R.
    let log = |x: f64| if x > 0.0 { x.log10() } else { f64::NAN };
    for point in chart.series.iter_mut().flat_map(|series| series.points.iter_mut()) {
        point.x = log(point.x);
    }
    for curve in &mut chart.curves {
        curve.points.retain(|(x, _)| *x > 0.0);
        for point in &mut curve.points {
            point.0 = log(point.0);
        }
    }
    charts.push(NamedChart::new("fake_space_share", Chart::Intervals(chart)));
}

/// #10: honest transfers applied, and their latency change, against the spam rate.
fn conflict_spam(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    if named(sweep, "honest_confirmed").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Conflict spam: honest transfers applied vs spam rate",
                "conflicting pairs per second",
                "fraction of honest transfers applied",
            ),
            named(sweep, "honest_confirmed"),
            "rate",
            None,
        );
        chart.legend = LegendCorner::LowerLeft;
        relabel_references(&mut chart.curves);
        charts.push(NamedChart::new("conflict_spam_honest_confirmed", Chart::Intervals(chart)));
    }
    if named(sweep, "honest_latency_increase_s").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Conflict spam: honest confirmation latency, spam minus silent",
                "conflicting pairs per second",
                "latency increase (s)",
            ),
            named(sweep, "honest_latency_increase_s"),
            "rate",
            None,
        );
        chart.legend = LegendCorner::UpperLeft;
        relabel_references(&mut chart.curves);
        charts.push(NamedChart::new("conflict_spam_latency", Chart::Intervals(chart)));
    }
}

/// With no series parameter the reference line is labelled "simulated: <formula>"; name it for
/// what it is.
fn relabel_references(curves: &mut [Curve]) {
    for curve in curves {
        if let Some(formula) = curve.label.strip_prefix("simulated: ") {
            curve.label = format!("reference: {formula}");
        }
    }
}

fn double_spend(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    let name = "double_spend_success";
    if named(sweep, name).next().is_none() {
        return;
    }
    let by_share = interval_chart(
        ChartLabels::new(
            "Double-spend success vs attacker share (dashed: strictly heavier, judged)",
            "attacker share of space q",
            "success probability",
        ),
        named(sweep, name),
        "q",
        Some("z"),
    );
    charts.push(NamedChart::new("double_spend_by_share", Chart::Intervals(by_share)));
    let mut by_depth = interval_chart(
        ChartLabels::new(
            "Double-spend success vs confirmations (log scale)",
            "confirmations z (checkpoints)",
            "success probability",
        ),
        named(sweep, name),
        "z",
        Some("q"),
    );
    by_depth.y_scale = YScale::Log;
    by_depth.legend = LegendCorner::LowerLeft;
    // Rosenfeld's tie-wins race, shown for contrast in the same colour, solid.
    let depths = values(named(sweep, name), "z");
    for (index, q) in values(named(sweep, name), "q").into_iter().enumerate() {
        let points: Vec<(f64, f64)> = depths
            .iter()
            .filter_map(|z| {
                let value = reference::rosenfeld_double_spend(q, *z as u32).ok()?;
                Some((*z, value))
            })
            .collect();
        by_depth.curves.push(Curve::new(
            &format!("q = {q}: Rosenfeld, tie wins (not judged)"),
            points,
            index,
            LineStyle::Solid,
        ));
    }
    charts.push(NamedChart::new("double_spend_by_depth", Chart::Intervals(by_depth)));
}

fn interval_histogram(sweep: &SweepReport) -> Option<Chart> {
    let measurement = named(sweep, "checkpoint_interval_s").next()?;
    let MeasurementData::Samples { values } = &measurement.data else { return None };
    let mean = measurement.reference.as_ref().map_or(measurement.estimate, |r| r.value);
    let high = 6.0 * mean;
    let histogram = Histogram::new(values, 0.0, high, 48).ok()?;
    let density = Curve::from_function(
        &format!("exponential density, mean T = {mean} s"),
        0.0..high,
        121,
        1,
        LineStyle::Solid,
        |x| reference::exponential_density(x, mean).ok(),
    );
    Some(Chart::Histogram(HistogramChart {
        labels: ChartLabels::new("Checkpoint intervals", "interval (s)", "density (1/s)"),
        histogram_label: format!("simulated, n = {}", values.len()),
        histogram,
        density: Some(density),
        legend: LegendCorner::UpperRight,
    }))
}
