//! The honest workload: Poisson transfers from random honest nodes to random accounts, and
//! the loop that runs an engine to a time while submitting them on schedule.
//!
//! Model: the source is seeded from the run's seed alone (a stream of its own), so that adding
//! an attacker's transactions never shifts the honest ones.

use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;

use crate::engine::Engine;

/// Poisson transfers from random honest nodes to random accounts.
pub(crate) struct TxSource {
    pub(crate) rng: DetRng,
    mean_gap_ms: f64,
    pub(crate) next_ms: f64,
    pub(crate) senders: usize,
}

impl TxSource {
    pub(crate) fn new(seed: u64, tx_per_s: f64, senders: usize) -> Option<TxSource> {
        if tx_per_s <= 0.0 || senders == 0 {
            return None;
        }
        let rng = DetRng::from_seed(Hash::of_parts(&[b"workload", &seed.to_le_bytes()]).0);
        let mut source = TxSource { rng, mean_gap_ms: 1000.0 / tx_per_s, next_ms: 0.0, senders };
        source.next_ms = source.gap();
        Some(source)
    }

    /// Any account but the sender's: nodes refuse a transfer to its own author.
    pub(crate) fn recipient(&mut self, from: usize, accounts: usize) -> usize {
        if accounts < 2 {
            return from;
        }
        (from + 1 + self.rng.index(accounts - 1)) % accounts
    }

    pub(crate) fn gap(&mut self) -> f64 {
        -(1.0 - self.rng.unit_f64()).ln() * self.mean_gap_ms
    }
}

/// Runs to `until_ms`, submitting the workload's transfers on time.
pub(crate) fn drive<E: Engine>(engine: &mut E, source: &mut Option<TxSource>, until_ms: u64) {
    if let Some(source) = source {
        while source.next_ms <= until_ms as f64 {
            engine.run_until(source.next_ms as u64);
            let from = source.rng.index(source.senders);
            let to = engine.account(source.recipient(from, engine.node_count()));
            let _ = engine.transfer(from, to, 1);
            let gap = source.gap();
            source.next_ms += gap;
        }
    }
    engine.run_until(until_ms);
}
