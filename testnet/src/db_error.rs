//! Why a `vein-testnet db` command refused or failed ([`DbCliError`]), and which exit code
//! that is: 3 for what the chain, the ledger's rules or a replica refused, 2 for text that
//! cannot mean anything, 1 for a broken testnet.

use crate::db_syntax::SyntaxError;

/// Why a `db` command refused or failed, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbCliError {
    /// A table definition, row operations or a literal on the command line did not parse.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// The node answered 404 for `/consortium/{id}`: no consortium with that id on its chain.
    #[error("unknown consortium {id} (`vein-testnet db list` shows the consortia)")]
    UnknownConsortium {
        /// The consortium id asked for (64 hex).
        id: String,
    },
    /// A command named a table the consortium's schema does not have.
    #[error("consortium {consortium} has no table {table:?} (its tables: {tables})")]
    UnknownTable {
        /// The consortium id (64 hex).
        consortium: String,
        /// The table named on the command line.
        table: String,
        /// The consortium's tables, comma-separated.
        tables: String,
    },
    /// A proposer or approver of a permission change is not among the consortium's parties.
    #[error("{party} is not a party of consortium {consortium}")]
    NotAParty {
        /// The party label given: a node index or `faucet`.
        party: String,
        /// The consortium id (64 hex).
        consortium: String,
    },
    /// `exec` without `--no-check` from a signer not among the table's writers, or `db load`
    /// when no account this testnet holds a key for is among them.
    #[error(
        "{account} may not write table {table:?} of consortium {consortium} (denied, or never \
         granted); --no-check sends it anyway, and the chain ignores it"
    )]
    NoWritePermission {
        /// The signer's account (64 hex), or `every account of this testnet` from `db load`.
        account: String,
        /// The table written.
        table: String,
        /// The consortium id (64 hex).
        consortium: String,
    },
    /// A grant of a permission already held, a deny of one not held, or an approval setting
    /// already as asked: the ledger would ignore it, and it would hold a proposal slot.
    #[error("the change would change nothing: {reason}")]
    NothingToChange {
        /// Which part of the consortium is already as asked.
        reason: String,
    },
    /// `vote` on an entry id that is not among the consortium's pending entries.
    #[error(
        "consortium {consortium} has no pending entry {entry} (decided already, or never \
         written to a table requiring approval; `db list --consortium ID` shows the pending ones)"
    )]
    UnknownEntry {
        /// The entry id given (64 hex).
        entry: String,
        /// The consortium id (64 hex).
        consortium: String,
    },
    /// `vote` from a party whose approval or denial the entry already holds.
    #[error("{party} already voted on entry {entry}")]
    AlreadyVoted {
        /// The voting party's label: a node index or `faucet`.
        party: String,
        /// The entry id (64 hex).
        entry: String,
    },
    /// Fewer approvers (given, or parties with keys in this testnet) than the quorum needs
    /// besides the proposer; nothing was proposed.
    #[error(
        "the quorum is {quorum}: {needed} more approving part(ies) needed, but only {available} \
         other part(ies) have keys in this testnet"
    )]
    NotEnoughApprovers {
        /// m: approving parties a change needs, the proposer's own proposal included.
        quorum: u16,
        /// Approvals needed besides the proposal (quorum − 1).
        needed: usize,
        /// Approvers found.
        available: usize,
    },
    /// `db load --writers N` with N outside 1..=`db_writers::WRITERS_MAX`.
    #[error(
        "--writers {given}: must be 1..={max} (omit it to sign with the testnet's own party \
         keys that may write the table)"
    )]
    WriterCount {
        /// The count given.
        given: usize,
        /// `db_writers::WRITERS_MAX`.
        max: usize,
    },
    /// `db load --writers` would grant its writers, but every proposal slot of the consortium
    /// (`PROPOSALS_OPEN_MAX`) is held by an open proposal.
    #[error(
        "consortium {consortium} has {open} open proposals, the most it holds: approve or \
         withdraw some before granting writers"
    )]
    NoProposalSlot {
        /// The consortium id (64 hex).
        consortium: String,
        /// Open proposals on chain.
        open: usize,
    },
    /// A node refused a set-up transaction of `db load --writers` (a proposal or approval).
    #[error("the node refused a {what} transaction of the writers' grant: {reason}")]
    SetupRefused {
        /// `propose` or `approve`.
        what: &'static str,
        /// The node's reason.
        reason: String,
    },
    /// `exec` without `--no-check`: a row or key does not fit the table's schema (arity,
    /// column types, nulls), or the action holds too many operations.
    #[error("the row does not fit table {table:?}: {reason}")]
    BadRow {
        /// The table written.
        table: String,
        /// The schema check's complaint.
        reason: String,
    },
    /// A consortium transaction became final but the ledger did not apply it.
    #[error(
        "{what} {tx} is final but ignored by the ledger (refused at its position in the order: \
         a denied writer, a stale key epoch or a proposal already decided)"
    )]
    FinalIgnored {
        /// Kind of transaction: `create`, `propose`, `approve`, `write`, ...
        what: &'static str,
        /// Its transaction id (64 hex).
        tx: String,
    },
    /// After a final write, a member's replica at that height does not hold the row the
    /// write's last operation on `key` left (or still holds a deleted one).
    #[error(
        "write {tx} is final at height {height}, but member node {node}'s replica does not hold \
         what it wrote for key {key} (the replica refused it: an insert over an existing key or \
         a delete of a missing one; or a later write in that checkpoint changed it)"
    )]
    NotInReplica {
        /// The write's transaction id (64 hex).
        tx: String,
        /// Height of the checkpoint that applied it.
        height: u64,
        /// Testnet index of the member node asked.
        node: usize,
        /// The primary key, as a literal (`7`, `'ada'`).
        key: String,
    },
    /// A read needs a member's replica, but no member node is running and unpaused.
    #[error("no running member node of consortium {consortium} in this testnet")]
    NoMemberNode {
        /// The consortium id (64 hex).
        consortium: String,
    },
    /// A node answered 404 on a replica route: it keeps no replica (not a member).
    #[error("node {node} keeps no replica of consortium {consortium} (it is not a member)")]
    NotAMember {
        /// Testnet index of the node asked.
        node: usize,
        /// The consortium id (64 hex).
        consortium: String,
    },
    /// A row's Merkle proof did not match its root, members' roots at one height differ, or a
    /// replica's rebuild from its action log differs from it.
    #[error("verification failed: {reason}")]
    VerifyFailed {
        /// Which check failed, with the roots or key involved.
        reason: String,
    },
    /// A member's replica answered 400: SQL that does not prepare or is not one read-only
    /// SELECT, an unknown table, a key of the wrong type.
    #[error("member node {node} refused the request: {reason}")]
    BadRequest {
        /// Testnet index of the node asked.
        node: usize,
        /// The body of its 400 answer.
        reason: String,
    },
}

impl DbCliError {
    /// The chain, the ledger's rules or a replica said no (exit code 3), as opposed to a
    /// broken testnet or a timeout (1) or a malformed command line (2).
    pub fn is_refusal(&self) -> bool {
        !self.is_usage() && !matches!(self, DbCliError::NoMemberNode { .. })
    }

    /// Text the command line gave that cannot mean anything: bad syntax, or SQL the replica
    /// cannot prepare (exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DbCliError::Syntax(_) | DbCliError::BadRequest { .. } | DbCliError::WriterCount { .. }
        )
    }
}
