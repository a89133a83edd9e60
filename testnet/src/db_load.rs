//! `vein-testnet db load`: consortium writes at a target rate against a running testnet, in the
//! style of `load` (`crate::load`): an absolute schedule ([`crate::pacing::Schedule`]), bounded
//! concurrency, batches of pre-signed transactions through `POST /txs`, then every write's fate
//! from `POST /units` until it is final or the settle time ends.
//!
//! Each write is one sealed action with one upsert of a fresh key (so every write the chain
//! applies also applies in the replicas), signed round robin by the parties this testnet holds
//! keys for that may write the table. Reported: writes applied and final per second of the
//! offered window, finality latency p50 and p95 (the accepting node's own final time minus the
//! client's submit time) against (k + 1)·T, and how many rows a member's replica gained
//! meanwhile, which must cover every applied write.

use crate::breakdown::percentile;
use crate::db::{detail_of, member_nodes, parse_consortium, party_key, schema_of};
use crate::db_store::{LocalConsortium, random_bytes};
use crate::manifest::{Manifest, NodeEntry};
use crate::{TestnetError, account_state, fetch_parents, http, now_ms, pacing};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vein_node::api_types;
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
    /// Up to 5 distinct reasons among the refusals, first seen first.
    pub refusal_samples: Vec<String>,
    /// Final and applied by the ledger.
    pub applied_final: u64,
    /// Final and ignored (a denied signer, say).
    pub ignored: u64,
    /// Not final by the end of the settle time.
    pub not_final: u64,
    /// The offered window (the schedule, or longer if the client fell behind).
    pub window_s: f64,
    /// `applied_final` per second of `window_s`.
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
    /// Labels (node indexes, `faucet`) of the accounts that signed, round robin: every
    /// account with a key here that may write the table.
    pub signers: Vec<String>,
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
    nonces: Vec<Mutex<u64>>,
    run: u64,
    batch: usize,
}

impl Plan<'_> {
    /// Request `request`'s `count` signed writes (hex) and their ids, with parents from `from`.
    fn build(
        &self,
        request: u64,
        count: usize,
        from: &NodeEntry,
    ) -> Result<(Vec<String>, Vec<Hash>), TestnetError> {
        let parents = fetch_parents(from.api, count)?;
        let (mut txs, mut ids) = (Vec::with_capacity(count), Vec::with_capacity(count));
        let mut previous: Option<Hash> = None;
        for (slot, [first, second]) in parents.into_iter().enumerate() {
            let sequence = request * self.batch as u64 + slot as u64;
            let signer = (sequence % self.signers.len() as u64) as usize;
            let nonce = {
                let mut next = self.nonces[signer]
                    .lock()
                    .map_err(|_| TestnetError::Invalid("a nonce lock was poisoned".into()))?;
                *next += 1;
                *next - 1
            };
            let row = load_row(self.schema, self.run, sequence);
            let action = Action {
                table: self.schema.name.clone(),
                ops: vec![RowOp::Upsert { row }],
                salt: random_bytes()?,
            };
            let sealed = action
                .seal(&self.key, self.id, self.epoch)
                .map_err(|error| TestnetError::Invalid(error.to_string()))?;
            // As in `load`: each write after the first approves the one before it, so a batch
            // leaves one new tip behind.
            let parents = previous.map_or([first, second], |previous| [first, previous]);
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
            let id = Hash::of(&bytes);
            txs.push(hex::encode(&bytes));
            ids.push(id);
            previous = Some(id);
        }
        Ok((txs, ids))
    }
}

