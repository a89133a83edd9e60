//! vein-testnet: launch, fault and inspect a local testnet of real `vein-node` processes.
//!
//! Model: one directory holds the whole net (genesis, keys, plots, data, logs) and a manifest,
//! `testnet.json` ([`manifest`]). Every command is a short-lived process that reads the
//! manifest, acts on the node processes (signals) or their HTTP APIs ([`http`]), and writes the
//! manifest back. Nodes run detached in their own process groups, so they outlive the command
//! that started them; `down` stops them. Faults are injected through each node's
//! `/control/*` routes (a filtering wrapper around its TCP transport), so nothing needs root.

#![warn(missing_docs)]
// The CLI may read the wall clock: genesis time, key labels, deadlines and load timing. None of
// it feeds the sans-IO core.
#![allow(clippy::disallowed_methods)]

pub mod api_token;
pub mod attacker;
pub mod breakdown;
pub mod contract;
pub mod contract_abi;
pub mod corrupt;
pub mod db;
pub mod db_error;
pub mod db_load;
pub mod db_read;
pub mod db_store;
pub mod db_syntax;
pub mod db_writers;
pub mod erc20_load;
mod error;
pub mod faults;
pub mod fl;
pub use vein_sdk::http;
pub mod history_check;
pub mod load;
pub mod load_asset;
mod load_history;
pub mod logs;
pub mod manifest;
pub mod pacing;
pub mod peg;
mod ports;
pub mod relay;
pub mod route;
pub mod scenario_family;
pub mod scenario_observe;
pub mod scenario_run;
pub mod side;
pub mod storage;
pub mod token;

pub use error::TestnetError;
pub(crate) use error::{bad_argument, io};
pub use faults::{
    FAULT_DELAY_MS_MAX, LinkFaultKind, fault, heal, link_fault, parse_partition, partition,
    paused_nodes,
};
pub use load::{
    BUSY_RETRY_PAUSE, LOAD_ACCOUNT_FUNDS, LOAD_ACCOUNTS_MAX, LoadOptions, LoadReport,
    fetch_parents, load, load_key,
};
pub(crate) use logs::log_tail;
pub use logs::{follow_logs, logs};

use attacker::{AttackerSpec, policy_of};
use manifest::{MANIFEST_VERSION, Manifest, NodeEntry};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vein_node::api_types;
use vein_node::core::consortium::attestation_key;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::node::Policy;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::PocMode;
use vein_node::core::poc::retarget::initial_base_target;
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::genesis_file::GenesisFile;
use vein_node::plotter::{PlotOptions, PlotSpec, write_plot};

/// Balance of every node account and of the faucet in genesis.
pub const GENESIS_BALANCE: u64 = 1_000_000_000_000;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// How to build a new testnet.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// Directory of the whole net; created if missing, refused if it already holds a manifest.
    pub dir: PathBuf,
    /// Number of nodes, 1..=64; each gets its own key, plot, ports and genesis allocation.
    pub nodes: usize,
    /// Nonces per node plot (256 KiB each).
    pub nonces: u64,
    /// Target time between checkpoints in ms (genesis `Params::target_interval_ms`); at least 1.
    pub target_interval_ms: u64,
    /// Finality depth k in checkpoints (genesis `Params::finality_depth`); at least 1.
    pub finality_depth: u64,
    /// Label keys are derived from; random when `None`.
    pub label: Option<String>,
    /// The `vein-node` binary; `None` looks next to the running executable
    /// ([`find_node_bin`]).
    pub node_bin: Option<PathBuf>,
    /// How long `up` waits for each node's `/ready` before it fails and stops the net.
    pub ready_timeout: Duration,
    /// Nodes that run an attacker policy (`--attacker NODE=POLICY`); the rest are honest.
    pub attackers: Vec<AttackerSpec>,
    /// Nonces of each attacker's plot (`None`: `nonces`, like the honest nodes): an attacker's
    /// share of the space is `attacker_nonces / total`.
    pub attacker_nonces: Option<u64>,
}

