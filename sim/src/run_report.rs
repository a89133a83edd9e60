//! The outcome of one simulated run ([`RunReport`]) and its stable metrics record.

use crate::checker::Violation;
use crate::config::SimConfig;
use crate::consortium_replicas::ConsortiumReport;
use crate::evm_workload::EvmReport;
use crate::fl_workload::FlReport;
use crate::peg_checks::PegReport;
use vein_node::core::hash::Hash;
use vein_node::history::HistoryReport;
use vein_reports::metrics::{RunMetrics, Violation as ReportViolation};

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The configuration that was run (its `replay_command` reruns it).
    pub config: SimConfig,
    /// The final [`crate::trace::Trace`] hash: equal seeds and configurations must give equal
    /// hashes, so two different ones prove nondeterminism.
    pub trace_hash: Hash,
    /// Simulated time the run covered, in ms: the full duration, or up to the second in which
    /// the first violation was seen.
    pub simulated_ms: u64,
    /// Messages delivered to a node (a duplicate counts twice; lost ones not at all).
    pub messages_delivered: u64,
    /// Total bytes of the delivered messages.
    pub message_bytes: u64,
    /// Chain events emitted by all nodes together.
    pub events: u64,
    /// Highest height reported final by any node.
    pub checkpoints_final: u64,
    /// Distinct transactions any node reported final (applied or ignored).
    pub transactions_final: u64,
    /// Of those, the ones the ledger applied (the rest were ignored, e.g. for want of funds).
    pub transactions_applied: u64,
    /// Native transfers and token transactions a node accepted for submission (consortium
    /// transactions are counted in `consortium`).
    pub transfers_submitted: u64,
    /// Workload transactions not submitted: the issuing node was down or refused to sign.
    pub transfers_refused: u64,
    /// Token transactions submitted (part of `transfers_submitted`).
    pub token_txs_submitted: u64,
    /// Most tokens any node's ledger holds at the end.
    pub tokens_at_end: usize,
    /// Entries of the fault plan applied (a fault's start and its end count separately).
    pub faults_applied: u64,
    /// I/O errors the simulated disks returned, and driver restarts that followed.
    pub disk_errors: u64,
    /// Restarts by the simulated operator of a node that stopped on a disk error or refused
    /// its damaged log.
    pub disk_restarts: u64,
    /// `corrupt` faults applied to a log, and how many of them the node detected by refusing
    /// to start (each is then restored from a peer's log by the operator).
    pub corruptions: (u64, u64),
    /// Lowest and highest final height over the nodes at the end.
    pub final_height_range: (u64, u64),
    /// DAG units held in memory per running node at the end: mean and largest (bounded by
    /// pruning; docs/protocol.md, "Bounded state").
    pub units_held: (f64, u64),
    /// Bytes of all nodes' unit logs at the end. The simulated disks live in this process's
    /// memory, so they are part of its RSS: history that pruning keeps on disk, not in nodes.
    pub disk_log_bytes: u64,
    /// Consortium workload and checks (all zero without `consortium_share`).
    pub consortium: ConsortiumReport,
    /// EVM workload counters: receipts, reverted or halted ones, carriers ignored, checkpoints
    /// with EVM effects disconnected by reorganisations and carriers re-executed (all zero
    /// without `evm_share`; the receipt counts only when the end-of-run checks ran).
    pub evm: EvmReport,
    /// Federated-learning workload counters and the task's progress (all zero without
    /// `fl_share`).
    pub fl: FlReport,
    /// The side chains' relayer and peg checks (`side_chains` > 0; zero otherwise).
    pub peg: PegReport,
    /// The transfer workload's client history held to every node's ledger at the end
    /// (`crate::client_history`; empty when the end-of-run checks did not run).
    pub history: HistoryReport,
    /// Every invariant violation found, in order; empty for a passing run. The run stops within
    /// a simulated second of the first one seen during the run, and the end-of-run checks run
    /// only when there was none.
    pub violations: Vec<Violation>,
}

impl RunReport {
    /// Whether the run passed: no invariant was violated.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The stable metrics record (`wall_seconds` is the caller's measurement).
    pub fn to_metrics(&self, wall_seconds: f64) -> RunMetrics {
        let mut metrics = RunMetrics::new("sim-run", self.config.seed, self.trace_hash.to_string());
        metrics.nodes = self.config.nodes as u64;
        metrics.simulated_seconds = self.simulated_ms as f64 / 1e3;
        metrics.wall_seconds = wall_seconds;
        metrics.messages_delivered = self.messages_delivered;
        metrics.checkpoints = self.checkpoints_final;
        metrics.transactions_final = self.transactions_final;
        metrics.violations = self
            .violations
            .iter()
            .map(|violation| ReportViolation {
                invariant: violation.invariant.to_string(),
                at_simulated_seconds: violation.at_ms as f64 / 1e3,
                node: Some(violation.node as u64),
                detail: violation.to_string(),
            })
            .collect();
        metrics
    }
}
