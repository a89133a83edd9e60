//! Client histories, Jepsen style: what a client saw of its transfers (sent, acknowledged,
//! refused, final at which height) and a checker that holds every node's ledger to it. Shared
//! by the simulator's transfer workload and `vein-testnet load`, so both check one model
//! (docs/simulator.md, docs/testnet.md "Client histories").
//!
//! - [`record`]: the records, one JSON object per line on disk, and the [`History`] they fold
//!   into;
//! - [`recorder`]: writing a history as it happens;
//! - [`ledger_view`]: what one node's chain holds of the client's senders;
//! - [`check`]: the checks and their typed violations;
//! - [`wire`]: a view as `POST /ledger/history` carries it.

pub mod check;
pub mod ledger_view;
pub mod record;
pub mod recorder;
#[cfg(test)]
mod tests;
pub mod wire;

pub use check::{HistoryReport, HistoryViolation, check};
pub use ledger_view::{LedgerEntry, LedgerView, view_of};
pub use record::{History, HistoryError, Record, StartBalance, TransferOp};
pub use recorder::Recorder;
