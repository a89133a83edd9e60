//! The block a contract sees: everything comes from the checkpoint that executes it, nothing
//! from the node that runs it.

use crate::core::hash::Hash;

pub use crate::core::params::CHECKPOINT_GAS_MAX;

/// The environment of one checkpoint's executions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmBlock {
    /// `block.number`: the checkpoint's height.
    pub height: u64,
    /// `block.timestamp` in ms (seconds for the EVM): the predecessor checkpoint's timestamp,
    /// fixed before the author forges, so an author cannot choose it.
    pub timestamp_ms: u64,
    /// `block.prevrandao`: the checkpoint's generation signature.
    pub generation_signature: Hash,
    /// The id of the checkpoint this one builds on (at `height - 1`): what `BLOCKHASH` answers
    /// for that height from now on, on this chain.
    pub parent_id: Hash,
    /// The EIP-155 chain id transactions must carry (`chain_id_of` the genesis name).
    pub chain_id: u64,
}
