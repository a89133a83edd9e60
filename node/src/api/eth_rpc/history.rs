//! State as of an earlier height, for the JSON-RPC's block parameter (`eth_call`,
//! `eth_getBalance`, `eth_getStorageAt`, `eth_getCode`, `eth_getTransactionCount`,
//! `eth_estimateGas`; docs/evm.md, "Historical state").
//!
//! Model: nothing is copied or stored for it. The chain keeps the undo log of each recent
//! checkpoint for reorganisations; the undo log of height h holds, for every key h changed, the
//! value it had before h. So a key's value at height n is the value saved by the first undo log
//! among heights n+1..=head that changed it, or the head's value if none did. [`StateAt`] reads
//! every key that way: a read costs a scan of those undo logs, no more memory than the chain
//! already holds. The window is the last [`HISTORY_HEIGHTS_MAX`] heights (geth's 128 recent
//! states), and shorter while the chain holds fewer undo logs (after a restart, or with a
//! small reorg limit); a height outside it is refused, never answered with the head's state.
//!
//! Business tokens (their ERC-20 view) are read from a copy of the token section with the
//! window's token undo logs reverted, made only when a token exists.

use super::types::RpcError;
use crate::core::chain::Chain;
use crate::core::crypto::AccountId;
use crate::core::evm::{
    Address, B256, Bytes, ContractReads, EvmAccount, EvmBlock, NativeBalances, StateAdapter, U256,
};
use crate::core::ledger::{Ledger, Undo};
use crate::core::token::Tokens;
use std::borrow::Cow;

/// Heights below the head whose state the JSON-RPC serves (while their undo logs are kept).
pub const HISTORY_HEIGHTS_MAX: u64 = 128;

/// The ledger as of `height`: the head's, seen through the undo logs of the heights above.
pub struct StateAt<'a> {
    ledger: &'a Ledger,
    /// Undo logs of heights `height + 1 ..= head`, lowest height first.
    undos: Vec<&'a Undo>,
    tokens: Cow<'a, Tokens>,
    height: u64,
}

/// The lowest height whose state can be read: `HISTORY_HEIGHTS_MAX` below the head, raised
/// above the highest height whose undo log the chain no longer holds.
pub fn oldest_height(chain: &Chain) -> u64 {
    let head = chain.height();
    let mut oldest = head;
    while oldest > head.saturating_sub(HISTORY_HEIGHTS_MAX) && chain.undo_at(oldest).is_some() {
        oldest -= 1;
    }
    oldest
}

/// Why state at `height` is not served: the Ethereum-conventional server error (geth answers
/// -32000 for pruned state and for an unknown block), naming the window.
fn outside(chain: &Chain, height: u64) -> RpcError {
    let head = chain.height();
    if height > head {
        return RpcError::server(format!("header not found: height {height} is above the head"));
    }
    RpcError::server(format!(
        "missing state: height {height} is outside the historical window; this node serves \
         state at heights {}..={head} (at most the last {HISTORY_HEIGHTS_MAX} below the head)",
        oldest_height(chain)
    ))
}

impl<'a> StateAt<'a> {
    /// The state as of `height` of the active chain, or the error naming the window.
    pub fn new(chain: &'a Chain, height: u64) -> Result<StateAt<'a>, RpcError> {
        let head = chain.height();
        if height > head || height < oldest_height(chain) {
            return Err(outside(chain, height));
        }
        let undos = ((height + 1)..=head)
            .map(|above| chain.undo_at(above).ok_or_else(|| outside(chain, height)))
            .collect::<Result<Vec<_>, _>>()?;
        let ledger = chain.ledger();
        let tokens = if ledger.tokens().is_empty() || undos.is_empty() {
            Cow::Borrowed(ledger.tokens())
        } else {
            let mut tokens = ledger.tokens().clone();
            for undo in undos.iter().rev() {
                tokens.revert(undo.tokens().clone());
            }
            Cow::Owned(tokens)
        };
        Ok(StateAt { ledger, undos, tokens, height })
    }

    /// The height this state is as of.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// revm's view of this state.
    pub fn adapter(&self) -> StateAdapter<'_> {
        StateAdapter {
            balances: self,
            state: self,
            tokens: &self.tokens,
            schedule: self.ledger.evm_schedule(),
        }
    }

    /// The Ethereum nonce of `address`.
    pub fn nonce(&self, address: &Address) -> u64 {
        self.read_account(address).map_or(0, |account| account.nonce)
    }

    /// The code deployed at `address`, empty for an account without code.
    pub fn code(&self, address: &Address) -> Bytes {
        self.read_account(address)
            .and_then(|account| self.read_code(&account.code_hash))
            .unwrap_or_default()
    }

    /// The first value an undo log above `height` saved with `before`, if any did.
    fn before<T>(&self, before: impl Fn(&'a Undo) -> Option<T>) -> Option<T> {
        self.undos.iter().find_map(|undo| before(undo))
    }
}

impl NativeBalances for StateAt<'_> {
    fn balance(&self, account: &AccountId) -> u64 {
        match self.before(|undo| undo.account_before(account)) {
            Some(before) => before.map_or(0, |account| account.balance),
            None => self.ledger.balance(account),
        }
    }
}

impl ContractReads for StateAt<'_> {
    fn read_account(&self, address: &Address) -> Option<EvmAccount> {
        match self.before(|undo| undo.evm().account_before(address)) {
            Some(before) => before.cloned(),
            None => self.ledger.evm().account(address).cloned(),
        }
    }

    /// Code is stored once per hash and only a reorganisation removes it, so the head holds
    /// every code the earlier state did.
    fn read_code(&self, hash: &B256) -> Option<Bytes> {
        self.ledger.evm().code_by_hash(hash).cloned()
    }

    fn read_slot(&self, address: &Address, key: &U256) -> U256 {
        self.before(|undo| undo.evm().slot_before(address, key))
            .unwrap_or_else(|| self.ledger.evm().slot(address, key))
    }

    fn read_block_hash(&self, height: u64) -> Option<B256> {
        self.before(|undo| undo.evm().block_hash_before(height))
            .unwrap_or_else(|| self.ledger.evm().block_hash(height))
    }
}

/// The block a call at `height` runs in: the successor of the checkpoint at `height`, as the
/// next checkpoint would have seen it (at the head: the pending block).
pub fn block_after(chain: &Chain, height: u64) -> Option<EvmBlock> {
    let id = chain.active_at(height)?;
    let header = chain.header(&id)?;
    Some(EvmBlock {
        height: height + 1,
        timestamp_ms: header.timestamp_ms,
        generation_signature: header.generation_signature,
        parent_id: id,
        chain_id: chain.evm_chain_id(),
    })
}
