//! The peg through two real ledgers, a home chain `main` and a side chain `side`, each applying
//! signed transactions: lock, mint, burn, release and every refusal, undo round trips, the
//! root rule, and conservation across the two.

use super::*;
use crate::core::contracts::StorageMode;
use crate::core::crypto::Keypair;
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::token::{IssueToken, TokenTx, token_id};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use crate::core::wire;
use std::collections::BTreeMap;

/// A stand-in for the `Genesis::id` of the chain named `name`.
fn genesis_id(name: &str) -> ChainId {
    Hash::of_parts(&[b"peg test genesis", name.as_bytes()])
}

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };
const MAIN: usize = 0;
const SIDE: usize = 1;

/// One chain: its ledger, the final headers of the other chain its light client holds, and the
/// next nonce of each key on it.
struct Chain {
    id: ChainId,
    ledger: Ledger,
    headers: FinalHeaderSet,
    nonces: BTreeMap<AccountId, u64>,
    headers_made: u64,
}

struct Fixture {
    keys: Vec<Keypair>,
    author: AccountId,
    chains: [Chain; 2],
}

impl Fixture {
    /// Two genesis ledgers, `main` and `side`, where keys 0..4 hold 1,000 native units each.
    fn new() -> Fixture {
        let keys: Vec<Keypair> = (0..4).map(|i| Keypair::derived("peg", i)).collect();
        let allocations: Vec<(AccountId, u64)> =
            keys.iter().map(|key| (key.account(), 1_000)).collect();
        let chain = |name: &str| {
            let id = genesis_id(name);
            Chain {
                id,
                ledger: Ledger::genesis(&allocations).unwrap().with_peg_chain(id),
                headers: FinalHeaderSet::default(),
                nonces: BTreeMap::new(),
                headers_made: 0,
            }
        };
        let author = Keypair::derived("peg-author", 0).account();
        Fixture { keys, author, chains: [chain("main"), chain("side")] }
    }

    fn account(&self, index: usize) -> AccountId {
        self.keys[index].account()
    }

    fn ledger(&self, chain: usize) -> &Ledger {
        &self.chains[chain].ledger
    }

    fn id(&self, chain: usize) -> ChainId {
        self.chains[chain].id
    }

    fn tx(&mut self, chain: usize, by: usize, kind: TxKind) -> Transaction {
        let key = self.keys[by].clone();
        let nonce = self.chains[chain].nonces.entry(key.account()).or_default();
        let body = TransactionBody {
            from: key.account(),
            nonce: *nonce,
            kind,
            fee: 2,
            parents: [Hash::ZERO; 2],
            issued_at_ms: 0,
        };
        *nonce += 1;
        body.sign(&key).unwrap()
    }

    /// Sign and apply on `chain` against its light client; a refused transaction does not use
    /// its nonce.
    fn submit(
        &mut self,
        chain: usize,
        by: usize,
        kind: TxKind,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let tx = self.tx(chain, by, kind);
        let author = self.author;
        let Chain { ledger, headers, nonces, .. } = &mut self.chains[chain];
        let result =
            ledger.apply_anchored(&tx, &author, POLICY, StorageMode::Refuse, headers, undo);
        if result.is_err() {
            *nonces.entry(tx.body.from).or_default() -= 1;
        }
        result
    }

    fn peg(&mut self, chain: usize, by: usize, peg_tx: PegTx) -> Result<(), PegError> {
        match self.submit(chain, by, TxKind::Peg(Box::new(peg_tx)), &mut Undo::default()) {
            Ok(()) => Ok(()),
            Err(LedgerError::Peg(error)) => Err(error),
            Err(other) => panic!("expected a peg error, got {other:?}"),
        }
    }

    fn token(&mut self, chain: usize, by: usize, token_tx: TokenTx) -> Result<(), LedgerError> {
        self.submit(chain, by, TxKind::Token(Box::new(token_tx)), &mut Undo::default())
    }

    /// Account `by` issues a fixed-supply token on `chain`.
    fn issue(&mut self, chain: usize, by: usize, supply: u64) -> TokenId {
        let nonce = self.chains[chain].nonces.get(&self.account(by)).copied().unwrap_or(0);
        let issue = IssueToken {
            name: "Acme Points".into(),
            symbol: "ACME".into(),
            decimals: 2,
            initial_supply: supply,
            supply: SupplyRule::Fixed,
        };
        self.token(chain, by, TokenTx::Issue(issue)).unwrap();
        token_id(&self.account(by), nonce)
    }

