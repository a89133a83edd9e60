//! Family #3, the private double-spend race, judged against the closed form for vein's tie rule
//! (strictly heavier wins; first-seen on ties) with Rosenfeld's and Nakamoto's beside it.
//!
//! Model: the attacker is an honest core cut off from the network while it mines (it never sees
//! honest checkpoints, so it extends only its own branch) and then releases its branch; only the
//! decision when to release lives here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, confirmations, minority_share, whole};
use crate::chain_view::run_to_height;
use crate::engine::Engine;
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::attack_spec;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};

/// The family's type in the registry.
pub struct DoubleSpend;

impl Family for DoubleSpend {
    const METRIC: &'static str = "double_spend_success";
    const REFERENCES: &'static [ReferenceName] =
        &[ReferenceName::StrictlyHeavier, ReferenceName::Rosenfeld, ReferenceName::Nakamoto];
    type Attacker = PrivateRace;
    /// A race is milliseconds: 50 seeds share a record.
    const SEEDS_PER_CHUNK: usize = 50;

    fn story(_scenario: &Scenario) -> String {
        "After a short common history the attacker (share q) partitions itself off, pays \
             the merchant (node 0) on the honest side and spends the same nonce privately, \
             mining alone at fixed difficulty. The merchant accepts when the payment's \
             checkpoint plus later ones make z. The attacker releases its branch the moment \
             it is strictly longer after acceptance; it gives up when give_up_behind behind.\n\
             metric: double_spend_success = merchant's node ends with the payment not applied \
             and the conflicting spend applied (one trial per seed, Wilson CI).\n\
             reference (judged): strictly heavier race, P = 1 - sum_{m=0}^{z} C(m+z-1,m) \
             (p^z q^m - q^{z+1} p^{m-1}) (Rosenfeld's negative-binomial race with deficit \
             z-m+1: vein keeps the first-seen head on equal weight). Rosenfeld (tie wins) \
             and Nakamoto (Poisson) are shown, not judged."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        double_spend::<E>(scenario, seed)
    }
}

