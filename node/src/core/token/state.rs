//! The token section of the ledger: every token's metadata and supply counters, and every
//! non-zero balance. BTreeMaps only, so the canonical encoding (and the ledger root) is the same
//! on every node. Changes go through [`TokenEffect`] (computed by a check, written by `apply`)
//! and are undone through [`TokenUndo`].

use super::action::{IssueToken, Minter, SupplyRule};
use super::error::TokenError;
use super::ids::{ERC20_ADDRESS_ID_BYTES, TokenId};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::wire;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One token: what it is and how much of it exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// `token_id` of the issuer and the nonce of its issue transaction.
    pub id: TokenId,
    /// Display name, from the issue.
    pub name: String,
    /// Ticker symbol, from the issue.
    pub symbol: String,
    /// Decimal places wallets show (a base unit is 10^-decimals tokens).
    pub decimals: u8,
    /// The account that signed the issue; the minter when `Minter::Issuer`.
    pub issuer: AccountId,
    /// Whether, and by whom, supply can be minted.
    pub supply: SupplyRule,
    /// The initial supply, credited to the issuer.
    pub issued: u64,
    /// Base units minted since issue.
    pub minted: u64,
    /// Base units burned since issue.
    pub burned: u64,
}

impl Token {
    /// The token an issue creates, with its initial supply as `issued` and nothing minted or
    /// burned yet.
    pub fn from_issue(issue: &IssueToken, id: TokenId, issuer: AccountId) -> Token {
        Token {
            id,
            name: issue.name.clone(),
            symbol: issue.symbol.clone(),
            decimals: issue.decimals,
            issuer,
            supply: issue.supply,
            issued: issue.initial_supply,
            minted: 0,
            burned: 0,
        }
    }

    /// `issued + minted − burned`: what the balances of this token sum to.
    pub fn total_supply(&self) -> u64 {
        // Checks keep issued + minted within u64 and burned within it.
        self.issued.saturating_add(self.minted).saturating_sub(self.burned)
    }

    /// The minter, if the token is mintable.
    pub fn minter(&self) -> Option<Minter> {
        match self.supply {
            SupplyRule::Fixed => None,
            SupplyRule::Mintable { minter, .. } => Some(minter),
        }
    }
}

/// Who asks to mint: an account signing `TokenTx::Mint`, or a consortium whose proposal passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintAuthority {
    /// An account signing `TokenTx::Mint`.
    Account(AccountId),
    /// A consortium (by id) whose `PermissionChange::MintToken` proposal reached its quorum.
    Consortium(Hash),
    /// The peg, for a lock proven final on the token's home chain (core/peg).
    Peg,
}

/// What a checked token transaction will write: a token's new state and new balances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenEffect {
    /// The token's new state (issue, mint, burn); `None` when only balances change.
    pub token: Option<Token>,
    /// New balances, as (token, account, base units); a zero balance is removed.
    pub balances: Vec<(TokenId, AccountId, u64)>,
}

/// The states to restore on a revert.
#[derive(Clone, Debug, Default)]
pub struct TokenUndo {
    tokens: Vec<(TokenId, Option<Token>)>,
    balances: Vec<((TokenId, AccountId), Option<u64>)>,
}

/// A token whose balances do not sum to its supply: a bug, never an input error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "token {token}: balances sum to {balances}, supply is {supply} (issued {issued} + minted {minted} - burned {burned})"
)]
pub struct TokenSupplyMismatch {
    /// Id of the token whose balances and counters disagree.
    pub token: TokenId,
    /// Sum of its balances (plus what the peg escrows of it), in base units.
    pub balances: i128,
    /// `issued + minted - burned`, in base units.
    pub supply: i128,
    /// Base units issued at creation (the initial supply).
    pub issued: u64,
    /// Base units minted.
    pub minted: u64,
    /// Base units burned.
    pub burned: u64,
}

/// Every token and every non-zero balance: the token field of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    tokens: BTreeMap<TokenId, Token>,
    /// Non-zero balances only: a zero balance is absent, so equal states encode equally.
    balances: BTreeMap<(TokenId, AccountId), u64>,
}

