//! Consortia: private, permissioned databases whose every action is on the chain (issue #17,
//! the seed's PISR database). This module holds the rules only; the SQL replica that member
//! nodes keep lives outside the core (`consortium_db`).
//!
//! Model:
//! - A consortium is created by one transaction naming its parties (accounts that vote), its
//!   member nodes (which hold the data key and keep a replica), its tables (typed columns and a
//!   primary key) and a quorum m of the n parties. Its id is derived from the creator's spend
//!   key, so it is unique and known before the transaction is ordered.
//! - Permission changes (grant or deny write permission on a table, add or remove a member
//!   node) are proposals that apply in the transaction bringing their approvals to m: one
//!   `Propose` (the proposer's approval) plus `Approve` transactions from other parties.
//! - A write is a [`SealedAction`]: a structured row operation (insert, upsert or delete by
//!   primary key) sealed with ChaCha20-Poly1305 under the consortium's data key. The chain
//!   checks what it can see: the consortium and table exist, the signer may write the table
//!   at this position of the order, the key epoch is current. It then appends the action's hash
//!   to the consortium's action log. Only members can open the ciphertext; they apply the rows
//!   to their replica in the chain's order, so a deny applied before a write in the White Flag
//!   order keeps that write out of every replica.
//! - Member nodes attest their replica's state root per height (`Attest`); a strict majority
//!   of matching attestations certifies it, and a member that attested another root is
//!   recorded as diverged ([`attestation`]).
//! - All of this state is one field of the ledger ([`Consortia`]), changed only through
//!   [`Consortia::check`] then [`Consortia::apply`], reverted through [`ConsortiumUndo`], and
//!   hashed into the ledger root when non-empty (`hash_into`).

pub mod action;
pub mod applied;
pub mod attestation;
pub mod entries;
pub mod error;
pub mod keys;
pub mod permission;
pub mod schema;
pub mod state;

pub use action::{Action, RowOp, SealedAction};
pub use applied::applied_event;
pub use attestation::{
    ATTESTATION_WINDOW, AttestationCertificate, Attestations, Certified, Divergence, HeightVotes,
    attestation_key, attestation_quorum,
};
pub use entries::{Decision, PENDING_ENTRIES_MAX, PendingEntry, entry_id};
pub use error::ConsortiumError;
pub use permission::{PermissionChange, Proposal, Rekey, proposal_id};
pub use schema::{Column, ColumnType, TableSchema, Value};
pub use state::{ActionLog, Consortium, CreateConsortium, consortium_id};

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::wire;
use action::ACTION_CIPHERTEXT_BYTES_MAX;
use serde::{Deserialize, Serialize};
use state::PROPOSALS_OPEN_MAX;
use std::collections::{BTreeMap, BTreeSet};

/// What a consortium transaction does (the payload of `TxKind::Consortium`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsortiumTx {
    /// Create a consortium; its id is `consortium_id(signer, nonce)`.
    Create(CreateConsortium),
    /// Propose a change; the proposer's approval is counted.
    Propose {
        /// Id of the consortium (`consortium_id`) the change is for.
        consortium: Hash,
        /// The change that applies once a quorum of parties approved it.
        change: PermissionChange,
    },
    /// Approve an open proposal (named by `proposal_id`).
    Approve {
        /// Id of the consortium holding the proposal.
        consortium: Hash,
        /// Id of the open proposal (`proposal_id` of its proposer and nonce).
        proposal: Hash,
    },
    /// The proposer takes back its open proposal.
    Withdraw {
        /// Id of the consortium holding the proposal.
        consortium: Hash,
        /// Id of the proposal to withdraw; only its proposer may.
        proposal: Hash,
    },
    /// Append one sealed row action to the consortium's action log, or hold it as a pending
    /// entry if its table requires approval.
    Write(SealedAction),
    /// A party approves a pending entry (named by `entry_id`) of a table requiring approval.
    ApproveEntry {
        /// Id of the consortium holding the entry.
        consortium: Hash,
        /// Id of the pending entry (`entry_id` of its writer and nonce).
        entry: Hash,
    },
    /// A party denies a pending entry.
    DenyEntry {
        /// Id of the consortium holding the entry.
        consortium: Hash,
        /// Id of the pending entry (`entry_id` of its writer and nonce).
        entry: Hash,
    },
    /// A member node's replica root at the end of checkpoint `height`, signed by the node's
    /// account or, with a `certificate`, by the node's attestation account.
    Attest {
        /// Id of the consortium whose replica is attested.
        consortium: Hash,
        /// Checkpoint height the root was taken at; must lie in the window below the applying
        /// checkpoint ([`ATTESTATION_WINDOW`]).
        height: u64,
        /// Replica state root the node computed after applying every action up to `height`.
        root: Hash,
        /// `None`: the signer is the member node itself. `Some`: the signer is the node's
        /// attestation account, which this certificate, signed by the member, binds to it;
        /// the vote counts as the member's.
        certificate: Option<AttestationCertificate>,
    },
}

