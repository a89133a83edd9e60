//! The checkpoint chain: fork choice, White Flag ordering, ledger derivation and finality.
//!
//! Every structurally valid checkpoint is kept as a header. The active chain is the connectable
//! header with the greatest cumulative weight; on equal weight the one seen first wins. Switching
//! to it disconnects checkpoints back to the fork point (reverting their ledger changes from undo
//! logs and clearing their confirmations) and connects the new branch one checkpoint at a time:
//! each orders the unconfirmed past cone of its parents by post-order DFS and applies each
//! transaction that is valid against the ledger; the rest are ignored forever on that branch.
//! The resulting ledger root must equal the one the author signed, else the checkpoint and its
//! descendants are invalid and the node returns to its previous branch.
//!
//! Ledger state is therefore a pure function of the active chain. Reorganisations deeper than
//! the reorg limit `R` are refused; a checkpoint buried under `k` others is final, and
//! disconnecting one emits `Event::FinalReverted` (a safety violation for the simulator).
//!
//! Storage: each checkpoint applies its transactions with a `StorageContext` (its height, the
//! storage node set and the generation signatures of the last `D + 1` rounds), then settles
//! round `height − D` of every storage contract, then mints the reward. All of it goes through
//! the same undo log, so a reorganisation reverts contracts exactly like balances.
//!
//! Bounded state (docs/protocol.md, "Bounded state"): `prune` moves the prune horizon up to
//! the lowest height no reorganisation can reach any more, `min(final height, height - R)`,
//! drops the DAG units those checkpoints confirmed, the headers more than the retarget window
//! below it (side branches included) and the per-height links more than the finality reference
//! window below it. A reorganisation whose fork point is below the horizon is refused, and a
//! checkpoint at or below the horizon is `OfferOutcome::BelowHorizon`. The node calls `prune`
//! between inputs, so every event of a unit has been handed to the driver (and written to
//! disk) before the unit can go.
//!
//! Anchor pins (`anchor_pin`, docs/sidechain-fork-choice.md): on a side chain, a checkpoint
//! final on the main chain is pinned, and fork choice takes no branch that lacks it.

mod anchor_pin;
mod connect;
mod finality;
mod fork_choice;
mod header;
mod pruning;

use crate::core::checkpoint::{Checkpoint, Predecessor};
use crate::core::crypto::AccountId;
use crate::core::dag::Outcome;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::ledger::{Ledger, Undo};
use crate::core::params::{Genesis, GenesisError, Params};
use crate::core::poc::PocMode;
use crate::core::unit_cache::UnitCache;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

pub use anchor_pin::{AnchorPin, PinError, PinOutcome, PinStatus};
pub use connect::ConnectError;
pub use header::{Header, retarget_over};
pub use pruning::PruneReport;

/// A head candidate's place in the ranking: heavier first, then first seen, then id.
type RankKey = (Reverse<u128>, u64, Hash);

/// Largest unconfirmed cone one checkpoint may order. Bounds the work a peer can cause.
pub const CHECKPOINT_CONE_UNITS_MAX: usize = 1_000_000;
/// Checkpoints waiting for their predecessor.
const WAITING_CHECKPOINTS_MAX: usize = 1_024;

#[derive(Debug)]
struct Link {
    id: Hash,
    undo: Option<Undo>,
    /// Emptied when the link falls below the prune horizon (its units are pruned).
    confirmed: Vec<(Hash, Outcome)>,
    /// Token supply right after this checkpoint was applied (reported when it becomes final).
    supply: u64,
    /// The header's time and weight, for the finality reference rate (headers are pruned
    /// sooner than links).
    timestamp_ms: u64,
    cumulative_weight: u128,
}

/// Sizes of the chain's in-memory state, for bounded-state tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainSize {
    /// Headers kept, side branches included.
    pub headers: usize,
    /// Links (per-height records) of the active chain kept.
    pub links: usize,
    /// Links still holding an undo log.
    pub undo_records: usize,
    /// Confirmed-unit records held by links (one per unit above the horizon).
    pub confirmed_records: usize,
    /// Checkpoints remembered as invalid.
    pub invalid: usize,
    /// Checkpoints parked until their predecessor arrives.
    pub waiting: usize,
}

/// What [`Chain::offer`] did with a checkpoint it did not refuse.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferOutcome {
    /// Already known (as a header or as invalid): nothing changed.
    Duplicate,
    /// Parked until its predecessor arrives.
    MissingPrev {
        /// The predecessor to request from peers.
        prev: Hash,
    },
    /// Accepted as a header; `missing_units` are DAG units the best branch still needs.
    /// `released` are parked descendants that this checkpoint connected and that were accepted
    /// with it, parents before children: they are new headers too, and the node relays them
    /// like the offered one.
    Accepted {
        /// DAG units the heaviest branch names but this node lacks (to request).
        missing_units: Vec<Hash>,
        /// Parked descendants accepted with it, parents before children.
        released: Vec<Arc<Checkpoint>>,
    },
    /// At or below the prune horizon: ignored (see the module docs).
    BelowHorizon {
        /// The prune horizon at the time.
        horizon: u64,
    },
}