/// Offer consortium writes at `args.rate` for `args.duration`, then settle and report.
pub fn load(manifest: &Manifest, args: &DbLoadArgs) -> Result<DbLoadReport, TestnetError> {
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        return Err(crate::bad_argument("rate", "must be in (0, 100000]"));
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        return Err(crate::bad_argument("concurrency", "must be 1..=1024"));
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
    let writers = detail.writers.get(&table).cloned().unwrap_or_default();
    let mut labels = Vec::new();
    let mut signers = Vec::new();
    for label in manifest.nodes.iter().map(|node| node.index.to_string()).chain(["faucet".into()]) {
        let key = party_key(manifest, &label)?;
        if writers.contains(&key.account().to_hex()) {
            labels.push(label);
            signers.push(key);
        }
    }
    if signers.is_empty() {
        return Err(crate::db::DbCliError::NoWritePermission {
            account: "every account of this testnet".into(),
            table,
            consortium: id.to_string(),
        }
        .into());
    }
    // The highest next nonce any running node knows: a node a step behind the one that made
    // the signer's last transaction final would hand out a used nonce.
    let next_nonce = |key: &Keypair| -> Result<u64, TestnetError> {
        let mut next = account_state(first.api, &key.account())?.next_nonce;
        for node in crate::running(manifest) {
            if let Ok(state) = account_state(node.api, &key.account()) {
                next = next.max(state.next_nonce);
            }
        }
        Ok(next)
    };
    let nonces =
        signers.iter().map(|key| next_nonce(key).map(Mutex::new)).collect::<Result<Vec<_>, _>>()?;
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
        signers,
        nonces,
        run: now_ms() % (1 << 30),
        batch,
    };
    let replica_node = member_nodes(manifest, &detail).first().copied();
    let replica_rows = |node| crate::db_read::count_rows(manifest, node, &id, &table).ok();
    let replica_before = replica_node.and_then(replica_rows);

    let schedule = pacing::Schedule::new(args.rate, Duration::from_secs(args.duration), batch);
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    let samples = Mutex::new(Vec::<String>::new());
    let refuse = |count: u64, reason: String| {
        refused.fetch_add(count, Ordering::Relaxed);
        if let Ok(mut samples) = samples.lock()
            && samples.len() < 5
            && !samples.contains(&reason)
        {
            samples.push(reason);
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
                        let (txs, ids) = match plan.build(request, count, from) {
                            Ok(built) => built,
                            Err(error) => {
                                refuse(count as u64, error.to_string());
                                continue;
                            }
                        };
                        latest = latest.max(started.elapsed());
                        let submitted_ms = now_ms();
                        let body = api_types::TxBatchRequest { txs, transfers: Vec::new() };
                        match http::post::<_, api_types::TxBatchResponse>(from.api, "/txs", &body) {
                            Ok(answer) => {
                                for (result, id) in answer.results.iter().zip(ids) {
                                    match result {
                                        api_types::TxBatchItem::Accepted { .. } => {
                                            mine.push(Sent { node: from.index, id, submitted_ms })
                                        }
                                        api_types::TxBatchItem::Refused { error } => {
                                            refuse(1, error.clone())
                                        }
                                    }
                                }
                            }
                            Err(error) => refuse(count as u64, error.to_string()),
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().filter_map(|worker| worker.join().ok()).collect()
    });
    let latest = results.iter().map(|(_, latest)| *latest).max().unwrap_or_default();
    let sent: Vec<Sent> = results.into_iter().flat_map(|(sent, _)| sent).collect();
    let deadline = Instant::now() + Duration::from_secs(args.settle);
    let outcomes = settle(manifest, &sent, deadline);

    let mut latencies = Vec::new();
    let (mut applied_final, mut ignored, mut not_final) = (0u64, 0u64, 0u64);
    for (item, unit) in sent.iter().zip(&outcomes) {
        match unit {
            Some(unit) if unit.is_final && unit.outcome == Some(api_types::Outcome::Applied) => {
                applied_final += 1;
                if let Some(final_ms) = unit.times.as_ref().and_then(|times| times.final_ms) {
                    latencies.push(final_ms.saturating_sub(item.submitted_ms));
                }
            }
            Some(unit) if unit.is_final => ignored += 1,
            _ => not_final += 1,
        }
    }
    latencies.sort_unstable();
    let window = schedule.offered_window(latest).as_secs_f64().max(f64::EPSILON);
    let params: Params = GenesisFile::load(&manifest.genesis)?.to_genesis()?.params;
    let replica_after = replica_node.and_then(replica_rows);
    let report = DbLoadReport {
        consortium: id.to_string(),
        table: plan.schema.name.clone(),
        offered_per_s: args.rate,
        offered: schedule.total(),
        submitted: sent.len() as u64,
        refused: refused.load(Ordering::Relaxed),
        refusal_samples: samples.into_inner().unwrap_or_default(),
        applied_final,
        ignored,
        not_final,
        window_s: window,
        applied_final_per_s: applied_final as f64 / window,
        final_latency_ms_p50: percentile(&latencies, 0.50),
        final_latency_ms_p95: percentile(&latencies, 0.95),
        finality_target_ms: (params.finality_depth + 1) * params.target_interval_ms,
        replica_node,
        replica_rows_added: replica_before
            .zip(replica_after)
            .map(|(before, after)| after.saturating_sub(before)),
        signers: labels,
        batch,
        concurrency: args.concurrency,
    };
    Ok(report)
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
}
