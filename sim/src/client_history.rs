//! The transfer workload's client history (Jepsen style, `vein_node::history`): every
//! transfer the workload asks a node to sign is recorded when sent, when answered (the unit id
//! or the refusal), and when the node it was sent to reports it final (`Event::TxFinal`, with
//! the checkpoint that node reported final at that height just before). At the end of a run
//! every running node's chain is read ([`view_of`]) and held to the history: each transfer the
//! client saw final must be in each node's ledger once, at that height, under that checkpoint,
//! with that outcome; no unit is confirmed twice; no (sender, nonce) is applied twice; no
//! refused transfer is anywhere. A break is the `client-history` violation.
//!
//! Recording only takes a lock and appends: it awaits nothing and draws no randomness, so a run
//! with it has the trace (and hash) of the run without it. Balances are not checked here: the
//! senders are the nodes' own accounts, which also mine and carry the other workloads (the
//! ledger's own conservation is `ledger-invariant`); `vein-testnet load`, whose accounts are its
//! own, checks them.

use crate::checker::Violation;
use crate::selftest::{BUGGY_NODE, SelfTestBug};
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use vein_node::core::crypto::AccountId;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::RejectReason;
use vein_node::driver::DriverHandle;
use vein_node::history::{HistoryReport, LedgerView, Recorder, TransferOp, check, view_of};

/// Violations listed one by one; more are summed up in the last one.
const LISTED: usize = 10;

/// The workload's history and what is needed to attribute finality.
pub struct ClientHistory {
    recorder: Mutex<Recorder>,
    /// The checkpoint each node last reported final (its `TxFinal`s follow that report).
    last_final: Mutex<Vec<(u64, Hash)>>,
    /// The accounts the workload sends from (the funded nodes').
    senders: BTreeSet<AccountId>,
    self_test: Option<SelfTestBug>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ClientHistory {
    /// A history of a run of `nodes` nodes whose workload sends from `senders`.
    pub fn new(
        nodes: usize,
        senders: BTreeSet<AccountId>,
        self_test: Option<SelfTestBug>,
    ) -> ClientHistory {
        ClientHistory {
            recorder: Mutex::new(Recorder::begin(0, 0, Vec::new())),
            last_final: Mutex::new(vec![(0, Hash::ZERO); nodes]),
            senders,
            self_test,
        }
    }

    /// The workload asks node `node` (account `from`) to sign a transfer; its operation.
    pub fn invoke(&self, at_ms: u64, node: usize, transfer: TransferOp) -> u64 {
        lock(&self.recorder).invoke(at_ms, node, transfer)
    }

    /// The node's answer to operation `op` (`None`: the node went down meanwhile).
    pub fn answered(&self, op: u64, at_ms: u64, answer: &Option<Result<Hash, RejectReason>>) {
        let mut recorder = lock(&self.recorder);
        match answer {
            Some(Ok(id)) => recorder.ok(op, at_ms, *id),
            Some(Err(reason)) => recorder.fail(op, at_ms, reason.to_string()),
            None => recorder.unknown(op, at_ms, "the node stopped before answering".into()),
        }
    }

    /// Node `node` emitted `event` at simulated `at_ms`.
    pub fn on_event(&self, node: usize, at_ms: u64, event: &Event) {
        match event {
            Event::CheckpointFinal { id, height, .. } => {
                if let Some(last) = lock(&self.last_final).get_mut(node) {
                    *last = (*height, *id);
                }
            }
            Event::TxFinal { id, height, outcome, .. } => {
                let last = lock(&self.last_final).get(node).copied();
                let checkpoint = last.filter(|(at, _)| at == height).map(|(_, id)| id);
                let applied = *outcome == Outcome::Applied;
                lock(&self.recorder).seen_final(node, id, at_ms, (*height, checkpoint), applied);
            }
            _ => {}
        }
    }

    /// Read every running node's chain and check the history against it.
    pub async fn end(
        &self,
        nodes: usize,
        handle: impl Fn(usize) -> Option<DriverHandle>,
        at_ms: u64,
    ) -> (Vec<Violation>, HistoryReport) {
        let mut views = Vec::new();
        for node in 0..nodes {
            let Some(handle) = handle(node) else { continue };
            let senders = self.senders.clone();
            let read = move |core: &vein_node::core::node::Node| {
                view_of(core, node, &senders, 0, usize::MAX)
            };
            if let Some(view) = handle.inspect(read).await {
                views.push(view);
            }
        }
        let history = match lock(&self.recorder).history() {
            Ok(history) => history,
            Err(error) => {
                let violation = violation(BUGGY_NODE, at_ms, format!("history malformed: {error}"));
                return (vec![violation], HistoryReport::default());
            }
        };
        if let Some(bug) = self.self_test {
            let first_final = history.finals().find_map(|(operation, _)| operation.id());
            mutate(bug, &mut views, first_final);
        }
        let report = check(&history, &views);
        let mut violations: Vec<Violation> = report
            .violations
            .iter()
            .take(LISTED)
            .map(|found| violation(found.node(), at_ms, found.to_string()))
            .collect();
        if let Some(last) = violations.last_mut()
            && report.violations.len() > LISTED
        {
            last.detail += &format!(" (and {} more)", report.violations.len() - LISTED);
        }
        (violations, report)
    }
}

fn violation(node: usize, at_ms: u64, detail: String) -> Violation {
    Violation { invariant: "client-history", at_ms, node, other: None, detail }
}

/// The history self-tests: node 0's view loses, or doubles, the first transfer seen final.
fn mutate(bug: SelfTestBug, views: &mut [LedgerView], first_final: Option<Hash>) {
    let Some(view) = views.iter_mut().find(|view| view.node == BUGGY_NODE) else { return };
    let Some(position) = view.entries.iter().position(|entry| Some(entry.id) == first_final) else {
        return;
    };
    match bug {
        SelfTestBug::HistoryDropFinal => {
            view.entries.remove(position);
        }
        SelfTestBug::HistoryDoubleApply => {
            let mut again = view.entries[position];
            again.height = view.to_height;
            view.entries.push(again);
        }
        _ => {}
    }
}
