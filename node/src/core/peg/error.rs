//! Why a peg transaction is refused ([`PegError`], wrapped in `LedgerError::Peg`), why one
//! ledger's peg state is inconsistent ([`PegInvariantViolation`], a bug), and why two ledgers'
//! peg states do not conserve the pegged tokens ([`PegMismatch`], a bug or a broken bridge).

use super::action::{ChainId, Direction};
use crate::core::hash::Hash;
use crate::core::storage::MerkleError;
use crate::core::token::{TokenError, TokenId};

/// Why a peg transaction is refused. Amounts are in the token's base units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PegError {
    /// The ledger was never told which chain it is (`Ledger::with_peg_chain`).
    #[error("this ledger has no chain id: peg transactions are refused")]
    NoChainId,
    /// A token rule refused the debit, credit or mint: an unknown token, an insufficient
    /// balance, a zero amount, an overflow.
    #[error("{0}")]
    Token(TokenError),
    /// A lock of a wrapped token: it goes home with `PegTx::Burn`.
    #[error("token {token} is a wrapped token: burn it to send it home")]
    WrappedLock {
        /// The wrapped token named.
        token: TokenId,
    },
    /// A peg burn of a token this chain's peg did not mint.
    #[error("token {token} was not minted by the peg")]
    NotWrapped {
        /// The token named.
        token: TokenId,
    },
    /// A lock whose destination is this chain.
    #[error("chain {chain} is this chain: a lock must go to another chain")]
    LocalDestination {
        /// The destination named.
        chain: ChainId,
    },
    /// A proof whose entry is addressed to another chain.
    #[error("the entry is for chain {dest}, this chain is {local}")]
    WrongDestination {
        /// The entry's destination.
        dest: ChainId,
        /// This chain.
        local: ChainId,
    },
    /// A proof whose entry names another source chain than the proof does.
    #[error("the entry comes from chain {entry_source}, the proof names chain {proof_source}")]
    WrongSource {
        /// The chain the entry records as its source.
        entry_source: ChainId,
        /// The chain whose header the proof names.
        proof_source: ChainId,
    },
    /// A mint of a burn entry or a release of a lock entry.
    #[error("a {got:?} entry cannot be claimed by this transaction (it needs a {expected:?})")]
    WrongDirection {
        /// What the transaction claims.
        expected: Direction,
        /// What the entry is.
        got: Direction,
    },
    /// The header is not final in this ledger's light client of the source chain.
    #[error("header {header} of chain {chain} is not final here")]
    HeaderNotFinal {
        /// The source chain.
        chain: ChainId,
        /// The header named.
        header: Hash,
    },
    /// The entry's path does not lead to the outbox size the proof claims.
    #[error("the entry's outbox path is malformed: {0}")]
    BadPath(MerkleError),
    /// The entry, path and rest of the state do not hash to the final header's ledger root.
    #[error("the proof does not hash to the ledger root {expected} of header {header}")]
    BadProof {
        /// The header named.
        header: Hash,
        /// Its final ledger root.
        expected: Hash,
        /// What the proof hashes to.
        got: Hash,
    },
    /// The entry was already claimed here: a replayed proof.
    #[error("entry {entry} of chain {chain} was already claimed")]
    Replayed {
        /// The source chain.
        chain: ChainId,
        /// The entry's id.
        entry: Hash,
    },
    /// A release larger than the escrow holds for that token and chain (only a broken source
    /// chain could prove such a burn).
    #[error("escrow of token {token} for chain {chain} holds {held}, the release needs {amount}")]
    EscrowShort {
        /// The home token.
        token: TokenId,
        /// The side chain.
        chain: ChainId,
        /// What the escrow holds.
        held: u64,
        /// The release's amount.
        amount: u64,
    },
    /// A lock that would take an escrow's counters past `u64::MAX`.
    #[error("escrow of token {token} for chain {chain} would overflow")]
    EscrowOverflow {
        /// The token locked.
        token: TokenId,
        /// The destination chain.
        chain: ChainId,
    },
    /// The outbox holds `u32::MAX` entries (a leaf index is a u32).
    #[error("the peg outbox is full")]
    OutboxFull,
}

