//! The peg section of the ledger: escrows of locked home tokens per (token, side chain), the
//! wrapped tokens this chain's peg minted, the entries it claimed from other chains, and its
//! outbox. BTreeMaps only, so the encoding (and the ledger root) is the same on every node.
//! Changes go through [`PegEffect`] (computed by a check, written by `apply`) and are undone
//! through [`PegUndo`].

use super::action::{ChainId, Direction, OutboxEntry, wrapped_token_id};
use super::error::PegInvariantViolation;
use super::outbox::{Outbox, OutboxUndo};
use crate::core::hash::Hash;
use crate::core::token::{Minter, SupplyRule, TokenId, Tokens};
use std::collections::{BTreeMap, BTreeSet};

/// The escrow of one home token for one side chain. `held = locked − released` always.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Escrow {
    /// Base units the escrow holds now: locked and not yet released.
    pub held: u64,
    /// Base units ever locked for this side chain.
    pub locked: u64,
    /// Base units ever released for burns proven on this side chain.
    pub released: u64,
}

/// A token this chain's peg mints: the wrapped form of `home_token` of `home_chain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wrapped {
    /// The token's home chain.
    pub home_chain: ChainId,
    /// The token on its home chain.
    pub home_token: TokenId,
    /// Base units the peg minted (for proven locks).
    pub minted: u64,
    /// Base units burned by peg burns (each appended an outbox entry home).
    pub burned: u64,
}

/// What a checked peg transaction writes into the peg section (the token section's part is a
/// `TokenEffect` beside it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PegEffect {
    /// An escrow's new state (lock, release).
    pub escrow: Option<((TokenId, ChainId), Escrow)>,
    /// A wrapped token's new counters (mint, burn).
    pub wrapped: Option<(TokenId, Wrapped)>,
    /// An entry claimed (mint, release), as (source chain, entry id).
    pub claim: Option<(ChainId, Hash)>,
    /// An entry appended to the outbox (lock, burn).
    pub append: Option<OutboxEntry>,
}

/// The states to restore on a revert.
#[derive(Clone, Debug, Default)]
pub struct PegUndo {
    escrows: Vec<((TokenId, ChainId), Option<Escrow>)>,
    wrapped: Vec<(TokenId, Option<Wrapped>)>,
    claims: Vec<(ChainId, Hash)>,
    appends: Vec<OutboxUndo>,
}

/// The peg field of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pegs {
    /// This ledger's chain: configuration from genesis, not state (the same on every node of
    /// the chain), so it is not hashed into the root.
    chain: Option<ChainId>,
    escrows: BTreeMap<(TokenId, ChainId), Escrow>,
    wrapped: BTreeMap<TokenId, Wrapped>,
    claimed: BTreeSet<(ChainId, Hash)>,
    outbox: Outbox,
}

impl Pegs {
    /// A peg section for the chain `chain`, with no state.
    pub fn for_chain(chain: ChainId) -> Pegs {
        Pegs { chain: Some(chain), ..Pegs::default() }
    }

    /// This ledger's chain id, if it was given one.
    pub fn chain(&self) -> Option<ChainId> {
        self.chain
    }

    /// True while the peg holds no state (the ledger root then leaves the section out).
    pub fn is_empty(&self) -> bool {
        self.escrows.is_empty()
            && self.wrapped.is_empty()
            && self.claimed.is_empty()
            && self.outbox.is_empty()
    }

    /// The escrow of `token` for `chain` (all zero if nothing was ever locked).
    pub fn escrow(&self, token: &TokenId, chain: &ChainId) -> Escrow {
        self.escrows.get(&(*token, *chain)).copied().unwrap_or_default()
    }

    /// Every escrow, by (home token, side chain).
    pub fn escrows(&self) -> impl Iterator<Item = (&(TokenId, ChainId), &Escrow)> {
        self.escrows.iter()
    }

    /// The wrapped token with this id, if this chain's peg minted it.
    pub fn wrapped(&self, token: &TokenId) -> Option<&Wrapped> {
        self.wrapped.get(token)
    }

    /// Every wrapped token, by id.
    pub fn wrapped_tokens(&self) -> impl Iterator<Item = (&TokenId, &Wrapped)> {
        self.wrapped.iter()
    }

    /// Whether the entry `id` of `source` was claimed here.
    pub fn is_claimed(&self, source: &ChainId, id: &Hash) -> bool {
        self.claimed.contains(&(*source, *id))
    }

    /// Every claim here, as (source chain, entry id), in that order.
    pub fn claims(&self) -> impl ExactSizeIterator<Item = &(ChainId, Hash)> {
        self.claimed.iter()
    }

