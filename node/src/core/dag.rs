//! The DAG of transactions: units, their parents and children, the tip set, and the orphan pool.
//!
//! A unit enters the DAG only when both parents are present (or are genesis), so arrival order is
//! a topological order and `seq` (the arrival counter) sorts parents before children. A unit
//! whose parents are missing waits in a bounded orphan pool and the node asks peers for the
//! missing parents; when they arrive the orphans are released in arrival order.
//!
//! Validation (signature, fee, time) happens before a unit is offered here; this module only
//! keeps structure. Confirmation flags are written by the checkpoint chain.
//!
//! Pruning (docs/protocol.md, "Bounded state"): the chain hands over the units confirmed at
//! heights that can never be disconnected again and `prune` drops them. A pruned unit is
//! remembered as an id with its confirmation (no body, no children) while a retained unit or an
//! orphan still names it as a parent, or while it was confirmed within the reference window;
//! such a parent counts as present and confirmed, so a late unit built on it is inserted as a
//! unit on a final reference, and the unit itself arriving again is `AlreadyFinal`. A parent
//! pruned and forgotten is indistinguishable from an unknown one: the unit waits in the bounded
//! orphan pool.

use crate::core::crypto::AccountId;
use crate::core::hash::{Hash, IdMap};
use crate::core::message::Message;
use crate::core::transaction::Transaction;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// An immutable, content-addressed unit shared between the DAG, the mempool and (in the
/// simulator) between nodes.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Hash of the transaction's canonical encoding.
    pub id: Hash,
    /// The signed transaction (already validated when the unit is in a DAG).
    pub tx: Transaction,
    /// Length of the canonical encoding, for size accounting.
    pub encoded_bytes: usize,
    /// The unit's gossip envelope (`Message::Transaction`), made once and shared by every
    /// relay of this copy: in a simulation, by every node that shares the copy.
    envelope: OnceLock<Arc<Vec<u8>>>,
}

/// Equal units have equal ids; the envelope is derived from the transaction.
impl PartialEq for Unit {
    fn eq(&self, other: &Unit) -> bool {
        self.id == other.id && self.tx == other.tx && self.encoded_bytes == other.encoded_bytes
    }
}

impl Eq for Unit {}

impl Unit {
    /// Wrap a transaction, computing its id from its canonical encoding.
    pub fn new(tx: Transaction) -> Result<Arc<Unit>, crate::core::wire::WireError> {
        let bytes = tx.encode()?;
        Ok(Arc::new(Unit {
            id: Hash::of(&bytes),
            tx,
            encoded_bytes: bytes.len(),
            envelope: OnceLock::new(),
        }))
    }

    /// Wrap a transaction decoded from `bytes` (its canonical encoding), reusing them for the id.
    pub fn from_canonical(tx: Transaction, bytes: &[u8]) -> Arc<Unit> {
        Arc::new(Unit {
            id: Hash::of(bytes),
            tx,
            encoded_bytes: bytes.len(),
            envelope: OnceLock::new(),
        })
    }

    /// The `Message::Transaction` envelope of this unit, encoded on first use.
    pub fn envelope(&self) -> Result<Arc<Vec<u8>>, crate::core::wire::WireError> {
        if let Some(envelope) = self.envelope.get() {
            return Ok(envelope.clone());
        }
        let envelope = Arc::new(Message::Transaction(self.tx.clone()).encode()?);
        Ok(self.envelope.get_or_init(|| envelope).clone())
    }

    /// Adopt `envelope`, the bytes this unit arrived in, as its gossip envelope (if it has none
    /// yet): relays then forward the very bytes they received. The caller has checked that
    /// they are this unit's `Message::Transaction` envelope.
    pub fn adopt_envelope(&self, envelope: &Arc<Vec<u8>>) {
        let _ = self.envelope.set(envelope.clone());
    }

    /// The envelope, if one was made or adopted.
    pub fn envelope_if_made(&self) -> Option<&Arc<Vec<u8>>> {
        self.envelope.get()
    }
}

/// The fate of a confirmed unit under White Flag ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The transaction applied to the ledger in the checkpoint's order.
    Applied,
    /// It did not apply (its spend was already used, or it failed a ledger rule): it stays in
    /// the DAG as structure but changed no balance.
    Ignored,
}

