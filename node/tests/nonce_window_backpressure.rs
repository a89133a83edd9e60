//! A node's wallet refuses to sign a transfer whose nonce lies beyond the confirmed floor's window:
//! such a unit cannot apply until the floor moves, so nothing approves it and every cone that
//! holds it is ineligible. Signed anyway (as before), a node issuing faster than checkpoints
//! confirmed filled the DAG with them and the 4-node testnet stalled at 1,000 tx/s.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use vein_node::core::ledger::NONCE_WINDOW;
use vein_node::core::node::{Node, NodeConfig, RejectReason};
use vein_node::core::params::Params;
use vein_node::localnet::model_genesis;

#[test]
fn the_wallet_stops_at_the_nonce_window() {
    let (genesis, keys) =
        model_genesis("nonce-window", &[1_000_000_000, 100], 1_000_000, Params::default());
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [3; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    for nonce in 0..NONCE_WINDOW {
        let unit = node.transfer(1_000, keys[1].account(), 1, 10).unwrap();
        assert_eq!(unit.tx.body.nonce, nonce);
    }
    assert_eq!(
        node.transfer(1_000, keys[1].account(), 1, 10).unwrap_err(),
        RejectReason::NonceWindowFull { nonce: NONCE_WINDOW, floor: 0 }
    );
    // Every unit signed was eligible: tip selection never had to fall back.
    assert_eq!(node.tip_stats().fallbacks, 0);
}
