//! `vein-testnet erc20-load`: ERC-20 transfers through the nodes' Ethereum JSON-RPC at a paced
//! rate, each one followed to a receipt at a final height, with the nodes' CPU per transfer
//! beside a native transfer's measured in the same run (docs/testnet.md, "ERC-20 load";
//! docs/evm.md).
//!
//! Model:
//! - Wallets: `senders` EVM keys derived from the chain id (the same on every run against one
//!   net) plus a deployer. Each is funded by the faucet with a native transfer to its account
//!   (`account_of`, [`load::fund_accounts`]); the deployer deploys the shipped ERC-20
//!   (`contracts/build/VeinToken.json`) and gives each sender a share of the supply.
//! - Transfers: transfer `t` is sender `t mod senders` paying 1 token to the next wallet (so
//!   every recipient already holds tokens, the common case), an EIP-1559 transaction at the
//!   sender's next nonce (sequential per sender, as a wallet signs them; the node's nonce hold
//!   orders them whatever way the DAG does). All are signed before the clock starts. They go
//!   out on the absolute schedule of [`pacing::Schedule`] in JSON-RPC batches of
//!   `eth_sendRawTransaction`, round robin over the running nodes.
//! - Fate: a monitor polls node 0's final height every 100 ms and records when each height
//!   became final; after sending, receipts are fetched (batched `eth_getTransactionReceipt`)
//!   until every accepted transfer has one at a final height or the settle time ends. A
//!   transfer's finality latency is the time its receipt's height was first seen final minus
//!   its first submission time (resolution: the 100 ms poll).
//! - Resends: a sender's nonces must all arrive, or its later transfers wait behind the gap
//!   (held by the nodes, and dropped when more than `HELD_AHEAD_MAX` ahead). While settling,
//!   a transfer a node refused (or whose request failed or timed out) is sent again at once,
//!   and an accepted one still without a receipt `--resend-after-s` after its last send is
//!   sent again too (its carrier may have been dropped); at most `--resends` times each, in
//!   index order (each sender's nonces in order), in batches of [`RESEND_BATCH`]. A resend a
//!   node answers "nonce too low" was already in. The report counts the first refusals, the
//!   resends, the transfers never accepted and those stranded behind a gap at the end.
//! - CPU: user + system time of every running node process (`/proc/PID/stat`), summed, over
//!   each phase (from its first send until its last transfer is final), divided by the final
//!   transfers; an idle baseline measured first is also subtracted. With `--native-rate` a
//!   native `load` phase runs first on the same net, so both costs come from one run.

use crate::breakdown::percentile;
use crate::contract::{read_artifact, send};
use crate::contract_abi::encode;
use crate::load::{LoadOptions, LoadReport, fund_accounts};
use crate::load_asset::LoadAsset;
use crate::manifest::{Manifest, NodeEntry};
use crate::pacing::Schedule;
use crate::{TestnetError, http, now_ms, running};
use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Address, Signature, TxKind, U256, keccak256};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use k256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vein_node::api_types;
use vein_node::core::evm::{GAS_PRICE_MIN_WEI, account_of};
use vein_node::core::hash::Hash;
use vein_node::core::params::CHECKPOINT_GAS_MAX;
use vein_node::genesis_file::GenesisFile;
use vein_sdk::Client;

/// Most EVM senders one run signs from.
pub const SENDERS_MAX: usize = 1_000;
/// Gas limit of one load transfer (a transfer between holders uses about 35,000).
const TRANSFER_GAS: u64 = 100_000;
/// Tokens each sender is given: far more than a run of 1-token transfers spends.
const SENDER_TOKENS: u64 = 1_000_000_000;
/// Receipts asked for in one JSON-RPC batch (the node's batch limit is 1,000).
const RECEIPT_BATCH: usize = 500;
/// How often progress is printed on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How often the final height is polled (the latency resolution).
const FINAL_POLL: Duration = Duration::from_millis(100);
/// Transfers per JSON-RPC batch when resending (the node's batch limit is 1,000).
const RESEND_BATCH: usize = 100;
/// Least time between two sends of one refused transfer.
const RESEND_BACKOFF: Duration = Duration::from_secs(1);

