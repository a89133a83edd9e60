//! Bounded state (docs/protocol.md, "Bounded state"): the prune horizon rises to the lowest
//! height no reorganisation can reach any more, `min(final height, height − R)`; the units
//! below it leave the DAG, and headers and links leave memory a fixed window below it. Undo
//! logs older than the reorg limit are dropped as soon as a checkpoint connects.

use super::Chain;
use super::finality::FINALITY_REFERENCE_CHECKPOINTS;
use crate::core::dag::Dag;
use crate::core::hash::Hash;
use crate::core::poc::retarget::RETARGET_WINDOW;
use std::collections::BTreeSet;

/// Active-chain links kept below the prune horizon: the finality test's reference rate reads
/// the weight and time of the checkpoint this far below the height it judges.
const LINKS_BELOW_HORIZON: u64 = FINALITY_REFERENCE_CHECKPOINTS;

/// Headers kept below the prune horizon: a new header's base target is retargeted from its
/// ancestors.
const HEADERS_BELOW_HORIZON: u64 = RETARGET_WINDOW as u64;

/// What one call of [`Chain::prune`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// The prune horizon after the call (every height at or below it is pruned).
    pub horizon: u64,
    /// DAG units dropped (confirmed at heights now at or below the horizon).
    pub units: usize,
    /// Headers dropped (more than the retarget window below the horizon, forks included).
    pub headers: usize,
    /// Active-chain links dropped (more than the finality reference window below it).
    pub links: usize,
}

impl Chain {
    /// Undo logs older than the reorg limit can never be used.
    pub(super) fn prune_undo(&mut self) {
        let keep = self.params.reorg_limit as usize + 1;
        if self.active.len() > keep + 1 {
            let index = self.active.len() - keep - 1;
            self.active[index].undo = None;
        }
    }

    /// The undo log of the active checkpoint at `height`, while it is kept (the last
    /// `reorg_limit` heights or so): what state as of an earlier height is read through
    /// (docs/evm.md, "Historical state").
    pub fn undo_at(&self, height: u64) -> Option<&crate::core::ledger::Undo> {
        self.link_at(height)?.undo.as_ref()
    }

    /// Forget the EVM receipts of final heights more than `keep_final_heights` below the final
    /// height (docs/evm.md, "Receipt pruning"): those heights are final, so no reorganisation
    /// needs them back. Returns the number of receipts forgotten.
    pub fn prune_receipts(&mut self, keep_final_heights: u64) -> usize {
        let below = self.final_height.saturating_sub(keep_final_heights) + 1;
        self.ledger.prune_evm_receipts_below(below)
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
}
