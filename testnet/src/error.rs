//! What a testnet command can fail with, and how each failure maps to an exit code.

use crate::manifest::ManifestError;
use crate::{corrupt, db, db_store, http, storage, token};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use vein_node::genesis_file::GenesisFileError;
use vein_node::plotter::PlotterError;

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
    #[error(transparent)]
    Corrupt(#[from] corrupt::CorruptError),
    #[error(transparent)]
    Token(#[from] token::TokenCliError),
    #[error(transparent)]
    Db(#[from] db::DbCliError),
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