#[path = "erc20_resend.rs"]
mod resend;
use resend::{ResendPolicy, settle, stranded};

/// How `erc20-load` runs.
#[derive(Clone, Debug)]
pub struct Erc20LoadOptions {
    /// Offered ERC-20 transfers per second (over all nodes).
    pub rate: f64,
    /// Time spent sending.
    pub duration: Duration,
    /// Time allowed afterwards for every accepted transfer to become final.
    pub settle: Duration,
    /// EVM senders (each transfer's sender is the next one round robin).
    pub senders: usize,
    /// Requests in flight at once (client threads).
    pub concurrency: usize,
    /// Transfers per JSON-RPC batch; 0 picks one from the rate (about 200 requests/s).
    pub batch: usize,
    /// Run a native `load` phase at this rate first (same duration and settle time).
    pub native_rate: Option<f64>,
    /// Idle time measured before the phases: the nodes' CPU without load.
    pub idle: Duration,
    /// The ERC-20 artifact (`contracts/build/VeinToken.json`).
    pub artifact: PathBuf,
    /// Most times one transfer is sent again (refused, lost, or accepted and still without a
    /// receipt after `resend_after`); 0 never resends.
    pub resends: u32,
    /// How long an accepted transfer may go without a receipt before it is sent again.
    pub resend_after: Duration,
}

/// What one phase cost the nodes in CPU.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseCpu {
    /// Wall time of the phase: from its first send until its last transfer was final.
    pub wall_s: f64,
    /// User + system CPU of all running nodes over the phase, in ms.
    pub cpu_ms: f64,
    /// `cpu_ms` divided by the final transfers.
    pub cpu_ms_per_transfer: Option<f64>,
    /// The same after subtracting the idle baseline over `wall_s`.
    pub cpu_ms_per_transfer_above_idle: Option<f64>,
}

/// Results of `erc20-load`.
#[derive(Clone, Debug, Serialize)]
pub struct Erc20LoadReport {
    /// The ERC-20's address.
    pub token: String,
    /// Transfers per second asked for.
    pub offered_per_s: f64,
    /// Transfers the schedule offered: round(rate × duration).
    pub offered: u64,
    /// Transfers a node accepted (`eth_sendRawTransaction` answered a hash).
    pub submitted: u64,
    /// Transfers refused by a node or lost in transport at their first send.
    pub refused: u64,
    /// The first few refusal reasons.
    pub refusal_samples: Vec<String>,
    /// Sends beyond each transfer's first (see the module comment, "Resends").
    pub resent: u64,
    /// Transfers refused at their first send and accepted on a resend.
    pub accepted_on_resend: u64,
    /// Transfers no send got accepted (all `--resends` used, or the settle time ended).
    pub never_accepted: u64,
    /// Accepted transfers without a receipt at the end behind an earlier transfer of their
    /// sender that has none either (a nonce gap).
    pub stranded: u64,
    /// Accepted transfers with a receipt of status 1 by the end.
    pub applied: u64,
    /// Accepted transfers with a receipt of status 0 (reverted or out of gas).
    pub reverted: u64,
    /// Accepted transfers whose receipt's height was final by the end.
    pub final_count: u64,
    /// The window throughput is divided by (the schedule, or longer if the client fell behind).
    pub window_s: f64,
    /// How late the latest request went out against its due time.
    pub schedule_lag_ms_max: u64,
    /// `applied` and `final_count` divided by `window_s`.
    pub applied_per_s: f64,
    /// Final transfers per second of the window.
    pub final_per_s: f64,
    /// Finality latency: the receipt's height first seen final minus the submission time.
    pub final_latency_ms_p50: Option<u64>,
    /// 95th percentile of the finality latency.
    pub final_latency_ms_p95: Option<u64>,
    /// 99th percentile of the finality latency.
    pub final_latency_ms_p99: Option<u64>,
    /// Median gas of one transfer (from its receipt).
    pub gas_per_transfer_p50: Option<u64>,
    /// Most transfers a checkpoint could execute at that gas (`CHECKPOINT_GAS_MAX` / gas).
    pub transfers_per_checkpoint_max: Option<u64>,
    /// Most transfers executed by one checkpoint in this run.
    pub transfers_per_checkpoint_seen: u64,
    /// The genesis target interval T, finality depth k and (k + 1)·T.
    pub checkpoint_interval_ms: u64,
    /// The genesis finality depth k.
    pub finality_depth: u64,
    /// (k + 1)·T in ms.
    pub finality_target_ms: u64,
    /// Running nodes the transfers were spread over.
    pub nodes: usize,
    /// EVM senders signed from.
    pub senders: usize,
    /// Transfers per JSON-RPC batch, as used.
    pub batch: usize,
    /// The nodes' CPU per second with no load (the idle baseline), in ms.
    pub idle_cpu_ms_per_s: f64,
    /// CPU of the ERC-20 phase.
    pub erc20_cpu: PhaseCpu,
    /// The native phase's report and CPU, when `--native-rate` ran one.
    pub native: Option<NativePhase>,
    /// `/proc/loadavg` at the end: the machine's load beside the numbers.
    pub load_average: String,
}

