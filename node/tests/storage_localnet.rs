#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! The storage chain end to end on a LocalNet (model plots): an owner stores a file, the
//! assigned nodes prove it every round and are paid exactly, a node that dropped half its
//! chunks fails the rounds its challenges predict and forfeits (burned, recorded), the file
//! recovers from any k shards, foreign and relabelled proofs are ignored, and every node keeps
//! the supply invariant and the same ledger root.

use std::collections::BTreeSet;
use vein_node::core::crypto::AccountId;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::params::{Params, StorageParams};
use vein_node::core::storage::{
    Challenge, MerkleTree, OwnerKey, StorePut, answer, assign, challenge_indices, prepare_file,
    recover_file,
};
use vein_node::core::storage_node::FileRequest;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

/// Three miners and four storage-only nodes.
const CAPACITIES: [u64; 7] = [100, 100, 100, 0, 0, 0, 0];
const KEY: OwnerKey = OwnerKey([42; 32]);

fn params(challenge_count: u32) -> Params {
    Params {
        target_interval_ms: 2_000,
        storage: StorageParams {
            challenge_count,
            proof_deadline_rounds: 3,
            repair_after_missed: 3,
        },
        ..Params::default()
    }
}

fn request(term_rounds: u64, prepaid_fee: u64) -> FileRequest {
    FileRequest {
        data_shards: 2,
        total_shards: 4,
        chunk_bytes: 64,
        term_rounds,
        prepaid_fee,
        fee: 10,
    }
}

/// A ~8 KiB plaintext whose four shards all land on the storage-only nodes 3..=6 (so their
/// balances move only by storage payouts and proof fees). The owner grinds a counter.
fn plaintext_for_storage_nodes(net: &LocalNet) -> Vec<u8> {
    let storage_only: BTreeSet<AccountId> =
        net.nodes[3..].iter().map(|node| node.account()).collect();
    for attempt in 0u32.. {
        let mut plaintext: Vec<u8> = (0..8_000u32).map(|i| (i * 13 % 256) as u8).collect();
        plaintext.extend_from_slice(&attempt.to_le_bytes());
        let prepared = prepare_file(&plaintext, &KEY, 2, 4, 64).unwrap();
        let nodes = assign(&prepared.file_id, 4, net.nodes[0].chain().storage_nodes()).unwrap();
        if nodes.iter().all(|node| storage_only.contains(node)) {
            return plaintext;
        }
    }
    unreachable!()
}

fn node_index(net: &LocalNet, account: &AccountId) -> usize {
    net.nodes.iter().position(|node| node.account() == *account).unwrap()
}

/// Run in 1 s steps until node 0 has settled the contract's last round, checking the supply
/// invariant on every node at every step.
fn run_until_closed(net: &mut LocalNet, file_id: &Hash, limit_ms: u64) {
    let deadline = net.now_ms + limit_ms;
    loop {
        let next = net.now_ms + 1_000;
        net.run_until(next);
        for node in &net.nodes {
            node.chain().ledger().check_invariants().unwrap();
        }
        let closed = net.events.iter().any(|(_, node, event)| {
            *node == 0
                && matches!(event, Event::StorageSettled { file_id: f, closed: true, .. }
                    if f == file_id)
        });
        if closed && net.nodes[0].chain().ledger().contract(file_id).is_none() {
            return;
        }
        assert!(net.now_ms < deadline, "contract not closed by {} ms", net.now_ms);
    }
}

/// Nodes on the same head hold the same ledger root, and every node agrees with node 0 on the
/// chain just below the lowest head (so on its signed, locally re-derived ledger roots).
fn assert_agreement(net: &LocalNet) {
    // A checkpoint may be in flight at any instant: compare a little below the lowest head.
    let lowest = net.nodes.iter().map(|node| node.chain().height()).min().unwrap();
    assert!(lowest > 2);
    let lowest = lowest - 2;
    for node in &net.nodes {
        let id = node.chain().active_at(lowest).unwrap();
        assert_eq!(Some(id), net.nodes[0].chain().active_at(lowest));
        assert_eq!(
            node.chain().header(&id).unwrap().ledger_root,
            net.nodes[0].chain().header(&id).unwrap().ledger_root
        );
        if node.chain().head().id == net.nodes[0].chain().head().id {
            assert_eq!(node.chain().ledger().root(), net.nodes[0].chain().ledger().root());
        }
    }
}

