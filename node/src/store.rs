//! The node's persistent store: an append-only log of the units and checkpoints it accepted,
//! replayed on start. Records are `[kind u8][length u32 LE][checksum 8 bytes][bytes]`; the
//! checksum is the first 8 bytes of the body's BLAKE3 hash. The driver syncs the log before it
//! reports anything final, so nothing final is ever lost to a crash.
//!
//! Shards a storage node keeps for others go to a second log of the same format
//! (`KIND_SHARD` records: file id, shard index, bytes), synced before the hand-over is
//! acknowledged, and are handed back to the core on start (docs/storage.md).
//!
//! # Torn tails and corruption
//!
//! A record is *well formed* at offset `o` when its header fits in the file, its kind is one
//! of `KIND_*`, its body (`length` bytes after the header) ends inside the file, and the
//! checksum matches the body. [`decode_log`] reads well-formed records from offset 0 until
//! the first one that is not, the *bad record* at offset `b`, and classifies the log:
//! - **clean**: there is no bad record (every byte belongs to a record);
//! - **torn tail**: no well-formed record starts at any offset in `b + 1 .. len`. A crash
//!   keeps a prefix of what was appended since the last sync, so it can only damage the end
//!   of the log: cutting at `b` loses only unsynced records, which nothing was reported on;
//! - **corrupt**: a well-formed record starts at some offset `r > b`. Valid data after
//!   damage is not what a crash leaves behind (a flipped bit, a bad sector, a stray write):
//!   cutting at `b` would silently drop the records from `r` on, acknowledged ones included,
//!   so the caller must refuse (`store::replay`). The damaged range is `b .. r`.
//!
//! The scan for `r` runs only once a bad record is met and is bounded: an offset is hashed
//! only after its kind byte and length pass (a 3-in-256 and a length-fits filter on
//! arbitrary bytes), and the scan stops at the first well-formed record or after hashing
//! [`SCAN_HASHED_BYTES_MAX`] bytes. A scan that gives up is reported as corrupt with no
//! known resume point: refusing to start is recoverable, a silent cut is not. One case is
//! classified conservatively by design: a torn record whose surviving bytes happen to embed
//! a well-formed record (a 64-bit checksum match: by chance ~2^-64 per candidate, on purpose
//! only by whoever chose the body's bytes) is reported as corrupt rather than cut.

use crate::core::hash::Hash;
use crate::core::record::{Record, RecordKind};
use std::ops::Range;

pub mod damage;
pub mod replay;

/// Kind byte of a record holding a unit's canonical bytes ([`RecordKind::Unit`]).
pub const KIND_TRANSACTION: u8 = 1;
/// Kind byte of a record holding a checkpoint's canonical bytes ([`RecordKind::Checkpoint`]).
pub const KIND_CHECKPOINT: u8 = 2;
/// Kind byte of a shard-log record: see [`encode_shard`] for its body.
pub const KIND_SHARD: u8 = 3;
const RECORD_HEADER_BYTES: usize = 13;
/// Bytes the resynchronising scan may hash before it gives up (about half a second of one
/// core): bounds a scan over adversarial bytes, whose every offset may pass the cheap filters.
pub const SCAN_HASHED_BYTES_MAX: usize = 1 << 30;

/// How a log ends (the rule is in the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEnd {
    /// Every byte belongs to a well-formed record.
    Clean,
    /// The bytes from `offset` on (`torn_bytes` of them) hold no well-formed record: a write
    /// cut short by a crash, safe to cut.
    TornTail {
        /// Offset of the bad record, where the log is cut.
        offset: usize,
        /// Bytes from `offset` to the end of the file, all of them dropped by the cut.
        torn_bytes: usize,
    },
    /// A bad record with well-formed records after it: damage, never to be cut.
    Corrupt(Corruption),
}

/// Where a corrupt log is damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// Offset of the bad record.
    pub offset: usize,
    /// Its index: the number of well-formed records before it.
    pub record_index: usize,
    /// Offset of the first well-formed record after it (the damaged range is
    /// `offset..resume_offset`); `None` if the scan gave up ([`SCAN_HASHED_BYTES_MAX`]).
    pub resume_offset: Option<usize>,
    /// Well-formed records back to back from `resume_offset`, up to the next damage or the end.
    pub valid_after: usize,
}

/// A decoded log: the records of its valid prefix and how it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedLog<'a> {
    /// Kind byte (`KIND_*`) and body of each well-formed record, in log order.
    pub records: Vec<(u8, &'a [u8])>,
    /// Length of the valid prefix: the offset of the bad record, or the whole log.
    pub valid_len: usize,
    /// What follows the valid prefix: nothing, a torn tail or corruption.
    pub end: LogEnd,
}

