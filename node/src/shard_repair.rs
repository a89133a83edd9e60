//! Shard fetch and repair for harnesses that hold every node's core in one process (LocalNet,
//! the madsim scenario engine): what an owner's fetch and a new holder's repair would do over
//! the network, done by reading the holders' cores directly. Written once; each harness
//! provides only the lookup of a node by account and the hand-over of a shard.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::core::storage::{StorePut, repair_shard};
use crate::core::storage_node::StorageNodeError;
use std::ops::Deref;

/// Every shard of `put` as its assigned node now holds it (`None` if that node is unknown to
/// `holder` or holds none): what the owner would fetch for `recover_file`.
pub fn fetch_shards<N: Deref<Target = Node>>(
    put: &StorePut,
    holder: impl Fn(&AccountId) -> Option<N>,
) -> Vec<Option<Vec<u8>>> {
    put.storage_nodes
        .iter()
        .enumerate()
        .map(|(shard_index, account)| {
            let node = holder(account)?;
            node.shard(&put.file_id, shard_index as u8).map(<[u8]>::to_vec)
        })
        .collect()
}

/// After a `StoreRepair` of shard `shard_index` of `file_id` is applied on `view`'s ledger:
/// the shard rebuilt from the other holders' intact shards, and the account of its new node
/// (the caller hands it over).
pub fn repaired_shard<N: Deref<Target = Node>>(
    view: &Node,
    file_id: &Hash,
    shard_index: u8,
    holder: impl Fn(&AccountId) -> Option<N>,
) -> Result<(AccountId, Vec<u8>), StorageNodeError> {
    let not_held = StorageNodeError::NotHeld { file_id: *file_id, shard_index };
    let contract = view.chain().ledger().contract(file_id).ok_or(not_held.clone())?;
    let put = (*contract.put).clone();
    let account = *put.storage_nodes.get(usize::from(shard_index)).ok_or(not_held)?;
    let mut shards = fetch_shards(&put, holder);
    if let Some(slot) = shards.get_mut(usize::from(shard_index)) {
        // The new node's copy is what is being rebuilt; never rebuild it from itself.
        *slot = None;
    }
    let shard = repair_shard(&put, &shards, shard_index).map_err(StorageNodeError::Storage)?;
    Ok((account, shard))
}
