//! What the ledger records about a stored file, and the owner's two ends of the pipeline.
//!
//! Model: `prepare_file` runs on the owner's machine: plaintext → ChaCha20-Poly1305 (synthetic
//! nonce) → `nonce || ciphertext` → `k + (n − k)` Reed-Solomon shards → one Merkle root per shard.
//! The [`StorePut`] transaction carries only the roots and the shape (`k`, `n`, `chunk_bytes`,
//! `shard_bytes`), which is all anyone needs to check a [`StorageProof`] or a returned shard.
//!
//! `file_id` is not chosen by the owner: it is the hash of the shape and the roots
//! ([`file_id_of`]), so it names exactly the bytes being paid for, two puts of different data can
//! never share an id, and `validate` can check it. Storage assignment is derived from it.
//!
//! `recover_file` runs on the owner's machine again: every returned shard is checked against its
//! root before use; a shard that fails is treated as missing and reported, so one corrupt or
//! malicious storage node can cost a retry but never a wrong file.
//!
//! Every size in a `StorePut` is bounded (`n ≤ 64`, chunk and shard sizes) so that a peer cannot
//! make a validator allocate or loop without limit; `validate` never panics on any input.

use super::encrypt::{self, EncryptError, NONCE_BYTES, OwnerKey};
use super::erasure::{self, DEFAULT_CODEC, ErasureError, MAX_TOTAL_SHARDS};
use super::merkle::{self, MerkleError};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The default chunk size: 1 KiB keeps a 16-chunk proof near 16 KiB + paths, and the tree at
/// about 6% of the shard.
pub const DEFAULT_CHUNK_BYTES: u32 = 1024;
/// Smallest chunk a put may declare: at 64 B a storage node's kept tree (about
/// `2 × 32 / chunk_bytes` of the shard) is already as large as the shard itself.
pub const MIN_CHUNK_BYTES: u32 = 64;
/// Largest chunk a put may declare (64 KiB): a proof carries `count` chunks, so this bounds it.
pub const MAX_CHUNK_BYTES: u32 = 64 * 1024;
/// Largest shard a put may declare (16 GiB): keeps leaf indices well inside u32.
pub const MAX_SHARD_BYTES: u64 = 1 << 34;
const FILE_ID_DOMAIN: &[u8] = b"vein/storage/file-id/v1";

/// The storage transaction body: commits to `total_shards` shards by their Merkle roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorePut {
    /// [`file_id_of`] the other shape fields and roots.
    pub file_id: Hash,
    /// `k`: any `k` shards recover the file.
    pub data_shards: u8,
    /// `n`: shards stored, one per storage node.
    pub total_shards: u8,
    /// Bytes per Merkle leaf (the challenged unit), in
    /// `MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES`; a shard's last chunk may be shorter.
    pub chunk_bytes: u32,
    /// Bytes of every shard: even, in `2..=MAX_SHARD_BYTES`.
    pub shard_bytes: u64,
    /// One root per shard, in shard order.
    pub shard_roots: Vec<Hash>,
    /// Node holding shard `i` is `storage_nodes[i]`; all distinct.
    pub storage_nodes: Vec<AccountId>,
    /// Rounds (checkpoints) the storage is bought for, from the height after the put's; at
    /// least 1.
    pub term_rounds: u64,
    /// Base units escrowed from the owner at the put and paid out round by round to the nodes
    /// that prove their shard (`payment`); unearned shares are burned.
    pub prepaid_fee: u64,
}

/// One round's answer to a challenge on one shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageProof {
    /// The file the proven shard belongs to.
    pub file_id: Hash,
    /// The shard proven, its position in the put's `storage_nodes` and `shard_roots`.
    pub shard_index: u8,
    /// The round (checkpoint height) whose challenge this answers.
    pub round: u64,
    /// In challenge order, one per challenged index (repeats included).
    pub chunks: Vec<ChunkProof>,
}

/// One challenged chunk with its Merkle path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkProof {
    /// The chunk's index in the shard (its Merkle leaf).
    pub index: u32,
    /// The chunk's bytes: `chunk_bytes`, or fewer for the shard's last chunk.
    pub chunk: Vec<u8>,
    /// Sibling hashes from the leaf up to the shard root (see `merkle::MerklePath`).
    pub path: Vec<Hash>,
}

