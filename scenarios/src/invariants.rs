//! The safety checks every family runs over the honest nodes at the end of a run
//! (PROTOCOL.md §8): no conflicting finality, ledger invariants, one chain below a depth.

use std::collections::BTreeMap;

use vein_node::core::hash::Hash;
use vein_reports::metrics::Violation;

use crate::engine::Engine;

/// Checks of PROTOCOL.md §8 over the honest nodes `0..honest` (an attacker's own view may
/// legitimately disagree): no conflicting finality, ledger invariants, and one chain below
/// `agree_below` checkpoints from the lowest head.
pub(crate) fn invariants<E: Engine>(engine: &E, honest: usize, agree_below: u64) -> Vec<Violation> {
    let at = engine.now_ms() as f64 / 1000.0;
    let mut violations = Vec::new();
    let mut agreed: BTreeMap<u64, (Hash, usize)> = BTreeMap::new();
    'nodes: for index in 0..honest {
        for (height, id) in engine.finals(index) {
            match agreed.get(height) {
                Some((other, first)) if other != id => {
                    violations.push(Violation {
                        invariant: "conflicting-finality".into(),
                        at_simulated_seconds: at,
                        node: Some(index as u64),
                        detail: format!(
                            "nodes {first} and {index} hold different finals at {height}"
                        ),
                    });
                    break 'nodes;
                }
                Some(_) => {}
                None => {
                    agreed.insert(*height, (*id, index));
                }
            }
        }
    }
    for index in 0..honest {
        if let Err(error) = engine.node(index).chain().ledger().check_invariants() {
            violations.push(Violation {
                invariant: "ledger".into(),
                at_simulated_seconds: at,
                node: Some(index as u64),
                detail: format!("{error:?}"),
            });
        }
    }
    let lowest = (0..honest).map(|i| engine.node(i).chain().height()).min().unwrap_or(0);
    let top = lowest.saturating_sub(agree_below);
    let reference = engine.node(0).chain().active_at(top);
    for index in 1..honest {
        if engine.node(index).chain().active_at(top) != reference {
            violations.push(Violation {
                invariant: "convergence".into(),
                at_simulated_seconds: at,
                node: Some(index as u64),
                detail: format!("node {index} is on another chain at height {top}"),
            });
        }
    }
    violations
}
