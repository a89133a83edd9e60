//! Opening a log at start: read it, keep its valid prefix, cut a torn tail, refuse corruption.
//!
//! The rule that tells a torn tail from corruption is in [`crate::store`]. A torn tail is the
//! normal trace of a crash and is cut with a warning (the unsynced records it held were never
//! reported final or acknowledged). Corruption stops the node with [`StoreError::Corrupt`]:
//! the file is left exactly as it was (nothing truncated, nothing rewritten), because the
//! records after the damage may be acknowledged shards or units the node reported final, and
//! a node that silently restarts from a shorter log forges and reports finality on a history
//! it has lost. The operator decides (restore a backup, or move the file aside so that the
//! node re-fetches from its peers); the node never guesses.

use super::{LogEnd, decode_ranges};
use crate::runtime::{Disk, DiskError};
use std::ops::Range;

/// Why a log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A bad record has well-formed records after it: damage, not a crash's torn write.
    #[error(
        "{path} is corrupt: record {record_index} at bytes {offset}..{damaged_end} of \
         {file_bytes} is damaged and {valid_after} valid records follow it. This is not a torn \
         write from a crash, so the node refuses to start rather than drop them; the file was \
         left untouched. Keep a copy for inspection, then restore it from a backup, or move it \
         aside (units.log: the node re-fetches the chain from its peers; shards.log: the \
         shards it held are rebuilt by their owners' repair)"
    )]
    Corrupt {
        /// The log's path, as handed to the [`Disk`].
        path: String,
        /// Offset of the damaged record.
        offset: u64,
        /// Where the first valid record after the damage starts.
        damaged_end: u64,
        /// The file's length in bytes, unchanged by the refusal.
        file_bytes: u64,
        /// Valid records before the damage.
        record_index: u64,
        /// Valid records back to back after the damage.
        valid_after: u64,
    },
    /// A bad record was met and the resynchronising scan gave up
    /// ([`SCAN_HASHED_BYTES_MAX`](super::SCAN_HASHED_BYTES_MAX)) before it could tell a torn
    /// tail from corruption, so the log is treated as corrupt.
    #[error(
        "{path} is damaged at record {record_index} (byte {offset} of {file_bytes}) and the \
         scan for valid records after it gave up before the end, so it cannot be told from \
         corruption: the node refuses to start and left the file untouched. Keep a copy, then \
         restore it from a backup or move it aside (the node re-fetches from its peers)"
    )]
    Unscanned {
        /// The log's path, as handed to the [`Disk`].
        path: String,
        /// Offset of the damaged record.
        offset: u64,
        /// The file's length in bytes, unchanged by the refusal.
        file_bytes: u64,
        /// Valid records before the damage.
        record_index: u64,
    },
    /// Reading, cutting or syncing the log failed.
    #[error(transparent)]
    Disk(#[from] DiskError),
}

/// The valid prefix of a log, as read at start.
pub struct OpenedLog {
    bytes: Vec<u8>,
    records: Vec<(u8, Range<usize>)>,
    /// The file's length before a torn tail was cut.
    pub file_bytes: usize,
    /// Its length now: the valid prefix.
    pub valid_bytes: usize,
}

impl OpenedLog {
    /// The valid records in log order: kind and body.
    pub fn records(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.records.iter().map(|(kind, body)| (*kind, &self.bytes[body.clone()]))
    }

    /// Number of valid records, i.e. of items [`OpenedLog::records`] yields.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }
}

/// Read the log at `path` (`None` if there is none), cut a torn tail (durably), and refuse
/// a corrupt log with a typed error, logged at error level, without changing the file.
pub async fn open<D: Disk>(disk: &D, path: &str) -> Result<Option<OpenedLog>, StoreError> {
    let Some(bytes) = disk.read_all(path).await? else { return Ok(None) };
    let file_bytes = bytes.len();
    let (records, valid_len, end) = decode_ranges(&bytes);
    // Pair assertion with the write side (`append_record`): the records read back re-encode to
    // exactly the bytes of the valid prefix.
    debug_assert!(
        records
            .iter()
            .flat_map(|(kind, body)| super::encode_record(*kind, &bytes[body.clone()]))
            .eq(bytes[..valid_len].iter().copied())
    );
    match end {
        LogEnd::Clean => {}
        LogEnd::TornTail { offset, torn_bytes } => {
            debug_assert_eq!(offset + torn_bytes, file_bytes);
            tracing::warn!(
                path,
                offset,
                torn_bytes,
                records = records.len(),
                "cutting a torn tail (a write cut short by a crash; no valid record follows)"
            );
            disk.truncate(path, offset as u64).await?;
            disk.sync(path).await?;
        }
        LogEnd::Corrupt(corruption) => {
            let error = match corruption.resume_offset {
                Some(resume) => StoreError::Corrupt {
                    path: path.to_string(),
                    offset: corruption.offset as u64,
                    damaged_end: resume as u64,
                    file_bytes: file_bytes as u64,
                    record_index: corruption.record_index as u64,
                    valid_after: corruption.valid_after as u64,
                },
                None => StoreError::Unscanned {
                    path: path.to_string(),
                    offset: corruption.offset as u64,
                    file_bytes: file_bytes as u64,
                    record_index: corruption.record_index as u64,
                },
            };
            tracing::error!(%error, "store corrupt: refusing to start");
            return Err(error);
        }
    }
    debug_assert!(valid_len <= file_bytes);
    Ok(Some(OpenedLog { bytes, records, file_bytes, valid_bytes: valid_len }))
}
