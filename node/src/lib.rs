//! vein-node: the full node, written once against an abstract runtime.
//!
//! The protocol is a sans-IO state machine ([`Node`], in [`core`]): it takes messages, time and
//! proofs, and hands out [`Output`]s. [`pump::drain`] is the one place those outputs are
//! dispatched; the async [`Driver`] runs a node over the [`runtime`] traits ([`Clock`],
//! [`Network`], [`Disk`], [`Blocking`]), on tokio and TCP in production ([`service`]) and on
//! madsim in the simulator (crate vein-sim). The names below are the ones an embedder needs;
//! everything else is reachable through its module.
#![warn(missing_docs)]

#[cfg(feature = "tokio-runtime")]
pub mod api;
pub mod api_types;
pub mod consortium_db;
pub mod core;
pub mod driver;
#[cfg(feature = "tokio-runtime")]
pub mod faults;
pub mod fl_updates;
// The P2P handshake it fuzzes is part of the TCP transport, which comes with tokio-runtime.
#[cfg(feature = "tokio-runtime")]
pub mod fuzz_targets;
pub mod genesis_file;
pub mod history;
pub mod localnet;
pub mod plotter;
pub mod pump;
pub mod runtime;
#[cfg(feature = "tokio-runtime")]
pub mod service;
pub mod shard_repair;
pub mod store;
#[cfg(feature = "tokio-runtime")]
pub mod telemetry;

pub use crate::core::crypto::{AccountId, Keypair};
pub use crate::core::events::Event;
pub use crate::core::hash::Hash;
pub use crate::core::node::{Node, NodeConfig, Output, PeerId, RejectReason};
pub use crate::core::params::{Genesis, Params};
pub use crate::core::transaction::{Transaction, TransactionBody, TxKind};
pub use crate::driver::{Driver, DriverError, DriverHandle, EventSink, Primitives};
pub use crate::runtime::{Blocking, Clock, Disk, InPlace, Network};
