//! Permission and membership changes, and the proposals that carry them to a quorum. A change
//! is proposed by a party (the proposal counts as its first approval) and applies in the
//! transaction that brings its approvals to the consortium's quorum m; until then it changes
//! nothing. Approving is a transaction of its own, so every signature is an ordinary signed
//! transaction in White Flag order and a reorg that drops an approval drops the change with it.
//!
//! A membership change rotates the data key: it carries the next epoch's key wrapped for
//! exactly the member nodes after the change, and the previous key sealed under the new one.
//! A removed node receives nothing of the new epoch, so it cannot read what follows.

use super::keys::WrappedKey;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::token::TokenId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The next epoch's data key, for the member nodes after a membership change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rekey {
    /// The new key epoch: the consortium's current epoch plus one.
    pub epoch: u64,
    /// The new key wrapped per member node (by node account).
    pub wrapped: BTreeMap<AccountId, WrappedKey>,
    /// The previous epoch's key sealed under the new one (`keys::chain_previous`).
    pub previous: Vec<u8>,
}

/// A change to a consortium that needs a quorum of its parties: it is carried by a
/// [`Proposal`] and applies in the transaction that brings the approvals to the quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PermissionChange {
    /// Let `account` write `table`.
    Grant {
        /// The account (party or not) that gains write permission.
        account: AccountId,
        /// Name of a table the consortium declares.
        table: String,
    },
    /// Take `account`'s write permission on `table`, or on every table when `None`: no action
    /// it signs applies there from the next position of the White Flag order on.
    Deny {
        /// The account that loses write permission.
        account: AccountId,
        /// The table, or `None` for every table of the consortium.
        table: Option<String>,
    },
    /// Admit a member node (its X25519 public key) and rotate the key to include it.
    AddMember {
        /// The new member's node account (it signs the member's attestations).
        node: AccountId,
        /// The new member's X25519 public key (`MemberSecret::public`), for key wrapping.
        node_key: [u8; 32],
        /// The next epoch's key, wrapped for the members including the new one.
        rekey: Rekey,
    },
    /// Remove a member node and rotate the key without it.
    RemoveMember {
        /// The member node's account.
        node: AccountId,
        /// The next epoch's key, wrapped for the remaining members only.
        rekey: Rekey,
    },
    /// Require the parties' approval of each entry written to `table` (`required`), or stop
    /// requiring it (`entries`; entries already pending stay pending until decided).
    EntryApproval {
        /// Name of a table the consortium declares.
        table: String,
        /// True to require approval of each new write, false to stop requiring it.
        required: bool,
    },
    /// Mint `amount` of a business token whose minter is this consortium (docs/tokens.md).
    /// The consortium itself does not change; the ledger checks and applies the mint in the
    /// transaction that brings the proposal to the quorum.
    MintToken {
        /// The token to mint; its minter must be this consortium.
        token: TokenId,
        /// The account credited.
        to: AccountId,
        /// Amount in the token's base units.
        amount: u64,
    },
}

/// A change waiting for its quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The change that applies when `approvals` reaches the consortium's quorum.
    pub change: PermissionChange,
    /// The party that proposed it; the only one that may withdraw it.
    pub proposer: AccountId,
    /// Parties that approved it, the proposer included.
    pub approvals: BTreeSet<AccountId>,
}

/// The id of the proposal made by `(proposer, nonce)`: unique, because a spend key is.
pub fn proposal_id(consortium: &Hash, proposer: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[
        b"vein/consortium/proposal/v1",
        consortium.as_bytes(),
        proposer.as_bytes(),
        &nonce.to_le_bytes(),
    ])
}