/// What a checked transaction will change: the new state of one consortium or one action log.
#[derive(Debug)]
pub enum ConsortiumEffect {
    /// Store this new state of the consortium with this id (create, proposal or vote).
    Put(Hash, Box<Consortium>),
    /// Replace the action log of the consortium with this id (a write appended its hash).
    Append(Hash, ActionLog),
    /// Replace the attestation state of the consortium with this id.
    Attest(Hash, Box<Attestations>),
    /// A write to a table requiring approval waits (consortium, entry id).
    Pend(Hash, Hash, Box<PendingEntry>),
    /// A vote on a pending entry: still pending with the vote, or decided (removed from the
    /// pending entries; a passed entry's action is appended to the log).
    Vote {
        /// Id of the consortium holding the entry.
        consortium: Hash,
        /// Id of the entry voted on.
        entry: Hash,
        /// The entry with the new vote while it is undecided; `None` once decided.
        pending: Option<Box<PendingEntry>>,
        /// The consortium's action log with the entry appended if the vote passed it; `None` if
        /// still pending or dropped.
        passed: Option<ActionLog>,
    },
}

/// Every consortium and its action log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consortia {
    consortia: BTreeMap<Hash, Consortium>,
    logs: BTreeMap<Hash, ActionLog>,
    /// Consortia that have seen an attestation.
    attestations: BTreeMap<Hash, Attestations>,
    /// Entries waiting for approval, by (consortium, entry id).
    pending: BTreeMap<(Hash, Hash), PendingEntry>,
}

/// The states to restore on a revert, oldest last-in.
#[derive(Clone, Debug, Default)]
pub struct ConsortiumUndo {
    consortia: Vec<(Hash, Option<Consortium>)>,
    logs: Vec<(Hash, Option<ActionLog>)>,
    attestations: Vec<(Hash, Option<Attestations>)>,
    pending: Vec<((Hash, Hash), Option<PendingEntry>)>,
}

impl Consortia {
    /// True while no consortium exists (the ledger root then leaves the section out).
    pub fn is_empty(&self) -> bool {
        self.consortia.is_empty()
    }

    /// The consortium with this id, if created.
    pub fn get(&self, id: &Hash) -> Option<&Consortium> {
        self.consortia.get(id)
    }

