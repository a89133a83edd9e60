//! The bodies of the fuzz targets: one function per decoder of untrusted input, each taking
//! arbitrary bytes and asserting that the decoder never panics and that what it accepts
//! survives a round trip through its encoder.
//!
//! They live here, not in `fuzz/`, so that two callers run exactly the same checks: the
//! libFuzzer targets (`fuzz/fuzz_targets/*.rs`, one line each, nightly, `cargo fuzz run`) and
//! the stable test `node/tests/fuzz_corpus.rs`, which runs every committed corpus file and
//! every committed crash through them on every CI run (docs/fuzzing.md). A panic here, an
//! `assert!` included, is a finding: a decoder of bytes from a peer, a disk or an operator
//! must answer with a typed error, never crash the node.
//!
//! Inputs are split into fields by fixed offsets (no structured fuzzing crate): libFuzzer's
//! mutations of a seed encoding reach the decoders' interesting branches quickly that way,
//! and the seeds stay readable as the real encodings they are.

use crate::core::checkpoint::Checkpoint;
use crate::core::hash::Hash;
use crate::core::message::{Message, UnitBytes};
use crate::core::poc::plot_file::{HEADER_BYTES, PlotHeader, PlotReader};
use crate::core::storage::{erasure, merkle};
use crate::core::transaction::Transaction;
use crate::genesis_file::GenesisFile;
use crate::runtime::handshake::{ACK_BYTES, Ack, CHALLENGE_BYTES, Challenge, Hello};
use crate::store;

/// The names of the targets, in the order of `fuzz/Cargo.toml`: each is a function of this
/// module and a directory of `fuzz/corpus/`.
pub const TARGETS: [&str; 10] = [
    "hello",
    "ack",
    "message",
    "transaction",
    "checkpoint",
    "store_log",
    "plot_header",
    "storage_shards",
    "genesis_file",
    "scenario_file",
];

/// The challenge the hello and ack targets answer: any fixed value serves, the signature check
/// of fuzzed bytes fails anyway, and what is exercised is the decoding of key and signature.
const CHALLENGE: Challenge = [0x5a; CHALLENGE_BYTES];

/// Run the node-side target `name` on `data`; `false` if `name` is not a node target (the
/// scenario parser lives in vein-scenarios).
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "hello" => hello(data),
        "ack" => ack(data),
        "message" => message(data),
        "transaction" => transaction(data),
        "checkpoint" => checkpoint(data),
        "store_log" => store_log(data),
        "plot_header" => plot_header(data),
        "storage_shards" => storage_shards(data),
        "genesis_file" => genesis_file(data),
        _ => return false,
    }
    true
}

/// The P2P hello (`Hello::decode`, then the signature check against a fixed challenge): a
/// decoded hello re-encodes to a hello that decodes to itself.
pub fn hello(data: &[u8]) {
    let Ok(hello) = Hello::decode(data) else { return };
    let _ = hello.verify(&CHALLENGE);
    let again = Hello::decode(&hello.encode());
    assert_eq!(again.as_ref(), Ok(&hello), "a decoded hello does not survive re-encoding");
}

/// The P2P acknowledgement (`Ack::verified_key`): the first [`ACK_BYTES`] bytes are the ack,
/// the next [`CHALLENGE_BYTES`] (zero-padded) the challenge it answers.
pub fn ack(data: &[u8]) {
    let mut bytes = [0u8; ACK_BYTES];
    let ack_part = &data[..data.len().min(ACK_BYTES)];
    bytes[..ack_part.len()].copy_from_slice(ack_part);
    let mut challenge = CHALLENGE;
    let rest = data.get(ACK_BYTES..).unwrap_or_default();
    let challenge_part = &rest[..rest.len().min(CHALLENGE_BYTES)];
    challenge[..challenge_part.len()].copy_from_slice(challenge_part);
    if let Some(key) = Ack::verified_key(&bytes, &challenge) {
        assert_eq!(key.as_bytes()[..], bytes[..32], "a verified ack names another key");
    }
}

