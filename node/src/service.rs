//! The production node assembly behind `vein-node run`: genesis file, key file, real plot files,
//! TCP transport (wrapped for fault injection), the append-only store, the driver, telemetry and
//! the HTTP API, on one tokio runtime.

use crate::api::{self, ApiAuth, ApiState, ApiToken};
use crate::consortium_db::{AttestationSigner, FeedSink, ReplicaFeed, SharedFeed};
use crate::core::consortium::keys::MemberSecret;
use crate::core::crypto::Keypair;
use crate::core::hash::Hash;
use crate::core::node::{NodeConfig, Policy};
use crate::core::poc::{PlotReader, PlotSet, PocMode};
use crate::driver::{Driver, DriverError, DriverHandle, Primitives};
pub use crate::faults::{Faults, FaultyNetwork, HeardFrom, LinkFault, SharedFaults};
use crate::genesis_file::{GenesisFile, GenesisFileError};
use crate::runtime::tokio_impl::{FsDisk, TcpLimits, TcpNetwork, TokioBlocking, TokioClock};
use crate::runtime::{Clock, NetError, Network};
pub use crate::telemetry::{SharedTelemetry, Telemetry, TelemetrySink, TxTimes};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why `vein-node run` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The genesis file could not be read, parsed or validated.
    #[error(transparent)]
    Genesis(#[from] GenesisFileError),
    /// The key file could not be read or does not hold a 32-byte hex seed.
    #[error("key file {path}: {reason}")]
    Key {
        /// The key file, as given.
        path: String,
        /// What was wrong: the I/O error, or the format it breaks.
        reason: String,
    },
    /// The plot directory could not be listed, or a plot in it could not be opened.
    #[error("plot directory {path}: {reason}")]
    Plots {
        /// The plot directory, as given.
        path: String,
        /// The I/O or plot-format error, as text.
        reason: String,
    },
    /// The peer-to-peer listener could not be bound.
    #[error("listening for peers on {addr}: {source}")]
    Listen {
        /// The `--listen` address.
        addr: SocketAddr,
        /// The transport's error.
        source: NetError,
    },
    /// The HTTP API listener could not be bound.
    #[error("API listener on {addr}: {source}")]
    Api {
        /// The `--api` address.
        addr: SocketAddr,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The driver could not start (its store refused to open, say) or stopped with an error.
    #[error("driver: {0}")]
    Driver(#[from] DriverError),
    #[error(
        "refusing to serve the API on {addr}, which is not loopback, without a token: give \
         --api-token-file PATH (or set {env}) so that only its holder can use the privileged \
         routes, or bind --api to 127.0.0.1",
        env = api::TOKEN_ENV
    )]
    /// The API would listen beyond loopback without a token ([`check_api_exposure`]).
    UnprotectedApi {
        /// The non-loopback `--api` address.
        addr: SocketAddr,
    },
    /// The explorer configuration file could not be read or breaks a rule.
    #[error(transparent)]
    ExplorerConfig(#[from] api::ExplorerConfigError),
    /// The policy acts only with model proofs, and this network mines with real plots.
    #[error(
        "policy {policy} needs model proofs (the node computes its own deadlines) and this \
         genesis mines with real plots: with them it would mine honestly under another name. \
         On real plots run withhold or publish-refused (docs/testnet.md, \"Attackers\")"
    )]
    PolicyNeedsModelProofs {
        /// The policy as given.
        policy: Policy,
    },
    /// The directory of the node's consortium replicas could not be created.
    #[error("consortium replica directory {path}: {source}")]
    Consortia {
        /// `<data>/consortia`.
        path: String,
        /// The I/O error from creating it.
        #[source]
        source: std::io::Error,
    },
}

