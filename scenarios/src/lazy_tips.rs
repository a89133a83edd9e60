//! #10: lazy tips and a parasite sub-DAG. A non-mining attacker issues `rate` transfers a second,
//! each approving its own previous transfer (so its units form a chain of their own, a parasite
//! sub-DAG) and an honest unit issued at least [`LAG_S`] seconds earlier, never a recent tip.
//! Honest wallets keep transferring meanwhile. Each seed runs twice on the same genesis and the
//! same honest workload, attacker silent then lazy, so the latency comparison is paired.
//!
//! What must hold (PROTOCOL.md §7 #10): honest transfers are applied and confirmed as fast as
//! without the attacker. Measurements: `lazy_honest_confirmed` (reference 1),
//! `lazy_honest_latency_increase_s` (lazy minus silent, blocks of 20 transfers; reference 0),
//! and, shown but not judged, `lazy_confirmed` (lazy units applied by the settled chain),
//! `lazy_latency_s` (their confirmation latency) and `lazy_run_honest_latency_s` (the honest
//! transfers' latency in the same run, to compare with).

use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{Rate, RateKind};
use crate::engine::Engine;
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::spec_with_silent_attacker;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};

/// Honest transfers per latency block (about 10 s at 2 tx/s): close to independent.
const LATENCY_BLOCK: usize = 20;
/// The workload stops this long before the end so that the last transfers can settle.
const SETTLE_S: u64 = 20;
/// A lazy unit approves honest units at least this old: long confirmed, far from the tips.
const LAG_S: u64 = 30;

/// What one run (silent or lazy) left behind.
struct Outcomes {
    /// Latency of each honest transfer in submission order (`None`: not applied, settled).
    honest: Vec<Option<f64>>,
    /// The same for each lazy transfer.
    lazy: Vec<Option<f64>>,
    violations: Vec<Violation>,
    run: RunMetrics,
}

/// The family's type in the registry.
pub struct LazyTips;

impl Family for LazyTips {
    const METRIC: &'static str = "lazy_tips";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::Unchanged];
    type Attacker = LazyIssuer;

    fn story(_scenario: &Scenario) -> String {
        "A non-mining attacker issues `rate` transfers per second, each approving its own \
             previous transfer (a parasite chain) and an honest unit issued at least 30 s \
             earlier, never recent tips; honest wallets transfer at tx_per_s. Each seed runs \
             twice on one genesis and workload: attacker silent, then lazy.\n\
             metric: lazy_honest_confirmed (honest transfers applied), \
             lazy_honest_latency_increase_s (paired, lazy minus silent, blocks of 20), \
             lazy_confirmed and lazy_latency_s (the lazy units themselves) and \
             lazy_run_honest_latency_s (shown, not judged).\n\
             reference: 1 and 0 (a lazy issuer cannot slow honest transfers)."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed: silent, then lazy, on the same genesis and workload.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let lazy: LazyIssuer = context.attacker()?;
    let rate = lazy.rate;
    let silent = run_once::<E>(&context, 0.0)?;
    let lazy = run_once::<E>(&context, rate)?;
    let mut differences = Vec::new();
    let mut block = Vec::new();
    for (with, without) in lazy.honest.iter().zip(&silent.honest) {
        if let (Some(with), Some(without)) = (with, without) {
            block.push(with - without);
        }
        if block.len() == LATENCY_BLOCK {
            differences.push(block.iter().sum::<f64>() / block.len() as f64);
            block.clear();
        }
    }
    let applied = |latencies: &[Option<f64>]| latencies.iter().flatten().count() as u64;
    let labels = &context.labels;
    let protocol = reference::CITATION_PROTOCOL;
    let mut measurements = vec![Measurement::proportion(
        "lazy_honest_confirmed",
        labels.clone(),
        applied(&lazy.honest),
        lazy.honest.len() as u64,
        Some(Reference::new(1.0, "every honest transfer applied", protocol)),
    )?];
    if differences.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "lazy_honest_latency_increase_s",
            labels.clone(),
            differences,
            Some(Reference::new(0.0, "latency unchanged by lazy units", protocol)),
        )?);
    }
    if !lazy.lazy.is_empty() {
        measurements.push(Measurement::proportion(
            "lazy_confirmed",
            labels.clone(),
            applied(&lazy.lazy),
            lazy.lazy.len() as u64,
            None,
        )?);
    }
    // For comparison with the lazy units' latency: the honest transfers' own, same run.
    let honest_latencies: Vec<f64> = lazy.honest.iter().flatten().copied().collect();
    if honest_latencies.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "lazy_run_honest_latency_s",
            labels.clone(),
            honest_latencies,
            None,
        )?);
    }
    let lazy_latencies: Vec<f64> = lazy.lazy.iter().flatten().copied().collect();
    if lazy_latencies.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "lazy_latency_s",
            labels.clone(),
            lazy_latencies,
            None,
        )?);
    }
    let mut run = lazy.run;
    run.violations = silent.violations.into_iter().chain(lazy.violations).collect();
    run.measurements = measurements;
    Ok(run)
}

