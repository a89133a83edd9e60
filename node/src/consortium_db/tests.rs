//! The replica: as-of answers against a replay from genesis, rebuild and restore against the
//! live replica, proofs, refused actions and read-only queries.

use super::*;
use crate::core::consortium::keys::DataKey;
use crate::core::consortium::{Column, ColumnType, CreateConsortium, consortium_id};
use crate::core::crypto::Keypair;
use std::collections::{BTreeMap, BTreeSet};

fn consortium() -> Consortium {
    let creator = Keypair::derived("replica", 0).account();
    let node = Keypair::derived("replica-node", 0).account();
    let create = CreateConsortium {
        name: "c".into(),
        parties: BTreeSet::from([creator]),
        members: BTreeMap::from([(node, [9u8; 32])]),
        tables: vec![TableSchema {
            name: "accounts".into(),
            columns: vec![
                Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                Column { name: "owner".into(), column_type: ColumnType::Text, nullable: false },
                Column { name: "open".into(), column_type: ColumnType::Bool, nullable: true },
            ],
            primary_key: 0,
        }],
        quorum: 1,
        wrapped: BTreeMap::from([(
            node,
            crate::core::consortium::keys::WrappedKey {
                ephemeral_public: [1; 32],
                ciphertext: vec![],
            },
        )]),
    };
    Consortium::create(&create, &creator, consortium_id(&creator, 0)).unwrap()
}

fn key() -> DataKey {
    DataKey([11u8; 32])
}

fn row(id: i64, owner: &str, open: Option<bool>) -> Vec<Value> {
    vec![Value::Integer(id), Value::Text(owner.into()), open.map_or(Value::Null, Value::Bool)]
}

fn seal(consortium: &Consortium, ops: Vec<RowOp>, salt: u8) -> SealedAction {
    Action { table: "accounts".into(), ops, salt: [salt; 16] }
        .seal(&key(), consortium.id, 0)
        .unwrap()
}

/// A deterministic history: 60 actions over heights 1..=20 touching keys 0..8, mixing
/// inserts, upserts and deletes (some refused: inserting a present key, deleting an absent one).
fn history(consortium: &Consortium) -> Vec<(u64, SealedAction)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..60u64)
        .map(|index| {
            let height = 1 + index / 3;
            let id = (next() % 8) as i64;
            let op = match next() % 3 {
                0 => RowOp::Insert { row: row(id, &format!("i{index}"), Some(true)) },
                1 => RowOp::Upsert { row: row(id, &format!("u{index}"), None) },
                _ => RowOp::Delete { key: Value::Integer(id) },
            };
            (height, seal(consortium, vec![op], index as u8))
        })
        .collect()
}

fn replica_of(consortium: &Consortium, actions: &[(u64, SealedAction)]) -> Replica {
    let mut replica = Replica::in_memory(consortium, KeyRing::with_key(0, key())).unwrap();
    for (height, sealed) in actions {
        replica.apply(*height, sealed).unwrap();
    }
    replica
}