/// The native `load` phase of the same run.
#[derive(Clone, Debug, Serialize)]
pub struct NativePhase {
    /// Its CPU.
    pub cpu: PhaseCpu,
    /// `load`'s own report.
    pub report: LoadReport,
}

/// One JSON-RPC request of a batch.
#[derive(Serialize)]
struct RpcRequest<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: Vec<Value>,
}

/// One answer of a batch.
#[derive(Deserialize)]
struct RpcAnswer {
    id: u64,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// The receipt fields the load reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    block_number: String,
    gas_used: String,
    status: String,
}

/// One pre-signed transfer.
struct Signed {
    raw: String,
    hash: String,
}

/// One accepted transfer and what became of it.
struct Sent {
    index: usize,
    /// When it was first sent (refused or not): its latency counts from here.
    submitted_ms: u64,
    /// (height, status 1, gas used) once its receipt was seen.
    receipt: Option<(u64, bool, u64)>,
    /// When it was last sent, and how many times it was sent again.
    last_sent_ms: u64,
    resends: u32,
}

/// A transfer no node has accepted yet.
struct Refused {
    index: usize,
    /// When it was first sent.
    submitted_ms: u64,
    last_sent_ms: u64,
    resends: u32,
}

/// Run `method` with each of `params` in one JSON-RPC batch; answers in request order, each a
/// result or the error's text.
fn batch(
    api: SocketAddr,
    method: &str,
    params: Vec<Vec<Value>>,
) -> Result<Vec<Result<Value, String>>, TestnetError> {
    let count = params.len();
    let requests: Vec<RpcRequest<'_>> = params
        .into_iter()
        .enumerate()
        .map(|(id, params)| RpcRequest { jsonrpc: "2.0", id: id as u64, method, params })
        .collect();
    let answers: Vec<RpcAnswer> = http::post(api, "/rpc", &requests)?;
    let mut ordered: Vec<Result<Value, String>> = vec![Err("no answer".into()); count];
    for answer in answers {
        let Some(slot) = ordered.get_mut(answer.id as usize) else { continue };
        *slot = match (answer.result, answer.error) {
            (_, Some(error)) => Err(error.to_string()),
            (Some(result), None) => Ok(result),
            (None, None) => Ok(Value::Null),
        };
    }
    Ok(ordered)
}

/// The key of EVM wallet `index` of a testnet (0: the deployer), derived from its chain id.
fn wallet_key(chain_id: &str, index: usize) -> Result<SigningKey, TestnetError> {
    let seed = Hash::of(format!("{chain_id}/erc20-load/{index}").as_bytes());
    SigningKey::from_bytes(&seed.0.into())
        .map_err(|_| TestnetError::Invalid(format!("wallet key {index} is not a valid scalar")))
}

