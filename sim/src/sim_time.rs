//! The simulation's clock as madsim keeps it, before any node's skew.

use madsim::time::TimeHandle;

/// Simulated time in microseconds since the simulation started.
pub fn sim_now_us() -> u64 {
    TimeHandle::current().elapsed().as_micros() as u64
}
