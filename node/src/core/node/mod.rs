//! The node state machine: the one place where messages, time and proofs meet the DAG, the tip
//! selector and the checkpoint chain. Sans-IO in the quinn-proto style: the driver hands in bytes
//! from peers (`on_message`), the current time (`on_tick`), proof-of-space answers (`on_proof`)
//! and local requests (`transfer`), and takes out effects with `poll_output` and the next wake-up
//! with `poll_timeout`. Nothing here reads a clock, a socket, a disk or an OS random source.

mod admission;
mod catch_up;
mod forging;
mod gossip;
mod peers;
mod policy;
mod reject;
mod storage_role;
mod wallet;

use crate::core::chain::{Chain, ChainSize, OfferOutcome, PinError, PinOutcome};
use crate::core::checkpoint::Checkpoint;
use crate::core::crypto::{AccountId, Keypair};
use crate::core::dag::{Dag, InsertOutcome, Unit};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::params::{Genesis, GenesisError};
use crate::core::poc::on_the_fly::OnTheFlySearch;
use crate::core::poc::{Challenge, PocProof};
use crate::core::random::DetRng;
use crate::core::record::{Record, RecordKind};
use crate::core::shard_fetch::ShardFetch;
use crate::core::storage_node::ShardStore;
use crate::core::tips::{TipSelector, TipStats, TipStrategy};
use crate::core::transaction::Transaction;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

pub use crate::core::unit_cache::{SharedUnitCache, UnitCache};
pub use policy::{POLICY_NAMES, Policy, PolicyNameError, SelfishRelease, WithholdView};
pub use reject::RejectReason;

/// A peer as the driver names it. The core never sees addresses.
pub type PeerId = u64;

/// Bounds on a node's memory and on what peers may cost it.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Units the orphan pool holds at once; past it the oldest orphan is evicted.
    pub orphan_units_max: usize,
    /// Score below which a peer is disconnected and banned.
    pub peer_score_min: i64,
    /// How long a peer that fell below `peer_score_min` stays banned: its messages are dropped
    /// unread until then, and after it starts again at the initial score.
    pub peer_ban_ms: u64,
    /// Outputs queued before new gossip is dropped (backpressure instead of unbounded memory).
    pub outputs_max: usize,
    /// Drop history below the prune horizon from memory (docs/protocol.md, "Bounded state").
    /// Off only to measure what pruning saves; the disk log is complete either way.
    pub prune: bool,
    /// Heights the best known checkpoint may stand above the head before the node is catching
    /// up: it then fetches the chain in order and stops chasing gossip (`catch_up.rs`).
    pub catch_up_lag: u64,
    /// Final heights whose EVM receipts (and so `eth_getTransactionReceipt`, `eth_getLogs`)
    /// are kept in memory below the final height; older ones are forgotten when `prune` runs
    /// (docs/evm.md, "Receipt pruning").
    pub evm_receipt_heights: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            orphan_units_max: 4_096,
            peer_score_min: 0,
            peer_ban_ms: 600_000,
            outputs_max: 100_000,
            prune: true,
            catch_up_lag: 8,
            evm_receipt_heights: 100_000,
        }
    }
}

/// Everything a node is built from ([`NodeConfig::new`] gives the defaults).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The chain to join (shared: a model genesis can be large and a simulation runs many nodes).
    pub genesis: Arc<Genesis>,
    /// The node's identity: signs its transactions and checkpoints, owns its plot.
    pub key: Keypair,
    /// Seed of this node's random stream (tip selection, gossip targets).
    pub seed: [u8; 32],
    /// How this node picks the parents of its transactions.
    pub tip_strategy: TipStrategy,
    /// Peers each new transaction is pushed to.
    pub gossip_fanout: usize,
    /// Whether this node answers challenges and forges checkpoints.
    pub mining: bool,
    /// How often the head is announced to one random peer (anti-entropy).
    pub announce_interval_ms: u64,
    /// Memory and peer bounds.
    pub limits: Limits,
    /// A cache of decoded, signature-checked units shared by many nodes of one simulation
    /// (units are immutable and content-addressed, so sharing changes nothing but memory and
    /// time). `None` in production.
    pub unit_cache: Option<Arc<dyn UnitCache>>,
    /// Honest by default; attacker scenarios (crate vein-scenarios) switch it.
    pub policy: Policy,
}

