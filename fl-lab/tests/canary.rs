#![allow(clippy::unwrap_used)] // The chain helper of a test: a refused step is the failure.
//! Data never leaves its node: a whole masked task on the real data set — post, ten joins,
//! three rounds of updates, aggregates and settlements, close — is run on a ledger, and every
//! byte that would leave a participant (each encoded transaction and each masked update sent to
//! the others) is searched for any record, raw (f64) or as training sees it (fixed point).
//! Only hashes, counts, keys and masked sums travel; `FlTx` has no field that could hold a
//! record, and this test catches one being added and filled.

use std::collections::BTreeSet;
use vein_fl_lab::scenarios::{Split, mask_all, seed_bytes, shards, wine_setup};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::fl::masking::{self, MaskSecret};
use vein_node::core::fl::model::{apply_update, difference};
use vein_node::core::fl::task::{FlTx, TaskSpec, task_id};
use vein_node::core::fl::update::{aggregate_hash, encode_update, update_hash};
use vein_node::core::fl::{AggregationRule, Contribution, Dataset, Fixed, train_local};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::{FeePolicy, Ledger, Undo};
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

const WINDOW: usize = 16;

/// Sixteen bytes that name a record: two adjacent features. Windows with fewer than eight
/// non-zero bytes are left out: a pair of round values (0.0 next to 2.0 is eight zero bytes
/// and then `00 .. 00 40`) also occurs in ordinary encodings of small integers and zero hashes,
/// and says little about any one record.
fn distinctive(first: [u8; 8], second: [u8; 8]) -> Option<[u8; WINDOW]> {
    let mut window = [0u8; WINDOW];
    window[..8].copy_from_slice(&first);
    window[8..].copy_from_slice(&second);
    (window.iter().filter(|byte| **byte != 0).count() >= 8).then_some(window)
}

/// Every distinctive window of every record, raw and in fixed point, and how many records have
/// at least one.
fn record_windows(raw: &[Vec<f64>], data: &Dataset) -> (BTreeSet<[u8; WINDOW]>, usize) {
    let mut windows = BTreeSet::new();
    let mut covered = 0;
    for (index, row) in raw.iter().enumerate() {
        let mut own: Vec<[u8; WINDOW]> = row
            .windows(2)
            .filter_map(|pair| distinctive(pair[0].to_le_bytes(), pair[1].to_le_bytes()))
            .collect();
        if let Some((fixed, _)) = data.row(index) {
            own.extend(
                fixed.windows(2).filter_map(|pair| {
                    distinctive(pair[0].0.to_le_bytes(), pair[1].0.to_le_bytes())
                }),
            );
        }
        // The red wine set repeats some records; a repeated record is covered by its twin's.
        if !own.is_empty() {
            covered += 1;
        }
        windows.extend(own);
    }
    (windows, covered)
}

/// The first record window found in `bytes`, if any.
fn leak(bytes: &[u8], windows: &BTreeSet<[u8; WINDOW]>) -> Option<[u8; WINDOW]> {
    bytes.windows(WINDOW).find_map(|w| {
        let mut window = [0u8; WINDOW];
        window.copy_from_slice(w);
        windows.contains(&window).then_some(window)
    })
}

struct Chain {
    ledger: Ledger,
    keys: Vec<Keypair>,
    nonces: Vec<u64>,
    undo: Undo,
    sent: Vec<Vec<u8>>,
}

impl Chain {
    fn submit(&mut self, who: usize, tx: FlTx) {
        let body = TransactionBody {
            from: self.keys[who].account(),
            nonce: self.nonces[who],
            kind: TxKind::Fl(Box::new(tx)),
            fee: 1,
            parents: [Hash::ZERO; 2],
            issued_at_ms: 0,
        };
        let signed: Transaction = body.sign(&self.keys[who]).unwrap();
        let author = AccountId([0xAA; 32]);
        let policy = FeePolicy { burn_per_mille: 500 };
        self.ledger.apply(&signed, &author, policy, &mut self.undo).unwrap();
        self.ledger.check_invariants().unwrap();
        self.nonces[who] += 1;
        self.sent.push(signed.encode().unwrap());
    }

    fn account(&self, who: usize) -> AccountId {
        self.keys[who].account()
    }
}