/// One node's checkpoint chain: every accepted header, the active chain with its undo logs,
/// the ledger it derives, and the events of its changes (see the module comment).
#[derive(Debug)]
pub struct Chain {
    params: Params,
    /// Shared with the node config: a model genesis may register thousands of capacities, and
    /// a simulation runs thousands of nodes.
    genesis: Arc<Genesis>,
    genesis_id: Hash,
    headers: BTreeMap<Hash, Header>,
    /// Candidates for the head, best first: (weight desc, first seen, id).
    ranking: BTreeSet<RankKey>,
    /// Invalid checkpoints and their heights (forgotten below the prune horizon).
    invalid: BTreeMap<Hash, u64>,
    waiting: BTreeMap<Hash, (Hash, Arc<Checkpoint>)>,
    /// The active chain from height `active_base` up.
    active: VecDeque<Link>,
    active_base: u64,
    /// Every height at or below this is pruned (0: nothing pruned yet; genesis holds no units).
    prune_horizon: u64,
    /// Units below the horizon kept because a header at or above it names them as parents (in a
    /// quiet network every checkpoint names the same anchors, confirmed long ago): tip walks
    /// start at the head's parents, so they stay whole units. Retried at every prune.
    pinned: Vec<(u64, Hash)>,
    ledger: Ledger,
    epoch: u64,
    next_seq: u64,
    /// Highest height for which final events were emitted on the active chain.
    final_height: u64,
    events: Vec<Event>,
    /// The storage node set (`Genesis::storage_nodes`), fixed at genesis in v0.
    storage_nodes: Arc<[AccountId]>,
    signature_memo: Option<Arc<dyn UnitCache>>,
    /// Anchors final on a main chain: branches fork choice may take (see `anchor_pin`).
    pins: anchor_pin::AnchorPins,
}

impl Chain {
    /// A chain holding only `genesis` (validated first), with its allocations as the ledger.
    pub fn new(genesis: &Arc<Genesis>) -> Result<Chain, GenesisError> {
        genesis.validate()?;
        let id = genesis.id()?;
        let ledger = Ledger::genesis(&genesis.allocations)
            .ok_or(GenesisError::SupplyOverflow)?
            .with_peg_chain(id);
        let genesis_supply = ledger.supply();
        let header = Header {
            id,
            checkpoint: None,
            height: 0,
            prev: Hash::ZERO,
            generation_signature: genesis.generation_signature()?,
            author: AccountId::default(),
            timestamp_ms: genesis.timestamp_ms,
            base_target: genesis.initial_base_target,
            cumulative_weight: 0,
            ledger_root: ledger.root(),
            next_base_target: genesis.initial_base_target,
            seen_seq: 0,
        };
        let mut headers = BTreeMap::new();
        headers.insert(id, header);
        let mut ranking = BTreeSet::new();
        ranking.insert((Reverse(0), 0, id));
        Ok(Chain {
            params: genesis.params.clone(),
            genesis: genesis.clone(),
            genesis_id: id,
            headers,
            ranking,
            invalid: BTreeMap::new(),
            waiting: BTreeMap::new(),
            active: VecDeque::from([Link {
                id,
                undo: None,
                confirmed: Vec::new(),
                supply: genesis_supply,
                timestamp_ms: genesis.timestamp_ms,
                cumulative_weight: 0,
            }]),
            active_base: 0,
            prune_horizon: 0,
            pinned: Vec::new(),
            ledger,
            epoch: 0,
            next_seq: 1,
            final_height: 0,
            events: Vec::new(),
            storage_nodes: genesis.storage_nodes().into(),
            signature_memo: None,
            pins: anchor_pin::AnchorPins::default(),
        })
    }

    /// Share checkpoint signature results with the other nodes of one simulation (see
    /// [`UnitCache::checkpoint_signature_checked`]); production nodes have none.
    pub fn set_signature_memo(&mut self, memo: Option<Arc<dyn UnitCache>>) {
        self.signature_memo = memo;
    }

    /// The protocol rules of the genesis.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// How proofs of space are checked on this network.
    pub fn poc(&self) -> &PocMode {
        &self.genesis.poc
    }

    /// The genesis id (the chain id every unit ultimately approves).
    pub fn genesis_id(&self) -> Hash {
        self.genesis_id
    }

    /// The EIP-155 chain id Ethereum transactions on this network carry (docs/evm.md).
    pub fn evm_chain_id(&self) -> u64 {
        crate::core::evm::chain_id_of(&self.genesis.chain_id)
    }

