#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! A consortium end to end on a LocalNet (model plots): three member nodes and one outsider.
//! Node 0 creates the consortium, the parties write, two parties deny node 2's account, and
//! node 2's write submitted after the deny is ignored by the White Flag order. Each node's
//! events feed a `ReplicaFeed`, as the node process does: every member's replica ends with the
//! same rows and root, the outsider holds no replica and never a plaintext, and every node holds
//! the same ledger root.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use vein_node::consortium_db::{KeyRing, Replica, ReplicaFeed};
use vein_node::core::consortium::keys::{self, DataKey, MemberSecret};
use vein_node::core::consortium::{
    Action, Column, ColumnType, ConsortiumTx, CreateConsortium, PermissionChange, RowOp,
    SealedAction, TableSchema, Value, consortium_id, entry_id, proposal_id,
};
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

const CAPACITIES: [u64; 4] = [100, 100, 100, 100];
const KEY: DataKey = DataKey([21u8; 32]);
const CANARY: &str = "CANARY-consortium-plaintext";

fn write(net: &mut LocalNet, from: usize, id: Hash, row: i64) -> Option<Hash> {
    let action = Action {
        table: "ledger".into(),
        ops: vec![RowOp::Upsert {
            row: vec![Value::Integer(row), Value::Text(format!("{CANARY} {row}"))],
        }],
        salt: [row as u8; 16],
    };
    let sealed = action.seal(&KEY, id, 0).unwrap();
    net.submit(from, TxKind::Consortium(Box::new(ConsortiumTx::Write(sealed))), 10)
}

/// The consortium of nodes 0..=2 (parties and member nodes, quorum 2), created by node 0 at
/// nonce 0, and every node's member secret.
fn create(keys: &[Keypair]) -> (CreateConsortium, Hash, Vec<MemberSecret>) {
    let secrets: Vec<MemberSecret> =
        keys.iter().map(|key| MemberSecret::derived_from_seed(&key.seed())).collect();
    let members = [0usize, 1, 2];
    let id = consortium_id(&keys[0].account(), 0);
    let create = CreateConsortium {
        name: "hospitals".into(),
        parties: members.iter().map(|i| keys[*i].account()).collect::<BTreeSet<_>>(),
        members: members.iter().map(|i| (keys[*i].account(), secrets[*i].public())).collect(),
        tables: vec![TableSchema {
            name: "ledger".into(),
            columns: vec![
                Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                Column { name: "note".into(), column_type: ColumnType::Text, nullable: false },
            ],
            primary_key: 0,
        }],
        quorum: 2,
        wrapped: members
            .iter()
            .map(|i| {
                let wrapped =
                    keys::wrap(&KEY, &id, 0, &secrets[*i].public(), [*i as u8 + 100; 32]).unwrap();
                (keys[*i].account(), wrapped)
            })
            .collect::<BTreeMap<_, _>>(),
    };
    (create, id, secrets)
}

/// A LocalNet of `CAPACITIES` (seed `seed`, T = 2 s) where node 0 creates the consortium at
/// 4 s, run until `until_ms`.
fn net_with_consortium(
    seed: u64,
    until_ms: u64,
) -> (LocalNet, Vec<Keypair>, Hash, Vec<MemberSecret>) {
    let params = Params { target_interval_ms: 2_000, ..Params::default() };
    let (mut net, keys) = LocalNet::new(seed, &CAPACITIES, params, 50).unwrap();
    let (create, id, secrets) = create(&keys);
    net.run_until(4_000);
    net.submit(0, TxKind::Consortium(Box::new(ConsortiumTx::Create(create))), 10).unwrap();
    net.run_until(until_ms);
    (net, keys, id, secrets)
}

