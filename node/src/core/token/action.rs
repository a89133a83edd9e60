//! What a token transaction asks for (the payload of `TxKind::Token`), and the checks an issue
//! needs before any state is read: name, symbol, decimals, supply rule and minter.

use super::error::TokenError;
use super::ids::TokenId;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};

/// Longest token name, in bytes.
pub const NAME_BYTES_MAX: usize = 64;
/// Longest symbol, in characters (ASCII).
pub const SYMBOL_CHARS_MAX: usize = 11;
/// Most decimals: ERC-20 wallets assume 18 at most.
pub const DECIMALS_MAX: u8 = 18;

/// Who may mint a mintable token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Minter {
    /// The issuing account, with a `TokenTx::Mint` it signs.
    Issuer,
    /// A consortium's quorum: a `PermissionChange::MintToken` proposal that reaches the
    /// consortium's m of n approvals mints (the consortium's own proposal rules).
    Consortium(Hash),
    /// The two-way peg (core/peg): the token is the wrapped form of `source_token` of the
    /// chain `source_chain`, minted only for a lock proven final there and burned only by a
    /// peg burn. Never chosen by an issue: the peg creates the token at its first mint.
    Peg {
        /// The home chain's genesis id (`peg::ChainId`).
        source_chain: Hash,
        /// The token on its home chain.
        source_token: TokenId,
    },
}

/// Whether the supply can grow after issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SupplyRule {
    /// The initial supply is all there will ever be (it can only shrink, by burns).
    Fixed,
    /// The minter may add supply, up to `cap` ever issued plus minted when there is one.
    Mintable {
        /// Who may mint.
        minter: Minter,
        /// Most base units ever created (issued plus minted; burns do not free room), or
        /// `None` for no cap.
        cap: Option<u64>,
    },
}

/// An issue: the whole initial supply is credited to the issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueToken {
    /// Display name: 1..=`NAME_BYTES_MAX` bytes, no control characters, no outer spaces.
    pub name: String,
    /// Ticker: 1..=`SYMBOL_CHARS_MAX` ASCII capital letters or digits.
    pub symbol: String,
    /// Decimal places wallets show: an amount of 1 base unit is 10^-decimals tokens
    /// (at most `DECIMALS_MAX`).
    pub decimals: u8,
    /// Base units credited to the issuer at issue; positive for a fixed supply, at most the cap
    /// of a capped one.
    pub initial_supply: u64,
    /// Whether, and by whom, supply can be minted later.
    pub supply: SupplyRule,
}

/// A token transaction. Fees are the carrier's, in the native token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenTx {
    /// Issue a new token; its id is `token_id(signer, nonce)`.
    Issue(IssueToken),
    /// Move `amount` of `token` from the signer to `to`.
    Transfer {
        /// The token moved.
        token: TokenId,
        /// The recipient; not the signer.
        to: AccountId,
        /// Base units moved; positive.
        amount: u64,
    },
    /// Destroy `amount` of the signer's `token`: the supply shrinks.
    Burn {
        /// The token burned.
        token: TokenId,
        /// Base units destroyed from the signer's balance; positive.
        amount: u64,
    },
    /// Create `amount` of `token` for `to`; only the issuer of a token minted by its issuer.
    Mint {
        /// The token minted.
        token: TokenId,
        /// The account credited.
        to: AccountId,
        /// Base units created; positive, and within the cap if there is one.
        amount: u64,
    },
}

impl TokenTx {
    /// The token this transaction acts on (`None` for an issue, whose id comes from the spend
    /// key).
    pub fn token(&self) -> Option<TokenId> {
        match self {
            TokenTx::Issue(_) => None,
            TokenTx::Transfer { token, .. }
            | TokenTx::Burn { token, .. }
            | TokenTx::Mint { token, .. } => Some(*token),
        }
    }
}

impl IssueToken {
    /// The checks that need no state.
    pub fn validate(&self) -> Result<(), TokenError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= NAME_BYTES_MAX
            && !self.name.chars().any(char::is_control)
            && self.name.trim() == self.name;
        if !name_ok {
            return Err(TokenError::BadName { name: self.name.clone(), limit: NAME_BYTES_MAX });
        }
        let symbol_ok = !self.symbol.is_empty()
            && self.symbol.len() <= SYMBOL_CHARS_MAX
            && self.symbol.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !symbol_ok {
            return Err(TokenError::BadSymbol {
                symbol: self.symbol.clone(),
                limit: SYMBOL_CHARS_MAX,
            });
        }
        if self.decimals > DECIMALS_MAX {
            return Err(TokenError::BadDecimals { decimals: self.decimals, limit: DECIMALS_MAX });
        }
        match self.supply {
            SupplyRule::Fixed if self.initial_supply == 0 => Err(TokenError::EmptyFixedSupply),
            SupplyRule::Mintable { cap: Some(cap), .. } if self.initial_supply > cap => {
                Err(TokenError::InitialOverCap { initial: self.initial_supply, cap })
            }
            SupplyRule::Mintable { minter: Minter::Peg { .. }, .. } => {
                Err(TokenError::PegMinterAtIssue)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue() -> IssueToken {
        IssueToken {
            name: "Acme Points".into(),
            symbol: "ACME".into(),
            decimals: 2,
            initial_supply: 1_000,
            supply: SupplyRule::Fixed,
        }
    }

    #[test]
    fn a_well_formed_issue_validates() {
        assert_eq!(issue().validate(), Ok(()));
    }

    #[test]
    fn bad_names_symbols_decimals_and_supplies_are_refused_by_type() {
        let bad = |change: fn(&mut IssueToken)| {
            let mut issue = issue();
            change(&mut issue);
            issue.validate().unwrap_err()
        };
        assert!(matches!(bad(|i| i.name.clear()), TokenError::BadName { .. }));
        assert!(matches!(bad(|i| i.name = "a\nb".into()), TokenError::BadName { .. }));
        assert!(matches!(bad(|i| i.name = " pad".into()), TokenError::BadName { .. }));
        assert!(matches!(bad(|i| i.name = "x".repeat(65)), TokenError::BadName { .. }));
        assert!(matches!(bad(|i| i.symbol = "acme".into()), TokenError::BadSymbol { .. }));
        assert!(matches!(bad(|i| i.symbol = "A".repeat(12)), TokenError::BadSymbol { .. }));
        assert!(matches!(bad(|i| i.decimals = 19), TokenError::BadDecimals { .. }));
        assert_eq!(bad(|i| i.initial_supply = 0), TokenError::EmptyFixedSupply);
        let over_cap =
            bad(|i| i.supply = SupplyRule::Mintable { minter: Minter::Issuer, cap: Some(9) });
        assert_eq!(over_cap, TokenError::InitialOverCap { initial: 1_000, cap: 9 });
        let by_peg = bad(|i| {
            i.supply = SupplyRule::Mintable {
                minter: Minter::Peg { source_chain: Hash::ZERO, source_token: TokenId(Hash::ZERO) },
                cap: None,
            }
        });
        assert_eq!(by_peg, TokenError::PegMinterAtIssue);
    }
}
