//! The ledger root: one hash over every section in canonical order, each section appended
//! only once it holds state so that older ledgers keep the roots they had.

use super::Ledger;
use crate::core::hash::Hash;

/// Bytes one account with no nonces above its floor adds to the root's input (key, balance,
/// floor, count): the buffer's starting size per account.
const ACCOUNT_ROOT_BYTES: usize = 32 + 8 + 8 + 8;

impl Ledger {
    /// A commitment to the whole state: BLAKE3 over the canonical encoding of the accounts in key
    /// order and the supply counters. With peg state it is `H(tag, rest_root, outbox
    /// commitment)` (docs/peg.md), so another chain can check an outbox entry against it.
    pub fn root(&self) -> Hash {
        let rest = self.rest_root();
        if self.peg.is_empty() {
            return rest;
        }
        crate::core::peg::proof::ledger_root(&rest, &self.peg.outbox().commitment())
    }

    /// Every section but the peg's outbox (the whole root when there is no peg state): what
    /// a peg proof carries as `rest_root`.
    pub fn rest_root(&self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"vein/ledger/v0");
        hasher.update(&self.genesis_supply.to_le_bytes());
        hasher.update(&self.minted.to_le_bytes());
        hasher.update(&self.burned.to_le_bytes());
        // The same byte stream as one `update` per field, written to a buffer first: BLAKE3
        // hashes a long input many chunks at a time (SIMD) but a stream of 8-byte updates one
        // block at a time, and every node computes this root for every checkpoint it checks
        // (at 1,000 simulated nodes it was the largest single cost of a run).
        let mut buffer = Vec::with_capacity(self.accounts.len() * ACCOUNT_ROOT_BYTES);
        for (account, state) in &self.accounts {
            buffer.extend_from_slice(account.as_bytes());
            buffer.extend_from_slice(&state.balance.to_le_bytes());
            buffer.extend_from_slice(&state.nonce_floor.to_le_bytes());
            buffer.extend_from_slice(&(state.used_above_floor.len() as u64).to_le_bytes());
            for nonce in &state.used_above_floor {
                buffer.extend_from_slice(&nonce.to_le_bytes());
            }
        }
        hasher.update(&buffer);
        // Appended only when there are contracts, so ledgers without storage keep the roots
        // they had before contracts existed. The domain tag and count delimit the section.
        if !self.contracts.is_empty() {
            hasher.update(b"vein/ledger/contracts/v0");
            hasher.update(&(self.contracts.len() as u64).to_le_bytes());
            for contract in self.contracts.values() {
                contract.hash_into(&mut hasher);
            }
        }
        // Likewise only when some consortium exists: existing roots and trace hashes hold.
        if !self.consortia.is_empty() {
            self.consortia.hash_into(&mut hasher);
        }
        // Likewise only with contract state: ledgers without it keep their roots.
        if !self.evm.is_empty() {
            self.evm.hash_into(&mut hasher);
        }
        // Likewise only while some learning task exists.
        if !self.fl.is_empty() {
            self.fl.hash_into(&mut hasher);
        }
        // Likewise only once a token exists.
        if !self.tokens.is_empty() {
            self.tokens.hash_into(&mut hasher);
        }
        // Likewise only once a side chain is registered.
        if !self.side_chains.is_empty() {
            self.side_chains.hash_into(&mut hasher);
        }
        // Likewise only with peg state; its outbox is committed beside this hash (`root`).
        if !self.peg.is_empty() {
            self.peg.hash_into(&mut hasher);
        }
        Hash(*hasher.finalize().as_bytes())
    }
}
