//! The side-chain section of the ledger: every registered chain and its light client. BTreeMaps
//! only, so the ledger root is the same on every node. Changes go through [`SideChainEffect`]
//! (computed by a check, written by `apply`) and are undone through [`SideChainUndo`].
//!
//! The undo of an anchor keeps the chain's whole previous light client: anchors are rare (one
//! per `a` side checkpoints) and each costs `a` proof checks, next to which copying a tree of a
//! few hundred headers is small, and a copy cannot get a pruning step wrong on revert.

use super::error::SideChainError;
use super::light_client::{HeaderChain, HeaderChainInvariant, Segment};
use super::spec::FollowedChain;
use super::tx::{SideChainTx, side_chain_id};
use crate::core::consortium::Consortia;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::peg::FinalHeaders;
use std::collections::BTreeMap;

/// One registered side chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideChain {
    /// `side_chain_id` of the registrant and its registration nonce.
    pub id: Hash,
    /// The consortium that launched it.
    pub consortium: Hash,
    /// The party that registered it.
    pub registrant: AccountId,
    /// The light client following it.
    pub headers: HeaderChain,
}

/// What a checked side-chain transaction will write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SideChainEffect {
    /// A new chain, following only its genesis.
    Register(Box<SideChain>),
    /// Headers a segment adds to `chain`'s light client.
    Anchor {
        /// The chain.
        chain: Hash,
        /// The checked headers.
        segment: Segment,
    },
}

/// The states to restore on a revert.
#[derive(Clone, Debug, Default)]
pub struct SideChainUndo {
    chains: Vec<(Hash, Option<Box<SideChain>>)>,
}

/// A broken side-chain invariant, with the chain it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("side chain {chain:?}: {violation}")]
pub struct SideChainInvariant {
    /// The chain.
    pub chain: Hash,
    /// What is broken in its light client.
    pub violation: HeaderChainInvariant,
}

/// A peg proof names its source chain by genesis id: a header of that chain is final here when
/// the light client of a registered chain with that genesis holds it as final. Registrations
/// are visited in id order, so the answer does not depend on map order.
impl FinalHeaders for SideChains {
    fn final_ledger_root(&self, chain: &Hash, header: &Hash) -> Option<Hash> {
        self.chains
            .values()
            .filter(|side| side.headers.spec().genesis_id == *chain)
            .find_map(|side| side.headers.final_header(header))
            .map(|(_height, root)| root)
    }
}

/// Every registered side chain: the side-chain field of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideChains {
    chains: BTreeMap<Hash, SideChain>,
}

impl SideChains {
    /// True while no chain is registered (the ledger root then leaves the section out).
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }

    /// The registered chain `chain`.
    pub fn get(&self, chain: &Hash) -> Option<&SideChain> {
        self.chains.get(chain)
    }

    /// Every registered chain, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &SideChain> {
        self.chains.values()
    }

    /// `(height, ledger_root)` of `header` if it is final in `chain`'s light client (and still
    /// remembered): what a peg proof from that chain is checked against.
    pub fn final_header(&self, chain: &Hash, header: &Hash) -> Option<(u64, Hash)> {
        self.chains.get(chain)?.headers.final_header(header)
    }

    /// Would `tx`, signed by `from` with `nonce`, apply now? `now_ms` is the block time of the
    /// checkpoint applying it (`None` without one: anchors are then refused).
    pub fn check(
        &self,
        tx: &SideChainTx,
        from: &AccountId,
        nonce: u64,
        consortia: &Consortia,
        now_ms: Option<u64>,
    ) -> Result<SideChainEffect, SideChainError> {
        match tx {
            SideChainTx::Register { consortium, spec } => {
                self.check_register(*consortium, spec, from, nonce, consortia)
            }
            SideChainTx::Anchor { chain, headers } => {
                let followed =
                    self.chains.get(chain).ok_or(SideChainError::UnknownChain { chain: *chain })?;
                let anchor_interval = followed.headers.spec().anchor_interval;
                let height = headers.last().map_or(0, |last| last.body.height);
                if height == 0 || !height.is_multiple_of(anchor_interval) {
                    return Err(SideChainError::NotAnchorHeight {
                        chain: *chain,
                        height,
                        anchor_interval,
                    });
                }
                let now_ms = now_ms.ok_or(SideChainError::NoCheckpointContext)?;
                let segment = followed
                    .headers
                    .check_segment(headers, now_ms)
                    .map_err(|source| SideChainError::of_segment(*chain, source))?;
                Ok(SideChainEffect::Anchor { chain: *chain, segment })
            }
        }
    }

    fn check_register(
        &self,
        consortium: Hash,
        spec: &FollowedChain,
        from: &AccountId,
        nonce: u64,
        consortia: &Consortia,
    ) -> Result<SideChainEffect, SideChainError> {
        spec.validate()?;
        let found =
            consortia.get(&consortium).ok_or(SideChainError::UnknownConsortium { consortium })?;
        if !found.parties.contains(from) {
            return Err(SideChainError::NotAParty { consortium, account: *from });
        }
        let id = side_chain_id(from, nonce);
        if self.chains.contains_key(&id) {
            return Err(SideChainError::ChainExists { chain: id });
        }
        if let Some(existing) =
            self.chains.values().find(|chain| chain.headers.spec().genesis_id == spec.genesis_id)
        {
            return Err(SideChainError::GenesisRegistered {
                genesis: spec.genesis_id,
                chain: existing.id,
            });
        }
        Ok(SideChainEffect::Register(Box::new(SideChain {
            id,
            consortium,
            registrant: *from,
            headers: HeaderChain::new(spec.clone()),
        })))
    }

    /// Commit what a check computed, recording the previous state in `undo`.
    pub fn apply(&mut self, effect: SideChainEffect, undo: &mut SideChainUndo) {
        match effect {
            SideChainEffect::Register(chain) => {
                let id = chain.id;
                let previous = self.chains.insert(id, *chain).map(Box::new);
                debug_assert!(previous.is_none());
                undo.chains.push((id, previous));
            }
            SideChainEffect::Anchor { chain, segment } => {
                let Some(followed) = self.chains.get_mut(&chain) else {
                    debug_assert!(false, "anchor of unregistered chain {chain:?} was checked");
                    return;
                };
                undo.chains.push((chain, Some(Box::new(followed.clone()))));
                followed.headers.insert(segment);
            }
        }
    }

    /// Undo every change recorded in `undo`, newest first.
    pub fn revert(&mut self, undo: SideChainUndo) {
        for (id, previous) in undo.chains.into_iter().rev() {
            match previous {
                Some(chain) => self.chains.insert(id, *chain),
                None => self.chains.remove(&id),
            };
        }
    }

    /// Feed the side-chain section of the ledger root: a domain tag, the count, then per chain
    /// in id order its id, consortium, registrant and light client.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/sidechains/v0");
        hasher.update(&(self.chains.len() as u64).to_le_bytes());
        for chain in self.chains.values() {
            hasher.update(chain.id.as_bytes());
            hasher.update(chain.consortium.as_bytes());
            hasher.update(chain.registrant.as_bytes());
            chain.headers.hash_into(hasher);
        }
    }

    /// Every light client's invariants (`HeaderChain::check_invariants`).
    pub fn check_invariants(&self) -> Result<(), SideChainInvariant> {
        for (id, chain) in &self.chains {
            chain
                .headers
                .check_invariants()
                .map_err(|violation| SideChainInvariant { chain: *id, violation })?;
        }
        Ok(())
    }
}
