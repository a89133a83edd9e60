//! Which storage nodes hold a file's shards: rendezvous (highest-random-weight) hashing.
//!
//! Model: for shard `i` of file `f`, every candidate node `v` gets the score
//! `H("vein/storage/assign/v1" || f || v || i)` (first 8 bytes, LE); shards are assigned in order
//! `0..n`, each to the highest-scoring node not already holding a shard of this file. The result
//! depends only on `(file_id, node set)`, not on the order the set is given in, so every validator
//! recomputes the same list and can check a `StorePut`'s `storage_nodes`.
//!
//! Stability: adding a node that wins no shard changes nothing; removing a node that holds no shard
//! changes nothing. When a new node does win shard `i`, the node it displaced becomes free and may
//! win a later shard, so a change can cascade along the remaining shards of that one file: that is
//! the price of requiring `n` *distinct* nodes; still only a fraction ≈ n / |nodes| of files move.
//! For repair, [`reassign`] moves only the departed node's shard and leaves every other in place.
//!
//! Cost: `n × |nodes|` hashes per file (64 × 10,000 ≈ 0.64 M BLAKE3 calls, tens of ms). The owner
//! can grind its file (e.g. append a byte) to steer its shards toward chosen nodes; that only lets
//! it pay itself its own fee minus burns, so the rule does not try to prevent it.

use super::commitment::StorePut;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use std::collections::BTreeSet;

const ASSIGN_DOMAIN: &[u8] = b"vein/storage/assign/v1";
const REPAIR_DOMAIN: &[u8] = b"vein/storage/repair/v1";

/// Why shards could not be assigned, or a put's assignment is not the rule's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentError {
    /// Fewer distinct candidate nodes than shards to place (for a repair: no candidate left
    /// outside the file's current nodes).
    #[error("need {need} distinct eligible storage nodes, have {have}")]
    NotEnoughNodes {
        /// Distinct candidates available (for a repair: those not already holding a shard).
        have: usize,
        /// Nodes needed: the file's shard count, or 1 for a repair.
        need: usize,
    },
    /// A repair was asked for a node that is not among the file's storage nodes.
    #[error("node {node:?} holds no shard of this file")]
    NodeNotAssigned {
        /// The node said to be gone.
        node: AccountId,
    },
    /// A put names another node for a shard than [`assign`] gives.
    #[error("shard {shard_index} is assigned to {got:?}, the rule gives {expected:?}")]
    Mismatch {
        /// The first shard whose node differs.
        shard_index: u8,
        /// The node the rule chooses.
        expected: AccountId,
        /// The node the put names.
        got: AccountId,
    },
    /// A put lists another number of storage nodes than it has shards.
    #[error("the put lists {got} storage nodes for {expected} shards")]
    NodeCount {
        /// The put's `total_shards`.
        expected: usize,
        /// Entries in its `storage_nodes`.
        got: usize,
    },
}

/// The rendezvous score of `node` for shard `shard_index` of `file_id`.
pub fn score(file_id: &Hash, node: &AccountId, shard_index: u8) -> u64 {
    Hash::of_parts(&[ASSIGN_DOMAIN, file_id.as_bytes(), node.as_bytes(), &[shard_index]])
        .first_u64_le()
}

/// The highest-scoring node for `shard_index` outside `taken`; ties broken by the smaller id.
fn best(
    file_id: &Hash,
    shard_index: u8,
    nodes: &BTreeSet<AccountId>,
    taken: &BTreeSet<AccountId>,
) -> Option<AccountId> {
    best_by(nodes, taken, |node| score(file_id, node, shard_index))
}

/// The highest `score` outside `taken`; ties broken by the smaller id.
fn best_by(
    nodes: &BTreeSet<AccountId>,
    taken: &BTreeSet<AccountId>,
    score: impl Fn(&AccountId) -> u64,
) -> Option<AccountId> {
    nodes
        .iter()
        .filter(|node| !taken.contains(node))
        // max_by_key keeps the last maximum; iterating in order and comparing (score, Reverse(id))
        // makes the tie-break explicit.
        .max_by_key(|node| (score(node), std::cmp::Reverse(**node)))
        .copied()
}

