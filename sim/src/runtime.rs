//! The madsim implementation of the node's runtime traits (`Clock`, `Network`; the disk is
//! [`crate::disk::SimDisk`], which needs nothing from madsim).
//!
//! Clock: madsim's simulated time since the simulation started, plus a per-node skew that the
//! fault injector may change at any moment. The contract says the clock never goes backwards, so
//! a backward jump makes the clock stand still until simulated time catches up.
//!
//! Network: a `madsim::net::Endpoint` bound on the node's address; messages travel as
//! `Arc<Vec<u8>>` payloads (no copy per gossip target). madsim decides loss and clogged links
//! (partitions, cuts) at send time and delivers at once (its own latency is set to zero); the
//! [`NetModel`] decides when each message arrives (latency, uplink queueing, reordering) and
//! whether a duplicate follows. The delivery time travels with the payload, and the receiver
//! holds the message in a time-ordered mailbox until then.
//!
//! Receiving takes two tasks per node. A pump moves messages from the endpoint into the mailbox,
//! because madsim's `recv_from` is not cancellation safe (a message handed to a dropped receive
//! future is lost) and so must run in a loop of its own; it wakes the postman only for a
//! message due before the postman's alarm. The postman hands due messages to a
//! channel that the driver reads (the driver recreates its receive future on every turn of its
//! select loop; the channel's `next` is safe), feeding the trace hash in delivery order.

use crate::net::{NetModel, node_index};
use crate::trace::Trace;
use futures::StreamExt;
use futures::channel::mpsc;
use madsim::net::Endpoint;
use madsim::time::TimeHandle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
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

    /// A forward jump: the offset grows by `forward_ms`.
    pub fn jump(&self, forward_ms: i64) {
        self.offset_ms.fetch_add(forward_ms, Ordering::Relaxed);
    }
}

/// Simulated time in milliseconds since the simulation started.
pub fn sim_now_ms() -> u64 {
    TimeHandle::current().elapsed().as_millis() as u64
}

/// Simulated time in microseconds since the simulation started.
pub fn sim_now_us() -> u64 {
    TimeHandle::current().elapsed().as_micros() as u64
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

/// The network model shared by every node of a run (and the fault injector).
pub type SharedNet = Arc<Mutex<NetModel>>;

/// What travels through madsim: when to deliver, and the envelope.
type Parcel = (u64, Arc<Vec<u8>>);

type Inbox = mpsc::UnboundedReceiver<(SocketAddr, Vec<u8>)>;

/// A message waiting in a mailbox; ordered by delivery time, then arrival order.
struct Held {
    at_us: u64,
    seq: u64,
    from: SocketAddr,
    bytes: Arc<Vec<u8>>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        (self.at_us, self.seq) == (other.at_us, other.seq)
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Held) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Held) -> std::cmp::Ordering {
        (self.at_us, self.seq).cmp(&(other.at_us, other.seq))
    }
}

/// Messages that reached a node but are not due yet.
#[derive(Default)]
struct Mailbox {
    held: BinaryHeap<Reverse<Held>>,
    seq: u64,
    /// When the postman will next wake by itself (`u64::MAX`: only when told).
    armed_us: u64,
    /// A message due before `armed_us` arrived; the postman must look again.
    rung: bool,
    /// The postman, while it waits.
    postman: Option<std::task::Waker>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked mid-update; the data is still ours.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct SimNetwork {
    endpoint: Endpoint,
    local: SocketAddr,
    node: usize,
    model: SharedNet,
    inbox: Mutex<Inbox>,
}

impl SimNetwork {
    /// Bind on `local` and start the receive tasks of node `node` (call on that node).
    pub async fn bind(
        local: SocketAddr,
        node: usize,
        trace: SharedTrace,
        model: SharedNet,
    ) -> Result<SimNetwork, NetError> {
        let endpoint = Endpoint::bind(local).await.map_err(|e| NetError::Io(e.to_string()))?;
        let (sender, inbox) = mpsc::unbounded();
        let mailbox = Arc::new(Mutex::new(Mailbox { armed_us: u64::MAX, ..Mailbox::default() }));
        // Both tasks die with the node: madsim drops a killed node's tasks.
        let pump = endpoint.clone();
        let incoming = mailbox.clone();
        madsim::task::spawn(async move {
            while let Ok((payload, from)) = pump.recv_from_raw(TAG).await {
                let Ok(parcel) = payload.downcast::<Parcel>() else { continue };
                let (at_us, bytes) = *parcel;
                let mut mailbox = lock(&incoming);
                mailbox.seq += 1;
                let seq = mailbox.seq;
                mailbox.held.push(Reverse(Held { at_us, seq, from, bytes }));
                // Only a message due before the postman's alarm needs to wake it.
                if at_us < mailbox.armed_us {
                    mailbox.rung = true;
                    if let Some(postman) = mailbox.postman.take() {
                        postman.wake();
                    }
                }
            }
        });
        madsim::task::spawn(async move {
            loop {
                let now_us = sim_now_us();
                let mut due = Vec::new();
                let next_us = {
                    let mut mailbox = lock(&mailbox);
                    while mailbox.held.peek().is_some_and(|Reverse(held)| held.at_us <= now_us) {
                        if let Some(Reverse(held)) = mailbox.held.pop() {
                            due.push(held);
                        }
                    }
                    let next = mailbox.held.peek().map_or(u64::MAX, |Reverse(held)| held.at_us);
                    mailbox.armed_us = next;
                    next
                };
                for held in due {
                    let bytes =
                        Arc::try_unwrap(held.bytes).unwrap_or_else(|shared| (*shared).clone());
                    lock(&trace).message(node, held.from, &bytes);
                    if sender.unbounded_send((held.from, bytes)).is_err() {
                        return;
                    }
                }
                let alarm = if next_us == u64::MAX {
                    futures::future::Either::Left(futures::future::pending::<()>())
                } else {
                    let wait = Duration::from_micros(next_us - now_us);
                    futures::future::Either::Right(madsim::time::sleep(wait))
                };
                futures::pin_mut!(alarm);
                futures::future::poll_fn(|context| {
                    {
                        let mut mailbox = lock(&mailbox);
                        if std::mem::take(&mut mailbox.rung) {
                            return std::task::Poll::Ready(());
                        }
                        mailbox.postman = Some(context.waker().clone());
                    }
                    alarm.as_mut().poll(context)
                })
                .await;
            }
        });
        Ok(SimNetwork { endpoint, local, node, model, inbox: Mutex::new(inbox) })
    }
}

impl Network for SimNetwork {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        let to_node = node_index(to).unwrap_or(usize::MAX);
        let delivery = lock(&self.model).deliver(self.node, to_node, bytes.len(), sim_now_us());
        let unreachable =
            |e: std::io::Error| NetError::Unreachable { peer: to, reason: e.to_string() };
        if let Some(at_us) = delivery.duplicate_at_us {
            let parcel: Parcel = (at_us, bytes.clone());
            self.endpoint.send_to_raw(to, TAG, Box::new(parcel)).await.map_err(unreachable)?;
        }
        let parcel: Parcel = (delivery.at_us, bytes);
        self.endpoint.send_to_raw(to, TAG, Box::new(parcel)).await.map_err(unreachable)
    }

    fn recv(&self) -> impl Future<Output = Result<(SocketAddr, Vec<u8>), NetError>> + Send {
        futures::future::poll_fn(move |context| {
            let mut inbox = lock(&self.inbox);
            inbox.poll_next_unpin(context).map(|message| message.ok_or(NetError::Closed))
        })
    }
}