#[test]
fn no_transaction_or_update_message_of_a_whole_task_carries_a_record() {
    let (raw, _) = vein_fl_lab::wine_quality_raw();
    let data = vein_fl_lab::wine_quality().unwrap();
    let (windows, covered) = record_windows(&raw, &data);
    assert_eq!(covered, raw.len(), "every record can be recognised");

    let setup = wine_setup(3).unwrap();
    let participants = 10;
    let split = shards(&setup, participants, Split::Iid).unwrap();
    let keys: Vec<Keypair> =
        (0..=participants as u64).map(|i| Keypair::derived("canary", i)).collect();
    let allocations: Vec<(AccountId, u64)> =
        keys.iter().map(|k| (k.account(), 1_000_000)).collect();
    let mut chain = Chain {
        ledger: Ledger::genesis(&allocations).unwrap(),
        nonces: vec![0; keys.len()],
        keys,
        undo: Undo::default(),
        sent: Vec::new(),
    };
    let spec = TaskSpec {
        training: setup.training,
        rule: AggregationRule::FedAvg,
        masked: true,
        rounds: 3,
        min_participants: 10,
        price_per_round: 50_000,
    };
    chain.submit(0, FlTx::Post(spec.clone()));
    let task = task_id(&chain.account(0), 0);
    let secrets: Vec<MaskSecret> = (0..participants)
        .map(|i| MaskSecret::derive(&seed_bytes(b"node", 3, 0, i), &task))
        .collect();
    for (i, shard) in split.iter().enumerate() {
        let join = FlTx::Join { task, samples: shard.len() as u64, mask_key: secrets[i].public() };
        chain.submit(i + 1, join);
    }
    let dimension = spec.training.dimension as usize;
    let mut global = spec.training.initial_weights();
    for round in 0..spec.rounds {
        let contributions: Vec<Contribution> = split
            .iter()
            .enumerate()
            .map(|(i, shard)| {
                let seed = seed_bytes(b"local", 3, round, i);
                let trained = train_local(&global, shard, &spec.training, seed).unwrap();
                let update = difference(&trained, &global).unwrap();
                Contribution { update, samples: shard.len() as u64 }
            })
            .collect();
        // What each participant sends the others: its masked update, in the update encoding.
        let masked = mask_all(&contributions, &secrets, &task, round).unwrap();
        for (i, words) in masked.iter().enumerate() {
            let message =
                encode_update(&words.iter().map(|w| Fixed(*w as i64)).collect::<Vec<_>>());
            let hash = update_hash(&task, round, &chain.account(i + 1), &message);
            chain.submit(
                i + 1,
                FlTx::CommitUpdate { task, round, dimension: dimension as u32, update: hash },
            );
            chain.sent.push(message);
        }
        let indexed: Vec<(usize, Vec<u64>)> = masked.into_iter().enumerate().collect();
        let sum = masking::unmask_sum(&indexed, &[], &[], dimension).unwrap();
        let total: u64 = contributions.iter().map(|c| c.samples).sum();
        let aggregate = masking::fed_avg_from_sum(&sum, total).unwrap();
        let hash = aggregate_hash(&task, round, &aggregate);
        for who in 1..=participants {
            chain.submit(who, FlTx::CommitAggregate { task, round, aggregate: hash });
        }
        chain.submit(0, FlTx::Settle { task, round });
        global = apply_update(&global, &aggregate).unwrap();
    }
    chain.submit(0, FlTx::Close { task });
    assert!(chain.ledger.fl().is_empty());
    assert_eq!(chain.sent.len(), 1 + 10 + 3 * (10 + 10 + 10 + 1) + 1);
    for (index, bytes) in chain.sent.iter().enumerate() {
        let found = leak(bytes, &windows);
        assert_eq!(found, None, "message {index} carries record bytes");
    }

    // The search finds a record where one is: a transfer whose encoding embeds a row would be
    // flagged, so the silence above means something.
    let (row, _) = data.row(7).unwrap();
    let smuggled = encode_update(row);
    assert!(leak(&smuggled, &windows).is_some(), "a fixed-point row is found");
    let mut raw_bytes = Vec::new();
    raw[7].iter().for_each(|value| raw_bytes.extend_from_slice(&value.to_le_bytes()));
    assert!(leak(&raw_bytes, &windows).is_some(), "a raw row is found");
}
