//! The madsim implementation of the node's runtime traits (`Clock`, `Network`; the disk is
//! [`crate::disk::SimDisk`], which needs nothing from madsim).
//!
//! Clock: madsim's simulated time since the simulation started, plus a per-node skew that the
//! fault injector may change at any moment. The contract says the clock never goes backwards, so
//! a backward jump makes the clock stand still until simulated time catches up.
//!
//! Network: a direct transport between the nodes' mailboxes, on madsim time. Messages travel
//! as `Arc<Vec<u8>>` (no copy per gossip target). At send time the [`NetModel`] decides whether
//! the message gets through (clogged links for partitions and cuts, the `loss` fault), when it
//! arrives (latency, uplink queueing, reordering) and whether a duplicate follows; the message
//! then goes straight into the receiver's time-ordered mailbox. The receiver's `recv` takes due
//! messages from its mailbox, feeding the trace in delivery order; while none is due it waits
//! on an [`Alarm`] at the first delivery time, and a sender moves that alarm forward for a
//! message due before it (the receiver's task runs once per delivery, not also once per post). A node binds a fresh mailbox each time it starts, so whatever was in flight to
//! it when it was killed is lost, while what it sent before dying still arrives.
//!
//! Why not `madsim::net::Endpoint`: it is what the simulator used first, with madsim deciding
//! loss and clogged links. Per message it cost three madsim timers (a random send delay, the
//! delivery, a random receive delay), a receive task and a oneshot channel; with this model
//! deciding delivery times anyway that was a third of a 1,000-node run (perf, issue #3).

use crate::alarm::Alarm;
use crate::canary::CanaryScan;
use crate::net::{NetModel, node_index};
pub use crate::sim_time::sim_now_us;
use crate::trace::Trace;
use madsim::time::TimeHandle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use vein_node::core::hash::Hash;
use vein_node::runtime::{Clock, NetError, Network};

/// A node's clock skew, shared between the node (across restarts) and the fault injector.
#[derive(Debug, Default)]
pub struct Skew {
    offset_ms: AtomicI64,
    /// Highest time the clock has returned, to keep it monotone across backward jumps.
    last_ms: AtomicU64,
}

