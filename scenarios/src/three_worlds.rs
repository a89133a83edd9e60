//! One file, three worlds: the report of one scenario file run on LocalNet (`vein-scenarios
//! run`), on madsim (`vein-sim scenario`) and on real processes (`vein-testnet scenario`), side
//! by side, with a verdict per measurement on whether the worlds agree.
//!
//! Model: each world's report directory holds its raw records (`runs.jsonl`); they are pooled
//! per world as the reports pool them, and measurements are matched across worlds by name and
//! parameters (bit for bit). Each pair of worlds that both measured a quantity gets a two-sample
//! test of "the two worlds measure the same value":
//! - means of samples: Welch's unequal-variances t test, `t = (x̄₁ − x̄₂) / √(s₁²/n₁ + s₂²/n₂)`
//!   with Welch–Satterthwaite degrees of freedom, two-sided (a world with fewer than two
//!   samples cannot be tested, and says so);
//! - proportions: the two-proportion z test with the pooled proportion,
//!   `z = (p̂₁ − p̂₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂))`, two-sided.
//!
//! A report makes many such tests, so the verdict is Holm's procedure over all of them at a
//! family-wise 5% (`vein_reports::gate::holm`, as the suite's gate): two worlds *disagree* on a
//! measurement when Holm rejects their equality. Agreement is the absence of evidence of a
//! difference at the report's sample sizes, and each world's interval is shown so that a reader
//! sees how much that says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use vein_reports::gate::{FAMILY_WISE_ALPHA, holm, normal_two_sided_p};
use vein_reports::metrics::{MeasurementData, MetricsError, SweepReport};
use vein_reports::reference::regularized_incomplete_beta;
use vein_reports::summary::format_number;

use crate::runner::{self, RunnerError};

/// Where a report was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum World {
    /// The deterministic in-memory network (`vein-scenarios run`).
    LocalNet,
    /// The madsim simulator (`vein-sim scenario`).
    Madsim,
    /// Real `vein-node` processes on loopback (`vein-testnet scenario`).
    Testnet,
}

impl World {
    /// The name tables and files use.
    pub fn name(self) -> &'static str {
        match self {
            World::LocalNet => "localnet",
            World::Madsim => "madsim",
            World::Testnet => "testnet",
        }
    }
}

/// Why a cross-world report could not be made.
#[derive(Debug, Error)]
pub enum ThreeWorldsError {
    /// Fewer than two worlds were given.
    #[error("give at least two of --localnet, --madsim, --testnet (got {given})")]
    TooFewWorlds {
        /// How many were given.
        given: usize,
    },
    /// A world's report directory could not be read.
    #[error("{world} report: {source}")]
    Read {
        /// The world.
        world: &'static str,
        /// The runner's reason (missing or malformed `runs.jsonl`).
        source: RunnerError,
    },
    /// A world's records could not be pooled.
    #[error("{world} report: {source}")]
    Pool {
        /// The world.
        world: &'static str,
        /// The metrics crate's reason.
        source: MetricsError,
    },
    /// The worlds measured nothing in common (different scenario files or parameters).
    #[error("the reports share no measurement (name and parameters): {names}")]
    NothingShared {
        /// Each world's measurements, for the message.
        names: String,
    },
    /// One measurement is a proportion in one world and a mean in another.
    #[error("measurement {name} is a proportion in one world and a mean of samples in another")]
    MixedKinds {
        /// The measurement's name.
        name: String,
    },
    /// The report files could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Which two-sample test compared two worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoSampleTest {
    /// Welch's unequal-variances t test of two means.
    WelchT,
    /// The pooled two-proportion z test.
    TwoProportionZ,
}

/// One two-sample test's outcome before Holm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The test.
    pub test: TwoSampleTest,
    /// Its statistic (t or z; ±`f64::MAX` for two spread-free samples that differ).
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom (`None` for z).
    pub degrees_of_freedom: Option<f64>,
    /// Two-sided p-value of equality.
    pub p_value: f64,
}

