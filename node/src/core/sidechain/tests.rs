//! Side chains through the ledger: registration by a consortium party, anchors of a real side
//! chain (the anchor rule, forged, replayed and below-final segments), the final roots a peg
//! reads, and undo restoring the root.

use super::test_chain::{SideChainRun, side_chain_run};
use super::*;
use crate::core::checkpoint::{Checkpoint, CheckpointError};
use crate::core::consortium::keys::{self, DataKey, MemberSecret};
use crate::core::consortium::{
    Column, ColumnType, ConsortiumTx, CreateConsortium, TableSchema, consortium_id,
};
use crate::core::contracts::{StorageContext, StorageMode};
use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use std::collections::BTreeMap;

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };
const ANCHOR_INTERVAL: u64 = 4;

/// A main-chain ledger with one consortium of two parties, and an outsider.
struct MainChain {
    ledger: Ledger,
    parties: Vec<Keypair>,
    outsider: Keypair,
    author: AccountId,
    consortium: Hash,
    nonces: BTreeMap<AccountId, u64>,
}

/// The checkpoint context an anchor reads: only the block time (`EvmBlock::timestamp_ms`).
fn carrier_at(now_ms: u64) -> StorageContext {
    StorageContext {
        height: 1,
        params: crate::core::params::StorageParams::default(),
        nodes: std::sync::Arc::from(Vec::new()),
        generation_signatures: BTreeMap::new(),
        evm: crate::core::evm::EvmBlock {
            height: 1,
            timestamp_ms: now_ms,
            generation_signature: Hash::ZERO,
            parent_id: Hash::ZERO,
            chain_id: 1,
        },
    }
}

impl MainChain {
    fn new() -> MainChain {
        let parties: Vec<Keypair> = (0..2).map(|i| Keypair::derived("main", i)).collect();
        let outsider = Keypair::derived("main", 9);
        let mut allocations: Vec<(AccountId, u64)> =
            parties.iter().map(|key| (key.account(), 1_000)).collect();
        allocations.push((outsider.account(), 1_000));
        let mut main = MainChain {
            ledger: Ledger::genesis(&allocations).unwrap(),
            author: Keypair::derived("main", 5).account(),
            consortium: consortium_id(&parties[0].account(), 0),
            parties,
            outsider,
            nonces: BTreeMap::new(),
        };
        // One member node, holding the consortium's data key (a consortium needs one).
        let node = Keypair::derived("main-node", 0).account();
        let secret = MemberSecret::from_bytes([3u8; 32]);
        let wrapped =
            keys::wrap(&DataKey([42u8; 32]), &main.consortium, 0, &secret.public(), [7u8; 32])
                .unwrap();
        let create = CreateConsortium {
            name: "logistics".into(),
            parties: main.parties.iter().map(Keypair::account).collect(),
            members: BTreeMap::from([(node, secret.public())]),
            tables: vec![TableSchema {
                name: "shipments".into(),
                columns: vec![Column {
                    name: "id".into(),
                    column_type: ColumnType::Integer,
                    nullable: false,
                }],
                primary_key: 0,
            }],
            quorum: 1,
            wrapped: BTreeMap::from([(node, wrapped)]),
        };
        let creator = main.parties[0].clone();
        let tx = main.tx(&creator, TxKind::Consortium(Box::new(ConsortiumTx::Create(create))));
        main.ledger.apply(&tx, &main.author.clone(), POLICY, &mut Undo::default()).unwrap();
        main.nonces.insert(creator.account(), 1);
        main
    }

    fn tx(&mut self, key: &Keypair, kind: TxKind) -> Transaction {
        let nonce = self.nonces.entry(key.account()).or_default();
        let body = TransactionBody {
            from: key.account(),
            nonce: *nonce,
            kind,
            fee: 1,
            parents: [Hash::ZERO; 2],
            issued_at_ms: 0,
        };
        body.sign(key).unwrap()
    }

    /// Apply `side_tx` signed by `key` at a carrier whose block time is `now_ms`; a refused
    /// transaction leaves its nonce free.
    fn submit(
        &mut self,
        key: &Keypair,
        side_tx: SideChainTx,
        now_ms: u64,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let tx = self.tx(key, TxKind::SideChain(Box::new(side_tx)));
        let context = carrier_at(now_ms);
        let result =
            self.ledger.apply_in(&tx, &self.author, POLICY, StorageMode::Full(&context), undo);
        if result.is_ok() {
            *self.nonces.entry(key.account()).or_default() += 1;
        }
        self.ledger.check_invariants().unwrap();
        result
    }

