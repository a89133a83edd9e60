//! Why the ledger refuses: [`LedgerError`], what a transaction that does not apply (or a
//! settlement or mint that fails) reports, and [`InvariantViolation`], a broken invariant that
//! only a bug can cause. Both are plain data; the rules that raise them are in the ledger.

use crate::core::consortium::ConsortiumError;
use crate::core::crypto::AccountId;
use crate::core::evm::{EvmTxError, ExecutionError};
use crate::core::fl::FlError;
use crate::core::hash::Hash;
use crate::core::peg::{PegError, PegInvariantViolation};
use crate::core::sidechain::{SideChainError, SideChainInvariant};
use crate::core::storage::{AssignmentError, PaymentError, ProofError, PutError};
use crate::core::token::{TokenError, TokenSupplyMismatch};

/// Why a transaction does not apply (it is then ignored at its checkpoint), or why a
/// settlement or a mint failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The author's nonce is already used.
    #[error("nonce {nonce} of {account:?} is already used")]
    NonceUsed {
        /// The author.
        account: AccountId,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The nonce is `NONCE_WINDOW` or more above the author's floor.
    #[error("nonce {nonce} of {account:?} is beyond the window (floor {floor})")]
    NonceOutsideWindow {
        /// The author.
        account: AccountId,
        /// The transaction's nonce.
        nonce: u64,
        /// The author's nonce floor (every nonce below it is used).
        floor: u64,
    },
    /// The author's balance is below the transaction's debit.
    #[error("{account:?} holds {balance} but the transaction needs {needed}")]
    InsufficientBalance {
        /// The author.
        account: AccountId,
        /// Its balance, in tokens.
        balance: u64,
        /// The debit (amount or escrow plus fee), in tokens.
        needed: u64,
    },
    /// A debit (amount or escrow plus fee) or the minted total overflows a `u64`.
    #[error("amount plus fee overflows")]
    AmountOverflow,
    /// A credit would take the account's balance past `u64::MAX`.
    #[error("crediting {account:?} would overflow its balance")]
    BalanceOverflow {
        /// The credited account.
        account: AccountId,
    },
    /// A transfer whose receiver is its author.
    #[error("a transfer to oneself is not allowed")]
    SelfTransfer,
    /// A storage transaction applied under `StorageMode::Refuse` (no checkpoint context).
    #[error("storage transactions need a checkpoint context")]
    NoStorageContext,
    /// The put's own fields are inconsistent (shard counts, sizes, roots, node list, term).
    #[error("invalid store put: {0}")]
    InvalidPut(PutError),
    /// The put's node list is not what the assignment rule gives over the storage node set,
    /// or a repair found no node to move the shard to.
    #[error("storage assignment does not match the node set: {0}")]
    Assignment(AssignmentError),
    /// A put for a file that already has an active contract.
    #[error("file {file_id:?} already has an active contract")]
    FileActive {
        /// The file's id.
        file_id: Hash,
    },
    /// A round's proof for this chunk size would not fit in one message ([`PROOF_BYTES_MAX`]).
    #[error("a proof of {chunk_bytes}-byte chunks would take {proof_bytes} bytes, over {limit}")]
    ProofTooLarge {
        /// The put's chunk size, in bytes.
        chunk_bytes: u32,
        /// Upper bound of one round's proof, in bytes.
        proof_bytes: u64,
        /// [`PROOF_BYTES_MAX`].
        limit: u64,
    },
    /// The contract's last round would overflow a `u64`.
    #[error("a term of {term_rounds} rounds from height {height} overflows")]
    TermOverflow {
        /// Height of the checkpoint applying the put.
        height: u64,
        /// The put's term, in rounds.
        term_rounds: u64,
    },
    /// A proof or repair for a file with no active contract.
    #[error("no active contract for file {file_id:?}")]
    UnknownFile {
        /// The file's id.
        file_id: Hash,
    },
    /// A shard index at or beyond the put's shard count.
    #[error("shard {shard_index} out of range for {total_shards} shards")]
    ShardIndexOutOfRange {
        /// The index given.
        shard_index: u8,
        /// The put's shard count.
        total_shards: u8,
    },
    /// A proof from another account than the shard's assigned node.
    #[error("shard {shard_index} of {file_id:?} is held by {expected:?}, not {got:?}")]
    NotAssignedNode {
        /// The file's id.
        file_id: Hash,
        /// The proven shard.
        shard_index: u8,
        /// The node the contract assigns the shard to.
        expected: AccountId,
        /// The proof's author.
        got: AccountId,
    },
    /// A proof for a round outside the contract's term.
    #[error("round {round} is outside the contract's rounds {first}..={last}")]
    RoundOutsideTerm {
        /// The proof's round.
        round: u64,
        /// The contract's first round.
        first: u64,
        /// Its last round.
        last: u64,
    },
    /// A proof applied by a checkpoint below its round's height.
    #[error("proof for round {round} applied at height {height}, before its round")]
    ProofTooEarly {
        /// The proof's round.
        round: u64,
        /// Height of the applying checkpoint.
        height: u64,
    },
    /// A proof applied after `round + D`.
    #[error("proof for round {round} applied at height {height}, after its deadline {deadline}")]
    ProofTooLate {
        /// The proof's round.
        round: u64,
        /// Height of the applying checkpoint.
        height: u64,
        /// `round + D`: the last height that may apply it.
        deadline: u64,
    },
    /// The shard is already proven for this round.
    #[error("shard {shard_index} of {file_id:?} is already proven for round {round}")]
    DuplicateProof {
        /// The file's id.
        file_id: Hash,
        /// The shard.
        shard_index: u8,
        /// The round.
        round: u64,
    },
    /// The storage context lacks the generation signature of the proof's round.
    #[error("no generation signature known for round {round}")]
    MissingGenerationSignature {
        /// The proof's round.
        round: u64,
    },
    /// The proof's chunks or Merkle paths do not verify against the put's roots.
    #[error("storage proof does not verify: {0}")]
    BadProof(ProofError),
    /// A repair before the shard's node missed `M` settled rounds in a row.
    #[error("shard {shard_index} missed {consecutive} rounds in a row; repair needs {needed}")]
    RepairNotDue {
        /// The shard to move.
        shard_index: u8,
        /// Its consecutive misses so far.
        consecutive: u64,
        /// `StorageParams::repair_after_missed` (at least 1).
        needed: u64,
    },
    /// A round's payouts could not be computed while settling.
    #[error("settlement failed: {0}")]
    Payment(PaymentError),
    /// A consortium transaction broke a consortium rule.
    #[error("consortium transaction refused: {0}")]
    Consortium(ConsortiumError),
    /// The carried Ethereum transaction does not decode, recover or carry this chain id.
    #[error("Ethereum transaction refused: {0}")]
    EvmTx(EvmTxError),
    /// revm refused to execute it (the transaction is invalid for the current EVM state).
    #[error("Ethereum transaction not executable: {0}")]
    EvmExecution(ExecutionError),
    /// The Ethereum nonce is below the sender's next one.
    #[error("nonce {nonce} of {sender} is already used")]
    EvmNonceUsed {
        /// The Ethereum sender.
        sender: revm::primitives::Address,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The Ethereum nonce is more than `HELD_AHEAD_MAX` above the sender's next one.
    #[error("nonce {nonce} of {sender} is too far ahead of {expected}")]
    EvmNonceTooFarAhead {
        /// The Ethereum sender.
        sender: revm::primitives::Address,
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
    /// Another transaction of the sender with this future nonce is already held.
    #[error("nonce {nonce} of {sender} is already held")]
    EvmNonceHeld {
        /// The Ethereum sender.
        sender: revm::primitives::Address,
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The transaction's gas limit does not fit in what is left of the checkpoint's gas.
    #[error("gas limit {gas_limit} does not fit: {used} of {limit} used in this checkpoint")]
    CheckpointGasFull {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// Gas already used by this checkpoint's transactions.
        used: u64,
        /// `CHECKPOINT_GAS_MAX`.
        limit: u64,
    },
    /// A federated-learning transaction broke a task rule.
    #[error("federated-learning transaction refused: {0}")]
    Fl(FlError),
    /// A business-token transaction broke a token rule.
    #[error("token transaction refused: {0}")]
    Token(TokenError),
    /// A side-chain transaction broke a side-chain rule (forged or replayed anchor, ...).
    #[error("side-chain transaction refused: {0}")]
    SideChain(SideChainError),
    /// A peg transaction broke a peg rule (docs/peg.md).
    #[error("peg transaction refused: {0}")]
    Peg(PegError),
}

/// A broken ledger invariant: a bug, never an input error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    /// Balances plus escrows differ from `genesis + minted − burned`.
    #[error(
        "balances {balances} + escrow {escrowed} != supply {supply} (genesis {genesis} + minted {minted} - burned {burned})"
    )]
    SupplyMismatch {
        /// Sum of all native balances.
        balances: u128,
        /// Sum of storage and learning-task escrows.
        escrowed: u128,
        /// `genesis + minted − burned`.
        supply: u128,
        /// The genesis allocations' total.
        genesis: u64,
        /// Tokens minted as checkpoint rewards so far.
        minted: u64,
        /// Tokens burned so far (fee shares, forfeits).
        burned: u64,
    },
    /// A storage contract's escrow differs from the budgets of its unsettled rounds.
    #[error(
        "contract {file_id:?} escrows {escrow}, its unsettled rounds' budgets sum to {expected}"
    )]
    EscrowMismatch {
        /// The contract's file.
        file_id: Hash,
        /// Its escrow.
        escrow: u64,
        /// [`crate::core::contracts::Contract::expected_escrow`].
        expected: u64,
    },
    /// A learning task's escrow differs from the price of its unsettled rounds.
    #[error("learning task {task:?} escrows {escrow}, its unsettled rounds' price is {expected}")]
    FlEscrowMismatch {
        /// The task's id.
        task: Hash,
        /// Its escrow.
        escrow: u64,
        /// What its unsettled rounds cost.
        expected: u64,
    },
    /// A business token's balances do not sum to its `issued + minted − burned`.
    #[error("{0}")]
    TokenSupply(TokenSupplyMismatch),
    /// A side chain's light client is inconsistent.
    #[error("{0}")]
    SideChain(SideChainInvariant),
    /// The peg's escrows, wrapped tokens or outbox disagree (docs/peg.md).
    #[error("{0}")]
    Peg(PegInvariantViolation),
}
