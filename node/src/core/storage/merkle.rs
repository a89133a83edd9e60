//! Binary Merkle trees over fixed-size chunks of one shard.
//!
//! Model: a shard of `shard_bytes` bytes is cut into `chunk_bytes` chunks; the last chunk is
//! shorter when `chunk_bytes` does not divide `shard_bytes`. It is *not* padded: its length is
//! committed by `shard_bytes`, which the `StorePut` records, so a verifier knows the exact length
//! of every chunk and rejects any other before hashing. A shard always has at least one leaf.
//!
//! Hashing is domain-separated so that a leaf can never be passed off as an inner node or the
//! reverse (second-preimage attacks on the tree shape): `leaf = H(0x00 || chunk)`,
//! `node = H(0x01 || left || right)`.
//!
//! Odd levels: a node without a right sibling is *promoted* unchanged to the next level (as in
//! RFC 6962's shape), never paired with a copy of itself. Duplication (Bitcoin's rule) lets two
//! different leaf lists share a root (CVE-2012-2459); promotion does not. With promotion the exact
//! length of a proof is a function of `(index, leaf_count)` alone, and [`verify`] insists on it.
//!
//! The root does not commit to the leaf count by itself (trees of 10 and 11 leaves share the
//! paths of their first 8 leaves); the count always comes from the `StorePut`'s `shard_bytes` and
//! `chunk_bytes`, which the file id commits to, never from the prover.

use crate::core::hash::Hash;

const LEAF_TAG: u8 = 0x00;
const NODE_TAG: u8 = 0x01;

/// Sibling hashes from the leaf level upward, skipping levels where the node was promoted.
pub type MerklePath = Vec<Hash>;

/// Why a tree could not be built or a path does not prove a leaf.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A proof was asked or checked for a leaf the tree does not have.
    #[error("leaf index {index} is out of range for {leaf_count} leaves")]
    IndexOutOfRange {
        /// The leaf asked for.
        index: u32,
        /// Leaves in the tree.
        leaf_count: u32,
    },
    /// [`MerkleTree::from_leaves`] was given no leaf.
    #[error("a tree needs at least one leaf")]
    Empty,
    /// A path's length is not the one the tree's shape fixes for that leaf ([`path_length`]).
    #[error("path for leaf {index} has {got} hashes, expected {expected}")]
    PathLength {
        /// The leaf the path claims to prove.
        index: u32,
        /// Sibling hashes the shape requires.
        expected: usize,
        /// Sibling hashes the path holds.
        got: usize,
    },
    /// The chunk hashed up its path gives another root: wrong data or a forged path.
    #[error("leaf {index} and its path do not hash to the root")]
    RootMismatch {
        /// The leaf that failed.
        index: u32,
    },
    /// A chunk size of 0 bytes was given.
    #[error("chunk size must be at least one byte")]
    ZeroChunkBytes,
    /// The data would need more leaves than a u32 index can name.
    #[error("{leaves} leaves exceed the u32 index range")]
    TooManyLeaves {
        /// Leaves the data would need.
        leaves: u64,
    },
}

/// The hash of one leaf: `H(0x00 || chunk)`, domain-separated from inner nodes.
pub fn leaf_hash(chunk: &[u8]) -> Hash {
    Hash::of_parts(&[&[LEAF_TAG], chunk])
}

/// The hash of an inner node: `H(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::of_parts(&[&[NODE_TAG], left.as_bytes(), right.as_bytes()])
}

/// Number of leaves for `data_bytes` bytes in `chunk_bytes` chunks (at least one).
pub fn leaf_count(data_bytes: u64, chunk_bytes: u32) -> Result<u32, MerkleError> {
    if chunk_bytes == 0 {
        return Err(MerkleError::ZeroChunkBytes);
    }
    let leaves = data_bytes.div_ceil(u64::from(chunk_bytes)).max(1);
    u32::try_from(leaves).map_err(|_| MerkleError::TooManyLeaves { leaves })
}

