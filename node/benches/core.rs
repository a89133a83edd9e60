#![allow(clippy::disallowed_methods)] // Benchmarks time themselves with the wall clock.
//! Core throughput table: signature verification, decode + validate, DAG insert and tip
//! selection at 10^3 and 10^5 tips. Run with `cargo bench -p vein-node --bench core`.
//! Each row is one timed loop on one core; quote ratios from one run (the machine is noisy).

use std::sync::Arc;
use std::time::Instant;
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::{Dag, Unit};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::Ledger;
use vein_node::core::message::Message;
use vein_node::core::random::DetRng;
use vein_node::core::tips::{TipSelector, TipStrategy};
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

fn transfer(key: &Keypair, nonce: u64, parents: [Hash; 2]) -> Transaction {
    TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Transfer { to: Keypair::derived("bench-sink", 0).account(), amount: 1 },
        fee: 1,
        parents,
        issued_at_ms: 0,
    }
    .sign(key)
    .expect("sign")
}

fn rate(count: usize, seconds: f64) -> String {
    format!("{:>12.0}/s", count as f64 / seconds)
}

fn main() {
    let genesis = Hash::of(b"bench-genesis");
    let keys: Vec<Keypair> = (0..64).map(|i| Keypair::derived("bench", i)).collect();
    println!("{:<48} {:>14} {:>14}", "measurement", "rate", "per op");

    // Signatures: sign, verify one by one.
    let count = 20_000;
    let txs: Vec<Transaction> =
        (0..count).map(|i| transfer(&keys[i % 64], i as u64, [genesis, genesis])).collect();
    let start = Instant::now();
    let mut ok = 0;
    for tx in &txs {
        ok += usize::from(tx.verify_signature().is_ok());
    }
    assert_eq!(ok, count);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{:<48} {} {:>11.2} µs",
        "ed25519 verify (single, 1 core)",
        rate(count, seconds),
        seconds * 1e6 / count as f64
    );

    // Decode + validate (envelope, bincode, id, signature).
    let encoded: Vec<Vec<u8>> =
        txs.iter().map(|tx| Message::Transaction(tx.clone()).encode().expect("encode")).collect();
    let start = Instant::now();
    for bytes in &encoded {
        let Ok(Message::Transaction(tx)) = Message::decode(bytes) else { panic!("decode") };
        let unit = Unit::new(tx).expect("id");
        assert!(unit.tx.verify_signature().is_ok());
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{:<48} {} {:>11.2} µs",
        "unit decode + id + verify",
        rate(count, seconds),
        seconds * 1e6 / count as f64
    );

    // DAG insert: a stream of units approving two recent units (width ~16).
    let units: Vec<Arc<Unit>> = {
        let mut ids = vec![genesis];
        let mut out = Vec::new();
        for i in 0..count {
            let a = ids[ids.len().saturating_sub(1 + i % 16)];
            let b = ids[ids.len().saturating_sub(1 + (i * 7) % 16)];
            let parents = if a == b { [a, genesis] } else { [a, b] };
            let parents = if parents[0] == parents[1] { [genesis, genesis] } else { parents };
            let unit = Unit::new(transfer(&keys[i % 64], i as u64, parents)).expect("unit");
            ids.push(unit.id);
            out.push(unit);
        }
        out
    };
    let mut dag = Dag::new(genesis, 1024);
    let start = Instant::now();
    for unit in &units {
        dag.insert(unit.clone()).expect("insert");
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{:<48} {} {:>11.2} µs",
        "DAG insert (pre-validated units)",
        rate(count, seconds),
        seconds * 1e6 / count as f64
    );

    // Tip selection with many tips: a wide DAG where each unit approves genesis twice.
    let ledger =
        Ledger::genesis(&keys.iter().map(|k| (k.account(), u64::MAX / 128)).collect::<Vec<_>>())
            .expect("ledger");
    for tips in [1_000usize, 100_000] {
        let mut dag = Dag::new(genesis, 1024);
        for i in 0..tips {
            let tx = transfer(&keys[i % 64], (i / 64) as u64 % 1000, [genesis, genesis]);
            dag.insert(Unit::new(tx).expect("unit")).expect("insert");
        }
        for (name, strategy) in [
            ("uniform", TipStrategy::Uniform),
            ("weighted walk α=0.5", TipStrategy::WeightedWalk { alpha: 0.5 }),
        ] {
            let mut selector = TipSelector::new(strategy);
            let mut rng = DetRng::from_seed([9; 32]);
            let rounds = 2_000;
            let start = Instant::now();
            for _ in 0..rounds {
                let selection = selector.select(&dag, &ledger, 0, &[genesis], &mut rng);
                assert!(!selection.fallback);
            }
            let seconds = start.elapsed().as_secs_f64();
            let overflow = if selector.stats.walk_window_overflows > 0 {
                " (walk window exceeded: uniform fallback)"
            } else {
                ""
            };
            println!(
                "{:<48} {} {:>11.2} µs{overflow}",
                format!("tip selection, {tips} tips, {name}"),
                rate(rounds, seconds),
                seconds * 1e6 / rounds as f64
            );
        }
    }
}
