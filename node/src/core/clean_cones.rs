//! A cheap, exact-when-it-answers eligibility check: which unconfirmed cones surely replay.
//!
//! Eligibility (`tips.rs`) replays a tip's whole unconfirmed past cone on a scratch ledger. That
//! is linear in the cone, and every new tip needed one (plus one per selection for the two
//! parents together), so at high rates it cost more than everything else a node does. Most cones
//! hold only transactions that cannot fail in any order, and that is decidable per account:
//!
//! An account is **clean** (for the current confirmed ledger and unconfirmed set) when all of its
//! unconfirmed transactions anywhere in the DAG are transfers to another account or Ethereum
//! carriers (`TxKind::Evm`, which the replay's plausibility mode applies as their fee alone: a
//! debit of the fee with no credit, like a transfer to nobody), have distinct
//! nonces, each nonce unused and inside the window of the confirmed nonce state, and their debits
//! (amount + fee) sum to at most its confirmed balance. Then any subset of them applies in any
//! order, whatever else is interleaved: a nonce stays unused (only the account's own transactions
//! use its nonces), the window floor only rises, the balance never drops below the confirmed one
//! minus all debits, and no credit can overflow (a scratch ledger's balances sum to at most the
//! supply, and the replay burns fees, so no balance can exceed a `u64`). No two of them spend the
//! same `(from, nonce)`, and a conflict needs the same `from`.
//!
//! A unit is **clean** when it is unconfirmed, its account is clean and its unconfirmed parents
//! are clean; as unconfirmed cones nest (a cone is the unit plus its parents' cones), a clean
//! unit's whole unconfirmed cone holds only clean accounts' transactions and so replays: its
//! verdict is `Consistent`, and so is the joint verdict of two clean units. A unit that is not
//! clean may still be eligible; the caller then runs the full replay. The cone-size limit is kept
//! by arrival order: a cone holds only units that arrived before its tip, so the tip's rank among
//! unconfirmed units bounds its cone.
//!
//! The summary holds for one ledger epoch and one set of confirmations and is rebuilt when either
//! changes (a linear pass over the unconfirmed units, once per checkpoint). In between, arriving
//! units are added one at a time; if one makes its account unclean, the flags are recomputed.

use crate::core::crypto::AccountId;
use crate::core::dag::Dag;
use crate::core::hash::Hash;
use crate::core::ledger::{Ledger, NONCE_WINDOW};
use crate::core::transaction::TxKind;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
struct Exposure {
    /// Unconfirmed transactions of the account.
    units: u64,
    /// Sum of their debits.
    debits: u128,
    nonces: BTreeSet<u64>,
    /// One of them could fail or conflict on its own (see the module comment).
    spoiled: bool,
}

impl Exposure {
    fn clean(&self, balance: u64) -> bool {
        !self.spoiled && self.debits <= u128::from(balance)
    }
}

/// Per-account summary of the unconfirmed DAG that proves some tips eligible without a replay.
/// See the module comment for when an account and a unit count as clean.
#[derive(Debug, Clone, Default)]
pub struct CleanCones {
    /// `(ledger epoch, DAG confirmation changes)` the summary holds for.
    key: Option<(u64, u64)>,
    cone_units_max: usize,
    /// Highest arrival sequence taken in.
    seen_seq: u64,
    /// Unconfirmed units taken in (their rank bounds their cones).
    count: usize,
    /// Units arriving after this sequence may have cones over the limit.
    seq_limit: u64,
    accounts: BTreeMap<AccountId, Exposure>,
    /// Unconfirmed units taken in, with their flag.
    clean: BTreeMap<Hash, bool>,
    /// An account turned unclean since the flags were computed.
    stale: bool,
}

impl CleanCones {
    /// An empty summary; tips whose arrival rank exceeds `cone_units_max` are never marked clean
    /// (their cones may be over the eligibility limit, so they take the full replay).
    pub fn new(cone_units_max: usize) -> CleanCones {
        CleanCones { cone_units_max, seq_limit: u64::MAX, ..CleanCones::default() }
    }

    /// Bring the summary up to date with `dag` and the ledger of `epoch`.
    pub fn refresh(&mut self, dag: &Dag, ledger: &Ledger, epoch: u64) {
        let key = (epoch, dag.confirmation_changes());
        if self.key != Some(key) {
            *self = CleanCones::new(self.cone_units_max);
            self.key = Some(key);
        }
        let arrived: Vec<(u64, Hash)> = dag.unconfirmed_after(self.seen_seq).collect();
        for (seq, id) in arrived {
            self.take_in(dag, ledger, seq, id);
        }
        if self.stale {
            self.stale = false;
            let all: Vec<Hash> = dag.unconfirmed_after(0).map(|(_, id)| id).collect();
            for id in all {
                let flag = self.flag(dag, ledger, &id);
                self.clean.insert(id, flag);
            }
        }
    }

