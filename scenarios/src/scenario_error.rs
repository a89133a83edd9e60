//! Errors of reading and validating a scenario file, and the range checks that build them.
//!
//! Model: reading fails with a [`ScenarioError`] that names the file; a value that parses but is
//! impossible is one [`InvalidValue`] naming the field (`attacker.q`, `network.nodes`) and the
//! range it must lie in, so that a user can fix the file from the message alone.

use std::path::PathBuf;

use thiserror::Error;

/// Errors reading or validating a scenario. Each names the file (when there is one) and the field.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The `toml` crate's message already names the line, column and key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: invalid value: {source}")]
    Invalid { path: PathBuf, source: InvalidValue },
}

/// One impossible or inconsistent value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidValue {
    #[error("{field} = {value} must be in {expected}")]
    OutOfRange { field: &'static str, value: String, expected: &'static str },
    #[error("{field} is required when attacker.kind = \"{kind}\"")]
    Missing { field: &'static str, kind: &'static str },
    #[error("{field} is not used when attacker.kind = \"{kind}\"; remove it")]
    Unused { field: &'static str, kind: &'static str },
    #[error("metric \"{metric}\" needs attacker.kind = \"{needs}\", found \"{found}\"")]
    MetricNeedsAttacker { metric: &'static str, needs: &'static str, found: String },
    #[error("metric \"{name}\" is not a registered scenario family; known: {known}")]
    UnknownMetric { name: String, known: String },
    #[error("unknown attacker kind `{kind}`, expected one of {known}")]
    UnknownAttackerKind { kind: String, known: String },
    /// The `[attacker]` table does not fit its kind's type; `message` is serde's, naming the key.
    #[error("[attacker] kind = \"{kind}\": {message}")]
    AttackerTable { kind: &'static str, message: String },
    #[error("parameter \"{name}\" is not used by metric \"{metric}\" (attacker.kind = \"{kind}\")")]
    ParameterUnused { name: String, metric: &'static str, kind: &'static str },
    #[error("metric \"{metric}\" is not judged by reference \"{reference}\"; use one of {allowed}")]
    ReferenceNotForMetric { metric: &'static str, reference: &'static str, allowed: String },
    #[error("the [simulator] table applies only with engine = \"madsim\"; remove it")]
    SimulatorUnused,
    #[error("simulator.{field} = {value} must be a probability in [0, 1]")]
    SimulatorProbability { field: &'static str, value: f64 },
    #[error("unknown parameter \"{name}\"; known: {known}")]
    UnknownParameter { name: String, known: String },
    #[error("metric \"{metric}\" needs a [storage] table")]
    StorageRequired { metric: &'static str },
    #[error("the [storage] table is not used by metric \"{metric}\"; remove it")]
    StorageUnused { metric: &'static str },
}

pub fn out_of_range(field: &'static str, value: f64, expected: &'static str) -> InvalidValue {
    InvalidValue::OutOfRange { field, value: value.to_string(), expected }
}

pub fn at_least(field: &'static str, value: u64, minimum: u64) -> Result<(), InvalidValue> {
    if value >= minimum {
        Ok(())
    } else {
        Err(InvalidValue::OutOfRange {
            field,
            value: value.to_string(),
            expected: match minimum {
                1 => "[1, ...]",
                10 => "[10, ...]",
                _ => "a larger range",
            },
        })
    }
}

pub fn at_most(field: &'static str, value: u64, maximum: u64) -> Result<(), InvalidValue> {
    if value <= maximum {
        Ok(())
    } else {
        let expected = match maximum {
            16 => "[.., 16]",
            50 => "[.., 50]",
            64 => "[.., 64]",
            500 => "[.., 500]",
            1_000 => "[.., 1000]",
            4_096 => "[.., 4096]",
            60_000 => "[.., 60000]",
            10_000_000 => "[.., 10000000]",
            _ => "a smaller range",
        };
        Err(InvalidValue::OutOfRange { field, value: value.to_string(), expected })
    }
}
