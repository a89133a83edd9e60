//! Family #1, the honest baseline: an honest network's checkpoint interval (mean and CV) and the
//! network capacity estimated from intervals and base targets, judged against T, CV = 1 and the
//! configured space. The settled chain is cut into blocks of `BLOCK_CHECKPOINTS`.

use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference;

use crate::attacker::NoAttacker;
use crate::chain_view::{BLOCK_CHECKPOINTS, settled_chain};
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::workload::{TxSource, drive};

/// Bytes per nonce (4096 scoops × 64 B).
const NONCE_BYTES: f64 = 262_144.0;

/// The family's type in the registry.
pub struct Baseline;

impl Family for Baseline {
    const METRIC: &'static str = "checkpoint_interval";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::TargetInterval];
    type Attacker = NoAttacker;

    fn story(_scenario: &Scenario) -> String {
        "Honest nodes mine; the settled chain's intervals are cut into blocks of 100.\n\
             metric: checkpoint_interval_s (mean), interval_cv (per block), capacity_bytes \
             (per block, (n-1)/sum(interval*base_target/2^64) nonces x 256 KiB).\n\
             reference: mean = T; CV = 1 (exponential intervals); capacity = configured \
             space, i.e. 2^82/(T*base_target) bytes."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        baseline::<E>(scenario, seed)
    }
}

/// #1: honest network; interval mean and CV, capacity estimate.
fn baseline<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let capacities = honest_capacities(scenario);
    let total_nonces: u64 = capacities.iter().sum();
    let spec = NetSpec {
        capacities,
        params: params(scenario),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: Vec::new(),
    };
    let mut engine: E = start(&context, &spec)?;
    let mut source = TxSource::new(seed, scenario.workload.tx_per_s, engine.node_count());
    drive(&mut engine, &mut source, scenario.run.duration_s * 1000);
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k);
    let needed = 2 * BLOCK_CHECKPOINTS + 1;
    if chain.len() < needed {
        return Err(context.too_short(chain.len(), needed));
    }
    // Interval i ends at checkpoint i; the first checkpoint's interval starts at genesis (0).
    let mut intervals_s = Vec::with_capacity(chain.len());
    let mut rates = Vec::with_capacity(chain.len());
    let mut previous_ms = 0u64;
    for link in &chain {
        let interval_s = link.timestamp_ms.saturating_sub(previous_ms) as f64 / 1000.0;
        previous_ms = link.timestamp_ms;
        intervals_s.push(interval_s);
        // interval · base_target / 2^64 is Exp(N) for N nonces of network space.
        rates.push(interval_s * link.base_target as f64 / 2f64.powi(64));
    }
    let mut cvs = Vec::new();
    let mut capacities_bytes = Vec::new();
    for (block, weighted) in
        intervals_s.chunks_exact(BLOCK_CHECKPOINTS).zip(rates.chunks_exact(BLOCK_CHECKPOINTS))
    {
        if let Ok(cv) = vein_reports::stats::coefficient_of_variation(block) {
            cvs.push(cv);
        }
        // (n − 1) / Σ is the unbiased estimator of an exponential rate (1 / mean is not).
        let sum: f64 = weighted.iter().sum();
        if sum > 0.0 {
            capacities_bytes.push((BLOCK_CHECKPOINTS as f64 - 1.0) / sum * NONCE_BYTES);
        }
    }
    let target_s = scenario.network.target_interval_ms as f64 / 1000.0;
    let labels = &context.labels;
    let measurements = vec![
        Measurement::mean_of(
            "checkpoint_interval_s",
            labels.clone(),
            intervals_s,
            Some(Reference::new(target_s, "target interval T", reference::CITATION_PROTOCOL)),
        )?,
        Measurement::mean_of(
            "interval_cv",
            labels.clone(),
            cvs,
            Some(Reference::new(
                reference::exponential_interval_cv(),
                "CV of exponential intervals = 1",
                reference::CITATION_PROTOCOL,
            )),
        )?,
        Measurement::mean_of(
            "capacity_bytes",
            labels.clone(),
            capacities_bytes,
            Some(Reference::new(
                total_nonces as f64 * NONCE_BYTES,
                "configured space; estimate 2^82/(T·base_target)",
                reference::CITATION_PROTOCOL,
            )),
        )?,
    ];
    let violations = invariants(&engine, engine.node_count(), k);
    Ok(finish(&context, &engine, violations, measurements))
}
