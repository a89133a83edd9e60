#![allow(clippy::unwrap_used)] // A benchmark's set-up failing is the report.
//! The consortium time machine: one key's row as of a height, on a replica table holding
//! 10^6 row versions (1,000 keys × 1,000 heights); issue #17 asks for p50 ≤ 10 ms. And a
//! replica rebuilt from its log of 10^5 actions (one upsert each, 100 per height), the work a
//! member joining late or repairing does; issue #17 asks for the rate in actions per second.
//!
//! Run only this file: `cargo bench -p vein-node --bench consortium`. Set-up writes the 10^6
//! versions through `Replica::apply` (per height, 4 actions of 250 upserts) before measuring.

use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use vein_node::consortium_db::{ActionOutcome, KeyRing, Replica};
use vein_node::core::consortium::keys::{DataKey, WrappedKey};
use vein_node::core::consortium::{
    Action, Column, ColumnType, Consortium, CreateConsortium, RowOp, TableSchema, Value,
    consortium_id,
};
use vein_node::core::crypto::Keypair;

const KEYS: i64 = 1_000;
const HEIGHTS: u64 = 1_000;
const KEY: DataKey = DataKey([3u8; 32]);

fn consortium() -> Consortium {
    let creator = Keypair::derived("bench", 0).account();
    let node = Keypair::derived("bench-node", 0).account();
    let create = CreateConsortium {
        name: "bench".into(),
        parties: BTreeSet::from([creator]),
        members: BTreeMap::from([(node, [9u8; 32])]),
        tables: vec![TableSchema {
            name: "t".into(),
            columns: vec![
                Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                Column { name: "v".into(), column_type: ColumnType::Integer, nullable: false },
            ],
            primary_key: 0,
        }],
        quorum: 1,
        wrapped: BTreeMap::from([(
            node,
            WrappedKey { ephemeral_public: [1u8; 32], ciphertext: Vec::new() },
        )]),
    };
    Consortium::create(&create, &creator, consortium_id(&creator, 0)).unwrap()
}

fn filled(consortium: &Consortium) -> Replica {
    let mut replica = Replica::in_memory(consortium, KeyRing::with_key(0, KEY)).unwrap();
    for height in 1..=HEIGHTS {
        for chunk in 0..4i64 {
            let ops = (chunk * 250..(chunk + 1) * 250)
                .map(|id| RowOp::Upsert {
                    row: vec![Value::Integer(id), Value::Integer(height as i64)],
                })
                .collect();
            let salt = [height as u8, chunk as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            let action = Action { table: "t".into(), ops, salt };
            let sealed = action.seal(&KEY, consortium.id, 0).unwrap();
            let outcome = replica.apply(height, &sealed).unwrap();
            assert_eq!(outcome, ActionOutcome::Applied { ops: 250 });
        }
    }
    let sample = replica.get_as_of("t", &Value::Integer(7), 500).unwrap();
    assert_eq!(sample, Some(vec![Value::Integer(7), Value::Integer(500)]));
    replica
}

fn as_of(c: &mut Criterion) {
    let consortium = consortium();
    let replica = filled(&consortium);
    let mut draw: u64 = 0x2545_f491_4f6c_dd1d;
    c.bench_function("consortium as-of one key, 10^6 versions", |b| {
        b.iter(|| {
            draw ^= draw << 13;
            draw ^= draw >> 7;
            draw ^= draw << 17;
            let key = Value::Integer((draw % KEYS as u64) as i64);
            let height = 1 + (draw >> 20) % HEIGHTS;
            black_box(replica.get_as_of("t", &key, height).unwrap())
        })
    });
}

const ACTIONS: u64 = 100_000;
const ACTIONS_PER_HEIGHT: u64 = 100;

/// A replica whose log holds [`ACTIONS`] single-row actions over 1,000 keys.
fn logged(consortium: &Consortium) -> Replica {
    let mut replica = Replica::in_memory(consortium, KeyRing::with_key(0, KEY)).unwrap();
    for index in 0..ACTIONS {
        let id = (index % KEYS as u64) as i64;
        let row = vec![Value::Integer(id), Value::Integer(index as i64)];
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&index.to_le_bytes());
        let action = Action { table: "t".into(), ops: vec![RowOp::Upsert { row }], salt };
        let sealed = action.seal(&KEY, consortium.id, 0).unwrap();
        let outcome = replica.apply(1 + index / ACTIONS_PER_HEIGHT, &sealed).unwrap();
        assert_eq!(outcome, ActionOutcome::Applied { ops: 1 });
    }
    replica
}

fn rebuild(c: &mut Criterion) {
    let consortium = consortium();
    let replica = logged(&consortium);
    assert_eq!(replica.rebuild(&consortium).unwrap().root(), replica.root());
    c.bench_function("consortium rebuild from the log, 10^5 actions", |b| {
        b.iter(|| black_box(replica.rebuild(&consortium).unwrap().root()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = as_of
}
criterion_group! {
    name = rebuilds;
    config = Criterion::default().sample_size(10);
    targets = rebuild
}
criterion_main!(benches, rebuilds);
