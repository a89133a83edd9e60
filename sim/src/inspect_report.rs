//! The files `vein-sim inspect --out DIR` writes, as (name, contents) pairs built in memory so
//! that equal inspections give equal bytes (the determinism test compares them):
//! - `state.json`: the [`NodeState`] and the node's chain events up to the read;
//! - `forks.dot`, `forks.graphml`, `dag.dot`, `dag.graphml`: the two graphs (`inspect_graph`);
//! - `forks.svg`, `dag.svg`: their drawings (`inspect_svg`);
//! - `index.html`: a static page with the summary, both drawings, and the fork tree over time:
//!   a slider over the [`ForkFrame`]s drawn by the explorer's own script (`graph.js`, embedded
//!   with its stylesheet), `#frame=N` in the address opening frame N.

use crate::inspect_graph::xml_escape;
use crate::inspect_graph::{dag_dot, dag_graph, dag_graphml, fork_dot, fork_graph, fork_graphml};
use crate::inspect_state::{ChainRecord, NodeState};
use crate::inspect_svg::{dag_svg, fork_svg};
use crate::inspect_timeline::ForkFrame;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

const GRAPH_JS: &str = include_str!("../../node/src/api/explorer/assets/graph.js");
const STYLE_CSS: &str = include_str!("../../node/src/api/explorer/assets/style.css");

/// `state.json`: the state and its history.
#[derive(Serialize)]
struct StateFile<'a> {
    replay: &'a str,
    state: &'a NodeState,
    history: &'a [ChainRecord],
}

/// The slider: draw frame `i` with the explorer's `drawForks`, keep the address in step.
const TIMELINE_JS: &str = r#"'use strict';
function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;',
    '"': '&quot;', "'": '&#39;' }[c]));
}
const FRAMES = JSON.parse(document.getElementById('frames').textContent);
const slider = document.getElementById('frame');
function show(i) {
  const f = FRAMES[i];
  slider.value = i;
  document.getElementById('frame-time').textContent = 't = ' + (f.at_ms / 1000).toFixed(3) +
    ' s, frame ' + (i + 1) + ' of ' + FRAMES.length + ': head at ' + f.height + ', final ' +
    f.final_height;
  document.getElementById('timeline').innerHTML = drawForks(f);
}
slider.max = FRAMES.length - 1;
slider.addEventListener('input', () => {
  history.replaceState(null, '', '#frame=' + slider.value);
  show(Number(slider.value));
});
const asked = /frame=(\d+)/.exec(location.hash);
show(asked ? Math.min(Number(asked[1]), FRAMES.length - 1) : FRAMES.length - 1);
"#;

fn page(
    state: &NodeState,
    frames: &[ForkFrame],
    replay: &str,
) -> Result<String, serde_json::Error> {
    // `</` cannot end the script element early: ids and numbers hold none, but be safe.
    let frames_json = serde_json::to_string(frames)?.replace("</", "<\\/");
    let mut out = String::new();
    let title =
        format!("vein-sim inspect: node {} at {:.3} s", state.node, state.at_ms as f64 / 1e3);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\" data-theme=\"light\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE_CSS}</style></head><body>\n<header><h1>{title}</h1>\
         </header>\n<p class=\"note\">replay: <code>{}</code></p>\n",
        xml_escape(replay)
    );
    let ledger = &state.ledger;
    let rows = [
        ("head", format!("{} at height {}", state.head.id, state.head.height)),
        ("final height", state.final_height.to_string()),
        (
            "checkpoints held",
            format!("{} (from height {})", state.checkpoints.len(), state.lowest_held_height),
        ),
        ("units held / tips", format!("{} / {}", state.units_held, state.tips.len())),
        ("orphans", state.orphan_count.to_string()),
        ("ledger root", ledger.root.clone()),
        (
            "supply / accounts / tokens",
            format!("{} / {} / {}", ledger.supply, ledger.accounts, ledger.tokens),
        ),
        (
            "peers (score)",
            state
                .peers
                .iter()
                .map(|p| format!("{}:{}", p.peer, p.score))
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    out.push_str("<section class=\"panel\" id=\"summary\"><h2>State</h2><table class=\"kv\">\n");
    for (name, value) in rows {
        let _ = writeln!(out, "<tr><th>{name}</th><td>{}</td></tr>", xml_escape(&value));
    }
    out.push_str("</table></section>\n");
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"over-time\"><h2>Fork tree over time</h2>\
         <input id=\"frame\" type=\"range\" min=\"0\" value=\"0\" style=\"width:100%\">\
         <p id=\"frame-time\" class=\"note\"></p><div id=\"timeline\"></div></section>\n\
         <section class=\"panel\"><h2>Fork tree at {:.3} s</h2>\
         <img src=\"forks.svg\" alt=\"fork tree\"></section>\n\
         <section class=\"panel\"><h2>DAG near the tips</h2>\
         <img src=\"dag.svg\" alt=\"DAG\"></section>\n\
         <p class=\"note\">files: state.json, forks.dot, forks.graphml, dag.dot, dag.graphml</p>\n\
         <script type=\"application/json\" id=\"frames\">{frames_json}</script>\n\
         <script>{GRAPH_JS}</script>\n<script>{TIMELINE_JS}</script>\n</body></html>\n",
        state.at_ms as f64 / 1e3,
    );
    Ok(out)
}

/// Every file of the report, in a fixed order.
pub fn files(
    state: &NodeState,
    history: &[ChainRecord],
    frames: &[ForkFrame],
    replay: &str,
) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    let forks = fork_graph(state);
    let dag = dag_graph(state);
    let json = serde_json::to_string_pretty(&StateFile { replay, state, history })?;
    Ok(vec![
        ("state.json", json + "\n"),
        ("forks.dot", fork_dot(&forks)),
        ("forks.graphml", fork_graphml(&forks)),
        ("forks.svg", fork_svg(state)),
        ("dag.dot", dag_dot(&dag)),
        ("dag.graphml", dag_graphml(&dag)),
        ("dag.svg", dag_svg(state)),
        ("index.html", page(state, frames, replay)?),
    ])
}

/// Write `files` into `dir` (created if missing).
pub fn write(dir: &Path, files: &[(&'static str, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents)?;
    }
    Ok(())
}
