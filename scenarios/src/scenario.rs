//! Scenario files: what one experiment is, as a TOML document.
//!
//! Model: a scenario names a network (honest nodes, their space, latency, protocol parameters),
//! a workload, how long and with how many seeds to run, an attacker (kind and parameters) and the
//! metric it measures with the reference that metric is judged against. Parsing is strict
//! (`deny_unknown_fields`), so a misspelt key is an error that names its line and column rather
//! than a silently ignored setting; [`Scenario::validate`] then refuses impossible values (a share
//! outside (0, 1), zero nodes, k = 0...) with one error each, naming the field. Sweeps override
//! parameters by name through [`Scenario::set_parameter`], which validates again. Those methods
//! need the registry of families, so they live in crate::scenario_checks; this file is the data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::attacker::AttackerTable;
pub use crate::metric::{Metric, MetricName, ReferenceName};
pub use crate::scenario_error::{InvalidValue, ScenarioError};
pub use crate::storage_spec::StorageSpec;

/// Which executor runs the nodes: the in-memory LocalNet (`vein-scenarios`), or the madsim
/// simulator with its network model (`vein-sim scenario FILE`, a madsim build of crate
/// vein-sim; `vein-scenarios` refuses such a file with that hint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// crate vein-node's deterministic in-memory network, run by `vein-scenarios` (default).
    #[default]
    Localnet,
    /// The madsim simulator, run by `vein-sim scenario FILE`; allows a `[simulator]` table.
    Madsim,
}

/// The honest network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Honest nodes (an attacker, if any, is one more node).
    pub nodes: u64,
    /// Space of each honest node, in nonces (256 KiB each); the total sets the difficulty.
    #[serde(default = "default_nonces_per_node")]
    pub nonces_per_node: u64,
    /// One-way link latency; LocalNet adds a uniform jitter of up to half of it.
    pub latency_ms: u64,
    /// Target checkpoint interval `T`.
    pub target_interval_ms: u64,
    /// Finality depth `k`.
    #[serde(default = "default_finality_depth")]
    pub finality_depth: u64,
    /// Challenge refresh period `c`.
    #[serde(default = "default_challenge_refresh")]
    pub challenge_refresh: u64,
    /// Whether the base target retargets (false: fixed difficulty, constant checkpoint weight).
    #[serde(default = "default_true")]
    pub retarget: bool,
}

fn default_nonces_per_node() -> u64 {
    1_000_000
}
fn default_finality_depth() -> u64 {
    6
}
fn default_challenge_refresh() -> u64 {
    1
}
fn default_true() -> bool {
    true
}

/// Tip selection of the honest nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TipSelection {
    /// IOTA's weighted random walk towards heavy branches, with `alpha = 0.5`.
    #[default]
    WeightedWalk,
    /// Tips drawn uniformly among the eligible ones (the baseline).
    Uniform,
}

/// Transactions submitted while the scenario runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Poisson rate of transfers over the whole network (each from a random honest node).
    #[serde(default)]
    pub tx_per_s: f64,
    /// Which tips the honest nodes approve when they issue.
    #[serde(default)]
    pub tip_selection: TipSelection,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload { tx_per_s: 0.0, tip_selection: TipSelection::WeightedWalk }
    }
}

/// How long and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Simulated time of one run; for races, the cap after which the attacker gives up.
    pub duration_s: u64,
    /// Seeds (independent runs) per parameter point, unless `--seeds` says otherwise.
    pub seeds: u64,
    /// Seed of the first run; a point runs seeds `first_seed..first_seed + seeds` (default 1).
    #[serde(default = "default_first_seed")]
    pub first_seed: u64,
}

fn default_first_seed() -> u64 {
    1
}

