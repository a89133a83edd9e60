//! The page's scripts read the JSON routes by key; a key renamed in [`crate::api_types`] would
//! show as `undefined` in the browser and nowhere else. These tests read every
//! `variable.field` access of each script function and hold it against the keys the sample
//! of the type that variable holds serializes to.

use super::{APP_JS, GRAPH_JS, INDEX_HTML, PANELS_JS, SCRIPTS};
use crate::api_types::samples;
use serde::Serialize;
use std::collections::BTreeSet;

/// The fields read as `variable.field` in `text` (`x.parents.map` reads `parents`).
fn reads(text: &str, variable: &str) -> BTreeSet<String> {
    let pattern = format!("{variable}.");
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(&pattern)
        .filter(|(at, _)| !text[..*at].ends_with(is_name))
        .map(|(at, _)| text[at + pattern.len()..].chars().take_while(|c| is_name(*c)).collect())
        .collect()
}

fn keys(value: &impl Serialize) -> BTreeSet<String> {
    let json = serde_json::to_value(value).unwrap();
    json.as_object().unwrap().keys().cloned().collect()
}

/// The body of function `name` in `script`: a top-level `function name(` (to the next line
/// that is a lone `}`) or a `PANELS` method `async name(` (to its closing `  },`).
fn function(script: &'static str, name: &str) -> &'static str {
    let (start, end) = if let Some(at) = script.find(&format!("function {name}(")) {
        (at, "\n}\n")
    } else {
        let at = script.find(&format!("\n  async {name}(")).unwrap_or_else(|| {
            panic!("no function {name} in the scripts: the test lost track of the page")
        });
        (at, "\n  },\n")
    };
    let length = script[start..].find(end).unwrap_or_else(|| panic!("{name} has no end"));
    &script[start..start + length]
}

/// Every field `variable` reads in `code` is a key of `served`, and it reads at least one.
fn check(code: &str, variable: &str, served: BTreeSet<String>, what: &str) {
    let read = reads(code, variable);
    assert!(!read.is_empty(), "found no reads of {variable} ({what}): the test lost track");
    let missing: Vec<_> = read.difference(&served).collect();
    assert!(missing.is_empty(), "the page reads {missing:?} of {what}, served: {served:?}");
}

#[test]
fn the_front_page_panels_read_only_served_keys() {
    let status = keys(&samples::status());
    let code = function(PANELS_JS, "status");
    let listed = code.split("const keys = [").nth(1).unwrap().split(']').next().unwrap();
    let listed: BTreeSet<String> =
        listed.split(',').map(|key| key.trim().trim_matches('\'').to_string()).collect();
    assert!(listed.contains("faults") && listed.contains("supply"), "{listed:?}");
    assert!(listed.is_subset(&status), "status keys {listed:?} against {status:?}");
    check(code, "s", status.clone(), "/status");
    check(function(APP_JS, "refresh"), "s", status, "/status");

    let forks = samples::fork_tree();
    check(function(GRAPH_JS, "drawForks"), "f", keys(&forks), "/forks");
    check(function(GRAPH_JS, "drawForks"), "c", keys(&forks.checkpoints[0]), "a fork node");
    check(function(GRAPH_JS, "forkLanes"), "c", keys(&forks.checkpoints[0]), "a fork node");
    check(function(GRAPH_JS, "forkLanes"), "prev", keys(&forks.checkpoints[0]), "a fork node");

    let dag = samples::dag();
    check(function(GRAPH_JS, "drawDag"), "d", keys(&dag), "/dag");
    check(function(GRAPH_JS, "drawDag"), "u", keys(&dag.units[0]), "a DAG unit");
    check(function(GRAPH_JS, "dagDepths"), "u", keys(&dag.units[0]), "a DAG unit");
    check(function(PANELS_JS, "dag"), "d", keys(&dag), "/dag");
    check(function(PANELS_JS, "dag"), "x", keys(&dag.units[0]), "a DAG unit");

    let checkpoints = samples::checkpoints();
    let code = function(PANELS_JS, "checkpoints");
    check(code, "c", keys(&checkpoints), "/checkpoints");
    check(code, "x", keys(&checkpoints.checkpoints[0]), "a checkpoint");

    let txs = samples::recent_txs();
    check(function(PANELS_JS, "transactions"), "t", keys(&txs), "/txs");
    check(function(APP_JS, "txTable"), "x", keys(&txs.txs[0]), "a transaction");

    let accounts = samples::accounts();
    check(function(PANELS_JS, "accounts"), "a", keys(&accounts), "/accounts");
    check(function(PANELS_JS, "accounts"), "x", keys(&accounts.accounts[0]), "an account");

    let tokens = samples::token_list();
    check(function(PANELS_JS, "tokens"), "k", keys(&tokens), "/tokens");
    check(function(PANELS_JS, "tokens"), "x", keys(&tokens.tokens[0]), "a token");

    let receipts = samples::evm_receipts();
    check(function(PANELS_JS, "contracts"), "r", keys(&receipts), "/evm/receipts");
    check(function(APP_JS, "receiptTable"), "x", keys(&receipts.receipts[0]), "a receipt");

    let code = function(PANELS_JS, "consortia");
    let list = samples::consortia();
    let detail = samples::consortium_detail();
    check(code, "k", keys(&list), "/consortia");
    check(code, "x", keys(&list.consortia[0]), "a consortium");
    check(code, "y", keys(&detail), "/consortium/{id}");
    check(code, "m", keys(&detail.members[0]), "a member node");
    check(code, "t", keys(&detail.tables[0]), "a table");
    check(code, "v", keys(&samples::attestations()), "/consortium/{id}/attestations");

    let task = samples::fl_task();
    check(
        function(PANELS_JS, "learning"),
        "l",
        keys(&crate::api_types::FlTaskList { tasks: vec![task.summary.clone()] }),
        "/fl/tasks",
    );
    check(function(PANELS_JS, "learning"), "x", keys(&task.summary), "a learning task");
}

#[test]
fn the_item_pages_read_only_served_keys() {
    let config = samples::explorer_config();
    check(function(APP_JS, "configure"), "c", keys(&config), "/explorer/config");
    check(function(APP_JS, "configure"), "l", keys(&config.links[0]), "a link");

    let code = function(APP_JS, "unitPage");
    check(code, "u", keys(&samples::unit()), "/unit/{id}");
    check(code, "t", keys(&samples::unit_times()), "a unit's times");

    let detail = samples::checkpoint_detail();
    let code = function(APP_JS, "checkpointPage");
    check(code, "c", keys(&detail), "/checkpoint/{id}");
    check(code, "u", keys(&detail.confirmed[0]), "a confirmed unit");

    let code = function(APP_JS, "accountPage");
    check(code, "b", keys(&samples::accounts().accounts[0]), "/balance/{account}");
    check(code, "t", keys(&samples::recent_txs()), "/txs");
    check(code, "x", keys(&samples::recent_txs().txs[0]), "a transaction");
    check(code, "k", keys(&samples::token_list()), "/tokens");
    check(code, "tk", keys(&samples::token_list().tokens[0]), "a token");
    check(code, "h", keys(&samples::token_balance()), "/token/{id}/balance/{account}");

    check(function(APP_JS, "tokenPage"), "x", keys(&samples::token_list().tokens[0]), "a token");
    let receipts = samples::evm_receipts();
    check(function(APP_JS, "contractPage"), "r", keys(&receipts), "/evm/receipts");
    check(function(APP_JS, "contractPage"), "x", keys(&receipts.receipts[0]), "a receipt");

    let detail = samples::consortium_detail();
    let code = function(APP_JS, "consortiumPage");
    check(code, "y", keys(&detail), "/consortium/{id}");
    check(code, "cs", keys(&detail.summary), "a consortium");
    check(code, "m", keys(&detail.members[0]), "a member node");
    check(code, "t", keys(&detail.tables[0]), "a table");
    check(code, "a", keys(&samples::attestations()), "/consortium/{id}/attestations");

    let task = samples::fl_task();
    let code = function(APP_JS, "taskPage");
    check(code, "d", keys(&task), "/fl/task/{id}");
    check(code, "ts", keys(&task.summary), "a learning task");
    check(code, "p", keys(&task.participants[0]), "a participant");
    check(code, "r", keys(&task.settled[0]), "a settled round");

    let results = samples::search_results();
    check(function(APP_JS, "searchPage"), "r", keys(&results), "/search");
    check(function(APP_JS, "searchPage"), "m", keys(&results.matches[0]), "a match");
}

/// Every panel the configuration can name has a function, and every search kind a page.
#[test]
fn every_panel_and_search_kind_has_code() {
    use crate::api_types::{ExplorerPanel, SearchKind};
    for panel in ExplorerPanel::ALL {
        let name = serde_json::to_value(panel).unwrap();
        function(PANELS_JS, name.as_str().unwrap());
    }
    let kinds = [
        SearchKind::Unit,
        SearchKind::Checkpoint,
        SearchKind::Account,
        SearchKind::Token,
        SearchKind::Contract,
        SearchKind::EvmTx,
        SearchKind::Consortium,
        SearchKind::LearningTask,
    ];
    let table = APP_JS.split("const KIND_ROUTES = {").nth(1).unwrap().split("};").next().unwrap();
    for kind in kinds {
        let name = serde_json::to_value(kind).unwrap();
        assert!(table.contains(&format!("{}: [", name.as_str().unwrap())), "{name} has no page");
    }
}

/// The skeleton loads exactly the scripts the node serves, from its own paths (no CDN).
#[test]
fn the_page_loads_only_its_own_assets() {
    let sources: Vec<&str> =
        INDEX_HTML.split("src=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert_eq!(sources, ["/explorer/app.js", "/explorer/graph.js", "/explorer/panels.js"]);
    assert!(INDEX_HTML.contains("href=\"/explorer/style.css\""));
    for text in SCRIPTS.iter().chain([&INDEX_HTML]) {
        assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"));
    }
}
