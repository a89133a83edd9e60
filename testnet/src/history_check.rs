//! Client histories on a real net (docs/testnet.md, "Client histories"): `load --history FILE`
//! writes what the client saw as JSON lines (`vein_node::history::Record`), and
//! `check-history FILE` (also run by `load --history`) holds every running node's ledger to it
//! once the nodes have finalised every height the client saw final: each such transfer once,
//! at that height, with that outcome; no unit twice; no nonce spent twice; nothing refused
//! applied; and, with the load's own accounts, every balance equal to its balance before the
//! run plus the transfers the node applied.

use crate::manifest::Manifest;
use crate::{TestnetError, http, io, running};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use vein_node::api_types::{LedgerHistory, LedgerHistoryRequest, Status};
use vein_node::core::crypto::AccountId;
use vein_node::history::{History, HistoryReport, LedgerView, Record, check, wire};

/// Units per `POST /ledger/history` page.
const PAGE_UNITS: u64 = 20_000;

/// How often nodes are asked whether they have finalised far enough.
const POLL: Duration = Duration::from_millis(250);

/// Write `records` to `path`, one JSON object per line.
pub fn write_history(path: &Path, records: &[Record]) -> Result<(), TestnetError> {
    let mut text = String::new();
    for record in records {
        let line = serde_json::to_string(record)
            .map_err(|e| TestnetError::Invalid(format!("history record: {e}")))?;
        text.push_str(&line);
        text.push('\n');
    }
    std::fs::write(path, text).map_err(io("writing", path))
}

/// Read a history file.
pub fn read_history(path: &Path) -> Result<History, TestnetError> {
    let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
    History::parse_jsonl(&text)
        .map_err(|source| TestnetError::History { path: path.to_path_buf(), source })
}

/// The senders whose units the nodes list: the client's own accounts when it has them, else
/// every account it sent from.
fn senders(history: &History) -> BTreeSet<AccountId> {
    match &history.balances {
        Some(balances) => balances.keys().copied().collect(),
        None => history.operations.values().map(|op| op.transfer.from).collect(),
    }
}

/// Wait up to `settle` until every running node has finalised the highest height the client
/// saw final, then read each one's ledger and check `history` against them.
pub fn check_history(
    manifest: &Manifest,
    history: &History,
    settle: Duration,
) -> Result<HistoryReport, TestnetError> {
    let highest = history.finals().map(|(_, seen)| seen.height).max().unwrap_or(0);
    let deadline = Instant::now() + settle;
    for node in running(manifest) {
        loop {
            let status: Result<Status, _> = http::get(node.api, "/status");
            match status {
                Ok(status) if status.final_height >= highest => break,
                _ if Instant::now() >= deadline => {
                    eprintln!(
                        "[check-history] node {} has not finalised height {highest} after the \
                         settle time: what it has not finalised is left unchecked",
                        node.index
                    );
                    break;
                }
                _ => std::thread::sleep(POLL),
            }
        }
    }
    let senders: Vec<String> = senders(history).iter().map(AccountId::to_hex).collect();
    let mut views = Vec::new();
    for node in running(manifest) {
        views.push(read_view(node.index, node.api, history.from_height, &senders)?);
    }
    Ok(check(history, &views))
}

/// Node `index`'s ledger from `from_height` for `senders`, page by page until its head.
fn read_view(
    index: usize,
    api: std::net::SocketAddr,
    from_height: u64,
    senders: &[String],
) -> Result<LedgerView, TestnetError> {
    let mut view: Option<LedgerView> = None;
    let mut next = from_height;
    loop {
        let request = LedgerHistoryRequest {
            from_height: next,
            accounts: senders.to_vec(),
            max_units: Some(PAGE_UNITS),
        };
        let answer: LedgerHistory = http::post(api, "/ledger/history", &request)?;
        let page =
            wire::from_wire(index, &answer).map_err(|e| TestnetError::Invalid(e.to_string()))?;
        next = page.to_height + 1;
        let complete = page.complete();
        match view.as_mut() {
            None => view = Some(page),
            Some(view) => view.extend(page),
        }
        if complete {
            return Ok(view.unwrap_or_default());
        }
    }
}
