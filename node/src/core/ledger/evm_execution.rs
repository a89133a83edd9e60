//! The ledger's EVM rules (docs/evm.md): a carrier's Ethereum transaction is executed, held
//! until its sender's nonce reaches it, or refused; executions are written through the undo
//! log, their gas fee split by the fee policy, their receipts recorded; a checkpoint begins by
//! running held transactions whose gap has filled and dropping expired ones.

use super::{Ledger, LedgerError, Undo};
use crate::core::crypto::AccountId;
use crate::core::evm::{
    self, CHECKPOINT_GAS_MAX, DecodedTx, EvmBlock, EvmCall, EvmEffect, Executed, HELD_AHEAD_MAX,
    HELD_HEIGHTS_MAX, HeldTx, Receipt, ReceiptLog, account_of,
};
use crate::core::params::FeePolicy;
use revm::primitives::{Address, U256};

impl evm::NativeBalances for Ledger {
    fn balance(&self, account: &AccountId) -> u64 {
        Ledger::balance(self, account)
    }
}

impl Ledger {
    /// A genesis ledger that also starts with contract state (nonces, code, storage) and
    /// executes under `schedule`: how the Ethereum state tests load their pre-states and run
    /// at Ethereum's prices (node/tests/state_tests.rs). `None` if the allocations overflow u64.
    pub fn genesis_with_evm(
        allocations: &[(AccountId, u64)],
        evm: evm::EvmState,
        schedule: evm::GasSchedule,
    ) -> Option<Ledger> {
        let mut ledger = Ledger::genesis(allocations)?;
        ledger.evm = evm;
        ledger.evm_schedule = schedule;
        Some(ledger)
    }

    /// The EVM section: nonces, code, storage, held transactions, receipts.
    pub fn evm(&self) -> &evm::EvmState {
        &self.evm
    }

    /// The precompile prices this ledger's executions charge.
    pub fn evm_schedule(&self) -> evm::GasSchedule {
        self.evm_schedule
    }

    /// Forget the EVM receipts of the heights below `height` (final heights only: see
    /// `EvmState::prune_receipts_below`). Returns the number forgotten.
    pub fn prune_evm_receipts_below(&mut self, height: u64) -> usize {
        self.evm.prune_receipts_below(height)
    }

