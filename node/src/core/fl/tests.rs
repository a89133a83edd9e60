//! Tasks on a real ledger: a whole task trained, committed, agreed and settled; every refusal
//! as its typed error; and a property that no sequence of task actions loses or doubles a
//! payment (the supply invariant, with escrow, after every step, and exact reverts).

use super::aggregate::{AggregationRule, Contribution, aggregate};
use super::dataset::Dataset;
use super::error::FlError;
use super::fixed::Fixed;
use super::masking::{self, MaskSecret};
use super::model::{TrainingSpec, apply_update, correct_count, difference, train_local};
use super::recovery;
use super::split;
use super::task::{COMMISSION_BPS, FlTx, RoundCommits, TaskSpec, task_id};
use super::update::{aggregate_hash, encode_update, update_hash, verify_update};
use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use proptest::prelude::*;
use std::collections::BTreeMap;

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };
const PRICE: u64 = 10_000;

fn signed(key: &Keypair, nonce: u64, tx: FlTx) -> Transaction {
    TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Fl(Box::new(tx)),
        fee: 1,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    }
    .sign(key)
    .unwrap()
}

/// A ledger, its poster (key 0), participants (keys 1..=n) and the block author (key 99).
struct World {
    ledger: Ledger,
    keys: Vec<Keypair>,
    nonces: Vec<u64>,
    author: AccountId,
    undo: Undo,
}

impl World {
    fn new(participants: usize) -> World {
        let keys: Vec<Keypair> =
            (0..=participants as u64).map(|i| Keypair::derived("fl", i)).collect();
        let allocations: Vec<(AccountId, u64)> =
            keys.iter().map(|k| (k.account(), 1_000_000)).collect();
        World {
            ledger: Ledger::genesis(&allocations).unwrap(),
            nonces: vec![0; keys.len()],
            keys,
            author: Keypair::derived("fl", 99).account(),
            undo: Undo::default(),
        }
    }

    fn submit(&mut self, who: usize, tx: FlTx) -> Result<(), LedgerError> {
        let signed = signed(&self.keys[who], self.nonces[who], tx);
        let result = self.ledger.apply(&signed, &self.author, POLICY, &mut self.undo);
        if result.is_ok() {
            self.nonces[who] += 1;
        }
        self.ledger.check_invariants().unwrap();
        result
    }

    fn account(&self, who: usize) -> AccountId {
        self.keys[who].account()
    }
}

fn spec(rule: AggregationRule, masked: bool, rounds: u32) -> TaskSpec {
    TaskSpec {
        training: TrainingSpec {
            dimension: 3,
            learning_rate: Fixed(Fixed::ONE.0 / 4),
            local_epochs: 2,
            batch_size: 8,
        },
        rule,
        masked,
        rounds,
        min_participants: 3,
        price_per_round: PRICE,
    }
}

fn fl_err(error: FlError) -> Result<(), LedgerError> {
    Err(LedgerError::Fl(error))
}

/// Two classes separated by the first feature (scaled near unit variance), and a second
/// feature that carries nothing.
fn synthetic() -> Dataset {
    let records: Vec<Vec<Fixed>> = (0..400)
        .map(|i| {
            vec![
                Fixed((i % 97 - 48) * Fixed::ONE.0 / 28),
                Fixed(((i * 7) % 13 - 6) * Fixed::ONE.0 / 4),
            ]
        })
        .collect();
    let labels: Vec<bool> = (0..400).map(|i| i % 97 - 48 > 3).collect();
    Dataset::new(records, labels).unwrap()
}

