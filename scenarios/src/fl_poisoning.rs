//! Issue #20, poisoning and free riders in federated learning (docs/federated-learning.md,
//! "Poisoning and free riders"): the lab's training on the real wine-quality set
//! (`vein_fl_lab::poisoning`), no network.
//!
//! Model: n IID participants train logistic regression for R rounds; the first ⌊f·n⌉ are
//! Byzantine and flip their update's sign (−4·u) or train on inverted labels (`attack`). Each
//! of FedAvg, median, trimmed mean and Krum (tuned for ⌈0.3 n⌉ bad) runs clean and attacked on
//! the same split and seed. Then two free riders (the global model, noise) join 18 honest
//! participants under the median, and the detection rule (mean cosine with the aggregate
//! < 0.3 or norm < 0.1 of the median participant's) flags whom it flags.
//!
//! Measured, one point per `fraction`: each rule's final test accuracy (correct records of the
//! 319 held out) and its loss to the attackers in points (clean − attacked, same seed, over the
//! last five rounds), and the
//! detection rule's false positives among the honest participants.
//! Judged as bounds, each a violation on the seed that breaks it (Blanchard et al., 2017; Yin et
//! al., 2018: robust rules keep their clean accuracy up to the fraction they are tuned for, the
//! mean does not survive unbounded attackers):
//! - `fl-robust-rule-degraded`: at f ≤ 0.2, a robust rule's mean loss over the last five rounds
//!   above 8 points (see [`ROBUST_LOSS_MAX`] for why per seed is wider than the papers' claim on
//!   the mean, which `loss_points_*` shows);
//! - `fl-sign-flip-harmless`: at f ≥ 0.2 under sign flipping, FedAvg's mean loss under 5
//!   points (the attack did not reach the aggregate: a bug in the run, not a result);
//! - `fl-free-rider-missed`: a free rider not flagged.
//!
//! The losses carry their bound as a reference shown, not judged by the gate: they are
//! deterministic functions of the seed, not samples of a model with a known mean.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_fl_lab::poisoning::{Adversaries, Attack, FreeRide, poisoned};
use vein_fl_lab::scenarios::{Split, rules, shards, wine_setup};
use vein_node::core::fl::{AggregationRule, FlError};
use vein_node::core::hash::Hash;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};

use crate::attacker::{AttackerKind, NetworkShape};
use crate::engine::Engine;
use crate::family::Family;
use crate::run_context::Context;
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

const CITATION: &str = "Blanchard et al. 2017 (Krum); Yin et al. 2018 (median, trimmed mean)";
/// Points a robust rule may lose to attackers at f ≤ 0.2, per seed (mean over the last
/// rounds). The papers' claim is on the mean over seeds (within 1 point here, the sweep's
/// `loss_points_*`); one seed's 319 held-out records move by a few points on their own: over
/// seeds 1..=100 at f ≤ 0.2 the worst was 4.0 points for the median (sign flipping) and 6.1 for
/// Krum, which keeps one update a round and so varies most (never an attacker's, here).
const ROBUST_LOSS_MAX: f64 = 0.08;
/// Points FedAvg must lose to sign flippers at f ≥ 0.2, per seed (over seeds 1..=100 the mean
/// was 25.3 points at f = 0.2 and the smallest 6.7).
const FED_AVG_LOSS_MIN: f64 = 0.05;
/// Rounds at the end whose losses are the loss measurement's samples.
const LAST_ROUNDS: usize = 5;

/// The family's type in the registry.
pub struct FlPoisoning;

/// How the Byzantine participants poison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoisonKind {
    /// Send −4·u for the honest update u.
    SignFlip,
    /// Train on inverted labels.
    LabelFlip,
}

/// `[attacker] kind = "fl-poisoning"`: the Byzantine fraction, the attack, the federation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poisoners {
    /// Byzantine fraction f of the participants, in [0, 0.3].
    pub fraction: f64,
    /// `"sign-flip"` or `"label-flip"`.
    pub attack: PoisonKind,
    /// Participants n (10..=64).
    pub participants: u64,
    /// Rounds R (1..=100).
    pub rounds: u64,
}

