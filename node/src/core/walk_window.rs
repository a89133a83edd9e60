//! The cumulative weights a weighted walk steers by, kept exact incrementally.
//!
//! The window of a walk from `start` is the future cone of `start` (itself included); the
//! cumulative weight of a unit in it is the size of the unit's own future cone (itself included).
//! Units are never removed from the DAG, so both only grow, and exactly like this: a unit that
//! arrives with a parent in the window joins it with weight 1 and adds one to the weight of every
//! one of its ancestors inside the window. Nothing else changes, because a unit outside the window
//! has no ancestor in it (an ancestor descending from `start` would make the unit descend from it
//! too), and every descendant of a window unit is in the window.
//!
//! So the weights equal a from-scratch recount at every DAG size (property test
//! `incremental_weights_equal_a_recount`), and the walk, which reads them, selects exactly as
//! before. The difference is cost: the recount was quadratic in the window (one bitset per unit)
//! and ran for every transaction a node issued, because every transaction grows the DAG; the
//! update costs one visit per in-window ancestor of each arriving unit, once. A window larger than
//! its bound is dropped for good (the cone only grows) and the walk falls back to uniform.

use crate::core::dag::Dag;
use crate::core::hash::Hash;
use crate::core::random::DetRng;
use std::collections::BTreeMap;

/// A missing parent slot (the parent is outside the window, or the unit has one distinct parent).
const NO_PARENT: u32 = u32::MAX;

/// The future cone of one walk start with each member's cumulative weight, updated as units
/// arrive (see the module comment); bounded, and dropped for good once it outgrows the bound.
#[derive(Debug, Clone)]
pub struct WalkWindow {
    start: Hash,
    /// The arrival sequence of the newest DAG unit the window has taken into account.
    seen: u64,
    /// `None`: the window outgrew its bound.
    members: Option<Members>,
}

#[derive(Debug, Clone)]
struct Members {
    bound: usize,
    index: BTreeMap<Hash, u32>,
    ids: Vec<Hash>,
    /// In-window parents of each member, by member index.
    parents: Vec<[u32; 2]>,
    /// Children of each member, in the DAG's order (arrival order), by member index: the walk
    /// steps through these without a map lookup per child.
    children: Vec<Vec<u32>>,
    weight: Vec<u32>,
    /// Visit marks of the ancestor traversal: `mark[i] == round` means visited this round.
    mark: Vec<u32>,
    round: u32,
    stack: Vec<u32>,
}

impl WalkWindow {
    /// The window of `start` in `dag` as it is now, counted from scratch; at most `bound` units.
    pub fn new(dag: &Dag, start: Hash, bound: usize) -> WalkWindow {
        let members = dag.future_cone(&start, bound).map(|window| {
            let index: BTreeMap<Hash, u32> =
                window.iter().enumerate().map(|(i, id)| (*id, i as u32)).collect();
            let parents = window
                .iter()
                .map(|id| in_window_parents(dag, &index, id, &start))
                .collect::<Vec<_>>();
            let weight = cumulative_weights(dag, &window, &index);
            let children = window
                .iter()
                .map(|id| {
                    let children = dag.children(id).iter();
                    children.filter_map(|child| index.get(child).copied()).collect()
                })
                .collect();
            Members {
                bound,
                mark: vec![0; window.len()],
                index,
                ids: window,
                parents,
                children,
                weight,
                round: 0,
                stack: Vec::new(),
            }
        });
        WalkWindow { start, seen: dag.last_seq(), members }
    }

    /// The unit the walk starts from (the root of the window).
    pub fn start(&self) -> Hash {
        self.start
    }

    /// True once the window has outgrown its bound (it never shrinks back).
    pub fn overflowed(&self) -> bool {
        self.members.is_none()
    }

