//! One execution by revm against the ledger, and the determinism fence around it: revm's
//! changes (a hash map) are sorted into a BTreeMap and checked before the ledger writes them.
//! Also the read-only calls of the JSON-RPC (`eth_call`, `eth_estimateGas`).

use super::adapter::StateAdapter;
use super::address::{FEE_SINK, account_of, wei_to_units};
use super::block::{CHECKPOINT_GAS_MAX, EvmBlock};
use super::call::DecodedTx;
use super::erc20::TokenPrecompiles;
use super::schedule::SPEC;
use revm::context::{BlockEnv, Context, TxEnv};
use revm::context_interface::result::ExecutionResult;
use revm::context_interface::transaction::{AccessList, AccessListItem};
use revm::database_interface::WrapDatabaseRef;
use revm::primitives::{Address, B256, Bytes, Log, TxKind, U256};
use revm::{ExecuteEvm, MainBuilder, MainContext};
use std::collections::BTreeMap;

/// Why a transaction could not be executed at all (Ethereum would not include it): its nonce,
/// its balance for gas and value, its gas limit against the intrinsic cost or the block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// revm refused the transaction before running it, or its gas price or cost is out of range
    /// or above the sender's balance.
    #[error("not executable: {reason}")]
    Invalid {
        /// revm's validation error, or which gas check failed.
        reason: String,
    },
}

/// What an execution did, as a receipt will tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// EIP-658 status: true when the call or creation completed, false on revert or any halt.
    pub success: bool,
    /// Gas charged for the execution, refunds deducted.
    pub gas_used: u64,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Address of the contract a creation deployed; `None` for a call or a failed creation.
    pub contract_address: Option<Address>,
}

/// The new state of one account an execution touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountChange {
    /// Native units (whole gwei).
    pub balance: u64,
    pub nonce: u64,
    /// Code deployed by this execution.
    pub new_code: Option<(B256, Bytes)>,
    /// Created (its old storage is void) or destroyed (its code and storage go).
    pub created: bool,
    pub destroyed: bool,
    /// Changed slots and their new values.
    pub storage: BTreeMap<U256, U256>,
}

/// An execution ready to be written: sorted changes and the fee collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    /// What the execution did.
    pub outcome: Outcome,
    /// New state of every account it touched, sorted by address.
    pub changes: BTreeMap<Address, AccountChange>,
    /// Gas fee in native units, to split by the fee policy.
    pub fee: u64,
}

/// A read-only call (`eth_call`, `eth_estimateGas`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Caller; the zero address when `None`.
    pub from: Option<Address>,
    /// Callee; `None` runs `input` as init code (a creation).
    pub to: Option<Address>,
    /// Gas limit; `None` or above means the checkpoint's limit (`CHECKPOINT_GAS_MAX`).
    pub gas: Option<u64>,
    /// Wei sent with the call.
    pub value: U256,
    /// Call data (or init code).
    pub input: Bytes,
}

fn block_env(block: &EvmBlock) -> BlockEnv {
    BlockEnv {
        number: U256::from(block.height),
        beneficiary: FEE_SINK,
        timestamp: U256::from(block.timestamp_ms / 1_000),
        gas_limit: CHECKPOINT_GAS_MAX,
        basefee: 0,
        difficulty: U256::ZERO,
        prevrandao: Some(B256::from(block.generation_signature.0)),
        ..BlockEnv::default()
    }
}

/// Run revm over `ledger` with `tx`; `read_only` relaxes the checks a call does not need.
fn run(
    view: StateAdapter<'_>,
    block: &EvmBlock,
    tx: TxEnv,
    read_only: bool,
) -> Result<(ExecutionResult, BTreeMap<Address, revm::state::Account>), ExecutionError> {
    let chain_id = block.chain_id;
    let mut evm = Context::mainnet()
        .with_db(WrapDatabaseRef(view))
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(SPEC);
            cfg.chain_id = chain_id;
            // Calls pay no gas (price 0 passes the zero base fee) and have no nonce.
            cfg.disable_nonce_check = read_only;
        })
        .with_block(block_env(block))
        .build_mainnet()
        .with_precompiles(TokenPrecompiles::new(view.schedule.precompiles(SPEC), view.tokens));
    let result =
        evm.transact(tx).map_err(|error| ExecutionError::Invalid { reason: error.to_string() })?;
    // The fence: revm's hash map becomes a BTreeMap before anything reads it in order.
    let state: BTreeMap<Address, revm::state::Account> = result.state.into_iter().collect();
    Ok((result.result, state))
}