/// How and where a unit was confirmed; `None` in the DAG while no checkpoint covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    /// Height of the checkpoint (on this node's active chain) whose past cone first held it.
    pub height: u64,
    /// Whether it applied there.
    pub outcome: Outcome,
}

#[derive(Debug)]
struct Entry {
    unit: Arc<Unit>,
    children: Vec<Hash>,
    seq: u64,
    confirmation: Option<Confirmation>,
}

/// What remains of a pruned unit: its confirmation, and how many retained units name it as a
/// parent (while any do, it must stay known as confirmed: their cones stop at it).
#[derive(Debug, Clone, Copy)]
struct PrunedUnit {
    confirmation: Confirmation,
    references: u32,
}

/// What [`Dag::insert`] did with a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Inserted; `released` lists orphans that could be inserted as a result (in order).
    Inserted {
        /// Orphans inserted because this unit completed their parents, in arrival order.
        released: Vec<Arc<Unit>>,
    },
    /// Already inserted or waiting as an orphan: nothing changed.
    Duplicate,
    /// The unit was confirmed at `height`, below the prune horizon, and dropped from memory: a
    /// late copy of an old unit. Nothing to do (it is final; the disk log still holds it).
    AlreadyFinal {
        /// Height of the checkpoint that confirmed it.
        height: u64,
    },
    /// Parked: these parents are missing and should be requested.
    Orphaned {
        /// The parents neither inserted nor remembered as pruned (one or two).
        missing: Vec<Hash>,
    },
}

/// Why the DAG refused a unit or a cone query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    /// A unit names the same parent twice and it is not genesis.
    #[error("parents must differ unless both are genesis")]
    EqualParents,
    /// A cone query reached a unit that is neither inserted nor confirmed.
    #[error("unit {id:?} is unknown")]
    UnknownUnit {
        /// The missing unit: a root of the query or a parent met on the way.
        id: Hash,
    },
    /// The unconfirmed cone holds more than `limit` units; the walk stopped there.
    #[error("past cone larger than the walk limit of {limit} units")]
    ConeTooLarge {
        /// The limit the caller passed, in units.
        limit: usize,
    },
}

/// Orphans waiting for parents. Bounded: past the cap the oldest orphan is evicted (it can be
/// fetched again if it still matters).
#[derive(Debug, Default)]
struct OrphanPool {
    units: BTreeMap<Hash, (u64, Arc<Unit>)>,
    by_age: BTreeMap<u64, Hash>,
    waiting_on: BTreeMap<Hash, BTreeSet<Hash>>,
    next_age: u64,
}

impl OrphanPool {
    fn contains(&self, id: &Hash) -> bool {
        self.units.contains_key(id)
    }

    fn insert(&mut self, unit: Arc<Unit>, missing: &[Hash], cap: usize) -> Option<Hash> {
        let age = self.next_age;
        self.next_age += 1;
        for parent in missing {
            self.waiting_on.entry(*parent).or_default().insert(unit.id);
        }
        self.by_age.insert(age, unit.id);
        self.units.insert(unit.id, (age, unit));
        if self.units.len() > cap {
            let (_, oldest) = self.by_age.pop_first()?;
            self.remove(&oldest);
            return Some(oldest);
        }
        None
    }

    fn remove(&mut self, id: &Hash) -> Option<Arc<Unit>> {
        let (age, unit) = self.units.remove(id)?;
        self.by_age.remove(&age);
        for parent in unit.tx.body.parents {
            if let Some(set) = self.waiting_on.get_mut(&parent) {
                set.remove(id);
                if set.is_empty() {
                    self.waiting_on.remove(&parent);
                }
            }
        }
        Some(unit)
    }
}

/// Tips kept in a vector for O(1) uniform sampling, with a position index for O(log n) removal.
#[derive(Debug, Default, Clone)]
pub struct TipSet {
    order: Vec<Hash>,
    position: BTreeMap<Hash, usize>,
}

impl TipSet {
    fn insert(&mut self, id: Hash) {
        if self.position.contains_key(&id) {
            return;
        }
        self.position.insert(id, self.order.len());
        self.order.push(id);
    }

    fn remove(&mut self, id: &Hash) {
        let Some(index) = self.position.remove(id) else { return };
        let last = self.order.len() - 1;
        self.order.swap(index, last);
        self.order.pop();
        if index < last {
            self.position.insert(self.order[index], index);
        }
    }