/// Choose `total_shards` distinct nodes for `file_id` from `nodes` (duplicates ignored).
pub fn assign(
    file_id: &Hash,
    total_shards: u8,
    nodes: &[AccountId],
) -> Result<Vec<AccountId>, AssignmentError> {
    let candidates: BTreeSet<AccountId> = nodes.iter().copied().collect();
    let need = usize::from(total_shards);
    if candidates.len() < need {
        return Err(AssignmentError::NotEnoughNodes { have: candidates.len(), need });
    }
    let mut taken = BTreeSet::new();
    let mut chosen = Vec::with_capacity(need);
    for shard_index in 0..total_shards {
        let node = best(file_id, shard_index, &candidates, &taken)
            .ok_or(AssignmentError::NotEnoughNodes { have: candidates.len(), need })?;
        taken.insert(node);
        chosen.push(node);
    }
    debug_assert_eq!(chosen.len(), need);
    Ok(chosen)
}

/// The ledger's check of a new put: its `storage_nodes` are exactly what [`assign`] gives for the
/// node set the validator holds at that point of the chain.
pub fn check_assignment(put: &StorePut, nodes: &[AccountId]) -> Result<(), AssignmentError> {
    let expected = assign(&put.file_id, put.total_shards, nodes)?;
    if put.storage_nodes.len() != expected.len() {
        return Err(AssignmentError::NodeCount {
            expected: expected.len(),
            got: put.storage_nodes.len(),
        });
    }
    for (shard_index, (want, got)) in expected.iter().zip(&put.storage_nodes).enumerate() {
        if want != got {
            return Err(AssignmentError::Mismatch {
                shard_index: shard_index as u8,
                expected: *want,
                got: *got,
            });
        }
    }
    Ok(())
}

/// A repair: `shard_index` moves to `node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reassignment {
    /// The shard the departed node held (its position in `storage_nodes`).
    pub shard_index: u8,
    /// Its new holder: a candidate not already holding a shard of the file.
    pub node: AccountId,
}

/// Move the shard held by `gone_node` to the best node of `nodes` not already holding a shard of
/// this file; every other shard stays where it is.
pub fn reassign(
    put: &StorePut,
    gone_node: &AccountId,
    nodes: &[AccountId],
) -> Result<Reassignment, AssignmentError> {
    let shard_index =
        put.shard_of(gone_node).ok_or(AssignmentError::NodeNotAssigned { node: *gone_node })?;
    let candidates: BTreeSet<AccountId> = nodes.iter().copied().collect();
    let taken: BTreeSet<AccountId> = put.storage_nodes.iter().copied().collect();
    let node = best(&put.file_id, shard_index, &candidates, &taken).ok_or(
        AssignmentError::NotEnoughNodes { have: candidates.difference(&taken).count(), need: 1 },
    )?;
    debug_assert!(!put.storage_nodes.contains(&node));
    Ok(Reassignment { shard_index, node })
}

