//! Why the ledger refuses a side-chain transaction: each refusal names the chain and what was
//! wrong, so a relayer can tell a forged header from a replay or a reorganisation below final.

use super::light_client::LightClientError;
use super::spec::SpecError;
use crate::core::checkpoint::CheckpointError;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

/// A side-chain transaction that does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SideChainError {
    /// The registered spec breaks a rule.
    #[error("invalid side-chain spec: {0}")]
    Spec(#[from] SpecError),
    /// The registration names a consortium that does not exist.
    #[error("unknown consortium {consortium:?}")]
    UnknownConsortium {
        /// The named consortium.
        consortium: Hash,
    },
    /// The registrant is not a party of the consortium it names.
    #[error("{account:?} is not a party of consortium {consortium:?}")]
    NotAParty {
        /// The named consortium.
        consortium: Hash,
        /// The registrant.
        account: AccountId,
    },
    /// A chain with this id is already registered.
    #[error("side chain {chain:?} already registered")]
    ChainExists {
        /// The id.
        chain: Hash,
    },
    /// Another registration already follows this genesis.
    #[error("genesis {genesis:?} already followed as side chain {chain:?}")]
    GenesisRegistered {
        /// The followed chain's genesis id.
        genesis: Hash,
        /// The registration following it.
        chain: Hash,
    },
    /// An anchor for a chain nobody registered.
    #[error("unknown side chain {chain:?}")]
    UnknownChain {
        /// The named chain.
        chain: Hash,
    },
    /// The segment does not end at a multiple of the anchor interval `a` (or ends at 0).
    #[error("anchor of {chain:?} ends at height {height}, not a multiple of {anchor_interval}")]
    NotAnchorHeight {
        /// The chain.
        chain: Hash,
        /// The segment's last height.
        height: u64,
        /// The chain's `a`.
        anchor_interval: u64,
    },
    /// A header of the segment fails validation: bad proof, signature, generation
    /// signature, base target, weight, deadline or timestamp.
    #[error("forged anchor of {chain:?} at height {height}: {source}")]
    ForgedAnchor {
        /// The chain.
        chain: Hash,
        /// Height of the first bad header.
        height: u64,
        /// What header validation refused (boxed: keeps `LedgerError` small).
        source: Box<CheckpointError>,
    },
    /// The segment forks below the chain's final header.
    #[error("anchor of {chain:?} forks at {fork_height}, below final height {final_height}")]
    ReorgBelowFinal {
        /// The chain.
        chain: Hash,
        /// Height of the header the segment extends.
        fork_height: u64,
        /// The light client's final height.
        final_height: u64,
    },
    /// Every header of the segment is already known.
    #[error("replayed anchor of {chain:?}: header {id:?} at height {height} is known")]
    Replayed {
        /// The chain.
        chain: Hash,
        /// The segment's last header.
        id: Hash,
        /// Its height.
        height: u64,
    },
    /// Any other segment fault: empty, too long, an unknown predecessor, a full tree.
    #[error("bad anchor segment for {chain:?}: {source}")]
    Segment {
        /// The chain.
        chain: Hash,
        /// The light client's refusal (boxed: keeps `LedgerError` small).
        source: Box<LightClientError>,
    },
    /// An anchor checked without a checkpoint (no deterministic "now" to check times against).
    #[error("an anchor needs a checkpoint context")]
    NoCheckpointContext,
}

impl SideChainError {
    /// The light client's refusal of a segment of `chain`, with its typed counterpart.
    pub fn of_segment(chain: Hash, source: LightClientError) -> SideChainError {
        match source {
            LightClientError::Forged { height, source } => {
                SideChainError::ForgedAnchor { chain, height, source: Box::new(source) }
            }
            LightClientError::ReorgBelowFinal { fork_height, final_height } => {
                SideChainError::ReorgBelowFinal { chain, fork_height, final_height }
            }
            LightClientError::Replayed { id, height } => {
                SideChainError::Replayed { chain, id, height }
            }
            other => SideChainError::Segment { chain, source: Box::new(other) },
        }
    }
}
