//! The scenario families: one run of one scenario with one seed, told as a story over an
//! [`Engine`], ending in a [`RunMetrics`] with measurements beside their references.
//!
//! Families (PROTOCOL.md §7): honest baseline (#1), large miner (#2), private double-spend race
//! (#3), selfish mining (#6), tip dynamics (#11). Attackers are ordinary nodes: the race attacker
//! is an honest core cut off from the network while it mines (it never sees honest checkpoints,
//! so it extends only its own branch) and then releases its branch; the selfish miner runs the
//! core with `Policy::Withhold` and releases checkpoints by the Eyal–Sirer rules. Only the
//! *decision when to release* lives here; mining, validation and fork choice are the node's.

use std::collections::BTreeMap;

use thiserror::Error;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::node::Policy;
use vein_node::core::params::{GenesisError, Params};
use vein_node::core::random::DetRng;
use vein_node::core::tips::TipStrategy;
use vein_reports::metrics::{Measurement, MetricsError, Reference, RunMetrics, Violation};
use vein_reports::reference::{self, ReferenceError};

use crate::engine::{Engine, NetSpec};
use crate::scenario::{MetricName, ReferenceName, Scenario, TipSelection};

/// Checkpoints per block when a long run is cut into blocks to get independent-ish samples.
pub const BLOCK_CHECKPOINTS: usize = 100;

/// Bytes per nonce (4096 scoops × 64 B).
const NONCE_BYTES: f64 = 262_144.0;

/// Errors of one run.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("scenario {scenario:?} seed {seed}: genesis refused: {source}")]
    Genesis { scenario: String, seed: u64, source: GenesisError },
    #[error("scenario {scenario:?} seed {seed}: {detail}")]
    Setup { scenario: String, seed: u64, detail: String },
    #[error(
        "scenario {scenario:?} seed {seed}: only {checkpoints} checkpoints; \
         raise run.duration_s to get at least {needed}"
    )]
    TooShort { scenario: String, seed: u64, checkpoints: usize, needed: usize },
    /// A run outgrew a hard bound on its state (e.g. extend-all-forks' private tree): refused
    /// rather than left to use unbounded memory and time.
    #[error(
        "scenario {scenario:?} seed {seed}: {what} reached {size}, above the bound of {limit}; \
         {hint}"
    )]
    TooLarge {
        scenario: String,
        seed: u64,
        what: &'static str,
        size: usize,
        limit: usize,
        hint: &'static str,
    },
    #[error("scenario {scenario:?}: reference: {source}")]
    Reference { scenario: String, source: ReferenceError },
    #[error("scenario {scenario:?} seed {seed}: network did not start: {source}")]
    Start { scenario: String, seed: u64, source: crate::engine::StartError },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Runs one seed of `scenario` on engine `E`.
pub fn run_seed<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    match scenario.metric.name {
        MetricName::CheckpointInterval => baseline::<E>(scenario, seed),
        MetricName::WinShare => win_share::<E>(scenario, seed),
        MetricName::DoubleSpendSuccess => double_spend::<E>(scenario, seed),
        MetricName::SelfishRevenue => selfish::<E>(scenario, seed),
        MetricName::TipCount => crate::tip_dynamics::run::<E>(scenario, seed),
        MetricName::ConflictSpam => crate::conflict_spam::run::<E>(scenario, seed),
        MetricName::GrindShare => crate::grinding::run::<E>(scenario, seed),
        MetricName::SplitRevert => crate::network_split::run::<E>(scenario, seed),
        MetricName::LazyTips => crate::lazy_tips::run::<E>(scenario, seed),
        MetricName::FakeSpaceShare => crate::fake_space::run::<E>(scenario, seed),
        MetricName::ForkGrowth => crate::extend_forks::run::<E>(scenario, seed),
        MetricName::PlotSharing => crate::plot_sharing::run::<E>(scenario, seed),
        MetricName::StorageDetection => crate::storage::detection::<E>(scenario, seed),
        MetricName::ShardLoss => crate::storage::shard_loss::<E>(scenario, seed),
    }
}

/// Shared context of a run: the scenario, the seed, and the labels of its measurements.
pub(crate) struct Context<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) seed: u64,
    pub(crate) labels: BTreeMap<String, f64>,
}

impl Context<'_> {
    pub(crate) fn reference(&self, value: Result<f64, ReferenceError>) -> Result<f64, RunError> {
        value.map_err(|source| RunError::Reference { scenario: self.scenario.name.clone(), source })
    }

    pub(crate) fn setup(&self, detail: impl Into<String>) -> RunError {
        RunError::Setup {
            scenario: self.scenario.name.clone(),
            seed: self.seed,
            detail: detail.into(),
        }
    }

    pub(crate) fn too_short(&self, checkpoints: usize, needed: usize) -> RunError {
        RunError::TooShort {
            scenario: self.scenario.name.clone(),
            seed: self.seed,
            checkpoints,
            needed,
        }
    }
}

