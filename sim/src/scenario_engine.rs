//! The madsim [`Engine`] of the scenario families (crate vein-scenarios): the same attack and
//! baseline stories as on LocalNet, with every node a madsim node on the simulator's network
//! model (`vein-sim scenario FILE`, docs/scenarios.md).
//!
//! Model.
//! - One madsim runtime per run, seeded with the run's seed. Node i is madsim node
//!   `node_addr(i)`; its core is shared between its task and the engine (`Arc<RwLock<Node>>`).
//!   The engine only touches a core between `block_on` calls, when no simulated task runs, so
//!   the lock is never contended; the guard is what [`Engine::node`] returns.
//! - Each node task does what the driver does for the core (deliver messages, tick timers,
//!   answer challenges from its model plots, perform sends) without the disk: scenarios have no
//!   crashes to recover from. Every node peers with every other, as on LocalNet.
//! - Messages go through [`SimNetwork`], so the network model applies ([`NetConfig`]: latency
//!   distribution, duplication, reordering, uplink); madsim drops packets at the configured
//!   loss rate and on clogged links (the scenario's partitions).
//! - [`Engine::step`] runs the simulation until some node has handled one wake-up (a message,
//!   a timer, an engine request) or `until_ms` comes, so an attacker reacts within one event,
//!   as on LocalNet.
//! - The engine's own requests (a transfer, a release) change a core from outside; the node's
//!   task is poked to perform the outputs they queued.
//! - Not modelled here: the fault plan of `vein-sim run` (kills, disk errors, clock faults):
//!   a scenario's story owns its partitions and timing (scenario files have no timeline).
//! - Not supported: real plots (`Engine::start_real`, the plot-sharing family): the node tasks
//!   prove from model plots. [`check_supported`] refuses such a file up front, naming it.

use crate::config::ConfigError;
use crate::net::{LatencyModel, NetConfig, NetModel, node_addr, node_index, parse_rate};
use crate::runtime::{SharedNet, SharedTrace, SimNet, SimNetwork, sim_now_ms};
use crate::trace::Trace;
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt, pin_mut, select_biased};
use madsim::runtime::{Handle, Runtime};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use vein_node::core::chain::{PinError, PinOutcome};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::{Node, NodeConfig, PeerId, Policy};
use vein_node::core::params::GenesisError;
use vein_node::core::poc::{Challenge, ModelPlots};
use vein_node::core::random::DetRng;
use vein_node::core::record::Record;
use vein_node::core::storage::{OwnerKey, StorePut};
use vein_node::core::storage_node::{FileRequest, StorageNodeError, StoredFile};
use vein_node::core::transaction::{Transaction, TxKind};
use vein_node::localnet::model_genesis;
use vein_node::pump::{self, Environment};
use vein_node::runtime::Network;
use vein_node::shard_repair;
use vein_scenarios::engine::{Engine, FEE, NetSpec, StartError, signed_transfer};
use vein_scenarios::families;
use vein_scenarios::scenario::{Scenario, SimulatorSpec};

/// A scenario family this engine cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario family \"{family}\" (metric {metric}) cannot run on the madsim engine: {reason}")]
pub struct UnsupportedFamily {
    /// The family's attacker kind, as scenario files name it.
    pub family: &'static str,
    /// The metric the scenario asked for, which selected the family.
    pub metric: &'static str,
    /// The family's own explanation of what madsim lacks for it.
    pub reason: &'static str,
}

/// Refuses a scenario whose family this engine cannot run, before any seed starts.
pub fn check_supported(scenario: &Scenario) -> Result<(), UnsupportedFamily> {
    // A metric no family registers never passes validation; there is nothing to refuse here.
    let Ok((_, family)) = families::find(&scenario.metric.name) else { return Ok(()) };
    match family.madsim_unsupported {
        Some(reason) => {
            Err(UnsupportedFamily { family: family.attacker_kind, metric: family.metric, reason })
        }
        None => Ok(()),
    }
}

/// Balance of every account at genesis (as on LocalNet).
const BALANCE: u64 = 1_000_000_000;

