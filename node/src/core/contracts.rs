//! Storage contracts: the ledger's record of every active `StorePut` (PROTOCOL.md section 5).
//!
//! Lifecycle (docs/storage.md): a put applied by the checkpoint at height `h` escrows its
//! prepaid fee out of the owner's balance and opens a contract for rounds `h + 1 ..= h + T`.
//! Round `r` is the checkpoint height `r`; every shard of every active contract is challenged
//! with that checkpoint's generation signature `g_r`. A `StorageProof` from the shard's node for
//! round `r`, applied by a checkpoint at height `r ..= r + D`, marks `(file, shard, r)` proven.
//! When the checkpoint at height `r + D` is connected, round `r` is settled: proven shards are
//! paid their share from the escrow, unproven ones forfeit it (burned) and their miss is counted
//! in the contract. After its last round is settled the contract is removed.
//!
//! Everything here is plain data; the rules that change it live in `ledger.rs` so that every
//! change goes through the ledger's undo log.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::params::StorageParams;
use crate::core::storage::StorePut;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One active storage contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    /// Shared: undo logs clone contracts, and the put (roots, nodes) never changes.
    pub put: Arc<StorePut>,
    /// The account that made the put and paid its prepaid fee into the escrow.
    pub owner: AccountId,
    /// Height of the checkpoint that applied the put.
    pub opened_at: u64,
    /// First challenged round (`opened_at + 1`).
    pub first_round: u64,
    /// Prepaid tokens not yet paid out or burned.
    pub escrow: u64,
    /// Proven shards of rounds not yet settled (at most `D + 1` rounds).
    pub proven: BTreeMap<u64, BTreeSet<u8>>,
    /// Per shard: settled rounds without a valid proof (the ledger's record of misses).
    pub missed_rounds: Vec<u64>,
    /// Per shard: misses since the last proven round (what a repair rule would look at).
    pub consecutive_missed: Vec<u64>,
    /// Tokens paid to storage nodes so far.
    pub paid: u64,
    /// Tokens forfeited (burned) so far.
    pub forfeited: u64,
    /// Rounds settled so far (settlement goes in round order).
    pub settled_rounds: u64,
    /// Shards moved to another node by `StoreRepair` so far.
    pub repairs: u64,
}

impl Contract {
    /// The last challenged round. Opening checks that it does not overflow.
    pub fn last_round(&self) -> u64 {
        self.first_round.saturating_add(self.put.term_rounds.saturating_sub(1))
    }

    /// Whether round `round` falls in the term.
    pub fn covers(&self, round: u64) -> bool {
        round >= self.first_round && round <= self.last_round()
    }

    /// Whether a valid proof for shard `shard_index` in round `round` has been applied and the
    /// round is not yet settled (settled rounds are removed from `proven`).
    pub fn is_proven(&self, round: u64, shard_index: u8) -> bool {
        self.proven.get(&round).is_some_and(|shards| shards.contains(&shard_index))
    }

    /// What the escrow must hold after `settled_rounds` rounds: the budgets of the rest.
    pub fn expected_escrow(&self) -> u64 {
        let fee = self.put.prepaid_fee;
        let term = self.put.term_rounds.max(1);
        let settled = self.settled_rounds.min(term);
        // Round i's budget is fee / T + [i < fee mod T] (storage::payment).
        let paid_out =
            u128::from(settled) * u128::from(fee / term) + u128::from(settled.min(fee % term));
        fee - paid_out as u64
    }

