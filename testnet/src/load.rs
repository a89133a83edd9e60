//! `vein-testnet load`: signed transfers from many funded accounts against a running net, paced
//! and batched per node, with every unit's fate and finality time measured (docs/testnet.md,
//! "Load"). Moved out of the crate root unchanged; the root re-exports its public names.

use crate::breakdown::percentile;
use crate::load_asset::{self, LoadAsset, TokenChoice};
use crate::load_history::{begin_history, finish_history, invoke, node_signed_op, record_answer};
use crate::manifest::{Manifest, NodeEntry};
use crate::route::{self, Outcome, Router};
use crate::*;
use std::sync::Mutex;
use vein_node::history::{HistoryReport, TransferOp};
/// Balance a load account is funded with by the faucet (500 million transfers of 1 plus fee 1).
pub const LOAD_ACCOUNT_FUNDS: u64 = 1_000_000_000;
/// Most sending accounts `load` signs from (each is funded by one faucet transfer, and the
/// faucet's own nonce window is 1,024).
pub const LOAD_ACCOUNTS_MAX: usize = 1_000;

#[path = "load_funding.rs"]
mod funding;
pub(crate) use funding::fund_accounts;
use funding::fund_load_accounts;
#[path = "load_lag.rs"]
mod lag;
pub use lag::{LAG_MAX, StoppedBehind, WaitedOn};
use lag::{Step, Waits, over_bound};

/// The key of load account `index` of a testnet: derived from its chain id, so every `load`
/// run against one net signs from the same accounts (and funds them only once).
pub fn load_key(chain_id: &str, index: usize) -> Keypair {
    Keypair::derived(&format!("{chain_id}/load"), index as u64)
}

/// How `load` offers transfers.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Offered transfers per second (over all nodes).
    pub rate: f64,
    /// Time spent sending.
    pub duration: Duration,
    /// Time allowed afterwards for every accepted transfer to become final.
    pub settle: Duration,
    /// Requests in flight at once (client threads).
    pub concurrency: usize,
    /// Transfers per request (`POST /txs`); 0 picks one from the rate (about 200 requests/s).
    pub batch: usize,
    /// Sending accounts this client signs from, round robin (funded by the faucet first); 0:
    /// each node signs its share from its own single account (bounded by its nonce window).
    pub accounts: usize,
    /// How long a request answered 503 busy is retried (every [`BUSY_RETRY_PAUSE`]) before its
    /// transfers count as refused; zero never retries.
    pub busy_retry: Duration,
    /// Record the client's history to this file (JSON lines) and check every node's ledger
    /// against it after the settle time ([`crate::history_check`]).
    pub history: Option<std::path::PathBuf>,
    /// `Some`: token transfers of this token (`--token new|ID`) instead of native ones; the
    /// load accounts are funded with it by the faucet, and the fees stay native.
    pub token: Option<TokenChoice>,
    /// How far behind its schedule the client may fall: a request more overdue than this is
    /// not sent, nor is any after it ([`LoadReport::stopped_behind`]; default [`LAG_MAX`]).
    pub lag_max: Duration,
}

/// How often `load` reports its progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A request sent later than this after it was due counts as late (`LoadReport::late_requests`).
pub const LATE: Duration = Duration::from_secs(2);

