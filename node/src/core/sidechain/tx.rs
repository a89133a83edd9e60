//! What a side-chain transaction asks for (the payload of `TxKind::SideChain`): register a
//! followed chain, or anchor a segment of its checkpoints. A chain's id is derived from the
//! registering transaction's spend key, like a token's, so it is unique and known before the
//! transaction is ordered.

use super::spec::FollowedChain;
use crate::core::checkpoint::Checkpoint;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};

/// A side-chain transaction (docs/sidechains.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SideChainTx {
    /// A consortium launches its own vein network: a party of `consortium` registers the
    /// chain the main chain will follow as a light client.
    Register {
        /// The consortium whose party signs (`Consortia` id).
        consortium: Hash,
        /// What the light client needs to verify the chain's checkpoints.
        spec: FollowedChain,
    },
    /// Post checkpoints of a registered chain: a segment extending a header the main chain
    /// knows and ending at a height that is a multiple of the chain's anchor interval `a`.
    /// Anyone may relay: a segment is valid by its proofs, not by who posts it.
    Anchor {
        /// The registered chain's id ([`side_chain_id`]).
        chain: Hash,
        /// The checkpoints, parents before children.
        headers: Vec<Checkpoint>,
    },
}

/// The id of the side chain registered by `(registrant, nonce)`.
pub fn side_chain_id(registrant: &AccountId, nonce: u64) -> Hash {
    Hash::of_parts(&[b"vein/sidechain/id/v1", registrant.as_bytes(), &nonce.to_le_bytes()])
}
