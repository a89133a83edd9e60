#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! A node relays every checkpoint header it accepts, including parked descendants that a late
//! parent releases. Found by the simulator (sim seed 114, docs/simulator.md): after a partition
//! healed, nodes learned a branch tip through a head announcement, parked it, fetched its parent,
//! and relayed only the parent, so the rest of the network saw a branch one checkpoint short and
//! stayed on an equally heavy rival, which a following split then finalised.

use std::sync::Arc;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output};
use vein_node::core::params::{Genesis, Params};
use vein_node::localnet::{LocalNet, model_genesis};

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
    let mut sent = Vec::new();
    while let Some(output) = node.poll_output() {
        if let Output::Send { to, bytes } = output
            && to == peer
            && matches!(Message::decode(&bytes), Ok(Message::Checkpoint(_)))
        {
            sent.push(bytes.to_vec());
        }
    }
    sent
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
