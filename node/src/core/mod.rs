//! The sans-IO protocol core: pure state machines. No async, no clock, no sockets, no OS
//! randomness: every input (bytes, time, random seeds) is handed in, every effect handed out.

pub mod crypto;
pub mod hash;
pub mod storage;
