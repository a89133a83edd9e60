//! vein-testnet: launch, fault and inspect a local testnet of real `vein-node` processes.
//!
//! Model: one directory holds the whole net (genesis, keys, plots, data, logs) and a manifest,
//! `testnet.json` ([`manifest`]). Every command is a short-lived process that reads the
//! manifest, acts on the node processes (signals) or their HTTP APIs ([`http`]), and writes the
//! manifest back. Nodes run detached in their own process groups, so they outlive the command
//! that started them; `down` stops them. Faults are injected through each node's
//! `/control/*` routes (a filtering wrapper around its TCP transport), so nothing needs root.

// The CLI may read the wall clock: genesis time, key labels, deadlines and load timing. None of
// it feeds the sans-IO core.
#![allow(clippy::disallowed_methods)]

pub mod api_token;
pub mod breakdown;
pub mod http;
pub mod manifest;
pub mod pacing;
pub mod storage;

use breakdown::percentile;
use manifest::{MANIFEST_VERSION, Manifest, ManifestError, NodeEntry};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vein_node::api_types;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::PocMode;
use vein_node::core::poc::retarget::initial_base_target;
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::genesis_file::{GenesisFile, GenesisFileError};
use vein_node::plotter::{PlotOptions, PlotSpec, PlotterError, write_plot};

/// Balance of every node account and of the faucet in genesis.
pub const GENESIS_BALANCE: u64 = 1_000_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Genesis(#[from] GenesisFileError),
    #[error(transparent)]
    Plot(#[from] PlotterError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a testnet already exists in {dir}; run `vein-testnet down --purge` or pick --dir")]
    Exists { dir: PathBuf },
    #[error("no node {index}: the testnet has nodes 0..{count}")]
    UnknownNode { index: usize, count: usize },
    #[error("node {index} is not running")]
    NotRunning { index: usize },
    #[error("node {index} is already running (pid {pid})")]
    AlreadyRunning { index: usize, pid: u32 },
    #[error("cannot find the vein-node binary at {path}; build it or pass --node-bin")]
    NodeBinary { path: PathBuf },
    #[error("port {port} is in use (needed by node {index}); stop what holds it")]
    PortInUse { index: usize, port: u16 },
    #[error("node {index} exited during start-up; last log lines:\n{log_tail}")]
    Exited { index: usize, log_tail: String },
    #[error("node {index} not ready after {seconds} s (log: {log})")]
    NotReady { index: usize, seconds: u64, log: PathBuf },
    #[error("bad partition {spec:?}: {reason} (example: 0,1|2,3)")]
    BadPartition { spec: String, reason: String },
    #[error("node {index} is paused; `vein-testnet resume {index}` first")]
    Paused { index: usize },
    #[error("node {index} is not paused (resume only continues a node stopped by `pause`)")]
    NotPaused { index: usize },
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A command-line argument out of its range, found before the command did anything.
    #[error("--{flag} {reason}")]
    BadArgument { flag: &'static str, reason: String },
    #[error(
        "node {index} ({api}) did not answer within {seconds} s: it is hung or overloaded \
         (`vein-testnet status` shows whether it runs; its log: `vein-testnet logs {index}`)"
    )]
    NoAnswer { index: usize, api: SocketAddr, seconds: u64 },
    #[error(
        "transfer {id} is final but ignored on node {index} (it lost a conflict or could not pay)"
    )]
    FinalIgnored { id: String, index: usize },
    #[error("transfer {id} is not final on node {index} after {seconds} s (`vein-testnet status`)")]
    NotFinal { id: String, index: usize, seconds: u64 },
    #[error(transparent)]
    Storage(#[from] storage::StorageCliError),
}

impl TestnetError {
    /// The command line was wrong (exit code 2, as for an argument clap refuses), as opposed
    /// to the testnet failing to do what was asked (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, TestnetError::BadArgument { .. } | TestnetError::BadPartition { .. })
    }
}

fn bad_argument(flag: &'static str, reason: impl Into<String>) -> TestnetError {
    TestnetError::BadArgument { flag, reason: reason.into() }
}