#[test]
fn a_task_trains_agrees_and_pays_each_round_exactly_once() {
    let participants = 4;
    let mut world = World::new(participants);
    let spec = spec(AggregationRule::FedAvg, false, 3);
    let before: u64 = (0..=participants).map(|i| world.ledger.balance(&world.account(i))).sum();
    world.submit(0, FlTx::Post(spec.clone())).unwrap();
    let task = task_id(&world.account(0), 0);
    assert_eq!(world.ledger.escrowed(), 3 * PRICE);
    let data = synthetic();
    let parts = split::iid(data.len(), participants, [4; 32]).unwrap();
    let shards: Vec<Dataset> = parts.iter().map(|part| data.subset(part)).collect();
    for who in 1..=participants {
        let samples = shards[who - 1].len() as u64;
        world.submit(who, FlTx::Join { task, samples, mask_key: [who as u8; 32] }).unwrap();
    }
    let mut global = spec.training.initial_weights();
    let (mut total_paid, mut total_burned) = (0u64, 0u64);
    for round in 0..spec.rounds {
        // Each participant trains on its own records; only the hash goes on chain, the bytes
        // go to the other participants, who check them against it.
        let mut sent = Vec::new();
        for who in 1..=participants {
            let trained =
                train_local(&global, &shards[who - 1], &spec.training, [round as u8; 32]).unwrap();
            let bytes = encode_update(&difference(&trained, &global).unwrap());
            let hash = update_hash(&task, round, &world.account(who), &bytes);
            world
                .submit(who, FlTx::CommitUpdate { task, round, dimension: 3, update: hash })
                .unwrap();
            sent.push((who, bytes, hash));
        }
        let contributions: Vec<Contribution> = sent
            .iter()
            .map(|(who, bytes, hash)| Contribution {
                update: verify_update(&task, round, &world.account(*who), bytes, hash, 3).unwrap(),
                samples: shards[who - 1].len() as u64,
            })
            .collect();
        let agreed = aggregate(spec.rule, &contributions, 3).unwrap();
        let hash = aggregate_hash(&task, round, &agreed);
        for who in 1..=participants {
            world.submit(who, FlTx::CommitAggregate { task, round, aggregate: hash }).unwrap();
        }
        let paid_before: Vec<u64> =
            (1..=participants).map(|i| world.ledger.balance(&world.account(i))).collect();
        let burned_before = world.ledger.burned();
        world.submit(0, FlTx::Settle { task, round }).unwrap();
        let paid: u64 = (1..=participants)
            .map(|i| world.ledger.balance(&world.account(i)) - paid_before[i - 1])
            .sum();
        // The settle's own fee is split by the fee policy: half of 1 burns nothing.
        let burned = world.ledger.burned() - burned_before;
        assert_eq!(paid + burned, PRICE, "a round pays or burns exactly its price");
        assert!(burned >= PRICE * COMMISSION_BPS / 10_000);
        assert_eq!(
            world.submit(0, FlTx::Settle { task, round }),
            fl_err(FlError::AlreadySettled { round })
        );
        total_paid += paid;
        total_burned += burned;
        global = apply_update(&global, &agreed).unwrap();
    }
    let correct = correct_count(&global, &data).unwrap();
    assert!(correct * 100 > data.len() * 95, "the federated model learned: {correct} of 400");
    let late = FlTx::CommitUpdate { task, round: 1, dimension: 3, update: Hash::ZERO };
    assert_eq!(world.submit(1, late), fl_err(FlError::TaskFinished { task }));
    assert_eq!(world.ledger.escrowed(), 0);
    world.submit(0, FlTx::Close { task }).unwrap();
    assert!(world.ledger.fl().is_empty());
    let poster_spent = 1_000_000 - world.ledger.balance(&world.account(0));
    assert_eq!(poster_spent, 3 * PRICE + world.nonces[0], "the price and its fees, nothing more");
    let participants_gained: u64 = (1..=participants)
        .map(|i| world.ledger.balance(&world.account(i)) + world.nonces[i] - 1_000_000)
        .sum();
    assert_eq!(participants_gained, total_paid);
    let after: u64 = (0..=participants).map(|i| world.ledger.balance(&world.account(i))).sum();
    let fees: u64 = world.nonces.iter().sum();
    assert_eq!(before - after, fees + total_burned, "only fees and burns left the parties");
}

/// Post a task with participants 1..=joined joined.
fn posted(world: &mut World, spec: TaskSpec, joined: usize) -> Hash {
    world.submit(0, FlTx::Post(spec)).unwrap();
    let task = task_id(&world.account(0), world.nonces[0] - 1);
    for who in 1..=joined {
        world
            .submit(who, FlTx::Join { task, samples: 10 * who as u64, mask_key: [0; 32] })
            .unwrap();
    }
    task
}

