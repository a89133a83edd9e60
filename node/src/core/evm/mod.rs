//! The EVM: Ethereum-signed transactions and Solidity contracts, executed by `revm` in
//! checkpoint (White Flag) order (docs/evm.md).
//!
//! Model:
//! - An Ethereum transaction (EIP-155 legacy, EIP-2930 or EIP-1559; raw signed bytes) travels in
//!   the DAG inside a vein transaction of kind `TxKind::Evm` ([`EvmCall`]). The vein carrier is
//!   signed by whoever submitted it (a node's JSON-RPC wraps what a wallet sent) and pays the
//!   vein fee; the Ethereum sender pays the gas. Admission decodes the raw bytes, recovers the
//!   sender and checks the chain id ([`EvmTxError`]); execution happens when a checkpoint applies
//!   the carrier, and a reorganisation undoes it with the rest of the ledger. The sender is
//!   recovered once per node: the call remembers it, so apply and re-apply reuse admission's
//!   answer ([`SenderRecoveries`] counts both).
//! - One balance store: EVM address `A` is the native account `12 zero bytes ‖ A`
//!   ([`account_of`]); one native unit is one gwei (10^9 wei). Value moves in whole gwei: an
//!   execution that would leave any balance with a sub-gwei remainder fails (status 0).
//! - Contract state (nonces, code, storage) lives in [`EvmState`], BTreeMaps only, one field of
//!   the `Ledger`; its commitment is a section of `Ledger::root()` present only when it is
//!   non-empty, so ledgers without contracts keep their roots.
//! - Determinism fence: revm reads state through [`StateAdapter`] and hands back its changes as
//!   a hash map; they are sorted (BTreeMap) before anything is written, and nothing of revm's
//!   own maps reaches a root or an output.
//! - The block a contract sees comes from the checkpoint ([`EvmBlock`]): number = height,
//!   timestamp = the predecessor checkpoint's timestamp (fixed before the author forges, so it
//!   cannot be ground), prevrandao = the checkpoint's generation signature, coinbase = the fee
//!   sink, `BLOCKHASH(n)` = the id of the checkpoint at n on the chain being applied. Each
//!   checkpoint executes at most [`CHECKPOINT_GAS_MAX`] gas, priced by vein's schedule
//!   ([`GasSchedule`]: Cancun with three slow precompiles repriced).
//! - Gas is paid in the native token at the transaction's effective price (at least
//!   [`GAS_PRICE_MIN_WEI`], a whole number of gwei; the base fee is zero) and split by the fee
//!   policy like a vein fee: the burned share is burned, the rest goes to the checkpoint author.
//! - Business tokens (docs/tokens.md) answer as ERC-20s at their fixed addresses, through a
//!   precompile provider in front of Ethereum's ([`TokenPrecompiles`]), on the ledger's token
//!   balances.
//! - Nonces: per sender, strictly sequential as Ethereum requires, but a transaction whose nonce
//!   is ahead of the sender's is held in state until the gap fills (at most
//!   [`HELD_AHEAD_MAX`] ahead, for [`HELD_HEIGHTS_MAX`] checkpoints), so a DAG that orders a
//!   wallet's nonces 5 before 4 still executes both, in nonce order.

mod adapter;
mod address;
mod block;
mod call;
mod effect;
mod erc20;
mod execute;
mod receipt;
mod recovery;
mod schedule;
mod sender;
mod state;

pub use adapter::{ContractReads, NativeBalances, StateAdapter};
pub use address::{
    FEE_SINK, WEI_PER_UNIT, account_of, address_of, chain_id_of, units_to_wei, wei_to_units,
};
pub use block::{CHECKPOINT_GAS_MAX, EvmBlock};
pub use call::{DecodedTx, EVM_TX_BYTES_MAX, EvmCall, EvmTxError, GAS_PRICE_MIN_WEI};
pub use effect::EvmEffect;
pub use erc20::{
    GAS_READ, GAS_TRANSFER_FROM, GAS_WRITE, TokenPrecompiles, allowance_slot, approval_topic,
    balance_slot, holder_of_slot, token_at, transfer_topic,
};
pub use execute::{
    CallRequest, Executed, ExecutionError, Outcome, estimate_gas, execute, simulate_call,
};
pub use receipt::{Receipt, ReceiptLog};
pub use recovery::SenderRecoveries;
pub use schedule::{ECRECOVER_GAS, GasSchedule, POINT_EVALUATION_GAS, SPEC};
pub use state::{BLOCK_HASH_HISTORY, EvmAccount, EvmState, EvmUndo, HeldTx};

pub use revm::primitives::{Address, B256, Bytes, U256};

/// How far ahead of its sender's nonce a transaction may be held.
pub const HELD_AHEAD_MAX: u64 = 64;

/// Checkpoints a held transaction waits for its gap to fill before it is dropped.
pub const HELD_HEIGHTS_MAX: u64 = 1_024;

#[cfg(test)]
mod tests;