pub(crate) fn io(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> TestnetError + use<> {
    let path = path.to_path_buf();
    move |source| TestnetError::Io { action, path, source }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// How to build a new testnet.
#[derive(Clone, Debug)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub nodes: usize,
    /// Nonces per node plot (256 KiB each).
    pub nonces: u64,
    pub target_interval_ms: u64,
    pub finality_depth: u64,
    /// Label keys are derived from; random when `None`.
    pub label: Option<String>,
    pub node_bin: Option<PathBuf>,
    pub ready_timeout: Duration,
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

/// Free loopback ports: bind all at once (so they are distinct), record, release.
fn free_ports(count: usize) -> Result<Vec<u16>, TestnetError> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io("binding", Path::new("127.0.0.1:0")))?;
    listeners
        .iter()
        .map(|listener| listener.local_addr().map(|addr| addr.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io("reading", Path::new("local address")))
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
) -> Result<Genesis, TestnetError> {
    if options.nodes == 0 || options.nodes > 64 {
        return Err(bad_argument("nodes", "must be 1..=64"));
    }
    if options.nonces == 0 {
        return Err(bad_argument("nonces", "must be at least 1"));
    }
    if options.target_interval_ms == 0 {
        return Err(bad_argument("interval-ms", "must be at least 1"));
    }
    if options.finality_depth == 0 {
        // Final at depth 0 would call the head final: any fork would revert "final" history.
        return Err(bad_argument("k", "(finality depth) must be at least 1"));
    }
    let params = Params {
        target_interval_ms: options.target_interval_ms,
        finality_depth: options.finality_depth,
        reorg_limit: Params::default().reorg_limit.max(options.finality_depth),
        ..Params::default()
    };
    let total_nonces = options
        .nonces
        .checked_mul(options.nodes as u64)
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
    let label = options.label.clone().unwrap_or_else(|| {
        let seed = Hash::of_parts(&[&now_ms().to_le_bytes(), &std::process::id().to_le_bytes()]);
        seed.short()
    });
    let chain_id = format!("vein-testnet-{label}");
    let keys: Vec<Keypair> =
        (0..options.nodes.min(64) as u64).map(|index| Keypair::derived(&chain_id, index)).collect();
    let faucet = Keypair::derived(&chain_id, u64::MAX);
    let mut accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    accounts.push(faucet.account());
    let genesis = plan_genesis(options, &chain_id, accounts)?;
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

    let ports = free_ports(2 * options.nodes)?;
    let mut nodes = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let node_dir = dir.join(format!("node{index}"));
        let plots = node_dir.join("plots");
        std::fs::create_dir_all(&plots).map_err(io("creating", &plots))?;
        let key_path = node_dir.join("key.hex");
        write_key(&key_path, key)?;
        let spec = PlotSpec { account: key.account(), start_nonce: 0, nonce_count: options.nonces };
        eprintln!("plotting node {index}: {} nonces", options.nonces);
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
    // The node takes the token from the file only: one inherited from the caller's shell
    // would make it refuse to start (a token given twice).
    command.env_remove(vein_node::api::TOKEN_ENV);
    if let Some(token) = &manifest.api_token {
        command.arg("--api-token-file").arg(token);
    }
    let child = command.spawn().map_err(io("starting", &manifest.node_bin))?;
    Ok(child.id())
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
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
    Ok(running.len())
}

/// One row of `status`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NodeStatus {
    pub index: usize,
    pub alive: bool,
    /// Stopped by `pause`: alive, but it answers nothing until `resume`.
    pub paused: bool,
    pub pid: Option<u32>,
    pub api: SocketAddr,
    /// The node's `/status` answer, if it answered.
    pub status: Option<api_types::Status>,
}

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