/// [`reassign`] for the file's repair number `attempt` (the contract's repair count so far).
/// Attempt 0 is exactly [`reassign`]; later attempts rank the candidates by a score salted with
/// the attempt. Why: the node set does not know which nodes are alive, so with one fixed ranking
/// a shard whose best candidates are two dead nodes would move between them forever (each repair
/// frees the node the previous one left, and that node is again the best candidate; seen in the
/// shard-loss scenario). With a fresh ranking per attempt each repair lands on a dead node only
/// with probability (dead candidates / candidates), so repairs end on a live node.
pub fn reassign_attempt(
    put: &StorePut,
    gone_node: &AccountId,
    nodes: &[AccountId],
    attempt: u64,
) -> Result<Reassignment, AssignmentError> {
    if attempt == 0 {
        return reassign(put, gone_node, nodes);
    }
    let shard_index =
        put.shard_of(gone_node).ok_or(AssignmentError::NodeNotAssigned { node: *gone_node })?;
    let candidates: BTreeSet<AccountId> = nodes.iter().copied().collect();
    let taken: BTreeSet<AccountId> = put.storage_nodes.iter().copied().collect();
    let salted = |node: &AccountId| {
        Hash::of_parts(&[
            REPAIR_DOMAIN,
            put.file_id.as_bytes(),
            node.as_bytes(),
            &[shard_index],
            &attempt.to_le_bytes(),
        ])
        .first_u64_le()
    };
    let node = best_by(&candidates, &taken, salted).ok_or(AssignmentError::NotEnoughNodes {
        have: candidates.difference(&taken).count(),
        need: 1,
    })?;
    Ok(Reassignment { shard_index, node })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    fn nodes(range: std::ops::Range<u64>) -> Vec<AccountId> {
        range.map(|i| Keypair::derived("assign", i).account()).collect()
    }

    #[test]
    fn deterministic_distinct_and_order_free() {
        let file_id = Hash::of(b"file");
        let set = nodes(0..20);
        let chosen = assign(&file_id, 6, &set).unwrap();
        let distinct: BTreeSet<_> = chosen.iter().collect();
        assert_eq!(distinct.len(), 6);
        let mut reversed = set.clone();
        reversed.reverse();
        reversed.push(set[0]);
        assert_eq!(assign(&file_id, 6, &reversed).unwrap(), chosen);
        assert_ne!(assign(&Hash::of(b"other"), 6, &set).unwrap(), chosen);
        assert_eq!(
            assign(&file_id, 21, &set),
            Err(AssignmentError::NotEnoughNodes { have: 20, need: 21 })
        );
    }

    #[test]
    fn adding_nodes_moves_few_shards() {
        // Over many files, adding 1 node to 100 should move about n/100 of the shards.
        let base = nodes(0..100);
        let grown = nodes(0..101);
        let (mut moved, mut total) = (0usize, 0usize);
        for file in 0..200u64 {
            let file_id = Hash::of(&file.to_le_bytes());
            let before = assign(&file_id, 6, &base).unwrap();
            let after = assign(&file_id, 6, &grown).unwrap();
            moved += before.iter().zip(&after).filter(|(a, b)| a != b).count();
            total += before.len();
            // A file whose shards the newcomer does not win is untouched.
            if !after.contains(&grown[100]) {
                assert_eq!(before, after);
            }
        }
        assert!(moved * 10 < total, "moved {moved} of {total}");
    }

    #[test]
    fn reassign_moves_only_the_lost_shard() {
        let set = nodes(0..12);
        let file_id = Hash::of(b"repair");
        let chosen = assign(&file_id, 5, &set).unwrap();
        let put = StorePut {
            file_id,
            data_shards: 3,
            total_shards: 5,
            chunk_bytes: 1024,
            shard_bytes: 2,
            shard_roots: vec![Hash::ZERO; 5],
            storage_nodes: chosen.clone(),
            term_rounds: 1,
            prepaid_fee: 0,
        };
        let gone = chosen[2];
        let remaining: Vec<AccountId> = set.iter().copied().filter(|n| *n != gone).collect();
        assert_eq!(check_assignment(&put, &set), Ok(()));
        assert!(matches!(
            check_assignment(&put, &remaining),
            Err(AssignmentError::Mismatch { .. })
        ));
        let repair = reassign(&put, &gone, &remaining).unwrap();
        assert_eq!(repair.shard_index, 2);
        assert!(!chosen.contains(&repair.node));
        let stranger = Keypair::derived("stranger", 0).account();
        assert_eq!(
            reassign(&put, &stranger, &remaining),
            Err(AssignmentError::NodeNotAssigned { node: stranger })
        );
        assert!(matches!(
            reassign(&put, &gone, &chosen),
            Err(AssignmentError::NotEnoughNodes { need: 1, .. })
        ));
        assert_eq!(reassign_attempt(&put, &gone, &remaining, 0).unwrap(), repair);
    }

    #[test]
    fn later_repair_attempts_do_not_cycle_between_two_nodes() {
        // Shard 0 moves A -> B -> A -> ... under one fixed ranking when both are dead; salted
        // attempts reach every other candidate.
        let set = nodes(0..12);
        let file_id = Hash::of(b"cycle");
        let chosen = assign(&file_id, 4, &set).unwrap();
        let mut put = StorePut {
            file_id,
            data_shards: 2,
            total_shards: 4,
            chunk_bytes: 1024,
            shard_bytes: 2,
            shard_roots: vec![Hash::ZERO; 4],
            storage_nodes: chosen,
            term_rounds: 1,
            prepaid_fee: 0,
        };
        let mut landed = BTreeSet::new();
        for attempt in 0..40 {
            let gone = put.storage_nodes[0];
            let moved = reassign_attempt(&put, &gone, &set, attempt).unwrap();
            assert_eq!(moved.shard_index, 0);
            assert!(!put.storage_nodes.contains(&moved.node));
            put.storage_nodes[0] = moved.node;
            landed.insert(moved.node);
        }
        // 8 candidates outside the other 3 holders (plus the shard's own node each time).
        assert!(landed.len() >= 6, "{}", landed.len());
    }
}