/// The wire envelope and every message kind (`Message::decode`, `Message::peek_unit`).
/// A peeked unit body hashes to the decoded unit's id, and a decoded message re-encodes to one
/// that decodes to itself (to the same bytes for units, whose encoding is canonical).
pub fn message(data: &[u8]) {
    let peeked = Message::peek_unit(data);
    let decoded = Message::decode(data);
    let Ok(message) = decoded else {
        // A peeked body whose envelope opened failed in the unit's own decoder: nothing more.
        return;
    };
    let encoded = message.encode().expect("a decoded message re-encodes");
    let again = Message::decode(&encoded).expect("a re-encoded message decodes");
    assert_eq!(again, message, "a decoded message does not survive re-encoding");
    match (&message, peeked) {
        (Message::Transaction(tx), Some(UnitBytes::Transaction(body))) => {
            assert_eq!(encoded, data, "a transaction message is not canonical");
            assert_eq!(tx.id().ok(), Some(Hash::of(body)), "the peeked id is another");
        }
        (Message::Checkpoint(cp), Some(UnitBytes::Checkpoint(body))) => {
            assert_eq!(encoded, data, "a checkpoint message is not canonical");
            assert_eq!(cp.id().ok(), Some(Hash::of(body)), "the peeked id is another");
        }
        (Message::Transaction(_) | Message::Checkpoint(_), _) => {
            panic!("a unit message decodes but does not peek as that unit")
        }
        (_, Some(_)) => panic!("a message that is not a unit peeks as one"),
        (_, None) => {}
    }
}

/// A transaction body (`Transaction::decode`): accepted bytes are canonical, so they are
/// exactly the re-encoding; the signature check and the debit run on whatever decoded.
pub fn transaction(data: &[u8]) {
    let Ok(tx) = Transaction::decode(data) else { return };
    assert_eq!(tx.encode().ok().as_deref(), Some(data), "a transaction is not canonical");
    let _ = tx.verify_signature();
    let _ = tx.body.debit();
}

/// A checkpoint body (`Checkpoint::decode`): canonical like a transaction.
pub fn checkpoint(data: &[u8]) {
    let Ok(checkpoint) = Checkpoint::decode(data) else { return };
    assert_eq!(checkpoint.encode().ok().as_deref(), Some(data), "a checkpoint is not canonical");
    let _ = checkpoint.body.challenge();
}

/// The unit and shard logs replayed at start (`store::decode_log`): the records read back
/// re-encode to exactly the valid prefix, and the classification of the end is consistent.
/// Every record body then goes through the decoder replay hands it to.
pub fn store_log(data: &[u8]) {
    let decoded = store::decode_log(data);
    assert!(decoded.valid_len <= data.len(), "a valid prefix longer than the log");
    let reencoded: Vec<u8> =
        decoded.records.iter().flat_map(|(kind, body)| store::encode_record(*kind, body)).collect();
    assert_eq!(reencoded, data[..decoded.valid_len], "records do not re-encode to the prefix");
    match decoded.end {
        store::LogEnd::Clean => assert_eq!(decoded.valid_len, data.len(), "clean but short"),
        store::LogEnd::TornTail { offset, torn_bytes } => {
            assert_eq!(offset, decoded.valid_len, "the tear is not where the prefix ends");
            assert_eq!(offset + torn_bytes, data.len(), "the tear does not reach the end");
        }
        store::LogEnd::Corrupt(corruption) => {
            assert_eq!(corruption.offset, decoded.valid_len, "damage is not where it ends");
            assert_eq!(corruption.record_index, decoded.records.len(), "wrong record index");
            if let Some(resume) = corruption.resume_offset {
                assert!(resume > corruption.offset && resume < data.len(), "resume outside");
                assert!(corruption.valid_after >= 1, "a resume point with no valid record");
            }
        }
    }
    for (kind, body) in &decoded.records {
        match *kind {
            store::KIND_TRANSACTION => transaction(body),
            store::KIND_CHECKPOINT => checkpoint(body),
            _ => {
                if let Some((file_id, index, bytes)) = store::decode_shard(body) {
                    assert_eq!(store::encode_shard(&file_id, index, bytes), *body);
                }
            }
        }
    }
}