pub fn status_table(rows: &[NodeStatus]) -> String {
    let mut out = format!(
        "{:<5} {:<6} {:>8} {:>7} {:>6} {:<10} {:>5} {:>6} {:>5}  {}\n",
        "node", "alive", "pid", "height", "final", "head", "peers", "units", "tips", "api"
    );
    for row in rows {
        let field = |read: fn(&api_types::Status) -> String| {
            row.status.as_ref().map_or("-".to_string(), read)
        };
        out.push_str(&format!(
            "{:<5} {:<6} {:>8} {:>7} {:>6} {:<10} {:>5} {:>6} {:>5}  http://{}/\n",
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
    Node(usize),
    Faucet,
}

/// A transfer request of `tx`.
#[derive(Clone, Debug)]
pub struct TxRequest {
    pub from: Sender,
    /// Recipient: a node index or a 64-hex account.
    pub to: String,
    pub amount: u64,
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
    /// From the submit to the poll that saw it final (this client's clock; polls every 100 ms).
    pub waited: Duration,
    /// The node's own accepted → final time, if it keeps the times.
    pub node_ms: Option<u64>,
}

/// Pause between `tx --wait`'s polls.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// Poll node `index`'s `/unit/{id}` until the transfer is final, at most `timeout` after
/// `submitted`. Final and ignored (it lost a conflict) is an error, as is the timeout.
pub fn wait_final(
    manifest: &Manifest,
    index: usize,
    id: &str,
    submitted: Instant,
    timeout: Duration,
) -> Result<Finality, TestnetError> {
    let api = reachable(manifest, index)?.api;
    let path = format!("/unit/{id}");
    loop {
        match http::get::<api_types::Unit>(api, &path) {
            Ok(unit) if unit.is_final => {
                if unit.outcome != Some(api_types::Outcome::Applied) {
                    return Err(TestnetError::FinalIgnored { id: id.into(), index });
                }
                let node_ms = unit
                    .times
                    .and_then(|times| Some(times.final_ms?.saturating_sub(times.accepted_ms?)));
                let height = unit.confirmed_height.unwrap_or_default();
                return Ok(Finality { height, waited: submitted.elapsed(), node_ms });
            }
            // Not final yet, or not known yet.
            Ok(_) | Err(http::HttpError::Status { status: 404, .. }) => {}
            Err(error) => return Err(no_answer(index, api, error)),
        }
        if submitted.elapsed() + WAIT_POLL > timeout {
            return Err(TestnetError::NotFinal {
                id: id.into(),
                index,
                seconds: timeout.as_secs(),
            });
        }
        std::thread::sleep(WAIT_POLL);
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
/// (confirmed units), or an anchor and genesis. Not the current tips: a tip may be the very
/// spend this transaction conflicts with, and a unit whose past cone holds both sides of a
/// conflict is never approved, so it and every innocent unit only it approves would be stranded.
pub(crate) fn parents_from(api: SocketAddr) -> Result<[Hash; 2], TestnetError> {
    let parse = |text: &str| {
        hex::decode(text)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Hash)
            .ok_or_else(|| TestnetError::Invalid(format!("node returned a bad id {text:?}")))
    };
    let status: api_types::Status = http::get(api, "/status")?;
    let anchors =
        status.anchors.iter().map(|text| parse(text)).collect::<Result<Vec<Hash>, _>>()?;
    let genesis = parse(&status.genesis_id)?;
    Ok(match anchors.as_slice() {
        [first, second, ..] => [*first, *second],
        [only] if *only != genesis => [*only, genesis],
        _ => [genesis, genesis],
    })
}

/// Parse `0,1|2,3` into groups; nodes named nowhere form one more group.
pub fn parse_partition(spec: &str, count: usize) -> Result<Vec<Vec<usize>>, TestnetError> {
    let bad = |reason: String| TestnetError::BadPartition { spec: spec.into(), reason };
    let mut groups = Vec::new();
    let mut seen = vec![false; count];
    for part in spec.split('|') {
        let mut group = Vec::new();
        for item in part.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let index: usize = item.parse().map_err(|_| bad(format!("{item:?} is not a node")))?;
            if index >= count {
                return Err(bad(format!("node {index} does not exist (0..{count})")));
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(bad(format!("node {index} is in two groups")));
            }
            group.push(index);
        }
        if group.is_empty() {
            return Err(bad("empty group".into()));
        }
        groups.push(group);
    }
    if groups.len() < 2 {
        return Err(bad("need at least two groups".into()));
    }
    let rest: Vec<usize> = (0..count).filter(|index| !seen[*index]).collect();
    if !rest.is_empty() {
        groups.push(rest);
    }
    Ok(groups)
}

/// Nodes that are running and not paused: the ones whose API can answer.
fn running(manifest: &Manifest) -> impl Iterator<Item = &NodeEntry> {
    manifest
        .nodes
        .iter()
        .filter(|node| !node.paused && node.pid.is_some_and(|pid| is_alive(pid, node)))
}

/// Nodes that are paused (their fault tables cannot be reached until they resume).
pub fn paused_nodes(manifest: &Manifest) -> Vec<usize> {
    manifest
        .nodes
        .iter()
        .filter(|node| node.paused && node.pid.is_some_and(|pid| is_alive(pid, node)))
        .map(|node| node.index)
        .collect()
}

/// Cut the net into groups: each running node drops traffic to and from the other groups.
pub fn partition(manifest: &Manifest, groups: &[Vec<usize>]) -> Result<(), TestnetError> {
    heal(manifest)?;
    let token = api_token::of_manifest(manifest)?;
    for node in running(manifest) {
        let Some(own) = groups.iter().find(|group| group.contains(&node.index)) else { continue };
        let blocked: Vec<String> = manifest
            .nodes
            .iter()
            .filter(|other| !own.contains(&other.index))
            .map(|other| other.listen.to_string())
            .collect();
        let body = api_types::PartitionRequest { peers: blocked };
        control(node.api, "/control/partition", &body, token.as_deref())?;
    }
    Ok(())
}

/// One `/control/*` request; the node answers the faults now in force.
fn control(
    api: SocketAddr,
    path: &str,
    body: &impl serde::Serialize,
    token: Option<&str>,
) -> Result<api_types::InjectedFaults, TestnetError> {
    let answer: api_types::ControlResponse = http::post_authorized(api, path, body, token)?;
    Ok(answer.faults)
}

/// Clear every injected fault on every running node.
pub fn heal(manifest: &Manifest) -> Result<(), TestnetError> {
    let token = api_token::of_manifest(manifest)?;
    for node in running(manifest) {
        control(node.api, "/control/heal", &api_types::EmptyRequest {}, token.as_deref())?;
    }
    Ok(())
}

/// Which one-way link fault to set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinkFaultKind {
    /// Added delay in milliseconds.
    Delay { ms: u64 },
    /// Share of messages dropped, in percent (0..=100; one decimal is kept).
    Loss { percent: f64 },
}

/// Set a fault on the one-way link `from` → `to`: node `from` delays or drops what it sends to
/// node `to`; the other direction is untouched. `heal` clears it.
pub fn link_fault(
    manifest: &Manifest,
    from: usize,
    to: usize,
    kind: LinkFaultKind,
) -> Result<(), TestnetError> {
    let sender = node_entry(manifest, from)?;
    let receiver = node_entry(manifest, to)?;
    if from == to {
        return Err(TestnetError::Invalid(format!("a link needs two nodes, got {from} twice")));
    }
    let body = match kind {
        LinkFaultKind::Delay { ms } => {
            if ms > 60_000 {
                return Err(bad_argument("ms", format!("must be at most {FAULT_DELAY_MS_MAX}")));
            }
            api_types::LinkRequest {
                peer: receiver.listen.to_string(),
                delay_ms: Some(ms),
                loss_per_mille: None,
            }
        }
        LinkFaultKind::Loss { percent } => {
            if !(0.0..=100.0).contains(&percent) {
                return Err(bad_argument("percent", "must be in 0..=100"));
            }
            let per_mille = (percent * 10.0).round() as u64;
            api_types::LinkRequest {
                peer: receiver.listen.to_string(),
                delay_ms: None,
                loss_per_mille: Some(per_mille),
            }
        }
    };
    if sender.paused {
        return Err(TestnetError::Paused { index: from });
    }
    if !sender.pid.is_some_and(|pid| is_alive(pid, sender)) {
        return Err(TestnetError::NotRunning { index: from });
    }
    let token = api_token::of_manifest(manifest)?;
    control(sender.api, "/control/link", &body, token.as_deref())?;
    Ok(())
}

/// Set delay and/or loss on the given nodes (all running nodes when `nodes` is empty). Every
/// argument and every named node is checked before the first node is changed, so a refused
/// command changes nothing; the node answers each setting whole (see `/control`).
pub fn fault(
    manifest: &Manifest,
    nodes: &[usize],
    delay_ms: Option<u64>,
    loss_per_mille: Option<u64>,
) -> Result<(), TestnetError> {
    if delay_ms.is_none() && loss_per_mille.is_none() {
        return Err(bad_argument("delay-ms", "and/or --loss-per-mille is needed"));
    }
    if delay_ms.is_some_and(|ms| ms > FAULT_DELAY_MS_MAX) {
        return Err(bad_argument("delay-ms", format!("must be at most {FAULT_DELAY_MS_MAX}")));
    }
    if loss_per_mille.is_some_and(|per_mille| per_mille > 1000) {
        return Err(bad_argument("loss-per-mille", "must be at most 1000"));
    }
    let targets: Vec<&NodeEntry> = if nodes.is_empty() {
        running(manifest).collect()
    } else {
        nodes.iter().map(|index| reachable(manifest, *index)).collect::<Result<_, _>>()?
    };
    let token = api_token::of_manifest(manifest)?;
    let token = token.as_deref();
    for node in targets {
        if let Some(ms) = delay_ms {
            control(node.api, "/control/delay", &api_types::DelayRequest { ms }, token)?;
        }
        if let Some(per_mille) = loss_per_mille {
            let body = api_types::LossRequest { per_mille };
            control(node.api, "/control/loss", &body, token)?;
        }
    }
    Ok(())
}

/// Largest delay `fault` and `delay` set (what a node's `/control` takes).
pub const FAULT_DELAY_MS_MAX: u64 = 60_000;

pub fn logs(manifest: &Manifest, index: usize, lines: usize) -> Result<String, TestnetError> {
    let node = node_entry(manifest, index)?;
    if !node.log.exists() {
        return Err(TestnetError::Io {
            action: "reading",
            path: node.log.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    Ok(log_tail(&node.log, lines))
}

/// Balance a load account is funded with by the faucet (500 million transfers of 1 plus fee 1).
pub const LOAD_ACCOUNT_FUNDS: u64 = 1_000_000_000;
/// Most sending accounts `load` signs from (each is funded by one faucet transfer, and the
/// faucet's own nonce window is 1,024).
pub const LOAD_ACCOUNTS_MAX: usize = 1_000;

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
}

/// How often `load` reports its progress on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Pause between retries of a request a node answered busy.
pub const BUSY_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Results of `load`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub offered_per_s: f64,
    pub submitted: u64,
    pub refused: u64,
    /// The first few refusal reasons (a node's 422 text or a transport error).
    pub refusal_samples: Vec<String>,
    /// Busy answers (503: the node's unconfirmed backlog over its bound) that were retried.
    /// A retried request goes out later than scheduled (see `schedule_lag_ms_max`); its
    /// latencies count from when it was finally submitted.
    pub busy_retries: u64,
    pub applied: u64,
    pub ignored: u64,
    pub final_count: u64,
    /// Transfers the schedule offered: round(rate × duration), each signed and sent once
    /// (`submitted + refused`).
    pub offered: u64,
    /// The denominator of every `*_per_s` below: the scheduled duration, or longer if the
    /// client fell behind its schedule (until its latest request was sent, plus one request's
    /// slot). Not the time spent waiting for the last answers, nor the settle time.
    pub window_s: f64,
    /// How late the latest-sent request was against its due time (0: the client kept up).
    pub schedule_lag_ms_max: u64,
    /// From the start until the last request was answered (information only).
    pub sending_s: f64,
    pub submitted_per_s: f64,
    /// Transfers applied (final) by the end of the settle time, divided by `window_s`.
    pub applied_per_s: f64,
    pub final_per_s: f64,
    /// From the first submission until the last accepted transfer became final (node clocks).
    pub span_to_last_final_s: Option<f64>,
    /// Latencies: the accepting node's own confirmation / finality time (recorded when the
    /// event happened, not when it was polled) minus the client's submit time.
    pub confirm_latency_ms_p50: Option<u64>,
    pub confirm_latency_ms_p99: Option<u64>,
    pub final_latency_ms_p50: Option<u64>,
    pub final_latency_ms_p99: Option<u64>,
    /// Final transfers whose node no longer remembered when it saw them final (a node keeps
    /// the times of its latest 600,000 transactions): left out of the latencies above.
    pub final_times_missing: u64,
    /// The genesis target interval T and finality depth k, and (k + 1)·T: a transfer waits up
    /// to one interval for the next checkpoint to include it, then k more bury that one.
    pub checkpoint_interval_ms: u64,
    pub finality_depth: u64,
    pub finality_target_ms: u64,
    pub concurrency: usize,
    pub batch: usize,
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
}

/// Why a load request could not be built.
#[derive(Debug)]
enum BuildError {
    /// The node answered 503 busy (its unconfirmed backlog is over its bound): worth a retry.
    Busy(String),
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
struct NonceBook {
    next: u64,
    returned: std::collections::BTreeSet<u64>,
}

impl NonceBook {
    fn take(&mut self) -> u64 {
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

/// A signed transfer of `amount` (fee 1) from `key`, as the hex `POST /txs` takes, and its id.
fn signed_transfer(
    key: &Keypair,
    nonce: u64,
    to: AccountId,
    amount: u64,
    parents: [Hash; 2],
) -> Result<(String, Hash), TestnetError> {
    let tx = TransactionBody {
        from: key.account(),
        nonce,
        kind: TxKind::Transfer { to, amount },
        fee: 1,
        parents,
        issued_at_ms: now_ms(),
    }
    .sign(key)
    .map_err(|e| TestnetError::Invalid(e.to_string()))?;
    let bytes = tx.encode().map_err(|e| TestnetError::Invalid(e.to_string()))?;
    Ok((hex::encode(&bytes), Hash::of(&bytes)))
}

/// Balance and next nonce of `account` on node `api`.
pub(crate) fn account_state(
    api: SocketAddr,
    account: &AccountId,
) -> Result<api_types::AccountBalance, TestnetError> {
    Ok(http::get(api, &format!("/balance/{}", account.to_hex()))?)
}

/// Make sure every load account holds at least half of [`LOAD_ACCOUNT_FUNDS`] on node `api`'s
/// confirmed ledger (a node admits a transfer only against confirmed funds): the faucet pays
/// the short ones and this waits until a checkpoint confirms it. Returns each account's next
/// nonce and whether any funding was needed.
fn fund_load_accounts(
    manifest: &Manifest,
    api: SocketAddr,
    keys: &[Keypair],
    timeout: Duration,
) -> Result<(Vec<u64>, bool), TestnetError> {
    // Reads are asked again while the node does not answer in time (seen once in CI: a node's
    // API silent for over 10 s while the machine was flushing a build to disk), up to the
    // funding timeout; a refusal or a bad answer is still an error at once.
    let stalled_until = Instant::now() + timeout;
    let account_state = |account: &AccountId| {
        retry_transport(stalled_until, STALL_RETRY_PAUSE, || account_state(api, account))
    };
    // Which of `indices` still lack their funds.
    let short = |indices: &[usize]| -> Result<Vec<usize>, TestnetError> {
        let mut short = Vec::new();
        for index in indices {
            if account_state(&keys[*index].account())?.balance < LOAD_ACCOUNT_FUNDS / 2 {
                short.push(*index);
            }
        }
        Ok(short)
    };
    let unfunded = short(&(0..keys.len()).collect::<Vec<_>>())?;
    if !unfunded.is_empty() {
        eprintln!(
            "funding {} load account(s) from the faucet (final after about k + 1 checkpoints)",
            unfunded.len()
        );
        let faucet = read_key(&manifest.faucet_key)?;
        let first_nonce = account_state(&faucet.account())?.next_nonce;
        let parents = retry_transport(stalled_until, STALL_RETRY_PAUSE, || {
            fetch_parents(api, unfunded.len())
        })?;
        let txs = unfunded
            .iter()
            .zip(parents)
            .zip(first_nonce..)
            .map(|((index, parents), nonce)| {
                signed_transfer(&faucet, nonce, keys[*index].account(), LOAD_ACCOUNT_FUNDS, parents)
                    .map(|(hex, _)| hex)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = api_types::TxBatchRequest { txs, transfers: Vec::new() };
        let answer: api_types::TxBatchResponse = http::post(api, "/txs", &request)?;
        for result in answer.results {
            if let api_types::TxBatchItem::Refused { error } = result {
                return Err(TestnetError::Invalid(format!(
                    "the node refused a faucet transfer funding a load account: {error}"
                )));
            }
        }
        let started = Instant::now();
        let deadline = started + timeout;
        let mut reported = started;
        let mut still = unfunded.clone();
        loop {
            // Only the accounts not yet seen funded are asked again.
            still = short(&still)?;
            if still.is_empty() {
                break;
            }
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                eprintln!(
                    "funding: {}/{} load accounts funded after {:.0} s",
                    unfunded.len() - still.len(),
                    unfunded.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            if Instant::now() >= deadline {
                return Err(TestnetError::Invalid(format!(
                    "{} load account(s) still unfunded after {} s (is the net making checkpoints?)",
                    still.len(),
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let nonces = keys
        .iter()
        .map(|key| account_state(&key.account()).map(|state| state.next_nonce))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((nonces, !unfunded.is_empty()))
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
        fund_load_accounts(manifest, nodes[0].api, &keys, timeout)?
    };
    let funding_s = if funded { funding_started.elapsed().as_secs_f64() } else { 0.0 };
    let books: Vec<std::sync::Mutex<NonceBook>> = books
        .into_iter()
        .map(|next| std::sync::Mutex::new(NonceBook { next, returned: Default::default() }))
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
    let refused = std::sync::atomic::AtomicU64::new(0);
    let busy_retries = std::sync::atomic::AtomicU64::new(0);
    let accepted = std::sync::atomic::AtomicU64::new(0);
    let sending_done = std::sync::atomic::AtomicBool::new(false);
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
    // One request: the body to post and, per transfer, its sender and nonce (client-signed).
    let build = |request: u64,
                 count: usize,
                 from: &NodeEntry|
     -> Result<(api_types::TxBatchRequest, Vec<(usize, u64)>), BuildError> {
        if keys.is_empty() {
            // The next node's account (a node may not pay itself); the faucet's when the net
            // has one node.
            let to = match manifest.nodes.len() {
                1 => &manifest.faucet_account,
                count => &manifest.nodes[(from.index + 1) % count].account,
            };
            let transfer = api_types::TransferRequest { to: to.clone(), amount: 1, fee: Some(1) };
            let senders = vec![(from.index, 0); count];
            let request =
                api_types::TxBatchRequest { txs: Vec::new(), transfers: vec![transfer; count] };
            return Ok((request, senders));
        }
        let parents = fetch_parents(from.api, count).map_err(parents_error)?;
        let mut txs = Vec::with_capacity(count);
        let mut senders = Vec::with_capacity(count);
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
            match signed_transfer(&keys[account], nonce, to, 1, parents) {
                Ok((hex, id)) => {
                    txs.push(hex);
                    senders.push((account, nonce));
                    previous = Some(id);
                }
                Err(error) => {
                    give_back(account, nonce);
                    return Err(BuildError::Failed(error.to_string()));
                }
            }
        }
        Ok((api_types::TxBatchRequest { txs, transfers: Vec::new() }, senders))
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
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        let from = &nodes[request as usize % nodes.len()];
                        let built = retry_busy(
                            || build(request, count, from),
                            options.busy_retry,
                            BUSY_RETRY_PAUSE,
                            &busy_retries,
                        );
                        let (body, senders) = match built {
                            Ok(built) => built,
                            Err(BuildError::Busy(error) | BuildError::Failed(error)) => {
                                refuse(count as u64, error);
                                continue;
                            }
                        };
                        // When it goes out, after any busy retries: a retried request widens
                        // the window like any other late one.
                        let dispatched = started.elapsed();
                        latest = latest.max(dispatched);
                        lag = lag.max(dispatched.saturating_sub(due));
                        let submitted_ms = now_ms();
                        let answer: Result<api_types::TxBatchResponse, _> =
                            http::post_authorized(from.api, "/txs", &body, token);
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
                        "[load] {:.0}/{} s: {} of {} transfers accepted, {} refused, {} busy retries",
                        started.elapsed().as_secs_f64(),
                        options.duration.as_secs(),
                        accepted.load(Ordering::Relaxed),
                        schedule.total(),
                        refused.load(Ordering::Relaxed),
                        busy_retries.load(Ordering::Relaxed),
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

    let outcomes = settle(manifest, &sent, Instant::now() + options.settle);
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
        applied,
        ignored,
        final_count,
        offered: schedule.total(),
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
    })
}

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
    }

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
