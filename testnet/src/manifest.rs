//! `testnet.json`: everything the CLI knows about a running testnet, so that each command is a
//! separate process that reads it, acts, and writes it back. Written atomically (temporary file
//! then rename) so that a crash mid-write never leaves a half manifest.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The manifest's file name inside the testnet directory.
pub const MANIFEST_FILE: &str = "testnet.json";
/// Format version written and the only one read; raised when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;

/// One node of the testnet: its identity, addresses and files, and its process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Position in `Manifest::nodes`, the number commands take (`kill 2`); from 0.
    pub index: usize,
    /// The node's account (64 hex), funded in genesis and bound to its plot.
    pub account: String,
    /// Peer-to-peer listening address.
    pub listen: SocketAddr,
    /// HTTP API address.
    pub api: SocketAddr,
    /// The node's own directory, `DIR/nodeN`, holding everything below.
    pub dir: PathBuf,
    /// Its signing key: the 32-byte seed as hex (`key.hex`).
    pub key: PathBuf,
    /// Its data directory (`--data`): `units.log`, `shards.log` and the rest of its state,
    /// kept across restarts.
    pub data: PathBuf,
    /// Its plot directory (`--plots`), written by `up`.
    pub plots: PathBuf,
    /// Its stdout and stderr, appended to across restarts (`node.log`).
    pub log: PathBuf,
    /// Process id while running; `None` after `kill` or `down`.
    pub pid: Option<u32>,
    /// Stopped with SIGSTOP by `pause` (and not yet resumed). Absent in older manifests.
    #[serde(default)]
    pub paused: bool,
    /// The attacker policy it runs (`vein-node run --policy`, as `up --attacker` gave it);
    /// absent for an honest node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The whole testnet as `testnet.json` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version; [`MANIFEST_VERSION`] is the only one read.
    pub version: u32,
    /// The genesis chain id, `vein-testnet-LABEL`; load and node keys derive from it.
    pub chain_id: String,
    /// The testnet directory (canonical); the manifest lives in it.
    pub dir: PathBuf,
    /// The `genesis.json` every node was started with.
    pub genesis: PathBuf,
    /// The `vein-node` binary `up` found; `restart` starts the same one.
    pub node_bin: PathBuf,
    /// The faucet account: funded in genesis, run by no node; its key signs `tx --from faucet`.
    pub faucet_account: String,
    /// The faucet's signing key file (`faucet.key`, its seed as hex).
    pub faucet_key: PathBuf,
    /// The file holding the bearer token of the nodes' privileged API routes
    /// ([`crate::api_token`]). Absent in manifests written before the API had tokens.
    #[serde(default)]
    pub api_token: Option<PathBuf>,
    /// Every node, in index order.
    pub nodes: Vec<NodeEntry>,
    /// The side chain `side up` started beside this net (absent until then, and in older
    /// manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<SideEntry>,
}

/// A side chain beside the main net: its own testnet (own genesis, chain id, ports, keys and
/// manifest) in a subdirectory, and the relayer process carrying anchors and peg claims.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideEntry {
    /// The side net's directory (`DIR/side`), holding its own `testnet.json`.
    pub dir: PathBuf,
    /// The anchor interval `a` each chain registers the other with.
    pub anchor_interval: u64,
    /// The relayer's process id while it runs (`peg relay` in the background).
    pub relayer_pid: Option<u32>,
    /// The relayer's stdout and stderr (`DIR/side/relayer.log`).
    pub relayer_log: PathBuf,
}

/// Why the manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The directory holds no `testnet.json`: no `up` ran there, or `down --purge` removed it.
    #[error("no testnet in {dir} (no {MANIFEST_FILE}); start one with `vein-testnet up`")]
    Missing {
        /// The testnet directory given.
        dir: PathBuf,
    },
    /// The manifest exists but could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The manifest's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the temporary file or renaming it over the manifest failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file being written: the temporary one, or the manifest for the rename.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is not JSON of a [`Manifest`] (or, on save, could not be serialized).
    #[error("{path} is corrupt: {source}")]
    Corrupt {
        /// The manifest's path.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The manifest was written by a tool of another format version.
    #[error("{path} has version {found}, this tool reads version {MANIFEST_VERSION}")]
    Version {
        /// The manifest's path.
        path: PathBuf,
        /// The version it records.
        found: u32,
    },
}

impl Manifest {
    /// Where the manifest of testnet directory `dir` lives: `DIR/testnet.json`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    /// Read and check the manifest of `dir`.
    pub fn load(dir: &Path) -> Result<Manifest, ManifestError> {
        let path = Manifest::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ManifestError::Missing { dir: dir.to_path_buf() });
            }
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|source| ManifestError::Corrupt { path: path.clone(), source })?;
        if manifest.version != MANIFEST_VERSION {
            return Err(ManifestError::Version { path, found: manifest.version });
        }
        Ok(manifest)
    }

    /// Write the manifest to `DIR/testnet.json`, atomically (a temporary file, then rename).
    pub fn save(&self) -> Result<(), ManifestError> {
        let path = Manifest::path(&self.dir);
        let temporary = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)
            .map_err(|source| ManifestError::Corrupt { path: path.clone(), source })?;
        std::fs::write(&temporary, text)
            .map_err(|source| ManifestError::Write { path: temporary.clone(), source })?;
        std::fs::rename(&temporary, &path).map_err(|source| ManifestError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_corrupt_manifests_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Manifest::load(dir.path()), Err(ManifestError::Missing { .. })));
        std::fs::write(Manifest::path(dir.path()), "{ not json").unwrap();
        let error = Manifest::load(dir.path()).unwrap_err();
        assert!(matches!(error, ManifestError::Corrupt { .. }), "{error}");
        std::fs::write(Manifest::path(dir.path()), r#"{"version": 1}"#).unwrap();
        let error = Manifest::load(dir.path()).unwrap_err();
        assert!(error.to_string().contains("corrupt"), "{error}");
    }

    #[test]
    fn manifest_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            chain_id: "c".into(),
            dir: dir.path().to_path_buf(),
            genesis: dir.path().join("genesis.json"),
            node_bin: "vein-node".into(),
            faucet_account: "00".repeat(32),
            faucet_key: dir.path().join("faucet.key"),
            api_token: Some(dir.path().join("api-token")),
            nodes: vec![NodeEntry {
                index: 0,
                account: "11".repeat(32),
                listen: "127.0.0.1:1".parse().unwrap(),
                api: "127.0.0.1:2".parse().unwrap(),
                dir: dir.path().join("node0"),
                key: dir.path().join("node0/key.hex"),
                data: dir.path().join("node0/data"),
                plots: dir.path().join("node0/plots"),
                log: dir.path().join("node0/node.log"),
                pid: Some(42),
                paused: true,
                policy: Some("withhold".into()),
            }],
            side: Some(SideEntry {
                dir: dir.path().join("side"),
                anchor_interval: 2,
                relayer_pid: Some(43),
                relayer_log: dir.path().join("side/relayer.log"),
            }),
        };
        manifest.save().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), manifest);
    }
}
