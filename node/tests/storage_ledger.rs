#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! Storage contracts on the ledger alone: a put escrows and opens a contract, proofs are checked
//! with a typed error per fault, settlement pays proven shards and burns and records misses, the
//! supply invariant holds at every step, and undo restores the exact state.

use std::collections::BTreeMap;
use std::sync::Arc;
use vein_node::core::contracts::{StorageContext, StorageMode};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::evm::EvmBlock;
use vein_node::core::hash::Hash;
use vein_node::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use vein_node::core::params::StorageParams;
use vein_node::core::storage::{
    Challenge, MerkleTree, OwnerKey, PreparedFile, ProofError, StorageProof, StorePut, answer,
    assign, prepare_file,
};
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };
const PARAMS: StorageParams =
    StorageParams { challenge_count: 8, proof_deadline_rounds: 3, repair_after_missed: 3 };

struct World {
    keys: Vec<Keypair>,
    nodes: Arc<[AccountId]>,
    ledger: Ledger,
    prepared: PreparedFile,
    put: StorePut,
}

fn generation_signature(round: u64) -> Hash {
    Hash::of_parts(&[b"g".as_slice(), &round.to_le_bytes()])
}

fn context(world: &World, height: u64) -> StorageContext {
    let oldest = height.saturating_sub(PARAMS.proof_deadline_rounds);
    StorageContext {
        height,
        params: PARAMS,
        nodes: world.nodes.clone(),
        generation_signatures: (oldest..=height).map(|r| (r, generation_signature(r))).collect(),
        evm: EvmBlock {
            height,
            timestamp_ms: 0,
            generation_signature: generation_signature(height),
            parent_id: Hash::ZERO,
            chain_id: 1,
        },
    }
}

fn world() -> World {
    let keys: Vec<Keypair> = (0..6).map(|i| Keypair::derived("storage-ledger", i)).collect();
    let mut nodes: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    nodes.sort();
    let ledger =
        Ledger::genesis(&keys.iter().map(|k| (k.account(), 100_000)).collect::<Vec<_>>()).unwrap();
    let plaintext: Vec<u8> = (0..3_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let prepared = prepare_file(&plaintext, &OwnerKey([9; 32]), 2, 4, 64).unwrap();
    let assigned = assign(&prepared.file_id, 4, &nodes).unwrap();
    let put = prepared.store_put(assigned, 3, 1_001);
    World { keys, nodes: nodes.into(), ledger, prepared, put }
}

fn signed(key: &Keypair, nonce: u64, kind: TxKind, fee: u64) -> Transaction {
    TransactionBody {
        from: key.account(),
        nonce,
        kind,
        fee,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    }
    .sign(key)
    .unwrap()
}

fn key_of<'a>(world: &'a World, account: &AccountId) -> &'a Keypair {
    world.keys.iter().find(|k| k.account() == *account).unwrap()
}

fn proof(world: &World, shard_index: u8, round: u64) -> StorageProof {
    let shard = &world.prepared.shards[usize::from(shard_index)];
    let tree = MerkleTree::from_data(shard, 64).unwrap();
    let challenge = Challenge {
        generation_signature: generation_signature(round),
        round,
        count: PARAMS.challenge_count as usize,
    };
    answer(&world.put, shard_index, shard, &tree, &challenge).unwrap()
}

fn proof_tx(world: &World, shard_index: u8, proof: StorageProof, nonce: u64) -> Transaction {
    let holder = world.put.storage_nodes[usize::from(shard_index)];
    signed(key_of(world, &holder), nonce, TxKind::StorageProof(Box::new(proof)), 1)
}

