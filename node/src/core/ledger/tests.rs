//! The ledger's unit tests: transfers, storage contracts, undo and the invariants.

use super::*;
use crate::core::crypto::Keypair;
use crate::core::transaction::TransactionBody;
use proptest::prelude::*;

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };

fn transfer(key: &Keypair, nonce: u64, to: AccountId, amount: u64, fee: u64) -> Transaction {
    TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Transfer { to, amount },
        fee,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    }
    .sign(key)
    .unwrap()
}

#[test]
fn conflicting_spend_is_refused_and_nonce_gaps_are_allowed() {
    let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("ledger", i)).collect();
    let mut ledger = Ledger::genesis(&[(keys[0].account(), 100)]).unwrap();
    let mut undo = Undo::default();
    let author = keys[2].account();
    let first = transfer(&keys[0], 5, keys[1].account(), 10, 2);
    let conflict = transfer(&keys[0], 5, keys[2].account(), 10, 2);
    ledger.apply(&first, &author, POLICY, &mut undo).unwrap();
    assert_eq!(
        ledger.apply(&conflict, &author, POLICY, &mut undo),
        Err(LedgerError::NonceUsed { account: keys[0].account(), nonce: 5 })
    );
    assert_eq!(ledger.next_nonce(&keys[0].account()), 0);
    assert_eq!(ledger.balance(&keys[0].account()), 88);
    assert_eq!(ledger.balance(&author), 1);
    assert_eq!(ledger.burned(), 1);
    ledger.check_invariants().unwrap();
}

#[test]
fn revert_restores_the_exact_state() {
    let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("ledger", i)).collect();
    let mut ledger = Ledger::genesis(&[(keys[0].account(), 100)]).unwrap();
    let before = ledger.clone();
    let root_before = ledger.root();
    let mut undo = Undo::default();
    ledger.mint(&keys[2].account(), 50, &mut undo).unwrap();
    let tx = transfer(&keys[0], 0, keys[1].account(), 10, 3);
    ledger.apply(&tx, &keys[2].account(), POLICY, &mut undo).unwrap();
    assert_ne!(ledger.root(), root_before);
    ledger.revert(undo);
    assert_eq!(ledger, before);
    assert_eq!(ledger.root(), root_before);
}

#[test]
fn one_undo_over_many_transactions_of_one_sender_reverts_exactly() {
    let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("ledger", i)).collect();
    let mut ledger = Ledger::genesis(&[(keys[0].account(), 1_000)]).unwrap();
    let before = ledger.clone();
    let mut undo = Undo::default();
    // Out-of-order nonces, so the used-above-floor set grows and shrinks along the way.
    for nonce in [3, 1, 0, 7, 2, 5, 4, 6] {
        let tx = transfer(&keys[0], nonce, keys[1].account(), 10, 2);
        ledger.apply(&tx, &keys[2].account(), POLICY, &mut undo).unwrap();
    }
    ledger.mint(&keys[1].account(), 5, &mut undo).unwrap();
    assert_eq!(ledger.next_nonce(&keys[0].account()), 8);
    assert_eq!(undo.previous.len(), 3, "one saved state per touched account");
    ledger.revert(undo);
    assert_eq!(ledger, before);
}

#[test]
fn nonce_window_bounds_state() {
    let keys: Vec<Keypair> = (0..2).map(|i| Keypair::derived("ledger", i)).collect();
    let ledger = Ledger::genesis(&[(keys[0].account(), 100)]).unwrap();
    let far = transfer(&keys[0], NONCE_WINDOW, keys[1].account(), 1, 1);
    assert!(matches!(ledger.check(&far), Err(LedgerError::NonceOutsideWindow { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random transfers among a few accounts, with nonces drawn from a small range so that
    /// conflicting `(from, nonce)` pairs are frequent: the supply invariant always holds,
    /// no conflicting pair is ever applied twice, and reverting everything restores genesis.
    #[test]
    fn supply_invariant_under_random_transfers(
        steps in proptest::collection::vec(
            (0usize..4, 0usize..4, 0u64..6, 0u64..80, 0u64..5, any::<bool>()), 1..60)
    ) {
        let keys: Vec<Keypair> = (0..4).map(|i| Keypair::derived("prop", i)).collect();
        let genesis: Vec<(AccountId, u64)> =
            keys.iter().map(|key| (key.account(), 100)).collect();
        let mut ledger = Ledger::genesis(&genesis).unwrap();
        let start = ledger.clone();
        let mut undos = Vec::new();
        let mut applied = std::collections::BTreeSet::new();
        // The same steps on a second ledger under one undo: one revert restores genesis.
        let mut shared = ledger.clone();
        let mut shared_undo = Undo::default();
        for (from, to, nonce, amount, fee, mint) in steps {
            if mint {
                shared.mint(&keys[to].account(), amount, &mut shared_undo).unwrap();
            }
            let tx = transfer(&keys[from], nonce, keys[to].account(), amount, fee);
            let _ = shared.apply(&tx, &keys[(from + 1) % 4].account(), POLICY, &mut shared_undo);
            let mut undo = Undo::default();
            if mint {
                ledger.mint(&keys[to].account(), amount, &mut undo).unwrap();
            }
            let tx = transfer(&keys[from], nonce, keys[to].account(), amount, fee);
            let result = ledger.apply(&tx, &keys[(from + 1) % 4].account(), POLICY, &mut undo);
            if result.is_ok() {
                prop_assert!(applied.insert(tx.spend_key()), "a spend was applied twice");
            }
            prop_assert!(ledger.check_invariants().is_ok());
            undos.push(undo);
        }
        prop_assert_eq!(&shared, &ledger);
        for undo in undos.into_iter().rev() {
            ledger.revert(undo);
        }
        prop_assert_eq!(&ledger, &start);
        shared.revert(shared_undo);
        prop_assert_eq!(shared, start);
    }
}
