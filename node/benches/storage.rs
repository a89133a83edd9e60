#![allow(clippy::disallowed_methods)] // Benchmarks time themselves with the wall clock.
//! Storage-core throughput: erasure coding (both candidate codecs), AEAD, Merkle trees, proofs.
//!
//! Run: `cargo bench -p vein-node --bench storage`. Throughput is reported by criterion in MiB/s
//! (bytes of *payload*, not of shards). Decoding is measured in the worst case for a systematic
//! code: the first `n − k` data shards are missing, so as much as possible must be rebuilt.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use std::hint::black_box;
use std::time::{Duration, Instant};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::storage::challenge::{Challenge, answer, verify_storage_proof};
use vein_node::core::storage::commitment::prepare_file;
use vein_node::core::storage::encrypt::{self, OwnerKey};
use vein_node::core::storage::erasure::{self, Codec};
use vein_node::core::storage::merkle::MerkleTree;

const MIB: usize = 1024 * 1024;

fn payload(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 32);
    let mut counter = 0u64;
    while out.len() < bytes {
        out.extend_from_slice(Hash::of(&counter.to_le_bytes()).as_bytes());
        counter += 1;
    }
    out.truncate(bytes);
    out
}

fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Simd => "rs-simd-3",
        Codec::Classic => "rs-erasure-6",
    }
}

fn erasure_benches(c: &mut Criterion) {
    for size in [MIB, 16 * MIB] {
        let data = payload(size);
        for (k, n) in [(4u8, 6u8), (10, 16)] {
            let mut encode_group =
                c.benchmark_group(format!("erasure_encode/{}MiB/k{k}n{n}", size / MIB));
            encode_group.throughput(Throughput::Bytes(size as u64));
            for codec in [Codec::Simd, Codec::Classic] {
                encode_group.bench_function(BenchmarkId::from_parameter(codec_name(codec)), |b| {
                    b.iter(|| erasure::encode(codec, black_box(&data), k, n))
                });
            }
            encode_group.finish();

            let mut decode_group =
                c.benchmark_group(format!("erasure_decode/{}MiB/k{k}n{n}", size / MIB));
            decode_group.throughput(Throughput::Bytes(size as u64));
            for codec in [Codec::Simd, Codec::Classic] {
                let mut slots: Vec<Option<Vec<u8>>> = erasure::encode(codec, &data, k, n)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Some)
                    .collect();
                for slot in slots.iter_mut().take(usize::from(n - k)) {
                    *slot = None;
                }
                decode_group.bench_function(BenchmarkId::from_parameter(codec_name(codec)), |b| {
                    b.iter(|| erasure::decode(codec, black_box(&slots), k, n))
                });
            }
            decode_group.finish();
        }
    }
}

fn aead_benches(c: &mut Criterion) {
    let key = OwnerKey([7; 32]);
    for size in [MIB, 16 * MIB] {
        let data = payload(size);
        let nonce = encrypt::synthetic_nonce(&key, &data);
        let ciphertext = encrypt::encrypt(&key, &nonce, &data).unwrap_or_default();
        let mut group = c.benchmark_group(format!("aead/{}MiB", size / MIB));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("encrypt", |b| {
            b.iter(|| encrypt::encrypt(&key, &nonce, black_box(&data)))
        });
        group.bench_function("decrypt", |b| {
            b.iter(|| encrypt::decrypt(&key, &nonce, black_box(&ciphertext)))
        });
        group.bench_function("synthetic_nonce", |b| {
            b.iter(|| encrypt::synthetic_nonce(&key, black_box(&data)))
        });
        group.finish();
    }
}

fn merkle_and_proof_benches(c: &mut Criterion) {
    // A 16 MiB file as k = 4, n = 6: shards of 4 MiB, 1 KiB chunks (4096 leaves).
    let key = OwnerKey([8; 32]);
    let Ok(prepared) = prepare_file(&payload(16 * MIB), &key, 4, 6, 1024) else { return };
    let nodes: Vec<AccountId> = (0..6).map(|i| Keypair::derived("bench", i).account()).collect();
    let put = prepared.store_put(nodes, 1000, 1_000_000);
    let shard = &prepared.shards[0];
    let mut group = c.benchmark_group("merkle/4MiB-shard/1KiB-chunks");
    group.throughput(Throughput::Bytes(shard.len() as u64));
    group
        .bench_function("build_tree", |b| b.iter(|| MerkleTree::from_data(black_box(shard), 1024)));
    group.finish();

    let Ok(tree) = MerkleTree::from_data(shard, 1024) else { return };
    let mut group = c.benchmark_group("proof/4MiB-shard/1KiB-chunks");
    for count in [1usize, 16, 64] {
        let challenge = Challenge { generation_signature: Hash::of(b"g"), round: 9, count };
        group.bench_function(BenchmarkId::new("answer", count), |b| {
            b.iter(|| answer(&put, 0, shard, &tree, black_box(&challenge)))
        });
        let Ok(proof) = answer(&put, 0, shard, &tree, &challenge) else { return };
        group.bench_function(BenchmarkId::new("verify", count), |b| {
            b.iter(|| verify_storage_proof(&put, &challenge, black_box(&proof)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("pipeline/16MiB/k4n6");
    group.throughput(Throughput::Bytes(16 * MIB as u64));
    let data = payload(16 * MIB);
    group.bench_function("prepare_file", |b| {
        b.iter(|| prepare_file(black_box(&data), &key, 4, 6, 1024))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = erasure_benches, aead_benches, merkle_and_proof_benches
}
/// Best-of-N throughput (MiB/s) for each codec and shape. On a shared, loaded machine the minimum
/// time is the least contended estimate of what the code costs; criterion's mean is not. Printed
/// before the criterion runs; set VEIN_BENCH_NO_TABLE=1 to skip.
fn print_codec_table() {
    const REPEATS: usize = 9;
    let best_mib_per_s = |bytes: usize, mut run: Box<dyn FnMut() + '_>| -> f64 {
        let best = (0..REPEATS)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed()
            })
            .min()
            .unwrap_or_default();
        bytes as f64 / MIB as f64 / best.as_secs_f64().max(1e-12)
    };
    println!(
        "best-of-{REPEATS} MiB/s   size  shape    codec          encode   decode(n-k data lost)"
    );
    for size in [MIB, 16 * MIB] {
        let data = payload(size);
        for (k, n) in [(4u8, 6u8), (10, 16)] {
            for codec in [Codec::Simd, Codec::Classic] {
                let encode = best_mib_per_s(
                    size,
                    Box::new(|| {
                        black_box(erasure::encode(codec, black_box(&data), k, n)).ok();
                    }),
                );
                let mut slots: Vec<Option<Vec<u8>>> = erasure::encode(codec, &data, k, n)
                    .unwrap_or_default()
                    .into_iter()
                    .map(Some)
                    .collect();
                for slot in slots.iter_mut().take(usize::from(n - k)) {
                    *slot = None;
                }
                let decode = best_mib_per_s(
                    size,
                    Box::new(|| {
                        black_box(erasure::decode(codec, black_box(&slots), k, n)).ok();
                    }),
                );
                println!(
                    "table {:>5} MiB  k{k:<2}n{n:<3} {:<13} {encode:>8.0} {decode:>8.0}",
                    size / MIB,
                    codec_name(codec)
                );
            }
        }
    }
}

fn main() {
    if std::env::var_os("VEIN_BENCH_NO_TABLE").is_none() {
        print_codec_table();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
