//! `vein-testnet db load`: consortium writes at a target rate against a running testnet, in the
//! style of `load` (`crate::load`): an absolute schedule ([`crate::pacing::Schedule`]), bounded
//! concurrency, batches of pre-signed transactions through `POST /txs`, then every write's fate
//! from `POST /units` until it is final or the settle time ends.
//!
//! Each write is one sealed action with one upsert of a fresh key (so every write the chain
//! applies also applies in the replicas), signed round robin with sequential nonces by the
//! signers: without `--writers`, the parties this testnet holds keys for that may write the
//! table; with `--writers N`, N accounts derived from the faucet key, funded and granted the
//! table through the quorum first ([`crate::db_writers`]). A refused write's nonce is handed
//! back and reused, so no gap holds a signer's nonce window back. Progress lines go to
//! stderr every 5 s. Reported: writes offered, accepted, applied and final per second of the
//! offered window, refusals by reason, finality latency p50 and p95 (the accepting node's own
//! final time minus the client's submit time) against (k + 1)·T, and how many rows a member's
//! replica gained meanwhile, which must cover every applied write.

use crate::breakdown::percentile;
use crate::db::{detail_of, member_nodes, parse_consortium, party_key, schema_of};
use crate::db_store::{LocalConsortium, random_bytes};
use crate::db_writers::{self, highest_next_nonce};
use crate::load::NonceBook;
use crate::manifest::{Manifest, NodeEntry};
use crate::{TestnetError, fetch_parents, http, now_ms, pacing};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vein_node::api_types::{self, ConsortiumDetail};
use vein_node::core::consortium::keys::DataKey;
use vein_node::core::consortium::{Action, ColumnType, ConsortiumTx, RowOp, TableSchema, Value};
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::params::Params;
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::genesis_file::GenesisFile;

/// What `db load` offers: which table, at what rate, for how long, and how it sends.
#[derive(Clone, Debug, clap::Args)]
pub struct DbLoadArgs {
    /// The consortium id (64 hex).
    #[arg(long)]
    pub consortium: String,
    /// The table written (default: the consortium's first).
    #[arg(long)]
    pub table: Option<String>,
    /// Offered writes per second (over all running nodes).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Seconds to wait afterwards for finality.
    #[arg(long, default_value_t = 120)]
    pub settle: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Writes per request (POST /txs); 0 = about 200 requests per second.
    #[arg(long, default_value_t = 0)]
    pub batch: usize,
    /// Sign with N accounts derived from the faucet key (1..=256), funded by the faucet and
    /// granted the table through the quorum first, instead of the testnet's party keys: each
    /// account holds at most 1,024 writes in flight.
    #[arg(long)]
    pub writers: Option<usize>,
}

