//! The node state machine: the one place where messages, time and proofs meet the DAG, the tip
//! selector and the checkpoint chain. Sans-IO in the quinn-proto style: the driver hands in bytes
//! from peers (`on_message`), the current time (`on_tick`), proof-of-space answers (`on_proof`)
//! and local requests (`transfer`), and takes out effects with `poll_output` and the next wake-up
//! with `poll_timeout`. Nothing here reads a clock, a socket, a disk or an OS random source.

use crate::core::chain::{Chain, ChainSize, OfferOutcome};
use crate::core::checkpoint::{Checkpoint, CheckpointBody, CheckpointError};
use crate::core::crypto::{AccountId, Keypair};
use crate::core::dag::{Dag, InsertOutcome, Outcome, Unit};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::message::{Message, REQUEST_IDS_MAX, UnitBytes};
use crate::core::params::{Genesis, GenesisError};
use crate::core::poc::challenge::generation_signature_for;
use crate::core::poc::model::model_deadline_ms;
use crate::core::poc::on_the_fly::OnTheFlySearch;
use crate::core::poc::{Challenge, PocMode, PocProof};
use crate::core::random::DetRng;
use crate::core::record::{Record, RecordKind};
use crate::core::storage::{OwnerKey, StorePut, assign, prepare_file};
use crate::core::storage_node::{
    FileRequest, ShardStore, StorageNodeError, StorageNodeStats, StoredFile,
};
use crate::core::tips::{TipSelector, TipStrategy};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use crate::core::wire::WireError;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Units a checkpoint's search for eligible ancestors of ineligible tips visits at most: a few
/// levels below a few thousand spam tips, and a bound on the cost whatever the DAG holds.
const ANCESTOR_SEARCH_MAX: usize = 4_096;

/// What is known about a unit's signature when it reaches `accept_unit`. The check itself is
/// a pure function of the unit's bytes, so a result computed earlier (in a batch, or by the
/// shared unit cache) is the one `accept_unit` would compute; it is applied at the same step,
/// so a unit's reject reason does not depend on how it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureCheck {
    /// Not checked yet: `accept_unit` verifies it.
    Pending,
    Valid,
    Invalid,
}

impl SignatureCheck {
    fn of(result: &Result<(), crate::core::crypto::CryptoError>) -> SignatureCheck {
        if result.is_ok() { SignatureCheck::Valid } else { SignatureCheck::Invalid }
    }
}

/// Transactions received in one driver turn, decoded and signature-checked together before
/// the turn's messages are handled one by one (`Node::on_messages`).
type PreparedUnits = BTreeMap<Hash, (Arc<Unit>, SignatureCheck)>;

/// A peer as the driver names it. The core never sees addresses.
pub type PeerId = u64;

#[derive(Clone, Debug)]
pub struct Limits {
    pub orphan_units_max: usize,
    /// Score below which a peer is disconnected.
    pub peer_score_min: i64,
    /// Outputs queued before new gossip is dropped (backpressure instead of unbounded memory).
    pub outputs_max: usize,
    /// Drop history below the prune horizon from memory (docs/protocol.md, "Bounded state").
    /// Off only to measure what pruning saves; the disk log is complete either way.
    pub prune: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { orphan_units_max: 4_096, peer_score_min: 0, outputs_max: 100_000, prune: true }
    }
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub genesis: Arc<Genesis>,
    pub key: Keypair,
    /// Seed of this node's random stream (tip selection, gossip targets).
    pub seed: [u8; 32],
    pub tip_strategy: TipStrategy,
    /// Peers each new transaction is pushed to.
    pub gossip_fanout: usize,
    /// Whether this node answers challenges and forges checkpoints.
    pub mining: bool,
    /// How often the head is announced to one random peer (anti-entropy).
    pub announce_interval_ms: u64,
    pub limits: Limits,
    /// A cache of decoded, signature-checked units shared by many nodes of one simulation
    /// (units are immutable and content-addressed, so sharing changes nothing but memory and
    /// time). `None` in production.
    pub unit_cache: Option<Arc<dyn UnitCache>>,
    /// Honest by default; attacker scenarios (crate vein-scenarios) switch it.
    pub policy: Policy,
}

/// Decoded, signature-checked units keyed by their id (the hash of their canonical bytes, which
/// is what a transaction message carries).
pub trait UnitCache: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &Hash) -> Option<Arc<Unit>>;
    fn put(&self, key: Hash, unit: Arc<Unit>);
    /// Whether a checkpoint with this id (the hash of all its bytes, signature included) has
    /// already passed its signature check on some node: the check is a pure function of those
    /// bytes, so every node of one simulation would reach the same answer.
    fn checkpoint_signature_checked(&self, _id: &Hash) -> bool {
        false
    }
    fn record_checkpoint_signature(&self, _id: Hash) {}
    /// The unit whose gossip envelope is exactly this allocation (pointer identity, not
    /// content): a receiver of shared bytes learns the id without hashing them.
    fn unit_for_envelope(&self, _envelope: &Arc<Vec<u8>>) -> Option<Arc<Unit>> {
        None
    }
    /// Remember `unit` under its envelope's allocation ([`UnitCache::unit_for_envelope`]).
    fn record_envelope(&self, _unit: &Arc<Unit>) {}
}

/// A forge more than this many target intervals past its time is late: the head is stale.
const LATE_FORGE_INTERVALS: u64 = 2;

/// After a start, late forges wait this many announce (or target, if longer) intervals: time
/// for peers' head announcements and relays to bring the network's chain.
const CATCH_UP_GRACE_INTERVALS: u64 = 2;

/// A simple shared cache (a mutex around a map); bounded by `capacity` entries, cleared when
/// full (cheap and deterministic: a miss only costs a decode).
#[derive(Debug, Default)]
pub struct SharedUnitCache {
    units: std::sync::Mutex<BTreeMap<Hash, Arc<Unit>>>,
    checkpoint_signatures: std::sync::Mutex<BTreeSet<Hash>>,
    /// Units by the address of their envelope. Each entry holds its unit, and the unit holds
    /// the envelope, so no address here can be freed and reused while its entry exists; a
    /// lookup still checks pointer equality. Looked up and cleared, never iterated.
    envelopes: std::sync::Mutex<std::collections::HashMap<usize, Arc<Unit>>>,
    capacity: usize,
}

impl SharedUnitCache {
    pub fn new(capacity: usize) -> SharedUnitCache {
        SharedUnitCache {
            units: std::sync::Mutex::new(BTreeMap::new()),
            checkpoint_signatures: std::sync::Mutex::new(BTreeSet::new()),
            envelopes: std::sync::Mutex::new(std::collections::HashMap::new()),
            capacity,
        }
    }
}

impl UnitCache for SharedUnitCache {
    fn get(&self, key: &Hash) -> Option<Arc<Unit>> {
        self.units.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: Hash, unit: Arc<Unit>) {
        if let Ok(mut units) = self.units.lock() {
            if units.len() >= self.capacity {
                units.clear();
            }
            units.insert(key, unit);
        }
    }

    fn checkpoint_signature_checked(&self, id: &Hash) -> bool {
        self.checkpoint_signatures.lock().is_ok_and(|checked| checked.contains(id))
    }

    fn record_checkpoint_signature(&self, id: Hash) {
        if let Ok(mut checked) = self.checkpoint_signatures.lock() {
            if checked.len() >= self.capacity {
                checked.clear();
            }
            checked.insert(id);
        }
    }

    fn unit_for_envelope(&self, envelope: &Arc<Vec<u8>>) -> Option<Arc<Unit>> {
        let envelopes = self.envelopes.lock().ok()?;
        let unit = envelopes.get(&(Arc::as_ptr(envelope) as usize))?;
        let same = unit.envelope_if_made().is_some_and(|own| Arc::ptr_eq(own, envelope));
        same.then(|| unit.clone())
    }

    fn record_envelope(&self, unit: &Arc<Unit>) {
        let Some(envelope) = unit.envelope_if_made() else { return };
        if let Ok(mut envelopes) = self.envelopes.lock() {
            if envelopes.len() >= self.capacity {
                envelopes.clear();
            }
            envelopes.insert(Arc::as_ptr(envelope) as usize, unit.clone());
        }
    }
}