impl Tokens {
    /// True while no token was issued (the ledger root then leaves the section out).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token with this id, if issued.
    pub fn get(&self, token: &TokenId) -> Option<&Token> {
        self.tokens.get(token)
    }

    /// Every token, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Token> {
        self.tokens.values()
    }

    /// Number of tokens issued.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// `account`'s balance of `token` in base units; 0 if it holds none.
    pub fn balance(&self, token: &TokenId, account: &AccountId) -> u64 {
        self.balances.get(&(*token, *account)).copied().unwrap_or(0)
    }

    /// Every holder of `token` and its balance, in account order.
    pub fn holders(&self, token: &TokenId) -> impl Iterator<Item = (&AccountId, u64)> {
        let low = (*token, AccountId([0u8; 32]));
        let high = (*token, AccountId([0xff; 32]));
        self.balances.range(low..=high).map(|((_, account), balance)| (account, *balance))
    }

    /// The token whose ERC-20 address carries `prefix` (the first 16 bytes of its id).
    pub fn by_address_prefix(&self, prefix: &[u8; ERC20_ADDRESS_ID_BYTES]) -> Option<&Token> {
        let mut low = [0u8; 32];
        low[..ERC20_ADDRESS_ID_BYTES].copy_from_slice(prefix);
        let mut high = [0xffu8; 32];
        high[..ERC20_ADDRESS_ID_BYTES].copy_from_slice(prefix);
        self.tokens.range(TokenId(Hash(low))..=TokenId(Hash(high))).map(|(_, token)| token).next()
    }

    /// The token with this id, or `UnknownToken`.
    pub fn existing(&self, token: &TokenId) -> Result<&Token, TokenError> {
        self.tokens.get(token).ok_or(TokenError::UnknownToken { token: *token })
    }

    /// The balance `account` would hold after receiving `amount`.
    pub fn credited(
        &self,
        token: &TokenId,
        account: &AccountId,
        amount: u64,
    ) -> Result<u64, TokenError> {
        self.balance(token, account)
            .checked_add(amount)
            .ok_or(TokenError::BalanceOverflow { token: *token, account: *account })
    }

    /// The balance `account` would hold after paying `amount`.
    pub fn debited(
        &self,
        token: &TokenId,
        account: &AccountId,
        amount: u64,
    ) -> Result<u64, TokenError> {
        let balance = self.balance(token, account);
        balance.checked_sub(amount).ok_or(TokenError::InsufficientBalance {
            token: *token,
            account: *account,
            balance,
            needed: amount,
        })
    }

    /// A mint of `amount` of `token` for `to`, asked by `authority`.
    pub fn check_mint(
        &self,
        token: &TokenId,
        to: &AccountId,
        amount: u64,
        authority: MintAuthority,
    ) -> Result<TokenEffect, TokenError> {
        let existing = self.existing(token)?;
        let (minter, cap) = match existing.supply {
            SupplyRule::Fixed => return Err(TokenError::FixedSupply { token: *token }),
            SupplyRule::Mintable { minter, cap } => (minter, cap),
        };
        match (minter, authority) {
            (Minter::Issuer, MintAuthority::Account(account)) if account == existing.issuer => {}
            (Minter::Consortium(allowed), MintAuthority::Consortium(asking))
                if allowed == asking => {}
            (Minter::Peg { .. }, MintAuthority::Peg) => {}
            (_, MintAuthority::Account(account)) => {
                return Err(TokenError::NotMinter { token: *token, account });
            }
            (_, MintAuthority::Consortium(consortium)) => {
                return Err(TokenError::NotMinterConsortium { token: *token, consortium });
            }
            (_, MintAuthority::Peg) => return Err(TokenError::NotPegMinted { token: *token }),
        }
        if amount == 0 {
            return Err(TokenError::ZeroAmount);
        }
        let supply = existing.total_supply();
        let created = existing.issued.saturating_add(existing.minted);
        let ever = created.checked_add(amount).ok_or(TokenError::SupplyOverflow {
            token: *token,
            amount,
            supply,
        })?;
        if let Some(cap) = cap
            && ever > cap
        {
            return Err(TokenError::OverCap { token: *token, amount, supply, cap });
        }
        let balance = self.credited(token, to, amount)?;
        let mut next = existing.clone();
        next.minted += amount;
        Ok(TokenEffect { token: Some(next), balances: vec![(*token, *to, balance)] })
    }

    /// Commit what a check computed, recording the previous state in `undo`.
    pub fn apply(&mut self, effect: TokenEffect, undo: &mut TokenUndo) {
        if let Some(token) = effect.token {
            undo.tokens.push((token.id, self.tokens.insert(token.id, token)));
        }
        for (token, account, balance) in effect.balances {
            self.set_balance(token, account, balance, undo);
        }
    }

    /// Write one balance (zero removes it), recording the previous value in `undo`.
    pub fn set_balance(
        &mut self,
        token: TokenId,
        account: AccountId,
        balance: u64,
        undo: &mut TokenUndo,
    ) {
        let key = (token, account);
        let previous = if balance == 0 {
            self.balances.remove(&key)
        } else {
            self.balances.insert(key, balance)
        };
        undo.balances.push((key, previous));
    }

    /// Undo every change recorded in `undo`, newest first.
    pub fn revert(&mut self, undo: TokenUndo) {
        for (key, previous) in undo.balances.into_iter().rev() {
            match previous {
                Some(balance) => self.balances.insert(key, balance),
                None => self.balances.remove(&key),
            };
        }
        for (id, previous) in undo.tokens.into_iter().rev() {
            match previous {
                Some(token) => self.tokens.insert(id, token),
                None => self.tokens.remove(&id),
            };
        }
    }

    /// Feed the token section of the ledger root: a domain tag, then each token's canonical
    /// encoding in id order, then every balance in (token, account) order.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/tokens/v0");
        hasher.update(&(self.tokens.len() as u64).to_le_bytes());
        for token in self.tokens.values() {
            // Encoding a struct of strings and integers cannot fail; an error would be a bug,
            // and hashing a marker keeps the root a function of the state.
            let bytes = wire::encode_body(token, "token").unwrap_or_default();
            debug_assert!(!bytes.is_empty());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        hasher.update(&(self.balances.len() as u64).to_le_bytes());
        for ((token, account), balance) in &self.balances {
            hasher.update(token.as_bytes());
            hasher.update(account.as_bytes());
            hasher.update(&balance.to_le_bytes());
        }
    }

    /// For every token: its balances sum to `issued + minted − burned`, and no balance names a
    /// token that does not exist.
    pub fn check_invariants(&self) -> Result<(), TokenSupplyMismatch> {
        self.check_invariants_holding(&BTreeMap::new())
    }

    /// As [`Tokens::check_invariants`], with `held` (per token) counted beside the balances:
    /// what the peg's escrows hold exists but is in no balance.
    pub fn check_invariants_holding(
        &self,
        held: &BTreeMap<TokenId, u64>,
    ) -> Result<(), TokenSupplyMismatch> {
        let mut sums: BTreeMap<TokenId, i128> =
            held.iter().map(|(token, amount)| (*token, i128::from(*amount))).collect();
        for ((token, _), balance) in &self.balances {
            *sums.entry(*token).or_default() += i128::from(*balance);
        }
        for token in self.tokens.values() {
            let balances = sums.remove(&token.id).unwrap_or(0);
            // Signed: a burn beyond what was created is reported, not an underflow.
            let supply =
                i128::from(token.issued) + i128::from(token.minted) - i128::from(token.burned);
            if balances != supply {
                return Err(TokenSupplyMismatch {
                    token: token.id,
                    balances,
                    supply,
                    issued: token.issued,
                    minted: token.minted,
                    burned: token.burned,
                });
            }
        }
        if let Some((token, balances)) = sums.into_iter().next() {
            return Err(TokenSupplyMismatch {
                token,
                balances,
                supply: 0,
                issued: 0,
                minted: 0,
                burned: 0,
            });
        }
        Ok(())
    }
}