impl Skew {
    /// The `skew` fault: the clock runs `offset_ms` ahead of simulated time (behind if
    /// negative) from now on; a backward change makes the clock stand still, not go back.
    pub fn set(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    /// The current offset from simulated time, in ms (skew plus jumps).
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

/// A node's `Clock`: simulated time plus its [`Skew`], never going backwards; clones share the
/// skew and the wake-up timer.
#[derive(Clone)]
pub struct SimClock {
    time: TimeHandle,
    skew: Arc<Skew>,
    /// One timer per distinct wake-up instant, not one per turn of the driver's loop.
    alarm: Alarm,
}

impl SimClock {
    /// Must be called inside the madsim runtime, on the node that uses the clock.
    pub fn new(skew: Arc<Skew>) -> SimClock {
        SimClock { time: TimeHandle::current(), skew, alarm: Alarm::new() }
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
        // still, and `at_ms` is reached when the raw clock gets there, i.e. at simulated time
        // `at_ms - offset`. An absolute instant, so that every turn of the driver's loop waiting
        // for the same `at_ms` shares one timer. The offset may move back during the sleep (the
        // skew fault): then the instant reached is not yet `at_ms` on this clock, and the
        // contract (`now_ms() >= at_ms` on waking) asks for another sleep to the new instant.
        let clock = self.clone();
        async move {
            loop {
                let simulated_ms = (i128::from(at_ms) - i128::from(clock.skew.offset_ms()))
                    .clamp(0, i128::from(u64::MAX / 1_000));
                clock.alarm.until(simulated_ms as u64 * 1_000).await;
                if clock.now_ms() >= at_ms {
                    return;
                }
            }
        }
    }
}

/// Counters and trace shared by every node of a run.
pub type SharedTrace = Arc<Mutex<Trace>>;

/// The network shared by every node of a run (and the fault injector): the model and every
/// node's current mailbox.
pub type SharedNet = Arc<SimNet>;

/// Every node's current mailbox and the [`NetModel`] that decides each message's fate (see the
/// module docs); one per run.
pub struct SimNet {
    model: Mutex<NetModel>,
    /// Node i's mailbox while it runs (replaced when it restarts).
    mailboxes: Mutex<Vec<Option<Arc<Mutex<Mailbox>>>>>,
    /// Scans every envelope sent for the consortium canary, in runs with consortia only.
    canary: Option<Arc<CanaryScan>>,
}

impl SimNet {
    /// A network on `model` without a canary scan (runs without consortia).
    pub fn new(model: NetModel) -> SharedNet {
        SimNet::scanned(model, None)
    }

    /// A network whose every envelope sent (delivered or not) passes `canary`'s scan.
    pub fn scanned(model: NetModel, canary: Option<Arc<CanaryScan>>) -> SharedNet {
        Arc::new(SimNet { model: Mutex::new(model), mailboxes: Mutex::new(Vec::new()), canary })
    }

    /// The model, to change it (faults) or ask it about a message.
    pub fn model(&self) -> std::sync::MutexGuard<'_, NetModel> {
        lock(&self.model)
    }

    /// Run `post` on node `node`'s mailbox, if it has one (no `Arc` clone per message).
    fn with_mailbox(&self, node: usize, post: impl FnOnce(&Mutex<Mailbox>)) {
        if let Some(Some(mailbox)) = lock(&self.mailboxes).get(node) {
            post(mailbox);
        }
    }

    fn set_mailbox(&self, node: usize, mailbox: Arc<Mutex<Mailbox>>) {
        let mut mailboxes = lock(&self.mailboxes);
        if mailboxes.len() <= node {
            mailboxes.resize(node + 1, None);
        }
        mailboxes[node] = Some(mailbox);
    }
}

/// A message waiting in a mailbox; ordered by delivery time, then arrival order.
struct Held {
    at_us: u64,
    seq: u64,
    from: SocketAddr,
    bytes: Arc<Vec<u8>>,
    digest: Hash,
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
    /// While the receiver waits: the delivery time its alarm is set for (`u64::MAX`: none).
    /// 0 while nobody waits (the receiver looks at the mailbox before it waits again).
    armed_us: u64,
    /// The receiver, while it waits.
    receiver: Option<std::task::Waker>,
    /// The receiver's alarm: a sender posting a message due before `armed_us` moves it
    /// forward itself instead of waking the receiver to do it.
    alarm: Alarm,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another task panicked mid-update; the data is still ours.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One node's `Network` endpoint for one start: sends through the shared [`SimNet`] and
/// receives from the node's own mailbox, feeding the trace in delivery order.
pub struct SimNetwork {
    local: SocketAddr,
    node: usize,
    net: SharedNet,
    trace: SharedTrace,
    mailbox: Arc<Mutex<Mailbox>>,
    alarm: Alarm,
    /// The envelope sent last and its digest: a gossip or relay sends one envelope to many
    /// peers in a row, and hashing it once instead of once per receiver matters (the trace
    /// hashed every delivered byte before). The `Arc` is kept so that its address cannot be
    /// reused by another envelope while it is remembered.
    last_sent: Mutex<Option<(Arc<Vec<u8>>, Hash)>>,
}

impl SimNetwork {
    /// Open node `node`'s fresh mailbox at `local` (call on that node, each time it starts).
    pub async fn bind(
        local: SocketAddr,
        node: usize,
        trace: SharedTrace,
        net: SharedNet,
    ) -> Result<SimNetwork, NetError> {
        if node_index(local) != Some(node) {
            return Err(NetError::Io(format!("{local} is not the address of node {node}")));
        }
        let alarm = Alarm::new();
        let mailbox = Arc::new(Mutex::new(Mailbox {
            armed_us: 0,
            alarm: alarm.clone(),
            ..Mailbox::default()
        }));
        net.set_mailbox(node, mailbox.clone());
        Ok(SimNetwork { local, node, net, trace, mailbox, alarm, last_sent: Mutex::new(None) })
    }

