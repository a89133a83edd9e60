//! The node's wallet never reuses a nonce a unit in its DAG already spends, also when the wallet
//! did not sign that unit itself: a client holding the node's key submitted it (the API's
//! signed `POST /tx`), or it was signed before a restart. Reusing it made the node double-spend
//! itself, and one of the two transfers was lost.
#![allow(clippy::unwrap_used)]

mod common;

use common::genesis_transfer;
use std::sync::Arc;
use vein_node::core::node::{Node, NodeConfig};
use vein_node::core::params::Params;
use vein_node::localnet::model_genesis;

#[test]
fn the_wallet_skips_nonces_spent_by_units_it_did_not_sign() {
    let (genesis, keys) = model_genesis("wallet-nonces", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [5; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    // A client signs nonces 0 and 2 with the node's key and submits them.
    for nonce in [0, 2] {
        let mut body =
            genesis_transfer(keys[0].account(), keys[1].account(), 7, 1, genesis_id, 1_000);
        body.nonce = nonce;
        node.accept_transaction(body.sign(&keys[0]).unwrap(), None).unwrap();
    }
    // The wallet's own transfers take the free nonces around them, each accepted.
    let first = node.transfer(1_000, keys[1].account(), 3, 1).unwrap();
    let second = node.transfer(1_000, keys[1].account(), 4, 1).unwrap();
    assert_eq!(first.tx.body.nonce, 1);
    assert_eq!(second.tx.body.nonce, 3);
    assert!(node.dag().unconfirmed_twin(&first).is_none());
    assert!(node.dag().unconfirmed_twin(&second).is_none());
}
