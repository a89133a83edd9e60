//! The explorer: a browser page served by the node itself (docs/explorer.md).
//!
//! Model: the page is static files compiled into the binary (`assets/`: one HTML skeleton, one
//! stylesheet, three scripts; no build step, no CDN, nothing fetched at run time but this
//! node's own JSON routes), served at fixed paths. The scripts read the operator's
//! configuration (`GET /explorer/config`, from the file [`config`] loads at start), then draw
//! what it lists from the JSON routes every client uses, so the keys they read are part of the
//! API's contract (the test in `contract_tests.rs` holds them against [`crate::api_types`]).
//! A few routes exist for the page and live here: the checkpoint tree with side branches and
//! one checkpoint ([`forks`]), the newest EVM receipts ([`evm_receipts`]) and search
//! ([`search`]). Every value from the node is escaped before it reaches the DOM.

pub mod config;
pub(super) mod evm_receipts;
pub(super) mod forks;
pub(super) mod search;

use super::ApiState;
use crate::api_types::ExplorerConfig;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// The page's skeleton: header, search box, the view the scripts fill.
pub(crate) const INDEX_HTML: &str = include_str!("assets/index.html");
/// Light and dark themes as CSS variables, the tables and the drawings.
pub(crate) const STYLE_CSS: &str = include_str!("assets/style.css");
/// Fetching, escaping, the hash router, search and the per-item pages.
pub(crate) const APP_JS: &str = include_str!("assets/app.js");
/// The DAG and checkpoint-tree drawings (SVG built from JSON).
pub(crate) const GRAPH_JS: &str = include_str!("assets/graph.js");
/// The front page's panels.
pub(crate) const PANELS_JS: &str = include_str!("assets/panels.js");

/// The scripts, in the order the page loads them.
#[cfg(test)]
pub(crate) const SCRIPTS: [&str; 3] = [APP_JS, GRAPH_JS, PANELS_JS];

/// The operator's configuration, fixed at start.
pub type SharedExplorerConfig = std::sync::Arc<ExplorerConfig>;

fn asset(content_type: &'static str, body: &'static str) -> Response {
    // The node may be upgraded under a page: revalidate rather than run a stale script.
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

pub(super) async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

pub(super) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

pub(super) async fn app_script() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

pub(super) async fn graph_script() -> Response {
    asset("text/javascript; charset=utf-8", GRAPH_JS)
}

pub(super) async fn panels_script() -> Response {
    asset("text/javascript; charset=utf-8", PANELS_JS)
}

/// `GET /explorer/config`
pub(super) async fn configuration(State(state): State<ApiState>) -> Json<ExplorerConfig> {
    Json(state.explorer.as_ref().clone())
}

#[cfg(test)]
mod contract_tests;