/// Results of `db load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DbLoadReport {
    /// The consortium id (64 hex).
    pub consortium: String,
    /// The table written.
    pub table: String,
    /// Writes per second asked for (`--rate`).
    pub offered_per_s: f64,
    /// Writes the schedule offered over the whole run (rate × duration, in whole batches).
    pub offered: u64,
    /// Writes a node accepted into its pool.
    pub submitted: u64,
    /// Writes not accepted: refused by the node, a failed request, or not buildable here.
    pub refused: u64,
    /// The refusals counted by reason: the node's kind of refusal (`(nonce_window)`, say), or
    /// the error with its numbers as `#`; at most [`REASONS_MAX`] reasons, the rest `other`.
    pub refused_by_reason: BTreeMap<String, u64>,
    /// Up to 5 distinct reasons among the refusals, first seen first, in full.
    pub refusal_samples: Vec<String>,
    /// Applied by the ledger, final or not yet.
    pub applied: u64,
    /// Final, applied or ignored.
    pub final_count: u64,
    /// Final and applied by the ledger.
    pub applied_final: u64,
    /// Final and ignored (a denied signer, say).
    pub ignored: u64,
    /// Not final by the end of the settle time.
    pub not_final: u64,
    /// The offered window (the schedule, or longer if the client fell behind).
    pub window_s: f64,
    /// `submitted` per second of `window_s`.
    pub accepted_per_s: f64,
    /// `applied` per second of `window_s`.
    pub applied_per_s: f64,
    /// `final_count` per second of `window_s`.
    pub final_per_s: f64,
    /// `applied_final` per second of `window_s`: the rate the target is about.
    pub applied_final_per_s: f64,
    /// Median of the accepting node's final time minus the client's submit time, in ms, over
    /// the applied and final writes; `None` when there were none.
    pub final_latency_ms_p50: Option<u64>,
    /// 95th percentile of that latency in ms (nearest rank).
    pub final_latency_ms_p95: Option<u64>,
    /// (k + 1)·T of the genesis.
    pub finality_target_ms: u64,
    /// Rows member node `replica_node` holds in the table after the run minus before (each
    /// write upserts a fresh key, so this counts the writes its replica applied, final or not
    /// yet; `None` without a running member).
    pub replica_node: Option<usize>,
    /// Rows the table gained on `replica_node`; `None` without a member or when it could not
    /// be counted before or after.
    pub replica_rows_added: Option<u64>,
    /// Labels of the accounts that signed, round robin: with `--writers`, `writer-0` ...;
    /// without, the node indexes and `faucet` whose keys may write the table.
    pub signers: Vec<String>,
    /// `--writers` as given.
    pub writers: Option<usize>,
    /// Writers this run granted the table (through the quorum) before sending.
    pub writers_granted: usize,
    /// Seconds spent funding and granting the writers before the schedule started.
    pub setup_s: f64,
    /// Writes per `POST /txs` request, as used (`--batch`, or derived from the rate).
    pub batch: usize,
    /// Requests in flight at once (`--concurrency`).
    pub concurrency: usize,
}

/// One accepted write: the node that took it, its id and when it was submitted (Unix ms).
struct Sent {
    node: usize,
    id: Hash,
    submitted_ms: u64,
}

/// A row with key `sequence` and every other column filled by its type.
fn load_row(schema: &TableSchema, run: u64, sequence: u64) -> Vec<Value> {
    schema
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let key = index == schema.primary_key;
            match column.column_type {
                // Keys from distinct runs differ: the run id is the high bits.
                ColumnType::Integer if key => Value::Integer(((run << 32) | sequence) as i64),
                ColumnType::Integer => Value::Integer(sequence as i64),
                ColumnType::Text => Value::Text(format!("load-{run}-{sequence}")),
                ColumnType::Blob => Value::Blob(sequence.to_le_bytes().to_vec()),
                ColumnType::Bool => Value::Bool(sequence.is_multiple_of(2)),
            }
        })
        .collect()
}

/// What every request of the run shares.
struct Plan<'a> {
    id: Hash,
    epoch: u64,
    key: DataKey,
    schema: &'a TableSchema,
    signers: Vec<Keypair>,
    nonces: Vec<Mutex<NonceBook>>,
    run: u64,
    batch: usize,
}

/// One request's signed writes: the hex bodies, and per write its id, signer and nonce.
struct Built {
    txs: Vec<String>,
    writes: Vec<(Hash, usize, u64)>,
}

