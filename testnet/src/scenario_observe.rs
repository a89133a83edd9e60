//! What `vein-testnet scenario` reads off running nodes: node 0's chain, every honest node's
//! final checkpoints, and the safety findings among them.
//!
//! Model: a real node answers `GET /checkpoints` with at most the newest 1,000 checkpoints of its
//! active chain, and prunes old history, so a run's chain is collected while it grows: each poll
//! asks every honest node for its newest [`POLL_WINDOW`] checkpoints and files them by height.
//! Node 0's rows are overwritten on every poll (a reorganisation replaces the heights above its
//! fork point) and cut at its newest head; honest nodes' *final* rows must never change. The
//! invariants are the ones the scenario engines check, read from outside:
//! - `final-reverted`: a node reported another checkpoint at a height it had already called
//!   final, or its `vein_final_reverted_total` counter is above zero;
//! - `conflicting-finality`: two honest nodes called different checkpoints final at one height.
//!   Findings are reported, never hidden: they are the point of running attackers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use vein_node::api_types::Checkpoints;
use vein_reports::metrics::Violation;

use crate::http;

/// Checkpoints asked for per node per poll: far more than a poll interval adds at any interval
/// loopback allows, and deeper than any release the attacker makes in practice.
pub const POLL_WINDOW: u64 = 400;

/// One checkpoint of node 0's active chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    /// Checkpoint id (hex).
    pub id: String,
    /// The miner that forged it (64 hex).
    pub author: String,
}

/// What the polls have seen so far.
#[derive(Debug, Default)]
pub struct ChainLog {
    /// Node 0's active chain by height, as of its newest poll.
    pub chain: BTreeMap<u64, ChainRow>,
    /// Node 0's head height at its newest poll.
    pub head: u64,
    /// Node 0's final height at its newest poll.
    pub final_height: u64,
    /// Final checkpoint ids per honest node, by height, as first reported.
    finals: BTreeMap<usize, BTreeMap<u64, String>>,
    /// Findings so far, in detection order.
    pub violations: Vec<Violation>,
}

impl ChainLog {
    /// Files one node's answer, seen `at_s` seconds into the run.
    pub fn record(&mut self, node: usize, answer: &Checkpoints, at_s: f64) {
        if node == 0 {
            self.chain.retain(|height, _| *height <= answer.height);
            self.head = answer.height;
            self.final_height = answer.final_height;
            for row in &answer.checkpoints {
                let entry = ChainRow { id: row.id.clone(), author: row.author.clone() };
                self.chain.insert(row.height, entry);
            }
        }
        let finals = self.finals.entry(node).or_default();
        // Heights whose final checkpoint changed since the last poll: (height, was, now).
        let mut replaced: Vec<(u64, String, String)> = Vec::new();
        for row in answer.checkpoints.iter().filter(|row| row.is_final) {
            if let Some(known) = finals.insert(row.height, row.id.clone())
                && known != row.id
            {
                replaced.push((row.height, known, row.id.clone()));
            }
        }
        // One finding per node per poll: a release that replaces a run of final heights is one
        // event, named by its range and its lowest height.
        let low = replaced.iter().min_by_key(|(height, _, _)| *height);
        let high = replaced.iter().map(|(height, _, _)| *height).max();
        if let (Some((low, was, now)), Some(high)) = (low, high) {
            self.violations.push(Violation {
                invariant: "final-reverted".into(),
                at_simulated_seconds: at_s,
                node: Some(node as u64),
                detail: format!(
                    "{} final checkpoints at heights {low}..={high} replaced; height {low} was \
                     {was}, now {now}",
                    replaced.len()
                ),
            });
        }
    }

    /// Heights where two honest nodes called different checkpoints final (one finding per
    /// height, naming the first pair).
    pub fn conflicting_finality(&self, at_s: f64) -> Vec<Violation> {
        let mut by_height: BTreeMap<u64, Vec<(usize, &String)>> = BTreeMap::new();
        for (node, finals) in &self.finals {
            for (height, id) in finals {
                by_height.entry(*height).or_default().push((*node, id));
            }
        }
        by_height
            .into_iter()
            .filter_map(|(height, ids)| {
                let (first_node, first_id) = ids.first()?;
                let (other_node, other_id) = ids.iter().find(|(_, id)| id != first_id)?;
                Some(Violation {
                    invariant: "conflicting-finality".into(),
                    at_simulated_seconds: at_s,
                    node: Some(*other_node as u64),
                    detail: format!(
                        "height {height}: node {first_node} final {first_id}, node {other_node} \
                         final {other_id}"
                    ),
                })
            })
            .collect()
    }

