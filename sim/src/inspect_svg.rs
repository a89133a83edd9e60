//! Standalone SVG drawings of the fork tree and the DAG view, laid out as the explorer draws
//! them (`node/src/api/explorer/assets/graph.js`), so the report needs no graphviz:
//! - fork tree: the active chain on the first lane, each side branch on a lane of its own
//!   below (a side checkpoint continues its side predecessor's lane), columns by height;
//! - DAG: columns by breadth-first distance from the tips (tips on the right), units of one
//!   column stacked in order, an edge to each parent in the view.

use crate::inspect_graph::xml_escape;
use crate::inspect_state::{CheckpointView, NodeState};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

const COLUMN: u64 = 34;
const LANE: u64 = 26;
const MARGIN: u64 = 18;
const RADIUS: u64 = 7;
/// Lanes drawn at most; further ones share the last (as the explorer).
const LANES_MAX: u64 = 14;

const STYLE: &str = "<style>.edge{fill:none;stroke:#9aa4b2;stroke-width:1.2}\
    circle{stroke:#334;stroke-width:1}.active{fill:#4c8bf5}.final{fill:#2e7d32}\
    .side{fill:#f5a623}.head{stroke:#000;stroke-width:3}.pending{fill:#bbb}\
    .applied{fill:#4c8bf5}.ignored{fill:#d0021b}.tip{stroke:#000;stroke-width:3}\
    text{font:11px sans-serif;fill:#333}</style>";

fn open(width: u64, height: u64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><title>{}</title>{STYLE}\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>",
        xml_escape(title)
    )
}

fn edge(out: &mut String, a: (u64, u64), b: (u64, u64)) {
    let mid = (a.0 + b.0) / 2;
    let _ = write!(
        out,
        "<path class=\"edge\" d=\"M{},{} C{mid},{} {mid},{} {},{}\"/>",
        a.0, a.1, a.1, b.1, b.0, b.1
    );
}

/// Lane of each checkpoint, as `forkLanes` in graph.js.
fn fork_lanes(checkpoints: &[CheckpointView]) -> BTreeMap<&str, u64> {
    let by_id: BTreeMap<&str, &CheckpointView> =
        checkpoints.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut ascending: Vec<&CheckpointView> = checkpoints.iter().collect();
    ascending.sort_by(|a, b| a.height.cmp(&b.height).then_with(|| a.id.cmp(&b.id)));
    let mut lane: BTreeMap<&str, u64> = BTreeMap::new();
    let mut taken: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut lanes = 1;
    for c in ascending {
        if c.active {
            lane.insert(&c.id, 0);
            continue;
        }
        let continued = by_id
            .get(c.prev.as_str())
            .filter(|prev| !prev.active)
            .and_then(|prev| lane.get(prev.id.as_str()).copied())
            .filter(|prev_lane| !taken.contains(&(*prev_lane, c.height)));
        match continued {
            Some(prev_lane) => {
                lane.insert(&c.id, prev_lane);
                taken.insert((prev_lane, c.height));
            }
            None => {
                lane.insert(&c.id, lanes.min(LANES_MAX));
                lanes += 1;
            }
        }
    }
    lane
}

/// The fork tree of `state` as a standalone SVG document.
pub fn fork_svg(state: &NodeState) -> String {
    let title = format!(
        "node {} at {:.3} s: checkpoint tree, head {} at {}, final {}",
        state.node,
        state.at_ms as f64 / 1e3,
        state.head.id.get(..8).unwrap_or(""),
        state.head.height,
        state.final_height
    );
    let checkpoints = &state.checkpoints;
    let lane = fork_lanes(checkpoints);
    let lowest = checkpoints.iter().map(|c| c.height).min().unwrap_or(0);
    let highest = checkpoints.iter().map(|c| c.height).max().unwrap_or(0);
    let at = |c: &CheckpointView| {
        let row = lane.get(c.id.as_str()).copied().unwrap_or(0);
        (MARGIN + 24 + (c.height - lowest) * COLUMN, MARGIN + row * LANE)
    };
    let width = 2 * MARGIN + 24 + (highest - lowest) * COLUMN;
    let height = 2 * MARGIN + 14 + lane.values().copied().max().unwrap_or(0) * LANE;
    let mut out = open(width, height, &title);
    let by_id: BTreeMap<&str, &CheckpointView> =
        checkpoints.iter().map(|c| (c.id.as_str(), c)).collect();
    for c in checkpoints {
        if let Some(prev) = by_id.get(c.prev.as_str()) {
            edge(&mut out, at(c), at(prev));
        }
    }
    for c in checkpoints {
        let (x, y) = at(c);
        let class = format!(
            "{}{}",
            if c.is_final {
                "final"
            } else if c.active {
                "active"
            } else {
                "side"
            },
            if c.id == state.head.id { " head" } else { "" }
        );
        let _ = write!(
            out,
            "<circle class=\"{class}\" cx=\"{x}\" cy=\"{y}\" r=\"{RADIUS}\"><title>height {} {}\
             </title></circle>",
            c.height, c.id
        );
        if c.active && (c.height % 5 == 0 || c.id == state.head.id) {
            let _ = write!(out, "<text x=\"{}\" y=\"{}\">{}</text>", x - 8, height - 6, c.height);
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The DAG view of `state` as a standalone SVG document.
pub fn dag_svg(state: &NodeState) -> String {
    let title = format!(
        "node {} at {:.3} s: {} units nearest the {} tips",
        state.node,
        state.at_ms as f64 / 1e3,
        state.dag.len(),
        state.tips.len()
    );
    let deepest = state.dag.iter().map(|u| u.depth).max().unwrap_or(0);
    let mut rows: BTreeMap<u64, u64> = BTreeMap::new();
    let mut at: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for unit in &state.dag {
        let row = rows.entry(unit.depth).or_insert(0);
        at.insert(
            &unit.id,
            (MARGIN + (deepest - unit.depth) * COLUMN, MARGIN + (*row).min(LANES_MAX) * LANE),
        );
        *row += 1;
    }
    let width = 2 * MARGIN + deepest * COLUMN;
    let lanes = rows.values().copied().max().unwrap_or(1).saturating_sub(1).min(LANES_MAX);
    let height = 2 * MARGIN + lanes * LANE;
    let mut out = open(width, height, &title);
    for unit in &state.dag {
        for parent in &unit.parents {
            if let (Some(a), Some(b)) = (at.get(unit.id.as_str()), at.get(parent.as_str())) {
                edge(&mut out, *a, *b);
            }
        }
    }
    for unit in &state.dag {
        let (x, y) = at[unit.id.as_str()];
        let _ = write!(
            out,
            "<circle class=\"{}{}\" cx=\"{x}\" cy=\"{y}\" r=\"{RADIUS}\"><title>{} {}</title>\
             </circle>",
            unit.status,
            if unit.tip { " tip" } else { "" },
            unit.id,
            unit.status
        );
    }
    out.push_str("</svg>\n");
    out
}
