#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! A node whose head is stale (restarted on an old store, or paused) does not forge a burst of
//! checkpoints on it at once: every such checkpoint's deadline has long passed, so nothing
//! would make it wait, and k + 1 of them would be final on this node alone until the network's
//! heavier chain reverted them (docs/protocol.md, "Catching up before forging"). A late forge
//! waits until the head has stood for a grace period; if nothing better arrives (the whole
//! network stalled), it then goes ahead.

use std::sync::Arc;
use vein_node::core::events::Event;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig};
use vein_node::core::params::Params;
use vein_node::core::poc::prover::ModelPlots;
use vein_node::localnet::{LocalNet, model_genesis};
use vein_node::pump::Collect;

const CAPACITIES: [u64; 3] = [100, 200, 300];

fn params() -> Params {
    Params { target_interval_ms: 1_000, ..Params::default() }
}

/// Answer the node's challenges with its model plots; count the checkpoints it won.
fn drain(node: &mut Node, prover: &ModelPlots, now: u64) -> usize {
    let outputs = Collect::proving(now, prover.clone()).drain(node);
    Collect::events(&outputs).filter(|event| matches!(event, Event::CheckpointWon { .. })).count()
}

/// The encoded checkpoints of a short model network's active chain (heights 1 and up) and its
/// head's timestamp.
fn history() -> (Vec<Vec<u8>>, u64) {
    let (mut net, _) = LocalNet::new(3, &CAPACITIES, params(), 30).unwrap();
    net.run_until(8_000);
    encoded_chain(&net.nodes[0])
}

/// `source`'s active chain (heights 1 and up) as encoded checkpoint messages, and its head's
/// timestamp.
fn encoded_chain(source: &Node) -> (Vec<Vec<u8>>, u64) {
    let history = (1..=source.chain().height())
        .map(|height| {
            let id = source.chain().active_at(height).unwrap();
            let checkpoint = source.chain().header(&id).unwrap().checkpoint.clone().unwrap();
            Message::Checkpoint((*checkpoint).clone()).encode().unwrap()
        })
        .collect();
    (history, source.chain().head().timestamp_ms)
}

/// A fresh node of the same genesis with the largest share, its plots, and its announce
/// interval; its only peer is 1.
fn miner() -> (Node, ModelPlots, u64) {
    let (genesis, keys) = model_genesis("localnet", &CAPACITIES, 1_000_000_000, params());
    let config = NodeConfig::new(Arc::new(genesis), keys[2].clone(), [9; 32]);
    let announce_ms = config.announce_interval_ms;
    let mut node = Node::new(config).unwrap();
    node.add_peer(1);
    (node, ModelPlots { account: keys[2].account(), nonces: CAPACITIES[2] }, announce_ms)
}

#[test]
fn a_stale_head_is_not_mined_on_at_once() {
    // A short history: the node below joins with it long after it ended.
    let (history, head_ms) = history();
    assert!(history.len() >= 3, "only {} checkpoints", history.len());

    // The node with the largest share, started 60 s after the head was forged.
    let (mut node, prover, announce_ms) = miner();
    let start = head_ms + 60_000;
    for bytes in &history {
        node.on_message(start, 1, bytes);
    }
    assert_eq!(node.chain().height(), history.len() as u64);

    // Within the grace period: its forge is due (long ago) but deferred, and the driver is not
    // asked to wake before the grace ends (no busy loop on a past deadline).
    let mut now = start;
    let mut won = 0;
    while now < start + announce_ms {
        node.on_tick(now);
        won += drain(&mut node, &prover, now);
        let wake = node.poll_timeout().unwrap();
        assert!(wake > now, "asked to wake at {wake} at {now}");
        now = wake.min(now + 100);
    }
    assert_eq!(won, 0, "forged on a stale head during the grace period");

    // Nothing better arrived (the network stalled, or this node is alone): after the grace it
    // forges on what it has.
    let end = start + 30_000;
    while now < end && won == 0 {
        node.on_tick(now);
        won += drain(&mut node, &prover, now);
        now = node.poll_timeout().unwrap().clamp(now + 1, now + 100);
    }
    assert!(won > 0, "a stalled network never resumed");
    assert!(now > start + 2 * announce_ms, "forged {} ms after the start", now - start);
}

