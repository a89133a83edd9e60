//! A transfer to its own author can never apply (the ledger refuses it in every order), so the
//! node refuses it at admission, from its wallet and from peers. Admitted, it became a permanent
//! tip: tip selection never approves a cone holding an invalid unit, so every self-transfer
//! added one tip forever and a workload with random recipients grew hundreds of tips.
#![allow(clippy::unwrap_used)]

mod common;

use common::genesis_transfer;
use std::sync::Arc;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, RejectReason};
use vein_node::core::params::Params;
use vein_node::core::random::DetRng;
use vein_node::core::tips::TipStrategy;
use vein_node::localnet::{LocalNet, model_genesis};

#[test]
fn a_self_transfer_is_refused_from_the_wallet_and_from_peers() {
    let (genesis, keys) = model_genesis("self-transfer", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [3; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    assert_eq!(
        node.transfer(1_000, keys[0].account(), 5, 10).unwrap_err(),
        RejectReason::SelfTransfer
    );
    let peer = 9;
    node.add_peer(peer);
    let body = genesis_transfer(keys[1].account(), keys[1].account(), 5, 10, genesis_id, 1_000);
    let tx = body.sign(&keys[1]).unwrap();
    let id = tx.id().unwrap();
    node.on_message(1_000, peer, &Message::Transaction(tx).encode().unwrap());
    assert!(!node.dag().knows(&id));
    assert_eq!(node.stats().rejected.get("self_transfer"), Some(&1));
    // The node still takes an ordinary transfer.
    assert!(node.transfer(1_000, keys[1].account(), 5, 10).is_ok());
}

/// Wallets paying random accounts, themselves included, under uniform tip selection: the tip
/// count stays near 2λh instead of growing by one per self-payment (it reached ~500 here).
#[test]
fn self_payments_do_not_accumulate_tips() {
    let params = Params { target_interval_ms: 1000, ..Params::default() };
    let (mut net, keys) =
        LocalNet::with_config("self-pay", 5, &[1_000_000; 4], params, 50, |_, config| {
            config.tip_strategy = TipStrategy::Uniform;
        })
        .unwrap();
    net.keep_events = false;
    let mut rng = DetRng::from_seed([7; 32]);
    let mut at_ms = 0.0f64;
    let mut refused = 0;
    let mut largest = 0;
    while at_ms < 60_000.0 {
        at_ms += -(1.0 - rng.unit_f64()).ln() * 50.0; // 20 transfers per second
        net.run_until(at_ms as u64);
        let from = rng.index(4);
        let to = keys[rng.index(4)].account();
        if net.transfer(from, to, 1).is_none() {
            refused += 1;
        }
        if at_ms > 10_000.0 {
            largest = largest.max(net.nodes[0].dag().tips().len());
        }
    }
    // 2λh = 2 · 20 · 0.06 s ≈ 2.4; a bound of 30 leaves room for fluctuations, none for growth.
    assert!(largest < 30, "tips grew to {largest}");
    assert_eq!(net.nodes[0].tip_stats().fallbacks, 0);
    assert!(refused > 100, "only {refused} self-payments were tried");
}
