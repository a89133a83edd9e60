//! The ledger's federated-learning glue (docs/federated-learning.md): the task rules live in
//! `core::fl`; here their effects meet the balances. A post's escrow already left the poster
//! through the transaction's debit; settling and closing credit participants or the poster
//! from the task's escrow and burn the commission, all through the undo log.

use super::{Ledger, LedgerError, Undo};
use crate::core::crypto::AccountId;
use crate::core::fl::{FlEffect, FlTasks, FlTx};

impl Ledger {
    /// Every learning task and its escrow.
    pub fn fl(&self) -> &FlTasks {
        &self.fl
    }

    /// What `tx` would do, or why it cannot apply. Every credit is checked against overflow
    /// here so `apply_fl` cannot fail half-way.
    pub(super) fn check_fl(
        &self,
        tx: &FlTx,
        from: &AccountId,
        nonce: u64,
    ) -> Result<FlEffect, LedgerError> {
        let effect = self.fl.check(tx, from, nonce).map_err(LedgerError::Fl)?;
        for (account, amount) in &effect.credits {
            if self.balance(account).checked_add(*amount).is_none() {
                return Err(LedgerError::BalanceOverflow { account: *account });
            }
        }
        Ok(effect)
    }

    /// Write a checked effect; returns the units burned (the commission and rounding dust).
    pub(super) fn apply_fl(&mut self, effect: FlEffect, undo: &mut Undo) -> u64 {
        let escrow_before = self.fl.escrowed();
        let credited: u64 = effect.credits.iter().map(|(_, amount)| amount).sum();
        for (account, amount) in &effect.credits {
            self.save(account, undo);
            let entry = self.accounts.entry(*account).or_default();
            // check_fl() proved it fits.
            entry.balance = entry.balance.saturating_add(*amount);
        }
        self.fl.apply(effect.task, effect.next, &mut undo.fl);
        // What left the escrow is exactly what was credited and burned (a post adds to it).
        debug_assert!(
            self.fl.escrowed() >= escrow_before
                || escrow_before - self.fl.escrowed() == credited + effect.burned
        );
        effect.burned
    }
}
