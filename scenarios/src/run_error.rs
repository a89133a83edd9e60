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
    /// The scenario's parameters make an invalid genesis (e.g. a stake or plot layout the node
    /// refuses).
    #[error("scenario {scenario:?} seed {seed}: genesis refused: {source}")]
    Genesis {
        /// `name` of the scenario file.
        scenario: String,
        /// The seed of the failed run, to replay it.
        seed: u64,
        /// The node's reason.
        source: GenesisError,
    },
    /// The run could not be set up or produced nothing to measure (an attacker table that no
    /// longer reads, a missing `[storage]` table, a transaction that could not be built, no
    /// checkpoint published); `detail` says which.
    #[error("scenario {scenario:?} seed {seed}: {detail}")]
    Setup {
        /// `name` of the scenario file.
        scenario: String,
        /// The seed of the failed run, to replay it.
        seed: u64,
        /// What was wrong, in words.
        detail: String,
    },
    /// The run settled too few checkpoints for the family's measurement to mean anything.
    #[error(
        "scenario {scenario:?} seed {seed}: only {checkpoints} checkpoints; \
         raise run.duration_s to get at least {needed}"
    )]
    TooShort {
        /// `name` of the scenario file.
        scenario: String,
        /// The seed of the failed run, to replay it.
        seed: u64,
        /// Checkpoints the run produced.
        checkpoints: usize,
        /// Checkpoints the family needs.
        needed: usize,
    },
    /// A run outgrew a hard bound on its state (e.g. extend-all-forks' private tree): refused
    /// rather than left to use unbounded memory and time.
    #[error(
        "scenario {scenario:?} seed {seed}: {what} reached {size}, above the bound of {limit}; \
         {hint}"
    )]
    TooLarge {
        /// `name` of the scenario file.
        scenario: String,
        /// The seed of the failed run, to replay it.
        seed: u64,
        /// The bounded quantity, e.g. the private tree's node count.
        what: &'static str,
        /// Its size when the bound was crossed.
        size: usize,
        /// The bound.
        limit: usize,
        /// Which scenario parameter to lower to stay within the bound.
        hint: &'static str,
    },
    /// The analytic reference could not be computed for these parameters.
    #[error("scenario {scenario:?}: reference: {source}")]
    Reference {
        /// `name` of the scenario file.
        scenario: String,
        /// Why the reference refused.
        source: ReferenceError,
    },
    /// The engine could not start the network (real plots unsupported, a bad owner, a plot
    /// that failed to build).
    #[error("scenario {scenario:?} seed {seed}: network did not start: {source}")]
    Start {
        /// `name` of the scenario file.
        scenario: String,
        /// The seed of the failed run, to replay it.
        seed: u64,
        /// The engine's reason.
        source: crate::engine::StartError,
    },
    /// The run's measurements could not be summarised as report metrics (a statistic refused
    /// its sample, or metrics JSON failed).
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}
