#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! A node that restarts from an empty store while its peers keep adding units catches up with
//! the final height they had reached (docs/protocol.md, "Catching up"). Its orphan pool is
//! bounded well below the history it lacks: a node that walks the DAG back from the present
//! (fresh gossip orphaned and chased, every missing checkpoint's parents asked for at once)
//! fills the pool, evicts the ancestors the next checkpoint waits for, and never connects.

use std::sync::Arc;
use vein_node::core::node::{Node, NodeConfig};
use vein_node::core::params::Params;
use vein_node::localnet::{LocalNet, model_genesis};

const CAPACITIES: [u64; 3] = [100, 100, 100];
const CHAIN_ID: &str = "catch-up";
/// Far below the history the restarted node lacks (about 1,500 units).
const ORPHANS_MAX: usize = 256;
/// Transfers per simulated second, from the two nodes that stay up.
const TX_PER_S: u64 = 40;
const RESTARTED: usize = 2;

fn params() -> Params {
    Params { target_interval_ms: 1_000, finality_depth: 2, ..Params::default() }
}

fn config(seed: [u8; 32]) -> NodeConfig {
    let (genesis, keys) = model_genesis(CHAIN_ID, &CAPACITIES, 1_000_000_000, params());
    let mut config = NodeConfig::new(Arc::new(genesis), keys[RESTARTED].clone(), seed);
    config.limits.orphan_units_max = ORPHANS_MAX;
    config
}

/// Transfers from nodes 0 and 1 until `until_ms`, round robin, `TX_PER_S` network-wide.
fn load(net: &mut LocalNet, accounts: &[vein_node::core::crypto::AccountId], until_ms: u64) {
    let step_ms = 1_000 / TX_PER_S;
    let mut now = net.now_ms;
    while now < until_ms {
        now += step_ms;
        net.run_until(now);
        let from = ((now / step_ms) % 2) as usize;
        let to = accounts[(from + 1 + (now / step_ms / 2 % 2) as usize) % 3];
        net.transfer(from, to, 1);
    }
}

#[test]
fn a_node_restarted_empty_under_load_reaches_its_peers_final_height() {
    let (mut net, keys) =
        LocalNet::with_config(CHAIN_ID, 7, &CAPACITIES, params(), 20, |_, config| {
            config.limits.orphan_units_max = ORPHANS_MAX;
        })
        .unwrap();
    net.keep_events = false;
    let accounts: Vec<_> = keys.iter().map(|key| key.account()).collect();
    // A history of about 40 checkpoints and 1,600 units, then node 2 loses its store.
    load(&mut net, &accounts, 40_000);
    let reached = net.nodes[0].chain().final_height();
    assert!(reached >= 20, "the history is too short: final height {reached}");
    let history = net.nodes[0].dag().len() as u64;
    assert!(history > 4 * ORPHANS_MAX as u64, "a history of {history} units");

    let mut restarted = Node::new(config([42; 32])).unwrap();
    assert_eq!(restarted.chain().genesis_id(), net.nodes[0].chain().genesis_id());
    restarted.add_peer(0);
    restarted.add_peer(1);
    net.nodes[RESTARTED] = restarted;
    // The load goes on for 30 more seconds: the node must catch up while it runs, and at a
    // cost in messages proportional to the history it lacks.
    let mut caught_up = None;
    for until_ms in (41_000..=70_000).step_by(1_000) {
        load(&mut net, &accounts, until_ms);
        let node = &net.nodes[RESTARTED];
        let (sent, received) = (node.stats().messages_out, node.stats().messages_in);
        if caught_up.is_none() {
            // Fetching in order asks for each lacking unit about once (a request and an answer
            // each, plus its own relays). Walking back from the present re-requests the same
            // ancestors as the full pool evicts them: over a hundred thousand messages within
            // 4 s of the restart.
            assert!(
                sent <= 10 * history,
                "at {until_ms} ms node {RESTARTED} had sent {sent} messages (received \
                 {received}) and reached final height {} of {reached}, with a history of \
                 {history} units to catch up",
                node.chain().final_height()
            );
            if node.chain().final_height() >= reached {
                caught_up = Some((until_ms, sent, received));
            }
        }
    }
    let node = &net.nodes[RESTARTED];
    let final_height = node.chain().final_height();
    let Some((at_ms, sent, received)) = caught_up else {
        panic!(
            "node {RESTARTED} reached final height {final_height} of {reached} under load: \
             {:?}, {:?}",
            node.state_size(),
            node.stats()
        )
    };
    // What it holds as final is the network's chain.
    for height in 1..=reached {
        assert_eq!(node.chain().active_at(height), net.nodes[0].chain().active_at(height));
    }
    println!(
        "caught up at {at_ms} ms: final height {reached} after {sent} messages sent, {received} \
         received; final height {final_height} at the end (peers {})",
        net.nodes[0].chain().final_height(),
    );
}
