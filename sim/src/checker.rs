//! The invariants of PROTOCOL.md section 8, checked on every node's events as they happen
//! (safety) and on snapshots of every node at the end of the run (convergence, durability).
//!
//! Safety, from events:
//! - `conflicting-finality`: two nodes report different checkpoints final at one height;
//! - `ledger-root`: two nodes report the same final checkpoint with different ledger roots
//!   (the event carries the header's root, which the checkpoint's id commits to, so this is a
//!   check of the reports; what compares each node's own re-execution with the chain is
//!   `invalid-final` and, at the end, `supply`);
//! - `invalid-final`: a node found a checkpoint invalid (`Event::CheckpointInvalid`: its own
//!   execution of the cone, contract calls included, gave another ledger root, or the cone did
//!   not connect) that some node reports final. Each node recomputes the root of every
//!   checkpoint it connects, so a re-execution that differs, after a reorganisation or a
//!   restart, shows here first;
//! - (the event's `supply` is not compared: the core reports the supply of its current head
//!   there, not of the final checkpoint, so it legitimately differs between nodes whose heads
//!   differ; supply is compared at the end between nodes with equal heads instead);
//! - `final-reverted`: a node disconnected a checkpoint it had reported final;
//! - `tx-final-mismatch`: two nodes report one transaction final with different outcomes or at
//!   different heights;
//! - `replica-root`: two member nodes of a consortium hold different replica roots as of a
//!   height both report final ([`Checker::on_replica_root`], fed by the simulation from each
//!   node's `crate::consortium_replicas::MemberView`).
//!
//! At the end, from snapshots ([`NodeSnapshot`]):
//! - `ledger-invariant`: `supply = genesis + minted − burned` and balances sum to it;
//! - `supply`: two nodes with the same head hold different supplies or ledger roots (each
//!   node's own `Ledger::root()`, which covers contract state: EVM accounts, code hashes,
//!   storage and held transactions);
//! - `evm-receipts`: two nodes hold different EVM receipts (status, gas, logs, output) at a
//!   height both hold final. Receipts are history kept out of the ledger root, so equal roots
//!   alone would not catch a re-execution that differs only in them;
//! - `lost-final`: a node's chain no longer holds a checkpoint or transaction it (or any node)
//!   reported final at a height it has finalised, or its final height is below one it reported
//!   before (the crash-and-restart durability check);
//! - `no-convergence`: the nodes' chains differ below the lowest head (minus one, since a
//!   checkpoint may be in flight at any instant);
//! - `no-progress`: a node's final height did not advance after the last fault;
//! - `lagging`: a node's final height trails the best node's by more than a bound (2k + 4).

use crate::evm_receipts::ReceiptsAt;
use std::collections::BTreeMap;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;

/// A violated invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's short name from the module doc (`conflicting-finality`, `lost-final`...);
    /// the shrinker keeps a candidate only while this same name still fails.
    pub invariant: &'static str,
    /// Simulated time of detection.
    pub at_ms: u64,
    /// Index of the node on which the violation was seen.
    pub node: usize,
    /// The other node involved, if any.
    pub other: Option<usize>,
    /// Human-readable specifics (heights, short ids, counts) for the report.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {:.3} s on node {}", self.invariant, self.at_ms as f64 / 1e3, self.node)?;
        if let Some(other) = self.other {
            write!(f, " (vs node {other})")?;
        }
        write!(f, ": {}", self.detail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FinalCheckpoint {
    id: Hash,
    ledger_root: Hash,
    supply: u64,
    node: usize,
}

/// A transaction some node reported final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalTx {
    /// Checkpoint height at which the transaction became final.
    pub height: u64,
    /// Whether the ledger applied or ignored it (e.g. for want of funds).
    pub outcome: Outcome,
    /// Index of the first node that reported it final.
    pub node: usize,
}