    /// Feed the contract into a ledger-root hasher (canonical, fixed-width fields).
    pub(crate) fn hash_into(&self, hasher: &mut blake3::Hasher) {
        let put = &self.put;
        hasher.update(put.file_id.as_bytes());
        for node in &put.storage_nodes {
            hasher.update(node.as_bytes());
        }
        hasher.update(&put.term_rounds.to_le_bytes());
        hasher.update(&put.prepaid_fee.to_le_bytes());
        hasher.update(self.owner.as_bytes());
        hasher.update(&self.opened_at.to_le_bytes());
        hasher.update(&self.first_round.to_le_bytes());
        hasher.update(&self.escrow.to_le_bytes());
        hasher.update(&(self.proven.len() as u64).to_le_bytes());
        for (round, shards) in &self.proven {
            hasher.update(&round.to_le_bytes());
            hasher.update(&(shards.len() as u64).to_le_bytes());
            hasher.update(&shards.iter().copied().collect::<Vec<u8>>());
        }
        for (missed, consecutive) in self.missed_rounds.iter().zip(&self.consecutive_missed) {
            hasher.update(&missed.to_le_bytes());
            hasher.update(&consecutive.to_le_bytes());
        }
        hasher.update(&self.paid.to_le_bytes());
        hasher.update(&self.forfeited.to_le_bytes());
        hasher.update(&self.settled_rounds.to_le_bytes());
        hasher.update(&self.repairs.to_le_bytes());
    }
}

/// What the ledger needs to apply storage transactions at one checkpoint.
#[derive(Clone, Debug)]
pub struct StorageContext {
    /// Height of the checkpoint being applied (the current round).
    pub height: u64,
    /// The genesis storage rules: challenge count `c`, proof deadline `D`, repair threshold `M`.
    pub params: StorageParams,
    /// The storage node set (sorted, distinct): `Genesis::storage_nodes`.
    pub nodes: Arc<[AccountId]>,
    /// Generation signatures of the active chain for rounds `height − D ..= height`.
    pub generation_signatures: BTreeMap<u64, Hash>,
    /// The block contracts see at this checkpoint (docs/evm.md).
    pub evm: crate::core::evm::EvmBlock,
}

/// How `Ledger::apply_in` treats storage transactions.
#[derive(Clone, Copy, Debug)]
pub enum StorageMode<'a> {
    /// Refuse them (`LedgerError::NoStorageContext`): a caller without chain context.
    Refuse,
    /// Scratch replays for tip eligibility: only balances and nonces move (a put's prepaid fee
    /// is burned on the scratch ledger, which is thrown away); contracts are not consulted,
    /// because whether a proof is on time depends on the checkpoint that will order it.
    Plausibility,
    /// Full rules at a checkpoint.
    Full(&'a StorageContext),
}

/// One settled round of one contract: emitted as `Event::StorageSettled`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// The file of the contract.
    pub file_id: Hash,
    /// The settled round: the checkpoint height whose generation signature challenged the shards.
    pub round: u64,
    /// Shard indices with a valid, on-time proof for this round; each was paid its share.
    pub proven_shards: Vec<u8>,
    /// Shard indices without one; their share was burned.
    pub missed_shards: Vec<u8>,
    /// Tokens paid this round per storage node account (nodes holding several proven shards get
    /// the sum of their shares).
    pub payouts: BTreeMap<AccountId, u64>,
    /// Tokens of this round's budget burned for missed shards.
    pub forfeited: u64,
    /// This was the last round: the contract is closed.
    pub closed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::storage::payment::round_budget;

    #[test]
    fn expected_escrow_matches_the_sum_of_remaining_budgets() {
        let put = StorePut {
            file_id: Hash::ZERO,
            data_shards: 1,
            total_shards: 1,
            chunk_bytes: 64,
            shard_bytes: 2,
            shard_roots: vec![Hash::ZERO],
            storage_nodes: vec![AccountId::default()],
            term_rounds: 7,
            prepaid_fee: 1_003,
        };
        let mut contract = Contract {
            put: Arc::new(put.clone()),
            owner: AccountId::default(),
            opened_at: 0,
            first_round: 1,
            escrow: put.prepaid_fee,
            proven: BTreeMap::new(),
            missed_rounds: vec![0],
            consecutive_missed: vec![0],
            paid: 0,
            forfeited: 0,
            settled_rounds: 0,
            repairs: 0,
        };
        for settled in 0..=7 {
            contract.settled_rounds = settled;
            let rest: u64 = (settled..7).map(|r| round_budget(&put, r).unwrap()).sum();
            assert_eq!(contract.expected_escrow(), rest, "after {settled} rounds");
        }
    }
}
