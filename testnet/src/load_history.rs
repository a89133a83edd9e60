//! `load --history`: the load's client history (`vein_node::history`), recorded as the load
//! runs (each transfer when sent, the node's answer, what the settle poll saw final) and
//! checked against every running node at the end ([`crate::history_check`]).

use crate::manifest::Manifest;
use crate::{TestnetError, history_check, http, now_ms};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use vein_node::api_types;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::history::record::parse_hash;
use vein_node::history::{HistoryReport, Recorder, StartBalance, TransferOp};

/// The op of a transfer node `from` signs to `to` (nonce and id known once it answers).
pub(crate) fn node_signed_op(from: &str, to: &str) -> Result<TransferOp, String> {
    let parse = |text: &str| AccountId::from_hex(text).map_err(|e| format!("account {text}: {e}"));
    Ok(TransferOp { from: parse(from)?, to: parse(to)?, amount: 1, fee: 1, nonce: None, id: None })
}

/// The history's start: node `api`'s head height, and the load accounts' balances after
/// funding (none when nodes sign from their own accounts, which also mine).
pub(crate) fn begin_history(
    api: SocketAddr,
    keys: &[Keypair],
    states: &[api_types::AccountBalance],
) -> Result<Recorder, TestnetError> {
    let status: api_types::Status = http::get(api, "/status")?;
    let balances = keys
        .iter()
        .zip(states)
        .map(|(key, state)| StartBalance { account: key.account(), balance: state.balance })
        .collect();
    Ok(Recorder::begin(now_ms(), status.height, balances))
}

/// Record the invocation of `ops` at node `node`: their operation numbers.
pub(crate) fn invoke(
    recorder: &Option<Mutex<Recorder>>,
    node: usize,
    at_ms: u64,
    ops: Vec<TransferOp>,
) -> Vec<u64> {
    let Some(mut recorder) = recorder.as_ref().and_then(|r| r.lock().ok()) else {
        return Vec::new();
    };
    ops.into_iter().map(|op| recorder.invoke(at_ms, node, op)).collect()
}

/// Record the node's answer to the operations `invoked`, item by item.
pub(crate) fn record_answer(
    recorder: &Option<Mutex<Recorder>>,
    invoked: &[u64],
    answer: &Result<api_types::TxBatchResponse, http::HttpError>,
) {
    let Some(mut recorder) = recorder.as_ref().and_then(|r| r.lock().ok()) else { return };
    let at_ms = now_ms();
    match answer {
        Ok(answer) => {
            for (op, result) in invoked.iter().zip(&answer.results) {
                match result {
                    api_types::TxBatchItem::Accepted { id } => match parse_hash(id) {
                        Some(id) => recorder.ok(*op, at_ms, id),
                        None => recorder.unknown(*op, at_ms, format!("a bad id {id:?}")),
                    },
                    api_types::TxBatchItem::Refused { error } => {
                        recorder.fail(*op, at_ms, error.clone());
                    }
                }
            }
        }
        Err(error) => {
            for op in invoked {
                recorder.unknown(*op, at_ms, error.to_string());
            }
        }
    }
}

/// Record what the settle poll saw final, write the history to `path` and check it against
/// every running node.
pub(crate) fn finish_history<'a>(
    manifest: &Manifest,
    recorder: &mut Recorder,
    seen: impl Iterator<Item = (usize, Hash, &'a api_types::UnitStatus)>,
    path: &Path,
) -> Result<HistoryReport, TestnetError> {
    let at_ms = now_ms();
    for (node, id, unit) in seen {
        let Some(height) = unit.confirmed_height.filter(|_| unit.is_final) else { continue };
        let applied = unit.outcome == Some(api_types::Outcome::Applied);
        recorder.seen_final(node, &id, at_ms, (height, None), applied);
    }
    history_check::write_history(path, recorder.records())?;
    let history = recorder
        .history()
        .map_err(|source| TestnetError::History { path: path.to_path_buf(), source })?;
    history_check::check_history(manifest, &history, HISTORY_CATCH_UP)
}

/// How long `load --history` waits for every node to finalise what the client saw final on
/// the node it asked (the settle time already waited for that node).
const HISTORY_CATCH_UP: Duration = Duration::from_secs(30);