    /// Take in every unit that arrived since the last call.
    pub fn update(&mut self, dag: &Dag) {
        let arrived = dag.arrivals_after(self.seen);
        self.seen = dag.last_seq();
        let Some(members) = self.members.as_mut() else { return };
        for id in arrived {
            if *id == self.start {
                // The start itself arriving late (it was unknown when the window was made): it
                // is member 0 already, and its children arrive after it.
                continue;
            }
            let parents = in_window_parents(dag, &members.index, id, &self.start);
            if parents == [NO_PARENT, NO_PARENT] {
                continue;
            }
            if members.weight.len() + 1 > members.bound {
                self.members = None;
                return;
            }
            members.add(*id, parents);
        }
    }

    /// The cumulative weight of `id`; `None` outside the window or once it overflowed.
    pub fn weight(&self, id: &Hash) -> Option<u32> {
        let members = self.members.as_ref()?;
        let index = *members.index.get(id)?;
        members.weight.get(index as usize).copied()
    }

    /// One walk from the start to a tip: from a unit, step to one of its children with
    /// probability proportional to `exp(alpha * weight(child))`. Returns the path, the start
    /// first and the tip last (tip selection backs up along it when the tip is ineligible).
    /// `None` once overflowed.
    pub fn walk(&self, alpha: f64, rng: &mut DetRng) -> Option<Vec<Hash>> {
        let members = self.members.as_ref()?;
        let mut current = *members.index.get(&self.start)? as usize;
        let mut scores: Vec<f64> = Vec::new();
        let mut path = vec![self.start];
        loop {
            let children = &members.children[current];
            let Some(&last) = children.last() else {
                return Some(path);
            };
            let heaviest = children
                .iter()
                .map(|child| f64::from(members.weight[*child as usize]))
                .fold(f64::MIN, f64::max);
            // Subtract the maximum before exponentiating so large weights cannot overflow.
            scores.clear();
            scores.extend(children.iter().map(|child| {
                (alpha * (f64::from(members.weight[*child as usize]) - heaviest)).exp()
            }));
            let total: f64 = scores.iter().sum();
            let mut draw = rng.unit_f64() * total;
            let mut chosen = last;
            for (child, score) in children.iter().zip(&scores) {
                if draw < *score {
                    chosen = *child;
                    break;
                }
                draw -= score;
            }
            current = chosen as usize;
            path.push(members.ids[current]);
        }
    }

    /// Every member with its weight (tests compare this with a recount).
    pub fn weights(&self) -> Option<BTreeMap<Hash, u32>> {
        let members = self.members.as_ref()?;
        Some(members.index.iter().map(|(id, i)| (*id, members.weight[*i as usize])).collect())
    }
}

impl Members {
    /// Add `id` (with these in-window parents) and count it once in the weight of itself and of
    /// each of its in-window ancestors.
    fn add(&mut self, id: Hash, parents: [u32; 2]) {
        let new = self.weight.len() as u32;
        self.index.insert(id, new);
        self.ids.push(id);
        self.parents.push(parents);
        self.children.push(Vec::new());
        for parent in parents {
            if parent != NO_PARENT {
                self.children[parent as usize].push(new);
            }
        }
        self.weight.push(0);
        self.mark.push(0);
        if self.round == u32::MAX {
            self.mark.iter_mut().for_each(|mark| *mark = 0);
            self.round = 0;
        }
        self.round += 1;
        let round = self.round;
        self.stack.clear();
        self.stack.push(new);
        self.mark[new as usize] = round;
        while let Some(member) = self.stack.pop() {
            let member = member as usize;
            self.weight[member] += 1;
            for parent in self.parents[member] {
                if parent != NO_PARENT && self.mark[parent as usize] != round {
                    self.mark[parent as usize] = round;
                    self.stack.push(parent);
                }
            }
        }
    }
}

/// The in-window parents of `id` as member indices; the start has none (its parents are older).
fn in_window_parents(dag: &Dag, index: &BTreeMap<Hash, u32>, id: &Hash, start: &Hash) -> [u32; 2] {
    let mut slots = [NO_PARENT; 2];
    if id == start {
        return slots;
    }
    let Some(unit) = dag.get(id) else { return slots };
    let [first, second] = unit.tx.body.parents;
    slots[0] = index.get(&first).copied().unwrap_or(NO_PARENT);
    if second != first {
        slots[1] = index.get(&second).copied().unwrap_or(NO_PARENT);
    }
    slots
}