pub(crate) fn params(scenario: &Scenario) -> Params {
    let network = &scenario.network;
    Params {
        target_interval_ms: network.target_interval_ms,
        challenge_refresh: network.challenge_refresh,
        finality_depth: network.finality_depth,
        reorg_limit: network.finality_depth.max(32),
        fixed_base_target: !network.retarget,
        ..Params::default()
    }
}

pub(crate) fn tip_strategy(scenario: &Scenario) -> TipStrategy {
    match scenario.workload.tip_selection {
        TipSelection::Uniform => TipStrategy::Uniform,
        TipSelection::WeightedWalk => TipStrategy::WeightedWalk { alpha: 0.5 },
    }
}

pub(crate) fn honest_capacities(scenario: &Scenario) -> Vec<u64> {
    vec![scenario.network.nonces_per_node; scenario.network.nodes as usize]
}

/// The honest network plus one extra node that does not mine (capacity 0) and runs the honest
/// policy, on a fixed base target: the attacker of the paired-run families (conflict spam, lazy
/// tips). It is present, and silent, in the baseline run too, so both runs of a seed share one
/// genesis and one mining lottery. Returns the spec and the attacker's node index.
pub(crate) fn spec_with_silent_attacker(scenario: &Scenario) -> (NetSpec, usize) {
    let mut capacities = honest_capacities(scenario);
    let attacker = capacities.len();
    capacities.push(0);
    let mut params = params(scenario);
    params.fixed_base_target = true;
    let spec = NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: vec![Policy::Honest; attacker + 1],
    };
    (spec, attacker)
}

/// Capacity that gives an extra node share `q` of the total.
pub(crate) fn attacker_capacity(honest_total: u64, q: f64) -> u64 {
    ((honest_total as f64) * q / (1.0 - q)).round().max(1.0) as u64
}

pub(crate) fn start<E: Engine>(context: &Context<'_>, spec: &NetSpec) -> Result<E, RunError> {
    E::start(spec, context.seed).map_err(|source| RunError::Genesis {
        scenario: context.scenario.name.clone(),
        seed: context.seed,
        source,
    })
}

/// One checkpoint of a node's active chain.
pub(crate) struct Link {
    pub(crate) author: AccountId,
    pub(crate) timestamp_ms: u64,
    pub(crate) base_target: u64,
}

/// Node `index`'s active chain from height 1 up to `head − skip_top`: the part that can no
/// longer change in practice.
pub(crate) fn settled_chain<E: Engine>(engine: &E, index: usize, skip_top: u64) -> Vec<Link> {
    let view = engine.node(index);
    let chain = view.chain();
    let top = chain.height().saturating_sub(skip_top);
    (1..=top)
        .filter_map(|height| {
            let id = chain.active_at(height)?;
            let header = chain.header(&id)?;
            Some(Link {
                author: header.author,
                timestamp_ms: header.timestamp_ms,
                base_target: header.base_target,
            })
        })
        .collect()
}

/// Checks of PROTOCOL.md §8 over the honest nodes `0..honest` (an attacker's own view may
/// legitimately disagree): no conflicting finality, ledger invariants, and one chain below
/// `agree_below` checkpoints from the lowest head.
pub(crate) fn invariants<E: Engine>(engine: &E, honest: usize, agree_below: u64) -> Vec<Violation> {
    let at = engine.now_ms() as f64 / 1000.0;
    let mut violations = Vec::new();
    let mut agreed: BTreeMap<u64, (Hash, usize)> = BTreeMap::new();
    'nodes: for index in 0..honest {
        for (height, id) in engine.finals(index) {
            match agreed.get(height) {
                Some((other, first)) if other != id => {
                    violations.push(Violation {
                        invariant: "conflicting-finality".into(),
                        at_simulated_seconds: at,
                        node: Some(index as u64),
                        detail: format!(
                            "nodes {first} and {index} hold different finals at {height}"
                        ),
                    });
                    break 'nodes;
                }
                Some(_) => {}
                None => {
                    agreed.insert(*height, (*id, index));
                }
            }
        }
    }
    for index in 0..honest {
        if let Err(error) = engine.node(index).chain().ledger().check_invariants() {
            violations.push(Violation {
                invariant: "ledger".into(),
                at_simulated_seconds: at,
                node: Some(index as u64),
                detail: format!("{error:?}"),
            });
        }
    }
    let lowest = (0..honest).map(|i| engine.node(i).chain().height()).min().unwrap_or(0);
    let top = lowest.saturating_sub(agree_below);
    let reference = engine.node(0).chain().active_at(top);
    for index in 1..honest {
        if engine.node(index).chain().active_at(top) != reference {
            violations.push(Violation {
                invariant: "convergence".into(),
                at_simulated_seconds: at,
                node: Some(index as u64),
                detail: format!("node {index} is on another chain at height {top}"),
            });
        }
    }
    violations
}

