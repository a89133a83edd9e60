//! The fork tree and the DAG view of a [`NodeState`] as `petgraph` graphs, exported as DOT
//! (petgraph's writer) and GraphML (written here: petgraph has no GraphML writer).
//!
//! Fence: petgraph is used for export only. Its `Graph` numbers nodes and edges in insertion
//! order, and both graphs are built from the state's already sorted lists (ids looked up in a
//! `BTreeMap`), so the files are the same bytes for the same state. Nothing read back from a
//! petgraph structure reaches a node, the simulation or a root.
//!
//! Edges point from a checkpoint to its predecessor and from a unit to each parent it approves,
//! as the protocol's references do; a reference to something outside the view (a pruned
//! checkpoint, a unit beyond the DAG view) has no edge.

use crate::inspect_state::{CheckpointView, NodeState, UnitView};
use petgraph::dot::{Config, Dot};
use petgraph::graph::{Graph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The fork tree: one node per held checkpoint, an edge to its predecessor when held.
pub fn fork_graph(state: &NodeState) -> Graph<&CheckpointView, ()> {
    let mut graph = Graph::new();
    let index: BTreeMap<&str, NodeIndex> =
        state.checkpoints.iter().map(|c| (c.id.as_str(), graph.add_node(c))).collect();
    for checkpoint in &state.checkpoints {
        if let (Some(from), Some(to)) =
            (index.get(checkpoint.id.as_str()), index.get(checkpoint.prev.as_str()))
        {
            graph.add_edge(*from, *to, ());
        }
    }
    graph
}

/// The DAG view: one node per unit in it, an edge to each parent in it.
pub fn dag_graph(state: &NodeState) -> Graph<&UnitView, ()> {
    let mut graph = Graph::new();
    let index: BTreeMap<&str, NodeIndex> =
        state.dag.iter().map(|u| (u.id.as_str(), graph.add_node(u))).collect();
    for unit in &state.dag {
        // Both parents may be one unit: one edge, as DOT readers merge parallel edges.
        let mut parents: Vec<&String> = unit.parents.iter().collect();
        parents.dedup();
        for parent in parents {
            if let (Some(from), Some(to)) =
                (index.get(unit.id.as_str()), index.get(parent.as_str()))
            {
                graph.add_edge(*from, *to, ());
            }
        }
    }
    graph
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The fork tree as DOT: label `height:id-prefix`, the active chain filled, finals doubled.
/// Edges carry a class (an empty attribute list `[ ]` is valid for graphviz but not for every
/// DOT reader).
pub fn fork_dot(graph: &Graph<&CheckpointView, ()>) -> String {
    let node = |_, (_, c): (NodeIndex, &&CheckpointView)| {
        format!(
            "label = \"{}:{}\" id = \"{}\" style = \"{}\" shape = \"{}\"",
            c.height,
            short(&c.id),
            c.id,
            if c.active { "filled" } else { "solid" },
            if c.is_final { "doublecircle" } else { "circle" }
        )
    };
    let edge = |_, _| "class = \"prev\"".to_string();
    let config = [Config::EdgeNoLabel, Config::NodeNoLabel];
    format!("{:?}", Dot::with_attr_getters(graph, &config, &edge, &node))
}

/// The DAG view as DOT: label the id prefix, the unit's status as its class.
pub fn dag_dot(graph: &Graph<&UnitView, ()>) -> String {
    let node = |_, (_, u): (NodeIndex, &&UnitView)| {
        format!(
            "label = \"{}\" id = \"{}\" class = \"{}\" shape = \"{}\"",
            short(&u.id),
            u.id,
            u.status,
            if u.tip { "doublecircle" } else { "circle" }
        )
    };
    let edge = |_, _| "class = \"parent\"".to_string();
    let config = [Config::EdgeNoLabel, Config::NodeNoLabel];
    format!("{:?}", Dot::with_attr_getters(graph, &config, &edge, &node))
}

/// `text` with the five XML special characters escaped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

/// GraphML of a directed graph whose nodes carry `(key, type, value)` data: the keys are
/// declared once from the first node's data (every node has the same keys).
fn graphml<N>(
    graph: &Graph<N, ()>,
    data: impl Fn(&N) -> Vec<(&'static str, &'static str, String)>,
) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml \
         xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n",
    );
    if let Some(first) = graph.node_weights().next() {
        for (key, kind, _) in data(first) {
            let _ = writeln!(
                out,
                "  <key id=\"{key}\" for=\"node\" attr.name=\"{key}\" attr.type=\"{kind}\"/>"
            );
        }
    }
    out.push_str("  <graph id=\"G\" edgedefault=\"directed\">\n");
    for index in graph.node_indices() {
        let _ = writeln!(out, "    <node id=\"n{}\">", index.index());
        for (key, _, value) in data(&graph[index]) {
            let _ = writeln!(out, "      <data key=\"{key}\">{}</data>", xml_escape(&value));
        }
        out.push_str("    </node>\n");
    }
    for edge in graph.edge_references() {
        let _ = writeln!(
            out,
            "    <edge id=\"e{}\" source=\"n{}\" target=\"n{}\"/>",
            edge.id().index(),
            edge.source().index(),
            edge.target().index()
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

/// The fork tree as GraphML (id, height, author, timestamp, weight, active, final).
pub fn fork_graphml(graph: &Graph<&CheckpointView, ()>) -> String {
    graphml(graph, |c| {
        vec![
            ("id", "string", c.id.clone()),
            ("height", "long", c.height.to_string()),
            ("author", "string", c.author.clone()),
            ("timestamp_ms", "long", c.timestamp_ms.to_string()),
            ("cumulative_weight", "string", c.cumulative_weight.clone()),
            ("active", "boolean", c.active.to_string()),
            ("final", "boolean", c.is_final.to_string()),
        ]
    })
}

/// The DAG view as GraphML (id, signer, nonce, status, tip, depth).
pub fn dag_graphml(graph: &Graph<&UnitView, ()>) -> String {
    graphml(graph, |u| {
        vec![
            ("id", "string", u.id.clone()),
            ("from", "string", u.from.clone()),
            ("nonce", "long", u.nonce.to_string()),
            ("status", "string", u.status.to_string()),
            ("tip", "boolean", u.tip.to_string()),
            ("depth", "long", u.depth.to_string()),
        ]
    })
}
