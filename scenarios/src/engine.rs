//! The executor seam: what a scenario needs from whatever runs the nodes.
//!
//! Model: families drive an [`Engine`], never LocalNet directly, so that the madsim simulator
//! (crate vein-sim, `vein-sim scenario`) plugs in by implementing this trait. The trait is the small
//! set of verbs the attack stories use: advance time (one event at a time, so an attacker can
//! react the instant its branch becomes heavier), split and heal the network, release a withheld
//! branch, submit transactions, and read a node's state. Two implementations:
//! [`LocalNetEngine`], the deterministic in-memory harness of crate vein-node, and the madsim
//! engine of crate vein-sim (`sim/src/scenario.rs`), whose nodes run as simulated tasks over the
//! simulator's network model.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::sync::Arc;

use vein_node::core::chain::{PinError, PinOutcome};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::{Node, NodeConfig, Policy};
use vein_node::core::params::{GenesisError, Params};
use vein_node::core::poc::PlotSet;
use vein_node::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use vein_node::core::storage::{OwnerKey, StorePut};
use vein_node::core::storage_node::{FileRequest, StorageNodeError, StoredFile};
use vein_node::core::tips::TipStrategy;
use vein_node::core::transaction::{Transaction, TxKind};
use vein_node::localnet::{BoxedProver, LocalNet, real_genesis};

/// Everything needed to start a network.
#[derive(Debug, Clone)]
pub struct NetSpec {
    /// Nonces of each node (0 = not mining).
    pub capacities: Vec<u64>,
    /// Consensus parameters of the genesis (interval, finality depth, challenge refresh, ...).
    pub params: Params,
    /// One-way delay of every message between two nodes, in ms.
    pub latency_ms: u64,
    /// Tip selection every honest node runs when it issues a transaction.
    pub tip_strategy: TipStrategy,
    /// Policy of each node; missing entries are honest.
    pub policies: Vec<Policy>,
}

/// The fee of every transfer a family issues.
pub const FEE: u64 = 10;

/// A transfer signed by `key` with explicit parents: what an attacker issues when it picks its
/// own parents instead of running tip selection (both engines build it the same way).
pub fn signed_transfer(
    key: &Keypair,
    nonce: u64,
    to: AccountId,
    amount: u64,
    parents: [Hash; 2],
    now_ms: u64,
) -> Option<Transaction> {
    signed_with_parents(key, nonce, TxKind::Transfer { to, amount }, parents, now_ms)
}

/// A transaction of any `kind` signed by `key` with explicit parents (fee [`FEE`]).
pub fn signed_with_parents(
    key: &Keypair,
    nonce: u64,
    kind: TxKind,
    parents: [Hash; 2],
    now_ms: u64,
) -> Option<Transaction> {
    let body = vein_node::core::transaction::TransactionBody {
        from: key.account(),
        nonce,
        kind,
        fee: FEE,
        parents,
        issued_at_ms: now_ms,
    };
    body.sign(key).ok()
}

/// Why a network did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The spec's parameters or capacities make a genesis the node refuses.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// [`Engine::start_real`] on an engine that only has the model prover (the madsim one).
    #[error("this engine cannot run real plots; run the scenario with vein-scenarios (LocalNet)")]
    RealPlotsUnsupported,
    /// [`Engine::keep_events`] on an engine whose nodes' events it cannot tap.
    #[error("this engine cannot hand its nodes' events to a scenario family")]
    EventsUnsupported,
    /// The in-memory plot of a node could not be opened for reading.
    #[error("plot of node {owner}: {source}")]
    Plot {
        /// Index of the node whose plot it is.
        owner: usize,
        /// The plot reader's reason.
        source: vein_node::core::poc::PlotFileError,
    },
    /// `plot_of[node]` names a node index that does not exist.
    #[error("node {node} claims the plot of node {owner}, but there are only {nodes} nodes")]
    NoSuchOwner {
        /// Index of the claiming node.
        node: usize,
        /// The out-of-range owner index it names.
        owner: usize,
        /// Number of nodes in the spec.
        nodes: usize,
    },
}