impl UpOptions {
    /// Nonces of node `index`'s plot.
    fn nonces_of(&self, index: usize) -> u64 {
        match (self.attacker_nonces, policy_of(&self.attackers, index)) {
            (Some(nonces), policy) if policy != Policy::Honest => nonces,
            _ => self.nonces,
        }
    }
}

/// The `vein-node` binary: `--node-bin`, else next to the running executable (cargo puts both
/// in `target/<profile>/`; integration tests run from `target/<profile>/deps/`).
pub fn find_node_bin(explicit: Option<&Path>) -> Result<PathBuf, TestnetError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(TestnetError::NodeBinary { path: path.to_path_buf() })
        };
    }
    let exe = std::env::current_exe().map_err(io("locating", Path::new("current executable")))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let candidates = [dir.join("vein-node"), dir.join("../vein-node")];
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| TestnetError::NodeBinary { path: dir.join("vein-node") })
}

fn write_key(path: &Path, key: &Keypair) -> Result<(), TestnetError> {
    std::fs::write(path, hex::encode(key.seed())).map_err(io("writing", path))
}

/// The genesis of a new testnet, before any file exists: every argument `up` takes is checked
/// here, so that a bad one is refused before plotting or creating anything. `timestamp_ms` is
/// set again after plotting.
fn plan_genesis(
    options: &UpOptions,
    chain_id: &str,
    accounts: Vec<AccountId>,
    storage_nodes: Vec<AccountId>,
    consensus: Option<&Params>,
) -> Result<Genesis, TestnetError> {
    if options.nodes == 0 || options.nodes > 64 {
        return Err(bad_argument("nodes", "must be 1..=64"));
    }
    if options.nonces == 0 || options.attacker_nonces == Some(0) {
        return Err(bad_argument("nonces", "must be at least 1"));
    }
    if let Some(spec) = options.attackers.iter().find(|spec| spec.node >= options.nodes) {
        let reason = format!("names node {}, and the net has {} nodes", spec.node, options.nodes);
        return Err(bad_argument("attacker", reason));
    }
    if options.target_interval_ms == 0 {
        return Err(bad_argument("interval-ms", "must be at least 1"));
    }
    if options.finality_depth == 0 {
        // Final at depth 0 would call the head final: any fork would revert "final" history.
        return Err(bad_argument("k", "(finality depth) must be at least 1"));
    }
    let base = consensus.cloned().unwrap_or_default();
    let params = Params {
        target_interval_ms: options.target_interval_ms,
        finality_depth: options.finality_depth,
        reorg_limit: base.reorg_limit.max(options.finality_depth),
        storage_nodes: Some(storage_nodes),
        ..base
    };
    let total_nonces = (0..options.nodes)
        .try_fold(0u64, |total, index| total.checked_add(options.nonces_of(index)))
        .ok_or_else(|| bad_argument("nonces", "is too large for this many nodes"))?;
    let genesis = Genesis {
        chain_id: chain_id.to_string(),
        timestamp_ms: now_ms(),
        allocations: accounts.into_iter().map(|account| (account, GENESIS_BALANCE)).collect(),
        initial_base_target: initial_base_target(total_nonces, options.target_interval_ms),
        poc: PocMode::Real,
        params,
    };
    genesis.validate().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    Ok(genesis)
}

/// Generate keys, genesis and plots, start every node and wait until all are ready. Every
/// argument is checked before anything is written; a failure while preparing removes the
/// directory again if `up` created it.
pub fn up(options: &UpOptions) -> Result<Manifest, TestnetError> {
    up_with_consensus(options, None)
}

