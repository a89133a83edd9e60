//! One simulation run: N madsim nodes, each running the unmodified driver with model plots, a
//! workload, a fault plan, and the checkers.
//!
//! Model.
//! - Nodes: node i has address 10.x.y.z:7000 (i + 1 in the last three octets), its own madsim
//!   node (killed and restarted as a unit), its own [`SimDisk`] and clock skew (both outlive
//!   restarts), and a core seeded from the simulation seed. The first `miners` nodes mine with
//!   seeded capacities of 500–1,499 model nonces; the first `funded` nodes own funded accounts.
//!   Every driver is production's, with the run's receive batch (`SimConfig::receive_batch`,
//!   drawn from the seed): messages per turn, verified as one batch, records as one append.
//! - Peers: each node picks `peers_per_node` random others and links are made symmetric (every
//!   node with every other in networks of at most 2k + 1 nodes).
//! - Network: the seeded [`NetModel`] (latency distribution, uplink, duplication, reordering,
//!   loss, clogged links) decides whether and when each message arrives; partitions and splits
//!   clog both directions of every peer link between groups, a cut clogs one direction.
//! - Disk errors: a driver that stops on a disk error (it fails stop by design) is restarted by
//!   an operator task one second later, unless the fault plan has killed it meanwhile.
//! - Workload: transfers at `tx_rate` per second network-wide (exponential gaps), each from a
//!   random funded node that is up, to a random account; a `token_share` of them are business
//!   token transactions instead ([`crate::token_workload`], drawn from a stream of their own),
//!   and a `consortium_share` consortium transactions ([`crate::consortium_sim`]: members keep
//!   in-memory replicas fed from their events, checked as they finalise and at the end), and an
//!   `evm_share` Ethereum transactions of wallets funded in genesis ([`crate::evm_workload`]),
//!   and an `fl_share` federated-learning ticks ([`crate::fl_sim`]: one task's acquirer and
//!   data owners act on their nodes' ledgers).
//! - Checkers: every node's events go to the [`Checker`] and the trace; once per simulated second
//!   the supervisor stops the run at the first violation. At the end every node is inspected for
//!   the convergence, durability and ledger checks ([`check_end`]).

use crate::checker::{Checker, NodeSnapshot, Violation, check_end};
use crate::client_history::ClientHistory;
use crate::config::{FEE, SimConfig, stream};
use crate::consortium_replicas::ConsortiumReport;
use crate::consortium_sim::ConsortiumRun;
use crate::consortium_workload::ConsortiumDraw;
use crate::disk::SimDisk;
use crate::evm_receipts;
use crate::evm_workload::{EvmDraw, EvmRun};
use crate::faults::{self, Fault, ScheduledFault};
use crate::fl_sim::FlRun;
use crate::inspect_probe::Probe;
use crate::net::NetModel;
pub use crate::net::node_addr;
use crate::run_end::EndOfRun;
pub use crate::run_report::RunReport;
use crate::run_setup::genesis;
pub use crate::run_setup::peer_graph;
use crate::runtime::{SharedNet, SharedTrace, SimClock, SimNet, SimNetwork, sim_now_ms};
use crate::selftest::SelfTestBug;
pub use crate::sim_error::SimError;
use crate::token_workload::{self, TokenDraw};
use crate::trace::Trace;
use futures::StreamExt;
use futures::channel::mpsc;
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::{Node, NodeConfig};
use vein_node::core::params::Genesis;
use vein_node::core::poc::ModelPlots;
use vein_node::driver::{Driver, DriverError, EventSink, Primitives};
use vein_node::history::TransferOp;
use vein_node::runtime::InPlace;

#[path = "node_spec.rs"]
mod node_spec;
#[path = "side_network.rs"]
mod side_network;
use node_spec::{LOG_CLEAN, LOG_DAMAGE_DETECTED, LOG_DAMAGED, NodeSpec};

/// How long the operator waits before restarting a node that stopped on a disk error.
const RESTART_AFTER_DISK_ERROR_MS: u64 = 1_000;

/// Live counters for a progress line printed from another (real) thread.
#[derive(Debug, Default)]
pub struct Progress {
    /// Simulated time reached, in ms; updated once per simulated second.
    pub simulated_ms: AtomicU64,
    /// Messages delivered so far (the trace's count).
    pub messages: AtomicU64,
    /// Node events recorded so far (the trace's count).
    pub events: AtomicU64,
}