impl AttackerKind for Poisoners {
    const KIND: &'static str = "fl-poisoning";
    const PARAMETERS: &'static [&'static str] = &["fraction"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        if !(self.fraction.is_finite() && (0.0..=0.3).contains(&self.fraction)) {
            return Err(out_of_range("attacker.fraction", self.fraction, "[0, 0.3]"));
        }
        at_least("attacker.participants", self.participants, 10)?;
        at_most("attacker.participants", self.participants, 64)?;
        at_least("attacker.rounds", self.rounds, 1)?;
        at_most("attacker.rounds", self.rounds, 100)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "fraction" {
            self.fraction = value;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("fraction".into(), self.fraction);
        let label_flip = if self.attack == PoisonKind::LabelFlip { 1.0 } else { 0.0 };
        labels.insert("label_flip".into(), label_flip);
    }
}

impl Family for FlPoisoning {
    const METRIC: &'static str = "fl_poisoning";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::ByzantineRobustness];
    type Attacker = Poisoners;

    fn story(_scenario: &Scenario) -> String {
        "n IID participants train logistic regression on the wine-quality set for R rounds; \
         the first f·n flip their update's sign (-4 u) or train on inverted labels. FedAvg, \
         median, trimmed mean and Krum (tuned for 0.3 n bad) run clean and attacked on the \
         same split; then two free riders (the global model, noise) join 18 honest \
         participants and a detection rule (mean cosine with the aggregate < 0.3, or norm < \
         0.1 of the median) flags them.\n\
         metric: accuracy_<rule> (correct held-out records), loss_points_<rule> (clean - \
         attacked, same seed), free_rider_false_positives (honest participants flagged).\n\
         reference: bounds, judged per seed as violations on the mean loss over the last 5 \
         rounds: at f <= 0.2 every robust rule within 8 points of its clean accuracy, FedAvg \
         under sign flipping at f >= 0.2 at least 5 points below its own; the papers' claim, \
         within a few points on the mean over seeds, is read from loss_points_<rule> (Blanchard et al. 2017; Yin et al. 2018); every free rider \
         flagged."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        let context = Context { scenario, seed, labels: scenario.labels() };
        let poisoners: Poisoners = context.attacker()?;
        measure(&context, &poisoners)
    }
}

/// The accuracy and the loss measurement of `rule`.
fn metric_names(rule: AggregationRule) -> (&'static str, &'static str) {
    match rule {
        AggregationRule::FedAvg => ("accuracy_fed_avg", "loss_points_fed_avg"),
        AggregationRule::Median => ("accuracy_median", "loss_points_median"),
        AggregationRule::TrimmedMean { .. } => {
            ("accuracy_trimmed_mean", "loss_points_trimmed_mean")
        }
        AggregationRule::Krum { .. } => ("accuracy_krum", "loss_points_krum"),
    }
}

