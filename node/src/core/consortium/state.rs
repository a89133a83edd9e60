//! One consortium's on-chain state: its parties (accounts that vote), its member nodes (which
//! hold the data key and a replica), its tables, who may write each table, the key epoch and
//! the wrapped keys of the current epoch, and the open proposals. Everything is in BTreeMaps, so
//! its canonical encoding (and hence the ledger root) is the same on every node.

use super::error::ConsortiumError;
use super::keys::WrappedKey;
use super::permission::{PermissionChange, Proposal, Rekey};
use super::schema::{TABLES_MAX, TableSchema};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most parties of one consortium.
pub const PARTIES_MAX: usize = 64;
/// Most member nodes of one consortium.
pub const MEMBERS_MAX: usize = 64;
/// Most open proposals of one consortium (bounds its state; a proposer may withdraw).
pub const PROPOSALS_OPEN_MAX: usize = 64;

/// The creation transaction's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateConsortium {
    /// Consortium name, checked by `schema::check_name` (not unique across consortia).
    pub name: String,
    /// The accounts that vote; the creator must be one of them. Every party may write every
    /// table at creation; grants and denies change that afterwards.
    pub parties: BTreeSet<AccountId>,
    /// Member nodes by node account, with their X25519 public keys.
    pub members: BTreeMap<AccountId, [u8; 32]>,
    /// Its tables (1..=`TABLES_MAX`), with names unique ignoring case.
    pub tables: Vec<TableSchema>,
    /// m of n: approvals a permission change needs.
    pub quorum: u16,
    /// The epoch-0 data key wrapped for each member node.
    pub wrapped: BTreeMap<AccountId, WrappedKey>,
}

/// One consortium's on-chain state (see the module docs); changed only through
/// `Consortia::check` and `Consortia::apply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consortium {
    /// `consortium_id` of the creator and the nonce of its creation transaction.
    pub id: Hash,
    /// Name from the creation transaction.
    pub name: String,
    /// The accounts that vote on proposals and pending entries (1..=`PARTIES_MAX`).
    pub parties: BTreeSet<AccountId>,
    /// Member nodes by node account, with their X25519 public keys (1..=`MEMBERS_MAX`).
    pub members: BTreeMap<AccountId, [u8; 32]>,
    /// m of n: approvals a proposal or pending entry needs; 1..=`parties.len()`.
    pub quorum: u16,
    /// Tables by name, as declared at creation.
    pub tables: BTreeMap<String, TableSchema>,
    /// Accounts allowed to write each table (tables with no writer are absent).
    pub writers: BTreeMap<String, BTreeSet<AccountId>>,
    /// Epoch of the current data key: 0 at creation, plus one at each membership change.
    /// Writes must be sealed under this epoch's key.
    pub key_epoch: u64,
    /// The current epoch's key wrapped per member node.
    pub wrapped: BTreeMap<AccountId, WrappedKey>,
    /// For each epoch e ≥ 1, epoch e − 1's key sealed under epoch e's.
    pub key_chain: BTreeMap<u64, Vec<u8>>,
    /// Open proposals by `proposal_id`; at most `PROPOSALS_OPEN_MAX`.
    pub proposals: BTreeMap<Hash, Proposal>,
    /// Tables whose every entry waits for the parties' approval (`entries`).
    pub approval_tables: BTreeSet<String>,
}

/// The running commitment to a consortium's actions: how many applied, and a hash chain over
/// their `SealedAction::log_hash`. Kept apart from `Consortium` so a write's undo record is
/// forty bytes, not a copy of the consortium.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLog {
    /// Actions appended so far (a pending entry counts once it passes).
    pub count: u64,
    /// Hash chain head over the appended `SealedAction::log_hash`es; `Hash::ZERO` when empty.
    pub head: Hash,
}

impl ActionLog {
    /// The log after appending the action with this `SealedAction::log_hash`.
    pub fn append(self, action_hash: &Hash) -> ActionLog {
        ActionLog {
            count: self.count + 1,
            head: Hash::of_parts(&[
                b"vein/consortium/log/v1",
                self.head.as_bytes(),
                action_hash.as_bytes(),
            ]),
        }
    }
}

/// The id of the consortium created by `(creator, nonce)`: unique, because a spend key is.
pub fn consortium_id(creator: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[b"vein/consortium/id/v1", creator.as_bytes(), &nonce.to_le_bytes()])
}

impl Consortium {
    /// Build a consortium from its creation transaction, checking it whole.
    pub fn create(
        create: &CreateConsortium,
        creator: &AccountId,
        id: Hash,
    ) -> Result<Consortium, ConsortiumError> {
        super::schema::check_name(&create.name)?;
        if create.parties.is_empty() || create.parties.len() > PARTIES_MAX {
            return Err(ConsortiumError::BadPartyCount {
                count: create.parties.len(),
                limit: PARTIES_MAX,
            });
        }
        if !create.parties.contains(creator) {
            return Err(ConsortiumError::NotAParty { consortium: id, account: *creator });
        }
        let quorum = usize::from(create.quorum);
        if quorum == 0 || quorum > create.parties.len() {
            return Err(ConsortiumError::BadQuorum {
                quorum: create.quorum,
                parties: create.parties.len(),
            });
        }
        if create.tables.is_empty() || create.tables.len() > TABLES_MAX {
            return Err(ConsortiumError::BadTableCount {
                count: create.tables.len(),
                limit: TABLES_MAX,
            });
        }
        let mut tables = BTreeMap::new();
        for table in &create.tables {
            table.validate()?;
            // SQL compares table names case-insensitively: two that differ only in case would
            // be one table in the replica.
            let lower = table.name.to_ascii_lowercase();
            if tables.keys().any(|name: &String| name.to_ascii_lowercase() == lower) {
                return Err(ConsortiumError::DuplicateTable { table: table.name.clone() });
            }
            tables.insert(table.name.clone(), table.clone());
        }
        let writers = tables.keys().map(|name| (name.clone(), create.parties.clone())).collect();
        let consortium = Consortium {
            id,
            name: create.name.clone(),
            parties: create.parties.clone(),
            members: create.members.clone(),
            quorum: create.quorum,
            tables,
            writers,
            key_epoch: 0,
            wrapped: create.wrapped.clone(),
            key_chain: BTreeMap::new(),
            approval_tables: BTreeSet::new(),
            proposals: BTreeMap::new(),
        };
        consortium.check_member_count()?;
        consortium.check_wrapped(&consortium.wrapped)?;
        Ok(consortium)
    }