/// `transfer(to, amount)` from `key` at `nonce`, EIP-1559 at vein's 1 gwei price.
fn signed_transfer(
    key: &SigningKey,
    chain_id: u64,
    nonce: u64,
    token: Address,
    to: Address,
    amount: u64,
) -> Result<Signed, TestnetError> {
    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(to.as_slice());
    input.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: TRANSFER_GAS,
        max_fee_per_gas: GAS_PRICE_MIN_WEI,
        max_priority_fee_per_gas: GAS_PRICE_MIN_WEI,
        to: TxKind::Call(token),
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let (signature, recovery) = key
        .sign_prehash_recoverable(tx.signature_hash().as_slice())
        .map_err(|error| TestnetError::Invalid(format!("signing: {error}")))?;
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    Ok(Signed {
        hash: format!("0x{}", hex::encode(keccak256(&raw))),
        raw: format!("0x{}", hex::encode(&raw)),
    })
}

/// User + system CPU of the running nodes, in ms (`/proc/PID/stat` fields 14 and 15, in
/// clock ticks of 10 ms: Linux's `USER_HZ` is 100).
fn nodes_cpu_ms(nodes: &[NodeEntry]) -> f64 {
    let ticks: u64 = nodes
        .iter()
        .filter_map(|node| node.pid)
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // The command name may hold spaces: fields are counted after its closing ')'.
            let rest = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .sum();
    ticks as f64 * 10.0
}

/// Polls node `api`'s final height until stopped, recording when each height was first seen
/// final (Unix ms).
struct FinalMonitor {
    seen: Arc<Mutex<BTreeMap<u64, u64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FinalMonitor {
    fn start(api: SocketAddr) -> FinalMonitor {
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut last = None;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(status) = http::get::<api_types::Status>(api, "/status") {
                        let at = now_ms();
                        let from = last.map_or(status.final_height, |last: u64| last + 1);
                        if let Ok(mut seen) = seen.lock() {
                            for height in from..=status.final_height {
                                seen.entry(height).or_insert(at);
                            }
                        }
                        last =
                            Some(last.map_or(status.final_height, |l| l.max(status.final_height)));
                    }
                    std::thread::sleep(FINAL_POLL);
                }
            })
        };
        FinalMonitor { seen, stop, thread: Some(thread) }
    }

    /// The highest final height seen, and when `height` was first seen final.
    fn final_height(&self) -> Option<u64> {
        self.seen.lock().ok()?.keys().next_back().copied()
    }

    fn final_at(&self, height: u64) -> Option<u64> {
        self.seen.lock().ok()?.get(&height).copied()
    }
}

impl Drop for FinalMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn phase_cpu(cpu_ms: f64, wall_s: f64, finals: u64, idle_ms_per_s: f64) -> PhaseCpu {
    let per = |value: f64| (finals > 0).then(|| value / finals as f64);
    PhaseCpu {
        wall_s,
        cpu_ms,
        cpu_ms_per_transfer: per(cpu_ms),
        cpu_ms_per_transfer_above_idle: per((cpu_ms - idle_ms_per_s * wall_s).max(0.0)),
    }
}

/// Deploy the ERC-20 from the deployer and give every sender its tokens; returns the token's
/// address.
fn deploy_and_distribute(
    client: &Client,
    chain_id: u64,
    artifact: &std::path::Path,
    keys: &[SigningKey],
) -> Result<Address, TestnetError> {
    let invalid = |error: &dyn std::fmt::Display| TestnetError::Invalid(error.to_string());
    let (types, mut code) = read_artifact(artifact).map_err(|e| invalid(&e))?;
    let supply = (SENDER_TOKENS * keys.len() as u64).to_string();
    let args = ["Load".to_string(), "LOAD".to_string(), supply];
    code.extend(encode(&types, &args).map_err(|e| invalid(&e))?);
    let receipt =
        send(client, &keys[0], TxKind::Create, code, 3_000_000).map_err(|e| invalid(&e))?;
    let token: Address = receipt
        .contract_address
        .as_deref()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| TestnetError::Invalid("the deployment left no contract".into()))?;
    let deployer = Address::from_private_key(&keys[0]);
    let first = client.eth_nonce(&deployer.to_string()).map_err(|e| invalid(&e))?;
    let mut hashes = Vec::new();
    for (offset, key) in keys.iter().enumerate().skip(1) {
        let to = Address::from_private_key(key);
        let nonce = first + offset as u64 - 1;
        let signed = signed_transfer(&keys[0], chain_id, nonce, token, to, SENDER_TOKENS)?;
        let raw = hex::decode(signed.raw.trim_start_matches("0x")).map_err(|e| invalid(&e))?;
        hashes.push(client.eth_send_raw_transaction(&raw).map_err(|e| invalid(&e))?);
    }
    for hash in hashes {
        let receipt =
            client.eth_wait_receipt(&hash, Duration::from_secs(120)).map_err(|e| invalid(&e))?;
        if !receipt.succeeded() {
            return Err(TestnetError::Invalid(format!("distribution {hash} reverted")));
        }
    }
    Ok(token)
}

