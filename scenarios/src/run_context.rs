//! The context of one run (scenario, seed, labels) and the two ends of every family's story:
//! starting the engine and packing what was measured into a [`RunMetrics`] record.

use std::collections::BTreeMap;

use vein_node::core::hash::Hash;
use vein_reports::metrics::{Measurement, RunMetrics, Violation};
use vein_reports::reference::ReferenceError;

use crate::attacker::AttackerKind;
use crate::engine::{Engine, NetSpec};
use crate::run_error::RunError;
use crate::scenario::Scenario;

/// Shared context of a run: the scenario, the seed, and the labels of its measurements.
pub(crate) struct Context<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) seed: u64,
    pub(crate) labels: BTreeMap<String, f64>,
}

impl Context<'_> {
    pub(crate) fn reference(&self, value: Result<f64, ReferenceError>) -> Result<f64, RunError> {
        value.map_err(|source| RunError::Reference { scenario: self.scenario.name.clone(), source })
    }

    pub(crate) fn setup(&self, detail: impl Into<String>) -> RunError {
        RunError::Setup {
            scenario: self.scenario.name.clone(),
            seed: self.seed,
            detail: detail.into(),
        }
    }

    /// The scenario's `[attacker]` table as the family's attacker type (validated on load, so
    /// an error here means the scenario was changed after validation).
    pub(crate) fn attacker<A: AttackerKind>(&self) -> Result<A, RunError> {
        self.scenario.attacker.read::<A>().map_err(|error| self.setup(error.to_string()))
    }

    pub(crate) fn too_short(&self, checkpoints: usize, needed: usize) -> RunError {
        RunError::TooShort {
            scenario: self.scenario.name.clone(),
            seed: self.seed,
            checkpoints,
            needed,
        }
    }
}

pub(crate) fn start<E: Engine>(context: &Context<'_>, spec: &NetSpec) -> Result<E, RunError> {
    E::start(spec, context.seed).map_err(|source| RunError::Genesis {
        scenario: context.scenario.name.clone(),
        seed: context.seed,
        source,
    })
}

fn hex(hash: &Hash) -> String {
    hash.as_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn finish<E: Engine>(
    context: &Context<'_>,
    engine: &E,
    violations: Vec<Violation>,
    measurements: Vec<Measurement>,
) -> RunMetrics {
    let mut run = RunMetrics::new(&context.scenario.name, context.seed, hex(&engine.trace_hash()));
    run.nodes = engine.node_count() as u64;
    run.simulated_seconds = engine.now_ms() as f64 / 1000.0;
    run.messages_delivered = engine.messages_delivered();
    run.checkpoints = engine.node(0).chain().height();
    run.violations = violations;
    run.measurements = measurements;
    run
}
