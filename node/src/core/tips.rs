//! Tip selection: which two units a new transaction approves.
//!
//! Two strategies. `Uniform` draws tips uniformly (the baseline). `WeightedWalk { alpha }` is
//! IOTA's Markov-chain Monte Carlo walk: it starts at a recently confirmed unit (a parent of the
//! head checkpoint) and steps from a unit to one of its children with probability proportional to
//! `exp(alpha * cumulative_weight(child))`, until it reaches a tip. `alpha = 0` is an unbiased
//! walk; larger alpha follows the heaviest branch and starves lazy or parasitic sub-DAGs.
//! Cumulative weights (future-cone sizes) are exact, kept up to date incrementally as units arrive
//! (`walk_window.rs`), over a bounded walk window; a window over the bound falls back to uniform
//! selection and is counted.
//!
//! Both strategies only ever return an **eligible** unit: one whose unconfirmed past cone is
//! consistent (no two transactions with the same `(from, nonce)`), valid against the node's
//! confirmed ledger (every transaction would apply in White Flag order) and **uncontested**: no
//! transaction in it has a twin (same `(from, nonce)`, another id) anywhere in the node's DAG
//! that is still unconfirmed. Which twin wins is for a checkpoint to decide (White Flag applies
//! the first in its order); a transaction approving either side before that bets its own
//! confirmation on the outcome, and a loss strands it, as its cone no longer applies (conflict
//! spam at 20 pairs/s stranded 9% of honest transfers this way). So honest nodes approve neither
//! side until a checkpoint has decided, as IOTA's walk never steps onto a conflicting approver.
//! When a walk ends on an ineligible tip (at high spam rates nearly every tip is a spend hanging
//! off the honest part of the DAG), it backs up along its own path to the last eligible unit and
//! approves that, though it is no longer a tip: IOTA's walk likewise stops at the last unit with
//! no valid approver. Backing up costs nothing when the tip is eligible, unlike a check per step.
//!
//! Most cones are shown eligible in constant time by a per-account summary (`clean_cones.rs`;
//! a clean account has no two unconfirmed spends of one nonce, so a clean cone is uncontested);
//! the rest are replayed, and those verdicts are cached per ledger epoch because a checkpoint can
//! change them, and an eligible one only while no new conflict arrived. Neither shortcut changes
//! a single selection (test `shortcuts_change_no_selection`).

use crate::core::clean_cones::CleanCones;
use crate::core::dag::Dag;
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, Undo};
use crate::core::random::DetRng;
use crate::core::walk_window::WalkWindow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a node picks the two parents of its transactions (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TipStrategy {
    /// Eligible tips drawn uniformly at random: the baseline.
    Uniform,
    /// IOTA's weighted random walk from a recently confirmed unit to a tip.
    WeightedWalk {
        /// Bias towards heavy children: a step takes a child with probability proportional
        /// to `exp(alpha * cumulative_weight)`; 0 walks unbiased.
        alpha: f64,
    },
}

/// Why a tip is not eligible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConeVerdict {
    /// Not a reason: the cone replays and is uncontested, so the tip is eligible.
    Consistent,
    /// Two units of the cone spend the same `(from, nonce)`.
    Conflicting {
        /// The spend met first in the replay order.
        first: Hash,
        /// The later spend of the same `(from, nonce)`.
        second: Hash,
    },
    /// A unit of the cone would not apply against the confirmed ledger.
    Invalid {
        /// The first unit, in White Flag order, that fails to apply.
        unit: Hash,
    },
    /// A unit of the cone has a twin outside it (same `(from, nonce)`) that is also unconfirmed:
    /// no checkpoint has decided between them yet.
    Contested {
        /// The unit of the cone.
        unit: Hash,
        /// Its unconfirmed twin outside the cone.
        twin: Hash,
    },
    /// The unconfirmed cone is larger than the walk limit: too old or too lazy to approve.
    TooLarge,
}

/// The result of a selection. `fallback` is true when no eligible tip existed and the parents are
/// recently confirmed units instead (always consistent, so the network stays live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// The two parents for the new unit; distinct unless the DAG holds only genesis.
    pub parents: [Hash; 2],
    /// No eligible tip existed: `parents` are anchors (recently confirmed units).
    pub fallback: bool,
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TipStats {
    /// Calls to `select` (one per transaction issued).
    pub selections: u64,
    /// Weighted walks attempted (up to four per parent when walks end on ineligible tips).
    pub walks: u64,
    /// Walks not run because the window outgrew `walk_window_max` (that parent is drawn
    /// uniformly instead).
    pub walk_window_overflows: u64,
    /// Eligibility checks that found a tip ineligible (contested, conflicting or invalid cone).
    pub ineligible_tips_seen: u64,
    /// Selections that found no eligible tip and approved anchors instead.
    pub fallbacks: u64,
    /// Second-parent candidates refused (equal to the first, or their cones jointly conflict).
    pub joint_conflicts: u64,
    /// Walks that ended on ineligible tips and approved an eligible unit on their path instead.
    pub backed_up: u64,
}

