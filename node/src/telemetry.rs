//! What a running node counts and remembers for its API: counters fed by the driver's events,
//! each transaction's first-seen, confirmed and final times, and the transport's refusals.

use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::driver::EventSink;
use crate::runtime::tokio_impl::TcpCounters;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Most transactions whose timings are remembered (for `/unit` and the load generator): two
/// minutes of 5,000 transfers/s, so a load run of that length keeps every latency (the load
/// report counts the final transfers whose times were already forgotten). About 125 bytes each
/// (map entry and order queue), so up to ~75 MB, and only on a node that saw that many.
const TX_TIMES_MAX: usize = 600_000;
/// Checkpoint ids remembered for the explorer's fork tree (`GET /forks`): the chain keeps every
/// header but lists none, and side branches are known only as they arrive. At one checkpoint a
/// second this is minutes of history; the tree shows at most the last 1,000 heights.
const RECENT_CHECKPOINTS_MAX: usize = 1_024;

/// When this node first saw a transaction, and when it was confirmed and became final.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TxTimes {
    /// Clock time (Unix ms) its unit entered this node's DAG; `None` until then.
    pub accepted_ms: Option<u64>,
    /// Clock time (Unix ms) a checkpoint first confirmed it, applied or ignored; `None` until
    /// then. A later reorg does not move it.
    pub confirmed_ms: Option<u64>,
    /// Clock time (Unix ms) the checkpoint confirming it became final; `None` until then.
    pub final_ms: Option<u64>,
}

/// Counters and per-transaction timings fed by the driver's events.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Checkpoints that entered this node's tree since start, on the best chain or not.
    pub checkpoints_accepted: u64,
    /// Switches of the best chain to a fork that disconnected at least one checkpoint.
    pub reorgs: u64,
    /// Final checkpoints disconnected by a reorg: safety violations, 0 on a healthy network.
    pub final_reverted: u64,
    /// Confirmations whose transaction took effect under White Flag ordering (counted again if
    /// a reorg confirms it anew).
    pub txs_applied: u64,
    /// Confirmations whose transaction was ordered but refused by the ledger (a used nonce,
    /// missing funds...), so it had no effect.
    pub txs_ignored: u64,
    /// Transactions whose confirming checkpoint became final.
    pub txs_final: u64,
    /// Looked up by id only, never iterated (the order lives in `order`), so a hash map: up to
    /// three events per transaction each look an id up among 200,000 (the bound then), which
    /// as a B-tree of 32-byte keys was ~3% of a node's CPU (plus its `memcmp`s) at 5,000
    /// transfers/s.
    pub tx_times: HashMap<Hash, TxTimes>,
    order: VecDeque<Hash>,
    /// The checkpoints that entered this node's tree last, oldest first, on any branch.
    pub recent_checkpoints: VecDeque<Hash>,
    /// The peer transport's refusals and open connections.
    pub p2p: TcpCounters,
}

impl Telemetry {
    /// Empty telemetry that reports the given transport's counters.
    pub fn with_p2p(p2p: TcpCounters) -> Telemetry {
        Telemetry { p2p, ..Telemetry::default() }
    }

    /// The `count` transactions this node saw last, newest first.
    pub fn recent(&self, count: usize) -> Vec<Hash> {
        self.order.iter().rev().take(count).copied().collect()
    }

    fn times(&mut self, id: Hash) -> &mut TxTimes {
        if !self.tx_times.contains_key(&id) {
            // Bounded memory: forget the oldest transaction once full.
            if self.order.len() >= TX_TIMES_MAX
                && let Some(oldest) = self.order.pop_front()
            {
                self.tx_times.remove(&oldest);
            }
            self.order.push_back(id);
        }
        self.tx_times.entry(id).or_default()
    }
}

/// The [`Telemetry`] shared between the event sink (writer) and the API handlers (readers).
pub type SharedTelemetry = Arc<Mutex<Telemetry>>;

/// Logs events and updates [`Telemetry`].
pub struct TelemetrySink(pub SharedTelemetry);

impl EventSink for TelemetrySink {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        match event {
            Event::CheckpointFinal { height, id, ledger_root, .. } => {
                tracing::info!(height, id = %id.short(), root = %ledger_root.short(), "final");
            }
            Event::HeadChanged { height, id, .. } => {
                tracing::debug!(height, id = %id.short(), "head");
            }
            Event::CheckpointWon { height, deadline_ms, .. } => {
                tracing::info!(height, deadline_ms, "checkpoint won");
            }
            Event::Reorg { depth, .. } => tracing::warn!(depth, "reorganisation"),
            Event::ReorgRefused { depth, limit, .. } => {
                tracing::warn!(depth, limit, "reorganisation refused");
            }
            Event::FinalReverted { height, .. } => {
                tracing::error!(height, "a final checkpoint was reverted (safety violation)");
            }
            Event::CheckpointInvalid { height, reason, .. } => {
                tracing::warn!(height, reason, "invalid checkpoint");
            }
            Event::InputRejected { kind, reason, peer } => {
                tracing::debug!(kind, reason, ?peer, "rejected");
            }
            Event::PeerDisconnected { peer, score } => {
                tracing::info!(peer, score, "peer disconnected");
            }
            _ => {}
        }
        let Ok(mut telemetry) = self.0.lock() else { return };
        match event {
            Event::UnitAccepted { id, .. } => {
                telemetry.times(*id).accepted_ms.get_or_insert(now_ms);
            }
            Event::CheckpointAccepted { id, .. } => {
                telemetry.checkpoints_accepted += 1;
                if telemetry.recent_checkpoints.len() >= RECENT_CHECKPOINTS_MAX {
                    telemetry.recent_checkpoints.pop_front();
                }
                telemetry.recent_checkpoints.push_back(*id);
            }
            Event::Reorg { .. } => telemetry.reorgs += 1,
            Event::FinalReverted { .. } => telemetry.final_reverted += 1,
            Event::TxConfirmed { id, outcome, .. } => {
                match outcome {
                    crate::core::dag::Outcome::Applied => telemetry.txs_applied += 1,
                    crate::core::dag::Outcome::Ignored => telemetry.txs_ignored += 1,
                }
                telemetry.times(*id).confirmed_ms.get_or_insert(now_ms);
            }
            Event::TxFinal { id, .. } => {
                telemetry.txs_final += 1;
                telemetry.times(*id).final_ms.get_or_insert(now_ms);
            }
            _ => {}
        }
    }
}
