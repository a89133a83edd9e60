//! The ledger: balances, nonces, rewards and burns. Ledger state is a pure function of the
//! checkpoint chain (White Flag ordering applies transactions in a fixed order), so two honest
//! nodes on the same chain hold byte-identical state and the same `root()`.
//!
//! Nonces: an account may use each nonce once. Nonces below `nonce_floor` are all used; above it,
//! the used ones are listed. A nonce is acceptable if it is unused and below
//! `nonce_floor + NONCE_WINDOW`. Gaps are allowed because the DAG may order two transactions of
//! one account either way; a strict "next nonce" rule would throw away honest transactions that
//! happened to be ordered late. The window bounds the per-account state. See docs/protocol.md.
//!
//! Every change goes through an `Undo` log so that a reorganisation re-derives the ledger exactly.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::transaction::{Transaction, TxKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far above the floor a nonce may be.
pub const NONCE_WINDOW: u64 = 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub balance: u64,
    /// Every nonce below this is used.
    pub nonce_floor: u64,
    /// Used nonces at or above the floor.
    pub used_above_floor: BTreeSet<u64>,
}

impl Account {
    pub fn nonce_used(&self, nonce: u64) -> bool {
        nonce < self.nonce_floor || self.used_above_floor.contains(&nonce)
    }

    /// The lowest unused nonce: what a wallet should use next.
    pub fn next_nonce(&self) -> u64 {
        let mut candidate = self.nonce_floor;
        while self.used_above_floor.contains(&candidate) {
            candidate += 1;
        }
        candidate
    }

    fn use_nonce(&mut self, nonce: u64) {
        self.used_above_floor.insert(nonce);
        while self.used_above_floor.remove(&self.nonce_floor) {
            self.nonce_floor += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("nonce {nonce} of {account:?} is already used")]
    NonceUsed { account: AccountId, nonce: u64 },
    #[error("nonce {nonce} of {account:?} is beyond the window (floor {floor})")]
    NonceOutsideWindow { account: AccountId, nonce: u64, floor: u64 },
    #[error("{account:?} holds {balance} but the transaction needs {needed}")]
    InsufficientBalance { account: AccountId, balance: u64, needed: u64 },
    #[error("amount plus fee overflows")]
    AmountOverflow,
    #[error("crediting {account:?} would overflow its balance")]
    BalanceOverflow { account: AccountId },
    #[error("a transfer to oneself is not allowed")]
    SelfTransfer,
}

/// The record needed to reverse a sequence of ledger changes.
#[derive(Debug, Default, Clone)]
pub struct Undo {
    previous: Vec<(AccountId, Option<Account>)>,
    minted_before: Option<u64>,
    burned_before: Option<u64>,
}

/// A broken ledger invariant: a bug, never an input error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error(
        "balances sum to {balances} but supply is {supply} (genesis {genesis} + minted {minted} - burned {burned})"
    )]
    SupplyMismatch { balances: u128, supply: u128, genesis: u64, minted: u64, burned: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    accounts: BTreeMap<AccountId, Account>,
    genesis_supply: u64,
    minted: u64,
    burned: u64,
}

/// How a fee is split between burning and the checkpoint author.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeePolicy {
    /// Burned share of every fee, in parts per thousand (default 500: half).
    pub burn_per_mille: u16,
}

impl FeePolicy {
    /// `(burned, to_author)`; the two always sum to `fee`.
    pub fn split(&self, fee: u64) -> (u64, u64) {
        let burned = (u128::from(fee) * u128::from(self.burn_per_mille.min(1000)) / 1000) as u64;
        (burned, fee - burned)
    }
}

impl Ledger {
    /// A ledger holding exactly the genesis allocations. Returns `None` if they overflow u64.
    pub fn genesis(allocations: &[(AccountId, u64)]) -> Option<Ledger> {
        let mut accounts: BTreeMap<AccountId, Account> = BTreeMap::new();
        let mut total: u64 = 0;
        for (account, amount) in allocations {
            total = total.checked_add(*amount)?;
            let entry = accounts.entry(*account).or_default();
            entry.balance = entry.balance.checked_add(*amount)?;
        }
        Some(Ledger { accounts, genesis_supply: total, minted: 0, burned: 0 })
    }

    pub fn account(&self, account: &AccountId) -> Option<&Account> {
        self.accounts.get(account)
    }

    pub fn balance(&self, account: &AccountId) -> u64 {
        self.accounts.get(account).map_or(0, |entry| entry.balance)
    }

    pub fn next_nonce(&self, account: &AccountId) -> u64 {
        self.accounts.get(account).map_or(0, Account::next_nonce)
    }

    pub fn accounts(&self) -> impl Iterator<Item = (&AccountId, &Account)> {
        self.accounts.iter()
    }

    pub fn supply(&self) -> u64 {
        self.genesis_supply + self.minted - self.burned
    }

    pub fn minted(&self) -> u64 {
        self.minted
    }

    pub fn burned(&self) -> u64 {
        self.burned
    }

