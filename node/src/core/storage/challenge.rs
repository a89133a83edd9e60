//! Proof of Possession of Data: per-round chunk challenges and their verification.
//!
//! Model: in round `h` with generation signature `g_h` (PROTOCOL.md section 3: content-free, so
//! neither a storage node nor a checkpoint author can grind it cheaply), shard `i` of file `f` is
//! challenged at `c` chunk indices
//! `x_j = ⌊ H("vein/storage/challenge/v1" || g_h || f || i || h || j) · L / 2^64 ⌋, j < c`,
//! `L` the shard's leaf count. The node answers with the `c` chunks and their Merkle paths; anyone
//! holding only the `StorePut` (the roots) checks the answer.
//!
//! Indices are drawn *with replacement* (independent draws; a repeat is answered twice). Then a
//! node that dropped exactly a fraction `f` of its chunks passes with probability exactly
//! `(1 − f)^c`, the figure the protocol and the simulator quote; drawing without replacement
//! would give the slightly smaller `C((1−f)L, c) / C(L, c)`. The multiply-shift map to `0..L` has
//! bias at most `L / 2^64`, negligible next to the sampling error of any simulation.
//!
//! Because `g_h` is unknown until round `h`, a node cannot precompute answers and then delete the
//! data. It can still fetch `k` other shards and re-encode its own on demand; that costs it `k`
//! shard downloads per round, which is what the deadline is for (not enforced here).

use super::commitment::{ChunkProof, PutError, StorageProof, StorePut};
use super::merkle::{self, MerkleError, MerkleTree};
use crate::core::hash::Hash;

const CHALLENGE_DOMAIN: &[u8] = b"vein/storage/challenge/v1";
/// Upper bound on chunks per challenge: bounds proof size and verification work.
pub const MAX_CHALLENGE_COUNT: usize = 256;
/// Default `c`: a node missing 10% of a shard fails a round with probability 1 − 0.9^16 ≈ 81%
/// (and 1 − 0.7^16 ≈ 99.7% at 30%), for a proof of ~22 KiB with 1 KiB chunks.
pub const DEFAULT_CHALLENGE_COUNT: usize = 16;

/// One round's challenge parameters, shared by every assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge {
    /// `g_h`: the generation signature of the checkpoint at height `round`, the draw's seed.
    pub generation_signature: Hash,
    /// `h`: the round, i.e. the checkpoint height the challenge belongs to.
    pub round: u64,
    /// `c`, chunks per shard per round (a protocol parameter).
    pub count: usize,
}

/// Why a storage proof could not be made ([`answer`]) or does not verify
/// ([`verify_storage_proof`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The put the proof is checked against fails [`StorePut::validate`].
    #[error("invalid store put: {0}")]
    Put(#[from] PutError),
    /// The challenge asks for no chunk or for more than [`MAX_CHALLENGE_COUNT`].
    #[error("challenge count {count} outside 1..={MAX_CHALLENGE_COUNT}")]
    BadChallengeCount {
        /// The challenge's `count`.
        count: usize,
    },
    /// The proof names another file than the put.
    #[error("proof is for file {got:?}, expected {expected:?}")]
    WrongFile {
        /// The put's file id.
        expected: Hash,
        /// The file id the proof carries.
        got: Hash,
    },
    /// The proof's shard index is not a shard of the file.
    #[error("shard index {shard_index} out of range for {total_shards} shards")]
    ShardIndexOutOfRange {
        /// The shard index asked about or claimed.
        shard_index: u8,
        /// Shards in the file.
        total_shards: u8,
    },
    /// The proof answers another round than the challenge's.
    #[error("proof is for round {got}, expected {expected}")]
    WrongRound {
        /// The challenge's round.
        expected: u64,
        /// The round the proof carries.
        got: u64,
    },
    /// The proof holds fewer chunks than the challenge draws.
    #[error("proof has {got} chunks, the challenge asks for {expected}")]
    MissingChunks {
        /// Chunks the challenge draws (`count`).
        expected: usize,
        /// Chunks in the proof.
        got: usize,
    },
    /// The proof holds more chunks than the challenge draws.
    #[error("proof has {got} chunks, the challenge asks for only {expected}")]
    ExtraChunks {
        /// Chunks the challenge draws (`count`).
        expected: usize,
        /// Chunks in the proof.
        got: usize,
    },
    /// A chunk answers another index than the draw at its position.
    #[error("chunk {position} answers index {got}, the challenge asked for {expected}")]
    WrongChunkIndex {
        /// Position of the chunk in the proof (the draw number `j`).
        position: usize,
        /// The chunk index drawn there.
        expected: u32,
        /// The chunk index the proof gives.
        got: u32,
    },
    /// A chunk's length is not the one the put fixes for that index (full, or the shard's
    /// short last chunk).
    #[error("chunk {position} (index {index}) has {got} bytes, expected {expected}")]
    ChunkLength {
        /// Position of the chunk in the proof.
        position: usize,
        /// The chunk's index in the shard.
        index: u32,
        /// Bytes the put fixes for that chunk.
        expected: u64,
        /// Bytes in the proof's chunk (0 when the node's shard is too short to hold it).
        got: usize,
    },
    /// A chunk and its path do not lead to the shard's committed root.
    #[error("chunk {position} (index {index}) does not match the shard root: {source}")]
    BadChunk {
        /// Position of the chunk in the proof.
        position: usize,
        /// The chunk's index in the shard.
        index: u32,
        /// What the Merkle check found.
        source: MerkleError,
    },
    /// The storage node's shard is not the length the put declares.
    #[error("shard has {got} bytes, the put declares {expected}")]
    ShardLength {
        /// The put's `shard_bytes`.
        expected: u64,
        /// Length of the shard the node holds.
        got: usize,
    },
    /// The storage node's tree is not the tree of the committed shard.
    #[error("the tree's root is not the put's root for shard {shard_index}")]
    TreeMismatch {
        /// The shard being answered for.
        shard_index: u8,
    },
}

