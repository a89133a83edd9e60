//! What a checked carrier's Ethereum transaction will do, decided when the ledger checks it and
//! carried to where the ledger writes it.

use super::call::DecodedTx;
use super::execute::Executed;

/// What a checked `TxKind::Evm` carrier's Ethereum transaction will do, decided by the check
/// and written by the ledger's apply.
pub enum EvmEffect {
    /// Its nonce is its sender's: executed (already, against the state it will be written to).
    Execute(Box<(DecodedTx, Executed)>),
    /// Its nonce is ahead: held until the gap fills.
    Hold(Box<DecodedTx>),
}
