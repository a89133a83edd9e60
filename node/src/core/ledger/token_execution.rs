//! The ledger's side of business tokens (docs/tokens.md): the token section, and a consortium
//! transaction whose passed proposal mints a token. The rules are in `core::token`; the quorum
//! is the consortium's own (`Consortia::passed_change`).

use super::{Effect, Ledger, LedgerError};
use crate::core::consortium::{ConsortiumTx, PermissionChange};
use crate::core::crypto::AccountId;
use crate::core::token::{MintAuthority, Tokens};

impl Ledger {
    /// Business tokens and their balances.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// A consortium transaction's effect, with the mint of a `MintToken` proposal it passes.
    /// A mint proposal is also checked when it is made (as the consortium checks any change
    /// that could not apply now), so a proposal no quorum could pass holds no slot.
    pub(super) fn check_consortium(
        &self,
        tx: &ConsortiumTx,
        from: &AccountId,
        nonce: u64,
        checkpoint: Option<u64>,
    ) -> Result<Effect, LedgerError> {
        let effect = self
            .consortia
            .check_at(tx, from, nonce, checkpoint)
            .map_err(LedgerError::Consortium)?;
        let mint_of = |consortium, change: &PermissionChange| match change {
            PermissionChange::MintToken { token, to, amount } => self
                .tokens
                .check_mint(token, to, *amount, MintAuthority::Consortium(consortium))
                .map(Some)
                .map_err(LedgerError::Token),
            _ => Ok(None),
        };
        if let ConsortiumTx::Propose { consortium, change } = tx {
            mint_of(*consortium, change)?;
        }
        let mint = match (tx, self.consortia.passed_change(tx, from, nonce, &effect)) {
            (
                ConsortiumTx::Propose { consortium, .. } | ConsortiumTx::Approve { consortium, .. },
                Some(change),
            ) => mint_of(*consortium, change)?,
            _ => None,
        };
        Ok(Effect::Consortium(effect, mint))
    }
}