#[test]
fn members_replicas_agree_the_outsider_holds_none_and_a_deny_stops_later_writes() {
    let (mut net, keys, id, secrets) = net_with_consortium(7, 20_000);
    assert!(net.nodes[3].chain().ledger().consortia().get(&id).is_some(), "created everywhere");
    for row in 0..6 {
        write(&mut net, (row % 3) as usize, id, row).unwrap();
    }
    net.run_until(30_000);
    let deny = PermissionChange::Deny { account: keys[2].account(), table: None };
    let proposer_nonce = net.nodes[0].chain().ledger().next_nonce(&keys[0].account());
    net.submit(
        0,
        TxKind::Consortium(Box::new(ConsortiumTx::Propose { consortium: id, change: deny })),
        10,
    )
    .unwrap();
    net.run_until(40_000);
    let proposal = proposal_id(&id, &keys[0].account(), proposer_nonce);
    net.submit(
        1,
        TxKind::Consortium(Box::new(ConsortiumTx::Approve { consortium: id, proposal })),
        10,
    )
    .unwrap();
    net.run_until(60_000);
    let consortium = net.nodes[0].chain().ledger().consortia().get(&id).unwrap().clone();
    assert!(!consortium.may_write("ledger", &keys[2].account()), "the deny applied");
    let late = write(&mut net, 2, id, 100).unwrap();
    write(&mut net, 1, id, 101).unwrap();
    net.run_until(120_000);

    let late_outcomes: Vec<Outcome> = net
        .events
        .iter()
        .filter_map(|(_, _, event)| match event {
            Event::TxConfirmed { id, outcome, .. } if *id == late => Some(*outcome),
            _ => None,
        })
        .collect();
    assert!(!late_outcomes.is_empty(), "the late write was ordered");
    assert!(late_outcomes.iter().all(|outcome| *outcome == Outcome::Ignored));

    let mut feeds: Vec<ReplicaFeed> = keys
        .iter()
        .zip(&secrets)
        .map(|(key, secret)| ReplicaFeed::new(key.account(), secret.clone(), None))
        .collect();
    for (_, node, event) in &net.events {
        feeds[*node].on_event(event);
    }
    let roots: Vec<_> = [0usize, 1, 2]
        .iter()
        .map(|i| {
            assert_eq!(feeds[*i].stats.errors, 0, "{:?}", feeds[*i].stats.last_error);
            feeds[*i].replica(&id).unwrap().root()
        })
        .collect();
    assert!(roots.windows(2).all(|pair| pair[0] == pair[1]), "members agree: {roots:?}");
    let replica = feeds[0].replica(&id).unwrap();
    let heights: BTreeSet<u64> = net.nodes.iter().map(|node| node.chain().final_height()).collect();
    assert!(heights.iter().all(|height| *height > 20), "the chain moved on: {heights:?}");
    assert_eq!(replica.get("ledger", &Value::Integer(100)).unwrap(), None, "denied write absent");
    assert!(replica.get("ledger", &Value::Integer(101)).unwrap().is_some());
    for row in 0..6 {
        assert!(replica.get("ledger", &Value::Integer(row)).unwrap().is_some(), "row {row}");
    }
    let rebuilt = replica.rebuild(feeds[0].consortium(&id).unwrap()).unwrap();
    assert_eq!(rebuilt.root(), replica.root());
    assert!(feeds[3].replica(&id).is_none(), "the outsider keeps no replica");
    // The outsider saw the consortium's actions only as ciphertext.
    let outsider_saw_plaintext = net
        .events
        .iter()
        .any(|(_, node, event)| *node == 3 && format!("{event:?}").contains(CANARY));
    assert!(!outsider_saw_plaintext);
    let ledger_roots: BTreeSet<_> =
        net.nodes.iter().map(|node| node.chain().ledger().root()).collect();
    assert_eq!(ledger_roots.len(), 1, "every node holds the same ledger");
}

fn consortium_tx(net: &mut LocalNet, from: usize, tx: ConsortiumTx) {
    net.submit(from, TxKind::Consortium(Box::new(tx)), 10).unwrap();
}

