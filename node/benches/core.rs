#![allow(clippy::disallowed_methods)] // Benchmarks time themselves with the wall clock.
//! Core throughput table: signature verification, decode + validate, DAG insert, tip
//! selection at 10^3 and 10^5 tips, and tip selection in a steady stream (a node issuing
//! transactions while checkpoints confirm behind it, with a realistic walk window).
//! Run with `cargo bench -p vein-node --bench core`.
//! Each row is one timed loop on one core; quote ratios from one run (the machine is noisy).

use ed25519_dalek::Verifier;
use std::sync::Arc;
use std::time::Instant;
use vein_node::core::crypto::{self, Keypair};
use vein_node::core::dag::{Confirmation, Dag, Outcome, Unit};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::Ledger;
use vein_node::core::message::Message;
use vein_node::core::random::DetRng;
use vein_node::core::tips::{Selection, TipSelector, TipStrategy};
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

    // The old rule for comparison: ed25519-dalek's cofactorless single verify, on the same
    // signatures and signed bytes (the key decompressed once per key, as the node's cache does).
    let dalek_keys: Vec<ed25519_dalek::VerifyingKey> = keys
        .iter()
        .map(|key| ed25519_dalek::VerifyingKey::from_bytes(key.account().as_bytes()).expect("key"))
        .collect();
    let signed: Vec<Vec<u8>> =
        txs.iter().map(|tx| tx.body.signing_bytes().expect("encode")).collect();
    let start = Instant::now();
    let mut ok = 0;
    for (i, (tx, bytes)) in txs.iter().zip(&signed).enumerate() {
        let signature = ed25519_dalek::Signature::from_bytes(&tx.signature.0);
        ok += usize::from(dalek_keys[i % 64].verify(bytes, &signature).is_ok());
    }
    assert_eq!(ok, count);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{:<48} {} {:>11.2} µs",
        "ed25519-dalek verify (cofactorless, old rule)",
        rate(count, seconds),
        seconds * 1e6 / count as f64
    );

    // The same signed bytes under the protocol's rule (ZIP 215), for a like-for-like ratio.
    let start = Instant::now();
    let mut ok = 0;
    for (tx, bytes) in txs.iter().zip(&signed) {
        ok += usize::from(crypto::verify(&tx.body.from, bytes, &tx.signature).is_ok());
    }
    assert_eq!(ok, count);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{:<48} {} {:>11.2} µs",
        "ZIP 215 verify (single, signed bytes given)",
        rate(count, seconds),
        seconds * 1e6 / count as f64
    );

    // Signatures in batches (ZIP 215, one multi-scalar equation per batch; 64 keys round
    // robin, so a batch of 256 merges four terms per key). Per signature, against the single
    // row above.
    for size in [1usize, 8, 64, 256] {
        let start = Instant::now();
        let mut ok = 0;
        for chunk in txs.chunks(size) {
            let chunk: Vec<&Transaction> = chunk.iter().collect();
            ok += Transaction::verify_signatures(&chunk).iter().filter(|r| r.is_ok()).count();
        }
        assert_eq!(ok, count);
        let batch_seconds = start.elapsed().as_secs_f64();
        println!(
            "{:<48} {} {:>11.2} µs",
            format!("ed25519 verify (batch of {size}, 1 core)"),
            rate(count, batch_seconds),
            batch_seconds * 1e6 / count as f64
        );
    }

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

    // Tip selection in a steady stream: every new unit approves the two parents the selector
    // chose and reaches the DAG `interval / 20` units later (gossip delay: a twentieth of a
    // checkpoint interval, so about `interval / 10` tips, 2λh), a checkpoint every `interval` units confirms the cone of the previous checkpoint's
    // parents and anchors the walks there (so about one to two intervals stay unconfirmed and the
    // walk window is one to two intervals deep, as on a node at `interval` transactions per
    // checkpoint). Optionally an attacker double-spends every `spam_every` units, each spend on
    // a tip of its own choice. Only `select` is timed (signing and inserting are not).
    for (interval, spam_every) in [(250usize, None), (1_000, None), (1_000, Some(50usize))] {
        let (selections, seconds, stats) = stream_selection(&keys, genesis, interval, spam_every);
        let spam = match spam_every {
            Some(every) => format!(", a conflicting pair every {every}"),
            None => String::new(),
        };
        println!(
            "{:<48} {} {:>11.2} µs (walks {}, overflows {}, fallbacks {})",
            format!("tip selection, stream, {interval}/checkpoint{spam}"),
            rate(selections, seconds),
            seconds * 1e6 / selections as f64,
            stats.walks,
            stats.walk_window_overflows,
            stats.fallbacks
        );
    }

    // Replay after a restart: a node restores its unit log record by record (`Node::restore`)
    // and the driver drains the queued outputs once at the end, so per-record work must not
    // grow with the queue; two log sizes side by side show whether it does.
    for count in [5_000usize, 20_000] {
        let (restored, seconds) = replay(count);
        println!(
            "{:<48} {} {:>11.2} µs",
            format!("replay: restore {count} unit records"),
            rate(restored, seconds),
            seconds * 1e6 / restored as f64
        );
    }
}

