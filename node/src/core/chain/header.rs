//! A checkpoint header as the chain keeps it: the checkpoint's consensus fields, the base target
//! its successor must carry, and its first-seen order. One builder makes a header from a
//! checkpoint body, for an accepted checkpoint and for the retarget preview of a grinding
//! miner alike, so the two can never disagree about what a header holds.

use crate::core::checkpoint::{Checkpoint, CheckpointBody, Predecessor};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::params::Params;
use crate::core::poc::retarget::{RETARGET_WINDOW, next_base_target};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A checkpoint the chain accepted (on any branch), with what fork choice and validation of
/// its successors need; the fields mirror [`CheckpointBody`].
#[derive(Debug, Clone)]
pub struct Header {
    /// The checkpoint's id (the genesis id for genesis).
    pub id: Hash,
    /// `None` for genesis.
    pub checkpoint: Option<Arc<Checkpoint>>,
    /// Height (genesis is 0).
    pub height: u64,
    /// The predecessor's id (`Hash::ZERO` for genesis).
    pub prev: Hash,
    /// The round's generation signature.
    pub generation_signature: Hash,
    /// The forger (the default account for genesis).
    pub author: AccountId,
    /// The checkpoint's timestamp, in ms.
    pub timestamp_ms: u64,
    /// The base target the checkpoint carried.
    pub base_target: u64,
    /// Sum of the weights from genesis to here: the fork-choice score.
    pub cumulative_weight: u128,
    /// The ledger root the author signed (checked when connected).
    pub ledger_root: Hash,
    /// Base target the successor must carry.
    pub next_base_target: u64,
    /// First-seen order, for the tie rule.
    pub seen_seq: u64,
}

impl Header {
    pub(super) fn predecessor(&self) -> Predecessor {
        Predecessor {
            id: self.id,
            height: self.height,
            generation_signature: self.generation_signature,
            author: self.author,
            timestamp_ms: self.timestamp_ms,
            cumulative_weight: self.cumulative_weight,
            next_base_target: self.next_base_target,
        }
    }

    /// The DAG units the checkpoint confirms (none for genesis).
    pub fn parents(&self) -> &[Hash] {
        self.checkpoint.as_ref().map_or(&[], |cp| cp.body.parents.as_slice())
    }

    /// The header of a checkpoint with `body` and id `id`, first seen as number `seen_seq`,
    /// without its checkpoint attached. `next_base_target` is the body's own base target until
    /// [`retarget_after`] computes the real one from the ancestry.
    pub(super) fn from_body(id: Hash, body: &CheckpointBody, seen_seq: u64) -> Header {
        Header {
            id,
            checkpoint: None,
            height: body.height,
            prev: body.prev,
            generation_signature: body.generation_signature,
            author: body.author,
            timestamp_ms: body.timestamp_ms,
            base_target: body.base_target,
            cumulative_weight: body.cumulative_weight,
            ledger_root: body.ledger_root,
            next_base_target: body.base_target,
            seen_seq,
        }
    }
}

/// Base target for the successor of `header`, from it and up to 23 of its ancestors in
/// `headers`.
pub(super) fn retarget_after(
    header: &Header,
    headers: &BTreeMap<Hash, Header>,
    params: &Params,
) -> u64 {
    let ancestor = |id: &Hash| headers.get(id).map(|a| (a.timestamp_ms, a.base_target, a.prev));
    retarget_over(
        header.height,
        (header.timestamp_ms, header.base_target),
        header.prev,
        ancestor,
        params,
    )
}

/// The retarget rule over any header store: the base target for the successor of a header at
/// `height` carrying `(timestamp_ms, base_target)` whose predecessor is `prev`, from it and up
/// to 23 ancestors `ancestor` yields as `(timestamp_ms, base_target, prev)`. The chain and a
/// light client of another vein chain (`core::sidechain`) both call it, so they cannot disagree.
pub fn retarget_over(
    height: u64,
    (timestamp_ms, base_target): (u64, u64),
    prev: Hash,
    ancestor: impl Fn(&Hash) -> Option<(u64, u64, Hash)>,
    params: &Params,
) -> u64 {
    if params.fixed_base_target {
        return base_target;
    }
    let mut recent = vec![(timestamp_ms, base_target)];
    let mut cursor = prev;
    while recent.len() < RETARGET_WINDOW && height >= recent.len() as u64 {
        let Some((ancestor_ms, ancestor_target, ancestor_prev)) = ancestor(&cursor) else { break };
        recent.push((ancestor_ms, ancestor_target));
        cursor = ancestor_prev;
    }
    recent.reverse();
    next_base_target(&recent, params.target_interval_ms)
}
