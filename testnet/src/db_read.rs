//! The reading half of `vein-testnet db` (docs/consortium.md, "Operators and users"): a
//! SELECT as of a height on a member's replica, one row with its Merkle proof checked here and
//! its root checked against every other member's, `verify` (each member's rebuild, and all
//! members' roots at one final height) and `history` (this directory's journal with each
//! transaction's height and outcome). Rows are read only from member nodes' token routes; a
//! node that keeps no replica answers 404, reported as [`DbCliError::NotAMember`].

use crate::db::{DbCliError, detail_of, member_nodes};
use crate::db_store::{HashText, LocalConsortium};
use crate::db_syntax::{self, format_value};
use crate::manifest::Manifest;
use crate::{TestnetError, api_token, http, no_answer, reachable};
use vein_node::api_types::{
    self, ConsortiumQuery, ConsortiumQueryAnswer, ConsortiumRowAnswer, ConsortiumRowRequest,
    ConsortiumVerify,
};
use vein_node::core::consortium::Value;
use vein_node::core::hash::Hash;

/// A member's replica route with the testnet's API token; a 404 means it keeps no replica.
fn replica_post<B: serde::Serialize, R: serde::de::DeserializeOwned>(
    manifest: &Manifest,
    node: usize,
    id: &Hash,
    route: &str,
    body: &B,
) -> Result<R, TestnetError> {
    let api = reachable(manifest, node)?.api;
    let token = api_token::of_manifest(manifest)?;
    let path = format!("/consortium/{id}/{route}");
    match http::post_authorized(api, &path, body, token.as_deref()) {
        Ok(answer) => Ok(answer),
        Err(http::HttpError::Status { status: 404, .. }) => {
            Err(DbCliError::NotAMember { node, consortium: id.to_string() }.into())
        }
        // The replica refused the request itself: SQL that does not prepare or is not one
        // read-only SELECT, an unknown table, a key of the wrong type.
        Err(http::HttpError::Status { status: 400, body, .. }) => {
            Err(DbCliError::BadRequest { node, reason: body }.into())
        }
        Err(error) => Err(no_answer(node, api, error)),
    }
}

/// The rows of `table` in member `node`'s replica at its latest height.
pub(crate) fn count_rows(
    manifest: &Manifest,
    node: usize,
    id: &Hash,
    table: &str,
) -> Result<u64, TestnetError> {
    let request = ConsortiumQuery { sql: format!("SELECT count(*) FROM \"{table}\""), at: None };
    let answer: ConsortiumQueryAnswer = replica_post(manifest, node, id, "query", &request)?;
    match answer.rows.first().map(Vec::as_slice) {
        Some([Value::Integer(count)]) => Ok(*count as u64),
        _ => Err(TestnetError::Invalid(format!("node {node} answered count(*) with {answer:?}"))),
    }
}

pub(crate) fn row_answer(
    manifest: &Manifest,
    node: usize,
    id: &Hash,
    table: &str,
    key: &Value,
    at: Option<u64>,
) -> Result<ConsortiumRowAnswer, TestnetError> {
    let request = ConsortiumRowRequest { table: table.into(), key: key.clone(), at };
    replica_post(manifest, node, id, "row", &request)
}

/// A member's root at `height` (a query that reads no table answers with it).
fn root_at(
    manifest: &Manifest,
    node: usize,
    id: &Hash,
    height: u64,
) -> Result<String, TestnetError> {
    let request = ConsortiumQuery { sql: "SELECT 1".into(), at: Some(height) };
    let answer: ConsortiumQueryAnswer = replica_post(manifest, node, id, "query", &request)?;
    Ok(answer.root)
}

