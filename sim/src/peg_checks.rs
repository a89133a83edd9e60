//! The peg's checkers in the simulator (issue #19, docs/peg.md "In the simulator"): what the
//! relayer task (`peg_bridge`, madsim only) checks every simulated second on every running node
//! of the main network and of each side network, and what a run with side chains reports.
//!
//! Model. Each check reads [`NodeView`]s: one node's head, its active chain over a window of
//! heights, its peg section and its light client of the other chain (main's of the side chain,
//! the side's of main).
//! - `peg-conservation`: for every pair (main node, side node) where each is at or past every
//!   header the other claimed from (the node's active chain holds the other's light-client
//!   final header; claims are only ever made from final headers, so they are all below it),
//!   `peg::conservation` holds both ways: per token, escrow = minted − burned + in flight.
//! - `light-client-state`: nodes of one network at the same head hold equal light clients of
//!   the other chain.
//! - `anchor-rewritten`: a side header main holds final at a main checkpoint that is itself
//!   final ([`FinalAnchors`]) is never replaced by another at its height, stays final in the
//!   light client of every main node past that checkpoint, and is on the active chain of every
//!   side node whose final height reaches it.

use crate::checker::Violation;
use std::collections::BTreeMap;
use vein_node::core::hash::Hash;
use vein_node::core::peg::{Pegs, conservation};
use vein_node::core::sidechain::HeaderChain;

/// What the peg part of a run did and checked (all zero without side chains).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PegReport {
    /// Side networks run.
    pub side_chains: u64,
    /// Consortium creations and chain registrations submitted (both directions).
    pub setup_txs: u64,
    /// Anchors submitted (side on main, main on sides).
    pub anchors_submitted: u64,
    /// Locks of the main token submitted on main.
    pub locks_submitted: u64,
    /// Burns of the wrapped token submitted on side chains.
    pub burns_submitted: u64,
    /// Mints (on side chains) and releases (on main) submitted with their proofs.
    pub mints_submitted: u64,
    /// Releases submitted on main.
    pub releases_submitted: u64,
    /// Already claimed proofs submitted again (the core must refuse each).
    pub replays_submitted: u64,
    /// The largest minted total of the wrapped token seen on a side node.
    pub minted: u64,
    /// The largest released total seen in a main node's escrow.
    pub released: u64,
    /// Pairs of (main, side) nodes whose conservation was checked.
    pub conservation_checks: u64,
    /// Pairs of nodes at the same head whose light clients were compared.
    pub light_client_checks: u64,
    /// Side headers final in main's light client at a final main checkpoint.
    pub anchors_final: u64,
    /// Pins of final anchors sent to side nodes (`Node::pin_anchor`).
    pub pins: u64,
}

/// Heights of a node's active chain a view holds, below its head.
pub const ACTIVE_WINDOW: u64 = 512;

/// One node as the peg checks see it at one instant.
#[derive(Debug, Clone)]
pub struct NodeView {
    /// The node's index in its network.
    pub node: usize,
    /// Its head's id and height, and its final height.
    pub head: Hash,
    /// Height of the head.
    pub height: u64,
    /// Its final height.
    pub final_height: u64,
    /// The height of `active[0]`.
    pub lowest_active: u64,
    /// Active checkpoint ids from `lowest_active` to the head.
    pub active: Vec<Hash>,
    /// The peg section of its head's ledger.
    pub pegs: Pegs,
    /// Its light client of the other chain, once registered, with the registration's id.
    pub light_client: Option<(Hash, HeaderChain)>,
    /// The bridge consortium this node's account is a party of, once created.
    pub consortium: Option<Hash>,
}

impl NodeView {
    /// The active id at `height`, if in the view's window.
    pub fn active_at(&self, height: u64) -> Option<Hash> {
        let offset = height.checked_sub(self.lowest_active)?;
        self.active.get(usize::try_from(offset).ok()?).copied()
    }

