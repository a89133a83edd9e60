//! Why a simulation's configuration (command line or scenario) was refused.

/// The latency models `--latency` accepts, for messages that name them.
pub const LATENCY_SYNTAX: &str = "constant:ms=M | uniform:min_ms=A,max_ms=B | \
     lognormal:median_ms=M,sigma=S | geo:regions=N,jitter_ms=J";

/// A run's configuration that cannot be simulated, with the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `--faults` named a kind that does not exist.
    #[error("unknown fault kind {name:?} (expected one of {expected})")]
    UnknownFault {
        /// The name as given, trimmed.
        name: String,
        /// Every accepted name (`crate::config::FAULT_NAMES`).
        expected: &'static str,
    },
    /// A count or length that must be above zero is zero (nodes, duration, interval...).
    #[error("{field} must be positive")]
    NotPositive {
        /// The setting, as the user knows it (`"nodes"`, `"target interval"`).
        field: &'static str,
    },
    /// Faults are on but the run ends before or when the settle (liveness) phase would begin,
    /// so no fault could ever be injected.
    #[error("duration {duration_s} s leaves no time after the settle phase of {settle_s} s")]
    TooShort {
        /// The whole run's simulated length, in seconds.
        duration_s: u64,
        /// The fault-free phase at the end, in seconds.
        settle_s: u64,
    },
    /// A `--latency` model that does not parse or whose parameters are out of range.
    #[error("latency model {spec:?}: {reason} (expected {})", LATENCY_SYNTAX)]
    Latency {
        /// The model text as given.
        spec: String,
        /// What is wrong with it (unknown model, missing or bad parameter).
        reason: String,
    },
    /// A share or rate that must lie in [0, 1] does not (or is NaN).
    #[error("{field} must be a probability in [0, 1], not {value}")]
    Probability {
        /// The setting (`"token share"`, `"duplicate"`...).
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A bandwidth (`--uplink`) that is not a positive number of bytes per second.
    #[error("rate {text:?} is not a positive number of bytes per second (suffixes k, M, G)")]
    Rate {
        /// The text as given.
        text: String,
    },
    /// `--anchor-interval` outside what a side chain's registration accepts.
    #[error("anchor interval {value} outside 1..={max}")]
    AnchorInterval {
        /// The interval given.
        value: u64,
        /// `vein_node::core::sidechain::spec::ANCHOR_INTERVAL_MAX`.
        max: u64,
    },
}
