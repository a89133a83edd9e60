//! The replica's state root: a Merkle commitment to the current rows of every table, kept up
//! to date row by row. Rows are spread over `2^BUCKET_BITS` buckets by the hash of (table,
//! primary key); a bucket's hash covers its sorted (row key, row hash) entries; a complete
//! binary tree over the bucket hashes gives the root. Changing a row rehashes its bucket and
//! the `BUCKET_BITS` nodes above it, never the whole state.
//!
//! A proof of a row is its bucket's entries (row keys and row hashes, no other plaintext) and
//! the sibling hashes on the path to the root. Buckets trade proof size for simplicity: at
//! 10^6 rows a bucket holds about 244 entries (15 KiB of proof); a sparse Merkle tree with
//! collapsed single-leaf subtrees (JMT) would give 1 KiB proofs and is the upgrade path.

use crate::core::consortium::Value;
use crate::core::hash::Hash;
use crate::core::wire;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bucket index bits: 4,096 buckets, a 256 KiB tree per replica.
pub const BUCKET_BITS: u32 = 12;
const BUCKETS: usize = 1 << BUCKET_BITS;

/// The key of a row in the commitment: table and canonical primary-key bytes.
pub fn row_key(table: &str, key: &Value) -> Hash {
    let key_bytes = wire::encode_body(key, "row key").unwrap_or_default();
    Hash::of_parts(&[
        b"vein/consortium/row-key/v1",
        &(table.len() as u64).to_le_bytes(),
        table.as_bytes(),
        &key_bytes,
    ])
}

/// The hash of a row's values.
pub fn row_hash(row: &[Value]) -> Hash {
    let bytes = wire::encode_body(&row, "row").unwrap_or_default();
    Hash::of_parts(&[b"vein/consortium/row/v1", &bytes])
}

fn bucket_of(key: &Hash) -> usize {
    (key.first_u64_le() as usize) & (BUCKETS - 1)
}

fn bucket_hash(entries: &BTreeMap<Hash, Hash>) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"vein/consortium/bucket/v1");
    hasher.update(&(entries.len() as u64).to_le_bytes());
    for (key, row) in entries {
        hasher.update(key.as_bytes());
        hasher.update(row.as_bytes());
    }
    Hash(*hasher.finalize().as_bytes())
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::of_parts(&[b"vein/consortium/node/v1", left.as_bytes(), right.as_bytes()])
}

/// A proof that a row key holds a row hash (or nothing) under a root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RowProof {
    /// Index of the bucket the row key falls in (0..`2^BUCKET_BITS`).
    pub bucket: u32,
    /// Every (row key, row hash) entry of that bucket, in key order.
    pub entries: Vec<(Hash, Hash)>,
    /// Sibling hashes from the bucket level up to just below the root.
    pub siblings: Vec<Hash>,
}

impl RowProof {
    /// Does this proof show `table`'s row `key` holding `row` (`None`: absent) under `root`?
    pub fn verify(&self, root: &Hash, table: &str, key: &Value, row: Option<&[Value]>) -> bool {
        let row_key = row_key(table, key);
        if self.bucket as usize != bucket_of(&row_key)
            || self.siblings.len() != BUCKET_BITS as usize
        {
            return false;
        }
        let entries: BTreeMap<Hash, Hash> = self.entries.iter().copied().collect();
        if entries.len() != self.entries.len()
            || entries.keys().any(|entry| bucket_of(entry) != self.bucket as usize)
            || entries.get(&row_key) != row.map(row_hash).as_ref()
        {
            return false;
        }
        let mut hash = bucket_hash(&entries);
        let mut index = self.bucket as usize;
        for sibling in &self.siblings {
            hash =
                if index & 1 == 0 { node_hash(&hash, sibling) } else { node_hash(sibling, &hash) };
            index >>= 1;
        }
        hash == *root
    }
}

/// The incremental tree.
#[derive(Clone, Debug)]
pub struct StateTree {
    buckets: Vec<BTreeMap<Hash, Hash>>,
    /// Heap layout: node 1 is the root, node i has children 2i and 2i + 1; buckets are the
    /// leaves at `BUCKETS + bucket`.
    nodes: Vec<Hash>,
}

