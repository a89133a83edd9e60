//! #10: conflict spam. An attacker account signs, `rate` times a second, two transfers that spend
//! the same nonce to different recipients, and hands one to its own node (which gossips it) and
//! the other straight to a random honest node, so that the network sees both and different nodes
//! see them in different orders. Honest wallets keep transferring meanwhile.
//!
//! The attacker is an ordinary node whose wallet signs with explicit nonces
//! (`Node::build_transaction`); only the decision to sign twice lives here. What must hold
//! (PROTOCOL.md §7 #10): White Flag applies at most one spend of each pair, the same one on every
//! honest node (their chains agree, and the ledger is a function of the chain), and honest
//! transfers are confirmed as before. Each seed runs twice on the same genesis and the same honest
//! workload, once with the attacker silent and once spamming, so the latency comparison is paired.
//!
//! Measurements: `conflicts_applied_at_most_once` (settled pairs without both spends applied;
//! reference 1; both applied is also a `double-apply` violation), `conflicts_applied_none` (not
//! judged: pairs the nonce window refused whole), `honest_confirmed` (honest transfers applied by the settled chain; reference 1)
//! and `honest_latency_increase_s` (paired difference of the honest confirmation latency, spam
//! minus silent, in blocks of 20 transfers; reference 0).

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

/// Honest transfers per latency block: consecutive transfers share checkpoints, blocks of 20
/// (about 10 s at 2 tx/s) are close to independent.
const LATENCY_BLOCK: usize = 20;
/// The workload stops this long before the end so that the last transfers can settle.
const SETTLE_S: u64 = 20;

/// What one run (silent or spamming) left behind.
struct Outcomes {
    /// Confirmation latency of each honest transfer in submission order (`None`: not applied
    /// by the settled chain).
    latencies: Vec<Option<f64>>,
    /// Settled conflict pairs: with exactly one spend applied, with none, and all of them.
    pairs_once: u64,
    pairs_none: u64,
    pairs_settled: u64,
    violations: Vec<Violation>,
    run: RunMetrics,
}

/// The family's type in the registry.
pub struct ConflictSpam;

impl Family for ConflictSpam {
    const METRIC: &'static str = "conflict_spam";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::ExactlyOnce];
    type Attacker = Spammer;