/// Why a [`StorePut`] is malformed ([`StorePut::validate`]), or a file cannot become one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// `k` and `n` break `1 <= k <= n <= MAX_TOTAL_SHARDS`.
    #[error("bad erasure parameters k = {k}, n = {n}: need 1 <= k <= n <= {MAX_TOTAL_SHARDS}")]
    BadParameters {
        /// The put's `data_shards`.
        k: u8,
        /// The put's `total_shards`.
        n: u8,
    },
    /// The chunk size is outside `MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES`.
    #[error("chunk size {chunk_bytes} outside {MIN_CHUNK_BYTES}..={MAX_CHUNK_BYTES}")]
    ChunkBytes {
        /// The chunk size given.
        chunk_bytes: u32,
    },
    /// The shard size is odd, below 2 or above [`MAX_SHARD_BYTES`] (for a file being
    /// prepared: the file is too large).
    #[error("shard size {shard_bytes} must be even and in 2..={MAX_SHARD_BYTES}")]
    ShardBytes {
        /// The shard size declared or planned.
        shard_bytes: u64,
    },
    /// `shard_roots` does not hold one root per shard.
    #[error("{got} shard roots for {expected} shards")]
    RootCount {
        /// `total_shards`.
        expected: usize,
        /// Roots listed.
        got: usize,
    },
    /// `storage_nodes` does not hold one node per shard.
    #[error("{got} storage nodes for {expected} shards")]
    NodeCount {
        /// `total_shards`.
        expected: usize,
        /// Nodes listed.
        got: usize,
    },
    /// One node is listed for two shards, so losing it would lose both.
    #[error("storage node {node:?} appears twice")]
    DuplicateNode {
        /// The repeated node.
        node: AccountId,
    },
    /// `term_rounds` is 0.
    #[error("term must last at least one round")]
    ZeroTerm,
    /// `file_id` is not [`file_id_of`] the put's shape and roots.
    #[error("file id {claimed:?} does not commit to the shape and roots ({computed:?})")]
    FileIdMismatch {
        /// The put's `file_id`.
        claimed: Hash,
        /// The id its shape and roots give.
        computed: Hash,
    },
}