/// Restores `count` chained transfers into a fresh node, as the driver's replay does; returns
/// the units restored and the seconds it took (signing is not timed).
fn replay(count: usize) -> (usize, f64) {
    let (genesis, keys) = vein_node::localnet::model_genesis(
        "bench-replay",
        &[1_000],
        1_000_000_000,
        vein_node::core::params::Params::default(),
    );
    let genesis = Arc::new(genesis);
    let genesis_id = genesis.id().expect("genesis id");
    // Each unit approves the previous one and genesis (a unit may name only genesis twice).
    let mut previous = genesis_id;
    let records: Vec<Vec<u8>> = (0..count)
        .map(|nonce| {
            let tx = transfer(&keys[0], nonce as u64, [previous, genesis_id]);
            previous = Unit::new(tx.clone()).expect("unit").id;
            tx.encode().expect("encode")
        })
        .collect();
    let config = vein_node::NodeConfig::new(genesis, keys[0].clone(), [7; 32]);
    let mut node = vein_node::Node::new(config).expect("node");
    let start = Instant::now();
    for bytes in &records {
        node.restore(0, vein_node::core::record::RecordKind::Unit, bytes);
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(node.dag().len(), count, "every record restored");
    (count, seconds)
}

/// Runs the stream described above; returns the timed selections, their seconds and the stats.
fn stream_selection(
    keys: &[Keypair],
    genesis: Hash,
    interval: usize,
    spam_every: Option<usize>,
) -> (usize, f64, vein_node::core::tips::TipStats) {
    let attacker = Keypair::derived("bench-attacker", 0);
    let accounts = keys.iter().chain([&attacker]);
    let ledger =
        Ledger::genesis(&accounts.map(|k| (k.account(), u64::MAX / 128)).collect::<Vec<_>>())
            .expect("ledger");
    let ledger = &ledger;
    let units = 6 * interval;
    let warmup = 2 * interval;
    let mut dag = Dag::new(genesis, 1024);
    let mut selector = TipSelector::new(TipStrategy::WeightedWalk { alpha: 0.5 });
    let mut rng = DetRng::from_seed([5; 32]);
    let mut anchors = vec![genesis];
    let mut previous_parents = vec![genesis];
    let mut nonces = vec![0u64; keys.len()];
    let mut epoch = 0;
    let mut attacker_nonce = 0;
    let mut timed = 0.0;
    let mut timed_selections = 0;
    let delay = interval / 20;
    let mut in_flight: std::collections::VecDeque<Arc<Unit>> = std::collections::VecDeque::new();
    for i in 0..units {
        let start = Instant::now();
        let Selection { parents, .. } = selector.select(&dag, ledger, epoch, &anchors, &mut rng);
        if i >= warmup {
            timed += start.elapsed().as_secs_f64();
            timed_selections += 1;
        }
        let key = i % keys.len();
        let tx = transfer(&keys[key], nonces[key], parents);
        nonces[key] += 1;
        in_flight.push_back(Unit::new(tx).expect("unit"));
        while in_flight.len() > delay {
            let Some(unit) = in_flight.pop_front() else { break };
            dag.insert(unit).expect("insert");
        }
        if let Some(every) = spam_every
            && i % every == 0
        {
            for amount in [1, 2] {
                let Selection { parents, .. } =
                    selector.select(&dag, ledger, epoch, &anchors, &mut rng);
                let tx = TransactionBody {
                    from: attacker.account(),
                    nonce: attacker_nonce,
                    kind: TxKind::Transfer { to: keys[0].account(), amount },
                    fee: 1,
                    parents,
                    issued_at_ms: 0,
                }
                .sign(&attacker)
                .expect("sign");
                dag.insert(Unit::new(tx).expect("unit")).expect("insert");
            }
            attacker_nonce += 1;
        }
        if i % interval == interval - 1 {
            // Confirm the previous checkpoint's cone; the new checkpoint approves two recent tips.
            let cone = dag.unconfirmed_cone(&previous_parents, usize::MAX).expect("cone");
            for id in &cone {
                let confirmation = Confirmation { height: epoch + 1, outcome: Outcome::Applied };
                dag.set_confirmation(id, Some(confirmation));
            }
            anchors = previous_parents;
            let tips = dag.tips().as_slice();
            previous_parents = tips.iter().take(2).copied().collect();
            epoch += 1;
        }
    }
    (timed_selections, timed, selector.stats.clone())
}