    fn story(_scenario: &Scenario) -> String {
        "An attacker account signs `rate` pairs per second of two transfers spending one \
             nonce, gives one to its node and the other to a random honest node; honest \
             wallets transfer at tx_per_s. Each seed runs twice on one genesis and workload: \
             attacker silent, then spamming.\n\
             metric: conflicts_applied_at_most_once (settled pairs, never both spends \
             applied; conflicts_applied_none, pairs the nonce window refused whole, is shown), \
             honest_confirmed (honest transfers applied), honest_latency_increase_s (paired \
             latency difference, blocks of 20 transfers).\n\
             reference: 1, 1 and 0 (White Flag applies one spend per nonce at most; spam leaves \
             honest transfers alone)."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed: silent, then spamming, on the same genesis and workload.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let spam: Spammer = context.attacker()?;
    let rate = spam.rate;
    let silent = run_once::<E>(&context, 0.0)?;
    let spam = run_once::<E>(&context, rate)?;
    let mut differences = Vec::new();
    let mut block = Vec::new();
    for (with, without) in spam.latencies.iter().zip(&silent.latencies) {
        if let (Some(with), Some(without)) = (with, without) {
            block.push(with - without);
        }
        if block.len() == LATENCY_BLOCK {
            differences.push(block.iter().sum::<f64>() / block.len() as f64);
            block.clear();
        }
    }
    let honest = spam.latencies.len() as u64;
    let confirmed = spam.latencies.iter().filter(|latency| latency.is_some()).count() as u64;
    let labels = &context.labels;
    let protocol = reference::CITATION_PROTOCOL;
    let mut measurements = vec![
        Measurement::proportion(
            "conflicts_applied_at_most_once",
            labels.clone(),
            spam.pairs_once + spam.pairs_none,
            spam.pairs_settled,
            Some(Reference::new(1.0, "never both spends of one nonce", protocol)),
        )?,
        // Not judged: both spends are ignored, legitimately, once the attacker's nonce is more
        // than the nonce window (1024) above its lowest unused one, i.e. when an earlier pair
        // stays unconfirmed: the window is what bounds a spammer's backlog.
        Measurement::proportion(
            "conflicts_applied_none",
            labels.clone(),
            spam.pairs_none,
            spam.pairs_settled,
            None,
        )?,
        Measurement::proportion(
            "honest_confirmed",
            labels.clone(),
            confirmed,
            honest,
            Some(Reference::new(1.0, "every honest transfer applied", protocol)),
        )?,
    ];
    if differences.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "honest_latency_increase_s",
            labels.clone(),
            differences,
            Some(Reference::new(0.0, "latency unchanged by spam", protocol)),
        )?);
    }
    let mut run = spam.run;
    run.violations = silent.violations.into_iter().chain(spam.violations).collect();
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
    let mut workload = DetRng::from_seed(Hash::of_parts(&[b"spam-honest", &seed_bytes]).0);
    let mut spammer = DetRng::from_seed(Hash::of_parts(&[b"spam-attacker", &seed_bytes]).0);
    let gap = |rng: &mut DetRng, per_s: f64| -(1.0 - rng.unit_f64()).ln() * 1000.0 / per_s;
    let tx_per_s = scenario.workload.tx_per_s;
    let end_ms = scenario.run.duration_s * 1000;
    let stop_ms = end_ms.saturating_sub(SETTLE_S * 1000) as f64;
    let mut next_honest = if tx_per_s > 0.0 { gap(&mut workload, tx_per_s) } else { f64::MAX };
    let mut next_spam = if rate > 0.0 { gap(&mut spammer, rate) } else { f64::MAX };
    let mut submitted: Vec<(u64, Option<Hash>)> = Vec::new();
    let mut pairs: Vec<(Hash, Hash)> = Vec::new();
    let mut nonce = 0u64;
    let sinks = [engine.account(0), engine.account(1 % honest)];
    while next_honest.min(next_spam) < stop_ms {
        if next_honest <= next_spam {
            let at = next_honest as u64;
            engine.run_until(at);
            let from = workload.index(honest);
            // Any account but the sender's (the attacker's included).
            let to = engine.account((from + 1 + workload.index(honest)) % (honest + 1));
            submitted.push((at, engine.transfer(from, to, 1)));
            next_honest += gap(&mut workload, tx_per_s);
        } else {
            engine.run_until(next_spam as u64);
            let first = engine.build_transfer(attacker, nonce, sinks[0], 1);
            let second = engine.build_transfer(attacker, nonce, sinks[1], 2);
            if let (Some(first), Some(second)) = (first, second)
                && let (Ok(first_id), Ok(second_id)) = (first.id(), second.id())
            {
                engine.inject(attacker, first);
                engine.inject(spammer.index(honest), second);
                pairs.push((first_id, second_id));
            }
            nonce += 1;
            next_spam += gap(&mut spammer, rate);
        }
    }
    engine.run_until(end_ms);
    let k = scenario.network.finality_depth;
    let view = engine.node(0);
    let chain = view.chain();
    let top = chain.height().saturating_sub(k);
    let dag = view.dag();
    let settled_at = |id: &Hash| -> Option<(u64, Outcome)> {
        dag.confirmation(id).filter(|c| c.height <= top).map(|c| (c.height, c.outcome))
    };
    let timestamp = |height: u64| -> Option<u64> {
        chain.active_at(height).and_then(|id| chain.header(&id)).map(|h| h.timestamp_ms)
    };
    let latencies = submitted
        .iter()
        .map(|(at, id)| {
            let (height, outcome) = settled_at(id.as_ref()?)?;
            if outcome != Outcome::Applied {
                return None;
            }
            Some(timestamp(height)?.saturating_sub(*at) as f64 / 1000.0)
        })
        .collect();
    let mut violations = invariants(&engine, honest, k);
    let mut pairs_once = 0;
    let mut pairs_none = 0;
    let mut pairs_settled = 0;
    for (index, (first, second)) in pairs.iter().enumerate() {
        let outcomes = [settled_at(first), settled_at(second)];
        if outcomes.iter().all(Option::is_none) {
            continue; // Neither spend is settled yet: nothing to judge.
        }
        pairs_settled += 1;
        let applied =
            outcomes.iter().filter(|o| o.is_some_and(|(_, o)| o == Outcome::Applied)).count();
        match applied {
            0 => pairs_none += 1,
            1 => pairs_once += 1,
            _ => {}
        }
        if applied == 2 {
            violations.push(Violation {
                invariant: "double-apply".into(),
                at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
                node: Some(0),
                detail: format!("both spends of attacker nonce {index} applied"),
            });
        }
    }
    let run = finish(context, &engine, Vec::new(), Vec::new());
    Ok(Outcomes { latencies, pairs_once, pairs_none, pairs_settled, violations, run })
}

/// The kind string of [`Spammer`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpamKind;

impl RateKind for SpamKind {
    const KIND: &'static str = "conflict-spam";
}

/// `[attacker] kind = "conflict-spam"`: `rate` pairs per second of conflicting spends of one
/// nonce.
pub type Spammer = Rate<SpamKind>;