/// The verbs scenarios use.
pub trait Engine: Sized {
    /// A read-only view of one node's core: a plain reference for LocalNet, a lock guard for
    /// an engine whose nodes run as tasks (the madsim simulator's, in crate vein-sim). Callers
    /// keep it only within a statement or a short block, never across a step.
    type NodeRef<'a>: std::ops::Deref<Target = Node>
    where
        Self: 'a;

    /// Starts a network with the model prover (PoC draws from each node's nonce count); the
    /// seed names the chain and drives every random choice, so a seed replays exactly.
    fn start(spec: &NetSpec, seed: u64) -> Result<Self, GenesisError>;
    /// Starts a real-plot network (`PocMode::Real`): node i proves from the plot of node
    /// `plot_of[i]` (itself for an ordinary miner, another node for an identity claiming that
    /// node's plot, `None` for no plot). The plot of node j is built in memory by the core's
    /// plot builder for j's account with `spec.capacities[j]` nonces, once, and every claimant
    /// reads those same bytes; the difficulty is set for the plots that exist. Engines without
    /// real plots refuse.
    fn start_real(
        spec: &NetSpec,
        plot_of: &[Option<usize>],
        seed: u64,
    ) -> Result<Self, StartError> {
        let _ = (spec, plot_of, seed);
        Err(StartError::RealPlotsUnsupported)
    }
    /// Current simulated time in ms since the start of the run.
    fn now_ms(&self) -> u64;
    /// Processes the next event if due by `until_ms`; false if none is.
    fn step(&mut self, until_ms: u64) -> bool;
    /// Processes every event due by `until_ms`, then sets the clock to `until_ms`.
    fn run_until(&mut self, until_ms: u64);
    /// Read access to node `index`'s core (panics on an index out of range: a family bug).
    fn node(&self, index: usize) -> Self::NodeRef<'_>;
    /// Number of nodes, attackers included.
    fn node_count(&self) -> usize;
    /// The account node `index` signs with (derived from the chain id and the index).
    fn account(&self, index: usize) -> AccountId;
    /// Splits the network: `groups[i]` is node i's side, messages cross no side; missing
    /// entries are group 0. Crashed nodes stay alone.
    fn partition(&mut self, groups: Vec<u8>);
    /// Undoes [`Engine::partition`]: every live node back in one group.
    fn heal(&mut self);
    /// Node `from` publishes the checkpoints of its active chain at `heights`.
    fn release(&mut self, from: usize, heights: std::ops::RangeInclusive<u64>);
    /// A transaction handed to node `at` as if from its local wallet.
    fn inject(&mut self, at: usize, tx: Transaction);
    /// Node `from` signs and submits a transfer (None if its node refused it).
    fn transfer(&mut self, from: usize, to: AccountId, amount: u64) -> Option<Hash>;
    /// Builds a signed transfer of node `from` with an explicit nonce, without submitting it.
    fn build_transfer(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
    ) -> Option<Transaction>;
    /// Builds a signed transfer of node `from` approving the given `parents` instead of the
    /// tips its node would select (a lazy or parasite issuer's choice), without submitting it.
    fn build_transfer_with_parents(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
        parents: [Hash; 2],
    ) -> Option<Transaction>;
    /// Builds a signed transaction of node `from` of any `kind` approving the given `parents`
    /// (an attacker placing its own units in the DAG), without submitting it. `None` if the
    /// signature fails or the engine cannot build one (the default: the family then names the
    /// engine unsupported).
    fn build_with_parents(
        &mut self,
        from: usize,
        nonce: u64,
        kind: TxKind,
        parents: [Hash; 2],
    ) -> Option<Transaction> {
        let _ = (from, nonce, kind, parents);
        None
    }
    /// Final checkpoint ids by height, as node `index` reported them.
    fn finals(&self, index: usize) -> &std::collections::BTreeMap<u64, Hash>;
    /// Hash over every delivered message in delivery order: equal for two runs exactly when
    /// they delivered the same messages (the determinism check recorded in the metrics).
    fn trace_hash(&self) -> Hash;
    /// Messages delivered so far; those dropped across a partition are not counted.
    fn messages_delivered(&self) -> u64;

