//! #12: network-split double-spend. Four or more honest nodes are dealt into two sides: side A
//! (the first half, holding share `s` of the space, with the merchant on node 0) and side B (the
//! rest, share `1 − s`, with the payer on the last node). Nobody needs space of its own to attack:
//! the payer only exploits the split. At the split the payer spends one nonce twice, paying the
//! merchant on side A and a sink on side B; each side applies its own spend in its own branch.
//! The merchant delivers once its side's chain holds the payment `z` checkpoints deep. After `d`
//! target intervals the network heals; the heavier branch wins by ordinary fork choice.
//!
//! Measurements: `split_revert`, whether the merchant delivered and then lost the payment
//! (reference: the two-Poisson race [`reference::network_split_revert`]), and `split_delivered`,
//! whether it delivered at all (reference `P(Poisson(s·d) ≥ z)`). At `z = k + 1` the latter is
//! the chance that a side finalises its own branch during the split, which is why the simulator's
//! partition faults last at most k T / 4 (docs/simulator.md).
//!
//! The protocol's k is lifted (finality depth and reorg limit 4096) so that the merchant's `z` is
//! the only rule under test and the reorganisation the race is about is never refused; the
//! difficulty is fixed so that weight is checkpoint count, as in the formula.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, confirmations, share_and_split, whole};
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, out_of_range};

/// The family's type in the registry.
pub struct NetworkSplit;

impl Family for NetworkSplit {
    const METRIC: &'static str = "split_revert";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::PoissonRace];
    type Attacker = SplitPayer;

    fn story(_scenario: &Scenario) -> String {
        "After one checkpoint of common history the network splits for d T into side A \
             (nodes 0..n/2, share s, merchant on node 0) and side B (the rest, share 1-s). The \
             payer (last node, no space needed) pays the merchant on A and spends the same nonce \
             to a sink on B. The merchant delivers when the payment is z checkpoints deep on A. \
             Then the network heals (fixed difficulty; finality lifted to 4096).\n\
             metric: split_revert = delivered and the payment not applied at the end (one \
             trial per seed, Wilson CI); split_delivered = delivered.\n\
             reference: A ~ Poisson(s d), B ~ Poisson((1-s) d): P(revert) = sum_{a>=z} \
             P(A=a) [P(B>a) + (1-s) P(B=a)] (ties: first-seen heads, next checkpoint decides); \
             P(delivered) = P(Poisson(s d) >= z), at z = k+1 the chance one side finalises."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the network-split scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let split: SplitPayer = context.attacker()?;
    let (s, z, d) = (split.s, split.z, split.d);
    let nodes = scenario.network.nodes as usize;
    let side_a = nodes / 2;
    let side_b = nodes - side_a;
    let total = scenario.network.nonces_per_node * nodes as u64;
    let per_a = ((total as f64) * s / side_a as f64).round().max(1.0) as u64;
    let per_b = ((total as f64) * (1.0 - s) / side_b as f64).round().max(1.0) as u64;
    let mut capacities = vec![per_a; side_a];
    capacities.extend(std::iter::repeat_n(per_b, side_b));
    // The exact share after rounding, for the reference.
    let share = (per_a * side_a as u64) as f64 / capacities.iter().sum::<u64>() as f64;
    let mut params = params(scenario);
    params.fixed_base_target = true;
    params.finality_depth = 4_096;
    params.reorg_limit = 4_096;
    let spec = NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: vec![Policy::Honest; nodes],
    };
    let mut engine: E = start(&context, &spec)?;
    let target_ms = scenario.network.target_interval_ms;
    // One checkpoint of common history, settled everywhere, so that the fork point is shared.
    let common_by = scenario.run.duration_s * 1000;
    while engine.node(0).chain().height() < 1 && engine.step(common_by) {}
    engine.run_until(engine.now_ms() + 4 * scenario.network.latency_ms + 4);
    let fork_height = engine.node(0).chain().height();
    let groups: Vec<u8> = (0..nodes).map(|index| u8::from(index >= side_a)).collect();
    engine.partition(groups);
    let payer = nodes - 1;
    let payer_account = engine.account(payer);
    let nonce = engine.node(payer).chain().ledger().next_nonce(&payer_account);
    let merchant = engine.account(0);
    let sink = Keypair::derived("vein-scenarios/sink", 0).account();
    let payment = engine
        .build_transfer(payer, nonce, merchant, 1_000)
        .ok_or_else(|| context.setup("payer cannot build the payment"))?;
    let conflict = engine
        .build_transfer(payer, nonce, sink, 1_000)
        .ok_or_else(|| context.setup("payer cannot build the conflicting spend"))?;
    let payment_id = payment.id().map_err(|error| context.setup(error.to_string()))?;
    let conflict_id = conflict.id().map_err(|error| context.setup(error.to_string()))?;
    engine.inject(0, payment);
    engine.inject(payer, conflict);
    let heal_ms = engine.now_ms() + (d * target_ms as f64).round() as u64;
    let mut delivered = false;
    while engine.step(heal_ms) {
        if !delivered {
            let height = engine.node(0).chain().height();
            delivered = engine.node(0).dag().confirmation(&payment_id).is_some_and(|c| {
                c.outcome == Outcome::Applied
                    && c.height > fork_height
                    && height + 1 >= c.height + z
            });
        }
    }
    engine.run_until(heal_ms);
    engine.heal();
    // Heads meet through the next checkpoint or the anti-entropy announcements (every 2 s); a
    // tie waits for the next checkpoint. Ten intervals leave a tie unresolved with e^−10.
    engine.run_until(heal_ms + 10 * target_ms);
    let view = engine.node(0);
    let dag = view.dag();
    let payment_applied =
        dag.confirmation(&payment_id).is_some_and(|c| c.outcome == Outcome::Applied);
    let conflict_applied =
        dag.confirmation(&conflict_id).is_some_and(|c| c.outcome == Outcome::Applied);
    let reverted = delivered && !payment_applied;
    let mut violations = invariants(&engine, nodes, 2);
    if payment_applied && conflict_applied {
        violations.push(Violation {
            invariant: "double-apply".into(),
            at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
            node: Some(0),
            detail: "both spends of one nonce applied".into(),
        });
    }
    let z32 = u32::try_from(z).unwrap_or(u32::MAX);
    let expected = context.reference(reference::network_split_revert(share, d, z32))?;
    let delivery = context.reference(reference::poisson_at_least(share * d, z32))?;
    let measurements = vec![
        Measurement::proportion(
            "split_revert",
            context.labels.clone(),
            u64::from(reverted),
            1,
            Some(Reference::new(
                expected,
                "Poisson race: A ≥ z and B > A, or B = A and B next (1 − s)",
                CITATION,
            )),
        )?,
        Measurement::proportion(
            "split_delivered",
            context.labels.clone(),
            u64::from(delivered),
            1,
            Some(Reference::new(delivery, "P(Poisson(s·d) ≥ z)", CITATION)),
        )?,
    ];
    Ok(finish(&context, &engine, violations, measurements))
}