/// Share of shard `shard` over the whole term, computed by hand from the rule in
/// docs/storage.md: round r gets fee / T + [r < fee mod T], shard i gets budget / n + [i < budget
/// mod n].
fn term_share(put: &StorePut, shard: u64) -> u64 {
    let (fee, term, n) = (put.prepaid_fee, put.term_rounds, u64::from(put.total_shards));
    (0..term)
        .map(|r| {
            let budget = fee / term + u64::from(r < fee % term);
            budget / n + u64::from(shard < budget % n)
        })
        .sum()
}

#[test]
fn stored_file_is_proven_every_round_and_nodes_are_paid_exactly() {
    let (mut net, _) = LocalNet::new(21, &CAPACITIES, params(16), 50).unwrap();
    net.run_until(4_000);
    let plaintext = plaintext_for_storage_nodes(&net);
    let holders: Vec<usize> = {
        let prepared = prepare_file(&plaintext, &KEY, 2, 4, 64).unwrap();
        assign(&prepared.file_id, 4, net.nodes[0].chain().storage_nodes())
            .unwrap()
            .iter()
            .map(|account| node_index(&net, account))
            .collect()
    };
    let before: Vec<u64> = holders
        .iter()
        .map(|i| net.nodes[0].chain().ledger().balance(&net.nodes[*i].account()))
        .collect();
    let stored = net.store_file(0, &plaintext, &KEY, &request(10, 10_007)).unwrap();
    let file_id = stored.put.file_id;
    run_until_closed(&mut net, &file_id, 120_000);

    // Every settled round of the final chain proved every shard.
    let settled: Vec<(u64, Vec<u8>)> = net
        .events
        .iter()
        .filter_map(|(_, node, event)| match event {
            Event::StorageSettled { file_id: f, round, missed_shards, .. }
                if *node == 0 && *f == file_id =>
            {
                Some((*round, missed_shards.clone()))
            }
            _ => None,
        })
        .collect();
    let rounds: BTreeSet<u64> = settled.iter().map(|(round, _)| *round).collect();
    assert_eq!(rounds.len(), 10);
    let last_per_round: Vec<&Vec<u8>> = rounds
        .iter()
        .map(|round| &settled.iter().rev().find(|(r, _)| r == round).unwrap().1)
        .collect();
    assert!(last_per_round.iter().all(|missed| missed.is_empty()), "{settled:?}");

    // Balance change = the term's shares minus one fee (1) per applied proof (one per round).
    let ledger = net.nodes[0].chain().ledger();
    for (shard, index) in holders.iter().enumerate() {
        let after = ledger.balance(&net.nodes[*index].account());
        let expected = term_share(&stored.put, shard as u64) - stored.put.term_rounds;
        assert_eq!(after - before[shard], expected, "shard {shard} on node {index}");
    }
    let paid: u64 = (0..4).map(|shard| term_share(&stored.put, shard)).sum();
    assert_eq!(paid, stored.put.prepaid_fee);
    assert_eq!(ledger.escrowed(), 0);
    for index in &holders {
        assert!(net.nodes[*index].storage_stats().proofs_sent >= 10);
        assert_eq!(net.nodes[*index].storage_stats().proofs_impossible, 0);
    }

    // Any k = 2 of the 4 shards recover the file; the key is the owner's alone.
    let shards = net.fetch_shards(&stored.put);
    for a in 0..4 {
        for b in (a + 1)..4 {
            let subset: Vec<Option<Vec<u8>>> =
                (0..4).map(|i| if i == a || i == b { shards[i].clone() } else { None }).collect();
            let recovered = recover_file(&stored.put, &subset, &KEY).unwrap();
            assert_eq!(recovered.plaintext, plaintext, "shards {a}, {b}");
        }
    }
    assert!(recover_file(&stored.put, &shards, &OwnerKey([1; 32])).is_err());
    let later = net.now_ms + 5_000;
    net.run_until(later);
    assert_agreement(&net);
    assert_eq!(net.conflicting_finality(), None);
}