    /// Whether `id` is a tip (a unit no inserted unit approves yet).
    pub fn contains(&self, id: &Hash) -> bool {
        self.position.contains_key(id)
    }

    /// Number of tips (genesis alone is the tip of an empty DAG).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// No tip at all (never the case in a DAG: genesis is a tip until approved).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The tips in an order that changes on removal (swap-remove): deterministic, but not
    /// arrival order. For uniform sampling by index.
    pub fn as_slice(&self) -> &[Hash] {
        &self.order
    }
}

/// One node's DAG: inserted units with their children and confirmations, the tips, the
/// orphan pool and the remembered pruned units (see the module comment).
#[derive(Debug)]
pub struct Dag {
    genesis: Hash,
    /// Looked up for every message a node receives (mostly duplicates) and never iterated, so a
    /// hash map: a B-tree search over 32-byte keys on a cold node was ~9% of a 1,000-node
    /// simulation (issue #3). Nothing may iterate it (iteration order would not be replayable).
    entries: IdMap<Entry>,
    tips: TipSet,
    orphans: OrphanPool,
    orphan_cap: usize,
    next_seq: u64,
    genesis_children: Vec<Hash>,
    /// Pruned units still remembered (see the module docs).
    /// Never iterated either (looked up by `knows` for every unknown unit).
    pruned: IdMap<PrunedUnit>,
    /// Remembered pruned units by confirmation height, to forget them in height order.
    pruned_by_height: BTreeMap<u64, Vec<Hash>>,
    /// Pruned units confirmed below this height are forgotten once nothing references them.
    forget_below: u64,
    /// Bumped by every insertion and every prune: a cache of anything computed from the DAG is
    /// valid while this is unchanged.
    version: u64,
    /// Every retained unit by arrival sequence: lets incremental consumers (the walk's
    /// cumulative weights, the tip selector's cone summaries) catch up on what arrived since
    /// they last looked. Keyed by sequence, not a vector, so pruning keeps it bounded.
    arrivals: BTreeMap<u64, Hash>,
    /// Unconfirmed units by arrival sequence, kept in step with `set_confirmation`.
    unconfirmed: BTreeMap<u64, Hash>,
    /// Bumped whenever a confirmation is set or cleared: a consumer that summarised the
    /// unconfirmed set knows its summary is stale.
    confirmation_changes: u64,
    /// The spend index: retained units by `(from, nonce)`. Two entries under one key are the two
    /// sides of a conflict (tip selection avoids both while they are unconfirmed).
    spends: BTreeMap<(AccountId, u64), Vec<Hash>>,
    /// Bumped whenever an inserted unit joins a key that already held a unit: a cached "this
    /// cone holds no contested spend" may be stale.
    contests: u64,
}

impl Dag {
    /// An empty DAG on `genesis` (the genesis id, its only tip); at most `orphan_cap` orphans
    /// wait at once, the oldest evicted first.
    pub fn new(genesis: Hash, orphan_cap: usize) -> Dag {
        let mut tips = TipSet::default();
        tips.insert(genesis);
        Dag {
            genesis,
            entries: IdMap::default(),
            tips,
            orphans: OrphanPool::default(),
            orphan_cap,
            next_seq: 0,
            genesis_children: Vec::new(),
            pruned: IdMap::default(),
            pruned_by_height: BTreeMap::new(),
            forget_below: 0,
            version: 0,
            arrivals: BTreeMap::new(),
            unconfirmed: BTreeMap::new(),
            confirmation_changes: 0,
            spends: BTreeMap::new(),
            contests: 0,
        }
    }

    /// The genesis id: the implicit root every unit descends from (never in `entries`).
    pub fn genesis(&self) -> Hash {
        self.genesis
    }

    /// Known and inserted (genesis counts).
    pub fn contains(&self, id: &Hash) -> bool {
        *id == self.genesis || self.entries.contains_key(id)
    }

    /// Known at all: inserted, waiting as an orphan, or pruned and still remembered.
    pub fn knows(&self, id: &Hash) -> bool {
        self.contains(id) || self.orphans.contains(id) || self.pruned.contains_key(id)
    }

    /// Present as a parent: inserted, or pruned (final) and still remembered.
    pub fn has_parent(&self, id: &Hash) -> bool {
        self.contains(id) || self.pruned.contains_key(id)
    }