    /// The ledger after the head: the state the active chain derives.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Bumped whenever the ledger changes (tip eligibility caches key on it).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The active chain's head (genesis before the first checkpoint).
    pub fn head(&self) -> &Header {
        let id = self.active.back().map_or(self.genesis_id, |link| link.id);
        // The active chain only ever holds known headers.
        self.headers.get(&id).unwrap_or_else(|| unreachable!("active id {id:?} has a header"))
    }

    /// The head's height.
    pub fn height(&self) -> u64 {
        self.active_base + self.active.len() as u64 - 1
    }

    /// The header of an accepted checkpoint on any branch, if still kept (not pruned).
    pub fn header(&self, id: &Hash) -> Option<&Header> {
        self.headers.get(id)
    }

    /// Every accepted checkpoint's header still kept, on any branch, in id order (the fork
    /// tree `vein-sim inspect` exports).
    pub fn headers(&self) -> impl Iterator<Item = &Header> {
        self.headers.values()
    }

    /// Whether the checkpoint is known at all: accepted, parked or remembered as invalid.
    pub fn knows(&self, id: &Hash) -> bool {
        self.headers.contains_key(id)
            || self.waiting.contains_key(id)
            || self.invalid.contains_key(id)
    }

    fn link_at(&self, height: u64) -> Option<&Link> {
        let index = usize::try_from(height.checked_sub(self.active_base)?).ok()?;
        self.active.get(index)
    }

    /// Id of the active checkpoint at `height`; `None` above the head or below the lowest
    /// link kept (see [`Chain::lowest_held_height`]).
    pub fn active_at(&self, height: u64) -> Option<Hash> {
        self.link_at(height).map(|link| link.id)
    }

    /// The White Flag order of the active checkpoint at `height`: every unit it confirmed, in
    /// the order it applied them, with each one's outcome; `None` where [`Chain::active_at`] is.
    pub fn confirmed_at(&self, height: u64) -> Option<&[(Hash, Outcome)]> {
        self.link_at(height).map(|link| link.confirmed.as_slice())
    }

    /// The lowest height whose active checkpoint id is still held.
    pub fn lowest_held_height(&self) -> u64 {
        self.active_base
    }

    /// Every height at or below this is pruned: its units are gone from the DAG and no
    /// reorganisation may fork below it (0 while nothing is pruned).
    pub fn prune_horizon(&self) -> u64 {
        self.prune_horizon
    }

    /// Sizes of the in-memory state.
    pub fn size(&self) -> ChainSize {
        ChainSize {
            headers: self.headers.len(),
            links: self.active.len(),
            undo_records: self.active.iter().filter(|link| link.undo.is_some()).count(),
            confirmed_records: self.active.iter().map(|link| link.confirmed.len()).sum(),
            invalid: self.invalid.len(),
            waiting: self.waiting.len(),
        }
    }

    /// Height up to which the active chain is final.
    pub fn final_height(&self) -> u64 {
        self.final_height
    }

    /// Recently confirmed units: walks start here and fall back here.
    pub fn anchors(&self) -> Vec<Hash> {
        let parents = self.head().parents();
        if parents.is_empty() { vec![self.genesis_id] } else { parents.to_vec() }
    }

    /// The storage node set every put is assigned from.
    pub fn storage_nodes(&self) -> &[AccountId] {
        &self.storage_nodes
    }

    /// Generation signature of the active checkpoint at `height` (the storage round's challenge).
    pub fn generation_signature_at(&self, height: u64) -> Option<Hash> {
        let id = self.active_at(height)?;
        self.headers.get(&id).map(|header| header.generation_signature)
    }

    /// Height of the best head candidate, connectable or not (its units may still be missing):
    /// how far this node knows the network's chain to reach.
    pub fn best_candidate_height(&self) -> u64 {
        let best = self.ranking.first().and_then(|(_, _, id)| self.headers.get(id));
        best.map_or(0, |header| header.height)
    }

    /// Whether a head candidate heavier than the head is known, connectable or not (its units
    /// may still be missing): the network's chain is ahead of this node's.
    pub fn heavier_candidate_known(&self) -> bool {
        let head = self.head();
        let best = self.ranking.first().and_then(|(_, _, id)| self.headers.get(id));
        best.is_some_and(|best| {
            best.id != head.id && best.cumulative_weight > head.cumulative_weight
        })
    }

    /// Predecessors of parked checkpoints that nobody has delivered yet.
    pub fn missing_prevs(&self, limit: usize) -> Vec<Hash> {
        let mut missing: Vec<Hash> = self
            .waiting
            .values()
            .map(|(prev, _)| *prev)
            .filter(|prev| !self.headers.contains_key(prev) && !self.waiting.contains_key(prev))
            .collect();
        missing.sort();
        missing.dedup();
        missing.truncate(limit);
        missing
    }

    /// Take the events since the last call, oldest first.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// What validating a checkpoint on top of the head needs to know about the head.
    pub fn predecessor_of_head(&self) -> Predecessor {
        self.head().predecessor()
    }
}