    /// What revm reads: the native balances and the EVM section.
    pub fn evm_view(&self) -> evm::StateAdapter<'_> {
        evm::StateAdapter {
            balances: self,
            state: &self.evm,
            tokens: &self.tokens,
            schedule: self.evm_schedule,
        }
    }

    /// What `call` would do at `block`, or why the carrier cannot apply (it is then ignored
    /// like any invalid transaction).
    pub(super) fn check_evm(
        &self,
        call: &EvmCall,
        block: &EvmBlock,
    ) -> Result<EvmEffect, LedgerError> {
        let tx = call.decode(block.chain_id).map_err(LedgerError::EvmTx)?;
        let nonce = self.evm.nonce(&tx.sender);
        if tx.nonce < nonce {
            return Err(LedgerError::EvmNonceUsed { sender: tx.sender, nonce: tx.nonce });
        }
        if tx.nonce > nonce {
            if tx.nonce - nonce > HELD_AHEAD_MAX {
                return Err(LedgerError::EvmNonceTooFarAhead {
                    sender: tx.sender,
                    nonce: tx.nonce,
                    expected: nonce,
                });
            }
            if self.evm.held(&tx.sender, tx.nonce).is_some() {
                return Err(LedgerError::EvmNonceHeld { sender: tx.sender, nonce: tx.nonce });
            }
            return Ok(EvmEffect::Hold(Box::new(tx)));
        }
        self.check_block_gas(&tx)?;
        let executed =
            evm::execute(self.evm_view(), block, &tx).map_err(LedgerError::EvmExecution)?;
        Ok(EvmEffect::Execute(Box::new((tx, executed))))
    }

    fn check_block_gas(&self, tx: &DecodedTx) -> Result<(), LedgerError> {
        let used = self.evm.gas_used();
        if used.saturating_add(tx.gas_limit) > CHECKPOINT_GAS_MAX {
            return Err(LedgerError::CheckpointGasFull {
                gas_limit: tx.gas_limit,
                used,
                limit: CHECKPOINT_GAS_MAX,
            });
        }
        Ok(())
    }

    /// Write a checked effect; then run the sender's held transactions the execution made due.
    /// Returns the native units burned.
    pub(super) fn apply_evm(
        &mut self,
        effect: EvmEffect,
        block: &EvmBlock,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) -> u64 {
        match effect {
            EvmEffect::Hold(tx) => {
                let held = HeldTx { raw: tx.raw.clone(), held_at: block.height };
                self.evm.hold(tx.sender, tx.nonce, held, &mut undo.evm);
                0
            }
            EvmEffect::Execute(executed) => {
                let (tx, executed) = *executed;
                let burned = self.write_execution(&tx, executed, block, author, policy, undo);
                burned + self.run_held(tx.sender, block, author, policy, undo)
            }
        }
    }

    /// Start of a checkpoint's EVM work: reset the block's counters, drop held transactions
    /// older than `HELD_HEIGHTS_MAX`, and run those whose sender's nonce reached them (a
    /// previous checkpoint ran out of gas before them). Burns through the undo log.
    pub fn evm_begin(
        &mut self,
        block: &EvmBlock,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) {
        if self.evm.gas_used() != 0 || self.evm.logs_emitted() != 0 {
            self.evm.set_block_counters(0, 0, &mut undo.evm);
        }
        let parent_id = revm::primitives::B256::from(block.parent_id.0);
        self.evm.record_parent_hash(block.height, parent_id, &mut undo.evm);
        let (due, expired) = self.evm.held_due(block.height.saturating_sub(HELD_HEIGHTS_MAX));
        for (sender, nonce) in expired {
            self.evm.release(sender, nonce, &mut undo.evm);
        }
        let mut burned = 0;
        for (sender, _) in due {
            burned += self.run_held(sender, block, author, policy, undo);
        }
        if burned > 0 {
            undo.burned_before.get_or_insert(self.burned);
            self.burned += burned;
        }
    }

    /// Execute `sender`'s held transactions in nonce order while the next one is held and
    /// the checkpoint has gas for it. One that cannot execute is dropped. Returns units burned.
    fn run_held(
        &mut self,
        sender: Address,
        block: &EvmBlock,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) -> u64 {
        let mut burned = 0;
        loop {
            let nonce = self.evm.nonce(&sender);
            let Some(held) = self.evm.held(&sender, nonce) else { break };
            // Held under the sender recovered from these bytes: decoding them again need not recover.
            let decoded = EvmCall::recovered(held.raw.to_vec(), sender).decode(block.chain_id);
            let Ok(tx) = decoded else {
                self.evm.release(sender, nonce, &mut undo.evm);
                continue;
            };
            if self.check_block_gas(&tx).is_err() {
                break;
            }
            self.evm.release(sender, nonce, &mut undo.evm);
            let Ok(executed) = evm::execute(self.evm_view(), block, &tx) else { break };
            burned += self.write_execution(&tx, executed, block, author, policy, undo);
        }
        burned
    }

    /// Write one execution: balances (native accounts), nonces, code and storage in address
    /// order, the fee (author's share credited, the rest returned as burned), the receipt.
    fn write_execution(
        &mut self,
        tx: &DecodedTx,
        executed: Executed,
        block: &EvmBlock,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) -> u64 {
        let Executed { outcome, changes, fee } = executed;
        for (address, change) in changes {
            let account = account_of(&address);
            if self.balance(&account) != change.balance {
                self.save(&account, undo);
                self.accounts.entry(account).or_default().balance = change.balance;
            }
            if change.created || change.destroyed {
                self.evm.clear_storage(address, &mut undo.evm);
            }
            let mut next = self
                .evm
                .account(&address)
                .cloned()
                .unwrap_or(evm::EvmAccount { nonce: 0, code_hash: revm::primitives::KECCAK_EMPTY });
            if change.destroyed {
                next.code_hash = revm::primitives::KECCAK_EMPTY;
            }
            next.nonce = change.nonce;
            if let Some((hash, code)) = change.new_code {
                self.evm.insert_code(hash, code, &mut undo.evm);
                next.code_hash = hash;
            }
            if self.evm.account(&address) != Some(&next) {
                self.evm.set_account(address, next, &mut undo.evm);
            }
            let token = evm::token_at(&self.tokens, &address).map(|token| token.id);
            for (key, value) in change.storage {
                // A token's ERC-20 balance slots are its ledger balances (docs/tokens.md).
                if let (Some(token), Some(holder)) = (token, evm::holder_of_slot(&key)) {
                    let holder = account_of(&holder);
                    // The view refuses amounts that do not fit a u64.
                    let balance = u64::try_from(value).unwrap_or(u64::MAX);
                    debug_assert_eq!(U256::from(balance), value);
                    if self.tokens.balance(&token, &holder) != balance {
                        self.tokens.set_balance(token, holder, balance, &mut undo.tokens);
                    }
                    continue;
                }
                if self.evm.slot(&address, &key) != value {
                    self.evm.set_slot(address, key, value, &mut undo.evm);
                }
            }
        }
        let (burned, to_author) = policy.split(fee);
        if to_author > 0 {
            self.save(author, undo);
            let balance = &mut self.accounts.entry(*author).or_default().balance;
            // The fee left the balances, which sum to at most the supply: no overflow.
            debug_assert!(balance.checked_add(to_author).is_some());
            *balance = balance.saturating_add(to_author);
        }
        let gas_used = self.evm.gas_used() + outcome.gas_used;
        let first_log = self.evm.logs_emitted();
        let logs: Vec<ReceiptLog> = outcome
            .logs
            .into_iter()
            .zip(first_log..)
            .map(|(log, log_index)| ReceiptLog {
                address: log.address,
                topics: log.data.topics().to_vec(),
                data: log.data.data.clone(),
                log_index,
            })
            .collect();
        let logs_emitted = first_log + logs.len() as u64;
        self.evm.set_block_counters(gas_used, logs_emitted, &mut undo.evm);
        let receipt = Receipt {
            hash: tx.hash,
            height: block.height,
            index: self.evm.block_txs(block.height).len() as u64,
            from: tx.sender,
            to: tx.to,
            contract_address: outcome.contract_address,
            success: outcome.success,
            gas_used: outcome.gas_used,
            cumulative_gas_used: gas_used,
            effective_gas_price: tx.effective_gas_price(),
            logs,
            output: outcome.output,
            raw: tx.raw.clone(),
        };
        self.evm.record(receipt, &mut undo.evm);
        burned
    }
}
