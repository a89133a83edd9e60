//! The state adapter: revm's `Database` over the ledger. Balances come from the native accounts
//! (`account_of`, in wei), nonces, code and storage from the contract state ([`ContractReads`]:
//! the head's [`EvmState`], or the JSON-RPC's view of an earlier height). Read-only: revm hands
//! its changes back and the ledger writes them, sorted, through its undo log.

use super::address::{FEE_SINK, account_of, units_to_wei};
use super::erc20::{holder_of_slot, token_at};
use super::schedule::GasSchedule;
use super::state::{EvmAccount, EvmState};
use crate::core::crypto::AccountId;
use crate::core::token::Tokens;
use revm::DatabaseRef;
use revm::bytecode::Bytecode;
use revm::primitives::{Address, B256, Bytes, KECCAK_EMPTY, StorageKey, StorageValue, U256};
use revm::state::AccountInfo;
use std::convert::Infallible;

/// Native balances, in native units: what the EVM sees as its accounts' ether. The ledger
/// implements it (a trait, so that this module does not reach back into the ledger).
pub trait NativeBalances {
    /// The balance of `account`, in native units (whole gwei); 0 for an unknown account.
    fn balance(&self, account: &AccountId) -> u64;
}

/// Contract state as revm reads it: [`EvmState`] itself, or a view of it as of an earlier
/// height (a trait, like [`NativeBalances`], so that the view lives with the JSON-RPC).
pub trait ContractReads {
    /// The nonce and code hash of `address`; `None` for an empty account.
    fn read_account(&self, address: &Address) -> Option<EvmAccount>;
    /// Deployed code with this keccak256 hash.
    fn read_code(&self, hash: &B256) -> Option<Bytes>;
    /// Storage slot `key` of `address`; zero when unset.
    fn read_slot(&self, address: &Address, key: &U256) -> U256;
    /// What `BLOCKHASH(height)` answers, if recorded.
    fn read_block_hash(&self, height: u64) -> Option<B256>;
}

impl ContractReads for EvmState {
    fn read_account(&self, address: &Address) -> Option<EvmAccount> {
        self.account(address).cloned()
    }

    fn read_code(&self, hash: &B256) -> Option<Bytes> {
        self.code_by_hash(hash).cloned()
    }

    fn read_slot(&self, address: &Address, key: &U256) -> U256 {
        self.slot(address, key)
    }

    fn read_block_hash(&self, height: u64) -> Option<B256> {
        self.block_hash(height)
    }
}

/// revm's view of one ledger: its native balances and its EVM section.
#[derive(Clone, Copy)]
pub struct StateAdapter<'a> {
    /// Native balances: what revm reads as each address's ether (converted to wei).
    pub balances: &'a dyn NativeBalances,
    /// Nonces, code and storage of the EVM section.
    pub state: &'a dyn ContractReads,
    /// Business tokens: their ERC-20 view's balance slots read the token balances.
    pub tokens: &'a Tokens,
    /// The precompile prices executions against this state charge (vein's on every chain).
    pub schedule: GasSchedule,
}

impl DatabaseRef for StateAdapter<'_> {
    type Error = Infallible;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        // The fee sink starts every transaction empty: what it holds afterwards is the fee.
        let balance = if address == FEE_SINK {
            U256::ZERO
        } else {
            units_to_wei(self.balances.balance(&account_of(&address)))
        };
        let (nonce, code_hash) = self
            .state
            .read_account(&address)
            .map_or((0, KECCAK_EMPTY), |account| (account.nonce, account.code_hash));
        if balance == U256::ZERO && nonce == 0 && code_hash == KECCAK_EMPTY {
            return Ok(None);
        }
        let code = self.state.read_code(&code_hash).map(Bytecode::new_raw);
        Ok(Some(AccountInfo { balance, nonce, code_hash, code, ..AccountInfo::default() }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Infallible> {
        Ok(self.state.read_code(&code_hash).map_or_else(Bytecode::default, Bytecode::new_raw))
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue, Infallible> {
        if let (Some(token), Some(holder)) =
            (token_at(self.tokens, &address), holder_of_slot(&index))
        {
            return Ok(U256::from(self.tokens.balance(&token.id, &account_of(&holder))));
        }
        Ok(self.state.read_slot(&address, &index))
    }

    /// `BLOCKHASH(number)`: the id of the checkpoint at `number` on the chain being applied
    /// (its JSON-RPC block hash), zero where none is recorded (revm asks only for the 256 heights
    /// below the current one; docs/evm.md, "BLOCKHASH").
    fn block_hash_ref(&self, number: u64) -> Result<B256, Infallible> {
        Ok(self.state.read_block_hash(number).unwrap_or(B256::ZERO))
    }
}