/// A node drops `fraction` of its shard; returns (recorded misses, settled rounds) after the
/// exact check that the ledger recorded precisely the rounds whose challenges hit a dropped chunk.
fn cheat(fraction: f64, drop_seed: u64) -> (u64, u64) {
    let count = 4usize;
    let (mut net, _) = LocalNet::new(9, &CAPACITIES, params(count as u32), 50).unwrap();
    net.run_until(4_000);
    let plaintext = plaintext_for_storage_nodes(&net);
    let term = 30u64;
    let stored = net.store_file(0, &plaintext, &KEY, &request(term, 30_000)).unwrap();
    let put = stored.put.clone();
    let cheater = node_index(&net, &put.storage_nodes[0]);
    let dropped = net.nodes[cheater].drop_shard_fraction(&put, fraction, drop_seed).unwrap();
    let dropped = dropped[&0].clone();
    let leaf_count = put.leaf_count().unwrap();
    assert_eq!(dropped.len(), (fraction * f64::from(leaf_count)).floor() as usize);

    // Stop just before the last round settles, while the contract still holds the record.
    let deadline = net.now_ms + 200_000;
    loop {
        let next = net.now_ms + 1_000;
        net.run_until(next);
        for node in &net.nodes {
            node.chain().ledger().check_invariants().unwrap();
        }
        let contract = net.nodes[0].chain().ledger().contract(&put.file_id);
        if contract.is_some_and(|c| c.settled_rounds >= term - 1) {
            break;
        }
        assert!(net.now_ms < deadline);
    }
    let chain = net.nodes[0].chain();
    let contract = chain.ledger().contract(&put.file_id).unwrap().clone();
    let mut predicted_misses = 0u64;
    let mut predicted_forfeit = 0u64;
    for round in contract.first_round..contract.first_round + contract.settled_rounds {
        let g = chain.generation_signature_at(round).unwrap();
        let indices = challenge_indices(&g, &put.file_id, 0, round, leaf_count, count);
        if indices.iter().any(|index| dropped.contains(index)) {
            predicted_misses += 1;
            let r = round - contract.first_round;
            let budget = put.prepaid_fee / term + u64::from(r < put.prepaid_fee % term);
            predicted_forfeit += budget / 4 + u64::from(!budget.is_multiple_of(4));
        }
    }
    // Exact: the ledger recorded precisely the rounds the challenges hit a dropped chunk, and
    // the honest shards never missed.
    assert_eq!(contract.missed_rounds[0], predicted_misses);
    assert_eq!(&contract.missed_rounds[1..], &[0, 0, 0]);
    assert_eq!(contract.forfeited, predicted_forfeit);
    let settled = contract.settled_rounds;
    assert_eq!(settled, term - 1);
    assert!(net.nodes[cheater].storage_stats().proofs_impossible >= predicted_misses);
    assert_agreement(&net);
    eprintln!(
        "cheater (f = {fraction}, c = {count}) missed {predicted_misses} of {settled} rounds"
    );
    (predicted_misses, settled)
}

#[test]
fn cheating_node_fails_the_rounds_its_challenges_predict() {
    // Loose binomial bounds (about ±3.5 sd) around 1 − (1 − f)^4 over 29 rounds.
    // f = 0.5: P(miss) = 0.9375, mean 27.2, sd 1.3.
    let (misses, settled) = cheat(0.5, 77);
    assert!((22..=settled).contains(&misses), "{misses}/{settled}");
    // f = 0.1: P(miss) = 0.344, mean 10.0, sd 2.6; passes happen and are paid.
    let (misses, settled) = cheat(0.1, 78);
    assert!((1..=20).contains(&misses), "{misses}/{settled}");
}