    /// The ids of every entry claimed here from `source`, in id order.
    pub fn claims_from(&self, source: &ChainId) -> impl Iterator<Item = &Hash> {
        let range = (*source, Hash::ZERO)..=(*source, Hash([0xff; 32]));
        self.claimed.range(range).map(|(_, id)| id)
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// What the escrows hold per token, over all side chains.
    pub fn held_by_token(&self) -> BTreeMap<TokenId, u64> {
        let mut held: BTreeMap<TokenId, u64> = BTreeMap::new();
        for ((token, _), escrow) in &self.escrows {
            let sum = held.entry(*token).or_default();
            *sum = sum.saturating_add(escrow.held);
        }
        held
    }

    /// Commit what a check computed, recording the previous state in `undo`.
    pub fn apply(&mut self, effect: PegEffect, undo: &mut PegUndo) {
        if let Some((key, escrow)) = effect.escrow {
            undo.escrows.push((key, self.escrows.insert(key, escrow)));
        }
        if let Some((token, wrapped)) = effect.wrapped {
            undo.wrapped.push((token, self.wrapped.insert(token, wrapped)));
        }
        if let Some(claim) = effect.claim {
            let fresh = self.claimed.insert(claim);
            debug_assert!(fresh, "a check refuses a claimed entry");
            undo.claims.push(claim);
        }
        if let Some(entry) = effect.append {
            undo.appends.push(self.outbox.append(entry));
        }
    }

    /// Undo every change recorded in `undo`, newest first.
    pub fn revert(&mut self, undo: PegUndo) {
        for appended in undo.appends.into_iter().rev() {
            self.outbox.revert(appended);
        }
        for claim in undo.claims.into_iter().rev() {
            self.claimed.remove(&claim);
        }
        for (token, previous) in undo.wrapped.into_iter().rev() {
            match previous {
                Some(wrapped) => self.wrapped.insert(token, wrapped),
                None => self.wrapped.remove(&token),
            };
        }
        for (key, previous) in undo.escrows.into_iter().rev() {
            match previous {
                Some(escrow) => self.escrows.insert(key, escrow),
                None => self.escrows.remove(&key),
            };
        }
    }

    /// Feed the peg's state other than the outbox into the ledger's main hash (the outbox is
    /// committed beside it, `proof::ledger_root`, so a proof needs only the result).
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/peg/v0");
        let mut buffer = Vec::new();
        buffer.extend_from_slice(&(self.escrows.len() as u64).to_le_bytes());
        for ((token, chain), escrow) in &self.escrows {
            buffer.extend_from_slice(token.as_bytes());
            buffer.extend_from_slice(chain.as_bytes());
            for counter in [escrow.held, escrow.locked, escrow.released] {
                buffer.extend_from_slice(&counter.to_le_bytes());
            }
        }
        buffer.extend_from_slice(&(self.wrapped.len() as u64).to_le_bytes());
        for (token, wrapped) in &self.wrapped {
            buffer.extend_from_slice(token.as_bytes());
            buffer.extend_from_slice(wrapped.home_chain.as_bytes());
            buffer.extend_from_slice(wrapped.home_token.as_bytes());
            buffer.extend_from_slice(&wrapped.minted.to_le_bytes());
            buffer.extend_from_slice(&wrapped.burned.to_le_bytes());
        }
        buffer.extend_from_slice(&(self.claimed.len() as u64).to_le_bytes());
        for (chain, id) in &self.claimed {
            buffer.extend_from_slice(chain.as_bytes());
            buffer.extend_from_slice(id.as_bytes());
        }
        hasher.update(&buffer);
    }

    /// This ledger's half of conservation: every escrow holds its locks minus its releases and
    /// its locks are its outbox's lock entries; every wrapped token's record agrees with the
    /// peg's mints and burns and its burns are its outbox's burn entries; every peg-minted
    /// token is known; and the outbox is consistent. (Per token, balances plus escrow are the
    /// supply: the ledger checks that with `Tokens::check_invariants_holding`.)
    pub fn check_invariants(&self, tokens: &Tokens) -> Result<(), PegInvariantViolation> {
        if let Some(index) = self.outbox.first_inconsistency() {
            return Err(PegInvariantViolation::Outbox { index });
        }
        let mut outbox_locked: BTreeMap<(TokenId, ChainId), u128> = BTreeMap::new();
        let mut outbox_burned: BTreeMap<TokenId, u128> = BTreeMap::new();
        for entry in self.outbox.entries() {
            match entry.direction {
                Direction::Lock => {
                    *outbox_locked.entry((entry.token, entry.dest_chain)).or_default() +=
                        u128::from(entry.amount);
                }
                Direction::Burn => {
                    let wrapped = wrapped_token_id(&entry.dest_chain, &entry.token);
                    *outbox_burned.entry(wrapped).or_default() += u128::from(entry.amount);
                }
            }
        }
        for ((token, chain), escrow) in &self.escrows {
            let in_outbox = outbox_locked.remove(&(*token, *chain)).unwrap_or(0);
            let balanced = escrow.locked.checked_sub(escrow.released) == Some(escrow.held);
            if !balanced || in_outbox != u128::from(escrow.locked) {
                return Err(PegInvariantViolation::Escrow {
                    token: *token,
                    chain: *chain,
                    held: escrow.held,
                    locked: escrow.locked,
                    outbox_locked: in_outbox,
                    released: escrow.released,
                });
            }
        }
        if let Some(((token, chain), outbox_locked)) = outbox_locked.into_iter().next() {
            return Err(PegInvariantViolation::Escrow {
                token,
                chain,
                held: 0,
                locked: 0,
                outbox_locked,
                released: 0,
            });
        }
        for (id, wrapped) in &self.wrapped {
            self.check_wrapped(id, wrapped, tokens, outbox_burned.remove(id).unwrap_or(0))?;
        }
        if let Some((token, _)) = outbox_burned.into_iter().next() {
            return Err(PegInvariantViolation::UnknownWrapped { token });
        }
        if let Some(token) = tokens.iter().find(|token| {
            matches!(token.minter(), Some(Minter::Peg { .. }))
                && !self.wrapped.contains_key(&token.id)
        }) {
            return Err(PegInvariantViolation::UnknownWrapped { token: token.id });
        }
        Ok(())
    }

