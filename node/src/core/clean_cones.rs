//! A cheap, exact-when-it-answers eligibility check: which unconfirmed cones surely replay.
//!
//! Eligibility (`tips.rs`) replays a tip's whole unconfirmed past cone on a scratch ledger. That
//! is linear in the cone, and every new tip needed one (plus one per selection for the two
//! parents together), so at high rates it cost more than everything else a node does. Most cones
//! hold only transactions that cannot fail in any order, and that is decidable per account:
//!
//! An account is **clean** (for the current confirmed ledger and unconfirmed set) when all of its
//! unconfirmed transactions anywhere in the DAG are transfers to another account, token
//! transactions (whose replay moves only the fee: the token rules are the chain's) or Ethereum
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

/// Whether a transaction of `kind` from `from` can fail the scratch replay (`tips.rs`) only on
/// its nonce or its debit, which the account's exposure covers. A native transfer to another
/// account, and any token transaction: the replay runs under `StorageMode::Plausibility`, where
/// `Ledger::check_in` leaves the token rules to the chain (`Effect::FeeOnly`), so a token
/// transfer moves only its fee and nonce there. Token loads need this: a full replay per
/// parent selection costs seconds once a few thousand token transfers are unconfirmed.
fn replays_on_nonce_and_debit(kind: &TxKind, from: &AccountId) -> bool {
    match kind {
        TxKind::Transfer { to, .. } => to != from,
        TxKind::Token(_) => true,
        // A carrier's Ethereum transaction runs only when a checkpoint applies it; the replay
        // moves its fee and nothing else. Spoiling its account made every cone under contract
        // load take the full replay, once per tip per selection: most of a node's CPU at 300
        // ERC-20 transfers a second, and quadratic in the rate.
        TxKind::Evm(_) => true,
        _ => false,
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
        if !replays_on_nonce_and_debit(&body.kind, &body.from) {
            exposure.spoiled = true;
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
    use crate::core::dag::{Confirmation, Outcome, Unit};
    use crate::core::evm::EvmCall;
    use crate::core::ledger::{FeePolicy, Undo};
    use crate::core::tips::{ConeVerdict, TipSelector, TipStrategy};
    use crate::core::token::{TokenId, TokenTx};
    use crate::core::transaction::TransactionBody;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// What a test unit carries (fee 1 each).
    #[derive(Clone, Copy, Debug)]
    enum Carry {
        Native(u64),
        SelfTransfer,
        TokenTransfer(u64),
        TokenBurn(u64),
        /// An Ethereum carrier whose payload is this byte.
        Carrier(u8),
    }

    fn unit(key: &Keypair, nonce: u64, carry: Carry, parents: [Hash; 2]) -> Arc<Unit> {
        let sink = Keypair::derived("clean-sink", 0).account();
        // A token nobody issued: the chain would ignore these, the replay moves only fees.
        let token = TokenId(Hash::of(b"clean-token"));
        let kind = match carry {
            Carry::Native(amount) => TxKind::Transfer { to: sink, amount },
            Carry::SelfTransfer => TxKind::Transfer { to: key.account(), amount: 1 },
            Carry::TokenTransfer(amount) => {
                TxKind::Token(Box::new(TokenTx::Transfer { token, to: sink, amount }))
            }
            Carry::TokenBurn(amount) => TxKind::Token(Box::new(TokenTx::Burn { token, amount })),
            Carry::Carrier(byte) => TxKind::Evm(Box::new(EvmCall::new(vec![byte]))),
        };
        unit_of_kind(key, nonce, kind, parents)
    }

    fn unit_of_kind(key: &Keypair, nonce: u64, kind: TxKind, parents: [Hash; 2]) -> Arc<Unit> {
        let body =
            TransactionBody { from: key.account(), nonce, kind, fee: 1, parents, issued_at_ms: 0 };
        Unit::new(body.sign(key).unwrap()).unwrap()
    }

    #[test]
    fn token_transfers_of_funded_accounts_are_clean_and_overspent_fees_are_not() {
        let genesis = Hash::of(b"g");
        let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("clean-token", i)).collect();
        // The third account can pay one fee, not two.
        let ledger = Ledger::genesis(&[
            (keys[0].account(), 10),
            (keys[1].account(), 10),
            (keys[2].account(), 1),
        ])
        .unwrap();
        let mut dag = Dag::new(genesis, 8);
        let mut previous = genesis;
        let mut chain = Vec::new();
        for nonce in 0..3 {
            let next = unit(&keys[0], nonce, Carry::TokenTransfer(5), [previous, genesis]);
            dag.insert(next.clone()).unwrap();
            previous = next.id;
            chain.push(next.id);
        }
        let other = unit(&keys[1], 0, Carry::TokenTransfer(1_000), [previous, genesis]);
        dag.insert(other.clone()).unwrap();
        let broke = [0, 1].map(|nonce| unit(&keys[2], nonce, Carry::TokenBurn(1), [genesis; 2]));
        for broke in &broke {
            dag.insert(broke.clone()).unwrap();
        }
        let mut clean = CleanCones::new(1_000);
        clean.refresh(&dag, &ledger, 0);
        let selector = TipSelector::new(TipStrategy::Uniform);
        for id in chain.iter().chain([&other.id]) {
            assert!(clean.is_clean(&dag, id), "a funded account's token transfer {id}");
            assert_eq!(selector.verdict(&dag, &ledger, id), ConeVerdict::Consistent);
        }
        // Two fees from a balance of one: neither unit is clean, and the replay agrees that
        // the two together cannot apply.
        assert!(broke.iter().all(|unit| !clean.is_clean(&dag, &unit.id)));
        let both = [broke[0].id, broke[1].id];
        assert!(matches!(
            selector.joint_verdict(&dag, &ledger, &both),
            ConeVerdict::Invalid { .. }
        ));
    }

    #[test]
    fn a_self_transfer_still_spoils_its_account() {
        let genesis = Hash::of(b"g");
        let key = Keypair::derived("clean-self", 0);
        let ledger = Ledger::genesis(&[(key.account(), 100)]).unwrap();
        let mut dag = Dag::new(genesis, 8);
        let token = unit(&key, 0, Carry::TokenTransfer(1), [genesis; 2]);
        let itself = unit(&key, 1, Carry::SelfTransfer, [genesis; 2]);
        dag.insert(token.clone()).unwrap();
        dag.insert(itself.clone()).unwrap();
        let mut clean = CleanCones::new(1_000);
        clean.refresh(&dag, &ledger, 0);
        assert!(!clean.is_clean(&dag, &token.id) && !clean.is_clean(&dag, &itself.id));
    }

    fn carry(choice: u8, amount: u64) -> Carry {
        match choice {
            0 | 1 => Carry::Native(amount),
            2 => Carry::SelfTransfer,
            3 => Carry::TokenTransfer(amount),
            4 => Carry::Carrier(amount as u8),
            _ => Carry::TokenBurn(amount),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// With token transactions mixed in: the summary only ever answers "clean" for cones the
        /// full replay accepts, alone and in pairs, on random DAGs with conflicting nonces,
        /// overspends and self-transfers, against ledgers that already used some nonces, with
        /// part of the DAG confirmed.
        #[test]
        fn clean_cones_with_token_transactions_replay(
            steps in proptest::collection::vec(
                (0usize..3, 0u64..6, 0u8..6, 1u64..60, any::<u64>(), any::<u64>()), 1..40),
            balances in proptest::collection::vec(0u64..120, 3),
            used in proptest::collection::vec((0usize..3, 0u64..6), 0..3),
            confirm in any::<u64>(),
        ) {
            let genesis = Hash::of(b"g");
            let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("prop-token", i)).collect();
            let allocations: Vec<_> =
                keys.iter().zip(&balances).map(|(k, b)| (k.account(), *b)).collect();
            let mut ledger = Ledger::genesis(&allocations).unwrap();
            let burn = FeePolicy { burn_per_mille: 1000 };
            for (who, nonce) in used {
                let tx = unit(&keys[who], nonce, Carry::Native(0), [genesis; 2]).tx.clone();
                let _ = ledger.apply(&tx, &keys[0].account(), burn, &mut Undo::default());
            }
            let mut dag = Dag::new(genesis, 8);
            let mut all = vec![genesis];
            for (who, nonce, choice, amount, p1, p2) in steps {
                let first = all[(p1 % all.len() as u64) as usize];
                let second = all[(p2 % all.len() as u64) as usize];
                let parents = if first == second { [genesis, genesis] } else { [first, second] };
                let next = unit(&keys[who], nonce, carry(choice, amount), parents);
                if dag.insert(next.clone()).is_ok() {
                    all.push(next.id);
                }
            }
            let root = all[(confirm % all.len() as u64) as usize];
            let confirmed = Confirmation { height: 1, outcome: Outcome::Applied };
            for id in dag.unconfirmed_cone(&[root], usize::MAX).unwrap() {
                dag.set_confirmation(&id, Some(confirmed));
            }
            let selector = TipSelector::new(TipStrategy::Uniform);
            let mut clean = CleanCones::new(20_000);
            clean.refresh(&dag, &ledger, 7);
            for a in &all {
                if !clean.is_clean(&dag, a) {
                    continue;
                }
                prop_assert_eq!(selector.verdict(&dag, &ledger, a), ConeVerdict::Consistent);
                for b in all.iter().filter(|b| clean.is_clean(&dag, b)) {
                    let joint = selector.joint_verdict(&dag, &ledger, &[*a, *b]);
                    prop_assert_eq!(joint, ConeVerdict::Consistent);
                }
            }
        }
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
            let carrier = unit(&node, nonce, Carry::Carrier(0xc0 + nonce as u8), [parent, genesis]);
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
        let twin = unit(&node, 4, Carry::Carrier(0xff), [chain[3], genesis]);
        dag.insert(twin).unwrap();
        clean.refresh(&dag, &ledger, 1);
        assert!(!clean.is_clean(&dag, &chain[4]));
    }
}
