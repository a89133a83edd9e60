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

use crate::core::checkpoint::{Checkpoint, CheckpointError, Predecessor, ValidationContext};
use crate::core::contracts::{Settlement, StorageContext, StorageMode};
use crate::core::crypto::AccountId;
use crate::core::dag::{Confirmation, Dag, Outcome};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::ledger::{Ledger, Undo};
use crate::core::node::UnitCache;
use crate::core::params::{Genesis, GenesisError, Params};
use crate::core::poc::PocMode;
use crate::core::poc::challenge::generation_signature_for;
use crate::core::poc::retarget::{RETARGET_WINDOW, next_base_target};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::Arc;

/// A head candidate's place in the ranking: heavier first, then first seen, then id.
type RankKey = (Reverse<u128>, u64, Hash);

/// Largest unconfirmed cone one checkpoint may order. Bounds the work a peer can cause.
pub const CHECKPOINT_CONE_UNITS_MAX: usize = 1_000_000;
/// Checkpoints before a height whose weight rate is the finality reference.
const FINALITY_REFERENCE_CHECKPOINTS: u64 = 256;
/// Checkpoints waiting for their predecessor.
const WAITING_CHECKPOINTS_MAX: usize = 1_024;
/// Active-chain links kept below the prune horizon: the finality test's reference rate reads
/// the weight and time of the checkpoint this far below the height it judges.
const LINKS_BELOW_HORIZON: u64 = FINALITY_REFERENCE_CHECKPOINTS;
/// Headers kept below the prune horizon: a new header's base target is retargeted from its
/// ancestors.
const HEADERS_BELOW_HORIZON: u64 = RETARGET_WINDOW as u64;

#[derive(Debug, Clone)]
pub struct Header {
    pub id: Hash,
    /// `None` for genesis.
    pub checkpoint: Option<Arc<Checkpoint>>,
    pub height: u64,
    pub prev: Hash,
    pub generation_signature: Hash,
    pub author: AccountId,
    pub timestamp_ms: u64,
    pub base_target: u64,
    pub cumulative_weight: u128,
    pub ledger_root: Hash,
    /// Base target the successor must carry.
    pub next_base_target: u64,
    /// First-seen order, for the tie rule.
    pub seen_seq: u64,
}

impl Header {
    fn predecessor(&self) -> Predecessor {
        Predecessor {
            id: self.id,
            height: self.height,
            generation_signature: self.generation_signature,
            author: self.author,
            timestamp_ms: self.timestamp_ms,
            cumulative_weight: self.cumulative_weight,
            next_base_target: self.next_base_target,
        }
    }

    pub fn parents(&self) -> &[Hash] {
        self.checkpoint.as_ref().map_or(&[], |cp| cp.body.parents.as_slice())
    }
}

/// What connecting one checkpoint did: each ordered unit's outcome, and the storage rounds it
/// settled.
type Applied = (Vec<(Hash, Outcome)>, Vec<Settlement>);

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

/// What one call of [`Chain::prune`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// The prune horizon after the call (every height at or below it is pruned).
    pub horizon: u64,
    pub units: usize,
    pub headers: usize,
    pub links: usize,
}

/// Sizes of the chain's in-memory state, for bounded-state tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainSize {
    pub headers: usize,
    pub links: usize,
    /// Links still holding an undo log.
    pub undo_records: usize,
    /// Confirmed-unit records held by links (one per unit above the horizon).
    pub confirmed_records: usize,
    pub invalid: usize,
    pub waiting: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferOutcome {
    Duplicate,
    /// Parked until its predecessor arrives.
    MissingPrev {
        prev: Hash,
    },
    /// Accepted as a header; `missing_units` are DAG units the best branch still needs.
    /// `released` are parked descendants that this checkpoint connected and that were accepted
    /// with it, parents before children: they are new headers too, and the node relays them
    /// like the offered one.
    Accepted {
        missing_units: Vec<Hash>,
        released: Vec<Arc<Checkpoint>>,
    },
    /// At or below the prune horizon: ignored (see the module docs).
    BelowHorizon {
        horizon: u64,
    },
}

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
}

