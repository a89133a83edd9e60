//! Bounded state (docs/protocol.md, "Bounded state"): over thousands of units a pruning node
//! holds a number of units, undo logs, headers and links bounded by the parameters, and its
//! ledger equals a non-pruning node's; old units, old checkpoints and requests for pruned units
//! get typed outcomes; a node rebuilt from the log a driver would have written (everything it
//! accepted, in order) replays to the same state while pruning as it reads.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output, StateSize};
use vein_node::core::params::Params;
use vein_node::core::record::RecordKind;
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::localnet::LocalNet;

const INTERVAL_MS: u64 = 1_000;
const FINALITY: u64 = 3;
const REORG_LIMIT: u64 = 8;
/// Transfers per simulated second, network-wide.
const TX_PER_S: u64 = 10;
/// Simulated seconds of traffic: about 6,000 units and 600 checkpoints.
const RUN_S: u64 = 600;
/// Node 3 keeps everything: the reference.
const REFERENCE: usize = 3;

fn params() -> Params {
    Params {
        target_interval_ms: INTERVAL_MS,
        finality_depth: FINALITY,
        reorg_limit: REORG_LIMIT,
        ..Params::default()
    }
}

/// Units a pruning node may hold: the units of the last `R + k` checkpoints (`R` above the
/// horizon, and finality may trail the head by `k`) at the mean rate, times 4 for the spread of
/// checkpoint intervals (a sum of exponentials; a 4x excursion over 11 intervals has probability
/// below 1e-4). No loss here, so no orphans.
fn unit_bound() -> usize {
    (4 * (REORG_LIMIT + FINALITY) * INTERVAL_MS * TX_PER_S / 1_000) as usize
}

fn net() -> (LocalNet, Vec<Keypair>) {
    let (mut net, keys) = LocalNet::with_config(
        "bounded",
        5,
        &[100, 100, 100, 100],
        params(),
        20,
        |index, config| {
            config.limits.prune = index != REFERENCE;
        },
    )
    .unwrap();
    // The log is what the test needs; events would only grow the harness.
    net.keep_events = false;
    net.keep_records = true;
    (net, keys)
}

/// The records node `index` asked to persist since the last call, in order: the log its
/// driver would have appended (LocalNet keeps them, `keep_records`).
fn persist(net: &mut LocalNet, index: usize, log: &mut Vec<(RecordKind, Vec<u8>)>) {
    for (node, record) in net.records.drain(..) {
        if node == index {
            log.push((record.kind(), record.bytes().to_vec()));
        }
    }
}

fn assert_bounded(size: &StateSize, when: &str) {
    let units = unit_bound();
    assert!(size.dag_units <= units, "{when}: {} units held, bound {units}", size.dag_units);
    // Pruned ids stay known for R more heights (or while referenced).
    assert!(size.pruned_ids <= 2 * units, "{when}: {} pruned ids", size.pruned_ids);
    let undo_max = REORG_LIMIT as usize + 2;
    assert!(size.chain.undo_records <= undo_max, "{when}: {} undo logs", size.chain.undo_records);
    assert!(size.chain.confirmed_records <= size.dag_units, "{when}: confirmed records");
    // Links: R + k above the horizon (finality trails by k), 256 below for the finality rate.
    let links_max = (REORG_LIMIT + FINALITY + 256 + 2) as usize;
    assert!(size.chain.links <= links_max, "{when}: {} links", size.chain.links);
    // Active headers: R + k above the horizon, 24 below for retargeting; forks at most double.
    let headers_max = 2 * (REORG_LIMIT + FINALITY + 24 + 2) as usize;
    assert!(size.chain.headers <= headers_max, "{when}: {} headers", size.chain.headers);
    assert!(size.orphans == 0 && size.chain.waiting == 0, "{when}: {size:?}");
}

