//! The storage-node policy: the shards a node keeps and the proofs it owes.
//!
//! Model: the driver (or the owner's harness) hands a node the shards it was assigned
//! (`Node::store_shard`); the node keeps them in memory with their Merkle trees. Each time its
//! head moves to height `h`, it owes a proof for every held shard of every active contract for
//! every round `r` in `max(first, h + 1 − D) ..= min(h, last)` that the ledger does not yet record
//! as proven: the next checkpoint (height `h + 1`) is the earliest that can apply it, and it must
//! be applied by `r + D`. A proof already sent for the same `(file, shard, round, g_r)` is not sent
//! again; a reorganisation that changes `g_r` makes a new one due.
//!
//! Cheating knob (scenario 9): `drop_fraction` forgets a fraction `f` of a shard's chunks. The
//! node then cannot answer a challenge that hits a dropped chunk; it sends nothing that round
//! (a proof with a wrong chunk would only be ignored and cost a fee) and the ledger records the
//! miss, so such a node passes a round with probability `(1 − f)^c`.

use crate::core::contracts::Contract;
use crate::core::hash::Hash;
use crate::core::random::DetRng;
use crate::core::storage::{
    AssignmentError, Challenge, MerkleTree, ProofError, StorageError, StorageProof, StorePut,
    answer, challenge_indices,
};
use std::collections::{BTreeMap, BTreeSet};

/// Most proofs remembered as sent; older ones are forgotten (only causes a resend).
const SENT_PROOFS_MAX: usize = 65_536;

/// A shard held by this node.
#[derive(Debug, Clone)]
pub struct HeldShard {
    /// The shard as received (encrypted, erasure-coded); dropped chunks are zeroed.
    pub bytes: Vec<u8>,
    /// Built on the first proof, when the put (and so the chunk size) is known.
    tree: Option<MerkleTree>,
    /// Chunk indices this node no longer has (cheating knob).
    pub dropped_chunks: BTreeSet<u32>,
}

/// The owner's choices for a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRequest {
    /// `k`: shards any `k` of which rebuild the file.
    pub data_shards: u8,
    /// `n`: shards made in all (`n − k` are parity), one per assigned storage node.
    pub total_shards: u8,
    /// Bytes per Merkle leaf; a challenge asks for whole chunks.
    pub chunk_bytes: u32,
    /// `T`: rounds (checkpoints) the contract lasts.
    pub term_rounds: u64,
    /// Tokens escrowed from the owner and paid out to the nodes over the term.
    pub prepaid_fee: u64,
    /// The transaction fee of the put.
    pub fee: u64,
}

/// What `Node::store_file` produced: the put (submitted) and the shards to hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The id of the submitted `StorePut` transaction.
    pub unit_id: Hash,
    /// The put as submitted: file id, roots, assigned nodes, term and fee.
    pub put: StorePut,
    /// `shards[i]` goes to `put.storage_nodes[i]`.
    pub shards: Vec<Vec<u8>>,
}

/// Why a storage-node or owner operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageNodeError {
    /// Preparing the file (encryption, erasure coding, Merkle commitment) failed, e.g. bad
    /// shard counts or chunk size.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The shards could not be assigned over the storage node set (too few nodes).
    #[error(transparent)]
    Assignment(#[from] AssignmentError),
    /// A contract for this file id is already active on the ledger.
    #[error("file {file_id:?} already has an active contract")]
    FileActive {
        /// The file's id.
        file_id: Hash,
    },
    /// The node's own admission refused the `StorePut` transaction.
    #[error("the put was refused: {reason}")]
    Rejected {
        /// The rejection reason, as text.
        reason: String,
    },
    /// The node asked for a shard does not hold it.
    #[error("this node holds no shard {shard_index} of {file_id:?}")]
    NotHeld {
        /// The file's id.
        file_id: Hash,
        /// The shard's index in the file's erasure coding.
        shard_index: u8,
    },
    /// `drop_fraction` (the cheating knob) was given a fraction outside `0..=1`.
    #[error("fraction {fraction_ppm} ppm outside 0..=1")]
    BadFraction {
        /// The fraction in parts per million (kept integral so the error is `Eq`).
        fraction_ppm: i64,
    },
}