    /// The id of the entry the next transaction of `by` on `chain` appends.
    fn next_entry(&self, chain: usize, by: usize) -> Hash {
        let nonce = self.chains[chain].nonces.get(&self.account(by)).copied().unwrap_or(0);
        entry_id(&self.id(chain), &self.account(by), nonce)
    }

    /// A new header of `chain` committing its current ledger root becomes final in the other
    /// chain's light client; returns the header's id.
    fn finalize(&mut self, chain: usize) -> Hash {
        let source = &mut self.chains[chain];
        source.headers_made += 1;
        let header = Hash::of_parts(&[source.id.as_bytes(), &source.headers_made.to_le_bytes()]);
        let (id, root) = (source.id, source.ledger.root());
        self.chains[1 - chain].headers.insert(id, header, root);
        header
    }

    /// A proof of `entry` of `chain` against a header final on the other chain now.
    fn proof(&mut self, chain: usize, entry: &Hash) -> Box<PegProof> {
        let header = self.finalize(chain);
        Box::new(self.ledger(chain).peg_proof(entry, header).unwrap())
    }

    fn balance(&self, chain: usize, token: &TokenId, index: usize) -> u64 {
        self.ledger(chain).tokens().balance(token, &self.account(index))
    }

    fn check(&self) {
        self.ledger(MAIN).check_invariants().unwrap();
        self.ledger(SIDE).check_invariants().unwrap();
        conservation(self.ledger(MAIN).peg(), self.ledger(SIDE).peg()).unwrap();
    }

    /// Account 0 issues 1,000 on main and locks `amount` to account 1 on side; returns the
    /// token and the lock's entry id.
    fn locked(&mut self, amount: u64) -> (TokenId, Hash) {
        let token = self.issue(MAIN, 0, 1_000);
        let entry = self.next_entry(MAIN, 0);
        let (dest_chain, recipient) = (self.id(SIDE), self.account(1));
        self.peg(MAIN, 0, PegTx::Lock { token, amount, dest_chain, recipient }).unwrap();
        (token, entry)
    }
}

#[test]
fn a_round_trip_main_to_side_to_main_conserves_the_token_at_every_step() {
    let mut f = Fixture::new();
    let (token, lock) = f.locked(300);
    let (main, side) = (f.id(MAIN), f.id(SIDE));
    assert_eq!(f.balance(MAIN, &token, 0), 700);
    let escrow = f.ledger(MAIN).peg().escrow(&token, &side);
    assert_eq!((escrow.held, escrow.locked, escrow.released), (300, 300, 0));
    assert_eq!(f.ledger(MAIN).tokens().get(&token).unwrap().total_supply(), 1_000);
    f.check(); // 300 in flight

    let proof = f.proof(MAIN, &lock);
    f.peg(SIDE, 3, PegTx::Mint { proof }).unwrap();
    let wrapped = wrapped_token_id(&main, &token);
    assert_eq!(f.balance(SIDE, &wrapped, 1), 300, "anyone relays; the recipient is credited");
    let record = f.ledger(SIDE).tokens().get(&wrapped).unwrap();
    assert_eq!((record.symbol.as_str(), record.decimals, record.issued), ("ACME", 2, 0));
    let peg_minter = Minter::Peg { source_chain: main, source_token: token };
    assert_eq!(record.minter(), Some(peg_minter));
    f.check();

    // The wrapped token is an ordinary token on the side chain: it moves by transfers.
    let to = f.account(2);
    f.token(SIDE, 1, TokenTx::Transfer { token: wrapped, to, amount: 120 }).unwrap();
    let burn = f.next_entry(SIDE, 2);
    let recipient = f.account(3);
    f.peg(SIDE, 2, PegTx::Burn { wrapped, amount: 100, recipient }).unwrap();
    let record = f.ledger(SIDE).tokens().get(&wrapped).unwrap();
    assert_eq!((record.minted, record.burned, record.total_supply()), (300, 100, 200));
    f.check(); // 100 burned, in flight home

    let proof = f.proof(SIDE, &burn);
    f.peg(MAIN, 1, PegTx::Release { proof }).unwrap();
    assert_eq!(f.balance(MAIN, &token, 3), 100);
    let escrow = f.ledger(MAIN).peg().escrow(&token, &side);
    assert_eq!((escrow.held, escrow.locked, escrow.released), (200, 300, 100));
    f.check();

    // A second lock reuses the wrapped token; a second mint adds to it.
    let second = f.next_entry(MAIN, 0);
    let (dest_chain, recipient) = (side, f.account(2));
    f.peg(MAIN, 0, PegTx::Lock { token, amount: 50, dest_chain, recipient }).unwrap();
    let proof = f.proof(MAIN, &second);
    f.peg(SIDE, 2, PegTx::Mint { proof }).unwrap();
    assert_eq!(f.balance(SIDE, &wrapped, 2), 70);
    assert_eq!(f.ledger(SIDE).tokens().len(), 1);
    f.check();
}