/// Errors of the owner-side pipeline (`prepare_file`, `recover_file`, `repair_shard`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The shape asked for, or the put recovered against, is invalid.
    #[error(transparent)]
    Put(#[from] PutError),
    /// Erasure coding or decoding failed.
    #[error(transparent)]
    Erasure(#[from] ErasureError),
    /// Encryption failed, or the decoded ciphertext does not authenticate under the key.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// A shard's Merkle tree could not be built.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    /// The caller did not pass one slot (shard or `None`) per shard of the put.
    #[error("expected {expected} shard slots, got {got}")]
    ShardSlots {
        /// `total_shards`.
        expected: usize,
        /// Slots given.
        got: usize,
    },
    /// Fewer than `k` shards survived the root check.
    #[error("too few intact shards: have {have}, need {need}; corrupt: {corrupt_shards:?}")]
    TooFewShards {
        /// Shards supplied that match their roots.
        have: usize,
        /// `data_shards` (`k`).
        need: usize,
        /// Indices of supplied shards that failed their root check.
        corrupt_shards: Vec<u8>,
    },
    /// The rebuilt shard does not match the committed root or length: the put's shards were
    /// never one codeword.
    #[error("rebuilt shard {shard_index} does not match its committed root")]
    RepairMismatch {
        /// The shard being rebuilt.
        shard_index: u8,
    },
    /// The decoded payload is shorter than the nonce that must open it.
    #[error("decoded payload of {payload_bytes} bytes cannot hold a nonce")]
    PayloadTooShort {
        /// Length of the decoded payload.
        payload_bytes: usize,
    },
}

impl StorePut {
    /// Structural checks a validator runs before anything else; cheap (n ≤ 64 hashes) and total.
    pub fn validate(&self) -> Result<(), PutError> {
        let (k, n) = (self.data_shards, self.total_shards);
        if k == 0 || k > n || n > MAX_TOTAL_SHARDS {
            return Err(PutError::BadParameters { k, n });
        }
        if !(MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES).contains(&self.chunk_bytes) {
            return Err(PutError::ChunkBytes { chunk_bytes: self.chunk_bytes });
        }
        if self.shard_bytes < 2
            || self.shard_bytes > MAX_SHARD_BYTES
            || !self.shard_bytes.is_multiple_of(2)
        {
            return Err(PutError::ShardBytes { shard_bytes: self.shard_bytes });
        }
        let expected = usize::from(n);
        if self.shard_roots.len() != expected {
            return Err(PutError::RootCount { expected, got: self.shard_roots.len() });
        }
        if self.storage_nodes.len() != expected {
            return Err(PutError::NodeCount { expected, got: self.storage_nodes.len() });
        }
        let mut seen = BTreeSet::new();
        for node in &self.storage_nodes {
            if !seen.insert(node) {
                return Err(PutError::DuplicateNode { node: *node });
            }
        }
        if self.term_rounds == 0 {
            return Err(PutError::ZeroTerm);
        }
        let computed = file_id_of(k, n, self.chunk_bytes, self.shard_bytes, &self.shard_roots);
        if computed != self.file_id {
            return Err(PutError::FileIdMismatch { claimed: self.file_id, computed });
        }
        Ok(())
    }

    /// Leaves per shard tree. Only meaningful on a validated put (then it cannot fail).
    pub fn leaf_count(&self) -> Result<u32, merkle::MerkleError> {
        merkle::leaf_count(self.shard_bytes, self.chunk_bytes)
    }

    /// Exact byte length of chunk `index` (the last one may be short).
    pub fn chunk_len(&self, index: u32) -> u64 {
        let start = u64::from(index) * u64::from(self.chunk_bytes);
        self.shard_bytes.saturating_sub(start).min(u64::from(self.chunk_bytes))
    }

    /// The shard index held by `node`, if any.
    pub fn shard_of(&self, node: &AccountId) -> Option<u8> {
        self.storage_nodes.iter().position(|held| held == node).map(|index| index as u8)
    }
}

/// The file id: a hash of everything that fixes the stored bytes.
pub fn file_id_of(k: u8, n: u8, chunk_bytes: u32, shard_bytes: u64, roots: &[Hash]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(FILE_ID_DOMAIN);
    hasher.update(&[k, n]);
    hasher.update(&chunk_bytes.to_le_bytes());
    hasher.update(&shard_bytes.to_le_bytes());
    for root in roots {
        hasher.update(root.as_bytes());
    }
    Hash(*hasher.finalize().as_bytes())
}

/// The owner's output: the put's content fields and the shards to hand to storage nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedFile {
    /// [`file_id_of`] the shape and roots below.
    pub file_id: Hash,
    /// `k`: any `k` shards recover the file.
    pub data_shards: u8,
    /// `n`: shards made.
    pub total_shards: u8,
    /// Bytes per Merkle leaf.
    pub chunk_bytes: u32,
    /// Bytes of every shard.
    pub shard_bytes: u64,
    /// Merkle root of each shard, in shard order.
    pub shard_roots: Vec<Hash>,
    /// The `n` shards (ciphertext), data shards first, to hand to the storage nodes.
    pub shards: Vec<Vec<u8>>,
}

impl PreparedFile {
    /// The transaction body once nodes (see `assignment::assign`), term and fee are chosen.
    pub fn store_put(
        &self,
        storage_nodes: Vec<AccountId>,
        term_rounds: u64,
        prepaid_fee: u64,
    ) -> StorePut {
        StorePut {
            file_id: self.file_id,
            data_shards: self.data_shards,
            total_shards: self.total_shards,
            chunk_bytes: self.chunk_bytes,
            shard_bytes: self.shard_bytes,
            shard_roots: self.shard_roots.clone(),
            storage_nodes,
            term_rounds,
            prepaid_fee,
        }
    }
}

/// Encrypt (synthetic nonce), erasure-code and commit a file.
pub fn prepare_file(
    plaintext: &[u8],
    owner_key: &OwnerKey,
    k: u8,
    n: u8,
    chunk_bytes: u32,
) -> Result<PreparedFile, StorageError> {
    let nonce = encrypt::synthetic_nonce(owner_key, plaintext);
    prepare_file_with_nonce(plaintext, owner_key, &nonce, k, n, chunk_bytes)
}