#[test]
fn bad_input_gets_typed_errors_and_changes_nothing() {
    let mut world = World::new(5);
    let mut free = spec(AggregationRule::FedAvg, false, 2);
    free.price_per_round = 0;
    assert_eq!(world.submit(0, FlTx::Post(free)), fl_err(FlError::NoEscrow));
    let robust_masked = spec(AggregationRule::Median, true, 2);
    assert_eq!(
        world.submit(0, FlTx::Post(robust_masked)),
        fl_err(FlError::RuleNeedsIndividualUpdates { rule: "median" })
    );
    let mut unaffordable = spec(AggregationRule::FedAvg, false, 2);
    unaffordable.price_per_round = 10_000_000;
    assert!(matches!(
        world.submit(0, FlTx::Post(unaffordable)),
        Err(LedgerError::InsufficientBalance { .. })
    ));
    let unknown = Hash::of(b"no such task");
    assert_eq!(
        world.submit(1, FlTx::Join { task: unknown, samples: 1, mask_key: [0; 32] }),
        fl_err(FlError::UnknownTask { task: unknown })
    );
    let task = posted(&mut world, spec(AggregationRule::FedAvg, false, 2), 2);
    let commit =
        |round, dimension| FlTx::CommitUpdate { task, round, dimension, update: Hash::ZERO };
    assert_eq!(
        world.submit(1, commit(0, 3)),
        fl_err(FlError::NotEnoughParticipants { task, joined: 2, needed: 3 })
    );
    assert_eq!(
        world.submit(3, FlTx::Join { task, samples: 0, mask_key: [0; 32] }),
        fl_err(FlError::NoSamples)
    );
    world.submit(3, FlTx::Join { task, samples: 5, mask_key: [0; 32] }).unwrap();
    assert_eq!(
        world.submit(3, FlTx::Join { task, samples: 5, mask_key: [0; 32] }),
        fl_err(FlError::AlreadyJoined { task, account: world.account(3) })
    );
    assert_eq!(
        world.submit(4, commit(0, 3)),
        fl_err(FlError::NotParticipant { task, account: world.account(4) })
    );
    assert_eq!(
        world.submit(1, commit(0, 4)),
        fl_err(FlError::WrongDimension { expected: 3, got: 4 })
    );
    assert_eq!(
        world.submit(1, commit(1, 3)),
        fl_err(FlError::RoundNotOpen { task, round: 1, current: 0 })
    );
    world.submit(1, commit(0, 3)).unwrap();
    assert_eq!(
        world.submit(1, commit(0, 3)),
        fl_err(FlError::AlreadyCommitted { task, round: 0, account: world.account(1) })
    );
    assert_eq!(
        world.submit(4, FlTx::Join { task, samples: 5, mask_key: [0; 32] }),
        fl_err(FlError::JoinClosed { task })
    );
    assert_eq!(
        world.submit(2, FlTx::CommitAggregate { task, round: 0, aggregate: Hash::ZERO }),
        fl_err(FlError::NoUpdateCommitted { round: 0, account: world.account(2) })
    );
    assert_eq!(
        world.submit(0, FlTx::Close { task }),
        fl_err(FlError::WorkPending { task, round: 0 })
    );
    assert_eq!(world.submit(1, FlTx::Close { task }), fl_err(FlError::NotPoster { task }));
    world.submit(2, commit(0, 3)).unwrap();
    world.submit(1, FlTx::CommitAggregate { task, round: 0, aggregate: Hash::ZERO }).unwrap();
    assert_eq!(world.submit(3, commit(0, 3)), fl_err(FlError::UpdatesClosed { task, round: 0 }));
    assert_eq!(
        world.submit(0, FlTx::Settle { task, round: 0 }),
        fl_err(FlError::NoAgreement { round: 0, agreeing: 1, needed: 3 })
    );
    // A malformed update never reaches the chain: it fails at the receiving participant.
    assert!(matches!(
        super::update::decode_update(b"veinflu0\x03\0\0\0short", 3),
        Err(FlError::MalformedUpdate { .. })
    ));
}

