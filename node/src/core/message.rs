//! Protocol messages between peers. Each travels in a versioned envelope whose `kind` names the
//! variant, so a reader can refuse an unknown kind before decoding the body.

use crate::core::checkpoint::Checkpoint;
use crate::core::hash::Hash;
use crate::core::transaction::Transaction;
use crate::core::wire::{self, WireError};

/// Most ids one `GetUnits` may ask for; a longer request is malformed.
pub const REQUEST_IDS_MAX: usize = 256;

/// Largest shard served in one `Shard` message: the message limit minus room for the envelope.
/// Larger shards are not served over the network yet (docs/storage.md, "Retrieval").
pub const SHARD_MESSAGE_BYTES_MAX: usize = crate::core::wire::MESSAGE_BYTES_MAX - 64 * 1024;

/// One message between peers, as carried in one envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Gossip of a transaction unit (or the answer to `GetUnits`).
    Transaction(Transaction),
    /// Gossip of a checkpoint (or the answer to `GetUnits`).
    Checkpoint(Checkpoint),
    /// Ask for transactions or checkpoints by id.
    GetUnits(Vec<Hash>),
    /// Announce the sender's head so that a peer that missed it can pull it.
    Head {
        /// The id of the sender's head checkpoint.
        id: Hash,
        /// Its height (genesis is 0).
        height: u64,
        /// The chain's cumulative weight up to it (sum of checkpoint weights, fork choice).
        cumulative_weight: u128,
    },
    /// A data owner asks for shard `shard_index` of `file_id` (docs/storage.md, "Retrieval").
    GetShard {
        /// The file's id (its contract key).
        file_id: Hash,
        /// The shard's index in the file's erasure coding.
        shard_index: u8,
    },
    /// A holder's answer to `GetShard`: the shard's bytes, checked by the owner against the
    /// put's root.
    Shard {
        /// The file's id, as asked.
        file_id: Hash,
        /// The shard's index, as asked.
        shard_index: u8,
        /// The shard's (encrypted, erasure-coded) bytes, at most [`SHARD_MESSAGE_BYTES_MAX`].
        bytes: Vec<u8>,
    },
}

/// The still encoded body of a transaction or checkpoint message ([`Message::peek_unit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitBytes<'a> {
    /// A transaction's canonical bytes.
    Transaction(&'a [u8]),
    /// A checkpoint's canonical bytes.
    Checkpoint(&'a [u8]),
}

impl UnitBytes<'_> {
    /// The unit's id: the hash of its canonical encoding.
    pub fn id(&self) -> Hash {
        match self {
            UnitBytes::Transaction(body) | UnitBytes::Checkpoint(body) => Hash::of(body),
        }
    }
}

const KIND_TRANSACTION: u16 = 1;
const KIND_CHECKPOINT: u16 = 2;
const KIND_GET_UNITS: u16 = 3;
const KIND_HEAD: u16 = 4;
const KIND_GET_SHARD: u16 = 5;
const KIND_SHARD: u16 = 6;

