//! `vein-testnet fl ...`: federated learning on a running testnet (docs/federated-learning.md,
//! "Operator path").
//!
//! - `task` posts a task (its escrow leaves the signer) and prints its id.
//! - `join --participant i --of n` is one data owner beside a node: it loads its IID share of
//!   the wine-quality set (`vein-fl-lab`), joins with its own derived account (funded by its
//!   node), and runs every round: train from the current global model, commit the update's
//!   hash, post the update to its node, fetch the others' updates from every node, check each
//!   against its commit, recompute the aggregate with the task's rule, commit its hash, settle,
//!   and move on with the accepted aggregate. Each round's accepted aggregate is kept in
//!   `DIR/fl/TASK/participant-i.json`, which `model` reads back.
//! - `status` shows rounds, contributors and payments; `model` checks the kept aggregates
//!   against the chain's accepted hashes and prints the model and its held-out accuracy.
//!
//! A participant's records stay in this process: only transactions (hashes, counts, a key) and
//! the encoded update ever leave it; in a masked task the update leaves masked, and only the
//! sum of all of them is ever unmasked. When a participant misses a round, the round's leader
//! declares it dropped after a wait and (masked) every contributor reveals its seeds with it,
//! so the round settles on the survivors (`round`). A killed `join` started again with the
//! same arguments resumes from its log (`participant`).

use crate::manifest::Manifest;
use crate::{
    TestnetError, account_state, bad_argument, http, node_entry, now_ms, parents_from, reachable,
    read_key, wait_final,
};
use clap::Subcommand;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vein_fl_lab::scenarios::wine_setup;
use vein_node::api_types::{self, FlTaskDetail};
use vein_node::core::crypto::Keypair;
use vein_node::core::fl::aggregate::AggregationRule;
use vein_node::core::fl::task::{FlTx, TaskSpec, task_id};
use vein_node::core::fl::{FlError, TrainingSpec};
use vein_node::core::hash::Hash;
use vein_node::core::transaction::{TransactionBody, TxKind};

/// Base units a participant's node sends it for fees when it has less than `FUND_MIN`.
const FUND_AMOUNT: u64 = 1_000;
/// Below this balance a participant asks its node for `FUND_AMOUNT`.
const FUND_MIN: u64 = 100;
/// Pause between polls of a node.
const POLL: Duration = Duration::from_millis(200);

