//! The production node assembly behind `vein-node run`: genesis file, key file, real plot files,
//! TCP transport (wrapped for fault injection), the append-only store, the driver, telemetry and
//! the HTTP API, on one tokio runtime.
//!
//! Fault injection without root: [`FaultyNetwork`] wraps the TCP network and consults a shared
//! [`Faults`] table on every send and receive. A partition is a set of peer listening addresses
//! whose messages are dropped in both directions (the TCP hello names peers by listening
//! address, so the filter is exact); delay holds outbound messages back; loss drops a share of
//! them. Every node of a partitioned testnet applies the filter to its side, so `vein-testnet
//! partition 0,1|2,3` needs no iptables and leaves the kernel untouched. The core sees only loss,
//! which it already tolerates.

use crate::api::{self, ApiAuth, ApiState, ApiToken};
use crate::core::crypto::Keypair;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::node::NodeConfig;
use crate::core::poc::{PlotReader, PlotSet};
use crate::driver::{Driver, DriverError, EventSink};
use crate::genesis_file::{GenesisFile, GenesisFileError};
use crate::runtime::tokio_impl::{FsDisk, TcpCounters, TcpLimits, TcpNetwork, TokioClock};
use crate::runtime::{Clock, NetError, Network};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most transactions whose timings are remembered (for `/unit` and the load generator): two
/// minutes of 5,000 transfers/s, so a load run of that length keeps every latency (the load
/// report counts the final transfers whose times were already forgotten). About 125 bytes each
/// (map entry and order queue), so up to ~75 MB, and only on a node that saw that many.
const TX_TIMES_MAX: usize = 600_000;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Genesis(#[from] GenesisFileError),
    #[error("key file {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("plot directory {path}: {reason}")]
    Plots { path: String, reason: String },
    #[error("listening for peers on {addr}: {source}")]
    Listen { addr: SocketAddr, source: NetError },
    #[error("API listener on {addr}: {source}")]
    Api {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("driver: {0}")]
    Driver(#[from] DriverError),
    #[error(
        "refusing to serve the API on {addr}, which is not loopback, without a token: give \
         --api-token-file PATH (or set {env}) so that only its holder can use the privileged \
         routes, or bind --api to 127.0.0.1",
        env = api::TOKEN_ENV
    )]
    UnprotectedApi { addr: SocketAddr },
}

/// What `vein-node run` is given.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub genesis: PathBuf,
    pub key: PathBuf,
    pub listen: SocketAddr,
    pub api: SocketAddr,
    pub peers: Vec<SocketAddr>,
    pub data: PathBuf,
    pub plots: Option<PathBuf>,
    /// Unconfirmed units above which `GET /parents` answers 503 busy (the wallets'
    /// backpressure; [`crate::api::UNCONFIRMED_FOR_PARENTS_MAX`] by default).
    pub parents_backlog_max: usize,
    /// What an inbound peer connection may cost (caps and timeouts).
    pub tcp_limits: TcpLimits,
    /// The bearer token of the API's privileged routes; `None` disables them.
    pub api_token: Option<ApiToken>,
}

/// A node reachable from other machines must have its privileged routes behind a token; on
/// loopback a node may run without one (the routes are then refused, see [`ApiAuth`]).
pub fn check_api_exposure(options: &RunOptions) -> Result<(), ServiceError> {
    if options.api_token.is_none() {
        if !options.api.ip().is_loopback() {
            return Err(ServiceError::UnprotectedApi { addr: options.api });
        }
        tracing::warn!(
            api = %options.api,
            "no API token (--api-token-file): privileged routes (/control/*, faucet transfers) \
             are disabled"
        );
    }
    Ok(())
}

/// Injected faults, shared between the API (writer) and the network wrapper (reader).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Faults {
    /// Peers (listening addresses) cut off in both directions.
    pub blocked: BTreeSet<SocketAddr>,
    /// Added to every outbound message.
    pub delay_ms: u64,
    /// Outbound messages dropped, in parts per thousand.
    pub loss_per_mille: u32,
    /// One-way faults on the link from this node to one peer (by listening address), on top of
    /// the node-wide delay and loss: `vein-testnet delay A B` sets A's entry for B only.
    pub links: BTreeMap<SocketAddr, LinkFault>,
}

/// Delay and loss on one outbound link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkFault {
    pub delay_ms: u64,
    pub loss_per_mille: u32,
}