/// The simulator settings of a scenario run, beside its [`NetSpec`] (a scenario file's
/// `[simulator]` table).
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// Latency model; `None`: the scenario's one-way latency `L` as LocalNet draws it, uniform
    /// in `[L, 1.5 L]`.
    pub latency: Option<LatencyModel>,
    /// Probability that a message is delivered a second time (as [`NetConfig::duplicate`]).
    pub duplicate: f64,
    /// Probability that a message is held back by an extra delay ([`NetConfig::reorder`]).
    pub reorder: f64,
    /// Largest extra delay of a held-back message or a duplicate, in ms.
    pub reorder_ms: u64,
    /// Per-node uplink in bytes per second; `None` is unlimited.
    pub uplink_bytes_per_s: Option<u64>,
    /// Share of messages the simulator transport drops on every link (the network model decides).
    pub loss: f64,
}

impl Default for SimSettings {
    fn default() -> SimSettings {
        let net = NetConfig::default();
        SimSettings {
            latency: None,
            duplicate: net.duplicate,
            reorder: net.reorder,
            reorder_ms: net.reorder_ms,
            uplink_bytes_per_s: net.uplink_bytes_per_s,
            loss: 0.0,
        }
    }
}

impl SimSettings {
    /// The settings a scenario's `[simulator]` table describes (defaults without one).
    pub fn from_spec(spec: Option<&SimulatorSpec>) -> Result<SimSettings, ConfigError> {
        let Some(spec) = spec else { return Ok(SimSettings::default()) };
        let settings = SimSettings {
            latency: spec.latency.as_deref().map(LatencyModel::parse).transpose()?,
            duplicate: spec.duplicate,
            reorder: spec.reorder,
            reorder_ms: spec.reorder_ms,
            uplink_bytes_per_s: spec.uplink.as_deref().map(parse_rate).transpose()?,
            loss: spec.loss,
        };
        settings.net_config(1).validate()?;
        Ok(settings)
    }

    /// The network model for a scenario whose one-way latency is `latency_ms`.
    pub fn net_config(&self, latency_ms: u64) -> NetConfig {
        let latency = self.latency.unwrap_or(LatencyModel::Uniform {
            min_ms: latency_ms as f64,
            max_ms: latency_ms as f64 * 1.5,
        });
        NetConfig {
            latency,
            duplicate: self.duplicate,
            reorder: self.reorder,
            reorder_ms: self.reorder_ms,
            uplink_bytes_per_s: self.uplink_bytes_per_s,
        }
    }
}

/// Settings for every [`MadsimEngine::start`] in this process: `Engine::start` takes only the
/// spec and the seed, and the scenario runner calls it deep inside a family, on its worker
/// threads. `None`: the defaults.
static SETTINGS: Mutex<Option<SimSettings>> = Mutex::new(None);

/// Use `settings` for every engine started from now on.
pub fn set_settings(settings: SimSettings) {
    *lock(&SETTINGS) = Some(settings);
}

/// What the engine asks of a node's task.
enum Poke {
    /// The core has outputs queued by the engine: perform them.
    Flush,
    /// Send these bytes to every other node (a release).
    Broadcast(Arc<Vec<u8>>),
}

/// Final checkpoints reported since the engine last looked: (node, height, id).
type NewFinals = Arc<Mutex<Vec<(usize, u64, Hash)>>>;
/// Every node's events since the engine last looked, once a family asked to keep them
/// (`Engine::keep_events`; `None` until then).
type KeptEvents = Arc<Mutex<Option<Vec<(usize, Event)>>>>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A core for reading: the engine hands these out, and a family may hold two of the same
/// node at once (a view kept while `finish` reads it again); readers never block each other.
fn read(core: &RwLock<Node>) -> RwLockReadGuard<'_, Node> {
    core.read().unwrap_or_else(PoisonError::into_inner)
}

/// A core for changing: node tasks inside the runtime, the engine's requests outside it. A
/// read view cannot be alive then: the engine's requests take `&mut self`, and node tasks run
/// only inside `block_on`, which takes it too.
fn write(core: &RwLock<Node>) -> RwLockWriteGuard<'_, Node> {
    core.write().unwrap_or_else(PoisonError::into_inner)
}