/// Why an `fl` command stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlCliError {
    /// No task with this id on the node asked.
    #[error("unknown learning task {task} (`vein-testnet fl status` lists none by that id)")]
    UnknownTask {
        /// The id (64 hex).
        task: String,
    },
    /// Something did not happen within the wait.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The wait, in seconds.
        seconds: u64,
    },
    /// A transaction was ordered but the ledger refused it.
    #[error("transaction {id} was ignored by the ledger ({what})")]
    Ignored {
        /// The transaction id (hex).
        id: String,
        /// What it was.
        what: &'static str,
    },
    /// The round settled on another aggregate than the one this participant computed.
    #[error("round {round} settled on aggregate {accepted}, this participant computed {mine}")]
    AggregateRejected {
        /// The round.
        round: u32,
        /// The accepted hash.
        accepted: String,
        /// This participant's hash.
        mine: String,
    },
    /// The learning rules refused (a bad split, a malformed update, an overflow...).
    #[error("learning: {0}")]
    Learning(#[from] FlError),
    /// A participant's log of accepted aggregates is missing or does not match the chain.
    #[error("model log {path}: {reason}")]
    Log {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The `vein-testnet fl` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum FlCommand {
    /// Post a learning task on the wine-quality model; prints its id.
    Task {
        /// `fedavg`, `median`, `trimmed-mean:TRIM` or `krum:BYZANTINE`.
        #[arg(long, default_value = "fedavg")]
        rule: String,
        /// Rounds the escrow pays for.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Minimum participants m (agreement also needs m matching aggregates).
        #[arg(long)]
        min_participants: u32,
        /// Price per settled round, in base units; rounds × price leave the signer.
        #[arg(long)]
        price: u64,
        /// Local epochs per round.
        #[arg(long, default_value_t = 1)]
        local_epochs: u32,
        /// Updates travel under pairwise masks (FedAvg only; at least 3 participants).
        #[arg(long)]
        masked: bool,
        /// A node index or `faucet`: who posts and pays.
        #[arg(long, default_value = "faucet")]
        from: String,
        /// Node whose API receives it (default: the sender's node, node 0 for the faucet).
        #[arg(long)]
        via: Option<usize>,
        /// Seconds to wait until the post is final.
        #[arg(long, default_value_t = 120)]
        wait_timeout: u64,
    },
    /// Run participant i of n beside a node until every round of the task settled.
    Join {
        /// The task id (64 hex, as `fl task` printed it).
        #[arg(long)]
        task: String,
        /// This participant's index, 0..n.
        #[arg(long)]
        participant: usize,
        /// Participants sharing the data set (each takes an IID share).
        #[arg(long)]
        of: usize,
        /// Node this participant runs beside (default: participant mod node count).
        #[arg(long)]
        via: Option<usize>,
        /// Seed of the train/test split and of local shuffles (equal seeds, equal runs).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds a round may go without progress (and half of it, before anyone settles).
        #[arg(long, default_value_t = 300)]
        step_timeout: u64,
        /// Milliseconds the round's leader waits for a missing update before declaring its
        /// owner dropped out (masked: revealing its seeds with it). Default: 2 T, at least
        /// 10,000.
        #[arg(long)]
        drop_wait_ms: Option<u64>,
    },
    /// Rounds, contributors and payments of a task.
    Status {
        /// The task id.
        #[arg(long)]
        task: String,
        /// The node asked.
        #[arg(long, default_value_t = 0)]
        via: usize,
        /// Print the node's JSON (`FlTaskDetail`).
        #[arg(long)]
        json: bool,
    },
    /// The accepted model: weights, hash and accuracy on the held-out split (JSON).
    Model {
        /// The task id.
        #[arg(long)]
        task: String,
        /// The node whose chain the kept aggregates are checked against.
        #[arg(long, default_value_t = 0)]
        via: usize,
        /// The seed `join` ran with.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

mod participant;
mod report;
mod round;
use participant::{Participant, Waits};
pub use report::ModelReport;
use report::{model, status_text, timing_rows};

/// Run one `fl` command; returns what to print last on stdout.
pub fn run(manifest: &Manifest, dir: &Path, command: &FlCommand) -> Result<String, TestnetError> {
    match command {
        FlCommand::Task {
            rule,
            rounds,
            min_participants,
            price,
            local_epochs,
            masked,
            from,
            via,
            wait_timeout,
        } => {
            let setup = wine_setup(1).map_err(FlCliError::from)?;
            let spec = TaskSpec {
                training: TrainingSpec { local_epochs: *local_epochs, ..setup.training },
                rule: parse_rule(rule)?,
                masked: *masked,
                rounds: *rounds,
                min_participants: *min_participants,
                price_per_round: *price,
            };
            spec.validate()
                .map_err(|e| bad_argument("rule/rounds/min-participants", e.to_string()))?;
            let (key, via) = match from.as_str() {
                "faucet" => (read_key(&manifest.faucet_key)?, via.unwrap_or(0)),
                index => {
                    let index: usize = index
                        .parse()
                        .map_err(|_| bad_argument("from", "a node index or faucet"))?;
                    (read_key(&node_entry(manifest, index)?.key)?, via.unwrap_or(index))
                }
            };
            let api = reachable(manifest, via)?.api;
            let nonce = account_state(api, &key.account())?.next_nonce;
            #[allow(clippy::disallowed_methods)] // the CLI's own timing
            let submitted = Instant::now();
            let id = submit(api, &key, FlTx::Post(spec))?;
            wait_final(manifest, via, &id, submitted, Duration::from_secs(*wait_timeout))?;
            Ok(task_id(&key.account(), nonce).to_string())
        }
        FlCommand::Join { task, participant, of, via, seed, step_timeout, drop_wait_ms } => {
            let task = parse_task(task)?;
            let via = via.unwrap_or(participant % manifest.nodes.len().max(1));
            let waits = Waits::of(manifest, Duration::from_secs(*step_timeout), *drop_wait_ms)?;
            let participant =
                Participant::prepare(manifest, dir, task, *participant, *of, via, *seed)?;
            participant.run(manifest, waits)
        }
        FlCommand::Status { task, via, json } => {
            let task = parse_task(task)?;
            let detail = task_detail(reachable(manifest, *via)?.api, &task)?;
            if *json {
                return serde_json::to_string_pretty(&detail)
                    .map_err(|e| TestnetError::Invalid(e.to_string()));
            }
            Ok(status_text(&detail, &timing_rows(dir, &task)))
        }
        FlCommand::Model { task, via, seed } => {
            let task = parse_task(task)?;
            let detail = task_detail(reachable(manifest, *via)?.api, &task)?;
            let report = model(dir, &task, &detail, *seed)?;
            serde_json::to_string_pretty(&report).map_err(|e| TestnetError::Invalid(e.to_string()))
        }
    }
}

fn parse_task(text: &str) -> Result<Hash, TestnetError> {
    let bytes = hex::decode(text.trim()).map_err(|_| bad_argument("task", "not hex"))?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| bad_argument("task", "must be 32 bytes (64 hex)"))?;
    Ok(Hash(bytes))
}

fn parse_rule(text: &str) -> Result<AggregationRule, TestnetError> {
    let (name, parameter) = match text.split_once(':') {
        Some((name, parameter)) => {
            let parameter: u32 =
                parameter.parse().map_err(|_| bad_argument("rule", "parameter must be a u32"))?;
            (name, Some(parameter))
        }
        None => (text, None),
    };
    Ok(match (name, parameter) {
        ("fedavg", None) => AggregationRule::FedAvg,
        ("median", None) => AggregationRule::Median,
        ("trimmed-mean", Some(trim)) => AggregationRule::TrimmedMean { trim },
        ("krum", Some(byzantine)) => AggregationRule::Krum { byzantine },
        _ => {
            return Err(bad_argument(
                "rule",
                format!("{text:?}: fedavg, median, trimmed-mean:TRIM or krum:BYZANTINE"),
            ));
        }
    })
}

/// The rule a task's summary names.
fn rule_of(detail: &FlTaskDetail) -> Result<AggregationRule, TestnetError> {
    let summary = &detail.summary;
    Ok(match (summary.rule.as_str(), summary.rule_parameter) {
        ("FedAvg", _) => AggregationRule::FedAvg,
        ("median", _) => AggregationRule::Median,
        ("trimmed mean", Some(trim)) => AggregationRule::TrimmedMean { trim },
        ("Krum", Some(byzantine)) => AggregationRule::Krum { byzantine },
        (other, _) => return Err(TestnetError::Invalid(format!("unknown rule {other:?}"))),
    })
}

fn task_detail(api: SocketAddr, task: &Hash) -> Result<FlTaskDetail, TestnetError> {
    match http::get::<FlTaskDetail>(api, &format!("/fl/task/{task}")) {
        Ok(detail) => Ok(detail),
        Err(http::HttpError::Status { status: 404, .. }) => {
            Err(FlCliError::UnknownTask { task: task.to_string() }.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Sign `tx` with `key` and post it to `api`; returns its id.
fn submit(api: SocketAddr, key: &Keypair, tx: FlTx) -> Result<String, TestnetError> {
    let body = TransactionBody {
        from: key.account(),
        nonce: account_state(api, &key.account())?.next_nonce,
        kind: TxKind::Fl(Box::new(tx)),
        fee: 1,
        parents: parents_from(api)?,
        issued_at_ms: now_ms(),
    };
    let signed = body.sign(key).map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let bytes = signed.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let request = api_types::SignedTxRequest { tx: hex::encode(bytes) };
    let answer: api_types::TxAccepted = http::post(api, "/tx", &request)?;
    Ok(answer.id)
}

/// Poll until `id` is applied on `api`'s chain (confirmed, not necessarily final).
fn wait_applied(
    api: SocketAddr,
    id: &str,
    what: &'static str,
    timeout: Duration,
) -> Result<(), TestnetError> {
    poll(&format!("{what} {id} applied"), timeout, || {
        match http::get::<api_types::Unit>(api, &format!("/unit/{id}")) {
            Ok(unit) => match unit.outcome {
                Some(api_types::Outcome::Applied) => Ok(Some(())),
                Some(api_types::Outcome::Ignored) if unit.is_final => {
                    Err(FlCliError::Ignored { id: id.to_string(), what }.into())
                }
                _ => Ok(None),
            },
            Err(http::HttpError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    })
}

/// Call `step` every `POLL` until it answers `Some`, at most `timeout`.
fn poll<T>(
    what: &str,
    timeout: Duration,
    mut step: impl FnMut() -> Result<Option<T>, TestnetError>,
) -> Result<T, TestnetError> {
    #[allow(clippy::disallowed_methods)] // the CLI's own timing
    let started = Instant::now();
    loop {
        if let Some(done) = step()? {
            return Ok(done);
        }
        if started.elapsed() > timeout {
            let what = what.to_string();
            return Err(FlCliError::Timeout { what, seconds: timeout.as_secs() }.into());
        }
        std::thread::sleep(POLL);
    }
}

/// Participant `index`'s key for `task`: derived, so a restarted `join` is the same account.
fn participant_key(task: &Hash, index: usize) -> Keypair {
    Keypair::derived(&format!("vein-testnet/fl/{task}"), index as u64)
}

fn log_path(dir: &Path, task: &Hash, index: usize) -> PathBuf {
    dir.join("fl").join(task.to_string()).join(format!("participant-{index}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_nonsense_is_refused() {
        assert_eq!(parse_rule("fedavg").unwrap(), AggregationRule::FedAvg);
        assert_eq!(parse_rule("krum:2").unwrap(), AggregationRule::Krum { byzantine: 2 });
        assert_eq!(parse_rule("trimmed-mean:1").unwrap(), AggregationRule::TrimmedMean { trim: 1 });
        assert!(parse_rule("krum").is_err());
        assert!(parse_rule("fedavg:1").is_err());
        assert!(parse_rule("mean").is_err());
        assert!(parse_task("zz").is_err());
    }
}