    fn check_wrapped(
        &self,
        id: &TokenId,
        wrapped: &Wrapped,
        tokens: &Tokens,
        outbox_burned: u128,
    ) -> Result<(), PegInvariantViolation> {
        let expected_minter =
            Minter::Peg { source_chain: wrapped.home_chain, source_token: wrapped.home_token };
        let record = tokens.get(id).filter(|token| {
            token.issued == 0
                && *id == wrapped_token_id(&wrapped.home_chain, &wrapped.home_token)
                && matches!(token.supply, SupplyRule::Mintable { minter, cap: None }
                    if minter == expected_minter)
        });
        let (token_minted, token_burned) =
            record.map_or((0, 0), |token| (token.minted, token.burned));
        let agrees = record.is_some()
            && token_minted == wrapped.minted
            && token_burned == wrapped.burned
            && outbox_burned == u128::from(wrapped.burned);
        if !agrees {
            return Err(PegInvariantViolation::Wrapped {
                token: *id,
                minted: wrapped.minted,
                burned: wrapped.burned,
                outbox_burned,
                token_minted,
                token_burned,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::crypto::AccountId;

    fn lock_entry(token: TokenId, home: ChainId, side: ChainId, amount: u64) -> OutboxEntry {
        OutboxEntry {
            id: Hash::of(&amount.to_le_bytes()),
            direction: Direction::Lock,
            source_chain: home,
            dest_chain: side,
            token,
            amount,
            recipient: AccountId([1u8; 32]),
            name: "Acme".into(),
            symbol: "ACME".into(),
            decimals: 0,
        }
    }

    /// A home peg that locked 10 of `token` for `side`, consistent with itself.
    fn locked() -> (Pegs, TokenId, ChainId) {
        let (home, side) = (Hash::of(b"home"), Hash::of(b"side"));
        let token = TokenId(Hash::of(b"token"));
        let mut pegs = Pegs::for_chain(home);
        let effect = PegEffect {
            escrow: Some(((token, side), Escrow { held: 10, locked: 10, released: 0 })),
            append: Some(lock_entry(token, home, side, 10)),
            ..PegEffect::default()
        };
        pegs.apply(effect, &mut PegUndo::default());
        (pegs, token, side)
    }

    #[test]
    fn an_escrow_off_its_locks_releases_or_outbox_is_reported() {
        let (pegs, token, side) = locked();
        let tokens = Tokens::default();
        assert_eq!(pegs.check_invariants(&tokens), Ok(()));
        let mut short = pegs.clone();
        short.escrows.insert((token, side), Escrow { held: 9, locked: 10, released: 0 });
        assert!(matches!(
            short.check_invariants(&tokens),
            Err(PegInvariantViolation::Escrow { held: 9, locked: 10, .. })
        ));
        let mut unrecorded = pegs.clone();
        unrecorded.escrows.insert((token, side), Escrow { held: 20, locked: 20, released: 0 });
        assert!(matches!(
            unrecorded.check_invariants(&tokens),
            Err(PegInvariantViolation::Escrow { locked: 20, outbox_locked: 10, .. })
        ));
        let mut lost = pegs.clone();
        lost.escrows.clear();
        assert!(matches!(
            lost.check_invariants(&tokens),
            Err(PegInvariantViolation::Escrow { locked: 0, outbox_locked: 10, .. })
        ));
    }

    #[test]
    fn a_wrapped_token_without_its_token_record_is_reported() {
        let (pegs, token, side) = locked();
        let tokens = Tokens::default();
        let mut orphan = pegs.clone();
        let wrapped = wrapped_token_id(&side, &token);
        let counters = Wrapped { home_chain: side, home_token: token, minted: 5, burned: 0 };
        orphan.wrapped.insert(wrapped, counters);
        assert!(matches!(
            orphan.check_invariants(&tokens),
            Err(PegInvariantViolation::Wrapped { minted: 5, token_minted: 0, .. })
        ));
    }
}
