//! vein-node: the full node.
pub mod core;
pub mod localnet;
pub mod plotter;