    /// The confirmation height of a pruned, still remembered unit.
    pub fn pruned_height(&self, id: &Hash) -> Option<u64> {
        self.pruned.get(id).map(|pruned| pruned.confirmation.height)
    }

    /// Pruned units still remembered as ids (bounded; see the module docs).
    pub fn pruned_len(&self) -> usize {
        self.pruned.len()
    }

    /// Changes with every insertion and every prune (a cache key; `len` can repeat).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// An inserted, retained unit (`None` for genesis, orphans and pruned units).
    pub fn get(&self, id: &Hash) -> Option<&Arc<Unit>> {
        self.entries.get(id).map(|entry| &entry.unit)
    }

    /// Inserted units still retained (not pruned), genesis excluded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No retained unit besides genesis.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Units waiting in the orphan pool for a parent (at most `orphan_cap`).
    pub fn orphan_count(&self) -> usize {
        self.orphans.units.len()
    }

    /// Units waiting in the orphan pool, in id order.
    pub fn orphans(&self) -> impl Iterator<Item = &Arc<Unit>> {
        self.orphans.units.values().map(|(_, unit)| unit)
    }

    /// Drop every orphan (a node that starts catching up forgets the gossip it was chasing:
    /// see `node/catch_up.rs`). Orphans hold no references, so nothing else changes.
    pub fn clear_orphans(&mut self) {
        self.orphans.units.clear();
        self.orphans.by_age.clear();
        self.orphans.waiting_on.clear();
    }

    /// Parents that orphans wait for and that are neither inserted nor orphans themselves.
    pub fn missing_parents(&self, limit: usize) -> Vec<Hash> {
        self.orphans
            .waiting_on
            .keys()
            .filter(|id| !self.has_parent(id) && !self.orphans.contains(id))
            .take(limit)
            .copied()
            .collect()
    }

    /// Units no inserted unit approves yet.
    pub fn tips(&self) -> &TipSet {
        &self.tips
    }

    /// Inserted units naming `id` as a parent, in arrival order (empty if unknown or pruned).
    pub fn children(&self, id: &Hash) -> &[Hash] {
        if *id == self.genesis {
            return &self.genesis_children;
        }
        self.entries.get(id).map_or(&[], |entry| entry.children.as_slice())
    }

    /// Arrival order; genesis is before everything.
    pub fn seq(&self, id: &Hash) -> Option<u64> {
        if *id == self.genesis {
            return Some(0);
        }
        self.entries.get(id).map(|entry| entry.seq)
    }

    /// Genesis counts as confirmed at height 0; a remembered pruned unit keeps its confirmation.
    pub fn confirmation(&self, id: &Hash) -> Option<Confirmation> {
        if *id == self.genesis {
            return Some(Confirmation { height: 0, outcome: Outcome::Applied });
        }
        match self.entries.get(id) {
            Some(entry) => entry.confirmation,
            None => self.pruned.get(id).map(|pruned| pruned.confirmation),
        }
    }

    /// Whether a checkpoint on the active chain covers `id` (genesis and remembered pruned
    /// units count).
    pub fn is_confirmed(&self, id: &Hash) -> bool {
        self.confirmation(id).is_some()
    }