impl NodeConfig {
    /// An honest mining node with the defaults: weighted walk (`alpha` 0.5), fan-out 8, head
    /// announced every 2 s, default limits, no shared cache.
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
        /// The receiving peer.
        to: PeerId,
        /// A sealed message envelope (`Message::encode`), to send as is.
        bytes: Arc<Vec<u8>>,
    },
    /// Find the best proof of space for this challenge and call `on_proof` with it.
    Challenge(Challenge),
    /// Drop the connection to this peer.
    Disconnect {
        /// The peer whose score fell below `Limits::peer_score_min` (now banned).
        peer: PeerId,
    },
    /// Keep this accepted unit or checkpoint (appended after every earlier record): a restart
    /// replays them with `restore`.
    Persist(Record),
    /// Make every record persisted so far durable now: the next output is a
    /// `CheckpointFinal` event, and nothing final may be reported that a crash could lose.
    SyncBeforeFinal,
    /// Something happened, for metrics, logs and checkers; may be dropped.
    Event(Event),
}

/// Counters for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Messages received from peers (banned peers' included).
    pub messages_in: u64,
    /// `Send` outputs queued.
    pub messages_out: u64,
    /// Units inserted into the DAG (own and received).
    pub units_accepted: u64,
    /// Refused inputs by [`RejectReason::kind`] label (and the node's own refusal labels).
    pub rejected: BTreeMap<&'static str, u64>,
    /// Checkpoints this node forged and accepted on its own chain.
    pub checkpoints_won: u64,
    /// Sends dropped because `Limits::outputs_max` outputs were already queued.
    pub outputs_dropped: u64,
    /// Units parked because a parent is unknown (their parents were requested).
    pub units_orphaned: u64,
    /// [`Policy::Grind`]: checkpoints forged in several versions, and how many of those
    /// version sets all led to one next generation signature (all of them when the signature
    /// does not depend on grindable content).
    pub grind_rounds: u64,
    /// Of `grind_rounds`, those whose versions all gave one next generation signature.
    pub grind_rounds_one_signature: u64,
    /// Units dropped from memory below the prune horizon.
    pub units_pruned: u64,
    /// EVM receipts forgotten, older than `Limits::evm_receipt_heights` final heights.
    pub evm_receipts_pruned: u64,
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
    /// [`Policy::Withhold`] under its own release rule: private checkpoints published.
    pub checkpoints_released: u64,
    /// Messages from banned peers, dropped unread, and how many of them were checkpoints.
    pub messages_from_banned: u64,
    /// Of `messages_from_banned`, the checkpoints.
    pub checkpoints_from_banned: u64,
    /// Gossiped units dropped while catching up because a parent was missing (not chased).
    pub units_deferred_catching_up: u64,
}

/// How much history one node holds in memory: what bounded state bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Units retained in the DAG.
    pub dag_units: usize,
    /// Pruned units still known by id (referenced, or within the reference window).
    pub pruned_ids: usize,
    /// Units in the orphan pool.
    pub orphans: usize,
    /// Current tips.
    pub tips: usize,
    /// The checkpoint chain's sizes.
    pub chain: ChainSize,
    /// Units asked of peers as missing parents and not yet received.
    pub requested: usize,
    /// Units the best branch lacks, re-requested until they arrive.
    pub missing_units: usize,
    /// Nonces this node used and has not yet seen confirmed.
    pub own_pending_nonces: usize,
    /// Outputs queued for the driver.
    pub outputs: usize,
    /// The ledger's accounts: state, not history (one per funded account).
    pub accounts: usize,
    /// The chain's prune horizon: every height at or below it is pruned.
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

/// One vein node as a sans-IO state machine (see the module comment).
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    account: AccountId,
    dag: Dag,
    chain: Chain,
    tips: TipSelector,
    rng: DetRng,
    peers: BTreeMap<PeerId, i64>,
    /// Banned peers and the local time their ban ends (see `peers.rs`).
    banned: BTreeMap<PeerId, u64>,
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
    /// [`Policy::Withhold`] in a real process: the selfish-mining rule that publishes the
    /// private branch, and the highest checkpoint peers sent (the public height it sees).
    release_rule: Option<SelfishRelease>,
    public_height_seen: u64,
    /// Head id the last challenge was issued for.
    challenged_head: Option<Hash>,
    next_announce_ms: u64,
    /// Local time of the first tick (`None` before it): a node that has just started may not
    /// have heard of the network's chain yet (see [`Node::forge_is_premature`]).
    started_ms: Option<u64>,
    /// The head a late forge was first held on because a heavier branch was known, and when
    /// (see [`Node::forge_is_premature`]).
    late_hold: Option<(Hash, u64)>,
    /// Nonces this node has used but not yet seen confirmed.
    own_pending_nonces: BTreeSet<u64>,
    /// Units this node asked peers for (missing parents). They skip the plausibility checks:
    /// a descendant that others built on needs them, whatever today's ledger says.
    requested: BTreeSet<Hash>,
    /// Units the best branch still lacks (re-requested until they arrive).
    missing_units: BTreeSet<Hash>,
    /// Far behind the best known checkpoint: fetching in chain order (see `catch_up.rs`).
    catching_up: bool,
    /// While catching up: the missing units last asked for; fork choice waits for one of them.
    catch_up_awaited: BTreeSet<Hash>,
    stats: NodeStats,
    now_ms: u64,
    /// Shards this node stores for others, and the proofs it has sent (docs/storage.md).
    shards: ShardStore,
    /// Shards this node (as a data owner) asked its peers for, and the answers kept.
    fetch: ShardFetch,
}