#[test]
fn a_replayed_proof_is_refused_by_type_even_under_a_later_header() {
    let mut f = Fixture::new();
    let (token, lock) = f.locked(300);
    let proof = f.proof(MAIN, &lock);
    f.peg(SIDE, 1, PegTx::Mint { proof: proof.clone() }).unwrap();
    let replayed = f.peg(SIDE, 2, PegTx::Mint { proof: proof.clone() });
    assert_eq!(replayed, Err(PegError::Replayed { chain: f.id(MAIN), entry: lock }));
    // The same entry proven again against a newer final header is the same claim.
    let (dest_chain, recipient) = (f.id(SIDE), f.account(2));
    f.peg(MAIN, 0, PegTx::Lock { token, amount: 1, dest_chain, recipient }).unwrap();
    let later = f.proof(MAIN, &lock);
    assert_ne!(later.header, proof.header);
    let replayed = f.peg(SIDE, 2, PegTx::Mint { proof: later });
    assert!(matches!(replayed, Err(PegError::Replayed { .. })));
    f.check();
}

#[test]
fn bad_locks_and_burns_get_typed_errors_and_change_nothing() {
    let mut f = Fixture::new();
    let (token, lock) = f.locked(300);
    let proof = f.proof(MAIN, &lock);
    f.peg(SIDE, 1, PegTx::Mint { proof }).unwrap();
    let wrapped = wrapped_token_id(&f.id(MAIN), &token);
    let (main, side, recipient) = (f.id(MAIN), f.id(SIDE), f.account(2));
    let unknown = token_id(&f.account(3), 77);
    let before = [f.ledger(MAIN).clone(), f.ledger(SIDE).clone()];
    let lock = |token, amount, dest_chain| PegTx::Lock { token, amount, dest_chain, recipient };
    let cases: Vec<(usize, usize, PegTx, PegError)> = vec![
        (MAIN, 0, lock(unknown, 1, side), TokenError::UnknownToken { token: unknown }.into()),
        (MAIN, 0, lock(token, 0, side), TokenError::ZeroAmount.into()),
        (
            MAIN,
            0,
            lock(token, 701, side),
            TokenError::InsufficientBalance {
                token,
                account: f.account(0),
                balance: 700,
                needed: 701,
            }
            .into(),
        ),
        (MAIN, 0, lock(token, 1, main), PegError::LocalDestination { chain: main }),
        (SIDE, 1, lock(wrapped, 1, main), PegError::WrappedLock { token: wrapped }),
        (
            SIDE,
            1,
            PegTx::Burn { wrapped: unknown, amount: 1, recipient },
            TokenError::UnknownToken { token: unknown }.into(),
        ),
        (
            MAIN,
            0,
            PegTx::Burn { wrapped: token, amount: 1, recipient },
            PegError::NotWrapped { token },
        ),
        (SIDE, 1, PegTx::Burn { wrapped, amount: 0, recipient }, TokenError::ZeroAmount.into()),
        (
            SIDE,
            2,
            PegTx::Burn { wrapped, amount: 1, recipient },
            TokenError::InsufficientBalance {
                token: wrapped,
                account: f.account(2),
                balance: 0,
                needed: 1,
            }
            .into(),
        ),
    ];
    for (chain, by, peg_tx, expected) in cases {
        assert_eq!(f.peg(chain, by, peg_tx), Err(expected));
    }
    assert_eq!([f.ledger(MAIN).clone(), f.ledger(SIDE).clone()], before);
}

