//! This node's own account: transactions it signs (parents from its own tip selection) and
//! submits with the next free nonce, refusing rather than signing past its nonce window.

use super::{Node, RejectReason};
use crate::core::crypto::AccountId;
use crate::core::dag::{Outcome, Unit};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use std::sync::Arc;

impl Node {
    /// Build, sign and submit a transfer from this node's account.
    pub fn transfer(
        &mut self,
        now_ms: u64,
        to: AccountId,
        amount: u64,
        fee: u64,
    ) -> Result<Arc<Unit>, RejectReason> {
        self.submit(now_ms, TxKind::Transfer { to, amount }, fee)
    }

    /// Sign a transaction of this node's account with parents from tip selection, without
    /// submitting it (attackers use this to build conflicting spends).
    pub fn build_transaction(
        &mut self,
        nonce: u64,
        kind: TxKind,
        fee: u64,
    ) -> Result<Transaction, RejectReason> {
        let parents = self.select_parents();
        let body = TransactionBody {
            from: self.account,
            nonce,
            kind,
            fee,
            parents,
            issued_at_ms: self.now_ms,
        };
        Ok(body.sign(&self.config.key)?)
    }

    /// Parents for a new transaction by this node's tip selection: what it would approve if it
    /// signed now. A wallet that signs elsewhere asks for these (the API's `GET /parents`).
    pub fn select_parents(&mut self) -> [Hash; 2] {
        let anchors = self.chain.anchors();
        self.tips
            .select(&self.dag, self.chain.ledger(), self.chain.epoch(), &anchors, &mut self.rng)
            .parents
    }

    /// Build, sign and submit a transaction of any kind from this node's account with the next
    /// free nonce.
    pub fn submit(
        &mut self,
        now_ms: u64,
        kind: TxKind,
        fee: u64,
    ) -> Result<Arc<Unit>, RejectReason> {
        self.now_ms = self.now_ms.max(now_ms);
        let confirmed_next = self.chain.ledger().next_nonce(&self.account);
        self.own_pending_nonces.retain(|nonce| *nonce >= confirmed_next);
        let mut nonce = confirmed_next;
        // Three ways a nonce is taken: this wallet signed it and it is not confirmed yet; the
        // ledger has used it; or an undecided unit in the DAG spends it that this wallet never
        // saw being signed (a client holding the node's key submitted it, or it was signed
        // before a restart): reusing that one would make the node double-spend itself. A unit
        // a checkpoint ignored leaves its nonce free (`reclaim_ignored_nonces`).
        while self.own_pending_nonces.contains(&nonce)
            || self.chain.ledger().account(&self.account).is_some_and(|a| a.nonce_used(nonce))
            || self.dag.spends_undecided(&(self.account, nonce))
        {
            nonce += 1;
        }
        // A nonce past the confirmed floor's window can never apply before the floor moves, and a
        // unit that cannot apply is never approved: at high rates a node that signed past its
        // window filled the DAG with such tips, every cone holding one became ineligible and the
        // net stalled (seen on the 4-node testnet at 1,000 tx/s). Refusing is the backpressure.
        let floor = self.chain.ledger().account(&self.account).map_or(0, |a| a.nonce_floor);
        if nonce >= floor.saturating_add(crate::core::ledger::NONCE_WINDOW) {
            return Err(RejectReason::NonceWindowFull { nonce, floor });
        }
        let tx = self.build_transaction(nonce, kind, fee)?;
        let unit = Unit::new(tx.clone())?;
        self.accept_transaction(tx, None)?;
        self.own_pending_nonces.insert(nonce);
        Ok(unit)
    }

    /// A unit of this node's account that White Flag ignored never uses its nonce; free it for
    /// the next transaction, or it stays a gap at the bottom of the nonce window: the floor
    /// cannot pass it, and 1,024 transactions later the account cannot transact at all. Any
    /// kind: a storage proof that came late, an Ethereum carrier whose transaction was sent
    /// through two nodes or did not fit the checkpoint's gas, a transfer the balance no longer
    /// covered. The two units
    /// then conflict, so at most one of them ever applies (a reorganisation that applies the
    /// ignored one ignores the new one, whose nonce is freed in turn).
    pub(super) fn reclaim_ignored_nonces(&mut self, events: &[Event]) {
        for event in events {
            let Event::TxConfirmed { id, outcome: Outcome::Ignored, .. } = event else { continue };
            let Some(unit) = self.dag.get(id) else { continue };
            if unit.tx.body.from == self.account {
                self.own_pending_nonces.remove(&unit.tx.body.nonce);
            }
        }
    }
}
