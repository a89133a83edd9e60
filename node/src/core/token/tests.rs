//! The token rules through the ledger: issue, transfer, burn, mint by the issuer and by a
//! consortium quorum, typed refusals, the supply invariant, and undo round trips.

use super::*;
use crate::core::consortium::keys::{self, DataKey, MemberSecret};
use crate::core::consortium::{
    Column, ColumnType, ConsortiumTx, CreateConsortium, PermissionChange, TableSchema,
    consortium_id, proposal_id,
};
use crate::core::crypto::Keypair;
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, InvariantViolation, Ledger, LedgerError, Undo};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use std::collections::BTreeMap;

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };

struct Fixture {
    keys: Vec<Keypair>,
    author: Keypair,
    ledger: Ledger,
    nonces: BTreeMap<AccountId, u64>,
}

impl Fixture {
    fn new() -> Fixture {
        let keys: Vec<Keypair> = (0..4).map(|i| Keypair::derived("token", i)).collect();
        let author = Keypair::derived("token-author", 0);
        let allocations: Vec<(AccountId, u64)> =
            keys.iter().map(|key| (key.account(), 1_000)).collect();
        let ledger = Ledger::genesis(&allocations).unwrap();
        Fixture { keys, author, ledger, nonces: BTreeMap::new() }
    }

    fn account(&self, index: usize) -> AccountId {
        self.keys[index].account()
    }

    fn tx(&mut self, by: usize, kind: TxKind) -> Transaction {
        let key = self.keys[by].clone();
        let nonce = self.nonces.entry(key.account()).or_default();
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

    /// Sign and apply; a refused transaction does not use its nonce.
    fn submit(&mut self, by: usize, kind: TxKind, undo: &mut Undo) -> Result<(), LedgerError> {
        let tx = self.tx(by, kind);
        let author = self.author.account();
        let result = self.ledger.apply(&tx, &author, POLICY, undo);
        if result.is_err() {
            *self.nonces.entry(tx.body.from).or_default() -= 1;
        }
        result
    }

    fn token(&mut self, by: usize, token_tx: TokenTx, undo: &mut Undo) -> Result<(), TokenError> {
        match self.submit(by, TxKind::Token(Box::new(token_tx)), undo) {
            Ok(()) => Ok(()),
            Err(LedgerError::Token(error)) => Err(error),
            Err(other) => panic!("expected a token error, got {other:?}"),
        }
    }

    /// Account `by` issues a token; returns its id.
    fn issue(&mut self, by: usize, supply: SupplyRule, initial: u64, undo: &mut Undo) -> TokenId {
        let nonce = self.nonces.get(&self.account(by)).copied().unwrap_or(0);
        let issue = IssueToken {
            name: "Acme Points".into(),
            symbol: "ACME".into(),
            decimals: 2,
            initial_supply: initial,
            supply,
        };
        self.token(by, TokenTx::Issue(issue), undo).unwrap();
        token_id(&self.account(by), nonce)
    }

    fn balance(&self, token: &TokenId, index: usize) -> u64 {
        self.ledger.tokens().balance(token, &self.account(index))
    }

    /// A consortium of accounts 0, 1 and 2 with quorum 2, created by account 0.
    fn consortium(&mut self, undo: &mut Undo) -> Hash {
        let nonce = self.nonces.get(&self.account(0)).copied().unwrap_or(0);
        let id = consortium_id(&self.account(0), nonce);
        let node = Keypair::derived("token-node", 0).account();
        let secret = MemberSecret::from_bytes([5u8; 32]);
        let wrapped = keys::wrap(&DataKey([1u8; 32]), &id, 0, &secret.public(), [7u8; 32]);
        let create = CreateConsortium {
            name: "mint_board".into(),
            parties: (0..3).map(|i| self.account(i)).collect(),
            members: BTreeMap::from([(node, secret.public())]),
            tables: vec![TableSchema {
                name: "minutes".into(),
                columns: vec![Column {
                    name: "id".into(),
                    column_type: ColumnType::Integer,
                    nullable: false,
                }],
                primary_key: 0,
            }],
            quorum: 2,
            wrapped: BTreeMap::from([(node, wrapped.unwrap())]),
        };
        let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
        self.submit(0, kind, undo).unwrap();
        id
    }
}

fn mintable_by_issuer(cap: Option<u64>) -> SupplyRule {
    SupplyRule::Mintable { minter: Minter::Issuer, cap }
}

#[test]
fn issuing_credits_the_issuer_changes_the_root_and_reverts_exactly() {
    let mut fixture = Fixture::new();
    let before = fixture.ledger.clone();
    let root = fixture.ledger.root();
    let mut undo = Undo::default();
    let token = fixture.issue(0, SupplyRule::Fixed, 5_000, &mut undo);
    assert_eq!(fixture.balance(&token, 0), 5_000);
    let issued = fixture.ledger.tokens().get(&token).unwrap();
    assert_eq!((issued.issuer, issued.total_supply()), (fixture.account(0), 5_000));
    // The fee is paid in the native token.
    assert_eq!(fixture.ledger.balance(&fixture.account(0)), 998);
    assert_ne!(fixture.ledger.root(), root);
    fixture.ledger.check_invariants().unwrap();
    fixture.ledger.revert(undo);
    assert_eq!(fixture.ledger, before);
    assert_eq!(fixture.ledger.root(), root, "no token: the root of a ledger without tokens");
}

#[test]
fn transfers_and_burns_move_balances_and_keep_the_supply_invariant() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let token = fixture.issue(0, SupplyRule::Fixed, 1_000, &mut undo);
    let to = fixture.account(1);
    fixture.token(0, TokenTx::Transfer { token, to, amount: 300 }, &mut undo).unwrap();
    assert_eq!((fixture.balance(&token, 0), fixture.balance(&token, 1)), (700, 300));
    fixture.token(1, TokenTx::Burn { token, amount: 100 }, &mut undo).unwrap();
    assert_eq!(fixture.balance(&token, 1), 200);
    let state = fixture.ledger.tokens().get(&token).unwrap();
    assert_eq!((state.burned, state.total_supply()), (100, 900));
    // A holder that spends all disappears from the balances (equal states encode equally).
    fixture.token(1, TokenTx::Burn { token, amount: 200 }, &mut undo).unwrap();
    assert_eq!(fixture.ledger.tokens().holders(&token).count(), 1);
    fixture.ledger.check_invariants().unwrap();
    assert_eq!(fixture.ledger.balance(&fixture.account(1)), 996, "two native fees");
}

