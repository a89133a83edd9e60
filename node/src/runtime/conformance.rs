//! The runtime contracts as executable checks, written once and run over every implementation:
//! `TokioClock` and `FsDisk` (node/tests/runtime_conformance.rs), the simulator's `SimClock`
//! (with clock skew) and `SimDisk` (with and without injected I/O errors, in
//! sim/tests/runtime_conformance.rs), and the virtual clock of the node tests.
//!
//! Each check returns the first [`Violation`] it finds instead of panicking, so a caller can
//! name the implementation in its failure message. The checks only use the trait methods: what
//! they accept is exactly what the driver may rely on.

use crate::runtime::{Clock, Disk, DiskError};

/// A broken promise of a runtime trait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// A reading (or a reading after a sleep) was below an earlier one.
    #[error("clock went back: read {later} ms after {earlier} ms")]
    ClockWentBack {
        /// The earlier reading.
        earlier: u64,
        /// The later, smaller reading.
        later: u64,
    },
    /// A sleep completed before the clock reached its instant.
    #[error("sleep_until({at_ms}) completed at {now_ms} ms, before its instant")]
    WokeEarly {
        /// The instant slept until.
        at_ms: u64,
        /// The clock's reading on waking.
        now_ms: u64,
    },
    /// A file did not hold what the operations so far promise.
    #[error("{path}: {what}: expected {expected:?}, read {read:?}")]
    Content {
        /// The file.
        path: String,
        /// The step of the check.
        what: &'static str,
        /// What the contract promises (`None`: no file).
        expected: Option<Vec<u8>>,
        /// What the disk returned.
        read: Option<Vec<u8>>,
    },
    /// A failed append left more, or other, bytes than a prefix of its own.
    #[error(
        "{path}: after a failed append, read {read:?}: not the old content {old:?} plus a prefix of {appended:?}"
    )]
    NotAPrefix {
        /// The file.
        path: String,
        /// The content before the append.
        old: Vec<u8>,
        /// The bytes of the failed append.
        appended: Vec<u8>,
        /// What the disk returned after it.
        read: Vec<u8>,
    },
    /// An operation failed that the check needs to succeed.
    #[error("{path}: {operation} failed on a disk with no faults: {error}")]
    Failed {
        /// The file.
        path: String,
        /// The operation (`append`, `sync`, `truncate`, `read_all`).
        operation: &'static str,
        /// The disk's error.
        error: DiskError,
    },
}

/// What a faulty-disk run saw, so the caller can insist the faults were really injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultTally {
    /// Appends that succeeded.
    pub appends_ok: u64,
    /// Appends that failed (and were cut back).
    pub appends_failed: u64,
    /// Syncs that succeeded.
    pub syncs_ok: u64,
    /// Syncs that failed.
    pub syncs_failed: u64,
}

/// Checks of the [`Clock`] contract: monotone across readings and clones, and a sleep never
/// ends before its instant (also when the instant is in the past, it ends).
pub async fn clock<C: Clock>(clock: &C) -> Result<(), Violation> {
    let twin = clock.clone();
    let mut last = clock.now_ms();
    for round in 0..200u64 {
        let reader = if round % 2 == 0 { clock } else { &twin };
        let now = reader.now_ms();
        if now < last {
            return Err(Violation::ClockWentBack { earlier: last, later: now });
        }
        last = now;
        if round % 50 == 0 {
            // A short wait, a wait for the present and one for the past: each must end, and
            // the first not early.
            for at_ms in [now + 3, now, now.saturating_sub(1_000)] {
                reader.sleep_until(at_ms).await;
                let woke = reader.now_ms();
                if woke < at_ms {
                    return Err(Violation::WokeEarly { at_ms, now_ms: woke });
                }
                if woke < last {
                    return Err(Violation::ClockWentBack { earlier: last, later: woke });
                }
                last = woke;
            }
        }
    }
    Ok(())
}

