//! Reading, checking and changing a scenario: the part of [`Scenario`] that needs the registry.
//!
//! Model: the checks every scenario gets (network, run, workload, simulator table) are here;
//! the metric names a registered family, the `[attacker]` table must be that family's kind and
//! is read and checked as its type, and the family adds its own checks and labels
//! ([`Family::validate`], [`Family::labels`]). Sweep parameters are the network's plus those
//! the registered families declare; one that the scenario's family does not use is refused by
//! name.

use std::collections::BTreeMap;
use std::path::Path;

use crate::attacker::{AttackerKind, AttackerTable, NetworkShape, whole};
use crate::families::{self, FAMILIES, Family, FamilyVisitor, attacker_kinds, quoted};
use crate::scenario::{EngineKind, Scenario};
use crate::scenario_error::{InvalidValue, ScenarioError, at_least, at_most, out_of_range};

/// Sweep parameters of the network and workload, beside the families' own.
const NETWORK_PARAMETERS: &[&str] = &["nodes", "latency_ms", "tx_per_s", "k", "c"];

/// Every parameter name a sweep may set: the network's and every registered family's.
pub fn parameters() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = NETWORK_PARAMETERS.to_vec();
    for family in FAMILIES {
        for name in family.attacker_parameters.iter().chain(family.parameters) {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

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
        let (_, family) = families::find(&self.metric.name)?;
        let found = self.attacker.kind();
        let kinds = attacker_kinds();
        if !kinds.contains(&found) {
            return Err(InvalidValue::UnknownAttackerKind {
                kind: found.to_string(),
                known: quoted(kinds.into_iter()),
            });
        }
        if found != family.attacker_kind {
            return Err(InvalidValue::MetricNeedsAttacker {
                metric: family.metric,
                needs: family.attacker_kind,
                found: found.to_string(),
            });
        }
        if !family.references.contains(&self.metric.reference) {
            return Err(InvalidValue::ReferenceNotForMetric {
                metric: family.metric,
                reference: self.metric.reference.name(),
                allowed: family
                    .references
                    .iter()
                    .map(|r| format!("\"{}\"", r.name()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        for name in self.sweep.keys() {
            check_parameter_name(name)?;
        }
        match (&self.storage, family.storage) {
            (Some(_), false) => return Err(InvalidValue::StorageUnused { metric: family.metric }),
            (None, true) => return Err(InvalidValue::StorageRequired { metric: family.metric }),
            _ => {}
        }
        struct Check<'a>(&'a Scenario);
        impl FamilyVisitor for Check<'_> {
            type Output = Result<(), InvalidValue>;
            fn visit<F: Family>(self) -> Self::Output {
                let network = &self.0.network;
                self.0.attacker.read::<F::Attacker>()?.validate(&NetworkShape {
                    nodes: network.nodes,
                    nonces_per_node: network.nonces_per_node,
                    challenge_refresh: network.challenge_refresh,
                    retarget: network.retarget,
                })?;
                F::validate(self.0)
            }
        }
        families::visit(&self.metric.name, Check(self))?
    }

    /// Sets a sweep parameter by name (integers are rounded) and validates the result.
    pub fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        check_parameter_name(name)?;
        let (_, family) = families::find(&self.metric.name)?;
        if family.attacker_parameters.contains(&name) {
            struct SetAttacker<'a>(&'a mut Scenario, &'a str, f64);
            impl FamilyVisitor for SetAttacker<'_> {
                type Output = Result<(), InvalidValue>;
                fn visit<F: Family>(self) -> Self::Output {
                    let SetAttacker(scenario, name, value) = self;
                    let mut attacker = scenario.attacker.read::<F::Attacker>()?;
                    attacker.set_parameter(name, value)?;
                    scenario.attacker = AttackerTable::write(&attacker)?;
                    Ok(())
                }
            }
            let metric = self.metric.name.clone();
            families::visit(&metric, SetAttacker(self, name, value))??;
        } else if family.parameters.contains(&name) {
            struct SetFamily<'a>(&'a mut Scenario, &'a str, f64);
            impl FamilyVisitor for SetFamily<'_> {
                type Output = Result<(), InvalidValue>;
                fn visit<F: Family>(self) -> Self::Output {
                    F::set_parameter(self.0, self.1, self.2)
                }
            }
            let metric = self.metric.name.clone();
            families::visit(&metric, SetFamily(self, name, value))??;
        } else {
            match name {
                "nodes" => self.network.nodes = whole(name, value)?,
                "latency_ms" => self.network.latency_ms = whole(name, value)?,
                "k" => self.network.finality_depth = whole(name, value)?,
                "c" => self.network.challenge_refresh = whole(name, value)?,
                "tx_per_s" => self.workload.tx_per_s = value,
                _ => {
                    return Err(InvalidValue::ParameterUnused {
                        name: name.to_string(),
                        metric: family.metric,
                        kind: family.attacker_kind,
                    });
                }
            }
        }
        self.validate()
    }

    /// The parameters a measurement of this scenario is labelled with (its family's own).
    pub fn labels(&self) -> BTreeMap<String, f64> {
        struct Labels<'a>(&'a Scenario);
        impl FamilyVisitor for Labels<'_> {
            type Output = BTreeMap<String, f64>;
            fn visit<F: Family>(self) -> Self::Output {
                let mut labels = BTreeMap::new();
                // A validated scenario reads; one that does not has no attacker labels.
                if let Ok(attacker) = self.0.attacker.read::<F::Attacker>() {
                    attacker.labels(&mut labels);
                }
                F::labels(self.0, &mut labels);
                labels
            }
        }
        families::visit(&self.metric.name, Labels(self)).unwrap_or_default()
    }
}

fn check_parameter_name(name: &str) -> Result<(), InvalidValue> {
    let known = parameters();
    if known.contains(&name) {
        Ok(())
    } else {
        Err(InvalidValue::UnknownParameter { name: name.to_string(), known: known.join(", ") })
    }
}
