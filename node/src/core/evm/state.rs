//! Contract state in canonical form: EVM nonces, code, storage and held transactions, in
//! BTreeMaps only. Every change goes through [`EvmUndo`] (newest last) so a reorganisation
//! restores it exactly; [`EvmState::hash_into`] feeds the ledger root in key order.
//!
//! Balances are not here: an EVM address's balance is its native account's (`account_of`).

use super::receipt::Receipt;
use revm::primitives::{Address, B256, Bytes, KECCAK_EMPTY, U256};
use std::collections::BTreeMap;

/// An EVM account's own state (the balance is the native account's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmAccount {
    /// Transactions sent by this address (or contracts it created), as Ethereum counts them.
    pub nonce: u64,
    /// `KECCAK_EMPTY` for an account without code.
    pub code_hash: B256,
}

impl EvmAccount {
    fn is_empty(&self) -> bool {
        self.nonce == 0 && self.code_hash == KECCAK_EMPTY
    }
}

/// A transaction whose nonce is ahead of its sender's, waiting for the gap to fill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldTx {
    /// The transaction's EIP-2718 bytes, decoded again when it runs.
    pub raw: Bytes,
    /// Height of the checkpoint that applied its carrier.
    pub held_at: u64,
}

/// A held transaction's key: its sender and nonce.
pub type HeldKey = (Address, u64);

/// One reversible change: the previous value of what changed.
#[derive(Clone, Debug)]
enum Change {
    Account(Address, Option<EvmAccount>),
    Code(B256, Option<Bytes>),
    Slot(Address, U256, Option<U256>),
    Held(Address, u64, Option<HeldTx>),
    BlockCounters(u64, u64),
    Receipt(B256, Option<Receipt>),
    /// A hash appended to a height's executed list (undone by removing the last one; copying
    /// the list before each append made a checkpoint of n transactions cost O(n²)).
    BlockTxPushed(u64),
    BlockHash(u64, Option<B256>),
}

/// The record needed to reverse a sequence of changes to an [`EvmState`].
#[derive(Clone, Debug, Default)]
pub struct EvmUndo {
    changes: Vec<Change>,
}

/// What an undo log says of one key: the first change it records holds the value the key had
/// before the log began, which is how state as of an earlier height is read without copying
/// it (the JSON-RPC's block parameter, docs/evm.md "Historical state").
impl EvmUndo {
    /// `address`'s account before this log's first change to it: `Some(None)` if it was
    /// empty, `None` if the log does not change it.
    pub fn account_before(&self, address: &Address) -> Option<Option<&EvmAccount>> {
        self.changes.iter().find_map(|change| match change {
            Change::Account(changed, previous) if changed == address => Some(previous.as_ref()),
            _ => None,
        })
    }

    /// Slot `key` of `address` before this log's first write to it (`Some(ZERO)` if unset),
    /// `None` if the log does not write it.
    pub fn slot_before(&self, address: &Address, key: &U256) -> Option<U256> {
        self.changes.iter().find_map(|change| match change {
            Change::Slot(changed, changed_key, previous)
                if changed == address && changed_key == key =>
            {
                Some(previous.unwrap_or(U256::ZERO))
            }
            _ => None,
        })
    }

    /// What `BLOCKHASH(height)` answered before this log's first change to it: `Some(None)` if
    /// nothing was recorded, `None` if the log does not change it.
    pub fn block_hash_before(&self, height: u64) -> Option<Option<B256>> {
        self.changes.iter().find_map(|change| match change {
            Change::BlockHash(changed, previous) if *changed == height => Some(*previous),
            _ => None,
        })
    }
}