/// With 4 contributors, 3 agreeing is a majority: they are paid, the dissenter is not.
#[test]
fn the_majority_aggregate_is_accepted_and_only_its_committers_are_paid() {
    let mut world = World::new(4);
    let task = posted(&mut world, spec(AggregationRule::Krum { byzantine: 0 }, false, 2), 4);
    for who in 1..=4 {
        let update = Hash::of(&[who as u8]);
        world.submit(who, FlTx::CommitUpdate { task, round: 0, dimension: 3, update }).unwrap();
    }
    let (good, bad) = (Hash::of(b"agreed"), Hash::of(b"dissent"));
    for who in 1..=3 {
        world.submit(who, FlTx::CommitAggregate { task, round: 0, aggregate: good }).unwrap();
    }
    world.submit(4, FlTx::CommitAggregate { task, round: 0, aggregate: bad }).unwrap();
    let before: Vec<u64> = (1..=4).map(|i| world.ledger.balance(&world.account(i))).collect();
    world.submit(2, FlTx::Settle { task, round: 0 }).unwrap();
    let gained: Vec<u64> =
        (1..=4).map(|i| world.ledger.balance(&world.account(i)) - before[i - 1]).collect();
    // 9,900 over samples 10, 20, 30 (the settler, 2, also paid the fee of 1).
    assert_eq!(gained, vec![1650, 3300 - 1, 4950, 0]);
    let settled = &world.ledger.fl().get(&task).unwrap().settled[0];
    assert_eq!((settled.aggregate, settled.contributors, settled.accepted), (good, 4, 3));
    assert_eq!(world.ledger.escrowed(), PRICE);
    // The poster leaves after round 0: round 1's price comes back, round 0's is gone.
    let poster_before = world.ledger.balance(&world.account(0));
    world.submit(0, FlTx::Close { task }).unwrap();
    assert_eq!(world.ledger.balance(&world.account(0)), poster_before + PRICE - 1);
    assert_eq!(world.ledger.escrowed(), 0);
    assert_eq!(world.submit(0, FlTx::Close { task }), fl_err(FlError::UnknownTask { task }));
}

#[test]
fn tasks_enter_the_root_and_a_revert_restores_it() {
    let mut world = World::new(3);
    let root = world.ledger.root();
    let before = world.ledger.clone();
    let task = posted(&mut world, spec(AggregationRule::FedAvg, true, 1), 3);
    let with_task = world.ledger.root();
    assert_ne!(with_task, root);
    world
        .submit(1, FlTx::CommitUpdate { task, round: 0, dimension: 3, update: Hash::ZERO })
        .unwrap();
    assert_ne!(world.ledger.root(), with_task, "a commit changes the root");
    let undo = std::mem::take(&mut world.undo);
    world.ledger.revert(undo);
    assert_eq!(world.ledger, before);
    assert_eq!(world.ledger.root(), root);
}