/// [`Engine`] over madsim.
pub struct MadsimEngine {
    runtime: Runtime,
    cores: Vec<Arc<RwLock<Node>>>,
    keys: Vec<Keypair>,
    /// The transport's network model: partitions clog its links.
    model: SharedNet,
    pokes: Vec<mpsc::UnboundedSender<Poke>>,
    /// One item per wake-up any node handled.
    activity: mpsc::UnboundedReceiver<()>,
    new_finals: NewFinals,
    kept_events: KeptEvents,
    finals: Vec<BTreeMap<u64, Hash>>,
    trace: SharedTrace,
    /// Simulated time when the runtime last stopped.
    now_ms: u64,
    /// Directed links clogged by the current partition.
    clogged: Vec<(usize, usize)>,
    crashed: BTreeSet<usize>,
}

/// Everything one node's task needs.
#[derive(Clone)]
struct NodeTask {
    index: usize,
    count: usize,
    core: Arc<RwLock<Node>>,
    prover: Arc<Mutex<ModelPlots>>,
    trace: SharedTrace,
    model: SharedNet,
    pokes: Arc<Mutex<Option<mpsc::UnboundedReceiver<Poke>>>>,
    activity: mpsc::UnboundedSender<()>,
    new_finals: NewFinals,
    kept_events: KeptEvents,
}

/// A node task's [`Environment`] during one drain: sends wait until the core's lock is
/// released; there is no disk (scenarios have no crashes to recover from), so records and syncs
/// are nothing; final checkpoints are passed to the engine.
struct TaskEnv<'a> {
    index: usize,
    prover: &'a mut ModelPlots,
    new_finals: &'a NewFinals,
    kept_events: &'a KeptEvents,
    sends: Vec<(PeerId, Arc<Vec<u8>>)>,
}

impl Environment for TaskEnv<'_> {
    fn now_ms(&self) -> u64 {
        sim_now_ms()
    }

    fn send(&mut self, to: PeerId, bytes: Arc<Vec<u8>>) {
        self.sends.push((to, bytes));
    }

    fn disconnect(&mut self, _peer: PeerId) {}

    fn persist(&mut self, _record: Record) {}

    fn sync_before_final(&mut self) {}

    fn prove(&mut self, challenge: &Challenge) -> pump::Answer {
        pump::Answer::Now(pump::best_proof(self.prover, challenge))
    }

    fn event(&mut self, event: Event) {
        if let Some(kept) = lock(self.kept_events).as_mut() {
            kept.push((self.index, event.clone()));
        }
        if let Event::CheckpointFinal { id, height, .. } = event {
            lock(self.new_finals).push((self.index, height, id));
        }
    }
}

impl NodeTask {
    /// Perform the core's pending outputs (sends after the lock is released).
    async fn flush(&self, net: &SimNetwork) {
        let sends = {
            let mut prover = lock(&self.prover);
            let mut env = TaskEnv {
                index: self.index,
                prover: &mut prover,
                new_finals: &self.new_finals,
                kept_events: &self.kept_events,
                sends: Vec::new(),
            };
            pump::drain(&mut write(&self.core), &mut env);
            env.sends
        };
        for (to, bytes) in sends {
            // Loss is the protocol's to tolerate, as in the driver.
            let _ = net.send(node_addr(to as usize), bytes).await;
        }
    }

    async fn run(self) {
        let Ok(net) = SimNetwork::bind(
            node_addr(self.index),
            self.index,
            self.trace.clone(),
            self.model.clone(),
        )
        .await
        else {
            return;
        };
        // A restarted madsim node would find the receiver taken; scenarios never restart one.
        let Some(mut pokes) = lock(&self.pokes).take() else { return };
        loop {
            self.flush(&net).await;
            let _ = self.activity.unbounded_send(());
            let now = sim_now_ms();
            let wake = write(&self.core).poll_timeout().unwrap_or(now + 1_000).max(now);
            let sleep = madsim::time::sleep(Duration::from_millis(wake - now)).fuse();
            let receive = net.recv().fuse();
            let poke = pokes.next().fuse();
            pin_mut!(sleep, receive, poke);
            select_biased! {
                poke = poke => match poke {
                    Some(Poke::Flush) => {}
                    Some(Poke::Broadcast(bytes)) => {
                        for to in (0..self.count).filter(|to| *to != self.index) {
                            let _ = net.send(node_addr(to), bytes.clone()).await;
                        }
                    }
                    None => return,
                },
                received = receive => {
                    let Ok((from, bytes)) = received else { return };
                    if let Some(peer) = node_index(from) {
                        write(&self.core).on_message(sim_now_ms(), peer as PeerId, &bytes);
                    }
                }
                () = sleep => write(&self.core).on_tick(sim_now_ms()),
            }
        }
    }
}

