//! vein-node: the full node.
#[cfg(feature = "tokio-runtime")]
pub mod api;
pub mod api_types;
pub mod core;
pub mod driver;
pub mod genesis_file;
pub mod localnet;
pub mod plotter;
pub mod runtime;
#[cfg(feature = "tokio-runtime")]
pub mod service;
pub mod store;
