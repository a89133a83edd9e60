//! The owner's side of retrieval over the network: which shards it asked its peers for
//! (`Message::GetShard`) and the answers (`Message::Shard`) it kept.
//!
//! Model: the owner asks every peer for the shards it wants (it does not know which peer is
//! which account); any holder answers. Only solicited answers are kept, the first good one per
//! shard, and only while the total stays under a bound, so a peer cannot make it store junk. When
//! the file's contract is on the ledger an answer is checked against the committed root and
//! length before it is kept (a wrong one is dropped and another peer's answer may still come);
//! otherwise `recover_file` checks every shard against the put's roots anyway.

use crate::core::hash::Hash;
use crate::core::storage::StorePut;
use std::collections::{BTreeMap, BTreeSet};

/// Most bytes of fetched shards kept at once.
pub const FETCHED_BYTES_MAX: usize = 1 << 30;

/// Why an answer was not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchRejected {
    /// No `want` is pending for this shard: never asked for, or an answer was already kept.
    #[error("shard {shard_index} of {file_id:?} was not asked for (or is already here)")]
    Unsolicited {
        /// The file the answer claims to be a shard of.
        file_id: Hash,
        /// The shard's index in the file's erasure coding.
        shard_index: u8,
    },
    /// The contract is on the ledger and the bytes do not hash to its committed shard root (or
    /// have the wrong length); another peer's answer may still be kept.
    #[error("shard {shard_index} does not match the put's root")]
    WrongShard {
        /// The shard's index in the file's erasure coding.
        shard_index: u8,
    },
    /// Keeping the answer would take the fetched bytes over [`FETCHED_BYTES_MAX`].
    #[error("fetched shards would exceed {FETCHED_BYTES_MAX} bytes")]
    Full,
}

/// The owner's pending shard requests and the answers kept so far, bounded by
/// [`FETCHED_BYTES_MAX`] bytes in total.
#[derive(Debug, Clone, Default)]
pub struct ShardFetch {
    wanted: BTreeSet<(Hash, u8)>,
    fetched: BTreeMap<(Hash, u8), Vec<u8>>,
    bytes: usize,
}

impl ShardFetch {
    /// Ask for shard `shard_index` of `file_id`; false if it is already here or asked for.
    pub fn want(&mut self, file_id: Hash, shard_index: u8) -> bool {
        if self.fetched.contains_key(&(file_id, shard_index)) {
            return false;
        }
        self.wanted.insert((file_id, shard_index))
    }

    /// Keep an answer if it was asked for and (when `put` is known) matches its root.
    pub fn accept(
        &mut self,
        file_id: Hash,
        shard_index: u8,
        bytes: Vec<u8>,
        put: Option<&StorePut>,
    ) -> Result<(), FetchRejected> {
        if !self.wanted.contains(&(file_id, shard_index)) {
            return Err(FetchRejected::Unsolicited { file_id, shard_index });
        }
        if let Some(put) = put {
            let root = put.shard_roots.get(usize::from(shard_index));
            let length_ok = bytes.len() as u64 == put.shard_bytes;
            let root_ok = crate::core::storage::merkle::root(&bytes, put.chunk_bytes)
                .is_ok_and(|computed| Some(&computed) == root);
            if !(length_ok && root_ok) {
                return Err(FetchRejected::WrongShard { shard_index });
            }
        }
        if self.bytes.saturating_add(bytes.len()) > FETCHED_BYTES_MAX {
            return Err(FetchRejected::Full);
        }
        self.wanted.remove(&(file_id, shard_index));
        self.bytes += bytes.len();
        self.fetched.insert((file_id, shard_index), bytes);
        Ok(())
    }

    /// The shards of `file_id` fetched so far, by index (they stay here until taken).
    pub fn fetched(&self, file_id: &Hash) -> BTreeMap<u8, &[u8]> {
        self.fetched
            .range((*file_id, 0)..=(*file_id, u8::MAX))
            .map(|((_, index), bytes)| (*index, bytes.as_slice()))
            .collect()
    }

    /// Hand over the fetched shards of `file_id` and stop asking for its others.
    pub fn take(&mut self, file_id: &Hash) -> BTreeMap<u8, Vec<u8>> {
        self.wanted.retain(|(file, _)| file != file_id);
        let keys: Vec<(Hash, u8)> =
            self.fetched.range((*file_id, 0)..=(*file_id, u8::MAX)).map(|(key, _)| *key).collect();
        let mut taken = BTreeMap::new();
        for key in keys {
            if let Some(bytes) = self.fetched.remove(&key) {
                self.bytes -= bytes.len();
                taken.insert(key.1, bytes);
            }
        }
        taken
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use crate::core::storage::{OwnerKey, prepare_file};

    fn put_and_shards() -> (StorePut, Vec<Vec<u8>>) {
        let prepared = prepare_file(&[7u8; 3000], &OwnerKey([1; 32]), 2, 3, 64).unwrap();
        let put = StorePut {
            file_id: prepared.file_id,
            data_shards: 2,
            total_shards: 3,
            chunk_bytes: 64,
            shard_bytes: prepared.shard_bytes,
            shard_roots: prepared.shard_roots.clone(),
            storage_nodes: Vec::new(),
            term_rounds: 1,
            prepaid_fee: 0,
        };
        (put, prepared.shards)
    }

    #[test]
    fn keeps_only_solicited_matching_answers() {
        let (put, shards) = put_and_shards();
        let mut fetch = ShardFetch::default();
        let id = put.file_id;
        assert_eq!(
            fetch.accept(id, 0, shards[0].clone(), Some(&put)),
            Err(FetchRejected::Unsolicited { file_id: id, shard_index: 0 })
        );
        assert!(fetch.want(id, 0));
        assert!(fetch.want(id, 1));
        assert!(!fetch.want(id, 1));
        // Shard 1's bytes offered as shard 0: wrong root, still wanted.
        assert_eq!(
            fetch.accept(id, 0, shards[1].clone(), Some(&put)),
            Err(FetchRejected::WrongShard { shard_index: 0 })
        );
        fetch.accept(id, 0, shards[0].clone(), Some(&put)).unwrap();
        // A second answer for the same shard is not kept.
        assert!(fetch.accept(id, 0, shards[0].clone(), Some(&put)).is_err());
        assert_eq!(fetch.fetched(&id).len(), 1);
        assert!(!fetch.want(id, 0));
        let taken = fetch.take(&id);
        assert_eq!(taken.get(&0), Some(&shards[0]));
        // After take, shard 1 is no longer asked for.
        assert!(fetch.accept(id, 1, shards[1].clone(), Some(&put)).is_err());
        assert_eq!(fetch.bytes, 0);
    }
}