/// Counters for metrics and scenario 9.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageNodeStats {
    /// Proofs made and submitted as transactions.
    pub proofs_sent: u64,
    /// Rounds this node could not answer because a challenged chunk was dropped.
    pub proofs_impossible: u64,
    /// Answers that failed locally (shard does not match the put's root).
    pub proofs_failed: u64,
}

/// A proof due now, with what identifies it.
#[derive(Debug, Clone)]
pub struct DueProof {
    /// The answer to the round's challenge, ready to submit.
    pub proof: StorageProof,
    /// `g_r` of the active chain at the round: it chose the challenged chunks, and a
    /// reorganisation that changes it makes a new proof due.
    pub generation_signature: Hash,
    /// The nonce of an earlier proof for the same `(file, shard, round)` (e.g. one made for a
    /// generation signature a reorganisation replaced). Reusing it makes the two conflict, so
    /// at most one applies and the ignored one leaves no permanent gap below the nonce window.
    pub nonce_hint: Option<u64>,
}

/// The shards this node holds, the proofs it has sent, and its counters.
#[derive(Debug, Clone, Default)]
pub struct ShardStore {
    shards: BTreeMap<(Hash, u8), HeldShard>,
    sent: BTreeSet<(Hash, u8, u64, Hash)>,
    /// Nonce used for each `(file, shard, round)` proven so far (see `DueProof::nonce_hint`).
    nonces: BTreeMap<(Hash, u8, u64), u64>,
    /// Counters since the node started.
    pub stats: StorageNodeStats,
}

impl ShardStore {
    /// Hold shard `shard_index` of `file_id`, replacing any copy held before.
    pub fn insert(&mut self, file_id: Hash, shard_index: u8, bytes: Vec<u8>) {
        let held = HeldShard { bytes, tree: None, dropped_chunks: BTreeSet::new() };
        self.shards.insert((file_id, shard_index), held);
    }

    /// The held shard, if this node has it.
    pub fn get(&self, file_id: &Hash, shard_index: u8) -> Option<&HeldShard> {
        self.shards.get(&(*file_id, shard_index))
    }

    /// Shard indices held for `file_id`.
    pub fn held(&self, file_id: &Hash) -> Vec<u8> {
        self.shards.keys().filter(|(file, _)| file == file_id).map(|(_, index)| *index).collect()
    }

    /// Distinct file ids with a held shard.
    pub fn files(&self) -> Vec<Hash> {
        let files: BTreeSet<Hash> = self.shards.keys().map(|(file, _)| *file).collect();
        files.into_iter().collect()
    }

    /// Stop holding (and so proving) every shard of `file_id`.
    pub fn forget(&mut self, file_id: &Hash) {
        self.shards.retain(|(file, _), _| file != file_id);
    }

