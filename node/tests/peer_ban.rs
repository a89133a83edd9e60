//! A peer whose score falls below the minimum is disconnected and banned: its next frames are
//! dropped unread (it does not come back at full score with its next frame), and after the ban
//! it is heard again, starting over at the initial score.

mod common;

use common::genesis_transfer;
use std::sync::Arc;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output};
use vein_node::core::params::Params;
use vein_node::core::wire;
use vein_node::localnet::model_genesis;
use vein_node::pump::Collect;

#[test]
fn a_peer_below_the_minimum_is_banned_until_its_ban_ends() {
    let (genesis, keys) = model_genesis("peer-ban", &[100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let mut config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [1; 32]);
    config.mining = false;
    let ban_ms = config.limits.peer_ban_ms;
    let mut node = Node::new(config).unwrap();
    let hostile = 7;
    let now = 1_000;

    // Malformed envelopes cost 20 each: the sixth takes the score from 0 to -20, below 0.
    let garbage = wire::seal(1, vec![0xff; 10]).unwrap();
    for _ in 0..6 {
        node.on_message(now, hostile, &garbage);
    }
    let disconnected = Collect::at(now)
        .drain(&mut node)
        .iter()
        .any(|output| matches!(output, Output::Disconnect { peer } if *peer == hostile));
    assert!(disconnected, "the driver is told to disconnect the peer");
    assert!(node.peers().all(|(peer, _)| *peer != hostile));
    assert_eq!(node.banned().collect::<Vec<_>>(), vec![(&hostile, &(now + ban_ms))]);

    // During the ban even a valid transfer from it is dropped unread, and it is not re-added.
    let body = genesis_transfer(keys[1].account(), keys[0].account(), 5, 1, genesis_id, now);
    let valid = Message::Transaction(body.sign(&keys[1]).unwrap()).encode().unwrap();
    node.on_message(now + ban_ms - 1, hostile, &valid);
    assert_eq!(node.stats().messages_from_banned, 1);
    assert!(node.peers().all(|(peer, _)| *peer != hostile), "a banned peer is not re-added");
    assert_eq!(node.stats().units_accepted, 0);

    // After the ban the same transfer is heard, and the peer starts over at 100.
    node.on_message(now + ban_ms, hostile, &valid);
    assert_eq!(node.stats().messages_from_banned, 1);
    assert_eq!(node.peers().find(|(peer, _)| **peer == hostile).map(|(_, s)| *s), Some(100));
    assert_eq!(node.stats().units_accepted, 1);
    assert_eq!(node.banned().count(), 0);
}