/// How a node treats its own checkpoints. Attackers are this same core with another policy,
/// never a fork of the honest code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Relay own checkpoints at once and announce the head.
    #[default]
    Honest,
    /// Keep own checkpoints private (no relay, no head announcement) until the driver releases
    /// them with [`Node::release_message`]; fork choice is unchanged, so the node mines on its
    /// private branch while that is at least as heavy as anything it has seen (first-seen ties).
    Withhold,
    /// Challenge grinding (PROTOCOL.md §7 #5): forge each own checkpoint in `variants` versions
    /// (different timestamps and parent sets, so different content and ids) and publish the one
    /// after which this node's own next deadline is smallest. Needs model proofs, whose
    /// deadlines the node can compute itself; with real plots it publishes the first version.
    Grind { variants: u8 },
    /// Fake space (PROTOCOL.md §7 #7): store no plot; once a challenge is known, compute
    /// `nonces_per_s` nonces per second of this node's account and forge at the earliest time
    /// one of them allows (`poc::on_the_fly`: not before the nonce is computed, not before its
    /// deadline). Model networks only: the proof is `PocProof::ModelNonce`, and the node must
    /// be registered in genesis (capacity 0 is fine) and have `mining` on.
    OnTheFly { nonces_per_s: u64 },
    /// Extend all forks (PROTOCOL.md §7 #4, double dipping, "nothing at stake"): forge on every
    /// checkpoint this node knows, not only on its fork-choice head, each at its own deadline
    /// for that checkpoint's successor challenge. Two checkpoints whose successors answer the
    /// same challenge (height and generation signature) give this node the same deadline, so it
    /// forges only on the one allowing the earliest time: the later child would open the same
    /// lotteries, later. Model networks only (the node computes its own deadlines), like
    /// [`Policy::Grind`].
    ExtendAllForks,
    /// Plot sharing (PROTOCOL.md §7 #8): an identity claiming a plot bound to another account
    /// (the driver hands it that plot's proofs). It forges as an honest node would; when its
    /// own validation refuses the checkpoint (`PlotOfAnotherAccount`), it publishes it to every
    /// peer anyway, so that the honest nodes have to judge it.
    PublishRefused,
}

impl NodeConfig {
    pub fn new(genesis: Arc<Genesis>, key: Keypair, seed: [u8; 32]) -> NodeConfig {
        NodeConfig {
            genesis,
            key,
            seed,
            tip_strategy: TipStrategy::WeightedWalk { alpha: 0.5 },
            gossip_fanout: 8,
            mining: true,
            announce_interval_ms: 2_000,
            limits: Limits::default(),
            unit_cache: None,
            policy: Policy::Honest,
        }
    }
}

/// Effects for the driver to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send these envelope bytes to a peer. The bytes are shared among the sends of one gossip.
    Send {
        to: PeerId,
        bytes: Arc<Vec<u8>>,
    },
    /// Find the best proof of space for this challenge and call `on_proof` with it.
    Challenge(Challenge),
    /// Drop the connection to this peer.
    Disconnect {
        peer: PeerId,
    },
    /// Keep this accepted unit or checkpoint (appended after every earlier record): a restart
    /// replays them with `restore`.
    Persist(Record),
    /// Make every record persisted so far durable now: the next output is a
    /// `CheckpointFinal` event, and nothing final may be reported that a crash could lose.
    SyncBeforeFinal,
    Event(Event),
}

/// Why a transaction (from a peer or local) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    #[error("bad signature")]
    BadSignature,
    #[error("fee {fee} below the minimum {minimum}")]
    FeeTooLow { fee: u64, minimum: u64 },
    #[error("issued {issued_at_ms} ms, more than the allowed drift ahead of {now_ms} ms")]
    FromTheFuture { issued_at_ms: u64, now_ms: u64 },
    #[error("nonce {nonce} already used by a confirmed transaction")]
    NonceUsed { nonce: u64 },
    #[error("balance {balance} cannot cover {needed}")]
    InsufficientBalance { balance: u64, needed: u64 },
    #[error("amount plus fee overflows")]
    AmountOverflow,
    #[error("parents must differ unless both are genesis")]
    EqualParents,
    #[error("a transfer to its own author can never apply")]
    SelfTransfer,
    #[error("nonce {nonce} is beyond the window of the confirmed floor {floor}: retry later")]
    NonceWindowFull { nonce: u64, floor: u64 },
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("request for {count} ids exceeds {REQUEST_IDS_MAX}")]
    RequestTooLarge { count: usize },
}

impl RejectReason {
    /// A short label for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            RejectReason::Malformed(WireError::Oversize { .. }) => "oversize",
            RejectReason::Malformed(WireError::UnknownVersion { .. }) => "unknown_version",
            RejectReason::Malformed(WireError::UnknownKind { .. }) => "unknown_kind",
            RejectReason::Malformed(_) => "malformed",
            RejectReason::BadSignature => "bad_signature",
            RejectReason::FeeTooLow { .. } => "fee_too_low",
            RejectReason::FromTheFuture { .. } => "from_the_future",
            RejectReason::NonceUsed { .. } => "nonce_used",
            RejectReason::InsufficientBalance { .. } => "insufficient_balance",
            RejectReason::AmountOverflow => "amount_overflow",
            RejectReason::EqualParents => "equal_parents",
            RejectReason::SelfTransfer => "self_transfer",
            RejectReason::NonceWindowFull { .. } => "nonce_window_full",
            RejectReason::Checkpoint(CheckpointError::FromTheFuture { .. }) => {
                "checkpoint_from_the_future"
            }
            RejectReason::Checkpoint(CheckpointError::DeadlineNotElapsed { .. }) => {
                "checkpoint_deadline_not_elapsed"
            }
            RejectReason::Checkpoint(CheckpointError::PlotOfAnotherAccount { .. }) => {
                "checkpoint_plot_of_another_account"
            }
            RejectReason::Checkpoint(_) => "checkpoint_invalid",
            RejectReason::RequestTooLarge { .. } => "request_too_large",
        }
    }

    /// Score lost by the peer that sent it. Clock skew and staleness are not misbehaviour.
    fn penalty(&self) -> i64 {
        match self {
            RejectReason::FromTheFuture { .. }
            | RejectReason::NonceUsed { .. }
            | RejectReason::InsufficientBalance { .. }
            | RejectReason::Checkpoint(CheckpointError::FromTheFuture { .. }) => 0,
            RejectReason::BadSignature | RejectReason::Checkpoint(_) => 50,
            _ => 20,
        }
    }
}

/// Counters for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub messages_in: u64,
    pub messages_out: u64,
    pub units_accepted: u64,
    pub rejected: BTreeMap<&'static str, u64>,
    pub checkpoints_won: u64,
    pub outputs_dropped: u64,
    /// Units parked because a parent is unknown (their parents were requested).
    pub units_orphaned: u64,
    /// [`Policy::Grind`]: checkpoints forged in several versions, and how many of those
    /// version sets all led to one next generation signature (all of them when the signature
    /// does not depend on grindable content).
    pub grind_rounds: u64,
    pub grind_rounds_one_signature: u64,
    /// Units dropped from memory below the prune horizon.
    pub units_pruned: u64,
    /// Late copies of units already pruned (final): `InsertOutcome::AlreadyFinal`.
    pub units_already_final: u64,
    /// Units inserted with a parent that was pruned (a final reference).
    pub units_on_final_parents: u64,
    /// Requests for units this node pruned (it has nothing to send; the disk still has them).
    pub pruned_requests: u64,
    /// Checkpoints at or below the prune horizon, ignored.
    pub checkpoints_below_horizon: u64,
    /// [`Policy::PublishRefused`]: own checkpoints this node refused and published anyway.
    pub refused_own_published: u64,
}

/// How much history one node holds in memory: what bounded state bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateSize {
    pub dag_units: usize,
    /// Pruned units still known by id (referenced, or within the reference window).
    pub pruned_ids: usize,
    pub orphans: usize,
    pub tips: usize,
    pub chain: ChainSize,
    pub requested: usize,
    pub missing_units: usize,
    pub own_pending_nonces: usize,
    pub outputs: usize,
    /// The ledger's accounts: state, not history (one per funded account).
    pub accounts: usize,
    pub prune_horizon: u64,
}

#[derive(Debug, Clone)]
struct PendingForge {
    prev: Hash,
    challenge: Challenge,
    proof: PocProof,
    deadline_ms: u64,
    at_ms: u64,
}

#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    account: AccountId,
    dag: Dag,
    chain: Chain,
    tips: TipSelector,
    rng: DetRng,
    peers: BTreeMap<PeerId, i64>,
    outputs: VecDeque<Output>,
    forge: Option<PendingForge>,
    /// [`Policy::OnTheFly`]: this round's nonce search, and when to continue it.
    fly: Option<(OnTheFlySearch, u64)>,
    /// [`Policy::ExtendAllForks`]: planned forges by successor challenge `(height, signature)`,
    /// the challenges already forged, and for every known checkpoint's successor challenge the
    /// earliest timestamp holding it.
    fork_forges: BTreeMap<(u64, Hash), PendingForge>,
    forked: BTreeSet<(u64, Hash)>,
    fork_seen: BTreeMap<(u64, Hash), u64>,
    /// Head id the last challenge was issued for.
    challenged_head: Option<Hash>,
    next_announce_ms: u64,
    /// Local time of the first tick (`None` before it): a node that has just started may not
    /// have heard of the network's chain yet (see [`Node::forge_is_premature`]).
    started_ms: Option<u64>,
    /// Nonces this node has used but not yet seen confirmed.
    own_pending_nonces: BTreeSet<u64>,
    /// Units this node asked peers for (missing parents). They skip the plausibility checks:
    /// a descendant that others built on needs them, whatever today's ledger says.
    requested: BTreeSet<Hash>,
    /// Units the best branch still lacks (re-requested until they arrive).
    missing_units: BTreeSet<Hash>,
    stats: NodeStats,
    now_ms: u64,
    /// Shards this node stores for others, and the proofs it has sent (docs/storage.md).
    shards: ShardStore,
    /// Shards this node (as a data owner) asked its peers for, and the answers kept.
    fetch: crate::core::shard_fetch::ShardFetch,
}

