#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! Units relay the bytes they arrived in, and nodes of one simulation that share a unit cache
//! recognise a shared envelope by its allocation instead of hashing it. The memo is keyed by
//! pointer identity: other bytes, even the same bytes in another allocation, take the normal
//! path (hash, decode, verify).

mod common;

use common::{genesis_transfer, with_amount};
use std::sync::Arc;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, SharedUnitCache, UnitCache};
use vein_node::core::params::Params;
use vein_node::core::transaction::Transaction;
use vein_node::localnet::model_genesis;
use vein_node::pump::Collect;

struct Net {
    nodes: Vec<Node>,
    transfer: Transaction,
    tampered: Transaction,
}

fn net(cache: &Arc<SharedUnitCache>) -> Net {
    let (genesis, keys) = model_genesis("envelopes", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let genesis = Arc::new(genesis);
    let nodes = (0..3u8)
        .map(|index| {
            let mut config =
                NodeConfig::new(genesis.clone(), keys[usize::from(index) % 2].clone(), [index; 32]);
            config.mining = false;
            config.unit_cache = Some(cache.clone());
            let mut node = Node::new(config).unwrap();
            node.add_peer(7);
            node.add_peer(8);
            node
        })
        .collect();
    let body = genesis_transfer(keys[1].account(), keys[0].account(), 5, 2, genesis_id, 1_000);
    let transfer = body.sign(&keys[1]).unwrap();
    let tampered = with_amount(&transfer, 500);
    Net { nodes, transfer, tampered }
}

/// The net, with its transfer's envelope delivered to node 0 (from peer 7).
fn delivered(cache: &Arc<SharedUnitCache>) -> (Net, Arc<Vec<u8>>) {
    let mut net = net(cache);
    let envelope = Arc::new(Message::Transaction(net.transfer.clone()).encode().unwrap());
    net.nodes[0].on_shared_message(1_000, 7, &envelope);
    (net, envelope)
}

/// The transaction envelopes a node sent since the last call.
fn relayed(node: &mut Node) -> Vec<Arc<Vec<u8>>> {
    let outputs = Collect::at(1_000).drain(node);
    Collect::sends(&outputs)
        .filter(|(_, bytes)| matches!(Message::decode(bytes), Ok(Message::Transaction(_))))
        .map(|(_, bytes)| bytes.clone())
        .collect()
}

#[test]
fn a_unit_relays_the_bytes_it_arrived_in() {
    let cache = Arc::new(SharedUnitCache::new(64));
    let (Net { mut nodes, transfer, .. }, envelope) = delivered(&cache);
    assert!(nodes[0].dag().contains(&transfer.id().unwrap()));
    let sent = relayed(&mut nodes[0]);
    assert!(!sent.is_empty(), "the unit was not relayed");
    assert!(sent.iter().all(|bytes| Arc::ptr_eq(bytes, &envelope)), "relayed a re-encoding");
    let cached = cache.unit_for_envelope(&envelope).expect("the envelope was not remembered");
    assert_eq!(cached.id, transfer.id().unwrap());
}

#[test]
fn only_the_same_allocation_is_recognised() {
    let cache = Arc::new(SharedUnitCache::new(64));
    let (Net { mut nodes, transfer, tampered }, envelope) = delivered(&cache);
    // Equal bytes in another allocation: not recognised by address, accepted by content.
    let copy = Arc::new(envelope.to_vec());
    assert!(cache.unit_for_envelope(&copy).is_none());
    nodes[1].on_shared_message(1_000, 7, &copy);
    assert!(nodes[1].dag().contains(&transfer.id().unwrap()));
    // Other bytes are checked as always: a tampered transfer fails its signature.
    let forged = Arc::new(Message::Transaction(tampered.clone()).encode().unwrap());
    assert!(cache.unit_for_envelope(&forged).is_none());
    nodes[2].on_shared_message(1_000, 7, &forged);
    assert!(!nodes[2].dag().contains(&tampered.id().unwrap()));
    assert_eq!(nodes[2].stats().rejected.get("bad_signature"), Some(&1));
    // And the shared envelope itself is known on a node that never saw the unit.
    nodes[2].on_shared_message(1_000, 8, &envelope);
    assert!(nodes[2].dag().contains(&transfer.id().unwrap()));
}

#[test]
fn a_cleared_cache_forgets_addresses() {
    // Capacity 1: remembering a second envelope clears the first, which must then take the
    // normal path rather than a stale entry.
    let cache = Arc::new(SharedUnitCache::new(1));
    let (Net { mut nodes, transfer, .. }, envelope) = delivered(&cache);
    let other = vein_node::core::dag::Unit::new(transfer.clone()).unwrap();
    let _ = other.envelope().unwrap();
    cache.record_envelope(&other);
    assert!(cache.unit_for_envelope(&envelope).is_none());
    nodes[1].on_shared_message(1_000, 7, &envelope);
    assert!(nodes[1].dag().contains(&transfer.id().unwrap()));
}
