//! #7: fake space / on-the-fly plotting. One extra node stores nothing (registered with
//! capacity 0, so the difficulty is set by the honest space alone) and runs the core with
//! `Policy::OnTheFly { nonces_per_s: R }`: once it knows a challenge it computes R nonces per
//! second of its account and forges at the earliest moment one of them allows, not before the
//! nonce is computed and not before its deadline (`node::core::poc::on_the_fly`). Fixed
//! difficulty, so every round is a fresh, independent race.
//!
//! Measurement: `fake_space_share`, the fraction of the settled chain the plotter authored
//! (Wilson CI), judged against `reference::on_the_fly_win_probability(κ)` with
//! `κ = R · T_h / N_h` (nonces computed per mean honest interval over honest nonces). Shown
//! beside it: the naive virtual-space share `κ / (1 + κ)` (a stored plot of `R · T_h` nonces).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape};
use crate::chain_view::settled_chain;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, out_of_range};

const CITATION: &str = "vein PROTOCOL.md §7 #7; Rayleigh race derived in \
     vein_reports::reference::on_the_fly_win_probability";

/// The family's type in the registry.
pub struct FakeSpace;

impl Family for FakeSpace {
    const METRIC: &'static str = "fake_space_share";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::OnTheFlyRace];
    type Attacker = OnTheFly;

    fn story(_scenario: &Scenario) -> String {
        "One extra node stores no plot (capacity 0) and runs Policy::OnTheFly: once it knows \
             a challenge it computes R = nonces_per_s nonces per second and forges at the \
             earliest moment one allows, max(nonce computed, its deadline). Fixed difficulty.\n\
             metric: fake_space_share = its fraction of the settled chain (Wilson CI).\n\
             reference: with kappa = R*T_h/N_h (nonces computed per mean honest interval over \
             honest nonces), the earliest publish time X has P(X > x) = exp(-R*rho*x^2) and \
             races the honest Exp deadline: P = 1 - sqrt(pi)*s*e^(s^2)*erfc(s), s = \
             1/(2 sqrt(kappa)), about 2*kappa for small kappa. The stored-plot reading of \
             PROTOCOL.md's virtual space R*W with W = T_h, kappa/(1+kappa), is shown."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the fake-space scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let fly: OnTheFly = context.attacker()?;
    let rate = fly.nonces_per_s;
    let nonces_per_s = rate.round() as u64;
    let mut capacities = honest_capacities(scenario);
    let honest_nonces: u64 = capacities.iter().sum();
    let plotter = capacities.len();
    capacities.push(0);
    let mut params = params(scenario);
    params.fixed_base_target = true;
    let mut policies = vec![Policy::Honest; capacities.len()];
    policies[plotter] = Policy::OnTheFly { nonces_per_s };
    let spec = NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    };
    let mut engine: E = start(&context, &spec)?;
    engine.run_until(scenario.run.duration_s * 1000);
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k);
    let Some(first) = chain.first() else { return Err(context.too_short(0, 1)) };
    let base_target = first.base_target as f64;
    let account = engine.account(plotter);
    let won = chain.iter().filter(|link| link.author == account).count() as u64;
    let kappa =
        context.reference(reference::on_the_fly_kappa(rate, honest_nonces as f64, base_target))?;
    let expected = context.reference(reference::on_the_fly_win_probability(kappa))?;
    let naive = context.reference(reference::virtual_space_share(kappa))?;
    let measurement = Measurement::proportion(
        "fake_space_share",
        context.labels.clone(),
        won,
        chain.len() as u64,
        Some(Reference::new(expected, "on-the-fly race 1 − √π·s·exp(s²)·erfc(s)", CITATION)),
    )?
    .with_other_reference(Reference::new(
        naive,
        "stored plot of R·T_h nonces: κ/(1+κ) (not judged)",
        reference::CITATION_PROTOCOL,
    ));
    let violations = invariants(&engine, plotter, k);
    Ok(finish(&context, &engine, violations, vec![measurement]))
}

/// Largest on-the-fly plotting rate (nonces per second): 10^7 nonces is ~2.4 PiB plotted per
/// second, far beyond any machine, and keeps the race's per-checkpoint draw count bounded.
pub const NONCES_PER_S_MAX: f64 = 10_000_000.0;

/// `[attacker] kind = "on-the-fly"` (#7): a node storing nothing that computes `nonces_per_s`
/// nonces per second once the challenge is known (`Policy::OnTheFly`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnTheFly {
    /// Nonces computed per second after the challenge (R).
    pub nonces_per_s: f64,
}

impl AttackerKind for OnTheFly {
    const KIND: &'static str = "on-the-fly";
    const PARAMETERS: &'static [&'static str] = &["nonces_per_s"];

    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        let rate = self.nonces_per_s;
        if !(rate.is_finite() && rate > 0.0 && rate <= NONCES_PER_S_MAX && rate.fract() == 0.0) {
            return Err(out_of_range(
                "attacker.nonces_per_s",
                rate,
                "(0, 10000000], a whole number of nonces per second",
            ));
        }
        if network.retarget {
            return Err(InvalidValue::OutOfRange {
                field: "network.retarget",
                value: "true".into(),
                expected: "false for on-the-fly plotting (the race assumes fixed difficulty)",
            });
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "nonces_per_s" {
            self.nonces_per_s = value;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("nonces_per_s".into(), self.nonces_per_s);
    }
}