/// As [`up`], with the genesis' consensus parameters taken from `consensus` (a scenario's,
/// `vein-testnet scenario`) but for what `options` sets: the interval, the finality depth and
/// the storage node set; its reorganisation limit is kept if deeper than the finality depth.
pub fn up_with_consensus(
    options: &UpOptions,
    consensus: Option<&Params>,
) -> Result<Manifest, TestnetError> {
    let label = options.label.clone().unwrap_or_else(|| {
        let seed = Hash::of_parts(&[&now_ms().to_le_bytes(), &std::process::id().to_le_bytes()]);
        seed.short()
    });
    let chain_id = format!("vein-testnet-{label}");
    let keys: Vec<Keypair> =
        (0..options.nodes.min(64) as u64).map(|index| Keypair::derived(&chain_id, index)).collect();
    let faucet = Keypair::derived(&chain_id, u64::MAX);
    let node_accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    let mut accounts = node_accounts.clone();
    accounts.push(faucet.account());
    // Each node's attestation account pays its consortium attestations' fees.
    accounts.extend(keys.iter().map(|key| attestation_key(key).account()));
    // Only the nodes keep shards: the faucet and the attestation accounts run none.
    let genesis = plan_genesis(options, &chain_id, accounts, node_accounts, consensus)?;
    let dir = &options.dir;
    if Manifest::path(dir).exists() {
        return Err(TestnetError::Exists { dir: dir.clone() });
    }
    let node_bin = find_node_bin(options.node_bin.as_deref())?;
    let created = !dir.exists();
    let prepared = prepare(options, genesis, &keys, &faucet, node_bin);
    if prepared.is_err() && created {
        // Nothing runs yet: leave no half-made testnet behind (it would block the next `up`).
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut manifest = prepared?;
    if let Err(error) = start_all(&mut manifest, options.ready_timeout) {
        // Leave nothing half-running behind a failed `up`; the logs stay for diagnosis.
        let _ = down(&mut manifest, false);
        return Err(error);
    }
    Ok(manifest)
}

/// Write keys, token, plots, genesis and the manifest of a planned testnet.
fn prepare(
    options: &UpOptions,
    mut genesis: Genesis,
    keys: &[Keypair],
    faucet: &Keypair,
    node_bin: PathBuf,
) -> Result<Manifest, TestnetError> {
    let dir = &options.dir;
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let dir = dir.canonicalize().map_err(io("resolving", dir))?;
    let faucet_key = dir.join("faucet.key");
    write_key(&faucet_key, faucet)?;
    let api_token = api_token::create(&dir)?;

    let ports = ports::free_ports(2 * options.nodes)?;
    let mut nodes = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let node_dir = dir.join(format!("node{index}"));
        let plots = node_dir.join("plots");
        std::fs::create_dir_all(&plots).map_err(io("creating", &plots))?;
        let key_path = node_dir.join("key.hex");
        write_key(&key_path, key)?;
        let nonces = options.nonces_of(index);
        let policy = policy_of(&options.attackers, index);
        let spec = PlotSpec { account: key.account(), start_nonce: 0, nonce_count: nonces };
        eprintln!("plotting node {index}: {nonces} nonces (policy {policy})");
        write_plot(&plots, &spec, &PlotOptions::default(), |_| {})?;
        nodes.push(NodeEntry {
            index,
            account: key.account().to_hex(),
            listen: SocketAddr::from(([127, 0, 0, 1], ports[2 * index])),
            api: SocketAddr::from(([127, 0, 0, 1], ports[2 * index + 1])),
            data: node_dir.join("data"),
            log: node_dir.join("node.log"),
            key: key_path,
            plots,
            dir: node_dir,
            pid: None,
            paused: false,
            policy: (policy != Policy::Honest).then(|| policy.to_string()),
        });
    }
    // Set after plotting so that the first round starts now, not minutes ago.
    genesis.timestamp_ms = now_ms();
    let genesis_path = dir.join("genesis.json");
    GenesisFile::from_genesis(&genesis).save(&genesis_path)?;

    let manifest = Manifest {
        version: MANIFEST_VERSION,
        chain_id: genesis.chain_id.clone(),
        dir: dir.clone(),
        genesis: genesis_path,
        node_bin,
        faucet_account: faucet.account().to_hex(),
        faucet_key,
        api_token: Some(api_token),
        nodes,
        side: None,
    };
    manifest.save()?;
    Ok(manifest)
}

