//! Time travel (`vein-sim inspect`) end to end under madsim, on a 6-node network over a few
//! simulated seconds: the dump at T replays bit for bit, its head is the head the run's events
//! name at T, a replay to an earlier instant is the same run up to there, the DOT files parse
//! back and the GraphML files are well formed with the dump's node and edge counts, a node or
//! instant out of range is a typed error (and exit status 2 on the command line), and the
//! report page's slider draws each frame of the fork tree in headless Chromium.
//!
//! Chromium is `/usr/bin/chromium` (`.ci/run` installs it) or `$CHROMIUM`; without it the
//! browser test fails when `CI` or `VEIN_REQUIRE_CHROMIUM` is set and otherwise skips loudly.
#![cfg(madsim)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petgraph::dot::dot_parser::{DotAttrList, DotNodeWeight, ParseFromDot};
use petgraph::graph::Graph;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use vein_sim::config::SimConfig;
use vein_sim::inspect::{InspectError, Inspection, inspect};
use vein_sim::inspect_report;

const NODE: usize = 2;
const AT_MS: u64 = 17_500;
const EVERY_MS: u64 = 2_000;

fn config() -> SimConfig {
    let mut config = SimConfig::new(5, 6);
    config.duration_s = 30;
    config.tx_rate = 4.0;
    config.target_interval_ms = 2_000;
    config.finality_depth = 3;
    config.settle_s = config.default_settle_s();
    config
}

fn files(inspection: &Inspection) -> Vec<(&'static str, String)> {
    let Inspection { state, history, frames, .. } = inspection;
    inspect_report::files(state, history, frames, "replay line").unwrap()
}