impl Plan<'_> {
    /// Request `request`'s `count` signed writes, with parents from `from`.
    fn build(&self, request: u64, count: usize, from: &NodeEntry) -> Result<Built, TestnetError> {
        let parents = fetch_parents(from.api, count)?;
        let mut built = Built { txs: Vec::with_capacity(count), writes: Vec::with_capacity(count) };
        let mut previous: Option<Hash> = None;
        for (slot, [first, second]) in parents.into_iter().enumerate() {
            let sequence = request * self.batch as u64 + slot as u64;
            let signer = (sequence % self.signers.len() as u64) as usize;
            let nonce = self.nonces[signer]
                .lock()
                .map_err(|_| TestnetError::Invalid("a nonce lock was poisoned".into()))?
                .take();
            // As in `load`: each write after the first approves the one before it, so a batch
            // leaves one new tip behind.
            let parents = previous.map_or([first, second], |previous| [first, previous]);
            match self.sign(sequence, signer, nonce, parents) {
                Ok((hex, id)) => {
                    built.txs.push(hex);
                    built.writes.push((id, signer, nonce));
                    previous = Some(id);
                }
                Err(error) => {
                    self.give_back(signer, nonce);
                    for (_, signer, nonce) in built.writes {
                        self.give_back(signer, nonce);
                    }
                    return Err(error);
                }
            }
        }
        Ok(built)
    }

    /// Write `sequence`, signed by signer `signer` with `nonce`: the hex body and its id.
    fn sign(
        &self,
        sequence: u64,
        signer: usize,
        nonce: u64,
        parents: [Hash; 2],
    ) -> Result<(String, Hash), TestnetError> {
        let row = load_row(self.schema, self.run, sequence);
        let action = Action {
            table: self.schema.name.clone(),
            ops: vec![RowOp::Upsert { row }],
            salt: random_bytes()?,
        };
        let sealed = action
            .seal(&self.key, self.id, self.epoch)
            .map_err(|error| TestnetError::Invalid(error.to_string()))?;
        let key = &self.signers[signer];
        let tx = TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Consortium(Box::new(ConsortiumTx::Write(sealed))),
            fee: 1,
            parents,
            issued_at_ms: now_ms(),
        }
        .sign(key)
        .map_err(|e| TestnetError::Invalid(e.to_string()))?;
        let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
        Ok((hex::encode(&bytes), Hash::of(&bytes)))
    }

    /// A nonce the node refused goes back to its signer: an unused one would hold the
    /// signer's nonce floor, and so its window, back for good.
    fn give_back(&self, signer: usize, nonce: u64) {
        if let Ok(mut book) = self.nonces[signer].lock() {
            book.returned.insert(nonce);
        }
    }
}

/// How many distinct refusal reasons a report counts apart.
pub const REASONS_MAX: usize = 20;

/// How often `db load` reports its progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What a refusal is counted under: the node's kind of refusal when it names one (its answers
/// end in `(kind)`), else the text with every digit as `#` (ports, heights, counts).
fn reason_of(error: &str) -> String {
    if let Some(open) = error.rfind('(')
        && error.ends_with(')')
    {
        let kind = &error[open + 1..error.len() - 1];
        if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return format!("({kind})");
        }
    }
    error.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
}

/// The refusals of a run: how many, by reason, and a few in full.
#[derive(Default)]
struct Refusals {
    count: u64,
    by_reason: BTreeMap<String, u64>,
    samples: Vec<String>,
}

impl Refusals {
    fn add(&mut self, count: u64, error: String) {
        self.count += count;
        let mut reason = reason_of(&error);
        if !self.by_reason.contains_key(&reason) && self.by_reason.len() >= REASONS_MAX {
            reason = "other".into();
        }
        *self.by_reason.entry(reason).or_default() += count;
        if self.samples.len() < 5 && !self.samples.contains(&error) {
            self.samples.push(error);
        }
    }
}

/// The accounts a run signs with, labelled, and what setting them up took.
struct Signers {
    labels: Vec<String>,
    keys: Vec<Keypair>,
    granted: usize,
    setup_s: f64,
}