/// What `vein-node run` is given.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The genesis file ([`GenesisFile`]), the same for every node of the network.
    pub genesis: PathBuf,
    /// The key file: the node's ed25519 seed as 64 hex characters ([`load_key`]); its account
    /// signs the node's units and checkpoints and owns its plots.
    pub key: PathBuf,
    /// Address the peer-to-peer transport listens on; peers know the node by it.
    pub listen: SocketAddr,
    /// Address of the HTTP API; beyond loopback it requires `api_token`.
    pub api: SocketAddr,
    /// Peers (their listening addresses) the node dials at start.
    pub peers: Vec<SocketAddr>,
    /// Directory of the node's logs (units, shards) and consortium replicas; created if
    /// missing.
    pub data: PathBuf,
    /// Directory of plot files to mine with ([`load_plots`]); `None`, or no plot of this
    /// node's account in it, means the node does not mine.
    pub plots: Option<PathBuf>,
    /// Unconfirmed units above which `GET /parents` answers 503 busy (the wallets'
    /// backpressure; [`crate::api::UNCONFIRMED_FOR_PARENTS_MAX`] by default).
    pub parents_backlog_max: usize,
    /// What an inbound peer connection may cost (caps and timeouts).
    pub tcp_limits: TcpLimits,
    /// The bearer token of the API's privileged routes; `None` disables them.
    pub api_token: Option<ApiToken>,
    /// Submit the consortium attestations the feed queues, signed by the node's attestation
    /// account ([`AttestationSigner`]): its own nonces, so a client signing with the node's key
    /// races nothing. That account must be funded to pay their fees.
    pub attest: bool,
    /// The explorer page's configuration file (JSON, docs/explorer.md); `None`: the defaults.
    pub explorer_config: Option<PathBuf>,
    /// Final heights whose EVM receipts are kept (`Limits::evm_receipt_heights`).
    pub evm_receipt_heights: u64,
    /// How the node treats its own checkpoints: honest, or an attacker policy of the core
    /// (`withhold` publishes by the selfish-mining rule; `publish-refused` also loads plots of
    /// other accounts and publishes the checkpoints they give, which honest nodes refuse).
    pub policy: Policy,
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

/// Read a key file: 64 hex characters, the ed25519 secret seed.
pub fn load_key(path: &Path) -> Result<Keypair, ServiceError> {
    let error = |reason: String| ServiceError::Key { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let bytes = hex::decode(text.trim()).map_err(|_| error("not hexadecimal".into()))?;
    let seed: [u8; 32] =
        bytes.try_into().map_err(|_| error("expected 32 bytes (64 hex characters)".into()))?;
    Ok(Keypair::from_seed(seed))
}

/// Open every `*.vplot` / `*.plot` file in `dir` bound to `key`'s account (with
/// `other_accounts`, every plot: a plot-sharing attacker's).
pub fn load_plots(
    dir: &Path,
    key: &Keypair,
    other_accounts: bool,
) -> Result<Vec<PlotReader<File>>, ServiceError> {
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
        if plot.header().account != key.account() && !other_accounts {
            // Its proofs would be refused (PlotOfAnotherAccount): mining with it is useless.
            tracing::warn!(path = %path.display(), "skipping a plot of another account");
            continue;
        }
        tracing::info!(path = %path.display(), nonces = plot.header().nonce_count, "plot");
        plots.push(plot);
    }
    Ok(plots)
}

/// The node's consortium replicas: files under `<data>/consortia`, fed from its events; its
/// X25519 member secret is derived from its signing seed.
fn consortium_feed(options: &RunOptions, key: &Keypair) -> Result<SharedFeed, ServiceError> {
    let directory = options.data.join("consortia");
    std::fs::create_dir_all(&directory).map_err(|source| ServiceError::Consortia {
        path: directory.display().to_string(),
        source,
    })?;
    let secret = MemberSecret::derived_from_seed(&key.seed());
    Ok(Arc::new(Mutex::new(ReplicaFeed::new(key.account(), secret, Some(directory)))))
}

