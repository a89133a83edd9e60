//! vein-reports: turns the plain data of a simulation run or sweep into a report directory.
//!
//! The crate deliberately depends on neither the node nor the simulator: the simulator fills the
//! plain structures of [`metrics`], and this crate computes intervals ([`stats`]), compares them
//! with analytic references ([`reference`]) under a family-wise gate ([`gate`]), draws charts
//! ([`plots`]) and writes `summary.md`, `index.html` and `metrics.json` ([`summary`]). Output is
//! deterministic: the same metrics give byte-identical files, so reports can be diffed and
//! snapshot-tested.

#![warn(missing_docs)]

pub mod binomial;
pub mod charts;
pub mod demo;
pub mod gate;
pub mod metrics;
pub mod plots;
pub mod reference;
pub mod seed_file;
pub mod stats;
pub mod summary;
