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
//! sum of all of them is ever unmasked. A masked round needs every participant's update: the
//! seed-reveal step that recovers from a drop-out is not run here (`Dropout`).

use crate::manifest::Manifest;
use crate::{
    Sender, TestnetError, TxRequest, account_state, bad_argument, http, node_entry, now_ms,
    parents_from, reachable, read_key, wait_final,
};
use clap::Subcommand;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vein_fl_lab::convert::accuracy;
use vein_fl_lab::scenarios::{Setup, Split, seed_bytes, shards, wine_setup};
use vein_node::api_types::{self, FlTaskDetail, FlUpdatePost, FlUpdateStored, FlUpdates};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::fl::aggregate::{AggregationRule, Contribution, aggregate};
use vein_node::core::fl::masking::{self, MaskSecret};
use vein_node::core::fl::model::{apply_update, difference};
use vein_node::core::fl::task::{FlTx, TaskSpec, task_id};
use vein_node::core::fl::update::{aggregate_hash, encode_update, update_hash, verify_update};
use vein_node::core::fl::{Dataset, Fixed, FlError, TrainingSpec, split, train_local};
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
    /// A masked round missing some participant's update: recovering its masks needs the
    /// seed-reveal step, which `fl join` does not run.
    #[error("masked round {round}: {committed} of {joined} participants committed an update")]
    Dropout {
        /// The round.
        round: u32,
        /// Updates committed.
        committed: usize,
        /// Participants joined.
        joined: usize,
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
        /// Seconds any one step of a round may wait.
        #[arg(long, default_value_t = 300)]
        step_timeout: u64,
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

mod report;
pub use report::ModelReport;
use report::{ModelLog, model, status_text};

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
        FlCommand::Join { task, participant, of, via, seed, step_timeout } => {
            let task = parse_task(task)?;
            let via = via.unwrap_or(participant % manifest.nodes.len().max(1));
            let participant =
                Participant::prepare(manifest, dir, task, *participant, *of, via, *seed)?;
            participant.run(manifest, Duration::from_secs(*step_timeout))
        }
        FlCommand::Status { task, via, json } => {
            let task = parse_task(task)?;
            let detail = task_detail(reachable(manifest, *via)?.api, &task)?;
            if *json {
                return serde_json::to_string_pretty(&detail)
                    .map_err(|e| TestnetError::Invalid(e.to_string()));
            }
            Ok(status_text(&detail))
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

/// One data owner's share and identity.
struct Participant {
    task: Hash,
    index: usize,
    of: usize,
    via: usize,
    api: SocketAddr,
    key: Keypair,
    train: Dataset,
    local_test: Dataset,
    seed: u64,
    log: PathBuf,
}

impl Participant {
    fn prepare(
        manifest: &Manifest,
        dir: &Path,
        task: Hash,
        index: usize,
        of: usize,
        via: usize,
        seed: u64,
    ) -> Result<Participant, TestnetError> {
        if index >= of {
            return Err(bad_argument("participant", format!("must be below --of {of}")));
        }
        let setup: Setup = wine_setup(seed).map_err(FlCliError::from)?;
        let train = shards(&setup, of, Split::Iid).map_err(FlCliError::from)?;
        let train = train.get(index).cloned().ok_or_else(|| {
            bad_argument("of", format!("{of} participants leave participant {index} no records"))
        })?;
        let test_seed = seed_bytes(b"local-test", seed, 0, of);
        let tests = split::iid(setup.test.len(), of, test_seed).map_err(FlCliError::from)?;
        let local_test = setup.test.subset(tests.get(index).map_or(&[][..], Vec::as_slice));
        Ok(Participant {
            task,
            index,
            of,
            via,
            api: reachable(manifest, via)?.api,
            key: participant_key(&task, index),
            train,
            local_test,
            seed,
            log: log_path(dir, &task, index),
        })
    }

    /// yᵢ = nᵢ·uᵢ plus this participant's pairwise masks with every other one, as the words
    /// travel in the update encoding (Bonawitz et al.; `core::fl::masking`).
    fn mask(
        &self,
        roster: &Roster,
        round: u32,
        update: &[Fixed],
    ) -> Result<Vec<Fixed>, TestnetError> {
        let secret = MaskSecret::derive(&self.key.seed(), &self.task);
        let peers: Vec<(usize, [u8; 32])> = roster
            .mask_keys
            .iter()
            .enumerate()
            .filter(|(position, _)| *position != roster.me)
            .map(|(position, key)| (position, secret.pairwise_seed(key, &self.task, round)))
            .collect();
        let weighted = masking::weigh(update, self.train.len() as u64).map_err(FlCliError::from)?;
        let words = masking::mask(roster.me, &weighted, &peers).map_err(FlCliError::from)?;
        Ok(words.into_iter().map(|word| Fixed(word as i64)).collect())
    }

    fn say(&self, line: &str) {
        println!("participant {}: {line}", self.index);
    }

    /// Fund, join, then run every round; returns the final line.
    fn run(&self, manifest: &Manifest, timeout: Duration) -> Result<String, TestnetError> {
        let detail = task_detail(self.api, &self.task)?;
        let rule = rule_of(&detail)?;
        let training = TrainingSpec {
            dimension: detail.summary.dimension,
            learning_rate: Fixed(detail.summary.learning_rate_fixed),
            local_epochs: detail.summary.local_epochs,
            batch_size: detail.summary.batch_size,
        };
        self.fund(manifest, timeout)?;
        let me = self.key.account().to_hex();
        if !detail.participants.iter().any(|row| row.account == me) {
            let mask_key = MaskSecret::derive(&self.key.seed(), &self.task).public();
            let samples = self.train.len() as u64;
            let join = FlTx::Join { task: self.task, samples, mask_key };
            let id = submit(self.api, &self.key, join)?;
            wait_applied(self.api, &id, "join", timeout)?;
        }
        self.say(&format!("joined task {} with {} records", self.task, self.train.len()));
        poll(&format!("{} participants to join", self.of), timeout, || {
            Ok((task_detail(self.api, &self.task)?.summary.participants >= self.of).then_some(()))
        })?;
        let mut global = training.initial_weights();
        let mut log = ModelLog::default();
        for round in 0..detail.summary.rounds {
            #[allow(clippy::disallowed_methods)] // the CLI's own timing
            let started = Instant::now();
            let roster = Roster::of(&task_detail(self.api, &self.task)?, &self.key)?;
            let how = How { training: &training, rule, masked: detail.summary.masked, roster };
            let accepted = self.round(manifest, round, &how, &global, timeout)?;
            global = apply_update(&global, &accepted.aggregate).map_err(FlCliError::from)?;
            log.aggregates.push(hex::encode(encode_update(&accepted.aggregate)));
            self.write_log(&log)?;
            let local = accuracy(&global, &self.local_test).map_err(FlCliError::from)?;
            self.say(&format!(
                "round {round}: {} contributors, {} accepted, aggregate {}, local test accuracy \
                 {:.2}% ({} records), {:.1} s (training {:.2} s)",
                accepted.contributors,
                accepted.accepted,
                accepted.hash,
                100.0 * local,
                self.local_test.len(),
                started.elapsed().as_secs_f64(),
                accepted.training.as_secs_f64(),
            ));
        }
        Ok(format!("participant {}: all {} rounds settled", self.index, log.aggregates.len()))
    }

    /// Make sure the account can pay its fees: ask its node for coins when short.
    fn fund(&self, manifest: &Manifest, timeout: Duration) -> Result<(), TestnetError> {
        let account = self.key.account();
        if account_state(self.api, &account)?.balance >= FUND_MIN {
            return Ok(());
        }
        let request = TxRequest {
            from: Sender::Node(self.via),
            to: account.to_hex(),
            amount: FUND_AMOUNT,
            fee: 1,
            nonce: None,
            via: Some(self.via),
        };
        crate::tx(manifest, &request)?;
        poll("the participant's funding", timeout, || {
            Ok((account_state(self.api, &account)?.balance >= FUND_MIN).then_some(()))
        })
    }

    fn write_log(&self, log: &ModelLog) -> Result<(), TestnetError> {
        if let Some(parent) = self.log.parent() {
            std::fs::create_dir_all(parent).map_err(crate::error::io("creating", parent))?;
        }
        let text = serde_json::to_string(log).map_err(|e| TestnetError::Invalid(e.to_string()))?;
        std::fs::write(&self.log, text).map_err(crate::error::io("writing", &self.log))
    }

    /// One round: train, commit, post, fetch, aggregate, commit, settle.
    fn round(
        &self,
        manifest: &Manifest,
        round: u32,
        how: &How,
        global: &[Fixed],
        timeout: Duration,
    ) -> Result<Accepted, TestnetError> {
        let training = how.training;
        #[allow(clippy::disallowed_methods)] // the CLI's own timing
        let training_started = Instant::now();
        let local_seed = seed_bytes(b"local", self.seed, round, self.index);
        let trained =
            train_local(global, &self.train, training, local_seed).map_err(FlCliError::from)?;
        let update = difference(&trained, global).map_err(FlCliError::from)?;
        let training_time = training_started.elapsed();
        let encoded = if how.masked {
            encode_update(&self.mask(&how.roster, round, &update)?)
        } else {
            encode_update(&update)
        };
        let me = self.key.account();
        let hash = update_hash(&self.task, round, &me, &encoded);
        let commit = FlTx::CommitUpdate {
            task: self.task,
            round,
            dimension: training.dimension,
            update: hash,
        };
        let id = submit(self.api, &self.key, commit)?;
        wait_applied(self.api, &id, "update commit", timeout)?;
        self.post_update(round, &encoded, timeout)?;

        let contributions = self.collect(manifest, round, training, timeout)?;
        let dimension = training.dimension as usize;
        let mine = combine(how, round, &contributions, dimension)?;
        let mine_hash = aggregate_hash(&self.task, round, &mine);
        let commit = FlTx::CommitAggregate { task: self.task, round, aggregate: mine_hash };
        let id = submit(self.api, &self.key, commit)?;
        wait_applied(self.api, &id, "aggregate commit", timeout)?;
        let settled = self.settle(round, timeout)?;
        if settled.aggregate != mine_hash.to_string() {
            return Err(FlCliError::AggregateRejected {
                round,
                accepted: settled.aggregate,
                mine: mine_hash.to_string(),
            }
            .into());
        }
        Ok(Accepted {
            aggregate: mine,
            hash: settled.aggregate,
            contributors: settled.contributors,
            accepted: settled.accepted,
            training: training_time,
        })
    }

    /// Hand the update to this participant's node; its commit may need a moment to be applied
    /// there (a 409 until it is).
    fn post_update(
        &self,
        round: u32,
        encoded: &[u8],
        timeout: Duration,
    ) -> Result<(), TestnetError> {
        let body = FlUpdatePost {
            participant: self.key.account().to_hex(),
            round,
            update: hex::encode(encoded),
        };
        let route = format!("/fl/task/{}/update", self.task);
        poll("the node to take the update", timeout, || {
            match http::post::<_, FlUpdateStored>(self.api, &route, &body) {
                Ok(_) => Ok(Some(())),
                Err(http::HttpError::Status { status: 409, body, .. })
                    if body.contains("no update commit") =>
                {
                    Ok(None)
                }
                Err(error) => Err(error.into()),
            }
        })
    }

    /// Every committed update of `round`, fetched from every node and checked against its
    /// commit; waits until all `of` participants committed (or the set froze with a first
    /// aggregate commit) and every committed update was found.
    fn collect(
        &self,
        manifest: &Manifest,
        round: u32,
        training: &TrainingSpec,
        timeout: Duration,
    ) -> Result<Vec<(String, Contribution)>, TestnetError> {
        let dimension = training.dimension as usize;
        let mut found: BTreeMap<String, Vec<Fixed>> = BTreeMap::new();
        let what = format!("the updates of round {round}");
        let (commits, samples) = poll(&what, timeout, || {
            let detail = task_detail(self.api, &self.task)?;
            let commits: BTreeMap<String, String> = detail
                .open_round
                .iter()
                .filter_map(|row| Some((row.account.clone(), row.update.clone()?)))
                .collect();
            let frozen = detail.open_round.iter().any(|row| row.aggregate.is_some());
            for node in crate::running(manifest) {
                let route = format!("/fl/task/{}/updates/{round}", self.task);
                let Ok(held) = http::get::<FlUpdates>(node.api, &route) else { continue };
                for row in held.updates {
                    let Some(committed) = commits.get(&row.participant) else { continue };
                    if found.contains_key(&row.participant) {
                        continue;
                    }
                    let (Ok(account), Ok(bytes), Some(committed)) = (
                        AccountId::from_hex(&row.participant),
                        hex::decode(&row.update),
                        parse_hash(committed),
                    ) else {
                        continue;
                    };
                    // A node's word is not trusted: each update is checked against its commit.
                    let checked =
                        verify_update(&self.task, round, &account, &bytes, &committed, dimension);
                    if let Ok(update) = checked {
                        found.insert(row.participant, update);
                    }
                }
            }
            let complete = commits.len() >= self.of || frozen;
            let all_found = commits.keys().all(|account| found.contains_key(account));
            let samples: BTreeMap<String, u64> =
                detail.participants.iter().map(|row| (row.account.clone(), row.samples)).collect();
            Ok((complete && all_found).then_some((commits, samples)))
        })?;
        Ok(commits
            .keys()
            .filter_map(|account| {
                let update = found.get(account)?.clone();
                let samples = *samples.get(account)?;
                Some((account.clone(), Contribution { update, samples }))
            })
            .collect())
    }

    /// Wait for the round to settle. The contributor with the smallest account settles once
    /// every contributor committed an aggregate; anyone settles after half the step timeout.
    fn settle(&self, round: u32, timeout: Duration) -> Result<api_types::FlRoundRow, TestnetError> {
        let me = self.key.account().to_hex();
        let mut sent = false;
        #[allow(clippy::disallowed_methods)] // the CLI's own timing
        let started = Instant::now();
        poll(&format!("round {round} to settle"), timeout, || {
            let detail = task_detail(self.api, &self.task)?;
            if let Some(row) = detail.settled.get(round as usize) {
                return Ok(Some(row.clone()));
            }
            let contributors: Vec<&str> = detail
                .open_round
                .iter()
                .filter(|row| row.update.is_some())
                .map(|row| row.account.as_str())
                .collect();
            let all_agreed = detail
                .open_round
                .iter()
                .filter(|row| row.update.is_some())
                .all(|row| row.aggregate.is_some());
            let first = contributors.first().is_some_and(|account| *account == me);
            let late = started.elapsed() > timeout / 2;
            if !sent && ((first && all_agreed) || late) {
                // A settle that loses to another one is ignored by the ledger, which is fine:
                // the round is settled either way, and a later poll sees it.
                submit(self.api, &self.key, FlTx::Settle { task: self.task, round })?;
                sent = true;
            }
            Ok(None)
        })
    }
}

/// Every participant's position (account order, as the chain keeps them) and mask key.
struct Roster {
    positions: BTreeMap<String, usize>,
    mask_keys: Vec<[u8; 32]>,
    me: usize,
}

impl Roster {
    fn of(detail: &FlTaskDetail, key: &Keypair) -> Result<Roster, TestnetError> {
        let mut positions = BTreeMap::new();
        let mut mask_keys = Vec::with_capacity(detail.participants.len());
        for (position, row) in detail.participants.iter().enumerate() {
            let key: [u8; 32] = hex::decode(&row.mask_key)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| TestnetError::Invalid(format!("bad mask key {:?}", row.mask_key)))?;
            positions.insert(row.account.clone(), position);
            mask_keys.push(key);
        }
        let me = *positions
            .get(&key.account().to_hex())
            .ok_or_else(|| TestnetError::Invalid("this participant is not in the task".into()))?;
        Ok(Roster { positions, mask_keys, me })
    }
}

/// How a task's rounds are run.
struct How<'a> {
    training: &'a TrainingSpec,
    rule: AggregationRule,
    masked: bool,
    roster: Roster,
}

