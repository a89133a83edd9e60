//! Why a node refused a transaction, a checkpoint or a request: one variant per rule, with the
//! values that broke it, a short label for counters, and the score the sending peer loses.

use crate::core::checkpoint::CheckpointError;
use crate::core::evm::EvmTxError;
use crate::core::message::REQUEST_IDS_MAX;
use crate::core::wire::WireError;

/// Why a transaction (from a peer or local) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("malformed message: {0}")]
    Malformed(#[from] WireError),
    #[error("bad signature")]
    BadSignature,
    #[error("fee {fee} below the minimum {minimum}")]
    FeeTooLow { fee: u64, minimum: u64 },
    #[error("issued {issued_at_ms} ms, more than the allowed drift ahead of {now_ms} ms")]
    FromTheFuture { issued_at_ms: u64, now_ms: u64 },
    #[error("nonce {nonce} already used by a confirmed transaction")]
    NonceUsed { nonce: u64 },
    #[error("balance {balance} cannot cover {needed}")]
    InsufficientBalance { balance: u64, needed: u64 },
    #[error("amount plus fee overflows")]
    AmountOverflow,
    #[error("parents must differ unless both are genesis")]
    EqualParents,
    #[error("a transfer to its own author can never apply")]
    SelfTransfer,
    #[error("a transfer of amount 0 moves nothing")]
    ZeroAmount,
    #[error("nonce {nonce} is beyond the window of the confirmed floor {floor}: retry later")]
    NonceWindowFull { nonce: u64, floor: u64 },
    #[error("checkpoint rejected: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("request for {count} ids exceeds {REQUEST_IDS_MAX}")]
    RequestTooLarge { count: usize },
    #[error("Ethereum transaction refused: {0}")]
    Evm(#[from] EvmTxError),
    #[error("Ethereum nonce {nonce} already used (the sender's next is {next})")]
    EvmNonceUsed { nonce: u64, next: u64 },
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