#[test]
fn a_long_run_keeps_state_bounded_and_the_ledger_exact() {
    let (mut net, keys) = net();
    let mut log = Vec::new();
    let mut peak = StateSize::default();
    let step_ms = 1_000 / TX_PER_S;
    let mut sent = 0u64;
    for tick in 0..(RUN_S * 1_000 / step_ms) {
        let now = tick * step_ms;
        let from = (tick % 4) as usize;
        let to = keys[(from + 1 + ((tick / 4) % 3) as usize) % 4].account();
        if net.transfer(from, to, 1).is_some() {
            sent += 1;
        }
        while net.step(now) {
            persist(&mut net, 0, &mut log);
        }
        if now.is_multiple_of(10_000) && now > 0 {
            for index in (0..4).filter(|index| *index != REFERENCE) {
                let size = net.nodes[index].state_size();
                assert_bounded(&size, &format!("node {index} at {now} ms"));
                if size.dag_units > peak.dag_units {
                    peak = size;
                }
            }
        }
    }
    // Quiet period: everything confirms, finalises and is pruned down to R + k checkpoints.
    // Then until all heads agree (a checkpoint forged at the deadline is still spreading).
    let mut until = RUN_S * 1_000 + 60_000;
    loop {
        while net.step(until) {
            persist(&mut net, 0, &mut log);
        }
        let head = net.nodes[0].chain().head().id;
        if net.nodes.iter().all(|node| node.chain().head().id == head) {
            break;
        }
        assert!(until < RUN_S * 1_000 + 120_000, "heads never agreed");
        until += 50;
    }

    let reference = &net.nodes[REFERENCE];
    assert!(sent > 5_000, "only {sent} transfers were issued");
    assert!(reference.dag().len() > 5_000, "reference holds {}", reference.dag().len());
    for index in (0..4).filter(|index| *index != REFERENCE) {
        let node = &net.nodes[index];
        assert_eq!(
            (node.chain().height(), node.chain().head().id),
            (reference.chain().height(), reference.chain().head().id),
            "node {index} head ({:?}, {:?})",
            node.state_size(),
            node.stats()
        );
        assert_eq!(node.chain().ledger(), reference.chain().ledger(), "node {index} ledger");
        assert_eq!(node.chain().ledger().root(), reference.chain().ledger().root());
        let size = node.state_size();
        assert_bounded(&size, &format!("node {index} at the end"));
        assert!(size.prune_horizon + REORG_LIMIT + FINALITY >= node.chain().height());
        assert!(node.stats().units_pruned > 5_000, "node {index} pruned too little");
        // Every unit the reference holds above the horizon is held here with its confirmation.
        for height in (size.prune_horizon + 1)..=node.chain().height() {
            assert_eq!(node.chain().active_at(height), reference.chain().active_at(height));
        }
    }
    let size = net.nodes[0].state_size();
    println!(
        "reference holds {} units; pruning node 0 holds {} (peak {}), {} pruned ids, horizon {} \
         of height {}",
        reference.dag().len(),
        size.dag_units,
        peak.dag_units,
        size.pruned_ids,
        size.prune_horizon,
        net.nodes[0].chain().height()
    );

    // Restart: replay the log node 0's driver would have written into a fresh node.
    let config = {
        let mut config = NodeConfig::new(
            Arc::new(reference_genesis(&net)),
            keys[0].clone(),
            Hash::of(b"restart").0,
        );
        config.limits.prune = true;
        config
    };
    let mut restarted = Node::new(config).unwrap();
    for (kind, bytes) in &log {
        restarted.restore(net.now_ms, *kind, bytes);
        while restarted.poll_output().is_some() {}
    }
    assert_eq!(restarted.chain().head().id, net.nodes[0].chain().head().id);
    assert_eq!(restarted.chain().ledger(), net.nodes[0].chain().ledger());
    assert_bounded(&restarted.state_size(), "after replay");
}

fn reference_genesis(net: &LocalNet) -> vein_node::core::params::Genesis {
    // The localnet's genesis, rebuilt the way `LocalNet::with_config` builds it.
    let (genesis, _) = vein_node::localnet::model_genesis(
        "bounded",
        &[100, 100, 100, 100],
        1_000_000_000,
        params(),
    );
    assert_eq!(genesis.id().unwrap(), net.nodes[0].chain().genesis_id());
    genesis
}