const CITATION: &str = "vein PROTOCOL.md §7 #12: sides forge as Poisson processes of rates s/T \
                        and (1 − s)/T; the heavier branch wins at the heal, ties first-seen";

/// `[attacker] kind = "network-split"` (#12): the network is split into the merchant's side
/// (share `s`) and the other side for `d` target intervals; the payer spends one nonce
/// differently on each side and the merchant delivers after `z` checkpoints of its side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitPayer {
    /// Share of the space on the merchant's side.
    pub s: f64,
    /// Checkpoints of its side the merchant waits before delivering.
    pub z: u64,
    /// The split's duration, in target intervals T.
    pub d: f64,
}

impl AttackerKind for SplitPayer {
    const KIND: &'static str = "network-split";
    const PARAMETERS: &'static [&'static str] = &["s", "z", "d"];

    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        share_and_split(self.s, 1)?;
        if !(self.d.is_finite() && (0.0..=100.0).contains(&self.d)) {
            return Err(out_of_range("attacker.d", self.d, "[0, 100]"));
        }
        if network.nodes < 4 {
            return Err(InvalidValue::OutOfRange {
                field: "network.nodes",
                value: network.nodes.to_string(),
                expected: "at least 4 for a network split (two nodes a side)",
            });
        }
        confirmations(self.z)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "s" => self.s = value,
            "z" => self.z = whole(name, value)?,
            "d" => self.d = value,
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("s".into(), self.s);
        labels.insert("z".into(), self.z as f64);
        labels.insert("d".into(), self.d);
    }
}