    /// Forget `⌊fraction · chunks⌋` chunks of every held shard of `file_id`, chosen by `seed`
    /// (their bytes are zeroed). Returns the dropped chunk indices per shard.
    pub fn drop_fraction(
        &mut self,
        file_id: &Hash,
        chunk_bytes: u32,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(StorageNodeError::BadFraction { fraction_ppm: (fraction * 1e6) as i64 });
        }
        let mut rng = DetRng::from_seed(
            Hash::of_parts(&[b"vein/storage/drop".as_slice(), &seed.to_le_bytes()]).0,
        );
        let mut dropped = BTreeMap::new();
        for ((file, shard_index), held) in &mut self.shards {
            if file != file_id {
                continue;
            }
            // A cheater keeps its Merkle tree (about 6% of the shard): build it while intact.
            if held.tree.is_none() {
                held.tree = MerkleTree::from_data(&held.bytes, chunk_bytes).ok();
            }
            let chunk = chunk_bytes.max(1) as usize;
            let chunks = held.bytes.len().div_ceil(chunk);
            let count = (fraction * chunks as f64).floor() as usize;
            // Partial Fisher-Yates: the first `count` entries are a uniform sample.
            let mut order: Vec<u32> = (0..chunks as u32).collect();
            for index in 0..count {
                let pick = index + rng.index(chunks - index);
                order.swap(index, pick);
            }
            for &index in &order[..count] {
                let start = index as usize * chunk;
                let end = (start + chunk).min(held.bytes.len());
                held.bytes[start..end].fill(0);
                held.dropped_chunks.insert(index);
            }
            dropped.insert(*shard_index, held.dropped_chunks.clone());
        }
        Ok(dropped)
    }

    /// Proofs due for `contract`'s shards this node holds, for `rounds`, given the generation
    /// signature of each round. Skips rounds already proven on the ledger or already sent.
    pub fn due_proofs(
        &mut self,
        contract: &Contract,
        holder: &crate::core::crypto::AccountId,
        rounds: std::ops::RangeInclusive<u64>,
        generation_signature: impl Fn(u64) -> Option<Hash>,
        challenge_count: usize,
    ) -> Vec<DueProof> {
        let put = &contract.put;
        let mut due = Vec::new();
        for shard_index in self.held(&put.file_id) {
            if put.storage_nodes.get(usize::from(shard_index)) != Some(holder) {
                continue;
            }
            for round in rounds.clone() {
                if contract.is_proven(round, shard_index) {
                    continue;
                }
                let Some(g) = generation_signature(round) else { continue };
                let key = (put.file_id, shard_index, round, g);
                if self.sent.contains(&key) {
                    continue;
                }
                let challenge =
                    Challenge { generation_signature: g, round, count: challenge_count };
                match self.answer(put, shard_index, &challenge) {
                    Ok(Some(proof)) => {
                        if self.sent.len() >= SENT_PROOFS_MAX {
                            self.sent.clear();
                        }
                        self.sent.insert(key);
                        let nonce_hint =
                            self.nonces.get(&(put.file_id, shard_index, round)).copied();
                        due.push(DueProof { proof, generation_signature: g, nonce_hint });
                    }
                    Ok(None) => {
                        // Remember it too: the answer cannot change for this (round, g).
                        self.sent.insert(key);
                        self.stats.proofs_impossible += 1;
                    }
                    Err(_) => {
                        self.sent.insert(key);
                        self.stats.proofs_failed += 1;
                    }
                }
            }
        }
        due
    }

    /// Remember the nonce a proof was sent with; forget those of rounds before `oldest_round`.
    pub fn record_nonce(&mut self, proof: &StorageProof, nonce: u64, oldest_round: u64) {
        self.nonces.retain(|(_, _, round), _| *round >= oldest_round);
        self.nonces.insert((proof.file_id, proof.shard_index, proof.round), nonce);
    }

    /// Answer one challenge; `None` if a challenged chunk was dropped.
    fn answer(
        &mut self,
        put: &StorePut,
        shard_index: u8,
        challenge: &Challenge,
    ) -> Result<Option<StorageProof>, ProofError> {
        let Some(held) = self.shards.get_mut(&(put.file_id, shard_index)) else {
            return Ok(None);
        };
        if held.tree.is_none() {
            // Only a shard of the wrong size (e.g. empty) has no tree.
            let tree = MerkleTree::from_data(&held.bytes, put.chunk_bytes).map_err(|_| {
                ProofError::ShardLength { expected: put.shard_bytes, got: held.bytes.len() }
            })?;
            held.tree = Some(tree);
        }
        let Some(tree) = held.tree.as_ref() else { return Ok(None) };
        if !held.dropped_chunks.is_empty() {
            let indices = challenge_indices(
                &challenge.generation_signature,
                &put.file_id,
                shard_index,
                challenge.round,
                tree.leaf_count(),
                challenge.count,
            );
            if indices.iter().any(|index| held.dropped_chunks.contains(index)) {
                return Ok(None);
            }
            // The tree was built from the intact shard; the dropped bytes are zeros, but no
            // challenged chunk is among them, so the answer is genuine.
        }
        answer(put, shard_index, &held.bytes, tree, challenge).map(Some)
    }
}