impl MadsimEngine {
    /// Run the simulation until `future` completes, then take in what the nodes reported.
    fn block_on<T>(&mut self, future: impl std::future::Future<Output = T>) -> T {
        let result = self.runtime.block_on(future);
        self.now_ms = self.runtime.block_on(async { sim_now_ms() });
        for (node, height, id) in lock(&self.new_finals).drain(..) {
            self.finals[node].insert(height, id);
        }
        result
    }

    /// The core of the node with `account`, for reading.
    fn core_of(&self, account: &AccountId) -> Option<RwLockReadGuard<'_, Node>> {
        let index = self.keys.iter().position(|key| key.account() == *account)?;
        Some(read(&self.cores[index]))
    }

    /// Ask node `index`'s task to perform what the engine queued on its core.
    fn poke(&self, index: usize) {
        let _ = self.pokes[index].unbounded_send(Poke::Flush);
    }

    /// Clog every link between different groups (crashed nodes alone), unclogging the last
    /// partition's links first.
    fn apply_groups(&mut self, groups: &[u8]) {
        let count = self.cores.len();
        let group = |index: usize| {
            if self.crashed.contains(&index) {
                // Distinct from every live group (those are < 128).
                128u16 + index as u16
            } else {
                u16::from(groups.get(index).copied().unwrap_or(0))
            }
        };
        let old = std::mem::take(&mut self.clogged);
        let new: Vec<(usize, usize)> = (0..count)
            .flat_map(|a| (0..count).map(move |b| (a, b)))
            .filter(|(a, b)| a != b && group(*a) != group(*b))
            .collect();
        {
            let mut model = self.model.model();
            for (from, to) in old {
                model.unclog(from, to);
            }
            for (from, to) in new.iter().copied() {
                model.clog(from, to);
            }
        }
        self.clogged = new;
    }
}

impl Engine for MadsimEngine {
    type NodeRef<'a> = RwLockReadGuard<'a, Node>;

