//! Time travel (`vein-sim inspect`): replay a seed's run to simulated instant T and read one
//! node's state there, with its fork tree's frames every Δt up to T.
//!
//! The replay is the run of the same configuration (`vein-sim run` with the same flags) up to
//! T, then stops: one read at T ([`crate::inspect_probe`] says why only one), no end-of-run
//! checks. Equal configurations, nodes and instants give equal [`Inspection`]s, byte for byte
//! once written ([`crate::inspect_report`]).

use crate::config::SimConfig;
use crate::inspect_probe::{Probe, Reading};
use crate::inspect_state::{ChainRecord, NodeState};
use crate::inspect_timeline::{ForkFrame, frames};
use crate::run_report::RunReport;
use crate::simulation::{self, SimError};

/// Why an inspection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The node index is not one of the run's nodes.
    #[error("node {node} is out of range: the run has nodes 0..={last}")]
    NodeOutOfRange {
        /// The index asked for.
        node: usize,
        /// The highest index of the run.
        last: usize,
    },
    /// The instant is not inside the run.
    #[error("instant {at_ms} ms is out of range: the run covers 1..={duration_ms} ms")]
    InstantOutOfRange {
        /// The instant asked for, ms.
        at_ms: u64,
        /// The run's duration, ms.
        duration_ms: u64,
    },
    /// The node was down at the instant (killed by the fault plan, or stopped on a disk error).
    #[error(
        "node {node} is down at {at_ms} ms (killed or stopped by a fault); pick another instant"
    )]
    NodeDown {
        /// The node.
        node: usize,
        /// The instant, ms.
        at_ms: u64,
    },
    /// The run stopped on a violation before the instant.
    #[error("the run stopped before {at_ms} ms: {violation}")]
    StoppedEarly {
        /// The instant, ms.
        at_ms: u64,
        /// The first violation.
        violation: String,
    },
    /// The configuration or the simulation failed.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// What `vein-sim inspect` found.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The node's state at the instant.
    pub state: NodeState,
    /// The node's chain events up to the read, in order.
    pub history: Vec<ChainRecord>,
    /// The fork tree every Δt up to the instant (the last frame at the instant).
    pub frames: Vec<ForkFrame>,
    /// The replay's report (its trace hash covers the run up to the read).
    pub report: RunReport,
}

/// Check that node `node` and instant `at_ms` lie inside the run `config` describes.
pub fn check_request(config: &SimConfig, node: usize, at_ms: u64) -> Result<(), InspectError> {
    if node >= config.nodes {
        return Err(InspectError::NodeOutOfRange { node, last: config.nodes.saturating_sub(1) });
    }
    let duration_ms = config.duration_s.saturating_mul(1_000);
    if at_ms == 0 || at_ms > duration_ms {
        return Err(InspectError::InstantOutOfRange { at_ms, duration_ms });
    }
    Ok(())
}

/// Replay `config` to `at_ms` and read node `node`; frames every `every_ms` (0: only `at_ms`).
pub fn inspect(
    config: &SimConfig,
    node: usize,
    at_ms: u64,
    every_ms: u64,
) -> Result<Inspection, InspectError> {
    config.validate().map_err(SimError::from)?;
    check_request(config, node, at_ms)?;
    let probe = Probe::new(node, at_ms);
    let report = simulation::run_probed(config, None, Some(probe.clone()))?;
    let (reading, history) = probe.finish();
    match reading {
        Reading::State(state, _) => {
            let frames = frames(&state, &history, every_ms);
            Ok(Inspection { state: *state, history, frames, report })
        }
        Reading::Down => Err(InspectError::NodeDown { node, at_ms }),
        Reading::NotReached => Err(InspectError::StoppedEarly {
            at_ms,
            violation: report
                .violations
                .first()
                .map_or_else(|| "no violation recorded".to_string(), ToString::to_string),
        }),
    }
}
