//! The production runtime: tokio time, TCP with length-prefixed frames (`runtime::tcp`, kept
//! in its own file and re-exported here), and std files.

#![allow(clippy::disallowed_methods)] // This is the one place allowed to read the wall clock.

pub use crate::runtime::tcp::{
    HELLO_BYTES_MAX, Refusal, TcpCounters, TcpLimits, TcpNetwork, TcpStats,
};
use crate::runtime::{Blocking, Clock, Disk, DiskError};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// Milliseconds since the Unix epoch, so timestamps agree across machines and survive
/// restarts, and monotone as the [`Clock`] contract requires: the wall clock is read once per
/// process and the time since is measured on the monotonic clock. A wall clock stepped later
/// (NTP, an operator) therefore does not move a running node's time; the next process start
/// picks it up. Every `TokioClock` of a process reads the same timeline (a LocalNet's nodes
/// agree to the millisecond).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

/// The process's anchor: the wall clock and the monotonic clock read together, once.
struct Timeline {
    wall_ms: u64,
    started: Instant,
}

fn timeline() -> &'static Timeline {
    static TIMELINE: OnceLock<Timeline> = OnceLock::new();
    TIMELINE.get_or_init(|| Timeline {
        wall_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        started: Instant::now(),
    })
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        let timeline = timeline();
        timeline.wall_ms.saturating_add(timeline.started.elapsed().as_millis() as u64)
    }

    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send {
        // An instant on the same monotonic clock `now_ms` reads, rounded up to the next whole
        // millisecond so that `now_ms() >= at_ms` holds on waking.
        let timeline = timeline();
        let after_start = Duration::from_millis(at_ms.saturating_sub(timeline.wall_ms));
        let deadline = timeline.started.checked_add(after_start).unwrap_or_else(Instant::now);
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
    }
}

/// Blocking work on tokio's blocking pool, off the executor's worker threads.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioBlocking;

impl Blocking for TokioBlocking {
    fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let task = tokio::task::spawn_blocking(work);
        async move {
            match task.await {
                Ok(value) => value,
                Err(error) => match error.try_into_panic() {
                    // The work panicked (a bug, not an input): carry the panic to the caller,
                    // as running it in place would have.
                    Ok(panic) => std::panic::resume_unwind(panic),
                    // Cancelled: only when the runtime shuts down, which drops this task too.
                    Err(_) => std::future::pending().await,
                },
            }
        }
    }
}

/// Append-only files under one directory.
pub struct FsDisk {
    root: PathBuf,
    files: tokio::sync::Mutex<BTreeMap<String, tokio::fs::File>>,
}

impl FsDisk {
    /// Files under `root` (created on the first append).
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
        file.write_all(bytes).await.map_err(|e| self.error(path, e))?;
        // tokio's `write_all` returns once the bytes are handed to a blocking thread; `flush`
        // waits for that write to finish, so a read (or a truncate) after `append` returns sees
        // them, as the `Disk` contract says (runtime::conformance::disk found this).
        file.flush().await.map_err(|e| self.error(path, e))
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
        if let Some(mut appending) = files.remove(path) {
            // No write of the old handle may land after the cut.
            appending.flush().await.map_err(|e| self.error(path, e))?;
        }
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.root.join(path))
            .await
            .map_err(|e| self.error(path, e))?;
        file.set_len(length).await.map_err(|e| self.error(path, e))?;
        file.sync_all().await.map_err(|e| self.error(path, e))
    }
}