impl PegError {
    /// The variant as one word, for clients that act on the kind (a relayer drops a
    /// `replayed` claim and waits on a `header_not_final` one).
    pub fn kind(&self) -> &'static str {
        match self {
            PegError::NoChainId => "no_chain_id",
            PegError::Token(_) => "token",
            PegError::WrappedLock { .. } => "wrapped_lock",
            PegError::NotWrapped { .. } => "not_wrapped",
            PegError::LocalDestination { .. } => "local_destination",
            PegError::WrongDestination { .. } => "wrong_destination",
            PegError::WrongSource { .. } => "wrong_source",
            PegError::WrongDirection { .. } => "wrong_direction",
            PegError::HeaderNotFinal { .. } => "header_not_final",
            PegError::BadPath(_) => "bad_path",
            PegError::BadProof { .. } => "bad_proof",
            PegError::Replayed { .. } => "replayed",
            PegError::EscrowShort { .. } => "escrow_short",
            PegError::EscrowOverflow { .. } => "escrow_overflow",
            PegError::OutboxFull => "outbox_full",
        }
    }
}

impl From<TokenError> for PegError {
    fn from(error: TokenError) -> PegError {
        PegError::Token(error)
    }
}

/// One ledger's peg state disagrees with itself or with its token section: a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PegInvariantViolation {
    /// An escrow's held amount is not its locks minus its releases, or its locks are not the
    /// sum of its outbox lock entries.
    #[error(
        "escrow of token {token} for chain {chain}: held {held}, locked {locked} (outbox {outbox_locked}), released {released}"
    )]
    Escrow {
        /// The home token.
        token: TokenId,
        /// The side chain.
        chain: ChainId,
        /// What the escrow holds.
        held: u64,
        /// Base units ever locked.
        locked: u64,
        /// Sum of the outbox's lock entries for this token and chain.
        outbox_locked: u128,
        /// Base units ever released.
        released: u64,
    },
    /// A wrapped token's supply counters disagree with the peg's mints and burns, or its
    /// token record is not a peg-minted token of that id.
    #[error(
        "wrapped token {token}: peg minted {minted} burned {burned} (outbox {outbox_burned}), the token says {token_minted} minted {token_burned} burned"
    )]
    Wrapped {
        /// The wrapped token.
        token: TokenId,
        /// Base units the peg minted.
        minted: u64,
        /// Base units the peg burned.
        burned: u64,
        /// Sum of the outbox's burn entries for it.
        outbox_burned: u128,
        /// The token record's minted counter (0 if the record is missing or not the peg's).
        token_minted: u64,
        /// The token record's burned counter.
        token_burned: u64,
    },
    /// A token whose minter is the peg has no wrapped record.
    #[error("token {token} is minted by the peg but the peg does not know it")]
    UnknownWrapped {
        /// The token.
        token: TokenId,
    },
    /// The outbox's leaves or running root do not match its entries.
    #[error("the outbox's leaf {index} or its root does not match its entries")]
    Outbox {
        /// The first leaf that disagrees (the entry count when only the root does).
        index: usize,
    },
}

/// Two ledgers' peg states do not conserve a pegged token (see `conservation`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PegMismatch {
    /// `escrow ≠ minted − burned + locks in flight + burns in flight` for one token.
    #[error(
        "token {token}: escrow {escrow} != minted {minted} - burned {burned} + locks in flight {locks_in_flight} + burns in flight {burns_in_flight}"
    )]
    Unbalanced {
        /// The token on its home chain (the chains are the two sections compared).
        token: TokenId,
        /// What the home chain's escrow for the side chain holds.
        escrow: u64,
        /// What the side chain's peg minted of the wrapped token.
        minted: u64,
        /// What the side chain's peg burned of it.
        burned: u64,
        /// Locks in the home outbox for the side chain not yet claimed there.
        locks_in_flight: u128,
        /// Burns in the side outbox for the home chain not yet claimed there.
        burns_in_flight: u128,
    },
    /// A ledger claimed an entry the other chain's outbox does not hold.
    #[error("chain {claimed_on} claimed entry {entry} that chain {source_chain}'s outbox lacks")]
    ClaimWithoutEntry {
        /// The chain that claimed it.
        claimed_on: ChainId,
        /// The chain it names as the source.
        source_chain: ChainId,
        /// The entry id.
        entry: Hash,
    },
}
