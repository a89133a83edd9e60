//! #5: challenge grinding. Node 0 holds share `s` and runs the core with
//! `Policy::Grind { variants }`: every checkpoint it wins is forged in `variants` versions
//! (different timestamps and parent sets, so different ids and ledger roots) and it publishes the
//! version after which its own next deadline is smallest. The protocol's defence is that the next
//! generation signature is `H(g_h ‖ winner_h)`: nothing a winner can vary enters it (only the
//! timestamp moves the next base target when retargeting, which scales every miner's deadline
//! alike and so cannot change who wins).
//!
//! Measurements: `grind_share`, the fraction of the settled chain node 0 authored (reference
//! `s`), and `grind_one_signature`, the fraction of its version sets whose versions all lead to
//! one next generation signature (reference 1). Shown beside the share, not judged: what the same attacker
//! would get if the signature depended on content, `s / (s + (1 − s)^g)` (after a win it draws g
//! fresh lotteries and keeps one it wins if any: a two-state Markov chain).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, share_and_split, whole};
use crate::chain_view::settled_chain;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};
use crate::workload::{TxSource, drive};

/// The family's type in the registry.
pub struct Grinding;

impl Family for Grinding {
    const METRIC: &'static str = "grind_share";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::Share];
    type Attacker = Grind;

    fn story(_scenario: &Scenario) -> String {
        "Node 0 holds share s and runs Policy::Grind: each checkpoint it wins is forged in \
             g versions (timestamps, parent sets) and it publishes the one after which its own \
             next deadline is smallest.\n\
             metric: grind_share (node 0's share of the settled chain, Wilson CI) and \
             grind_one_signature (version sets leading to one next generation signature).\n\
             reference: s and 1 (g_h = H(g_{h-1} || winner) holds no content); \
             s/(s+(1-s)^g), the share if content entered the signature, is shown."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the grinding scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let grind: Grind = context.attacker()?;
    let (s, variants) = (grind.s, grind.variants);
    let variants = u8::try_from(variants).map_err(|_| context.setup("variants above 255"))?;
    let nodes = scenario.network.nodes;
    let total = scenario.network.nonces_per_node * nodes;
    let grinder = ((total as f64) * s).round().max(1.0) as u64;
    let others = (total.saturating_sub(grinder) / (nodes - 1).max(1)).max(1);
    let mut capacities = vec![others; nodes as usize];
    capacities[0] = grinder;
    let share = grinder as f64 / capacities.iter().sum::<u64>() as f64;
    let mut policies = vec![Policy::Honest; nodes as usize];
    policies[0] = Policy::Grind { variants };
    let spec = NetSpec {
        capacities,
        params: params(scenario),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    };
    let mut engine: E = start(&context, &spec)?;
    let mut source = TxSource::new(seed, scenario.workload.tx_per_s, engine.node_count());
    drive(&mut engine, &mut source, scenario.run.duration_s * 1000);
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k);
    if chain.is_empty() {
        return Err(context.too_short(0, 1));
    }
    let account = engine.account(0);
    let won = chain.iter().filter(|link| link.author == account).count() as u64;
    let expected = context.reference(reference::expected_win_share(share))?;
    let g = i32::from(variants);
    let content_grinding = share / (share + (1.0 - share).powi(g));
    let view = engine.node(0);
    let stats = view.stats();
    let mut measurements = vec![
        Measurement::proportion(
            "grind_share",
            context.labels.clone(),
            won,
            chain.len() as u64,
            Some(Reference::new(expected, "s (content-free signature)", CITATION)),
        )?
        .with_other_reference(Reference::new(
            content_grinding,
            "if content were in the signature: s/(s+(1−s)^g)",
            CITATION,
        )),
    ];
    if stats.grind_rounds > 0 {
        measurements.push(Measurement::proportion(
            "grind_one_signature",
            context.labels.clone(),
            stats.grind_rounds_one_signature,
            stats.grind_rounds,
            Some(Reference::new(1.0, "one signature whatever the content", CITATION)),
        )?);
    }
    let violations = invariants(&engine, engine.node_count(), k);
    Ok(finish(&context, &engine, violations, measurements))
}

const CITATION: &str = "vein PROTOCOL.md §3: g_h = H(g_{h-1} ‖ winner_{h-1})";

/// `[attacker] kind = "grind"`: challenge grinding with share `s`, forging each checkpoint in
/// `variants` versions and publishing the one that gives it the best next deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grind {
    /// Share of the space held by the grinder.
    pub s: f64,
    /// Versions of each checkpoint the attacker forges and chooses from.
    pub variants: u64,
}

impl AttackerKind for Grind {
    const KIND: &'static str = "grind";
    const PARAMETERS: &'static [&'static str] = &["s", "variants"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        share_and_split(self.s, 1)?;
        at_least("attacker.variants", self.variants, 1)?;
        at_most("attacker.variants", self.variants, 64)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "s" => self.s = value,
            "variants" => self.variants = whole(name, value)?,
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("s".into(), self.s);
        labels.insert("variants".into(), self.variants as f64);
    }
}
