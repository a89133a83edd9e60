//! The simulator's side of `vein-sim inspect`: a probe the run carries that records one node's
//! chain events as they happen and, when the supervisor reaches the probe's instant, reads the
//! node's state through its driver (`DriverHandle::inspect`); the run then stops.
//!
//! Reading a node wakes its driver, which in madsim changes the schedule from then on, so a run
//! is read once, at its last instant: up to that instant the replay is the plain run of the
//! same configuration (the supervisor already wakes every simulated second; an instant between
//! seconds adds one timer, which changes nothing before it).

use crate::inspect_state::{ChainRecord, NodeState};
use std::sync::{Arc, Mutex, PoisonError};
use vein_node::core::events::Event;
use vein_node::driver::DriverHandle;

/// What the probe found at its instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The supervisor has not reached the instant (the run stopped earlier on a violation).
    NotReached,
    /// The node was down (killed, or stopped on a disk error) at the instant.
    Down,
    /// The node's state, and how many of the recorded events precede the read.
    State(Box<NodeState>, usize),
}

/// A look at node `node` at simulated instant `at_ms`.
#[derive(Debug)]
pub struct Probe {
    /// The node index.
    pub node: usize,
    /// Simulated ms since the start (at least 1).
    pub at_ms: u64,
    history: Mutex<Vec<ChainRecord>>,
    reading: Mutex<Reading>,
}

impl Probe {
    /// A probe of node `node` at `at_ms`.
    pub fn new(node: usize, at_ms: u64) -> Arc<Probe> {
        Arc::new(Probe {
            node,
            at_ms,
            history: Mutex::new(Vec::new()),
            reading: Mutex::new(Reading::NotReached),
        })
    }

    /// An event node `node` emitted at simulated `sim_ms` (called for every node's events).
    pub fn on_event(&self, node: usize, sim_ms: u64, event: &Event) {
        if node != self.node {
            return;
        }
        if let Some(record) = ChainRecord::of(sim_ms, event) {
            self.history.lock().unwrap_or_else(PoisonError::into_inner).push(record);
        }
    }

    /// Read the node through `handle` (`None`: it is down) at simulated `sim_ms`.
    pub async fn take(self: &Arc<Probe>, handle: Option<DriverHandle>, sim_ms: u64) {
        let reading = match handle {
            None => Reading::Down,
            Some(handle) => {
                let probe = self.clone();
                // Inside the driver, between turns: every event of the turns before has been
                // handed to the sink, so the history's length now is the events that precede
                // the state read.
                let read = handle
                    .inspect(move |core| {
                        let seen =
                            probe.history.lock().unwrap_or_else(PoisonError::into_inner).len();
                        (NodeState::read(core, probe.node, sim_ms), seen)
                    })
                    .await;
                match read {
                    Some((state, seen)) => Reading::State(Box::new(state), seen),
                    None => Reading::Down,
                }
            }
        };
        *self.reading.lock().unwrap_or_else(PoisonError::into_inner) = reading;
    }

    /// What was read, and the node's chain events up to the read (all of them if none was).
    pub fn finish(&self) -> (Reading, Vec<ChainRecord>) {
        let reading = self.reading.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Reading::State(_, seen) = &reading {
            history.truncate(*seen);
        }
        (reading, history)
    }
}