#[test]
fn only_the_peg_mints_a_wrapped_token_and_only_a_peg_burn_burns_it() {
    let mut f = Fixture::new();
    let (token, lock) = f.locked(300);
    let proof = f.proof(MAIN, &lock);
    f.peg(SIDE, 1, PegTx::Mint { proof }).unwrap();
    let wrapped = wrapped_token_id(&f.id(MAIN), &token);
    let to = f.account(1);
    let mint = f.token(SIDE, 1, TokenTx::Mint { token: wrapped, to, amount: 5 });
    let non_minter = TokenError::NotMinter { token: wrapped, account: to };
    assert_eq!(mint, Err(LedgerError::Token(non_minter)));
    let burn = f.token(SIDE, 1, TokenTx::Burn { token: wrapped, amount: 5 });
    assert_eq!(burn, Err(LedgerError::Token(TokenError::PegBurnOnly { token: wrapped })));
    // Nor can an issue name the peg as its minter.
    let issue = IssueToken {
        name: "Fake".into(),
        symbol: "FAKE".into(),
        decimals: 0,
        initial_supply: 0,
        supply: SupplyRule::Mintable {
            minter: Minter::Peg { source_chain: f.id(MAIN), source_token: token },
            cap: None,
        },
    };
    let issued = f.token(SIDE, 1, TokenTx::Issue(issue));
    assert_eq!(issued, Err(LedgerError::Token(TokenError::PegMinterAtIssue)));
    f.check();
}

#[test]
fn bad_proofs_get_typed_errors_and_change_nothing() {
    let mut f = Fixture::new();
    let (token, lock) = f.locked(300);
    let (main, side) = (f.id(MAIN), f.id(SIDE));
    // A second entry, so the outbox has a real path, addressed to a third chain.
    let elsewhere = f.next_entry(MAIN, 0);
    let (other, recipient) = (genesis_id("other"), f.account(1));
    f.peg(MAIN, 0, PegTx::Lock { token, amount: 10, dest_chain: other, recipient }).unwrap();
    let good = f.proof(MAIN, &lock);
    assert_eq!(good.path.len(), 1);
    let before = f.ledger(SIDE).clone();
    let tampered = |change: &dyn Fn(&mut PegProof)| {
        let mut proof = good.clone();
        change(&mut proof);
        PegTx::Mint { proof }
    };
    let expected_root = f.ledger(MAIN).root();
    let bad_root = |error: PegError| match error {
        PegError::BadProof { header, expected, got } => {
            assert_eq!((header, expected), (good.header, expected_root));
            assert_ne!(got, expected);
        }
        other => panic!("expected BadProof, got {other:?}"),
    };
    bad_root(f.peg(SIDE, 1, tampered(&|p| p.entry.amount = 3_000)).unwrap_err());
    bad_root(f.peg(SIDE, 1, tampered(&|p| p.entry.recipient = AccountId([9; 32]))).unwrap_err());
    bad_root(f.peg(SIDE, 1, tampered(&|p| p.path[0].0[0] ^= 1)).unwrap_err());
    bad_root(f.peg(SIDE, 1, tampered(&|p| p.rest_root = Hash::ZERO)).unwrap_err());
    bad_root(f.peg(SIDE, 1, tampered(&|p| p.index = 1)).unwrap_err());
    let short = f.peg(SIDE, 1, tampered(&|p| p.path.clear()));
    assert!(matches!(short, Err(PegError::BadPath(_))), "{short:?}");
    let grown = f.peg(SIDE, 1, tampered(&|p| p.outbox_len = 5));
    assert!(matches!(grown, Err(PegError::BadPath(_))), "{grown:?}");
    let unknown_header = f.peg(SIDE, 1, tampered(&|p| p.header = Hash::of(b"no such header")));
    assert_eq!(
        unknown_header,
        Err(PegError::HeaderNotFinal { chain: main, header: Hash::of(b"no such header") })
    );
    let wrong_source = f.peg(SIDE, 1, tampered(&|p| p.source_chain = other));
    let expected = PegError::WrongSource { entry_source: main, proof_source: other };
    assert_eq!(wrong_source, Err(expected));
    let direction = f.peg(SIDE, 1, PegTx::Release { proof: good.clone() });
    let expected = PegError::WrongDirection { expected: Direction::Burn, got: Direction::Lock };
    assert_eq!(direction, Err(expected));
    // An entry for another chain, honestly proven, is not this chain's to mint.
    let for_other = f.proof(MAIN, &elsewhere);
    let wrong_destination = f.peg(SIDE, 1, PegTx::Mint { proof: for_other });
    assert_eq!(wrong_destination, Err(PegError::WrongDestination { dest: other, local: side }));
    assert_eq!(f.ledger(SIDE), &before);
    // The untampered proof still mints.
    f.peg(SIDE, 1, PegTx::Mint { proof: good }).unwrap();
}

