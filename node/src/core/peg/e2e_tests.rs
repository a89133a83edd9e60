//! The peg end to end with no test double: a real side chain (three LocalNet nodes mining on
//! real plots, their ledgers knowing the chain's genesis id as `Chain::new` sets it) where an
//! account issues a token and locks part of it for the main chain; a main `Ledger` whose
//! consortium party registers that chain and whose relayer anchors its checkpoints; and the
//! mint on main, through plain `Ledger::apply`, of a proof built from a side node's ledger,
//! checked against the root the main ledger's own light client holds final.
//!
//! Direction side → main (lock on the side chain, mint on main): it needs no wrapped token on
//! the side chain first, so no light client of main there.

use super::*;
use crate::core::checkpoint::Checkpoint;
use crate::core::consortium::keys::{self, DataKey, MemberSecret};
use crate::core::consortium::{
    Column, ColumnType, ConsortiumTx, CreateConsortium, TableSchema, consortium_id,
};
use crate::core::contracts::{StorageContext, StorageMode};
use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::params::Genesis;
use crate::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use crate::core::poc::prover::PlotSet;
use crate::core::sidechain::test_chain::side_params;
use crate::core::sidechain::{FollowedChain, SideChainTx, side_chain_id};
use crate::core::token::{IssueToken, TokenTx};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use crate::localnet::{BoxedProver, LocalNet, real_genesis};
use std::collections::BTreeMap;
use std::io::Cursor;

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };
/// Below the side chain's `k` = 3, so some anchor height holds the entry's header not yet final.
const ANCHOR_INTERVAL: u64 = 2;
const PLOT_NONCES: u64 = 16;
const LOCKED: u64 = 300;

/// The main chain's id as its peg knows it (a stand-in for its genesis id: main here is a bare
/// ledger, not a network).
fn main_chain_id() -> ChainId {
    Hash::of(b"peg e2e main chain")
}

/// What the side chain's run leaves for main: its genesis, its active chain, the entry the lock
/// appended, and the side ledger as of a checkpoint on that chain committing the entry.
struct SideRun {
    genesis: Genesis,
    chain: Vec<Checkpoint>,
    token: TokenId,
    entry: Hash,
    header: Hash,
    header_height: u64,
    ledger: Ledger,
}

/// Step `net` until `done` holds or time passes `until_ms`; whether `done` held.
fn run_until_done(
    net: &mut LocalNet,
    until_ms: u64,
    mut done: impl FnMut(&LocalNet) -> bool,
) -> bool {
    while net.step(until_ms) {
        if done(net) {
            return true;
        }
    }
    done(net)
}

