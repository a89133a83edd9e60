//! The federated-learning workload on the simulated nodes (madsim only): each FL slot of the
//! workload (`SimConfig::fl_share`) is one tick in which every actor of the plan whose node
//! runs looks at its node's ledger and signs its next step ([`crate::fl_workload`]). The
//! tick's findings (`fl-root`, `fl-escrow`) go to the checker at once; the end of the run adds
//! the same checks on every running node and `fl-stalled` ([`crate::fl_checks`]).

use crate::checker::{Checker, Violation};
use crate::config::SimConfig;
use crate::fl_checks::{progress, task_conservation};
use crate::fl_workload::{Board, FlPlan, FlReport};
use crate::runtime::sim_now_ms;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use vein_node::core::crypto::Keypair;
use vein_node::driver::DriverHandle;

/// The plan and the workload's memory, shared by the ticks and the end checks.
pub struct FlRun {
    plan: FlPlan,
    seed: u64,
    faults_end_ms: u64,
    board: Mutex<Board>,
}

fn lock(board: &Mutex<Board>) -> MutexGuard<'_, Board> {
    board.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FlRun {
    /// The run's FL workload, or `None` without `fl_share` or with too few funded nodes.
    pub fn new(config: &SimConfig, keys: &[Keypair]) -> Option<Arc<FlRun>> {
        if config.fl_share <= 0.0 {
            return None;
        }
        let accounts: Vec<_> = keys.iter().map(Keypair::account).collect();
        let seeds: Vec<_> = keys.iter().map(Keypair::seed).collect();
        let plan = FlPlan::new(config.funded, &accounts, &seeds, config.target_interval_ms)?;
        Some(Arc::new(FlRun {
            plan,
            seed: config.seed,
            faults_end_ms: config.faults_end_ms(),
            board: Mutex::new(Board::default()),
        }))
    }

    /// One tick at `now_ms`: every actor whose node runs (`handle(node)`) takes its step.
    pub async fn tick(
        self: &Arc<Self>,
        now_ms: u64,
        handle: impl Fn(usize) -> Option<DriverHandle>,
        checker: &Mutex<Checker>,
    ) {
        let mut settled = Vec::new();
        for actor in 0..self.plan.actors() {
            let node = self.plan.nodes[actor];
            let Some(handle) = handle(node) else {
                lock(&self.board).report.skipped += 1;
                continue;
            };
            let run = self.clone();
            let step = move |core: &mut vein_node::core::node::Node| {
                let mut board = lock(&run.board);
                let findings = board.act(&run.plan, run.seed, actor, core, now_ms);
                let task = board.task();
                let rounds = task.and_then(|id| core.chain().ledger().fl().get(&id));
                let height = core.chain().height();
                (findings, rounds.map(|task| (task.current_round(), height)))
            };
            let Some((findings, rounds)) = handle.operate(step).await else { continue };
            settled.extend(rounds);
            let mut checker = checker.lock().unwrap_or_else(PoisonError::into_inner);
            for finding in findings {
                checker.record(Violation {
                    invariant: finding.invariant,
                    at_ms: sim_now_ms(),
                    node,
                    other: finding.other,
                    detail: finding.detail,
                });
            }
        }
        if now_ms > self.faults_end_ms && !settled.is_empty() {
            lock(&self.board).note_faults_end(&settled);
        }
    }

    /// The end checks on every running node (`handle(node)`), and the run's counters.
    pub async fn end(
        &self,
        nodes: usize,
        handle: impl Fn(usize) -> Option<DriverHandle>,
    ) -> (Vec<Violation>, FlReport) {
        let (task, baseline) = {
            let board = lock(&self.board);
            (board.task(), board.at_faults_end)
        };
        let mut violations = Vec::new();
        let mut report = lock(&self.board).report;
        let at_ms = sim_now_ms();
        let posted = lock(&self.board).report.posts > 0;
        for node in 0..nodes {
            let Some(handle) = handle(node) else { continue };
            let inspect = |core: &vein_node::core::node::Node| {
                (core.chain().ledger().fl().clone(), core.chain().height())
            };
            let Some((tasks, height)) = handle.inspect(inspect).await else { continue };
            for held in tasks.iter() {
                if let Some(detail) = task_conservation(held) {
                    let detail = format!("task {}: {detail}", held.id.short());
                    violations.push(Violation {
                        invariant: "fl-escrow",
                        at_ms,
                        node,
                        other: None,
                        detail,
                    });
                }
            }
            let chosen = task.and_then(|id| tasks.get(&id));
            match chosen {
                Some(held) => {
                    report.participants = report.participants.max(held.participants.len() as u64);
                    let rounds = u64::from(held.current_round());
                    report.rounds_settled = report.rounds_settled.max(rounds);
                    let joined = held.participants.len() as u32;
                    let recovered = held.settled.iter().filter(|r| r.contributors < joined).count();
                    report.rounds_recovered = report.rounds_recovered.max(recovered as u64);
                    let stalled = baseline.and_then(|(settled, from)| {
                        progress(held, settled, height.saturating_sub(from))
                    });
                    if let Some(detail) = stalled {
                        let invariant = "fl-stalled";
                        violations.push(Violation { invariant, at_ms, node, other: None, detail });
                    }
                }
                None if posted => violations.push(Violation {
                    invariant: "fl-stalled",
                    at_ms,
                    node,
                    other: None,
                    detail: format!("the task {task:?} is not on this node's ledger at the end"),
                }),
                None => {}
            }
        }
        report.rounds_at_faults_end = baseline.map_or(0, |(settled, _)| u64::from(settled));
        (violations, report)
    }
}