/// Welch's t test of equal means; `None` if either side has fewer than two samples.
pub fn welch_t(a: &[f64], b: &[f64]) -> Option<TestOutcome> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let moments = |xs: &[f64]| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let variance = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, variance / n)
    };
    let (n1, mean1, v1) = moments(a);
    let (n2, mean2, v2) = moments(b);
    let spread = v1 + v2;
    if spread == 0.0 {
        // Two constant samples: equal means are certain to agree, unequal ones to differ.
        let equal = mean1 == mean2;
        // ±f64::MAX rather than infinity: JSON has no infinity.
        let statistic = if equal { 0.0 } else { (mean1 - mean2).signum() * f64::MAX };
        let p_value = if equal { 1.0 } else { 0.0 };
        return Some(TestOutcome {
            test: TwoSampleTest::WelchT,
            statistic,
            degrees_of_freedom: None,
            p_value,
        });
    }
    let t = (mean1 - mean2) / spread.sqrt();
    let nu = spread.powi(2) / (v1.powi(2) / (n1 - 1.0) + v2.powi(2) / (n2 - 1.0));
    // P(|T_ν| ≥ t) = I_{ν/(ν+t²)}(ν/2, 1/2); x lies in (0, 1], where the beta function is defined.
    let p = regularized_incomplete_beta(nu / (nu + t * t), nu / 2.0, 0.5).map_or(1.0, |p| p);
    Some(TestOutcome {
        test: TwoSampleTest::WelchT,
        statistic: t,
        degrees_of_freedom: Some(nu),
        p_value: p.clamp(0.0, 1.0),
    })
}

/// The pooled two-proportion z test; `None` if either side has no trial.
pub fn two_proportion_z(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<TestOutcome> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    // Both all-success or all-failure: the same proportion, nothing to tell apart.
    let z = if se == 0.0 { 0.0 } else { (p1 - p2) / se };
    Some(TestOutcome {
        test: TwoSampleTest::TwoProportionZ,
        statistic: z,
        degrees_of_freedom: None,
        p_value: normal_two_sided_p(z),
    })
}

/// One world's pooled estimate of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldEstimate {
    /// The world.
    pub world: World,
    /// Seeds pooled.
    pub seeds: u64,
    /// Trials or samples.
    pub sample_size: u64,
    /// Proportion or mean.
    pub estimate: f64,
    /// 95% interval (Wilson or Student t, as in the world's own report).
    pub ci_low: f64,
    /// Upper end of it.
    pub ci_high: f64,
    /// The raw data, for the tests.
    pub data: MeasurementData,
}

/// Two worlds compared on one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairVerdict {
    /// The first world.
    pub a: World,
    /// The second.
    pub b: World,
    /// The test's outcome; `None` when a side has too little data to test.
    pub outcome: Option<TestOutcome>,
    /// Holm-adjusted p over every test of the report (`None` untested).
    pub p_adjusted: Option<f64>,
    /// Whether the two agree: Holm does not reject equality (`None` untested).
    pub agree: Option<bool>,
}

/// One measurement (name and parameters) across the worlds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Measurement name, e.g. `selfish_revenue`.
    pub name: String,
    /// The sweep point.
    pub parameters: BTreeMap<String, f64>,
    /// The judged reference of the first world that has one.
    pub reference: Option<f64>,
    /// Each world that measured it, in world order.
    pub worlds: Vec<WorldEstimate>,
    /// Each pair of those worlds.
    pub pairs: Vec<PairVerdict>,
}

/// The cross-world report (`three-worlds.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreeWorldsReport {
    /// Scenario name(s), as the reports name them.
    pub scenario: String,
    /// Family-wise level of the agreement verdicts.
    pub alpha: f64,
    /// Measurements present in at least two worlds.
    pub rows: Vec<Row>,
    /// Invariant violations per world (every one of them is listed in its world's report).
    pub violations: BTreeMap<String, u64>,
    /// Tests made, and how many found a disagreement.
    pub tests: u64,
    /// Pairs Holm found to disagree.
    pub disagreements: u64,
}

/// Reads and pools one world's report directory.
pub fn read_world(world: World, directory: &Path) -> Result<SweepReport, ThreeWorldsError> {
    let runs = runner::read_runs(&[directory.to_path_buf()])
        .map_err(|source| ThreeWorldsError::Read { world: world.name(), source })?;
    SweepReport::from_runs(&runs)
        .map_err(|source| ThreeWorldsError::Pool { world: world.name(), source })
}