    /// Set (`Some`) or clear (`None`, on a reorganisation) the confirmation of a retained
    /// unit; written only by the checkpoint chain. Unknown ids are ignored.
    pub fn set_confirmation(&mut self, id: &Hash, confirmation: Option<Confirmation>) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.confirmation = confirmation;
            if confirmation.is_some() {
                self.unconfirmed.remove(&entry.seq);
            } else {
                self.unconfirmed.insert(entry.seq, *id);
            }
            self.confirmation_changes += 1;
        }
    }

    /// Retained units that arrived after sequence `seq`, oldest first.
    pub fn arrivals_after(&self, seq: u64) -> impl Iterator<Item = &Hash> + '_ {
        self.arrivals.range(seq.saturating_add(1)..).map(|(_, id)| id)
    }

    /// The sequence of the newest unit inserted (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.next_seq
    }

    /// Unconfirmed units that arrived after sequence `seq`, with their sequence, oldest first
    /// (`unconfirmed_after(0)`: all of them).
    pub fn unconfirmed_after(&self, seq: u64) -> impl Iterator<Item = (u64, Hash)> + '_ {
        self.unconfirmed.range(seq.saturating_add(1)..).map(|(seq, id)| (*seq, *id))
    }

    /// Retained units no checkpoint on the active chain covers yet.
    pub fn unconfirmed_len(&self) -> usize {
        self.unconfirmed.len()
    }

    /// How many times a confirmation was set or cleared (see the field).
    pub fn confirmation_changes(&self) -> u64 {
        self.confirmation_changes
    }

    /// Whether a retained unit no checkpoint has decided yet spends `(from, nonce)`. A decided
    /// one either used the nonce (the ledger says so) or was ignored and left it free.
    pub fn spends_undecided(&self, key: &(AccountId, u64)) -> bool {
        self.spends.get(key).is_some_and(|ids| ids.iter().any(|id| !self.is_confirmed(id)))
    }

    /// An unconfirmed unit other than `unit` that spends the same `(from, nonce)`: `unit` is one
    /// side of a conflict no checkpoint has decided yet.
    pub fn unconfirmed_twin(&self, unit: &Unit) -> Option<Hash> {
        self.spends
            .get(&unit.tx.spend_key())?
            .iter()
            .find(|other| **other != unit.id && !self.is_confirmed(other))
            .copied()
    }

    /// How many times a unit arrived whose `(from, nonce)` another retained unit already spent.
    pub fn contests(&self) -> u64 {
        self.contests
    }

    /// Offer a validated unit. Structural rules only: parents distinct (unless genesis) and known.
    pub fn insert(&mut self, unit: Arc<Unit>) -> Result<InsertOutcome, DagError> {
        let [first, second] = unit.tx.body.parents;
        if first == second && first != self.genesis {
            return Err(DagError::EqualParents);
        }
        if let Some(height) = self.pruned_height(&unit.id) {
            return Ok(InsertOutcome::AlreadyFinal { height });
        }
        if self.contains(&unit.id) || self.orphans.contains(&unit.id) {
            return Ok(InsertOutcome::Duplicate);
        }
        let missing: Vec<Hash> = [first, second]
            .into_iter()
            .filter(|parent| !self.has_parent(parent))
            .collect::<BTreeSet<Hash>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            let request: Vec<Hash> =
                missing.iter().filter(|id| !self.orphans.contains(id)).copied().collect();
            self.orphans.insert(unit, &missing, self.orphan_cap);
            return Ok(InsertOutcome::Orphaned { missing: request });
        }
        let mut released = Vec::new();
        let mut ready = vec![unit];
        let mut first_unit = true;
        while let Some(next) = ready.pop() {
            let id = next.id;
            self.attach(next.clone());
            if !first_unit {
                released.push(next);
            }
            first_unit = false;
            // Orphans waiting on this unit whose parents are now all present become ready, in
            // their arrival order (deterministic).
            let waiting = self.orphans.waiting_on.remove(&id).unwrap_or_default();
            let mut now_ready: Vec<(u64, Hash)> = waiting
                .into_iter()
                .filter_map(|orphan| self.orphans.units.get(&orphan).map(|(age, u)| (*age, u.id)))
                .filter(|(_, orphan)| {
                    self.orphans.units.get(orphan).is_some_and(|(_, u)| {
                        u.tx.body.parents.iter().all(|parent| self.has_parent(parent))
                    })
                })
                .collect();
            now_ready.sort();
            // Popping from the back: reverse so the oldest is attached first.
            for (_, orphan) in now_ready.into_iter().rev() {
                if let Some(unit) = self.orphans.remove(&orphan) {
                    ready.push(unit);
                }
            }
        }
        Ok(InsertOutcome::Inserted { released })
    }

    fn attach(&mut self, unit: Arc<Unit>) {
        debug_assert!(unit.tx.body.parents.iter().all(|parent| self.has_parent(parent)));
        let id = unit.id;
        let parents = unit.tx.body.parents;
        let spend_key = unit.tx.spend_key();
        self.next_seq += 1;
        self.version += 1;
        self.entries.insert(
            id,
            Entry { unit, children: Vec::new(), seq: self.next_seq, confirmation: None },
        );
        self.arrivals.insert(self.next_seq, id);
        self.unconfirmed.insert(self.next_seq, id);
        let spenders = self.spends.entry(spend_key).or_default();
        if !spenders.is_empty() {
            self.contests += 1;
        }
        spenders.push(id);
        for parent in parents.iter().collect::<BTreeSet<_>>() {
            if *parent == self.genesis {
                self.genesis_children.push(id);
            } else if let Some(entry) = self.entries.get_mut(parent) {
                entry.children.push(id);
            } else if let Some(pruned) = self.pruned.get_mut(parent) {
                // A unit on a final reference: keep the reference known while this unit lives.
                pruned.references += 1;
            }
            self.tips.remove(parent);
        }
        self.tips.insert(id);
    }

    /// Drop the units confirmed at `height` (the chain calls this in height order, each
    /// checkpoint's units in White Flag order, so parents go before their children). Pruned
    /// units confirmed below `forget_below` are forgotten once nothing references them.
    /// Returns how many units were dropped.
    pub fn prune(&mut self, ids: &[Hash], height: u64, forget_below: u64) -> usize {
        let mut dropped = 0;
        for id in ids {
            let Some(entry) = self.entries.remove(id) else { continue };
            dropped += 1;
            self.tips.remove(id);
            self.arrivals.remove(&entry.seq);
            let key = entry.unit.tx.spend_key();
            if let Some(spenders) = self.spends.get_mut(&key) {
                spenders.retain(|spender| spender != id);
                if spenders.is_empty() {
                    self.spends.remove(&key);
                }
            }
            if self.unconfirmed.remove(&entry.seq).is_some() {
                // Pruned while unconfirmed: summaries of the unconfirmed set are stale.
                self.confirmation_changes += 1;
            }
            for parent in entry.unit.tx.body.parents.iter().collect::<BTreeSet<_>>() {
                if *parent == self.genesis {
                    self.genesis_children.retain(|child| child != id);
                } else if let Some(parent_entry) = self.entries.get_mut(parent) {
                    // Not expected (a confirmed unit's parents are confirmed no later), but
                    // harmless: keep the children lists exact.
                    parent_entry.children.retain(|child| child != id);
                } else {
                    self.release_reference(parent);
                }
            }
            let confirmation =
                entry.confirmation.unwrap_or(Confirmation { height, outcome: Outcome::Applied });
            // Every child is a retained entry that names this unit as a parent. Orphans hold no
            // reference: one whose other parent arrives after this unit was forgotten waits
            // until the bounded pool evicts it.
            let references = entry.children.len() as u32;
            self.pruned.insert(*id, PrunedUnit { confirmation, references });
            self.pruned_by_height.entry(confirmation.height).or_default().push(*id);
        }
        if dropped > 0 {
            self.version += 1;
        }
        self.forget(forget_below);
        dropped
    }

    /// Forget unreferenced pruned units confirmed below `below`.
    fn forget(&mut self, below: u64) {
        self.forget_below = self.forget_below.max(below);
        while let Some(entry) = self.pruned_by_height.first_entry() {
            if *entry.key() >= self.forget_below {
                break;
            }
            for id in entry.remove() {
                if self.pruned.get(&id).is_some_and(|pruned| pruned.references == 0) {
                    self.pruned.remove(&id);
                }
            }
        }
    }

    /// One referrer of the pruned unit `id` is gone.
    fn release_reference(&mut self, id: &Hash) {
        let Some(pruned) = self.pruned.get_mut(id) else { return };
        pruned.references = pruned.references.saturating_sub(1);
        // Past the window its height list is gone: the last referrer forgets it.
        if pruned.references == 0 && pruned.confirmation.height < self.forget_below {
            self.pruned.remove(id);
        }
    }

    /// The part of the past cone of `roots` not yet confirmed, in post-order depth-first order
    /// (parents in order, then the unit). This is the White Flag order of a checkpoint.
    pub fn unconfirmed_cone(&self, roots: &[Hash], limit: usize) -> Result<Vec<Hash>, DagError> {
        let mut order = Vec::new();
        let mut visited: BTreeSet<Hash> = BTreeSet::new();
        // Explicit stack of (unit, next parent index) so deep DAGs cannot overflow the stack.
        let mut stack: Vec<(Hash, usize)> = Vec::new();
        for root in roots {
            if self.is_confirmed(root) || visited.contains(root) {
                continue;
            }
            if !self.contains(root) {
                return Err(DagError::UnknownUnit { id: *root });
            }
            visited.insert(*root);
            stack.push((*root, 0));
            while let Some((id, next_parent)) = stack.pop() {
                let entry = self.entries.get(&id).ok_or(DagError::UnknownUnit { id })?;
                if next_parent < 2 {
                    stack.push((id, next_parent + 1));
                    let parent = entry.unit.tx.body.parents[next_parent];
                    if !self.is_confirmed(&parent) && visited.insert(parent) {
                        if !self.contains(&parent) {
                            return Err(DagError::UnknownUnit { id: parent });
                        }
                        stack.push((parent, 0));
                    }
                } else {
                    order.push(id);
                    if order.len() > limit {
                        return Err(DagError::ConeTooLarge { limit });
                    }
                }
            }
        }
        Ok(order)
    }

    /// Units in the future cone of `start` (including it), in arrival order, up to `limit`.
    /// Returns `None` if the cone is larger than `limit`.
    pub fn future_cone(&self, start: &Hash, limit: usize) -> Option<Vec<Hash>> {
        let mut seen: BTreeSet<Hash> = BTreeSet::new();
        let mut frontier = vec![*start];
        seen.insert(*start);
        while let Some(id) = frontier.pop() {
            for child in self.children(&id) {
                if seen.insert(*child) {
                    if seen.len() > limit {
                        return None;
                    }
                    frontier.push(*child);
                }
            }
        }
        let mut cone: Vec<Hash> = seen.into_iter().collect();
        // One map lookup per unit, not two per comparison (this sort was a top cost of the
        // weighted walk under load); the order is the same, the sort is stable.
        cone.sort_by_cached_key(|id| self.seq(id).unwrap_or(0));
        Some(cone)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::transaction::{TransactionBody, TxKind};

    pub(crate) fn unit(key: &Keypair, nonce: u64, parents: [Hash; 2]) -> Arc<Unit> {
        let tx = TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Transfer { to: Keypair::derived("sink", 0).account(), amount: 1 },
            fee: 1,
            parents,
            issued_at_ms: 0,
        }
        .sign(key)
        .unwrap();
        Unit::new(tx).unwrap()
    }

    #[test]
    fn insert_updates_tips_and_children() {
        let genesis = Hash::of(b"genesis");
        let key = Keypair::derived("dag", 0);
        let mut dag = Dag::new(genesis, 16);
        let a = unit(&key, 0, [genesis, genesis]);
        let b = unit(&key, 1, [genesis, genesis]);
        let c = unit(&key, 2, [a.id, b.id]);
        for u in [&a, &b, &c] {
            assert_eq!(
                dag.insert(u.clone()).unwrap(),
                InsertOutcome::Inserted { released: vec![] }
            );
        }
        assert_eq!(dag.tips().as_slice(), &[c.id]);
        assert_eq!(dag.children(&a.id), &[c.id]);
        assert_eq!(dag.insert(c.clone()).unwrap(), InsertOutcome::Duplicate);
        assert_eq!(dag.unconfirmed_cone(&[c.id], 10).unwrap(), vec![a.id, b.id, c.id]);
        assert!(matches!(dag.insert(unit(&key, 3, [a.id, a.id])), Err(DagError::EqualParents)));
    }

    #[test]
    fn orphans_wait_for_parents_and_are_released_in_order() {
        let genesis = Hash::of(b"genesis");
        let key = Keypair::derived("dag", 0);
        let mut dag = Dag::new(genesis, 16);
        let a = unit(&key, 0, [genesis, genesis]);
        let b = unit(&key, 1, [a.id, genesis]);
        let c = unit(&key, 2, [b.id, a.id]);
        assert_eq!(
            dag.insert(c.clone()).unwrap(),
            InsertOutcome::Orphaned {
                missing: vec![a.id, b.id]
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            }
        );
        // b's parent a is missing too; b was asked for by c, so only a is newly requested.
        assert_eq!(dag.insert(b.clone()).unwrap(), InsertOutcome::Orphaned { missing: vec![a.id] });
        assert_eq!(dag.orphan_count(), 2);
        assert_eq!(
            dag.insert(a.clone()).unwrap(),
            InsertOutcome::Inserted { released: vec![b.clone(), c.clone()] }
        );
        assert_eq!(dag.orphan_count(), 0);
        assert!(dag.seq(&a.id) < dag.seq(&b.id) && dag.seq(&b.id) < dag.seq(&c.id));
        assert_eq!(dag.tips().as_slice(), &[c.id]);
    }

    #[test]
    fn orphan_pool_is_bounded() {
        let genesis = Hash::of(b"genesis");
        let key = Keypair::derived("dag", 0);
        let mut dag = Dag::new(genesis, 4);
        for nonce in 0..10u64 {
            let missing = Hash::of(&nonce.to_le_bytes());
            dag.insert(unit(&key, nonce, [missing, genesis])).unwrap();
            assert!(dag.orphan_count() <= 4);
        }
        assert_eq!(dag.orphan_count(), 4);
    }

    fn confirm(dag: &mut Dag, ids: &[Hash], height: u64) {
        for id in ids {
            dag.set_confirmation(id, Some(Confirmation { height, outcome: Outcome::Applied }));
        }
    }

    #[test]
    fn pruned_units_stay_known_while_referenced_or_recent() {
        let genesis = Hash::of(b"genesis");
        let key = Keypair::derived("dag", 0);
        let mut dag = Dag::new(genesis, 16);
        let a = unit(&key, 0, [genesis, genesis]);
        let b = unit(&key, 1, [a.id, genesis]);
        let c = unit(&key, 2, [b.id, a.id]);
        for u in [&a, &b, &c] {
            dag.insert(u.clone()).unwrap();
        }
        confirm(&mut dag, &[a.id], 1);
        confirm(&mut dag, &[b.id], 2);
        let version = dag.version();
        // Prune height 1 then 2; c (unconfirmed) still names both.
        assert_eq!(dag.prune(&[a.id], 1, 0), 1);
        assert_eq!(dag.prune(&[b.id], 2, 0), 1);
        assert!(dag.version() > version);
        assert_eq!((dag.len(), dag.pruned_len()), (1, 2));
        assert!(dag.get(&a.id).is_none() && dag.knows(&a.id) && dag.is_confirmed(&a.id));
        assert_eq!(dag.pruned_height(&b.id), Some(2));
        // c's cone stops at its pruned (confirmed) parents.
        assert_eq!(dag.unconfirmed_cone(&[c.id], 10).unwrap(), vec![c.id]);
        // A late copy of a pruned unit is typed, not re-inserted.
        assert_eq!(dag.insert(b.clone()).unwrap(), InsertOutcome::AlreadyFinal { height: 2 });
        // A new unit on a pruned parent attaches (a final reference).
        let d = unit(&key, 3, [a.id, c.id]);
        assert_eq!(dag.insert(d.clone()).unwrap(), InsertOutcome::Inserted { released: vec![] });
        assert_eq!(dag.tips().as_slice(), &[d.id]);
        // Past the reference window, a and b are still named by c and d: kept.
        dag.prune(&[], 10, 10);
        assert_eq!(dag.pruned_len(), 2);
        // Confirm and prune c and d: nothing names a or b any more, so they are forgotten.
        confirm(&mut dag, &[c.id, d.id], 11);
        assert_eq!(dag.prune(&[c.id, d.id], 11, 10), 2);
        assert!(!dag.knows(&a.id) && !dag.knows(&b.id));
        assert_eq!((dag.len(), dag.pruned_len()), (0, 2));
        assert!(dag.tips().is_empty());
        // c and d are recent (height 11 >= 10): still known as final.
        assert_eq!(dag.pruned_height(&d.id), Some(11));
        dag.prune(&[], 12, 12);
        assert_eq!(dag.pruned_len(), 0);
        // A unit on a forgotten parent is an orphan again (its parent is unknown).
        let e = unit(&key, 4, [d.id, genesis]);
        assert!(matches!(dag.insert(e).unwrap(), InsertOutcome::Orphaned { .. }));
    }

    #[test]
    fn confirmed_units_bound_the_cone() {
        let genesis = Hash::of(b"genesis");
        let key = Keypair::derived("dag", 0);
        let mut dag = Dag::new(genesis, 16);
        let a = unit(&key, 0, [genesis, genesis]);
        let b = unit(&key, 1, [a.id, genesis]);
        dag.insert(a.clone()).unwrap();
        dag.insert(b.clone()).unwrap();
        dag.set_confirmation(&a.id, Some(Confirmation { height: 1, outcome: Outcome::Applied }));
        assert_eq!(dag.unconfirmed_cone(&[b.id], 10).unwrap(), vec![b.id]);
        assert_eq!(dag.future_cone(&a.id, 10).unwrap(), vec![a.id, b.id]);
        assert_eq!(dag.future_cone(&genesis, 10).unwrap(), vec![genesis, a.id, b.id]);
    }
}
