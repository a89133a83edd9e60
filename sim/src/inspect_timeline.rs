//! The fork tree over time: frames every Δt of simulated time up to the inspected instant T,
//! each the tree as the node knew it then, for the report's slider.
//!
//! Model. Frames come from the one replay that reached T, not from a replay per frame: reading
//! a node wakes its driver, and in madsim any extra wake-up changes the schedule after it, so a
//! replay that stopped at every frame would not be the run being inspected. Instead the
//! simulator records the node's chain events with their simulated time ([`ChainRecord`]), and a
//! frame at t is the tree held at T restricted to the checkpoints accepted by t, with the head
//! and final height of the last such events at or before t; a checkpoint is active in a frame
//! when it lies on the path from that frame's head back through `prev`. Checkpoints pruned
//! before T (far below the final height) are in no frame: `--no-prune` keeps every one.

use crate::inspect_state::{ChainRecord, CheckpointView, NodeState};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Most frames one report holds (Δt is raised to respect it).
pub const FRAMES_MAX: usize = 1_000;

/// The fork tree at one instant, in the JSON shape of the explorer's `GET /forks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForkFrame {
    /// Simulated ms since the start.
    pub at_ms: u64,
    /// The head's id.
    pub head: String,
    /// The head's height.
    pub height: u64,
    /// Height of the newest final checkpoint.
    pub final_height: u64,
    /// The checkpoints known then, by height descending then id (as `GET /forks`).
    pub checkpoints: Vec<CheckpointView>,
}

/// The instants of the frames: every `every_ms` up to `at_ms`, and `at_ms` itself last (only
/// `at_ms` for `every_ms` 0).
pub fn frame_instants(at_ms: u64, every_ms: u64) -> Vec<u64> {
    if every_ms == 0 {
        return vec![at_ms];
    }
    let step = every_ms.max(at_ms.div_ceil(FRAMES_MAX as u64));
    let mut instants: Vec<u64> = (1..).map(|i| i * step).take_while(|t| *t < at_ms).collect();
    instants.push(at_ms);
    instants
}

/// The frame at `at_ms` of the tree `state` holds, given the node's chain events `history`.
pub fn frame(state: &NodeState, history: &[ChainRecord], at_ms: u64) -> ForkFrame {
    let past = history.iter().filter(|record| record.at_ms <= at_ms);
    let accepted: BTreeSet<&str> =
        past.clone().filter(|r| r.kind == "accepted").map(|r| r.id.as_str()).collect();
    // Genesis is held from the start and announced by no event.
    let genesis = state.checkpoints.iter().find(|c| c.height == 0);
    let head = past.clone().rfind(|r| r.kind == "head");
    let final_height = past.filter(|r| r.kind == "final").map(|r| r.height).max().unwrap_or(0);
    let (head_id, height) = match (head, genesis) {
        (Some(head), _) => (head.id.clone(), head.height),
        (None, Some(genesis)) => (genesis.id.clone(), 0),
        (None, None) => (String::new(), 0),
    };
    let known: BTreeMap<&str, &CheckpointView> = state
        .checkpoints
        .iter()
        .filter(|c| c.height == 0 || accepted.contains(c.id.as_str()))
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut active: BTreeSet<&str> = BTreeSet::new();
    let mut at = known.get(head_id.as_str()).copied();
    while let Some(checkpoint) = at {
        if !active.insert(checkpoint.id.as_str()) {
            break;
        }
        at = known.get(checkpoint.prev.as_str()).copied();
    }
    let mut checkpoints: Vec<CheckpointView> = known
        .values()
        .map(|c| {
            let is_active = active.contains(c.id.as_str());
            CheckpointView {
                active: is_active,
                is_final: is_active && c.height <= final_height,
                ..(*c).clone()
            }
        })
        .collect();
    checkpoints.sort_by(|a, b| b.height.cmp(&a.height).then_with(|| a.id.cmp(&b.id)));
    ForkFrame { at_ms, head: head_id, height, final_height, checkpoints }
}

/// Every frame up to the state's instant, every `every_ms`.
pub fn frames(state: &NodeState, history: &[ChainRecord], every_ms: u64) -> Vec<ForkFrame> {
    frame_instants(state.at_ms, every_ms).into_iter().map(|t| frame(state, history, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_end_at_the_inspected_one_and_are_bounded() {
        assert_eq!(frame_instants(10_000, 3_000), vec![3_000, 6_000, 9_000, 10_000]);
        assert_eq!(frame_instants(9_000, 3_000), vec![3_000, 6_000, 9_000]);
        assert_eq!(frame_instants(500, 0), vec![500]);
        assert!(frame_instants(10_000_000, 1).len() <= FRAMES_MAX);
    }
}