/// Checks of the [`Disk`] contract on a disk that never fails, under file names starting with
/// `prefix` (so one disk can be checked more than once).
pub async fn disk<D: Disk>(disk: &D, prefix: &str) -> Result<(), Violation> {
    let log = format!("{prefix}log");
    let other = format!("{prefix}other");
    expect(disk, &log, "a file never written", None).await?;
    ok(disk.append(&log, b"ab").await, &log, "append")?;
    ok(disk.append(&log, b"cde").await, &log, "append")?;
    expect(disk, &log, "two appends, unsynced", Some(b"abcde")).await?;
    ok(disk.sync(&log).await, &log, "sync")?;
    expect(disk, &log, "after sync", Some(b"abcde")).await?;
    ok(disk.append(&other, b"xyz").await, &other, "append")?;
    expect(disk, &other, "a second file", Some(b"xyz")).await?;
    expect(disk, &log, "the first file beside a second", Some(b"abcde")).await?;
    ok(disk.truncate(&log, 2).await, &log, "truncate")?;
    expect(disk, &log, "truncated to 2", Some(b"ab")).await?;
    ok(disk.append(&log, b"Z").await, &log, "append")?;
    expect(disk, &log, "an append after a truncate", Some(b"abZ")).await?;
    ok(disk.sync(&log).await, &log, "sync")?;
    ok(disk.truncate(&log, 0).await, &log, "truncate")?;
    expect(disk, &log, "truncated to 0", Some(b"")).await?;
    // A larger record than any buffer a disk might keep: order and content survive.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    ok(disk.append(&log, &big).await, &log, "append")?;
    ok(disk.append(&log, b"tail").await, &log, "append")?;
    let mut expected = big;
    expected.extend_from_slice(b"tail");
    expect(disk, &log, "a 200 kB append then a small one", Some(&expected)).await?;
    expect(disk, &other, "the second file, untouched", Some(b"xyz")).await
}

/// Checks of the [`Disk`] contract on a disk that fails some appends and syncs on purpose:
/// `rounds` appends of distinct bytes, each followed by a sync. A successful append adds all of
/// its bytes; a failed one at most a prefix of them (the caller then cuts the file back, as the
/// driver's replay does); a failed sync changes no content.
pub async fn faulty_disk<D: Disk>(
    disk: &D,
    path: &str,
    rounds: u32,
) -> Result<FaultTally, Violation> {
    let mut tally = FaultTally::default();
    let mut content: Vec<u8> = Vec::new();
    for round in 0..rounds {
        let record: Vec<u8> = (0..(17 + round % 300)).map(|i| (round * 7 + i) as u8).collect();
        match disk.append(path, &record).await {
            Ok(()) => {
                tally.appends_ok += 1;
                content.extend_from_slice(&record);
                expect(disk, path, "after a successful append", Some(&content)).await?;
            }
            Err(_) => {
                tally.appends_failed += 1;
                let read = read(disk, path).await?.unwrap_or_default();
                let extra = read.get(content.len()..).unwrap_or_default();
                if !read.starts_with(&content) || !record.starts_with(extra) {
                    return Err(Violation::NotAPrefix {
                        path: path.to_string(),
                        old: content,
                        appended: record,
                        read,
                    });
                }
                ok(disk.truncate(path, content.len() as u64).await, path, "truncate")?;
                expect(disk, path, "cut back after a failed append", Some(&content)).await?;
            }
        }
        match disk.sync(path).await {
            Ok(()) => tally.syncs_ok += 1,
            Err(_) => tally.syncs_failed += 1,
        }
        expect(disk, path, "after a sync (failed or not)", Some(&content)).await?;
    }
    Ok(tally)
}

async fn read<D: Disk>(disk: &D, path: &str) -> Result<Option<Vec<u8>>, Violation> {
    disk.read_all(path).await.map_err(|error| Violation::Failed {
        path: path.to_string(),
        operation: "read_all",
        error,
    })
}

async fn expect<D: Disk>(
    disk: &D,
    path: &str,
    what: &'static str,
    expected: Option<&[u8]>,
) -> Result<(), Violation> {
    let read = read(disk, path).await?;
    if read.as_deref() == expected {
        return Ok(());
    }
    Err(Violation::Content {
        path: path.to_string(),
        what,
        expected: expected.map(<[u8]>::to_vec),
        read,
    })
}

fn ok(result: Result<(), DiskError>, path: &str, operation: &'static str) -> Result<(), Violation> {
    result.map_err(|error| Violation::Failed { path: path.to_string(), operation, error })
}