/// State shared by every node and the supervisor of one run.
struct Shared {
    checker: Mutex<Checker>,
    trace: SharedTrace,
    /// Decoded, signature-checked units shared by all nodes (content-addressed, so sharing
    /// changes memory and time only; `node/src/localnet.rs` tests that it never changes a trace).
    units: Arc<vein_node::core::node::SharedUnitCache>,
    /// The checker self-test's deliberate bug, if any (never in a real run).
    self_test: Option<SelfTestBug>,
    /// Nodes whose chain events are printed (`SimConfig::watch`).
    watch: BTreeSet<usize>,
    /// Every node's account, to name checkpoint authors by node in watched events.
    accounts: Vec<vein_node::core::crypto::AccountId>,
    /// `SimConfig::prune`, for every node's limits.
    prune: bool,
    /// `SimConfig::receive_batch`, for every driver.
    receive_batch: usize,
    net: SharedNet,
    /// Nodes whose driver stopped and that the operator restarts.
    restarts: mpsc::UnboundedSender<RestartRequest>,
    /// `corrupt` faults applied, and detected (`RunReport::corruptions`).
    corruptions_applied: AtomicU64,
    corruptions_detected: AtomicU64,
    /// The consortium workload's state and every node's replicas (`consortium_share` > 0).
    consortia: Option<Arc<ConsortiumRun>>,
    /// The EVM workload's wallets and counters (`evm_share` > 0).
    evm: Option<Arc<EvmRun>>,
    /// The federated-learning workload (`fl_share` > 0).
    fl: Option<Arc<FlRun>>,
    /// `vein-sim inspect`'s look at one node, if any (the run stops at its instant).
    probe: Option<Arc<Probe>>,
    /// What the transfer workload saw, checked against every ledger at the end.
    history: ClientHistory,
}

/// A node the operator restarts: its driver stopped in `generation`; if `restore`, its unit log
/// was found damaged and is first replaced by a running peer's copy.
struct RestartRequest {
    node: usize,
    generation: u64,
    restore: bool,
}

impl Shared {
    fn checker(&self) -> std::sync::MutexGuard<'_, Checker> {
        self.checker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn trace(&self) -> std::sync::MutexGuard<'_, Trace> {
        self.trace.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Feeds a node's events to the trace and the checker.
struct CheckerSink {
    node: usize,
    shared: Arc<Shared>,
    /// This driver is a restart (for the checker self-tests that misreport after one).
    restarted: bool,
}

impl EventSink for CheckerSink {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        let misreported =
            self.shared.self_test.and_then(|bug| bug.corrupt(self.node, self.restarted, event));
        let event = misreported.as_ref().unwrap_or(event);
        self.shared.trace().event(self.node, now_ms, event);
        if self.shared.watch.contains(&self.node) {
            crate::watch::watch_event(self.node, now_ms, event, &self.shared.accounts);
        }
        if let Some(consortia) = &self.shared.consortia {
            consortia.on_event(self.node, sim_now_ms(), event, &self.shared.checker);
        }
        if let Some(evm) = &self.shared.evm {
            evm.on_event(self.node, event);
        }
        if let Some(probe) = &self.shared.probe {
            probe.on_event(self.node, sim_now_ms(), event);
        }
        self.shared.history.on_event(self.node, sim_now_ms(), event);
        // Violations are stamped with simulated time, not the node's (possibly skewed) clock.
        self.shared.checker().on_event(self.node, sim_now_ms(), event);
    }
}