/// A masked round of 4 participants in which participant 4 drops out before committing: the
/// three survivors reveal their seeds with it on chain, each recomputes FedAvg over the
/// survivors from the masked updates alone, and the round settles on exactly the unmasked
/// FedAvg of the survivors. Without the reveals the sum cannot be unmasked.
#[test]
fn a_masked_round_recovers_from_a_drop_out_and_settles_on_the_survivors_fed_avg() {
    let participants = 4;
    let mut world = World::new(participants);
    let spec = spec(AggregationRule::FedAvg, true, 2);
    world.submit(0, FlTx::Post(spec.clone())).unwrap();
    let task = task_id(&world.account(0), 0);
    let data = synthetic();
    let parts = split::iid(data.len(), participants, [5; 32]).unwrap();
    let shards: Vec<Dataset> = parts.iter().map(|part| data.subset(part)).collect();
    let secrets: Vec<MaskSecret> =
        (0..=participants).map(|who| MaskSecret::derive(&world.keys[who].seed(), &task)).collect();
    for who in 1..=participants {
        let samples = shards[who - 1].len() as u64;
        let mask_key = secrets[who].public();
        world.submit(who, FlTx::Join { task, samples, mask_key }).unwrap();
    }
    let global = spec.training.initial_weights();
    let round = 0;
    let on_chain = |world: &World| world.ledger.fl().get(&task).unwrap().clone();
    let positions: Vec<AccountId> = on_chain(&world).participants.keys().copied().collect();
    let accounts: Vec<AccountId> = world.keys.iter().map(|key| key.account()).collect();
    let position = |who: usize| positions.iter().position(|a| *a == accounts[who]);
    let survivors = [1usize, 2, 3];
    let mut plain = Vec::new();
    let mut masked: BTreeMap<AccountId, Vec<Fixed>> = BTreeMap::new();
    for &who in &survivors {
        let trained = train_local(&global, &shards[who - 1], &spec.training, [7; 32]).unwrap();
        let update = difference(&trained, &global).unwrap();
        let samples = shards[who - 1].len() as u64;
        plain.push(Contribution { update: update.clone(), samples });
        // Every survivor masks against all four joined participants: it cannot know who drops.
        let me = position(who).unwrap();
        let peers: Vec<(usize, [u8; 32])> = (1..=participants)
            .filter(|peer| *peer != who)
            .map(|peer| {
                let seed = secrets[who].pairwise_seed(&secrets[peer].public(), &task, round);
                (position(peer).unwrap(), seed)
            })
            .collect();
        let words = masking::mask(me, &masking::weigh(&update, samples).unwrap(), &peers).unwrap();
        let words: Vec<Fixed> = words.into_iter().map(|word| Fixed(word as i64)).collect();
        let bytes = encode_update(&words);
        let hash = update_hash(&task, round, &world.account(who), &bytes);
        world.submit(who, FlTx::CommitUpdate { task, round, dimension: 3, update: hash }).unwrap();
        let received = verify_update(&task, round, &world.account(who), &bytes, &hash, 3).unwrap();
        masked.insert(world.account(who), received);
    }
    let expected = aggregate(AggregationRule::FedAvg, &plain, 3).unwrap();
    // Participant 4 never committed. Without the reveals its masks stay in the sum.
    assert_eq!(
        recovery::survivors_fed_avg(&on_chain(&world), &masked),
        Err(FlError::Masking { reason: "a survivor's seed with a dropped peer is missing" })
    );
    assert!(!recovery::ready(&on_chain(&world)));
    let gone = world.account(4);
    let bad_reveal = FlTx::RevealSeeds { task, round, seeds: vec![(world.account(3), [0; 32])] };
    assert_eq!(
        world.submit(1, bad_reveal),
        fl_err(FlError::RevealMismatch { round, dropped: 1, named: 1 })
    );
    for &who in &survivors {
        let reveal = recovery::reveal(&secrets[who], &on_chain(&world)).unwrap();
        assert_eq!(
            reveal,
            FlTx::RevealSeeds {
                task,
                round,
                seeds: vec![(gone, secrets[who].pairwise_seed(&secrets[4].public(), &task, round))],
            }
        );
        world.submit(who, reveal.clone()).unwrap();
        assert_eq!(
            world.submit(who, reveal),
            fl_err(FlError::AlreadyCommitted { task, round, account: world.account(who) })
        );
    }
    // The first reveal froze the set: the drop-out cannot come back with an update now.
    assert_eq!(
        world.submit(4, FlTx::CommitUpdate { task, round, dimension: 3, update: Hash::ZERO }),
        fl_err(FlError::UpdatesClosed { task, round })
    );
    assert!(recovery::ready(&on_chain(&world)));
    let recovered = recovery::survivors_fed_avg(&on_chain(&world), &masked).unwrap();
    assert_eq!(recovered, expected, "bit for bit the survivors' unmasked FedAvg");
    let hash = aggregate_hash(&task, round, &recovered);
    for &who in &survivors {
        world.submit(who, FlTx::CommitAggregate { task, round, aggregate: hash }).unwrap();
    }
    world.submit(0, FlTx::Settle { task, round }).unwrap();
    let settled = &on_chain(&world).settled[0];
    assert_eq!((settled.aggregate, settled.contributors, settled.accepted), (hash, 3, 3));
    assert_eq!(settled.paid + settled.burned, PRICE);
    assert_eq!(on_chain(&world).participants[&gone].paid, 0, "the drop-out is not paid");
}

