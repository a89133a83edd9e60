//! The two-way peg for business tokens (issue #19, docs/peg.md): a token issued on its home
//! chain moves to another chain (a side chain) and back, with nothing created or lost.
//!
//! Model:
//! - **Lock** (home chain): `PegTx::Lock { token, amount, dest_chain, recipient }` moves `amount`
//!   of the signer's token out of its balance into the escrow for `(token, dest_chain)` and
//!   appends an [`OutboxEntry`] (id [`entry_id`] of this chain, signer and nonce; token, amount,
//!   recipient, destination, and the token's name, symbol and decimals) to this ledger's
//!   outbox, a Merkle tree whose commitment is part of the ledger root.
//! - **Mint** (side chain): `PegTx::Mint { proof }` credits the recipient with the wrapped token
//!   [`wrapped_token_id`]`(home chain, token)`, created at its first mint with the home token's
//!   metadata and `Minter::Peg` as its only mint authority. The [`PegProof`] carries the source
//!   chain, a header of it, the entry, its Merkle path and outbox size, and `rest_root`, the
//!   hash of the rest of that header's ledger state: with peg state, `ledger_root = H(tag,
//!   rest_root, outbox commitment)` ([`proof::ledger_root`]), and ledgers without peg state keep
//!   exactly their old root. The mint applies only if the header is final in this ledger's light
//!   client of the source chain ([`FinalHeaders`]) and the entry is addressed here; each entry
//!   is claimed once (`Replayed` otherwise).
//! - **Burn** (side chain): `PegTx::Burn { wrapped, amount, recipient }` burns wrapped tokens
//!   and appends an entry addressed to the home chain. A plain `TokenTx::Burn` of a wrapped
//!   token is refused: it would strand the escrow behind it.
//! - **Release** (home chain): `PegTx::Release { proof }` pays the recipient from the escrow for
//!   the side chain, under the same proof rules.
//! - **Conservation.** One ledger: every escrow holds `locked − released` and its locks are
//!   its outbox's lock entries; every wrapped token's supply is `minted − burned` by the peg and
//!   its burns are its outbox's burn entries; per token, balances plus escrow are the supply
//!   ([`Pegs::check_invariants`], part of `Ledger::check_invariants`). Across a home ledger H
//!   and a side ledger S, per token T: `escrow_H(T, S) = minted_S(T) − burned_S(T) + locks of T
//!   in H's outbox for S not claimed on S + burns of T in S's outbox for H not claimed on H`
//!   ([`conservation`]).
//! - All of this is one field of the ledger ([`Pegs`]), changed only through a check then
//!   `apply`, reverted through [`PegUndo`]. A lock of a wrapped token is refused (one hop: a
//!   wrapped token goes home by a burn).

pub mod action;
pub mod conservation;
pub mod error;
pub mod outbox;
pub mod proof;
pub mod state;

pub use action::{ChainId, Direction, OutboxEntry, PegProof, PegTx, entry_id, wrapped_token_id};
pub use conservation::conservation;
pub use error::{PegError, PegInvariantViolation, PegMismatch};
pub use outbox::Outbox;
pub use proof::{FinalHeaderSet, FinalHeaders, NoFinalHeaders};
pub use state::{Escrow, PegEffect, PegUndo, Pegs, Wrapped};

use crate::core::crypto::AccountId;
use crate::core::token::{
    MintAuthority, Minter, SupplyRule, Token, TokenEffect, TokenError, TokenId, Tokens,
};

/// What a checked peg transaction writes: the token section's part and the peg's.
pub type PegWrites = (TokenEffect, PegEffect);