/// Walk windows kept (anchors are few; older starts are dropped first).
const WALK_WINDOWS_MAX: usize = 8;

/// A node's tip selection: the strategy, the eligibility check and its caches, and counters.
#[derive(Debug, Clone)]
pub struct TipSelector {
    strategy: TipStrategy,
    /// Largest unconfirmed cone checked for eligibility.
    cone_units_max: usize,
    /// Largest future cone a weighted walk computes weights over.
    walk_window_max: usize,
    /// Verdicts by unit: `(ledger epoch, DAG contests, eligible)` when computed.
    cache: BTreeMap<Hash, (u64, u64, bool)>,
    /// Weights of recent walk windows, one per start, each brought up to date before a walk.
    windows: Vec<WalkWindow>,
    /// Which unconfirmed cones surely replay, so most eligibility checks skip the replay.
    clean: CleanCones,
    /// False only in tests: recount every window and replay every cone, as the reference the
    /// shortcuts are compared with.
    shortcuts: bool,
    /// Counters since the selector was made.
    pub stats: TipStats,
}

impl TipSelector {
    /// A selector with the default limits: cones of up to 60,000 unconfirmed units are checked,
    /// walk windows of up to 2,048 units are weighted ([`TipSelector::set_limits`] changes them).
    pub fn new(strategy: TipStrategy) -> TipSelector {
        // 60,000: twice the API's busy bound (30,000 unconfirmed units, six 1 s intervals of
        // 5,000 transfers/s), so honest backlogs stay inside it and clean-cone answers hold.
        // Only a cone that is not clean pays a replay up to this size.
        TipSelector {
            strategy,
            cone_units_max: 60_000,
            walk_window_max: 2_048,
            cache: BTreeMap::new(),
            windows: Vec::new(),
            clean: CleanCones::new(60_000),
            shortcuts: true,
            stats: TipStats::default(),
        }
    }

    /// A selector without the incremental weights and the clean-cone summary (tests only).
    #[cfg(test)]
    fn reference(strategy: TipStrategy) -> TipSelector {
        TipSelector { shortcuts: false, ..TipSelector::new(strategy) }
    }

    /// The strategy the selector was made with.
    pub fn strategy(&self) -> TipStrategy {
        self.strategy
    }

    /// Largest unconfirmed cone checked for eligibility.
    pub fn cone_units_max(&self) -> usize {
        self.cone_units_max
    }

    /// Judge the unconfirmed past cone of `tip` against `ledger`.
    pub fn verdict(&self, dag: &Dag, ledger: &Ledger, tip: &Hash) -> ConeVerdict {
        self.joint_verdict(dag, ledger, &[*tip])
    }

    /// Judge the union of the unconfirmed past cones of `tips`: what a unit approving all of
    /// them would have in its cone.
    pub fn joint_verdict(&self, dag: &Dag, ledger: &Ledger, tips: &[Hash]) -> ConeVerdict {
        let Ok(order) = dag.unconfirmed_cone(tips, self.cone_units_max) else {
            return ConeVerdict::TooLarge;
        };
        let tip = tips.first().copied().unwrap_or(dag.genesis());
        let mut spent: BTreeMap<(crate::core::crypto::AccountId, u64), Hash> = BTreeMap::new();
        let units: Vec<_> = order.iter().filter_map(|id| dag.get(id)).collect();
        for unit in &units {
            if let Some(first) = spent.insert(unit.tx.spend_key(), unit.id) {
                return ConeVerdict::Conflicting { first, second: unit.id };
            }
        }
        for unit in &units {
            if let Some(twin) = dag.unconfirmed_twin(unit) {
                return ConeVerdict::Contested { unit: unit.id, twin };
            }
        }
        // Replay the cone on a scratch copy of just the accounts it touches.
        let mut touched: BTreeSet<crate::core::crypto::AccountId> = BTreeSet::new();
        for unit in &units {
            touched.insert(unit.tx.body.from);
            if let crate::core::transaction::TxKind::Transfer { to, .. } = unit.tx.body.kind {
                touched.insert(to);
            }
        }
        let allocations: Vec<_> =
            touched.iter().map(|account| (*account, ledger.balance(account))).collect();
        let Some(mut scratch) = Ledger::genesis(&allocations) else {
            return ConeVerdict::Invalid { unit: tip };
        };
        let mut undo = Undo::default();
        for unit in &units {
            let from = unit.tx.body.from;
            if let Some(account) = ledger.account(&from) {
                scratch.set_nonce_state(&from, account);
            }
        }
        // Fees go nowhere in the scratch replay: the author is unknown until a checkpoint.
        let policy = FeePolicy { burn_per_mille: 1000 };
        let nobody = crate::core::crypto::AccountId([0u8; 32]);
        for unit in &units {
            // Storage transactions move only balances and nonces here: whether a proof is on
            // time depends on the checkpoint that will order it, so the chain decides that.
            let mode = crate::core::contracts::StorageMode::Plausibility;
            if scratch.apply_in(&unit.tx, &nobody, policy, mode, &mut undo).is_err() {
                return ConeVerdict::Invalid { unit: unit.id };
            }
        }
        ConeVerdict::Consistent
    }