/// `--writers N`: N derived writers, funded and granted first; else every party key here that
/// may write the table.
fn signers(
    manifest: &Manifest,
    args: &DbLoadArgs,
    first: &NodeEntry,
    detail: &ConsortiumDetail,
    table: &str,
) -> Result<Signers, TestnetError> {
    let id = parse_consortium(&args.consortium)?;
    if let Some(count) = args.writers {
        let timeout = Duration::from_secs(args.settle.max(60));
        let writers = db_writers::prepare(manifest, first, &id, table, count, timeout)?;
        return Ok(Signers {
            labels: (0..count).map(db_writers::writer_label).collect(),
            keys: writers.keys,
            granted: writers.granted,
            setup_s: writers.setup_s,
        });
    }
    let writers = detail.writers.get(table).cloned().unwrap_or_default();
    let (mut labels, mut keys) = (Vec::new(), Vec::new());
    for label in manifest.nodes.iter().map(|node| node.index.to_string()).chain(["faucet".into()]) {
        let key = party_key(manifest, &label)?;
        if writers.contains(&key.account().to_hex()) {
            labels.push(label);
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err(crate::db::DbCliError::NoWritePermission {
            account: "every account of this testnet".into(),
            table: table.into(),
            consortium: id.to_string(),
        }
        .into());
    }
    Ok(Signers { labels, keys, granted: 0, setup_s: 0.0 })
}

/// Offer consortium writes at `args.rate` for `args.duration`, then settle and report.
pub fn load(manifest: &Manifest, args: &DbLoadArgs) -> Result<DbLoadReport, TestnetError> {
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        return Err(crate::bad_argument("rate", "must be in (0, 100000]"));
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        return Err(crate::bad_argument("concurrency", "must be 1..=1024"));
    }
    if let Some(count) = args.writers {
        db_writers::check_count(count)?;
    }
    let id = parse_consortium(&args.consortium)?;
    let nodes: Vec<NodeEntry> = crate::running(manifest).cloned().collect();
    let first = nodes.first().ok_or_else(|| TestnetError::Invalid("no running node".into()))?;
    let detail = detail_of(first.api, &id)?;
    let table = match (&args.table, detail.summary.tables.first()) {
        (Some(table), _) => table.clone(),
        (None, Some(first)) => first.clone(),
        (None, None) => return Err(TestnetError::Invalid(format!("consortium {id} has no table"))),
    };
    let schema = schema_of(&detail, &table)?;
    let local = LocalConsortium::load(&manifest.dir, &id)?;
    let key = local.key(&manifest.dir, detail.summary.key_epoch)?;
    let signers = signers(manifest, args, first, &detail, &table)?;
    let nonces = signers
        .keys
        .iter()
        .map(|key| {
            let next = highest_next_nonce(manifest, &key.account())?;
            Ok(Mutex::new(NonceBook { next, returned: Default::default() }))
        })
        .collect::<Result<Vec<_>, TestnetError>>()?;
    let batch = if args.batch == 0 {
        ((args.rate / 200.0).ceil() as usize).clamp(1, 500)
    } else {
        args.batch
    };
    let plan = Plan {
        id,
        epoch: detail.summary.key_epoch,
        key,
        schema,
        signers: signers.keys,
        nonces,
        run: now_ms() % (1 << 30),
        batch,
    };
    let replica_node = member_nodes(manifest, &detail).first().copied();
    let replica_rows = |node| crate::db_read::count_rows(manifest, node, &id, &table).ok();
    let replica_before = replica_node.and_then(replica_rows);

    let schedule = pacing::Schedule::new(args.rate, Duration::from_secs(args.duration), batch);
    let sending = send(&plan, &nodes, &schedule, args);
    let deadline = Instant::now() + Duration::from_secs(args.settle);
    let outcomes = settle(manifest, &sending.sent, deadline);
    let tally = Tally::of(&sending.sent, &outcomes);
    let window = schedule.offered_window(sending.latest).as_secs_f64().max(f64::EPSILON);
    let params: Params = GenesisFile::load(&manifest.genesis)?.to_genesis()?.params;
    let replica_after = replica_node.and_then(replica_rows);
    let per_s = |count: u64| count as f64 / window;
    let refusals = sending.refusals;
    Ok(DbLoadReport {
        consortium: id.to_string(),
        table: plan.schema.name.clone(),
        offered_per_s: args.rate,
        offered: schedule.total(),
        submitted: sending.sent.len() as u64,
        refused: refusals.count,
        refused_by_reason: refusals.by_reason,
        refusal_samples: refusals.samples,
        applied: tally.applied,
        final_count: tally.final_count,
        applied_final: tally.applied_final,
        ignored: tally.ignored,
        not_final: tally.not_final,
        window_s: window,
        accepted_per_s: per_s(sending.sent.len() as u64),
        applied_per_s: per_s(tally.applied),
        final_per_s: per_s(tally.final_count),
        applied_final_per_s: per_s(tally.applied_final),
        final_latency_ms_p50: percentile(&tally.latencies, 0.50),
        final_latency_ms_p95: percentile(&tally.latencies, 0.95),
        finality_target_ms: (params.finality_depth + 1) * params.target_interval_ms,
        replica_node,
        replica_rows_added: replica_before
            .zip(replica_after)
            .map(|(before, after)| after.saturating_sub(before)),
        signers: signers.labels,
        writers: args.writers,
        writers_granted: signers.granted,
        setup_s: signers.setup_s,
        batch,
        concurrency: args.concurrency,
    })
}