/// An update ordered in the same checkpoint as the first aggregate commit: two contributors
/// aggregated over the three updates they saw, two over all four. With the set frozen and
/// every contributor committed, 2 against 2 can never reach the 3 needed; the commit that
/// made agreement unreachable restarts the round, whose fresh attempt settles.
#[test]
fn a_round_whose_aggregate_votes_split_for_good_restarts_and_then_settles() {
    let mut world = World::new(4);
    let task = posted(&mut world, spec(AggregationRule::FedAvg, false, 1), 4);
    let update = |who: usize| Hash::of(&[who as u8]);
    let commit =
        |who: usize| FlTx::CommitUpdate { task, round: 0, dimension: 3, update: update(who) };
    for who in 1..=4 {
        world.submit(who, commit(who)).unwrap();
    }
    let (stale, full) = (Hash::of(b"over 1, 2, 3"), Hash::of(b"over 1, 2, 3, 4"));
    let aggregate = |hash| FlTx::CommitAggregate { task, round: 0, aggregate: hash };
    world.submit(1, aggregate(stale)).unwrap();
    world.submit(2, aggregate(stale)).unwrap();
    world.submit(3, aggregate(full)).unwrap();
    let open = |world: &World| world.ledger.fl().get(&task).unwrap().open_round.clone();
    assert_eq!((open(&world).aggregates.len(), open(&world).attempt), (3, 0), "2 + 1 can win");
    world.submit(4, aggregate(full)).unwrap();
    assert_eq!(open(&world), RoundCommits { attempt: 1, ..RoundCommits::default() });
    assert_eq!(
        world.submit(0, FlTx::Settle { task, round: 0 }),
        fl_err(FlError::NoAgreement { round: 0, agreeing: 0, needed: 3 })
    );
    for who in 1..=4 {
        world.submit(who, commit(who)).unwrap();
    }
    for who in 1..=4 {
        world.submit(who, aggregate(full)).unwrap();
    }
    world.submit(0, FlTx::Settle { task, round: 0 }).unwrap();
    let settled = &world.ledger.fl().get(&task).unwrap().settled[0];
    assert_eq!(
        (settled.aggregate, settled.accepted, settled.paid + settled.burned),
        (full, 4, PRICE)
    );
}

#[test]
fn seed_reveals_are_refused_where_there_is_nothing_to_recover() {
    let mut world = World::new(4);
    let task = posted(&mut world, spec(AggregationRule::FedAvg, false, 1), 4);
    let reveal = |seeds| FlTx::RevealSeeds { task, round: 0, seeds };
    let commit = FlTx::CommitUpdate { task, round: 0, dimension: 3, update: Hash::ZERO };
    world.submit(1, commit.clone()).unwrap();
    assert_eq!(world.submit(1, reveal(vec![])), fl_err(FlError::NotMasked { task }));
    let task = posted(&mut world, spec(AggregationRule::FedAvg, true, 1), 4);
    let commit = FlTx::CommitUpdate { task, round: 0, dimension: 3, update: Hash::ZERO };
    let reveal = |seeds| FlTx::RevealSeeds { task, round: 0, seeds };
    world.submit(1, commit.clone()).unwrap();
    world.submit(2, commit.clone()).unwrap();
    let missing: Vec<(AccountId, [u8; 32])> =
        [3, 4].iter().map(|who| (world.account(*who), [1; 32])).collect();
    assert_eq!(
        world.submit(1, reveal(missing.clone())),
        fl_err(FlError::NotEnoughSurvivors { round: 0, survivors: 2, needed: 3 })
    );
    assert_eq!(
        world.submit(4, reveal(missing)),
        fl_err(FlError::NoUpdateCommitted { round: 0, account: world.account(4) })
    );
    world.submit(3, commit.clone()).unwrap();
    let two = vec![(world.account(4), [1; 32]), (world.account(4), [1; 32])];
    assert_eq!(
        world.submit(3, reveal(two)),
        fl_err(FlError::RevealMismatch { round: 0, dropped: 1, named: 2 })
    );
    world.submit(4, commit).unwrap();
    assert_eq!(world.submit(1, reveal(vec![])), fl_err(FlError::NothingToReveal { round: 0 }));
}