    // Storage verbs (PROTOCOL.md §5; families in `crate::storage`).

    /// Node `owner` uploads `plaintext` and hands each shard to its assigned node.
    fn store_file(
        &mut self,
        owner: usize,
        plaintext: &[u8],
        key: &OwnerKey,
        request: &FileRequest,
    ) -> Result<StoredFile, StorageNodeError>;
    /// Cheating knob: node `index` forgets `fraction` of the chunks of its shards of `put`.
    fn drop_shard_fraction(
        &mut self,
        index: usize,
        put: &StorePut,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError>;
    /// Crash node `index` for good: it loses every shard of `files` and is cut off (it neither
    /// sends nor receives again).
    fn crash(&mut self, index: usize, files: &[Hash]);
    /// Every shard of `put` as its assigned node now holds it (`None` if it holds none).
    fn fetch_shards(&self, put: &StorePut) -> Vec<Option<Vec<u8>>>;
    /// After a repair of shard `shard_index` applied on node `view`: rebuild the shard from the
    /// other holders and hand it to its new node.
    fn deliver_repaired(
        &mut self,
        view: usize,
        file_id: &Hash,
        shard_index: u8,
    ) -> Result<(), StorageNodeError>;
    /// Node `from` signs and submits a transaction of `kind` (None if its node refused it).
    fn submit(&mut self, from: usize, kind: TxKind, fee: u64) -> Option<Hash>;

    /// Node `at` pins the side-chain anchor `(height, id)`, final on the main chain, and runs
    /// fork choice at once (`Node::pin_anchor`, docs/sidechain-fork-choice.md).
    fn pin_anchor(&mut self, at: usize, height: u64, id: Hash) -> Result<PinOutcome, PinError>;

    /// Keeps every node's core events from now on, for [`Engine::take_events`]; off at start,
    /// since most families read chains, not events. Families that feed a consumer of a node's
    /// events (a consortium member's replica feed) turn it on. An engine that cannot tap its
    /// nodes' events refuses.
    fn keep_events(&mut self) -> Result<(), StartError> {
        Err(StartError::EventsUnsupported)
    }
    /// The events kept since the last call: (node, event), each node's in the order it emitted
    /// them.
    fn take_events(&mut self) -> Vec<(usize, Event)> {
        Vec::new()
    }
}

/// [`Engine`] over crate vein-node's LocalNet.
pub struct LocalNetEngine {
    net: LocalNet,
    keys: Vec<Keypair>,
    /// Crashed nodes, each alone in its own partition group for good.
    crashed: BTreeSet<usize>,
}

impl LocalNetEngine {
    /// Partition groups with every crashed node alone; `base` for the others.
    fn groups(&self, base: impl Fn(usize) -> u8) -> Vec<u8> {
        (0..self.net.nodes.len())
            .map(|index| {
                if self.crashed.contains(&index) {
                    // Distinct from every live group (those are < 128): nodes <= 128.
                    128u8.saturating_add(index as u8)
                } else {
                    base(index)
                }
            })
            .collect()
    }
}

/// The node configuration a [`NetSpec`] asks for, shared by model and real-plot networks.
fn configure(spec: &NetSpec, index: usize, config: &mut NodeConfig) {
    config.tip_strategy = spec.tip_strategy;
    config.policy = spec.policies.get(index).copied().unwrap_or_default();
    // An on-the-fly plotter stores nothing (capacity 0) and still mines.
    if matches!(config.policy, Policy::OnTheFly { .. }) {
        config.mining = true;
    }
    // Families measure over each node's whole chain after the run (intervals, shares, reorg
    // depths), so nodes keep their history: pruning changes no fork choice within the reorg
    // limit, only what is left to read afterwards.
    config.limits.prune = false;
    // Families count what an attacker's messages do one by one (refusals, conflicts, orphans).
    // A ban would cut the attacker off after its first refusals and hide that, so they run the
    // rules with bans off; bans have their own tests (node/tests/peer_ban.rs, the testnet).
    config.limits.peer_ban_ms = 0;
}

/// The seed names the chain: proof-of-space draws are keyed by the genesis (real plots by the
/// accounts, which derive from the chain id), so distinct seeds must give distinct genesis ids
/// to be independent trials.
fn chain_id(seed: u64) -> String {
    format!("vein-scenarios/{seed}")
}

impl Engine for LocalNetEngine {
    type NodeRef<'a> = &'a Node;