    /// Register the run's side chain by party 0; returns its id.
    fn register(&mut self, run: &SideChainRun, undo: &mut Undo) -> Hash {
        let party = self.parties[0].clone();
        let nonce = self.nonces.get(&party.account()).copied().unwrap_or(0);
        let spec = FollowedChain::from_genesis(&run.genesis, ANCHOR_INTERVAL).unwrap();
        let register = SideChainTx::Register { consortium: self.consortium, spec };
        self.submit(&party, register, 0, undo).unwrap();
        side_chain_id(&party.account(), nonce)
    }

    /// Anchor `headers` of `chain` (relayed by the outsider: anyone may), checked at the block
    /// time of their last header.
    fn anchor(
        &mut self,
        chain: Hash,
        headers: &[Checkpoint],
        undo: &mut Undo,
    ) -> Result<(), SideChainError> {
        let now_ms = headers.last().map_or(0, |last| last.body.timestamp_ms);
        let relayer = self.outsider.clone();
        let anchor = SideChainTx::Anchor { chain, headers: headers.to_vec() };
        match self.submit(&relayer, anchor, now_ms, undo) {
            Ok(()) => Ok(()),
            Err(LedgerError::SideChain(error)) => Err(error),
            Err(other) => panic!("not a side-chain refusal: {other:?}"),
        }
    }
}

fn side_error(result: Result<(), LedgerError>) -> SideChainError {
    match result {
        Err(LedgerError::SideChain(error)) => error,
        other => panic!("expected a side-chain refusal, got {other:?}"),
    }
}

#[test]
fn a_party_of_an_existing_consortium_registers_a_valid_spec_once() {
    let run = side_chain_run();
    let mut main = MainChain::new();
    let root_without = main.ledger.root();
    let spec = FollowedChain::from_genesis(&run.genesis, ANCHOR_INTERVAL).unwrap();
    let party = main.parties[1].clone();
    let outsider = main.outsider.clone();
    let mut undo = Undo::default();

    let unknown = SideChainTx::Register { consortium: Hash::of(b"none"), spec: spec.clone() };
    assert_eq!(
        side_error(main.submit(&party, unknown, 0, &mut undo)),
        SideChainError::UnknownConsortium { consortium: Hash::of(b"none") }
    );
    let by_outsider = SideChainTx::Register { consortium: main.consortium, spec: spec.clone() };
    assert_eq!(
        side_error(main.submit(&outsider, by_outsider, 0, &mut undo)),
        SideChainError::NotAParty { consortium: main.consortium, account: outsider.account() }
    );
    let mut bad = spec.clone();
    bad.anchor_interval = 0;
    let bad = SideChainTx::Register { consortium: main.consortium, spec: bad };
    assert!(matches!(
        side_error(main.submit(&party, bad, 0, &mut undo)),
        SideChainError::Spec(SpecError::AnchorInterval { anchor_interval: 0, .. })
    ));
    assert_eq!(main.ledger.root(), root_without, "refusals change nothing");

    let chain = main.register(run, &mut undo);
    let registered = main.ledger.side_chains().get(&chain).unwrap();
    assert_eq!(registered.consortium, main.consortium);
    assert_eq!(registered.headers.spec(), &spec);
    assert_ne!(main.ledger.root(), root_without, "the section is hashed once non-empty");
    let again = SideChainTx::Register { consortium: main.consortium, spec };
    assert_eq!(
        side_error(main.submit(&party, again, 0, &mut undo)),
        SideChainError::GenesisRegistered { genesis: run.genesis.id().unwrap(), chain }
    );
}