impl Default for StateTree {
    fn default() -> Self {
        StateTree::new()
    }
}

impl StateTree {
    /// The tree of an empty replica.
    pub fn new() -> StateTree {
        let mut nodes = vec![Hash::ZERO; 2 * BUCKETS];
        let empty = bucket_hash(&BTreeMap::new());
        for leaf in &mut nodes[BUCKETS..] {
            *leaf = empty;
        }
        for index in (1..BUCKETS).rev() {
            nodes[index] = node_hash(&nodes[2 * index], &nodes[2 * index + 1]);
        }
        StateTree { buckets: vec![BTreeMap::new(); BUCKETS], nodes }
    }

    /// The root over every row.
    pub fn root(&self) -> Hash {
        self.nodes[1]
    }

    /// Number of rows committed.
    pub fn rows(&self) -> usize {
        self.buckets.iter().map(BTreeMap::len).sum()
    }

    /// Set (or with `None` remove) one row, rehashing only its path.
    pub fn set(&mut self, table: &str, key: &Value, row: Option<&[Value]>) {
        let row_key = row_key(table, key);
        let bucket = bucket_of(&row_key);
        match row {
            Some(row) => self.buckets[bucket].insert(row_key, row_hash(row)),
            None => self.buckets[bucket].remove(&row_key),
        };
        let mut index = BUCKETS + bucket;
        self.nodes[index] = bucket_hash(&self.buckets[bucket]);
        while index > 1 {
            index /= 2;
            self.nodes[index] = node_hash(&self.nodes[2 * index], &self.nodes[2 * index + 1]);
        }
    }

    /// A proof of the current content (or absence) of `table`'s row with primary key `key`.
    pub fn prove(&self, table: &str, key: &Value) -> RowProof {
        let bucket = bucket_of(&row_key(table, key));
        let mut siblings = Vec::with_capacity(BUCKET_BITS as usize);
        let mut index = BUCKETS + bucket;
        while index > 1 {
            siblings.push(self.nodes[index ^ 1]);
            index /= 2;
        }
        RowProof {
            bucket: bucket as u32,
            entries: self.buckets[bucket].iter().map(|(k, v)| (*k, *v)).collect(),
            siblings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, text: &str) -> Vec<Value> {
        vec![Value::Integer(id), Value::Text(text.into())]
    }

    #[test]
    fn the_root_depends_on_the_rows_not_the_order_they_were_written() {
        let mut forward = StateTree::new();
        let mut backward = StateTree::new();
        let empty = forward.root();
        for id in 0..50 {
            forward.set("t", &Value::Integer(id), Some(&row(id, "a")));
        }
        for id in (0..50).rev() {
            backward.set("t", &Value::Integer(id), Some(&row(id, "b")));
            backward.set("t", &Value::Integer(id), Some(&row(id, "a")));
        }
        assert_eq!(forward.root(), backward.root());
        for id in 0..50 {
            forward.set("t", &Value::Integer(id), None);
        }
        assert_eq!(forward.root(), empty);
        assert_eq!(forward.rows(), 0);
    }

    #[test]
    fn a_proof_verifies_and_a_tampered_row_or_root_does_not() {
        let mut tree = StateTree::new();
        for id in 0..200 {
            tree.set("t", &Value::Integer(id), Some(&row(id, "v")));
        }
        let root = tree.root();
        let key = Value::Integer(7);
        let proof = tree.prove("t", &key);
        assert!(proof.verify(&root, "t", &key, Some(&row(7, "v"))));
        assert!(!proof.verify(&root, "t", &key, Some(&row(7, "w"))));
        assert!(!proof.verify(&root, "t", &key, None));
        assert!(!proof.verify(&root, "u", &key, Some(&row(7, "v"))));
        assert!(!proof.verify(&Hash::ZERO, "t", &key, Some(&row(7, "v"))));
        let mut forged = proof.clone();
        forged.siblings[3] = Hash::ZERO;
        assert!(!forged.verify(&root, "t", &key, Some(&row(7, "v"))));
        let absent = Value::Integer(1_000);
        assert!(tree.prove("t", &absent).verify(&root, "t", &absent, None));
    }
}
