//! The production runtime: tokio time, TCP with length-prefixed frames (`runtime::tcp`, kept
//! in its own file and re-exported here), and std files.

#![allow(clippy::disallowed_methods)] // This is the one place allowed to read the wall clock.

pub use crate::runtime::tcp::{
    HELLO_BYTES_MAX, Refusal, TcpCounters, TcpLimits, TcpNetwork, TcpStats,
};
use crate::runtime::{Clock, Disk, DiskError};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// Wall-clock milliseconds since the Unix epoch, so timestamps survive restarts.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send {
        let wait = at_ms.saturating_sub(self.now_ms());
        tokio::time::sleep(Duration::from_millis(wait))
    }
}

/// Append-only files under one directory.
pub struct FsDisk {
    root: PathBuf,
    files: tokio::sync::Mutex<BTreeMap<String, tokio::fs::File>>,
}

impl FsDisk {
    pub fn new(root: impl Into<PathBuf>) -> FsDisk {
        FsDisk { root: root.into(), files: tokio::sync::Mutex::new(BTreeMap::new()) }
    }

    fn error(&self, path: &str, error: std::io::Error) -> DiskError {
        DiskError::Io {
            path: self.root.join(path).display().to_string(),
            reason: error.to_string(),
        }
    }
}

impl Disk for FsDisk {
    async fn read_all(&self, path: &str) -> Result<Option<Vec<u8>>, DiskError> {
        match tokio::fs::read(self.root.join(path)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.error(path, error)),
        }
    }

    async fn append(&self, path: &str, bytes: &[u8]) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        if !files.contains_key(path) {
            tokio::fs::create_dir_all(&self.root).await.map_err(|e| self.error(path, e))?;
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.root.join(path))
                .await
                .map_err(|e| self.error(path, e))?;
            files.insert(path.to_string(), file);
        }
        let Some(file) = files.get_mut(path) else { return Ok(()) };
        file.write_all(bytes).await.map_err(|e| self.error(path, e))
    }

    async fn sync(&self, path: &str) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        if let Some(file) = files.get_mut(path) {
            file.flush().await.map_err(|e| self.error(path, e))?;
            file.sync_data().await.map_err(|e| self.error(path, e))?;
        }
        Ok(())
    }

    async fn truncate(&self, path: &str, length: u64) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        files.remove(path);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.root.join(path))
            .await
            .map_err(|e| self.error(path, e))?;
        file.set_len(length).await.map_err(|e| self.error(path, e))?;
        file.sync_all().await.map_err(|e| self.error(path, e))
    }
}
