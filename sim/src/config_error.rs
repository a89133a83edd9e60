//! Why a simulation's configuration (command line or scenario) was refused.

/// The latency models `--latency` accepts, for messages that name them.
pub const LATENCY_SYNTAX: &str = "constant:ms=M | uniform:min_ms=A,max_ms=B | \
     lognormal:median_ms=M,sigma=S | geo:regions=N,jitter_ms=J";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown fault kind {name:?} (expected one of {expected})")]
    UnknownFault { name: String, expected: &'static str },
    #[error("{field} must be positive")]
    NotPositive { field: &'static str },
    #[error("duration {duration_s} s leaves no time after the settle phase of {settle_s} s")]
    TooShort { duration_s: u64, settle_s: u64 },
    #[error("latency model {spec:?}: {reason} (expected {})", LATENCY_SYNTAX)]
    Latency { spec: String, reason: String },
    #[error("{field} must be a probability in [0, 1], not {value}")]
    Probability { field: &'static str, value: f64 },
    #[error("rate {text:?} is not a positive number of bytes per second (suffixes k, M, G)")]
    Rate { text: String },
}