#[test]
fn contract_lifecycle_pays_burns_records_and_reverts() {
    let mut world = world();
    let strangers: Vec<Keypair> = world
        .keys
        .iter()
        .filter(|k| !world.put.storage_nodes.contains(&k.account()))
        .cloned()
        .collect();
    let owner = strangers[0].clone();
    let author = AccountId([0xAA; 32]);
    let start = world.ledger.clone();
    let mut undos = Vec::new();

    // Height 10: the put escrows 1001 out of the owner's balance and opens rounds 11..=13.
    let mut undo = Undo::default();
    let put_tx = signed(&owner, 0, TxKind::StorePut(Box::new(world.put.clone())), 10);
    let ctx = context(&world, 10);
    world.ledger.apply_in(&put_tx, &author, POLICY, StorageMode::Full(&ctx), &mut undo).unwrap();
    assert_eq!(world.ledger.balance(&owner.account()), 100_000 - 1_001 - 10);
    assert_eq!(world.ledger.escrowed(), 1_001);
    let contract = world.ledger.contract(&world.put.file_id).unwrap();
    assert_eq!((contract.first_round, contract.last_round()), (11, 13));
    world.ledger.check_invariants().unwrap();
    // The same file cannot be opened twice while active.
    let again = signed(&owner, 1, TxKind::StorePut(Box::new(world.put.clone())), 10);
    assert_eq!(
        world.ledger.apply_in(&again, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::FileActive { file_id: world.put.file_id })
    );
    undos.push(undo);

    // Height 11 (round 11): shards 0..=2 prove, shard 3 does not.
    let mut undo = Undo::default();
    let ctx = context(&world, 11);
    let mut nonces: BTreeMap<u8, u64> = BTreeMap::new();
    for shard in 0..3u8 {
        let tx = proof_tx(&world, shard, proof(&world, shard, 11), 0);
        world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(&ctx), &mut undo).unwrap();
        nonces.insert(shard, 1);
    }
    // Typed errors, each for one fault.
    let duplicate = proof_tx(&world, 0, proof(&world, 0, 11), 1);
    assert!(matches!(
        world.ledger.apply_in(&duplicate, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::DuplicateProof { shard_index: 0, round: 11, .. })
    ));
    let intruder = world.put.storage_nodes[0];
    let by_stranger =
        signed(&strangers[1], 0, TxKind::StorageProof(Box::new(proof(&world, 3, 11))), 1);
    assert!(matches!(
        world.ledger.apply_in(&by_stranger, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::NotAssignedNode { shard_index: 3, .. })
    ));
    let wrong_shard = signed(
        key_of(&world, &intruder),
        5,
        TxKind::StorageProof(Box::new(proof(&world, 3, 11))),
        1,
    );
    assert!(matches!(
        world.ledger.apply_in(&wrong_shard, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::NotAssignedNode { .. })
    ));
    let mut relabelled = proof(&world, 3, 11);
    relabelled.round = 12;
    let early = proof_tx(&world, 3, relabelled.clone(), 0);
    assert_eq!(
        world.ledger.apply_in(&early, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::ProofTooEarly { round: 12, height: 11 })
    );
    let ctx12 = context(&world, 12);
    assert!(matches!(
        world.ledger.apply_in(
            &early,
            &author,
            POLICY,
            StorageMode::Full(&ctx12),
            &mut Undo::default()
        ),
        Err(LedgerError::BadProof(ProofError::WrongChunkIndex { .. }))
    ));
    let mut flipped = proof(&world, 3, 11);
    flipped.chunks[0].chunk[0] ^= 1;
    let bad = proof_tx(&world, 3, flipped, 0);
    assert!(matches!(
        world.ledger.apply_in(&bad, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::BadProof(ProofError::BadChunk { .. }))
    ));
    let outside = proof_tx(&world, 3, proof(&world, 3, 10), 0);
    assert!(matches!(
        world.ledger.apply_in(&outside, &author, POLICY, StorageMode::Full(&ctx), &mut undo),
        Err(LedgerError::RoundOutsideTerm { round: 10, first: 11, last: 13 })
    ));
    // Without chain context storage transactions are refused outright.
    assert_eq!(world.ledger.check(&outside), Err(LedgerError::NoStorageContext));
    world.ledger.check_invariants().unwrap();
    undos.push(undo);

    // Heights 12 and 13 settle rounds 9 and 10: nothing is due.
    for height in 12..=13 {
        let mut undo = Undo::default();
        assert!(world.ledger.settle(&context(&world, height), &mut undo).unwrap().is_empty());
        undos.push(undo);
    }

    // Height 14 settles round 11: shards 0..=2 paid their exact share, shard 3 forfeits.
    let before: Vec<u64> =
        world.put.storage_nodes.iter().map(|n| world.ledger.balance(n)).collect();
    let burned_before = world.ledger.burned();
    let mut undo = Undo::default();
    let settled = world.ledger.settle(&context(&world, 14), &mut undo).unwrap();
    undos.push(undo);
    assert_eq!(settled.len(), 1);
    assert_eq!((settled[0].round, settled[0].missed_shards.clone()), (11, vec![3]));
    // Round 0 of a 3-round term of 1001: budget 334, shares 84, 84, 83, 83.
    for (shard, share) in [84u64, 84, 83].into_iter().enumerate() {
        let node = world.put.storage_nodes[shard];
        assert_eq!(world.ledger.balance(&node), before[shard] + share, "shard {shard}");
    }
    assert_eq!(world.ledger.balance(&world.put.storage_nodes[3]), before[3]);
    assert_eq!(world.ledger.burned(), burned_before + 83);
    let contract = world.ledger.contract(&world.put.file_id).unwrap();
    assert_eq!(contract.missed_rounds, vec![0, 0, 0, 1]);
    assert_eq!(contract.consecutive_missed, vec![0, 0, 0, 1]);
    assert_eq!((contract.escrow, contract.paid, contract.forfeited), (1_001 - 334, 251, 83));
    world.ledger.check_invariants().unwrap();

    // A proof for round 12 at height 16 is past its deadline 15.
    let late = proof_tx(&world, 0, proof(&world, 0, 12), nonces[&0]);
    let ctx16 = context(&world, 16);
    assert_eq!(
        world.ledger.apply_in(
            &late,
            &author,
            POLICY,
            StorageMode::Full(&ctx16),
            &mut Undo::default()
        ),
        Err(LedgerError::ProofTooLate { round: 12, height: 16, deadline: 15 })
    );

    // Rounds 12 and 13 go unproven: everything left is burned and the contract closes.
    for height in 15..=16 {
        let mut undo = Undo::default();
        let settled = world.ledger.settle(&context(&world, height), &mut undo).unwrap();
        undos.push(undo);
        assert_eq!(settled[0].missed_shards, vec![0, 1, 2, 3]);
        assert_eq!(settled[0].closed, height == 16);
        world.ledger.check_invariants().unwrap();
    }
    assert!(world.ledger.contract(&world.put.file_id).is_none());
    assert_eq!(world.ledger.escrowed(), 0);
    assert_eq!(world.ledger.burned(), burned_before + 1_001 - 334 + 83);

    // Undo restores genesis exactly.
    for undo in undos.into_iter().rev() {
        world.ledger.revert(undo);
    }
    assert_eq!(world.ledger, start);
}

