//! The ledger's side of the two-way peg (docs/peg.md): the peg section, its chain id, the
//! light client's final headers a mint or release is checked against, and what a prover
//! needs to build a proof. The rules are in `core::peg`.

use super::{Ledger, LedgerError, Undo};
use crate::core::contracts::StorageMode;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::params::FeePolicy;
use crate::core::peg::{ChainId, FinalHeaders, PegProof, PegTx, PegWrites, Pegs};
use crate::core::transaction::Transaction;

impl Ledger {
    /// This ledger as the ledger of the chain `chain` (its `Genesis::id`):
    /// peg transactions are refused until it knows. Configuration, not state: not in the root.
    pub fn with_peg_chain(mut self, chain: ChainId) -> Ledger {
        debug_assert!(self.peg.is_empty(), "the chain is set on a fresh ledger");
        self.peg = Pegs::for_chain(chain);
        self
    }

    /// The peg section.
    pub fn peg(&self) -> &Pegs {
        &self.peg
    }

    /// The final headers of other chains this ledger's light clients hold: those of the
    /// followed chains registered in the side-chain section.
    pub(super) fn final_headers(&self) -> &dyn FinalHeaders {
        &self.side_chains
    }

    /// What a peg transaction would write, or why it cannot apply.
    pub(super) fn check_peg(
        &self,
        tx: &PegTx,
        from: &AccountId,
        nonce: u64,
        headers: &dyn FinalHeaders,
    ) -> Result<PegWrites, LedgerError> {
        self.peg.check(tx, from, nonce, &self.tokens, headers).map_err(LedgerError::Peg)
    }

    /// As [`Ledger::apply_in`], with `headers` as the final headers of other chains instead
    /// of the ledger's own light client: how a harness holding the light client outside the
    /// ledger applies mints and releases. Atomic: on error nothing changed.
    pub fn apply_anchored(
        &mut self,
        tx: &Transaction,
        author: &AccountId,
        policy: FeePolicy,
        mode: StorageMode<'_>,
        headers: &dyn FinalHeaders,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let effect = self.check_in(tx, mode, headers)?;
        self.apply_checked(tx, author, policy, mode, effect, undo)
    }

    /// A proof of the outbox entry `entry` against this ledger's current root, as the header
    /// `header` of this chain commits it once final: what a relayer records at a final
    /// checkpoint. `None` for an unknown entry or a ledger without a chain id.
    pub fn peg_proof(&self, entry: &Hash, header: Hash) -> Option<PegProof> {
        let source_chain = self.peg.chain()?;
        let outbox = self.peg.outbox();
        let (index, found) = outbox.find(entry)?;
        let path = outbox.prove(index, outbox.len()).ok()?;
        Some(PegProof {
            source_chain,
            header,
            entry: found.clone(),
            index,
            outbox_len: outbox.len(),
            path,
            rest_root: self.rest_root(),
        })
    }
}