#[test]
fn foreign_and_relabelled_proofs_are_ignored() {
    let (mut net, _) = LocalNet::new(5, &CAPACITIES, params(8), 50).unwrap();
    net.run_until(4_000);
    let plaintext = plaintext_for_storage_nodes(&net);
    let stored = net.store_file(0, &plaintext, &KEY, &request(20, 2_000)).unwrap();
    let put = stored.put.clone();
    // Wait until the contract is active and a few rounds old.
    while net.nodes[0]
        .chain()
        .ledger()
        .contract(&put.file_id)
        .is_none_or(|c| net.nodes[0].chain().height() < c.first_round + 2)
    {
        let next = net.now_ms + 500;
        net.run_until(next);
        assert!(net.now_ms < 60_000);
    }
    let round = net.nodes[0].chain().height();
    let g = net.nodes[0].chain().generation_signature_at(round).unwrap();
    let tree = MerkleTree::from_data(&stored.shards[0], 64).unwrap();
    let challenge = Challenge { generation_signature: g, round, count: 8 };
    let genuine = answer(&put, 0, &stored.shards[0], &tree, &challenge).unwrap();
    // A miner that holds no shard submits a genuine proof of shard 0: wrong node.
    let outsider = 1;
    assert!(!put.storage_nodes.contains(&net.nodes[outsider].account()));
    let now = net.now_ms;
    let foreign = net.nodes[outsider]
        .submit(now, TxKind::StorageProof(Box::new(genuine.clone())), 1)
        .unwrap()
        .id;
    // The holder relabels its answer for the next round: the challenge indices differ.
    let holder = node_index(&net, &put.storage_nodes[0]);
    let mut relabelled = genuine;
    relabelled.round = round + 1;
    let relabelled =
        net.nodes[holder].submit(now, TxKind::StorageProof(Box::new(relabelled)), 1).unwrap().id;
    let later = net.now_ms + 20_000;
    net.run_until(later);
    for node in &net.nodes {
        for id in [foreign, relabelled] {
            let confirmation = node.dag().confirmation(&id).expect("confirmed");
            assert_eq!(confirmation.outcome, Outcome::Ignored);
        }
        node.chain().ledger().check_invariants().unwrap();
    }
    // The honest proofs still went through: no shard missed a settled round.
    let contract = net.nodes[0].chain().ledger().contract(&put.file_id).unwrap();
    assert!(contract.settled_rounds >= 3);
    assert_eq!(contract.missed_rounds, vec![0, 0, 0, 0]);
    assert_agreement(&net);
}

#[test]
fn contracts_survive_a_partition_and_the_reorganisation_after_it() {
    let (mut net, _) = LocalNet::new(13, &CAPACITIES, params(8), 50).unwrap();
    net.run_until(4_000);
    let plaintext = plaintext_for_storage_nodes(&net);
    let stored = net.store_file(0, &plaintext, &KEY, &request(40, 4_000)).unwrap();
    let file_id = stored.put.file_id;
    let later = net.now_ms + 10_000;
    net.run_until(later);
    // Miners 0 and 1 with storage nodes 3 and 4 against miner 2 with storage nodes 5 and 6.
    net.partition(vec![0, 0, 1, 0, 0, 1, 1]);
    let later = net.now_ms + 8_000;
    net.run_until(later);
    net.heal();
    let healed_at = net.now_ms;
    let later = net.now_ms + 40_000;
    net.run_until(later);
    for node in &net.nodes {
        node.chain().ledger().check_invariants().unwrap();
    }
    assert_agreement(&net);
    // Nodes on one head hold the same contract record.
    let head = net.nodes[0].chain().head().id;
    let record = net.nodes[0].chain().ledger().contract(&file_id).cloned();
    assert!(record.is_some());
    for node in net.nodes.iter().filter(|n| n.chain().head().id == head) {
        assert_eq!(node.chain().ledger().contract(&file_id).cloned(), record);
    }
    // Rounds settled well after the heal (on node 0's final view of each round) are all proven.
    let mut last_per_round = std::collections::BTreeMap::new();
    for (at, node, event) in &net.events {
        if let Event::StorageSettled { file_id: f, round, missed_shards, .. } = event
            && *node == 0
            && *f == file_id
            && *at > healed_at + 15_000
        {
            last_per_round.insert(*round, missed_shards.clone());
        }
    }
    assert!(last_per_round.len() >= 5, "{last_per_round:?}");
    assert!(last_per_round.values().all(Vec::is_empty), "{last_per_round:?}");
    assert_eq!(net.conflicting_finality(), None);
    // The heal reorganised the minority side, and its storage nodes' proofs made there were
    // ignored; their nonces were reused, so no account is left with a permanent nonce gap.
    assert!(net.events.iter().any(|(_, _, e)| matches!(e, Event::Reorg { .. })));
    let ledger = net.nodes[0].chain().ledger();
    for node in &net.nodes[3..] {
        let account = ledger.account(&node.account()).unwrap();
        assert!(
            account.used_above_floor.len() <= 2,
            "{node:?}: {account:?}",
            node = node.account()
        );
    }
}

