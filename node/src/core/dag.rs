//! The DAG of transactions: units, their parents and children, the tip set, and the orphan pool.
//!
//! A unit enters the DAG only when both parents are present (or are genesis), so arrival order is
//! a topological order and `seq` (the arrival counter) sorts parents before children. A unit
//! whose parents are missing waits in a bounded orphan pool and the node asks peers for the
//! missing parents; when they arrive the orphans are released in arrival order.
//!
//! Validation (signature, fee, time) happens before a unit is offered here; this module only
//! keeps structure. Confirmation flags are written by the checkpoint chain.

use crate::core::hash::Hash;
use crate::core::transaction::Transaction;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// An immutable, content-addressed unit shared between the DAG, the mempool and (in the
/// simulator) between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: Hash,
    pub tx: Transaction,
    /// Length of the canonical encoding, for size accounting.
    pub encoded_bytes: usize,
}

impl Unit {
    /// Wrap a transaction, computing its id from its canonical encoding.
    pub fn new(tx: Transaction) -> Result<Arc<Unit>, crate::core::wire::WireError> {
        let bytes = tx.encode()?;
        Ok(Arc::new(Unit { id: Hash::of(&bytes), tx, encoded_bytes: bytes.len() }))
    }

    /// Wrap a transaction decoded from `bytes` (its canonical encoding), reusing them for the id.
    pub fn from_canonical(tx: Transaction, bytes: &[u8]) -> Arc<Unit> {
        Arc::new(Unit { id: Hash::of(bytes), tx, encoded_bytes: bytes.len() })
    }
}

/// The fate of a confirmed unit under White Flag ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    /// Height of the checkpoint (on this node's active chain) whose past cone first held it.
    pub height: u64,
    pub outcome: Outcome,
}

#[derive(Debug)]
struct Entry {
    unit: Arc<Unit>,
    children: Vec<Hash>,
    seq: u64,
    confirmation: Option<Confirmation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Inserted; `released` lists orphans that could be inserted as a result (in order).
    Inserted {
        released: Vec<Arc<Unit>>,
    },
    Duplicate,
    /// Parked: these parents are missing and should be requested.
    Orphaned {
        missing: Vec<Hash>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    #[error("parents must differ unless both are genesis")]
    EqualParents,
    #[error("unit {id:?} is unknown")]
    UnknownUnit { id: Hash },
    #[error("past cone larger than the walk limit of {limit} units")]
    ConeTooLarge { limit: usize },
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

    pub fn contains(&self, id: &Hash) -> bool {
        self.position.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn as_slice(&self) -> &[Hash] {
        &self.order
    }
}

#[derive(Debug)]
pub struct Dag {
    genesis: Hash,
    entries: BTreeMap<Hash, Entry>,
    tips: TipSet,
    orphans: OrphanPool,
    orphan_cap: usize,
    next_seq: u64,
    genesis_children: Vec<Hash>,
    /// Every inserted unit in arrival order (`arrivals[seq - 1]`): lets incremental consumers
    /// (the walk's cumulative weights, the tip selector's cone summaries) catch up on what
    /// arrived since they last looked.
    arrivals: Vec<Hash>,
    /// Unconfirmed units by arrival sequence, kept in step with `set_confirmation`.
    unconfirmed: BTreeMap<u64, Hash>,
    /// Bumped whenever a confirmation is set or cleared: a consumer that summarised the
    /// unconfirmed set knows its summary is stale.
    confirmation_changes: u64,
}

impl Dag {
    pub fn new(genesis: Hash, orphan_cap: usize) -> Dag {
        let mut tips = TipSet::default();
        tips.insert(genesis);
        Dag {
            genesis,
            entries: BTreeMap::new(),
            tips,
            orphans: OrphanPool::default(),
            orphan_cap,
            next_seq: 0,
            genesis_children: Vec::new(),
            arrivals: Vec::new(),
            unconfirmed: BTreeMap::new(),
            confirmation_changes: 0,
        }
    }

    pub fn genesis(&self) -> Hash {
        self.genesis
    }

    /// Known and inserted (genesis counts).
    pub fn contains(&self, id: &Hash) -> bool {
        *id == self.genesis || self.entries.contains_key(id)
    }

    /// Known at all, inserted or waiting as an orphan.
    pub fn knows(&self, id: &Hash) -> bool {
        self.contains(id) || self.orphans.contains(id)
    }

    pub fn get(&self, id: &Hash) -> Option<&Arc<Unit>> {
        self.entries.get(id).map(|entry| &entry.unit)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn orphan_count(&self) -> usize {
        self.orphans.units.len()
    }

    /// Parents that orphans wait for and that are neither inserted nor orphans themselves.
    pub fn missing_parents(&self, limit: usize) -> Vec<Hash> {
        self.orphans
            .waiting_on
            .keys()
            .filter(|id| !self.contains(id) && !self.orphans.contains(id))
            .take(limit)
            .copied()
            .collect()
    }

    pub fn tips(&self) -> &TipSet {
        &self.tips
    }

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

    /// Genesis counts as confirmed at height 0.
    pub fn confirmation(&self, id: &Hash) -> Option<Confirmation> {
        if *id == self.genesis {
            return Some(Confirmation { height: 0, outcome: Outcome::Applied });
        }
        self.entries.get(id).and_then(|entry| entry.confirmation)
    }

    pub fn is_confirmed(&self, id: &Hash) -> bool {
        self.confirmation(id).is_some()
    }

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

    /// Units inserted after the first `count` (in arrival order).
    pub fn arrivals_since(&self, count: usize) -> &[Hash] {
        self.arrivals.get(count..).unwrap_or(&[])
    }

    /// Unconfirmed units that arrived after sequence `seq`, with their sequence, oldest first
    /// (`unconfirmed_after(0)`: all of them).
    pub fn unconfirmed_after(&self, seq: u64) -> impl Iterator<Item = (u64, Hash)> + '_ {
        self.unconfirmed.range(seq.saturating_add(1)..).map(|(seq, id)| (*seq, *id))
    }

    pub fn unconfirmed_len(&self) -> usize {
        self.unconfirmed.len()
    }

    /// How many times a confirmation was set or cleared (see the field).
    pub fn confirmation_changes(&self) -> u64 {
        self.confirmation_changes
    }

    /// Offer a validated unit. Structural rules only: parents distinct (unless genesis) and known.
    pub fn insert(&mut self, unit: Arc<Unit>) -> Result<InsertOutcome, DagError> {
        let [first, second] = unit.tx.body.parents;
        if first == second && first != self.genesis {
            return Err(DagError::EqualParents);
        }
        if self.contains(&unit.id) || self.orphans.contains(&unit.id) {
            return Ok(InsertOutcome::Duplicate);
        }
        let missing: Vec<Hash> = [first, second]
            .into_iter()
            .filter(|parent| !self.contains(parent))
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
                        u.tx.body.parents.iter().all(|parent| self.contains(parent))
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
        debug_assert!(unit.tx.body.parents.iter().all(|parent| self.contains(parent)));
        let id = unit.id;
        let parents = unit.tx.body.parents;
        self.next_seq += 1;
        self.entries.insert(
            id,
            Entry { unit, children: Vec::new(), seq: self.next_seq, confirmation: None },
        );
        self.arrivals.push(id);
        self.unconfirmed.insert(self.next_seq, id);
        for parent in parents.iter().collect::<BTreeSet<_>>() {
            if *parent == self.genesis {
                self.genesis_children.push(id);
            } else if let Some(entry) = self.entries.get_mut(parent) {
                entry.children.push(id);
            }
            self.tips.remove(parent);
        }
        self.tips.insert(id);
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