    fn start(spec: &NetSpec, seed: u64) -> Result<Self, GenesisError> {
        let (mut net, keys) = LocalNet::with_config(
            &chain_id(seed),
            seed,
            &spec.capacities,
            spec.params.clone(),
            spec.latency_ms,
            |index, config| configure(spec, index, config),
        )?;
        // Scenarios read chains and counters, not the event log: keeping it costs memory.
        net.keep_events = false;
        Ok(LocalNetEngine { net, keys, crashed: BTreeSet::new() })
    }

    fn start_real(
        spec: &NetSpec,
        plot_of: &[Option<usize>],
        seed: u64,
    ) -> Result<Self, StartError> {
        let chain_id = chain_id(seed);
        let nodes = spec.capacities.len();
        let keys: Vec<Keypair> =
            (0..nodes as u64).map(|index| Keypair::derived(&chain_id, index)).collect();
        // One physical plot per owner, however many nodes claim it.
        let mut plots: BTreeMap<usize, Arc<[u8]>> = BTreeMap::new();
        for (node, owner) in plot_of.iter().enumerate() {
            let Some(owner) = *owner else { continue };
            let Some(key) = keys.get(owner) else {
                return Err(StartError::NoSuchOwner { node, owner, nodes });
            };
            plots.entry(owner).or_insert_with(|| {
                build_plot_in_memory(&key.account(), 0, spec.capacities[owner]).into()
            });
        }
        let physical_nonces: u64 = plots.keys().map(|owner| spec.capacities[*owner]).sum();
        let mut provers: Vec<BoxedProver> = Vec::with_capacity(nodes);
        for index in 0..nodes {
            let mut readers = Vec::new();
            if let Some(owner) = plot_of.get(index).copied().flatten()
                && let Some(bytes) = plots.get(&owner)
            {
                let reader = PlotReader::open(Cursor::new(bytes.clone()))
                    .map_err(|source| StartError::Plot { owner, source })?;
                readers.push(reader);
            }
            provers.push(Box::new(PlotSet::new(readers)));
        }
        let genesis =
            real_genesis(&chain_id, &keys, physical_nonces, 1_000_000_000, spec.params.clone());
        let (mut net, keys) = LocalNet::with_provers(
            genesis,
            keys,
            provers,
            seed,
            spec.latency_ms,
            |index, config| {
                config.mining = plot_of.get(index).copied().flatten().is_some();
                configure(spec, index, config);
            },
        )?;
        net.keep_events = false;
        Ok(LocalNetEngine { net, keys, crashed: BTreeSet::new() })
    }

    fn now_ms(&self) -> u64 {
        self.net.now_ms
    }

    fn step(&mut self, until_ms: u64) -> bool {
        self.net.step(until_ms)
    }

    fn run_until(&mut self, until_ms: u64) {
        self.net.run_until(until_ms);
    }

