//! A simulated disk: in memory, one per node, shared across that node's restarts.
//!
//! Model: each file is a durable part (what reached the platter) and a pending part (appended
//! but not yet synced). Reads see both, as a process sees its own writes through the page cache.
//! `sync` makes the pending part durable. A crash ([`SimDisk::crash`]) keeps a seeded random
//! prefix of each pending part (zero bytes: lost; all of it: lucky; in between: a torn write)
//! and drops the rest, which is what a power cut does to an append-only log. `truncate` is
//! durable at once (the driver syncs right after it anyway).
//!
//! I/O errors (the `disk` fault): while a node's error rate is above zero, each `append` and
//! `sync` fails with [`DiskError::Io`] with that probability, drawn from the disk's own seeded
//! stream. A failed append may still have written a seeded random prefix of its bytes (a short
//! write: the log now ends in a torn record); a failed sync leaves the pending bytes pending
//! (neither durable nor dropped). Not modelled: Linux's behaviour after a failed fsync, which
//! marks the dirty pages clean so a later fsync "succeeds" without writing them; reads and
//! truncates never fail.

use std::collections::BTreeMap;
use std::future::{Future, ready};
use std::sync::{Arc, Mutex, PoisonError};
use vein_node::core::random::DetRng;
use vein_node::runtime::{Disk, DiskError};

/// Bytes per block of a file's durable part.
const BLOCK_BYTES: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
struct FileState {
    /// The durable part in fixed-size blocks, filled in order. One growing vector would be
    /// copied whole at every doubling: with a thousand nodes each syncing a log after every
    /// unit, those copies and the fresh pages behind them were a tenth of a run.
    durable: Vec<Vec<u8>>,
    durable_len: usize,
    pending: Vec<u8>,
}

impl FileState {
    fn make_durable(&mut self, mut bytes: &[u8]) {
        self.durable_len += bytes.len();
        while !bytes.is_empty() {
            if self.durable.last().is_none_or(|block| block.len() == BLOCK_BYTES) {
                self.durable.push(Vec::with_capacity(BLOCK_BYTES));
            }
            let Some(block) = self.durable.last_mut() else { return };
            let take = bytes.len().min(BLOCK_BYTES - block.len());
            block.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
    }

    /// Everything a process reads back: the durable part, then the pending part.
    fn content(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.durable_len + self.pending.len());
        for block in &self.durable {
            bytes.extend_from_slice(block);
        }
        bytes.extend_from_slice(&self.pending);
        bytes
    }
}

/// What a crash did to the disk.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CrashReport {
    /// Unsynced bytes that survived (a torn prefix counts).
    pub kept_bytes: u64,
    /// Unsynced bytes dropped (the rest of a torn write counts).
    pub lost_bytes: u64,
}

/// Injected I/O errors.
#[derive(Debug, Clone)]
struct ErrorState {
    rate: f64,
    rng: DetRng,
    injected: u64,
}

impl Default for ErrorState {
    fn default() -> ErrorState {
        ErrorState { rate: 0.0, rng: DetRng::from_seed([0; 32]), injected: 0 }
    }
}

/// A node's disk. Clones share the same files.
#[derive(Debug, Default, Clone)]
pub struct SimDisk {
    files: Arc<Mutex<BTreeMap<String, FileState>>>,
    errors: Arc<Mutex<ErrorState>>,
}

impl SimDisk {
    /// An empty disk that never fails (its error stream is seeded with zeros).
    pub fn new() -> SimDisk {
        SimDisk::default()
    }

    /// A disk whose injected errors are drawn from `seed`.
    pub fn with_seed(seed: [u8; 32]) -> SimDisk {
        let disk = SimDisk::default();
        disk.with_errors(|errors| errors.rng = DetRng::from_seed(seed));
        disk
    }

