//! The end of a simulation ends its tasks, so nothing of a run outlives it.
//!
//! madsim 0.2.34 never drops a task that is still pending when `Runtime::block_on` returns: the
//! runtime has no `Drop` that cancels its tasks, and every spawned task's future holds the
//! task's `TaskInfo`, which holds a waker of that same task (madsim keeps it to cancel the task).
//! Dropping the runtime drops the timers and channels that held the task's other wakers, but
//! that cycle keeps the task, its future and everything the future owns alive for good. At the
//! end of a run every node task is still looping, and so are the supervisor's operator,
//! workload and fault tasks: each run's cores, simulated disks and mailboxes, and through the
//! runtime handles they hold the whole runtime, stayed in memory (about 6 MB per seed in
//! `vein-sim seeds`, 24 GB after 4,160 seeds).
//!
//! madsim drops a task's future when the executor pops the task after its node was killed or
//! the task aborted. [`EndOfRun`] does both when the supervisor's future ends, whichever way it
//! ends (its `Drop`): the kills wake every task, and the executor drains its ready queue, the
//! woken tasks included, before `block_on` returns. It runs after the run's report is built,
//! so no trace hash or report changes.
//!
//! [`live_nodes`] counts this thread's simulated nodes whose state is still held (one
//! [`LiveNode`] per node of a run, owned by what every copy of the node's state shares), so a
//! test can see that a run leaves none behind. A madsim runtime runs and drops its tasks on the
//! thread that called `block_on`, so the count is per thread: runs on other threads (parallel
//! tests, `seeds --jobs`) do not disturb it.

use madsim::runtime::Handle;
use madsim::task::{AbortHandle, JoinHandle, NodeId};
use std::cell::Cell;

thread_local! {
    static LIVE_NODES: Cell<u64> = const { Cell::new(0) };
}

/// The simulated nodes created on this thread whose state has not been dropped yet.
pub fn live_nodes() -> u64 {
    LIVE_NODES.with(Cell::get)
}

/// Counts one simulated node in [`live_nodes`] from its creation until it is dropped.
#[derive(Debug)]
pub struct LiveNode(());

impl LiveNode {
    /// Count one more live node on this thread.
    pub fn new() -> Self {
        LIVE_NODES.with(|live| live.set(live.get() + 1));
        LiveNode(())
    }
}

impl Default for LiveNode {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LiveNode {
    fn drop(&mut self) {
        LIVE_NODES.with(|live| {
            debug_assert!(live.get() > 0, "a node dropped on another thread than it was made");
            live.set(live.get().saturating_sub(1));
        });
    }
}

/// Kills every node of a run and aborts the supervisor's tasks when dropped (see the module).
pub struct EndOfRun {
    runtime: Handle,
    nodes: Vec<NodeId>,
    tasks: Vec<AbortHandle>,
}

impl EndOfRun {
    /// Nothing to end yet; `runtime` is the run's.
    pub fn new(runtime: Handle) -> Self {
        EndOfRun { runtime, nodes: Vec::new(), tasks: Vec::new() }
    }

    /// End `node` (all of its tasks) with the run.
    pub fn node(&mut self, node: NodeId) {
        self.nodes.push(node);
    }

    /// End `task` with the run; it runs on detached, as a dropped `JoinHandle` leaves it.
    pub fn task<T>(&mut self, task: JoinHandle<T>) {
        self.tasks.push(task.abort_handle());
    }
}

impl Drop for EndOfRun {
    fn drop(&mut self) {
        for node in &self.nodes {
            self.runtime.kill(*node);
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}
