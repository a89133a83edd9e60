//! A transfer of amount 0 moves nothing: it only spends a fee and a nonce to add a unit to the
//! DAG. Every node refuses it at admission, from its own wallet and from peers, with its own
//! reject reason (`zero_amount` in `vein_rejected_total`).
#![allow(clippy::unwrap_used)]

mod common;

use common::genesis_transfer;
use std::sync::Arc;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, RejectReason};
use vein_node::core::params::Params;
use vein_node::localnet::model_genesis;

#[test]
fn a_zero_amount_transfer_is_refused_from_the_wallet_and_from_peers() {
    let (genesis, keys) = model_genesis("zero-amount", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [3; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    assert_eq!(
        node.transfer(1_000, keys[1].account(), 0, 10).unwrap_err(),
        RejectReason::ZeroAmount
    );
    let peer = 9;
    node.add_peer(peer);
    let body = genesis_transfer(keys[1].account(), keys[0].account(), 0, 10, genesis_id, 1_000);
    let tx = body.sign(&keys[1]).unwrap();
    let id = tx.id().unwrap();
    node.on_message(1_000, peer, &Message::Transaction(tx).encode().unwrap());
    assert!(!node.dag().knows(&id));
    assert_eq!(node.stats().rejected.get("zero_amount"), Some(&1));
    // The smallest transfer that moves something is still taken.
    assert!(node.transfer(1_000, keys[1].account(), 1, 10).is_ok());
}
