#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! Persistence is an output of the core (`Output::Persist`, `Output::SyncBeforeFinal`), not
//! something an environment infers from events: every accepted unit and checkpoint is handed out
//! as a record once, in acceptance order; every final event comes right after a sync request
//! and after the record of the checkpoint it reports; a replay of the records rebuilds the node
//! and asks to persist nothing again.

use std::collections::BTreeSet;
use std::sync::Arc;
use vein_node::core::checkpoint::Checkpoint;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output};
use vein_node::core::params::{Genesis, Params};
use vein_node::core::record::{Record, RecordKind};
use vein_node::localnet::{LocalNet, model_genesis};
use vein_node::pump::Collect;

const CAPACITIES: [u64; 3] = [100, 200, 300];
const NOW_MS: u64 = 10_000_000;

fn params() -> Params {
    Params { target_interval_ms: 1_000, ..Params::default() }
}

/// The records node 0 of a busy model network asked to persist, in order, and its genesis.
fn history() -> (Genesis, Vec<Record>) {
    let (mut net, keys) = LocalNet::new(4, &CAPACITIES, params(), 30).unwrap();
    net.keep_records = true;
    for round in 0..40u64 {
        net.run_until(round * 400);
        net.transfer((round % 3) as usize, keys[((round + 1) % 3) as usize].account(), 10);
    }
    net.run_until(30_000);
    let records = net.records.drain(..).filter(|(node, _)| *node == 0).map(|(_, r)| r).collect();
    (model_genesis("localnet", &CAPACITIES, 1_000_000_000, params()).0, records)
}

fn observer(genesis: &Genesis) -> Node {
    let key = vein_node::core::crypto::Keypair::derived("observer", 0);
    let mut config = NodeConfig::new(Arc::new(genesis.clone()), key, [5; 32]);
    config.mining = false;
    let mut node = Node::new(config).unwrap();
    node.add_peer(1);
    node
}

/// The message that carries `record` on the wire.
fn message(record: &Record) -> Vec<u8> {
    match record {
        Record::Unit { envelope, .. } => envelope.to_vec(),
        Record::Checkpoint { bytes, .. } => {
            Message::Checkpoint(Checkpoint::decode(bytes).unwrap()).encode().unwrap()
        }
    }
}

#[test]
fn records_and_syncs_come_before_what_rests_on_them() {
    let (genesis, history) = history();
    assert!(history.iter().any(|record| record.kind() == RecordKind::Checkpoint));
    let mut node = observer(&genesis);
    let mut collect = Collect::at(NOW_MS);
    let mut outputs = Vec::new();
    for record in &history {
        node.on_message(NOW_MS, 1, &message(record));
        outputs.extend(collect.drain(&mut node));
    }
    let mut persisted: BTreeSet<Hash> = BTreeSet::new();
    let mut accepted = 0;
    let mut finals = 0;
    for (position, output) in outputs.iter().enumerate() {
        match output {
            Output::Persist(record) => {
                assert_eq!(*record.id(), Hash::of(record.bytes()), "a record of other bytes");
                assert!(persisted.insert(*record.id()), "{record:?} persisted twice");
            }
            Output::Event(Event::UnitAccepted { .. } | Event::CheckpointAccepted { .. }) => {
                accepted += 1;
            }
            Output::Event(Event::CheckpointFinal { id, .. }) => {
                finals += 1;
                let before = position.checked_sub(1).map(|index| &outputs[index]);
                assert_eq!(before, Some(&Output::SyncBeforeFinal), "final {id} without a sync");
                assert!(persisted.contains(id), "final {id} before its record");
            }
            _ => {}
        }
    }
    assert!(finals > 0, "nothing became final");
    assert_eq!(persisted.len(), accepted, "one record per accepted unit and checkpoint");
    let accepted_ids: BTreeSet<Hash> = Collect::events(&outputs)
        .filter_map(|event| match event {
            Event::UnitAccepted { id, .. } | Event::CheckpointAccepted { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(persisted, accepted_ids);

    // Replay: the same node again, and nothing asked to be persisted twice.
    let records: Vec<Record> = Collect::records(&outputs).cloned().collect();
    let mut restarted = observer(&genesis);
    let mut replayed = Vec::new();
    for record in &records {
        restarted.restore(NOW_MS, record.kind(), record.bytes());
        replayed.extend(Collect::at(NOW_MS).drain(&mut restarted));
    }
    assert_eq!(Collect::records(&replayed).count(), 0, "a replayed record persisted again");
    assert_eq!(restarted.chain().head().id, node.chain().head().id);
    assert_eq!(restarted.chain().ledger(), node.chain().ledger());
}
