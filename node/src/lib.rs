//! vein-node: the full node.
#[cfg(feature = "tokio-runtime")]
pub mod api;
pub mod api_types;
pub mod core;
pub mod driver;
pub mod genesis_file;
pub mod localnet;
pub mod plotter;
pub mod pump;
pub mod runtime;
#[cfg(feature = "tokio-runtime")]
pub mod service;
pub mod shard_repair;
pub mod store;