/// The `count` chunk indices challenged for one shard in one round (with replacement).
pub fn challenge_indices(
    generation_signature: &Hash,
    file_id: &Hash,
    shard_index: u8,
    round: u64,
    leaf_count: u32,
    count: usize,
) -> Vec<u32> {
    (0..count)
        .map(|draw| {
            let hash = Hash::of_parts(&[
                CHALLENGE_DOMAIN,
                generation_signature.as_bytes(),
                file_id.as_bytes(),
                &[shard_index],
                &round.to_le_bytes(),
                &(draw as u64).to_le_bytes(),
            ]);
            // Multiply-shift: uniform on 0..leaf_count up to a bias of leaf_count / 2^64.
            ((u128::from(hash.first_u64_le()) * u128::from(leaf_count)) >> 64) as u32
        })
        .collect()
}

/// A storage node's answer: the challenged chunks of `shard` with paths from `tree`
/// (`MerkleTree::from_data(shard, put.chunk_bytes)`, kept between rounds).
pub fn answer(
    put: &StorePut,
    shard_index: u8,
    shard: &[u8],
    tree: &MerkleTree,
    challenge: &Challenge,
) -> Result<StorageProof, ProofError> {
    check_challenge(put, shard_index, challenge)?;
    if shard.len() as u64 != put.shard_bytes {
        return Err(ProofError::ShardLength { expected: put.shard_bytes, got: shard.len() });
    }
    if put.shard_roots.get(usize::from(shard_index)) != Some(&tree.root()) {
        return Err(ProofError::TreeMismatch { shard_index });
    }
    let leaf_count = tree.leaf_count();
    let chunk_bytes = put.chunk_bytes as usize;
    let indices = challenge_indices(
        &challenge.generation_signature,
        &put.file_id,
        shard_index,
        challenge.round,
        leaf_count,
        challenge.count,
    );
    let mut chunks = Vec::with_capacity(indices.len());
    for (position, index) in indices.into_iter().enumerate() {
        let start = index as usize * chunk_bytes;
        let end = (start + chunk_bytes).min(shard.len());
        let chunk = shard.get(start..end).ok_or(ProofError::ChunkLength {
            position,
            index,
            expected: put.chunk_len(index),
            got: 0,
        })?;
        let path =
            tree.prove(index).map_err(|source| ProofError::BadChunk { position, index, source })?;
        chunks.push(ChunkProof { index, chunk: chunk.to_vec(), path });
    }
    Ok(StorageProof { file_id: put.file_id, shard_index, round: challenge.round, chunks })
}