#[test]
fn put_must_match_the_assignment_rule_and_be_well_formed() {
    let mut world = world();
    let owner = world.keys[0].clone();
    let author = AccountId([0xAA; 32]);
    let ctx = context(&world, 5);
    let mut swapped = world.put.clone();
    swapped.storage_nodes.swap(0, 1);
    let tx = signed(&owner, 0, TxKind::StorePut(Box::new(swapped)), 10);
    assert!(matches!(
        world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(&ctx), &mut Undo::default()),
        Err(LedgerError::Assignment(_))
    ));
    let mut forged = world.put.clone();
    forged.shard_roots[0] = Hash::ZERO;
    let tx = signed(&owner, 0, TxKind::StorePut(Box::new(forged)), 10);
    assert!(matches!(
        world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(&ctx), &mut Undo::default()),
        Err(LedgerError::InvalidPut(_))
    ));
    let mut rich = world.put.clone();
    rich.prepaid_fee = 1_000_000;
    let tx = signed(&owner, 0, TxKind::StorePut(Box::new(rich)), 10);
    assert!(matches!(
        world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(&ctx), &mut Undo::default()),
        Err(LedgerError::InsufficientBalance { .. })
    ));
    // A proof for a file nobody stored.
    let tx = proof_tx(&world, 0, proof(&world, 0, 5), 0);
    assert!(matches!(
        world.ledger.apply_in(&tx, &author, POLICY, StorageMode::Full(&ctx), &mut Undo::default()),
        Err(LedgerError::UnknownFile { .. })
    ));
    assert_eq!(world.ledger, self::world().ledger);
}