impl Node {
    pub fn new(config: NodeConfig) -> Result<Node, GenesisError> {
        let mut chain = Chain::new(&config.genesis)?;
        chain.set_signature_memo(config.unit_cache.clone());
        let dag = Dag::new(chain.genesis_id(), config.limits.orphan_units_max);
        let tips = TipSelector::new(config.tip_strategy);
        let account = config.key.account();
        let rng = DetRng::from_seed(config.seed);
        let mut node = Node {
            config,
            account,
            dag,
            chain,
            tips,
            rng,
            peers: BTreeMap::new(),
            outputs: VecDeque::new(),
            forge: None,
            fly: None,
            fork_forges: BTreeMap::new(),
            forked: BTreeSet::new(),
            fork_seen: BTreeMap::new(),
            challenged_head: None,
            next_announce_ms: 0,
            started_ms: None,
            own_pending_nonces: BTreeSet::new(),
            requested: BTreeSet::new(),
            missing_units: BTreeSet::new(),
            stats: NodeStats::default(),
            now_ms: 0,
            shards: ShardStore::default(),
            fetch: crate::core::shard_fetch::ShardFetch::default(),
        };
        node.issue_challenge();
        let genesis = node.chain.genesis_id();
        node.plan_fork_forge(&genesis);
        Ok(node)
    }

    pub fn account(&self) -> AccountId {
        self.account
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    pub fn tip_stats(&self) -> &crate::core::tips::TipStats {
        &self.tips.stats
    }

    /// How much history this node holds in memory.
    pub fn state_size(&self) -> StateSize {
        StateSize {
            dag_units: self.dag.len(),
            pruned_ids: self.dag.pruned_len(),
            orphans: self.dag.orphan_count(),
            tips: self.dag.tips().len(),
            chain: self.chain.size(),
            requested: self.requested.len(),
            missing_units: self.missing_units.len(),
            own_pending_nonces: self.own_pending_nonces.len(),
            outputs: self.outputs.len(),
            accounts: self.chain.ledger().accounts().count(),
            prune_horizon: self.chain.prune_horizon(),
        }
    }

    /// Drop history below the prune horizon (docs/protocol.md, "Bounded state"). Runs between
    /// inputs (from `on_tick` and replay), never inside one: the driver has written every
    /// accepted unit to disk before the unit can leave memory.
    fn prune(&mut self) {
        if !self.config.limits.prune {
            return;
        }
        let report = self.chain.prune(&mut self.dag);
        self.stats.units_pruned += report.units as u64;
    }

    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, &i64)> {
        self.peers.iter()
    }

    pub fn add_peer(&mut self, peer: PeerId) {
        self.peers.entry(peer).or_insert(100);
    }

    pub fn remove_peer(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next time `on_tick` has work to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        let forge = self.forge.as_ref().map(|forge| match self.forge_is_premature(forge.at_ms) {
            Some(settled_ms) => settled_ms,
            None => forge.at_ms,
        });
        let wake = forge.map_or(self.next_announce_ms, |at| at.min(self.next_announce_ms));
        let wake = self.fly.as_ref().map_or(wake, |(_, fly_wake)| wake.min(*fly_wake));
        Some(self.fork_forges.values().map(|forge| forge.at_ms).fold(wake, u64::min))
    }

    /// Advance time: forge a checkpoint whose deadline has come, announce the head.
    pub fn on_tick(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        self.prune();
        self.advance_fly();
        self.forge_on_forks();
        self.started_ms.get_or_insert(self.now_ms);
        if let Some(forge) = &self.forge
            && forge.at_ms <= self.now_ms
            && self.forge_is_premature(forge.at_ms).is_none()
        {
            let forge = forge.clone();
            self.forge = None;
            if forge.prev == self.chain.head().id {
                self.forge_checkpoint(forge);
            }
        }
        if self.now_ms >= self.next_announce_ms {
            self.next_announce_ms = self.now_ms + self.config.announce_interval_ms.max(1);
            if self.config.policy == Policy::Honest
                && let Some(peer) = self.random_peer(None)
            {
                let head = self.chain.head();
                let message = Message::Head {
                    id: head.id,
                    height: head.height,
                    cumulative_weight: head.cumulative_weight,
                };
                self.send(peer, &message);
            }
            self.retry_requests();
        }
    }

    /// A forge whose time passed long ago right after a start means the node started on an old
    /// store: forging at once would put a burst of checkpoints on the stale head (their
    /// timestamps all lie in the past, so nothing makes them wait), and a burst of k + 1 would
    /// be final on this node alone until the network's heavier chain arrived and reverted it
    /// (seen in the testnet end-to-end test after a restart; docs/protocol.md, "Catching up
    /// before forging"). So for a grace period after its start a node forges only on time;
    /// peers' announcements and relays bring the chain meanwhile. Returns the time a late forge
    /// may go ahead, or `None` if it may go now (or is not late).
    fn forge_is_premature(&self, at_ms: u64) -> Option<u64> {
        let params = self.chain.params();
        let late_ms = params.target_interval_ms.saturating_mul(LATE_FORGE_INTERVALS);
        if at_ms.saturating_add(late_ms) >= self.now_ms {
            return None;
        }
        let grace_ms = self
            .config
            .announce_interval_ms
            .max(params.target_interval_ms)
            .saturating_mul(CATCH_UP_GRACE_INTERVALS);
        let settled_ms = self.started_ms.unwrap_or(self.now_ms).saturating_add(grace_ms);
        (settled_ms > self.now_ms).then_some(settled_ms)
    }

    /// Ask a random peer again for everything still missing: a request or its answer may have
    /// been lost, and without a retry a node could wait forever for one checkpoint or unit
    /// (found by the simulator). Bounded by the request size limit.
    fn retry_requests(&mut self) {
        let mut missing: Vec<Hash> = self.chain.missing_prevs(REQUEST_IDS_MAX);
        missing.extend(self.missing_units.iter().filter(|id| !self.dag.knows(id)).copied());
        missing.extend(self.dag.missing_parents(REQUEST_IDS_MAX));
        missing.sort();
        missing.dedup();
        missing.truncate(REQUEST_IDS_MAX);
        if !missing.is_empty()
            && let Some(peer) = self.random_peer(None)
        {
            self.request(peer, missing);
        }
    }

    /// The driver's answer to `Output::Challenge`.
    pub fn on_proof(&mut self, now_ms: u64, challenge: Challenge, best: Option<(PocProof, u64)>) {
        self.now_ms = self.now_ms.max(now_ms);
        let head = self.chain.head();
        if challenge != self.next_challenge() {
            return; // The head moved while the proof was being computed; a new one is coming.
        }
        let Some((proof, deadline_ms)) = best else { return };
        let at_ms = head.timestamp_ms.saturating_add(deadline_ms);
        self.forge = Some(PendingForge { prev: head.id, challenge, proof, deadline_ms, at_ms });
    }

    /// Bytes from a peer. Never panics; bad input is counted, scored and dropped.
    pub fn on_message(&mut self, now_ms: u64, from: PeerId, bytes: &[u8]) {
        self.handle_message(now_ms, from, bytes, None, None);
    }

    /// [`Node::on_message`] for bytes behind an `Arc`, as a transport that shares received
    /// bytes delivers them: a unit that arrives this way relays these same bytes, and in a
    /// simulation a receiver of an envelope the unit cache knows skips hashing it.
    pub fn on_shared_message(&mut self, now_ms: u64, from: PeerId, bytes: &Arc<Vec<u8>>) {
        self.handle_message(now_ms, from, bytes, Some(bytes), None);
    }

    /// Messages that arrived together (the production driver's turn), handled in order exactly
    /// as by `on_shared_message` one by one, except that the signatures of the new transactions
    /// among them are verified first as one batch (`Transaction::verify_signatures`): the same
    /// results, for less work than one verification each.
    pub fn on_messages(&mut self, now_ms: u64, messages: &[(PeerId, Arc<Vec<u8>>)]) {
        let mut prepared = self.prepare_transactions(messages);
        for (from, bytes) in messages {
            self.handle_message(now_ms, *from, bytes, Some(bytes), Some(&mut prepared));
        }
    }

    /// Decode the transactions among `messages` that this node does not hold yet (once per id)
    /// and verify their signatures together. Anything that does not decode is left for the
    /// one-by-one path, which refuses it as before.
    fn prepare_transactions(&self, messages: &[(PeerId, Arc<Vec<u8>>)]) -> PreparedUnits {
        let cache = self.config.unit_cache.as_ref();
        let mut units: BTreeMap<Hash, Arc<Unit>> = BTreeMap::new();
        for (_, bytes) in messages {
            let Some(UnitBytes::Transaction(body)) = Message::peek_unit(bytes) else {
                continue;
            };
            let id = Hash::of(body);
            if units.contains_key(&id)
                || self.dag.knows(&id)
                || cache.is_some_and(|cache| cache.get(&id).is_some())
            {
                continue;
            }
            if let Ok(tx) = Transaction::decode(body) {
                let unit = Unit::from_canonical(tx, body);
                // Peeked as a transaction message whose body decoded canonically: these are
                // the unit's envelope bytes, relayed as they are.
                unit.adopt_envelope(bytes);
                units.insert(id, unit);
            }
        }
        let txs: Vec<&Transaction> = units.values().map(|unit| &unit.tx).collect();
        let checks: Vec<SignatureCheck> =
            Transaction::verify_signatures(&txs).iter().map(SignatureCheck::of).collect();
        units.into_iter().zip(checks).map(|((id, unit), check)| (id, (unit, check))).collect()
    }