#[test]
fn anchors_follow_the_side_chain_and_answer_final_roots() {
    let run = side_chain_run();
    let mut main = MainChain::new();
    let mut undo = Undo::default();
    let a = ANCHOR_INTERVAL as usize;
    assert_eq!(
        main.anchor(Hash::of(b"nobody"), &run.heavy[..a], &mut undo),
        Err(SideChainError::UnknownChain { chain: Hash::of(b"nobody") })
    );
    let chain = main.register(run, &mut undo);
    assert_eq!(
        main.anchor(chain, &run.heavy[..a - 1], &mut undo),
        Err(SideChainError::NotAnchorHeight { chain, height: a as u64 - 1, anchor_interval: 4 })
    );
    let whole = run.heavy.len() / a * a;
    for start in (0..whole).step_by(a) {
        main.anchor(chain, &run.heavy[start..start + a], &mut undo).unwrap();
    }
    let followed = &main.ledger.side_chains().get(&chain).unwrap().headers;
    let final_height = whole as u64 - followed.spec().finality_depth;
    assert_eq!(followed.final_tip().height, final_height);
    let final_checkpoint = &run.heavy[final_height as usize - 1];
    let final_id = final_checkpoint.id().unwrap();
    assert_eq!(
        main.ledger.side_chains().final_header(&chain, &final_id),
        Some((final_height, final_checkpoint.body.ledger_root))
    );
    let above = run.heavy[final_height as usize].id().unwrap();
    assert_eq!(main.ledger.side_chains().final_header(&chain, &above), None);

    let last = &run.heavy[whole - 1];
    assert_eq!(
        main.anchor(chain, &run.heavy[whole - a..whole], &mut undo),
        Err(SideChainError::Replayed { chain, id: last.id().unwrap(), height: whole as u64 })
    );
    // Without a checkpoint there is no block time to check the headers against.
    let relayer = main.outsider.clone();
    let anchor = SideChainTx::Anchor { chain, headers: run.heavy[whole - a..whole].to_vec() };
    let tx = main.tx(&relayer, TxKind::SideChain(Box::new(anchor)));
    assert_eq!(
        side_error(main.ledger.apply(&tx, &main.author.clone(), POLICY, &mut undo)),
        SideChainError::NoCheckpointContext
    );
}

#[test]
fn forged_and_below_final_anchors_are_refused_with_typed_errors() {
    let run = side_chain_run();
    let mut main = MainChain::new();
    let mut undo = Undo::default();
    let chain = main.register(run, &mut undo);
    let a = ANCHOR_INTERVAL as usize;
    main.anchor(chain, &run.heavy[..a], &mut undo).unwrap();
    let mut forged = run.heavy[a..2 * a].to_vec();
    let key = run.key_of(&forged[1]);
    let mut body = forged[1].body.clone();
    body.cumulative_weight += 1;
    forged[1] = body.sign(key).unwrap();
    match main.anchor(chain, &forged, &mut undo) {
        Err(SideChainError::ForgedAnchor { height, source, .. }) => {
            assert_eq!(height, a as u64 + 2);
            assert!(matches!(*source, CheckpointError::WrongCumulativeWeight { .. }));
        }
        other => panic!("expected a forged anchor, got {other:?}"),
    }
    // Follow the heavy branch until final passes the fork; the light branch then forks below.
    let fork = run.fork_height as usize;
    let end = (fork + 3 * a) / a * a;
    for start in (a..end).step_by(a) {
        main.anchor(chain, &run.heavy[start..start + a], &mut undo).unwrap();
    }
    let final_height = end as u64 - run.genesis.params.finality_depth;
    assert!(final_height > run.fork_height);
    let light_end = (fork / a + 1) * a;
    assert!(light_end <= run.light.len(), "the light branch reaches an anchor height");
    assert_eq!(
        main.anchor(chain, &run.light[fork..light_end], &mut undo),
        Err(SideChainError::ReorgBelowFinal { chain, fork_height: run.fork_height, final_height })
    );
}

#[test]
fn reverting_anchors_and_the_registration_restores_the_ledger_and_its_root() {
    let run = side_chain_run();
    let mut main = MainChain::new();
    let without = main.ledger.clone();
    let root_without = main.ledger.root();
    let mut register_undo = Undo::default();
    let chain = main.register(run, &mut register_undo);
    let registered = main.ledger.clone();
    let root_registered = main.ledger.root();
    let a = ANCHOR_INTERVAL as usize;
    let mut undo = Undo::default();
    for start in (0..4 * a).step_by(a) {
        main.anchor(chain, &run.heavy[start..start + a], &mut undo).unwrap();
    }
    assert_ne!(main.ledger.root(), root_registered);
    main.ledger.revert(undo);
    assert_eq!(main.ledger, registered);
    assert_eq!(main.ledger.root(), root_registered);
    main.ledger.revert(register_undo);
    assert_eq!(main.ledger, without);
    assert_eq!(main.ledger.root(), root_without);
    main.ledger.check_invariants().unwrap();
}