#[test]
fn a_shard_whose_node_keeps_missing_is_repaired_to_another_node() {
    let (mut net, _) = LocalNet::new(17, &CAPACITIES, params(8), 50).unwrap();
    net.run_until(4_000);
    let plaintext = plaintext_for_storage_nodes(&net);
    let stored = net.store_file(0, &plaintext, &KEY, &request(60, 6_000)).unwrap();
    let put = stored.put.clone();
    let file_id = put.file_id;
    let departed = put.storage_nodes[0];
    let cheater = node_index(&net, &departed);
    net.nodes[cheater].drop_shard_fraction(&put, 1.0, 1).unwrap();
    let step = |net: &mut LocalNet| {
        let next = net.now_ms + 500;
        net.run_until(next);
        for node in &net.nodes {
            node.chain().ledger().check_invariants().unwrap();
        }
        assert!(net.now_ms < 200_000);
    };
    while net.nodes[0].chain().ledger().contract(&file_id).is_none() {
        step(&mut net);
    }
    // A repair of an honest shard is not due: ignored everywhere.
    let now = net.now_ms;
    let early =
        net.nodes[0].submit(now, TxKind::StoreRepair { file_id, shard_index: 1 }, 1).unwrap().id;
    // Shard 0's node misses every round; after M = 3 in a row anyone may move it.
    while net.nodes[0].chain().ledger().contract(&file_id).unwrap().consecutive_missed[0] < 3 {
        step(&mut net);
    }
    let now = net.now_ms;
    let repair =
        net.nodes[2].submit(now, TxKind::StoreRepair { file_id, shard_index: 0 }, 1).unwrap().id;
    while net.nodes[0].chain().ledger().contract(&file_id).unwrap().put.storage_nodes[0] == departed
    {
        step(&mut net);
    }
    let contract = net.nodes[0].chain().ledger().contract(&file_id).unwrap().clone();
    let successor = contract.put.storage_nodes[0];
    assert!(!put.storage_nodes.contains(&successor));
    assert_eq!(contract.repairs, 1);
    assert_eq!(&contract.put.storage_nodes[1..], &put.storage_nodes[1..]);
    net.deliver_repaired(0, &file_id, 0).unwrap();
    let repaired_at = net.now_ms;
    let later = net.now_ms + 60_000;
    net.run_until(later);
    for node in &net.nodes {
        assert_eq!(node.dag().confirmation(&early).unwrap().outcome, Outcome::Ignored);
        assert_eq!(node.dag().confirmation(&repair).unwrap().outcome, Outcome::Applied);
        node.chain().ledger().check_invariants().unwrap();
    }
    // The new node proves from then on: rounds settled 10 s after the hand-over are all proven.
    let mut last_per_round = std::collections::BTreeMap::new();
    for (at, node, event) in &net.events {
        if let Event::StorageSettled { file_id: f, round, missed_shards, .. } = event
            && *node == 0
            && *f == file_id
            && *at > repaired_at + 10_000
        {
            last_per_round.insert(*round, missed_shards.clone());
        }
    }
    assert!(last_per_round.len() >= 5, "{last_per_round:?}");
    assert!(last_per_round.values().all(Vec::is_empty), "{last_per_round:?}");
    let contract = net.nodes[0].chain().ledger().contract(&file_id).unwrap();
    assert_eq!(contract.consecutive_missed, vec![0, 0, 0, 0]);
    assert!(net.nodes[node_index(&net, &successor)].storage_stats().proofs_sent > 0);
    assert_agreement(&net);
}