type Key = (String, Vec<(String, u64)>);

fn key(name: &str, parameters: &BTreeMap<String, f64>) -> Key {
    (name.to_string(), parameters.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect())
}

/// Compares the worlds' pooled reports.
pub fn compare(worlds: &[(World, SweepReport)]) -> Result<ThreeWorldsReport, ThreeWorldsError> {
    if worlds.len() < 2 {
        return Err(ThreeWorldsError::TooFewWorlds { given: worlds.len() });
    }
    let mut rows: BTreeMap<Key, Row> = BTreeMap::new();
    for (world, report) in worlds {
        for pooled in &report.measurements {
            let m = &pooled.measurement;
            let row = rows.entry(key(&m.name, &m.parameters)).or_insert_with(|| Row {
                name: m.name.clone(),
                parameters: m.parameters.clone(),
                reference: None,
                worlds: Vec::new(),
                pairs: Vec::new(),
            });
            row.reference = row.reference.or(m.reference.as_ref().map(|r| r.value));
            row.worlds.push(WorldEstimate {
                world: *world,
                seeds: pooled.seeds.len() as u64,
                sample_size: m.sample_size(),
                estimate: m.estimate,
                ci_low: m.ci_low,
                ci_high: m.ci_high,
                data: m.data.clone(),
            });
        }
    }
    let mut rows: Vec<Row> = rows.into_values().filter(|row| row.worlds.len() >= 2).collect();
    if rows.is_empty() {
        let names: Vec<String> = worlds
            .iter()
            .map(|(world, report)| {
                let names: Vec<&str> =
                    report.measurements.iter().map(|m| m.measurement.name.as_str()).collect();
                format!("{}: [{}]", world.name(), names.join(", "))
            })
            .collect();
        return Err(ThreeWorldsError::NothingShared { names: names.join("; ") });
    }
    for row in &mut rows {
        row.worlds.sort_by_key(|estimate| estimate.world);
        row.pairs = pairs(row)?;
    }
    let tests = judge(&mut rows);
    let disagreements =
        rows.iter().flat_map(|row| &row.pairs).filter(|pair| pair.agree == Some(false)).count()
            as u64;
    let mut scenarios: Vec<&str> =
        worlds.iter().flat_map(|(_, report)| report.scenarios.keys().map(String::as_str)).collect();
    scenarios.sort_unstable();
    scenarios.dedup();
    let violations = worlds
        .iter()
        .map(|(world, report)| (world.name().to_string(), report.violations.len() as u64))
        .collect();
    Ok(ThreeWorldsReport {
        scenario: scenarios.join(", "),
        alpha: FAMILY_WISE_ALPHA,
        rows,
        violations,
        tests,
        disagreements,
    })
}

/// Every pair of worlds in a row, tested (not yet judged).
fn pairs(row: &Row) -> Result<Vec<PairVerdict>, ThreeWorldsError> {
    let mut pairs = Vec::new();
    for (i, first) in row.worlds.iter().enumerate() {
        for second in &row.worlds[i + 1..] {
            let outcome = match (&first.data, &second.data) {
                (
                    MeasurementData::Samples { values: a },
                    MeasurementData::Samples { values: b },
                ) => welch_t(a, b),
                (
                    MeasurementData::Proportion { successes: k1, trials: n1 },
                    MeasurementData::Proportion { successes: k2, trials: n2 },
                ) => two_proportion_z(*k1, *n1, *k2, *n2),
                _ => return Err(ThreeWorldsError::MixedKinds { name: row.name.clone() }),
            };
            pairs.push(PairVerdict {
                a: first.world,
                b: second.world,
                outcome,
                p_adjusted: None,
                agree: None,
            });
        }
    }
    Ok(pairs)
}

