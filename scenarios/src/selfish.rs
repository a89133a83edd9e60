//! Family #6, selfish mining: the Eyal–Sirer strategy played by a withholding core, judged with
//! the deadline credit of proof of space (docs/scenarios.md, family 6), Eyal–Sirer's own figure
//! beside it.
//!
//! Model: the attacker runs the core with `Policy::Withhold` and the core's release rule
//! (`SelfishRelease`, the one real processes use); only what the rule is shown lives here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::node::{Policy, SelfishRelease, WithholdView};
use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference::{self, ReferenceError};

use crate::attacker::{AttackerKind, NetworkShape, minority_share};
use crate::chain_view::{BLOCK_CHECKPOINTS, settled_chain};
use crate::engine::Engine;
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::attack_spec;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::InvalidValue;

/// The family's type in the registry.
pub struct Selfish;

impl Family for Selfish {
    const METRIC: &'static str = "selfish_revenue";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::EyalSirer];
    type Attacker = Withhold;

    fn story(_scenario: &Scenario) -> String {
        "The attacker (share q) runs the node with Policy::Withhold and releases by the \
             Eyal-Sirer rules (lead 1 -> tie race, lead 2 -> publish all, more -> match).\n\
             metric: selfish_revenue = attacker's share of the settled chain (blocks of 100).\n\
             reference (judged): Eyal-Sirer's cycle accounting with g = 0 (first-seen ties, \
             release after the honest checkpoint propagated) and deadline credit: after a \
             publish-all the honest miners forge at once on the old private head with \
             probability 1 - E[exp(-b e)], so R = A / (A + 1 - a + 2ab^2 + a^2/2), \
             A = a^2(2b + 2 + a/(b-a)), b = 1 - a (docs/scenarios.md, family 6). Eyal-Sirer \
             R = [a(1-a)^2(4a) - a^3] / [1 - a(1+(2-a)a)], honest share q and threshold 1/3 \
             shown."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        selfish::<E>(scenario, seed)
    }
}

/// #6: selfish mining with share q (Eyal–Sirer strategy; γ = 0 since honest nodes keep the
/// first-seen head and the attacker reacts only after an honest checkpoint has propagated).
///
/// The release rule is the core's [`SelfishRelease`] (the one a real `vein-node run --policy
/// withhold` process applies), fed the honest node 0's view of the public chain.
fn selfish<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let withhold: Withhold = context.attacker()?;
    let q = withhold.q;
    let spec = attack_spec(scenario, q, Policy::Withhold, false);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let deadline_ms = scenario.run.duration_s * 1000;
    let mut rule = SelfishRelease::new(withhold_view(&engine, attacker));
    while engine.step(deadline_ms) {
        if let Some(heights) = rule.observe(withhold_view(&engine, attacker)) {
            engine.release(attacker, heights);
        }
    }
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k.max(10));
    let needed = 2 * BLOCK_CHECKPOINTS;
    if chain.len() < needed {
        return Err(context.too_short(chain.len(), needed));
    }
    let attacker_account = engine.account(attacker);
    let by_attacker: Vec<bool> = chain.iter().map(|link| link.author == attacker_account).collect();
    let measurement = revenue_measurement(scenario, context.labels.clone(), q, &by_attacker)?;
    let violations = invariants(&engine, attacker, k.max(10));
    Ok(finish(&context, &engine, violations, vec![measurement]))
}

/// The `selfish_revenue` measurement of a settled chain, `by_attacker[i]` saying whether its
/// checkpoint i was the attacker's: the attacker's share per block of [`BLOCK_CHECKPOINTS`]
/// (an incomplete last block is left out), judged against Eyal–Sirer with deadline credit and
/// shown beside the classic figure, q and the threshold. Every engine that runs this family
/// builds it here (LocalNet and madsim through [`Selfish`], real processes through
/// `vein-testnet scenario`), so the three report the same measurement.
pub fn revenue_measurement(
    scenario: &Scenario,
    labels: BTreeMap<String, f64>,
    q: f64,
    by_attacker: &[bool],
) -> Result<Measurement, RunError> {
    let computed = |value: Result<f64, ReferenceError>| {
        value.map_err(|source| RunError::Reference { scenario: scenario.name.clone(), source })
    };
    let shares: Vec<f64> = by_attacker
        .chunks_exact(BLOCK_CHECKPOINTS)
        .map(|block| block.iter().filter(|ours| **ours).count() as f64 / block.len() as f64)
        .collect();
    // Judged: Eyal–Sirer's cycle accounting with the one thing deadline-based proof of space
    // changes, honest miners forging at once on a just-published branch whose head is old
    // (docs/scenarios.md, family 6). Eyal–Sirer's own figure is shown beside it.
    let expected = computed(reference::selfish_mining_revenue_deadline_credit(q))?;
    let classic = computed(reference::selfish_mining_revenue(q, 0.0))?;
    let threshold = computed(reference::selfish_mining_threshold(0.0))?;
    let measurement = Measurement::mean_of(
        "selfish_revenue",
        labels,
        shares,
        Some(Reference::new(
            expected,
            "Eyal–Sirer strategy, γ = 0, deadlines from the parent's timestamp",
            reference::CITATION_SELFISH_DEADLINE,
        )),
    )?
    .with_other_reference(Reference::new(
        classic,
        "Eyal–Sirer revenue, γ = 0 (fresh race after a release)",
        reference::CITATION_EYAL_SIRER,
    ))
    .with_other_reference(Reference::new(q, "honest mining: q", reference::CITATION_PROTOCOL))
    .with_other_reference(Reference::new(
        threshold,
        "profitability threshold (1−γ)/(3−2γ), γ = 0",
        reference::CITATION_EYAL_SIRER,
    ));
    Ok(measurement)
}

/// What the release rule sees: node 0's chain as the public one, the attacker's as the private.
fn withhold_view<E: Engine>(engine: &E, attacker: usize) -> WithholdView {
    WithholdView {
        public_height: engine.node(0).chain().height(),
        private_height: engine.node(attacker).chain().height(),
        checkpoints_won: engine.node(attacker).stats().checkpoints_won,
        heads_differ: engine.node(0).chain().head().id != engine.node(attacker).chain().head().id,
    }
}

/// `[attacker] kind = "withhold"`: selfish mining (Eyal–Sirer) with share `q`: withhold own
/// checkpoints, release tactically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withhold {
    /// Attacker's share of the total space.
    pub q: f64,
}

impl AttackerKind for Withhold {
    const KIND: &'static str = "withhold";
    const PARAMETERS: &'static [&'static str] = &["q"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        minority_share(self.q)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "q" {
            self.q = value;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
    }
}
