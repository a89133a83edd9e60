//! What a testnet command can fail with, and how each failure maps to an exit code.

use crate::manifest::ManifestError;
use crate::{corrupt, db, db_store, fl, http, storage, token};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use vein_node::genesis_file::GenesisFileError;
use vein_node::plotter::PlotterError;

/// Everything a testnet command can fail with; [`TestnetError::is_usage`] and
/// [`TestnetError::is_refusal`] pick the exit code (2, 3; else 1).
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    /// `testnet.json` is missing, unreadable or of another version.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A node's HTTP API could not be reached or answered an error status.
    #[error(transparent)]
    Http(#[from] http::HttpError),
    /// `genesis.json` could not be written or read back.
    #[error(transparent)]
    Genesis(#[from] GenesisFileError),
    /// Writing a node's plot failed during `up`.
    #[error(transparent)]
    Plot(#[from] PlotterError),
    /// A file system or process operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, as a verb: `reading`, `writing`, `creating`, `starting`, ...
        action: &'static str,
        /// The file, directory or binary it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `up` into a directory that already holds a manifest.
    #[error("a testnet already exists in {dir}; run `vein-testnet down --purge` or pick --dir")]
    Exists {
        /// The testnet directory given.
        dir: PathBuf,
    },
    /// A node index at or past the number of nodes in the manifest.
    #[error("no node {index}: the testnet has nodes 0..{count}")]
    UnknownNode {
        /// The index given.
        index: usize,
        /// Nodes in the testnet.
        count: usize,
    },
    /// The node has no live process (never started, killed, or crashed).
    #[error("node {index} is not running")]
    NotRunning {
        /// The node's index.
        index: usize,
    },
    /// `restart` of a node whose process still runs.
    #[error("node {index} is already running (pid {pid})")]
    AlreadyRunning {
        /// The node's index.
        index: usize,
        /// Its live process id.
        pid: u32,
    },
    /// `--node-bin` is not a file, or no `vein-node` lies next to this executable.
    #[error("cannot find the vein-node binary at {path}; build it or pass --node-bin")]
    NodeBinary {
        /// The path tried (the first candidate when searching).
        path: PathBuf,
    },
    /// A node's P2P or API port is taken by another process, so the node cannot start.
    #[error("port {port} is in use (needed by node {index}); stop what holds it")]
    PortInUse {
        /// The node that needs it.
        index: usize,
        /// The loopback port.
        port: u16,
    },
    /// The node's process died before its `/ready` answered.
    #[error("node {index} exited during start-up; last log lines:\n{log_tail}")]
    Exited {
        /// The node's index.
        index: usize,
        /// The last 20 lines of its log (why it refused to start).
        log_tail: String,
    },
    /// The node runs but its `/ready` did not answer 200 within the timeout.
    #[error("node {index} not ready after {seconds} s (log: {log})")]
    NotReady {
        /// The node's index.
        index: usize,
        /// The timeout, in whole seconds.
        seconds: u64,
        /// Its log file, for diagnosis.
        log: PathBuf,
    },
    /// A `partition` spec that does not split the nodes into disjoint groups (exit code 2).
    #[error("bad partition {spec:?}: {reason} (example: 0,1|2,3)")]
    BadPartition {
        /// The spec as given, e.g. `0,1|2,3`.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node is stopped by `pause`: its API would only time out.
    #[error("node {index} is paused; `vein-testnet resume {index}` first")]
    Paused {
        /// The node's index.
        index: usize,
    },
    /// `resume` of a node that `pause` did not stop.
    #[error("node {index} is not paused (resume only continues a node stopped by `pause`)")]
    NotPaused {
        /// The node's index.
        index: usize,
    },
    /// Anything else that cannot go on: a value a node returned that does not parse, a
    /// manifest entry that does not fit, a check that failed. The text says which.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A command-line argument out of its range, found before the command did anything.
    #[error("--{flag} {reason}")]
    BadArgument {
        /// The flag's name without the dashes.
        flag: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// A request to the node's API timed out: the node is hung or overloaded.
    #[error(
        "node {index} ({api}) did not answer within {seconds} s: it is hung or overloaded \
         (`vein-testnet status` shows whether it runs; its log: `vein-testnet logs {index}`)"
    )]
    NoAnswer {
        /// The node's index.
        index: usize,
        /// Its API address.
        api: SocketAddr,
        /// The request timeout ([`http::TIMEOUT`]), in whole seconds.
        seconds: u64,
    },
    /// `tx --wait`: the transfer became final, but the ledger did not apply it.
    #[error(
        "transfer {id} is final but ignored on node {index} (it lost a conflict or could not pay)"
    )]
    FinalIgnored {
        /// The transaction id (hex).
        id: String,
        /// The node polled.
        index: usize,
    },
    /// `tx --wait`: the transfer was not final on the node when the wait timed out.
    #[error("transfer {id} is not final on node {index} after {seconds} s (`vein-testnet status`)")]
    NotFinal {
        /// The transaction id (hex).
        id: String,
        /// The node polled.
        index: usize,
        /// The wait timeout, in whole seconds.
        seconds: u64,
    },
    /// A `storage` command failed.
    #[error(transparent)]
    Storage(#[from] storage::StorageCliError),
    /// `corrupt` found the log too short, or the node did not detect the damage.
    #[error(transparent)]
    Corrupt(#[from] corrupt::CorruptError),
    /// A `contract` command was refused or failed.
    #[error(transparent)]
    Contract(#[from] crate::contract::ContractCliError),
    /// A `token` command was refused or failed.
    #[error(transparent)]
    Token(#[from] token::TokenCliError),
    /// A `peg` command was refused or failed.
    #[error(transparent)]
    Peg(#[from] crate::peg::PegCliError),
    /// A `db` command was refused or failed.
    #[error(transparent)]
    Db(#[from] db::DbCliError),
    /// An `fl` command was refused or failed.
    #[error(transparent)]
    Fl(#[from] fl::FlCliError),
    /// `load` fell more than `--lag-max-s` behind its schedule and stopped sending; the report
    /// on stdout holds what was sent, `unsent` and the waits.
    #[error(
        "load stopped sending {at_s:.0} s in: the client fell more than {lag_max_s} s behind its \
         schedule, and {unsent} of {offered} transfers were never sent; {waited}. The nodes \
         answer slower than the offered rate: lower --rate (or raise --lag-max-s)"
    )]
    LoadBehind {
        /// The bound, in seconds.
        lag_max_s: u64,
        /// When sending stopped, seconds after the start.
        at_s: f64,
        /// Transfers never sent.
        unsent: u64,
        /// Transfers the schedule offered.
        offered: u64,
        /// What the workers waited on longest, in words.
        waited: String,
    },
    /// A history file (`load --history`, `check-history`) is not a well-formed history.
    #[error("history file {path}: {source}")]
    History {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: vein_node::history::HistoryError,
    },
    /// A client history check found violations (exit code 4); the report on stdout lists them.
    #[error("the client history check found {count} violation(s); first: {first}")]
    HistoryViolated {
        /// How many.
        count: usize,
        /// The first, in words.
        first: String,
    },
    /// The local record of a consortium (`DIR/consortia/ID.json`) is missing or unusable.
    #[error(transparent)]
    LocalConsortium(#[from] db_store::LocalError),
}

impl TestnetError {
    /// The command line was wrong (exit code 2, as for an argument clap refuses), as opposed
    /// to the testnet failing to do what was asked (exit code 1).
    pub fn is_usage(&self) -> bool {
        match self {
            TestnetError::Db(error) => error.is_usage(),
            other => {
                matches!(
                    other,
                    TestnetError::BadArgument { .. } | TestnetError::BadPartition { .. }
                )
            }
        }
    }

    /// The ledger's rules, the chain or a replica said no (exit code 3): a write without
    /// permission, a transaction final but ignored, a failed verification.
    pub fn is_refusal(&self) -> bool {
        matches!(self, TestnetError::Db(error) if error.is_refusal())
    }
}

pub(crate) fn bad_argument(flag: &'static str, reason: impl Into<String>) -> TestnetError {
    TestnetError::BadArgument { flag, reason: reason.into() }
}

pub(crate) fn io(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> TestnetError + use<> {
    let path = path.to_path_buf();
    move |source| TestnetError::Io { action, path, source }
}