/// Holm over every tested pair of the report; returns how many were tested.
fn judge(rows: &mut [Row]) -> u64 {
    let p_values: Vec<f64> = rows
        .iter()
        .flat_map(|row| &row.pairs)
        .filter_map(|pair| pair.outcome.map(|outcome| outcome.p_value))
        .collect();
    let decisions = holm(&p_values, FAMILY_WISE_ALPHA);
    let mut next = decisions.iter();
    for pair in rows.iter_mut().flat_map(|row| row.pairs.iter_mut()) {
        if pair.outcome.is_some()
            && let Some(decision) = next.next()
        {
            pair.p_adjusted = Some(decision.p_adjusted);
            pair.agree = Some(!decision.rejected);
        }
    }
    p_values.len() as u64
}

/// The report as Markdown: one table of estimates and one of verdicts.
pub fn markdown(report: &ThreeWorldsReport) -> String {
    let mut out = format!(
        "# One file, three worlds: {}\n\n\
         Each world's estimate with its 95% interval; each pair of worlds tested for equality \
         (Welch's t for means, the pooled two-proportion z test for proportions), Holm over all \
         {} tests at a family-wise {}: {} disagree.\n\n\
         | measurement | parameters | reference | world | seeds | n | estimate | 95% interval |\n\
         |---|---|---|---|---|---|---|---|\n",
        report.scenario, report.tests, report.alpha, report.disagreements
    );
    for row in &report.rows {
        let parameters = parameters_text(&row.parameters);
        let reference = row.reference.map_or("-".to_string(), format_number);
        for estimate in &row.worlds {
            out.push_str(&format!(
                "| {} | {parameters} | {reference} | {} | {} | {} | {} | [{}, {}] |\n",
                row.name,
                estimate.world.name(),
                estimate.seeds,
                estimate.sample_size,
                format_number(estimate.estimate),
                format_number(estimate.ci_low),
                format_number(estimate.ci_high),
            ));
        }
    }
    out.push_str(
        "\n| measurement | parameters | worlds | test | statistic | p | Holm p | verdict |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for row in &report.rows {
        for pair in &row.pairs {
            out.push_str(&pair_line(row, pair));
        }
    }
    let violations: Vec<String> =
        report.violations.iter().map(|(world, count)| format!("{world} {count}")).collect();
    out.push_str(&format!("\nInvariant violations per world: {}.\n", violations.join(", ")));
    out
}

fn parameters_text(parameters: &BTreeMap<String, f64>) -> String {
    let text: Vec<String> = parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if text.is_empty() { "-".to_string() } else { text.join(" ") }
}

fn pair_line(row: &Row, pair: &PairVerdict) -> String {
    let worlds = format!("{} vs {}", pair.a.name(), pair.b.name());
    let parameters = parameters_text(&row.parameters);
    match (pair.outcome, pair.p_adjusted, pair.agree) {
        (Some(outcome), Some(adjusted), Some(agree)) => {
            let test = match outcome.test {
                TwoSampleTest::WelchT => match outcome.degrees_of_freedom {
                    Some(nu) => format!("Welch t (ν = {nu:.1})"),
                    None => "Welch t (no spread)".to_string(),
                },
                TwoSampleTest::TwoProportionZ => "two-proportion z".to_string(),
            };
            format!(
                "| {} | {parameters} | {worlds} | {test} | {:.3} | {:.3} | {:.3} | {} |\n",
                row.name,
                outcome.statistic,
                outcome.p_value,
                adjusted,
                if agree { "agree" } else { "DISAGREE" }
            )
        }
        _ => format!(
            "| {} | {parameters} | {worlds} | - | - | - | - | untested (a side has < 2 samples) |\n",
            row.name
        ),
    }
}