/// Pause between retries of a request a node answered busy.
pub const BUSY_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Results of `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    /// Transfers per second asked for (`LoadOptions::rate`).
    pub offered_per_s: f64,
    /// Transfers a node accepted into its pool.
    pub submitted: u64,
    /// Transfers not accepted: refused by the node (422, or 503 past the busy retry time), a
    /// failed request, or not buildable here.
    pub refused: u64,
    /// The first few refusal reasons (a node's 422 text or a transport error).
    pub refusal_samples: Vec<String>,
    /// Busy answers (503: the node's unconfirmed backlog over its bound) that were retried.
    /// A retried request goes out later than scheduled (see `schedule_lag_ms_max`); its
    /// latencies count from when it was finally submitted.
    pub busy_retries: u64,
    /// Requests sent to another running node than their round-robin one, because theirs had
    /// just failed in transport ([`Router`]: killed, paused or partitioned away).
    pub rerouted: u64,
    /// Requests that went out more than [`LATE`] after they were due: held up by busy retries,
    /// by a node that did not answer the request's parents, or by too few workers.
    pub late_requests: u64,
    /// Accepted transfers a checkpoint of the node's active chain confirmed and applied by
    /// the end of the settle time (final or not yet).
    pub applied: u64,
    /// Accepted transfers a checkpoint confirmed but ruled ignored (lost a conflict, could
    /// not pay).
    pub ignored: u64,
    /// Accepted transfers final on their node by the end of the settle time.
    pub final_count: u64,
    /// Transfers the schedule offered: round(rate × duration), each signed and sent once
    /// unless the run stopped behind (`submitted + refused + unsent`).
    pub offered: u64,
    /// Transfers never sent because the client fell more than `--lag-max-s` behind its
    /// schedule (0 unless `stopped_behind`).
    pub unsent: u64,
    /// Set when the run stopped sending early: the bound, when, and what the workers waited
    /// on. The command then exits 1 after printing the report.
    pub stopped_behind: Option<StoppedBehind>,
    /// The denominator of every `*_per_s` below: the scheduled duration, or longer if the
    /// client fell behind its schedule (until its latest request was sent, plus one request's
    /// slot). Not the time spent waiting for the last answers, nor the settle time.
    pub window_s: f64,
    /// How late the latest-sent request was against its due time (0: the client kept up).
    pub schedule_lag_ms_max: u64,
    /// From the start until the last request was answered (information only).
    pub sending_s: f64,
    /// `submitted` divided by `window_s`.
    pub submitted_per_s: f64,
    /// Transfers applied (final) by the end of the settle time, divided by `window_s`.
    pub applied_per_s: f64,
    /// `final_count` divided by `window_s`.
    pub final_per_s: f64,
    /// From the first submission until the last accepted transfer became final (node clocks).
    pub span_to_last_final_s: Option<f64>,
    /// Latencies: the accepting node's own confirmation / finality time (recorded when the
    /// event happened, not when it was polled) minus the client's submit time.
    pub confirm_latency_ms_p50: Option<u64>,
    /// 99th percentile of the confirmation latency in ms (nearest rank); `None` with none.
    pub confirm_latency_ms_p99: Option<u64>,
    /// Median finality latency in ms over the final transfers whose times the node kept.
    pub final_latency_ms_p50: Option<u64>,
    /// 99th percentile of the finality latency in ms (nearest rank).
    pub final_latency_ms_p99: Option<u64>,
    /// Final transfers whose node no longer remembered when it saw them final (a node keeps
    /// the times of its latest 600,000 transactions): left out of the latencies above.
    pub final_times_missing: u64,
    /// The genesis target interval T and finality depth k, and (k + 1)·T: a transfer waits up
    /// to one interval for the next checkpoint to include it, then k more bury that one.
    pub checkpoint_interval_ms: u64,
    /// The genesis finality depth k, in checkpoints.
    pub finality_depth: u64,
    /// (k + 1)·T in ms: the finality latency an unloaded net should show.
    pub finality_target_ms: u64,
    /// Requests in flight at once, as given.
    pub concurrency: usize,
    /// Transfers per `POST /txs` request, as used (given, or derived from the rate).
    pub batch: usize,
    /// Running, unpaused nodes the load was spread over.
    pub nodes: usize,
    /// Sending accounts signed by the client (0: the nodes signed).
    pub accounts: usize,
    /// Distinct sending accounts among the accepted transfers.
    pub accounts_used: usize,
    /// Seconds spent funding load accounts before sending (0 when all were funded already).
    pub funding_s: f64,
    /// Finality split into the chain's floor, missed checkpoints and delivery
    /// ([`breakdown`]), from the first running node's main chain; `None` if its checkpoints
    /// could not be read.
    pub finality_breakdown: Option<breakdown::Breakdown>,
    /// With `--history`: the client history checked against every running node's ledger
    /// (`violations` empty when it holds).
    pub history: Option<HistoryReport>,
    /// The business token every transfer moved (64 hex); absent for native transfers.
    pub token: Option<String>,
}

/// Why a load request could not be built.
#[derive(Debug)]
enum BuildError {
    /// The node answered 503 busy (its unconfirmed backlog is over its bound): worth a retry.
    Busy(String),
    /// The node did not answer in transport (no connection, or nothing within the HTTP
    /// timeout): the request goes elsewhere while the node is passed over ([`Router`]).
    Unreachable(String),
    Failed(String),
}

/// Run `attempt` until it is not [`BuildError::Busy`] or `budget` would be exceeded, pausing
/// `pause` between attempts and counting each retry in `retries`. Returns the last result.
fn retry_busy<T>(
    mut attempt: impl FnMut() -> Result<T, BuildError>,
    budget: Duration,
    pause: Duration,
    retries: &std::sync::atomic::AtomicU64,
) -> Result<T, BuildError> {
    let started = Instant::now();
    loop {
        match attempt() {
            Err(BuildError::Busy(_)) if started.elapsed() + pause <= budget => {
                retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(pause);
            }
            other => return other,
        }
    }
}

/// Pause before asking a node that did not answer in time again.
const STALL_RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Run `attempt` again, after `pause`, while it fails in transport (no connection, or no answer
/// within the HTTP timeout) and `deadline` has not passed; any other error, and the last one at
/// the deadline, is returned. For reads only: asking again must be harmless.
fn retry_transport<T>(
    deadline: Instant,
    pause: Duration,
    mut attempt: impl FnMut() -> Result<T, TestnetError>,
) -> Result<T, TestnetError> {
    loop {
        match attempt() {
            Err(TestnetError::Http(
                http::HttpError::Io { .. } | http::HttpError::Connect { .. },
            )) if Instant::now() + pause < deadline => {
                std::thread::sleep(pause);
            }
            other => return other,
        }
    }
}

/// `fetch_parents`' error as a [`BuildError`]: a 503 is the node's busy answer.
fn parents_error(error: TestnetError) -> BuildError {
    match error {
        TestnetError::Http(http::HttpError::Status { status: 503, .. }) => {
            BuildError::Busy(error.to_string())
        }
        TestnetError::Http(http::HttpError::Io { .. } | http::HttpError::Connect { .. }) => {
            BuildError::Unreachable(error.to_string())
        }
        error => BuildError::Failed(error.to_string()),
    }
}

/// One accepted transfer: the node that took it, its id, the sending account (a load account
/// index, or the node's index when nodes sign) and when it was submitted (Unix ms).
struct Sent {
    node: usize,
    id: Hash,
    sender: usize,
    submitted_ms: u64,
}

/// Nonces of one load account: the next fresh one, and refused ones handed back for reuse (a
/// nonce never used would hold the account's nonce floor, and so its window, back forever).
pub(crate) struct NonceBook {
    pub(crate) next: u64,
    pub(crate) returned: std::collections::BTreeSet<u64>,
}

impl NonceBook {
    pub(crate) fn take(&mut self) -> u64 {
        if let Some(nonce) = self.returned.pop_first() {
            return nonce;
        }
        self.next += 1;
        self.next - 1
    }
}

/// Why one item of a `POST /txs` answer did not count as accepted.
fn refusal(result: &api_types::TxBatchItem) -> String {
    match result {
        api_types::TxBatchItem::Refused { error } => error.clone(),
        api_types::TxBatchItem::Accepted { id } => format!("the node answered a bad id {id:?}"),
    }
}

fn parse_hash_text(text: &str) -> Option<Hash> {
    hex::decode(text).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()).map(Hash)
}

/// `count` parent pairs from node `api`'s tip selection (`GET /parents`).
pub fn fetch_parents(api: SocketAddr, count: usize) -> Result<Vec<[Hash; 2]>, TestnetError> {
    let answer: api_types::Parents = http::get(api, &format!("/parents?count={count}"))?;
    let bad = || TestnetError::Invalid(format!("{api}/parents: unexpected answer"));
    let pairs = answer
        .parents
        .iter()
        .map(|[first, second]| {
            let parse = |text: &str| parse_hash_text(text).ok_or_else(bad);
            Ok([parse(first)?, parse(second)?])
        })
        .collect::<Result<Vec<_>, TestnetError>>()?;
    if pairs.len() != count {
        return Err(bad());
    }
    Ok(pairs)
}

/// A signed transfer of `amount` of `asset` (fee 1, native) from `key`, as the hex `POST /txs`
/// takes, and its id.
fn signed_transfer(
    key: &Keypair,
    nonce: u64,
    to: AccountId,
    (asset, amount): (LoadAsset, u64),
    parents: [Hash; 2],
) -> Result<(String, Hash), TestnetError> {
    let tx = TransactionBody {
        from: key.account(),
        nonce,
        kind: asset.kind(to, amount),
        fee: 1,
        parents,
        issued_at_ms: now_ms(),
    }
    .sign(key)
    .map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    Ok((hex::encode(&bytes), Hash::of(&bytes)))
}

/// One unit's status from `POST /units` (`None`: the node does not hold it).
type UnitStatus = Option<api_types::UnitStatus>;

/// Ask each accepting node about its transfers (`POST /units`, in chunks) until all are final
/// or `deadline` passes.
fn settle(manifest: &Manifest, sent: &[Sent], deadline: Instant) -> Vec<UnitStatus> {
    const CHUNK: usize = 5_000;
    let mut outcomes: Vec<UnitStatus> = vec![None; sent.len()];
    let mut printed = Instant::now();
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
        if printed.elapsed() >= PROGRESS_EVERY {
            printed = Instant::now();
            let waiting: usize = pending.values().map(Vec::len).sum();
            eprintln!(
                "[load] settling: {} of {} accepted transfers final, {} s left",
                sent.len() - waiting,
                sent.len(),
                deadline.saturating_duration_since(Instant::now()).as_secs()
            );
        }
        for (node, indices) in pending {
            let api = manifest.nodes[node].api;
            for chunk in indices.chunks(CHUNK) {
                // A node slow to answer holds one chunk up to the HTTP timeout: the deadline
                // is kept between chunks, not only between rounds.
                if Instant::now() >= deadline {
                    return outcomes;
                }
                let ids: Vec<String> =
                    chunk.iter().map(|index| sent[*index].id.to_string()).collect();
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

/// Offer `rate` transfers per second for `duration`, then wait up to `settle` for them to
/// become final. Open loop with bounded concurrency on an absolute schedule
/// ([`pacing::Schedule`]): exactly round(rate × duration) transfers, request `i` carrying
/// transfers `i·batch ..` and due when its first one is; `concurrency` threads take requests in
/// order and send overdue ones at once, so a client that falls behind catches up (the lag is
/// reported, and widens the window throughput is divided by) instead of queueing without
/// bound or stretching the schedule. Requests go round robin over the running nodes.
///
/// With `accounts > 0` (the default of the CLI) the client signs: transfer `t` is sent from
/// load account `t mod accounts` to the next load account, with parents the receiving node's
/// tip selection chose (`GET /parents`, one pair per transfer), and the batch goes as signed
/// bytes (`POST /txs` `txs`). Many accounts keep each one's nonce window far from full. With
/// `accounts == 0` each node signs its share from its own account (`transfers`).
pub fn load(manifest: &Manifest, options: &LoadOptions) -> Result<LoadReport, TestnetError> {
    let rate = options.rate;
    if !(rate > 0.0 && rate <= 100_000.0) {
        return Err(TestnetError::Invalid("--rate must be in (0, 100000]".into()));
    }
    if options.concurrency == 0 || options.concurrency > 1024 {
        return Err(TestnetError::Invalid("--concurrency must be 1..=1024".into()));
    }
    if options.batch > 10_000 {
        return Err(TestnetError::Invalid("--batch must be at most 10000".into()));
    }
    if options.accounts > LOAD_ACCOUNTS_MAX {
        return Err(TestnetError::Invalid(format!("--accounts must be 0..={LOAD_ACCOUNTS_MAX}")));
    }
    if options.accounts == 1 {
        return Err(TestnetError::Invalid(
            "--accounts 1 cannot work: a load account pays the next one, never itself".into(),
        ));
    }
    let nodes: Vec<NodeEntry> = running(manifest).cloned().collect();
    if nodes.is_empty() {
        return Err(TestnetError::Invalid("no running (unpaused) node".into()));
    }
    let params = GenesisFile::load(&manifest.genesis)?.to_genesis()?.params;
    if options.token.is_some() && options.history.is_some() {
        // The history checker conserves native balances: token amounts would read as losses.
        return Err(bad_argument(
            "history",
            "checks native transfers only: leave out --token or --history",
        ));
    }
    let asset = load_asset::resolve(manifest, options.token, options.accounts)?;
    asset.check_faucet(manifest, nodes[0].api, options.accounts)?;
    let batch = if options.batch == 0 {
        ((rate / 200.0).ceil() as usize).clamp(1, 500)
    } else {
        options.batch
    };
    let keys: Vec<Keypair> =
        (0..options.accounts).map(|index| load_key(&manifest.chain_id, index)).collect();
    // Node-signed `transfers` (no load accounts) are privileged; signed `txs` need no token.
    let token = if keys.is_empty() { api_token::of_manifest(manifest)? } else { None };
    let token = token.as_deref();
    let funding_started = Instant::now();
    let (books, funded) = if keys.is_empty() {
        (Vec::new(), false)
    } else {
        let timeout = options.settle.max(Duration::from_secs(30));
        fund_load_accounts(manifest, nodes[0].api, &keys, (asset, timeout))?
    };
    let funding_s = if funded { funding_started.elapsed().as_secs_f64() } else { 0.0 };
    let recorder = match &options.history {
        Some(_) => Some(Mutex::new(begin_history(nodes[0].api, &keys, &books)?)),
        None => None,
    };
    let books: Vec<std::sync::Mutex<NonceBook>> = books
        .into_iter()
        .map(|state| {
            let next = state.next_nonce;
            std::sync::Mutex::new(NonceBook { next, returned: Default::default() })
        })
        .collect();
    let take_nonce = |account: usize| books[account].lock().map(|mut book| book.take()).ok();
    let give_back = |account: usize, nonce: u64| {
        if let Ok(mut book) = books[account].lock() {
            book.returned.insert(nonce);
        }
    };

    let schedule = pacing::Schedule::new(rate, options.duration, batch);
    let started = Instant::now();
    let first_ms = now_ms();
    let next = std::sync::atomic::AtomicU64::new(0);
    let router = Router::new(nodes.len(), options.concurrency, route::BACKOFF);
    let elapsed_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let refused = std::sync::atomic::AtomicU64::new(0);
    let busy_retries = std::sync::atomic::AtomicU64::new(0);
    let late = std::sync::atomic::AtomicU64::new(0);
    let accepted = std::sync::atomic::AtomicU64::new(0);
    let sending_done = std::sync::atomic::AtomicBool::new(false);
    let waits = Waits::default();
    // Set by the first worker whose next request is over the bound: (ms after the start).
    let stopped_at_ms = std::sync::OnceLock::<u64>::new();
    let unsent = std::sync::atomic::AtomicU64::new(0);
    let lag_now_ms = std::sync::atomic::AtomicU64::new(0);
    let samples = std::sync::Mutex::new(Vec::<String>::new());
    let refuse = |count: u64, reason: String| {
        refused.fetch_add(count, Ordering::Relaxed);
        if let Ok(mut samples) = samples.lock()
            && samples.len() < 5
            && !samples.contains(&reason)
        {
            samples.push(reason);
        }
    };
    // One request: the body to post and, per transfer, its sender and nonce (client-signed)
    // and what it asks for (the history's record).
    let build = |request: u64, count: usize, from: &NodeEntry| -> Result<Built, BuildError> {
        if keys.is_empty() {
            // The next node's account (a node may not pay itself); the faucet's when the net
            // has one node.
            let to = match manifest.nodes.len() {
                1 => &manifest.faucet_account,
                count => &manifest.nodes[(from.index + 1) % count].account,
            };
            let transfer = api_types::TransferRequest { to: to.clone(), amount: 1, fee: Some(1) };
            let senders = vec![(from.index, 0); count];
            let op = node_signed_op(&from.account, to).map_err(BuildError::Failed)?;
            let request =
                api_types::TxBatchRequest { txs: Vec::new(), transfers: vec![transfer; count] };
            return Ok((request, senders, vec![op; count]));
        }
        let asked = Instant::now();
        let parents = fetch_parents(from.api, count);
        waits.record(from.index, Step::Parents, asked.elapsed());
        let parents = parents.map_err(parents_error)?;
        let mut txs = Vec::with_capacity(count);
        let mut senders = Vec::with_capacity(count);
        let mut ops = Vec::with_capacity(count);
        let mut previous: Option<Hash> = None;
        for (slot, [first, second]) in parents.into_iter().enumerate() {
            let account = (request as usize * batch + slot) % keys.len();
            let Some(nonce) = take_nonce(account) else { continue };
            let to = keys[(account + 1) % keys.len()].account();
            // Each transfer after the first approves the one before it and one selected tip:
            // a batch then leaves one new tip behind, not one per transfer (all `batch` pairs
            // are drawn from the same DAG, so without the chain each batch would add `batch`
            // tips that only later transfers, or checkpoints at 8 per interval, take away).
            let parents = match previous {
                None => [first, second],
                Some(previous) => [first, previous],
            };
            match signed_transfer(&keys[account], nonce, to, (asset, 1), parents) {
                Ok((hex, id)) => {
                    txs.push(hex);
                    senders.push((account, nonce));
                    let from = keys[account].account();
                    let (nonce, signed) = (Some(nonce), Some(id));
                    ops.push(TransferOp { from, to, amount: 1, fee: 1, nonce, id: signed });
                    previous = Some(id);
                }
                Err(error) => {
                    give_back(account, nonce);
                    return Err(BuildError::Failed(error.to_string()));
                }
            }
        }
        Ok((api_types::TxBatchRequest { txs, transfers: Vec::new() }, senders, ops))
    };
    // Per worker: its accepted transfers, its latest dispatch and its largest lag (from start).
    let results: Vec<(Vec<Sent>, Duration, Duration)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..options.concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    let (mut latest, mut lag) = (Duration::ZERO, Duration::ZERO);
                    loop {
                        let request = next.fetch_add(1, Ordering::Relaxed);
                        let Some((due, count)) = schedule.request(request) else {
                            return (mine, latest, lag);
                        };
                        if stopped_at_ms.get().is_none()
                            && over_bound(started.elapsed(), due, options.lag_max)
                        {
                            let _ = stopped_at_ms.set(elapsed_ms());
                        }
                        if stopped_at_ms.get().is_some() {
                            unsent.fetch_add(count as u64, Ordering::Relaxed);
                            continue;
                        }
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        let node = router.start(request, elapsed_ms());
                        let from = &nodes[node];
                        let built = retry_busy(
                            || build(request, count, from),
                            options.busy_retry,
                            BUSY_RETRY_PAUSE,
                            &busy_retries,
                        );
                        let (body, senders, ops) = match built {
                            Ok(built) => built,
                            Err(BuildError::Unreachable(error)) => {
                                router.finish(node, elapsed_ms(), Outcome::Unreachable);
                                refuse(count as u64, error);
                                continue;
                            }
                            Err(BuildError::Busy(error) | BuildError::Failed(error)) => {
                                router.finish(node, elapsed_ms(), Outcome::Answered);
                                refuse(count as u64, error);
                                continue;
                            }
                        };
                        // When it goes out, after any busy retries: a retried request widens
                        // the window like any other late one.
                        let dispatched = started.elapsed();
                        latest = latest.max(dispatched);
                        lag = lag.max(dispatched.saturating_sub(due));
                        let behind = dispatched.saturating_sub(due).as_millis() as u64;
                        lag_now_ms.store(behind, Ordering::Relaxed);
                        if dispatched.saturating_sub(due) > LATE {
                            late.fetch_add(1, Ordering::Relaxed);
                        }
                        let submitted_ms = now_ms();
                        let invoked = invoke(&recorder, from.index, submitted_ms, ops);
                        let asked = Instant::now();
                        let answer: Result<api_types::TxBatchResponse, _> =
                            http::post_authorized(from.api, "/txs", &body, token);
                        waits.record(from.index, Step::Txs, asked.elapsed());
                        record_answer(&recorder, &invoked, &answer);
                        let outcome = match &answer {
                            Err(http::HttpError::Io { .. } | http::HttpError::Connect { .. }) => {
                                Outcome::Unreachable
                            }
                            _ => Outcome::Answered,
                        };
                        router.finish(node, elapsed_ms(), outcome);
                        match answer {
                            Ok(answer) => {
                                for (result, (sender, nonce)) in
                                    answer.results.into_iter().zip(senders)
                                {
                                    let id = match &result {
                                        api_types::TxBatchItem::Accepted { id } => {
                                            parse_hash_text(id)
                                        }
                                        api_types::TxBatchItem::Refused { .. } => None,
                                    };
                                    match id {
                                        Some(id) => {
                                            accepted.fetch_add(1, Ordering::Relaxed);
                                            mine.push(Sent {
                                                node: from.index,
                                                id,
                                                sender,
                                                submitted_ms,
                                            });
                                        }
                                        None => {
                                            if !keys.is_empty() {
                                                give_back(sender, nonce);
                                            }
                                            refuse(1, refusal(&result));
                                        }
                                    }
                                }
                            }
                            // The node may have taken some of them: their nonces are not reused.
                            Err(error) => refuse(senders.len() as u64, error.to_string()),
                        }
                    }
                })
            })
            .collect();
        // Progress on stderr (stdout carries only the report): a long run says where it is.
        let progress = scope.spawn(|| {
            let mut printed = Instant::now();
            while !sending_done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if printed.elapsed() >= PROGRESS_EVERY {
                    printed = Instant::now();
                    eprintln!(
                        "[load] {:.0}/{} s: {} of {} transfers accepted, {} refused, {} busy \
                         retries, {} rerouted, {:.1} s behind schedule (bound {} s)",
                        started.elapsed().as_secs_f64(),
                        options.duration.as_secs(),
                        accepted.load(Ordering::Relaxed),
                        schedule.total(),
                        refused.load(Ordering::Relaxed),
                        busy_retries.load(Ordering::Relaxed),
                        router.rerouted(),
                        lag_now_ms.load(Ordering::Relaxed) as f64 / 1000.0,
                        options.lag_max.as_secs(),
                    );
                }
            }
        });
        let results = workers.into_iter().filter_map(|worker| worker.join().ok()).collect();
        sending_done.store(true, Ordering::Relaxed);
        let _ = progress.join();
        results
    });
    let sending_s = started.elapsed().as_secs_f64();
    let latest = results.iter().map(|(_, latest, _)| *latest).max().unwrap_or_default();
    let lag = results.iter().map(|(_, _, lag)| *lag).max().unwrap_or_default();
    let sent: Vec<Sent> = results.into_iter().flat_map(|(mine, _, _)| mine).collect();
    let window_s = schedule.offered_window(latest).as_secs_f64();
    let unsent = unsent.into_inner();
    let stopped_behind = stopped_at_ms.get().map(|at_ms| StoppedBehind {
        lag_max_s: options.lag_max.as_secs(),
        at_s: *at_ms as f64 / 1000.0,
        unsent,
        waited_on: waits.longest_first(&nodes),
    });
    if let Some(stopped) = &stopped_behind {
        eprintln!(
            "[load] stopped sending at {:.0} s, over {} s behind schedule: {} transfers unsent; \
             settling the {} accepted",
            stopped.at_s,
            stopped.lag_max_s,
            unsent,
            sent.len()
        );
    }

    let outcomes = settle(manifest, &sent, Instant::now() + options.settle);
    let history = match (recorder, &options.history) {
        (Some(recorder), Some(path)) => {
            let mut recorder = recorder.into_inner().unwrap_or_else(|e| e.into_inner());
            let seen = outcomes
                .iter()
                .zip(&sent)
                .filter_map(|(unit, item)| unit.as_ref().map(|unit| (item.node, item.id, unit)));
            Some(finish_history(manifest, &mut recorder, seen, path)?)
        }
        _ => None,
    };
    let mut confirm = Vec::new();
    let mut finals = Vec::new();
    let (mut applied, mut ignored, mut final_count, mut final_times_missing) = (0, 0, 0, 0u64);
    let mut last_final_ms = None;
    let mut final_transfers = Vec::new();
    for (unit, item) in outcomes.iter().zip(&sent) {
        let Some(unit) = unit else { continue };
        match unit.outcome {
            Some(api_types::Outcome::Applied) => applied += 1,
            Some(api_types::Outcome::Ignored) => ignored += 1,
            None => {}
        }
        let times = unit.times.unwrap_or_default();
        if let Some(at) = times.confirmed_ms {
            confirm.push(at.saturating_sub(item.submitted_ms));
        }
        if unit.is_final {
            final_count += 1;
            if let Some(at) = times.final_ms {
                finals.push(at.saturating_sub(item.submitted_ms));
                last_final_ms = last_final_ms.max(Some(at));
                if let Some(height) = unit.confirmed_height {
                    final_transfers.push(breakdown::FinalTransfer {
                        submitted_ms: item.submitted_ms,
                        confirmed_height: height,
                        final_ms: at,
                    });
                }
            } else {
                final_times_missing += 1;
            }
        }
    }
    confirm.sort_unstable();
    finals.sort_unstable();
    let accounts_used =
        sent.iter().map(|item| item.sender).collect::<std::collections::BTreeSet<_>>().len();
    let per_s = |count: u64| count as f64 / window_s.max(1e-9);
    let finality_breakdown = main_chain_timestamps(nodes[0].api).ok().map(|timestamps| {
        breakdown::breakdown(&timestamps, params.finality_depth, &final_transfers)
    });
    Ok(LoadReport {
        offered_per_s: rate,
        submitted: sent.len() as u64,
        refused: refused.into_inner(),
        refusal_samples: samples.into_inner().unwrap_or_default(),
        busy_retries: busy_retries.into_inner(),
        rerouted: router.rerouted(),
        late_requests: late.into_inner(),
        applied,
        ignored,
        final_count,
        offered: schedule.total(),
        unsent,
        stopped_behind,
        window_s,
        schedule_lag_ms_max: lag.as_millis() as u64,
        sending_s,
        submitted_per_s: per_s(sent.len() as u64),
        applied_per_s: per_s(applied),
        final_per_s: per_s(final_count),
        span_to_last_final_s: last_final_ms
            .map(|last| last.saturating_sub(first_ms) as f64 / 1000.0),
        confirm_latency_ms_p50: percentile(&confirm, 0.5),
        confirm_latency_ms_p99: percentile(&confirm, 0.99),
        final_latency_ms_p50: percentile(&finals, 0.5),
        final_latency_ms_p99: percentile(&finals, 0.99),
        final_times_missing,
        checkpoint_interval_ms: params.target_interval_ms,
        finality_depth: params.finality_depth,
        finality_target_ms: (params.finality_depth + 1) * params.target_interval_ms,
        concurrency: options.concurrency,
        batch,
        nodes: nodes.len(),
        accounts: options.accounts,
        accounts_used,
        funding_s,
        finality_breakdown,
        history,
        token: asset.token_text(),
    })
}

/// One built request: its body, each transfer's sender and nonce, and each one's history op.
type Built = (api_types::TxBatchRequest, Vec<(usize, u64)>, Vec<TransferOp>);

/// Timestamps by height of the last 1,000 checkpoints of node `api`'s main chain.
fn main_chain_timestamps(api: SocketAddr) -> Result<BTreeMap<u64, u64>, TestnetError> {
    let answer: api_types::Checkpoints = http::get(api, "/checkpoints?limit=1000")?;
    Ok(answer.checkpoints.iter().map(|row| (row.height, row.timestamp_ms)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_answers_are_retried_within_the_budget_and_nothing_else_is() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let pause = Duration::from_millis(1);
        let long = Duration::from_secs(60);
        let busy = || BuildError::Busy("busy".into());
        // Busy twice, then an answer: two retries, the answer returned.
        let retries = AtomicU64::new(0);
        let mut answers = vec![Ok(7), Err(busy()), Err(busy())];
        let result = retry_busy(|| answers.pop().unwrap(), long, pause, &retries);
        assert!(matches!(result, Ok(7)));
        assert_eq!(retries.load(Ordering::Relaxed), 2);
        // Another failure is returned at once.
        let retries = AtomicU64::new(0);
        let failed = || Err::<u8, _>(BuildError::Failed("failed".into()));
        assert!(matches!(retry_busy(failed, long, pause, &retries), Err(BuildError::Failed(_))));
        assert_eq!(retries.load(Ordering::Relaxed), 0);
        // No budget: busy is returned at once (the old behaviour, `--busy-retry-s 0`).
        let always_busy = || Err::<u8, _>(busy());
        let result = retry_busy(always_busy, Duration::ZERO, pause, &retries);
        assert!(matches!(result, Err(BuildError::Busy(_))));
        assert_eq!(retries.load(Ordering::Relaxed), 0);
        // A budget runs out: busy returned after a bounded number of retries.
        let result = retry_busy(always_busy, Duration::from_millis(20), pause, &retries);
        assert!(matches!(result, Err(BuildError::Busy(_))));
        let spent = retries.load(Ordering::Relaxed);
        assert!((1..=20).contains(&spent), "{spent} retries");
    }

    #[test]
    fn transport_failures_are_asked_again_until_the_deadline_and_nothing_else_is() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let stalled = || {
            Err::<u8, _>(TestnetError::Http(http::HttpError::Io {
                addr,
                source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
            }))
        };
        let pause = Duration::from_millis(1);
        let later = Instant::now() + Duration::from_secs(60);
        // Stalled twice, then an answer.
        let mut attempts = 0;
        let result = retry_transport(later, pause, || {
            attempts += 1;
            if attempts < 3 { stalled() } else { Ok(7) }
        });
        assert!(matches!(result, Ok(7)));
        assert_eq!(attempts, 3);
        // A refusal is returned at once.
        let mut attempts = 0;
        let result = retry_transport(later, pause, || {
            attempts += 1;
            Err::<u8, _>(TestnetError::Http(http::HttpError::Status {
                addr,
                path: "/balance".into(),
                status: 404,
                body: "unknown".into(),
            }))
        });
        assert!(matches!(result, Err(TestnetError::Http(http::HttpError::Status { .. }))));
        assert_eq!(attempts, 1);
        // Past the deadline the stall is the answer.
        let result = retry_transport(Instant::now(), pause, stalled);
        assert!(matches!(result, Err(TestnetError::Http(http::HttpError::Io { .. }))));
    }

    #[test]
    fn a_503_from_parents_is_busy_and_other_errors_are_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            for status in ["503 Service Unavailable", "500 Internal Server Error"] {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).unwrap();
                let body = r#"{"error":"busy: 30050 unconfirmed units (over 30000); retry later"}"#;
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        let busy = parents_error(fetch_parents(addr, 1).unwrap_err());
        assert!(matches!(&busy, BuildError::Busy(text) if text.contains("503")), "{busy:?}");
        let failed = parents_error(fetch_parents(addr, 1).unwrap_err());
        assert!(matches!(failed, BuildError::Failed(_)), "{failed:?}");
        server.join().unwrap();
        // Nobody listens any more: the node is unreachable, and the request goes elsewhere.
        let gone = parents_error(fetch_parents(addr, 1).unwrap_err());
        assert!(matches!(gone, BuildError::Unreachable(_)), "{gone:?}");
    }
}
