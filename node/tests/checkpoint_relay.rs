#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! A node relays every checkpoint header it accepts, including parked descendants that a late
//! parent releases. Found by the simulator (sim seed 114, docs/simulator.md): after a partition
//! healed, nodes learned a branch tip through a head announcement, parked it, fetched its parent,
//! and relayed only the parent, so the rest of the network saw a branch one checkpoint short and
//! stayed on an equally heavy rival, which a following split then finalised.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use vein_node::core::dag::Unit;
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, SharedUnitCache, UnitCache};
use vein_node::core::params::{Genesis, Params};
use vein_node::localnet::{LocalNet, model_genesis};
use vein_node::pump::Collect;

const CAPACITIES: [u64; 3] = [100, 200, 300];

fn params() -> Params {
    Params { target_interval_ms: 1_000, ..Params::default() }
}

/// The encoded checkpoints of a short history's active chain, heights 1 and up.
fn chain() -> (Genesis, Vec<Vec<u8>>) {
    let (mut net, _) = LocalNet::new(3, &CAPACITIES, params(), 30).unwrap();
    net.run_until(12_000);
    let node = &net.nodes[0];
    let checkpoints: Vec<Vec<u8>> = (1..=node.chain().height())
        .map(|height| {
            let id = node.chain().active_at(height).unwrap();
            let checkpoint = node.chain().header(&id).unwrap().checkpoint.clone().unwrap();
            Message::Checkpoint((*checkpoint).clone()).encode().unwrap()
        })
        .collect();
    let (genesis, _) = model_genesis("localnet", &CAPACITIES, 1_000_000_000, params());
    (genesis, checkpoints)
}

/// Checkpoints (as envelope bytes) the node sent to `peer` since the last call.
fn sent_to(node: &mut Node, peer: u64) -> Vec<Vec<u8>> {
    let outputs = Collect::at(0).drain(node);
    Collect::sends(&outputs)
        .filter(|(to, bytes)| {
            *to == peer && matches!(Message::decode(bytes), Ok(Message::Checkpoint(_)))
        })
        .map(|(_, bytes)| bytes.to_vec())
        .collect()
}

#[test]
fn a_released_descendant_is_relayed_with_its_parent() {
    let (genesis, checkpoints) = chain();
    assert!(checkpoints.len() >= 4, "only {} checkpoints", checkpoints.len());
    let mut config = NodeConfig::new(
        Arc::new(genesis),
        vein_node::core::crypto::Keypair::derived("o", 0),
        [7; 32],
    );
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    let (source, other) = (1, 2);
    node.add_peer(source);
    node.add_peer(other);
    let now = 10_000_000;
    let tip = checkpoints.len() - 1;
    for bytes in &checkpoints[..tip - 1] {
        node.on_message(now, source, bytes);
    }
    let _ = sent_to(&mut node, other);
    // The tip first: its parent is unknown, so it is parked and the parent requested.
    node.on_message(now, source, &checkpoints[tip]);
    assert!(sent_to(&mut node, other).is_empty(), "a parked checkpoint is not relayed");
    // The parent arrives and releases the tip: both are new headers, and both go out.
    node.on_message(now, source, &checkpoints[tip - 1]);
    let relayed = sent_to(&mut node, other);
    let Ok(Message::Checkpoint(tip_checkpoint)) = Message::decode(&checkpoints[tip]) else {
        panic!("not a checkpoint")
    };
    assert!(node.chain().header(&tip_checkpoint.id().unwrap()).is_some(), "tip not accepted");
    assert!(relayed.contains(&checkpoints[tip - 1]), "the parent was not relayed");
    assert!(relayed.contains(&checkpoints[tip]), "the released tip was not relayed");
    // Parents before children, so that a peer connects them as they come.
    assert_eq!(relayed, vec![checkpoints[tip - 1].clone(), checkpoints[tip].clone()]);
}

/// A [`SharedUnitCache`] that counts how often it vouched for a checkpoint's signature.
#[derive(Debug, Default)]
struct CountingMemo {
    inner: SharedUnitCache,
    vouched: AtomicU64,
}

impl UnitCache for CountingMemo {
    fn get(&self, key: &Hash) -> Option<Arc<Unit>> {
        self.inner.get(key)
    }
    fn put(&self, key: Hash, unit: Arc<Unit>) {
        self.inner.put(key, unit)
    }
    fn checkpoint_signature_checked(&self, id: &Hash) -> bool {
        let checked = self.inner.checkpoint_signature_checked(id);
        if checked {
            self.vouched.fetch_add(1, Ordering::Relaxed);
        }
        checked
    }
    fn record_checkpoint_signature(&self, id: Hash) {
        self.inner.record_checkpoint_signature(id)
    }
}

/// Nodes of one simulation share checkpoint signature results keyed by the id, which hashes
/// the signature too: a forged signature on a memoised body is a different id and is checked
/// (and refused) like any other.
#[test]
fn a_shared_signature_memo_never_vouches_for_other_bytes() {
    let (genesis, checkpoints) = chain();
    let genesis = Arc::new(genesis);
    let memo = Arc::new(CountingMemo { inner: SharedUnitCache::new(64), ..Default::default() });
    let node = |index: u64| {
        let mut config = NodeConfig::new(
            genesis.clone(),
            vein_node::core::crypto::Keypair::derived("memo", index),
            [index as u8; 32],
        );
        config.mining = false;
        config.unit_cache = Some(memo.clone());
        let mut node = Node::new(config).unwrap();
        node.add_peer(9);
        node
    };
    let (mut first, mut second) = (node(0), node(1));
    let now = 10_000_000;
    let Ok(Message::Checkpoint(original)) = Message::decode(&checkpoints[0]) else {
        panic!("not a checkpoint")
    };
    first.on_message(now, 9, &checkpoints[0]);
    assert!(first.chain().header(&original.id().unwrap()).is_some());
    assert_eq!(memo.vouched.load(Ordering::Relaxed), 0, "the first sight is checked");

    let mut forged = original.clone();
    forged.signature.0[10] ^= 1;
    second.on_message(now, 9, &Message::Checkpoint(forged.clone()).encode().unwrap());
    assert!(second.chain().header(&forged.id().unwrap()).is_none(), "forged signature accepted");
    assert_eq!(memo.vouched.load(Ordering::Relaxed), 0, "memo vouched for other bytes");

    second.on_message(now, 9, &checkpoints[0]);
    assert!(second.chain().header(&original.id().unwrap()).is_some());
    assert_eq!(memo.vouched.load(Ordering::Relaxed), 1, "the memo was not used");
}
