//! Checkpoint-parent choice: which unconfirmed units a new checkpoint names as its parents
//! (and so confirms with their past cones). Tip selection (`tips.rs`) chooses what a
//! transaction approves; this chooses what a checkpoint confirms, and reaches further: past
//! eligible tips to the units that conflict spam strands (see [`checkpoint_parents`]).

use crate::core::chain::Chain;
use crate::core::dag::Dag;
use crate::core::hash::Hash;
use crate::core::tips::TipSelector;
use std::collections::BTreeSet;

/// Units a checkpoint's search for eligible ancestors of ineligible tips visits at most: a few
/// levels below a few thousand spam tips, and a bound on the cost whatever the DAG holds.
const ANCESTOR_SEARCH_MAX: usize = 4_096;

/// Up to `checkpoint_parents_max` unconfirmed units, in order: eligible tips, newest first;
/// then the nearest eligible ancestors of the other tips; then, if room is left, ineligible
/// units that are not themselves a side of an undecided conflict (the other tips and their
/// ancestors), then the sides; the anchors if none. A unit already in the cone of one chosen
/// adds nothing and is skipped, and cones over the walk limit stay out.
///
/// Why the eligible ancestors: transactions never approve a spend whose twin is undecided
/// (see `tips.rs`), so under conflict spam the honest units are covered by contested spends
/// and are no longer tips. They are what a transaction would approve (its walk backs up to
/// them), and a checkpoint must cover them or they wait behind the spam tips.
///
/// Why the ineligible units: one may be an honest transfer that approved a spend before its
/// twin arrived, or one whose other spend a checkpoint then applied. Nothing approves it any
/// more, so only a checkpoint can confirm it, and White Flag makes that safe: it applies one
/// side and ignores the other. Those with no rival of their own go first, as only a
/// checkpoint can still confirm them; the sides themselves (spam has a rival per spend) fill
/// what is left, which is also how undecided conflicts get decided.
pub fn checkpoint_parents(dag: &Dag, chain: &Chain, selector: &mut TipSelector) -> Vec<Hash> {
    let max = chain.params().checkpoint_parents_max;
    let mut tips: Vec<Hash> = dag.tips().as_slice().to_vec();
    tips.sort_by_key(|id| std::cmp::Reverse(dag.seq(id).unwrap_or(0)));
    let epoch = chain.epoch();
    let mut chosen = Vec::new();
    let mut stranded = Vec::new();
    for tip in tips {
        if chosen.len() == max {
            break;
        }
        if dag.is_confirmed(&tip) {
            continue;
        }
        if selector.eligible(dag, chain.ledger(), epoch, &tip) {
            chosen.push(tip);
        } else {
            stranded.push(tip);
        }
    }
    if chosen.len() < max && !stranded.is_empty() {
        let limit = selector.cone_units_max();
        let mut covered: BTreeSet<Hash> = BTreeSet::new();
        if let Ok(cone) = dag.unconfirmed_cone(&chosen, limit) {
            covered.extend(cone);
        }
        let (eligible, unrivalled, sides) = stranded_candidates(dag, chain, selector, &stranded);
        for unit in eligible.into_iter().chain(unrivalled).chain(sides) {
            if chosen.len() == max {
                break;
            }
            if covered.contains(&unit) {
                continue;
            }
            if let Ok(cone) = dag.unconfirmed_cone(&[unit], limit) {
                covered.extend(cone);
                chosen.push(unit);
            }
        }
    }
    if chosen.is_empty() {
        chosen = chain.anchors();
    }
    chosen
}

/// Sorts the ineligible `stranded` tips and their unconfirmed ancestors, searched depth first
/// through ineligible units from each tip in turn: (eligible ancestors, ineligible units that
/// are not a side of an undecided conflict, sides), the tips themselves ahead of the
/// ancestors in the second list. The search visits at most `ANCESTOR_SEARCH_MAX` ancestors,
/// so a checkpoint costs the same whatever junk the DAG holds.
fn stranded_candidates(
    dag: &Dag,
    chain: &Chain,
    selector: &mut TipSelector,
    stranded: &[Hash],
) -> (Vec<Hash>, Vec<Hash>, Vec<Hash>) {
    let epoch = chain.epoch();
    let (mut eligible, mut unrivalled, mut sides) = (Vec::new(), Vec::new(), Vec::new());
    let mut visited: BTreeSet<Hash> = stranded.iter().copied().collect();
    let mut searched = 0usize;
    let is_side =
        |dag: &Dag, id: &Hash| dag.get(id).is_some_and(|unit| dag.unconfirmed_twin(unit).is_some());
    // Every tip is sorted, however far the bounded search below gets.
    for tip in stranded {
        if is_side(dag, tip) {
            sides.push(*tip);
        } else {
            unrivalled.push(*tip);
        }
    }
    'tips: for tip in stranded {
        let mut stack = vec![*tip];
        while let Some(id) = stack.pop() {
            let Some(unit) = dag.get(&id) else { continue };
            for parent in unit.tx.body.parents {
                if dag.is_confirmed(&parent) || !visited.insert(parent) {
                    continue;
                }
                searched += 1;
                if searched > ANCESTOR_SEARCH_MAX {
                    break 'tips;
                }
                if selector.eligible(dag, chain.ledger(), epoch, &parent) {
                    eligible.push(parent);
                } else {
                    if !is_side(dag, &parent) {
                        unrivalled.push(parent);
                    }
                    stack.push(parent);
                }
            }
        }
    }
    (eligible, unrivalled, sides)
}
