//! #11: tip dynamics under uniform tip selection (IOTA whitepaper §3: `L ≈ 2λh`).
//!
//! Model of the formula: transactions arrive as a Poisson process of rate λ; each selects its two
//! parents among the tips its issuer sees, and becomes visible to *everyone*, its issuer
//! included, h later (in IOTA, h is the time to do the proof of work and propagate). Then the
//! tips a node sees are the true tips plus the ≈ λh units approved by transactions it cannot see
//! yet; a new transaction picks a true tip with probability `(L − λh)/L`, and the stationary
//! count solves `2(L − λh)/L = 1`, i.e. `L = 2λh`.
//!
//! The story keeps exactly that model. A transfer is *built* at a random node (tip selection on
//! that node's view, with an explicit nonce) and handed to every node, its issuer included,
//! `latency_ms` later, so h is `network.latency_ms` with no jitter. (A node's own wallet would
//! see its unit at once: with n nodes the count is then closer to `2λh·((n−1)/n)²`, 0.55 × 2λh
//! at 4 nodes, a finite-n effect of the delivery model rather than of tip selection.)
//! Measurement: node 0's tip count every 100 ms after a 10% warm-up, in 10-s block means.

use std::collections::BTreeMap;

use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;
use vein_node::core::transaction::Transaction;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Series};
use vein_reports::reference;

use crate::attacker::NoAttacker;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, out_of_range};

/// Sampling period of the tip count.
const SAMPLE_MS: u64 = 100;
/// Samples per block mean (10 s): consecutive samples are correlated, blocks much less.
const SAMPLES_PER_BLOCK: usize = 100;

/// The family's type in the registry.
pub struct TipDynamics;

impl Family for TipDynamics {
    const METRIC: &'static str = "tip_count";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::TwoLambdaH];
    type Attacker = NoAttacker;

    /// The tip count of an idle DAG is undefined: the family needs transfers.
    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        let rate = scenario.workload.tx_per_s;
        if rate <= 0.0 {
            return Err(out_of_range("workload.tx_per_s", rate, "(0, 10000] for tip_count"));
        }
        Ok(())
    }

    /// The reference 2λh depends on the rate and the latency, so both label the measurement.
    fn labels(scenario: &Scenario, labels: &mut BTreeMap<String, f64>) {
        labels.insert("tx_per_s".to_string(), scenario.workload.tx_per_s);
        labels.insert("latency_ms".to_string(), scenario.network.latency_ms as f64);
    }

    fn story(_scenario: &Scenario) -> String {
        "Transfers arrive at total rate lambda; each selects its parents (uniform tip \
             selection) on a random node's view and reaches every node, its issuer included, \
             h = latency_ms later. Node 0's tip count is sampled every 100 ms after a 10% \
             warm-up (10 s block means).\n\
             metric: tip_count.\n\
             reference: L = 2*lambda*h (IOTA whitepaper; first order: the model's exact mean \
             is about 0.25 tip higher)."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the tip-count scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let spec = NetSpec {
        capacities: honest_capacities(scenario),
        params: params(scenario),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: Vec::new(),
    };
    let mut engine: E = start(&context, &spec)?;
    let lambda = scenario.workload.tx_per_s;
    let h_ms = scenario.network.latency_ms;
    let nodes = engine.node_count();
    let mut rng = DetRng::from_seed(Hash::of_parts(&[b"tip-workload", &seed.to_le_bytes()]).0);
    let mean_gap_ms = 1000.0 / lambda;
    let gap = |rng: &mut DetRng| -(1.0 - rng.unit_f64()).ln() * mean_gap_ms;
    let mut next_arrival = gap(&mut rng);
    // Deliveries by time; the sequence number keeps same-millisecond units in issue order.
    let mut pending: BTreeMap<(u64, u64), Transaction> = BTreeMap::new();
    let mut issued = 0u64;
    let mut nonces = vec![0u64; nodes];
    let duration_ms = scenario.run.duration_s * 1000;
    let warmup_ms = duration_ms / 10;
    let mut next_sample = warmup_ms + SAMPLE_MS;
    let mut samples = Vec::new();
    loop {
        let arrival = next_arrival.ceil() as u64;
        let delivery = pending.keys().next().map_or(u64::MAX, |(at, _)| *at);
        let now = arrival.min(delivery).min(next_sample);
        if now > duration_ms {
            break;
        }
        engine.run_until(now);
        if now == delivery {
            while let Some(entry) = pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let tx = entry.remove();
                for node in 0..nodes {
                    engine.inject(node, tx.clone());
                }
            }
        } else if now == arrival {
            let from = rng.index(nodes);
            let to = engine.account((from + 1 + rng.index(nodes.max(2) - 1)) % nodes);
            if let Some(tx) = engine.build_transfer(from, nonces[from], to, 1) {
                nonces[from] += 1;
                issued += 1;
                pending.insert((now + h_ms, issued), tx);
            }
            next_arrival += gap(&mut rng);
        } else {
            samples.push(engine.node(0).dag().tips().len() as f64);
            next_sample += SAMPLE_MS;
        }
    }
    let blocks: Vec<f64> = samples
        .chunks_exact(SAMPLES_PER_BLOCK)
        .map(|block| block.iter().sum::<f64>() / block.len() as f64)
        .collect();
    if blocks.len() < 2 {
        return Err(context.too_short(blocks.len(), 2));
    }
    let h_s = h_ms as f64 / 1000.0;
    let expected = context.reference(reference::uniform_tip_count(lambda, h_s))?;
    let mut series =
        Series { x_label: "time_s".into(), y_label: "tips".into(), points: Vec::new() };
    for (index, value) in samples.iter().enumerate().step_by(10) {
        let at_s = (warmup_ms + SAMPLE_MS * (index as u64 + 1)) as f64 / 1000.0;
        series.points.push([at_s, *value]);
    }
    let measurement = Measurement::mean_of(
        "tip_count",
        context.labels.clone(),
        blocks,
        Some(Reference::new(expected, "2λh", reference::CITATION_IOTA)),
    )?;
    let violations = invariants(&engine, nodes, scenario.network.finality_depth);
    let mut run = finish(&context, &engine, violations, vec![measurement]);
    run.series.insert("tips".into(), series);
    Ok(run)
}