/// Exact future-cone sizes of every unit in `window` (a future cone in arrival order), counted
/// within the window: one bitset per unit, children before parents. Quadratic, so only used to
/// make a window from scratch.
fn cumulative_weights(dag: &Dag, window: &[Hash], index: &BTreeMap<Hash, u32>) -> Vec<u32> {
    let words = window.len().div_ceil(64);
    let mut bits: Vec<Vec<u64>> = vec![Vec::new(); window.len()];
    let mut weights = vec![0; window.len()];
    for position in (0..window.len()).rev() {
        let id = window[position];
        let mut own = vec![0u64; words];
        own[position / 64] |= 1 << (position % 64);
        for child in dag.children(&id) {
            if let Some(&child_position) = index.get(child) {
                for (word, child_word) in own.iter_mut().zip(&bits[child_position as usize]) {
                    *word |= child_word;
                }
            }
        }
        weights[position] = own.iter().map(|word| word.count_ones()).sum();
        bits[position] = own;
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::dag::tests::unit;
    use proptest::prelude::*;

    /// Future-cone sizes by brute force: for each window unit, walk its children.
    fn recount(dag: &Dag, start: &Hash, bound: usize) -> Option<BTreeMap<Hash, u32>> {
        let window = dag.future_cone(start, bound)?;
        Some(
            window
                .iter()
                .map(|id| {
                    let cone = dag.future_cone(id, usize::MAX).unwrap_or_default();
                    (*id, cone.len() as u32)
                })
                .collect(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// On random DAGs, a window kept up to date unit by unit holds exactly the weights (and
        /// overflow verdict) of a from-scratch recount after every insertion, whichever unit it
        /// started at and whenever it was made.
        #[test]
        fn incremental_weights_equal_a_recount(
            steps in proptest::collection::vec((any::<u64>(), any::<u64>()), 1..80),
            start_pick in any::<u64>(),
            made_after in 0usize..20,
            bound in prop_oneof![Just(usize::MAX), 4usize..64],
        ) {
            let genesis = Hash::of(b"g");
            let key = Keypair::derived("walk-window", 0);
            let mut dag = Dag::new(genesis, 8);
            let mut all = vec![genesis];
            let mut window: Option<WalkWindow> = None;
            for (nonce, (p1, p2)) in steps.into_iter().enumerate() {
                let first = all[(p1 % all.len() as u64) as usize];
                let second = all[(p2 % all.len() as u64) as usize];
                let parents = if first == second { [first, genesis] } else { [first, second] };
                let parents = if parents[0] == parents[1] { [genesis, genesis] } else { parents };
                let new = unit(&key, nonce as u64, parents);
                dag.insert(new.clone()).unwrap();
                all.push(new.id);
                if nonce == made_after {
                    let start = all[(start_pick % all.len() as u64) as usize];
                    window = Some(WalkWindow::new(&dag, start, bound));
                }
                if let Some(window) = window.as_mut() {
                    window.update(&dag);
                    prop_assert_eq!(window.weights(), recount(&dag, &window.start(), bound));
                }
            }
        }
    }

    #[test]
    fn a_start_unknown_when_the_window_was_made_is_weighed_once_it_arrives() {
        let genesis = Hash::of(b"g");
        let key = Keypair::derived("walk-window", 1);
        let mut dag = Dag::new(genesis, 8);
        let start = unit(&key, 0, [genesis, genesis]);
        let mut window = WalkWindow::new(&dag, start.id, 16);
        assert_eq!(window.weight(&start.id), Some(1));
        dag.insert(start.clone()).unwrap();
        let child = unit(&key, 1, [start.id, genesis]);
        dag.insert(child.clone()).unwrap();
        window.update(&dag);
        assert_eq!(window.weights(), recount(&dag, &start.id, 16));
        assert_eq!(window.weight(&start.id), Some(2));
    }
}
