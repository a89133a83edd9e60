//! Criterion micro-benchmarks of the PoC hot paths. The printed end-to-end table (hashing limit,
//! plotting on 1 and all cores, scan per TiB, verification) is `vein-node bench-plot`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::poc::challenge::{Challenge, hit};
use vein_node::core::poc::model::model_deadline_ms;
use vein_node::core::poc::nonce::{generate_nonce, generate_nonces, simd_lanes, zeroed_nonce};

fn poc(c: &mut Criterion) {
    let account = AccountId([3; 32]);
    let mut group = c.benchmark_group("poc");
    group.sample_size(10);
    let mut buffer = zeroed_nonce();
    group.bench_function("nonce_scalar", |b| {
        b.iter(|| generate_nonce(&account, black_box(1), &mut buffer))
    });
    let mut outs: Vec<_> = (0..simd_lanes().max(1)).map(|_| zeroed_nonce()).collect();
    group.bench_function("nonce_simd_group", |b| {
        b.iter(|| generate_nonces(&account, black_box(1), &mut outs))
    });
    let g = Hash::of(b"bench");
    let scoop = [9u8; 64];
    group.bench_function("hit", |b| b.iter(|| hit(black_box(&g), black_box(&scoop))));
    let challenge = Challenge { height: 1, generation_signature: g, base_target: 1 << 40 };
    group.bench_function("model_deadline", |b| {
        b.iter(|| model_deadline_ms(black_box(&account), 1000, &challenge))
    });
    group.finish();
}

criterion_group!(benches, poc);
criterion_main!(benches);