#[derive(Clone, Debug)]
enum Step {
    Post { rounds: u32, price: u64 },
    Join { who: usize, samples: u64 },
    Update { who: usize, round: u32 },
    Aggregate { who: usize, round: u32, agree: bool },
    Settle { who: usize, round: u32 },
    Close { who: usize },
    Revert,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u32..4, 1u64..5_000).prop_map(|(rounds, price)| Step::Post { rounds, price }),
        (0usize..6, 0u64..100).prop_map(|(who, samples)| Step::Join { who, samples }),
        (0usize..6, 0u32..4).prop_map(|(who, round)| Step::Update { who, round }),
        (0usize..6, 0u32..4, prop::bool::weighted(0.8))
            .prop_map(|(who, round, agree)| Step::Aggregate { who, round, agree }),
        (0usize..6, 0u32..4).prop_map(|(who, round)| Step::Settle { who, round }),
        (0usize..6).prop_map(|who| Step::Close { who }),
        Just(Step::Revert),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the order of actions, refused or not: after every step balances + escrow equal
    /// the supply, every task escrows exactly its unsettled rounds, the sum of what each round
    /// paid and burned is its price, and reverting a batch restores the ledger exactly.
    #[test]
    fn escrow_is_conserved_under_any_sequence(steps in prop::collection::vec(step(), 1..80)) {
        let mut world = World::new(5);
        let mut tasks: Vec<Hash> = Vec::new();
        let mut checkpoint = world.ledger.clone();
        for step in steps {
            let task = tasks.last().copied().unwrap_or(Hash::ZERO);
            let _ = match step {
                Step::Post { rounds, price } => {
                    let mut spec = spec(AggregationRule::FedAvg, false, rounds);
                    spec.price_per_round = price;
                    let result = world.submit(0, FlTx::Post(spec));
                    if result.is_ok() {
                        tasks.push(task_id(&world.account(0), world.nonces[0] - 1));
                    }
                    result
                }
                Step::Join { who, samples } => {
                    world.submit(who, FlTx::Join { task, samples, mask_key: [0; 32] })
                }
                Step::Update { who, round } => world.submit(
                    who,
                    FlTx::CommitUpdate { task, round, dimension: 3, update: Hash::ZERO },
                ),
                Step::Aggregate { who, round, agree } => {
                    let aggregate = if agree { Hash::ZERO } else { Hash::of(&[who as u8]) };
                    world.submit(who, FlTx::CommitAggregate { task, round, aggregate })
                }
                Step::Settle { who, round } => world.submit(who, FlTx::Settle { task, round }),
                Step::Close { who } => world.submit(who, FlTx::Close { task }),
                Step::Revert => {
                    let undo = std::mem::take(&mut world.undo);
                    world.ledger.revert(undo);
                    prop_assert_eq!(&world.ledger, &checkpoint);
                    world.nonces = world
                        .keys
                        .iter()
                        .map(|k| world.ledger.next_nonce(&k.account()))
                        .collect();
                    tasks.retain(|t| world.ledger.fl().get(t).is_some());
                    checkpoint = world.ledger.clone();
                    Ok(())
                }
            };
            for task in world.ledger.fl().iter() {
                for round in &task.settled {
                    prop_assert_eq!(round.paid + round.burned, task.spec.price_per_round);
                }
                let paid: u64 = task.participants.values().map(|p| p.paid).sum();
                prop_assert_eq!(paid, task.settled.iter().map(|r| r.paid).sum::<u64>());
            }
        }
    }
}