/// One seed: every rule clean and attacked, then the free riders.
fn measure(context: &Context<'_>, poisoners: &Poisoners) -> Result<RunMetrics, RunError> {
    let lab = |error: FlError| context.setup(format!("training: {error}"));
    let n = poisoners.participants as usize;
    let byzantine = (poisoners.fraction * n as f64).round() as usize;
    let attack = match poisoners.attack {
        PoisonKind::SignFlip => Attack::SignFlip,
        PoisonKind::LabelFlip => Attack::LabelFlip,
    };
    let mut setup = wine_setup(context.seed).map_err(lab)?;
    setup.rounds = poisoners.rounds as u32;
    let split = shards(&setup, n, Split::Iid).map_err(lab)?;
    let test = setup.test.len() as u64;
    let mut violations = Vec::new();
    let mut measurements = Vec::new();
    let mut digest = Vec::new();
    let violation = |invariant: &str, detail: String| Violation {
        invariant: invariant.into(),
        at_simulated_seconds: 0.0,
        node: None,
        detail,
    };
    for rule in rules(n) {
        let clean = Adversaries { attack, byzantine: 0, free_riders: Vec::new() };
        let clean = poisoned(&setup, &split, rule, &clean).map_err(lab)?;
        let attacked = Adversaries { attack, byzantine, free_riders: Vec::new() };
        let attacked = poisoned(&setup, &split, rule, &attacked).map_err(lab)?;
        // The last rounds' losses: samples of where the attacked model settles.
        let last = clean.accuracy_per_round.len().saturating_sub(LAST_ROUNDS);
        let points: Vec<f64> = clean.accuracy_per_round[last..]
            .iter()
            .zip(&attacked.accuracy_per_round[last..])
            .map(|(clean, attacked)| 100.0 * (clean - attacked))
            .collect();
        let (clean, attacked) = (clean.final_accuracy, attacked.final_accuracy);
        let loss = points.iter().sum::<f64>() / points.len().max(1) as f64 / 100.0;
        digest.extend_from_slice(&attacked.to_le_bytes());
        let robust = rule != AggregationRule::FedAvg;
        if robust && poisoners.fraction <= 0.2 && loss > ROBUST_LOSS_MAX {
            let detail = format!(
                "{}: {attacked:.4} attacked, {clean:.4} clean, mean loss over the last \
                 {LAST_ROUNDS} rounds {:.2} points",
                rule.name(),
                100.0 * loss
            );
            violations.push(violation("fl-robust-rule-degraded", detail));
        }
        let sign_flip = attack == Attack::SignFlip && poisoners.fraction >= 0.2;
        if !robust && sign_flip && loss < FED_AVG_LOSS_MIN {
            let detail = format!("FedAvg: {attacked:.4} attacked, {clean:.4} clean");
            violations.push(violation("fl-sign-flip-harmless", detail));
        }
        let correct = (attacked * test as f64).round() as u64;
        let (accuracy, loss) = metric_names(rule);
        let labels = context.labels.clone();
        measurements.push(Measurement::proportion(accuracy, labels.clone(), correct, test, None)?);
        let mut measurement = Measurement::mean_of(loss, labels, points, None)?;
        measurement.other_references.push(if robust {
            let formula = "at most 8 points per seed at f <= 0.2";
            Reference::new(100.0 * ROBUST_LOSS_MAX, formula, CITATION)
        } else {
            let formula = "at least 5 points per seed under sign flipping at f >= 0.2";
            Reference::new(100.0 * FED_AVG_LOSS_MIN, formula, CITATION)
        });
        measurements.push(measurement);
    }
    let riders = vec![FreeRide::GlobalModel, FreeRide::Noise];
    let adversaries = Adversaries { attack, byzantine: 0, free_riders: riders };
    let run = poisoned(&setup, &split, AggregationRule::Median, &adversaries).map_err(lab)?;
    for (rider, name) in [(0, "the global-model rider"), (1, "the noise rider")] {
        if !run.flagged[rider] {
            let detail = format!("{name}: mean cosine {:.3}", run.mean_cosine[rider]);
            violations.push(violation("fl-free-rider-missed", detail));
        }
    }
    let (flagged, honest) = run.false_positives(2);
    let measurement = Measurement::proportion(
        "free_rider_false_positives",
        context.labels.clone(),
        flagged as u64,
        honest as u64,
        None,
    )?;
    measurements.push(measurement);
    let hash = Hash::of_parts(&[b"vein/scenarios/fl-poisoning", &digest]);
    let hex: String = hash.as_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
    let mut metrics = RunMetrics::new(&context.scenario.name, context.seed, hex);
    metrics.nodes = n as u64;
    metrics.violations = violations;
    metrics.measurements = measurements;
    Ok(metrics)
}
