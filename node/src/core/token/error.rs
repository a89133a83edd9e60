//! Why a token transaction is refused. The ledger wraps these in `LedgerError::Token`.

use super::ids::TokenId;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unknown token {token}")]
    UnknownToken { token: TokenId },
    #[error("token {token} already exists")]
    TokenExists { token: TokenId },
    #[error("token {token}'s ERC-20 address is taken by token {existing}")]
    AddressTaken { token: TokenId, existing: TokenId },
    #[error("{name:?} is not a valid token name (1..={limit} bytes, no control characters)")]
    BadName { name: String, limit: usize },
    #[error("{symbol:?} is not a valid symbol (1..={limit} ASCII capital letters or digits)")]
    BadSymbol { symbol: String, limit: usize },
    #[error("{decimals} decimals: at most {limit} allowed")]
    BadDecimals { decimals: u8, limit: u8 },
    #[error("a fixed-supply token needs a positive supply")]
    EmptyFixedSupply,
    #[error("initial supply {initial} is over the cap {cap}")]
    InitialOverCap { initial: u64, cap: u64 },
    #[error("the minting consortium {consortium} does not exist")]
    UnknownConsortium { consortium: Hash },
    #[error("{account} is not a party of the minting consortium {consortium}")]
    NotAParty { consortium: Hash, account: AccountId },
    #[error("token {token} has a fixed supply: nothing can be minted")]
    FixedSupply { token: TokenId },
    #[error("{account} may not mint token {token}")]
    NotMinter { token: TokenId, account: AccountId },
    #[error("consortium {consortium} may not mint token {token}")]
    NotMinterConsortium { token: TokenId, consortium: Hash },
    #[error("minting {amount} of token {token} would exceed its cap {cap} (supply {supply})")]
    OverCap { token: TokenId, amount: u64, supply: u64, cap: u64 },
    #[error("minting {amount} of token {token} overflows its supply {supply}")]
    SupplyOverflow { token: TokenId, amount: u64, supply: u64 },
    #[error("crediting {account} with token {token} would overflow its balance")]
    BalanceOverflow { token: TokenId, account: AccountId },
    #[error("{account} holds {balance} of token {token} but needs {needed}")]
    InsufficientBalance { token: TokenId, account: AccountId, balance: u64, needed: u64 },
    #[error("an amount of zero moves nothing")]
    ZeroAmount,
    #[error("a token transfer to oneself is not allowed")]
    SelfTransfer,
}