    /// Cached eligibility of `tip` at ledger `epoch`.
    pub fn eligible(&mut self, dag: &Dag, ledger: &Ledger, epoch: u64, tip: &Hash) -> bool {
        if dag.is_confirmed(tip) {
            return true;
        }
        if self.shortcuts {
            self.clean.refresh(dag, ledger, epoch);
            if self.clean.is_clean(dag, tip) {
                return true;
            }
        }
        // Within an epoch a cone only gains contested spends, as twins arrive: an ineligible
        // verdict holds for the epoch, an eligible one until the next conflict.
        // One side of an undecided conflict itself: no replay needed (most tips under conflict
        // spam are such spends).
        if dag.get(tip).is_some_and(|unit| dag.unconfirmed_twin(unit).is_some()) {
            self.stats.ineligible_tips_seen += 1;
            return false;
        }
        if let Some((cached_epoch, contests, verdict)) = self.cache.get(tip)
            && *cached_epoch == epoch
            && (!*verdict || *contests == dag.contests())
        {
            return *verdict;
        }
        let verdict = self.verdict(dag, ledger, tip) == ConeVerdict::Consistent;
        if !verdict {
            self.stats.ineligible_tips_seen += 1;
        }
        if self.cache.len() > 4 * dag.tips().len() + 1024 {
            // Keep the cache bounded: drop verdicts of units that are no longer tips.
            self.cache.retain(|id, _| dag.tips().contains(id));
        }
        self.cache.insert(*tip, (epoch, dag.contests(), verdict));
        verdict
    }

    /// Choose two distinct parents. `anchors` are recently confirmed units (the head checkpoint's
    /// parents); walks start there and they are the fallback when no tip is eligible.
    pub fn select(
        &mut self,
        dag: &Dag,
        ledger: &Ledger,
        epoch: u64,
        anchors: &[Hash],
        rng: &mut DetRng,
    ) -> Selection {
        self.stats.selections += 1;
        let genesis = dag.genesis();
        let first = self.select_one(dag, ledger, epoch, anchors, rng);
        let Some(first) = first else {
            self.stats.fallbacks += 1;
            let anchor = anchors.first().copied().unwrap_or(genesis);
            let second = anchors.get(1).copied().unwrap_or(anchor);
            let parents = if anchor == second { [anchor, anchor] } else { [anchor, second] };
            return Selection { parents: self.distinct(dag, parents), fallback: true };
        };
        // Each parent is eligible alone, but the two cones must also agree: two tips holding
        // the two spends of one conflict would make the new unit's cone inconsistent, and
        // nothing would ever approve or confirm it (conflict spam stranded most honest
        // transfers this way). Failing that, the first parent's own parent is the second.
        let mut second = first;
        for _ in 0..4 {
            match self.select_one(dag, ledger, epoch, anchors, rng) {
                Some(candidate)
                    if candidate != first
                        && self.jointly_eligible(dag, ledger, epoch, first, candidate) =>
                {
                    second = candidate;
                    break;
                }
                _ => self.stats.joint_conflicts += 1,
            }
        }
        Selection { parents: self.distinct(dag, [first, second]), fallback: false }
    }

    /// The joint verdict of two tips is `Consistent`; two clean cones need no replay.
    fn jointly_eligible(
        &mut self,
        dag: &Dag,
        ledger: &Ledger,
        epoch: u64,
        first: Hash,
        second: Hash,
    ) -> bool {
        if self.shortcuts {
            self.clean.refresh(dag, ledger, epoch);
            if self.clean.is_clean(dag, &first) && self.clean.is_clean(dag, &second) {
                return true;
            }
        }
        self.joint_verdict(dag, ledger, &[first, second]) == ConeVerdict::Consistent
    }

