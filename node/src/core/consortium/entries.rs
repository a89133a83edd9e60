//! Per-entry approval ("grant or deny entries", the seed's account management). A table may
//! require the parties' approval of each entry: a quorum-approved
//! `PermissionChange::EntryApproval` turns it on or off. A write to such a table is checked as
//! any write (permission, key epoch, size) and then waits as a pending entry instead of applying.
//! It applies, appended to the action log at that position of the White Flag order, in the
//! transaction that brings its approvals to the quorum m; it is dropped once so many parties
//! denied it that m approvals are no longer possible (n − denials < m). A member's replica
//! applies it at the height of that approval, never at the write's.
//!
//! The chain keeps only what it can judge: the entry's table, writer, action hash and votes
//! (the ciphertext stays in the write transaction, and members keep it beside their replica
//! until the entry is decided). An approval reaching the quorum re-checks the writer's
//! permission: an entry written before a deny never applies after it, so a deny is final for
//! pending entries too. Pending entries are bounded per consortium, and so are their votes (by
//! the party count).

use super::error::ConsortiumError;
use super::state::Consortium;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Pending entries a consortium may hold at once; a write beyond is refused until some are
/// decided.
pub const PENDING_ENTRIES_MAX: usize = 256;

/// A write waiting for the parties' decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEntry {
    /// The table the write targets; it requires approval.
    pub table: String,
    /// The account that signed the write; its permission is re-checked when the entry passes.
    pub writer: AccountId,
    /// The write's `SealedAction::log_hash`, appended to the action log if it passes.
    pub log_hash: Hash,
    /// Parties that approved; the entry passes when they reach the quorum.
    pub approvals: BTreeSet<AccountId>,
    /// Parties that denied; the entry is dropped once `parties - denials < quorum`.
    pub denials: BTreeSet<AccountId>,
}

/// What one vote does to a pending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Still pending, with the vote recorded.
    Pending(PendingEntry),
    /// Approved by the quorum: it applies now.
    Passed,
    /// Denied by enough parties that the quorum can no longer be reached.
    Dropped,
}

/// The id of the entry written by `(writer, nonce)`: unique, because a spend key is, and known
/// to the writer before the write is ordered.
pub fn entry_id(consortium: &Hash, writer: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[
        b"vein/consortium/entry/v1",
        consortium.as_bytes(),
        writer.as_bytes(),
        &nonce.to_le_bytes(),
    ])
}

impl PendingEntry {
    /// Record `voter`'s approval (`approve`) or denial and decide. Refuses a voter who is not a
    /// party, a second vote, and an approval reaching the quorum for a writer who may no longer
    /// write the table.
    pub fn vote(
        mut self,
        consortium: &Consortium,
        entry: &Hash,
        voter: &AccountId,
        approve: bool,
    ) -> Result<Decision, ConsortiumError> {
        consortium.require_party(voter)?;
        if self.approvals.contains(voter) || self.denials.contains(voter) {
            return Err(ConsortiumError::AlreadyVoted { entry: *entry, account: *voter });
        }
        let quorum = usize::from(consortium.quorum);
        if approve {
            self.approvals.insert(*voter);
            if self.approvals.len() >= quorum {
                if !consortium.may_write(&self.table, &self.writer) {
                    return Err(ConsortiumError::NoWritePermission {
                        consortium: consortium.id,
                        table: self.table,
                        account: self.writer,
                    });
                }
                return Ok(Decision::Passed);
            }
        } else {
            self.denials.insert(*voter);
            if consortium.parties.len().saturating_sub(self.denials.len()) < quorum {
                return Ok(Decision::Dropped);
            }
        }
        Ok(Decision::Pending(self))
    }
}
