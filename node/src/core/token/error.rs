//! Why a token transaction is refused. The ledger wraps these in `LedgerError::Token`.

use super::ids::TokenId;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

/// Why a token transaction, or a consortium's mint, is refused. Amounts, balances, supplies
/// and caps are in the token's base units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// A transfer, burn or mint names a token that was never issued.
    #[error("unknown token {token}")]
    UnknownToken {
        /// The id named.
        token: TokenId,
    },
    /// An issue would produce an id that exists (a replayed signer and nonce).
    #[error("token {token} already exists")]
    TokenExists {
        /// The existing id.
        token: TokenId,
    },
    /// An issue's id shares its first 16 bytes, hence its ERC-20 address, with an existing
    /// token's.
    #[error("token {token}'s ERC-20 address is taken by token {existing}")]
    AddressTaken {
        /// The id the issue would create.
        token: TokenId,
        /// The token already at that address.
        existing: TokenId,
    },
    /// An issue's name is empty, too long, has a control character or outer spaces.
    #[error("{name:?} is not a valid token name (1..={limit} bytes, no control characters)")]
    BadName {
        /// The refused name.
        name: String,
        /// Longest name allowed, in bytes.
        limit: usize,
    },
    /// An issue's symbol is empty, too long, or not all ASCII capitals and digits.
    #[error("{symbol:?} is not a valid symbol (1..={limit} ASCII capital letters or digits)")]
    BadSymbol {
        /// The refused symbol.
        symbol: String,
        /// Longest symbol allowed, in characters.
        limit: usize,
    },
    /// An issue asks for more than `action::DECIMALS_MAX` decimals.
    #[error("{decimals} decimals: at most {limit} allowed")]
    BadDecimals {
        /// Decimals asked for.
        decimals: u8,
        /// Most decimals allowed.
        limit: u8,
    },
    /// A fixed-supply issue with an initial supply of 0.
    #[error("a fixed-supply token needs a positive supply")]
    EmptyFixedSupply,
    /// A capped issue whose initial supply is above its cap.
    #[error("initial supply {initial} is over the cap {cap}")]
    InitialOverCap {
        /// The issue's initial supply.
        initial: u64,
        /// The issue's cap.
        cap: u64,
    },
    /// An issue names a minting consortium that does not exist.
    #[error("the minting consortium {consortium} does not exist")]
    UnknownConsortium {
        /// The consortium id named.
        consortium: Hash,
    },
    /// An issue names a minting consortium the issuer is not a party of.
    #[error("{account} is not a party of the minting consortium {consortium}")]
    NotAParty {
        /// The consortium id named.
        consortium: Hash,
        /// The issuer.
        account: AccountId,
    },
    /// A mint of a fixed-supply token.
    #[error("token {token} has a fixed supply: nothing can be minted")]
    FixedSupply {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
    },
    /// A `TokenTx::Mint` signed by an account that is not the token's minter (not its issuer,
    /// or the token is minted by a consortium).
    #[error("{account} may not mint token {token}")]
    NotMinter {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The signer.
        account: AccountId,
    },
    /// A consortium's `MintToken` proposal for a token it does not mint.
    #[error("consortium {consortium} may not mint token {token}")]
    NotMinterConsortium {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The consortium whose proposal passed.
        consortium: Hash,
    },
    /// A mint that would take issued plus minted above the cap.
    #[error("minting {amount} of token {token} would exceed its cap {cap} (supply {supply})")]
    OverCap {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The amount to mint.
        amount: u64,
        /// The token's current supply (`Token::total_supply`).
        supply: u64,
        /// The token's cap.
        cap: u64,
    },
    /// A mint that would take issued plus minted past `u64::MAX`.
    #[error("minting {amount} of token {token} overflows its supply {supply}")]
    SupplyOverflow {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The amount to mint.
        amount: u64,
        /// The token's current supply (`Token::total_supply`).
        supply: u64,
    },
    /// A credit that would take a balance past `u64::MAX`.
    #[error("crediting {account} with token {token} would overflow its balance")]
    BalanceOverflow {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The account credited.
        account: AccountId,
    },
    /// A transfer or burn of more than the signer holds.
    #[error("{account} holds {balance} of token {token} but needs {needed}")]
    InsufficientBalance {
        /// Id of the token the transaction or proposal names.
        token: TokenId,
        /// The signer.
        account: AccountId,
        /// Its balance.
        balance: u64,
        /// The amount moved or burned.
        needed: u64,
    },
    /// A transfer, burn or mint of 0.
    #[error("an amount of zero moves nothing")]
    ZeroAmount,
    /// An issue naming the peg as its minter: only the peg creates its wrapped tokens.
    #[error("an issue cannot name the peg as its minter")]
    PegMinterAtIssue,
    /// A `TokenTx::Burn` of a wrapped token: it must go home through `PegTx::Burn`, or the
    /// escrow backing it on the home chain could never be released.
    #[error("token {token} is a wrapped token: burn it with a peg burn")]
    PegBurnOnly {
        /// The wrapped token.
        token: TokenId,
    },
    /// The peg asked to mint a token it does not mint.
    #[error("the peg may not mint token {token}")]
    NotPegMinted {
        /// The token named.
        token: TokenId,
    },
    /// A transfer whose recipient is its signer.
    #[error("a token transfer to oneself is not allowed")]
    SelfTransfer,
}
