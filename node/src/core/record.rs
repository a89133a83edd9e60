//! What a node asks its environment to keep: every unit and checkpoint it accepts, in the order
//! it accepted them, so that a restart can replay them (`Node::restore`). The core hands
//! records out as `Output::Persist` and decides nothing about files; the store (crate-level
//! `store.rs`) chooses the bytes on disk and maps [`RecordKind`] to its own kind byte.
//!
//! A record carries a unit's gossip envelope (made once and shared with every relay, so
//! persisting costs no copy) or a checkpoint's canonical encoding; [`Record::bytes`] is what
//! `restore` takes back.

use crate::core::hash::Hash;
use crate::core::wire::ENVELOPE_HEADER_BYTES;
use std::sync::Arc;

/// Which kind of record, as `Node::restore` is told on replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKind {
    /// A transaction unit's canonical bytes.
    Unit,
    /// A checkpoint's canonical bytes.
    Checkpoint,
}

/// One accepted unit or checkpoint to keep.
#[derive(Clone, PartialEq, Eq)]
pub enum Record {
    /// A transaction unit: `envelope` is its `Message::Transaction` envelope, whose body is the
    /// unit's canonical bytes (their hash is `id`).
    Unit {
        /// The unit's id: the hash of the envelope's body.
        id: Hash,
        /// The gossip envelope (header and body), shared with every relay of the unit.
        envelope: Arc<Vec<u8>>,
    },
    /// A checkpoint: `bytes` is its canonical encoding (their hash is `id`).
    Checkpoint {
        /// The checkpoint's id: the hash of `bytes`.
        id: Hash,
        /// The canonical encoding, signature included.
        bytes: Vec<u8>,
    },
}

impl Record {
    /// Which variant this is, for the store's kind byte.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Unit { .. } => RecordKind::Unit,
            Record::Checkpoint { .. } => RecordKind::Checkpoint,
        }
    }

    /// The id of the unit or checkpoint: the hash of [`Record::bytes`].
    pub fn id(&self) -> &Hash {
        match self {
            Record::Unit { id, .. } | Record::Checkpoint { id, .. } => id,
        }
    }

    /// The canonical bytes `Node::restore` takes back for this record's kind.
    pub fn bytes(&self) -> &[u8] {
        match self {
            // The core made or adopted the envelope, so it is longer than its header; an empty
            // body would be refused on replay like any undecodable record.
            Record::Unit { envelope, .. } => envelope.get(ENVELOPE_HEADER_BYTES..).unwrap_or(&[]),
            Record::Checkpoint { bytes, .. } => bytes,
        }
    }
}

impl std::fmt::Debug for Record {
    /// Kind, id and length: the bytes themselves would drown a test's output.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:?} {} ({} bytes)", self.kind(), self.id(), self.bytes().len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::wire;

    #[test]
    fn a_unit_record_holds_the_envelope_body() {
        let body = b"canonical".to_vec();
        let envelope = Arc::new(wire::seal(1, body.clone()).unwrap());
        let record = Record::Unit { id: Hash::of(&body), envelope };
        assert_eq!(record.kind(), RecordKind::Unit);
        assert_eq!(record.bytes(), &body[..]);
        assert_eq!(*record.id(), Hash::of(record.bytes()));
        let checkpoint = Record::Checkpoint { id: Hash::of(b"cp"), bytes: b"cp".to_vec() };
        assert_eq!(checkpoint.kind(), RecordKind::Checkpoint);
        assert_eq!(checkpoint.bytes(), b"cp");
    }
}
