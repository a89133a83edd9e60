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

use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference;

use crate::attacker::Attacker;
use crate::chain_view::settled_chain;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{MetricName, Scenario};
use crate::workload::{TxSource, drive};

/// The family's type in the registry.
pub struct Grinding;

impl Family for Grinding {
    const METRIC: MetricName = MetricName::GrindShare;

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the grinding scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let Attacker::Grind(grind) = &scenario.attacker else {
        return Err(context.setup("grind_share needs attacker.kind = \"grind\""));
    };
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