/// The EVM section of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvmState {
    /// Accounts with a nonce or code (empty ones are removed, EIP-161).
    accounts: BTreeMap<Address, EvmAccount>,
    /// Code by its keccak256 hash; committed to the root through the accounts' code hashes.
    code: BTreeMap<B256, Bytes>,
    /// Non-zero storage slots.
    storage: BTreeMap<(Address, U256), U256>,
    held: BTreeMap<(Address, u64), HeldTx>,
    /// Gas executed and logs emitted by the checkpoint being applied (reset when one begins;
    /// not in the root).
    gas_used: u64,
    logs_emitted: u64,
    /// Receipts by transaction hash, and executed hashes by height, in order (not in the root).
    receipts: BTreeMap<B256, Receipt>,
    blocks: BTreeMap<u64, Vec<B256>>,
    /// What `BLOCKHASH(n)` answers: the id of the checkpoint at each of the last
    /// [`BLOCK_HASH_HISTORY`] heights of the chain being applied (not in the root: the chain
    /// determines it).
    block_hashes: BTreeMap<u64, B256>,
}

/// Heights `BLOCKHASH` reaches back (Ethereum's 256).
pub const BLOCK_HASH_HISTORY: u64 = 256;

impl EvmState {
    /// No contract state: the root section is left out.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty() && self.held.is_empty()
    }

    /// The nonce and code hash of `address`; `None` for an empty account (EIP-161).
    pub fn account(&self, address: &Address) -> Option<&EvmAccount> {
        self.accounts.get(address)
    }

    /// The Ethereum nonce of `address`; 0 for an account never seen.
    pub fn nonce(&self, address: &Address) -> u64 {
        self.accounts.get(address).map_or(0, |account| account.nonce)
    }

    /// Deployed code with this keccak256 hash, if any contract has it.
    pub fn code_by_hash(&self, hash: &B256) -> Option<&Bytes> {
        self.code.get(hash)
    }

    /// The code deployed at `address`; `None` for an account without code.
    pub fn code(&self, address: &Address) -> Option<&Bytes> {
        self.accounts.get(address).and_then(|account| self.code.get(&account.code_hash))
    }

    /// Storage slot `key` of `address`; zero when never written (zero slots are not stored).
    pub fn slot(&self, address: &Address, key: &U256) -> U256 {
        self.storage.get(&(*address, *key)).copied().unwrap_or(U256::ZERO)
    }

    /// Accounts with a nonce or code, in address order.
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &EvmAccount)> {
        self.accounts.iter()
    }

    /// The non-zero storage slots of `address`, in key order.
    pub fn slots_of(&self, address: &Address) -> impl Iterator<Item = (U256, U256)> + '_ {
        self.storage
            .range((*address, U256::ZERO)..=(*address, U256::MAX))
            .map(|((_, key), value)| (*key, *value))
    }

    /// The transaction of `address` held at `nonce`, if one is waiting.
    pub fn held(&self, address: &Address, nonce: u64) -> Option<&HeldTx> {
        self.held.get(&(*address, nonce))
    }

    /// Held transactions of `address`, by nonce.
    pub fn held_of(&self, address: &Address) -> impl Iterator<Item = (u64, &HeldTx)> {
        self.held.range((*address, 0)..=(*address, u64::MAX)).map(|((_, nonce), tx)| (*nonce, tx))
    }

    /// Gas executed so far by the checkpoint being applied (bounded by `CHECKPOINT_GAS_MAX`).
    pub fn gas_used(&self) -> u64 {
        self.gas_used
    }

    /// The receipt of the executed transaction with this Ethereum hash.
    pub fn receipt(&self, hash: &B256) -> Option<&Receipt> {
        self.receipts.get(hash)
    }

    /// Hashes of the transactions executed at `height`, in order.
    pub fn block_txs(&self, height: u64) -> &[B256] {
        self.blocks.get(&height).map_or(&[], Vec::as_slice)
    }

    /// Heights at which anything executed, in `from..=to`.
    pub fn heights(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &[B256])> {
        self.blocks.range(from..=to).map(|(height, hashes)| (*height, hashes.as_slice()))
    }

    /// What `BLOCKHASH(height)` answers: the id of the checkpoint at `height` on the chain being
    /// applied, if it is one of the last [`BLOCK_HASH_HISTORY`] (docs/evm.md, "BLOCKHASH").
    pub fn block_hash(&self, height: u64) -> Option<B256> {
        self.block_hashes.get(&height).copied()
    }

    /// At the start of the checkpoint at `height`: record `parent_id`, the id of the checkpoint
    /// it builds on, as `BLOCKHASH(height - 1)`, and forget the ids more than
    /// [`BLOCK_HASH_HISTORY`] below `height` (no later `BLOCKHASH` reaches them). Nothing is
    /// recorded for genesis, which builds on nothing.
    pub fn record_parent_hash(&mut self, height: u64, parent_id: B256, undo: &mut EvmUndo) {
        let Some(parent_height) = height.checked_sub(1) else { return };
        let forgotten: Vec<u64> = self
            .block_hashes
            .range(..height.saturating_sub(BLOCK_HASH_HISTORY))
            .map(|(old, _)| *old)
            .collect();
        for old in forgotten {
            let previous = self.block_hashes.remove(&old);
            undo.changes.push(Change::BlockHash(old, previous));
        }
        let previous = self.block_hashes.insert(parent_height, parent_id);
        undo.changes.push(Change::BlockHash(parent_height, previous));
    }

    /// Write `address`'s nonce and code hash; an empty account is removed (EIP-161).
    pub fn set_account(&mut self, address: Address, account: EvmAccount, undo: &mut EvmUndo) {
        let previous = if account.is_empty() {
            self.accounts.remove(&address)
        } else {
            self.accounts.insert(address, account)
        };
        undo.changes.push(Change::Account(address, previous));
    }

    /// Store deployed code under its keccak256 `hash` (once: code is shared by hash).
    pub fn insert_code(&mut self, hash: B256, code: Bytes, undo: &mut EvmUndo) {
        if self.code.contains_key(&hash) {
            return;
        }
        self.code.insert(hash, code);
        undo.changes.push(Change::Code(hash, None));
    }

    /// Write storage slot `key` of `address`; a zero value removes the slot.
    pub fn set_slot(&mut self, address: Address, key: U256, value: U256, undo: &mut EvmUndo) {
        let previous = if value == U256::ZERO {
            self.storage.remove(&(address, key))
        } else {
            self.storage.insert((address, key), value)
        };
        undo.changes.push(Change::Slot(address, key, previous));
    }

    /// Remove every storage slot of `address` (a destroyed or re-created account).
    pub fn clear_storage(&mut self, address: Address, undo: &mut EvmUndo) {
        let keys: Vec<U256> = self
            .storage
            .range((address, U256::ZERO)..=(address, U256::MAX))
            .map(|((_, key), _)| *key)
            .collect();
        for key in keys {
            self.set_slot(address, key, U256::ZERO, undo);
        }
    }

    /// Hold `tx`, sent by `address` with `nonce` ahead of its sender's, until the gap fills.
    pub fn hold(&mut self, address: Address, nonce: u64, tx: HeldTx, undo: &mut EvmUndo) {
        let previous = self.held.insert((address, nonce), tx);
        undo.changes.push(Change::Held(address, nonce, previous));
    }

    /// Take the transaction held for `address` at `nonce` out of the state (to run or expire it).
    pub fn release(&mut self, address: Address, nonce: u64, undo: &mut EvmUndo) -> Option<HeldTx> {
        let previous = self.held.remove(&(address, nonce));
        if previous.is_some() {
            undo.changes.push(Change::Held(address, nonce, previous.clone()));
        }
        previous
    }

    /// Held transactions that are now due to run (their nonce is their sender's) or expired
    /// (held since before `expired_below`), in key order.
    pub fn held_due(&self, expired_below: u64) -> (Vec<HeldKey>, Vec<HeldKey>) {
        let mut due = Vec::new();
        let mut expired = Vec::new();
        for ((address, nonce), tx) in &self.held {
            if tx.held_at < expired_below {
                expired.push((*address, *nonce));
            } else if *nonce == self.nonce(address) {
                due.push((*address, *nonce));
            }
        }
        (due, expired)
    }

    /// Logs emitted so far by the checkpoint being applied.
    pub fn logs_emitted(&self) -> u64 {
        self.logs_emitted
    }

    /// Set the gas and log counters of the checkpoint being applied.
    pub fn set_block_counters(&mut self, gas_used: u64, logs_emitted: u64, undo: &mut EvmUndo) {
        undo.changes.push(Change::BlockCounters(self.gas_used, self.logs_emitted));
        self.gas_used = gas_used;
        self.logs_emitted = logs_emitted;
    }

    /// Record an executed transaction's receipt at the end of its height's list.
    pub fn record(&mut self, receipt: Receipt, undo: &mut EvmUndo) {
        let hash = receipt.hash;
        let height = receipt.height;
        self.blocks.entry(height).or_default().push(hash);
        undo.changes.push(Change::BlockTxPushed(height));
        let previous = self.receipts.insert(hash, receipt);
        undo.changes.push(Change::Receipt(hash, previous));
    }

    /// Forget the receipts of the heights below `height` (kept out of the root, so each node
    /// chooses how many it keeps; docs/evm.md, "Receipt pruning"). Not through an undo log: the
    /// caller prunes only final heights, which no reorganisation reverts. Returns the number of
    /// receipts forgotten.
    pub fn prune_receipts_below(&mut self, height: u64) -> usize {
        let kept = self.blocks.split_off(&height);
        let pruned = std::mem::replace(&mut self.blocks, kept);
        let mut count = 0;
        for hash in pruned.into_values().flatten() {
            count += usize::from(self.receipts.remove(&hash).is_some());
        }
        count
    }

    /// Receipts kept, over all heights.
    pub fn receipts_kept(&self) -> usize {
        self.receipts.len()
    }

    /// Reverse every change in `undo` (newest first).
    pub fn revert(&mut self, undo: EvmUndo) {
        for change in undo.changes.into_iter().rev() {
            match change {
                Change::Account(address, previous) => {
                    restore(&mut self.accounts, address, previous)
                }
                Change::Code(hash, previous) => restore(&mut self.code, hash, previous),
                Change::Slot(address, key, previous) => {
                    restore(&mut self.storage, (address, key), previous);
                }
                Change::Held(address, nonce, previous) => {
                    restore(&mut self.held, (address, nonce), previous);
                }
                Change::BlockCounters(gas_used, logs_emitted) => {
                    self.gas_used = gas_used;
                    self.logs_emitted = logs_emitted;
                }
                Change::Receipt(hash, previous) => restore(&mut self.receipts, hash, previous),
                Change::BlockTxPushed(height) => {
                    if let Some(hashes) = self.blocks.get_mut(&height) {
                        hashes.pop();
                        if hashes.is_empty() {
                            self.blocks.remove(&height);
                        }
                    }
                }
                Change::BlockHash(height, previous) => {
                    restore(&mut self.block_hashes, height, previous);
                }
            }
        }
    }

    /// Feed the consensus state into a ledger-root hasher: a domain tag, then accounts, storage
    /// and held transactions, each counted and in key order, in fixed-width fields.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(b"vein/ledger/evm/v0");
        hasher.update(&(self.accounts.len() as u64).to_le_bytes());
        for (address, account) in &self.accounts {
            hasher.update(address.as_slice());
            hasher.update(&account.nonce.to_le_bytes());
            hasher.update(account.code_hash.as_slice());
        }
        hasher.update(&(self.storage.len() as u64).to_le_bytes());
        for ((address, key), value) in &self.storage {
            hasher.update(address.as_slice());
            hasher.update(&key.to_be_bytes::<32>());
            hasher.update(&value.to_be_bytes::<32>());
        }
        hasher.update(&(self.held.len() as u64).to_le_bytes());
        for ((address, nonce), tx) in &self.held {
            hasher.update(address.as_slice());
            hasher.update(&nonce.to_le_bytes());
            hasher.update(&tx.held_at.to_le_bytes());
            hasher.update(revm::primitives::keccak256(&tx.raw).as_slice());
        }
    }
}

fn restore<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, previous: Option<V>) {
    match previous {
        Some(value) => {
            map.insert(key, value);
        }
        None => {
            map.remove(&key);
        }
    }
}