/// What the sending phase leaves: the accepted writes, the latest dispatch and the refusals.
struct Sending {
    sent: Vec<Sent>,
    latest: Duration,
    refusals: Refusals,
}

/// Send the schedule's requests from `args.concurrency` threads, round robin over `nodes`,
/// with a progress line on stderr every [`PROGRESS_EVERY`].
fn send(
    plan: &Plan,
    nodes: &[NodeEntry],
    schedule: &pacing::Schedule,
    args: &DbLoadArgs,
) -> Sending {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let accepted = AtomicU64::new(0);
    let sending_done = AtomicBool::new(false);
    let refusals = Mutex::new(Refusals::default());
    let refuse = |count: u64, reason: String| {
        if let Ok(mut refusals) = refusals.lock() {
            refusals.add(count, reason);
        }
    };
    let results: Vec<(Vec<Sent>, Duration)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let (mut mine, mut latest) = (Vec::new(), Duration::ZERO);
                    loop {
                        let request = next.fetch_add(1, Ordering::Relaxed);
                        let Some((due, count)) = schedule.request(request) else {
                            return (mine, latest);
                        };
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        let from = &nodes[request as usize % nodes.len()];
                        let built = match plan.build(request, count, from) {
                            Ok(built) => built,
                            Err(error) => {
                                refuse(count as u64, error.to_string());
                                continue;
                            }
                        };
                        latest = latest.max(started.elapsed());
                        let submitted_ms = now_ms();
                        let body =
                            api_types::TxBatchRequest { txs: built.txs, transfers: Vec::new() };
                        match http::post::<_, api_types::TxBatchResponse>(from.api, "/txs", &body) {
                            Ok(answer) => {
                                for (result, (id, signer, nonce)) in
                                    answer.results.iter().zip(built.writes)
                                {
                                    match result {
                                        api_types::TxBatchItem::Accepted { .. } => {
                                            accepted.fetch_add(1, Ordering::Relaxed);
                                            mine.push(Sent { node: from.index, id, submitted_ms })
                                        }
                                        api_types::TxBatchItem::Refused { error } => {
                                            plan.give_back(signer, nonce);
                                            refuse(1, error.clone())
                                        }
                                    }
                                }
                            }
                            // The node may have taken some of them: their nonces are not reused.
                            Err(error) => refuse(count as u64, error.to_string()),
                        }
                    }
                })
            })
            .collect();
        let progress = scope.spawn(|| {
            let mut printed = Instant::now();
            while !sending_done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if printed.elapsed() >= PROGRESS_EVERY {
                    printed = Instant::now();
                    let refused = refusals.lock().map_or(0, |refusals| refusals.count);
                    eprintln!(
                        "[db load] {:.0}/{} s: {} of {} writes accepted, {refused} refused",
                        started.elapsed().as_secs_f64(),
                        args.duration,
                        accepted.load(Ordering::Relaxed),
                        schedule.total(),
                    );
                }
            }
        });
        let results = workers.into_iter().filter_map(|worker| worker.join().ok()).collect();
        sending_done.store(true, Ordering::Relaxed);
        let _ = progress.join();
        results
    });
    let latest = results.iter().map(|(_, latest)| *latest).max().unwrap_or_default();
    let sent = results.into_iter().flat_map(|(sent, _)| sent).collect();
    Sending { sent, latest, refusals: refusals.into_inner().unwrap_or_default() }
}

/// The writes' fates once settled.
struct Tally {
    applied: u64,
    final_count: u64,
    applied_final: u64,
    ignored: u64,
    not_final: u64,
    /// Final latencies of the applied and final writes, in ms, sorted.
    latencies: Vec<u64>,
}

