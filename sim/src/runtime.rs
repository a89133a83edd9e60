//! The madsim implementation of the node's runtime traits (`Clock`, `Network`; the disk is
//! [`crate::disk::SimDisk`], which needs nothing from madsim).
//!
//! Clock: madsim's simulated time since the simulation started, plus a per-node skew that the
//! fault injector may change at any moment. The contract says the clock never goes backwards, so
//! a backward jump makes the clock stand still until simulated time catches up.
//!
//! Network: a `madsim::net::Endpoint` bound on the node's address; messages travel as
//! `Arc<Vec<u8>>` payloads (no copy per gossip target), so latency, loss and partitions are
//! madsim's. A pump task moves received messages into a channel because madsim's `recv_from` is
//! not cancellation safe (a message handed to a dropped receive future is lost) while the driver
//! recreates its receive future on every turn of its select loop; the channel's `next` is safe.
//! The pump also feeds the trace hash, in delivery order.

use crate::trace::Trace;
use futures::StreamExt;
use futures::channel::mpsc;
use madsim::net::Endpoint;
use madsim::time::TimeHandle;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use vein_node::runtime::{Clock, NetError, Network};

/// The madsim message tag of vein envelopes.
pub const TAG: u64 = 0x7665_696e;

/// A node's clock skew, shared between the node (across restarts) and the fault injector.
#[derive(Debug, Default)]
pub struct Skew {
    offset_ms: AtomicI64,
    /// Highest time the clock has returned, to keep it monotone across backward jumps.
    last_ms: AtomicU64,
}

impl Skew {
    pub fn set(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

/// Simulated time in milliseconds since the simulation started.
pub fn sim_now_ms() -> u64 {
    TimeHandle::current().elapsed().as_millis() as u64
}

#[derive(Clone)]
pub struct SimClock {
    time: TimeHandle,
    skew: Arc<Skew>,
}

impl SimClock {
    /// Must be called inside the madsim runtime.
    pub fn new(skew: Arc<Skew>) -> SimClock {
        SimClock { time: TimeHandle::current(), skew }
    }

    /// The skewed time before the monotone clamp.
    fn raw_ms(&self) -> u64 {
        let elapsed = self.time.elapsed().as_millis() as i64;
        (elapsed + self.skew.offset_ms()).max(0) as u64
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        let raw = self.raw_ms();
        let previous = self.skew.last_ms.fetch_max(raw, Ordering::Relaxed);
        previous.max(raw)
    }

    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send {
        // Measured against the unclamped clock: after a backward jump the clamped clock stands
        // still, and `at_ms` is reached when the raw clock gets there.
        let wait = at_ms.saturating_sub(self.raw_ms());
        self.time.sleep(Duration::from_millis(wait))
    }
}

/// Counters and trace shared by every node of a run.
pub type SharedTrace = Arc<Mutex<Trace>>;

type Inbox = mpsc::UnboundedReceiver<(SocketAddr, Vec<u8>)>;

pub struct SimNetwork {
    endpoint: Endpoint,
    local: SocketAddr,
    inbox: Mutex<Inbox>,
}

impl SimNetwork {
    /// Bind on `local` and start the receive pump of node `node` (call on that node).
    pub async fn bind(
        local: SocketAddr,
        node: usize,
        trace: SharedTrace,
    ) -> Result<SimNetwork, NetError> {
        let endpoint = Endpoint::bind(local).await.map_err(|e| NetError::Io(e.to_string()))?;
        let (sender, inbox) = mpsc::unbounded();
        let pump = endpoint.clone();
        // The pump dies with the node: madsim drops a killed node's tasks.
        madsim::task::spawn(async move {
            while let Ok((payload, from)) = pump.recv_from_raw(TAG).await {
                let Ok(bytes) = payload.downcast::<Arc<Vec<u8>>>() else { continue };
                let bytes = Arc::try_unwrap(*bytes).unwrap_or_else(|shared| (*shared).clone());
                trace.lock().unwrap_or_else(PoisonError::into_inner).message(node, from, &bytes);
                if sender.unbounded_send((from, bytes)).is_err() {
                    return;
                }
            }
        });
        Ok(SimNetwork { endpoint, local, inbox: Mutex::new(inbox) })
    }
}

impl Network for SimNetwork {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        self.endpoint
            .send_to_raw(to, TAG, Box::new(bytes))
            .await
            .map_err(|e| NetError::Unreachable { peer: to, reason: e.to_string() })
    }

    fn recv(&self) -> impl Future<Output = Result<(SocketAddr, Vec<u8>), NetError>> + Send {
        futures::future::poll_fn(move |context| {
            let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
            inbox.poll_next_unpin(context).map(|message| message.ok_or(NetError::Closed))
        })
    }
}
