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
    /// The file could not be opened or read as UTF-8 text.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The scenario file as the caller named it.
        path: PathBuf,
        /// The I/O error from the file system.
        source: std::io::Error,
    },
    /// The text is not valid TOML or does not fit the scenario's tables (unknown or missing key).
    /// The `toml` crate's message already names the line, column and key.
    #[error("{path}: {message}")]
    Parse {
        /// The scenario file as the caller named it.
        path: PathBuf,
        /// The `toml`/serde message, with line, column and key.
        message: String,
    },
    /// The file parsed but a value is impossible or inconsistent (see [`InvalidValue`]).
    #[error("{path}: invalid value: {source}")]
    Invalid {
        /// The scenario file as the caller named it.
        path: PathBuf,
        /// The first impossible value found by [`crate::scenario::Scenario::validate`].
        source: InvalidValue,
    },
}

/// One impossible or inconsistent value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidValue {
    /// A number lies outside the range its field allows.
    #[error("{field} = {value} must be in {expected}")]
    OutOfRange {
        /// Dotted path of the field in the file, e.g. `network.nodes`.
        field: &'static str,
        /// The value found, as written back by `to_string`.
        value: String,
        /// The allowed range in interval notation, e.g. `[1, ...]`.
        expected: &'static str,
    },
    /// An attacker kind needs a field that the file does not set (e.g. `storage.f`).
    #[error("{field} is required when attacker.kind = \"{kind}\"")]
    Missing {
        /// Dotted path of the missing field.
        field: &'static str,
        /// The `attacker.kind` that needs it.
        kind: &'static str,
    },
    /// A field is set that the attacker kind ignores; refused so a typo is not silently dropped.
    #[error("{field} is not used when attacker.kind = \"{kind}\"; remove it")]
    Unused {
        /// Dotted path of the superfluous field.
        field: &'static str,
        /// The `attacker.kind` that does not read it.
        kind: &'static str,
    },
    /// The metric's family is measured against one attacker kind and the file names another.
    #[error("metric \"{metric}\" needs attacker.kind = \"{needs}\", found \"{found}\"")]
    MetricNeedsAttacker {
        /// `metric.name` of the file.
        metric: &'static str,
        /// The attacker kind the family requires.
        needs: &'static str,
        /// The attacker kind the file sets.
        found: String,
    },
    /// `metric.name` is not in the family registry ([`crate::families`]).
    #[error("metric \"{name}\" is not a registered scenario family; known: {known}")]
    UnknownMetric {
        /// The name as written in the file.
        name: String,
        /// The registered metric names, comma-separated, for the message.
        known: String,
    },
    /// `attacker.kind` names no attacker type of any family.
    #[error("unknown attacker kind `{kind}`, expected one of {known}")]
    UnknownAttackerKind {
        /// The kind as written in the file.
        kind: String,
        /// The known kinds, quoted and comma-separated.
        known: String,
    },
    /// The `[attacker]` table does not fit its kind's type; `message` is serde's, naming the key.
    #[error("[attacker] kind = \"{kind}\": {message}")]
    AttackerTable {
        /// The `attacker.kind` whose type the table was read as.
        kind: &'static str,
        /// serde's message, naming the offending key.
        message: String,
    },
    /// A sweep sets a known parameter that this metric's family does not read, so the sweep
    /// would vary nothing.
    #[error("parameter \"{name}\" is not used by metric \"{metric}\" (attacker.kind = \"{kind}\")")]
    ParameterUnused {
        /// The parameter name from `[sweep]` or the command line.
        name: String,
        /// `metric.name` of the scenario.
        metric: &'static str,
        /// Its family's attacker kind.
        kind: &'static str,
    },
    /// `metric.reference` names an analytic reference that this family is not judged by.
    #[error("metric \"{metric}\" is not judged by reference \"{reference}\"; use one of {allowed}")]
    ReferenceNotForMetric {
        /// `metric.name` of the scenario.
        metric: &'static str,
        /// The reference the file names.
        reference: &'static str,
        /// The family's references, quoted and comma-separated.
        allowed: String,
    },
    /// A `[simulator]` table is present but the scenario runs on LocalNet, which would ignore it.
    #[error("the [simulator] table applies only with engine = \"madsim\"; remove it")]
    SimulatorUnused,
    /// A `[simulator]` fault rate (`duplicate`, `reorder`, `loss`) is not a probability.
    #[error("simulator.{field} = {value} must be a probability in [0, 1]")]
    SimulatorProbability {
        /// The key inside `[simulator]`.
        field: &'static str,
        /// The value found.
        value: f64,
    },
    /// A sweep or `set_parameter` names a parameter no family or network knows.
    #[error("unknown parameter \"{name}\"; known: {known}")]
    UnknownParameter {
        /// The name as given.
        name: String,
        /// Every settable parameter, comma-separated.
        known: String,
    },
    /// The metric's family (storage cheating, shard loss) needs a `[storage]` table; none is set.
    #[error("metric \"{metric}\" needs a [storage] table")]
    StorageRequired {
        /// `metric.name` of the scenario.
        metric: &'static str,
    },
    /// A `[storage]` table is set for a family that does not read it.
    #[error("the [storage] table is not used by metric \"{metric}\"; remove it")]
    StorageUnused {
        /// `metric.name` of the scenario.
        metric: &'static str,
    },
}

/// The error for a float `value` of `field` outside `expected` (interval notation).
pub fn out_of_range(field: &'static str, value: f64, expected: &'static str) -> InvalidValue {
    InvalidValue::OutOfRange { field, value: value.to_string(), expected }
}

/// Checks `value >= minimum` for an integer field; the message spells the range for the
/// minimums the checks use (1, 10) and says "a larger range" otherwise.
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

/// Checks `value <= maximum` for an integer field; the message spells the range for the
/// maximums the checks use and says "a smaller range" otherwise.
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