impl Message {
    /// The variant's snake_case name, for logs and metric labels.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::Transaction(_) => "transaction",
            Message::Checkpoint(_) => "checkpoint",
            Message::GetUnits(_) => "get_units",
            Message::Head { .. } => "head",
            Message::GetShard { .. } => "get_shard",
            Message::Shard { .. } => "shard",
        }
    }

    /// The sealed envelope: the kind, then the canonical body. Fails on an oversized shard.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let (kind, body) = match self {
            Message::Transaction(tx) => (KIND_TRANSACTION, tx.encode()?),
            Message::Checkpoint(cp) => (KIND_CHECKPOINT, cp.encode()?),
            Message::GetUnits(ids) => (KIND_GET_UNITS, wire::encode_body(ids, "get_units")?),
            Message::Head { id, height, cumulative_weight } => {
                (KIND_HEAD, wire::encode_body(&(id, height, cumulative_weight), "head")?)
            }
            Message::GetShard { file_id, shard_index } => {
                (KIND_GET_SHARD, wire::encode_body(&(file_id, shard_index), "get_shard")?)
            }
            Message::Shard { file_id, shard_index, bytes } => {
                if bytes.len() > SHARD_MESSAGE_BYTES_MAX {
                    return Err(WireError::Oversize {
                        length: bytes.len(),
                        limit: SHARD_MESSAGE_BYTES_MAX,
                    });
                }
                (KIND_SHARD, wire::encode_body(&(file_id, shard_index, bytes), "shard")?)
            }
        };
        wire::seal(kind, body)
    }

    /// A transaction or checkpoint message seen without decoding it: its body is the unit's
    /// canonical encoding, whose hash is the unit's id. `None` for every other kind and for
    /// envelopes that do not open (`decode` says why). Lets a node drop a duplicate after one
    /// hash and one lookup: gossip delivers each transaction about fan-out times and each
    /// checkpoint once per peer.
    pub fn peek_unit(bytes: &[u8]) -> Option<UnitBytes<'_>> {
        match wire::open(bytes) {
            Ok((KIND_TRANSACTION, body)) => Some(UnitBytes::Transaction(body)),
            Ok((KIND_CHECKPOINT, body)) => Some(UnitBytes::Checkpoint(body)),
            _ => None,
        }
    }

    /// Open an envelope from a peer: unknown kinds, non-canonical bodies and over-long id
    /// lists or shards are refused with the matching [`WireError`].
    pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
        let (kind, body) = wire::open(bytes)?;
        match kind {
            KIND_TRANSACTION => Ok(Message::Transaction(Transaction::decode(body)?)),
            KIND_CHECKPOINT => Ok(Message::Checkpoint(Checkpoint::decode(body)?)),
            KIND_GET_UNITS => {
                let ids: Vec<Hash> = wire::decode_body(body, "get_units")?;
                if ids.len() > REQUEST_IDS_MAX {
                    return Err(WireError::Oversize { length: ids.len(), limit: REQUEST_IDS_MAX });
                }
                Ok(Message::GetUnits(ids))
            }
            KIND_HEAD => {
                let (id, height, cumulative_weight) = wire::decode_body(body, "head")?;
                Ok(Message::Head { id, height, cumulative_weight })
            }
            KIND_GET_SHARD => {
                let (file_id, shard_index) = wire::decode_body(body, "get_shard")?;
                Ok(Message::GetShard { file_id, shard_index })
            }
            KIND_SHARD => {
                let (file_id, shard_index, bytes): (Hash, u8, Vec<u8>) =
                    wire::decode_body(body, "shard")?;
                if bytes.len() > SHARD_MESSAGE_BYTES_MAX {
                    return Err(WireError::Oversize {
                        length: bytes.len(),
                        limit: SHARD_MESSAGE_BYTES_MAX,
                    });
                }
                Ok(Message::Shard { file_id, shard_index, bytes })
            }
            kind => Err(WireError::UnknownKind { kind }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::transaction::{TransactionBody, TxKind};
    use proptest::prelude::*;

    fn sample_transaction(nonce: u64, amount: u64) -> Transaction {
        let key = Keypair::derived("message", 0);
        TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Transfer { to: Keypair::derived("message", 1).account(), amount },
            fee: 3,
            parents: [Hash::of(b"a"), Hash::of(b"b")],
            issued_at_ms: 17,
        }
        .sign(&key)
        .unwrap()
    }

    proptest! {
        #[test]
        fn round_trip(nonce in any::<u64>(), amount in any::<u64>(), height in any::<u64>(),
                      weight in any::<u128>(), ids in proptest::collection::vec(any::<[u8; 32]>(), 0..20)) {
            let messages = vec![
                Message::Transaction(sample_transaction(nonce, amount)),
                Message::GetUnits(ids.into_iter().map(Hash).collect()),
                Message::Head { id: Hash::of(&nonce.to_le_bytes()), height, cumulative_weight: weight },
                Message::GetShard { file_id: Hash::of(&height.to_le_bytes()), shard_index: nonce as u8 },
                Message::Shard {
                    file_id: Hash::of(&amount.to_le_bytes()),
                    shard_index: height as u8,
                    bytes: nonce.to_le_bytes().repeat((amount % 5) as usize),
                },
            ];
            for message in messages {
                let bytes = message.encode().unwrap();
                prop_assert_eq!(Message::decode(&bytes).unwrap(), message);
            }
        }

        /// Any byte string decodes to a message or a typed error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Message::decode(&bytes);
            let _ = Message::peek_unit(&bytes).map(|peeked| peeked.id());
        }

        /// The peeked body of a transaction message is its canonical encoding: it hashes to the
        /// id and decodes to the transaction. Other kinds but checkpoints have nothing to peek.
        #[test]
        fn peeked_body_hashes_to_the_id(nonce in any::<u64>(), amount in any::<u64>(), height in any::<u64>()) {
            let tx = sample_transaction(nonce, amount);
            let bytes = Message::Transaction(tx.clone()).encode().unwrap();
            let peeked = Message::peek_unit(&bytes).unwrap();
            let UnitBytes::Transaction(body) = peeked else { panic!("not a transaction: {peeked:?}") };
            prop_assert_eq!(peeked.id(), tx.id().unwrap());
            prop_assert_eq!(Transaction::decode(body).unwrap(), tx);
            let head = Message::Head { id: Hash::ZERO, height, cumulative_weight: 1 }.encode().unwrap();
            prop_assert_eq!(Message::peek_unit(&head), None);
            let get = Message::GetUnits(vec![Hash::of(&height.to_le_bytes())]).encode().unwrap();
            prop_assert_eq!(Message::peek_unit(&get), None);
        }

        /// Valid envelopes with arbitrary bodies for every kind: errors, never panics.
        #[test]
        fn arbitrary_bodies_never_panic(kind in 0u16..8, body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(bytes) = wire::seal(kind, body) {
                let _ = Message::decode(&bytes);
            }
        }

        /// Flipping any byte of a valid message gives an error or a different message.
        #[test]
        fn mutated_messages_never_panic(index in any::<usize>(), flip in 1u8..=255) {
            let bytes = Message::Transaction(sample_transaction(1, 2)).encode().unwrap();
            let mut mutated = bytes.clone();
            let position = index % mutated.len();
            mutated[position] ^= flip;
            if let Ok(Message::Transaction(tx)) = Message::decode(&mutated) {
                prop_assert!(tx != sample_transaction(1, 2) || mutated == bytes);
            }
        }
    }

    #[test]
    fn distinct_errors_for_distinct_faults() {
        assert!(matches!(Message::decode(&[]), Err(WireError::Empty)));
        let unknown = wire::seal(99, vec![]).unwrap();
        assert!(matches!(Message::decode(&unknown), Err(WireError::UnknownKind { kind: 99 })));
        let garbage = wire::seal(KIND_TRANSACTION, vec![1, 2, 3]).unwrap();
        assert!(matches!(Message::decode(&garbage), Err(WireError::Malformed { .. })));
        let too_many: Vec<Hash> = (0..300u32).map(|i| Hash::of(&i.to_le_bytes())).collect();
        let bytes = wire::seal(KIND_GET_UNITS, wire::encode_body(&too_many, "t").unwrap()).unwrap();
        assert!(matches!(Message::decode(&bytes), Err(WireError::Oversize { .. })));
    }
}
