//! Side chains (issue #19, docs/sidechains.md): a consortium launches its own vein network (its
//! own genesis, members' nodes and plots, the same binary) and anchors it to the main chain,
//! whose nodes follow it as a light client.
//!
//! Model:
//! - A party of a consortium registers the chain with a [`FollowedChain`] spec: the genesis
//!   facts and rules a light client needs, and the anchor interval `a`. Its id is derived from
//!   the registering transaction's spend key ([`side_chain_id`]).
//! - Anyone posts an anchor: a segment of the side chain's checkpoints that extends a header
//!   the main chain knows and ends at a height that is a multiple of `a`. Every checkpoint is
//!   checked by the same `Checkpoint::validate_header` the side chain's own nodes run (proof of
//!   space, generation signature, signature, retargeted base target, cumulative weight,
//!   deadline), against its predecessor only: no side-chain state is needed. "Now" for the
//!   from-the-future check is the block time of the main checkpoint applying the anchor (the
//!   one contracts see, `EvmBlock::timestamp_ms`: fixed before its author forges, so the author
//!   cannot choose which anchors are early, and a root preview computes the same).
//! - The light client ([`HeaderChain`]) picks the heaviest anchored branch; a header `k` deep on
//!   it is final and nothing below it is ever reorganised: a segment forking there is refused
//!   whatever its weight. Final headers' ledger roots are what a peg proof from the side chain
//!   is checked against ([`SideChains::final_header`]).
//! - All of it is one field of the ledger ([`SideChains`]): checked, applied, reverted through
//!   [`SideChainUndo`] on a main-chain reorganisation, hashed into the ledger root only when a
//!   chain is registered (ledgers without side chains keep their roots), with invariants.

pub mod error;
pub mod light_client;
pub mod relay;
pub mod spec;
pub mod state;
pub mod tx;

pub use error::SideChainError;
pub use light_client::{HeaderChain, HeaderChainInvariant, LightClientError, LightHeader, Segment};
pub use spec::{FollowedChain, SpecError};
pub use state::{SideChain, SideChainEffect, SideChainInvariant, SideChainUndo, SideChains};
pub use tx::{SideChainTx, side_chain_id};

#[cfg(test)]
pub(crate) mod test_chain;
#[cfg(test)]
mod tests;