/// Verify `proof` against `put`'s roots for `challenge`. Total: never panics, whatever the input.
pub fn verify_storage_proof(
    put: &StorePut,
    challenge: &Challenge,
    proof: &StorageProof,
) -> Result<(), ProofError> {
    check_challenge(put, proof.shard_index, challenge)?;
    if proof.file_id != put.file_id {
        return Err(ProofError::WrongFile { expected: put.file_id, got: proof.file_id });
    }
    if proof.round != challenge.round {
        return Err(ProofError::WrongRound { expected: challenge.round, got: proof.round });
    }
    let expected = challenge.count;
    if proof.chunks.len() < expected {
        return Err(ProofError::MissingChunks { expected, got: proof.chunks.len() });
    }
    if proof.chunks.len() > expected {
        return Err(ProofError::ExtraChunks { expected, got: proof.chunks.len() });
    }
    let leaf_count =
        put.leaf_count().map_err(|_| PutError::ShardBytes { shard_bytes: put.shard_bytes })?;
    let root = put.shard_roots.get(usize::from(proof.shard_index)).ok_or(
        ProofError::ShardIndexOutOfRange {
            shard_index: proof.shard_index,
            total_shards: put.total_shards,
        },
    )?;
    let indices = challenge_indices(
        &challenge.generation_signature,
        &put.file_id,
        proof.shard_index,
        challenge.round,
        leaf_count,
        challenge.count,
    );
    for (position, (asked, answered)) in indices.iter().zip(&proof.chunks).enumerate() {
        if answered.index != *asked {
            return Err(ProofError::WrongChunkIndex {
                position,
                expected: *asked,
                got: answered.index,
            });
        }
        let length = put.chunk_len(answered.index);
        if answered.chunk.len() as u64 != length {
            return Err(ProofError::ChunkLength {
                position,
                index: answered.index,
                expected: length,
                got: answered.chunk.len(),
            });
        }
        merkle::verify(root, answered.index, &answered.chunk, &answered.path, leaf_count)
            .map_err(|source| ProofError::BadChunk { position, index: answered.index, source })?;
    }
    Ok(())
}