    fn with_errors<T>(&self, f: impl FnOnce(&mut ErrorState) -> T) -> T {
        f(&mut self.errors.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Fail this fraction of appends and syncs from now on (0 stops the errors).
    pub fn set_error_rate(&self, rate: f64) {
        self.with_errors(|errors| errors.rate = rate.clamp(0.0, 1.0));
    }

    /// How many errors were injected so far.
    pub fn errors_injected(&self) -> u64 {
        self.with_errors(|errors| errors.injected)
    }

    /// `Some(kept)` if this operation fails: for an append of `length` bytes, how many of them
    /// were written anyway.
    fn fail(&self, length: usize) -> Option<usize> {
        self.with_errors(|errors| {
            // No draw while healthy, so a run's error stream starts with its first fault.
            if errors.rate <= 0.0 || errors.rng.unit_f64() >= errors.rate {
                return None;
            }
            errors.injected += 1;
            Some(errors.rng.below(length as u64 + 1) as usize)
        })
    }

    fn with_files<T>(&self, f: impl FnOnce(&mut BTreeMap<String, FileState>) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update; the data is still ours.
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut files)
    }

    /// A power cut: every file keeps a random prefix of its unsynced bytes.
    pub fn crash(&self, rng: &mut DetRng) -> CrashReport {
        self.with_files(|files| {
            let mut report = CrashReport::default();
            for file in files.values_mut() {
                let pending = std::mem::take(&mut file.pending);
                let kept = rng.below(pending.len() as u64 + 1) as usize;
                file.make_durable(&pending[..kept]);
                report.kept_bytes += kept as u64;
                report.lost_bytes += (pending.len() - kept) as u64;
            }
            report
        })
    }

    /// Bytes of `path` that would survive a crash.
    pub fn durable_len(&self, path: &str) -> u64 {
        self.with_files(|files| files.get(path).map_or(0, |file| file.durable_len as u64))
    }

    /// The `corrupt` fault: flip one byte in the body of a whole record of the log at `path`
    /// that another whole record follows (damage no crash explains), chosen by `pick`. Returns
    /// the flipped offset, or `None` when the log has fewer than two whole records. Durable at
    /// once, like a bit rotting on the platter.
    pub fn corrupt_record(&self, path: &str, pick: u64) -> Option<u64> {
        self.with_files(|files| {
            let file = files.get_mut(path)?;
            let mut content = file.content();
            let site = vein_node::store::damage::damage(&mut content, pick)?;
            let mut damaged = FileState::default();
            damaged.make_durable(&content);
            *file = damaged;
            Some(site.offset as u64)
        })
    }

    /// Replace `path` with what `from` has durable there (an operator restoring a damaged log
    /// from a healthy peer's copy).
    pub fn restore_from(&self, from: &SimDisk, path: &str) {
        let content = from.with_files(|files| {
            files.get(path).map(|file| {
                let mut bytes = file.content();
                bytes.truncate(file.durable_len);
                bytes
            })
        });
        self.with_files(|files| {
            let mut restored = FileState::default();
            restored.make_durable(&content.unwrap_or_default());
            files.insert(path.to_string(), restored);
        });
    }

    /// Every file with what a process would read back from it (the confidentiality scan).
    pub fn contents(&self) -> Vec<(String, Vec<u8>)> {
        self.with_files(|files| {
            files.iter().map(|(path, file)| (path.clone(), file.content())).collect()
        })
    }

    /// Bytes of `path` appended but not yet synced (0 for a missing file).
    pub fn pending_len(&self, path: &str) -> u64 {
        self.with_files(|files| files.get(path).map_or(0, |file| file.pending.len() as u64))
    }
}

impl Disk for SimDisk {
    fn read_all(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, DiskError>> + Send {
        let content = self.with_files(|files| files.get(path).map(FileState::content));
        ready(Ok(content))
    }

    fn append(
        &self,
        path: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), DiskError>> + Send {
        let (written, result) = match self.fail(bytes.len()) {
            Some(kept) => (&bytes[..kept], Err(io_error(path, "injected write error"))),
            None => (bytes, Ok(())),
        };
        self.with_files(|files| {
            files.entry(path.to_string()).or_default().pending.extend_from_slice(written);
        });
        ready(result)
    }

    fn sync(&self, path: &str) -> impl Future<Output = Result<(), DiskError>> + Send {
        if self.fail(0).is_some() {
            return ready(Err(io_error(path, "injected sync error")));
        }
        self.with_files(|files| {
            if let Some(file) = files.get_mut(path) {
                let pending = std::mem::take(&mut file.pending);
                file.make_durable(&pending);
            }
        });
        ready(Ok(()))
    }

    fn truncate(
        &self,
        path: &str,
        length: u64,
    ) -> impl Future<Output = Result<(), DiskError>> + Send {
        self.with_files(|files| {
            let file = files.entry(path.to_string()).or_default();
            let mut bytes = file.content();
            bytes.truncate(length as usize);
            *file = FileState::default();
            file.make_durable(&bytes);
        });
        ready(Ok(()))
    }
}

fn io_error(path: &str, reason: &str) -> DiskError {
    DiskError::Io { path: path.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn synced_bytes_survive_a_crash_and_unsynced_are_cut() {
        let disk = SimDisk::new();
        block_on(disk.append("log", b"durable")).unwrap();
        block_on(disk.sync("log")).unwrap();
        block_on(disk.append("log", b"pending-bytes")).unwrap();
        assert_eq!(block_on(disk.read_all("log")).unwrap().unwrap(), b"durablepending-bytes");
        let mut rng = DetRng::from_seed([3; 32]);
        let report = disk.crash(&mut rng);
        assert_eq!(report.kept_bytes + report.lost_bytes, 13);
        let after = block_on(disk.read_all("log")).unwrap().unwrap();
        assert!(after.starts_with(b"durable"));
        assert_eq!(&after[7..], &b"pending-bytes"[..after.len() - 7]);
        assert_eq!(disk.pending_len("log"), 0);
        assert_eq!(disk.durable_len("log"), after.len() as u64);
    }

    #[test]
    fn crashes_tear_at_varied_points_and_truncate_is_durable() {
        let mut kept = std::collections::BTreeSet::new();
        let mut rng = DetRng::from_seed([5; 32]);
        for _ in 0..50 {
            let disk = SimDisk::new();
            block_on(disk.append("log", &[7; 100])).unwrap();
            kept.insert(disk.crash(&mut rng).kept_bytes);
        }
        assert!(kept.len() > 10, "tears should vary: {kept:?}");
        let disk = SimDisk::new();
        block_on(disk.append("log", b"abcdef")).unwrap();
        block_on(disk.truncate("log", 3)).unwrap();
        disk.crash(&mut rng);
        assert_eq!(block_on(disk.read_all("log")).unwrap().unwrap(), b"abc");
        assert_eq!(block_on(disk.read_all("other")).unwrap(), None);
    }

    #[test]
    fn injected_errors_are_typed_seeded_and_stop_when_healed() {
        let outcomes = |seed: u8| {
            let disk = SimDisk::with_seed([seed; 32]);
            disk.set_error_rate(0.5);
            let results: Vec<bool> = (0..40)
                .map(|i| {
                    if i % 2 == 0 {
                        block_on(disk.append("log", &[1; 50])).is_ok()
                    } else {
                        block_on(disk.sync("log")).is_ok()
                    }
                })
                .collect();
            (results, disk)
        };
        let (first, disk) = outcomes(1);
        assert_eq!(first, outcomes(1).0);
        assert_ne!(first, outcomes(2).0);
        let failed = first.iter().filter(|ok| !**ok).count() as u64;
        assert!((8..32).contains(&failed), "{failed} failed");
        assert_eq!(disk.errors_injected(), failed);
        let error = block_on(async {
            loop {
                if let Err(error) = disk.sync("log").await {
                    return error;
                }
            }
        });
        assert!(matches!(error, DiskError::Io { ref path, .. } if path == "log"));
        disk.set_error_rate(0.0);
        assert!((0..100).all(|_| block_on(disk.append("log", b"x")).is_ok()));
        block_on(disk.sync("log")).unwrap();
        assert_eq!(disk.pending_len("log"), 0);
    }

    #[test]
    fn files_larger_than_a_block_read_back_whole() {
        let disk = SimDisk::new();
        let mut expected = Vec::new();
        for index in 0..3_000u32 {
            let record: Vec<u8> = (0..(index % 97 + 1)).map(|b| (b ^ index) as u8).collect();
            block_on(disk.append("log", &record)).unwrap();
            expected.extend_from_slice(&record);
            if index % 3 == 0 {
                block_on(disk.sync("log")).unwrap();
            }
        }
        assert!(expected.len() > 2 * BLOCK_BYTES);
        assert_eq!(block_on(disk.read_all("log")).unwrap().unwrap(), expected);
        let durable = disk.durable_len("log") as usize;
        assert_eq!(durable + disk.pending_len("log") as usize, expected.len());
        block_on(disk.truncate("log", (BLOCK_BYTES + 5) as u64)).unwrap();
        assert_eq!(block_on(disk.read_all("log")).unwrap().unwrap(), &expected[..BLOCK_BYTES + 5]);
    }

    #[test]
    fn a_corrupted_record_is_corruption_to_the_store_and_a_restore_copies_the_durable_part() {
        let disk = SimDisk::new();
        let records: Vec<Vec<u8>> =
            (0..3u8).map(|index| vein_node::store::encode_record(1, &[index; 40])).collect();
        block_on(disk.append("log", &records[0])).unwrap();
        block_on(disk.sync("log")).unwrap();
        assert_eq!(disk.corrupt_record("log", 7), None, "one record: a flip would be a torn tail");
        for record in &records[1..] {
            block_on(disk.append("log", record)).unwrap();
        }
        block_on(disk.sync("log")).unwrap();
        let healthy = SimDisk::new();
        healthy.restore_from(&disk, "log");
        for pick in [0u64, 1, 5, 1 << 40, u64::MAX] {
            let damaged = SimDisk::new();
            damaged.restore_from(&healthy, "log");
            let offset = damaged.corrupt_record("log", pick).unwrap();
            let content = block_on(damaged.read_all("log")).unwrap().unwrap();
            let end = vein_node::store::decode_log(&content).end;
            assert!(
                matches!(end, vein_node::store::LogEnd::Corrupt(_)),
                "pick {pick}, offset {offset}: {end:?}"
            );
            // The operator's restore brings the healthy copy back whole.
            damaged.restore_from(&healthy, "log");
            let restored = block_on(damaged.read_all("log")).unwrap().unwrap();
            assert_eq!(restored, records.concat());
        }
    }

    #[test]
    fn a_failed_sync_keeps_the_bytes_pending() {
        let disk = SimDisk::with_seed([4; 32]);
        block_on(disk.append("log", b"abc")).unwrap();
        disk.set_error_rate(1.0);
        assert!(block_on(disk.sync("log")).is_err());
        assert_eq!((disk.durable_len("log"), disk.pending_len("log")), (0, 3));
        // A failed append writes at most a prefix.
        assert!(block_on(disk.append("log", b"defgh")).is_err());
        let pending = disk.pending_len("log");
        assert!((3..=8).contains(&pending), "{pending}");
        disk.set_error_rate(0.0);
        block_on(disk.sync("log")).unwrap();
        assert_eq!(disk.durable_len("log"), pending);
    }
}
