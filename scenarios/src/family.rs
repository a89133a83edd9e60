//! What a scenario family is: a story run over an [`Engine`] for one seed, ending in a
//! [`RunMetrics`] whose measurements stand beside their analytic references.
//!
//! Model: each family is a type in a file of its own implementing [`Family`], and that file
//! holds everything the family is: the `[metric] name` that selects it, the references it may
//! be judged against, its `[attacker]` table as a type ([`AttackerKind`]), the checks and
//! labels it adds to a scenario, its story for `vein-scenarios explain`, and its run. The
//! registry (`crate::families`) lists the types, one line each, and nothing else knows a
//! family by name. Attackers are ordinary nodes with a policy; only the *decisions* an
//! attacker makes (when to release, what to issue) live in a family, never mining, validation
//! or fork choice.

use std::collections::BTreeMap;

use vein_reports::metrics::RunMetrics;

pub use crate::attacker::AttackerKind;
use crate::engine::Engine;
use crate::metric::ReferenceName;
use crate::run_error::RunError;
use crate::scenario::Scenario;
use crate::scenario_error::InvalidValue;

/// One scenario family.
pub trait Family {
    /// The `[metric] name` that selects this family in a scenario file (snake_case, unique).
    const METRIC: &'static str;
    /// The references a scenario of this family may be judged against; the first is the one
    /// the family's own documentation judges by.
    const REFERENCES: &'static [ReferenceName];
    /// Seeds folded into one record of `runs.jsonl`: a cheap race is milliseconds a seed, so
    /// many share a record; a long run is one record per seed.
    const SEEDS_PER_CHUNK: usize = 1;
    /// Whether the family reads a `[storage]` table: required then, refused otherwise.
    const STORAGE: bool = false;
    /// Why the madsim engine cannot run this family, if it cannot (checked before any seed).
    const MADSIM_UNSUPPORTED: Option<&'static str> = None;
    /// Sweep parameters of the family beyond its attacker's (set by [`Family::set_parameter`]).
    const PARAMETERS: &'static [&'static str] = &[];

    /// The `[attacker]` table this family runs with (`kind` and its keys).
    type Attacker: AttackerKind;

    /// Checks of the whole scenario beyond the common ones and the attacker's own, one error
    /// for the first impossible value.
    fn validate(_scenario: &Scenario) -> Result<(), InvalidValue> {
        Ok(())
    }

    /// Sets one of [`Family::PARAMETERS`] (the caller validates afterwards).
    fn set_parameter(
        _scenario: &mut Scenario,
        _name: &str,
        _value: f64,
    ) -> Result<(), InvalidValue> {
        Ok(())
    }

    /// Labels a measurement carries beyond its attacker's parameters.
    fn labels(_scenario: &Scenario, _labels: &mut BTreeMap<String, f64>) {}

    /// What a run does and measures, and the formula it is judged against, in words.
    fn story(scenario: &Scenario) -> String;

    /// Runs one seed of `scenario` on engine `E`.
    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError>;
}