fn hex(hash: &Hash) -> String {
    hash.as_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn finish<E: Engine>(
    context: &Context<'_>,
    engine: &E,
    violations: Vec<Violation>,
    measurements: Vec<Measurement>,
) -> RunMetrics {
    let mut run = RunMetrics::new(&context.scenario.name, context.seed, hex(&engine.trace_hash()));
    run.nodes = engine.node_count() as u64;
    run.simulated_seconds = engine.now_ms() as f64 / 1000.0;
    run.messages_delivered = engine.messages_delivered();
    run.checkpoints = engine.node(0).chain().height();
    run.violations = violations;
    run.measurements = measurements;
    run
}

/// Poisson transfers from random honest nodes to random accounts.
pub(crate) struct TxSource {
    pub(crate) rng: DetRng,
    mean_gap_ms: f64,
    pub(crate) next_ms: f64,
    pub(crate) senders: usize,
}

impl TxSource {
    pub(crate) fn new(seed: u64, tx_per_s: f64, senders: usize) -> Option<TxSource> {
        if tx_per_s <= 0.0 || senders == 0 {
            return None;
        }
        let rng = DetRng::from_seed(Hash::of_parts(&[b"workload", &seed.to_le_bytes()]).0);
        let mut source = TxSource { rng, mean_gap_ms: 1000.0 / tx_per_s, next_ms: 0.0, senders };
        source.next_ms = source.gap();
        Some(source)
    }

    /// Any account but the sender's: nodes refuse a transfer to its own author.
    pub(crate) fn recipient(&mut self, from: usize, accounts: usize) -> usize {
        if accounts < 2 {
            return from;
        }
        (from + 1 + self.rng.index(accounts - 1)) % accounts
    }

    pub(crate) fn gap(&mut self) -> f64 {
        -(1.0 - self.rng.unit_f64()).ln() * self.mean_gap_ms
    }
}

/// Runs to `until_ms`, submitting the workload's transfers on time.
pub(crate) fn drive<E: Engine>(engine: &mut E, source: &mut Option<TxSource>, until_ms: u64) {
    if let Some(source) = source {
        while source.next_ms <= until_ms as f64 {
            engine.run_until(source.next_ms as u64);
            let from = source.rng.index(source.senders);
            let to = engine.account(source.recipient(from, engine.node_count()));
            let _ = engine.transfer(from, to, 1);
            let gap = source.gap();
            source.next_ms += gap;
        }
    }
    engine.run_until(until_ms);
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

/// #2: node 0 holds share `s` of the space; fraction of checkpoints it wins. #8: with
/// `attacker.split = m`, that space is spread evenly over nodes `0..m` (m identities of one
/// owner) and the fraction counts all of them; splitting must not change the share.
fn win_share<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let s = scenario.attacker.s.ok_or_else(|| context.setup("attacker.s missing"))?;
    let split = scenario.attacker.split.unwrap_or(1).max(1);
    let nodes = scenario.network.nodes;
    let total = scenario.network.nonces_per_node * nodes;
    let large = ((total as f64) * s / split as f64).round().max(1.0) as u64;
    let others = (total.saturating_sub(large * split) / (nodes - split).max(1)).max(1);
    let mut capacities = vec![others; nodes as usize];
    for capacity in capacities.iter_mut().take(split as usize) {
        *capacity = large;
    }
    // The exact share after rounding; differences are below 1e-6 with the default space.
    let share = (large * split) as f64 / capacities.iter().sum::<u64>() as f64;
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
    if chain.is_empty() {
        return Err(context.too_short(0, 1));
    }
    let identities: Vec<AccountId> = (0..split as usize).map(|i| engine.account(i)).collect();
    let won = chain.iter().filter(|link| identities.contains(&link.author)).count() as u64;
    let expected = context.reference(reference::expected_win_share(share))?;
    let name = if scenario.attacker.split.is_some() { "split_share" } else { "win_share" };
    let measurements = vec![Measurement::proportion(
        name,
        context.labels.clone(),
        won,
        chain.len() as u64,
        Some(Reference::new(expected, "s (share of space)", reference::CITATION_PROTOCOL)),
    )?];
    let violations = invariants(&engine, engine.node_count(), k);
    Ok(finish(&context, &engine, violations, measurements))
}

/// Network of `nodes` honest miners plus one attacker of share `q` (last index), at fixed
/// difficulty so that checkpoint weight is constant and weight comparisons are height
/// comparisons, as in the race formulas.
pub(crate) fn attack_spec(
    scenario: &Scenario,
    q: f64,
    policy: Policy,
    deep_finality: bool,
) -> NetSpec {
    let mut capacities = honest_capacities(scenario);
    let honest_total: u64 = capacities.iter().sum();
    capacities.push(attacker_capacity(honest_total, q));
    let mut params = params(scenario);
    params.fixed_base_target = true;
    // Releases may reorganise deeper than the default limit (a selfish lead of 3+ held for
    // dozens of checkpoints); refusing them would change the game the formulas describe.
    params.reorg_limit = 4_096;
    if deep_finality {
        // The merchant's own wait `z` is the finality rule under test; the protocol's k must
        // not refuse or flag the reorganisation the race is about.
        params.finality_depth = 4_096;
        params.reorg_limit = 4_096;
    }
    let mut policies = vec![Policy::Honest; capacities.len()];
    if let Some(last) = policies.last_mut() {
        *last = policy;
    }
    NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    }
}

