//! A simulated node's identity and everything that outlives its restarts ([`NodeSpec`]), for
//! the main network and the side networks alike.

use crate::config::derive_seed;
use crate::disk::SimDisk;
use crate::net::node_addr;
use crate::run_end::LiveNode;
use crate::runtime::Skew;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::sync::{Arc, Mutex, PoisonError};
use vein_node::core::crypto::Keypair;
use vein_node::core::params::Genesis;
use vein_node::driver::DriverHandle;

/// Everything a node needs to (re)start, and what outlives its restarts.
pub(super) struct NodeSpec {
    pub(super) index: usize,
    pub(super) addr: SocketAddr,
    pub(super) key: Keypair,
    pub(super) seed: [u8; 32],
    pub(super) capacity: u64,
    pub(super) peers: Vec<SocketAddr>,
    pub(super) genesis: Arc<Genesis>,
    pub(super) disk: SimDisk,
    pub(super) skew: Arc<Skew>,
    /// The running driver's handle; `None` while the node is down.
    pub(super) handle: Mutex<Option<DriverHandle>>,
    /// Starts of this node so far, restarts included (each madsim (re)start runs its init once).
    pub(super) generation: AtomicU64,
    /// Killed by the fault plan and not yet restarted by it.
    pub(super) killed: AtomicBool,
    /// Damage a `corrupt` fault left in its unit log until the operator restores it:
    /// [`LOG_CLEAN`], [`LOG_DAMAGED`] (no start has seen it yet) or [`LOG_DAMAGE_DETECTED`].
    pub(super) log_damage: AtomicU8,
    /// Counts this node until the last of its state is dropped (`run_end`).
    pub(super) _live: LiveNode,
}

pub(super) const LOG_CLEAN: u8 = 0;
pub(super) const LOG_DAMAGED: u8 = 1;
pub(super) const LOG_DAMAGE_DETECTED: u8 = 2;

impl NodeSpec {
    /// Node `index` of a network whose seed is `network_seed`: its own seeds (node and disk)
    /// derive from that network's seed and its index, so a main node and a side node with the
    /// same index never share a stream.
    pub(super) fn new(
        index: usize,
        network_seed: u64,
        key: &Keypair,
        capacity: u64,
        peers: &[usize],
        genesis: &Arc<Genesis>,
    ) -> Self {
        NodeSpec {
            index,
            addr: node_addr(index),
            key: key.clone(),
            seed: derive_seed(network_seed, "node", index as u64),
            capacity,
            peers: peers.iter().map(|peer| node_addr(*peer)).collect(),
            genesis: genesis.clone(),
            disk: SimDisk::with_seed(derive_seed(network_seed, "disk", index as u64)),
            skew: Arc::new(Skew::default()),
            handle: Mutex::new(None),
            generation: AtomicU64::new(0),
            killed: AtomicBool::new(false),
            log_damage: AtomicU8::new(LOG_CLEAN),
            _live: LiveNode::new(),
        }
    }

    pub(super) fn handle(&self) -> Option<DriverHandle> {
        self.handle.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn set_handle(&self, handle: Option<DriverHandle>) {
        *self.handle.lock().unwrap_or_else(PoisonError::into_inner) = handle;
    }
}