/// Writes `three-worlds.json` and `three-worlds.md` into `directory`.
pub fn write(directory: &Path, report: &ThreeWorldsReport) -> Result<(), ThreeWorldsError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ThreeWorldsError::Write { path, source }
    };
    std::fs::create_dir_all(directory).map_err(write_error(directory))?;
    let json = serde_json::to_string_pretty(report).unwrap_or_default();
    let path = directory.join("three-worlds.json");
    std::fs::write(&path, format!("{json}\n")).map_err(write_error(&path))?;
    let path = directory.join("three-worlds.md");
    std::fs::write(&path, markdown(report)).map_err(write_error(&path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vein_reports::metrics::{Measurement, RunMetrics};

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// Welch's own worked example (Wikipedia, "Welch's t-test", example 1): t = −2.46,
    /// ν = 24.99, p = 0.0214 (checked by direct integration of the t density).
    #[test]
    fn welch_and_two_proportion_tests_match_worked_examples() {
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let welch = welch_t(&a, &b).unwrap();
        assert!(close(welch.statistic, -2.455_356, 1e-5), "{welch:?}");
        assert!(close(welch.degrees_of_freedom.unwrap(), 24.988_53, 1e-4), "{welch:?}");
        assert!(close(welch.p_value, 0.021_378, 1e-5), "{welch:?}");
        assert_eq!(welch_t(&a, &b[..1]), None);
        assert_eq!(welch_t(&[1.0, 1.0], &[1.0, 1.0]).unwrap().p_value, 1.0);
        assert_eq!(welch_t(&[1.0, 1.0], &[2.0, 2.0]).unwrap().p_value, 0.0);
        // 45/100 against 30/100: pooled 0.375, z = 2.1909, p = 0.02846.
        let z = two_proportion_z(45, 100, 30, 100).unwrap();
        assert!(close(z.statistic, 2.190_890, 1e-5), "{z:?}");
        assert!(close(z.p_value, 0.028_460, 1e-5), "{z:?}");
        assert_eq!(two_proportion_z(0, 10, 0, 20).unwrap().p_value, 1.0);
        assert_eq!(two_proportion_z(1, 0, 1, 2), None);
    }

    fn report(samples: &[f64], successes: u64) -> SweepReport {
        let mut run = RunMetrics::new("selfish", 1, "00");
        let labels: BTreeMap<String, f64> = [("q".to_string(), 0.4)].into();
        run.measurements = vec![
            Measurement::mean_of("selfish_revenue", labels.clone(), samples.to_vec(), None)
                .unwrap(),
            Measurement::proportion("won", labels, successes, 1_000, None).unwrap(),
        ];
        SweepReport::from_runs(&[run]).unwrap()
    }

    /// Two worlds that measure the same agree; a third shifted by many standard errors
    /// disagrees with both, and Holm counts every test.
    #[test]
    fn worlds_that_measure_the_same_agree_and_a_shifted_one_does_not() {
        let base = [0.40, 0.42, 0.38, 0.41, 0.39, 0.40, 0.43, 0.37];
        let shifted: Vec<f64> = base.iter().map(|x| x + 0.1).collect();
        let worlds = [
            (World::LocalNet, report(&base, 500)),
            (World::Madsim, report(&base, 510)),
            (World::Testnet, report(&shifted, 700)),
        ];
        let compared = compare(&worlds).unwrap();
        assert_eq!((compared.rows.len(), compared.tests), (2, 6));
        let verdict = |name: &str, a: World, b: World| {
            let row = compared.rows.iter().find(|row| row.name == name).unwrap();
            row.pairs.iter().find(|pair| pair.a == a && pair.b == b).unwrap().agree
        };
        for name in ["selfish_revenue", "won"] {
            assert_eq!(verdict(name, World::LocalNet, World::Madsim), Some(true), "{name}");
            assert_eq!(verdict(name, World::LocalNet, World::Testnet), Some(false), "{name}");
            assert_eq!(verdict(name, World::Madsim, World::Testnet), Some(false), "{name}");
        }
        assert_eq!(compared.disagreements, 4);
        let text = markdown(&compared);
        assert!(
            text.contains("| selfish_revenue | q=0.4 | localnet vs testnet | Welch t"),
            "{text}"
        );
        assert!(text.contains("DISAGREE") && text.contains("two-proportion z"), "{text}");
        // One world is no comparison; two that share nothing are refused by name.
        assert!(matches!(compare(&worlds[..1]), Err(ThreeWorldsError::TooFewWorlds { given: 1 })));
        let mut other = report(&base, 1);
        for pooled in &mut other.measurements {
            pooled.measurement.name.push_str("_other");
        }
        let refused = compare(&[(World::LocalNet, report(&base, 1)), (World::Madsim, other)]);
        assert!(matches!(refused, Err(ThreeWorldsError::NothingShared { .. })), "{refused:?}");
    }
}