/// The number of sibling hashes on the path of leaf `index` in a tree of `leaf_count` leaves.
pub fn path_length(index: u32, leaf_count: u32) -> Result<usize, MerkleError> {
    if index >= leaf_count {
        return Err(MerkleError::IndexOutOfRange { index, leaf_count });
    }
    let (mut position, mut width, mut length) = (index, leaf_count, 0usize);
    while width > 1 {
        // A node has a sibling unless it is the last one of an odd-width level.
        if position % 2 == 1 || position + 1 < width {
            length += 1;
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    Ok(length)
}

/// A whole tree, kept by a storage node so that answering a challenge costs no rehashing.
/// Memory: about `2 × 32 / chunk_bytes` of the shard (6% at 1 KiB chunks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes, the last level is the root alone.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Build from leaf hashes.
    pub fn from_leaves(leaves: Vec<Hash>) -> Result<MerkleTree, MerkleError> {
        if leaves.is_empty() {
            return Err(MerkleError::Empty);
        }
        u32::try_from(leaves.len())
            .map_err(|_| MerkleError::TooManyLeaves { leaves: leaves.len() as u64 })?;
        let mut levels = vec![leaves];
        while let Some(level) = levels.last().filter(|level| level.len() > 1) {
            let next: Vec<Hash> = level
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    // chunks(2) never yields an empty slice; a lone node is promoted.
                    _ => pair.first().copied().unwrap_or(Hash::ZERO),
                })
                .collect();
            levels.push(next);
        }
        Ok(MerkleTree { levels })
    }

    /// Build over `data` cut into `chunk_bytes` chunks (an empty `data` is one empty leaf).
    pub fn from_data(data: &[u8], chunk_bytes: u32) -> Result<MerkleTree, MerkleError> {
        let count = leaf_count(data.len() as u64, chunk_bytes)?;
        let leaves: Vec<Hash> = if data.is_empty() {
            vec![leaf_hash(&[])]
        } else {
            data.chunks(chunk_bytes as usize).map(leaf_hash).collect()
        };
        debug_assert_eq!(leaves.len(), count as usize);
        MerkleTree::from_leaves(leaves)
    }

    /// The root hash, the commitment a `StorePut` records for the shard.
    pub fn root(&self) -> Hash {
        self.levels.last().and_then(|level| level.first()).copied().unwrap_or(Hash::ZERO)
    }

    /// Leaves (chunks) in the tree; at least 1.
    pub fn leaf_count(&self) -> u32 {
        // from_leaves guarantees a non-empty first level whose length fits a u32.
        self.levels.first().map_or(0, |leaves| leaves.len() as u32)
    }

    /// The path proving leaf `index`.
    pub fn prove(&self, index: u32) -> Result<MerklePath, MerkleError> {
        let expected = path_length(index, self.leaf_count())?;
        let mut path = Vec::with_capacity(expected);
        let mut position = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = position ^ 1;
            if let Some(hash) = level.get(sibling) {
                path.push(*hash);
            }
            position /= 2;
        }
        debug_assert_eq!(path.len(), expected);
        Ok(path)
    }
}

/// Merkle root of `data` in `chunk_bytes` chunks.
pub fn root(data: &[u8], chunk_bytes: u32) -> Result<Hash, MerkleError> {
    Ok(MerkleTree::from_data(data, chunk_bytes)?.root())
}

/// Check that `chunk` is leaf `index` of the `leaf_count`-leaf tree with root `root`.
pub fn verify(
    root: &Hash,
    index: u32,
    chunk: &[u8],
    path: &[Hash],
    leaf_count: u32,
) -> Result<(), MerkleError> {
    if root_from_path(index, chunk, path, leaf_count)? != *root {
        return Err(MerkleError::RootMismatch { index });
    }
    Ok(())
}

