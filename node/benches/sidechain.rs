#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark's set-up failing is the report.
//! The side-chain hot path: a main-chain node verifying one anchor, a segment of `a` = 1, 2, 4
//! or 8 checkpoints of another vein chain, as a light client (`HeaderChain::check_segment`: per
//! checkpoint its id, signature, generation signature, retarget, weight and proof of space).
//! Two side chains: real plots (each proof regenerates one nonce) and modelled capacities (the
//! simulator's). The light client is built once; checking changes nothing, so every iteration
//! does the same work (docs/sidechains.md).
//!
//! Run only this file: `cargo bench -p vein-node --bench sidechain`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Cursor;
use vein_node::core::checkpoint::Checkpoint;
use vein_node::core::crypto::Keypair;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use vein_node::core::poc::prover::{ModelPlots, PlotSet};
use vein_node::core::sidechain::{FollowedChain, HeaderChain};
use vein_node::localnet::{BoxedProver, LocalNet, model_genesis, real_genesis};

const ANCHOR_INTERVAL: usize = 8;
const PLOT_NONCES: u64 = 16;

fn params() -> Params {
    Params { target_interval_ms: 1_000, finality_depth: 3, ..Params::default() }
}

/// Node 0's active chain.
fn active_chain(net: &LocalNet) -> Vec<Checkpoint> {
    let chain = net.nodes[0].chain();
    (1..=chain.height())
        .map(|height| {
            let id = chain.active_at(height).unwrap();
            (**chain.header(&id).unwrap().checkpoint.as_ref().unwrap()).clone()
        })
        .collect()
}

fn real_chain() -> (Genesis, Vec<Checkpoint>) {
    let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("sidechain-bench", i)).collect();
    let provers: Vec<BoxedProver> = keys
        .iter()
        .map(|key| {
            let bytes = build_plot_in_memory(&key.account(), 0, PLOT_NONCES);
            let reader = PlotReader::open(Cursor::new(bytes)).unwrap();
            Box::new(PlotSet::new(vec![reader])) as BoxedProver
        })
        .collect();
    let genesis = real_genesis("sidechain-bench", &keys, 3 * PLOT_NONCES, 1_000, params());
    let (mut net, _) =
        LocalNet::with_provers(genesis.clone(), keys, provers, 1, 50, |_, _| {}).unwrap();
    net.keep_events = false;
    net.run_until(30_000);
    (genesis, active_chain(&net))
}

fn model_chain() -> (Genesis, Vec<Checkpoint>) {
    let (genesis, keys) = model_genesis("sidechain-bench", &[PLOT_NONCES; 3], 1_000, params());
    let provers: Vec<BoxedProver> = keys
        .iter()
        .map(|key| Box::new(ModelPlots { account: key.account(), nonces: PLOT_NONCES }) as _)
        .collect();
    let (mut net, _) =
        LocalNet::with_provers(genesis.clone(), keys, provers, 1, 50, |_, _| {}).unwrap();
    net.keep_events = false;
    net.run_until(30_000);
    (genesis, active_chain(&net))
}

fn bench_anchor(
    c: &mut Criterion,
    name: &str,
    (genesis, chain): &(Genesis, Vec<Checkpoint>),
    a: usize,
) {
    assert!(chain.len() >= 2 * ANCHOR_INTERVAL, "the run built two anchors' worth");
    // The light client holds the first `ANCHOR_INTERVAL` checkpoints (a multiple of every
    // interval benched); the anchor is the next `a`, ending at a multiple of `a`.
    let spec = FollowedChain::from_genesis(genesis, a as u64).unwrap();
    let mut client = HeaderChain::new(spec);
    let first = &chain[..ANCHOR_INTERVAL];
    client.extend(first, first[ANCHOR_INTERVAL - 1].body.timestamp_ms).unwrap();
    let segment = &chain[ANCHOR_INTERVAL..ANCHOR_INTERVAL + a];
    let now_ms = segment[a - 1].body.timestamp_ms;
    c.bench_function(name, |b| {
        b.iter(|| black_box(client.check_segment(black_box(segment), now_ms).unwrap()))
    });
}

fn anchors(c: &mut Criterion) {
    // docs/peg.md "The anchor fee": verification per anchor for a = 1, 2, 4, 8.
    let real = real_chain();
    for a in [1, 2, 4, ANCHOR_INTERVAL] {
        bench_anchor(c, &format!("sidechain/anchor of {a} checkpoints, real plots"), &real, a);
    }
    let name = "sidechain/anchor of 8 checkpoints, modelled capacities";
    bench_anchor(c, name, &model_chain(), ANCHOR_INTERVAL);
}

criterion_group!(benches, anchors);
criterion_main!(benches);