/// Steps until node 0 reaches `height` or `until_ms` passes.
pub(crate) fn run_to_height<E: Engine>(engine: &mut E, height: u64, until_ms: u64) {
    while engine.node(0).chain().height() < height && engine.step(until_ms) {}
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
    let attacker_q = scenario.attacker.q.ok_or_else(|| context.setup("attacker.q missing"))?;
    let z = scenario.attacker.z.ok_or_else(|| context.setup("attacker.z missing"))?;
    let give_up = scenario.attacker.give_up_behind.unwrap_or(30);
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

/// #6: selfish mining with share q (Eyal–Sirer strategy; γ = 0 since honest nodes keep the
/// first-seen head and the attacker reacts only after an honest checkpoint has propagated).
///
/// Rules, with Δ = private − public height before an honest checkpoint: Δ = 1 → publish the
/// private checkpoint (a tie race); Δ = 2 → publish everything (the private branch wins);
/// Δ > 2 → publish up to the public height. When the attacker finds a checkpoint during a tie
/// race it publishes at once. Adopting the public chain needs no rule: the withholding core
/// switches to any strictly heavier branch by ordinary fork choice.
fn selfish<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let q = scenario.attacker.q.ok_or_else(|| context.setup("attacker.q missing"))?;
    let spec = attack_spec(scenario, q, Policy::Withhold, false);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let deadline_ms = scenario.run.duration_s * 1000;
    let mut public = engine.node(0).chain().height();
    let mut private = engine.node(attacker).chain().height();
    let mut won = engine.node(attacker).stats().checkpoints_won;
    let mut released = 0u64;
    let mut tie = false;
    while engine.step(deadline_ms) {
        let public_now = engine.node(0).chain().height();
        let private_now = engine.node(attacker).chain().height();
        let won_now = engine.node(attacker).stats().checkpoints_won;
        if won_now > won && tie && private_now > public_now {
            // Found during a tie race: publish, the private branch is now strictly heavier.
            engine.release(attacker, released + 1..=private_now);
            released = private_now;
            tie = false;
        } else if public_now > public {
            let lead_before = private as i64 - public as i64;
            tie = false;
            let on_private_branch =
                engine.node(0).chain().head().id != engine.node(attacker).chain().head().id;
            if on_private_branch && lead_before >= 1 {
                let upto = if lead_before <= 2 { private_now } else { public_now };
                engine.release(attacker, released.max(public) + 1..=upto);
                released = released.max(upto);
                tie = lead_before == 1;
            }
        }
        if private_now < released {
            // The attacker adopted the public chain: nothing of its own is pending.
            released = private_now;
        }
        public = public_now;
        private = private_now;
        won = won_now;
    }
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k.max(10));
    let needed = 2 * BLOCK_CHECKPOINTS;
    if chain.len() < needed {
        return Err(context.too_short(chain.len(), needed));
    }
    let attacker_account = engine.account(attacker);
    let shares: Vec<f64> = chain
        .chunks_exact(BLOCK_CHECKPOINTS)
        .map(|block| {
            block.iter().filter(|link| link.author == attacker_account).count() as f64
                / block.len() as f64
        })
        .collect();
    // Judged: Eyal–Sirer's cycle accounting with the one thing deadline-based proof of space
    // changes, honest miners forging at once on a just-published branch whose head is old
    // (docs/scenarios.md, family 6). Eyal–Sirer's own figure is shown beside it.
    let expected = context.reference(reference::selfish_mining_revenue_deadline_credit(q))?;
    let classic = context.reference(reference::selfish_mining_revenue(q, 0.0))?;
    let threshold = context.reference(reference::selfish_mining_threshold(0.0))?;
    let measurement = Measurement::mean_of(
        "selfish_revenue",
        context.labels.clone(),
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
    let violations = invariants(&engine, attacker, k.max(10));
    Ok(finish(&context, &engine, violations, vec![measurement]))
}
