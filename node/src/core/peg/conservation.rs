//! Conservation across two chains: what the home chain's escrow holds for a side chain is
//! exactly what is outstanding there or on its way.
//!
//! For a token T of the home chain H and a side chain S, with `escrow = locked − released` on
//! H, `minted` and `burned` the side peg's counters of T's wrapped token on S:
//!
//! ```text
//! escrow_H(T, S) = minted_S − burned_S + locks_in_flight + burns_in_flight
//! ```
//!
//! where `locks_in_flight` are T's lock entries in H's outbox addressed to S that S has not
//! claimed (locked, not yet minted) and `burns_in_flight` are T's burn entries in S's outbox
//! addressed to H that H has not claimed (burned, not yet released). It follows from the
//! single-ledger invariants (`locked` is the sum of H's lock entries, `released` the sum of the
//! burns H claimed, `minted` the sum of the locks S claimed, `burned` the sum of S's burn
//! entries) as long as each chain claimed only entries the other's outbox holds, which this
//! also checks. Compare two ledgers where each is at or past every header the other claimed
//! from (two nodes' final states qualify); the simulator calls it.

use super::action::{ChainId, Direction, wrapped_token_id};
use super::error::PegMismatch;
use super::state::Pegs;
use crate::core::token::TokenId;
use std::collections::{BTreeMap, BTreeSet};

/// Check conservation of every token pegged from `home` to `side` (see the module comment).
/// Sections without a chain id hold nothing pegged: they conserve trivially.
pub fn conservation(home: &Pegs, side: &Pegs) -> Result<(), PegMismatch> {
    let (Some(home_chain), Some(side_chain)) = (home.chain(), side.chain()) else {
        return Ok(());
    };
    claims_exist(side, home, &side_chain, &home_chain)?;
    claims_exist(home, side, &home_chain, &side_chain)?;
    let mut locks_in_flight: BTreeMap<TokenId, u128> = BTreeMap::new();
    for entry in home.outbox().entries() {
        if entry.direction == Direction::Lock
            && entry.dest_chain == side_chain
            && !side.is_claimed(&home_chain, &entry.id)
        {
            *locks_in_flight.entry(entry.token).or_default() += u128::from(entry.amount);
        }
    }
    let mut burns_in_flight: BTreeMap<TokenId, u128> = BTreeMap::new();
    for entry in side.outbox().entries() {
        if entry.direction == Direction::Burn
            && entry.dest_chain == home_chain
            && !home.is_claimed(&side_chain, &entry.id)
        {
            *burns_in_flight.entry(entry.token).or_default() += u128::from(entry.amount);
        }
    }
    let mut tokens: BTreeSet<TokenId> = home
        .escrows()
        .filter(|((_, chain), _)| *chain == side_chain)
        .map(|((token, _), _)| *token)
        .collect();
    tokens.extend(
        side.wrapped_tokens()
            .filter(|(_, wrapped)| wrapped.home_chain == home_chain)
            .map(|(_, wrapped)| wrapped.home_token),
    );
    tokens.extend(locks_in_flight.keys().chain(burns_in_flight.keys()).copied());
    for token in tokens {
        let escrow = home.escrow(&token, &side_chain).held;
        let wrapped = side.wrapped(&wrapped_token_id(&home_chain, &token));
        let (minted, burned) = wrapped.map_or((0, 0), |w| (w.minted, w.burned));
        let locks = locks_in_flight.get(&token).copied().unwrap_or(0);
        let burns = burns_in_flight.get(&token).copied().unwrap_or(0);
        let outstanding = i128::from(minted) - i128::from(burned);
        // u128 sums of u64 amounts over at most u32::MAX entries each fit an i128.
        let expected = outstanding + locks as i128 + burns as i128;
        if i128::from(escrow) != expected {
            return Err(PegMismatch::Unbalanced {
                token,
                escrow,
                minted,
                burned,
                locks_in_flight: locks,
                burns_in_flight: burns,
            });
        }
    }
    Ok(())
}

/// Every entry `claimer` claimed from `source_chain` is in `source`'s outbox.
fn claims_exist(
    claimer: &Pegs,
    source: &Pegs,
    claimer_chain: &ChainId,
    source_chain: &ChainId,
) -> Result<(), PegMismatch> {
    let appended: BTreeSet<_> = source.outbox().entries().iter().map(|entry| entry.id).collect();
    match claimer.claims_from(source_chain).find(|id| !appended.contains(id)) {
        Some(entry) => Err(PegMismatch::ClaimWithoutEntry {
            claimed_on: *claimer_chain,
            source_chain: *source_chain,
            entry: *entry,
        }),
        None => Ok(()),
    }
}