fn run_once<E: Engine>(context: &Context<'_>, rate: f64) -> Result<Outcomes, RunError> {
    let scenario = context.scenario;
    // The attacker only needs an account and a node to gossip from.
    let (spec, attacker) = spec_with_silent_attacker(scenario);
    let honest = attacker;
    let mut engine: E = start(context, &spec)?;
    let seed_bytes = context.seed.to_le_bytes();
    let mut workload = DetRng::from_seed(Hash::of_parts(&[b"lazy-honest", &seed_bytes]).0);
    let mut issuer = DetRng::from_seed(Hash::of_parts(&[b"lazy-attacker", &seed_bytes]).0);
    let gap = |rng: &mut DetRng, per_s: f64| -(1.0 - rng.unit_f64()).ln() * 1000.0 / per_s;
    let tx_per_s = scenario.workload.tx_per_s;
    let end_ms = scenario.run.duration_s * 1000;
    let stop_ms = end_ms.saturating_sub(SETTLE_S * 1000) as f64;
    let mut next_honest = if tx_per_s > 0.0 { gap(&mut workload, tx_per_s) } else { f64::MAX };
    let mut next_lazy = if rate > 0.0 { gap(&mut issuer, rate) } else { f64::MAX };
    let mut honest_sent: Vec<(u64, Option<Hash>)> = Vec::new();
    let mut lazy_sent: Vec<(u64, Hash)> = Vec::new();
    let mut nonce = 0u64;
    let sink = engine.account(0);
    while next_honest.min(next_lazy) < stop_ms {
        if next_honest <= next_lazy {
            let at = next_honest as u64;
            engine.run_until(at);
            let from = workload.index(honest);
            let to = engine.account((from + 1 + workload.index(honest)) % (honest + 1));
            honest_sent.push((at, engine.transfer(from, to, 1)));
            next_honest += gap(&mut workload, tx_per_s);
        } else {
            let at = next_lazy as u64;
            engine.run_until(at);
            next_lazy += gap(&mut issuer, rate);
            // Old honest units the node has: issued LAG_S or more before now.
            let old: Vec<Hash> = honest_sent
                .iter()
                .take_while(|(sent, _)| sent + LAG_S * 1000 <= at)
                .filter_map(|(_, id)| *id)
                .collect();
            if old.is_empty() {
                continue;
            }
            let anchor = old[issuer.index(old.len())];
            let previous = lazy_sent.last().map_or(old[0], |(_, id)| *id);
            if previous == anchor {
                continue; // Parents must differ; the next draw will.
            }
            let tx =
                engine.build_transfer_with_parents(attacker, nonce, sink, 1, [previous, anchor]);
            if let Some(tx) = tx
                && let Ok(id) = tx.id()
            {
                engine.inject(attacker, tx);
                lazy_sent.push((at, id));
                nonce += 1;
            }
        }
    }
    engine.run_until(end_ms);
    let k = scenario.network.finality_depth;
    let view = engine.node(0);
    let chain = view.chain();
    let top = chain.height().saturating_sub(k);
    let dag = view.dag();
    let latency = |at: u64, id: &Hash| -> Option<f64> {
        let confirmation = dag.confirmation(id).filter(|c| c.height <= top)?;
        if confirmation.outcome != Outcome::Applied {
            return None;
        }
        let header = chain.active_at(confirmation.height).and_then(|id| chain.header(&id))?;
        Some(header.timestamp_ms.saturating_sub(at) as f64 / 1000.0)
    };
    let honest_latencies =
        honest_sent.iter().map(|(at, id)| id.as_ref().and_then(|id| latency(*at, id))).collect();
    let lazy_latencies = lazy_sent.iter().map(|(at, id)| latency(*at, id)).collect();
    let violations = invariants(&engine, honest, k);
    let run = finish(context, &engine, Vec::new(), Vec::new());
    Ok(Outcomes { honest: honest_latencies, lazy: lazy_latencies, violations, run })
}

/// The kind string of [`LazyIssuer`].
#[derive(Debug, Clone, PartialEq)]
pub struct LazyKind;

impl RateKind for LazyKind {
    const KIND: &'static str = "lazy-tips";
}

/// `[attacker] kind = "lazy-tips"`: `rate` transfers per second, each approving the attacker's
/// previous one and an old honest unit instead of recent tips.
pub type LazyIssuer = Rate<LazyKind>;