#[test]
fn bad_token_transactions_get_typed_errors_and_change_nothing() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let token = fixture.issue(0, SupplyRule::Fixed, 1_000, &mut undo);
    let unknown = token_id(&fixture.account(3), 99);
    let before = fixture.ledger.clone();
    let to = fixture.account(1);
    let refused = [
        (1, TokenTx::Transfer { token, to: fixture.account(2), amount: 1 }),
        (0, TokenTx::Transfer { token: unknown, to, amount: 1 }),
        (0, TokenTx::Transfer { token, to: fixture.account(0), amount: 1 }),
        (0, TokenTx::Transfer { token, to, amount: 0 }),
        (0, TokenTx::Transfer { token, to, amount: 1_001 }),
        (0, TokenTx::Burn { token, amount: 1_001 }),
        (0, TokenTx::Mint { token, to, amount: 1 }),
    ];
    let mut errors = Vec::new();
    for (by, token_tx) in refused {
        errors.push(fixture.token(by, token_tx, &mut undo).unwrap_err());
    }
    assert!(matches!(errors[0], TokenError::InsufficientBalance { balance: 0, needed: 1, .. }));
    assert_eq!(errors[1], TokenError::UnknownToken { token: unknown });
    assert_eq!(errors[2], TokenError::SelfTransfer);
    assert_eq!(errors[3], TokenError::ZeroAmount);
    assert!(matches!(errors[4], TokenError::InsufficientBalance { balance: 1_000, .. }));
    assert!(matches!(errors[5], TokenError::InsufficientBalance { needed: 1_001, .. }));
    assert_eq!(errors[6], TokenError::FixedSupply { token });
    assert_eq!(fixture.ledger, before);
}

#[test]
fn only_the_issuer_mints_and_never_past_the_cap_or_u64() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let token = fixture.issue(0, mintable_by_issuer(Some(1_500)), 1_000, &mut undo);
    let to = fixture.account(2);
    let by_other = fixture.token(1, TokenTx::Mint { token, to, amount: 1 }, &mut undo);
    assert_eq!(by_other, Err(TokenError::NotMinter { token, account: fixture.account(1) }));
    fixture.token(0, TokenTx::Mint { token, to, amount: 500 }, &mut undo).unwrap();
    assert_eq!(fixture.balance(&token, 2), 500);
    let over = fixture.token(0, TokenTx::Mint { token, to, amount: 1 }, &mut undo);
    assert!(matches!(over, Err(TokenError::OverCap { cap: 1_500, .. })));
    // Burning does not make room under the cap: it caps all ever created.
    fixture.token(2, TokenTx::Burn { token, amount: 500 }, &mut undo).unwrap();
    let again = fixture.token(0, TokenTx::Mint { token, to, amount: 1 }, &mut undo);
    assert!(matches!(again, Err(TokenError::OverCap { .. })));

    let uncapped = fixture.issue(1, mintable_by_issuer(None), u64::MAX - 5, &mut undo);
    let overflow = fixture.token(1, TokenTx::Mint { token: uncapped, to, amount: 6 }, &mut undo);
    assert!(matches!(overflow, Err(TokenError::SupplyOverflow { amount: 6, .. })));
    fixture.token(1, TokenTx::Mint { token: uncapped, to, amount: 5 }, &mut undo).unwrap();
    fixture.ledger.check_invariants().unwrap();
}

