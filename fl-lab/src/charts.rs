//! The report's pictures (`vein-fl-report --plots DIR`): test accuracy per round of centralised
//! training against FedAvg on IID and Dirichlet splits, and final accuracy of each aggregation
//! rule against the Byzantine fraction. Lines drawn by `vein-reports` (PNG and SVG); the data
//! come from the same runs as the report's tables.

use vein_reports::plots::{Chart, ChartLabels, Curve, LegendCorner, LineStyle, TimeSeriesChart};

/// One line of the accuracy-per-round chart: a name and the mean test accuracy (0..=1) after
/// each round, round 1 first.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyCurve {
    /// Legend entry, e.g. "FedAvg, Dirichlet α = 0.1".
    pub label: String,
    /// Mean over the seeds of the accuracy after rounds 1, 2, ...
    pub per_round: Vec<f64>,
}

/// The mean accuracy per round of `runs` (each one run's accuracy after every round), round by
/// round; runs shorter than the longest count only where they have a value.
pub fn mean_per_round(runs: &[Vec<f64>]) -> Vec<f64> {
    let rounds = runs.iter().map(Vec::len).max().unwrap_or(0);
    (0..rounds)
        .map(|round| {
            let values: Vec<f64> = runs.iter().filter_map(|run| run.get(round).copied()).collect();
            values.iter().sum::<f64>() / values.len().max(1) as f64
        })
        .collect()
}

/// Test accuracy (%) per round: the first curve (the centralised reference) dashed, the others
/// solid in palette order.
pub fn accuracy_per_round(title: &str, curves: &[AccuracyCurve]) -> Chart {
    let lines = curves
        .iter()
        .enumerate()
        .map(|(index, curve)| {
            let points = curve
                .per_round
                .iter()
                .enumerate()
                .map(|(round, accuracy)| ((round + 1) as f64, 100.0 * accuracy))
                .collect();
            let style = if index == 0 { LineStyle::Dashed } else { LineStyle::Solid };
            Curve::new(&curve.label, points, index, style)
        })
        .collect();
    Chart::TimeSeries(TimeSeriesChart {
        labels: ChartLabels::new(title, "round", "test accuracy (%)"),
        curves: lines,
        legend: LegendCorner::LowerRight,
    })
}

/// Final accuracy (%) of each rule against the Byzantine fraction: `rules` names the lines and
/// `rows` holds, per fraction, one accuracy (0..=1) per rule in the same order.
pub fn poisoning(title: &str, rules: &[&str], rows: &[(f64, Vec<f64>)]) -> Chart {
    let lines = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let points = rows
                .iter()
                .filter_map(|(fraction, accuracies)| {
                    accuracies.get(index).map(|accuracy| (*fraction, 100.0 * accuracy))
                })
                .collect();
            Curve::new(rule, points, index, LineStyle::Solid)
        })
        .collect();
    Chart::TimeSeries(TimeSeriesChart {
        labels: ChartLabels::new(title, "Byzantine fraction f", "final test accuracy (%)"),
        curves: lines,
        legend: LegendCorner::LowerLeft,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_is_taken_round_by_round() {
        let mean = mean_per_round(&[vec![0.5, 0.7], vec![0.7, 0.9, 1.0]]);
        assert_eq!(mean.len(), 3);
        assert!((mean[0] - 0.6).abs() < 1e-12 && (mean[1] - 0.8).abs() < 1e-12);
        assert!((mean[2] - 1.0).abs() < 1e-12);
        assert!(mean_per_round(&[]).is_empty());
    }

    #[test]
    fn curves_carry_rounds_from_one_and_percentages() {
        let chart = accuracy_per_round(
            "t",
            &[
                AccuracyCurve { label: "centralised".into(), per_round: vec![0.5, 0.75] },
                AccuracyCurve { label: "FedAvg".into(), per_round: vec![0.25] },
            ],
        );
        let Chart::TimeSeries(chart) = chart else { panic!("a time series") };
        assert_eq!(chart.curves[0].points, vec![(1.0, 50.0), (2.0, 75.0)]);
        assert_eq!(chart.curves[0].style, LineStyle::Dashed);
        assert_eq!(chart.curves[1].points, vec![(1.0, 25.0)]);
        let Chart::TimeSeries(chart) =
            poisoning("p", &["FedAvg", "Krum"], &[(0.0, vec![0.7, 0.69]), (0.3, vec![0.4, 0.68])])
        else {
            panic!("a time series")
        };
        assert_eq!(chart.curves[1].points, vec![(0.0, 69.0), (0.3, 68.0)]);
    }
}
