//! `testnet.json`: everything the CLI knows about a running testnet, so that each command is a
//! separate process that reads it, acts, and writes it back. Written atomically (temporary file
//! then rename) so that a crash mid-write never leaves a half manifest.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "testnet.json";
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub index: usize,
    /// The node's account (64 hex), funded in genesis and bound to its plot.
    pub account: String,
    /// Peer-to-peer listening address.
    pub listen: SocketAddr,
    /// HTTP API address.
    pub api: SocketAddr,
    pub dir: PathBuf,
    pub key: PathBuf,
    pub data: PathBuf,
    pub plots: PathBuf,
    pub log: PathBuf,
    /// Process id while running; `None` after `kill` or `down`.
    pub pid: Option<u32>,
    /// Stopped with SIGSTOP by `pause` (and not yet resumed). Absent in older manifests.
    #[serde(default)]
    pub paused: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub chain_id: String,
    pub dir: PathBuf,
    pub genesis: PathBuf,
    pub node_bin: PathBuf,
    /// The faucet account: funded in genesis, run by no node; its key signs `tx --from faucet`.
    pub faucet_account: String,
    pub faucet_key: PathBuf,
    /// The file holding the bearer token of the nodes' privileged API routes
    /// ([`crate::api_token`]). Absent in manifests written before the API had tokens.
    #[serde(default)]
    pub api_token: Option<PathBuf>,
    pub nodes: Vec<NodeEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no testnet in {dir} (no {MANIFEST_FILE}); start one with `vein-testnet up`")]
    Missing { dir: PathBuf },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has version {found}, this tool reads version {MANIFEST_VERSION}")]
    Version { path: PathBuf, found: u32 },
}

impl Manifest {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

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
            }],
        };
        manifest.save().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), manifest);
    }
}