mod random_histories {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Random puts, proofs (valid, corrupted, late or early), repairs and settlements over
        /// consecutive heights: the supply and escrow invariants hold after every step, and
        /// reverting every undo log restores genesis exactly.
        #[test]
        fn invariants_hold_and_undo_restores_genesis(
            steps in proptest::collection::vec(
                (0u8..4, 0u8..4, 0u64..3, any::<bool>(), 1u64..5, 0u64..2_000), 1..40)
        ) {
            let mut world = world();
            let owner = world
                .keys
                .iter()
                .find(|k| !world.put.storage_nodes.contains(&k.account()))
                .unwrap()
                .clone();
            let author = AccountId([0xAB; 32]);
            let start = world.ledger.clone();
            let trees: Vec<MerkleTree> = world
                .prepared
                .shards
                .iter()
                .map(|shard| MerkleTree::from_data(shard, 64).unwrap())
                .collect();
            let mut nonces: BTreeMap<AccountId, u64> = BTreeMap::new();
            let mut undos = Vec::new();
            for (height, (action, shard, lag, valid, term, fee)) in (1u64..).zip(steps) {
                let ctx = context(&world, height);
                let mode = StorageMode::Full(&ctx);
                let mut undo = Undo::default();
                let contract = world.ledger.contract(&world.put.file_id).cloned();
                let tx = match (action, &contract) {
                    (0, _) => {
                        let mut put = world.put.clone();
                        put.term_rounds = term;
                        put.prepaid_fee = fee;
                        Some((owner.clone(), TxKind::StorePut(Box::new(put))))
                    }
                    (1 | 2, Some(contract)) => {
                        let round = height.saturating_sub(lag);
                        let challenge = Challenge {
                            generation_signature: generation_signature(round),
                            round,
                            count: PARAMS.challenge_count as usize,
                        };
                        let shard_bytes = &world.prepared.shards[usize::from(shard)];
                        let mut proof =
                            answer(&contract.put, shard, shard_bytes, &trees[usize::from(shard)],
                                   &challenge).unwrap();
                        if !valid {
                            proof.chunks[0].chunk[0] ^= 1;
                        }
                        let holder = contract.put.storage_nodes[usize::from(shard)];
                        Some((key_of(&world, &holder).clone(), TxKind::StorageProof(Box::new(proof))))
                    }
                    (3, Some(_)) => Some((
                        owner.clone(),
                        TxKind::StoreRepair { file_id: world.put.file_id, shard_index: shard },
                    )),
                    _ => None,
                };
                if let Some((key, kind)) = tx {
                    let nonce = nonces.entry(key.account()).or_insert(0);
                    let tx = signed(&key, *nonce, kind, 3);
                    *nonce += 1;
                    let _ = world.ledger.apply_in(&tx, &author, POLICY, mode, &mut undo);
                }
                world.ledger.settle(&ctx, &mut undo).unwrap();
                prop_assert!(world.ledger.check_invariants().is_ok(),
                    "{:?}", world.ledger.check_invariants());
                undos.push(undo);
            }
            for undo in undos.into_iter().rev() {
                world.ledger.revert(undo);
            }
            prop_assert_eq!(world.ledger, start);
        }
    }
}

#[test]
fn genesis_id_commits_to_storage_params_only_when_not_default() {
    use vein_node::core::params::Params;
    use vein_node::localnet::model_genesis;
    let id = |storage: StorageParams| {
        let params = Params { storage, ..Params::default() };
        model_genesis("storage-params", &[10, 20], 1_000, params).0.id().unwrap()
    };
    let default = id(StorageParams::default());
    assert_ne!(id(StorageParams { challenge_count: 4, ..StorageParams::default() }), default);
    assert_ne!(id(StorageParams { proof_deadline_rounds: 9, ..StorageParams::default() }), default);
    // The encoding of default params is the one from before storage params existed.
    let bytes_with_default = vein_node::core::wire::encode_body(&Params::default(), "p").unwrap();
    let params = Params { storage: PARAMS, ..Params::default() };
    let bytes_custom = vein_node::core::wire::encode_body(&params, "p").unwrap();
    assert!(bytes_custom.len() > bytes_with_default.len());
}

#[test]
fn a_put_whose_proofs_would_not_fit_a_message_is_refused() {
    use vein_node::core::ledger::{PROOF_BYTES_MAX, proof_bytes_max};
    let keys: Vec<Keypair> = (0..4).map(|i| Keypair::derived("big-chunks", i)).collect();
    let mut nodes: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    nodes.sort();
    let mut ledger =
        Ledger::genesis(&keys.iter().map(|k| (k.account(), 1_000)).collect::<Vec<_>>()).unwrap();
    let plaintext = vec![7u8; 300_000];
    let prepared = prepare_file(&plaintext, &OwnerKey([1; 32]), 1, 2, 64 * 1024).unwrap();
    let put = prepared.store_put(assign(&prepared.file_id, 2, &nodes).unwrap(), 5, 10);
    // 256 challenged chunks of 64 KiB: 16 MiB, far over the limit.
    let params = StorageParams { challenge_count: 256, ..PARAMS };
    assert!(proof_bytes_max(64 * 1024, 256) > PROOF_BYTES_MAX as u64);
    let ctx = StorageContext {
        height: 1,
        params,
        nodes: nodes.clone().into(),
        generation_signatures: BTreeMap::new(),
        evm: EvmBlock {
            height: 1,
            timestamp_ms: 0,
            generation_signature: Hash::ZERO,
            parent_id: Hash::ZERO,
            chain_id: 1,
        },
    };
    let tx = signed(&keys[0], 0, TxKind::StorePut(Box::new(put.clone())), 1);
    assert!(matches!(
        ledger.apply_in(
            &tx,
            &AccountId([1; 32]),
            POLICY,
            StorageMode::Full(&ctx),
            &mut Undo::default()
        ),
        Err(LedgerError::ProofTooLarge { .. })
    ));
    // With c = 16 the same put is fine.
    let ctx = StorageContext { params: StorageParams { challenge_count: 16, ..PARAMS }, ..ctx };
    ledger
        .apply_in(&tx, &AccountId([1; 32]), POLICY, StorageMode::Full(&ctx), &mut Undo::default())
        .unwrap();
}