/// The round's aggregate: the task's rule over the updates, or, masked, FedAvg from the
/// unmasked sum (every participant must have contributed: no seeds are revealed here).
fn combine(
    how: &How,
    round: u32,
    contributions: &[(String, Contribution)],
    dimension: usize,
) -> Result<Vec<Fixed>, TestnetError> {
    if !how.masked {
        let plain: Vec<Contribution> = contributions.iter().map(|(_, c)| c.clone()).collect();
        return Ok(aggregate(how.rule, &plain, dimension).map_err(FlCliError::from)?);
    }
    let joined = how.roster.mask_keys.len();
    if contributions.len() != joined {
        return Err(FlCliError::Dropout { round, committed: contributions.len(), joined }.into());
    }
    let mut indexed = Vec::with_capacity(contributions.len());
    let mut total: u64 = 0;
    for (account, contribution) in contributions {
        let position = *how
            .roster
            .positions
            .get(account)
            .ok_or_else(|| TestnetError::Invalid(format!("{account} is not a participant")))?;
        indexed.push((position, contribution.update.iter().map(|word| word.0 as u64).collect()));
        total = total.saturating_add(contribution.samples);
    }
    let sum = masking::unmask_sum(&indexed, &[], &[], dimension).map_err(FlCliError::from)?;
    Ok(masking::fed_avg_from_sum(&sum, total).map_err(FlCliError::from)?)
}

/// A settled round as this participant saw it.
struct Accepted {
    aggregate: Vec<Fixed>,
    hash: String,
    contributors: u32,
    accepted: u32,
    training: Duration,
}

fn parse_hash(text: &str) -> Option<Hash> {
    let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
    Some(Hash(bytes))
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