fn outcome_of(result: ExecutionResult) -> Outcome {
    let gas_used = result.tx_gas_used();
    let contract_address = result.created_address();
    match result {
        ExecutionResult::Success { logs, output, .. } => {
            Outcome { success: true, gas_used, logs, output: output.into_data(), contract_address }
        }
        ExecutionResult::Revert { logs, output, .. } => {
            Outcome { success: false, gas_used, logs, output, contract_address: None }
        }
        ExecutionResult::Halt { logs, .. } => {
            Outcome { success: false, gas_used, logs, output: Bytes::new(), contract_address: None }
        }
    }
}

fn tx_env(tx: &DecodedTx) -> TxEnv {
    TxEnv {
        tx_type: tx.tx_type,
        caller: tx.sender,
        gas_limit: tx.gas_limit,
        gas_price: tx.max_fee_per_gas,
        gas_priority_fee: tx.max_priority_fee_per_gas,
        kind: tx.to.map_or(TxKind::Create, TxKind::Call),
        value: tx.value,
        data: tx.input.clone(),
        nonce: tx.nonce,
        chain_id: Some(tx.chain_id),
        access_list: AccessList(
            tx.access_list
                .iter()
                .map(|(address, storage_keys)| AccessListItem {
                    address: *address,
                    storage_keys: storage_keys.clone(),
                })
                .collect(),
        ),
        ..TxEnv::default()
    }
}

/// Execute `tx` at `block` against the ledger `view`. A transaction revm refuses is an error (nothing
/// happens, as Ethereum would not include it); a revert or halt is an outcome with
/// `success: false`. An execution whose balances would leave whole gwei (a contract sending
/// sub-gwei value) is turned into a failure that consumes the whole gas limit.
pub fn execute(
    view: StateAdapter<'_>,
    block: &EvmBlock,
    tx: &DecodedTx,
) -> Result<Executed, ExecutionError> {
    let (result, state) = run(view, block, tx_env(tx), false)?;
    let outcome = outcome_of(result);
    match changes_of(view, &state) {
        Some((changes, fee)) => Ok(Executed { outcome, changes, fee }),
        None => failed_whole_gas(view, tx),
    }
}

/// Turn revm's touched accounts into changes in native units, and the fee. `None` if some
/// balance is not whole gwei or does not fit a u64.
fn changes_of(
    view: StateAdapter<'_>,
    state: &BTreeMap<Address, revm::state::Account>,
) -> Option<(BTreeMap<Address, AccountChange>, u64)> {
    let mut changes = BTreeMap::new();
    let mut fee = 0;
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if *address == FEE_SINK {
            fee = wei_to_units(account.info.balance)?;
            continue;
        }
        let destroyed = account.is_selfdestructed();
        let created = account.is_created();
        let new_code = match (&account.info.code, created && !destroyed) {
            (Some(code), true) if !code.is_empty() => {
                Some((account.info.code_hash, code.original_bytes()))
            }
            _ => None,
        };
        let storage = if destroyed {
            BTreeMap::new()
        } else {
            account
                .changed_storage_slots()
                .map(|(key, slot)| (*key, slot.present_value()))
                .collect()
        };
        changes.insert(
            *address,
            AccountChange {
                balance: if destroyed { 0 } else { wei_to_units(account.info.balance)? },
                nonce: if destroyed { 0 } else { account.info.nonce },
                new_code,
                created,
                destroyed,
                storage,
            },
        );
    }
    // Value only moves: what left the balances is the fee.
    let before: u128 =
        changes.keys().map(|a| u128::from(view.balances.balance(&account_of(a)))).sum();
    let after: u128 = changes.values().map(|change| u128::from(change.balance)).sum();
    debug_assert_eq!(before, after + u128::from(fee));
    Some((changes, fee))
}

