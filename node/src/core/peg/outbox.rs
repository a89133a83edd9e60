//! The outbox: an append-only list of lock and burn entries and a Merkle tree over them, in
//! `storage::merkle`'s shape (leaf `H(0x00 ‖ encoded entry)`, node `H(0x01 ‖ left ‖ right)`, a
//! lone last node promoted). Its commitment `H(tag, count, merkle root)` is what the ledger root
//! commits (see `proof.rs`), so a path from `storage::merkle::MerkleTree::prove` over the first
//! `count` leaves proves an entry to another chain.
//!
//! The root is kept as a frontier (the roots of the perfect subtrees the leaf count decomposes
//! into, largest first): an append costs O(log n) hashes and the root is the frontier folded
//! from the right, which is exactly the promoted-node tree's root (tested against
//! `MerkleTree::from_leaves`). The ledger root is computed at every checkpoint, so rebuilding
//! the tree there would cost O(n) per checkpoint forever.

use super::action::OutboxEntry;
use crate::core::hash::Hash;
use crate::core::storage::merkle::{self, MerkleError, MerklePath, MerkleTree};
use crate::core::wire;

/// The canonical bytes of an entry: the Merkle leaf's preimage.
pub fn entry_bytes(entry: &OutboxEntry) -> Vec<u8> {
    // Encoding a struct of integers, hashes and strings cannot fail; an empty encoding would
    // be a bug, and it still hashes to a leaf no real entry has.
    let bytes = wire::encode_body(entry, "outbox entry").unwrap_or_default();
    debug_assert!(!bytes.is_empty());
    bytes
}

/// The leaf hash of an entry.
pub fn entry_leaf(entry: &OutboxEntry) -> Hash {
    merkle::leaf_hash(&entry_bytes(entry))
}

/// The outbox commitment hashed into the ledger root: the leaf count and the Merkle root (zero
/// for an empty outbox).
pub fn commitment(count: u32, merkle_root: &Hash) -> Hash {
    Hash::of_parts(&[b"vein/peg/outbox/v1", &count.to_le_bytes(), merkle_root.as_bytes()])
}

/// Every entry this ledger appended, their leaves and the tree's frontier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    entries: Vec<OutboxEntry>,
    leaves: Vec<Hash>,
    /// `(height, root)` of each perfect subtree, largest (leftmost) first; heights strictly
    /// decrease, so the frontier holds at most 32 subtrees.
    frontier: Vec<(u32, Hash)>,
}

/// What an append replaced, to undo it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxUndo {
    frontier: Vec<(u32, Hash)>,
}

impl Outbox {
    /// Entries appended so far.
    pub fn len(&self) -> u32 {
        // `append` refuses a leaf past u32::MAX.
        self.entries.len() as u32
    }

    /// True while no entry was appended.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in append order.
    pub fn entries(&self) -> &[OutboxEntry] {
        &self.entries
    }

    /// The entry with this id and its leaf index.
    pub fn find(&self, id: &Hash) -> Option<(u32, &OutboxEntry)> {
        let index = self.entries.iter().position(|entry| entry.id == *id)?;
        Some((index as u32, &self.entries[index]))
    }

    /// The Merkle root of every leaf (zero when empty).
    pub fn merkle_root(&self) -> Hash {
        let mut peaks = self.frontier.iter().rev();
        let Some((_, last)) = peaks.next() else { return Hash::ZERO };
        peaks.fold(*last, |right, (_, left)| merkle::node_hash(left, &right))
    }

    /// `commitment(len, merkle_root)`.
    pub fn commitment(&self) -> Hash {
        commitment(self.len(), &self.merkle_root())
    }

    /// Whether one more entry fits (leaf indices are u32).
    pub fn has_room(&self) -> bool {
        self.entries.len() < u32::MAX as usize
    }

    /// Append `entry`; the caller checked `has_room`.
    pub fn append(&mut self, entry: OutboxEntry) -> OutboxUndo {
        debug_assert!(self.has_room());
        let undo = OutboxUndo { frontier: self.frontier.clone() };
        let leaf = entry_leaf(&entry);
        self.entries.push(entry);
        self.leaves.push(leaf);
        let mut carry = (0u32, leaf);
        while let Some(&(height, left)) = self.frontier.last() {
            if height != carry.0 {
                break;
            }
            self.frontier.pop();
            carry = (height + 1, merkle::node_hash(&left, &carry.1));
        }
        self.frontier.push(carry);
        debug_assert_eq!(self.frontier.len() as u32, self.len().count_ones());
        undo
    }

