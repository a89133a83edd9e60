//! Builds charts from metrics, so that scenario code does not assemble plot data by hand.
//!
//! Model: a sweep measures one quantity (say `double_spend_success`) over a grid of parameters
//! (`q` × `z`). [`interval_chart`] puts one parameter on the x axis, groups the points into series
//! by another, draws each point with its 95% interval, and joins each series' judged reference
//! values with a dashed line of the same colour so that a miss is visible at a glance. Smooth
//! analytic curves (from [`crate::reference`]) can be added to `curves` afterwards.
//! [`time_series_chart`] does the same for a run's named series.

use crate::metrics::{Measurement, RunMetrics};
use crate::plots::{
    ChartLabels, Curve, IntervalChart, IntervalPoint, IntervalSeries, LegendCorner, LineStyle,
    TimeSeriesChart, YScale,
};

/// One series key: the grouping parameter's value, or none.
fn series_key(measurement: &Measurement, series_parameter: Option<&str>) -> Option<f64> {
    series_parameter.and_then(|name| measurement.parameters.get(name).copied())
}

/// Interval chart of `measurements` against parameter `x_parameter`, one series per value of
/// `series_parameter` (ascending). Measurements without `x_parameter` are skipped.
pub fn interval_chart<'a>(
    labels: ChartLabels,
    measurements: impl IntoIterator<Item = &'a Measurement>,
    x_parameter: &str,
    series_parameter: Option<&str>,
) -> IntervalChart {
    let mut groups: Vec<(Option<f64>, Vec<&Measurement>)> = Vec::new();
    for measurement in measurements {
        if !measurement.parameters.contains_key(x_parameter) {
            continue;
        }
        let key = series_key(measurement, series_parameter);
        match groups
            .iter_mut()
            .find(|(existing, _)| existing.map(f64::to_bits) == key.map(f64::to_bits))
        {
            Some((_, members)) => members.push(measurement),
            None => groups.push((key, vec![measurement])),
        }
    }
    // Ascending by series value (none first) so colours follow the parameter order.
    groups.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    });
    let mut series = Vec::with_capacity(groups.len());
    let mut curves = Vec::new();
    for (index, (key, mut members)) in groups.into_iter().enumerate() {
        let x_of = |m: &Measurement| m.parameters.get(x_parameter).copied().unwrap_or(f64::NAN);
        members.sort_by(|a, b| x_of(a).total_cmp(&x_of(b)));
        let name = match (series_parameter, key) {
            (Some(parameter), Some(value)) => format!("{parameter} = {value}"),
            _ => "simulated".to_string(),
        };
        let points = members
            .iter()
            .map(|m| IntervalPoint { x: x_of(m), y: m.estimate, low: m.ci_low, high: m.ci_high })
            .collect();
        let references: Vec<(f64, f64)> = members
            .iter()
            .filter_map(|m| m.reference.as_ref().map(|reference| (x_of(m), reference.value)))
            .collect();
        if !references.is_empty() {
            let formula = members
                .iter()
                .find_map(|m| m.reference.as_ref())
                .map(|reference| reference.formula_name.clone())
                .unwrap_or_default();
            curves.push(Curve::new(
                &format!("{name}: {formula}"),
                references,
                index,
                LineStyle::Dashed,
            ));
        }
        let label = if series_parameter.is_some() { format!("{name}, simulated") } else { name };
        series.push(IntervalSeries { label, points });
    }
    IntervalChart {
        labels,
        series,
        curves,
        legend: LegendCorner::UpperLeft,
        y_scale: YScale::Linear,
    }
}

/// Time-series chart of the named series of a run (missing names are skipped), in the given
/// order and colours.
pub fn time_series_chart(labels: ChartLabels, run: &RunMetrics, names: &[&str]) -> TimeSeriesChart {
    let curves = names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let series = run.series.get(*name)?;
            let points = series.points.iter().map(|[x, y]| (*x, *y)).collect();
            Some(Curve::new(name, points, index, LineStyle::Solid))
        })
        .collect();
    TimeSeriesChart { labels, curves, legend: LegendCorner::UpperRight }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::{Reference, Series};

    fn measurement(q: f64, z: f64, successes: u64) -> Measurement {
        let parameters: BTreeMap<String, f64> =
            [("q".to_string(), q), ("z".to_string(), z)].into_iter().collect();
        Measurement::proportion(
            "double_spend_success",
            parameters,
            successes,
            1_000,
            Some(Reference::new(successes as f64 / 1_000.0, "exact", "test")),
        )
        .expect("valid")
    }

    #[test]
    fn groups_by_series_parameter_and_sorts_by_x() {
        let measurements =
            [measurement(0.3, 2.0, 200), measurement(0.1, 2.0, 20), measurement(0.1, 1.0, 50)];
        let chart = interval_chart(ChartLabels::new("t", "q", "p"), &measurements, "q", Some("z"));
        assert_eq!(chart.series.len(), 2);
        assert_eq!(chart.series[0].label, "z = 1, simulated");
        assert_eq!(chart.series[1].label, "z = 2, simulated");
        let xs: Vec<f64> = chart.series[1].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![0.1, 0.3]);
        assert_eq!(chart.curves.len(), 2);
        assert_eq!(chart.curves[1].color, 1);
        assert_eq!(chart.curves[1].points, vec![(0.1, 0.02), (0.3, 0.2)]);
    }

    #[test]
    fn time_series_skips_missing_names() {
        let mut run = RunMetrics::new("s", 1, "00");
        run.series.insert(
            "tips".into(),
            Series { x_label: "time_s".into(), y_label: "tips".into(), points: vec![[0.0, 3.0]] },
        );
        let chart = time_series_chart(ChartLabels::new("t", "x", "y"), &run, &["tips", "absent"]);
        assert_eq!(chart.curves.len(), 1);
        assert_eq!(chart.curves[0].points, vec![(0.0, 3.0)]);
    }
}