/// The plot file header (`PlotHeader::decode`) and the reader's open (`PlotReader::open`, which
/// also checks the exact file length): a decoded header re-encodes to one that decodes to
/// itself. Reserved bytes are not checked by the decoder, so only values are compared.
pub fn plot_header(data: &[u8]) {
    let decoded = PlotHeader::decode(data);
    if let Ok(header) = &decoded {
        let encoded = header.encode();
        assert_eq!(PlotHeader::decode(&encoded).ok().as_ref(), Some(header), "header round trip");
        assert_eq!(encoded[..16], data[..16], "magic and version changed on re-encoding");
        assert_eq!(encoded[16..96], data[16..96], "fields changed on re-encoding");
    }
    let opened = PlotReader::open(std::io::Cursor::new(data));
    if let Ok(reader) = opened {
        assert_eq!(decoded.as_ref().ok(), Some(reader.header()), "open and decode disagree");
    }
    if data.len() < HEADER_BYTES {
        assert!(decoded.is_err(), "a header shorter than {HEADER_BYTES} bytes decoded");
    }
}

/// Storage decoders: the shard record body (`store::decode_shard`), erasure decoding of shards
/// a peer handed back (`erasure::decode`, both codecs) and the Merkle check of a chunk
/// (`merkle::verify`). Layout: `k`, `n`, a presence mask (2 bytes, slot `i` present if bit
/// `i` is set), a shard length (1 byte), a leaf index (2 bytes), a leaf count (1 byte); then
/// the present shards back to back; then a Merkle root (32 bytes), a chunk (shard length
/// bytes) and its path (32 bytes a hash).
pub fn storage_shards(data: &[u8]) {
    if let Some((file_id, index, bytes)) = store::decode_shard(data) {
        assert_eq!(store::encode_shard(&file_id, index, bytes), data, "shard round trip");
    }
    let Some((header, rest)) = data.split_first_chunk::<8>() else { return };
    let [k, n, mask_low, mask_high, shard_len, index_low, index_high, leaf_count] = *header;
    let mask = u16::from_le_bytes([mask_low, mask_high]);
    let shard_bytes = usize::from(shard_len);
    let slots = usize::from(n.min(16));
    let mut shards: Vec<Option<&[u8]>> = Vec::with_capacity(slots);
    let mut offset = 0;
    for slot in 0..slots {
        if mask & (1 << slot) == 0 {
            shards.push(None);
            continue;
        }
        let shard = rest.get(offset..offset + shard_bytes).unwrap_or_default();
        offset += shard.len();
        shards.push(Some(shard));
    }
    for codec in [erasure::Codec::Simd, erasure::Codec::Classic] {
        if let Ok(payload) = erasure::decode(codec, &shards, k, n) {
            // Whatever decodes re-encodes with the same code into shards that decode back.
            let again = erasure::encode(codec, &payload, k, n).expect("a decoded payload encodes");
            let again: Vec<Option<&[u8]>> = again.iter().map(|s| Some(s.as_slice())).collect();
            assert_eq!(erasure::decode(codec, &again, k, n).ok(), Some(payload));
        }
    }
    let tail = rest.get(offset..).unwrap_or_default();
    let (root, tail) = tail.split_first_chunk::<32>().unwrap_or((&[0; 32], tail));
    let (chunk, path_bytes) = tail.split_at(tail.len().min(shard_bytes));
    let path: Vec<Hash> = path_bytes
        .chunks_exact(32)
        .map(|bytes| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(bytes);
            Hash(hash)
        })
        .collect();
    let root = Hash(*root);
    let index = u32::from(u16::from_le_bytes([index_low, index_high]));
    let _ = merkle::verify(&root, index, chunk, &path, u32::from(leaf_count));
}

/// The genesis file (`GenesisFile::parse`, then `to_genesis`, which validates): a valid
/// genesis converts back to a file that parses to the same genesis, with the same id.
pub fn genesis_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = GenesisFile::parse(text, "fuzz") else { return };
    let Ok(genesis) = file.to_genesis() else { return };
    let back = GenesisFile::from_genesis(&genesis);
    let text = serde_json::to_string(&back).expect("a genesis file serialises");
    let again = GenesisFile::parse(&text, "fuzz").expect("a serialised genesis file parses");
    let again = again.to_genesis().expect("a valid genesis stays valid");
    assert_eq!(again, genesis, "a genesis does not survive its file");
    assert_eq!(again.id().ok(), genesis.id().ok(), "a genesis changes id through its file");
}