fn start_all(manifest: &mut Manifest, timeout: Duration) -> Result<(), TestnetError> {
    for index in 0..manifest.nodes.len() {
        let pid = spawn_node(manifest, index)?;
        manifest.nodes[index].pid = Some(pid);
        manifest.save()?;
    }
    for index in 0..manifest.nodes.len() {
        wait_ready(manifest, index, timeout)?;
    }
    Ok(())
}

pub(crate) fn node_entry(manifest: &Manifest, index: usize) -> Result<&NodeEntry, TestnetError> {
    manifest
        .nodes
        .get(index)
        .ok_or(TestnetError::UnknownNode { index, count: manifest.nodes.len() })
}

/// Start node `index` (detached, logging to its log file) and return its pid.
fn spawn_node(manifest: &Manifest, index: usize) -> Result<u32, TestnetError> {
    let node = node_entry(manifest, index)?;
    for addr in [node.listen, node.api] {
        if TcpListener::bind(addr).is_err() {
            return Err(TestnetError::PortInUse { index, port: addr.port() });
        }
    }
    let peers: Vec<String> = manifest
        .nodes
        .iter()
        .filter(|other| other.index != index)
        .map(|other| other.listen.to_string())
        .collect();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)
        .map_err(io("opening", &node.log))?;
    let log_err = log.try_clone().map_err(io("opening", &node.log))?;
    let mut command = Command::new(&manifest.node_bin);
    command
        .arg("run")
        .arg("--genesis")
        .arg(&manifest.genesis)
        .arg("--key")
        .arg(&node.key)
        .arg("--listen")
        .arg(node.listen.to_string())
        .arg("--api")
        .arg(node.api.to_string())
        .arg("--data")
        .arg(&node.data)
        .arg("--plots")
        .arg(&node.plots)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own process group: a Ctrl-C in the terminal that ran `up` must not kill the net.
        .process_group(0);
    if !peers.is_empty() {
        command.arg("--peers").arg(peers.join(","));
    }
    if let Some(policy) = &node.policy {
        command.arg("--policy").arg(policy);
    }
    // The node takes the token from the file only: one inherited from the caller's shell
    // would make it refuse to start (a token given twice).
    command.env_remove(vein_node::api::TOKEN_ENV);
    if let Some(token) = &manifest.api_token {
        command.arg("--api-token-file").arg(token);
    }
    let child = command.spawn().map_err(io("starting", &manifest.node_bin))?;
    Ok(child.id())
}