impl Faults {
    /// Delay and loss that apply to a message sent to `to`: node-wide plus that link's.
    pub fn outbound(&self, to: &SocketAddr) -> LinkFault {
        let link = self.links.get(to).copied().unwrap_or_default();
        LinkFault {
            delay_ms: self.delay_ms.saturating_add(link.delay_ms),
            // Independent drops: kept with probability (1 - a)(1 - b).
            loss_per_mille: 1000
                - (1000 - self.loss_per_mille.min(1000)) * (1000 - link.loss_per_mille.min(1000))
                    / 1000,
        }
    }
}

pub type SharedFaults = Arc<Mutex<Faults>>;
/// Last time (Unix ms) a message arrived from each peer.
pub type HeardFrom = Arc<Mutex<BTreeMap<SocketAddr, u64>>>;

/// A [`Network`] that applies [`Faults`] around an inner one.
pub struct FaultyNetwork<N: Network> {
    inner: Arc<N>,
    faults: SharedFaults,
    heard: HeardFrom,
    /// Counter feeding the loss decision (a hash of it, so drops spread evenly).
    sent: std::sync::atomic::AtomicU64,
}

impl<N: Network> FaultyNetwork<N> {
    pub fn new(inner: N, faults: SharedFaults, heard: HeardFrom) -> FaultyNetwork<N> {
        FaultyNetwork {
            inner: Arc::new(inner),
            faults,
            heard,
            sent: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> Faults {
        self.faults.lock().map(|faults| faults.clone()).unwrap_or_default()
    }
}

impl<N: Network> Network for FaultyNetwork<N> {
    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        let faults = self.snapshot();
        if faults.blocked.contains(&to) {
            return Ok(()); // Dropped silently, as a cut cable would.
        }
        let fault = faults.outbound(&to);
        if fault.loss_per_mille > 0 {
            let count = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let draw = Hash::of(&count.to_le_bytes()).first_u64_le() % 1000;
            if draw < u64::from(fault.loss_per_mille) {
                return Ok(());
            }
        }
        if fault.delay_ms == 0 {
            return self.inner.send(to, bytes).await;
        }
        let inner = self.inner.clone();
        let delay = Duration::from_millis(fault.delay_ms);
        // Delayed sends must not stall the driver loop: they complete on their own task.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = inner.send(to, bytes).await;
        });
        Ok(())
    }

    async fn recv(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        loop {
            let (from, bytes) = self.inner.recv().await?;
            let blocked = self.faults.lock().map(|f| f.blocked.contains(&from)).unwrap_or(false);
            if blocked {
                continue;
            }
            if let Ok(mut heard) = self.heard.lock() {
                heard.insert(from, TokioClock.now_ms());
            }
            return Ok((from, bytes));
        }
    }

    fn disconnect(&self, peer: SocketAddr) {
        self.inner.disconnect(peer);
    }
}

/// When this node first saw a transaction, and when it was confirmed and became final.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TxTimes {
    pub accepted_ms: Option<u64>,
    pub confirmed_ms: Option<u64>,
    pub final_ms: Option<u64>,
}

/// Counters and per-transaction timings fed by the driver's events.
#[derive(Debug, Default)]
pub struct Telemetry {
    pub checkpoints_accepted: u64,
    pub reorgs: u64,
    pub final_reverted: u64,
    pub txs_applied: u64,
    pub txs_ignored: u64,
    pub txs_final: u64,
    /// Looked up by id only, never iterated (the order lives in `order`), so a hash map: up to
    /// three events per transaction each look an id up among 200,000 (the bound then), which
    /// as a B-tree of 32-byte keys was ~3% of a node's CPU (plus its `memcmp`s) at 5,000
    /// transfers/s.
    pub tx_times: HashMap<Hash, TxTimes>,
    order: VecDeque<Hash>,
    /// The peer transport's refusals and open connections.
    pub p2p: TcpCounters,
}

impl Telemetry {
    /// The `count` transactions this node saw last, newest first.
    pub fn recent(&self, count: usize) -> Vec<Hash> {
        self.order.iter().rev().take(count).copied().collect()
    }

    fn times(&mut self, id: Hash) -> &mut TxTimes {
        if !self.tx_times.contains_key(&id) {
            // Bounded memory: forget the oldest transaction once full.
            if self.order.len() >= TX_TIMES_MAX
                && let Some(oldest) = self.order.pop_front()
            {
                self.tx_times.remove(&oldest);
            }
            self.order.push_back(id);
        }
        self.tx_times.entry(id).or_default()
    }
}

pub type SharedTelemetry = Arc<Mutex<Telemetry>>;

/// Logs events and updates [`Telemetry`].
pub struct TelemetrySink(pub SharedTelemetry);