    /// Node 0's chain from height 1 up to `head − skip_top`, if no height is missing: the
    /// settled part the families measure.
    pub fn settled(&self, skip_top: u64) -> Result<Vec<&ChainRow>, u64> {
        let top = self.head.saturating_sub(skip_top);
        (1..=top).map(|height| self.chain.get(&height).ok_or(height)).collect()
    }
}

/// `GET /checkpoints` of the newest [`POLL_WINDOW`] checkpoints (`None` if the node did not
/// answer: a slow poll is retried at the next one, and a missing height fails the run then).
pub fn poll(api: SocketAddr) -> Option<Checkpoints> {
    http::get(api, &format!("/checkpoints?limit={POLL_WINDOW}")).ok()
}

/// The value of counter `name` in node `api`'s `GET /metrics` (`None` if it does not answer).
pub fn counter(api: SocketAddr, name: &str) -> Option<u64> {
    let (_, text) = http::request(api, "GET", "/metrics", None, Duration::from_secs(5)).ok()?;
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::api_types::CheckpointRow;

    fn answer(height: u64, final_height: u64, ids: &[(u64, &str)]) -> Checkpoints {
        let checkpoints = ids
            .iter()
            .map(|(h, id)| CheckpointRow {
                height: *h,
                id: id.to_string(),
                author: format!("author-{id}"),
                timestamp_ms: 0,
                base_target: 1,
                ledger_root: String::new(),
                parents: 0,
                is_final: *h <= final_height,
            })
            .collect();
        Checkpoints { height, final_height, checkpoints }
    }

    #[test]
    fn a_changed_final_checkpoint_and_disagreeing_nodes_are_findings() {
        let mut log = ChainLog::default();
        log.record(0, &answer(3, 1, &[(3, "c"), (2, "b"), (1, "a")]), 1.0);
        // A reorganisation above the final height replaces heights 2..3: no finding.
        log.record(0, &answer(3, 1, &[(3, "c2"), (2, "b2"), (1, "a")]), 2.0);
        assert!(log.violations.is_empty());
        assert_eq!(
            log.settled(0).unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b2", "c2"]
        );
        assert_eq!(log.settled(1).unwrap().len(), 2);
        // Node 1 agrees at height 1, then calls another checkpoint final there.
        log.record(1, &answer(2, 1, &[(1, "a")]), 2.0);
        assert!(log.conflicting_finality(2.0).is_empty());
        log.record(1, &answer(2, 1, &[(1, "x")]), 3.0);
        assert_eq!(log.violations.len(), 1);
        assert_eq!(log.violations[0].invariant, "final-reverted");
        assert_eq!(log.violations[0].node, Some(1));
        assert!(log.violations[0].detail.starts_with("1 final checkpoints at heights 1..=1"));
        // A release replacing final heights 2..=3 of node 0 at once is one finding.
        log.record(0, &answer(4, 3, &[(3, "c"), (2, "b"), (1, "a")]), 3.5);
        log.record(0, &answer(4, 3, &[(3, "c3"), (2, "b3"), (1, "a")]), 4.0);
        assert_eq!(log.violations.len(), 2);
        assert!(log.violations[1].detail.starts_with("2 final checkpoints at heights 2..=3"));
        // Node 2 calls "y" final at height 1, node 0 "a": the nodes disagree.
        log.record(2, &answer(1, 1, &[(1, "y")]), 3.0);
        let conflicts = log.conflicting_finality(3.0);
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert!(conflicts[0].detail.contains("height 1"), "{}", conflicts[0].detail);
        // A gap in node 0's chain is named by its height.
        let mut gapped = ChainLog::default();
        gapped.record(0, &answer(3, 0, &[(3, "c"), (1, "a")]), 1.0);
        assert_eq!(gapped.settled(0).unwrap_err(), 2);
    }
}