impl Node {
    /// A node at genesis with no peers; a mining node starts on its first challenge at once
    /// (an honest one queues an `Output::Challenge`). Fails if the genesis is invalid.
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
            banned: BTreeMap::new(),
            outputs: VecDeque::new(),
            forge: None,
            fly: None,
            fork_forges: BTreeMap::new(),
            forked: BTreeSet::new(),
            fork_seen: BTreeMap::new(),
            release_rule: None,
            public_height_seen: 0,
            challenged_head: None,
            next_announce_ms: 0,
            started_ms: None,
            late_hold: None,
            own_pending_nonces: BTreeSet::new(),
            requested: BTreeSet::new(),
            missing_units: BTreeSet::new(),
            catching_up: false,
            catch_up_awaited: BTreeSet::new(),
            stats: NodeStats::default(),
            now_ms: 0,
            shards: ShardStore::default(),
            fetch: ShardFetch::default(),
        };
        node.issue_challenge();
        let genesis = node.chain.genesis_id();
        node.plan_fork_forge(&genesis);
        Ok(node)
    }

    /// The node's account (its key's public half).
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// The node's checkpoint chain and the ledger it derives.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The node's DAG of transactions.
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// Counters since the node was made.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// The tip selector's counters.
    pub fn tip_stats(&self) -> &TipStats {
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
    pub(super) fn prune(&mut self) {
        if !self.config.limits.prune {
            return;
        }
        let report = self.chain.prune(&mut self.dag);
        self.stats.units_pruned += report.units as u64;
        let receipts = self.chain.prune_receipts(self.config.limits.evm_receipt_heights);
        self.stats.evm_receipts_pruned += receipts as u64;
    }

    /// Pins the side-chain anchor `(height, id)`, final on the main chain, and runs fork choice
    /// at once (`Chain::pin_anchor`, docs/sidechain-fork-choice.md).
    pub fn pin_anchor(
        &mut self,
        now_ms: u64,
        height: u64,
        id: Hash,
    ) -> Result<PinOutcome, PinError> {
        self.now_ms = self.now_ms.max(now_ms);
        let head_before = self.chain.head().id;
        let outcome = self.chain.pin_anchor(height, id)?;
        let missing = self.chain.update_head(&mut self.dag);
        self.after_chain_change(head_before, None, missing);
        Ok(outcome)
    }

    /// The next effect to perform ([`crate::pump::drain`] takes them all); an output taken and
    /// dropped is an effect lost (a send, a record, a sync before a final).
    #[must_use = "an output taken from the core must be performed"]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next time `on_tick` has work to do.
    #[must_use]
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
        self.forge_if_due();
        self.announce();
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
        // A batch of one verifies as the one-by-one path does: skip preparing it (a turn of a
        // large, quiet network mostly brings one message, most often a duplicate).
        if let [(from, bytes)] = messages {
            return self.handle_message(now_ms, *from, bytes, Some(bytes), None);
        }
        let mut prepared = self.prepare_transactions(messages);
        for (from, bytes) in messages {
            self.handle_message(now_ms, *from, bytes, Some(bytes), Some(&mut prepared));
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
        // What is replayed is in the store already: it must not be persisted twice. Only the
        // outputs this record added are looked at: the driver drains nothing while it replays,
        // so scanning the whole queue made a replay quadratic in the log's length.
        if self.outputs.len() > queued {
            let added = self.outputs.split_off(queued);
            self.outputs
                .extend(added.into_iter().filter(|output| !matches!(output, Output::Persist(_))));
        }
    }

    pub(super) fn after_chain_change(
        &mut self,
        head_before: Hash,
        from: Option<PeerId>,
        missing: Vec<Hash>,
    ) {
        let events = self.chain.drain_events();
        self.reclaim_ignored_nonces(&events);
        self.plan_fork_forges(&events);
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
        self.refresh_catch_up();
        let missing = self.catch_up_window(missing);
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

    pub(super) fn push(&mut self, output: Output) {
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

    pub(super) fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }
}
