//! Scenario files: what one experiment is, as a TOML document.
//!
//! Model: a scenario names a network (honest nodes, their space, latency, protocol parameters),
//! a workload, how long and with how many seeds to run, an attacker (kind and parameters) and the
//! metric it measures with the reference that metric is judged against. Parsing is strict
//! (`deny_unknown_fields`), so a misspelt key is an error that names its line and column rather
//! than a silently ignored setting; [`Scenario::validate`] then refuses impossible values (a share
//! outside (0, 1), zero nodes, k = 0...) with one error each, naming the field. Sweeps override
//! parameters by name through [`Scenario::set_parameter`], which validates again.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::attacker::Attacker;
use crate::attacker::NetworkShape;
pub use crate::metric::{Metric, MetricName, ReferenceName};
pub use crate::scenario_error::{InvalidValue, ScenarioError};
use crate::scenario_error::{at_least, at_most, out_of_range};
pub use crate::storage_spec::StorageSpec;

/// Which executor runs the nodes: the in-memory LocalNet (`vein-scenarios`), or the madsim
/// simulator with its network model (`vein-sim scenario FILE`, a madsim build of crate
/// vein-sim; `vein-scenarios` refuses such a file with that hint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    #[default]
    Localnet,
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
    #[default]
    WeightedWalk,
    Uniform,
}

/// Transactions submitted while the scenario runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Poisson rate of transfers over the whole network (each from a random honest node).
    #[serde(default)]
    pub tx_per_s: f64,
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
    pub name: String,
    /// One line, shown by `vein-scenarios list`.
    pub description: String,
    #[serde(default)]
    pub engine: EngineKind,
    /// The simulator's network model, for `engine = "madsim"` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<SimulatorSpec>,
    pub network: Network,
    #[serde(default)]
    pub workload: Workload,
    pub run: RunConfig,
    #[serde(default)]
    pub attacker: Attacker,
    pub metric: Metric,
    /// Default sweep grid (parameter name → range such as `"0.1..0.3:0.1"` or `"1..6"`), used
    /// by `sweep` without `--param` and by `suite`.
    #[serde(default)]
    pub sweep: BTreeMap<String, String>,
    /// The storage chain set-up of the storage families (crate::storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageSpec>,
}

/// Parameter names a sweep may set.
pub const PARAMETERS: &[&str] = &[
    "q",
    "s",
    "z",
    "split",
    "nodes",
    "latency_ms",
    "tx_per_s",
    "k",
    "c",
    "give_up_behind",
    // Storage families: dropped fraction, chunk challenges per round, holders crashed.
    "f",
    "challenges",
    "crashed",
    "rate",
    "variants",
    // Network split: its duration in T.
    "d",
    // Fake space: nonces computed per second (R).
    "nonces_per_s",
];

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
        Scenario::parse(&text, path)
    }

    /// Parses and validates scenario text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|error| ScenarioError::Parse {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })?;
        scenario
            .validate()
            .map_err(|source| ScenarioError::Invalid { path: path.to_path_buf(), source })?;
        Ok(scenario)
    }

    /// Refuses impossible values, one error for the first found.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let network = &self.network;
        if let Some(simulator) = &self.simulator {
            if self.engine != EngineKind::Madsim {
                return Err(InvalidValue::SimulatorUnused);
            }
            for (field, value) in [
                ("duplicate", simulator.duplicate),
                ("reorder", simulator.reorder),
                ("loss", simulator.loss),
            ] {
                if !(0.0..=1.0).contains(&value) {
                    return Err(InvalidValue::SimulatorProbability { field, value });
                }
            }
        }
        at_least("network.nodes", network.nodes, 1)?;
        at_most("network.nodes", network.nodes, 64)?;
        at_least("network.nonces_per_node", network.nonces_per_node, 1)?;
        at_most("network.nonces_per_node", network.nonces_per_node, 1 << 40)?;
        at_most("network.latency_ms", network.latency_ms, 60_000)?;
        at_least("network.target_interval_ms", network.target_interval_ms, 10)?;
        at_least("network.finality_depth", network.finality_depth, 1)?;
        at_most("network.finality_depth", network.finality_depth, 1_000)?;
        at_least("network.challenge_refresh", network.challenge_refresh, 1)?;
        at_least("run.duration_s", self.run.duration_s, 1)?;
        at_most("run.duration_s", self.run.duration_s, 10_000_000)?;
        at_least("run.seeds", self.run.seeds, 1)?;
        let rate = self.workload.tx_per_s;
        if !(rate.is_finite() && (0.0..=10_000.0).contains(&rate)) {
            return Err(out_of_range("workload.tx_per_s", rate, "[0, 10000]"));
        }
        self.attacker.validate(&NetworkShape {
            nodes: network.nodes,
            nonces_per_node: network.nonces_per_node,
            challenge_refresh: network.challenge_refresh,
            retarget: network.retarget,
        })?;
        let metric = self.metric.name;
        let needs = metric.attacker_kind();
        if needs != self.attacker.kind() {
            return Err(InvalidValue::MetricNeedsAttacker {
                metric: metric.name(),
                needs,
                found: self.attacker.kind(),
            });
        }
        let allowed = metric.references();
        if !allowed.contains(&self.metric.reference) {
            return Err(InvalidValue::ReferenceNotForMetric {
                metric: metric.name(),
                reference: self.metric.reference.name(),
                allowed: allowed
                    .iter()
                    .map(|r| format!("\"{}\"", r.name()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if metric == MetricName::TipCount && rate <= 0.0 {
            return Err(out_of_range("workload.tx_per_s", rate, "(0, 10000] for tip_count"));
        }
        for name in self.sweep.keys() {
            check_parameter_name(name)?;
        }
        crate::storage_spec::validate(self.storage.as_ref(), self.metric.name, network.nodes)?;
        Ok(())
    }

    /// Sets a sweep parameter by name (integers are rounded) and validates the result.
    pub fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        check_parameter_name(name)?;
        let whole = || -> Result<u64, InvalidValue> {
            if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
                Ok(value as u64)
            } else {
                Err(InvalidValue::OutOfRange {
                    field: "parameter",
                    value: format!("{name} = {value}"),
                    expected: "a whole number",
                })
            }
        };
        if self.attacker.set_parameter(name, value, whole)? {
            return self.validate();
        }
        match name {
            "nodes" => self.network.nodes = whole()?,
            "latency_ms" => self.network.latency_ms = whole()?,
            "k" => self.network.finality_depth = whole()?,
            "c" => self.network.challenge_refresh = whole()?,
            "tx_per_s" => self.workload.tx_per_s = value,
            "f" | "challenges" | "crashed" => {
                crate::storage_spec::set_parameter(self.storage.as_mut(), name, value)?
            }
            _ => {}
        }
        self.validate()
    }

    /// The parameters a measurement of this scenario is labelled with (its family's own).
    pub fn labels(&self) -> BTreeMap<String, f64> {
        let mut labels = BTreeMap::new();
        self.attacker.labels(&mut labels);
        if self.metric.name == MetricName::TipCount {
            labels.insert("tx_per_s".to_string(), self.workload.tx_per_s);
            labels.insert("latency_ms".to_string(), self.network.latency_ms as f64);
        }
        crate::storage_spec::labels(self.storage.as_ref(), self.metric.name, &mut labels);
        labels
    }
}

fn check_parameter_name(name: &str) -> Result<(), InvalidValue> {
    if PARAMETERS.contains(&name) {
        Ok(())
    } else {
        Err(InvalidValue::UnknownParameter { name: name.to_string(), known: PARAMETERS.join(", ") })
    }
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
