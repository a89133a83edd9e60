//! What a scenario family is: a story run over an [`Engine`] for one seed, ending in a
//! [`RunMetrics`] whose measurements stand beside their analytic references.
//!
//! Model: each family is a type in a file of its own implementing [`Family`]; the registry
//! (`crate::families`) maps the metric a scenario file names to that type. A family reads its
//! parameters from its variant of [`crate::attacker::Attacker`] (already validated when the file
//! was loaded), builds its network, runs its story and judges what it measured against its
//! closed form. Attackers are ordinary nodes with a policy; only the *decisions* an attacker
//! makes (when to release, what to issue) live in a family, never mining, validation or fork
//! choice.

use vein_reports::metrics::RunMetrics;

use crate::engine::Engine;
use crate::run_error::RunError;
use crate::scenario::{MetricName, Scenario};

/// One scenario family.
pub trait Family {
    /// The `[metric] name` that selects this family in a scenario file.
    const METRIC: MetricName;
    /// Seeds folded into one record of `runs.jsonl`: a cheap race is milliseconds a seed, so
    /// many share a record; a long run is one record per seed.
    const SEEDS_PER_CHUNK: usize = 1;

    /// Runs one seed of `scenario` on engine `E`.
    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError>;
}
