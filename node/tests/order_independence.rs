#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! Two nodes fed the same units in different orders reach the same checkpoint chain and the same
//! ledger root; a reorganisation re-derives the ledger exactly.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig};
use vein_node::core::params::{Genesis, Params};
use vein_node::core::random::DetRng;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::{LocalNet, model_genesis};
use vein_node::pump::Collect;

fn params() -> Params {
    Params { target_interval_ms: 1_000, ..Params::default() }
}

/// A recorded history: every unit and checkpoint a busy 4-node network produced, including a
/// conflicting pair of spends, as envelope bytes keyed by id.
fn history()
-> (Genesis, BTreeMap<vein_node::core::hash::Hash, Vec<u8>>, vein_node::core::hash::Hash) {
    let (mut net, keys) = LocalNet::new(5, &[100, 200, 300, 400], params(), 30).unwrap();
    for round in 0..30u64 {
        net.run_until(round * 300);
        net.transfer((round % 4) as usize, keys[((round + 1) % 4) as usize].account(), 10);
        if round == 10 {
            let nonce = net.nodes[3].chain().ledger().next_nonce(&keys[3].account()) + 5;
            for (at, to) in [(0usize, 1usize), (2, 2)] {
                let tx = net.nodes[3]
                    .build_transaction(
                        nonce,
                        TxKind::Transfer { to: keys[to].account(), amount: 3 },
                        5,
                    )
                    .unwrap();
                net.inject(at, tx);
            }
        }
    }
    net.run_until(40_000);
    let node = &net.nodes[0];
    let mut messages = BTreeMap::new();
    for (_, _, event) in &net.events {
        match event {
            Event::UnitAccepted { id, .. } => {
                if let Some(unit) = node.dag().get(id) {
                    messages.insert(*id, Message::Transaction(unit.tx.clone()).encode().unwrap());
                }
            }
            Event::CheckpointAccepted { id, .. } => {
                if let Some(cp) = node.chain().header(id).and_then(|h| h.checkpoint.clone()) {
                    messages.insert(*id, Message::Checkpoint((*cp).clone()).encode().unwrap());
                }
            }
            _ => {}
        }
    }
    let (genesis, _) = model_genesis("localnet", &[100, 200, 300, 400], 1_000_000_000, params());
    (genesis, messages, node.chain().head().id)
}

/// Feed `order` to a fresh, non-mining node, answering its requests from `all` until quiet.
fn replay(
    genesis: &Genesis,
    all: &BTreeMap<vein_node::core::hash::Hash, Vec<u8>>,
    order: &[Vec<u8>],
) -> Node {
    let mut config = NodeConfig::new(
        Arc::new(genesis.clone()),
        vein_node::core::crypto::Keypair::derived("observer", 0),
        [3; 32],
    );
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    node.add_peer(1);
    let now = 10_000_000;
    let mut queue: Vec<Vec<u8>> = order.to_vec();
    for _ in 0..1_000 {
        if queue.is_empty() {
            break;
        }
        for bytes in std::mem::take(&mut queue) {
            node.on_message(now, 1, &bytes);
        }
        for (_, bytes) in Collect::sends(&Collect::at(now).drain(&mut node)) {
            if let Ok(Message::GetUnits(ids)) = Message::decode(bytes) {
                queue.extend(ids.iter().filter_map(|id| all.get(id).cloned()));
            }
        }
    }
    node
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn any_arrival_order_gives_the_same_chain_and_ledger(seed in any::<[u8; 32]>()) {
        let (genesis, all, head) = history();
        let mut order: Vec<Vec<u8>> = all.values().cloned().collect();
        let mut rng = DetRng::from_seed(seed);
        for index in (1..order.len()).rev() {
            order.swap(index, rng.index(index + 1));
        }
        let shuffled = replay(&genesis, &all, &order);
        let sorted = replay(&genesis, &all, &all.values().cloned().collect::<Vec<_>>());
        prop_assert_eq!(shuffled.chain().head().id, head);
        prop_assert_eq!(sorted.chain().head().id, head);
        prop_assert_eq!(shuffled.chain().ledger(), sorted.chain().ledger());
        prop_assert_eq!(shuffled.chain().ledger().root(), sorted.chain().ledger().root());
    }
}

#[test]
fn reorg_rederives_the_ledger_exactly() {
    let (mut net, keys) = LocalNet::new(21, &[100, 100, 100, 100], params(), 30).unwrap();
    net.run_until(5_000);
    net.partition(vec![0, 0, 1, 1]);
    // Different transfers on each side, so the branches hold different ledgers.
    for round in 0..10u64 {
        net.run_until(5_000 + round * 300);
        net.transfer(0, keys[1].account(), 7 + round);
        net.transfer(2, keys[3].account(), 11 + round);
    }
    net.run_until(9_000);
    net.heal();
    net.run_until(60_000);
    let reorgs = net.events.iter().filter(|(_, _, e)| matches!(e, Event::Reorg { .. })).count();
    assert!(reorgs > 0, "the heal caused no reorganisation");
    // After the heal every node holds the same chain prefix; at equal heads, ledgers are equal
    // in full (not just their roots) and every invariant holds.
    let lowest = net.nodes.iter().map(|n| n.chain().height()).min().unwrap();
    let same_head: Vec<&Node> = net
        .nodes
        .iter()
        .filter(|n| n.chain().active_at(lowest) == net.nodes[0].chain().active_at(lowest))
        .collect();
    assert_eq!(same_head.len(), 4);
    let heads: BTreeMap<_, Vec<&Node>> = net.nodes.iter().fold(BTreeMap::new(), |mut map, n| {
        map.entry(n.chain().head().id).or_insert_with(Vec::new).push(n);
        map
    });
    for nodes in heads.values() {
        for node in nodes {
            assert_eq!(node.chain().ledger(), nodes[0].chain().ledger());
            node.chain().ledger().check_invariants().unwrap();
        }
    }
    // Every transfer from both sides ended applied or ignored, never both for one spend key.
    for node in &net.nodes {
        let mut applied = std::collections::BTreeSet::new();
        for (_, _, event) in &net.events {
            if let Event::TxConfirmed { id, outcome: Outcome::Applied, .. } = event
                && let Some(unit) = node.dag().get(id)
                && node.dag().confirmation(id).map(|c| c.outcome) == Some(Outcome::Applied)
            {
                applied.insert((unit.tx.spend_key(), *id));
            }
        }
        let keys: std::collections::BTreeSet<_> = applied.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys.len(), applied.len(), "a spend key applied twice");
    }
}