    fn node(&self, index: usize) -> &Node {
        &self.net.nodes[index]
    }

    fn node_count(&self) -> usize {
        self.net.nodes.len()
    }

    fn account(&self, index: usize) -> AccountId {
        self.keys[index].account()
    }

    fn partition(&mut self, groups: Vec<u8>) {
        let groups = self.groups(|index| groups.get(index).copied().unwrap_or(0));
        self.net.partition(groups);
    }

    fn heal(&mut self) {
        let groups = self.groups(|_| 0);
        self.net.partition(groups);
    }

    fn release(&mut self, from: usize, heights: std::ops::RangeInclusive<u64>) {
        self.net.release(from, heights);
    }

    fn inject(&mut self, at: usize, tx: Transaction) {
        self.net.inject(at, tx);
    }

    fn transfer(&mut self, from: usize, to: AccountId, amount: u64) -> Option<Hash> {
        self.net.transfer(from, to, amount)
    }

    fn build_transfer(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
    ) -> Option<Transaction> {
        let kind = vein_node::core::transaction::TxKind::Transfer { to, amount };
        self.net.nodes[from].build_transaction(nonce, kind, FEE).ok()
    }

    fn build_transfer_with_parents(
        &mut self,
        from: usize,
        nonce: u64,
        to: AccountId,
        amount: u64,
        parents: [Hash; 2],
    ) -> Option<Transaction> {
        signed_transfer(self.keys.get(from)?, nonce, to, amount, parents, self.net.now_ms)
    }

    fn build_with_parents(
        &mut self,
        from: usize,
        nonce: u64,
        kind: TxKind,
        parents: [Hash; 2],
    ) -> Option<Transaction> {
        signed_with_parents(self.keys.get(from)?, nonce, kind, parents, self.net.now_ms)
    }

    fn finals(&self, index: usize) -> &std::collections::BTreeMap<u64, Hash> {
        &self.net.finals[index]
    }

    fn trace_hash(&self) -> Hash {
        self.net.trace_hash()
    }

    fn messages_delivered(&self) -> u64 {
        self.net.delivered
    }

    fn store_file(
        &mut self,
        owner: usize,
        plaintext: &[u8],
        key: &OwnerKey,
        request: &FileRequest,
    ) -> Result<StoredFile, StorageNodeError> {
        self.net.store_file(owner, plaintext, key, request)
    }

    fn drop_shard_fraction(
        &mut self,
        index: usize,
        put: &StorePut,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError> {
        self.net.nodes[index].drop_shard_fraction(put, fraction, seed)
    }

    fn crash(&mut self, index: usize, files: &[Hash]) {
        for file_id in files {
            self.net.nodes[index].forget_file(file_id);
        }
        self.crashed.insert(index);
        let groups = self.groups(|_| 0);
        self.net.partition(groups);
    }

    fn fetch_shards(&self, put: &StorePut) -> Vec<Option<Vec<u8>>> {
        self.net.fetch_shards(put)
    }

    fn deliver_repaired(
        &mut self,
        view: usize,
        file_id: &Hash,
        shard_index: u8,
    ) -> Result<(), StorageNodeError> {
        self.net.deliver_repaired(view, file_id, shard_index)
    }

    fn submit(&mut self, from: usize, kind: TxKind, fee: u64) -> Option<Hash> {
        self.net.submit(from, kind, fee)
    }

    fn pin_anchor(&mut self, at: usize, height: u64, id: Hash) -> Result<PinOutcome, PinError> {
        self.net.pin_anchor(at, height, id)
    }

    fn keep_events(&mut self) -> Result<(), StartError> {
        self.net.keep_events = true;
        Ok(())
    }

    fn take_events(&mut self) -> Vec<(usize, Event)> {
        std::mem::take(&mut self.net.events).into_iter().map(|(_, node, e)| (node, e)).collect()
    }
}