/// Encode one record.
pub fn encode_record(kind: u8, bytes: &[u8]) -> Vec<u8> {
    encode_unit_record(kind, bytes, &Hash::of(bytes))
}

/// [`encode_record`] for a unit's canonical bytes, whose hash is the unit's id: the checksum
/// is the id's first bytes, so a node writing every unit it accepts hashes none of them again.
pub fn encode_unit_record(kind: u8, bytes: &[u8], id: &Hash) -> Vec<u8> {
    debug_assert_eq!(Hash::of(bytes), *id, "the id of other bytes");
    let mut record = Vec::with_capacity(RECORD_HEADER_BYTES + bytes.len());
    record.push(kind);
    record.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    record.extend_from_slice(&id.0[..8]);
    record.extend_from_slice(bytes);
    record
}

/// Decode a log: the records of its valid prefix, and whether what follows is nothing, a torn
/// tail or corruption.
pub fn decode_log(log: &[u8]) -> DecodedLog<'_> {
    let (ranges, valid_len, end) = decode_ranges(log);
    let records = ranges.into_iter().map(|(kind, body)| (kind, &log[body])).collect();
    DecodedLog { records, valid_len, end }
}

/// [`decode_log`] with each body as a range of `log` (for a caller that keeps the bytes).
pub fn decode_ranges(log: &[u8]) -> (Vec<(u8, Range<usize>)>, usize, LogEnd) {
    decode_with_budget(log, SCAN_HASHED_BYTES_MAX)
}

fn decode_with_budget(
    log: &[u8],
    scan_hashed_bytes_max: usize,
) -> (Vec<(u8, Range<usize>)>, usize, LogEnd) {
    let mut records = Vec::new();
    let valid_len = read_run(log, 0, |kind, body| records.push((kind, body)));
    let end = classify_end(log, valid_len, records.len(), scan_hashed_bytes_max);
    debug_assert!(valid_len <= log.len());
    debug_assert_eq!(end == LogEnd::Clean, valid_len == log.len());
    (records, valid_len, end)
}

/// Read well-formed records back to back from `offset`, handing each to `each`; returns the
/// offset where the run stops (the end of the log or the first bad record).
fn read_run(log: &[u8], mut offset: usize, mut each: impl FnMut(u8, Range<usize>)) -> usize {
    while let Some((kind, body)) = record_header(log, offset) {
        if !checksum_matches(log, offset, &body) {
            break;
        }
        offset = body.end;
        each(kind, body);
    }
    offset
}

fn classify_end(
    log: &[u8],
    bad_offset: usize,
    record_index: usize,
    scan_hashed_bytes_max: usize,
) -> LogEnd {
    if bad_offset == log.len() {
        return LogEnd::Clean;
    }
    match next_well_formed(log, bad_offset + 1, scan_hashed_bytes_max) {
        Scan::NotFound => {
            LogEnd::TornTail { offset: bad_offset, torn_bytes: log.len() - bad_offset }
        }
        Scan::Found(resume) => {
            let mut valid_after = 0;
            read_run(log, resume, |_, _| valid_after += 1);
            debug_assert!(valid_after >= 1);
            LogEnd::Corrupt(Corruption {
                offset: bad_offset,
                record_index,
                resume_offset: Some(resume),
                valid_after,
            })
        }
        Scan::GaveUp => LogEnd::Corrupt(Corruption {
            offset: bad_offset,
            record_index,
            resume_offset: None,
            valid_after: 0,
        }),
    }
}

enum Scan {
    Found(usize),
    NotFound,
    GaveUp,
}

/// The first offset from `from` on where a well-formed record starts.
fn next_well_formed(log: &[u8], from: usize, hashed_bytes_max: usize) -> Scan {
    let mut hashed_bytes = 0usize;
    for offset in from..log.len() {
        // The cheap checks first: most offsets fail the kind or the length.
        let Some((_, body)) = record_header(log, offset) else { continue };
        // A hash of few bytes still costs its setup: count at least one BLAKE3 block.
        hashed_bytes = hashed_bytes.saturating_add(body.len().max(64));
        if hashed_bytes > hashed_bytes_max {
            return Scan::GaveUp;
        }
        if checksum_matches(log, offset, &body) {
            return Scan::Found(offset);
        }
    }
    Scan::NotFound
}