    /// Parents must differ unless both are genesis: if only one choice exists, approve its first
    /// parent as the second (redundant but valid, and in the same consistent cone).
    fn distinct(&self, dag: &Dag, parents: [Hash; 2]) -> [Hash; 2] {
        if parents[0] != parents[1] || parents[0] == dag.genesis() {
            return parents;
        }
        match dag.get(&parents[0]) {
            Some(unit) => [parents[0], unit.tx.body.parents[0]],
            None => [dag.genesis(), dag.genesis()],
        }
    }

    fn select_one(
        &mut self,
        dag: &Dag,
        ledger: &Ledger,
        epoch: u64,
        anchors: &[Hash],
        rng: &mut DetRng,
    ) -> Option<Hash> {
        if let TipStrategy::WeightedWalk { alpha } = self.strategy {
            let mut first_path = None;
            for _ in 0..4 {
                let Some(path) = self.walk(dag, anchors, alpha, rng) else { break };
                match path.last() {
                    Some(tip) if self.eligible(dag, ledger, epoch, tip) => return Some(*tip),
                    _ => {
                        first_path.get_or_insert(path);
                    }
                }
            }
            // No walk ended on an eligible tip: back up the first one's path (see the module
            // comment). Its start is an anchor, confirmed and so eligible: at worst the walk
            // approves where it started, as IOTA's does when no approver of the start is valid.
            // (Scanning every tip instead cost more than everything else at 20 spam pairs/s,
            // thousands of contested tips per selection, for an eligible tip that spam covers
            // within milliseconds anyway.)
            if let Some(path) = first_path {
                let found = path
                    .iter()
                    .rev()
                    .skip(1)
                    .find(|unit| self.eligible(dag, ledger, epoch, unit))
                    .copied();
                if found.is_some() {
                    self.stats.backed_up += 1;
                    return found;
                }
            }
        }
        self.uniform(dag, ledger, epoch, rng)
    }

    fn uniform(
        &mut self,
        dag: &Dag,
        ledger: &Ledger,
        epoch: u64,
        rng: &mut DetRng,
    ) -> Option<Hash> {
        let tips = dag.tips().as_slice();
        if tips.is_empty() {
            return None;
        }
        for _ in 0..32 {
            let tip = tips[rng.index(tips.len())];
            if self.eligible(dag, ledger, epoch, &tip) {
                return Some(tip);
            }
        }
        // Many ineligible tips: scan them all once (bounded by the tip count) from a random start.
        let offset = rng.index(tips.len());
        (0..tips.len())
            .map(|step| tips[(offset + step) % tips.len()])
            .find(|tip| self.eligible(dag, ledger, epoch, tip))
    }

    /// One weighted random walk from a random anchor to a tip, as its path; `None` if the window
    /// is too big.
    fn walk(
        &mut self,
        dag: &Dag,
        anchors: &[Hash],
        alpha: f64,
        rng: &mut DetRng,
    ) -> Option<Vec<Hash>> {
        self.stats.walks += 1;
        let start =
            if anchors.is_empty() { dag.genesis() } else { anchors[rng.index(anchors.len())] };
        // One window per start: the two parents of a selection usually walk from different
        // anchors. A window is made once and then only takes in the units that arrived since the
        // last walk (exact, see `walk_window.rs`); once overflowed it stays overflowed, as the
        // future cone of a fixed start only grows.
        let slot = match self.windows.iter().position(|window| window.start() == start) {
            Some(slot) if self.shortcuts => {
                self.windows[slot].update(dag);
                slot
            }
            found => {
                if let Some(slot) = found {
                    self.windows.remove(slot);
                }
                if self.windows.len() >= WALK_WINDOWS_MAX {
                    self.windows.remove(0);
                }
                self.windows.push(WalkWindow::new(dag, start, self.walk_window_max));
                self.windows.len() - 1
            }
        };
        let window = &self.windows[slot];
        if window.overflowed() {
            self.stats.walk_window_overflows += 1;
            return None;
        }
        #[cfg(test)]
        if !self.shortcuts {
            return Some(tests::reference_walk(dag, window, start, alpha, rng));
        }
        window.walk(alpha, rng)
    }

    /// Change the largest unconfirmed cone checked for eligibility and the largest walk window;
    /// drops the windows and the clean-cone summary, which hold only for the old bounds.
    pub fn set_limits(&mut self, cone_units_max: usize, walk_window_max: usize) {
        self.cone_units_max = cone_units_max;
        self.walk_window_max = walk_window_max;
        // A cached overflow holds only for the bound it was computed under, and the clean-cone
        // summary's cone bound is this limit.
        self.windows.clear();
        self.clean = CleanCones::new(cone_units_max);
    }
}

#[cfg(test)]
mod tests;