/// Run a node until SIGINT/SIGTERM or until its driver stops. On a signal the driver is asked
/// to shut down and given 5 s to sync its store.
pub async fn run(options: RunOptions) -> Result<(), ServiceError> {
    check_api_exposure(&options)?;
    let explorer = match &options.explorer_config {
        Some(path) => api::load_explorer_config(path)?,
        None => Default::default(),
    };
    let genesis = Arc::new(GenesisFile::load(&options.genesis)?.to_genesis()?);
    if options.policy.needs_model_proofs() && genesis.poc == PocMode::Real {
        return Err(ServiceError::PolicyNeedsModelProofs { policy: options.policy });
    }
    let key = load_key(&options.key)?;
    let plots = match &options.plots {
        Some(dir) => load_plots(dir, &key, options.policy == Policy::PublishRefused)?,
        None => Vec::new(),
    };
    let prover = PlotSet::new(plots);
    let nonces = prover.total_nonces();
    let seed = Hash::of_parts(&[b"vein/node-seed", &key.seed()]).0;
    let mut config = NodeConfig::new(genesis.clone(), key.clone(), seed);
    config.mining = nonces > 0;
    config.limits.evm_receipt_heights = options.evm_receipt_heights;
    config.policy = options.policy;

    let tcp = TcpNetwork::bind_with(options.listen, key.clone(), options.tcp_limits.clone())
        .await
        .map_err(|source| ServiceError::Listen { addr: options.listen, source })?;
    let listen = tcp.local_addr();
    let faults = SharedFaults::default();
    let heard = HeardFrom::default();
    let p2p = tcp.counters();
    let net = FaultyNetwork::new(tcp, faults.clone(), heard.clone());
    let telemetry = SharedTelemetry::new(Mutex::new(Telemetry::with_p2p(p2p)));
    let consortia = consortium_feed(&options, &key)?;
    let (driver, handle) = Driver::start(
        config,
        options.peers.clone(),
        Primitives {
            clock: TokioClock,
            net,
            disk: FsDisk::new(&options.data),
            blocking: TokioBlocking,
        },
        prover,
        FeedSink { inner: TelemetrySink(telemetry.clone()), feed: consortia.clone() },
    )
    .await?;
    // A withholding node in a real process has no outside driver to publish its private
    // branch: it publishes by the selfish-mining rule itself (no-op under other policies).
    let driver = driver.with_release_rule();
    let mut driver_task = tokio::spawn(driver.run());
    let signer = AttestationSigner::new(&key);
    let attester = signer.account();
    let attest_task = options
        .attest
        .then(|| tokio::spawn(submit_attestations(consortia.clone(), handle.clone(), signer)));

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
        consortia,
        eth_sent: Default::default(),
        fl_updates: Default::default(),
        explorer: Arc::new(explorer),
    };
    let api_task = tokio::spawn(api::serve(api_listener, state));
    tracing::info!(
        account = %key.account(),
        attestation_account = %attester,
        attest = options.attest,
        %listen,
        api = %api_addr,
        peers = options.peers.len(),
        plot_nonces = nonces,
        policy = %options.policy,
        "node running"
    );

    let outcome = tokio::select! {
        result = &mut driver_task => Some(result),
        () = shutdown_signal() => None,
    };
    api_task.abort();
    if let Some(task) = attest_task {
        task.abort();
    }
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

/// How often the node submits the attestations its consortium feed queued.
const ATTESTATION_SUBMIT_INTERVAL: Duration = Duration::from_millis(250);

/// Sign and submit, from the node's attestation account at the minimum fee, the attestations of
/// its replicas' roots that the feed queued: the feed is an event sink and cannot reach the node.
async fn submit_attestations(feed: SharedFeed, handle: DriverHandle, signer: AttestationSigner) {
    let signer = Arc::new(signer);
    let mut interval = tokio::time::interval(ATTESTATION_SUBMIT_INTERVAL);
    loop {
        interval.tick().await;
        let txs = match feed.lock() {
            Ok(mut feed) => feed.take_outgoing(),
            Err(_) => return,
        };
        if txs.is_empty() {
            continue;
        }
        let signer_here = signer.clone();
        let refused =
            handle.operate(move |node| signer_here.submit(node, TokioClock.now_ms(), txs)).await;
        match refused {
            None => return,
            Some(refused) => {
                for reason in refused {
                    tracing::warn!(
                        %reason,
                        attestation_account = %signer.account(),
                        "an attestation was refused by the node (is its account funded?)"
                    );
                }
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
            TcpNetwork::bind(
                "127.0.0.1:0".parse().unwrap(),
                crate::core::crypto::Keypair::derived("transport", 1),
            )
            .await
            .unwrap(),
            faults.clone(),
            HeardFrom::default(),
        );
        let b = TcpNetwork::bind(
            "127.0.0.1:0".parse().unwrap(),
            crate::core::crypto::Keypair::derived("transport", 2),
        )
        .await
        .unwrap();
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