/// The member node a read goes to: `--via` (which must be a member), else the first running.
fn reader(manifest: &Manifest, id: &Hash, via: Option<usize>) -> Result<usize, TestnetError> {
    if let Some(via) = via {
        return Ok(via);
    }
    let api = crate::running(manifest)
        .next()
        .map(|node| node.api)
        .ok_or_else(|| TestnetError::Invalid("no running (unpaused) node".into()))?;
    let detail = detail_of(api, id)?;
    member_nodes(manifest, &detail)
        .first()
        .copied()
        .ok_or_else(|| DbCliError::NoMemberNode { consortium: id.to_string() }.into())
}

fn to_json(value: &impl serde::Serialize) -> Result<String, TestnetError> {
    serde_json::to_string_pretty(value).map_err(|e| TestnetError::Invalid(e.to_string()))
}

pub(crate) fn query(
    manifest: &Manifest,
    id: &Hash,
    sql: &str,
    at: Option<u64>,
    via: Option<usize>,
    json: bool,
) -> Result<String, TestnetError> {
    let node = reader(manifest, id, via)?;
    let request = ConsortiumQuery { sql: sql.into(), at };
    let answer: ConsortiumQueryAnswer = replica_post(manifest, node, id, "query", &request)?;
    if json {
        return to_json(&answer);
    }
    let mut out = format!("# node {node}, as of height {}, root {}\n", answer.height, answer.root);
    out.push_str(&answer.columns.join("\t"));
    for row in &answer.rows {
        out.push('\n');
        out.push_str(&row.iter().map(format_value).collect::<Vec<_>>().join("\t"));
    }
    Ok(out)
}

pub(crate) fn query_row(
    manifest: &Manifest,
    id: &Hash,
    table: &str,
    key: &str,
    at: Option<u64>,
    via: Option<usize>,
    json: bool,
) -> Result<String, TestnetError> {
    let key = db_syntax::parse_value(key).map_err(DbCliError::from)?;
    let node = reader(manifest, id, via)?;
    let answer = row_answer(manifest, node, id, table, &key, at)?;
    // Checked here, not taken from the node's `verified`.
    let root = Hash::from_hex_text(&answer.root)
        .ok_or_else(|| TestnetError::Invalid(format!("node {node} returned a bad root")))?;
    if !answer.proof.verify(&root, table, &key, answer.row.as_deref()) {
        return Err(DbCliError::VerifyFailed {
            reason: format!(
                "node {node}'s proof for key {} does not match its root",
                format_value(&key)
            ),
        }
        .into());
    }
    let detail = detail_of(reachable(manifest, node)?.api, id)?;
    let mut agreed = vec![node];
    for other in member_nodes(manifest, &detail).into_iter().filter(|other| *other != node) {
        let theirs = root_at(manifest, other, id, answer.height)?;
        if theirs != answer.root {
            return Err(DbCliError::VerifyFailed {
                reason: format!(
                    "member {other}'s root at height {} is {theirs}, node {node}'s {}",
                    answer.height, answer.root
                ),
            }
            .into());
        }
        agreed.push(other);
    }
    if json {
        return to_json(&answer);
    }
    let row = answer.row.as_ref().map_or("(no row)".to_string(), |row| {
        format!("({})", row.iter().map(format_value).collect::<Vec<_>>().join(", "))
    });
    Ok(format!(
        "{row}\n# as of height {}: proof checked against root {}, the root of members {agreed:?}",
        answer.height, answer.root
    ))
}