    /// Every consortium, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Consortium> {
        self.consortia.values()
    }

    /// The action log of consortium `id`; the empty log if it has no action yet (or no such
    /// consortium).
    pub fn log(&self, id: &Hash) -> ActionLog {
        self.logs.get(id).copied().unwrap_or_default()
    }

    /// The entry `entry` of `consortium` if it is pending.
    pub fn pending_entry(&self, consortium: &Hash, entry: &Hash) -> Option<&PendingEntry> {
        self.pending.get(&(*consortium, *entry))
    }

    /// The pending entries of `consortium`, by entry id.
    pub fn pending_entries(
        &self,
        consortium: &Hash,
    ) -> impl Iterator<Item = (&Hash, &PendingEntry)> {
        self.pending
            .range((*consortium, Hash::ZERO)..=(*consortium, Hash([0xff; 32])))
            .map(|((_, entry), pending)| (entry, pending))
    }

    /// How many entries of `consortium` are pending.
    pub fn pending_count(&self, consortium: &Hash) -> usize {
        self.pending_entries(consortium).count()
    }

    /// The attestation state of consortium `id`; `None` before its first attestation.
    pub fn attestations(&self, id: &Hash) -> Option<&Attestations> {
        self.attestations.get(id)
    }

    fn existing(&self, id: &Hash) -> Result<&Consortium, ConsortiumError> {
        self.consortia.get(id).ok_or(ConsortiumError::UnknownConsortium { consortium: *id })
    }

    /// Would `tx`, signed by `from` with `nonce`, apply now, outside a checkpoint (an
    /// attestation is refused: its window needs the checkpoint height)?
    pub fn check(
        &self,
        tx: &ConsortiumTx,
        from: &AccountId,
        nonce: u64,
    ) -> Result<ConsortiumEffect, ConsortiumError> {
        self.check_at(tx, from, nonce, None)
    }

    /// Would `tx`, signed by `from` with `nonce`, apply at the checkpoint at `checkpoint`
    /// (`None`: outside one)? Returns what it would change.
    pub fn check_at(
        &self,
        tx: &ConsortiumTx,
        from: &AccountId,
        nonce: u64,
        checkpoint: Option<u64>,
    ) -> Result<ConsortiumEffect, ConsortiumError> {
        match tx {
            ConsortiumTx::Create(create) => {
                let id = consortium_id(from, nonce);
                if self.consortia.contains_key(&id) {
                    return Err(ConsortiumError::ConsortiumExists { consortium: id });
                }
                let consortium = Consortium::create(create, from, id)?;
                Ok(ConsortiumEffect::Put(id, Box::new(consortium)))
            }
            ConsortiumTx::Propose { consortium, change } => {
                let mut next = self.existing(consortium)?.clone();
                next.require_party(from)?;
                if next.proposals.len() >= PROPOSALS_OPEN_MAX {
                    return Err(ConsortiumError::TooManyProposals {
                        consortium: *consortium,
                        limit: PROPOSALS_OPEN_MAX,
                    });
                }
                // Refuse a change that could not apply now: a proposal that cannot pass
                // would only hold one of the bounded slots.
                next.clone().apply_change(change)?;
                let proposal = Proposal {
                    change: change.clone(),
                    proposer: *from,
                    approvals: BTreeSet::from([*from]),
                };
                next.proposals.insert(proposal_id(consortium, from, nonce), proposal);
                Ok(ConsortiumEffect::Put(*consortium, Box::new(next.settled(consortium)?)))
            }
            ConsortiumTx::Approve { consortium, proposal } => {
                let mut next = self.existing(consortium)?.clone();
                next.require_party(from)?;
                let open =
                    next.proposals.get_mut(proposal).ok_or(ConsortiumError::UnknownProposal {
                        consortium: *consortium,
                        proposal: *proposal,
                    })?;
                if !open.approvals.insert(*from) {
                    return Err(ConsortiumError::AlreadyApproved {
                        proposal: *proposal,
                        account: *from,
                    });
                }
                Ok(ConsortiumEffect::Put(*consortium, Box::new(next.settled(consortium)?)))
            }
            ConsortiumTx::Withdraw { consortium, proposal } => {
                let mut next = self.existing(consortium)?.clone();
                let unknown = ConsortiumError::UnknownProposal {
                    consortium: *consortium,
                    proposal: *proposal,
                };
                match next.proposals.get(proposal) {
                    Some(open) if open.proposer == *from => {}
                    _ => return Err(unknown),
                }
                next.proposals.remove(proposal);
                Ok(ConsortiumEffect::Put(*consortium, Box::new(next)))
            }
            ConsortiumTx::Write(sealed) => {
                let consortium = self.existing(&sealed.consortium)?;
                consortium.schema(&sealed.table)?;
                if !consortium.may_write(&sealed.table, from) {
                    return Err(ConsortiumError::NoWritePermission {
                        consortium: consortium.id,
                        table: sealed.table.clone(),
                        account: *from,
                    });
                }
                if sealed.key_epoch != consortium.key_epoch {
                    return Err(ConsortiumError::StaleKeyEpoch {
                        consortium: consortium.id,
                        got: sealed.key_epoch,
                        current: consortium.key_epoch,
                    });
                }
                if sealed.ciphertext.len() > ACTION_CIPHERTEXT_BYTES_MAX {
                    return Err(ConsortiumError::CiphertextTooLarge {
                        bytes: sealed.ciphertext.len(),
                        limit: ACTION_CIPHERTEXT_BYTES_MAX,
                    });
                }
                if consortium.approval_tables.contains(&sealed.table) {
                    if self.pending_count(&consortium.id) >= PENDING_ENTRIES_MAX {
                        return Err(ConsortiumError::TooManyPendingEntries {
                            consortium: consortium.id,
                            limit: PENDING_ENTRIES_MAX,
                        });
                    }
                    let entry = PendingEntry {
                        table: sealed.table.clone(),
                        writer: *from,
                        log_hash: sealed.log_hash(),
                        approvals: BTreeSet::new(),
                        denials: BTreeSet::new(),
                    };
                    let id = entry_id(&consortium.id, from, nonce);
                    return Ok(ConsortiumEffect::Pend(consortium.id, id, Box::new(entry)));
                }
                let log = self.log(&consortium.id).append(&sealed.log_hash());
                Ok(ConsortiumEffect::Append(consortium.id, log))
            }
            ConsortiumTx::ApproveEntry { consortium, entry }
            | ConsortiumTx::DenyEntry { consortium, entry } => {
                let state = self.existing(consortium)?;
                let pending = self.pending_entry(consortium, entry).cloned().ok_or(
                    ConsortiumError::UnknownEntry { consortium: *consortium, entry: *entry },
                )?;
                let approve = matches!(tx, ConsortiumTx::ApproveEntry { .. });
                let (pending, passed) = match pending.vote(state, entry, from, approve)? {
                    Decision::Pending(entry) => (Some(Box::new(entry)), None),
                    Decision::Passed => {
                        let log_hash = self.pending_entry(consortium, entry).map(|e| e.log_hash);
                        (None, log_hash.map(|hash| self.log(consortium).append(&hash)))
                    }
                    Decision::Dropped => (None, None),
                };
                Ok(ConsortiumEffect::Vote {
                    consortium: *consortium,
                    entry: *entry,
                    pending,
                    passed,
                })
            }
            ConsortiumTx::Attest { consortium, height, root, certificate } => {
                let checkpoint = checkpoint.ok_or(ConsortiumError::AttestationNeedsCheckpoint)?;
                let state = self.existing(consortium)?;
                let voter = AttestationCertificate::voter(certificate.as_ref(), from)?;
                let next = self
                    .attestations
                    .get(consortium)
                    .cloned()
                    .unwrap_or_default()
                    .attest(state, &voter, *height, *root, checkpoint)?;
                Ok(ConsortiumEffect::Attest(*consortium, Box::new(next)))
            }
        }
    }

    /// The change `tx` (signed by `from` with `nonce`) passes, if `effect`, its checked effect,
    /// closes a proposal by reaching the quorum: what the ledger must carry out beyond the
    /// consortium (a token mint). A withdrawal closes a proposal without passing it.
    pub fn passed_change<'a>(
        &'a self,
        tx: &'a ConsortiumTx,
        from: &AccountId,
        nonce: u64,
        effect: &ConsortiumEffect,
    ) -> Option<&'a PermissionChange> {
        let ConsortiumEffect::Put(id, next) = effect else { return None };
        match tx {
            ConsortiumTx::Propose { change, .. } => {
                let proposal = proposal_id(id, from, nonce);
                (!next.proposals.contains_key(&proposal)).then_some(change)
            }
            ConsortiumTx::Approve { proposal, .. } => {
                let open = self.consortia.get(id)?.proposals.get(proposal)?;
                (!next.proposals.contains_key(proposal)).then_some(&open.change)
            }
            _ => None,
        }
    }

    /// Commit what `check` computed, recording the previous state in `undo`.
    pub fn apply(&mut self, effect: ConsortiumEffect, undo: &mut ConsortiumUndo) {
        match effect {
            ConsortiumEffect::Put(id, consortium) => {
                undo.consortia.push((id, self.consortia.insert(id, *consortium)));
            }
            ConsortiumEffect::Append(id, log) => {
                undo.logs.push((id, self.logs.insert(id, log)));
            }
            ConsortiumEffect::Attest(id, attestations) => {
                undo.attestations.push((id, self.attestations.insert(id, *attestations)));
            }
            ConsortiumEffect::Pend(id, entry, pending) => {
                undo.pending.push(((id, entry), self.pending.insert((id, entry), *pending)));
            }
            ConsortiumEffect::Vote { consortium, entry, pending, passed } => {
                let key = (consortium, entry);
                let previous = match pending {
                    Some(pending) => self.pending.insert(key, *pending),
                    None => self.pending.remove(&key),
                };
                undo.pending.push((key, previous));
                if let Some(log) = passed {
                    undo.logs.push((consortium, self.logs.insert(consortium, log)));
                }
            }
        }
    }

    /// Undo every change recorded in `undo`, newest first.
    pub fn revert(&mut self, undo: ConsortiumUndo) {
        for (key, previous) in undo.pending.into_iter().rev() {
            match previous {
                Some(entry) => self.pending.insert(key, entry),
                None => self.pending.remove(&key),
            };
        }
        for (id, previous) in undo.attestations.into_iter().rev() {
            match previous {
                Some(attestations) => self.attestations.insert(id, attestations),
                None => self.attestations.remove(&id),
            };
        }
        for (id, previous) in undo.logs.into_iter().rev() {
            match previous {
                Some(log) => self.logs.insert(id, log),
                None => self.logs.remove(&id),
            };
        }
        for (id, previous) in undo.consortia.into_iter().rev() {
            match previous {
                Some(consortium) => self.consortia.insert(id, consortium),
                None => self.consortia.remove(&id),
            };
        }
    }

    /// Feed the consortium section of the ledger root: a domain tag, the count, then each
    /// consortium's canonical encoding and its action log, in id order.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/consortia/v0");
        hasher.update(&(self.consortia.len() as u64).to_le_bytes());
        for (id, consortium) in &self.consortia {
            // Encoding a struct of BTreeMaps, strings and byte arrays cannot fail; an error
            // would be a bug, and hashing a marker keeps the root a function of the state.
            let bytes = wire::encode_body(consortium, "consortium").unwrap_or_default();
            debug_assert!(!bytes.is_empty());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            let log = self.log(id);
            hasher.update(&log.count.to_le_bytes());
            hasher.update(log.head.as_bytes());
        }
        // Only once something was attested, so ledger roots from before attestations existed
        // are unchanged.
        if !self.attestations.is_empty() {
            hasher.update(b"vein/ledger/consortia/attestations/v0");
            hasher.update(&(self.attestations.len() as u64).to_le_bytes());
            for (id, attestations) in &self.attestations {
                let bytes = wire::encode_body(attestations, "attestations").unwrap_or_default();
                debug_assert!(!bytes.is_empty());
                hasher.update(id.as_bytes());
                hasher.update(&(bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
        }
        // Hashed only while some entry is pending, so a ledger that never used entry approval
        // keeps the root it had before the feature existed.
        if !self.pending.is_empty() {
            hasher.update(b"vein/ledger/consortia/pending/v1");
            hasher.update(&(self.pending.len() as u64).to_le_bytes());
            for ((consortium, entry), pending) in &self.pending {
                let bytes = wire::encode_body(pending, "pending entry").unwrap_or_default();
                debug_assert!(!bytes.is_empty());
                hasher.update(consortium.as_bytes());
                hasher.update(entry.as_bytes());
                hasher.update(&(bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
        }
    }
}

impl Consortium {
    /// Apply and close every proposal that has reached the quorum (at most the one just
    /// approved; a quorum of 1 passes a proposal in its own transaction).
    fn settled(mut self, id: &Hash) -> Result<Consortium, ConsortiumError> {
        let quorum = usize::from(self.quorum);
        let passed: Vec<Hash> = self
            .proposals
            .iter()
            .filter(|(_, proposal)| proposal.approvals.len() >= quorum)
            .map(|(proposal_id, _)| *proposal_id)
            .collect();
        for proposal_id in passed {
            if let Some(proposal) = self.proposals.remove(&proposal_id) {
                self.apply_change(&proposal.change)?;
            }
        }
        debug_assert_eq!(self.id, *id);
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
