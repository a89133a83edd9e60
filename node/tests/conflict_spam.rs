//! Conflict spam must not strand honest transfers. An attacker signs two spends of each nonce and
//! hands them to different nodes; honest wallets keep paying. Three things used to strand honest
//! transfers: a unit approving one tip from each side of a conflict (its cone is inconsistent, so
//! nothing approves it), a unit approving the side a checkpoint then ignored (its cone no longer
//! applies), and, behind both, approving either side of a conflict before any checkpoint had
//! decided it. Tip selection now approves neither side of an undecided conflict (the spend
//! index), checks the two parents together, and checkpoints cover the honest units the spam
//! hangs off and sweep up tips stranded anyway, where White Flag ignores the losing spend.
#![allow(clippy::unwrap_used)]

use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::params::Params;
use vein_node::core::random::DetRng;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

#[test]
fn honest_transfers_survive_conflict_spam_and_each_conflict_applies_once() {
    let params = Params { target_interval_ms: 1000, fixed_base_target: true, ..Params::default() };
    let capacities = [1_000_000, 1_000_000, 1_000_000, 1_000_000, 0];
    let (mut net, keys) =
        LocalNet::with_config("spam", 3, &capacities, params, 20, |_, _| {}).unwrap();
    net.keep_events = false;
    let attacker = 4;
    let mut rng = DetRng::from_seed([9; 32]);
    let mut honest: Vec<Hash> = Vec::new();
    let mut pairs: Vec<(Hash, Hash)> = Vec::new();
    // 40 s: every 50 ms one conflicting pair, every 500 ms one honest transfer.
    for step in 1..=800u64 {
        net.run_until(step * 50);
        let nonce = step - 1;
        let first = net.nodes[attacker]
            .build_transaction(nonce, TxKind::Transfer { to: keys[0].account(), amount: 1 }, 10)
            .unwrap();
        let second = net.nodes[attacker]
            .build_transaction(nonce, TxKind::Transfer { to: keys[1].account(), amount: 2 }, 10)
            .unwrap();
        pairs.push((first.id().unwrap(), second.id().unwrap()));
        net.inject(attacker, first);
        net.inject(rng.index(4), second);
        if step % 10 == 0 {
            let from = rng.index(4);
            let to = keys[(from + 1 + rng.index(3)) % 4].account();
            honest.push(net.transfer(from, to, 1).unwrap());
        }
    }
    net.run_until(70_000);
    let node = &net.nodes[0];
    let dag = node.dag();
    let stranded: Vec<usize> = (0..honest.len())
        .filter(|&i| dag.confirmation(&honest[i]).is_none_or(|c| c.outcome != Outcome::Applied))
        .collect();
    assert!(
        stranded.is_empty(),
        "{} of {} honest transfers not applied",
        stranded.len(),
        honest.len()
    );
    let applied = |id: &Hash| dag.confirmation(id).is_some_and(|c| c.outcome == Outcome::Applied);
    for (first, second) in &pairs {
        assert!(!(applied(first) && applied(second)), "both spends of one nonce applied");
    }
    let height = (0..4).map(|i| net.nodes[i].chain().height()).min().unwrap() - 6;
    let reference = node.chain().active_at(height);
    for other in &net.nodes[1..4] {
        assert_eq!(other.chain().active_at(height), reference);
    }
}

/// The rule itself, on live nodes: once both spends of a nonce have reached a node, a transfer it
/// signs approves neither (nor anything above either) until a checkpoint decides between them.
/// Before the spend index the spends were the freshest tips and most transfers approved one.
#[test]
fn a_transfer_never_approves_either_side_of_an_undecided_conflict() {
    let params = Params { target_interval_ms: 1000, fixed_base_target: true, ..Params::default() };
    let capacities = [1_000_000, 1_000_000, 1_000_000, 1_000_000, 0];
    let (mut net, keys) =
        LocalNet::with_config("undecided", 5, &capacities, params, 20, |_, _| {}).unwrap();
    net.keep_events = false;
    let attacker = 4;
    let mut rng = DetRng::from_seed([7; 32]);
    let mut undecided_at = 0;
    // 10 s: every 100 ms a conflicting pair; 60 ms later (every node has both) a transfer.
    for step in 1..=100u64 {
        net.run_until(step * 100);
        let nonce = step - 1;
        let spends = [(keys[0].account(), 1), (keys[1].account(), 2)].map(|(to, amount)| {
            net.nodes[attacker]
                .build_transaction(nonce, TxKind::Transfer { to, amount }, 10)
                .unwrap()
        });
        let [first, second] = spends;
        net.inject(attacker, first);
        net.inject(rng.index(4), second);
        net.run_until(step * 100 + 60);
        let from = rng.index(4);
        let to = keys[(from + 1 + rng.index(3)) % 4].account();
        let id = net.transfer(from, to, 1).unwrap();
        let dag = net.nodes[from].dag();
        let cone = dag.unconfirmed_cone(&[id], usize::MAX).unwrap();
        for unit in cone.iter().filter_map(|unit| dag.get(unit)) {
            assert_eq!(
                dag.unconfirmed_twin(unit),
                None,
                "transfer {step} approves a spend of attacker nonce {} whose twin is undecided",
                unit.tx.body.nonce
            );
        }
        let tips = dag.tips().as_slice();
        if tips.iter().any(|tip| dag.get(tip).is_some_and(|u| dag.unconfirmed_twin(u).is_some())) {
            undecided_at += 1;
        }
    }
    // Most transfers must have had an undecided spend among the tips to choose from.
    assert!(undecided_at > 50, "only {undecided_at} transfers saw an undecided spend");
}
