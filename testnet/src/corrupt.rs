//! `corrupt N`: damage a node's log the way a rotting disk does, and check that the node
//! notices (docs/testnet.md, "Rotting disks").
//!
//! The node is killed (SIGKILL) if it runs; one byte in the body of a record of its log that
//! whole records follow is flipped (damage no crash explains: a flip in the last record would
//! look like a torn write, which the node rightly cuts); then it is started again. A node that
//! refuses to start, naming the damage, passed; one that starts anyway silently lost what
//! followed the damage, and the command fails (exit 1). The damaged file is left in place for
//! the operator: the node's refusal says how to recover (restore the file from a backup, or
//! move it aside so that the node re-fetches from its peers).

use crate::manifest::Manifest;
use crate::{TestnetError, io, is_alive, node_entry};
use std::path::PathBuf;
use std::time::Duration;
use vein_node::store::damage::{DamageSite, damage, damage_site};
use vein_node::store::decode_ranges;

/// Which of a node's logs to damage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFile {
    /// `units.log`: the units and checkpoints the node accepted.
    Units,
    /// `shards.log`: the storage shards it holds for others.
    Shards,
}

impl LogFile {
    fn name(self) -> &'static str {
        match self {
            LogFile::Units => "units.log",
            LogFile::Shards => "shards.log",
        }
    }
}

/// What `corrupt` did and saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptReport {
    /// The damaged log, left damaged in the node's data directory.
    pub file: PathBuf,
    /// The flipped byte's offset, and the record it lies in (of `records` whole records).
    pub offset: usize,
    /// Index (from 0) of the record holding the flipped byte; never the last whole record.
    pub record_index: usize,
    /// Whole records in the log when it was damaged (after the node was killed).
    pub records: usize,
    /// The node's last log lines when it refused to start.
    pub refusal: String,
}

/// Why `corrupt` failed on its own terms (errors of I/O and the node go through
/// [`TestnetError`]).
#[derive(Debug, thiserror::Error)]
pub enum CorruptError {
    /// The log has fewer than two whole records, so no flip can be told from a torn write;
    /// nothing was damaged.
    #[error(
        "{file} holds {records} whole record(s); a flipped byte needs a whole record after it \
         to be told from a torn write: let the node run longer"
    )]
    TooShort {
        /// The log that was read.
        file: PathBuf,
        /// Whole records it held.
        records: usize,
    },
    /// The node started again on the damaged log: it lost what followed the damage silently.
    /// The test fails (exit 1).
    #[error(
        "node {index} STARTED on {file} with byte {offset} flipped (record {record_index}): \
         the damage was not detected"
    )]
    Undetected {
        /// The node that started.
        index: usize,
        /// The damaged log.
        file: PathBuf,
        /// Offset of the flipped byte in the log.
        offset: usize,
        /// Index (from 0) of the record holding it.
        record_index: usize,
    },
}

/// Damage `file` of node `index` (the record and byte chosen by `pick`), restart the node and
/// check that it refuses to start.
pub fn corrupt(
    manifest: &mut Manifest,
    index: usize,
    file: LogFile,
    pick: u64,
    timeout: Duration,
) -> Result<CorruptReport, TestnetError> {
    let node = node_entry(manifest, index)?.clone();
    if node.paused {
        return Err(TestnetError::Paused { index });
    }
    let path = node.data.join(file.name());
    let mut bytes = std::fs::read(&path).map_err(io("reading", &path))?;
    let too_short = |bytes: &[u8]| CorruptError::TooShort {
        file: path.clone(),
        records: decode_ranges(bytes).0.len(),
    };
    if damage_site(&bytes, pick).is_none() {
        return Err(too_short(&bytes).into());
    }
    if node.pid.is_some_and(|pid| is_alive(pid, &node)) {
        crate::kill(manifest, index, false)?;
        // Re-read: the node may have appended until it died.
        bytes = std::fs::read(&path).map_err(io("reading", &path))?;
    }
    let Some(DamageSite { record_index, records, offset }) = damage(&mut bytes, pick) else {
        return Err(too_short(&bytes).into());
    };
    std::fs::write(&path, &bytes).map_err(io("writing", &path))?;
    let report =
        |refusal| CorruptReport { file: path.clone(), offset, record_index, records, refusal };
    match crate::restart(manifest, index, timeout) {
        Err(TestnetError::Exited { log_tail, .. }) if log_tail.contains("corrupt") => {
            manifest.nodes[index].pid = None;
            manifest.save()?;
            Ok(report(log_tail))
        }
        Err(error) => Err(error),
        Ok(()) => Err(CorruptError::Undetected { index, file: path, offset, record_index }.into()),
    }
}
