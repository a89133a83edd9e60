//! How a ledger root commits its outbox, and how a proof is checked against a final header of
//! the source chain.
//!
//! A ledger with peg state has the root `H("vein/ledger/peg/v1" ‖ rest_root ‖ outbox
//! commitment)`, where `rest_root` is the hash the ledger computed before the peg existed,
//! extended with the peg's other state (escrows, wrapped tokens, claimed entries). A proof
//! therefore carries `rest_root` (32 bytes), the outbox size, the leaf index and the path: the
//! verifier hashes the entry up the path, then up to a ledger root, and compares it with the
//! ledger root its light client holds for the header. Ledgers without peg state keep their
//! roots (`rest_root` is then the root).

use super::action::{ChainId, PegProof};
use super::error::PegError;
use super::outbox::{commitment, entry_bytes};
use crate::core::hash::Hash;
use crate::core::storage::merkle;
use std::collections::BTreeMap;

/// The final headers of other chains this ledger's light client holds. The side-chain section
/// implements it (`final_header(chain, header)`'s ledger root); tests use [`FinalHeaderSet`].
pub trait FinalHeaders {
    /// The ledger root committed by `header` of `chain`, if that header is final here.
    fn final_ledger_root(&self, chain: &ChainId, header: &Hash) -> Option<Hash>;
}

/// No header of any chain is final: a ledger without a light client claims nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFinalHeaders;

impl FinalHeaders for NoFinalHeaders {
    fn final_ledger_root(&self, _chain: &ChainId, _header: &Hash) -> Option<Hash> {
        None
    }
}

/// A plain set of final headers and their ledger roots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalHeaderSet {
    headers: BTreeMap<(ChainId, Hash), Hash>,
}

impl FinalHeaderSet {
    /// Record `header` of `chain` as final with `ledger_root`.
    pub fn insert(&mut self, chain: ChainId, header: Hash, ledger_root: Hash) {
        self.headers.insert((chain, header), ledger_root);
    }
}

impl FinalHeaders for FinalHeaderSet {
    fn final_ledger_root(&self, chain: &ChainId, header: &Hash) -> Option<Hash> {
        self.headers.get(&(*chain, *header)).copied()
    }
}

/// The ledger root of a ledger with peg state.
pub fn ledger_root(rest_root: &Hash, outbox_commitment: &Hash) -> Hash {
    Hash::of_parts(&[b"vein/ledger/peg/v1", rest_root.as_bytes(), outbox_commitment.as_bytes()])
}

/// The ledger root a proof's entry, path, outbox size and rest of the state hash to.
pub fn proven_root(proof: &PegProof) -> Result<Hash, PegError> {
    let bytes = entry_bytes(&proof.entry);
    let merkle_root = merkle::root_from_path(proof.index, &bytes, &proof.path, proof.outbox_len)
        .map_err(PegError::BadPath)?;
    Ok(ledger_root(&proof.rest_root, &commitment(proof.outbox_len, &merkle_root)))
}

/// Check that `proof`'s entry is addressed to `local` from the chain the proof names and is
/// committed by a header final in `headers`. Replay and direction are the caller's (they need
/// the ledger's claimed set and the transaction).
pub fn verify(
    proof: &PegProof,
    local: &ChainId,
    headers: &dyn FinalHeaders,
) -> Result<(), PegError> {
    let entry = &proof.entry;
    if entry.dest_chain != *local {
        return Err(PegError::WrongDestination { dest: entry.dest_chain, local: *local });
    }
    if entry.source_chain != proof.source_chain {
        return Err(PegError::WrongSource {
            entry_source: entry.source_chain,
            proof_source: proof.source_chain,
        });
    }
    let expected = headers
        .final_ledger_root(&proof.source_chain, &proof.header)
        .ok_or(PegError::HeaderNotFinal { chain: proof.source_chain, header: proof.header })?;
    let got = proven_root(proof)?;
    if got != expected {
        return Err(PegError::BadProof { header: proof.header, expected, got });
    }
    Ok(())
}
