//! Why a node refused a transaction, a checkpoint or a request: one variant per rule, with the
//! values that broke it, a short label for counters, and the score the sending peer loses.

use crate::core::checkpoint::CheckpointError;
use crate::core::evm::EvmTxError;
use crate::core::message::REQUEST_IDS_MAX;
use crate::core::wire::WireError;

/// Why a transaction (from a peer or local) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The message did not decode (see the [`WireError`]).
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    /// The transaction's signature does not verify for its author.
    #[error("bad signature")]
    BadSignature,
    /// The fee is below `Params::fee_min`.
    #[error("fee {fee} below the minimum {minimum}")]
    FeeTooLow {
        /// The transaction's fee, in tokens.
        fee: u64,
        /// `Params::fee_min`.
        minimum: u64,
    },
    /// `issued_at_ms` is more than `Params::future_drift_ms` ahead of the node's clock.
    #[error("issued {issued_at_ms} ms, more than the allowed drift ahead of {now_ms} ms")]
    FromTheFuture {
        /// The transaction's issue time, in ms.
        issued_at_ms: u64,
        /// The node's clock, in ms.
        now_ms: u64,
    },
    /// The confirmed ledger already records the author's nonce as used.
    #[error("nonce {nonce} already used by a confirmed transaction")]
    NonceUsed {
        /// The transaction's nonce.
        nonce: u64,
    },
    /// The author's confirmed balance is below the transaction's debit.
    #[error("balance {balance} cannot cover {needed}")]
    InsufficientBalance {
        /// The author's confirmed balance, in tokens.
        balance: u64,
        /// The debit: amount (or escrow) plus fee.
        needed: u64,
    },
    /// Amount (or escrow) plus fee overflows a `u64`.
    #[error("amount plus fee overflows")]
    AmountOverflow,
    /// Both parents are the same unit, which is not genesis.
    #[error("parents must differ unless both are genesis")]
    EqualParents,
    /// A transfer to its own author (refused on arrival: it could never apply).
    #[error("a transfer to its own author can never apply")]
    SelfTransfer,
    /// A transfer of 0 tokens (refused on arrival: it would only add a unit).
    #[error("a transfer of amount 0 moves nothing")]
    ZeroAmount,
    /// This node's next free nonce is `NONCE_WINDOW` or more above its confirmed floor: its
    /// own transaction could not apply until earlier ones confirm (backpressure).
    #[error("nonce {nonce} is beyond the window of the confirmed floor {floor}: retry later")]
    NonceWindowFull {
        /// The nonce the transaction would have used.
        nonce: u64,
        /// The account's confirmed nonce floor.
        floor: u64,
    },
    /// A checkpoint failed validation.
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A request for more than [`REQUEST_IDS_MAX`] ids.
    #[error("request for {count} ids exceeds {REQUEST_IDS_MAX}")]
    RequestTooLarge {
        /// Ids requested.
        count: usize,
    },
    /// An `Evm` transaction's Ethereum payload does not decode, recover, or carry this
    /// network's chain id.
    #[error("Ethereum transaction refused: {0}")]
    Evm(#[from] EvmTxError),
    /// The Ethereum nonce is below the sender's next one in the confirmed EVM state.
    #[error("Ethereum nonce {nonce} already used (the sender's next is {next})")]
    EvmNonceUsed {
        /// The Ethereum transaction's nonce.
        nonce: u64,
        /// The sender's next unused nonce.
        next: u64,
    },
}

impl RejectReason {
    /// A short label for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            RejectReason::Malformed(WireError::Oversize { .. }) => "oversize",
            RejectReason::Malformed(WireError::UnknownVersion { .. }) => "unknown_version",
            RejectReason::Malformed(WireError::UnknownKind { .. }) => "unknown_kind",
            RejectReason::Malformed(_) => "malformed",
            RejectReason::BadSignature => "bad_signature",
            RejectReason::FeeTooLow { .. } => "fee_too_low",
            RejectReason::FromTheFuture { .. } => "from_the_future",
            RejectReason::NonceUsed { .. } => "nonce_used",
            RejectReason::InsufficientBalance { .. } => "insufficient_balance",
            RejectReason::AmountOverflow => "amount_overflow",
            RejectReason::EqualParents => "equal_parents",
            RejectReason::SelfTransfer => "self_transfer",
            RejectReason::ZeroAmount => "zero_amount",
            RejectReason::NonceWindowFull { .. } => "nonce_window_full",
            RejectReason::Checkpoint(CheckpointError::FromTheFuture { .. }) => {
                "checkpoint_from_the_future"
            }
            RejectReason::Checkpoint(CheckpointError::DeadlineNotElapsed { .. }) => {
                "checkpoint_deadline_not_elapsed"
            }
            RejectReason::Checkpoint(CheckpointError::PlotOfAnotherAccount { .. }) => {
                "checkpoint_plot_of_another_account"
            }
            RejectReason::Checkpoint(_) => "checkpoint_invalid",
            RejectReason::RequestTooLarge { .. } => "request_too_large",
            RejectReason::Evm(EvmTxError::WrongChainId { .. }) => "evm_wrong_chain_id",
            RejectReason::Evm(EvmTxError::BadSignature { .. }) => "evm_bad_signature",
            RejectReason::Evm(_) => "evm_invalid",
            RejectReason::EvmNonceUsed { .. } => "evm_nonce_used",
        }
    }

    /// Score lost by the peer that sent it. Clock skew and staleness are not misbehaviour.
    pub(super) fn penalty(&self) -> i64 {
        match self {
            RejectReason::FromTheFuture { .. }
            | RejectReason::NonceUsed { .. }
            | RejectReason::InsufficientBalance { .. }
            | RejectReason::EvmNonceUsed { .. }
            | RejectReason::Checkpoint(CheckpointError::FromTheFuture { .. }) => 0,
            RejectReason::BadSignature | RejectReason::Checkpoint(_) => 50,
            _ => 20,
        }
    }
}