impl EventSink for TelemetrySink {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        match event {
            Event::CheckpointFinal { height, id, ledger_root, .. } => {
                tracing::info!(height, id = %id.short(), root = %ledger_root.short(), "final");
            }
            Event::HeadChanged { height, id, .. } => {
                tracing::debug!(height, id = %id.short(), "head");
            }
            Event::CheckpointWon { height, deadline_ms, .. } => {
                tracing::info!(height, deadline_ms, "checkpoint won");
            }
            Event::Reorg { depth, .. } => tracing::warn!(depth, "reorganisation"),
            Event::ReorgRefused { depth, limit, .. } => {
                tracing::warn!(depth, limit, "reorganisation refused");
            }
            Event::FinalReverted { height, .. } => {
                tracing::error!(height, "a final checkpoint was reverted (safety violation)");
            }
            Event::CheckpointInvalid { height, reason, .. } => {
                tracing::warn!(height, reason, "invalid checkpoint");
            }
            Event::InputRejected { kind, reason, peer } => {
                tracing::debug!(kind, reason, ?peer, "rejected");
            }
            Event::PeerDisconnected { peer, score } => {
                tracing::info!(peer, score, "peer disconnected");
            }
            _ => {}
        }
        let Ok(mut telemetry) = self.0.lock() else { return };
        match event {
            Event::UnitAccepted { id, .. } => {
                telemetry.times(*id).accepted_ms.get_or_insert(now_ms);
            }
            Event::CheckpointAccepted { .. } => telemetry.checkpoints_accepted += 1,
            Event::Reorg { .. } => telemetry.reorgs += 1,
            Event::FinalReverted { .. } => telemetry.final_reverted += 1,
            Event::TxConfirmed { id, outcome, .. } => {
                match outcome {
                    crate::core::dag::Outcome::Applied => telemetry.txs_applied += 1,
                    crate::core::dag::Outcome::Ignored => telemetry.txs_ignored += 1,
                }
                telemetry.times(*id).confirmed_ms.get_or_insert(now_ms);
            }
            Event::TxFinal { id, .. } => {
                telemetry.txs_final += 1;
                telemetry.times(*id).final_ms.get_or_insert(now_ms);
            }
            _ => {}
        }
    }
}

/// Read a key file: 64 hex characters, the ed25519 secret seed.
pub fn load_key(path: &Path) -> Result<Keypair, ServiceError> {
    let error = |reason: String| ServiceError::Key { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let bytes = hex::decode(text.trim()).map_err(|_| error("not hexadecimal".into()))?;
    let seed: [u8; 32] =
        bytes.try_into().map_err(|_| error("expected 32 bytes (64 hex characters)".into()))?;
    Ok(Keypair::from_seed(seed))
}

/// Open every `*.vplot` / `*.plot` file in `dir` bound to `key`'s account.
pub fn load_plots(dir: &Path, key: &Keypair) -> Result<Vec<PlotReader<File>>, ServiceError> {
    let error = |reason: String| ServiceError::Plots { path: dir.display().to_string(), reason };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| error(e.to_string()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().is_some_and(|extension| extension == "vplot" || extension == "plot")
        })
        .collect();
    paths.sort();
    let mut plots = Vec::new();
    for path in paths {
        let plot = crate::plotter::open_plot(&path).map_err(|e| error(e.to_string()))?;
        if plot.header().account != key.account() {
            // Its proofs would be refused (PlotOfAnotherAccount): mining with it is useless.
            tracing::warn!(path = %path.display(), "skipping a plot of another account");
            continue;
        }
        tracing::info!(path = %path.display(), nonces = plot.header().nonce_count, "plot");
        plots.push(plot);
    }
    Ok(plots)
}