/// The `[simulator]` table: the madsim network model a scenario runs on (docs/simulator.md,
/// "Network model"). Absent, the simulator draws latency like LocalNet: uniform in
/// `[latency_ms, 1.5 latency_ms]`. The latency and uplink syntax is the simulator's (`vein-sim
/// run --latency`, `--uplink`); it checks them when the run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSpec {
    /// Latency model, e.g. `"lognormal:median_ms=80,sigma=0.5"` or `"geo:regions=3"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// Probability that a message is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Probability that a message is held back up to `reorder_ms`.
    #[serde(default)]
    pub reorder: f64,
    /// Upper bound of the extra uniform delay of a reordered message, and of a duplicate's lag
    /// behind its original, in ms (default 200).
    #[serde(default = "default_reorder_ms")]
    pub reorder_ms: u64,
    /// Uplink of every node, bytes per second with suffixes k, M, G (`"1M"`); unlimited if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<String>,
    /// Share of packets dropped on every link.
    #[serde(default)]
    pub loss: f64,
}

fn default_reorder_ms() -> u64 {
    200
}

/// A complete scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short identifier, e.g. `"double-spend-race"`; labels the runs, errors and report.
    pub name: String,
    /// One line, shown by `vein-scenarios list`.
    pub description: String,
    /// Which executor runs the nodes (default LocalNet).
    #[serde(default)]
    pub engine: EngineKind,
    /// The simulator's network model, for `engine = "madsim"` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<SimulatorSpec>,
    /// The honest nodes and the consensus parameters.
    pub network: Network,
    /// Honest transfers during the run (none by default).
    #[serde(default)]
    pub workload: Workload,
    /// Duration and seeds.
    pub run: RunConfig,
    /// Read as the attacker type of the family the metric selects (crate::attacker).
    #[serde(default)]
    pub attacker: AttackerTable,
    /// What is measured and against which reference; selects the family.
    pub metric: Metric,
    /// Default sweep grid (parameter name → range such as `"0.1..0.3:0.1"` or `"1..6"`), used
    /// by `sweep` without `--param` and by `suite`.
    #[serde(default)]
    pub sweep: BTreeMap<String, String>,
    /// The storage chain set-up of the storage families (crate::storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageSpec>,
}

/// Parses a sweep range: `"0.1..0.3:0.1"` (inclusive, step), `"1..6"` (step 1), `"0.1,0.25"`
/// (list) or a single number. Values are rounded to 12 significant digits so that
/// `0.1 + 0.2` is written `0.3`, the same bits as the literal in a scenario file.
pub fn parse_range(spec: &str) -> Result<Vec<f64>, String> {
    let number = |text: &str| -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| format!("\"{text}\" is not a number in range \"{spec}\""))
    };
    if spec.contains(',') {
        return spec.split(',').map(number).collect();
    }
    let Some((low, rest)) = spec.split_once("..") else { return Ok(vec![number(spec)?]) };
    let (high, step) = match rest.split_once(':') {
        Some((high, step)) => (number(high)?, number(step)?),
        None => (number(rest)?, 1.0),
    };
    let low = number(low)?;
    if step <= 0.0 || high < low {
        return Err(format!("range \"{spec}\" needs low <= high and a positive step"));
    }
    let count = ((high - low) / step + 1e-9).floor() as u64 + 1;
    if count > 10_000 {
        return Err(format!("range \"{spec}\" has {count} values; at most 10000"));
    }
    Ok((0..count).map(|index| round12(low + step * index as f64)).collect())
}

fn round12(value: f64) -> f64 {
    if value == 0.0 {
        return 0.0;
    }
    let text = format!("{value:.11e}");
    text.parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("0.1..0.3:0.1").unwrap(), vec![0.1, 0.2, 0.3]);
        assert_eq!(parse_range("1..6").unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(parse_range("0.1,0.25").unwrap(), vec![0.1, 0.25]);
        assert_eq!(parse_range("7").unwrap(), vec![7.0]);
        assert!(parse_range("3..1").is_err());
        assert!(parse_range("a..b").is_err());
    }
}
