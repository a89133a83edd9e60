#![allow(clippy::unwrap_used)] // A benchmark's set-up failing is the report.
//! The learning core's costs per round: one participant's local epoch (1,280 records of 12
//! inputs, the wine-quality training set's size, here synthetic), each aggregation rule over 20
//! updates of 12 weights, and masking one update against 19 peers (docs/federated-learning.md).
//!
//! Run only this file: `cargo bench -p vein-node --bench fl`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vein_node::core::fl::masking::{self, MaskSecret};
use vein_node::core::fl::{
    AggregationRule, Contribution, Dataset, Fixed, TrainingSpec, aggregate, train_local,
};
use vein_node::core::hash::Hash;

const DIMENSION: usize = 12;

fn records() -> Dataset {
    let raw = |i: i64, k: i64| (i * (k + 3)) % 17 - 8;
    let rows: Vec<Vec<Fixed>> = (0..1280)
        .map(|i| (0..DIMENSION as i64 - 1).map(|k| Fixed(raw(i, k) * Fixed::ONE.0 / 5)).collect())
        .collect();
    let labels: Vec<bool> = (0..1280).map(|i| raw(i, 0) + raw(i, 1) > 0).collect();
    Dataset::new(rows, labels).unwrap()
}

fn updates(count: usize) -> Vec<Contribution> {
    (0..count)
        .map(|i| Contribution {
            update: (0..DIMENSION).map(|k| Fixed(((i * 31 + k * 7) % 101) as i64 - 50)).collect(),
            samples: 64 + i as u64,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = records();
    let spec = TrainingSpec {
        dimension: DIMENSION as u32,
        learning_rate: Fixed(3276),
        local_epochs: 1,
        batch_size: 16,
    };
    let start = spec.initial_weights();
    c.bench_function("fl local epoch, 1280 records", |b| {
        b.iter(|| train_local(black_box(&start), &data, &spec, [1; 32]).unwrap())
    });
    let contributions = updates(20);
    for rule in [
        AggregationRule::FedAvg,
        AggregationRule::Median,
        AggregationRule::TrimmedMean { trim: 6 },
        AggregationRule::Krum { byzantine: 6 },
    ] {
        c.bench_function(&format!("fl aggregate {}, 20 updates", rule.name()), |b| {
            b.iter(|| aggregate(rule, black_box(&contributions), DIMENSION).unwrap())
        });
    }
    let task = Hash::of(b"bench");
    let secrets: Vec<MaskSecret> = (0..20u8).map(|i| MaskSecret::derive(&[i; 32], &task)).collect();
    let weighted = masking::weigh(&contributions[0].update, contributions[0].samples).unwrap();
    c.bench_function("fl mask one update, 19 peers (X25519 + expansion)", |b| {
        b.iter(|| {
            let peers: Vec<(usize, [u8; 32])> = (1..20)
                .map(|j| (j, secrets[0].pairwise_seed(&secrets[j].public(), &task, 0)))
                .collect();
            masking::mask(0, black_box(&weighted), &peers).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