/// Run a node until SIGINT/SIGTERM or until its driver stops.
pub async fn run(options: RunOptions) -> Result<(), ServiceError> {
    check_api_exposure(&options)?;
    let genesis = Arc::new(GenesisFile::load(&options.genesis)?.to_genesis()?);
    let key = load_key(&options.key)?;
    let plots = match &options.plots {
        Some(dir) => load_plots(dir, &key)?,
        None => Vec::new(),
    };
    let prover = PlotSet::new(plots);
    let nonces = prover.total_nonces();
    let seed = Hash::of_parts(&[b"vein/node-seed", &key.seed()]).0;
    let mut config = NodeConfig::new(genesis.clone(), key.clone(), seed);
    config.mining = nonces > 0;

    let tcp = TcpNetwork::bind_with(options.listen, options.tcp_limits.clone())
        .await
        .map_err(|source| ServiceError::Listen { addr: options.listen, source })?;
    let listen = tcp.local_addr();
    let faults = SharedFaults::default();
    let heard = HeardFrom::default();
    let p2p = tcp.counters();
    let net = FaultyNetwork::new(tcp, faults.clone(), heard.clone());
    let telemetry = SharedTelemetry::new(Mutex::new(Telemetry { p2p, ..Telemetry::default() }));
    let (driver, handle) = Driver::start(
        config,
        options.peers.clone(),
        TokioClock,
        net,
        FsDisk::new(&options.data),
        prover,
        TelemetrySink(telemetry.clone()),
    )
    .await?;
    let mut driver_task = tokio::spawn(driver.run());

    let api_listener = tokio::net::TcpListener::bind(options.api)
        .await
        .map_err(|source| ServiceError::Api { addr: options.api, source })?;
    let api_addr = api_listener.local_addr().unwrap_or(options.api);
    let state = ApiState {
        handle: handle.clone(),
        faults,
        heard,
        telemetry,
        account: key.account(),
        listen,
        chain_id: genesis.chain_id.clone(),
        plot_nonces: nonces,
        parents_backlog_max: options.parents_backlog_max,
        auth: ApiAuth::new(options.api_token.clone()),
    };
    let api_task = tokio::spawn(api::serve(api_listener, state));
    tracing::info!(
        account = %key.account(),
        %listen,
        api = %api_addr,
        peers = options.peers.len(),
        plot_nonces = nonces,
        "node running"
    );

    let outcome = tokio::select! {
        result = &mut driver_task => Some(result),
        () = shutdown_signal() => None,
    };
    api_task.abort();
    match outcome {
        Some(Ok(result)) => result.map_err(ServiceError::from),
        Some(Err(join)) => {
            tracing::error!(%join, "driver task failed");
            Ok(())
        }
        None => {
            tracing::info!("shutting down");
            handle.shutdown().await;
            // The driver syncs its store on shutdown; give it a bounded time to do so.
            match tokio::time::timeout(Duration::from_secs(5), driver_task).await {
                Ok(Ok(result)) => result.map_err(ServiceError::from),
                _ => Ok(()),
            }
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_faults_add_to_node_wide_faults_for_that_peer_only() {
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let other: SocketAddr = "127.0.0.1:10".parse().unwrap();
        let mut faults = Faults { delay_ms: 10, loss_per_mille: 100, ..Faults::default() };
        faults.links.insert(peer, LinkFault { delay_ms: 200, loss_per_mille: 500 });
        assert_eq!(faults.outbound(&peer), LinkFault { delay_ms: 210, loss_per_mille: 550 });
        assert_eq!(faults.outbound(&other), LinkFault { delay_ms: 10, loss_per_mille: 100 });
        faults.links.insert(peer, LinkFault { delay_ms: 0, loss_per_mille: 1000 });
        assert_eq!(faults.outbound(&peer).loss_per_mille, 1000);
    }

    #[tokio::test]
    async fn a_blocked_peer_is_cut_off_both_ways() {
        let faults = SharedFaults::default();
        let a = FaultyNetwork::new(
            TcpNetwork::bind("127.0.0.1:0".parse().unwrap()).await.unwrap(),
            faults.clone(),
            HeardFrom::default(),
        );
        let b = TcpNetwork::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (a_addr, b_addr) = (a.local_addr(), b.local_addr());
        a.send(b_addr, Arc::new(b"one".to_vec())).await.unwrap();
        assert_eq!(b.recv().await.unwrap(), (a_addr, b"one".to_vec()));
        faults.lock().unwrap().blocked.insert(b_addr);
        a.send(b_addr, Arc::new(b"two".to_vec())).await.unwrap();
        b.send(a_addr, Arc::new(b"three".to_vec())).await.unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(300), b.recv()).await;
        assert!(quiet.is_err(), "b received a message sent across the partition");
        let quiet = tokio::time::timeout(Duration::from_millis(300), a.recv()).await;
        assert!(quiet.is_err(), "a received a message sent across the partition");
        faults.lock().unwrap().blocked.clear();
        b.send(a_addr, Arc::new(b"four".to_vec())).await.unwrap();
        let (from, bytes) = tokio::time::timeout(Duration::from_secs(5), a.recv())
            .await
            .expect("healed link delivers")
            .unwrap();
        assert_eq!((from, bytes), (b_addr, b"four".to_vec()));
    }
}
