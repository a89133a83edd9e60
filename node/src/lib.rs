//! vein-node: the full node.
pub mod core;
pub mod driver;
pub mod localnet;
pub mod plotter;
pub mod runtime;
pub mod store;