impl Pegs {
    /// Would `tx`, signed by `from` with `nonce`, apply now? Returns what it would write.
    /// `tokens` is the ledger's token section, `headers` its light client's final headers.
    pub fn check(
        &self,
        tx: &PegTx,
        from: &AccountId,
        nonce: u64,
        tokens: &Tokens,
        headers: &dyn FinalHeaders,
    ) -> Result<PegWrites, PegError> {
        let local = self.chain().ok_or(PegError::NoChainId)?;
        match tx {
            PegTx::Lock { token, amount, dest_chain, recipient } => {
                let existing = tokens.existing(token)?;
                if let Some(Minter::Peg { .. }) = existing.minter() {
                    return Err(PegError::WrappedLock { token: *token });
                }
                if *amount == 0 {
                    return Err(TokenError::ZeroAmount.into());
                }
                if *dest_chain == local {
                    return Err(PegError::LocalDestination { chain: local });
                }
                let balance = tokens.debited(token, from, *amount)?;
                let mut escrow = self.escrow(token, dest_chain);
                let overflow = PegError::EscrowOverflow { token: *token, chain: *dest_chain };
                escrow.held = escrow.held.checked_add(*amount).ok_or(overflow.clone())?;
                escrow.locked = escrow.locked.checked_add(*amount).ok_or(overflow)?;
                let entry = self.entry(Direction::Lock, from, nonce, existing, *dest_chain)?;
                let entry =
                    OutboxEntry { token: *token, amount: *amount, recipient: *recipient, ..entry };
                let tokens = TokenEffect { token: None, balances: vec![(*token, *from, balance)] };
                let peg = PegEffect {
                    escrow: Some(((*token, *dest_chain), escrow)),
                    append: Some(entry),
                    ..PegEffect::default()
                };
                Ok((tokens, peg))
            }
            PegTx::Mint { proof } => {
                let entry = self.claimable(proof, &local, Direction::Lock, headers)?;
                let id = wrapped_token_id(&entry.source_chain, &entry.token);
                let writes = match tokens.get(&id) {
                    Some(_) => tokens.check_mint(
                        &id,
                        &entry.recipient,
                        entry.amount,
                        MintAuthority::Peg,
                    )?,
                    None => first_mint(tokens, id, entry)?,
                };
                let mut wrapped = self.wrapped(&id).copied().unwrap_or(Wrapped {
                    home_chain: entry.source_chain,
                    home_token: entry.token,
                    minted: 0,
                    burned: 0,
                });
                // check_mint or first_mint proved the token's minted counter has room.
                wrapped.minted = wrapped.minted.saturating_add(entry.amount);
                let peg = PegEffect {
                    wrapped: Some((id, wrapped)),
                    claim: Some((entry.source_chain, entry.id)),
                    ..PegEffect::default()
                };
                Ok((writes, peg))
            }
            PegTx::Burn { wrapped, amount, recipient } => {
                let existing = tokens.existing(wrapped)?;
                let mut counters =
                    *self.wrapped(wrapped).ok_or(PegError::NotWrapped { token: *wrapped })?;
                if *amount == 0 {
                    return Err(TokenError::ZeroAmount.into());
                }
                let balance = tokens.debited(wrapped, from, *amount)?;
                let mut next = existing.clone();
                // The burn is at most a balance, and balances sum to minted − burned.
                next.burned += amount;
                counters.burned += amount;
                let entry =
                    self.entry(Direction::Burn, from, nonce, existing, counters.home_chain)?;
                let entry = OutboxEntry {
                    token: counters.home_token,
                    amount: *amount,
                    recipient: *recipient,
                    ..entry
                };
                let tokens =
                    TokenEffect { token: Some(next), balances: vec![(*wrapped, *from, balance)] };
                let peg = PegEffect {
                    wrapped: Some((*wrapped, counters)),
                    append: Some(entry),
                    ..PegEffect::default()
                };
                Ok((tokens, peg))
            }
            PegTx::Release { proof } => {
                let entry = self.claimable(proof, &local, Direction::Burn, headers)?;
                let key = (entry.token, entry.source_chain);
                let mut escrow = self.escrow(&entry.token, &entry.source_chain);
                escrow.held =
                    escrow.held.checked_sub(entry.amount).ok_or(PegError::EscrowShort {
                        token: entry.token,
                        chain: entry.source_chain,
                        held: escrow.held,
                        amount: entry.amount,
                    })?;
                // held ≤ locked − released, so this cannot overflow.
                escrow.released += entry.amount;
                tokens.existing(&entry.token)?;
                let balance = tokens.credited(&entry.token, &entry.recipient, entry.amount)?;
                let tokens = TokenEffect {
                    token: None,
                    balances: vec![(entry.token, entry.recipient, balance)],
                };
                let peg = PegEffect {
                    escrow: Some((key, escrow)),
                    claim: Some((entry.source_chain, entry.id)),
                    ..PegEffect::default()
                };
                Ok((tokens, peg))
            }
        }
    }

    /// The entry of `proof`, if it is a `direction` entry proven final and not yet claimed.
    fn claimable<'a>(
        &self,
        proof: &'a PegProof,
        local: &ChainId,
        direction: Direction,
        headers: &dyn FinalHeaders,
    ) -> Result<&'a OutboxEntry, PegError> {
        let entry = &proof.entry;
        if entry.direction != direction {
            return Err(PegError::WrongDirection { expected: direction, got: entry.direction });
        }
        proof::verify(proof, local, headers)?;
        if self.is_claimed(&entry.source_chain, &entry.id) {
            return Err(PegError::Replayed { chain: entry.source_chain, entry: entry.id });
        }
        Ok(entry)
    }

    /// An entry of this chain's transaction `(from, nonce)` for `token`'s metadata; the caller
    /// fills in token, amount and recipient.
    fn entry(
        &self,
        direction: Direction,
        from: &AccountId,
        nonce: u64,
        token: &Token,
        dest_chain: ChainId,
    ) -> Result<OutboxEntry, PegError> {
        let local = self.chain().ok_or(PegError::NoChainId)?;
        if !self.outbox().has_room() {
            return Err(PegError::OutboxFull);
        }
        Ok(OutboxEntry {
            id: entry_id(&local, from, nonce),
            direction,
            source_chain: local,
            dest_chain,
            token: token.id,
            amount: 0,
            recipient: *from,
            name: token.name.clone(),
            symbol: token.symbol.clone(),
            decimals: token.decimals,
        })
    }
}

/// The first mint of a wrapped token: the token record, created with the home token's metadata
/// and the peg as its only minter, and the recipient's balance.
fn first_mint(
    tokens: &Tokens,
    id: TokenId,
    entry: &OutboxEntry,
) -> Result<TokenEffect, TokenError> {
    let prefix = crate::core::token::id_prefix_of(&id.erc20_address()).unwrap_or_default();
    if let Some(existing) = tokens.by_address_prefix(&prefix) {
        return Err(TokenError::AddressTaken { token: id, existing: existing.id });
    }
    if entry.amount == 0 {
        return Err(TokenError::ZeroAmount);
    }
    let token = Token {
        id,
        name: entry.name.clone(),
        symbol: entry.symbol.clone(),
        decimals: entry.decimals,
        // No account issued it; the issuer of a peg-minted token has no power over it.
        issuer: AccountId([0u8; 32]),
        supply: SupplyRule::Mintable {
            minter: Minter::Peg { source_chain: entry.source_chain, source_token: entry.token },
            cap: None,
        },
        issued: 0,
        minted: entry.amount,
        burned: 0,
    };
    Ok(TokenEffect { token: Some(token), balances: vec![(id, entry.recipient, entry.amount)] })
}

#[cfg(test)]
mod e2e_tests;
#[cfg(test)]
mod tests;
