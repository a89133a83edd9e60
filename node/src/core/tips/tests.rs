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
    let body =
        TransactionBody { from: key.account(), nonce, kind, fee: amount, parents, issued_at_ms: 0 };
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
    assert!(matches!(selector.verdict(&dag, &ledger, &bad.id), ConeVerdict::Conflicting { .. }));
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
        .apply(&b.tx, &honest.account(), FeePolicy { burn_per_mille: 1000 }, &mut Undo::default())
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
    let (mut kept_rng, mut fresh_rng) = (DetRng::from_seed([3; 32]), DetRng::from_seed([3; 32]));
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
        .filter(|_| selector.select(&dag, &ledger, 0, &[genesis], &mut rng).parents[0] == heavy_tip)
        .count();
    assert!(heavy >= 95, "heavy branch chosen {heavy}/100");
    let mut uniform = TipSelector::new(TipStrategy::Uniform);
    let lazy_count = (0..200)
        .filter(|_| uniform.select(&dag, &ledger, 0, &[genesis], &mut rng).parents[0] == lazy.id)
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
