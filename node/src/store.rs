//! The node's persistent store: an append-only log of the units and checkpoints it accepted,
//! replayed on start. Records are `[kind u8][length u32 LE][checksum 8 bytes][bytes]`; the
//! checksum (BLAKE3, first 8 bytes) detects a torn tail after a crash, and replay stops at the
//! first bad record and truncates the log there, so a crash mid-write loses only that record.
//! The driver syncs the log before it reports anything final, so nothing final is ever lost.
//!
//! Shards a storage node keeps for others go to a second log of the same format
//! (`KIND_SHARD` records: file id, shard index, bytes), synced before the hand-over is
//! acknowledged, and are handed back to the core on start (docs/storage.md).

use crate::core::hash::Hash;
use crate::core::record::{Record, RecordKind};

pub const KIND_TRANSACTION: u8 = 1;
pub const KIND_CHECKPOINT: u8 = 2;
pub const KIND_SHARD: u8 = 3;
const RECORD_HEADER_BYTES: usize = 13;

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

/// Decode a log: the valid records and the length of the valid prefix.
pub fn decode_log(log: &[u8]) -> (Vec<(u8, &[u8])>, usize) {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset + RECORD_HEADER_BYTES <= log.len() {
        let kind = log[offset];
        let mut length_bytes = [0u8; 4];
        length_bytes.copy_from_slice(&log[offset + 1..offset + 5]);
        let length = u32::from_le_bytes(length_bytes) as usize;
        let start = offset + RECORD_HEADER_BYTES;
        let Some(end) = start.checked_add(length).filter(|end| *end <= log.len()) else { break };
        let body = &log[start..end];
        if Hash::of(body).0[..8] != log[offset + 5..offset + 13] {
            break;
        }
        if !matches!(kind, KIND_TRANSACTION | KIND_CHECKPOINT | KIND_SHARD) {
            break;
        }
        records.push((kind, body));
        offset = end;
    }
    (records, offset)
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
    log.extend_from_slice(&encode_unit_record(
        kind_byte(record.kind()),
        record.bytes(),
        record.id(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn torn_tail_is_cut_at_the_last_good_record() {
        let mut log = encode_record(KIND_TRANSACTION, b"first");
        log.extend(encode_record(KIND_CHECKPOINT, b"second"));
        let good = log.len();
        log.extend(&encode_record(KIND_TRANSACTION, b"third")[..7]);
        let (records, valid) = decode_log(&log);
        assert_eq!(
            records,
            vec![(KIND_TRANSACTION, &b"first"[..]), (KIND_CHECKPOINT, &b"second"[..])]
        );
        assert_eq!(valid, good);
        let mut corrupt = log.clone();
        corrupt[RECORD_HEADER_BYTES + 1] ^= 1;
        assert_eq!(decode_log(&corrupt).0.len(), 0);
    }

    #[test]
    fn shard_records_round_trip() {
        let id = Hash::of(b"file");
        let log = encode_record(KIND_SHARD, &encode_shard(&id, 3, b"bytes"));
        let (records, valid) = decode_log(&log);
        assert_eq!(valid, log.len());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].0, KIND_SHARD);
        assert_eq!(decode_shard(records[0].1), Some((id, 3, &b"bytes"[..])));
        assert_eq!(decode_shard(&[0u8; 32]), None);
    }

    proptest! {
        #[test]
        fn arbitrary_logs_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let (records, valid) = decode_log(&bytes);
            prop_assert!(valid <= bytes.len());
            prop_assert!(records.len() <= bytes.len() / RECORD_HEADER_BYTES);
        }
    }
}