/// The root that `chunk` at leaf `index` of a `leaf_count`-leaf tree hashes up to along
/// `path`: for a verifier that compares the root with a commitment of its own (the peg's
/// outbox, which is itself hashed into a ledger root) rather than with a known tree root.
pub fn root_from_path(
    index: u32,
    chunk: &[u8],
    path: &[Hash],
    leaf_count: u32,
) -> Result<Hash, MerkleError> {
    let expected = path_length(index, leaf_count)?;
    if path.len() != expected {
        return Err(MerkleError::PathLength { index, expected, got: path.len() });
    }
    let mut hash = leaf_hash(chunk);
    let mut siblings = path.iter();
    let (mut position, mut width) = (index, leaf_count);
    while width > 1 {
        if position % 2 == 1 {
            let sibling = siblings.next().ok_or(MerkleError::RootMismatch { index })?;
            hash = node_hash(sibling, &hash);
        } else if position + 1 < width {
            let sibling = siblings.next().ok_or(MerkleError::RootMismatch { index })?;
            hash = node_hash(&hash, sibling);
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    Ok(hash)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Non-periodic bytes, so no two chunks are equal (equal chunks make "wrong index" right).
    fn data(bytes: usize) -> Vec<u8> {
        (0..bytes).map(|i| Hash::of(&(i / 32).to_le_bytes()).0[i % 32]).collect()
    }

    #[test]
    fn small_trees_have_the_documented_shape() {
        let chunks: Vec<&[u8]> = vec![b"a", b"b", b"c"];
        let tree = MerkleTree::from_leaves(chunks.iter().map(|c| leaf_hash(c)).collect()).unwrap();
        let left = node_hash(&leaf_hash(b"a"), &leaf_hash(b"b"));
        // The third leaf is promoted, not duplicated.
        assert_eq!(tree.root(), node_hash(&left, &leaf_hash(b"c")));
        assert_eq!(tree.prove(2).unwrap(), vec![left]);
        assert_eq!(root(b"", 4).unwrap(), leaf_hash(b""));
        assert_eq!(MerkleTree::from_leaves(vec![]), Err(MerkleError::Empty));
        assert_eq!(leaf_count(10, 0), Err(MerkleError::ZeroChunkBytes));
    }

    #[test]
    fn every_leaf_of_every_small_tree_verifies() {
        for leaves in 1u32..40 {
            let bytes = data(leaves as usize * 16 - 5);
            let tree = MerkleTree::from_data(&bytes, 16).unwrap();
            assert_eq!(tree.leaf_count(), leaves);
            for (index, chunk) in bytes.chunks(16).enumerate() {
                let index = index as u32;
                let path = tree.prove(index).unwrap();
                assert_eq!(verify(&tree.root(), index, chunk, &path, leaves), Ok(()));
            }
        }
    }

    #[test]
    fn wrong_length_index_and_count_are_rejected() {
        let bytes = data(1000);
        let tree = MerkleTree::from_data(&bytes, 100).unwrap();
        let path = tree.prove(3).unwrap();
        let chunk = &bytes[300..400];
        let mut long = path.clone();
        long.push(Hash::ZERO);
        assert!(matches!(
            verify(&tree.root(), 3, chunk, &long, 10),
            Err(MerkleError::PathLength { .. })
        ));
        assert!(matches!(
            verify(&tree.root(), 10, chunk, &path, 10),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        // A leaf count that changes the shape changes the path length. (The root itself does not
        // commit to the count; the verifier takes it from the put's committed shard_bytes.)
        assert!(matches!(
            verify(&tree.root(), 3, chunk, &path, 4),
            Err(MerkleError::PathLength { expected: 2, got: 4, .. })
        ));
        assert_eq!(tree.prove(10), Err(MerkleError::IndexOutOfRange { index: 10, leaf_count: 10 }));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn tampering_is_detected(
            length in 1usize..5000,
            chunk_bytes in 1u32..300,
            pick in any::<u32>(),
            other in any::<u32>(),
            flip in any::<usize>(),
            bit in 0u8..8,
        ) {
            let bytes = data(length);
            let tree = MerkleTree::from_data(&bytes, chunk_bytes).unwrap();
            let leaves = tree.leaf_count();
            let index = pick % leaves;
            let chunk = bytes.chunks(chunk_bytes as usize).nth(index as usize).unwrap();
            let path = tree.prove(index).unwrap();
            prop_assert_eq!(verify(&tree.root(), index, chunk, &path, leaves), Ok(()));

            let mut bad_chunk = chunk.to_vec();
            let position = flip % bad_chunk.len();
            bad_chunk[position] ^= 1 << bit;
            prop_assert!(verify(&tree.root(), index, &bad_chunk, &path, leaves).is_err());

            if !path.is_empty() {
                let mut bad_path = path.clone();
                let hop = flip % bad_path.len();
                bad_path[hop].0[(flip / 7) % 32] ^= 1 << bit;
                prop_assert!(verify(&tree.root(), index, chunk, &bad_path, leaves).is_err());
                let mut short = path.clone();
                short.pop();
                prop_assert!(verify(&tree.root(), index, chunk, &short, leaves).is_err());
            }

            // A proof moved to another index must fail unless that leaf holds the same bytes.
            let wrong = other % leaves;
            let wrong_chunk = bytes.chunks(chunk_bytes as usize).nth(wrong as usize).unwrap();
            if wrong != index && wrong_chunk != chunk {
                prop_assert!(verify(&tree.root(), wrong, chunk, &path, leaves).is_err());
            }
        }
    }
}