    /// Put a message into `to`'s mailbox for delivery at `at_us`.
    fn post(&self, mailbox: &Mutex<Mailbox>, at_us: u64, bytes: Arc<Vec<u8>>, digest: Hash) {
        let mut mailbox = lock(mailbox);
        mailbox.seq += 1;
        let seq = mailbox.seq;
        mailbox.held.push(Reverse(Held { at_us, seq, from: self.local, bytes, digest }));
        // Only a message due before the receiver's alarm changes anything, and then the alarm
        // is moved here: waking the receiver just so that it sets the alarm itself was a second
        // wake-up of its task (a whole turn of the driver's loop) for nearly every message.
        let mailbox = &mut *mailbox;
        if at_us < mailbox.armed_us
            && let Some(receiver) = mailbox.receiver.as_ref()
        {
            mailbox.armed_us = at_us;
            mailbox.alarm.set(at_us, receiver);
        }
    }

    /// The digest of `bytes` for the trace, computed once per envelope.
    fn digest(&self, bytes: &Arc<Vec<u8>>) -> Hash {
        let mut last = lock(&self.last_sent);
        if let Some((sent, digest)) = last.as_ref()
            && Arc::ptr_eq(sent, bytes)
        {
            return *digest;
        }
        let digest = Hash::of(bytes);
        *last = Some((bytes.clone(), digest));
        digest
    }

    /// Take the first due message, or register `context`'s waker for the next one.
    fn poll_mailbox(
        &self,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<(SocketAddr, Arc<Vec<u8>>)> {
        let now_us = sim_now_us();
        let mut mailbox = lock(&self.mailbox);
        if mailbox.held.peek().is_some_and(|Reverse(held)| held.at_us <= now_us)
            && let Some(Reverse(held)) = mailbox.held.pop()
        {
            mailbox.armed_us = 0;
            mailbox.receiver = None;
            drop(mailbox);
            // Delivered when the driver takes it: the trace sees delivery order.
            lock(&self.trace).message(self.node, held.from, held.bytes.len(), &held.digest);
            return std::task::Poll::Ready((held.from, held.bytes));
        }
        let next_us = mailbox.held.peek().map_or(u64::MAX, |Reverse(held)| held.at_us);
        mailbox.armed_us = next_us;
        mailbox.receiver = Some(context.waker().clone());
        drop(mailbox);
        if next_us != u64::MAX {
            self.alarm.set(next_us, context.waker());
        }
        std::task::Poll::Pending
    }
}

impl Network for SimNetwork {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        // Like a datagram: a lost message or a dead receiver is not an error the sender sees.
        let Some(to_node) = node_index(to) else {
            return Err(NetError::Unreachable { peer: to, reason: "no such node".to_string() });
        };
        if let Some(canary) = &self.net.canary {
            canary.message(self.node, to_node, &bytes);
        }
        let delivery = {
            let mut model = self.net.model();
            if !model.passes(self.node, to_node) {
                return Ok(());
            }
            model.deliver(self.node, to_node, bytes.len(), sim_now_us())
        };
        let digest = self.digest(&bytes);
        self.net.with_mailbox(to_node, |mailbox| {
            if let Some(at_us) = delivery.duplicate_at_us {
                self.post(mailbox, at_us, bytes.clone(), digest);
            }
            self.post(mailbox, delivery.at_us, bytes, digest);
        });
        Ok(())
    }

    fn recv(&self) -> impl Future<Output = Result<(SocketAddr, Vec<u8>), NetError>> + Send {
        // Cancellation safe: a message leaves the mailbox only in a poll that returns it.
        futures::future::poll_fn(move |context| {
            self.poll_mailbox(context).map(|(from, bytes)| {
                Ok((from, Arc::try_unwrap(bytes).unwrap_or_else(|shared| (*shared).clone())))
            })
        })
    }

    fn recv_shared(
        &self,
    ) -> impl Future<Output = Result<(SocketAddr, Arc<Vec<u8>>), NetError>> + Send {
        // The driver's receive: the envelope as it was sent, shared with its other receivers.
        futures::future::poll_fn(move |context| self.poll_mailbox(context).map(Ok))
    }
}