#[test]
fn a_header_not_final_here_mints_nothing() {
    let mut f = Fixture::new();
    let (_, lock) = f.locked(300);
    // The side chain's light client has not seen this header: the proof is correct but the
    // ledger holds no final root for it.
    let proof = Box::new(f.ledger(MAIN).peg_proof(&lock, Hash::of(b"pending")).unwrap());
    let pending = f.peg(SIDE, 1, PegTx::Mint { proof: proof.clone() });
    let expected = PegError::HeaderNotFinal { chain: f.id(MAIN), header: Hash::of(b"pending") };
    assert_eq!(pending, Err(expected.clone()));
    // A header final before the lock commits a root without it.
    let mut early = Fixture::new();
    let header = early.finalize(MAIN);
    let (_, lock) = early.locked(300);
    let proof_early = Box::new(early.ledger(MAIN).peg_proof(&lock, header).unwrap());
    assert!(matches!(
        early.peg(SIDE, 1, PegTx::Mint { proof: proof_early }),
        Err(PegError::BadProof { .. })
    ));
    // Through `Ledger::apply` (no light client wired yet) no header is final.
    let tx = f.tx(SIDE, 1, TxKind::Peg(Box::new(PegTx::Mint { proof })));
    let refused = f.chains[SIDE].ledger.apply(&tx, &f.author, POLICY, &mut Undo::default());
    assert_eq!(refused, Err(LedgerError::Peg(expected)));
}

#[test]
fn a_ledger_without_a_chain_id_refuses_peg_transactions() {
    let key = Keypair::derived("peg", 0);
    let mut ledger = Ledger::genesis(&[(key.account(), 1_000)]).unwrap();
    let lock = PegTx::Lock {
        token: TokenId(Hash::ZERO),
        amount: 1,
        dest_chain: genesis_id("side"),
        recipient: key.account(),
    };
    let body = TransactionBody {
        from: key.account(),
        nonce: 0,
        kind: TxKind::Peg(Box::new(lock)),
        fee: 2,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    };
    let tx = body.sign(&key).unwrap();
    let refused = ledger.apply(&tx, &key.account(), POLICY, &mut Undo::default());
    assert_eq!(refused, Err(LedgerError::Peg(PegError::NoChainId)));
}

#[test]
fn every_peg_step_reverts_to_the_same_ledger_and_root() {
    let mut f = Fixture::new();
    let token = f.issue(MAIN, 0, 1_000);
    let (side, recipient) = (f.id(SIDE), f.account(1));
    let step = |f: &mut Fixture, chain: usize, by: usize, peg_tx: PegTx| {
        let (before, root) = (f.ledger(chain).clone(), f.ledger(chain).root());
        let mut undo = Undo::default();
        f.submit(chain, by, TxKind::Peg(Box::new(peg_tx.clone())), &mut undo).unwrap();
        assert_ne!(f.ledger(chain).root(), root);
        f.chains[chain].ledger.revert(undo);
        assert_eq!(f.ledger(chain), &before);
        assert_eq!(f.ledger(chain).root(), root);
        // Apply it for good (the reverted attempt used its nonce in the fixture).
        *f.chains[chain].nonces.get_mut(&f.keys[by].account()).unwrap() -= 1;
        f.submit(chain, by, TxKind::Peg(Box::new(peg_tx)), &mut Undo::default()).unwrap();
        f.check();
    };
    // The first lock takes the ledger from no peg state to some: its revert restores the root
    // of a ledger without peg state.
    let lock = f.next_entry(MAIN, 0);
    step(&mut f, MAIN, 0, PegTx::Lock { token, amount: 300, dest_chain: side, recipient });
    let proof = f.proof(MAIN, &lock);
    step(&mut f, SIDE, 1, PegTx::Mint { proof });
    let wrapped = wrapped_token_id(&f.id(MAIN), &token);
    let burn = f.next_entry(SIDE, 1);
    let home = f.account(2);
    step(&mut f, SIDE, 1, PegTx::Burn { wrapped, amount: 100, recipient: home });
    let proof = f.proof(SIDE, &burn);
    step(&mut f, MAIN, 3, PegTx::Release { proof });
    assert_eq!(f.balance(MAIN, &token, 2), 100);
}

