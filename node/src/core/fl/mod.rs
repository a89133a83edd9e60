//! Federated learning (issue #20): data owners train one model together while their records
//! stay on their nodes, paid from an escrow on chain (docs/federated-learning.md).
//!
//! Model:
//! - The learning core is deterministic integer arithmetic on fixed-point features (`fixed`,
//!   `dataset`; the lab crate `vein-fl-lab` converts a raw data set once), logistic regression trains by local SGD (`model`), and
//!   updates are aggregated by FedAvg, coordinate-wise median, trimmed mean or Krum
//!   (`aggregate`), so every participant recomputes the same aggregate bit for bit.
//! - Updates travel between participants in one canonical encoding; the chain holds only their
//!   hashes (`update`). Under secure aggregation they travel masked by pairwise seeds and only
//!   the sum is ever visible (`masking`); a round some participant dropped out of is recovered
//!   from the survivors' revealed seeds with the drop-outs (`recovery`).
//! - Tasks, joins, commits, agreement, settlement and escrow are ledger state (`task`,
//!   `state`), applied in checkpoint order through the ledger's undo log
//!   (`ledger/fl_execution.rs`).
//! - The IID split of a data set over participants (`split`); the float-driven Dirichlet
//!   non-IID split is the lab's.

pub mod aggregate;
pub mod dataset;
pub mod error;
pub mod fixed;
pub mod masking;
pub mod model;
pub mod recovery;
pub mod split;
pub mod state;
pub mod task;
pub mod update;

pub use aggregate::{AggregationRule, Contribution, aggregate};
pub use dataset::Dataset;
pub use error::FlError;
pub use fixed::Fixed;
pub use model::{TrainingSpec, correct_count, train_local};
pub use state::{EscrowMismatch, FlEffect, FlTasks, FlUndo};
pub use task::{FlTx, Task, TaskSpec, task_id};

#[cfg(test)]
mod tests;