/// As [`prepare_file`] with a caller-chosen nonce (e.g. random, to store the same file twice).
/// The caller must never reuse a nonce with the same key for a different plaintext.
pub fn prepare_file_with_nonce(
    plaintext: &[u8],
    owner_key: &OwnerKey,
    nonce: &[u8; NONCE_BYTES],
    k: u8,
    n: u8,
    chunk_bytes: u32,
) -> Result<PreparedFile, StorageError> {
    erasure::check_parameters(k, n)?;
    if !(MIN_CHUNK_BYTES..=MAX_CHUNK_BYTES).contains(&chunk_bytes) {
        return Err(PutError::ChunkBytes { chunk_bytes }.into());
    }
    // Refuse an oversized file before spending time and memory on it.
    let payload_bytes = NONCE_BYTES + plaintext.len() + encrypt::TAG_BYTES;
    let planned = erasure::shard_bytes_for(payload_bytes, k).map_or(u64::MAX, |bytes| bytes as u64);
    if planned > MAX_SHARD_BYTES {
        return Err(PutError::ShardBytes { shard_bytes: planned }.into());
    }
    let ciphertext = encrypt::encrypt(owner_key, nonce, plaintext)?;
    let mut payload = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
    payload.extend_from_slice(nonce);
    payload.extend_from_slice(&ciphertext);
    drop(ciphertext);
    let shards = erasure::encode(DEFAULT_CODEC, &payload, k, n)?;
    let shard_bytes = shards.first().map_or(0, Vec::len) as u64;
    if shard_bytes > MAX_SHARD_BYTES {
        return Err(PutError::ShardBytes { shard_bytes }.into());
    }
    let shard_roots = shards
        .iter()
        .map(|shard| merkle::root(shard, chunk_bytes))
        .collect::<Result<Vec<Hash>, _>>()?;
    let file_id = file_id_of(k, n, chunk_bytes, shard_bytes, &shard_roots);
    debug_assert_eq!(shard_roots.len(), usize::from(n));
    Ok(PreparedFile {
        file_id,
        data_shards: k,
        total_shards: n,
        chunk_bytes,
        shard_bytes,
        shard_roots,
        shards,
    })
}

/// A recovered file and the shards that failed their root check (treated as missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The file as the owner stored it.
    pub plaintext: Vec<u8>,
    /// Indices of supplied shards that failed their root check; their nodes served bad data.
    pub corrupt_shards: Vec<u8>,
}

/// Check each supplied shard against its root, decode from the good ones, and decrypt.
pub fn recover_file(
    put: &StorePut,
    shards: &[Option<Vec<u8>>],
    owner_key: &OwnerKey,
) -> Result<Recovered, StorageError> {
    let (payload, corrupt_shards) = decode_checked(put, shards)?;
    let (nonce, ciphertext) = payload
        .split_first_chunk::<NONCE_BYTES>()
        .ok_or(StorageError::PayloadTooShort { payload_bytes: payload.len() })?;
    let plaintext = encrypt::decrypt(owner_key, nonce, ciphertext)?;
    Ok(Recovered { plaintext, corrupt_shards })
}

/// Rebuild shard `shard_index` from any `k` intact others, for a node taking over a departed
/// node's shard (`assignment::reassign`). Needs no key: coded shards are ciphertext. The rebuilt
/// shard is checked against its root, so a put whose shards were never one codeword (a careless
/// or malicious owner) is caught here rather than by the new node's first failed proof.
pub fn repair_shard(
    put: &StorePut,
    shards: &[Option<Vec<u8>>],
    shard_index: u8,
) -> Result<Vec<u8>, StorageError> {
    let (payload, _) = decode_checked(put, shards)?;
    let rebuilt = erasure::encode(DEFAULT_CODEC, &payload, put.data_shards, put.total_shards)?;
    let shard = rebuilt
        .into_iter()
        .nth(usize::from(shard_index))
        .ok_or(StorageError::RepairMismatch { shard_index })?;
    let root = merkle::root(&shard, put.chunk_bytes)?;
    if shard.len() as u64 != put.shard_bytes
        || put.shard_roots.get(usize::from(shard_index)) != Some(&root)
    {
        return Err(StorageError::RepairMismatch { shard_index });
    }
    Ok(shard)
}