fn check_challenge(
    put: &StorePut,
    shard_index: u8,
    challenge: &Challenge,
) -> Result<(), ProofError> {
    put.validate()?;
    if challenge.count == 0 || challenge.count > MAX_CHALLENGE_COUNT {
        return Err(ProofError::BadChallengeCount { count: challenge.count });
    }
    if shard_index >= put.total_shards {
        return Err(ProofError::ShardIndexOutOfRange {
            shard_index,
            total_shards: put.total_shards,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::crypto::{AccountId, Keypair};
    use crate::core::storage::commitment::prepare_file;
    use crate::core::storage::encrypt::OwnerKey;
    use proptest::prelude::*;

    struct Fixture {
        put: StorePut,
        shards: Vec<Vec<u8>>,
        trees: Vec<MerkleTree>,
    }

    fn fixture(length: usize) -> Fixture {
        let plaintext: Vec<u8> = (0..length).map(|i| (i * 29 % 256) as u8).collect();
        let prepared = prepare_file(&plaintext, &OwnerKey([4; 32]), 3, 5, 64).unwrap();
        let nodes: Vec<AccountId> =
            (0..5).map(|i| Keypair::derived("challenge", i).account()).collect();
        let put = prepared.store_put(nodes, 50, 5_000);
        let trees = prepared.shards.iter().map(|s| MerkleTree::from_data(s, 64).unwrap()).collect();
        Fixture { put, shards: prepared.shards, trees }
    }

    fn challenge(round: u64, count: usize) -> Challenge {
        Challenge { generation_signature: Hash::of(&round.to_le_bytes()), round, count }
    }

    #[test]
    fn indices_are_deterministic_in_range_and_input_sensitive() {
        let g = Hash::of(b"g");
        let f = Hash::of(b"f");
        let a = challenge_indices(&g, &f, 0, 7, 1000, 64);
        assert_eq!(a, challenge_indices(&g, &f, 0, 7, 1000, 64));
        assert!(a.iter().all(|x| *x < 1000));
        assert_ne!(a, challenge_indices(&g, &f, 1, 7, 1000, 64));
        assert_ne!(a, challenge_indices(&g, &f, 0, 8, 1000, 64));
        assert_ne!(a, challenge_indices(&Hash::of(b"h"), &f, 0, 7, 1000, 64));
        assert_eq!(challenge_indices(&g, &f, 0, 7, 1, 5), vec![0; 5]);
    }

    #[test]
    fn honest_answer_verifies_and_each_fault_has_its_own_error() {
        let fx = fixture(20_000);
        let ch = challenge(3, 8);
        let proof = answer(&fx.put, 2, &fx.shards[2], &fx.trees[2], &ch).unwrap();
        assert_eq!(verify_storage_proof(&fx.put, &ch, &proof), Ok(()));

        let stale = challenge(2, 8);
        let old = answer(&fx.put, 2, &fx.shards[2], &fx.trees[2], &stale).unwrap();
        assert_eq!(
            verify_storage_proof(&fx.put, &ch, &old),
            Err(ProofError::WrongRound { expected: 3, got: 2 })
        );
        // An old proof relabelled with the current round still fails: its indices are stale.
        let mut relabelled = old.clone();
        relabelled.round = 3;
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &relabelled),
            Err(ProofError::WrongChunkIndex { .. })
        ));

        let mut missing = proof.clone();
        missing.chunks.pop();
        assert_eq!(
            verify_storage_proof(&fx.put, &ch, &missing),
            Err(ProofError::MissingChunks { expected: 8, got: 7 })
        );
        let mut extra = proof.clone();
        extra.chunks.push(proof.chunks[0].clone());
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &extra),
            Err(ProofError::ExtraChunks { .. })
        ));

        let mut flipped = proof.clone();
        flipped.chunks[1].chunk[0] ^= 1;
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &flipped),
            Err(ProofError::BadChunk { position: 1, source: MerkleError::RootMismatch { .. }, .. })
        ));

        let mut other_shard = proof.clone();
        other_shard.shard_index = 1;
        assert!(verify_storage_proof(&fx.put, &ch, &other_shard).is_err());
        other_shard.shard_index = 9;
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &other_shard),
            Err(ProofError::ShardIndexOutOfRange { shard_index: 9, .. })
        ));
        let mut other_file = proof.clone();
        other_file.file_id = Hash::ZERO;
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &other_file),
            Err(ProofError::WrongFile { .. })
        ));
        assert!(matches!(
            verify_storage_proof(&fx.put, &challenge(3, 0), &proof),
            Err(ProofError::BadChallengeCount { count: 0 })
        ));
        assert_eq!(
            answer(&fx.put, 2, &fx.shards[2], &fx.trees[1], &ch),
            Err(ProofError::TreeMismatch { shard_index: 2 })
        );
    }

    #[test]
    fn short_last_chunk_must_keep_its_length() {
        let fx = fixture(1000);
        // Find a round that challenges the last (short) chunk of shard 0.
        let leaves = fx.put.leaf_count().unwrap();
        assert_ne!(fx.put.chunk_len(leaves - 1), u64::from(fx.put.chunk_bytes));
        let ch = (0..1000)
            .map(|round| challenge(round, 1))
            .find(|ch| {
                let g = ch.generation_signature;
                challenge_indices(&g, &fx.put.file_id, 0, ch.round, leaves, 1)[0] == leaves - 1
            })
            .unwrap();
        let mut proof = answer(&fx.put, 0, &fx.shards[0], &fx.trees[0], &ch).unwrap();
        assert_eq!(verify_storage_proof(&fx.put, &ch, &proof), Ok(()));
        proof.chunks[0].chunk.push(0);
        assert!(matches!(
            verify_storage_proof(&fx.put, &ch, &proof),
            Err(ProofError::ChunkLength { .. })
        ));
    }

    /// PROTOCOL.md section 5: a node that dropped a fraction f of its chunks passes c challenges
    /// with probability (1 − f)^c. Exactly ⌊f·1024⌋ chunks are dropped, so the exact target is
    /// (1 − dropped/1024)^c; the empirical pass rate over seeded rounds must lie in the 99.9%
    /// normal-approximation binomial interval around it.
    #[test]
    fn pass_rate_matches_one_minus_f_to_the_c() {
        const LEAVES: u32 = 1024;
        const ROUNDS: u64 = 4000;
        let file_id = Hash::of(b"probability");
        for fraction in [0.1f64, 0.3] {
            let dropped_count = (fraction * f64::from(LEAVES)).floor() as u32;
            // Drop a pseudo-random set of exactly dropped_count chunks.
            let mut order: Vec<u32> = (0..LEAVES).collect();
            order.sort_by_key(|i| Hash::of_parts(&[b"drop", &i.to_le_bytes()]));
            let mut kept = vec![true; LEAVES as usize];
            for i in &order[..dropped_count as usize] {
                kept[*i as usize] = false;
            }
            let exact_f = f64::from(dropped_count) / f64::from(LEAVES);
            for count in [1usize, 4, 16] {
                let passes = (0..ROUNDS)
                    .filter(|round| {
                        let g = Hash::of_parts(&[b"seed", &round.to_le_bytes()]);
                        challenge_indices(&g, &file_id, 0, *round, LEAVES, count)
                            .iter()
                            .all(|i| kept[*i as usize])
                    })
                    .count();
                let expected = (1.0 - exact_f).powi(count as i32);
                let rate = passes as f64 / ROUNDS as f64;
                let half_width = 3.2905 * (expected * (1.0 - expected) / ROUNDS as f64).sqrt();
                assert!(
                    (rate - expected).abs() <= half_width,
                    "f={exact_f} c={count}: rate {rate} vs {expected} ± {half_width}"
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_tampering_with_a_proof_fails(
            round in any::<u64>(),
            count in 1usize..12,
            which in any::<usize>(),
            byte in any::<usize>(),
            bit in 0u8..8,
            in_path in any::<bool>(),
            shift in 1u32..100,
        ) {
            let fx = fixture(6000);
            let ch = challenge(round, count);
            let proof = answer(&fx.put, 4, &fx.shards[4], &fx.trees[4], &ch).unwrap();
            prop_assert_eq!(verify_storage_proof(&fx.put, &ch, &proof), Ok(()));
            let position = which % count;

            let mut tampered = proof.clone();
            let target = &mut tampered.chunks[position];
            if in_path && !target.path.is_empty() {
                let hop = byte % target.path.len();
                target.path[hop].0[byte % 32] ^= 1 << bit;
            } else {
                let at = byte % target.chunk.len();
                target.chunk[at] ^= 1 << bit;
            }
            prop_assert!(
                matches!(
                    verify_storage_proof(&fx.put, &ch, &tampered),
                    Err(ProofError::BadChunk { .. })
                ),
                "tampered proof accepted"
            );

            // The right chunk and path for a different index than the one challenged.
            let leaves = fx.put.leaf_count().unwrap();
            let asked = proof.chunks[position].index;
            let other = (asked + shift) % leaves;
            let mut wrong = proof.clone();
            let start = other as usize * 64;
            let end = (start + 64).min(fx.shards[4].len());
            wrong.chunks[position] = ChunkProof {
                index: other,
                chunk: fx.shards[4][start..end].to_vec(),
                path: fx.trees[4].prove(other).unwrap(),
            };
            if other != asked {
                prop_assert!(
                    matches!(
                        verify_storage_proof(&fx.put, &ch, &wrong),
                        Err(ProofError::WrongChunkIndex { .. })
                    ),
                    "proof for the wrong index accepted"
                );
            }
        }

        #[test]
        fn verify_never_panics_on_mangled_inputs(
            shard_bytes in any::<u64>(),
            chunk_bytes in any::<u32>(),
            shard_index in any::<u8>(),
            index in any::<u32>(),
            chunk in proptest::collection::vec(any::<u8>(), 0..200),
            path_len in 0usize..40,
            count in 0usize..300,
        ) {
            let fx = fixture(500);
            let mut put = fx.put.clone();
            put.shard_bytes = shard_bytes;
            put.chunk_bytes = chunk_bytes;
            // Re-commit so that checks past the file-id check are exercised too.
            put.file_id = crate::core::storage::commitment::file_id_of(
                put.data_shards, put.total_shards, chunk_bytes, shard_bytes, &put.shard_roots,
            );
            let proof = StorageProof {
                file_id: put.file_id,
                shard_index,
                round: 1,
                chunks: vec![ChunkProof { index, chunk, path: vec![Hash::ZERO; path_len] }; count],
            };
            let _ = verify_storage_proof(&put, &challenge(1, count), &proof);
            let _ = verify_storage_proof(&fx.put, &challenge(1, count), &proof);
        }
    }
}