#[test]
fn old_units_checkpoints_and_requests_get_typed_outcomes() {
    let (mut net, keys) = net();
    let mut early_unit = None;
    for tick in 0..1_200u64 {
        let now = tick * 100;
        let from = (tick % 4) as usize;
        let to = keys[((from as u64 + 1) % 4) as usize].account();
        let id = net.transfer(from, to, 1);
        if tick == 20 {
            early_unit = id;
        }
        net.run_until(now);
    }
    net.run_until(130_000);
    let early = early_unit.unwrap();
    let now_ms = net.now_ms;
    let (pruning, rest) = net.nodes.split_at_mut(1);
    let reference = &rest[REFERENCE - 1];
    let early_tx = reference.dag().get(&early).unwrap().tx.clone();
    let node = &mut pruning[0];
    assert!(node.dag().get(&early).is_none(), "the early unit should be pruned");
    let horizon = node.chain().prune_horizon();
    assert!(horizon > 20, "horizon {horizon}");

    // 1. A late copy of the pruned early unit. Pruned 100 heights ago it is forgotten (the id
    // window is R): it is then judged as new, and its nonce is used: a typed refusal.
    let before = node.stats().clone();
    let bytes = Message::Transaction(early_tx).encode().unwrap();
    node.on_message(now_ms, 1, &bytes);
    let after = node.stats().clone();
    let typed = after.units_already_final > before.units_already_final
        || after.rejected.get("nonce_used") > before.rejected.get("nonce_used");
    assert!(typed, "a late old unit is AlreadyFinal or NonceUsed: {after:?}");
    assert!(node.dag().get(&early).is_none());

    // 2. A unit still remembered as pruned (confirmed just below the horizon; the parents of
    // the checkpoint at the horizon stay whole, pinned) arriving again, a new unit naming it
    // as a parent (a final reference), and a request for it.
    let horizon = node.chain().prune_horizon() - 1;
    let recent = reference
        .chain()
        .active_at(horizon)
        .and_then(|id| reference.chain().header(&id))
        .and_then(|header| header.checkpoint.clone())
        .unwrap();
    let recent_unit = recent.body.parents[0];
    // Confirmed by that checkpoint, or earlier if it named an already confirmed anchor.
    assert!(node.dag().pruned_height(&recent_unit).is_some_and(|height| height <= horizon));
    let copy = reference.dag().get(&recent_unit).unwrap().tx.clone();
    let before = node.stats().units_already_final;
    node.on_message(now_ms, 1, &Message::Transaction(copy).encode().unwrap());
    assert_eq!(node.stats().units_already_final, before + 1);

    let anchor = node.chain().anchors()[0];
    let key = &keys[2];
    let nonce = node.chain().ledger().next_nonce(&key.account()) + 50;
    let tx = TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Transfer { to: keys[1].account(), amount: 1 },
        fee: 10,
        parents: [recent_unit, anchor],
        issued_at_ms: now_ms,
    }
    .sign(key)
    .unwrap();
    let late = vein_node::core::dag::Unit::new(tx.clone()).unwrap();
    let before = node.stats().units_on_final_parents;
    node.on_message(now_ms, 1, &Message::Transaction(tx).encode().unwrap());
    assert!(node.dag().contains(&late.id), "a unit on a final reference is inserted");
    assert_eq!(node.stats().units_on_final_parents, before + 1);
    assert!(node.dag().unconfirmed_cone(&[late.id], 10).unwrap() == vec![late.id]);
    while node.poll_output().is_some() {}

    let request = Message::GetUnits(vec![recent_unit]).encode().unwrap();
    let before = node.stats().pruned_requests;
    node.on_message(now_ms, 1, &request);
    assert_eq!(node.stats().pruned_requests, before + 1);
    let sent: Vec<Output> = std::iter::from_fn(|| node.poll_output()).collect();
    assert!(sent.iter().all(|output| !matches!(output, Output::Send { .. })), "{sent:?}");

    // 3. An old checkpoint (below the horizon) from a peer: ignored, no penalty.
    let old = reference
        .chain()
        .active_at(5)
        .and_then(|id| reference.chain().header(&id))
        .and_then(|header| header.checkpoint.clone())
        .unwrap();
    let score_before = node.peers().find(|(peer, _)| **peer == 1).map(|(_, s)| *s);
    let before = node.stats().checkpoints_below_horizon;
    node.on_message(now_ms, 1, &Message::Checkpoint((*old).clone()).encode().unwrap());
    assert_eq!(node.stats().checkpoints_below_horizon, before + 1);
    let score_after = node.peers().find(|(peer, _)| **peer == 1).map(|(_, s)| *s);
    assert_eq!(score_before, score_after);
}