    /// Whether the active chain holds `id` at `height`; `None` outside the window.
    pub fn holds(&self, height: u64, id: &Hash) -> Option<bool> {
        if height == 0 {
            return Some(true);
        }
        self.active_at(height).map(|held| held == *id)
    }

    /// `(height, id)` of the final header of its light client (genesis without one).
    pub fn light_final(&self) -> Option<(u64, Hash)> {
        self.light_client.as_ref().map(|(_, headers)| {
            let tip = headers.final_tip();
            (tip.height, tip.id)
        })
    }
}

/// Whether `a` is at or past every header `b` claimed from (see the module).
fn past_claims_of(a: &NodeView, b: &NodeView) -> bool {
    match b.light_final() {
        None => true,
        Some((height, id)) => a.holds(height, &id) == Some(true),
    }
}

/// Conservation over every comparable (main, side) pair; returns the pairs checked.
pub fn check_conservation(
    main: &[NodeView],
    side: &[NodeView],
    side_index: usize,
    at_ms: u64,
    violations: &mut Vec<Violation>,
) -> u64 {
    let mut checked = 0;
    for m in main {
        for s in side {
            if !past_claims_of(m, s) || !past_claims_of(s, m) {
                continue;
            }
            checked += 1;
            let found = conservation(&m.pegs, &s.pegs).err().map(|e| ("main", e));
            let found = found.or_else(|| conservation(&s.pegs, &m.pegs).err().map(|e| ("side", e)));
            if let Some((home, mismatch)) = found {
                violations.push(Violation {
                    invariant: "peg-conservation",
                    at_ms,
                    node: m.node,
                    other: None,
                    detail: format!(
                        "main node {} (head {} at {}) and side chain {side_index} node {} (head \
                         {} at {}), tokens homed on {home}: {mismatch:?}",
                        m.node,
                        m.head.short(),
                        m.height,
                        s.node,
                        s.head.short(),
                        s.height
                    ),
                });
            }
        }
    }
    checked
}

/// Equal light clients at equal heads within one network; returns the pairs compared.
pub fn check_light_clients(
    views: &[NodeView],
    network: &str,
    at_ms: u64,
    violations: &mut Vec<Violation>,
) -> u64 {
    let mut first_at: BTreeMap<Hash, &NodeView> = BTreeMap::new();
    let mut compared = 0;
    for view in views {
        let Some(first) = first_at.get(&view.head) else {
            first_at.insert(view.head, view);
            continue;
        };
        compared += 1;
        if first.light_client != view.light_client {
            violations.push(Violation {
                invariant: "light-client-state",
                at_ms,
                node: view.node,
                other: Some(first.node),
                detail: format!(
                    "{network} nodes {} and {} share head {} at {} but not their light client \
                     (final {:?} and {:?})",
                    first.node,
                    view.node,
                    view.head.short(),
                    view.height,
                    first.light_final(),
                    view.light_final()
                ),
            });
        }
    }
    compared
}

/// Side headers final in main's light client as of a final main checkpoint: `side height ->
/// (side id, main height, main id)` of the first main checkpoint seen to make it so.
#[derive(Debug, Clone, Default)]
pub struct FinalAnchors {
    by_height: BTreeMap<u64, (Hash, u64, Hash)>,
}

/// Final anchors remembered for the checks (the newest; older ones are implied by them).
const FINAL_ANCHORS_KEPT: usize = 64;

impl FinalAnchors {
    /// Record that main's light client held side header `id` at `height` final as of the main
    /// checkpoint `(main_height, main_id)`, final on main. `Err` with the anchor already final
    /// at that height if it differs: main finalised two side histories.
    pub fn record(
        &mut self,
        height: u64,
        id: Hash,
        main_height: u64,
        main_id: Hash,
    ) -> Result<bool, Hash> {
        if height == 0 {
            return Ok(false);
        }
        match self.by_height.get(&height) {
            Some((held, ..)) if *held == id => Ok(false),
            Some((held, ..)) => Err(*held),
            None => {
                self.by_height.insert(height, (id, main_height, main_id));
                while self.by_height.len() > FINAL_ANCHORS_KEPT {
                    self.by_height.pop_first();
                }
                Ok(true)
            }
        }
    }

