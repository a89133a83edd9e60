//! The family-wise gate on real scenario runs: a 5% bias injected into a family's estimate flips
//! the verdict, and the same runs without it pass. Fixed seeds, so the outcome cannot flake.

use std::path::Path;

use vein_reports::gate::InjectedBias;
use vein_reports::metrics::{SweepReport, Verdict};
use vein_scenarios::runner::{self, Shard};
use vein_scenarios::scenario::Scenario;

const TIPS: &str = include_str!("../tips.toml");

/// Tip dynamics at λ = 40 transfers/s, one seed: the most precise comparison of the suite (about
/// 1% relative standard error), where a 5% bias is several standard errors.
fn tips_runs() -> Vec<vein_reports::metrics::RunMetrics> {
    let scenario = Scenario::parse(TIPS, Path::new("tips.toml")).expect("valid");
    let points = runner::grid(&scenario, &[("tx_per_s".into(), vec![40.0])]).expect("grid");
    runner::execute("gate", &points, 1, Some(1), Shard::WHOLE).expect("runs")
}

#[test]
fn an_injected_five_percent_bias_flips_the_verdict_and_none_passes() {
    let runs = tips_runs();
    let clean = SweepReport::from_runs(&runs).expect("merges");
    assert_eq!(clean.gate.comparisons, 1);
    assert_eq!(clean.verdict, Verdict::Pass, "{:?}", clean.measurements);
    let bias = InjectedBias { scenario: "tips".into(), relative: 0.05 };
    let biased = SweepReport::from_runs_with_bias(&runs, Some(&bias)).expect("merges");
    assert_eq!(biased.verdict, Verdict::ReferenceMismatch, "{:?}", biased.measurements);
    let decision = biased.measurements[0].gate.expect("judged");
    assert!(decision.rejected && decision.p_value <= decision.holm_threshold, "{decision:?}");
    assert_eq!(biased.injected_bias.as_deref(), Some("tips:0.05"));
    // A bias on another scenario leaves this one alone.
    let elsewhere = InjectedBias { scenario: "double-spend".into(), relative: 0.05 };
    let untouched = SweepReport::from_runs_with_bias(&runs, Some(&elsewhere)).expect("merges");
    assert_eq!(untouched.verdict, Verdict::Pass);
}
