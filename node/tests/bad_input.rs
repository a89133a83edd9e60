//! Bad input names the problem: each kind of fault from a peer yields its own counter and event,
//! costs the peer score, and the node keeps running (it still accepts a valid transfer after).

mod common;

use common::{genesis_transfer, with_amount};
use std::sync::Arc;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output};
use vein_node::core::params::Params;
use vein_node::core::transaction::TransactionBody;
use vein_node::core::wire;
use vein_node::localnet::model_genesis;
use vein_node::pump::Collect;

fn events(node: &mut Node) -> Vec<Event> {
    Collect::events(&Collect::at(0).drain(node)).cloned().collect()
}

#[test]
fn each_fault_has_its_own_error_and_the_node_keeps_running() {
    let (genesis, keys) = model_genesis("bad-input", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [1; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    let peer = 7;
    node.add_peer(peer);
    let now = 1_000;

    // Malformed: a valid envelope around garbage.
    let garbage = wire::seal(1, vec![0xff; 10]).unwrap();
    node.on_message(now, peer, &garbage);
    // Oversize: a header claiming a body larger than the limit.
    let mut oversize = vec![0u8, 0, 1, 0];
    oversize.extend_from_slice(&u32::MAX.to_le_bytes());
    node.on_message(now, peer, &oversize);
    // Wrong signature: a transfer whose amount was changed after signing.
    let body = genesis_transfer(keys[1].account(), keys[0].account(), 5, 2, genesis_id, now);
    let forged = with_amount(&body.clone().sign(&keys[1]).unwrap(), 500);
    node.on_message(now, peer, &Message::Transaction(forged).encode().unwrap());
    // Unknown parent: parked as an orphan and the parent requested from the sender.
    let unknown = Hash::of(b"nobody has this");
    let orphan = TransactionBody { parents: [unknown, genesis_id], nonce: 1, ..body.clone() }
        .sign(&keys[1])
        .unwrap();
    node.on_message(now, peer, &Message::Transaction(orphan).encode().unwrap());

    let stats = node.stats().clone();
    assert_eq!(stats.rejected.get("malformed"), Some(&1));
    assert_eq!(stats.rejected.get("oversize"), Some(&1));
    assert_eq!(stats.rejected.get("bad_signature"), Some(&1));
    assert_eq!(stats.units_orphaned, 1);
    let mut requested_parent = false;
    let mut rejections = Vec::new();
    for output in Collect::at(now).drain(&mut node) {
        match output {
            Output::Send { to, bytes } => {
                if let Ok(Message::GetUnits(ids)) = Message::decode(&bytes) {
                    requested_parent |= to == peer && ids.contains(&unknown);
                }
            }
            Output::Event(Event::InputRejected { kind, .. }) => rejections.push(kind),
            _ => {}
        }
    }
    assert!(requested_parent, "the missing parent was not requested");
    assert_eq!(rejections, vec!["malformed", "oversize", "bad_signature"]);
    // The peer lost 20 + 20 + 50 points but is still connected; the node still works.
    assert_eq!(node.peers().find(|(id, _)| **id == peer).map(|(_, s)| *s), Some(10));
    let valid = body.sign(&keys[1]).unwrap();
    node.on_message(now, peer, &Message::Transaction(valid.clone()).encode().unwrap());
    assert!(node.dag().contains(&valid.id().unwrap()));
    assert!(events(&mut node).iter().any(|e| matches!(e, Event::UnitAccepted { .. })));
    // One more bad input pushes the score below zero: the peer is disconnected.
    node.on_message(now, peer, &garbage);
    assert!(node.peers().all(|(id, _)| *id != peer));
}
