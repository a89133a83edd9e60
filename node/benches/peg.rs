#![allow(clippy::unwrap_used)] // A benchmark's set-up failing is the report.
//! The cost of checking a peg proof (docs/peg.md): an outbox entry hashed up its Merkle path,
//! then up to a ledger root, compared with a final header's root, for outboxes of 2^10 and
//! 2^20 entries (a path of 10 and 20 hashes). This is the work a mint or a release adds to a
//! token transfer's check.
//!
//! Run only this file: `cargo bench -p vein-node --bench peg`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::peg::proof::{self, FinalHeaderSet};
use vein_node::core::peg::{Direction, Outbox, OutboxEntry, PegProof};
use vein_node::core::token::TokenId;

fn entry(index: u64, source: Hash, dest: Hash) -> OutboxEntry {
    OutboxEntry {
        id: Hash::of(&index.to_le_bytes()),
        direction: Direction::Lock,
        source_chain: source,
        dest_chain: dest,
        token: TokenId(Hash::of(b"bench token")),
        amount: index + 1,
        recipient: AccountId([7u8; 32]),
        name: "Bench Points".into(),
        symbol: "BENCH".into(),
        decimals: 2,
    }
}

/// A proof of the middle entry of an outbox of `count` entries, and the final headers that
/// make it valid.
fn proof_of(count: u32) -> (PegProof, FinalHeaderSet, Hash) {
    let (source, dest) = (Hash::of(b"main genesis"), Hash::of(b"side genesis"));
    let mut outbox = Outbox::default();
    for index in 0..u64::from(count) {
        outbox.append(entry(index, source, dest));
    }
    let index = count / 2;
    let rest_root = Hash::of(b"the rest of the ledger");
    let header = Hash::of(b"final header");
    let mut headers = FinalHeaderSet::default();
    headers.insert(source, header, proof::ledger_root(&rest_root, &outbox.commitment()));
    let proof = PegProof {
        source_chain: source,
        header,
        entry: outbox.entries()[index as usize].clone(),
        index,
        outbox_len: count,
        path: outbox.prove(index, count).unwrap(),
        rest_root,
    };
    (proof, headers, dest)
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("peg_proof_verify");
    for count in [1u32 << 10, 1 << 20] {
        let (proof, headers, local) = proof_of(count);
        proof::verify(&proof, &local, &headers).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(count), &proof, |b, proof| {
            b.iter(|| proof::verify(black_box(proof), &local, &headers).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