/// Safety state shared by every node's event sink.
#[derive(Debug, Default)]
pub struct Checker {
    finals: BTreeMap<u64, FinalCheckpoint>,
    transactions: BTreeMap<Hash, FinalTx>,
    /// Highest final height each node reported.
    final_heights: Vec<u64>,
    violations: Vec<Violation>,
    /// Distinct transactions first reported final with `Outcome::Applied`.
    pub applied: u64,
    /// Distinct transactions first reported final with `Outcome::Ignored`.
    pub ignored: u64,
    /// The first replica root reported per (consortium, final height), and by which node.
    replica_roots: BTreeMap<(Hash, u64), (Hash, usize)>,
    /// Replica roots compared with an earlier report of the same consortium and height.
    pub replica_root_checks: u64,
    /// Checkpoints some node found invalid, with the first such node and its reason.
    invalid: BTreeMap<Hash, (usize, String)>,
}

impl Checker {
    /// A checker for a run of `nodes` nodes, with no finality seen yet (every final height 0).
    pub fn new(nodes: usize) -> Checker {
        Checker { final_heights: vec![0; nodes], ..Checker::default() }
    }

    /// Feed one event of node `node` at simulated time `at_ms`.
    pub fn on_event(&mut self, node: usize, at_ms: u64, event: &Event) {
        match event {
            Event::CheckpointFinal { id, height, ledger_root, supply } => {
                if let Some(best) = self.final_heights.get_mut(node) {
                    *best = (*best).max(*height);
                }
                let seen =
                    FinalCheckpoint { id: *id, ledger_root: *ledger_root, supply: *supply, node };
                if let Some((other, reason)) = self.invalid.get(id).cloned() {
                    self.record(invalid_final(node, other, at_ms, *id, *height, &reason));
                }
                match self.finals.get(height).copied() {
                    None => {
                        self.finals.insert(*height, seen);
                    }
                    Some(first) if first.id != *id => self.record(Violation {
                        invariant: "conflicting-finality",
                        at_ms,
                        node,
                        other: Some(first.node),
                        detail: format!(
                            "height {height}: {} final here, {} final there",
                            id.short(),
                            first.id.short()
                        ),
                    }),
                    Some(first) if first.ledger_root != *ledger_root => self.record(Violation {
                        invariant: "ledger-root",
                        at_ms,
                        node,
                        other: Some(first.node),
                        detail: format!("height {height}: equal checkpoints, different roots"),
                    }),
                    Some(_) => {}
                }
            }
            Event::CheckpointInvalid { id, height, reason } => {
                match self.finals.get(height).copied() {
                    Some(first) if first.id == *id => {
                        self.record(invalid_final(first.node, node, at_ms, *id, *height, reason));
                    }
                    _ => {
                        self.invalid.entry(*id).or_insert_with(|| (node, reason.clone()));
                    }
                }
            }
            Event::FinalReverted { height, id } => self.record(Violation {
                invariant: "final-reverted",
                at_ms,
                node,
                other: None,
                detail: format!("final checkpoint {} at height {height} reverted", id.short()),
            }),
            Event::TxFinal { id, height, outcome, .. } => {
                match self.transactions.get(id).copied() {
                    None => {
                        match outcome {
                            Outcome::Applied => self.applied += 1,
                            Outcome::Ignored => self.ignored += 1,
                        }
                        self.transactions
                            .insert(*id, FinalTx { height: *height, outcome: *outcome, node });
                    }
                    Some(first) if first.height != *height || first.outcome != *outcome => {
                        self.record(Violation {
                            invariant: "tx-final-mismatch",
                            at_ms,
                            node,
                            other: Some(first.node),
                            detail: format!(
                                "tx {}: {outcome:?} at {height} here, {:?} at {} there",
                                id.short(),
                                first.outcome,
                                first.height
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
            _ => {}
        }
    }

    /// Member node `node` holds `root` for `consortium` as of `height`, which it reports final.
    pub fn on_replica_root(
        &mut self,
        node: usize,
        at_ms: u64,
        consortium: Hash,
        height: u64,
        root: Hash,
    ) {
        match self.replica_roots.get(&(consortium, height)).copied() {
            None => {
                self.replica_roots.insert((consortium, height), (root, node));
            }
            Some((first, other)) => {
                self.replica_root_checks += 1;
                if first != root {
                    self.record(Violation {
                        invariant: "replica-root",
                        at_ms,
                        node,
                        other: Some(other),
                        detail: format!(
                            "consortium {} as of final height {height}: root {} here, {} there",
                            consortium.short(),
                            root.short(),
                            first.short()
                        ),
                    });
                }
            }
        }
    }

    /// Add a violation; the simulation also records its own here (a node that failed, a
    /// corrupted log a node started from), so that they stop the run like the event checks'.
    pub fn record(&mut self, violation: Violation) {
        self.violations.push(violation);
    }

    /// Every violation recorded so far, in the order found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Highest final height each node reported, indexed by node; it never decreases, even
    /// when a node restarts lower (the `lost-final` check compares against it).
    pub fn final_heights(&self) -> &[u64] {
        &self.final_heights
    }

    /// Highest height any node reported final.
    pub fn highest_final(&self) -> u64 {
        self.finals.keys().next_back().copied().unwrap_or(0)
    }

    /// Final checkpoint ids by height, as first reported.
    pub fn final_checkpoints(&self) -> BTreeMap<u64, Hash> {
        self.finals.iter().map(|(height, first)| (*height, first.id)).collect()
    }

    /// Every transaction reported final, as first reported.
    pub fn final_transactions(&self) -> &BTreeMap<Hash, FinalTx> {
        &self.transactions
    }
}

/// `final_node` reports checkpoint `id` final at `height`; `invalid_node` found it invalid.
fn invalid_final(
    final_node: usize,
    invalid_node: usize,
    at_ms: u64,
    id: Hash,
    height: u64,
    reason: &str,
) -> Violation {
    Violation {
        invariant: "invalid-final",
        at_ms,
        node: invalid_node,
        other: Some(final_node),
        detail: format!(
            "checkpoint {} final at height {height} is invalid here: {reason}",
            id.short()
        ),
    }
}

/// What the end-of-run checks need from one node (gathered by the simulation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSnapshot {
    /// Index of the node in the run.
    pub node: usize,
    /// Height of the node's active head checkpoint.
    pub height: u64,
    /// Height of the node's highest final checkpoint (at most `height`).
    pub final_height: u64,
    /// Active checkpoint id at heights `0..=height` (`Hash::ZERO` below `lowest_held`).
    pub active: Vec<Hash>,
    /// The lowest height whose checkpoint id the node still holds (lower ones are pruned).
    pub lowest_held: u64,
    /// DAG units held in memory.
    pub units_held: u64,
    /// `check_invariants` of the ledger, as text if it failed.
    pub ledger_error: Option<String>,
    /// Root of the ledger at the node's head (not at its final checkpoint).
    pub ledger_root: Hash,
    /// Native tokens in existence at the head, in base units: `genesis + minted − burned`.
    pub supply: u64,
    /// Business tokens on the ledger (their supply invariants are in `ledger_error`).
    pub tokens: usize,
    /// Transactions final (anywhere) at or below this node's final height that this node does
    /// not hold with the same outcome at the same height.
    pub lost_transactions: Vec<Hash>,
    /// Peer count and rejection counters, to explain liveness failures.
    pub diagnosis: String,
    /// EVM receipts at each height up to `final_height` that executed any (empty without
    /// EVM load).
    pub evm_receipts: BTreeMap<u64, ReceiptsAt>,
}

/// The end-of-run checks; `final_heights_at_faults_end` are the nodes' final heights when the
/// last fault ended, `finals` the checkpoints reported final during the run, `reported` the
/// highest final height each node ever reported (before any crash), `lag_max` how
/// far a node's final height may trail the best one at the end.
pub fn check_end(
    snapshots: &[NodeSnapshot],
    finals: &BTreeMap<u64, Hash>,
    reported: &[u64],
    final_heights_at_faults_end: &[u64],
    lag_max: u64,
    at_ms: u64,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for snapshot in snapshots {
        let node = snapshot.node;
        if let Some(error) = &snapshot.ledger_error {
            violations.push(Violation {
                invariant: "ledger-invariant",
                at_ms,
                node,
                other: None,
                detail: error.clone(),
            });
        }
        // Heights below the lowest one held were pruned from memory (not lost: on disk).
        let held =
            finals.range(..=snapshot.final_height).filter(|(h, _)| **h >= snapshot.lowest_held);
        for (height, id) in held {
            if snapshot.active.get(*height as usize) != Some(id) {
                violations.push(Violation {
                    invariant: "lost-final",
                    at_ms,
                    node,
                    other: None,
                    detail: format!("checkpoint {} final at height {height} not held", id.short()),
                });
                break;
            }
        }
        if let Some(id) = snapshot.lost_transactions.first() {
            violations.push(Violation {
                invariant: "lost-final",
                at_ms,
                node,
                other: None,
                detail: format!(
                    "{} final transactions not held, first {}",
                    snapshot.lost_transactions.len(),
                    id.short()
                ),
            });
        }
        if snapshot.final_height < reported.get(node).copied().unwrap_or(0) {
            violations.push(Violation {
                invariant: "lost-final",
                at_ms,
                node,
                other: None,
                detail: format!(
                    "final height {} is below the {} this node reported before",
                    snapshot.final_height,
                    reported.get(node).copied().unwrap_or(0)
                ),
            });
        }
        let before = final_heights_at_faults_end.get(node).copied().unwrap_or(0);
        if snapshot.final_height <= before {
            violations.push(Violation {
                invariant: "no-progress",
                at_ms,
                node,
                other: None,
                detail: format!(
                    "final height {} did not advance past {before} after the last fault \
                     (head height {}; {})",
                    snapshot.final_height, snapshot.height, snapshot.diagnosis
                ),
            });
        }
    }
    // Liveness beyond "advanced": a node whose finality trails the best by more than the
    // settle phase could explain is stuck.
    let best_final = snapshots.iter().map(|snapshot| snapshot.final_height).max().unwrap_or(0);
    for snapshot in snapshots {
        if snapshot.final_height + lag_max < best_final {
            violations.push(Violation {
                invariant: "lagging",
                at_ms,
                node: snapshot.node,
                other: None,
                detail: format!(
                    "final height {} trails the best {best_final} by more than {lag_max} \
                     (head height {}; {})",
                    snapshot.final_height, snapshot.height, snapshot.diagnosis
                ),
            });
        }
    }
    let mut by_head: BTreeMap<Hash, &NodeSnapshot> = BTreeMap::new();
    for snapshot in snapshots {
        let Some(head) = snapshot.active.last() else { continue };
        let first = *by_head.entry(*head).or_insert(snapshot);
        if first.supply != snapshot.supply || first.ledger_root != snapshot.ledger_root {
            violations.push(Violation {
                invariant: "supply",
                at_ms,
                node: snapshot.node,
                other: Some(first.node),
                detail: format!(
                    "same head, supply {} and root {} here, {} and {} there",
                    snapshot.supply,
                    snapshot.ledger_root.short(),
                    first.supply,
                    first.ledger_root.short()
                ),
            });
        }
    }
    violations.extend(check_receipts(snapshots, at_ms));
    let Some(lowest) = snapshots.iter().map(|snapshot| snapshot.height).min() else {
        return violations;
    };
    // Compare below the lowest head minus one: the newest checkpoint may still be spreading.
    let Some(first) = snapshots.first() else { return violations };
    // Pruned heights are not held anywhere in memory: compare from the highest lowest-held.
    let held_from = snapshots.iter().map(|snapshot| snapshot.lowest_held).max().unwrap_or(0);
    'heights: for height in held_from as usize..lowest.saturating_sub(1) as usize {
        for snapshot in snapshots {
            if snapshot.active.get(height) != first.active.get(height) {
                violations.push(Violation {
                    invariant: "no-convergence",
                    at_ms,
                    node: snapshot.node,
                    other: Some(first.node),
                    detail: format!(
                        "chains differ at height {height} (lowest head {lowest}) after settling"
                    ),
                });
                break 'heights;
            }
        }
    }
    violations
}

/// `evm-receipts`: at every height two nodes both hold final, equal receipts (a height one node
/// holds receipts at and the other none counts too). Each node is compared with the one final
/// furthest, which covers every pair: equality below both final heights is transitive.
fn check_receipts(snapshots: &[NodeSnapshot], at_ms: u64) -> Option<Violation> {
    let best = snapshots.iter().max_by_key(|snapshot| snapshot.final_height)?;
    for snapshot in snapshots {
        let common = snapshot.final_height.min(best.final_height);
        let heights =
            snapshot.evm_receipts.range(..=common).chain(best.evm_receipts.range(..=common));
        let differs = heights
            .map(|(height, _)| *height)
            .find(|height| snapshot.evm_receipts.get(height) != best.evm_receipts.get(height));
        if let Some(height) = differs {
            return Some(Violation {
                invariant: "evm-receipts",
                at_ms,
                node: snapshot.node,
                other: Some(best.node),
                detail: format!("different EVM receipts at final height {height}"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn final_event(id: u8, height: u64, root: u8, supply: u64) -> Event {
        Event::CheckpointFinal { id: Hash([id; 32]), height, ledger_root: Hash([root; 32]), supply }
    }

    #[test]
    fn conflicting_finality_root_and_supply_are_caught() {
        let mut checker = Checker::new(3);
        checker.on_event(0, 10, &final_event(1, 5, 1, 100));
        checker.on_event(1, 11, &final_event(1, 5, 1, 100));
        assert!(checker.violations().is_empty());
        checker.on_event(2, 12, &final_event(2, 5, 1, 100));
        assert_eq!(checker.violations()[0].invariant, "conflicting-finality");
        assert_eq!(checker.violations()[0].other, Some(0));
        checker.on_event(1, 13, &final_event(1, 5, 9, 100));
        // The event's supply is the reporting node's head supply: not compared.
        checker.on_event(1, 14, &final_event(1, 5, 1, 99));
        let names: Vec<_> = checker.violations().iter().map(|v| v.invariant).collect();
        assert_eq!(names, ["conflicting-finality", "ledger-root"]);
        assert_eq!(checker.final_heights(), &[5, 5, 5]);
        checker.on_event(0, 20, &Event::FinalReverted { height: 5, id: Hash([1; 32]) });
        assert_eq!(checker.violations().last().unwrap().invariant, "final-reverted");
    }

    #[test]
    fn transactions_final_differently_are_caught() {
        let mut checker = Checker::new(2);
        let tx = |height, outcome| Event::TxFinal {
            id: Hash([7; 32]),
            height,
            outcome,
            from: Default::default(),
            nonce: 0,
        };
        checker.on_event(0, 1, &tx(3, Outcome::Applied));
        checker.on_event(1, 2, &tx(3, Outcome::Applied));
        assert!(checker.violations().is_empty());
        assert_eq!(checker.applied, 1);
        checker.on_event(1, 3, &tx(3, Outcome::Ignored));
        assert_eq!(checker.violations()[0].invariant, "tx-final-mismatch");
    }

    #[test]
    fn members_replica_roots_must_agree_at_a_final_height() {
        let mut checker = Checker::new(3);
        let consortium = Hash([9; 32]);
        checker.on_replica_root(0, 1, consortium, 4, Hash([1; 32]));
        checker.on_replica_root(1, 2, consortium, 4, Hash([1; 32]));
        checker.on_replica_root(1, 2, consortium, 5, Hash([2; 32]));
        checker.on_replica_root(2, 2, Hash([8; 32]), 4, Hash([3; 32]));
        assert!(checker.violations().is_empty());
        assert_eq!(checker.replica_root_checks, 1);
        checker.on_replica_root(2, 3, consortium, 4, Hash([7; 32]));
        let violation = &checker.violations()[0];
        assert_eq!(
            (violation.invariant, violation.node, violation.other),
            ("replica-root", 2, Some(0))
        );
    }

    fn snapshot(node: usize, chain: &[u8], final_height: u64) -> NodeSnapshot {
        NodeSnapshot {
            node,
            height: chain.len() as u64 - 1,
            final_height,
            active: chain.iter().map(|id| Hash([*id; 32])).collect(),
            lowest_held: 0,
            units_held: 0,
            ledger_error: None,
            ledger_root: Hash::ZERO,
            supply: 100,
            tokens: 0,
            lost_transactions: Vec::new(),
            diagnosis: String::new(),
            evm_receipts: BTreeMap::new(),
        }
    }

    #[test]
    fn end_checks_find_divergence_loss_and_stalls() {
        let finals: BTreeMap<u64, Hash> = [(1, Hash([1; 32]))].into_iter().collect();
        let good = [snapshot(0, &[0, 1, 2, 3], 2), snapshot(1, &[0, 1, 2, 4, 5], 2)];
        assert!(check_end(&good, &finals, &[], &[1, 1], 5, 9).is_empty());
        let diverged = [snapshot(0, &[0, 1, 2, 3, 4], 2), snapshot(1, &[0, 1, 9, 4, 5], 2)];
        let found = check_end(&diverged, &finals, &[], &[1, 1], 5, 9);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, "no-convergence");
        let lost = [snapshot(0, &[0, 8, 2, 3], 2)];
        assert_eq!(check_end(&lost, &finals, &[], &[1], 5, 9)[0].invariant, "lost-final");
        let stalled = [snapshot(0, &[0, 1, 2, 3], 2)];
        assert_eq!(check_end(&stalled, &finals, &[], &[2], 5, 9)[0].invariant, "no-progress");
        let mut richer = snapshot(1, &[0, 1, 2, 3], 2);
        richer.supply = 101;
        let split = [snapshot(0, &[0, 1, 2, 3], 2), richer];
        assert_eq!(check_end(&split, &finals, &[], &[1, 1], 5, 9)[0].invariant, "supply");
        let regressed = [snapshot(0, &[0, 1, 2, 3], 2)];
        assert_eq!(check_end(&regressed, &finals, &[3], &[1], 5, 9)[0].invariant, "lost-final");
    }

    fn receipts(byte: u8, failed: u64) -> ReceiptsAt {
        ReceiptsAt { digest: Hash([byte; 32]), executed: 2, failed }
    }

    #[test]
    fn receipts_must_agree_at_heights_both_nodes_hold_final() {
        let finals: BTreeMap<u64, Hash> = BTreeMap::new();
        let mut behind = snapshot(0, &[0, 1, 2, 3], 2);
        let mut ahead = snapshot(1, &[0, 1, 2, 3], 3);
        behind.evm_receipts.insert(2, receipts(1, 0));
        ahead.evm_receipts.insert(2, receipts(1, 0));
        // Height 3 is final on one node only: not compared.
        ahead.evm_receipts.insert(3, receipts(2, 0));
        let clean = [behind.clone(), ahead.clone()];
        assert!(check_end(&clean, &finals, &[], &[1, 1], 5, 9).is_empty());
        behind.evm_receipts.insert(2, receipts(1, 1));
        let found = check_end(&[behind.clone(), ahead.clone()], &finals, &[], &[1, 1], 5, 9);
        assert_eq!((found[0].invariant, found[0].node), ("evm-receipts", 0));
        // Receipts on one node where the other executed nothing differ too.
        behind.evm_receipts.clear();
        let found = check_end(&[behind, ahead], &finals, &[], &[1, 1], 5, 9);
        assert_eq!(found[0].invariant, "evm-receipts");
    }

    #[test]
    fn a_checkpoint_invalid_on_one_node_and_final_on_another_is_caught() {
        let invalid = |id: u8, height| Event::CheckpointInvalid {
            id: Hash([id; 32]),
            height,
            reason: "ledger root mismatch".to_string(),
        };
        // Invalid first, final later.
        let mut checker = Checker::new(2);
        checker.on_event(1, 1, &invalid(1, 5));
        checker.on_event(1, 1, &invalid(3, 6));
        assert!(checker.violations().is_empty());
        checker.on_event(0, 2, &final_event(1, 5, 1, 100));
        let violation = &checker.violations()[0];
        assert_eq!(
            (violation.invariant, violation.node, violation.other),
            ("invalid-final", 1, Some(0))
        );
        // Final first, invalid later; a losing branch's invalid checkpoint is no violation.
        let mut checker = Checker::new(2);
        checker.on_event(0, 1, &final_event(1, 5, 1, 100));
        checker.on_event(1, 2, &invalid(2, 5));
        assert!(checker.violations().is_empty());
        checker.on_event(1, 2, &invalid(1, 5));
        assert_eq!(checker.violations()[0].invariant, "invalid-final");
    }
}