#[test]
fn a_consortium_quorum_mints_through_its_own_proposals() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let consortium = fixture.consortium(&mut undo);
    let rule = SupplyRule::Mintable { minter: Minter::Consortium(consortium), cap: None };
    let token = fixture.issue(0, rule, 10, &mut undo);
    let to = fixture.account(3);
    // No party mints alone, not even the issuer.
    let alone = fixture.token(0, TokenTx::Mint { token, to, amount: 5 }, &mut undo);
    assert_eq!(alone, Err(TokenError::NotMinter { token, account: fixture.account(0) }));
    let proposer_nonce = fixture.nonces.get(&fixture.account(1)).copied().unwrap_or(0);
    let change = PermissionChange::MintToken { token, to, amount: 5 };
    let propose = ConsortiumTx::Propose { consortium, change };
    fixture.submit(1, TxKind::Consortium(Box::new(propose)), &mut undo).unwrap();
    assert_eq!(fixture.balance(&token, 3), 0, "one approval of two: nothing minted yet");
    let proposal = proposal_id(&consortium, &fixture.account(1), proposer_nonce);
    let approve = ConsortiumTx::Approve { consortium, proposal };
    fixture.submit(2, TxKind::Consortium(Box::new(approve)), &mut undo).unwrap();
    assert_eq!(fixture.balance(&token, 3), 5, "the quorum's approval mints");
    assert_eq!(fixture.ledger.tokens().get(&token).unwrap().minted, 5);
    fixture.ledger.check_invariants().unwrap();

    // A mint proposal that could not apply is refused when made.
    let fixed = fixture.issue(2, SupplyRule::Fixed, 10, &mut undo);
    let change = PermissionChange::MintToken { token: fixed, to, amount: 1 };
    let propose = ConsortiumTx::Propose { consortium, change };
    let refused = fixture.submit(1, TxKind::Consortium(Box::new(propose)), &mut undo);
    assert_eq!(refused, Err(LedgerError::Token(TokenError::FixedSupply { token: fixed })));
}

#[test]
fn a_consortium_minter_must_exist_and_count_the_issuer_among_its_parties() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let missing = Hash::of(b"no such consortium");
    let rule = SupplyRule::Mintable { minter: Minter::Consortium(missing), cap: None };
    let issue = |supply| {
        TokenTx::Issue(IssueToken {
            name: "Board".into(),
            symbol: "BRD".into(),
            decimals: 0,
            initial_supply: 0,
            supply,
        })
    };
    let unknown = fixture.token(0, issue(rule), &mut undo);
    assert_eq!(unknown, Err(TokenError::UnknownConsortium { consortium: missing }));
    let consortium = fixture.consortium(&mut undo);
    let rule = SupplyRule::Mintable { minter: Minter::Consortium(consortium), cap: None };
    let outsider = fixture.token(3, issue(rule), &mut undo);
    assert_eq!(outsider, Err(TokenError::NotAParty { consortium, account: fixture.account(3) }));
}

#[test]
fn the_invariant_catches_balances_that_do_not_sum_to_the_supply() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let token = fixture.issue(0, SupplyRule::Fixed, 100, &mut undo);
    let mut tokens = fixture.ledger.tokens().clone();
    // A balance credited from nowhere: the kind of bug the invariant is there to find.
    let forged = TokenEffect { token: None, balances: vec![(token, fixture.account(1), 1)] };
    tokens.apply(forged, &mut TokenUndo::default());
    let mismatch = tokens.check_invariants().unwrap_err();
    assert_eq!((mismatch.balances, mismatch.supply), (101, 100));
    let violation = InvariantViolation::TokenSupply(mismatch);
    assert!(violation.to_string().contains("balances sum to 101"));
}

#[test]
fn a_scratch_replay_moves_only_the_fee_of_a_token_transaction() {
    let mut fixture = Fixture::new();
    let token = token_id(&fixture.account(3), 0);
    let transfer = TokenTx::Transfer { token, to: fixture.account(1), amount: 5 };
    let tx = fixture.tx(0, TxKind::Token(Box::new(transfer)));
    let nobody = AccountId([0u8; 32]);
    let mode = crate::core::contracts::StorageMode::Plausibility;
    fixture.ledger.apply_in(&tx, &nobody, POLICY, mode, &mut Undo::default()).unwrap();
    assert_eq!(fixture.ledger.balance(&fixture.account(0)), 998);
    assert!(fixture.ledger.tokens().is_empty());
}