/// The kind and body range of the record whose header is at `offset`, if the header fits,
/// names a known kind and its body ends inside the log (the checksum is not checked).
fn record_header(log: &[u8], offset: usize) -> Option<(u8, Range<usize>)> {
    let header = log.get(offset..offset.checked_add(RECORD_HEADER_BYTES)?)?;
    let kind = header[0];
    if !matches!(kind, KIND_TRANSACTION | KIND_CHECKPOINT | KIND_SHARD) {
        return None;
    }
    let mut length_bytes = [0u8; 4];
    length_bytes.copy_from_slice(&header[1..5]);
    let length = u32::from_le_bytes(length_bytes) as usize;
    let start = offset + RECORD_HEADER_BYTES;
    let end = start.checked_add(length).filter(|end| *end <= log.len())?;
    Some((kind, start..end))
}

fn checksum_matches(log: &[u8], offset: usize, body: &Range<usize>) -> bool {
    Hash::of(&log[body.clone()]).0[..8] == log[offset + 5..offset + RECORD_HEADER_BYTES]
}

/// The body of a `KIND_SHARD` record.
pub fn encode_shard(file_id: &Hash, shard_index: u8, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(33 + bytes.len());
    body.extend_from_slice(file_id.as_bytes());
    body.push(shard_index);
    body.extend_from_slice(bytes);
    body
}

/// Decode a `KIND_SHARD` body; `None` if it is too short to hold the header.
pub fn decode_shard(body: &[u8]) -> Option<(Hash, u8, &[u8])> {
    if body.len() < 33 {
        return None;
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(&body[..32]);
    Some((Hash(id), body[32], &body[33..]))
}

/// The kind byte of a core record on disk.
pub fn kind_byte(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Unit => KIND_TRANSACTION,
        RecordKind::Checkpoint => KIND_CHECKPOINT,
    }
}

/// The core record kind of a unit-log kind byte (`None` for shards and unknown kinds).
pub fn record_kind(kind: u8) -> Option<RecordKind> {
    match kind {
        KIND_TRANSACTION => Some(RecordKind::Unit),
        KIND_CHECKPOINT => Some(RecordKind::Checkpoint),
        _ => None,
    }
}