/// The root of a ledger without peg state, recomputed here from the pre-peg definition
/// (`vein/ledger/v0`, supply counters, accounts): the peg must not move it, or every trace hash
/// and stored root would change.
#[test]
fn a_ledger_without_peg_state_keeps_its_root() {
    let account = AccountId([7u8; 32]);
    let ledger = Ledger::genesis(&[(account, 500)]).unwrap();
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"vein/ledger/v0");
    for counter in [500u64, 0, 0] {
        hasher.update(&counter.to_le_bytes());
    }
    hasher.update(account.as_bytes());
    for field in [500u64, 0, 0] {
        hasher.update(&field.to_le_bytes());
    }
    let expected = Hash(*hasher.finalize().as_bytes());
    assert_eq!(ledger.root(), expected);
    let with_chain = ledger.clone().with_peg_chain(genesis_id("main"));
    assert_eq!(with_chain.root(), expected, "the chain id is configuration, not state");
    assert_eq!(with_chain.rest_root(), expected);
}

#[test]
fn a_ledger_with_peg_state_commits_its_outbox_beside_the_rest() {
    let mut f = Fixture::new();
    let (_, lock) = f.locked(300);
    let ledger = f.ledger(MAIN);
    let outbox = ledger.peg().outbox().commitment();
    assert_eq!(ledger.root(), proof::ledger_root(&ledger.rest_root(), &outbox));
    let proof = ledger.peg_proof(&lock, Hash::ZERO).unwrap();
    assert_eq!(proof::proven_root(&proof), Ok(ledger.root()));
    // The proof's size: the entry, the path (32 bytes a level) and 32 + 32 + 32 + 8 of
    // chains, header, rest root and counts.
    let bytes = wire::encode_body(&proof, "peg proof").unwrap();
    assert!(bytes.len() < 400, "{} bytes", bytes.len());
}

#[test]
fn conservation_catches_a_side_chain_minting_what_the_home_chain_did_not_lock() {
    let mut f = Fixture::new();
    let (_, lock) = f.locked(300);
    let proof = f.proof(MAIN, &lock);
    f.peg(SIDE, 1, PegTx::Mint { proof }).unwrap();
    f.check();
    // Another home history where the same signer and nonce locked less: the side chain's
    // claim names an entry id the home outbox holds, but the amounts disagree.
    let mut other = Fixture::new();
    let (token, _) = other.locked(200);
    let mismatch = conservation(other.ledger(MAIN).peg(), f.ledger(SIDE).peg());
    assert!(
        matches!(
            mismatch,
            Err(PegMismatch::Unbalanced { escrow: 200, minted: 300, token: t, .. }) if t == token
        ),
        "{mismatch:?}"
    );
    // A home history without the lock at all: the claim has no entry.
    let fresh = Fixture::new();
    let missing = conservation(fresh.ledger(MAIN).peg(), f.ledger(SIDE).peg());
    let expected = PegMismatch::ClaimWithoutEntry {
        claimed_on: f.id(SIDE),
        source_chain: f.id(MAIN),
        entry: lock,
    };
    assert_eq!(missing, Err(expected));
}