impl Chain {
    pub fn new(genesis: &Arc<Genesis>) -> Result<Chain, GenesisError> {
        genesis.validate()?;
        let id = genesis.id()?;
        let ledger = genesis.ledger().ok_or(GenesisError::SupplyOverflow)?;
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
        })
    }

    /// Share checkpoint signature results with the other nodes of one simulation (see
    /// [`UnitCache::checkpoint_signature_checked`]); production nodes have none.
    pub fn set_signature_memo(&mut self, memo: Option<Arc<dyn UnitCache>>) {
        self.signature_memo = memo;
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn poc(&self) -> &PocMode {
        &self.genesis.poc
    }

    pub fn genesis_id(&self) -> Hash {
        self.genesis_id
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Bumped whenever the ledger changes (tip eligibility caches key on it).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn head(&self) -> &Header {
        let id = self.active.back().map_or(self.genesis_id, |link| link.id);
        // The active chain only ever holds known headers.
        self.headers.get(&id).unwrap_or_else(|| unreachable!("active id {id:?} has a header"))
    }

    pub fn height(&self) -> u64 {
        self.active_base + self.active.len() as u64 - 1
    }

    pub fn header(&self, id: &Hash) -> Option<&Header> {
        self.headers.get(id)
    }

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

    /// The storage context of a checkpoint at `height` (on top of the head) whose generation
    /// signature is `generation_signature`.
    fn storage_context(&self, height: u64, generation_signature: Hash) -> StorageContext {
        let params = self.params.storage;
        let oldest = height.saturating_sub(params.proof_deadline_rounds);
        let mut generation_signatures: BTreeMap<u64, Hash> = (oldest..height)
            .filter_map(|round| Some((round, self.generation_signature_at(round)?)))
            .collect();
        generation_signatures.insert(height, generation_signature);
        StorageContext { height, params, nodes: self.storage_nodes.clone(), generation_signatures }
    }

    /// White Flag over `order` plus settlement and reward, for a checkpoint at `context.height`
    /// by `author`. On error everything is reverted.
    fn apply_checkpoint(
        &mut self,
        order: &[Hash],
        author: &AccountId,
        context: &StorageContext,
        dag: &Dag,
        undo: &mut Undo,
    ) -> Result<Applied, String> {
        let mut confirmed = Vec::with_capacity(order.len());
        for unit_id in order {
            let Some(unit) = dag.get(unit_id) else {
                return Err(format!("unit {unit_id:?} vanished"));
            };
            let mode = StorageMode::Full(context);
            let outcome =
                match self.ledger.apply_in(&unit.tx, author, self.params.fee_policy, mode, undo) {
                    Ok(()) => Outcome::Applied,
                    Err(_) => Outcome::Ignored,
                };
            confirmed.push((*unit_id, outcome));
        }
        let settlements = self.ledger.settle(context, undo).map_err(|error| error.to_string())?;
        self.ledger
            .mint(author, self.params.checkpoint_reward, undo)
            .map_err(|_| "reward overflows the supply".to_string())?;
        Ok((confirmed, settlements))
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

    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn predecessor_of_head(&self) -> Predecessor {
        self.head().predecessor()
    }

    /// Offer a checkpoint received from a peer or forged locally.
    pub fn offer(
        &mut self,
        checkpoint: Arc<Checkpoint>,
        now_ms: u64,
        dag: &mut Dag,
    ) -> Result<OfferOutcome, CheckpointError> {
        let id = checkpoint.id()?;
        if self.headers.contains_key(&id) || self.invalid.contains_key(&id) {
            return Ok(OfferOutcome::Duplicate);
        }
        if self.prune_horizon > 0 && checkpoint.body.height <= self.prune_horizon {
            // Pruned history, or a fork below it this node can never switch to. Not
            // misbehaviour: a slow peer may relay or answer with an old checkpoint.
            return Ok(OfferOutcome::BelowHorizon { horizon: self.prune_horizon });
        }
        let prev = checkpoint.body.prev;
        if self.invalid.contains_key(&prev) {
            self.invalid.insert(id, checkpoint.body.height);
            return Err(CheckpointError::LedgerRootMismatch { height: checkpoint.body.height - 1 });
        }
        if !self.headers.contains_key(&prev) {
            if self.waiting.len() >= WAITING_CHECKPOINTS_MAX {
                self.waiting.pop_first();
            }
            self.waiting.insert(id, (prev, checkpoint));
            return Ok(OfferOutcome::MissingPrev { prev });
        }
        self.insert_header(id, checkpoint, now_ms)?;
        // Release parked descendants, in id order (deterministic).
        let mut accepted = Vec::new();
        let mut released = vec![id];
        while let Some(parent) = released.pop() {
            let children: Vec<Hash> = self
                .waiting
                .iter()
                .filter(|(_, (prev, _))| *prev == parent)
                .map(|(child, _)| *child)
                .collect();
            for child in children {
                if let Some((_, checkpoint)) = self.waiting.remove(&child)
                    && self.insert_header(child, checkpoint.clone(), now_ms).is_ok()
                {
                    released.push(child);
                    accepted.push(checkpoint);
                }
            }
        }
        let missing_units = self.update_head(dag);
        Ok(OfferOutcome::Accepted { missing_units, released: accepted })
    }

    fn insert_header(
        &mut self,
        id: Hash,
        checkpoint: Arc<Checkpoint>,
        now_ms: u64,
    ) -> Result<(), CheckpointError> {
        let prev = self
            .headers
            .get(&checkpoint.body.prev)
            .ok_or(CheckpointError::WrongHeight {
                found: checkpoint.body.height,
                expected_minus_one: u64::MAX,
            })?
            .predecessor();
        let context = ValidationContext {
            now_ms,
            future_drift_ms: self.params.future_drift_ms,
            challenge_refresh: self.params.challenge_refresh,
            parents_max: self.params.checkpoint_parents_max,
            poc: &self.genesis.poc,
            signature_checked: self
                .signature_memo
                .as_ref()
                .is_some_and(|memo| memo.checkpoint_signature_checked(&id)),
        };
        checkpoint.validate_header(&prev, &context)?;
        if let Some(memo) = &self.signature_memo {
            memo.record_checkpoint_signature(id);
        }
        let body = &checkpoint.body;
        let mut header = Header {
            id,
            checkpoint: None,
            height: body.height,
            prev: body.prev,
            generation_signature: body.generation_signature,
            author: body.author,
            timestamp_ms: body.timestamp_ms,
            base_target: body.base_target,
            cumulative_weight: body.cumulative_weight,
            ledger_root: body.ledger_root,
            next_base_target: body.base_target,
            seen_seq: self.next_seq,
        };
        self.next_seq += 1;
        header.next_base_target = self.retarget_after(&header);
        header.checkpoint = Some(checkpoint);
        self.ranking.insert((Reverse(header.cumulative_weight), header.seen_seq, id));
        self.events.push(Event::CheckpointAccepted {
            id,
            height: header.height,
            author: header.author,
        });
        self.headers.insert(id, header);
        Ok(())
    }

    /// Base target for the successor of a checkpoint with `body` on this chain's headers (what
    /// `next_base_target` of its header will be once accepted): a grinding miner compares the
    /// versions of its own checkpoint with it.
    pub fn base_target_after(&self, body: &crate::core::checkpoint::CheckpointBody) -> u64 {
        let Some(prev) = self.headers.get(&body.prev) else { return body.base_target };
        let header = Header {
            id: Hash::ZERO,
            checkpoint: None,
            height: body.height,
            prev: body.prev,
            generation_signature: body.generation_signature,
            author: body.author,
            timestamp_ms: body.timestamp_ms,
            base_target: body.base_target,
            cumulative_weight: body.cumulative_weight,
            ledger_root: body.ledger_root,
            next_base_target: body.base_target,
            seen_seq: prev.seen_seq,
        };
        self.retarget_after(&header)
    }

    /// Base target for the successor of `header`, from it and up to 23 ancestors.
    fn retarget_after(&self, header: &Header) -> u64 {
        if self.params.fixed_base_target {
            return header.base_target;
        }
        let mut recent = vec![(header.timestamp_ms, header.base_target)];
        let mut cursor = header.prev;
        while recent.len() < RETARGET_WINDOW && header.height >= recent.len() as u64 {
            let Some(ancestor) = self.headers.get(&cursor) else { break };
            recent.push((ancestor.timestamp_ms, ancestor.base_target));
            cursor = ancestor.prev;
        }
        recent.reverse();
        next_base_target(&recent, self.params.target_interval_ms)
    }

    /// Move the active chain to the best connectable candidate. Returns DAG units the best
    /// candidate still lacks (the caller requests them).
    pub fn update_head(&mut self, dag: &mut Dag) -> Vec<Hash> {
        let mut missing = Vec::new();
        // Walked with a cursor rather than collected: this runs for every inserted unit, and
        // almost always stops at the first candidate (the head), while the ranking holds every
        // header above the prune horizon. Entries removed behind the loop's back (a branch that
        // failed to connect) are invalid, and `branch_to` would skip them anyway.
        let mut cursor: Option<RankKey> = None;
        loop {
            let next = match &cursor {
                None => self.ranking.iter().next(),
                Some(key) => self.ranking.range((Excluded(key), Unbounded)).next(),
            };
            let Some(key) = next.copied() else { break };
            cursor = Some(key);
            let candidate = key.2;
            if candidate == self.head().id {
                return missing;
            }
            let Some(branch) = self.branch_to(&candidate) else { continue };
            let fork_height = branch.first().map_or(self.height(), |h| h.height - 1);
            // A candidate that is an ancestor of the head (branch empty) is lighter; skip.
            if branch.is_empty() {
                continue;
            }
            let depth = self.height() - fork_height;
            // Only the reorg limit refuses a branch. Disconnecting a final checkpoint is allowed
            // and reported (`FinalReverted`): PROTOCOL.md makes that a detected safety violation,
            // and refusing it would strand a node (or a withholding attacker) on a dead branch.
            if depth > self.params.reorg_limit {
                self.events.push(Event::ReorgRefused {
                    depth,
                    limit: self.params.reorg_limit,
                    candidate,
                });
                continue;
            }
            // The horizon never exceeds height - R when it moves, but the head may since have
            // moved to a heavier, shorter branch: the pruned units are gone either way.
            if fork_height < self.prune_horizon {
                self.events.push(Event::ReorgRefused {
                    depth,
                    limit: self.height().saturating_sub(self.prune_horizon),
                    candidate,
                });
                continue;
            }
            let lacking: Vec<Hash> = branch
                .iter()
                .flat_map(|header| header.parents().to_vec())
                .filter(|unit| !dag.has_parent(unit))
                .collect();
            if !lacking.is_empty() {
                // The best branch cannot be connected yet: fetch its units, try lighter ones.
                if missing.is_empty() {
                    missing = lacking;
                }
                continue;
            }
            if self.switch_to(fork_height, &branch, dag) {
                return missing;
            }
        }
        missing
    }

    /// Headers from the fork point (exclusive) to `tip`, oldest first; `None` if the branch
    /// contains an invalid or unknown header.
    fn branch_to(&self, tip: &Hash) -> Option<Vec<Header>> {
        let mut branch = Vec::new();
        let mut cursor = *tip;
        loop {
            let header = self.headers.get(&cursor)?;
            if self.active_at(header.height) == Some(cursor) {
                break;
            }
            if self.invalid.contains_key(&cursor) {
                return None;
            }
            branch.push(header.clone());
            cursor = header.prev;
        }
        branch.reverse();
        Some(branch)
    }

    /// Disconnect to `fork_height`, connect `branch`. On a bad ledger root, restore the old chain
    /// and return false.
    fn switch_to(&mut self, fork_height: u64, branch: &[Header], dag: &mut Dag) -> bool {
        let old_head = self.head().id;
        let old_height = self.height();
        let old_branch: Vec<Header> = ((fork_height + 1)..=old_height)
            .filter_map(|height| self.active_at(height))
            .filter_map(|id| self.headers.get(&id).cloned())
            .collect();
        self.disconnect_to(fork_height, dag);
        for (index, header) in branch.iter().enumerate() {
            if let Err(reason) = self.connect(header, dag) {
                self.events.push(Event::CheckpointInvalid {
                    id: header.id,
                    height: header.height,
                    reason,
                });
                for bad in &branch[index..] {
                    self.invalid.insert(bad.id, bad.height);
                    self.ranking.remove(&(Reverse(bad.cumulative_weight), bad.seen_seq, bad.id));
                }
                self.disconnect_to(fork_height, dag);
                for old in &old_branch {
                    // The old branch connected before, so it connects again identically.
                    let reconnected = self.connect(old, dag);
                    debug_assert!(reconnected.is_ok());
                }
                self.epoch += 1;
                return false;
            }
        }
        self.epoch += 1;
        let head = self.head().clone();
        if fork_height < old_height {
            self.events.push(Event::Reorg {
                depth: old_height - fork_height,
                old_head,
                new_head: head.id,
            });
        }
        self.events.push(Event::HeadChanged {
            id: head.id,
            height: head.height,
            cumulative_weight: head.cumulative_weight,
            timestamp_ms: head.timestamp_ms,
        });
        self.emit_finality(dag);
        true
    }

    fn disconnect_to(&mut self, fork_height: u64, dag: &mut Dag) {
        while self.height() > fork_height {
            let Some(link) = self.active.pop_back() else { break };
            let height = self.active_base + self.active.len() as u64;
            if height <= self.final_height {
                self.events.push(Event::FinalReverted { height, id: link.id });
                self.final_height = height - 1;
            }
            if let Some(header) = self.headers.get(&link.id) {
                self.events.push(Event::CheckpointDisconnected {
                    id: link.id,
                    height,
                    author: header.author,
                });
            }
            if let Some(undo) = link.undo {
                self.ledger.revert(undo);
            }
            for (unit, _) in &link.confirmed {
                dag.set_confirmation(unit, None);
            }
        }
    }

    /// Apply one checkpoint on top of the current head.
    fn connect(&mut self, header: &Header, dag: &mut Dag) -> Result<(), String> {
        self.connect_unpruned(header, dag)?;
        self.prune_undo();
        Ok(())
    }

    /// [`Chain::connect`] without dropping old undo logs (a temporary switch must leave the
    /// active chain's undo logs exactly as they were).
    fn connect_unpruned(&mut self, header: &Header, dag: &mut Dag) -> Result<(), String> {
        debug_assert_eq!(header.prev, self.head().id);
        let order = dag
            .unconfirmed_cone(header.parents(), CHECKPOINT_CONE_UNITS_MAX)
            .map_err(|error| error.to_string())?;
        let mut undo = Undo::default();
        let context = self.storage_context(header.height, header.generation_signature);
        let (confirmed, settlements) =
            match self.apply_checkpoint(&order, &header.author, &context, dag, &mut undo) {
                Ok(applied) => applied,
                Err(reason) => {
                    self.ledger.revert(undo);
                    return Err(reason);
                }
            };
        if self.ledger.root() != header.ledger_root {
            self.ledger.revert(undo);
            return Err(format!(
                "ledger root mismatch at height {} (ordered {} units)",
                header.height,
                order.len()
            ));
        }
        for (unit, outcome) in &confirmed {
            dag.set_confirmation(
                unit,
                Some(Confirmation { height: header.height, outcome: *outcome }),
            );
            self.events.push(Event::TxConfirmed {
                id: *unit,
                height: header.height,
                outcome: *outcome,
            });
        }
        for settlement in settlements {
            self.events.push(Event::StorageSettled {
                file_id: settlement.file_id,
                round: settlement.round,
                height: header.height,
                proven_shards: settlement.proven_shards,
                missed_shards: settlement.missed_shards,
                paid: settlement.payouts.values().sum(),
                forfeited: settlement.forfeited,
                closed: settlement.closed,
            });
        }
        let supply = self.ledger.supply();
        self.active.push_back(Link {
            id: header.id,
            undo: Some(undo),
            confirmed,
            supply,
            timestamp_ms: header.timestamp_ms,
            cumulative_weight: header.cumulative_weight,
        });
        Ok(())
    }

    /// Undo logs older than the reorg limit can never be used.
    fn prune_undo(&mut self) {
        let keep = self.params.reorg_limit as usize + 1;
        if self.active.len() > keep + 1 {
            let index = self.active.len() - keep - 1;
            self.active[index].undo = None;
        }
    }

    /// Move the prune horizon up to `min(final height, height - R)` and drop what lies below
    /// it (see the module docs): the units the newly pruned checkpoints confirmed, headers more
    /// than the retarget window below the horizon, links more than the finality reference
    /// window below it, invalid ids and parked checkpoints at or below it. Pruned unit ids
    /// stay known for another `R` heights (and while a retained unit names them), so a late
    /// copy of one gets a typed answer rather than a fetch nobody can serve.
    pub fn prune(&mut self, dag: &mut Dag) -> PruneReport {
        let target = self.final_height.min(self.height().saturating_sub(self.params.reorg_limit));
        let mut report = PruneReport { horizon: self.prune_horizon, ..PruneReport::default() };
        if target <= self.prune_horizon {
            return report;
        }
        let forget_below = target.saturating_sub(self.params.reorg_limit);
        let named: BTreeSet<Hash> = self
            .headers
            .values()
            .filter(|header| header.height >= target)
            .flat_map(|header| header.parents().iter().copied())
            .collect();
        let mut pinned = Vec::new();
        for (height, id) in std::mem::take(&mut self.pinned) {
            if named.contains(&id) {
                pinned.push((height, id));
            } else {
                report.units += dag.prune(&[id], height, forget_below);
            }
        }
        for height in (self.prune_horizon + 1)..=target {
            let Some(index) = height.checked_sub(self.active_base) else { continue };
            let Some(link) = self.active.get_mut(index as usize) else { continue };
            let mut ids = Vec::with_capacity(link.confirmed.len());
            for (id, _) in std::mem::take(&mut link.confirmed) {
                if named.contains(&id) {
                    pinned.push((height, id));
                } else {
                    ids.push(id);
                }
            }
            // The undo log went R checkpoints ago (`prune_undo`); keep it that way.
            link.undo = None;
            report.units += dag.prune(&ids, height, forget_below);
        }
        self.pinned = pinned;
        self.prune_horizon = target;
        report.horizon = target;
        let link_floor = target.saturating_sub(LINKS_BELOW_HORIZON);
        while self.active_base < link_floor && self.active.len() > 1 {
            self.active.pop_front();
            self.active_base += 1;
            report.links += 1;
        }
        let header_floor = target.saturating_sub(HEADERS_BELOW_HORIZON);
        let before = self.headers.len();
        self.headers.retain(|_, header| header.height >= header_floor);
        report.headers = before - self.headers.len();
        let headers = &self.headers;
        self.ranking.retain(|(_, _, id)| headers.contains_key(id));
        self.invalid.retain(|_, height| *height > target);
        self.waiting.retain(|_, (_, checkpoint)| checkpoint.body.height > target);
        report
    }

    /// Weight per millisecond of the active chain between two heights.
    fn weight_rate(&self, from: u64, to: u64) -> Option<f64> {
        let start = self.link_at(from)?;
        let end = self.link_at(to)?;
        let span_ms = end.timestamp_ms.saturating_sub(start.timestamp_ms).max(1);
        Some((end.cumulative_weight - start.cumulative_weight) as f64 / span_ms as f64)
    }

    /// Whether the checkpoint at `height` on the active chain is final. Buried under k others
    /// is necessary. Unless disabled, the burying checkpoints must also have come at a weight
    /// rate of at least the participation share of the reference rate, the chain's rate over
    /// the 256 checkpoints before `height`. A side of a partition holding less than that share
    /// of the space therefore does not finalise while it is split. Two valves keep honest
    /// finality live: with under 2k checkpoints of history the reference is the rate the
    /// genesis declares, and a checkpoint `finality_depth_max` deep is final regardless, because a
    /// reference that happened to be fast could otherwise stall finality forever. So the
    /// guarantee holds for splits shorter than about `finality_depth_max` intervals.
    fn is_final(&self, height: u64) -> bool {
        let depth = self.params.finality_depth;
        let tip = self.height();
        if tip < height + depth {
            return false;
        }
        let share = u64::from(self.params.finality_participation_per_mille);
        if share == 0 || tip - height >= self.params.finality_depth_max {
            return true;
        }
        let reference = if height < 2 * depth {
            // Too little history: the genesis declares the expected rate (its base target was
            // set from the declared capacity for the target interval).
            Some(
                crate::core::poc::challenge::weight(self.genesis.initial_base_target) as f64
                    / self.params.target_interval_ms.max(1) as f64,
            )
        } else {
            self.weight_rate(height.saturating_sub(FINALITY_REFERENCE_CHECKPOINTS), height)
        };
        let (Some(reference), Some(burying)) = (reference, self.weight_rate(height, tip)) else {
            return false;
        };
        burying * 1000.0 >= reference * share as f64
    }

    fn emit_finality(&mut self, dag: &Dag) {
        let depth = self.params.finality_depth;
        let now_final = self.height().saturating_sub(depth);
        while self.final_height < now_final {
            let height = self.final_height + 1;
            if !self.is_final(height) {
                break;
            }
            let Some(index) = height.checked_sub(self.active_base) else { break };
            // Field access, not `link_at`: the events vector is pushed to while it is held.
            let Some(link) = self.active.get(index as usize) else { break };
            let Some(header) = self.headers.get(&link.id) else { break };
            self.events.push(Event::CheckpointFinal {
                id: link.id,
                height,
                ledger_root: header.ledger_root,
                supply: link.supply,
            });
            for (unit, outcome) in &link.confirmed {
                if let Some(unit_data) = dag.get(unit) {
                    self.events.push(Event::TxFinal {
                        id: *unit,
                        height,
                        outcome: *outcome,
                        from: unit_data.tx.body.from,
                        nonce: unit_data.tx.body.nonce,
                    });
                }
            }
            self.final_height = height;
        }
    }

    /// [`Chain::preview_root`] for a successor of `prev`, any known header, not only the head:
    /// what a miner extending every fork (PROTOCOL.md §7 #4) must sign. Switches to `prev`'s
    /// branch for the preview and back; events, finality and undo logs are left as they were.
    /// Refused when the switch would go deeper than the reorg limit (undo logs are gone there).
    pub fn preview_root_after(
        &mut self,
        prev: &Hash,
        parents: &[Hash],
        author: &AccountId,
        dag: &mut Dag,
    ) -> Result<Hash, String> {
        if *prev == self.head().id {
            return self.preview_root(parents, author, dag);
        }
        let prev_height = self.headers.get(prev).ok_or("unknown predecessor")?.height;
        let branch = self.branch_to(prev).ok_or("predecessor on an invalid branch")?;
        let fork_height = branch.first().map_or(prev_height, |header| header.height - 1);
        let depth = self.height() - fork_height;
        if depth > self.params.reorg_limit {
            return Err(format!("predecessor {depth} deep, beyond the reorg limit"));
        }
        let old_branch: Vec<Header> = ((fork_height + 1)..=self.height())
            .filter_map(|height| self.active_at(height))
            .filter_map(|id| self.headers.get(&id).cloned())
            .collect();
        let events = self.events.len();
        let final_height = self.final_height;
        self.disconnect_to(fork_height, dag);
        let mut connected = Ok(());
        for header in &branch {
            connected = self.connect_unpruned(header, dag);
            if connected.is_err() {
                break;
            }
        }
        let root = connected.and_then(|()| self.preview_root(parents, author, dag));
        self.disconnect_to(fork_height, dag);
        for old in &old_branch {
            // The old branch connected before, so it connects again identically.
            let reconnected = self.connect_unpruned(old, dag);
            debug_assert!(reconnected.is_ok());
        }
        self.events.truncate(events);
        self.final_height = final_height;
        root
    }

    /// The ledger root after applying the unconfirmed cone of `parents` and a reward for
    /// `author` on top of the head: what a new checkpoint must carry. The ledger is unchanged.
    pub fn preview_root(
        &mut self,
        parents: &[Hash],
        author: &AccountId,
        dag: &Dag,
    ) -> Result<Hash, String> {
        let order = dag
            .unconfirmed_cone(parents, CHECKPOINT_CONE_UNITS_MAX)
            .map_err(|error| error.to_string())?;
        let head = self.head();
        let height = head.height + 1;
        let generation_signature = generation_signature_for(
            height,
            self.params.challenge_refresh,
            &head.generation_signature,
            &head.author,
        );
        let context = self.storage_context(height, generation_signature);
        let mut undo = Undo::default();
        let applied = self.apply_checkpoint(&order, author, &context, dag, &mut undo);
        let root = self.ledger.root();
        self.ledger.revert(undo);
        applied?;
        Ok(root)
    }
}
