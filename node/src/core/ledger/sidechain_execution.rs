//! The ledger's side of side chains (docs/sidechains.md): the side-chain section, and the
//! deterministic "now" an anchor is checked at. The rules are in `core::sidechain`.

use super::{Ledger, LedgerError};
use crate::core::contracts::StorageMode;
use crate::core::crypto::AccountId;
use crate::core::sidechain::{SideChainEffect, SideChainTx, SideChains};

impl Ledger {
    /// Registered side chains and their light clients; `side_chains().final_header(..)` is
    /// what a peg proof is checked against.
    pub fn side_chains(&self) -> &SideChains {
        &self.side_chains
    }

    /// A side-chain transaction's effect. An anchor's headers are checked against the block
    /// time of the checkpoint applying it (`EvmBlock::timestamp_ms`, its predecessor's
    /// timestamp), so it needs a checkpoint context; plausibility replays never get here.
    pub(super) fn check_side_chain(
        &self,
        tx: &SideChainTx,
        from: &AccountId,
        nonce: u64,
        mode: StorageMode<'_>,
    ) -> Result<SideChainEffect, LedgerError> {
        let now_ms = match mode {
            StorageMode::Full(context) => Some(context.evm.timestamp_ms),
            StorageMode::Refuse | StorageMode::Plausibility => None,
        };
        self.side_chains
            .check(tx, from, nonce, &self.consortia, now_ms)
            .map_err(LedgerError::SideChain)
    }
}