    fn handle_message(
        &mut self,
        now_ms: u64,
        from: PeerId,
        bytes: &[u8],
        shared: Option<&Arc<Vec<u8>>>,
        prepared: Option<&mut PreparedUnits>,
    ) {
        self.now_ms = self.now_ms.max(now_ms);
        self.stats.messages_in += 1;
        if !self.peers.contains_key(&from) {
            self.add_peer(from);
        }
        match Message::peek_unit(bytes) {
            Some(UnitBytes::Transaction(body)) => {
                return self.on_transaction_bytes(from, body, shared, prepared);
            }
            // Every peer relays every checkpoint: drop the copies of one already held without
            // decoding them (bytes with a known id are that checkpoint's bytes).
            Some(peeked @ UnitBytes::Checkpoint(_))
                if self.chain.header(&peeked.id()).is_some() =>
            {
                return;
            }
            _ => {}
        }
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(error) => {
                self.reject(Some(from), RejectReason::Malformed(error));
                return;
            }
        };
        match message {
            Message::Transaction(tx) => {
                if let Err(reason) = self.accept_transaction(tx, Some(from)) {
                    self.reject(Some(from), reason);
                }
            }
            Message::Checkpoint(checkpoint) => {
                if let Err(reason) = self.accept_checkpoint(checkpoint, Some(from)) {
                    self.reject(Some(from), reason);
                }
            }
            Message::GetUnits(ids) => self.serve(from, &ids),
            Message::GetShard { file_id, shard_index } => {
                // Serve what is held; a holder that lost chunks serves what it has, and the
                // owner's root check drops it.
                if let Some(bytes) = self.shard(&file_id, shard_index)
                    && bytes.len() <= crate::core::message::SHARD_MESSAGE_BYTES_MAX
                {
                    let bytes = bytes.to_vec();
                    self.send(from, &Message::Shard { file_id, shard_index, bytes });
                }
            }
            Message::Shard { file_id, shard_index, bytes } => {
                let put = self.chain.ledger().contract(&file_id).map(|c| c.put.clone());
                // Unsolicited or wrong answers are dropped; they cost the sender nothing here
                // because a reply to a broadcast request may legitimately come twice.
                let _ = self.fetch.accept(file_id, shard_index, bytes, put.as_deref());
            }
            Message::Head { id, cumulative_weight, .. } => {
                if !self.chain.knows(&id) && cumulative_weight > self.chain.head().cumulative_weight
                {
                    self.send(from, &Message::GetUnits(vec![id]));
                }
            }
        }
    }

    /// A transaction from a peer, as its canonical bytes. The id is their hash, so a duplicate
    /// (gossip fan-out delivers each unit about fan-out times) costs one hash and one lookup and
    /// is never decoded: bytes with a known id are that unit's bytes.
    /// `shared`: the envelope behind an `Arc`, if the transport shares it; `prepared`: this
    /// turn's batch-verified transactions (`on_messages`), taken from when present instead of
    /// decoding and verifying again.
    fn on_transaction_bytes(
        &mut self,
        from: PeerId,
        body: &[u8],
        shared: Option<&Arc<Vec<u8>>>,
        prepared: Option<&mut PreparedUnits>,
    ) {
        let cache = self.config.unit_cache.clone();
        // The same allocation as a cached unit's envelope: the same bytes, so the same id.
        let by_envelope = cache
            .as_ref()
            .zip(shared)
            .and_then(|(cache, envelope)| cache.unit_for_envelope(envelope));
        let id = by_envelope.as_ref().map_or_else(|| Hash::of(body), |unit| unit.id);
        if self.dag.knows(&id) {
            // Counted as `accept_unit` would: a late copy of a final, pruned unit.
            if self.dag.pruned_height(&id).is_some() {
                self.stats.units_already_final += 1;
            }
            return;
        }
        // Identical bytes decode and verify identically: reuse the shared, verified copy.
        let cached = by_envelope.or_else(|| cache.as_ref().and_then(|cache| cache.get(&id)));
        let (unit, check) = match cached {
            Some(unit) => (unit, SignatureCheck::Valid),
            None => {
                let (unit, check) = match prepared.and_then(|prepared| prepared.remove(&id)) {
                    Some(prepared) => prepared,
                    None => {
                        let tx = match Transaction::decode(body) {
                            Ok(tx) => tx,
                            Err(error) => {
                                return self.reject(Some(from), RejectReason::Malformed(error));
                            }
                        };
                        (Unit::from_canonical(tx, body), SignatureCheck::Pending)
                    }
                };
                if let Some(envelope) = shared {
                    // These are the unit's envelope bytes (peeked as a transaction message
                    // whose body decoded canonically): relay them as they are.
                    unit.adopt_envelope(envelope);
                }
                match &cache {
                    // Verified here, before the plausibility checks, so that the cached copy
                    // never needs verifying again on any node.
                    Some(cache) => {
                        let valid = match check {
                            SignatureCheck::Pending => unit.tx.verify_signature().is_ok(),
                            SignatureCheck::Valid => true,
                            SignatureCheck::Invalid => false,
                        };
                        if !valid {
                            return self.reject(Some(from), RejectReason::BadSignature);
                        }
                        cache.put(id, unit.clone());
                        cache.record_envelope(&unit);
                        (unit, SignatureCheck::Valid)
                    }
                    None => (unit, check),
                }
            }
        };
        if let Err(reason) = self.accept_unit(unit, check, Some(from)) {
            self.reject(Some(from), reason);
        }
    }

    /// Accept a checkpoint this node forged, counting the win or reporting why it was refused.
    fn accept_own_checkpoint(&mut self, checkpoint: Checkpoint, deadline_ms: u64) {
        let id = checkpoint.id().unwrap_or(Hash::ZERO);
        let height = checkpoint.body.height;
        // Only an attacker policy needs the refused checkpoint back; honest nodes skip the copy.
        let checkpoint_copy =
            (self.config.policy == Policy::PublishRefused).then(|| checkpoint.clone());
        match self.accept_checkpoint(checkpoint, None) {
            Ok(()) => {
                self.stats.checkpoints_won += 1;
                self.emit(Event::CheckpointWon { id, height, deadline_ms });
            }
            Err(reason) => {
                if self.config.policy == Policy::PublishRefused {
                    self.publish_refused(&checkpoint_copy);
                }
                self.emit(Event::InputRejected {
                    peer: None,
                    kind: "own_checkpoint",
                    reason: reason.to_string(),
                })
            }
        }
    }

    /// [`Policy::PublishRefused`]: send a checkpoint this node refused to every peer.
    fn publish_refused(&mut self, checkpoint: &Option<Checkpoint>) {
        let Some(checkpoint) = checkpoint else { return };
        let Ok(bytes) = Message::Checkpoint(checkpoint.clone()).encode() else { return };
        let bytes = Arc::new(bytes);
        self.stats.refused_own_published += 1;
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.push(Output::Send { to: peer, bytes: bytes.clone() });
        }
    }

    /// Re-insert a unit or checkpoint from this node's own store after a restart. The unit was
    /// validated when first accepted, so only its signature is checked again (the store could
    /// be corrupt); plausibility against today's ledger is skipped, since a once-valid unit may
    /// conflict with what was confirmed since and still be needed as a parent.
    pub fn restore(&mut self, now_ms: u64, kind: RecordKind, bytes: &[u8]) {
        self.now_ms = self.now_ms.max(now_ms);
        let queued = self.outputs.len();
        match kind {
            RecordKind::Unit => {
                let Ok(tx) = Transaction::decode(bytes) else { return };
                if tx.verify_signature().is_err() {
                    return;
                }
                let Ok(unit) = Unit::new(tx) else { return };
                if let Ok(InsertOutcome::Inserted { released }) = self.dag.insert(unit.clone()) {
                    for unit in std::iter::once(unit).chain(released) {
                        self.emit(Event::UnitAccepted { id: unit.id, own: false });
                    }
                }
            }
            RecordKind::Checkpoint => {
                let Ok(checkpoint) = Checkpoint::decode(bytes) else { return };
                let head_before = self.chain.head().id;
                // Nothing is relayed during a replay: the node's peers saw these before.
                if let Ok(OfferOutcome::Accepted { missing_units, .. }) =
                    self.chain.offer(Arc::new(checkpoint), self.now_ms, &mut self.dag)
                {
                    self.after_chain_change(head_before, None, missing_units);
                }
                // Replay does not write to disk, so it may prune as it goes: memory stays
                // bounded while a long log is read.
                self.prune();
            }
        }
        // What is replayed is in the store already: it must not be persisted twice.
        let mut position = 0;
        self.outputs.retain(|output| {
            position += 1;
            position <= queued || !matches!(output, Output::Persist(_))
        });
    }

    /// Build, sign and submit a transfer from this node's account.
    pub fn transfer(
        &mut self,
        now_ms: u64,
        to: AccountId,
        amount: u64,
        fee: u64,
    ) -> Result<Arc<Unit>, RejectReason> {
        self.submit(now_ms, TxKind::Transfer { to, amount }, fee)
    }

    /// Sign a transaction of this node's account with parents from tip selection, without
    /// submitting it (attackers use this to build conflicting spends).
    pub fn build_transaction(
        &mut self,
        nonce: u64,
        kind: TxKind,
        fee: u64,
    ) -> Result<Transaction, RejectReason> {
        let parents = self.select_parents();
        let body = TransactionBody {
            from: self.account,
            nonce,
            kind,
            fee,
            parents,
            issued_at_ms: self.now_ms,
        };
        Ok(body.sign(&self.config.key)?)
    }

    /// Parents for a new transaction by this node's tip selection: what it would approve if it
    /// signed now. A wallet that signs elsewhere asks for these (the API's `GET /parents`).
    pub fn select_parents(&mut self) -> [Hash; 2] {
        let anchors = self.chain.anchors();
        self.tips
            .select(&self.dag, self.chain.ledger(), self.chain.epoch(), &anchors, &mut self.rng)
            .parents
    }

    /// Validate and insert a transaction; gossip it on success.
    pub fn accept_transaction(
        &mut self,
        tx: Transaction,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        let unit = Unit::new(tx)?;
        self.accept_unit(unit, SignatureCheck::Pending, from)
    }

    /// Validate and insert signed transactions in order (a wallet's batch); one outcome each,
    /// the id on success. The signatures of the new ones are verified together first (one
    /// batch equation, the same results as one by one); each is then accepted in order.
    pub fn accept_transactions(
        &mut self,
        txs: Vec<Transaction>,
    ) -> Vec<Result<Hash, RejectReason>> {
        let units: Vec<Result<Arc<Unit>, RejectReason>> =
            txs.into_iter().map(|tx| Unit::new(tx).map_err(RejectReason::from)).collect();
        // Units already held return before their signature is looked at: not worth verifying.
        let fresh: Vec<&Transaction> = units
            .iter()
            .filter_map(|unit| unit.as_ref().ok())
            .filter(|unit| !self.dag.knows(&unit.id))
            .map(|unit| &unit.tx)
            .collect();
        let mut checks = Transaction::verify_signatures(&fresh).into_iter();
        let checks: Vec<SignatureCheck> = units
            .iter()
            .map(|unit| match unit {
                Ok(unit) if !self.dag.knows(&unit.id) => {
                    checks.next().as_ref().map_or(SignatureCheck::Pending, SignatureCheck::of)
                }
                _ => SignatureCheck::Pending,
            })
            .collect();
        units
            .into_iter()
            .zip(checks)
            .map(|(unit, check)| {
                let unit = unit?;
                let id = unit.id;
                self.accept_unit(unit, check, None).map(|()| id)
            })
            .collect()
    }

    /// Validate and insert a unit. `check` is what is already known of its signature (see
    /// [`SignatureCheck`]).
    fn accept_unit(
        &mut self,
        unit: Arc<Unit>,
        check: SignatureCheck,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        if self.dag.pruned_height(&unit.id).is_some() {
            // A late copy of a unit that is final and pruned: nothing to do, nothing wrong.
            self.stats.units_already_final += 1;
            return Ok(());
        }
        if self.dag.knows(&unit.id) {
            return Ok(());
        }
        let needed_as_parent = from.is_some() && self.requested.remove(&unit.id);
        let body = &unit.tx.body;
        let params = self.chain.params();
        if body.fee < params.fee_min {
            return Err(RejectReason::FeeTooLow { fee: body.fee, minimum: params.fee_min });
        }
        if body.issued_at_ms > self.now_ms.saturating_add(params.future_drift_ms) {
            return Err(RejectReason::FromTheFuture {
                issued_at_ms: body.issued_at_ms,
                now_ms: self.now_ms,
            });
        }
        let needed = body.debit().ok_or(RejectReason::AmountOverflow)?;
        // Invalid whatever the ledger: White Flag would ignore it in every order, and tip
        // selection never approves a cone holding it, so admitted it would stay a tip forever
        // (a wallet paying itself once made tips grow without bound). A requested parent is
        // exempt: a checkpoint that holds it needs it to connect, and White Flag ignores it.
        if !needed_as_parent
            && let TxKind::Transfer { to, .. } = &body.kind
            && *to == body.from
        {
            return Err(RejectReason::SelfTransfer);
        }
        let ledger = self.chain.ledger();
        // Plausibility against the confirmed ledger; skipped for requested parents.
        if !needed_as_parent {
            if ledger.account(&body.from).is_some_and(|account| account.nonce_used(body.nonce)) {
                return Err(RejectReason::NonceUsed { nonce: body.nonce });
            }
            let balance = ledger.balance(&body.from);
            if balance < needed {
                return Err(RejectReason::InsufficientBalance { balance, needed });
            }
        }
        match check {
            SignatureCheck::Pending => {
                unit.tx.verify_signature().map_err(|_| RejectReason::BadSignature)?;
            }
            SignatureCheck::Valid => {}
            SignatureCheck::Invalid => return Err(RejectReason::BadSignature),
        }
        if unit.tx.body.parents.iter().any(|parent| self.dag.pruned_height(parent).is_some()) {
            self.stats.units_on_final_parents += 1;
        }
        let outcome = self.dag.insert(unit.clone()).map_err(|_| RejectReason::EqualParents)?;
        match outcome {
            InsertOutcome::Duplicate => Ok(()),
            InsertOutcome::AlreadyFinal { .. } => {
                self.stats.units_already_final += 1;
                Ok(())
            }
            InsertOutcome::Orphaned { missing } => {
                self.stats.units_orphaned += 1;
                self.emit(Event::UnitOrphaned { id: unit.id, missing: missing.clone() });
                if let Some(peer) = from {
                    self.request(peer, missing);
                }
                Ok(())
            }
            InsertOutcome::Inserted { released } => {
                self.on_units_inserted(std::iter::once(unit).chain(released).collect(), from);
                Ok(())
            }
        }
    }

    fn on_units_inserted(&mut self, units: Vec<Arc<Unit>>, from: Option<PeerId>) {
        for unit in &units {
            self.stats.units_accepted += 1;
            self.emit(Event::UnitAccepted { id: unit.id, own: from.is_none() });
            self.gossip_transaction(unit, from);
            if let Ok(envelope) = unit.envelope() {
                self.outputs.push_back(Output::Persist(Record::Unit { id: unit.id, envelope }));
            }
        }
        // A checkpoint may have been waiting for these units.
        let head_before = self.chain.head().id;
        let missing = self.chain.update_head(&mut self.dag);
        self.after_chain_change(head_before, from, missing);
    }

    fn gossip_transaction(&mut self, unit: &Arc<Unit>, from: Option<PeerId>) {
        let made = unit.envelope_if_made().is_some();
        let Ok(bytes) = unit.envelope() else { return };
        if !made && let Some(cache) = &self.config.unit_cache {
            cache.record_envelope(unit);
        }
        let candidates: Vec<PeerId> =
            self.peers.keys().copied().filter(|peer| Some(*peer) != from).collect();
        let fanout = self.config.gossip_fanout.min(candidates.len());
        // Partial Fisher-Yates: the first `fanout` entries become a uniform sample.
        let mut candidates = candidates;
        for index in 0..fanout {
            let pick = index + self.rng.index(candidates.len() - index);
            candidates.swap(index, pick);
            self.push(Output::Send { to: candidates[index], bytes: bytes.clone() });
        }
    }

    fn accept_checkpoint(
        &mut self,
        checkpoint: Checkpoint,
        from: Option<PeerId>,
    ) -> Result<(), RejectReason> {
        let checkpoint = Arc::new(checkpoint);
        let head_before = self.chain.head().id;
        let outcome = self.chain.offer(checkpoint.clone(), self.now_ms, &mut self.dag)?;
        match outcome {
            OfferOutcome::Duplicate => {}
            OfferOutcome::BelowHorizon { .. } => self.stats.checkpoints_below_horizon += 1,
            OfferOutcome::MissingPrev { prev } => {
                if let Some(peer) = from {
                    self.request(peer, vec![prev]);
                }
            }
            OfferOutcome::Accepted { missing_units, released } => {
                // Relay every valid header so that forks propagate and fork choice can act; a
                // withholding node keeps its own to itself until released. That includes the
                // parked descendants this one connected: relaying only the parent spread a
                // branch one checkpoint short of its tip after a partition healed, which left
                // half of a simulated network on an equally heavy rival branch that a split
                // then finalised (sim seed 114, docs/simulator.md).
                let withheld = from.is_none() && self.config.policy == Policy::Withhold;
                let relayed = if withheld { &[][..] } else { std::slice::from_ref(&checkpoint) };
                let peers: Vec<PeerId> =
                    self.peers.keys().copied().filter(|peer| Some(*peer) != from).collect();
                for header in relayed.iter().chain(&released) {
                    let Ok(bytes) = Message::Checkpoint((**header).clone()).encode() else {
                        continue;
                    };
                    let bytes = Arc::new(bytes);
                    for peer in &peers {
                        self.push(Output::Send { to: *peer, bytes: bytes.clone() });
                    }
                }
                self.after_chain_change(head_before, from, missing_units);
            }
        }
        Ok(())
    }

    fn after_chain_change(&mut self, head_before: Hash, from: Option<PeerId>, missing: Vec<Hash>) {
        let events = self.chain.drain_events();
        self.reclaim_ignored_proof_nonces(&events);
        if self.config.policy == Policy::ExtendAllForks {
            for event in &events {
                if let Event::CheckpointAccepted { id, .. } = event {
                    self.plan_fork_forge(id);
                }
            }
        }
        for event in events {
            if let Event::CheckpointDisconnected { id, height, author } = &event
                && *author == self.account
            {
                self.emit(Event::CheckpointLost { id: *id, height: *height });
            }
            match &event {
                Event::CheckpointAccepted { id, .. } => self.persist_checkpoint(id),
                Event::CheckpointFinal { .. } => self.outputs.push_back(Output::SyncBeforeFinal),
                _ => {}
            }
            self.emit(event);
        }
        let missing: Vec<Hash> = missing.into_iter().filter(|id| !self.dag.knows(id)).collect();
        self.missing_units = missing.iter().copied().collect();
        if !missing.is_empty()
            && let Some(peer) = from.or_else(|| self.random_peer(None))
        {
            self.request(peer, missing);
        }
        if self.chain.head().id != head_before {
            self.forge = None;
            self.issue_challenge();
            self.prove_storage();
        }
    }

    /// Keep shard `shard_index` of `file_id` (handed over by its owner through the driver) and
    /// prove it every round while its contract is active.
    pub fn store_shard(&mut self, file_id: Hash, shard_index: u8, bytes: Vec<u8>) {
        self.shards.insert(file_id, shard_index, bytes);
        self.prove_storage();
    }

    /// The bytes of a shard this node holds (what it would serve to the owner).
    pub fn shard(&self, file_id: &Hash, shard_index: u8) -> Option<&[u8]> {
        self.shards.get(file_id, shard_index).map(|held| held.bytes.as_slice())
    }

    /// As a data owner, ask every peer for shards `shard_indices` of `file_id` (retrieval over
    /// the network, docs/storage.md); answers collect in [`Node::fetched_shards`].
    pub fn request_shards(&mut self, file_id: Hash, shard_indices: &[u8]) {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for shard_index in shard_indices {
            self.fetch.want(file_id, *shard_index);
            for peer in &peers {
                self.send(*peer, &Message::GetShard { file_id, shard_index: *shard_index });
            }
        }
    }

    /// Shards of `file_id` fetched from peers so far, by index.
    pub fn fetched_shards(&self, file_id: &Hash) -> BTreeMap<u8, &[u8]> {
        self.fetch.fetched(file_id)
    }

    /// Hand over the fetched shards of `file_id` and stop asking for its others.
    pub fn take_fetched_shards(&mut self, file_id: &Hash) -> BTreeMap<u8, Vec<u8>> {
        self.fetch.take(file_id)
    }

    /// Stop storing (and proving) every shard of `file_id`.
    pub fn forget_file(&mut self, file_id: &Hash) {
        self.shards.forget(file_id);
    }

    pub fn storage_stats(&self) -> &StorageNodeStats {
        &self.shards.stats
    }

    /// Cheating knob (scenario 9): forget a fraction of the chunks of every shard of `put` this
    /// node holds. Returns the dropped chunk indices per shard index.
    pub fn drop_shard_fraction(
        &mut self,
        put: &StorePut,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError> {
        self.shards.drop_fraction(&put.file_id, put.chunk_bytes, fraction, seed)
    }

    /// The owner's upload: encrypt, erasure-code and commit `plaintext`, assign the shards over
    /// the storage node set and submit the `StorePut` from this node's account. The caller
    /// hands `shards[i]` to `put.storage_nodes[i]` and keeps `owner_key`.
    pub fn store_file(
        &mut self,
        now_ms: u64,
        plaintext: &[u8],
        owner_key: &OwnerKey,
        request: &FileRequest,
    ) -> Result<StoredFile, StorageNodeError> {
        let prepared = prepare_file(
            plaintext,
            owner_key,
            request.data_shards,
            request.total_shards,
            request.chunk_bytes,
        )?;
        let file_id = prepared.file_id;
        if self.chain.ledger().contract(&file_id).is_some() {
            return Err(StorageNodeError::FileActive { file_id });
        }
        let nodes = assign(&file_id, prepared.total_shards, self.chain.storage_nodes())?;
        let put = prepared.store_put(nodes, request.term_rounds, request.prepaid_fee);
        let unit = self
            .submit(now_ms, TxKind::StorePut(Box::new(put.clone())), request.fee)
            .map_err(|reason| StorageNodeError::Rejected { reason: reason.to_string() })?;
        Ok(StoredFile { unit_id: unit.id, put, shards: prepared.shards })
    }

    /// Build, sign and submit a transaction of any kind from this node's account with the next
    /// free nonce.
    pub fn submit(
        &mut self,
        now_ms: u64,
        kind: TxKind,
        fee: u64,
    ) -> Result<Arc<Unit>, RejectReason> {
        self.now_ms = self.now_ms.max(now_ms);
        let confirmed_next = self.chain.ledger().next_nonce(&self.account);
        self.own_pending_nonces.retain(|nonce| *nonce >= confirmed_next);
        let mut nonce = confirmed_next;
        while self.own_pending_nonces.contains(&nonce)
            || self.chain.ledger().account(&self.account).is_some_and(|a| a.nonce_used(nonce))
        {
            nonce += 1;
        }
        // A nonce past the confirmed floor's window can never apply before the floor moves, and a
        // unit that cannot apply is never approved: at high rates a node that signed past its
        // window filled the DAG with such tips, every cone holding one became ineligible and the
        // net stalled (seen on the 4-node testnet at 1,000 tx/s). Refusing is the backpressure.
        let floor = self.chain.ledger().account(&self.account).map_or(0, |a| a.nonce_floor);
        if nonce >= floor.saturating_add(crate::core::ledger::NONCE_WINDOW) {
            return Err(RejectReason::NonceWindowFull { nonce, floor });
        }
        let tx = self.build_transaction(nonce, kind, fee)?;
        let unit = Unit::new(tx.clone())?;
        self.accept_transaction(tx, None)?;
        self.own_pending_nonces.insert(nonce);
        Ok(unit)
    }

    /// Send the storage proofs due at the current head (see `core/storage_node.rs`).
    fn prove_storage(&mut self) {
        let height = self.chain.height();
        let params = self.chain.params().storage;
        let fee = self.chain.params().fee_min;
        let lowest = (height + 1).saturating_sub(params.proof_deadline_rounds);
        let mut files: Vec<Hash> = Vec::new();
        for file_id in self.shards.files() {
            if self.chain.ledger().contract(&file_id).is_some() {
                files.push(file_id);
            }
        }
        for file_id in files {
            let Some(contract) = self.chain.ledger().contract(&file_id).cloned() else { continue };
            let first = contract.first_round.max(lowest);
            let last = contract.last_round().min(height);
            if first > last {
                continue;
            }
            let chain = &self.chain;
            let due = self.shards.due_proofs(
                &contract,
                &self.account,
                first..=last,
                |round| chain.generation_signature_at(round),
                params.challenge_count as usize,
            );
            for due in due {
                match self.submit_proof(due.proof.clone(), due.nonce_hint, fee) {
                    Ok(nonce) => {
                        self.shards.stats.proofs_sent += 1;
                        self.shards.record_nonce(&due.proof, nonce, lowest);
                    }
                    Err(reason) => self.emit(Event::InputRejected {
                        peer: None,
                        kind: "own_storage_proof",
                        reason: reason.to_string(),
                    }),
                }
            }
        }
    }

    /// An own storage proof that White Flag ignored (late, or made for a generation signature a
    /// reorganisation replaced) never uses its nonce; free it for the next transaction so it does
    /// not stay a gap below the nonce window forever (after 1024 more transactions the account
    /// could not transact at all). The two then conflict, so at most one of them ever applies.
    fn reclaim_ignored_proof_nonces(&mut self, events: &[Event]) {
        for event in events {
            let Event::TxConfirmed { id, outcome: Outcome::Ignored, .. } = event else { continue };
            let Some(unit) = self.dag.get(id) else { continue };
            let body = &unit.tx.body;
            if body.from == self.account && matches!(body.kind, TxKind::StorageProof(_)) {
                let nonce = body.nonce;
                self.own_pending_nonces.remove(&nonce);
            }
        }
    }

    /// Submit a storage proof, reusing `nonce_hint` if the ledger has not used it (so the new
    /// proof conflicts with, and replaces, an earlier one for the same round). Returns the nonce.
    fn submit_proof(
        &mut self,
        proof: crate::core::storage::StorageProof,
        nonce_hint: Option<u64>,
        fee: u64,
    ) -> Result<u64, RejectReason> {
        let kind = TxKind::StorageProof(Box::new(proof));
        let ledger = self.chain.ledger();
        let reusable = nonce_hint.filter(|nonce| {
            ledger.account(&self.account).is_none_or(|account| !account.nonce_used(*nonce))
        });
        match reusable {
            Some(nonce) => {
                let tx = self.build_transaction(nonce, kind, fee)?;
                self.accept_transaction(tx, None)?;
                self.own_pending_nonces.insert(nonce);
                Ok(nonce)
            }
            None => Ok(self.submit(self.now_ms, kind, fee)?.tx.body.nonce),
        }
    }

    fn next_challenge(&self) -> Challenge {
        let head = self.chain.head();
        let height = head.height + 1;
        Challenge {
            height,
            generation_signature: generation_signature_for(
                height,
                self.chain.params().challenge_refresh,
                &head.generation_signature,
                &head.author,
            ),
            base_target: head.next_base_target,
        }
    }

    fn issue_challenge(&mut self) {
        if !self.config.mining {
            return;
        }
        let head = self.chain.head().id;
        if self.challenged_head == Some(head) {
            return;
        }
        self.challenged_head = Some(head);
        if self.config.policy == Policy::ExtendAllForks {
            return; // Every checkpoint, the head included, is planned by `plan_fork_forge`.
        }
        let challenge = self.next_challenge();
        if let Policy::OnTheFly { nonces_per_s } = self.config.policy {
            // Computed here, nonce by nonce on the node's clock; no prover is asked.
            let prev_timestamp_ms = self.chain.head().timestamp_ms;
            let search = OnTheFlySearch::new(
                self.account,
                challenge,
                prev_timestamp_ms,
                self.now_ms,
                nonces_per_s,
            );
            self.fly = Some((search, self.now_ms));
            self.advance_fly();
            return;
        }
        self.push(Output::Challenge(challenge));
    }

    /// [`Policy::ExtendAllForks`]: plan a forge on checkpoint `id` at this node's deadline for
    /// its successor, unless a forge for the same successor challenge is planned earlier or done.
    fn plan_fork_forge(&mut self, id: &Hash) {
        if self.config.policy != Policy::ExtendAllForks || !self.config.mining {
            return;
        }
        let Some(header) = self.chain.header(id) else { return };
        let height = header.height + 1;
        let challenge = Challenge {
            height,
            generation_signature: generation_signature_for(
                height,
                self.chain.params().challenge_refresh,
                &header.generation_signature,
                &header.author,
            ),
            base_target: header.next_base_target,
        };
        let key = (height, challenge.generation_signature);
        let prev_timestamp_ms = header.timestamp_ms;
        let seen = self.fork_seen.entry(key).or_insert(prev_timestamp_ms);
        *seen = (*seen).min(prev_timestamp_ms);
        let Some(deadline_ms) = self.own_model_deadline(&challenge) else { return };
        let PocMode::Model { capacities } = &self.config.genesis.poc else { return };
        let Some(&nonces) = capacities.get(&self.account) else { return };
        let at_ms = prev_timestamp_ms.saturating_add(deadline_ms);
        if self.forked.contains(&key)
            || self.fork_forges.get(&key).is_some_and(|planned| planned.at_ms <= at_ms)
        {
            return;
        }
        let proof = PocProof::Model { nonces };
        self.fork_forges
            .insert(key, PendingForge { prev: *id, challenge, proof, deadline_ms, at_ms });
    }

    /// [`Policy::ExtendAllForks`]: forge every planned checkpoint whose time has come, on its
    /// own predecessor (the ledger root is previewed on that branch).
    fn forge_on_forks(&mut self) {
        let due: Vec<(u64, Hash)> = self
            .fork_forges
            .iter()
            .filter(|(_, forge)| forge.at_ms <= self.now_ms)
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            let Some(forge) = self.fork_forges.remove(&key) else { continue };
            self.forked.insert(key);
            // Skip a child whose own successor challenge a known checkpoint of the same height
            // already opened no later (another identity's child inside a refresh window, where
            // the author does not enter the signature): it would add nothing to the tree.
            let height = forge.challenge.height + 1;
            let next_signature = generation_signature_for(
                height,
                self.chain.params().challenge_refresh,
                &forge.challenge.generation_signature,
                &self.account,
            );
            if self.fork_seen.get(&(height, next_signature)).is_some_and(|at| *at <= forge.at_ms) {
                continue;
            }
            let Some(prev) = self.chain.header(&forge.prev).cloned() else { continue };
            let parents = if prev.parents().is_empty() {
                vec![self.chain.genesis_id()]
            } else {
                prev.parents().to_vec()
            };
            let ledger_root = match self.chain.preview_root_after(
                &prev.id,
                &parents,
                &self.account,
                &mut self.dag,
            ) {
                Ok(root) => root,
                Err(reason) => {
                    self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                    continue;
                }
            };
            let body = CheckpointBody {
                height: forge.challenge.height,
                prev: prev.id,
                generation_signature: forge.challenge.generation_signature,
                proof: forge.proof.clone(),
                parents,
                base_target: forge.challenge.base_target,
                cumulative_weight: prev.cumulative_weight
                    + crate::core::poc::challenge::weight(forge.challenge.base_target),
                ledger_root,
                timestamp_ms: forge.at_ms,
                author: self.account,
            };
            let checkpoint = match body.sign(&self.config.key) {
                Ok(checkpoint) => checkpoint,
                Err(error) => {
                    let reason = error.to_string();
                    self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                    continue;
                }
            };
            self.accept_own_checkpoint(checkpoint, forge.deadline_ms);
        }
    }

    /// [`Policy::OnTheFly`]: compute the nonces finished within one target interval from now
    /// (computing ahead changes nothing: a nonce is used no earlier than it is finished), and
    /// once no later nonce can beat the best one, schedule its checkpoint.
    fn advance_fly(&mut self) {
        let Some((search, wake)) = &mut self.fly else { return };
        if *wake > self.now_ms {
            return;
        }
        let lookahead = self.chain.params().target_interval_ms.max(1);
        match search.advance(self.now_ms.saturating_add(lookahead)) {
            Some(_) => *wake = self.now_ms.saturating_add(lookahead),
            None => {
                let search = search.clone();
                self.fly = None;
                let Some(best) = search.best else { return };
                let head = self.chain.head();
                if search.challenge != self.next_challenge() {
                    return;
                }
                self.forge = Some(PendingForge {
                    prev: head.id,
                    challenge: search.challenge,
                    proof: PocProof::ModelNonce { nonce_index: best.nonce_index },
                    deadline_ms: best.deadline_ms,
                    at_ms: best.publish_ms,
                });
            }
        }
    }

    fn forge_checkpoint(&mut self, forge: PendingForge) {
        let variants = match self.config.policy {
            Policy::Grind { variants } => variants.max(1),
            _ => 1,
        };
        let parents = self.checkpoint_parents();
        let mut chosen: Option<(u64, Checkpoint)> = None;
        let mut signatures: Vec<Hash> = Vec::new();
        for variant in 0..variants {
            // Version i is published i ms later and leaves out a different parent (when there
            // is more than one): another id, root and timestamp for the same proof.
            let mut variant_parents = parents.clone();
            if variant > 0 && variant_parents.len() > 1 {
                variant_parents.remove(usize::from(variant) % variant_parents.len());
            }
            let timestamp_ms = forge.at_ms + u64::from(variant);
            let Some(checkpoint) = self.build_checkpoint(&forge, variant_parents, timestamp_ms)
            else {
                continue;
            };
            if variants == 1 {
                chosen = Some((0, checkpoint));
                break;
            }
            let next = self.challenge_after(&checkpoint.body);
            if !signatures.contains(&next.generation_signature) {
                signatures.push(next.generation_signature);
            }
            let score = self.own_model_deadline(&next).unwrap_or(u64::MAX);
            if chosen.as_ref().is_none_or(|(best, _)| score < *best) {
                chosen = Some((score, checkpoint));
            }
        }
        if variants > 1 {
            self.stats.grind_rounds += 1;
            if signatures.len() == 1 {
                self.stats.grind_rounds_one_signature += 1;
            }
        }
        let Some((_, checkpoint)) = chosen else { return };
        self.accept_own_checkpoint(checkpoint, forge.deadline_ms);
    }

    /// The challenge the successor of a checkpoint with `body` would answer.
    fn challenge_after(&self, body: &CheckpointBody) -> Challenge {
        let height = body.height + 1;
        Challenge {
            height,
            generation_signature: generation_signature_for(
                height,
                self.chain.params().challenge_refresh,
                &body.generation_signature,
                &body.author,
            ),
            base_target: self.chain.base_target_after(body),
        }
    }

    /// This node's own deadline for `challenge`, when the network runs model proofs.
    fn own_model_deadline(&self, challenge: &Challenge) -> Option<u64> {
        let PocMode::Model { capacities } = &self.config.genesis.poc else { return None };
        let nonces = *capacities.get(&self.account)?;
        Some(model_deadline_ms(&self.account, nonces, challenge))
    }

    /// Sign a checkpoint on the head for `forge` with these parents and timestamp.
    fn build_checkpoint(
        &mut self,
        forge: &PendingForge,
        parents: Vec<Hash>,
        timestamp_ms: u64,
    ) -> Option<Checkpoint> {
        let head = self.chain.head().clone();
        debug_assert_eq!(forge.prev, head.id);
        let ledger_root = match self.chain.preview_root(&parents, &self.account, &self.dag) {
            Ok(root) => root,
            Err(reason) => {
                self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                return None;
            }
        };
        let body = CheckpointBody {
            height: forge.challenge.height,
            prev: head.id,
            generation_signature: forge.challenge.generation_signature,
            proof: forge.proof.clone(),
            parents,
            base_target: forge.challenge.base_target,
            cumulative_weight: head.cumulative_weight
                + crate::core::poc::challenge::weight(forge.challenge.base_target),
            ledger_root,
            timestamp_ms,
            author: self.account,
        };
        match body.sign(&self.config.key) {
            Ok(checkpoint) => Some(checkpoint),
            Err(error) => {
                let reason = error.to_string();
                self.emit(Event::InputRejected { peer: None, kind: "own_checkpoint", reason });
                None
            }
        }
    }

    /// The checkpoint at `height` of this node's active chain, encoded for peers: how a driver
    /// releases what a [`Policy::Withhold`] node kept private.
    pub fn release_message(&self, height: u64) -> Option<Arc<Vec<u8>>> {
        let id = self.chain.active_at(height)?;
        let checkpoint = self.chain.header(&id)?.checkpoint.clone()?;
        Message::Checkpoint((*checkpoint).clone()).encode().ok().map(Arc::new)
    }

    /// Up to `checkpoint_parents_max` unconfirmed units, in order: eligible tips, newest first;
    /// then the nearest eligible ancestors of the other tips; then, if room is left, ineligible
    /// units that are not themselves a side of an undecided conflict (the other tips and their
    /// ancestors), then the sides; the anchors if none. A unit already in the cone of one chosen
    /// adds nothing and is skipped, and cones over the walk limit stay out.
    ///
    /// Why the eligible ancestors: transactions never approve a spend whose twin is undecided
    /// (see `tips.rs`), so under conflict spam the honest units are covered by contested spends
    /// and are no longer tips. They are what a transaction would approve (its walk backs up to
    /// them), and a checkpoint must cover them or they wait behind the spam tips.
    ///
    /// Why the ineligible units: one may be an honest transfer that approved a spend before its
    /// twin arrived, or one whose other spend a checkpoint then applied. Nothing approves it any
    /// more, so only a checkpoint can confirm it, and White Flag makes that safe: it applies one
    /// side and ignores the other. Those with no rival of their own go first, as only a
    /// checkpoint can still confirm them; the sides themselves (spam has a rival per spend) fill
    /// what is left, which is also how undecided conflicts get decided.
    fn checkpoint_parents(&mut self) -> Vec<Hash> {
        let max = self.chain.params().checkpoint_parents_max;
        let mut tips: Vec<Hash> = self.dag.tips().as_slice().to_vec();
        tips.sort_by_key(|id| std::cmp::Reverse(self.dag.seq(id).unwrap_or(0)));
        let epoch = self.chain.epoch();
        let mut chosen = Vec::new();
        let mut stranded = Vec::new();
        for tip in tips {
            if chosen.len() == max {
                break;
            }
            if self.dag.is_confirmed(&tip) {
                continue;
            }
            if self.tips.eligible(&self.dag, self.chain.ledger(), epoch, &tip) {
                chosen.push(tip);
            } else {
                stranded.push(tip);
            }
        }
        if chosen.len() < max && !stranded.is_empty() {
            let limit = self.tips.cone_units_max();
            let mut covered: BTreeSet<Hash> = BTreeSet::new();
            if let Ok(cone) = self.dag.unconfirmed_cone(&chosen, limit) {
                covered.extend(cone);
            }
            let (eligible, unrivalled, sides) = self.stranded_candidates(&stranded);
            for unit in eligible.into_iter().chain(unrivalled).chain(sides) {
                if chosen.len() == max {
                    break;
                }
                if covered.contains(&unit) {
                    continue;
                }
                if let Ok(cone) = self.dag.unconfirmed_cone(&[unit], limit) {
                    covered.extend(cone);
                    chosen.push(unit);
                }
            }
        }
        if chosen.is_empty() {
            chosen = self.chain.anchors();
        }
        chosen
    }

    /// Sorts the ineligible `stranded` tips and their unconfirmed ancestors, searched depth first
    /// through ineligible units from each tip in turn: (eligible ancestors, ineligible units that
    /// are not a side of an undecided conflict, sides), the tips themselves ahead of the
    /// ancestors in the second list. The search visits at most `ANCESTOR_SEARCH_MAX` ancestors,
    /// so a checkpoint costs the same whatever junk the DAG holds.
    fn stranded_candidates(&mut self, stranded: &[Hash]) -> (Vec<Hash>, Vec<Hash>, Vec<Hash>) {
        let epoch = self.chain.epoch();
        let (mut eligible, mut unrivalled, mut sides) = (Vec::new(), Vec::new(), Vec::new());
        let mut visited: BTreeSet<Hash> = stranded.iter().copied().collect();
        let mut searched = 0usize;
        let is_side = |dag: &Dag, id: &Hash| {
            dag.get(id).is_some_and(|unit| dag.unconfirmed_twin(unit).is_some())
        };
        // Every tip is sorted, however far the bounded search below gets.
        for tip in stranded {
            if is_side(&self.dag, tip) {
                sides.push(*tip);
            } else {
                unrivalled.push(*tip);
            }
        }
        'tips: for tip in stranded {
            let mut stack = vec![*tip];
            while let Some(id) = stack.pop() {
                let Some(unit) = self.dag.get(&id) else { continue };
                for parent in unit.tx.body.parents {
                    if self.dag.is_confirmed(&parent) || !visited.insert(parent) {
                        continue;
                    }
                    searched += 1;
                    if searched > ANCESTOR_SEARCH_MAX {
                        break 'tips;
                    }
                    if self.tips.eligible(&self.dag, self.chain.ledger(), epoch, &parent) {
                        eligible.push(parent);
                    } else {
                        if !is_side(&self.dag, &parent) {
                            unrivalled.push(parent);
                        }
                        stack.push(parent);
                    }
                }
            }
        }
        (eligible, unrivalled, sides)
    }

    fn serve(&mut self, to: PeerId, ids: &[Hash]) {
        for id in ids.iter().take(REQUEST_IDS_MAX) {
            let message = if let Some(unit) = self.dag.get(id) {
                Message::Transaction(unit.tx.clone())
            } else if let Some(checkpoint) =
                self.chain.header(id).and_then(|header| header.checkpoint.clone())
            {
                Message::Checkpoint((*checkpoint).clone())
            } else {
                // Unknown, or pruned: no negative answer exists on the wire, so the requester's
                // orphan waits in its bounded pool (docs/protocol.md, "Bounded state").
                if self.dag.pruned_height(id).is_some() {
                    self.stats.pruned_requests += 1;
                }
                continue;
            };
            self.send(to, &message);
        }
    }

    fn request(&mut self, peer: PeerId, ids: Vec<Hash>) {
        if self.requested.len() > 65_536 {
            // Bounded: forgetting old requests only re-applies the plausibility checks.
            self.requested.clear();
        }
        self.requested.extend(ids.iter().copied());
        for chunk in ids.chunks(REQUEST_IDS_MAX) {
            self.send(peer, &Message::GetUnits(chunk.to_vec()));
        }
    }

    fn send(&mut self, to: PeerId, message: &Message) {
        if let Ok(bytes) = message.encode() {
            self.push(Output::Send { to, bytes: Arc::new(bytes) });
        }
    }

    fn push(&mut self, output: Output) {
        if matches!(output, Output::Send { .. }) {
            if self.outputs.len() >= self.config.limits.outputs_max {
                self.stats.outputs_dropped += 1;
                return;
            }
            self.stats.messages_out += 1;
        }
        self.outputs.push_back(output);
    }

    /// Queue the accepted checkpoint `id` for the store (the genesis header has none).
    fn persist_checkpoint(&mut self, id: &Hash) {
        let checkpoint = self.chain.header(id).and_then(|header| header.checkpoint.clone());
        if let Some(bytes) = checkpoint.and_then(|checkpoint| checkpoint.encode().ok()) {
            self.outputs.push_back(Output::Persist(Record::Checkpoint { id: *id, bytes }));
        }
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn random_peer(&mut self, except: Option<PeerId>) -> Option<PeerId> {
        let peers: Vec<PeerId> =
            self.peers.keys().copied().filter(|peer| Some(*peer) != except).collect();
        if peers.is_empty() { None } else { Some(peers[self.rng.index(peers.len())]) }
    }

    fn reject(&mut self, peer: Option<PeerId>, reason: RejectReason) {
        let kind = reason.kind();
        *self.stats.rejected.entry(kind).or_insert(0) += 1;
        let penalty = reason.penalty();
        self.emit(Event::InputRejected { peer, kind, reason: reason.to_string() });
        let Some(peer) = peer else { return };
        let Some(score) = self.peers.get_mut(&peer) else { return };
        *score -= penalty;
        let score = *score;
        if score < self.config.limits.peer_score_min {
            self.peers.remove(&peer);
            self.emit(Event::PeerDisconnected { peer, score });
            self.outputs.push_back(Output::Disconnect { peer });
        }
    }
}