    /// The highest final anchor `(height, id)`.
    pub fn highest(&self) -> Option<(u64, Hash)> {
        self.by_height.last_key_value().map(|(height, (id, ..))| (*height, *id))
    }

    /// Check main nodes (their light client still holds every final anchor below their head as
    /// final) and side nodes (their active chain holds it once their final height reaches it).
    pub fn check(
        &self,
        main: &[NodeView],
        side: &[NodeView],
        side_index: usize,
        at_ms: u64,
        violations: &mut Vec<Violation>,
    ) {
        let rewritten = |node: usize, detail: String| Violation {
            invariant: "anchor-rewritten",
            at_ms,
            node,
            other: None,
            detail,
        };
        for (height, (id, main_height, main_id)) in &self.by_height {
            for view in main {
                let past = view.holds(*main_height, main_id) == Some(true);
                let held = view.light_client.as_ref().and_then(|(_, lc)| lc.final_header(id));
                if past && held.is_none() {
                    violations.push(rewritten(
                        view.node,
                        format!(
                            "main node {} past main checkpoint {} at {main_height} no longer \
                             holds side chain {side_index}'s anchor {} at {height} final",
                            view.node,
                            main_id.short(),
                            id.short()
                        ),
                    ));
                }
            }
            for view in side {
                if view.final_height >= *height && view.holds(*height, id) == Some(false) {
                    violations.push(rewritten(
                        view.node,
                        format!(
                            "side chain {side_index} node {} final at {} holds {:?} at {height}, \
                             not the anchor {} final on main",
                            view.node,
                            view.final_height,
                            view.active_at(*height).map(|held| held.short()),
                            id.short()
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(node: usize, active: &[u8]) -> NodeView {
        NodeView {
            node,
            head: Hash::of(&[*active.last().unwrap_or(&0)]),
            height: active.len() as u64,
            final_height: active.len() as u64,
            lowest_active: 1,
            active: active.iter().map(|byte| Hash::of(&[*byte])).collect(),
            pegs: Pegs::default(),
            light_client: None,
            consortium: None,
        }
    }

    #[test]
    fn a_final_anchor_is_never_replaced_and_side_nodes_must_hold_it() {
        let mut anchors = FinalAnchors::default();
        assert_eq!(anchors.record(2, Hash::of(&[2]), 5, Hash::ZERO), Ok(true));
        assert_eq!(anchors.record(2, Hash::of(&[2]), 6, Hash::ZERO), Ok(false));
        assert_eq!(anchors.record(2, Hash::of(&[9]), 7, Hash::ZERO), Err(Hash::of(&[2])));
        assert_eq!(anchors.highest(), Some((2, Hash::of(&[2]))));
        let mut violations = Vec::new();
        anchors.check(&[], &[view(0, &[1, 2, 3]), view(1, &[1, 7, 3])], 0, 0, &mut violations);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].node, 1);
        assert_eq!(violations[0].invariant, "anchor-rewritten");
    }

    #[test]
    fn views_answer_heights_in_their_window_only() {
        let held = view(0, &[1, 2, 3]);
        assert_eq!(held.holds(2, &Hash::of(&[2])), Some(true));
        assert_eq!(held.holds(3, &Hash::of(&[2])), Some(false));
        assert_eq!(held.holds(9, &Hash::of(&[2])), None);
        assert_eq!(held.holds(0, &Hash::ZERO), Some(true));
        // Without light clients each side claimed nothing: the pair is comparable.
        let mut violations = Vec::new();
        assert_eq!(
            check_conservation(
                std::slice::from_ref(&held),
                std::slice::from_ref(&held),
                0,
                0,
                &mut violations
            ),
            1
        );
        assert!(violations.is_empty());
    }
}