/// Per-entry approval end to end: with `ledger` requiring approval, an entry two parties
/// approve reaches every member's replica at the height of the deciding approval, and one two
/// parties deny reaches none; members agree and a rebuild from the chain gives the same root.
#[test]
fn an_approved_entry_reaches_every_replica_and_a_denied_one_none() {
    let (mut net, keys, id, secrets) = net_with_consortium(11, 20_000);
    let change = PermissionChange::EntryApproval { table: "ledger".into(), required: true };
    let nonce = net.nodes[0].chain().ledger().next_nonce(&keys[0].account());
    consortium_tx(&mut net, 0, ConsortiumTx::Propose { consortium: id, change });
    net.run_until(30_000);
    let proposal = proposal_id(&id, &keys[0].account(), nonce);
    consortium_tx(&mut net, 1, ConsortiumTx::Approve { consortium: id, proposal });
    net.run_until(45_000);
    let consortium = net.nodes[0].chain().ledger().consortia().get(&id).unwrap().clone();
    assert!(consortium.approval_tables.contains("ledger"), "approval required");
    let entry_of = |net: &LocalNet, writer: usize| {
        entry_id(
            &id,
            &keys[writer].account(),
            net.nodes[writer].chain().ledger().next_nonce(&keys[writer].account()),
        )
    };
    let approved = entry_of(&net, 2);
    write(&mut net, 2, id, 1).unwrap();
    let denied = entry_of(&net, 0);
    write(&mut net, 0, id, 2).unwrap();
    net.run_until(65_000);
    let consortia = net.nodes[1].chain().ledger().consortia();
    assert_eq!(consortia.pending_count(&id), 2, "both entries wait");
    assert_eq!(consortia.log(&id).count, 0);
    for voter in [0usize, 1] {
        consortium_tx(
            &mut net,
            voter,
            ConsortiumTx::ApproveEntry { consortium: id, entry: approved },
        );
    }
    for voter in [1usize, 2] {
        consortium_tx(&mut net, voter, ConsortiumTx::DenyEntry { consortium: id, entry: denied });
    }
    net.run_until(120_000);
    let consortia = net.nodes[1].chain().ledger().consortia();
    assert_eq!((consortia.pending_count(&id), consortia.log(&id).count), (0, 1));

    let mut feeds: Vec<ReplicaFeed> = keys
        .iter()
        .zip(&secrets)
        .map(|(key, secret)| ReplicaFeed::new(key.account(), secret.clone(), None))
        .collect();
    for (_, node, event) in &net.events {
        feeds[*node].on_event(event);
    }
    let mut roots = BTreeSet::new();
    for feed in &feeds[..3] {
        assert_eq!(feed.stats.errors, 0, "{:?}", feed.stats.last_error);
        assert_eq!(feed.pending_entries(), 0);
        let replica = feed.replica(&id).unwrap();
        assert!(replica.get("ledger", &Value::Integer(1)).unwrap().is_some(), "approved");
        assert_eq!(replica.get("ledger", &Value::Integer(2)).unwrap(), None, "denied");
        let rebuilt = replica.rebuild(feed.consortium(&id).unwrap()).unwrap();
        assert_eq!(rebuilt.root(), replica.root());
        roots.insert(replica.root());
    }
    assert_eq!(roots.len(), 1, "members agree");
    assert!(feeds[3].replica(&id).is_none() && feeds[3].pending_entries() == 0);
}

/// Writes on both sides of a partition: after the heal one side's checkpoints are disconnected
/// on the other side, and the feed restores those members' replicas below the fork before the
/// winning branch's writes apply. Every member ends with the same rows as a replay of the
/// winning chain's writes alone.
#[test]
fn a_reorg_restores_replicas_and_members_agree_with_a_replay_of_the_winning_chain() {
    let (mut net, keys, id, secrets) = net_with_consortium(11, 30_000);
    net.partition(vec![0, 0, 1, 1]);
    for row in 0..4 {
        write(&mut net, 0, id, row).unwrap();
        write(&mut net, 2, id, 10 + row).unwrap();
        let next = net.now_ms + 3_000;
        net.run_until(next);
    }
    let next = net.now_ms + 20_000;
    net.run_until(next);
    net.heal();
    let next = net.now_ms + 90_000;
    net.run_until(next);

    let mut feeds: Vec<ReplicaFeed> = keys
        .iter()
        .zip(&secrets)
        .map(|(key, secret)| ReplicaFeed::new(key.account(), secret.clone(), None))
        .collect();
    for (_, node, event) in &net.events {
        feeds[*node].on_event(event);
    }
    assert!(
        [0, 1, 2].iter().any(|i| feeds[*i].stats.restores > 0),
        "the partition caused a reorg on some member"
    );
    // The oracle: the writes final on node 0 (TxFinal, applied), by height, on a fresh
    // replica. Each row id is written once, so the order within a height does not matter.
    let writes: BTreeMap<Hash, Arc<SealedAction>> = net
        .events
        .iter()
        .filter_map(|(_, _, event)| match event {
            Event::ConsortiumWrite { tx, action, .. } => Some((*tx, action.clone())),
            _ => None,
        })
        .collect();
    let mut final_writes: Vec<(u64, Arc<SealedAction>)> = net
        .events
        .iter()
        .filter_map(|(_, node, event)| match event {
            Event::TxFinal { id, height, outcome: Outcome::Applied, .. } if *node == 0 => {
                writes.get(id).map(|action| (*height, action.clone()))
            }
            _ => None,
        })
        .collect();
    final_writes.sort_by_key(|(height, _)| *height);
    let consortium = feeds[0].consortium(&id).unwrap();
    let mut oracle = Replica::in_memory(consortium, KeyRing::with_key(0, KEY)).unwrap();
    for (height, action) in &final_writes {
        oracle.apply(*height, action).unwrap();
    }
    let final_height = net.nodes[0].chain().final_height();
    assert!(final_writes.len() >= 4, "writes of both sides became final: {}", final_writes.len());
    for i in [0usize, 1, 2] {
        let replica = feeds[i].replica(&id).unwrap();
        assert_eq!(feeds[i].stats.errors, 0, "{:?}", feeds[i].stats.last_error);
        assert_eq!(
            replica.root_at(final_height),
            oracle.root_at(final_height),
            "member {i} as of node 0's final height {final_height}"
        );
    }
}
