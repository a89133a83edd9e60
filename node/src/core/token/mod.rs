//! Business tokens (issue #19, docs/tokens.md): tokens a business issues on the ledger, moved
//! by ordinary signed transactions and seen by contracts and wallets as ERC-20s.
//!
//! Model:
//! - An issue names a token (name, symbol, decimals) and its supply rule: fixed, or mintable by
//!   the issuer or by a consortium's quorum, with an optional cap on all ever created. Its id is
//!   derived from the issuing transaction's spend key ([`token_id`]), and its whole initial
//!   supply is credited to the issuer.
//! - Transfer, burn and mint are `TokenTx`s carried by `TxKind::Token`; the carrier's `fee` is
//!   paid in the native token, as for every transaction. A consortium mints through its own
//!   proposal rules: a `PermissionChange::MintToken` applies in the transaction that brings its
//!   approvals to the quorum; this module only checks the mint itself ([`Tokens::check_mint`]).
//! - Per token, the balances sum to `issued + minted − burned` ([`Tokens::check_invariants`]),
//!   checked with the ledger's own invariants in tests and in every simulated run.
//! - All of this state is one field of the ledger ([`Tokens`]), changed only through a check
//!   then [`Tokens::apply`], reverted through [`TokenUndo`], and hashed into the ledger root
//!   when non-empty (`hash_into`), so ledgers without tokens keep their roots.
//! - The ERC-20 view (core/evm/erc20.rs) reads and writes the same balances; its address is
//!   [`TokenId::erc20_address`].

pub mod action;
pub mod error;
pub mod ids;
pub mod state;

pub use action::{IssueToken, Minter, SupplyRule, TokenTx};
pub use error::TokenError;
pub use ids::{ERC20_ADDRESS_PREFIX, TokenId, id_prefix_of, token_id};
pub use state::{MintAuthority, Token, TokenEffect, TokenSupplyMismatch, TokenUndo, Tokens};

use crate::core::consortium::Consortia;
use crate::core::crypto::AccountId;

impl Tokens {
    /// Would `tx`, signed by `from` with `nonce`, apply now? Returns what it would write.
    /// `consortia` answers whether a minting consortium exists and who its parties are.
    pub fn check(
        &self,
        tx: &TokenTx,
        from: &AccountId,
        nonce: u64,
        consortia: &Consortia,
    ) -> Result<TokenEffect, TokenError> {
        match tx {
            TokenTx::Issue(issue) => {
                issue.validate()?;
                let id = token_id(from, nonce);
                if self.get(&id).is_some() {
                    return Err(TokenError::TokenExists { token: id });
                }
                let prefix = id_prefix_of(&id.erc20_address()).unwrap_or_default();
                if let Some(existing) = self.by_address_prefix(&prefix) {
                    return Err(TokenError::AddressTaken { token: id, existing: existing.id });
                }
                if let SupplyRule::Mintable { minter: Minter::Consortium(consortium), .. } =
                    issue.supply
                {
                    let found = consortia
                        .get(&consortium)
                        .ok_or(TokenError::UnknownConsortium { consortium })?;
                    if !found.parties.contains(from) {
                        return Err(TokenError::NotAParty { consortium, account: *from });
                    }
                }
                let token = Token::from_issue(issue, id, *from);
                let balances = vec![(id, *from, issue.initial_supply)];
                Ok(TokenEffect { token: Some(token), balances })
            }
            TokenTx::Transfer { token, to, amount } => {
                self.existing(token)?;
                if *amount == 0 {
                    return Err(TokenError::ZeroAmount);
                }
                if to == from {
                    return Err(TokenError::SelfTransfer);
                }
                let sender = self.debited(token, from, *amount)?;
                let recipient = self.credited(token, to, *amount)?;
                Ok(TokenEffect {
                    token: None,
                    balances: vec![(*token, *from, sender), (*token, *to, recipient)],
                })
            }
            TokenTx::Burn { token, amount } => {
                let mut next = self.existing(token)?.clone();
                if let Some(Minter::Peg { .. }) = next.minter() {
                    return Err(TokenError::PegBurnOnly { token: *token });
                }
                if *amount == 0 {
                    return Err(TokenError::ZeroAmount);
                }
                let balance = self.debited(token, from, *amount)?;
                // The burn is at most a balance, and balances sum to issued + minted − burned.
                next.burned += amount;
                Ok(TokenEffect { token: Some(next), balances: vec![(*token, *from, balance)] })
            }
            TokenTx::Mint { token, to, amount } => {
                self.check_mint(token, to, *amount, MintAuthority::Account(*from))
            }
        }
    }
}

#[cfg(test)]
mod tests;
