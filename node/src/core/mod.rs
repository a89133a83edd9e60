//! The sans-IO protocol core: pure state machines. No async, no clock, no sockets, no OS
//! randomness: every input (bytes, time, random seeds) is handed in, every effect handed out.

pub mod chain;
pub mod checkpoint;
pub mod checkpoint_parents;
pub mod clean_cones;
pub mod consortium;
pub mod contracts;
pub mod crypto;
pub mod dag;
pub mod events;
pub mod evm;
pub mod fl;
pub mod hash;
pub mod ledger;
pub mod message;
pub mod node;
pub mod params;
pub mod peg;
pub mod poc;
pub mod random;
pub mod record;
pub mod shard_fetch;
pub mod sidechain;
pub mod storage;
pub mod storage_node;
pub mod tips;
pub mod token;
pub mod transaction;
pub mod unit_cache;
pub mod walk_window;
pub mod wire;
