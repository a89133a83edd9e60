//! Storage payments: how a `StorePut`'s prepaid fee is paid out, round by round.
//!
//! Model: the fee buys `term_rounds × n` *shard-rounds*. It is split exactly, in integers:
//! round `r` (`0 ≤ r < term_rounds`) gets `fee / T` plus one token if `r < fee mod T`; within a
//! round, shard `i` gets `budget / n` plus one token if `i < budget mod n`. Summed over the term
//! this is exactly the fee: no token is created, none is lost to rounding, and no state is needed
//! beyond the round's position in the term. (Splitting per round first keeps every intermediate
//! within u64 even for absurd `T × n`.)
//!
//! A shard whose node proved possession this round earns its share; a missing or wrong proof
//! forfeits it. Forfeited tokens are **burned**, not returned to the owner and not redistributed:
//! refunding would let an owner collude with a node to recover fees for storage never provided,
//! and redistributing to the other nodes would reward them for a peer's failure (an incentive to
//! disrupt each other). Burning also matches the fee rule of PROTOCOL.md section 4, and keeps the
//! ledger invariant `supply = genesis + minted − burned`.

use super::commitment::{PutError, StorePut};
use crate::core::crypto::AccountId;
use std::collections::{BTreeMap, BTreeSet};

/// Why a round could not be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The put itself is invalid (a zero-round term), so it has no per-round budget.
    #[error("invalid store put: {0}")]
    Put(#[from] PutError),
    /// The round is past the end of the put's term.
    #[error("round {round_in_term} is outside a term of {term_rounds} rounds")]
    OutsideTerm {
        /// The round asked for, counted from the term's start.
        round_in_term: u64,
        /// Rounds in the put's term.
        term_rounds: u64,
    },
    /// A proven shard index does not exist in the file.
    #[error("shard {shard_index} does not exist in a file of {total_shards} shards")]
    UnknownShard {
        /// The out-of-range index.
        shard_index: u8,
        /// Shards in the file.
        total_shards: u8,
    },
}

/// One round's settlement for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundPayout {
    /// Tokens for the round: `sum(payouts) + forfeited == budget`.
    pub budget: u64,
    /// Per node with a proven shard (nodes hold one shard each, so at most one entry per shard).
    pub payouts: BTreeMap<AccountId, u64>,
    /// Tokens of unproven shards, to be burned.
    pub forfeited: u64,
}

/// `total` split into `parts` integer shares, the first `total mod parts` one larger.
fn share(total: u64, parts: u64, index: u64) -> u64 {
    debug_assert!(parts > 0 && index < parts);
    total / parts + u64::from(index < total % parts)
}

/// The tokens paid out (or forfeited) in round `round_in_term` of the put's term.
pub fn round_budget(put: &StorePut, round_in_term: u64) -> Result<u64, PaymentError> {
    if put.term_rounds == 0 {
        return Err(PutError::ZeroTerm.into());
    }
    if round_in_term >= put.term_rounds {
        return Err(PaymentError::OutsideTerm { round_in_term, term_rounds: put.term_rounds });
    }
    Ok(share(put.prepaid_fee, put.term_rounds, round_in_term))
}

/// Settle round `round_in_term`: proven shards earn their share, the rest is forfeited.
pub fn round_payouts(
    put: &StorePut,
    round_in_term: u64,
    proven_shards: &BTreeSet<u8>,
) -> Result<RoundPayout, PaymentError> {
    put.validate()?;
    let budget = round_budget(put, round_in_term)?;
    if let Some(&shard_index) = proven_shards.iter().find(|shard| **shard >= put.total_shards) {
        return Err(PaymentError::UnknownShard { shard_index, total_shards: put.total_shards });
    }
    let shards = u64::from(put.total_shards);
    let mut payouts = BTreeMap::new();
    let mut forfeited = 0u64;
    for (shard_index, node) in put.storage_nodes.iter().enumerate() {
        let amount = share(budget, shards, shard_index as u64);
        if proven_shards.contains(&(shard_index as u8)) {
            *payouts.entry(*node).or_insert(0u64) += amount;
        } else {
            forfeited += amount;
        }
    }
    debug_assert_eq!(payouts.values().sum::<u64>() + forfeited, budget);
    Ok(RoundPayout { budget, payouts, forfeited })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::hash::Hash;
    use crate::core::storage::commitment::file_id_of;
    use proptest::prelude::*;

    fn put(n: u8, term_rounds: u64, prepaid_fee: u64) -> StorePut {
        let roots = vec![Hash::ZERO; usize::from(n)];
        StorePut {
            file_id: file_id_of(1, n, 1024, 2, &roots),
            data_shards: 1,
            total_shards: n,
            chunk_bytes: 1024,
            shard_bytes: 2,
            shard_roots: roots,
            storage_nodes: (0..n)
                .map(|i| Keypair::derived("pay", u64::from(i)).account())
                .collect(),
            term_rounds,
            prepaid_fee,
        }
    }

    #[test]
    fn even_split_and_burned_forfeit() {
        let p = put(4, 10, 1_000);
        let proven: BTreeSet<u8> = [0, 2].into();
        let round = round_payouts(&p, 0, &proven).unwrap();
        assert_eq!(round.budget, 100);
        assert_eq!(round.payouts.get(&p.storage_nodes[0]), Some(&25));
        assert_eq!(round.payouts.get(&p.storage_nodes[1]), None);
        assert_eq!(round.forfeited, 50);
        assert_eq!(
            round_payouts(&p, 10, &proven),
            Err(PaymentError::OutsideTerm { round_in_term: 10, term_rounds: 10 })
        );
        assert_eq!(
            round_payouts(&p, 0, &[4].into()),
            Err(PaymentError::UnknownShard { shard_index: 4, total_shards: 4 })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn tokens_are_conserved_per_round_and_over_the_term(
            n in 1u8..=64,
            term_rounds in 1u64..40,
            prepaid_fee in prop_oneof![any::<u64>(), 0u64..1000],
            proven_bits in any::<u64>(),
        ) {
            let p = put(n, term_rounds, prepaid_fee);
            let proven: BTreeSet<u8> = (0..n).filter(|i| proven_bits >> i & 1 == 1).collect();
            let mut total: u128 = 0;
            for round in 0..term_rounds {
                let settled = round_payouts(&p, round, &proven).unwrap();
                let paid: u64 = settled.payouts.values().sum();
                prop_assert_eq!(paid + settled.forfeited, settled.budget);
                prop_assert_eq!(settled.budget, round_budget(&p, round).unwrap());
                total += u128::from(settled.budget);
            }
            prop_assert_eq!(total, u128::from(prepaid_fee));
        }
    }
}