    /// Undo the last append.
    pub fn revert(&mut self, undo: OutboxUndo) {
        self.entries.pop();
        self.leaves.pop();
        self.frontier = undo.frontier;
    }

    /// The path of leaf `index` in the tree of the first `count` leaves: what a proof against a
    /// header whose outbox held `count` entries carries.
    pub fn prove(&self, index: u32, count: u32) -> Result<MerklePath, MerkleError> {
        let leaves = self
            .leaves
            .get(..count as usize)
            .ok_or(MerkleError::IndexOutOfRange { index: count, leaf_count: self.len() })?;
        MerkleTree::from_leaves(leaves.to_vec())?.prove(index)
    }

    /// The first leaf that is not its entry's hash, or the entry count if only the frontier's
    /// root disagrees with a rebuilt tree; `None` when consistent.
    pub fn first_inconsistency(&self) -> Option<usize> {
        if self.leaves.len() != self.entries.len() {
            return Some(self.leaves.len().min(self.entries.len()));
        }
        if let Some(index) = self
            .entries
            .iter()
            .zip(&self.leaves)
            .position(|(entry, leaf)| entry_leaf(entry) != *leaf)
        {
            return Some(index);
        }
        let rebuilt = MerkleTree::from_leaves(self.leaves.clone()).map_or(Hash::ZERO, |t| t.root());
        (rebuilt != self.merkle_root()).then_some(self.entries.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::super::action::Direction;
    use super::*;
    use crate::core::crypto::AccountId;
    use crate::core::token::TokenId;

    fn entry(i: u64) -> OutboxEntry {
        OutboxEntry {
            id: Hash::of(&i.to_le_bytes()),
            direction: Direction::Lock,
            source_chain: Hash::of(b"a"),
            dest_chain: Hash::of(b"b"),
            token: TokenId(Hash::of(b"t")),
            amount: i + 1,
            recipient: AccountId([3u8; 32]),
            name: "Acme".into(),
            symbol: "ACME".into(),
            decimals: 2,
        }
    }

    #[test]
    fn the_frontier_root_is_the_promoted_tree_root_and_every_prefix_proves() {
        let mut outbox = Outbox::default();
        assert_eq!(outbox.merkle_root(), Hash::ZERO);
        for i in 0..70u64 {
            outbox.append(entry(i));
            let leaves: Vec<Hash> = (0..=i).map(|j| entry_leaf(&entry(j))).collect();
            let tree = MerkleTree::from_leaves(leaves).unwrap();
            assert_eq!(outbox.merkle_root(), tree.root(), "{} leaves", i + 1);
            assert_eq!(outbox.first_inconsistency(), None);
        }
        // A path over a prefix (an older header's outbox) verifies against that prefix's root.
        let count = 37;
        let prefix: Vec<Hash> = (0..count).map(|j| entry_leaf(&entry(u64::from(j)))).collect();
        let root = MerkleTree::from_leaves(prefix).unwrap().root();
        for index in 0..count {
            let path = outbox.prove(index, count).unwrap();
            let bytes = entry_bytes(&entry(u64::from(index)));
            assert_eq!(merkle::verify(&root, index, &bytes, &path, count), Ok(()));
        }
        assert!(outbox.prove(0, 71).is_err());
    }

    #[test]
    fn a_leaf_or_root_that_does_not_match_its_entries_is_found() {
        let mut outbox = Outbox::default();
        for i in 0..5 {
            outbox.append(entry(i));
        }
        let mut forged = outbox.clone();
        forged.entries[2].amount += 1;
        assert_eq!(forged.first_inconsistency(), Some(2));
        let mut stale = outbox.clone();
        stale.frontier[0].1 = Hash::ZERO;
        assert_eq!(stale.first_inconsistency(), Some(5));
    }

    #[test]
    fn revert_restores_the_previous_root_exactly() {
        let mut outbox = Outbox::default();
        for i in 0..13 {
            outbox.append(entry(i));
        }
        let before = outbox.clone();
        let undo = outbox.append(entry(13));
        assert_ne!(outbox.commitment(), before.commitment());
        outbox.revert(undo);
        assert_eq!(outbox, before);
    }
}