pub(crate) fn verify(manifest: &Manifest, id: &Hash) -> Result<String, TestnetError> {
    let node = reader(manifest, id, None)?;
    let detail = detail_of(reachable(manifest, node)?.api, id)?;
    let members = member_nodes(manifest, &detail);
    let token = api_token::of_manifest(manifest)?;
    let mut out = Vec::new();
    let mut final_height = u64::MAX;
    for member in &members {
        let api = reachable(manifest, *member)?.api;
        let path = format!("/consortium/{id}/verify");
        let (status, text) =
            http::request_authorized(api, "GET", &path, None, http::TIMEOUT, token.as_deref())?;
        let answer: ConsortiumVerify = match status {
            200 => serde_json::from_str(&text)
                .map_err(|error| TestnetError::Invalid(format!("{path}: {error}")))?,
            404 => {
                return Err(
                    DbCliError::NotAMember { node: *member, consortium: id.to_string() }.into()
                );
            }
            status => return Err(TestnetError::Invalid(format!("{path}: {status} {text}"))),
        };
        if !answer.matches || answer.replica_errors > 0 {
            return Err(DbCliError::VerifyFailed {
                reason: format!(
                    "member {member}: live root {} vs rebuilt {}, {} replica error(s) ({})",
                    answer.root,
                    answer.rebuilt_root,
                    answer.replica_errors,
                    answer.last_error.unwrap_or_default()
                ),
            }
            .into());
        }
        out.push(format!(
            "member {member}: replica height {}, rebuilt from its action log: same root {} \
             ({} applied, {} refused)",
            answer.height, answer.root, answer.actions_applied, answer.actions_refused
        ));
        let status: api_types::Status = http::get(api, "/status")?;
        final_height = final_height.min(status.final_height);
    }
    if members.is_empty() {
        return Err(DbCliError::NoMemberNode { consortium: id.to_string() }.into());
    }
    let roots = members
        .iter()
        .map(|member| root_at(manifest, *member, id, final_height))
        .collect::<Result<Vec<_>, _>>()?;
    if roots.iter().any(|root| *root != roots[0]) {
        return Err(DbCliError::VerifyFailed {
            reason: format!(
                "members {members:?} hold roots {roots:?} at final height {final_height}"
            ),
        }
        .into());
    }
    out.push(format!(
        "members {members:?} agree at final height {final_height}: root {}",
        roots[0]
    ));
    Ok(out.join("\n"))
}

pub(crate) fn history(manifest: &Manifest, id: &Hash, via: usize) -> Result<String, TestnetError> {
    let local = LocalConsortium::load(&manifest.dir, id)?;
    let api = reachable(manifest, via)?.api;
    let detail = detail_of(api, id)?;
    let ids: Vec<String> = local.journal.iter().map(|entry| entry.tx.clone()).collect();
    let answer: api_types::UnitsResponse =
        http::post(api, "/units", &api_types::UnitsRequest { ids })?;
    let mut rows: Vec<(u64, String)> = local
        .journal
        .iter()
        .zip(answer.units)
        .map(|(entry, unit)| {
            let height = unit.as_ref().and_then(|unit| unit.confirmed_height);
            let outcome = match &unit {
                None => "unknown".to_string(),
                Some(unit) => {
                    let outcome = match unit.outcome {
                        Some(api_types::Outcome::Applied) => "applied",
                        Some(api_types::Outcome::Ignored) => "ignored",
                        None => "pending",
                    };
                    format!("{outcome}{}", if unit.is_final { "" } else { " (not final)" })
                }
            };
            let line = format!(
                "{:>7}  {:<20} {:<8} {:<7} {}  tx {}",
                height.map_or("-".into(), |height| height.to_string()),
                outcome,
                entry.kind,
                entry.from,
                entry.what,
                entry.tx
            );
            (height.unwrap_or(u64::MAX), line)
        })
        .collect();
    rows.sort();
    let mut out = format!(
        "# consortium {} ({}): {} action(s) on chain, key epoch {}, log head {}\n\
         # the transactions submitted from {} (writes by others, e.g. `db load`, are counted \
         above only)\n{:>7}  {:<20} {:<8} {:<7} what",
        id,
        detail.summary.name,
        detail.summary.actions,
        detail.summary.key_epoch,
        detail.summary.action_log_head,
        manifest.dir.display(),
        "height",
        "outcome",
        "kind",
        "from"
    );
    for (_, line) in rows {
        out.push('\n');
        out.push_str(&line);
    }
    Ok(out)
}