/// The failure of an execution whose result cannot be written: the sender's nonce advances
/// and it pays its whole gas limit, as for an exceptional halt.
fn failed_whole_gas(view: StateAdapter<'_>, tx: &DecodedTx) -> Result<Executed, ExecutionError> {
    let price_units = wei_to_units(U256::from(tx.effective_gas_price()))
        .ok_or_else(|| ExecutionError::Invalid { reason: "gas price".to_string() })?;
    let fee = price_units
        .checked_mul(tx.gas_limit)
        .ok_or_else(|| ExecutionError::Invalid { reason: "gas cost overflows".to_string() })?;
    let balance = view.balances.balance(&account_of(&tx.sender));
    let remaining = balance
        .checked_sub(fee)
        .ok_or_else(|| ExecutionError::Invalid { reason: "balance below gas cost".to_string() })?;
    let change = AccountChange {
        balance: remaining,
        nonce: tx.nonce + 1,
        new_code: None,
        created: false,
        destroyed: false,
        storage: BTreeMap::new(),
    };
    Ok(Executed {
        outcome: Outcome {
            success: false,
            gas_used: tx.gas_limit,
            logs: Vec::new(),
            output: Bytes::new(),
            contract_address: None,
        },
        changes: BTreeMap::from([(tx.sender, change)]),
        fee,
    })
}

fn call_env(request: &CallRequest, gas: u64, chain_id: u64) -> TxEnv {
    TxEnv {
        chain_id: Some(chain_id),
        caller: request.from.unwrap_or(Address::ZERO),
        gas_limit: gas,
        gas_price: 0,
        kind: request.to.map_or(TxKind::Create, TxKind::Call),
        value: request.value,
        data: request.input.clone(),
        ..TxEnv::default()
    }
}

/// `eth_call`: run `request` against the ledger `view` at `block`; the changes are dropped.
pub fn simulate_call(
    view: StateAdapter<'_>,
    block: &EvmBlock,
    request: &CallRequest,
) -> Result<Outcome, ExecutionError> {
    let gas = request.gas.unwrap_or(CHECKPOINT_GAS_MAX).min(CHECKPOINT_GAS_MAX);
    let (result, _) = run(view, block, call_env(request, gas, block.chain_id), true)?;
    Ok(outcome_of(result))
}

/// `eth_estimateGas`: the least gas limit (to within 1 %) under which `request` succeeds,
/// searched between the gas it used and the checkpoint's limit (the 63/64 rule can make the
/// gas used alone too little). Fails with the outcome if it fails at the checkpoint's limit.
pub fn estimate_gas(
    view: StateAdapter<'_>,
    block: &EvmBlock,
    request: &CallRequest,
) -> Result<Result<u64, Outcome>, ExecutionError> {
    let cap = request.gas.unwrap_or(CHECKPOINT_GAS_MAX).min(CHECKPOINT_GAS_MAX);
    let at_cap = outcome_of(run(view, block, call_env(request, cap, block.chain_id), true)?.0);
    if !at_cap.success {
        return Ok(Err(at_cap));
    }
    let succeeds = |gas: u64| -> Result<bool, ExecutionError> {
        Ok(outcome_of(run(view, block, call_env(request, gas, block.chain_id), true)?.0).success)
    };
    let mut low = at_cap.gas_used.saturating_sub(1);
    let mut high = cap;
    if succeeds(at_cap.gas_used)? {
        return Ok(Ok(at_cap.gas_used));
    }
    low = low.max(at_cap.gas_used);
    while high - low > high / 100 {
        let middle = low + (high - low) / 2;
        if succeeds(middle)? { high = middle } else { low = middle }
    }
    Ok(Ok(high))
}
