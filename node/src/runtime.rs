//! The abstract runtime: the few things a node needs from the world. Production implements them
//! on tokio, TCP and std::fs (`runtime::tokio_impl`, `runtime::tcp`); the simulator implements them on madsim with
//! a seeded network, simulated disks and clocks (crate vein-sim). The driver is generic over
//! them and so runs unmodified in both places; the core sees none of it.
//!
//! The traits are deliberately small (after commonware's runtime): a clock with a sleep, a
//! datagram-style network addressed by socket address, an append-only disk with explicit
//! sync so that crash semantics (what survives a power cut) are part of the contract, and a
//! place to run work that must not hold up the executor (a plot scan).
//!
//! Each contract is written down once as executable checks in [`conformance`], run over every
//! implementation: tokio and std::fs here, the simulated clock and disk (with and without
//! injected faults) in vein-sim, and the test doubles in node/tests.
// The runtime seam, the pump and the driver are what an embedder programs against: every
// public item is documented.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// The node's one clock: both its timer and the source of the timestamps it writes into
/// transactions and checkpoints, so the two can never disagree.
///
/// Contract (checked by [`conformance::clock`]):
/// - `now_ms` is milliseconds on the network's timeline (the Unix epoch in production, so
///   timestamps agree across machines and restarts; the simulation's start in the simulator);
/// - it is monotone non-decreasing for the life of the value and its clones, whatever the
///   machine's wall clock does (a stepped wall clock shows as a clock that ran fast or slow,
///   never as time going back);
/// - `sleep_until(at)` completes, and once it has, `now_ms() >= at`.
pub trait Clock: Clone + Send + Sync + 'static {
    /// Milliseconds on the network's timeline.
    fn now_ms(&self) -> u64;
    /// Completes once `now_ms() >= at_ms` (at once for an instant already passed).
    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send;
}

/// Where CPU- or disk-bound work runs so that it does not hold up the tasks sharing the
/// executor (the API, the network). The result is the same wherever it runs; only the
/// scheduling differs, which is why the simulator may run it in place.
pub trait Blocking: Send + Sync + 'static {
    /// Run `work` and give its result; a panic in it reaches the caller.
    fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}

/// Runs blocking work in place, on the caller's task: for the simulator (one thread, and the
/// order of everything must follow from the seed) and for tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct InPlace;

impl Blocking for InPlace {
    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        work()
    }
}

/// Why a network operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// No connection to `peer` could be made or kept.
    #[error("peer {peer} unreachable: {reason}")]
    Unreachable {
        /// The peer's listening address.
        peer: SocketAddr,
        /// What the transport said.
        reason: String,
    },
    /// A message longer than any frame may be.
    #[error("message of {length} bytes exceeds the frame limit")]
    FrameTooLarge {
        /// The message's length in bytes.
        length: usize,
    },
    /// The endpoint was shut down (or, in tests, the run is over): the driver stops.
    #[error("the network endpoint is closed")]
    Closed,
    /// Any other I/O failure, as the operating system described it.
    #[error("network I/O error: {0}")]
    Io(String),
}

/// Messages to and from peers, named by the peer's listening address. Delivery is best effort:
/// the protocol tolerates loss (it pulls what it misses), so `send` may drop under pressure.
pub trait Network: Send + Sync + 'static {
    /// The address peers reach this node at (and know it by).
    fn local_addr(&self) -> SocketAddr;
    /// Send one message to the peer listening at `to` (best effort).
    fn send(
        &self,
        to: SocketAddr,
        bytes: Arc<Vec<u8>>,
    ) -> impl Future<Output = Result<(), NetError>> + Send;
    /// The next message, with its sender's listening address.
    fn recv(&self) -> impl Future<Output = Result<(SocketAddr, Vec<u8>), NetError>> + Send;
    /// `recv` for the driver, with the bytes behind an `Arc`: a transport that holds received
    /// bytes shared (the simulator hands one gossip envelope to every receiver) overrides it
    /// to deliver them without a copy per receiver.
    fn recv_shared(
        &self,
    ) -> impl Future<Output = Result<(SocketAddr, Arc<Vec<u8>>), NetError>> + Send {
        async { self.recv().await.map(|(from, bytes)| (from, Arc::new(bytes))) }
    }
    /// Forget a peer (close its connection if there is one).
    fn disconnect(&self, _peer: SocketAddr) {}
}

/// Why a disk operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiskError {
    /// The operating system (or the simulator's fault) refused an operation on `path`.
    #[error("disk I/O error on {path}: {reason}")]
    Io {
        /// The file, as the disk names it.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// Append-only files. Data appended but not yet synced may be lost (or torn) by a crash; data
/// that was synced survives.
///
/// Contract (checked by [`conformance::disk`] and, for a disk that fails on purpose,
/// [`conformance::faulty_disk`]):
/// - a file never written reads as `None`; files are independent of each other;
/// - reads see every byte appended so far, synced or not, in order;
/// - an append that fails may have written a prefix of its bytes and nothing else;
/// - `truncate(len)` keeps exactly the first `len` bytes, and later appends follow them.
pub trait Disk: Send + Sync + 'static {
    /// The whole file (`None` if it was never written).
    fn read_all(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, DiskError>> + Send;
    /// Add `bytes` at the end of the file (creating it).
    fn append(
        &self,
        path: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), DiskError>> + Send;
    /// Make everything appended to the file so far survive a crash.
    fn sync(&self, path: &str) -> impl Future<Output = Result<(), DiskError>> + Send;
    /// Replace a file's content (used to compact a log after a torn tail).
    fn truncate(
        &self,
        path: &str,
        length: u64,
    ) -> impl Future<Output = Result<(), DiskError>> + Send;
}

pub mod conformance;
#[cfg(feature = "tokio-runtime")]
pub mod handshake;
#[cfg(feature = "tokio-runtime")]
pub mod tcp;
#[cfg(feature = "tokio-runtime")]
pub mod tokio_impl;
