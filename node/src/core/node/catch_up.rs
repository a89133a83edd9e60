//! Catching up: how a node far behind the network's chain fetches it. A node is *catching up*
//! while the best checkpoint it knows of (a valid header, its units possibly missing) stands more
//! than `Limits::catch_up_lag` heights above its head: restarted on an empty or old store, or
//! back from a long partition.
//!
//! Without this mode such a node walks the DAG back from the present: every fresh unit gossiped
//! to it is an orphan whose parents it asks for, and it asks for the parents of every missing
//! checkpoint at once. Nothing connects until a walk reaches units it holds, so the bounded
//! orphan pool must hold everything between its head and the present; under load it cannot,
//! evicts its oldest orphans (the ancestors the next checkpoint waits for) and never connects.
//!
//! While catching up the node instead fetches in chain order:
//! - it asks only for the missing parents of the lowest checkpoints above its head (one
//!   checkpoint's worth, `checkpoint_parents_max` ids) and walks their cones down to what it
//!   holds; that cone is one checkpoint interval of units, which the pool holds;
//! - requested units are always admitted (orphaned if need be, and their parents asked for);
//!   gossip that was not asked for and whose parents are missing is dropped without a request
//!   (counted in `NodeStats::units_deferred_catching_up`): a checkpoint that names it will fetch
//!   it later, and fresh gossip is chased again once the node has left the mode;
//! - on entering the mode it forgets the orphans and requests of the walk it was on, so answers
//!   to them no longer fill the pool ahead of the checkpoints' cones;
//! - fork choice runs when a unit it waits for arrives rather than after every unit (a fork
//!   choice pass over a long missing branch walks every candidate).
//!
//! The node leaves the mode when its head is within one checkpoint of the best it knows.
//!
//! Everything here is a function of the node's inputs and its chain: no clock is read, and a
//! node that never falls more than the lag behind behaves exactly as before.

use super::Node;
use crate::core::dag::Unit;
use crate::core::hash::Hash;
use std::sync::Arc;

impl Node {
    /// Whether this node is catching up (see the module comment).
    pub fn is_catching_up(&self) -> bool {
        self.catching_up
    }

    /// Re-evaluate the mode after the chain changed. Entering it drops the orphan pool and the
    /// outstanding requests: they belong to walks from the present.
    pub(super) fn refresh_catch_up(&mut self) {
        let lag = self.chain.best_candidate_height().saturating_sub(self.chain.height());
        // Hysteresis: once in, the node stays in until its head is within one checkpoint of
        // the best. Leaving at the entry lag would put it back on walks from the present with
        // several intervals of units missing, where a small pool thrashes with requests.
        let behind = if self.catching_up { lag > 1 } else { lag > self.config.limits.catch_up_lag };
        if behind && !self.catching_up {
            self.dag.clear_orphans();
            self.requested.clear();
            self.catch_up_awaited.clear();
        }
        self.catching_up = behind;
    }

    /// The units to ask for out of `missing` (the best branch's lacking parents, lowest
    /// checkpoint first): all of them normally, the first checkpoint's worth while catching up.
    /// Remembers that window: fork choice runs again when one of them arrives.
    pub(super) fn catch_up_window(&mut self, mut missing: Vec<Hash>) -> Vec<Hash> {
        if !self.catching_up {
            return missing;
        }
        missing.truncate(self.chain.params().checkpoint_parents_max.max(1));
        self.catch_up_awaited = missing.iter().copied().collect();
        missing
    }

    /// Whether an unrequested unit is dropped instead of waiting as an orphan: while catching
    /// up, gossip whose parents this node lacks is not chased.
    pub(super) fn defers_gossip(&mut self, unit: &Unit, requested: bool) -> bool {
        let defer = self.catching_up
            && !requested
            && unit.tx.body.parents.iter().any(|parent| !self.dag.has_parent(parent));
        if defer {
            self.stats.units_deferred_catching_up += 1;
        }
        defer
    }

    /// Whether inserting `units` calls for fork choice: always, except while catching up, when
    /// only a unit of the awaited window (or an empty window) can let the next checkpoint in.
    pub(super) fn needs_fork_choice(&self, units: &[Arc<Unit>]) -> bool {
        !self.catching_up
            || self.catch_up_awaited.is_empty()
            || units.iter().any(|unit| self.catch_up_awaited.contains(&unit.id))
    }
}
