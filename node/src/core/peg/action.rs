//! What a peg transaction asks for (the payload of `TxKind::Peg`), the outbox entry a lock or a
//! burn appends, the proof that carries an entry to the other chain, and the ids all of them
//! are derived from: chains, entries and wrapped tokens.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::token::TokenId;
use serde::{Deserialize, Serialize};

/// A chain's id as the peg names it: its `Genesis::id` (the id of its height-0 header), which
/// a chain knows of itself and a light client of it records (`FollowedChain::genesis_id`).
pub type ChainId = Hash;

/// The id of the outbox entry appended by the transaction `(signer, nonce)` on `source`: unique
/// because a spend key is, and distinct across chains because the chain is hashed in.
pub fn entry_id(source: &ChainId, signer: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[
        b"vein/peg/entry/v1",
        source.as_bytes(),
        signer.as_bytes(),
        &nonce.to_le_bytes(),
    ])
}

/// The id of the wrapped token that stands, on another chain, for `token` of the chain `home`.
/// Its own domain tag, so it never equals a `token_id` of an issue.
pub fn wrapped_token_id(home: &ChainId, token: &TokenId) -> TokenId {
    TokenId(Hash::of_parts(&[b"vein/peg/wrapped/v1", home.as_bytes(), token.as_bytes()]))
}

/// Which way an outbox entry moves value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Direction {
    /// Locked on its home chain: mints the wrapped token on `dest_chain`.
    Lock,
    /// Wrapped tokens burned on a side chain: releases from the escrow on `dest_chain`.
    Burn,
}

/// One outbox entry: everything the other chain needs to mint or release, committed by the
/// ledger root of the chain that appended it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// [`entry_id`] of the appending chain and transaction; claimed once on `dest_chain`.
    pub id: Hash,
    /// Lock (mint on arrival) or burn (release on arrival).
    pub direction: Direction,
    /// The chain that appended the entry.
    pub source_chain: ChainId,
    /// The only chain that may claim it.
    pub dest_chain: ChainId,
    /// The token on its home chain (for a burn: the token the wrapped one stands for).
    pub token: TokenId,
    /// Base units moved; positive.
    pub amount: u64,
    /// The account credited on `dest_chain`.
    pub recipient: AccountId,
    /// The home token's name, symbol and decimals: a first mint creates the wrapped token
    /// with them, so wallets on the other chain show the same asset.
    pub name: String,
    /// See `name`.
    pub symbol: String,
    /// See `name`.
    pub decimals: u8,
}

/// Everything that shows an outbox entry is committed by a final header of its source chain:
/// the entry, its Merkle path to the outbox root, the outbox's size, and the hash of the rest
/// of that header's ledger state (`ledger_root = H(tag, rest_root, outbox commitment)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PegProof {
    /// The chain the entry comes from, as this chain's light client names it.
    pub source_chain: ChainId,
    /// The source header whose ledger root commits the entry; it must be final here.
    pub header: Hash,
    /// The entry claimed.
    pub entry: OutboxEntry,
    /// The entry's leaf index in the outbox.
    pub index: u32,
    /// Leaves in the outbox at that header (committed in the outbox commitment).
    pub outbox_len: u32,
    /// Sibling hashes from the leaf up (`storage::merkle`'s shape).
    pub path: Vec<Hash>,
    /// The hash of everything else in that header's ledger state.
    pub rest_root: Hash,
}

/// A peg transaction. Fees are the carrier's, in the native token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PegTx {
    /// Move `amount` of the signer's `token` into the escrow for `dest_chain` and append an
    /// outbox entry that mints the wrapped token for `recipient` there.
    Lock {
        /// A token issued on this chain (not a wrapped one).
        token: TokenId,
        /// Base units locked; positive.
        amount: u64,
        /// The side chain the wrapped tokens are minted on; not this chain.
        dest_chain: ChainId,
        /// The account credited there.
        recipient: AccountId,
    },
    /// Mint the wrapped token for a lock proven final on its home chain.
    Mint {
        /// The lock's entry, path and header. Boxed: a transaction's size is mostly transfers.
        proof: Box<PegProof>,
    },
    /// Burn `amount` of the signer's `wrapped` token and append an outbox entry that releases
    /// the home token to `recipient` on the home chain.
    Burn {
        /// A token this chain's peg minted.
        wrapped: TokenId,
        /// Base units burned; positive.
        amount: u64,
        /// The account credited on the home chain.
        recipient: AccountId,
    },
    /// Release escrowed tokens for a burn proven final on the side chain.
    Release {
        /// The burn's entry, path and header.
        proof: Box<PegProof>,
    },
}
