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
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::dag::{Outcome, Unit};
    use crate::core::transaction::{TransactionBody, TxKind};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn spend(key: &Keypair, nonce: u64, amount: u64, parents: [Hash; 2]) -> Arc<Unit> {
        let tx = TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Transfer { to: Keypair::derived("sink", 0).account(), amount },
            fee: 1,
            parents,
            issued_at_ms: 0,
        }
        .sign(key)
        .unwrap();
        Unit::new(tx).unwrap()
    }

    /// As [`spend`], but for amounts divisible by 5 an Ethereum carrier paying `amount` as its
    /// fee (the replay moves only a carrier's fee): the random DAGs hold both kinds.
    fn spend_any(key: &Keypair, nonce: u64, amount: u64, parents: [Hash; 2]) -> Arc<Unit> {
        if !amount.is_multiple_of(5) {
            return spend(key, nonce, amount, parents);
        }
        let call = crate::core::evm::EvmCall::new(amount.to_le_bytes().to_vec());
        let kind = TxKind::Evm(Box::new(call));
        let body = TransactionBody {
            from: key.account(),
            nonce,
            kind,
            fee: amount,
            parents,
            issued_at_ms: 0,
        };
        Unit::new(body.sign(key).unwrap()).unwrap()
    }

    #[test]
    fn conflicting_cone_is_never_selected() {
        let genesis = Hash::of(b"g");
        let keys: Vec<Keypair> = (0..2).map(|i| Keypair::derived("tips", i)).collect();
        let ledger =
            Ledger::genesis(&keys.iter().map(|k| (k.account(), 100)).collect::<Vec<_>>()).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let a = spend(&keys[0], 0, 10, [genesis, genesis]);
        let conflict = spend(&keys[0], 0, 20, [genesis, genesis]);
        let good = spend(&keys[1], 0, 10, [genesis, genesis]);
        let bad = spend(&keys[1], 1, 10, [a.id, conflict.id]);
        for unit in [&a, &conflict, &good, &bad] {
            dag.insert(unit.clone()).unwrap();
        }
        let mut selector = TipSelector::new(TipStrategy::Uniform);
        assert!(matches!(
            selector.verdict(&dag, &ledger, &bad.id),
            ConeVerdict::Conflicting { .. }
        ));
        let mut rng = DetRng::from_seed([1; 32]);
        for _ in 0..50 {
            let selection = selector.select(&dag, &ledger, 0, &[], &mut rng);
            assert!(!selection.parents.contains(&bad.id));
            assert_eq!(selection.parents[0], good.id);
        }
    }

    #[test]
    fn the_two_parents_never_hold_both_sides_of_a_conflict() {
        let genesis = Hash::of(b"g");
        let keys: Vec<Keypair> = (0..2).map(|i| Keypair::derived("joint", i)).collect();
        let ledger =
            Ledger::genesis(&keys.iter().map(|k| (k.account(), 100)).collect::<Vec<_>>()).unwrap();
        let mut dag = Dag::new(genesis, 8);
        // Two tips, each consistent alone, spending the same (from, nonce).
        let left = spend(&keys[0], 0, 10, [genesis, genesis]);
        let right = spend(&keys[0], 0, 20, [genesis, genesis]);
        dag.insert(left.clone()).unwrap();
        dag.insert(right.clone()).unwrap();
        for strategy in [TipStrategy::Uniform, TipStrategy::WeightedWalk { alpha: 0.5 }] {
            let mut selector = TipSelector::new(strategy);
            let mut rng = DetRng::from_seed([4; 32]);
            for _ in 0..100 {
                let selection = selector.select(&dag, &ledger, 0, &[genesis], &mut rng);
                // Since the spend index, neither side is approved while both are unconfirmed
                // (before it, one side was, and this test then checked the second parent).
                assert!(
                    !selection.parents.contains(&left.id) && !selection.parents.contains(&right.id)
                );
                assert_eq!(
                    selector.joint_verdict(&dag, &ledger, &selection.parents),
                    ConeVerdict::Consistent,
                    "{strategy:?} approved both sides: {:?}",
                    selection.parents
                );
            }
        }
    }

    /// Honest units `h`, `h2` with the two spends of one undecided conflict hanging off them: before
    /// the spend index, each spend was an eligible tip on its own, so a new transaction approved
    /// one of them and bet its own confirmation on that spend winning (conflict spam stranded 9%
    /// of honest transfers this way). Now neither is approved, nor anything above either, and
    /// the walk backs up to `h`.
    #[test]
    fn neither_side_of_an_undecided_conflict_is_approved() {
        let genesis = Hash::of(b"g");
        let honest = Keypair::derived("contested", 0);
        let spammer = Keypair::derived("contested", 1);
        let ledger = Ledger::genesis(&[(honest.account(), 100), (spammer.account(), 100)]).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let h = spend(&honest, 0, 1, [genesis, genesis]);
        let h2 = spend(&honest, 1, 1, [genesis, genesis]);
        dag.insert(h.clone()).unwrap();
        dag.insert(h2.clone()).unwrap();
        let a = spend(&spammer, 0, 1, [h.id, h2.id]);
        dag.insert(a.clone()).unwrap();
        // Before its twin arrives, the spend is an ordinary eligible tip.
        let probe = TipSelector::new(TipStrategy::Uniform);
        assert_eq!(probe.verdict(&dag, &ledger, &a.id), ConeVerdict::Consistent);
        let b = spend(&spammer, 0, 2, [h.id, h2.id]);
        dag.insert(b.clone()).unwrap();
        let above_a = spend(&honest, 2, 1, [a.id, h.id]);
        dag.insert(above_a.clone()).unwrap();
        assert_eq!(
            probe.verdict(&dag, &ledger, &above_a.id),
            ConeVerdict::Contested { unit: a.id, twin: b.id }
        );
        assert_eq!(probe.verdict(&dag, &ledger, &h.id), ConeVerdict::Consistent);
        let mut rng = DetRng::from_seed([5; 32]);
        for strategy in [TipStrategy::WeightedWalk { alpha: 0.0 }, TipStrategy::Uniform] {
            let mut selector = TipSelector::new(strategy);
            for _ in 0..50 {
                let selection = selector.select(&dag, &ledger, 0, &[genesis], &mut rng);
                for parent in selection.parents {
                    assert!(
                        ![a.id, b.id, above_a.id].contains(&parent),
                        "{strategy:?} approved a side"
                    );
                }
                if let TipStrategy::WeightedWalk { .. } = strategy {
                    assert!([h.id, h2.id].contains(&selection.parents[0]), "the walk backs up");
                }
            }
        }
        // Once a checkpoint decides (here: `b` applied), `a` is no longer contested but can
        // never apply.
        for id in [h.id, h2.id, b.id] {
            dag.set_confirmation(
                &id,
                Some(crate::core::dag::Confirmation { height: 1, outcome: Outcome::Applied }),
            );
        }
        let mut decided = ledger.clone();
        decided
            .apply(
                &b.tx,
                &honest.account(),
                FeePolicy { burn_per_mille: 1000 },
                &mut Undo::default(),
            )
            .unwrap();
        assert_eq!(dag.unconfirmed_twin(&a), None);
        assert_eq!(probe.verdict(&dag, &decided, &a.id), ConeVerdict::Invalid { unit: a.id });
    }

    #[test]
    fn overspending_cone_is_invalid() {
        let genesis = Hash::of(b"g");
        let key = Keypair::derived("tips", 0);
        let ledger = Ledger::genesis(&[(key.account(), 15)]).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let a = spend(&key, 0, 10, [genesis, genesis]);
        let b = spend(&key, 1, 10, [a.id, genesis]);
        dag.insert(a.clone()).unwrap();
        dag.insert(b.clone()).unwrap();
        let selector = TipSelector::new(TipStrategy::Uniform);
        assert_eq!(selector.verdict(&dag, &ledger, &b.id), ConeVerdict::Invalid { unit: b.id });
        assert_eq!(selector.verdict(&dag, &ledger, &a.id), ConeVerdict::Consistent);
    }

    #[test]
    fn a_reused_selector_selects_as_a_fresh_one_while_the_dag_grows_past_the_window() {
        // The overflow cache must not change a single selection: one selector kept across
        // insertions and a fresh one per selection (same limits, same random stream) agree.
        let genesis = Hash::of(b"g");
        let keys: Vec<Keypair> = (0..60).map(|i| Keypair::derived("window", i)).collect();
        let ledger =
            Ledger::genesis(&keys.iter().map(|k| (k.account(), 100)).collect::<Vec<_>>()).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let strategy = TipStrategy::WeightedWalk { alpha: 0.5 };
        let mut kept = TipSelector::new(strategy);
        kept.set_limits(20_000, 16);
        let (mut kept_rng, mut fresh_rng) =
            (DetRng::from_seed([3; 32]), DetRng::from_seed([3; 32]));
        let mut overflows = 0;
        // Two anchors once the DAG has a unit: walks alternate between two cached windows.
        let mut anchors = vec![genesis];
        for key in &keys {
            let mut fresh = TipSelector::new(strategy);
            fresh.set_limits(20_000, 16);
            let ours = kept.select(&dag, &ledger, 0, &anchors, &mut kept_rng);
            let theirs = fresh.select(&dag, &ledger, 0, &anchors, &mut fresh_rng);
            assert_eq!(ours, theirs);
            overflows = kept.stats.walk_window_overflows;
            let unit = spend(key, 0, 1, ours.parents);
            if anchors.len() == 1 {
                anchors.push(unit.id);
            }
            dag.insert(unit).unwrap();
        }
        assert!(overflows > 0, "the DAG never outgrew the window: the test tests nothing");
    }

    #[test]
    fn weighted_walk_prefers_the_heavy_branch() {
        let genesis = Hash::of(b"g");
        let keys: Vec<Keypair> = (0..40).map(|i| Keypair::derived("walk", i)).collect();
        let ledger =
            Ledger::genesis(&keys.iter().map(|k| (k.account(), 100)).collect::<Vec<_>>()).unwrap();
        let mut dag = Dag::new(genesis, 8);
        // A lazy tip approving genesis directly, and a heavy chain of 30 units.
        let lazy = spend(&keys[0], 0, 1, [genesis, genesis]);
        dag.insert(lazy.clone()).unwrap();
        let mut previous = genesis;
        let mut heavy_tip = genesis;
        for (i, key) in keys.iter().enumerate().skip(1).take(30) {
            let parents = if i == 1 { [genesis, genesis] } else { [previous, genesis] };
            let unit = spend(key, 0, 1, parents);
            dag.insert(unit.clone()).unwrap();
            previous = unit.id;
            heavy_tip = unit.id;
        }
        let mut selector = TipSelector::new(TipStrategy::WeightedWalk { alpha: 1.0 });
        let mut rng = DetRng::from_seed([2; 32]);
        let heavy = (0..100)
            .filter(|_| {
                selector.select(&dag, &ledger, 0, &[genesis], &mut rng).parents[0] == heavy_tip
            })
            .count();
        assert!(heavy >= 95, "heavy branch chosen {heavy}/100");
        let mut uniform = TipSelector::new(TipStrategy::Uniform);
        let lazy_count = (0..200)
            .filter(|_| {
                uniform.select(&dag, &ledger, 0, &[genesis], &mut rng).parents[0] == lazy.id
            })
            .count();
        assert!((60..140).contains(&lazy_count), "uniform picked the lazy tip {lazy_count}/200");
    }

    /// The walk as it was before windows kept their own child lists: children and weights looked
    /// up in the DAG and the window per step.
    pub(super) fn reference_walk(
        dag: &Dag,
        window: &WalkWindow,
        start: Hash,
        alpha: f64,
        rng: &mut DetRng,
    ) -> Vec<Hash> {
        let mut current = start;
        let mut path = vec![start];
        loop {
            let children = dag.children(&current);
            if children.is_empty() {
                return path;
            }
            let child_weights: Vec<f64> =
                children.iter().map(|child| window.weight(child).unwrap_or(1) as f64).collect();
            let heaviest = child_weights.iter().copied().fold(f64::MIN, f64::max);
            let scores: Vec<f64> =
                child_weights.iter().map(|w| (alpha * (w - heaviest)).exp()).collect();
            let total: f64 = scores.iter().sum();
            let mut draw = rng.unit_f64() * total;
            let mut chosen = children[children.len() - 1];
            for (child, score) in children.iter().zip(&scores) {
                if draw < *score {
                    chosen = *child;
                    break;
                }
                draw -= score;
            }
            current = chosen;
            path.push(current);
        }
    }

    /// A random DAG of transfers from three accounts with few nonces (so conflicting spends are
    /// frequent) and amounts that overspend small balances.
    fn random_dag(
        steps: &[(usize, u64, u64, u64, u64)],
        keys: &[Keypair],
        genesis: Hash,
    ) -> (Dag, Vec<Hash>) {
        let mut dag = Dag::new(genesis, 8);
        let mut all = vec![genesis];
        for &(who, nonce, amount, p1, p2) in steps {
            let first = all[(p1 % all.len() as u64) as usize];
            let second = all[(p2 % all.len() as u64) as usize];
            let parents = if first == second { [first, genesis] } else { [first, second] };
            let parents = if parents[0] == parents[1] { [genesis, genesis] } else { parents };
            let unit = spend_any(&keys[who], nonce, amount, parents);
            if dag.insert(unit.clone()).is_ok() {
                all.push(unit.id);
            }
        }
        (dag, all)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The clean-cone shortcut only ever answers "eligible" for cones the full replay accepts,
        /// alone and in pairs, on random DAGs with conflicts and overspends, against ledgers that
        /// already used some nonces, with part of the DAG confirmed.
        #[test]
        fn clean_cones_are_eligible(
            steps in proptest::collection::vec((0usize..3, 0u64..6, 1u64..60, any::<u64>(), any::<u64>()), 1..40),
            balances in proptest::collection::vec(0u64..400, 3),
            used in proptest::collection::vec((0usize..3, 0u64..6), 0..3),
            confirm in any::<u64>(),
        ) {
            let genesis = Hash::of(b"g");
            let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("prop-clean", i)).collect();
            let allocations: Vec<_> =
                keys.iter().zip(&balances).map(|(k, b)| (k.account(), *b)).collect();
            let mut ledger = Ledger::genesis(&allocations).unwrap();
            for (who, nonce) in used {
                let tx = spend(&keys[who], nonce, 0, [genesis, genesis]).tx.clone();
                let _ = ledger.apply(&tx, &keys[0].account(), FeePolicy { burn_per_mille: 1000 }, &mut Undo::default());
            }
            let (mut dag, all) = random_dag(&steps, &keys, genesis);
            // Confirm the past cone of one unit (confirmations are closed under ancestry).
            let root = all[(confirm % all.len() as u64) as usize];
            let cone = dag.unconfirmed_cone(&[root], usize::MAX).unwrap();
            for id in &cone {
                dag.set_confirmation(id, Some(crate::core::dag::Confirmation { height: 1, outcome: crate::core::dag::Outcome::Applied }));
            }
            let selector = TipSelector::new(TipStrategy::Uniform);
            let mut clean = CleanCones::new(20_000);
            clean.refresh(&dag, &ledger, 7);
            for a in &all {
                if clean.is_clean(&dag, a) {
                    prop_assert_eq!(selector.verdict(&dag, &ledger, a), ConeVerdict::Consistent);
                }
                for b in &all {
                    if clean.is_clean(&dag, a) && clean.is_clean(&dag, b) {
                        prop_assert_eq!(selector.joint_verdict(&dag, &ledger, &[*a, *b]), ConeVerdict::Consistent);
                    }
                }
            }
        }

        /// Incremental weights and the clean-cone summary are pure speed-ups: a selector using
        /// them and the reference (recount every window, replay every cone) make the same
        /// selections, draw for draw, while the DAG grows with conflicting spends, checkpoints
        /// confirm parts of it and the epoch moves on.
        #[test]
        fn shortcuts_change_no_selection(
            steps in proptest::collection::vec((0usize..3, 0u64..8, 1u64..40, any::<u64>(), any::<u64>()), 1..50),
            alpha in prop_oneof![Just(None), (0.0f64..2.0).prop_map(Some)],
            window in prop_oneof![Just(2_048usize), 3usize..24],
            confirm_every in 3usize..12,
            seed in any::<u8>(),
        ) {
            let genesis = Hash::of(b"g");
            let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("prop-same", i)).collect();
            let ledger = Ledger::genesis(
                &keys.iter().map(|k| (k.account(), 150)).collect::<Vec<_>>()).unwrap();
            let strategy = match alpha { None => TipStrategy::Uniform, Some(alpha) => TipStrategy::WeightedWalk { alpha } };
            let mut fast = TipSelector::new(strategy);
            let mut reference = TipSelector::reference(strategy);
            fast.set_limits(20_000, window);
            reference.set_limits(20_000, window);
            let (mut fast_rng, mut reference_rng) =
                (DetRng::from_seed([seed; 32]), DetRng::from_seed([seed; 32]));
            let mut dag = Dag::new(genesis, 8);
            let mut all = vec![genesis];
            let mut anchors = vec![genesis];
            let mut epoch = 0;
            for (step, (who, nonce, amount, p1, p2)) in steps.into_iter().enumerate() {
                let ours = fast.select(&dag, &ledger, epoch, &anchors, &mut fast_rng);
                let theirs = reference.select(&dag, &ledger, epoch, &anchors, &mut reference_rng);
                prop_assert_eq!(ours, theirs);
                // Half the units approve the selection, half random units (lazy or conflicting).
                let parents = if p1 % 2 == 0 {
                    ours.parents
                } else {
                    let first = all[(p1 % all.len() as u64) as usize];
                    let second = all[(p2 % all.len() as u64) as usize];
                    if first == second { [genesis, genesis] } else { [first, second] }
                };
                let parents = if parents[0] == parents[1] && parents[0] != genesis { [parents[0], genesis] } else { parents };
                let unit = spend_any(&keys[who], nonce, amount, parents);
                if dag.insert(unit.clone()).is_ok() {
                    all.push(unit.id);
                }
                if step % confirm_every == confirm_every - 1 {
                    // A "checkpoint": confirm the cone of the newest unit, anchor walks there.
                    let newest = all[all.len() - 1];
                    let cone = dag.unconfirmed_cone(&[newest], usize::MAX).unwrap();
                    for id in &cone {
                        dag.set_confirmation(id, Some(crate::core::dag::Confirmation { height: 1, outcome: crate::core::dag::Outcome::Applied }));
                    }
                    anchors = vec![newest, dag.get(&newest).map_or(genesis, |u| u.tx.body.parents[0])];
                    epoch += 1;
                }
            }
            prop_assert_eq!(fast.stats, reference.stats);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random DAGs with frequent conflicting spends and overspends: a selection never returns a
        /// non-tip (unless it says it fell back, and then only confirmed anchors) and never a tip
        /// whose past cone is inconsistent.
        #[test]
        fn selection_returns_only_eligible_tips(
            steps in proptest::collection::vec((0usize..3, 0u64..4, 1u64..60, any::<u64>(), any::<u64>()), 1..40),
            alpha in prop_oneof![Just(None), (0.0f64..2.0).prop_map(Some)],
            seed in any::<u8>(),
        ) {
            let genesis = Hash::of(b"g");
            let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("prop-tips", i)).collect();
            let ledger = Ledger::genesis(
                &keys.iter().map(|k| (k.account(), 100)).collect::<Vec<_>>()).unwrap();
            let mut dag = Dag::new(genesis, 8);
            let mut all = vec![genesis];
            for (who, nonce, amount, p1, p2) in steps {
                let first = all[(p1 % all.len() as u64) as usize];
                let second = all[(p2 % all.len() as u64) as usize];
                let parents = if first == second { [first, genesis] } else { [first, second] };
                let parents = if parents[0] == parents[1] { [genesis, genesis] } else { parents };
                let unit = spend_any(&keys[who], nonce, amount, parents);
                if dag.insert(unit.clone()).is_ok() { all.push(unit.id); }
            }
            let strategy = match alpha { None => TipStrategy::Uniform, Some(alpha) => TipStrategy::WeightedWalk { alpha } };
            let mut selector = TipSelector::new(strategy);
            let mut rng = DetRng::from_seed([seed; 32]);
            for _ in 0..8 {
                let selection = selector.select(&dag, &ledger, 0, &[genesis], &mut rng);
                for parent in selection.parents {
                    if selection.fallback || dag.is_confirmed(&parent) {
                        prop_assert!(dag.is_confirmed(&parent));
                        continue;
                    }
                    // Not necessarily a tip (a walk that ended on an ineligible tip backs up
                    // along its path; a lone choice takes its own first parent as the second),
                    // but always eligible, alone and together.
                    prop_assert_eq!(selector.verdict(&dag, &ledger, &parent), ConeVerdict::Consistent);
                }
                prop_assert_eq!(
                    selector.joint_verdict(&dag, &ledger, &selection.parents),
                    ConeVerdict::Consistent
                );
            }
        }
    }
}