/// Root-check every supplied shard, then erasure-decode the payload from the intact ones.
fn decode_checked(
    put: &StorePut,
    shards: &[Option<Vec<u8>>],
) -> Result<(Vec<u8>, Vec<u8>), StorageError> {
    put.validate()?;
    let n = usize::from(put.total_shards);
    if shards.len() != n {
        return Err(StorageError::ShardSlots { expected: n, got: shards.len() });
    }
    let mut corrupt_shards = Vec::new();
    let checked: Vec<Option<&[u8]>> = shards
        .iter()
        .zip(&put.shard_roots)
        .enumerate()
        .map(|(index, (shard, expected_root))| {
            let shard = shard.as_deref()?;
            let intact = shard.len() as u64 == put.shard_bytes
                && merkle::root(shard, put.chunk_bytes).as_ref() == Ok(expected_root);
            if intact {
                Some(shard)
            } else {
                corrupt_shards.push(index as u8);
                None
            }
        })
        .collect();
    let have = checked.iter().filter(|shard| shard.is_some()).count();
    let need = usize::from(put.data_shards);
    if have < need {
        return Err(StorageError::TooFewShards { have, need, corrupt_shards });
    }
    let payload = erasure::decode(DEFAULT_CODEC, &checked, put.data_shards, put.total_shards)?;
    Ok((payload, corrupt_shards))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use proptest::prelude::*;

    fn nodes(count: u8) -> Vec<AccountId> {
        (0..count).map(|i| Keypair::derived("storage-node", u64::from(i)).account()).collect()
    }

    fn sample(length: usize) -> Vec<u8> {
        (0..length).map(|i| (i * 13 % 256) as u8).collect()
    }

    fn prepared_put(length: usize, k: u8, n: u8) -> (StorePut, Vec<Vec<u8>>) {
        let prepared = prepare_file(&sample(length), &OwnerKey([9; 32]), k, n, 256).unwrap();
        (prepared.store_put(nodes(n), 100, 1_000), prepared.shards)
    }

    #[test]
    fn prepared_put_validates_and_file_id_commits() {
        let (put, _) = prepared_put(5000, 4, 6);
        assert_eq!(put.validate(), Ok(()));
        let mut moved = put.clone();
        moved.shard_roots.swap(0, 1);
        assert!(matches!(moved.validate(), Err(PutError::FileIdMismatch { .. })));
        let mut twice = put.clone();
        twice.storage_nodes[1] = twice.storage_nodes[0];
        assert!(matches!(twice.validate(), Err(PutError::DuplicateNode { .. })));
        let mut short = put.clone();
        short.storage_nodes.pop();
        assert_eq!(short.validate(), Err(PutError::NodeCount { expected: 6, got: 5 }));
        let mut zero = put.clone();
        zero.term_rounds = 0;
        assert_eq!(zero.validate(), Err(PutError::ZeroTerm));
    }

    #[test]
    fn corrupt_shard_is_reported_and_skipped() {
        let (put, shards) = prepared_put(3000, 2, 4);
        let mut slots: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
        if let Some(shard) = slots[1].as_mut() {
            shard[17] ^= 0x40;
        }
        slots[3] = None;
        let recovered = recover_file(&put, &slots, &OwnerKey([9; 32])).unwrap();
        assert_eq!(recovered.plaintext, sample(3000));
        assert_eq!(recovered.corrupt_shards, vec![1]);
        slots[0] = None;
        assert_eq!(
            recover_file(&put, &slots, &OwnerKey([9; 32])),
            Err(StorageError::TooFewShards { have: 1, need: 2, corrupt_shards: vec![1] })
        );
    }

    #[test]
    fn repair_rebuilds_a_lost_shard_without_the_key() {
        let (put, shards) = prepared_put(7000, 3, 5);
        let mut slots: Vec<Option<Vec<u8>>> = shards.iter().cloned().map(Some).collect();
        slots[0] = None;
        slots[4] = None;
        assert_eq!(repair_shard(&put, &slots, 4).unwrap(), shards[4]);
        assert_eq!(repair_shard(&put, &slots, 0).unwrap(), shards[0]);
        // A put whose roots do not describe one codeword cannot be repaired.
        let mut forged = put.clone();
        forged.shard_roots[4] = Hash::of(b"not this shard");
        forged.file_id = file_id_of(3, 5, 256, forged.shard_bytes, &forged.shard_roots);
        assert_eq!(
            repair_shard(&forged, &slots, 4),
            Err(StorageError::RepairMismatch { shard_index: 4 })
        );
    }

    #[test]
    fn wrong_key_is_a_typed_error() {
        let (put, shards) = prepared_put(100, 1, 2);
        let slots: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
        assert!(matches!(
            recover_file(&put, &slots, &OwnerKey([8; 32])),
            Err(StorageError::Encrypt(encrypt::EncryptError::Tampered { .. }))
        ));
    }

    #[test]
    fn serde_round_trip() {
        let (put, _) = prepared_put(10, 2, 3);
        let bytes = bincode::serde::encode_to_vec(&put, bincode::config::standard()).unwrap();
        let (back, used): (StorePut, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!((back, used), (put, bytes.len()));
    }

    fn arbitrary_put() -> impl Strategy<Value = StorePut> {
        (
            any::<[u8; 32]>(),
            any::<u8>(),
            any::<u8>(),
            prop_oneof![any::<u32>(), 0u32..2048],
            prop_oneof![any::<u64>(), 0u64..100_000],
            proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..80),
            proptest::collection::vec(any::<[u8; 32]>().prop_map(AccountId), 0..80),
            any::<u64>(),
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(|(id, k, n, chunk, shard, roots, nodes, term, fee, honest_id)| {
                StorePut {
                    // Half the time the id is right, so the checks after it are reached too.
                    file_id: if honest_id {
                        file_id_of(k, n, chunk, shard, &roots)
                    } else {
                        Hash(id)
                    },
                    data_shards: k,
                    total_shards: n,
                    chunk_bytes: chunk,
                    shard_bytes: shard,
                    shard_roots: roots,
                    storage_nodes: nodes,
                    term_rounds: term,
                    prepaid_fee: fee,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn round_trip_any_k_surviving_shards(
            plaintext in proptest::collection::vec(any::<u8>(), 0..65_536),
            k in 1u8..9,
            parity in 0u8..6,
            chunk_bytes in prop_oneof![Just(64u32), Just(1024), 64u32..4096],
            survivors_seed in any::<u64>(),
        ) {
            let n = k + parity;
            let key = OwnerKey([5; 32]);
            let prepared = prepare_file(&plaintext, &key, k, n, chunk_bytes).unwrap();
            let put = prepared.store_put(nodes(n), 10, 77);
            prop_assert_eq!(put.validate(), Ok(()));
            let mut slots: Vec<Option<Vec<u8>>> = prepared.shards.into_iter().map(Some).collect();
            // Drop n - k pseudo-randomly chosen shards.
            let mut state = survivors_seed;
            let mut dropped = 0;
            while dropped < parity {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let index = (state >> 33) as usize % usize::from(n);
                if slots[index].take().is_some() {
                    dropped += 1;
                }
            }
            let recovered = recover_file(&put, &slots, &key).unwrap();
            prop_assert_eq!(recovered.plaintext, plaintext);
            prop_assert!(recovered.corrupt_shards.is_empty());
        }

        #[test]
        fn any_flipped_shard_byte_is_caught_by_its_root(
            length in 0usize..8000,
            shard_pick in any::<u8>(),
            position in any::<usize>(),
            bit in 0u8..8,
        ) {
            let key = OwnerKey([6; 32]);
            let prepared = prepare_file(&sample(length), &key, 3, 5, 128).unwrap();
            let put = prepared.store_put(nodes(5), 10, 77);
            let shard_index = usize::from(shard_pick % 5);
            let mut shard = prepared.shards[shard_index].clone();
            let position = position % shard.len();
            shard[position] ^= 1 << bit;
            prop_assert_ne!(merkle::root(&shard, 128).unwrap(), put.shard_roots[shard_index]);
            let mut slots: Vec<Option<Vec<u8>>> = prepared.shards.into_iter().map(Some).collect();
            slots[shard_index] = Some(shard);
            let recovered = recover_file(&put, &slots, &key).unwrap();
            prop_assert_eq!(recovered.corrupt_shards, vec![shard_index as u8]);
            prop_assert_eq!(recovered.plaintext, sample(length));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn decoding_arbitrary_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let config = bincode::config::standard().with_limit::<{ 1 << 20 }>();
            if let Ok((put, _)) = bincode::serde::decode_from_slice::<StorePut, _>(&bytes, config)
            {
                let _ = put.validate();
            }
            let _ = bincode::serde::decode_from_slice::<StorageProof, _>(&bytes, config);
        }

        #[test]
        fn validate_and_recover_never_panic_on_arbitrary_puts(put in arbitrary_put()) {
            let _ = put.validate();
            let _ = put.leaf_count();
            let _ = put.chunk_len(u32::MAX);
            let slots = vec![Some(vec![0u8; 4]); usize::from(put.total_shards.min(70))];
            let _ = recover_file(&put, &slots, &OwnerKey([1; 32]));
        }
    }
}