#[test]
fn every_as_of_answer_equals_a_replay_from_genesis_to_that_height() {
    let consortium = consortium();
    let actions = history(&consortium);
    let live = replica_of(&consortium, &actions);
    let mut refused = 0;
    for height in 0..=21u64 {
        let prefix: Vec<_> = actions.iter().filter(|(h, _)| *h <= height).cloned().collect();
        let replay = replica_of(&consortium, &prefix);
        for id in 0..8 {
            let key = Value::Integer(id);
            assert_eq!(
                live.get_as_of("accounts", &key, height).unwrap(),
                replay.get("accounts", &key).unwrap(),
                "key {id} as of {height}"
            );
        }
        assert_eq!(live.root_at(height), replay.root(), "root as of {height}");
        assert_eq!(live.recompute_root_at(height).unwrap(), replay.root());
        let query = "SELECT id, owner FROM accounts ORDER BY id";
        assert_eq!(
            live.select_as_of(query, height).unwrap(),
            replay.select_as_of(query, u64::MAX >> 1).unwrap()
        );
        refused = replay
            .db
            .query_row("SELECT COUNT(*) FROM vein_actions WHERE outcome != 'applied'", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
    }
    assert!(refused > 0, "the history exercises refused actions too");
}

#[test]
fn a_rebuild_from_the_log_equals_the_live_replica() {
    let consortium = consortium();
    let live = replica_of(&consortium, &history(&consortium));
    let rebuilt = live.rebuild(&consortium).unwrap();
    assert_eq!(rebuilt.root(), live.root());
    assert_eq!(rebuilt.height(), live.height());
    assert_eq!(rebuilt.dump_versions().unwrap(), live.dump_versions().unwrap());
}

#[test]
fn a_restore_equals_a_replay_to_that_height_and_can_continue() {
    let consortium = consortium();
    let actions = history(&consortium);
    let mut live = replica_of(&consortium, &actions);
    live.restore_to(9).unwrap();
    let prefix: Vec<_> = actions.iter().filter(|(h, _)| *h <= 9).cloned().collect();
    let replay = replica_of(&consortium, &prefix);
    assert_eq!(live.root(), replay.root());
    assert_eq!(live.height(), 9);
    assert_eq!(live.dump_versions().unwrap(), replay.dump_versions().unwrap());
    assert_eq!(live.actions().unwrap(), prefix);
    // A different branch continues from there (as after a reorg).
    let other = seal(&consortium, vec![RowOp::Upsert { row: row(100, "branch", None) }], 200);
    live.apply(10, &other).unwrap();
    assert_eq!(live.get("accounts", &Value::Integer(100)).unwrap(), Some(row(100, "branch", None)));
    assert_eq!(live.rebuild(&consortium).unwrap().root(), live.root());
}

#[test]
fn a_row_proof_verifies_against_the_root_and_a_tampered_row_fails() {
    let consortium = consortium();
    let live = replica_of(&consortium, &history(&consortium));
    let mut present = 0;
    for id in 0..8 {
        let key = Value::Integer(id);
        let (found, proof) = live.prove("accounts", &key).unwrap();
        assert!(proof.verify(&live.root(), "accounts", &key, found.as_deref()));
        if let Some(mut row) = found {
            present += 1;
            row[1] = Value::Text("tampered".into());
            assert!(!proof.verify(&live.root(), "accounts", &key, Some(&row)));
        }
        let (past, past_proof) = live.prove_as_of("accounts", &key, 7).unwrap();
        assert!(past_proof.verify(&live.root_at(7), "accounts", &key, past.as_deref()));
    }
    assert!(present > 0);
}

#[test]
fn an_action_that_does_not_fit_is_refused_whole_and_changes_nothing() {
    let consortium = consortium();
    let mut replica = replica_of(&consortium, &[]);
    let first = seal(&consortium, vec![RowOp::Insert { row: row(1, "a", None) }], 1);
    assert_eq!(replica.apply(1, &first).unwrap(), ActionOutcome::Applied { ops: 1 });
    let root = replica.root();
    let half = seal(
        &consortium,
        vec![
            RowOp::Insert { row: row(2, "b", None) },
            RowOp::Insert { row: row(1, "again", None) },
        ],
        2,
    );
    assert!(matches!(replica.apply(2, &half).unwrap(), ActionOutcome::Refused { .. }));
    assert_eq!(replica.get("accounts", &Value::Integer(2)).unwrap(), None, "nothing half-applied");
    assert_eq!(replica.root(), root);
    let mut garbage = seal(&consortium, vec![RowOp::Delete { key: Value::Integer(1) }], 3);
    garbage.ciphertext[0] ^= 1;
    assert!(matches!(replica.apply(3, &garbage).unwrap(), ActionOutcome::Refused { .. }));
    let mut future = seal(&consortium, vec![RowOp::Delete { key: Value::Integer(1) }], 4);
    future.key_epoch = 5;
    assert_eq!(replica.apply(4, &future), Err(ReplicaError::NoKey { epoch: 5 }));
    assert!(matches!(replica.apply(1, &first), Err(ReplicaError::OutOfOrder { .. })));
    assert_eq!(replica.actions().unwrap().len(), 3, "refused actions stay in the log");
}

#[test]
fn queries_must_be_one_read_only_select() {
    let consortium = consortium();
    let replica = replica_of(&consortium, &history(&consortium));
    for query in [
        "DELETE FROM accounts",
        "SELECT 1; DELETE FROM accounts",
        "INSERT INTO accounts VALUES (1, 'x', NULL)",
    ] {
        assert!(replica.select_as_of(query, 5).is_err(), "{query} must be refused");
    }
    // Through the as-of views a write fails to prepare; on the versions table itself it
    // prepares and the read-only check refuses it.
    let raw = "DELETE FROM vein_v_accounts";
    assert_eq!(replica.select_as_of(raw, 5), Err(ReplicaError::NotReadOnly));
    assert_eq!(replica.select_as_of("SELECT 1; SELECT 2", 5), Err(ReplicaError::NotReadOnly));
    assert_eq!(
        replica.dump_versions().unwrap().len(),
        replica_of(&consortium, &history(&consortium)).dump_versions().unwrap().len()
    );
    let count = replica.select_as_of("SELECT COUNT(*) FROM accounts", 21).unwrap();
    assert_eq!(count.rows.len(), 1);
}

#[test]
fn a_file_backed_replica_reopens_with_its_rows_log_and_roots() {
    let consortium = consortium();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("replica.sqlite");
    let actions = history(&consortium);
    let (root, root_at_5) = {
        let mut replica = Replica::open(&path, &consortium, KeyRing::with_key(0, key())).unwrap();
        for (height, sealed) in &actions {
            replica.apply(*height, sealed).unwrap();
        }
        (replica.root(), replica.root_at(5))
    };
    let reopened = Replica::open(&path, &consortium, KeyRing::with_key(0, key())).unwrap();
    assert_eq!(reopened.root(), root);
    assert_eq!(reopened.root_at(5), root_at_5);
    assert_eq!(reopened.height(), 20);
    assert_eq!(reopened.actions().unwrap(), actions);
}