#[test]
fn a_reorg_to_an_older_branch_does_not_hold_back_a_running_node() {
    // The rule only covers the start: a running node that switches to a released branch with
    // old timestamps (a selfish miner's) forges on it at once, as before.
    let (history, head_ms) = history();
    let (mut node, prover, announce_ms) = miner();
    // Running since long before the history ends, then handed the whole branch late.
    let start = head_ms.saturating_sub(60_000);
    node.on_tick(start);
    drain(&mut node, &prover, start);
    let late = head_ms + 60_000;
    for bytes in &history {
        node.on_message(late, 1, bytes);
    }
    let mut won = drain(&mut node, &prover, late);
    let mut now = late;
    while now < late + announce_ms && won == 0 {
        node.on_tick(now);
        won += drain(&mut node, &prover, now);
        now = node.poll_timeout().unwrap().clamp(now + 1, now + 100);
    }
    assert!(won > 0, "a running node held back its forge on a late branch");
}

/// A model network's checkpoints (heights 1 and up, encoded), its head's timestamp, and the
/// height up to which they confirm no unit: transfers start only after that height, so a node
/// handed the checkpoints alone connects that far and holds the rest as headers whose units
/// are missing.
fn history_with_units_above() -> (Vec<Vec<u8>>, u64, u64) {
    let (mut net, _) = LocalNet::new(3, &CAPACITIES, params(), 30).unwrap();
    let mut now = 0;
    while net.nodes[0].chain().height() < 2 {
        now += 100;
        net.run_until(now);
    }
    let bare = net.nodes[0].chain().height();
    let to = net.nodes[1].account();
    for _ in 0..40 {
        net.transfer(0, to, 1).unwrap();
        now += 200;
        net.run_until(now);
    }
    net.run_until(now + 3_000);
    let (history, head_ms) = encoded_chain(&net.nodes[0]);
    (history, head_ms, bare)
}

#[test]
fn a_late_forge_waits_for_a_heavier_branch_it_knows_of_but_not_forever() {
    // The node restarts long after the network moved on and hears of the network's chain (the
    // headers, valid and heavier) before their units arrive: it must not mine a burst in the
    // past on its stale head meanwhile. That burst carries the node's share of all the time it
    // was away, which against a network slowed by delays can outweigh k checkpoints. Without
    // the hold it forges as soon as the start's grace ends.
    let (history, head_ms, bare) = history_with_units_above();
    let (mut node, prover, announce_ms) = miner();
    let start = head_ms + 60_000;
    for bytes in &history {
        node.on_message(start, 1, bytes);
    }
    let height = node.chain().height();
    assert!(height >= bare && height < history.len() as u64, "connected {height}");
    assert!(node.chain().heavier_candidate_known());

    let interval = announce_ms.max(params().target_interval_ms);
    let mut now = start;
    let mut won = 0;
    while now < start + 10 * interval {
        node.on_tick(now);
        won += drain(&mut node, &prover, now);
        let wake = node.poll_timeout().unwrap();
        assert!(wake > now, "asked to wake at {wake} at {now}");
        now = wake.min(now + 100);
    }
    assert_eq!(won, 0, "forged on a stale head while a heavier branch was known");
    assert_eq!(node.chain().height(), height);

    // The units never come (an attacker's header, or every peer gone): after the bound the
    // node forges on what it has, so a stalled network still resumes.
    let end = start + 40 * interval;
    while now < end && won == 0 {
        node.on_tick(now);
        won += drain(&mut node, &prover, now);
        now = node.poll_timeout().unwrap().clamp(now + 1, now + 100);
    }
    assert!(won > 0, "a late forge waited forever for units that never came");
}
