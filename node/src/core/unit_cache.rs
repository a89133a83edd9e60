//! The cache of decoded, signature-checked units that the nodes of one simulation share.
//!
//! Units and checkpoints are immutable and content-addressed, so a decode or a signature check
//! done by one node is the answer every other node would compute from the same bytes: sharing
//! the result changes memory and time, never behaviour. Production nodes have no cache. The
//! chain (checkpoint signatures) and the node (units, envelopes) both consult it, so it lives
//! beside them rather than in either.

use crate::core::dag::Unit;
use crate::core::hash::{Hash, IdHasher, IdMap};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Decoded, signature-checked units keyed by their id (the hash of their canonical bytes, which
/// is what a transaction message carries).
pub trait UnitCache: Send + Sync + std::fmt::Debug {
    /// The unit cached under `key` (its id), if any node has decoded and checked it.
    fn get(&self, key: &Hash) -> Option<Arc<Unit>>;
    /// Keep `unit` under its id `key`; call only after its decode and signature check passed.
    fn put(&self, key: Hash, unit: Arc<Unit>);
    /// Whether a checkpoint with this id (the hash of all its bytes, signature included) has
    /// already passed its signature check on some node: the check is a pure function of those
    /// bytes, so every node of one simulation would reach the same answer.
    fn checkpoint_signature_checked(&self, _id: &Hash) -> bool {
        false
    }
    /// Note that the checkpoint with this id passed its signature check
    /// ([`UnitCache::checkpoint_signature_checked`] answers true for it afterwards).
    fn record_checkpoint_signature(&self, _id: Hash) {}
    /// The unit whose gossip envelope is exactly this allocation (pointer identity, not
    /// content): a receiver of shared bytes learns the id without hashing them.
    fn unit_for_envelope(&self, _envelope: &Arc<Vec<u8>>) -> Option<Arc<Unit>> {
        None
    }
    /// Remember `unit` under its envelope's allocation ([`UnitCache::unit_for_envelope`]).
    fn record_envelope(&self, _unit: &Arc<Unit>) {}
}

/// A simple shared cache (a mutex around a map); bounded by `capacity` entries, cleared when
/// full (cheap and deterministic: a miss only costs a decode).
#[derive(Debug, Default)]
pub struct SharedUnitCache {
    /// Looked up by id and cleared, never iterated.
    units: std::sync::Mutex<IdMap<Arc<Unit>>>,
    checkpoint_signatures: std::sync::Mutex<BTreeSet<Hash>>,
    /// Units by the address of their envelope. Each entry holds its unit, and the unit holds
    /// the envelope, so no address here can be freed and reused while its entry exists; a
    /// lookup still checks pointer equality. Looked up and cleared, never iterated.
    envelopes: std::sync::Mutex<std::collections::HashMap<usize, Arc<Unit>, IdHasher>>,
    capacity: usize,
}

impl SharedUnitCache {
    /// An empty cache that clears itself once it holds `capacity` units.
    pub fn new(capacity: usize) -> SharedUnitCache {
        SharedUnitCache {
            units: std::sync::Mutex::new(IdMap::default()),
            checkpoint_signatures: std::sync::Mutex::new(BTreeSet::new()),
            envelopes: std::sync::Mutex::new(std::collections::HashMap::default()),
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