/// #3: private double-spend race.
///
/// Story: after a short common history the attacker (share q) cuts itself off at fork height
/// f and pays the merchant (node 0) on the honest side while spending the same nonce to a sink
/// on its private side. It mines alone. The merchant accepts once the payment is applied and
/// buried so that the honest chain holds z checkpoints from the one that applied it. The
/// attacker releases its branch the first moment, after acceptance, that it is strictly longer
/// than the honest branch (equal weight keeps the first-seen honest head); it gives up when
/// `give_up_behind` checkpoints behind or at `run.duration_s`. Success: after the release,
/// the merchant's own node holds the payment as not applied and the conflicting spend as
/// applied.
fn double_spend<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let race: PrivateRace = context.attacker()?;
    let (attacker_q, z) = (race.q, race.z);
    let give_up = race.give_up_behind.unwrap_or(30);
    let spec = attack_spec(scenario, attacker_q, Policy::Honest, true);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let deadline_ms = scenario.run.duration_s * 1000;
    run_to_height(&mut engine, 2, deadline_ms);
    // Let the last checkpoint reach everybody so that the fork point is common history.
    let settle_ms = 4 * scenario.network.latency_ms + 4;
    engine.run_until(engine.now_ms() + settle_ms);
    let fork_height = engine.node(attacker).chain().height();
    let mut groups = vec![0u8; engine.node_count()];
    groups[attacker] = 1;
    engine.partition(groups);
    let attacker_account = engine.account(attacker);
    let nonce = engine.node(attacker).chain().ledger().next_nonce(&attacker_account);
    let merchant = engine.account(0);
    let sink = Keypair::derived("vein-scenarios/sink", 0).account();
    let payment = engine
        .build_transfer(attacker, nonce, merchant, 1_000)
        .ok_or_else(|| context.setup("attacker cannot build the payment"))?;
    let conflict = engine
        .build_transfer(attacker, nonce, sink, 1_000)
        .ok_or_else(|| context.setup("attacker cannot build the conflicting spend"))?;
    let payment_id = payment.id().map_err(|error| context.setup(error.to_string()))?;
    let conflict_id = conflict.id().map_err(|error| context.setup(error.to_string()))?;
    engine.inject(0, payment);
    engine.inject(attacker, conflict);
    let mut released = false;
    let mut accepted = false;
    while engine.step(deadline_ms) {
        let honest_height = engine.node(0).chain().height();
        let private_height = engine.node(attacker).chain().height();
        let honest_length = honest_height.saturating_sub(fork_height);
        let private_length = private_height.saturating_sub(fork_height);
        if !accepted {
            accepted = engine.node(0).dag().confirmation(&payment_id).is_some_and(|c| {
                c.outcome == Outcome::Applied
                    && c.height > fork_height
                    && honest_height + 1 >= c.height + z
            });
        }
        if accepted && private_length > honest_length {
            engine.heal();
            engine.release(attacker, fork_height + 1..=private_height);
            released = true;
            break;
        }
        if honest_length >= private_length + give_up {
            break;
        }
    }
    if released {
        // Branch delivery, the conflicting unit's round trip and the reorganisation.
        engine.run_until(engine.now_ms() + 20 * scenario.network.latency_ms + 20);
    }
    let view = engine.node(0);
    let dag = view.dag();
    let payment_applied =
        dag.confirmation(&payment_id).is_some_and(|c| c.outcome == Outcome::Applied);
    let conflict_applied =
        dag.confirmation(&conflict_id).is_some_and(|c| c.outcome == Outcome::Applied);
    let success = released && !payment_applied && conflict_applied;
    drop(view);
    // Honest nodes only: the ledger invariants (supply included) and one chain below k.
    let mut violations = invariants(&engine, attacker, scenario.network.finality_depth);
    if payment_applied && conflict_applied {
        violations.push(Violation {
            invariant: "double-apply".into(),
            at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
            node: Some(0),
            detail: "both spends of one nonce applied".into(),
        });
    }
    let judged = double_spend_reference(&context, scenario.metric.reference, attacker_q, z)?;
    let mut measurement = Measurement::proportion(
        "double_spend_success",
        context.labels.clone(),
        u64::from(success),
        1,
        Some(judged),
    )?;
    for other in [ReferenceName::StrictlyHeavier, ReferenceName::Rosenfeld, ReferenceName::Nakamoto]
    {
        if other != scenario.metric.reference {
            measurement = measurement
                .with_other_reference(double_spend_reference(&context, other, attacker_q, z)?);
        }
    }
    Ok(finish(&context, &engine, violations, vec![measurement]))
}

fn double_spend_reference(
    context: &Context<'_>,
    name: ReferenceName,
    q: f64,
    z: u64,
) -> Result<Reference, RunError> {
    let z32 = u32::try_from(z).unwrap_or(u32::MAX);
    Ok(match name {
        ReferenceName::Rosenfeld => Reference::new(
            context.reference(reference::rosenfeld_double_spend(q, z32))?,
            "Rosenfeld: catching up (tie) wins",
            reference::CITATION_ROSENFELD,
        ),
        ReferenceName::Nakamoto => Reference::new(
            context.reference(reference::nakamoto_double_spend(q, z32))?,
            "Nakamoto: Poisson approximation",
            reference::CITATION_NAKAMOTO,
        ),
        _ => Reference::new(
            context.reference(reference::double_spend_strictly_heavier(q, z32))?,
            "strictly heavier (first-seen ties)",
            reference::CITATION_STRICTLY_HEAVIER,
        ),
    })
}

/// `[attacker] kind = "private-race"`: a private double-spend race with share `q` against a
/// merchant waiting `z` checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRace {
    /// Attacker's share of the total space.
    pub q: f64,
    /// Confirmations (checkpoints) the merchant waits.
    pub z: u64,
    /// The race is abandoned when the attacker is this many checkpoints behind (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_behind: Option<u64>,
}

impl AttackerKind for PrivateRace {
    const KIND: &'static str = "private-race";
    const PARAMETERS: &'static [&'static str] = &["q", "z", "give_up_behind"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        minority_share(self.q)?;
        confirmations(self.z)?;
        if let Some(behind) = self.give_up_behind {
            at_least("attacker.give_up_behind", behind, 1)?;
            at_most("attacker.give_up_behind", behind, 500)?;
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "q" => self.q = value,
            "z" => self.z = whole(name, value)?,
            "give_up_behind" => self.give_up_behind = Some(whole(name, value)?),
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
        labels.insert("z".into(), self.z as f64);
    }
}