/// What `send_all` did: the accepted transfers, the refused (or lost) ones, the first refusal
/// reasons, the latest dispatch and the worst lag behind the schedule.
struct SendOutcome {
    sent: Vec<Sent>,
    refused: Vec<Refused>,
    samples: Vec<String>,
    latest: Duration,
    lag: Duration,
}

/// Send `signed` on `schedule` in JSON-RPC batches over `nodes`, round robin.
fn send_all(
    nodes: &[NodeEntry],
    signed: &[Signed],
    schedule: &Schedule,
    batch_size: usize,
    concurrency: usize,
    duration: Duration,
) -> SendOutcome {
    let next = AtomicU64::new(0);
    let accepted = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    let samples = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let refuse = |count: u64, why: String| {
        refused.fetch_add(count, Ordering::Relaxed);
        if let Ok(mut samples) = samples.lock()
            && samples.len() < 5
        {
            samples.push(why);
        }
    };
    type Mine = (Vec<Sent>, Vec<Refused>, Duration, Duration);
    let results: Vec<Mine> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let (mut mine, mut lost, mut latest, mut lag) =
                        (Vec::new(), Vec::new(), Duration::ZERO, Duration::ZERO);
                    loop {
                        let request = next.fetch_add(1, Ordering::Relaxed);
                        let Some((due, count)) = schedule.request(request) else {
                            return (mine, lost, latest, lag);
                        };
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        let dispatched = started.elapsed();
                        latest = latest.max(dispatched);
                        lag = lag.max(dispatched.saturating_sub(due));
                        // Every request but the last is full: request i starts at i × batch.
                        let first = request as usize * batch_size;
                        let indices: Vec<usize> = (first..first + count).collect();
                        let node = &nodes[request as usize % nodes.len()];
                        let params = indices
                            .iter()
                            .map(|i| vec![Value::from(signed[*i].raw.clone())])
                            .collect();
                        let submitted_ms = now_ms();
                        let answers = batch(node.api, "eth_sendRawTransaction", params)
                            .unwrap_or_else(|error| vec![Err(error.to_string()); count]);
                        for (index, answer) in indices.into_iter().zip(answers) {
                            let last_sent_ms = submitted_ms;
                            match answer {
                                Ok(_) => {
                                    accepted.fetch_add(1, Ordering::Relaxed);
                                    mine.push(Sent {
                                        index,
                                        submitted_ms,
                                        receipt: None,
                                        last_sent_ms,
                                        resends: 0,
                                    });
                                }
                                Err(why) => {
                                    refuse(1, why);
                                    lost.push(Refused {
                                        index,
                                        submitted_ms,
                                        last_sent_ms,
                                        resends: 0,
                                    });
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        let progress = scope.spawn(|| {
            let mut printed = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if printed.elapsed() >= PROGRESS_EVERY {
                    printed = Instant::now();
                    eprintln!(
                        "[erc20-load] {:.0}/{} s: {} of {} transfers accepted, {} refused",
                        started.elapsed().as_secs_f64(),
                        duration.as_secs(),
                        accepted.load(Ordering::Relaxed),
                        schedule.total(),
                        refused.load(Ordering::Relaxed),
                    );
                }
            }
        });
        let results = workers.into_iter().filter_map(|worker| worker.join().ok()).collect();
        done.store(true, Ordering::Relaxed);
        let _ = progress.join();
        results
    });
    let latest = results.iter().map(|(_, _, latest, _)| *latest).max().unwrap_or_default();
    let lag = results.iter().map(|(_, _, _, lag)| *lag).max().unwrap_or_default();
    let (mut sent, mut lost) = (Vec::new(), Vec::new());
    for (mine, refused, _, _) in results {
        sent.extend(mine);
        lost.extend(refused);
    }
    let samples = samples.into_inner().unwrap_or_default();
    SendOutcome { sent, refused: lost, samples, latest, lag }
}

/// Wait until node 0's final height passes `height` (or `deadline`).
fn wait_final_height(monitor: &FinalMonitor, height: u64, deadline: Instant) {
    while monitor.final_height().is_none_or(|seen| seen < height) && Instant::now() < deadline {
        std::thread::sleep(FINAL_POLL);
    }
}

/// Run the idle baseline, the native phase (if asked) and the ERC-20 phase (see the module).
pub fn erc20_load(
    manifest: &Manifest,
    options: &Erc20LoadOptions,
) -> Result<Erc20LoadReport, TestnetError> {
    let rate = options.rate;
    if !(rate > 0.0 && rate <= 100_000.0) {
        return Err(TestnetError::Invalid("--rate must be in (0, 100000]".into()));
    }
    if options.senders == 0 || options.senders > SENDERS_MAX {
        return Err(TestnetError::Invalid(format!("--senders must be 1..={SENDERS_MAX}")));
    }
    if options.concurrency == 0 || options.concurrency > 1024 {
        return Err(TestnetError::Invalid("--concurrency must be 1..=1024".into()));
    }
    if options.batch > 1_000 {
        return Err(TestnetError::Invalid("--batch must be at most 1000".into()));
    }
    if options.resends > 100 {
        return Err(TestnetError::Invalid("--resends must be at most 100".into()));
    }
    let nodes: Vec<NodeEntry> = running(manifest).cloned().collect();
    let Some(first) = nodes.first() else {
        return Err(TestnetError::Invalid("no running (unpaused) node".into()));
    };
    let params = GenesisFile::load(&manifest.genesis)?.to_genesis()?.params;
    let client = Client::new(first.api);
    let chain_id = client.eth_chain_id().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let keys = (0..=options.senders)
        .map(|index| wallet_key(&manifest.chain_id, index))
        .collect::<Result<Vec<_>, _>>()?;
    let addresses: Vec<Address> = keys.iter().map(Address::from_private_key).collect();
    let accounts: Vec<_> = addresses.iter().map(account_of).collect();
    let funding_timeout = options.settle.max(Duration::from_secs(60));
    fund_accounts(manifest, first.api, &accounts, (LoadAsset::Native, funding_timeout))?;
    eprintln!("[erc20-load] deploying the ERC-20 and giving {} senders tokens", options.senders);
    let token = deploy_and_distribute(&client, chain_id, &options.artifact, &keys)?;

    let idle_started = Instant::now();
    let idle_cpu = nodes_cpu_ms(&nodes);
    std::thread::sleep(options.idle);
    let idle_cpu_ms_per_s =
        (nodes_cpu_ms(&nodes) - idle_cpu) / idle_started.elapsed().as_secs_f64().max(1e-9);

    let native = match options.native_rate {
        Some(native_rate) => {
            let load_options = LoadOptions {
                rate: native_rate,
                duration: options.duration,
                settle: options.settle,
                concurrency: options.concurrency,
                batch: 0,
                accounts: 200,
                busy_retry: Duration::from_secs(10),
                history: None,
                token: None,
                lag_max: crate::load::LAG_MAX,
            };
            let (cpu_before, started) = (nodes_cpu_ms(&nodes), Instant::now());
            let report = crate::load::load(manifest, &load_options)?;
            // The phase's wall time leaves out the funding `load` did first, if any.
            let wall_s = (started.elapsed().as_secs_f64() - report.funding_s).max(1e-9);
            let cpu = phase_cpu(
                nodes_cpu_ms(&nodes) - cpu_before,
                wall_s,
                report.final_count,
                idle_cpu_ms_per_s,
            );
            Some(NativePhase { cpu, report })
        }
        None => None,
    };

    // Pre-signed, so the client's signing is not in the measured window.
    let nonces = addresses[1..]
        .iter()
        .map(|address| client.eth_nonce(&address.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let batch_size = if options.batch == 0 {
        ((rate / 200.0).ceil() as usize).clamp(1, 500)
    } else {
        options.batch
    };
    let schedule = Schedule::new(rate, options.duration, batch_size);
    let senders = options.senders;
    let signed = (0..schedule.total() as usize)
        .map(|t| {
            let sender = t % senders;
            let to = addresses[(sender + 2) % addresses.len()];
            let nonce = nonces[sender] + (t / senders) as u64;
            signed_transfer(&keys[sender + 1], chain_id, nonce, token, to, 1)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let monitor = FinalMonitor::start(first.api);
    let (cpu_before, started) = (nodes_cpu_ms(&nodes), Instant::now());
    let SendOutcome { mut sent, refused: mut lost, samples: refusal_samples, latest, lag } =
        send_all(&nodes, &signed, &schedule, batch_size, options.concurrency, options.duration);
    let refused = lost.len() as u64;
    let policy =
        ResendPolicy { nodes: &nodes, resends: options.resends, after: options.resend_after };
    let deadline = Instant::now() + options.settle;
    let resends = settle(first.api, &signed, (&mut sent, &mut lost), &monitor, deadline, &policy);
    let top = sent.iter().filter_map(|item| item.receipt.map(|(height, _, _)| height)).max();
    if let Some(top) = top {
        // Latencies need the time the last height turned final, which settle may have seen
        // before the monitor's next poll.
        wait_final_height(&monitor, top, Instant::now() + Duration::from_secs(5));
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_ms = nodes_cpu_ms(&nodes) - cpu_before;
    let window_s = schedule.offered_window(latest).as_secs_f64();

    let (mut applied, mut reverted, mut final_count) = (0u64, 0u64, 0u64);
    let (mut latencies, mut gas) = (Vec::new(), Vec::new());
    let mut per_height: BTreeMap<u64, u64> = BTreeMap::new();
    for item in &sent {
        let Some((height, success, gas_used)) = item.receipt else { continue };
        if success {
            applied += 1
        } else {
            reverted += 1
        }
        gas.push(gas_used);
        *per_height.entry(height).or_default() += 1;
        if let Some(at) = monitor.final_at(height) {
            final_count += 1;
            latencies.push(at.saturating_sub(item.submitted_ms));
        }
    }
    drop(monitor);
    latencies.sort_unstable();
    gas.sort_unstable();
    let gas_p50 = percentile(&gas, 0.5);
    let per_s = |count: u64| count as f64 / window_s.max(1e-9);
    Ok(Erc20LoadReport {
        token: token.to_checksum(None),
        offered_per_s: rate,
        offered: schedule.total(),
        submitted: sent.len() as u64,
        refused,
        refusal_samples,
        resent: resends.resent,
        accepted_on_resend: resends.accepted_on_resend,
        never_accepted: lost.len() as u64,
        stranded: stranded(&sent, &lost, senders),
        applied,
        reverted,
        final_count,
        window_s,
        schedule_lag_ms_max: lag.as_millis() as u64,
        applied_per_s: per_s(applied),
        final_per_s: per_s(final_count),
        final_latency_ms_p50: percentile(&latencies, 0.5),
        final_latency_ms_p95: percentile(&latencies, 0.95),
        final_latency_ms_p99: percentile(&latencies, 0.99),
        gas_per_transfer_p50: gas_p50,
        transfers_per_checkpoint_max: gas_p50.filter(|g| *g > 0).map(|g| CHECKPOINT_GAS_MAX / g),
        transfers_per_checkpoint_seen: per_height.values().copied().max().unwrap_or(0),
        checkpoint_interval_ms: params.target_interval_ms,
        finality_depth: params.finality_depth,
        finality_target_ms: (params.finality_depth + 1) * params.target_interval_ms,
        nodes: nodes.len(),
        senders,
        batch: batch_size,
        idle_cpu_ms_per_s,
        erc20_cpu: phase_cpu(cpu_ms, wall_s, final_count, idle_cpu_ms_per_s),
        native,
        load_average: std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().into(),
    })
}
