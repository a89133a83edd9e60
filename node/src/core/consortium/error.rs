//! Why a consortium transaction or action is refused. The ledger wraps these in
//! `LedgerError::Consortium`; the replica reports them for actions it skips.

use super::keys::KeyError;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsortiumError {
    #[error("{name:?} is not a valid name (1..=48 ASCII letters, digits or _, no vein_ prefix)")]
    BadName { name: String },
    #[error("table {table} has {count} columns; 1..={limit} allowed")]
    BadColumnCount { table: String, count: usize, limit: usize },
    #[error("table {table} declares column {column} twice")]
    DuplicateColumn { table: String, column: String },
    #[error("table {table}'s primary key must be one of its non-nullable columns")]
    BadPrimaryKey { table: String },
    #[error("a consortium declares table {table} twice")]
    DuplicateTable { table: String },
    #[error("a consortium needs 1..={limit} tables, got {count}")]
    BadTableCount { count: usize, limit: usize },
    #[error("a row of {table} needs {expected} values, got {got}")]
    RowArity { table: String, expected: usize, got: usize },
    #[error("column {column} of {table} holds {expected} values")]
    ValueType { table: String, column: String, expected: &'static str },
    #[error("quorum {quorum} of {parties} parties: it must lie in 1..=parties")]
    BadQuorum { quorum: u16, parties: usize },
    #[error("a consortium needs 1..={limit} parties, got {count}")]
    BadPartyCount { count: usize, limit: usize },
    #[error("a consortium needs 1..={limit} member nodes, got {count}")]
    BadMemberCount { count: usize, limit: usize },
    #[error("unknown consortium {consortium}")]
    UnknownConsortium { consortium: Hash },
    #[error("consortium {consortium} already exists")]
    ConsortiumExists { consortium: Hash },
    #[error("consortium {consortium} has no table {table:?}")]
    UnknownTable { consortium: Hash, table: String },
    #[error("{account} is not a party of consortium {consortium}")]
    NotAParty { consortium: Hash, account: AccountId },
    #[error("{account} has no write permission on {table} in consortium {consortium}")]
    NoWritePermission { consortium: Hash, table: String, account: AccountId },
    #[error("the action is sealed under key epoch {got}; consortium {consortium} is at {current}")]
    StaleKeyEpoch { consortium: Hash, got: u64, current: u64 },
    #[error("an action of {bytes} ciphertext bytes is over the {limit}-byte limit")]
    CiphertextTooLarge { bytes: usize, limit: usize },
    #[error("consortium {consortium} has no open proposal {proposal}")]
    UnknownProposal { consortium: Hash, proposal: Hash },
    #[error("{account} already approved proposal {proposal}")]
    AlreadyApproved { proposal: Hash, account: AccountId },
    #[error("consortium {consortium} has {limit} open proposals, the most allowed")]
    TooManyProposals { consortium: Hash, limit: usize },
    #[error("consortium {consortium} has no pending entry {entry}")]
    UnknownEntry { consortium: Hash, entry: Hash },
    #[error("{account} already voted on entry {entry}")]
    AlreadyVoted { entry: Hash, account: AccountId },
    #[error("consortium {consortium} has {limit} pending entries, the most allowed")]
    TooManyPendingEntries { consortium: Hash, limit: usize },
    #[error("the change would change nothing: {reason}")]
    NoChange { reason: &'static str },
    #[error("{node} is already a member node of consortium {consortium}")]
    MemberExists { consortium: Hash, node: AccountId },
    #[error("{node} is not a member node of consortium {consortium}")]
    UnknownMember { consortium: Hash, node: AccountId },
    #[error("a rekey must wrap the new key for exactly the remaining members ({expected} nodes)")]
    RekeyMembers { expected: usize },
    #[error("a rekey to epoch {got} must name epoch {expected}")]
    RekeyEpoch { expected: u64, got: u64 },
    #[error("the sealed action names table {sealed:?} but its plaintext writes {inner:?}")]
    ActionTableMismatch { sealed: String, inner: String },
    #[error("an action holds {count} row operations; 1..={limit} allowed")]
    ActionOpCount { count: usize, limit: usize },
    #[error("the plaintext does not match the action's on-chain hash")]
    PlaintextHashMismatch,
    #[error("malformed consortium data: {reason}")]
    Malformed { reason: String },
    #[error("{0}")]
    Key(KeyError),
    #[error("{node} is not a member node of consortium {consortium}: only members attest")]
    NotAMember { consortium: Hash, node: AccountId },
    #[error(
        "an attestation applied at checkpoint {checkpoint} must name a height in \
         [{checkpoint} - {window}, {checkpoint}), not {height}"
    )]
    AttestationHeight { height: u64, checkpoint: u64, window: u64 },
    #[error("{node} already attested height {height} of consortium {consortium}")]
    AlreadyAttested { consortium: Hash, height: u64, node: AccountId },
    #[error("an attestation applies only at a checkpoint (its height window needs one)")]
    AttestationNeedsCheckpoint,
}