/// The body of a madsim node: bind, start the driver (replaying the disk), run it.
async fn run_node(spec: Arc<NodeSpec>, shared: Arc<Shared>) {
    let generation = spec.generation.fetch_add(1, Ordering::Relaxed) + 1;
    let bound = SimNetwork::bind(spec.addr, spec.index, shared.trace.clone(), shared.net.clone());
    let net = match bound.await {
        Ok(net) => net,
        Err(error) => {
            record_failure(&shared, spec.index, format!("bind: {error}"));
            return;
        }
    };
    let mut config = NodeConfig::new(spec.genesis.clone(), spec.key.clone(), spec.seed);
    config.mining = spec.capacity > 0;
    config.unit_cache = Some(shared.units.clone());
    config.limits.prune = shared.prune;
    let prover = ModelPlots { account: spec.key.account(), nonces: spec.capacity };
    let restarted = generation > 1;
    if let Some(consortia) = &shared.consortia {
        consortia.start(spec.index);
    }
    if let Some(evm) = &shared.evm {
        evm.start(spec.index);
    }
    let sink = CheckerSink { node: spec.index, shared: shared.clone(), restarted };
    let clock = SimClock::new(spec.skew.clone());
    let result = match Driver::start(
        config,
        spec.peers.clone(),
        Primitives { clock, net, disk: spec.disk.clone(), blocking: InPlace },
        prover,
        sink,
    )
    .await
    {
        Ok((driver, handle)) => {
            if spec.log_damage.load(Ordering::Relaxed) != LOG_CLEAN {
                shared.checker().record(Violation {
                    invariant: "corruption-undetected",
                    at_ms: sim_now_ms(),
                    node: spec.index,
                    other: None,
                    detail: "started on a unit log with a damaged record".to_string(),
                });
            }
            spec.set_handle(Some(handle));
            driver
                .with_receive_batch(shared.receive_batch)
                .run()
                .await
                .map_err(|error| ("driver stopped", error))
        }
        Err(error) => Err(("start", error)),
    };
    match result {
        Ok(()) => {}
        // Fail-stop on a disk error is the driver's design; the operator restarts the node.
        Err((what, DriverError::Disk(error))) => {
            spec.set_handle(None);
            shared.trace().note(&format!("node {} {what}: {error}", spec.index));
            let request = RestartRequest { node: spec.index, generation, restore: false };
            let _ = shared.restarts.unbounded_send(request);
        }
        // Refusing to start on a damaged log is the store's design (docs/testnet.md); the
        // operator restores the log from a peer and restarts it.
        Err((what, DriverError::Store(error)))
            if spec.log_damage.load(Ordering::Relaxed) != LOG_CLEAN =>
        {
            spec.set_handle(None);
            if spec.log_damage.swap(LOG_DAMAGE_DETECTED, Ordering::Relaxed) == LOG_DAMAGED {
                shared.corruptions_detected.fetch_add(1, Ordering::Relaxed);
            }
            shared.trace().note(&format!("node {} {what}: {error}", spec.index));
            let request = RestartRequest { node: spec.index, generation, restore: true };
            let _ = shared.restarts.unbounded_send(request);
        }
        Err((what, error)) => record_failure(&shared, spec.index, format!("{what}: {error}")),
    }
}

/// Restart nodes whose driver stopped on a disk error, as a process supervisor would.
async fn operator(
    mut requests: mpsc::UnboundedReceiver<RestartRequest>,
    specs: Arc<Vec<Arc<NodeSpec>>>,
    ids: Arc<Vec<NodeId>>,
    shared: Arc<Shared>,
    restarted: Arc<AtomicU64>,
) {
    let runtime = Handle::current();
    while let Some(RestartRequest { node, generation, restore }) = requests.next().await {
        // End the stopped process now: madsim's `restart` alone drops old tasks lazily, `kill`
        // at once (messages sent to the node meanwhile are lost; its restart opens a fresh
        // mailbox). Not a power cut: the disk keeps its bytes.
        runtime.kill(ids[node]);
        madsim::time::sleep(Duration::from_millis(RESTART_AFTER_DISK_ERROR_MS)).await;
        let spec = &specs[node];
        // Skip if the fault plan killed the node meanwhile (it restarts it) or restarted it.
        if spec.killed.load(Ordering::Relaxed)
            || spec.generation.load(Ordering::Relaxed) != generation
        {
            continue;
        }
        if restore {
            // The first running peer's durable log: what a restore from a backup or a peer's
            // snapshot gives; the node pulls what came after it from its peers.
            let source = specs.iter().find(|peer| {
                peer.index != node
                    && peer.handle().is_some()
                    && !peer.killed.load(Ordering::Relaxed)
            });
            match source {
                Some(peer) => {
                    spec.disk.restore_from(&peer.disk, vein_node::driver::STORE_PATH);
                    spec.log_damage.store(LOG_CLEAN, Ordering::Relaxed);
                    shared.trace().note(&format!(
                        "operator restores node {node}'s log from node {}",
                        peer.index
                    ));
                }
                None => {
                    shared.trace().note(&format!(
                        "operator finds no running peer to restore node {node} from"
                    ));
                    continue;
                }
            }
        }
        shared.trace().note(&format!("operator restarts node {node}"));
        restarted.fetch_add(1, Ordering::Relaxed);
        runtime.restart(ids[node]);
    }
}