    /// Would `tx` apply to the current state?
    pub fn check(&self, tx: &Transaction) -> Result<(), LedgerError> {
        let (from, nonce) = tx.spend_key();
        let needed = tx.body.debit().ok_or(LedgerError::AmountOverflow)?;
        let TxKind::Transfer { to, amount } = &tx.body.kind;
        if *to == from {
            return Err(LedgerError::SelfTransfer);
        }
        let empty = Account::default();
        let account = self.accounts.get(&from).unwrap_or(&empty);
        if account.nonce_used(nonce) {
            return Err(LedgerError::NonceUsed { account: from, nonce });
        }
        if nonce >= account.nonce_floor.saturating_add(NONCE_WINDOW) {
            return Err(LedgerError::NonceOutsideWindow {
                account: from,
                nonce,
                floor: account.nonce_floor,
            });
        }
        if account.balance < needed {
            return Err(LedgerError::InsufficientBalance {
                account: from,
                balance: account.balance,
                needed,
            });
        }
        if self.balance(to).checked_add(*amount).is_none() {
            return Err(LedgerError::BalanceOverflow { account: *to });
        }
        Ok(())
    }

    /// Apply `tx`, paying its fee per `policy` to `author`. Atomic: on error nothing changed.
    pub fn apply(
        &mut self,
        tx: &Transaction,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        self.check(tx)?;
        let supply_before = self.supply();
        let TxKind::Transfer { to, amount } = tx.body.kind;
        let (from, nonce) = tx.spend_key();
        let (burned, to_author) = policy.split(tx.body.fee);
        // check() proved the debit fits and the recipient cannot overflow; the author's credit
        // is checked below before any change is made.
        if to_author > 0 && self.balance(author).checked_add(to_author).is_none() {
            return Err(LedgerError::BalanceOverflow { account: *author });
        }
        self.save(&from, undo);
        let sender = self.accounts.entry(from).or_default();
        sender.balance -= amount + tx.body.fee;
        sender.use_nonce(nonce);
        self.save(&to, undo);
        self.accounts.entry(to).or_default().balance += amount;
        if to_author > 0 {
            self.save(author, undo);
            self.accounts.entry(*author).or_default().balance += to_author;
        }
        undo.burned_before.get_or_insert(self.burned);
        self.burned += burned;
        debug_assert_eq!(self.supply() + burned, supply_before);
        Ok(())
    }

    /// Mint a checkpoint reward to `author`.
    pub fn mint(
        &mut self,
        author: &AccountId,
        amount: u64,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let new_balance = self
            .balance(author)
            .checked_add(amount)
            .ok_or(LedgerError::BalanceOverflow { account: *author })?;
        let minted = self.minted.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        self.genesis_supply.checked_add(minted).ok_or(LedgerError::AmountOverflow)?;
        self.save(author, undo);
        self.accounts.entry(*author).or_default().balance = new_balance;
        undo.minted_before.get_or_insert(self.minted);
        self.minted = minted;
        Ok(())
    }

    /// Copy the nonce state of `account` from another ledger (used by scratch replays that start
    /// from a subset of balances).
    pub fn set_nonce_state(&mut self, account: &AccountId, from: &Account) {
        let entry = self.accounts.entry(*account).or_default();
        entry.nonce_floor = from.nonce_floor;
        entry.used_above_floor = from.used_above_floor.clone();
    }

    fn save(&self, account: &AccountId, undo: &mut Undo) {
        undo.previous.push((*account, self.accounts.get(account).cloned()));
    }

    /// Reverse every change recorded in `undo` (newest first).
    pub fn revert(&mut self, undo: Undo) {
        for (account, previous) in undo.previous.into_iter().rev() {
            match previous {
                Some(state) => {
                    self.accounts.insert(account, state);
                }
                None => {
                    self.accounts.remove(&account);
                }
            }
        }
        if let Some(minted) = undo.minted_before {
            self.minted = minted;
        }
        if let Some(burned) = undo.burned_before {
            self.burned = burned;
        }
    }

    /// A commitment to the whole state: BLAKE3 over the canonical encoding of the accounts in key
    /// order and the supply counters.
    pub fn root(&self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"vein/ledger/v0");
        hasher.update(&self.genesis_supply.to_le_bytes());
        hasher.update(&self.minted.to_le_bytes());
        hasher.update(&self.burned.to_le_bytes());
        for (account, state) in &self.accounts {
            hasher.update(account.as_bytes());
            hasher.update(&state.balance.to_le_bytes());
            hasher.update(&state.nonce_floor.to_le_bytes());
            hasher.update(&(state.used_above_floor.len() as u64).to_le_bytes());
            for nonce in &state.used_above_floor {
                hasher.update(&nonce.to_le_bytes());
            }
        }
        Hash(*hasher.finalize().as_bytes())
    }

    /// `supply = genesis + minted - burned` and balances sum to the supply. Balances are u64 so
    /// they can never be negative; an underflow would have panicked in debug builds.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let balances: u128 = self.accounts.values().map(|entry| u128::from(entry.balance)).sum();
        let supply =
            u128::from(self.genesis_supply) + u128::from(self.minted) - u128::from(self.burned);
        if balances != supply {
            return Err(InvariantViolation::SupplyMismatch {
                balances,
                supply,
                genesis: self.genesis_supply,
                minted: self.minted,
                burned: self.burned,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
            for (from, to, nonce, amount, fee, mint) in steps {
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
            for undo in undos.into_iter().rev() {
                ledger.revert(undo);
            }
            prop_assert_eq!(ledger, start);
        }
    }
}