/// Poll `/ready` until it answers, the process dies, or `timeout` passes.
pub fn wait_ready(
    manifest: &Manifest,
    index: usize,
    timeout: Duration,
) -> Result<(), TestnetError> {
    let node = node_entry(manifest, index)?;
    let started = Instant::now();
    loop {
        if http::request(node.api, "GET", "/ready", None, Duration::from_secs(2))
            .is_ok_and(|(status, _)| status == 200)
        {
            return Ok(());
        }
        if !node.pid.is_some_and(|pid| is_alive(pid, node)) {
            return Err(TestnetError::Exited { index, log_tail: log_tail(&node.log, 20) });
        }
        if started.elapsed() >= timeout {
            return Err(TestnetError::NotReady {
                index,
                seconds: timeout.as_secs(),
                log: node.log.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `pid` is a live (not zombie) `vein-node` process of this node. Checking the command
/// line guards against a recycled pid: we only ever signal processes we started.
pub fn is_alive(pid: u32, node: &NodeEntry) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The state follows the parenthesised command name.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if cmdline.is_empty() {
        // A process in the middle of exec: `spawn` returns once the child has released the
        // parent's memory, but the kernel sets the new image's argument area a little later,
        // and until then cmdline reads empty. On a loaded machine `up` saw that window and
        // reported a healthy node as "exited during start-up" with an empty log. The new
        // executable is already in place then, so judge by it.
        return std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|exe| exe.to_string_lossy().contains("vein-node"));
    }
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains("vein-node") && cmdline.contains(&*node.key.to_string_lossy())
}

fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
}

/// Stop node `index`: SIGKILL (a crash) or SIGTERM then SIGKILL after 10 s (graceful).
pub fn kill(manifest: &mut Manifest, index: usize, graceful: bool) -> Result<(), TestnetError> {
    let node = node_entry(manifest, index)?.clone();
    let pid =
        node.pid.filter(|pid| is_alive(*pid, &node)).ok_or(TestnetError::NotRunning { index })?;
    if graceful {
        signal(pid, nix::sys::signal::Signal::SIGTERM);
        if node.paused {
            // A stopped process handles SIGTERM only once continued.
            signal(pid, nix::sys::signal::Signal::SIGCONT);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while is_alive(pid, &node) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    if is_alive(pid, &node) {
        signal(pid, nix::sys::signal::Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_alive(pid, &node) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    manifest.nodes[index].pid = None;
    manifest.nodes[index].paused = false;
    manifest.save()?;
    Ok(())
}

/// Freeze node `index` with SIGSTOP: its process stays, but it neither sends nor answers
/// anything (a hung machine, not a crash). Its peers see silence; `resume` continues it.
pub fn pause(manifest: &mut Manifest, index: usize) -> Result<(), TestnetError> {
    let node = node_entry(manifest, index)?.clone();
    let pid =
        node.pid.filter(|pid| is_alive(*pid, &node)).ok_or(TestnetError::NotRunning { index })?;
    if node.paused {
        return Err(TestnetError::Paused { index });
    }
    signal(pid, nix::sys::signal::Signal::SIGSTOP);
    // SIGSTOP is asynchronous: report success only once the kernel shows it stopped.
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_state(pid) != Some('T') {
        if Instant::now() >= deadline {
            return Err(TestnetError::Invalid(format!("node {index} (pid {pid}) did not stop")));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    manifest.nodes[index].paused = true;
    manifest.save()?;
    Ok(())
}

/// Continue node `index` after `pause` (SIGCONT) and wait until its API answers again.
pub fn resume(
    manifest: &mut Manifest,
    index: usize,
    timeout: Duration,
) -> Result<(), TestnetError> {
    let node = node_entry(manifest, index)?.clone();
    let pid =
        node.pid.filter(|pid| is_alive(*pid, &node)).ok_or(TestnetError::NotRunning { index })?;
    if !node.paused {
        return Err(TestnetError::NotPaused { index });
    }
    signal(pid, nix::sys::signal::Signal::SIGCONT);
    manifest.nodes[index].paused = false;
    manifest.save()?;
    wait_ready(manifest, index, timeout)
}

/// The one-letter state of `pid` from `/proc/PID/stat` (R, S, T, Z, ...).
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().next()?.chars().next()
}

/// Start node `index` again with the same ports and data directory.
pub fn restart(
    manifest: &mut Manifest,
    index: usize,
    timeout: Duration,
) -> Result<(), TestnetError> {
    let node = node_entry(manifest, index)?.clone();
    if let Some(pid) = node.pid.filter(|pid| is_alive(*pid, &node)) {
        return Err(TestnetError::AlreadyRunning { index, pid });
    }
    let pid = spawn_node(manifest, index)?;
    manifest.nodes[index].pid = Some(pid);
    manifest.nodes[index].paused = false;
    manifest.save()?;
    wait_ready(manifest, index, timeout)
}

/// Stop every node (gracefully); logs and data stay unless `purge`.
pub fn down(manifest: &mut Manifest, purge: bool) -> Result<usize, TestnetError> {
    // The side chain and its relayer first: they live inside this net's directory.
    let (side_stopped, _) = side::down(manifest)?;
    let running: Vec<(usize, u32)> = manifest
        .nodes
        .iter()
        .filter_map(|node| node.pid.filter(|pid| is_alive(*pid, node)).map(|pid| (node.index, pid)))
        .collect();
    for (index, pid) in &running {
        signal(*pid, nix::sys::signal::Signal::SIGTERM);
        if manifest.nodes[*index].paused {
            // A stopped process handles SIGTERM only once continued.
            signal(*pid, nix::sys::signal::Signal::SIGCONT);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for (index, pid) in &running {
        let node = &manifest.nodes[*index];
        while is_alive(*pid, node) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if is_alive(*pid, node) {
            signal(*pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
    for node in &mut manifest.nodes {
        node.pid = None;
        node.paused = false;
    }
    if purge {
        std::fs::remove_dir_all(&manifest.dir).map_err(io("removing", &manifest.dir))?;
    } else {
        manifest.save()?;
    }
    Ok(running.len() + side_stopped)
}

/// One row of `status`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NodeStatus {
    /// Position of the node in the manifest (`node{index}` directory).
    pub index: usize,
    /// Its recorded process is running and is still this node's `vein-node` ([`is_alive`]).
    pub alive: bool,
    /// Stopped by `pause`: alive, but it answers nothing until `resume`.
    pub paused: bool,
    /// Process id recorded in the manifest; `None` once stopped by `kill` or `down`.
    pub pid: Option<u32>,
    /// Address of the node's HTTP API.
    pub api: SocketAddr,
    /// The node's `/status` answer, if it answered.
    pub status: Option<api_types::Status>,
}

/// One row per node of the manifest, asking `/status` of every node that is alive and not
/// paused; a node that does not answer gets `status: None`.
pub fn status(manifest: &Manifest) -> Vec<NodeStatus> {
    manifest
        .nodes
        .iter()
        .map(|node| {
            let alive = node.pid.is_some_and(|pid| is_alive(pid, node));
            let paused = alive && node.paused;
            // A paused node would only time the request out.
            let status = if alive && !paused { http::get(node.api, "/status").ok() } else { None };
            NodeStatus { index: node.index, alive, paused, pid: node.pid, api: node.api, status }
        })
        .collect()
}

/// The `status` rows as a fixed-width text table with a header line; `-` marks a value the
/// node did not report.
pub fn status_table(rows: &[NodeStatus]) -> String {
    let mut out = format!(
        "{:<5} {:<6} {:>8} {:>7} {:>6} {:<10} {:>5} {:>4} {:>6} {:>5}  {}\n",
        "node", "alive", "pid", "height", "final", "head", "peers", "live", "units", "tips", "api"
    );
    for row in rows {
        let field = |read: fn(&api_types::Status) -> String| {
            row.status.as_ref().map_or("-".to_string(), read)
        };
        out.push_str(&format!(
            "{:<5} {:<6} {:>8} {:>7} {:>6} {:<10} {:>5} {:>4} {:>6} {:>5}  http://{}/\n",
            row.index,
            match (row.alive, row.paused) {
                (true, true) => "paused",
                (true, false) => "yes",
                (false, _) => "no",
            },
            row.pid.map_or("-".into(), |pid| pid.to_string()),
            field(|s| s.height.to_string()),
            field(|s| s.final_height.to_string()),
            field(|s| s.head.chars().take(8).collect()),
            // Peers the core knows (from the start, its configured ones), and of those the
            // ones heard from in the last 10 s.
            field(|s| s.peers.to_string()),
            field(|s| s.peers_live.len().to_string()),
            field(|s| s.dag_units.to_string()),
            field(|s| s.tips.to_string()),
            row.api
        ));
    }
    out
}

/// Who signs a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The node with this index: signed by that node's API with its own key, or locally with
    /// its key file when a nonce is given.
    Node(usize),
    /// The faucet account of genesis; always signed locally with `faucet.key`.
    Faucet,
}

/// A transfer request of `tx`.
#[derive(Clone, Debug)]
pub struct TxRequest {
    /// Whose account pays and signs.
    pub from: Sender,
    /// Recipient: a node index, `faucet`, or a 64-hex account.
    pub to: String,
    /// Base units of the coin sent; at least 1 (nodes refuse a transfer of 0).
    pub amount: u64,
    /// Fee in base units of the coin, paid by the sender on top of `amount`.
    pub fee: u64,
    /// Sign locally with this nonce (conflicting spends); otherwise the node picks it.
    pub nonce: Option<u64>,
    /// Node whose API receives the transaction (default: the sender's node, or node 0).
    pub via: Option<usize>,
}

fn resolve_account(manifest: &Manifest, to: &str) -> Result<AccountId, TestnetError> {
    if let Ok(index) = to.parse::<usize>() {
        return AccountId::from_hex(&node_entry(manifest, index)?.account)
            .map_err(|e| TestnetError::Invalid(format!("manifest account: {e}")));
    }
    if to == "faucet" {
        return AccountId::from_hex(&manifest.faucet_account)
            .map_err(|e| TestnetError::Invalid(format!("manifest account: {e}")));
    }
    AccountId::from_hex(to)
        .map_err(|_| TestnetError::Invalid(format!("--to {to:?}: not a node index or account")))
}

pub(crate) fn read_key(path: &Path) -> Result<Keypair, TestnetError> {
    vein_node::service::load_key(path).map_err(|e| TestnetError::Invalid(e.to_string()))
}

impl TxRequest {
    /// The node whose API takes it: `via`, else the sender's node, else node 0 (the faucet).
    pub fn via_node(&self) -> usize {
        match (self.via, self.from) {
            (Some(via), _) | (None, Sender::Node(via)) => via,
            (None, Sender::Faucet) => 0,
        }
    }
}

/// Submit a transfer; returns its id (hex).
pub fn tx(manifest: &Manifest, request: &TxRequest) -> Result<String, TestnetError> {
    if request.amount == 0 {
        return Err(bad_argument("amount", "must be at least 1 (nodes refuse a transfer of 0)"));
    }
    let to = resolve_account(manifest, &request.to)?;
    let via = request.via_node();
    let api = reachable(manifest, via)?.api;
    let local_signing = request.nonce.is_some() || request.from == Sender::Faucet;
    let body = if !local_signing {
        api_types::TxRequest::Faucet(api_types::TransferRequest {
            to: to.to_hex(),
            amount: request.amount,
            fee: Some(request.fee),
        })
    } else {
        let key = match request.from {
            Sender::Faucet => read_key(&manifest.faucet_key)?,
            Sender::Node(index) => read_key(&node_entry(manifest, index)?.key)?,
        };
        let nonce = match request.nonce {
            Some(nonce) => nonce,
            None => {
                account_state(api, &key.account())
                    .map_err(|error| match error {
                        TestnetError::Http(error) => no_answer(via, api, error),
                        other => other,
                    })?
                    .next_nonce
            }
        };
        let parents = parents_from(api).map_err(|error| match error {
            TestnetError::Http(error) => no_answer(via, api, error),
            other => other,
        })?;
        let tx = TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Transfer { to, amount: request.amount },
            fee: request.fee,
            parents,
            issued_at_ms: now_ms(),
        }
        .sign(&key)
        .map_err(|e| TestnetError::Invalid(e.to_string()))?;
        let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
        api_types::TxRequest::Signed(api_types::SignedTxRequest { tx: hex::encode(bytes) })
    };
    // Only a transfer the node signs is privileged; a signed one goes out without the token.
    let token = if local_signing { None } else { api_token::of_manifest(manifest)? };
    let answer: api_types::TxAccepted = http::post_authorized(api, "/tx", &body, token.as_deref())
        .map_err(|error| no_answer(via, api, error))?;
    Ok(answer.id)
}

/// A transfer seen final by `tx --wait`.
#[derive(Clone, Debug)]
pub struct Finality {
    /// The checkpoint height that confirmed it.
    pub height: u64,
    /// From the submit to the poll that saw it final (this client's clock; polls every
    /// [`vein_sdk::client::WAIT_POLL`]).
    pub waited: Duration,
    /// The node's own accepted → final time, if it keeps the times.
    pub node_ms: Option<u64>,
}

/// Poll node `index`'s `/unit/{id}` until the transfer is final, at most `timeout` after
/// `submitted` ([`vein_sdk::Client::wait_final`]). Final and ignored (it lost a conflict) is
/// an error, as is the timeout.
pub fn wait_final(
    manifest: &Manifest,
    index: usize,
    id: &str,
    submitted: Instant,
    timeout: Duration,
) -> Result<Finality, TestnetError> {
    let api = reachable(manifest, index)?.api;
    let not_final = || TestnetError::NotFinal { id: id.into(), index, seconds: timeout.as_secs() };
    let unit = vein_sdk::parse_hash(id)
        .ok_or_else(|| TestnetError::Invalid(format!("{id:?} is not a unit id (64 hex)")))?;
    // At least one poll, as before the deadline: a zero wait still asks once.
    let left = timeout.saturating_sub(submitted.elapsed());
    match vein_sdk::Client::new(api).wait_final(&unit, left) {
        Ok(seen) => {
            Ok(Finality { height: seen.height, waited: submitted.elapsed(), node_ms: seen.node_ms })
        }
        Err(vein_sdk::SdkError::FinalIgnored { .. }) => {
            Err(TestnetError::FinalIgnored { id: id.into(), index })
        }
        Err(vein_sdk::SdkError::NotFinal { .. }) => Err(not_final()),
        Err(vein_sdk::SdkError::Http(error)) => Err(no_answer(index, api, error)),
        Err(error) => Err(TestnetError::Invalid(error.to_string())),
    }
}

/// Node `index` if its API can answer: known, running and not paused (a paused node accepts
/// the connection in its kernel and then says nothing until the request times out).
fn reachable(manifest: &Manifest, index: usize) -> Result<&NodeEntry, TestnetError> {
    let node = node_entry(manifest, index)?;
    if node.paused {
        return Err(TestnetError::Paused { index });
    }
    if !node.pid.is_some_and(|pid| is_alive(pid, node)) {
        return Err(TestnetError::NotRunning { index });
    }
    Ok(node)
}

/// An HTTP error of node `index`, with a request that timed out named as such (the socket's
/// own words are `os error 11`, "Resource temporarily unavailable").
fn no_answer(index: usize, api: SocketAddr, error: http::HttpError) -> TestnetError {
    match &error {
        http::HttpError::Io { source, .. } | http::HttpError::Connect { source, .. }
            if matches!(
                source.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            TestnetError::NoAnswer { index, api, seconds: http::TIMEOUT.as_secs() }
        }
        _ => TestnetError::Http(error),
    }
}

/// Two distinct parents for a locally signed transaction: the head checkpoint's anchors
/// ([`vein_sdk::parents_of`] says why not the tips).
pub(crate) fn parents_from(api: SocketAddr) -> Result<[Hash; 2], TestnetError> {
    let status: api_types::Status = http::get(api, "/status")?;
    vein_sdk::parents_of(&status).map_err(|error| TestnetError::Invalid(error.to_string()))
}

/// Nodes that are running and not paused: the ones whose API can answer.
fn running(manifest: &Manifest) -> impl Iterator<Item = &NodeEntry> {
    manifest
        .nodes
        .iter()
        .filter(|node| !node.paused && node.pid.is_some_and(|pid| is_alive(pid, node)))
}

/// Balance and next nonce of `account` on node `api`.
pub(crate) fn account_state(
    api: SocketAddr,
    account: &AccountId,
) -> Result<api_types::AccountBalance, TestnetError> {
    Ok(http::get(api, &format!("/balance/{}", account.to_hex()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_refuse_nonsense() {
        assert_eq!(parse_partition("0,1|2,3", 4).unwrap(), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(parse_partition("0|1", 3).unwrap(), vec![vec![0], vec![1], vec![2]]);
        assert!(parse_partition("0,1", 4).is_err());
        assert!(parse_partition("0|0", 4).is_err());
        assert!(parse_partition("0|9", 4).is_err());
        assert!(parse_partition("0|x", 4).is_err());
        assert!(parse_partition("0||1", 4).is_err());
    }
}