    fn start(spec: &NetSpec, seed: u64) -> Result<Self, GenesisError> {
        let settings = lock(&SETTINGS).clone().unwrap_or_default();
        // The seed names the chain, as on LocalNet: proof-of-space draws are keyed by the
        // genesis, so distinct seeds must give distinct genesis ids.
        let chain_id = format!("vein-scenarios/{seed}");
        let (genesis, keys) =
            model_genesis(&chain_id, &spec.capacities, BALANCE, spec.params.clone());
        genesis.validate()?;
        let genesis = Arc::new(genesis);
        let count = keys.len();
        let mut rng = DetRng::from_seed(Hash::of(&seed.to_le_bytes()).0);
        let mut cores = Vec::with_capacity(count);
        for (index, key) in keys.iter().enumerate() {
            let mut config = NodeConfig::new(genesis.clone(), key.clone(), rng.fork_seed());
            config.mining = spec.capacities[index] > 0;
            config.tip_strategy = spec.tip_strategy;
            config.policy = spec.policies.get(index).copied().unwrap_or_default();
            // As on LocalNet (scenarios/src/engine.rs): an on-the-fly plotter stores nothing and
            // still mines, and families read whole chains after the run, so nothing is pruned.
            if matches!(config.policy, Policy::OnTheFly { .. }) {
                config.mining = true;
            }
            config.limits.prune = false;
            // And as there, bans off: families count an attacker's messages one by one.
            config.limits.peer_ban_ms = 0;
            let mut node = Node::new(config)?;
            for peer in (0..count).filter(|peer| *peer != index) {
                node.add_peer(peer as PeerId);
            }
            cores.push(Arc::new(RwLock::new(node)));
        }
        let mut madsim_config = madsim::Config::default();
        // The network model delays messages itself (see `runtime.rs`); madsim delivers at once.
        madsim_config.net.send_latency = Duration::ZERO..Duration::from_nanos(1);
        let runtime = Runtime::with_seed_and_config(seed, madsim_config);
        let trace: SharedTrace = Arc::new(Mutex::new(Trace::new()));
        let model: SharedNet =
            SimNet::new(NetModel::new(seed, count, settings.net_config(spec.latency_ms)));
        // The simulator's own transport decides loss and partitions (madsim's network is unused).
        model.model().set_loss(settings.loss);
        let (activity_sender, activity) = mpsc::unbounded();
        let new_finals: NewFinals = Arc::new(Mutex::new(Vec::new()));
        let kept_events: KeptEvents = Arc::new(Mutex::new(None));
        let mut pokes = Vec::with_capacity(count);
        let handle: Handle = runtime.handle().clone();
        for (index, core) in cores.iter().enumerate() {
            let (sender, receiver) = mpsc::unbounded();
            pokes.push(sender);
            let task = NodeTask {
                index,
                count,
                core: core.clone(),
                prover: Arc::new(Mutex::new(ModelPlots {
                    account: keys[index].account(),
                    nonces: spec.capacities[index],
                })),
                trace: trace.clone(),
                model: model.clone(),
                pokes: Arc::new(Mutex::new(Some(receiver))),
                activity: activity_sender.clone(),
                new_finals: new_finals.clone(),
                kept_events: kept_events.clone(),
            };
            handle
                .create_node()
                .name(format!("node{index}"))
                .ip(node_addr(index).ip())
                .init(move || task.clone().run())
                .build();
        }
        let mut engine = MadsimEngine {
            runtime,
            cores,
            keys,
            pokes,
            activity,
            new_finals,
            kept_events,
            finals: vec![BTreeMap::new(); count],
            trace,
            now_ms: 0,
            model: model.clone(),
            clogged: Vec::new(),
            crashed: BTreeSet::new(),
        };
        // Let every node bind and issue its first challenge at time 0.
        engine.block_on(async { madsim::time::sleep(Duration::ZERO).await });
        Ok(engine)
    }

    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn step(&mut self, until_ms: u64) -> bool {
        if self.now_ms >= until_ms {
            return false;
        }
        // Wake-ups already reported happened before now: wait for the next one.
        while self.activity.try_recv().is_ok() {}
        let wait = Duration::from_millis(until_ms - self.now_ms);
        let mut activity = std::mem::replace(&mut self.activity, mpsc::unbounded().1);
        self.activity = self.block_on(async move {
            {
                let next = activity.next().fuse();
                let deadline = madsim::time::sleep(wait).fuse();
                pin_mut!(next, deadline);
                select_biased! {
                    _ = next => {}
                    () = deadline => {}
                }
            }
            activity
        });
        true
    }

    fn run_until(&mut self, until_ms: u64) {
        if until_ms > self.now_ms {
            let wait = Duration::from_millis(until_ms - self.now_ms);
            self.block_on(async move { madsim::time::sleep(wait).await });
            // Nobody waited for these wake-ups; drop them rather than let them pile up.
            while self.activity.try_recv().is_ok() {}
        }
    }