/// One step of a random peg history.
#[derive(Clone, Debug)]
enum Step {
    /// Account 0 locks `amount` on main for account `1 + to % 3` on side.
    Lock { amount: u64, to: usize },
    /// A relayer mints the `pick`-th lock (a replay if it was minted).
    Mint { pick: usize },
    /// Account `1 + by % 3` burns `per_mille` of its wrapped balance for account `1 + by % 3`.
    Burn { by: usize, per_mille: u64 },
    /// A relayer releases the `pick`-th burn (a replay if it was released).
    Release { pick: usize },
    /// Undo the last applied transaction (a reorganisation of state not yet final anywhere).
    Revert,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        (1u64..5_000, 0usize..3).prop_map(|(amount, to)| Step::Lock { amount, to }),
        (0usize..8).prop_map(|pick| Step::Mint { pick }),
        (0usize..3, 1u64..=1_000).prop_map(|(by, per_mille)| Step::Burn { by, per_mille }),
        (0usize..8).prop_map(|pick| Step::Release { pick }),
        Just(Step::Revert),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Random locks, mints, burns, releases, replays and reverts across the two ledgers: both
    /// ledgers' invariants and conservation hold after every step, a claim succeeds exactly when
    /// its entry is unclaimed, and a revert restores the ledger and its root.
    #[test]
    fn random_peg_histories_conserve_the_token(steps in proptest::collection::vec(step(), 1..40)) {
        let mut f = Fixture::new();
        let token = f.issue(MAIN, 0, 1_000_000);
        let (main, side) = (f.id(MAIN), f.id(SIDE));
        let wrapped = wrapped_token_id(&main, &token);
        let (mut locks, mut burns) = (Vec::new(), Vec::new());
        // The last applied transaction: its chain, signer, undo and the ledger before it.
        let mut last: Option<(usize, usize, Undo, Ledger)> = None;
        for step in steps {
            let mut undo = Undo::default();
            let (chain, by, result) = match step {
                Step::Lock { amount, to } => {
                    locks.push(f.next_entry(MAIN, 0));
                    let recipient = f.account(1 + to);
                    let lock = PegTx::Lock { token, amount, dest_chain: side, recipient };
                    let before = f.ledger(MAIN).clone();
                    let result = f.submit(MAIN, 0, TxKind::Peg(Box::new(lock)), &mut undo);
                    proptest::prop_assert!(result.is_ok(), "a funded lock applies: {:?}", result);
                    (MAIN, 0, result.map(|()| before))
                }
                Step::Mint { pick } | Step::Release { pick } => {
                    let (source, target, entries) = match step {
                        Step::Mint { .. } => (MAIN, SIDE, &locks),
                        _ => (SIDE, MAIN, &burns),
                    };
                    let Some(entry) = entries.get(pick % entries.len().max(1)).copied() else {
                        continue;
                    };
                    let claimed = f.ledger(target).peg().is_claimed(&f.id(source), &entry);
                    if last.as_ref().is_some_and(|(chain, ..)| *chain == source) {
                        last = None; // its state is about to be final on the other chain
                    }
                    let proof = f.proof(source, &entry);
                    let peg_tx = match step {
                        Step::Mint { .. } => PegTx::Mint { proof },
                        _ => PegTx::Release { proof },
                    };
                    let before = f.ledger(target).clone();
                    let result = f.submit(target, 3, TxKind::Peg(Box::new(peg_tx)), &mut undo);
                    proptest::prop_assert_eq!(result.is_ok(), !claimed, "{:?}", result);
                    (target, 3, result.map(|()| before))
                }
                Step::Burn { by, per_mille } => {
                    let holder = 1 + by;
                    let amount = f.balance(SIDE, &wrapped, holder) * per_mille / 1_000;
                    if amount == 0 {
                        continue;
                    }
                    burns.push(f.next_entry(SIDE, holder));
                    let recipient = f.account(holder);
                    let burn = PegTx::Burn { wrapped, amount, recipient };
                    let before = f.ledger(SIDE).clone();
                    let result = f.submit(SIDE, holder, TxKind::Peg(Box::new(burn)), &mut undo);
                    proptest::prop_assert!(result.is_ok(), "a funded burn applies: {:?}", result);
                    (SIDE, holder, result.map(|()| before))
                }
                Step::Revert => {
                    if let Some((chain, by, undo, before)) = last.take() {
                        f.chains[chain].ledger.revert(undo);
                        proptest::prop_assert_eq!(f.ledger(chain), &before);
                        proptest::prop_assert_eq!(f.ledger(chain).root(), before.root());
                        let signer = f.account(by);
                        *f.chains[chain].nonces.get_mut(&signer).unwrap() -= 1;
                        // A reverted lock or burn took its entry with it.
                        locks.retain(|id| f.ledger(MAIN).peg().outbox().find(id).is_some());
                        burns.retain(|id| f.ledger(SIDE).peg().outbox().find(id).is_some());
                    }
                    f.check();
                    continue;
                }
            };
            if let Ok(before) = result {
                last = Some((chain, by, undo, before));
            }
            f.check();
        }
        let supply = f.ledger(MAIN).tokens().get(&token).unwrap().total_supply();
        proptest::prop_assert_eq!(supply, 1_000_000);
    }
}