    /// The schema of `table`, or `UnknownTable` if the consortium has none by that name.
    pub fn schema(&self, table: &str) -> Result<&TableSchema, ConsortiumError> {
        self.tables.get(table).ok_or_else(|| ConsortiumError::UnknownTable {
            consortium: self.id,
            table: table.into(),
        })
    }

    /// `Ok` if `account` is a party (a voter) of this consortium, else `NotAParty`.
    pub fn require_party(&self, account: &AccountId) -> Result<(), ConsortiumError> {
        if self.parties.contains(account) {
            Ok(())
        } else {
            Err(ConsortiumError::NotAParty { consortium: self.id, account: *account })
        }
    }

    /// May `account` write `table` now? False for an unknown table.
    pub fn may_write(&self, table: &str, account: &AccountId) -> bool {
        self.writers.get(table).is_some_and(|writers| writers.contains(account))
    }

    pub(super) fn check_member_count(&self) -> Result<(), ConsortiumError> {
        if self.members.is_empty() || self.members.len() > MEMBERS_MAX {
            return Err(ConsortiumError::BadMemberCount {
                count: self.members.len(),
                limit: MEMBERS_MAX,
            });
        }
        Ok(())
    }

    /// A key set must be wrapped for exactly the member nodes: none left out (it could not
    /// read), none extra (a removed node must not get the new key).
    fn check_wrapped(
        &self,
        wrapped: &BTreeMap<AccountId, WrappedKey>,
    ) -> Result<(), ConsortiumError> {
        if !wrapped.keys().eq(self.members.keys()) {
            return Err(ConsortiumError::RekeyMembers { expected: self.members.len() });
        }
        Ok(())
    }

    /// Move to the next key epoch (after the member set changed).
    pub(super) fn rotate(&mut self, rekey: &Rekey) -> Result<(), ConsortiumError> {
        let expected = self.key_epoch + 1;
        if rekey.epoch != expected {
            return Err(ConsortiumError::RekeyEpoch { expected, got: rekey.epoch });
        }
        self.check_wrapped(&rekey.wrapped)?;
        self.key_epoch = expected;
        self.wrapped = rekey.wrapped.clone();
        self.key_chain.insert(expected, rekey.previous.clone());
        Ok(())
    }

    /// Apply a permission or membership change (to a copy the caller commits only on
    /// success).
    pub fn apply_change(&mut self, change: &PermissionChange) -> Result<(), ConsortiumError> {
        let consortium = self;
        let id = consortium.id;
        match change {
            PermissionChange::Grant { account, table } => {
                consortium.schema(table)?;
                let writers = consortium.writers.entry(table.clone()).or_default();
                if !writers.insert(*account) {
                    return Err(ConsortiumError::NoChange { reason: "already granted" });
                }
            }
            PermissionChange::Deny { account, table } => {
                let mut removed = false;
                match table {
                    Some(table) => {
                        consortium.schema(table)?;
                        if let Some(writers) = consortium.writers.get_mut(table) {
                            removed = writers.remove(account);
                        }
                    }
                    None => {
                        for writers in consortium.writers.values_mut() {
                            removed |= writers.remove(account);
                        }
                    }
                }
                consortium.writers.retain(|_, writers| !writers.is_empty());
                if !removed {
                    return Err(ConsortiumError::NoChange { reason: "no permission to deny" });
                }
            }
            PermissionChange::AddMember { node, node_key, rekey } => {
                if consortium.members.contains_key(node) {
                    return Err(ConsortiumError::MemberExists { consortium: id, node: *node });
                }
                consortium.members.insert(*node, *node_key);
                consortium.check_member_count()?;
                consortium.rotate(rekey)?;
            }
            PermissionChange::RemoveMember { node, rekey } => {
                if consortium.members.remove(node).is_none() {
                    return Err(ConsortiumError::UnknownMember { consortium: id, node: *node });
                }
                consortium.check_member_count()?;
                consortium.rotate(rekey)?;
            }
            PermissionChange::EntryApproval { table, required } => {
                consortium.schema(table)?;
                let changed = if *required {
                    consortium.approval_tables.insert(table.clone())
                } else {
                    consortium.approval_tables.remove(table)
                };
                if !changed {
                    return Err(ConsortiumError::NoChange { reason: "entry approval already so" });
                }
            }
            // The token rules decide the mint (the ledger asks them); nothing here changes.
            PermissionChange::MintToken { .. } => {}
        }
        Ok(())
    }
}