fn record_failure(shared: &Shared, node: usize, detail: String) {
    shared.checker().record(Violation {
        invariant: "node-failure",
        at_ms: sim_now_ms(),
        node,
        other: None,
        detail,
    });
}

async fn sleep_until_ms(at_ms: u64) {
    let wait = at_ms.saturating_sub(sim_now_ms());
    if wait > 0 {
        madsim::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// Transfers at `tx_rate` per second from random funded nodes that are up; `token_share` of
/// them token transactions.
async fn workload(
    config: SimConfig,
    specs: Arc<Vec<Arc<NodeSpec>>>,
    submitted: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    token_submitted: Arc<AtomicU64>,
    shared: Arc<Shared>,
) {
    let (consortia, evm) = (shared.consortia.clone(), shared.evm.clone());
    let funded = config.funded.min(specs.len());
    if config.tx_rate <= 0.0 || funded == 0 || specs.len() < 2 {
        return;
    }
    let mut rng = stream(config.seed, "workload", 0);
    // Its own stream, drawn only when tokens are on: without them the run is draw for draw
    // the one it was before tokens existed.
    let mut token_rng = stream(config.seed, "token-workload", 0);
    let mut consortium_rng = stream(config.seed, "consortium-workload", 0);
    let mut evm_rng = stream(config.seed, "evm-workload", 0);
    let mut fl_rng = stream(config.seed, "fl-workload", 0);
    let duration_ms = config.duration_s as f64 * 1e3;
    let mut at_ms = 0.0;
    loop {
        // Exponential gaps: a Poisson stream of transfers.
        at_ms += -(1.0 - rng.unit_f64()).ln() / config.tx_rate * 1e3;
        if at_ms >= duration_ms {
            return;
        }
        sleep_until_ms(at_ms as u64).await;
        let from = rng.index(funded);
        let mut to = rng.index(specs.len());
        if to == from {
            to = (to + 1) % specs.len();
        }
        let amount = 1 + rng.below(1_000);
        if let Some(consortia) = &consortia
            && consortium_rng.unit_f64() < config.consortium_share
        {
            let draw = ConsortiumDraw::draw(&mut consortium_rng);
            consortia.step(draw, at_ms as u64, |node| specs[node].handle()).await;
            continue;
        }
        if let Some(fl) = &shared.fl
            && fl_rng.unit_f64() < config.fl_share
        {
            fl.tick(at_ms as u64, |node| specs[node].handle(), &shared.checker).await;
            continue;
        }
        let Some(handle) = specs[from].handle() else {
            refused.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if config.token_share > 0.0 && token_rng.unit_f64() < config.token_share {
            let draw = TokenDraw {
                action: token_rng.below(100),
                amount: 1 + token_rng.below(1_000),
                pick: token_rng.next_u64(),
                to: specs[to].key.account(),
            };
            // Time 0: the node signs at its own clock (`submit` takes the later of the two).
            let submit = move |node: &mut Node| {
                let kind = token_workload::token_tx(node, &draw);
                node.submit(0, kind, FEE).map(|unit| unit.id)
            };
            match handle.operate(submit).await {
                Some(Ok(_)) => {
                    submitted.fetch_add(1, Ordering::Relaxed);
                    token_submitted.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            continue;
        }
        if let Some(evm) = &evm
            && evm_rng.unit_f64() < config.evm_share
        {
            let (draw, run) = (EvmDraw::draw(&mut evm_rng), evm.clone());
            if !matches!(handle.operate(move |node| run.submit(node, &draw)).await, Some(Ok(()))) {
                evm.refused();
            }
            continue;
        }
        let (sender, recipient) = (specs[from].key.account(), specs[to].key.account());
        let transfer =
            TransferOp { from: sender, to: recipient, amount, fee: FEE, nonce: None, id: None };
        let op = shared.history.invoke(sim_now_ms(), from, transfer);
        let answer = handle.transfer(recipient, amount, FEE).await;
        shared.history.answered(op, sim_now_ms(), &answer);
        match answer {
            Some(Ok(_)) => submitted.fetch_add(1, Ordering::Relaxed),
            _ => refused.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Apply the fault plan in time order.
async fn inject(
    seed: u64,
    plan: Vec<ScheduledFault>,
    specs: Arc<Vec<Arc<NodeSpec>>>,
    ids: Arc<Vec<NodeId>>,
    edges: Arc<Vec<(usize, usize)>>,
    shared: Arc<Shared>,
    applied: Arc<AtomicU64>,
) {
    let runtime = Handle::current();
    let mut crash_rng = stream(seed, "crash", 0);
    // Directed links (from, to) clogged by the current partition, split or cut.
    let mut clogged: Vec<(usize, usize)> = Vec::new();
    for scheduled in plan {
        sleep_until_ms(scheduled.at_ms).await;
        shared.trace().note(&scheduled.fault.describe());
        if !shared.watch.is_empty() {
            eprintln!(
                "[{:9.3} s] fault: {}",
                sim_now_ms() as f64 / 1e3,
                scheduled.fault.describe()
            );
        }
        applied.fetch_add(1, Ordering::Relaxed);
        let model = || shared.net.model();
        match scheduled.fault {
            Fault::Partition { groups } => {
                for (a, b) in edges.iter().copied() {
                    if groups[a] != groups[b] {
                        clogged.extend([(a, b), (b, a)]);
                    }
                }
                for (from, to) in clogged.iter().copied() {
                    model().clog(from, to);
                }
            }
            Fault::Cut { cut } => {
                for (a, b) in edges.iter().copied() {
                    if cut[a] && !cut[b] {
                        clogged.push((a, b));
                    } else if cut[b] && !cut[a] {
                        clogged.push((b, a));
                    }
                }
                for (from, to) in clogged.iter().copied() {
                    model().clog(from, to);
                }
            }
            Fault::Heal => {
                for (from, to) in clogged.drain(..) {
                    model().unclog(from, to);
                }
            }
            Fault::Kill { node } => {
                specs[node].killed.store(true, Ordering::Relaxed);
                runtime.kill(ids[node]);
                specs[node].set_handle(None);
                // Power cut: what was appended but not synced is lost or torn.
                specs[node].disk.crash(&mut crash_rng);
            }
            Fault::Restart { node } => {
                specs[node].killed.store(false, Ordering::Relaxed);
                runtime.restart(ids[node]);
            }
            Fault::Skew { node, offset_ms } => specs[node].skew.set(offset_ms),
            Fault::Jump { node, forward_ms } => specs[node].skew.jump(forward_ms),
            Fault::Loss { rate } => model().set_loss(rate),
            Fault::Latency { min_ms, max_ms } => model().set_spike(min_ms, max_ms),
            Fault::Duplicate { rate } => model().set_duplicate_fault(rate),
            Fault::Reorder { rate } => model().set_reorder_fault(rate),
            Fault::DiskErrors { node, rate } => specs[node].disk.set_error_rate(rate),
            Fault::Corrupt { node, pick } => {
                let path = vein_node::driver::STORE_PATH;
                // One damage at a time: a log the operator has not restored yet is left as it
                // is, so that each damage applied is one the next start must detect.
                let damaged = specs[node].log_damage.load(Ordering::Relaxed) != LOG_CLEAN;
                match (!damaged).then(|| specs[node].disk.corrupt_record(path, pick)).flatten() {
                    Some(offset) => {
                        specs[node].log_damage.store(LOG_DAMAGED, Ordering::Relaxed);
                        shared.corruptions_applied.fetch_add(1, Ordering::Relaxed);
                        shared
                            .trace()
                            .note(&format!("node {node}'s {path}: byte {offset} flipped"));
                    }
                    None => shared
                        .trace()
                        .note(&format!("node {node}'s {path}: already damaged or too short")),
                }
            }
        }
    }
}

/// Inspect one node for the end-of-run checks.
async fn snapshot(spec: &NodeSpec, finals: Arc<Vec<(Hash, u64, Outcome)>>) -> Option<NodeSnapshot> {
    let handle = spec.handle()?;
    let node = spec.index;
    handle
        .inspect(move |core| {
            let chain = core.chain();
            let height = chain.height();
            let final_height = chain.final_height();
            // Heights below the lowest link held are pruned: their ids are not in memory.
            let lowest_held = chain.lowest_held_height();
            let active = (0..=height).map(|h| chain.active_at(h).unwrap_or(Hash::ZERO)).collect();
            let prune_horizon = chain.prune_horizon();
            let ledger = chain.ledger();
            let ledger_error = ledger.check_invariants().err().map(|e| format!("{e:?}"));
            let (ledger_root, supply) = (ledger.root(), ledger.supply());
            // Units final at or below the prune horizon left memory by design (the disk log
            // keeps them); the ones above must be held exactly.
            let lost_transactions = finals
                .iter()
                .filter(|(_, at, _)| *at <= final_height && *at > prune_horizon)
                .filter(|(id, at, outcome)| {
                    core.dag()
                        .confirmation(id)
                        .is_none_or(|held| held.height != *at || held.outcome != *outcome)
                })
                .map(|(id, _, _)| *id)
                .collect();
            let diagnosis = format!(
                "{} peers, {} messages in, {} out, {} units, rejected {:?}",
                core.peers().count(),
                core.stats().messages_in,
                core.stats().messages_out,
                core.stats().units_accepted,
                core.stats().rejected
            );
            NodeSnapshot {
                diagnosis,
                node,
                height,
                final_height,
                lowest_held,
                units_held: core.dag().len() as u64,
                active,
                ledger_error,
                ledger_root,
                supply,
                tokens: ledger.tokens().len(),
                lost_transactions,
                evm_receipts: evm_receipts::receipts_by_height(ledger.evm(), final_height),
            }
        })
        .await
}

/// Run one simulation to its end or its first violation.
pub fn run(config: &SimConfig, progress: Option<Arc<Progress>>) -> Result<RunReport, SimError> {
    run_probed(config, progress, None)
}

/// [`run`] carrying `probe`: the run stops once the probe has read its node at its instant,
/// without the end-of-run checks (`vein-sim inspect`).
pub fn run_probed(
    config: &SimConfig,
    progress: Option<Arc<Progress>>,
    probe: Option<Arc<Probe>>,
) -> Result<RunReport, SimError> {
    config.validate()?;
    // madsim's own network is not used: the transport in `runtime.rs` carries every message.
    let runtime = Runtime::with_seed_and_config(config.seed, madsim::Config::default());
    let config = config.clone();
    runtime.block_on(supervise(config, progress, probe))
}

async fn supervise(
    config: SimConfig,
    progress: Option<Arc<Progress>>,
    probe: Option<Arc<Probe>>,
) -> Result<RunReport, SimError> {
    let keys: Vec<Keypair> =
        (0..config.nodes as u64).map(|index| Keypair::derived("vein-sim", index)).collect();
    let evm = EvmRun::new(&config)?;
    let extra = evm.as_ref().map(|evm| evm.allocations()).unwrap_or_default();
    let (genesis, capacities) = genesis(&config, &keys, extra);
    genesis.validate()?;
    let genesis = Arc::new(genesis);
    let graph = peer_graph(config.seed, config.nodes, config.peers_per_node);
    let edges: Vec<(usize, usize)> = graph
        .iter()
        .enumerate()
        .flat_map(|(a, peers)| peers.iter().filter(move |b| a < **b).map(move |b| (a, *b)))
        .collect();
    let (restarts, restart_requests) = mpsc::unbounded();
    let consortia = ConsortiumRun::new(&config, &keys);
    let canary = consortia.as_ref().map(|consortia| consortia.canary.clone());
    let shared = Arc::new(Shared {
        checker: Mutex::new(Checker::new(config.nodes)),
        trace: Arc::new(Mutex::new(Trace::new())),
        // A unit is looked up here only while it spreads (seconds), so 65,536 entries cover
        // any rate simulated; the former 2^20 held up to a million units (hundreds of MB)
        // before its first clear.
        units: Arc::new(vein_node::core::node::SharedUnitCache::new(1 << 16)),
        self_test: config.self_test,
        watch: config.watch.clone(),
        accounts: keys.iter().map(Keypair::account).collect(),
        prune: config.prune,
        receive_batch: config.receive_batch,
        net: SimNet::scanned(NetModel::new(config.seed, config.nodes, config.net), canary),
        restarts,
        corruptions_applied: AtomicU64::new(0),
        corruptions_detected: AtomicU64::new(0),
        consortia,
        evm,
        fl: FlRun::new(&config, &keys),
        probe: probe.clone(),
        history: ClientHistory::new(
            config.nodes,
            keys.iter().take(config.funded).map(Keypair::account).collect(),
            config.self_test,
        ),
    });
    let specs: Vec<Arc<NodeSpec>> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            Arc::new(NodeSpec::new(
                index,
                config.seed,
                key,
                capacities[index],
                &graph[index],
                &genesis,
            ))
        })
        .collect();
    let runtime = Handle::current();
    // Declared before anything it ends, so it is dropped after the report is built.
    let mut end = EndOfRun::new(runtime.clone());
    let ids: Vec<NodeId> = specs
        .iter()
        .map(|spec| {
            let spec = spec.clone();
            let shared = shared.clone();
            let id = runtime
                .create_node()
                .name(format!("node{}", spec.index))
                .ip(spec.addr.ip())
                .init(move || run_node(spec.clone(), shared.clone()))
                .build()
                .id();
            end.node(id);
            id
        })
        .collect();
    let specs = Arc::new(specs);
    let submitted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let token_submitted = Arc::new(AtomicU64::new(0));
    let applied = Arc::new(AtomicU64::new(0));
    let disk_restarts = Arc::new(AtomicU64::new(0));
    let ids = Arc::new(ids);
    end.task(madsim::task::spawn(operator(
        restart_requests,
        specs.clone(),
        ids.clone(),
        shared.clone(),
        disk_restarts.clone(),
    )));
    end.task(madsim::task::spawn(workload(
        config.clone(),
        specs.clone(),
        submitted.clone(),
        refused.clone(),
        token_submitted.clone(),
        shared.clone(),
    )));
    end.task(madsim::task::spawn(inject(
        config.seed,
        faults::plan(&config),
        specs.clone(),
        ids,
        Arc::new(edges),
        shared.clone(),
        applied.clone(),
    )));
    let side_chains =
        side_network::SideChains::start(&config, &genesis, &specs, &shared, &mut end, &applied)?;

    let duration_ms = config.duration_s * 1_000;
    let faults_end_ms = config.faults_end_ms();
    let mut heights_at_faults_end: Option<Vec<u64>> = None;
    let mut now_ms = 0;
    while now_ms < duration_ms {
        let probe_at = probe.as_ref().map(|probe| probe.at_ms).filter(|at| *at > now_ms);
        now_ms = (now_ms + 1_000).min(duration_ms).min(probe_at.unwrap_or(u64::MAX));
        sleep_until_ms(now_ms).await;
        if let Some(probe) = probe.as_ref().filter(|probe| probe.at_ms == now_ms) {
            probe.take(specs[probe.node].handle(), now_ms).await;
            break;
        }
        // Recorded just after the last fault ended (restarts happen at the boundary at latest).
        if heights_at_faults_end.is_none() && now_ms > faults_end_ms {
            heights_at_faults_end = Some(shared.checker().final_heights().to_vec());
        }
        if let Some(progress) = &progress {
            let trace = shared.trace();
            progress.simulated_ms.store(now_ms, Ordering::Relaxed);
            progress.messages.store(trace.messages, Ordering::Relaxed);
            progress.events.store(trace.events, Ordering::Relaxed);
        }
        if !shared.checker().violations().is_empty()
            || side_chains.as_ref().is_some_and(|sides| sides.violated())
        {
            break;
        }
    }

    let mut violations = shared.checker().violations().to_vec();
    violations.extend(side_chains.iter().flat_map(|sides| sides.violations()));
    let mut final_height_range = (0, 0);
    let mut units_held = (0.0, 0);
    let mut tokens_at_end = 0;
    let mut consortium = ConsortiumReport::default();
    let mut evm_receipts = None;
    let mut fl = Default::default();
    let mut history = Default::default();
    if violations.is_empty() && probe.is_none() {
        let finals: Arc<Vec<(Hash, u64, Outcome)>> = Arc::new(
            shared
                .checker()
                .final_transactions()
                .iter()
                .map(|(id, tx)| (*id, tx.height, tx.outcome))
                .collect(),
        );
        // Read what nodes reported final before snapshotting them: nodes keep running while the
        // snapshots are taken, so a later read could see a height reported after a snapshot.
        let reported = shared.checker().final_heights().to_vec();
        let mut snapshots = Vec::new();
        for spec in specs.iter() {
            if let Some(snapshot) = snapshot(spec, finals.clone()).await {
                snapshots.push(snapshot);
            }
        }
        let heights = snapshots.iter().map(|snapshot| snapshot.final_height);
        final_height_range = (heights.clone().min().unwrap_or(0), heights.max().unwrap_or(0));
        tokens_at_end = snapshots.iter().map(|snapshot| snapshot.tokens).max().unwrap_or(0);
        let best = snapshots.iter().max_by_key(|snapshot| snapshot.final_height);
        evm_receipts = best.map(|snapshot| snapshot.evm_receipts.clone());
        let held: Vec<u64> = snapshots.iter().map(|snapshot| snapshot.units_held).collect();
        units_held = (
            held.iter().sum::<u64>() as f64 / held.len().max(1) as f64,
            held.iter().copied().max().unwrap_or(0),
        );
        let before = heights_at_faults_end.unwrap_or_default();
        let finals = shared.checker().final_checkpoints();
        let lag_max = 2 * config.finality_depth + 4;
        violations.extend(check_end(
            &snapshots,
            &finals,
            &reported,
            &before,
            lag_max,
            sim_now_ms(),
        ));
        if let Some(consortia) = &shared.consortia {
            let heights: Vec<(usize, u64)> =
                snapshots.iter().map(|snapshot| (snapshot.node, snapshot.final_height)).collect();
            let disks: Vec<SimDisk> = specs.iter().map(|spec| spec.disk.clone()).collect();
            let checker = shared.checker();
            let (found, report) = consortia.end(
                &heights,
                &disks,
                checker.final_transactions(),
                checker.replica_root_checks,
                sim_now_ms(),
            );
            drop(checker);
            violations.extend(found);
            consortium = report;
        }
        if let Some(run) = &shared.fl {
            let (found, report) = run.end(specs.len(), |node| specs[node].handle()).await;
            violations.extend(found);
            fl = report;
        }
        let (found, report) =
            shared.history.end(specs.len(), |node| specs[node].handle(), sim_now_ms()).await;
        violations.extend(found);
        history = report;
        if let Some(sides) = &side_chains {
            violations.extend(sides.end_checks(&config).await);
        }
        if snapshots.len() < specs.len() {
            violations.push(Violation {
                invariant: "node-down",
                at_ms: sim_now_ms(),
                node: specs.iter().position(|spec| spec.handle().is_none()).unwrap_or(0),
                other: None,
                detail: format!(
                    "{} of {} nodes not running at the end",
                    specs.len() - snapshots.len(),
                    specs.len()
                ),
            });
        }
    }
    let checker = shared.checker();
    let evm = shared
        .evm
        .as_ref()
        .map(|run| run.report(checker.final_transactions(), evm_receipts.as_ref()));
    let trace = shared.trace();
    Ok(RunReport {
        config: config.clone(),
        trace_hash: trace.hash(),
        simulated_ms: now_ms,
        messages_delivered: trace.messages,
        message_bytes: trace.message_bytes,
        events: trace.events,
        checkpoints_final: checker.highest_final(),
        transactions_final: checker.final_transactions().len() as u64,
        transactions_applied: checker.applied,
        transfers_submitted: submitted.load(Ordering::Relaxed),
        transfers_refused: refused.load(Ordering::Relaxed),
        token_txs_submitted: token_submitted.load(Ordering::Relaxed),
        tokens_at_end,
        faults_applied: applied.load(Ordering::Relaxed),
        disk_errors: specs.iter().map(|spec| spec.disk.errors_injected()).sum(),
        disk_restarts: disk_restarts.load(Ordering::Relaxed),
        corruptions: (
            shared.corruptions_applied.load(Ordering::Relaxed),
            shared.corruptions_detected.load(Ordering::Relaxed),
        ),
        final_height_range,
        units_held,
        disk_log_bytes: specs
            .iter()
            .map(|spec| {
                let path = vein_node::driver::STORE_PATH;
                spec.disk.durable_len(path) + spec.disk.pending_len(path)
            })
            .sum(),
        consortium,
        evm: evm.unwrap_or_default(),
        fl,
        peg: side_chains.map(|sides| sides.report()).unwrap_or_default(),
        history,
        violations,
    })
}