impl Tally {
    fn of(sent: &[Sent], outcomes: &[Option<api_types::UnitStatus>]) -> Tally {
        let mut tally = Tally {
            applied: 0,
            final_count: 0,
            applied_final: 0,
            ignored: 0,
            not_final: 0,
            latencies: Vec::new(),
        };
        for (item, unit) in sent.iter().zip(outcomes) {
            let applied =
                unit.as_ref().is_some_and(|unit| unit.outcome == Some(api_types::Outcome::Applied));
            tally.applied += u64::from(applied);
            match unit {
                Some(unit) if unit.is_final && applied => {
                    tally.final_count += 1;
                    tally.applied_final += 1;
                    if let Some(final_ms) = unit.times.as_ref().and_then(|times| times.final_ms) {
                        tally.latencies.push(final_ms.saturating_sub(item.submitted_ms));
                    }
                }
                Some(unit) if unit.is_final => {
                    tally.final_count += 1;
                    tally.ignored += 1;
                }
                _ => tally.not_final += 1,
            }
        }
        tally.latencies.sort_unstable();
        tally
    }
}

/// Ask each accepting node about its writes (`POST /units`, in chunks) until all are final or
/// `deadline` passes.
fn settle(
    manifest: &Manifest,
    sent: &[Sent],
    deadline: Instant,
) -> Vec<Option<api_types::UnitStatus>> {
    const CHUNK: usize = 5_000;
    let mut outcomes: Vec<Option<api_types::UnitStatus>> = vec![None; sent.len()];
    let mut reported = Instant::now();
    loop {
        let mut pending: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (index, item) in sent.iter().enumerate() {
            if !outcomes[index].as_ref().is_some_and(|unit| unit.is_final) {
                pending.entry(item.node).or_default().push(index);
            }
        }
        if pending.is_empty() || Instant::now() >= deadline {
            return outcomes;
        }
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            let waiting: usize = pending.values().map(Vec::len).sum();
            eprintln!(
                "[db load] settling: {} of {} accepted writes final, {:.0} s left",
                sent.len() - waiting,
                sent.len(),
                deadline.saturating_duration_since(Instant::now()).as_secs_f64()
            );
        }
        for (node, indices) in pending {
            let api = manifest.nodes[node].api;
            for chunk in indices.chunks(CHUNK) {
                let ids = chunk.iter().map(|index| sent[*index].id.to_string()).collect();
                let request = api_types::UnitsRequest { ids };
                let Ok(answer) = http::post::<_, api_types::UnitsResponse>(api, "/units", &request)
                else {
                    continue;
                };
                for (index, unit) in chunk.iter().zip(answer.units) {
                    if unit.is_some() {
                        outcomes[*index] = unit;
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::core::consortium::Column;

    #[test]
    fn load_rows_fit_the_table_and_keys_differ_between_runs() {
        let column =
            |name: &str, column_type| Column { name: name.into(), column_type, nullable: false };
        let schema = TableSchema {
            name: "t".into(),
            columns: vec![
                column("note", ColumnType::Text),
                column("id", ColumnType::Integer),
                column("raw", ColumnType::Blob),
                column("ok", ColumnType::Bool),
            ],
            primary_key: 1,
        };
        let row = load_row(&schema, 3, 5);
        assert!(schema.check_row(&row).is_ok());
        assert_ne!(row[1], load_row(&schema, 4, 5)[1]);
        assert_ne!(row[1], load_row(&schema, 3, 6)[1]);
    }

    #[test]
    fn refusals_are_counted_by_the_nodes_kind_or_by_their_text_without_numbers() {
        let mut refusals = Refusals::default();
        refusals.add(1, "nonce 1100 is past the window of abc (nonce_window)".into());
        refusals.add(2, "nonce 1200 is past the window of abd (nonce_window)".into());
        refusals.add(3, "connect to 127.0.0.1:4001: refused".into());
        refusals.add(1, "connect to 127.0.0.1:4002: refused".into());
        assert_eq!(refusals.count, 7);
        assert_eq!(refusals.by_reason["(nonce_window)"], 3);
        assert_eq!(refusals.by_reason["connect to ###.#.#.#:####: refused"], 4);
        for index in 0..REASONS_MAX * 2 {
            refusals.add(1, format!("odd {} (Kind{index})", "x".repeat(index)));
        }
        assert_eq!(refusals.by_reason.len(), REASONS_MAX + 1);
        assert_eq!(refusals.by_reason["other"], (REASONS_MAX * 2 - (REASONS_MAX - 2)) as u64);
        assert_eq!(refusals.samples.len(), 5);
    }
}