/// Append `record` to `log` in the on-disk format (its id is the checksum's source).
pub fn append_record(log: &mut Vec<u8>, record: &Record) {
    let start = log.len();
    log.extend_from_slice(&encode_unit_record(
        kind_byte(record.kind()),
        record.bytes(),
        record.id(),
    ));
    // Pair assertion with the read side (`replay::open`): what goes to disk decodes back to
    // exactly this record, cleanly.
    debug_assert!({
        let decoded = decode_log(&log[start..]);
        decoded.end == LogEnd::Clean
            && decoded.records == [(kind_byte(record.kind()), record.bytes())]
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn log_of(bodies: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        let mut log = Vec::new();
        let mut offsets = Vec::new();
        for (index, body) in bodies.iter().enumerate() {
            offsets.push(log.len());
            let kind = if index % 2 == 0 { KIND_TRANSACTION } else { KIND_CHECKPOINT };
            log.extend(encode_record(kind, body));
        }
        (log, offsets)
    }

    #[test]
    fn torn_tail_is_cut_at_the_last_good_record() {
        let mut log = encode_record(KIND_TRANSACTION, b"first");
        log.extend(encode_record(KIND_CHECKPOINT, b"second"));
        let good = log.len();
        log.extend(&encode_record(KIND_TRANSACTION, b"third")[..7]);
        let decoded = decode_log(&log);
        assert_eq!(
            decoded.records,
            vec![(KIND_TRANSACTION, &b"first"[..]), (KIND_CHECKPOINT, &b"second"[..])]
        );
        assert_eq!(decoded.valid_len, good);
        assert_eq!(decoded.end, LogEnd::TornTail { offset: good, torn_bytes: 7 });
        let clean = decode_log(&log[..good]);
        assert_eq!((clean.valid_len, clean.end), (good, LogEnd::Clean));
    }

    #[test]
    fn a_bad_record_followed_by_a_good_one_is_corruption() {
        let (mut log, offsets) = log_of(&[b"first", b"second", b"third", b"fourth"]);
        // Inside the body of record 1 (the second).
        log[offsets[1] + RECORD_HEADER_BYTES + 1] ^= 0x40;
        let decoded = decode_log(&log);
        assert_eq!(decoded.valid_len, offsets[1]);
        assert_eq!(decoded.records.len(), 1);
        assert_eq!(
            decoded.end,
            LogEnd::Corrupt(Corruption {
                offset: offsets[1],
                record_index: 1,
                resume_offset: Some(offsets[2]),
                valid_after: 2,
            })
        );
    }

    #[test]
    fn a_flipped_length_or_kind_is_corruption_too() {
        let (log, offsets) = log_of(&[b"first", b"second", b"third"]);
        // A length pointing past the end of the log, and a kind no record has.
        for (byte, flip) in [(4, 0x80), (0, 0x10)] {
            let mut damaged = log.clone();
            damaged[offsets[1] + byte] ^= flip;
            let LogEnd::Corrupt(corruption) = decode_log(&damaged).end else {
                panic!("byte {byte}: {:?}", decode_log(&damaged).end)
            };
            assert_eq!(corruption.resume_offset, Some(offsets[2]));
            assert_eq!(corruption.valid_after, 1);
        }
    }

    #[test]
    fn damage_in_the_last_record_is_a_torn_tail() {
        let (mut log, offsets) = log_of(&[b"first", b"second"]);
        let last = log.len() - 1;
        log[last] ^= 1;
        assert_eq!(
            decode_log(&log).end,
            LogEnd::TornTail { offset: offsets[1], torn_bytes: log.len() - offsets[1] }
        );
    }

    #[test]
    fn the_scan_gives_up_on_adversarial_bytes_and_reports_corruption() {
        // After a bad record, every offset names a kind and a length that fits, so every
        // offset is hashed: the budget stops the scan and the log is refused, not cut.
        let mut log = vec![0xff; RECORD_HEADER_BYTES];
        let length = 4096;
        let mut pattern = vec![KIND_TRANSACTION];
        pattern.extend_from_slice(&(length as u32).to_le_bytes());
        while log.len() < 4 * length {
            log.extend_from_slice(&pattern);
        }
        let (records, valid_len, end) = decode_with_budget(&log, 16 * length);
        assert_eq!((records.len(), valid_len), (0, 0));
        let LogEnd::Corrupt(corruption) = end else { panic!("{end:?}") };
        assert_eq!((corruption.resume_offset, corruption.valid_after), (None, 0));
        // With the budget to finish, the same bytes hold no record: a torn tail.
        let (_, _, end) = decode_with_budget(&log, usize::MAX);
        assert_eq!(end, LogEnd::TornTail { offset: 0, torn_bytes: log.len() });
    }

    #[test]
    fn shard_records_round_trip() {
        let id = Hash::of(b"file");
        let log = encode_record(KIND_SHARD, &encode_shard(&id, 3, b"bytes"));
        let decoded = decode_log(&log);
        assert_eq!((decoded.valid_len, decoded.end), (log.len(), LogEnd::Clean));
        assert_eq!(decoded.records.len(), 1);
        assert_eq!(decoded.records[0].0, KIND_SHARD);
        assert_eq!(decode_shard(decoded.records[0].1), Some((id, 3, &b"bytes"[..])));
        assert_eq!(decode_shard(&[0u8; 32]), None);
    }

    proptest! {
        #[test]
        fn arbitrary_logs_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let decoded = decode_log(&bytes);
            prop_assert!(decoded.valid_len <= bytes.len());
            prop_assert!(decoded.records.len() <= bytes.len() / RECORD_HEADER_BYTES);
        }

        /// Damage anywhere before the last record is never classified as a torn tail: the
        /// records after it are always found and counted.
        #[test]
        fn a_flipped_region_before_the_last_record_is_never_cut(
            bodies in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..200), 2..12),
            position in any::<prop::sample::Index>(),
            flip_length in 1usize..16,
            flip in 1u8..=255,
        ) {
            let bodies: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
            let (mut log, offsets) = log_of(&bodies);
            let last = offsets[offsets.len() - 1];
            let start = position.index(last);
            let end = (start + flip_length).min(last);
            for byte in &mut log[start..end] {
                *byte ^= flip;
            }
            let damaged = offsets.iter().rposition(|offset| *offset <= start).unwrap_or(0);
            let decoded = decode_log(&log);
            prop_assert_eq!(decoded.valid_len, offsets[damaged]);
            let LogEnd::Corrupt(corruption) = decoded.end else {
                return Err(TestCaseError::fail(format!("not corrupt: {:?}", decoded.end)));
            };
            prop_assert_eq!(corruption.record_index, damaged);
            prop_assert!(corruption.resume_offset.is_some_and(|resume| resume >= end));
            // Every record after the damaged range is counted (a region spans at most two).
            let first_intact = offsets.iter().position(|offset| *offset >= end).unwrap_or(0);
            prop_assert_eq!(corruption.valid_after, offsets.len() - first_intact);
        }
    }
}
