//! Fault injection for a testnet node, without root.
//!
//! [`FaultyNetwork`] wraps the TCP network and consults a shared
//! [`Faults`] table on every send and receive. A partition is a set of peer listening addresses
//! whose messages are dropped in both directions (the TCP hello names peers by listening
//! address, so the filter is exact); delay holds outbound messages back; loss drops a share of
//! them. Every node of a partitioned testnet applies the filter to its side, so `vein-testnet
//! partition 0,1|2,3` needs no iptables and leaves the kernel untouched. The core sees only loss,
//! which it already tolerates.

use crate::core::hash::Hash;
use crate::runtime::tokio_impl::TokioClock;
use crate::runtime::{Clock, NetError, Network};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Injected faults, shared between the API (writer) and the network wrapper (reader).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Faults {
    /// Peers (listening addresses) cut off in both directions.
    pub blocked: BTreeSet<SocketAddr>,
    /// Added to every outbound message.
    pub delay_ms: u64,
    /// Outbound messages dropped, in parts per thousand.
    pub loss_per_mille: u32,
    /// One-way faults on the link from this node to one peer (by listening address), on top of
    /// the node-wide delay and loss: `vein-testnet delay A B` sets A's entry for B only.
    pub links: BTreeMap<SocketAddr, LinkFault>,
}

/// Delay and loss on one outbound link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkFault {
    /// Milliseconds each message on the link is held back before it is sent.
    pub delay_ms: u64,
    /// Messages on the link dropped, in parts per thousand (values above 1000 count as 1000).
    pub loss_per_mille: u32,
}

impl Faults {
    /// Delay and loss that apply to a message sent to `to`: node-wide plus that link's.
    pub fn outbound(&self, to: &SocketAddr) -> LinkFault {
        let link = self.links.get(to).copied().unwrap_or_default();
        LinkFault {
            delay_ms: self.delay_ms.saturating_add(link.delay_ms),
            // Independent drops: kept with probability (1 - a)(1 - b).
            loss_per_mille: 1000
                - (1000 - self.loss_per_mille.min(1000)) * (1000 - link.loss_per_mille.min(1000))
                    / 1000,
        }
    }
}

/// The [`Faults`] table as shared between the API, which sets it, and every [`FaultyNetwork`].
pub type SharedFaults = Arc<Mutex<Faults>>;
/// Last time (Unix ms) a message arrived from each peer.
pub type HeardFrom = Arc<Mutex<BTreeMap<SocketAddr, u64>>>;

/// A [`Network`] that applies [`Faults`] around an inner one.
pub struct FaultyNetwork<N: Network> {
    inner: Arc<N>,
    faults: SharedFaults,
    heard: HeardFrom,
    /// Counter feeding the loss decision (a hash of it, so drops spread evenly).
    sent: std::sync::atomic::AtomicU64,
}

impl<N: Network> FaultyNetwork<N> {
    /// Wrap `inner`: sends and receives consult `faults` at each message, and every message
    /// received is stamped in `heard` with the arrival time.
    pub fn new(inner: N, faults: SharedFaults, heard: HeardFrom) -> FaultyNetwork<N> {
        FaultyNetwork {
            inner: Arc::new(inner),
            faults,
            heard,
            sent: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> Faults {
        self.faults.lock().map(|faults| faults.clone()).unwrap_or_default()
    }
}

impl<N: Network> Network for FaultyNetwork<N> {
    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        let faults = self.snapshot();
        if faults.blocked.contains(&to) {
            return Ok(()); // Dropped silently, as a cut cable would.
        }
        let fault = faults.outbound(&to);
        if fault.loss_per_mille > 0 {
            let count = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let draw = Hash::of(&count.to_le_bytes()).first_u64_le() % 1000;
            if draw < u64::from(fault.loss_per_mille) {
                return Ok(());
            }
        }
        if fault.delay_ms == 0 {
            return self.inner.send(to, bytes).await;
        }
        let inner = self.inner.clone();
        let delay = Duration::from_millis(fault.delay_ms);
        // Delayed sends must not stall the driver loop: they complete on their own task.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = inner.send(to, bytes).await;
        });
        Ok(())
    }

    async fn recv(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        loop {
            let (from, bytes) = self.inner.recv().await?;
            let blocked = self.faults.lock().map(|f| f.blocked.contains(&from)).unwrap_or(false);
            if blocked {
                continue;
            }
            if let Ok(mut heard) = self.heard.lock() {
                heard.insert(from, TokioClock.now_ms());
            }
            return Ok((from, bytes));
        }
    }

    fn disconnect(&self, peer: SocketAddr) {
        self.inner.disconnect(peer);
    }
}