/// Three real-plot nodes; node 0's account issues a token, then locks `LOCKED` of it for main.
fn side_run() -> SideRun {
    let chain_id = "peg-e2e-side";
    let keys: Vec<Keypair> = (0..3).map(|index| Keypair::derived(chain_id, index)).collect();
    let provers: Vec<BoxedProver> = keys
        .iter()
        .map(|key| {
            let bytes = build_plot_in_memory(&key.account(), 0, PLOT_NONCES);
            let reader = PlotReader::open(Cursor::new(bytes)).unwrap();
            Box::new(PlotSet::new(vec![reader])) as BoxedProver
        })
        .collect();
    let genesis = real_genesis(chain_id, &keys, 3 * PLOT_NONCES, 1_000_000, side_params());
    let (mut net, keys) =
        LocalNet::with_provers(genesis.clone(), keys, provers, 11, 50, |_, _| {}).unwrap();
    net.keep_events = false;
    let issuer = keys[0].account();
    net.run_until(3_000);

    let issue = IssueToken {
        name: "Side Points".into(),
        symbol: "SIDE".into(),
        decimals: 0,
        initial_supply: 1_000,
        supply: SupplyRule::Fixed,
    };
    net.submit(0, TxKind::Token(Box::new(TokenTx::Issue(issue))), 10).unwrap();
    let issued = |net: &LocalNet| {
        net.nodes[0].chain().ledger().tokens().iter().find(|t| t.issuer == issuer).map(|t| t.id)
    };
    assert!(run_until_done(&mut net, 15_000, |net| issued(net).is_some()), "the issue applied");
    let token = issued(&net).unwrap();

    let recipient = Keypair::derived("peg-e2e-main", 9).account();
    let lock = PegTx::Lock { token, amount: LOCKED, dest_chain: main_chain_id(), recipient };
    net.submit(0, TxKind::Peg(Box::new(lock)), 10).unwrap();
    let has_entry = |net: &LocalNet| !net.nodes[0].chain().ledger().peg().outbox().is_empty();
    let until = net.now_ms + 15_000;
    assert!(run_until_done(&mut net, until, has_entry), "the lock applied");
    let entry = net.nodes[0].chain().ledger().peg().outbox().entries()[0].id;

    // Node 0's ledger as of each head it holds once the entry is in: a proof is built against
    // one of them that stays on the active chain (a head can still be reorganised away).
    let mut snapshots: BTreeMap<Hash, (u64, Ledger)> = BTreeMap::new();
    let until = net.now_ms + 16_000;
    run_until_done(&mut net, until, |net| {
        let chain = net.nodes[0].chain();
        let head = chain.head();
        if snapshots.len() < 12 && !snapshots.contains_key(&head.id) {
            assert_eq!(head.ledger_root, chain.ledger().root(), "the head commits the ledger");
            snapshots.insert(head.id, (head.height, chain.ledger().clone()));
        }
        false
    });
    let side = net.nodes[0].chain();
    let (header, (header_height, ledger)) = snapshots
        .into_iter()
        .find(|(id, (height, _))| side.active_at(*height) == Some(*id))
        .expect("a head holding the entry stayed on the active chain");
    let chain: Vec<Checkpoint> = (1..=side.height())
        .map(|height| {
            let id = side.active_at(height).unwrap();
            let checkpoint = side.header(&id).unwrap().checkpoint.as_ref().unwrap();
            (**checkpoint).clone()
        })
        .collect();
    SideRun { genesis, chain, token, entry, header, header_height, ledger }
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

/// The main chain: a ledger with its peg chain id, a consortium of two parties and a relayer.
struct Main {
    ledger: Ledger,
    parties: Vec<Keypair>,
    relayer: Keypair,
    author: AccountId,
    nonces: BTreeMap<AccountId, u64>,
}

impl Main {
    fn new() -> Main {
        let parties: Vec<Keypair> = (0..2).map(|i| Keypair::derived("peg-e2e-main", i)).collect();
        let relayer = Keypair::derived("peg-e2e-main", 8);
        let mut allocations: Vec<(AccountId, u64)> =
            parties.iter().map(|key| (key.account(), 1_000)).collect();
        allocations.push((relayer.account(), 1_000));
        let ledger = Ledger::genesis(&allocations).unwrap().with_peg_chain(main_chain_id());
        let author = Keypair::derived("peg-e2e-main", 5).account();
        Main { ledger, parties, relayer, author, nonces: BTreeMap::new() }
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

    /// Apply `kind` signed by `key` in a checkpoint whose block time is `now_ms`; a refused
    /// transaction leaves its nonce free.
    fn submit(&mut self, key: &Keypair, kind: TxKind, now_ms: u64) -> Result<(), LedgerError> {
        let tx = self.tx(key, kind);
        let context = carrier_at(now_ms);
        let mode = StorageMode::Full(&context);
        let result = self.ledger.apply_in(&tx, &self.author, POLICY, mode, &mut Undo::default());
        self.settle(key, &result);
        result
    }

    /// Apply a peg transaction through plain `Ledger::apply`: the ledger's own light clients
    /// are the only final headers it reads.
    fn peg(&mut self, key: &Keypair, peg_tx: PegTx) -> Result<(), LedgerError> {
        let tx = self.tx(key, TxKind::Peg(Box::new(peg_tx)));
        let result = self.ledger.apply(&tx, &self.author, POLICY, &mut Undo::default());
        self.settle(key, &result);
        result
    }

    fn settle(&mut self, key: &Keypair, result: &Result<(), LedgerError>) {
        if result.is_ok() {
            *self.nonces.entry(key.account()).or_default() += 1;
        }
        self.ledger.check_invariants().unwrap();
    }

    /// Party 0 creates a consortium of both parties (one member node holding its data key).
    fn create_consortium(&mut self) -> Hash {
        let consortium = consortium_id(&self.parties[0].account(), 0);
        let node = Keypair::derived("peg-e2e-node", 0).account();
        let secret = MemberSecret::from_bytes([3u8; 32]);
        let wrapped =
            keys::wrap(&DataKey([42u8; 32]), &consortium, 0, &secret.public(), [7u8; 32]).unwrap();
        let create = CreateConsortium {
            name: "operators".into(),
            parties: self.parties.iter().map(Keypair::account).collect(),
            members: BTreeMap::from([(node, secret.public())]),
            tables: vec![TableSchema {
                name: "notes".into(),
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
        let creator = self.parties[0].clone();
        let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
        self.submit(&creator, kind, 0).unwrap();
        consortium
    }

    /// Party 1 registers the side chain for `consortium`; returns its id.
    fn register(&mut self, consortium: Hash, genesis: &Genesis) -> Hash {
        let party = self.parties[1].clone();
        let nonce = self.nonces.get(&party.account()).copied().unwrap_or(0);
        let spec = FollowedChain::from_genesis(genesis, ANCHOR_INTERVAL).unwrap();
        let register = SideChainTx::Register { consortium, spec };
        self.submit(&party, TxKind::SideChain(Box::new(register)), 0).unwrap();
        side_chain_id(&party.account(), nonce)
    }

    /// The relayer anchors `headers` of `chain`, at the block time of their last header.
    fn anchor(&mut self, chain: Hash, headers: &[Checkpoint]) {
        let now_ms = headers.last().map_or(0, |last| last.body.timestamp_ms);
        let anchor = SideChainTx::Anchor { chain, headers: headers.to_vec() };
        let relayer = self.relayer.clone();
        self.submit(&relayer, TxKind::SideChain(Box::new(anchor)), now_ms).unwrap();
    }
}

#[test]
fn a_lock_on_a_real_side_chain_mints_on_main_once_its_anchored_header_is_final() {
    let side = side_run();
    let side_id = side.genesis.id().unwrap();
    assert_eq!(side.ledger.peg().chain(), Some(side_id), "a side node's ledger knows its chain");
    let proof = Box::new(side.ledger.peg_proof(&side.entry, side.header).unwrap());
    assert_eq!(side.chain[side.header_height as usize - 1].body.ledger_root, side.ledger.root());

    let mut main = Main::new();
    let consortium = main.create_consortium();
    let chain = main.register(consortium, &side.genesis);
    let a = ANCHOR_INTERVAL as usize;
    let k = side.genesis.params.finality_depth;
    let relayer = main.relayer.clone();

    // Anchor up to the first anchor height at or above the entry's header: it is held, not
    // final, and the same proof that will mint is refused.
    let first = (side.header_height as usize).div_ceil(a) * a;
    let mut anchored = 0;
    while anchored < first {
        main.anchor(chain, &side.chain[anchored..anchored + a]);
        anchored += a;
    }
    assert!((first as u64) < side.header_height + k, "the header is held, not final");
    assert_eq!(main.ledger.side_chains().final_header(&chain, &side.header), None);
    let before = main.ledger.clone();
    let pending = main.peg(&relayer, PegTx::Mint { proof: proof.clone() });
    let not_final = PegError::HeaderNotFinal { chain: side_id, header: side.header };
    assert_eq!(pending, Err(LedgerError::Peg(not_final)));
    assert_eq!(main.ledger, before, "a refused mint changes nothing");

    // Anchor until the light client holds the header final (k below its tip).
    while main.ledger.side_chains().final_header(&chain, &side.header).is_none() {
        assert!(anchored + a <= side.chain.len(), "the side run outgrew the header by k + a");
        main.anchor(chain, &side.chain[anchored..anchored + a]);
        anchored += a;
    }
    assert!(anchored as u64 - k >= side.header_height);
    let final_root = main.ledger.side_chains().final_header(&chain, &side.header);
    assert_eq!(final_root, Some((side.header_height, side.ledger.root())));

    main.peg(&relayer, PegTx::Mint { proof: proof.clone() }).unwrap();
    let wrapped = wrapped_token_id(&side_id, &side.token);
    let recipient = proof.entry.recipient;
    assert_eq!(main.ledger.tokens().balance(&wrapped, &recipient), LOCKED);
    let record = main.ledger.tokens().get(&wrapped).unwrap();
    assert_eq!(record.symbol, "SIDE");
    assert_eq!(
        record.minter(),
        Some(Minter::Peg { source_chain: side_id, source_token: side.token })
    );
    // The side chain is the token's home: its escrow for main holds what main minted.
    assert_eq!(side.ledger.peg().escrow(&side.token, &main_chain_id()).held, LOCKED);
    conservation(side.ledger.peg(), main.ledger.peg()).unwrap();

    let party = main.parties[0].clone();
    let replayed = main.peg(&party, PegTx::Mint { proof });
    let replay = PegError::Replayed { chain: side_id, entry: side.entry };
    assert_eq!(replayed, Err(LedgerError::Peg(replay)));
}