    fn node(&self, index: usize) -> RwLockReadGuard<'_, Node> {
        read(&self.cores[index])
    }

    fn node_count(&self) -> usize {
        self.cores.len()
    }

    fn account(&self, index: usize) -> AccountId {
        self.keys[index].account()
    }

    fn partition(&mut self, groups: Vec<u8>) {
        self.apply_groups(&groups);
    }

    fn heal(&mut self) {
        self.apply_groups(&[]);
    }

    fn release(&mut self, from: usize, heights: std::ops::RangeInclusive<u64>) {
        let messages: Vec<Arc<Vec<u8>>> = {
            let core = read(&self.cores[from]);
            heights.filter_map(|height| core.release_message(height)).collect()
        };
        for bytes in messages {
            let _ = self.pokes[from].unbounded_send(Poke::Broadcast(bytes));
        }
    }

    fn inject(&mut self, at: usize, tx: Transaction) {
        let _ = write(&self.cores[at]).accept_transaction(tx, None);
        self.poke(at);
    }

    fn transfer(&mut self, from: usize, to: AccountId, amount: u64) -> Option<Hash> {
        let unit = write(&self.cores[from]).transfer(self.now_ms, to, amount, FEE).ok()?;
        self.poke(from);
        Some(unit.id)
    }

    fn build_transfer(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
    ) -> Option<Transaction> {
        let kind = TxKind::Transfer { to, amount };
        write(&self.cores[from]).build_transaction(nonce, kind, FEE).ok()
    }

    fn build_transfer_with_parents(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
        parents: [Hash; 2],
    ) -> Option<Transaction> {
        signed_transfer(self.keys.get(from)?, nonce, to, amount, parents, self.now_ms)
    }

    fn finals(&self, index: usize) -> &BTreeMap<u64, Hash> {
        &self.finals[index]
    }

    fn trace_hash(&self) -> Hash {
        lock(&self.trace).hash()
    }

    fn messages_delivered(&self) -> u64 {
        lock(&self.trace).messages
    }

    fn store_file(
        &mut self,
        owner: usize,
        plaintext: &[u8],
        key: &OwnerKey,
        request: &FileRequest,
    ) -> Result<StoredFile, StorageNodeError> {
        let stored = write(&self.cores[owner]).store_file(self.now_ms, plaintext, key, request)?;
        self.poke(owner);
        for (shard_index, account) in stored.put.storage_nodes.iter().enumerate() {
            let Some(holder) = self.keys.iter().position(|key| key.account() == *account) else {
                continue;
            };
            let shard = stored.shards.get(shard_index).cloned().unwrap_or_default();
            write(&self.cores[holder]).store_shard(stored.put.file_id, shard_index as u8, shard);
            self.poke(holder);
        }
        Ok(stored)
    }

    fn drop_shard_fraction(
        &mut self,
        index: usize,
        put: &StorePut,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError> {
        write(&self.cores[index]).drop_shard_fraction(put, fraction, seed)
    }

    fn crash(&mut self, index: usize, files: &[Hash]) {
        {
            let mut core = write(&self.cores[index]);
            for file_id in files {
                core.forget_file(file_id);
            }
        }
        self.crashed.insert(index);
        self.apply_groups(&[]);
    }

    fn fetch_shards(&self, put: &StorePut) -> Vec<Option<Vec<u8>>> {
        shard_repair::fetch_shards(put, |account| self.core_of(account))
    }

    fn deliver_repaired(
        &mut self,
        view: usize,
        file_id: &Hash,
        shard_index: u8,
    ) -> Result<(), StorageNodeError> {
        let (account, shard) = {
            let view = read(&self.cores[view]);
            shard_repair::repaired_shard(&view, file_id, shard_index, |account| {
                self.core_of(account)
            })?
        };
        let not_held = StorageNodeError::NotHeld { file_id: *file_id, shard_index };
        let holder = self.keys.iter().position(|key| key.account() == account).ok_or(not_held)?;
        write(&self.cores[holder]).store_shard(*file_id, shard_index, shard);
        self.poke(holder);
        Ok(())
    }

    fn submit(&mut self, from: usize, kind: TxKind, fee: u64) -> Option<Hash> {
        let unit = write(&self.cores[from]).submit(self.now_ms, kind, fee).ok()?;
        self.poke(from);
        Some(unit.id)
    }

    fn pin_anchor(&mut self, at: usize, height: u64, id: Hash) -> Result<PinOutcome, PinError> {
        let outcome = write(&self.cores[at]).pin_anchor(self.now_ms, height, id);
        self.poke(at);
        outcome
    }

    fn keep_events(&mut self) -> Result<(), StartError> {
        lock(&self.kept_events).get_or_insert_with(Vec::new);
        Ok(())
    }

    fn take_events(&mut self) -> Vec<(usize, Event)> {
        lock(&self.kept_events).as_mut().map(std::mem::take).unwrap_or_default()
    }
}
