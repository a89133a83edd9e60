//! Why one run of one seed failed: set-up, a too-short run, a bound, a reference or the network.
//!
//! Model: every family returns [`RunError`] with the scenario's name and the seed, so that a
//! failed point of a sweep says which file and which seed to replay.

use thiserror::Error;
use vein_node::core::params::GenesisError;
use vein_reports::metrics::MetricsError;
use vein_reports::reference::ReferenceError;

/// Errors of one run.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("scenario {scenario:?} seed {seed}: genesis refused: {source}")]
    Genesis { scenario: String, seed: u64, source: GenesisError },
    #[error("scenario {scenario:?} seed {seed}: {detail}")]
    Setup { scenario: String, seed: u64, detail: String },
    #[error(
        "scenario {scenario:?} seed {seed}: only {checkpoints} checkpoints; \
         raise run.duration_s to get at least {needed}"
    )]
    TooShort { scenario: String, seed: u64, checkpoints: usize, needed: usize },
    /// A run outgrew a hard bound on its state (e.g. extend-all-forks' private tree): refused
    /// rather than left to use unbounded memory and time.
    #[error(
        "scenario {scenario:?} seed {seed}: {what} reached {size}, above the bound of {limit}; \
         {hint}"
    )]
    TooLarge {
        scenario: String,
        seed: u64,
        what: &'static str,
        size: usize,
        limit: usize,
        hint: &'static str,
    },
    #[error("scenario {scenario:?}: reference: {source}")]
    Reference { scenario: String, source: ReferenceError },
    #[error("scenario {scenario:?} seed {seed}: network did not start: {source}")]
    Start { scenario: String, seed: u64, source: crate::engine::StartError },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}
