//! How often Ethereum senders were recovered from their signatures (secp256k1, the costliest
//! step of an ERC-20 transfer) and how often a decode reused the sender remembered with the
//! call instead (`EvmCall`'s comment): the counters behind `/metrics`'
//! `vein_evm_sender_recoveries_total` and `vein_evm_sender_reuses_total`.
//!
//! Process-wide: a `vein-node` process runs one node, so they are that node's; in a process
//! running several (LocalNet, the simulator) they sum them. Counters only: nothing reads them
//! to decide anything, so they cannot reach a root or a simulated behaviour.

use std::sync::atomic::{AtomicU64, Ordering};

/// Senders recovered from signatures, and decodes that reused a remembered sender instead, in
/// this process since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderRecoveries {
    /// secp256k1 recoveries performed (successful or not).
    pub recovered: u64,
    /// Decodes that took the sender remembered with the call.
    pub reused: u64,
}

static RECOVERED: AtomicU64 = AtomicU64::new(0);
static REUSED: AtomicU64 = AtomicU64::new(0);

impl SenderRecoveries {
    /// The counts so far in this process.
    pub fn now() -> SenderRecoveries {
        SenderRecoveries {
            recovered: RECOVERED.load(Ordering::Relaxed),
            reused: REUSED.load(Ordering::Relaxed),
        }
    }
}

pub(super) fn count_recovered() {
    RECOVERED.fetch_add(1, Ordering::Relaxed);
}

pub(super) fn count_reused() {
    REUSED.fetch_add(1, Ordering::Relaxed);
}