fn file<'a>(files: &'a [(&'static str, String)], name: &str) -> &'a str {
    &files.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn the_dump_at_t_replays_bit_for_bit_and_names_the_head_the_run_had_at_t() {
    let config = config();
    let first = inspect(&config, NODE, AT_MS, EVERY_MS).unwrap();
    let again = inspect(&config, NODE, AT_MS, EVERY_MS).unwrap();
    assert_eq!(first.report.trace_hash, again.report.trace_hash);
    assert_eq!(files(&first), files(&again), "same seed and T must give the same files");

    // The core's head at T is the head of the last head change the node reported by then.
    let state = &first.state;
    assert_eq!(state.at_ms, AT_MS);
    let last_head = first.history.iter().rfind(|record| record.kind == "head").unwrap();
    assert!(last_head.at_ms <= AT_MS);
    assert_eq!((&last_head.id, last_head.height), (&state.head.id, state.head.height));
    assert!(state.head.height >= 3, "a 2 s interval reaches height 3 by {AT_MS} ms");
    assert!(state.final_height >= 1 && state.final_height <= state.head.height);
    assert!(!state.dag.is_empty() && !state.tips.is_empty() && !state.peers.is_empty());

    // Frames every 2 s and the last at T; the last is the tree the dump holds.
    let instants: Vec<u64> = first.frames.iter().map(|frame| frame.at_ms).collect();
    assert_eq!(instants, vec![2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, AT_MS]);
    let last = first.frames.last().unwrap();
    assert_eq!((&last.head, last.height), (&state.head.id, state.head.height));
    assert_eq!(last.final_height, state.final_height);
    let held: BTreeSet<(&str, bool, bool)> =
        state.checkpoints.iter().map(|c| (c.id.as_str(), c.active, c.is_final)).collect();
    let drawn: BTreeSet<(&str, bool, bool)> =
        last.checkpoints.iter().map(|c| (c.id.as_str(), c.active, c.is_final)).collect();
    assert_eq!(held, drawn);
    assert!(first.frames[0].checkpoints.len() < last.checkpoints.len());
}

#[test]
fn a_replay_to_an_earlier_instant_is_the_same_run_up_to_there() {
    let config = config();
    let early = inspect(&config, NODE, 9_000, 0).unwrap();
    let late = inspect(&config, NODE, AT_MS, 0).unwrap();
    // Reading the node at 9 s changed nothing before it: its events are the later replay's.
    let late_until_early: Vec<_> =
        late.history.iter().filter(|record| record.at_ms < 9_000).cloned().collect();
    let early_before: Vec<_> =
        early.history.iter().filter(|record| record.at_ms < 9_000).cloned().collect();
    assert!(!early_before.is_empty());
    assert_eq!(early_before, late_until_early);
    // And the later replay's frame at 9 s shows the head the early dump read.
    let frame = vein_sim::inspect_timeline::frame(&late.state, &late.history, 9_000);
    assert_eq!(frame.head, early.state.head.id);
}

/// Whether `xml` is well formed enough for a GraphML reader: every element closed in order,
/// and how many `<node>` and `<edge>` elements it holds.
fn xml_elements(xml: &str) -> (usize, usize) {
    let mut stack: Vec<&str> = Vec::new();
    let (mut nodes, mut edges) = (0, 0);
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') {
            assert!(tag.ends_with('?'), "bad declaration <{tag}>");
            continue;
        }
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap();
        if tag.starts_with('/') {
            assert_eq!(stack.pop(), Some(name), "</{name}> closes the wrong element");
            continue;
        }
        nodes += usize::from(name == "node");
        edges += usize::from(name == "edge");
        if !tag.ends_with('/') {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert!(!rest.contains('>'), "stray '>' after the last element");
    (nodes, edges)
}

fn parse_dot(dot: &str) -> Graph<DotNodeWeight<'_>, DotAttrList<'_>> {
    ParseFromDot::try_from(dot).unwrap_or_else(|e| panic!("DOT does not parse: {e}\n{dot}"))
}

#[test]
fn dot_parses_back_and_graphml_is_well_formed_with_the_dump_s_counts() {
    let inspection = inspect(&config(), NODE, AT_MS, 0).unwrap();
    let state = &inspection.state;
    let files = files(&inspection);

    let ids: BTreeSet<&str> = state.checkpoints.iter().map(|c| c.id.as_str()).collect();
    let fork_edges = state.checkpoints.iter().filter(|c| ids.contains(c.prev.as_str())).count();
    assert!(state.checkpoints.len() >= 4 && fork_edges + 1 >= state.checkpoints.len());
    let forks = parse_dot(file(&files, "forks.dot"));
    assert_eq!((forks.node_count(), forks.edge_count()), (state.checkpoints.len(), fork_edges));
    assert_eq!(xml_elements(file(&files, "forks.graphml")), (state.checkpoints.len(), fork_edges));

    let units: BTreeSet<&str> = state.dag.iter().map(|u| u.id.as_str()).collect();
    let dag_edges: usize = state
        .dag
        .iter()
        .map(|u| {
            let parents: BTreeSet<&str> = u.parents.iter().map(String::as_str).collect();
            parents.iter().filter(|p| units.contains(*p)).count()
        })
        .sum();
    assert!(dag_edges > 0);
    let dag = parse_dot(file(&files, "dag.dot"));
    assert_eq!((dag.node_count(), dag.edge_count()), (state.dag.len(), dag_edges));
    assert_eq!(xml_elements(file(&files, "dag.graphml")), (state.dag.len(), dag_edges));

    // The drawings: one circle per checkpoint and per unit.
    assert_eq!(file(&files, "forks.svg").matches("<circle ").count(), state.checkpoints.len());
    assert_eq!(file(&files, "dag.svg").matches("<circle ").count(), state.dag.len());
    xml_elements(file(&files, "forks.svg"));
    xml_elements(file(&files, "dag.svg"));
}

#[test]
fn a_node_or_instant_out_of_range_is_a_typed_error() {
    let config = config();
    assert!(matches!(
        inspect(&config, 6, AT_MS, 0),
        Err(InspectError::NodeOutOfRange { node: 6, last: 5 })
    ));
    assert!(matches!(
        inspect(&config, NODE, 0, 0),
        Err(InspectError::InstantOutOfRange { at_ms: 0, duration_ms: 30_000 })
    ));
    assert!(matches!(
        inspect(&config, NODE, 30_001, 0),
        Err(InspectError::InstantOutOfRange { at_ms: 30_001, duration_ms: 30_000 })
    ));
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
        .args(["inspect", "--seed", "5", "--nodes", "6", "--duration", "30", "--node", "9"])
        .args(["--at", "10", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("node 9 is out of range: the run has nodes 0..=5"), "{stderr}");
}

fn chromium() -> Option<PathBuf> {
    let explicit = std::env::var_os("CHROMIUM").map(PathBuf::from);
    explicit
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|path| path.is_file())
}

/// The DOM of `url` after its scripts ran, from headless Chromium (the explorer test's flags).
fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .args(["--disable-dev-shm-usage", "--allow-file-access-from-files"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--virtual-time-budget=2000")
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("start chromium");
    assert!(output.status.success(), "chromium: {}", String::from_utf8_lossy(&output.stderr));
    let dom = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(dom.contains("</html>"), "chromium returned no page: {dom}");
    dom
}

/// The `<svg id="forks-svg">` the page's script drew, if any.
fn drawn_forks(dom: &str) -> &str {
    let start = dom.find("<svg id=\"forks-svg\"").unwrap_or_else(|| panic!("no drawing: {dom}"));
    let end = dom[start..].find("</svg>").unwrap() + start;
    &dom[start..end]
}

#[test]
fn the_report_page_steps_through_the_fork_tree_in_chromium() {
    let Some(chromium) = chromium() else {
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("VEIN_REQUIRE_CHROMIUM").is_some();
        assert!(!required, "chromium is required (CI or VEIN_REQUIRE_CHROMIUM is set)");
        eprintln!("\n!!!!! SKIPPED: the inspect report test needs chromium !!!!!\n");
        return;
    };
    let inspection = inspect(&config(), NODE, AT_MS, EVERY_MS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    inspect_report::write(dir.path(), &files(&inspection)).unwrap();
    let page = format!("file://{}", dir.path().join("index.html").display());
    let frames = &inspection.frames;
    for (index, frame) in
        [(0, &frames[0]), (4, &frames[4]), (frames.len() - 1, &frames[frames.len() - 1])]
    {
        let dom = dump_dom(&chromium, &format!("{page}#frame={index}"));
        let svg = drawn_forks(&dom);
        assert_eq!(svg.matches("<circle ").count(), frame.checkpoints.len(), "frame {index}");
        assert!(svg.contains(&format!("data-id=\"{}\"", frame.head)), "frame {index}'s head");
        let caption = format!("frame {} of {}: head at {},", index + 1, frames.len(), frame.height);
        assert!(dom.contains(&caption), "no caption {caption:?} in frame {index}");
    }
}
