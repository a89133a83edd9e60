//! Why a consortium transaction or action is refused. The ledger wraps these in
//! `LedgerError::Consortium`; the replica reports them for actions it skips.

use super::keys::KeyError;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

/// Why a consortium transaction is refused by the chain, or a sealed action by a member's
/// replica. Hashes name consortia (`consortium_id`), proposals (`proposal_id`) and pending
/// entries (`entry_id`); counts and limits are numbers of items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsortiumError {
    /// A consortium, table or column name fails `schema::check_name`.
    #[error("{name:?} is not a valid name (1..=48 ASCII letters, digits or _, no vein_ prefix)")]
    BadName {
        /// The refused name, cut to a few characters past the length limit.
        name: String,
    },
    /// A table declares no column or more than `schema::COLUMNS_MAX`.
    #[error("table {table} has {count} columns; 1..={limit} allowed")]
    BadColumnCount {
        /// Name of the table as declared.
        table: String,
        /// Columns it declares.
        count: usize,
        /// Most columns allowed.
        limit: usize,
    },
    /// Two columns of a table have the same name, ignoring case (as SQL compares them).
    #[error("table {table} declares column {column} twice")]
    DuplicateColumn {
        /// Name of the table as declared.
        table: String,
        /// The second column with that name.
        column: String,
    },
    /// The primary-key index is outside the columns or names a nullable column.
    #[error("table {table}'s primary key must be one of its non-nullable columns")]
    BadPrimaryKey {
        /// Name of the table as declared.
        table: String,
    },
    /// Two tables of one creation have the same name, ignoring case.
    #[error("a consortium declares table {table} twice")]
    DuplicateTable {
        /// The second table with that name.
        table: String,
    },
    /// A creation declares no table or more than `schema::TABLES_MAX`.
    #[error("a consortium needs 1..={limit} tables, got {count}")]
    BadTableCount {
        /// Tables declared.
        count: usize,
        /// Most tables allowed.
        limit: usize,
    },
    /// A row of an insert or upsert does not hold exactly one value per column.
    #[error("a row of {table} needs {expected} values, got {got}")]
    RowArity {
        /// Name of the table the row operation writes.
        table: String,
        /// The table's column count.
        expected: usize,
        /// Values in the row.
        got: usize,
    },
    /// A value does not have its column's type, or is `Null` in a non-nullable column.
    #[error("column {column} of {table} holds {expected} values")]
    ValueType {
        /// Name of the table the row operation writes.
        table: String,
        /// The column the value is for.
        column: String,
        /// The column's type name (`ColumnType::name`).
        expected: &'static str,
    },
    /// The creation's quorum is 0 or above its party count.
    #[error("quorum {quorum} of {parties} parties: it must lie in 1..=parties")]
    BadQuorum {
        /// The quorum asked for.
        quorum: u16,
        /// Parties in the creation.
        parties: usize,
    },
    /// A creation names no party or more than `state::PARTIES_MAX`.
    #[error("a consortium needs 1..={limit} parties, got {count}")]
    BadPartyCount {
        /// Parties named.
        count: usize,
        /// Most parties allowed.
        limit: usize,
    },
    /// A creation or membership change leaves no member node or more than
    /// `state::MEMBERS_MAX`.
    #[error("a consortium needs 1..={limit} member nodes, got {count}")]
    BadMemberCount {
        /// Member nodes there would be.
        count: usize,
        /// Most member nodes allowed.
        limit: usize,
    },
    /// A transaction names a consortium that was never created.
    #[error("unknown consortium {consortium}")]
    UnknownConsortium {
        /// The id named.
        consortium: Hash,
    },
    /// A creation would produce an id that already exists (a replayed signer and nonce).
    #[error("consortium {consortium} already exists")]
    ConsortiumExists {
        /// The existing id.
        consortium: Hash,
    },
    /// A write, grant, deny or approval rule names a table the consortium does not declare.
    #[error("consortium {consortium} has no table {table:?}")]
    UnknownTable {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The table named.
        table: String,
    },
    /// A signer that is not a party proposes or votes, or a creator leaves itself out of the
    /// parties.
    #[error("{account} is not a party of consortium {consortium}")]
    NotAParty {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The account that signed the transaction.
        account: AccountId,
    },
    /// A signer writes a table it may not write (never granted, or denied since); also when
    /// a pending entry's writer lost the permission before it passed.
    #[error("{account} has no write permission on {table} in consortium {consortium}")]
    NoWritePermission {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// Name of the table the row operation writes.
        table: String,
        /// The writer.
        account: AccountId,
    },
    /// A write is sealed under an older (or future) key epoch than the consortium's current.
    #[error("the action is sealed under key epoch {got}; consortium {consortium} is at {current}")]
    StaleKeyEpoch {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The write's `key_epoch`.
        got: u64,
        /// The consortium's `key_epoch`.
        current: u64,
    },
    /// A write's ciphertext is over `action::ACTION_CIPHERTEXT_BYTES_MAX`.
    #[error("an action of {bytes} ciphertext bytes is over the {limit}-byte limit")]
    CiphertextTooLarge {
        /// Ciphertext length, in bytes.
        bytes: usize,
        /// Largest ciphertext allowed, in bytes.
        limit: usize,
    },
    /// An approval or withdrawal names no open proposal (passed, withdrawn, never made, or
    /// made by another proposer for a withdrawal).
    #[error("consortium {consortium} has no open proposal {proposal}")]
    UnknownProposal {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The proposal id named.
        proposal: Hash,
    },
    /// A party approves a proposal it already approved (or proposed).
    #[error("{account} already approved proposal {proposal}")]
    AlreadyApproved {
        /// The proposal.
        proposal: Hash,
        /// The approving party.
        account: AccountId,
    },
    /// A proposal while `state::PROPOSALS_OPEN_MAX` are open.
    #[error("consortium {consortium} has {limit} open proposals, the most allowed")]
    TooManyProposals {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// Most open proposals allowed.
        limit: usize,
    },
    /// A vote names no pending entry (decided, or never written).
    #[error("consortium {consortium} has no pending entry {entry}")]
    UnknownEntry {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The entry id named.
        entry: Hash,
    },
    /// A party votes twice on one pending entry.
    #[error("{account} already voted on entry {entry}")]
    AlreadyVoted {
        /// The entry.
        entry: Hash,
        /// The voting party.
        account: AccountId,
    },
    /// A write to an approval table while `entries::PENDING_ENTRIES_MAX` entries wait.
    #[error("consortium {consortium} has {limit} pending entries, the most allowed")]
    TooManyPendingEntries {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// Most pending entries allowed.
        limit: usize,
    },
    /// A permission change that would leave the consortium as it is.
    #[error("the change would change nothing: {reason}")]
    NoChange {
        /// Which no-op it is (for example "already granted").
        reason: &'static str,
    },
    /// An `AddMember` names a node that is already a member.
    #[error("{node} is already a member node of consortium {consortium}")]
    MemberExists {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The node account named.
        node: AccountId,
    },
    /// A `RemoveMember` names a node that is not a member.
    #[error("{node} is not a member node of consortium {consortium}")]
    UnknownMember {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The node account named.
        node: AccountId,
    },
    /// A key set is not wrapped for exactly the member nodes (after the change).
    #[error("a rekey must wrap the new key for exactly the remaining members ({expected} nodes)")]
    RekeyMembers {
        /// Member nodes the key must be wrapped for.
        expected: usize,
    },
    /// A rekey's epoch is not the current epoch plus one.
    #[error("a rekey to epoch {got} must name epoch {expected}")]
    RekeyEpoch {
        /// The current key epoch plus one.
        expected: u64,
        /// The rekey's epoch.
        got: u64,
    },
    /// An opened action writes another table than the one its sealed envelope names (a
    /// writer trying to pass a write past the chain's per-table permission check).
    #[error("the sealed action names table {sealed:?} but its plaintext writes {inner:?}")]
    ActionTableMismatch {
        /// Table named in clear on the chain.
        sealed: String,
        /// Table named inside the plaintext.
        inner: String,
    },
    /// An action holds no row operation or more than `action::ACTION_OPS_MAX`.
    #[error("an action holds {count} row operations; 1..={limit} allowed")]
    ActionOpCount {
        /// Row operations in the action.
        count: usize,
        /// Most operations allowed.
        limit: usize,
    },
    /// An opened plaintext's hash differs from the sealed action's `plaintext_hash`.
    #[error("the plaintext does not match the action's on-chain hash")]
    PlaintextHashMismatch,
    /// Bytes that do not decode: an action's plaintext, or a replica's stored data.
    #[error("malformed consortium data: {reason}")]
    Malformed {
        /// The decoder's or the store's error message.
        reason: String,
    },
    /// Sealing, opening, wrapping or unwrapping a key or action failed.
    #[error("{0}")]
    Key(KeyError),
    /// An attestation signed by an account that is not a member node.
    #[error("{node} is not a member node of consortium {consortium}: only members attest")]
    NotAMember {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The account that signed the transaction.
        node: AccountId,
    },
    /// An attestation names a height outside `[checkpoint - window, checkpoint)`.
    #[error(
        "an attestation applied at checkpoint {checkpoint} must name a height in \
         [{checkpoint} - {window}, {checkpoint}), not {height}"
    )]
    AttestationHeight {
        /// The height attested.
        height: u64,
        /// Height of the checkpoint applying the attestation.
        checkpoint: u64,
        /// `attestation::ATTESTATION_WINDOW`, in checkpoint heights.
        window: u64,
    },
    /// A member node attests a height it already attested.
    #[error("{node} already attested height {height} of consortium {consortium}")]
    AlreadyAttested {
        /// Id of the consortium the transaction names.
        consortium: Hash,
        /// The height attested.
        height: u64,
        /// The member node.
        node: AccountId,
    },
    /// An attestation checked or applied outside a checkpoint: its height window needs the
    /// checkpoint's height.
    #[error("an attestation applies only at a checkpoint (its height window needs one)")]
    AttestationNeedsCheckpoint,
    /// An attestation signed by an account whose certificate the named member did not sign.
    #[error("{attester} holds no valid certificate of member {member} to attest for it")]
    BadAttestationCertificate {
        /// The member node the certificate names.
        member: AccountId,
        /// The account that signed the attestation.
        attester: AccountId,
    },
}