    /// True if `tip`'s unconfirmed cone surely replays (see the module comment). Call
    /// [`CleanCones::refresh`] first.
    pub fn is_clean(&self, dag: &Dag, tip: &Hash) -> bool {
        if dag.is_confirmed(tip) {
            return true;
        }
        self.clean.get(tip).copied().unwrap_or(false)
            && dag.seq(tip).is_some_and(|seq| seq <= self.seq_limit)
    }

    fn take_in(&mut self, dag: &Dag, ledger: &Ledger, seq: u64, id: Hash) {
        self.seen_seq = seq;
        self.count += 1;
        if self.count == self.cone_units_max {
            self.seq_limit = seq;
        }
        let Some(unit) = dag.get(&id) else { return };
        let body = &unit.tx.body;
        let balance = ledger.balance(&body.from);
        let exposure = self.accounts.entry(body.from).or_default();
        let was_clean = exposure.clean(balance);
        exposure.units += 1;
        match body.kind {
            // A carrier's Ethereum transaction runs only when a checkpoint applies it; the
            // replay moves its fee and nothing else, so it fails only as a transfer would (nonce,
            // window, balance). Spoiling its account made every cone under contract load take
            // the full replay, once per tip per selection: most of a node's CPU at 300 ERC-20
            // transfers a second, and quadratic in the rate.
            TxKind::Transfer { to, .. } if to != body.from => {}
            TxKind::Evm(_) => {}
            _ => exposure.spoiled = true,
        }
        match body.debit() {
            Some(debit) => exposure.debits += u128::from(debit),
            None => exposure.spoiled = true,
        }
        if !exposure.nonces.insert(body.nonce) {
            exposure.spoiled = true;
        }
        let (used, floor) = ledger
            .account(&body.from)
            .map_or((false, 0), |account| (account.nonce_used(body.nonce), account.nonce_floor));
        if used || body.nonce >= floor.saturating_add(NONCE_WINDOW) {
            exposure.spoiled = true;
        }
        // Units of this account taken in before were flagged while it was clean.
        if was_clean && !exposure.clean(balance) && exposure.units > 1 {
            self.stale = true;
        }
        let flag = self.flag(dag, ledger, &id);
        self.clean.insert(id, flag);
    }

    /// `id`'s account is clean and its unconfirmed parents are flagged clean.
    fn flag(&self, dag: &Dag, ledger: &Ledger, id: &Hash) -> bool {
        let Some(unit) = dag.get(id) else { return false };
        let body = &unit.tx.body;
        let account_clean = self
            .accounts
            .get(&body.from)
            .is_some_and(|exposure| exposure.clean(ledger.balance(&body.from)));
        account_clean
            && body.parents.iter().all(|parent| {
                dag.is_confirmed(parent) || self.clean.get(parent).copied().unwrap_or(false)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::dag::Unit;
    use crate::core::evm::EvmCall;
    use crate::core::transaction::TransactionBody;
    use std::sync::Arc;

    fn unit(key: &Keypair, nonce: u64, kind: TxKind, parents: [Hash; 2]) -> Arc<Unit> {
        let body =
            TransactionBody { from: key.account(), nonce, kind, fee: 1, parents, issued_at_ms: 0 };
        Unit::new(body.sign(key).unwrap()).unwrap()
    }

    /// A node wrapping Ethereum transactions signs a chain of carriers: their cones are clean
    /// (no replay needed) as a chain of transfers is, and the full replay agrees. A carrier of
    /// an unused nonce beyond the balance, or a second carrier of one nonce, still spoils.
    #[test]
    fn a_chain_of_ethereum_carriers_is_clean() {
        let genesis = Hash::of(b"g");
        let node = Keypair::derived("clean-carriers", 0);
        let ledger = Ledger::genesis(&[(node.account(), 100)]).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let mut parent = genesis;
        let mut chain = Vec::new();
        for nonce in 0..5 {
            let kind = TxKind::Evm(Box::new(EvmCall::new(vec![0xc0 + nonce as u8])));
            let carrier = unit(&node, nonce, kind, [parent, genesis]);
            dag.insert(carrier.clone()).unwrap();
            parent = carrier.id;
            chain.push(carrier.id);
        }
        let mut clean = CleanCones::new(20_000);
        clean.refresh(&dag, &ledger, 1);
        let selector = crate::core::tips::TipSelector::new(crate::core::tips::TipStrategy::Uniform);
        for id in &chain {
            assert!(clean.is_clean(&dag, id), "carrier cone {id} not clean");
            assert_eq!(
                selector.verdict(&dag, &ledger, id),
                crate::core::tips::ConeVerdict::Consistent
            );
        }
        // A second carrier of nonce 4: the account is no longer clean.
        let twin =
            unit(&node, 4, TxKind::Evm(Box::new(EvmCall::new(vec![0xff]))), [chain[3], genesis]);
        dag.insert(twin).unwrap();
        clean.refresh(&dag, &ledger, 1);
        assert!(!clean.is_clean(&dag, &chain[4]));
    }
}
