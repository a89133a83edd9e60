//! The reference run: the same case on revm alone, with Ethereum's own parameters (the
//! fixture's prices, base fee, coinbase, block gas limit and wei amounts) over an in-memory
//! database, is the oracle for the explained list: a case may be explained as a vein difference
//! only if Ethereum's rules, run this way, pass it. The same case on revm alone with vein's
//! parameters checks vein's own path (state adapter, change extraction, ledger writes): its
//! state must be the ledger's.

use super::Run;
use super::fixture::{Account, Case, Price};
use revm::context::{BlockEnv, Context, TxEnv};
use revm::context_interface::transaction::{AccessList, AccessListItem};
use revm::database::{AccountState, CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Log, TxKind, U256, keccak256};
use revm::state::{AccountInfo, Bytecode};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use std::collections::BTreeMap;
use vein_node::core::evm::{CHECKPOINT_GAS_MAX, FEE_SINK};

/// What revm runs: the pre-state's balances and the block and transaction environments.
struct Setup {
    balances: BTreeMap<Address, U256>,
    block: BlockEnv,
    tx: TxEnv,
}

/// What revm did: whether it executed, its logs, the receipt's status and gas, and the state.
pub struct Executed {
    pub executed: bool,
    pub logs: Vec<Log>,
    pub status: Option<(bool, u64)>,
    pub state: BTreeMap<Address, Account>,
}

fn access_list(case: &Case) -> AccessList {
    AccessList(
        case.access_list
            .iter()
            .flatten()
            .map(|(address, keys)| AccessListItem { address: *address, storage_keys: keys.clone() })
            .collect(),
    )
}

/// Ethereum's parameters: the fixture's own.
fn ethereum(case: &Case) -> Option<Setup> {
    let block = BlockEnv {
        number: U256::from(case.env.number),
        beneficiary: case.env.coinbase,
        timestamp: U256::from(case.env.timestamp),
        gas_limit: u64::try_from(case.env.gas_limit).ok()?,
        basefee: u64::try_from(case.env.base_fee).ok()?,
        prevrandao: Some(case.env.random),
        ..BlockEnv::default()
    };
    let (tx_type, gas_price, gas_priority_fee) = match case.price {
        Price::Legacy(price) => {
            (u8::from(case.access_list.is_some()), u128::try_from(price).ok()?, None)
        }
        Price::Dynamic { max_fee, priority } => {
            (2, u128::try_from(max_fee).ok()?, Some(u128::try_from(priority).ok()?))
        }
    };
    let tx = TxEnv {
        tx_type,
        caller: case.sender,
        gas_limit: u64::try_from(case.gas_limit).ok()?,
        gas_price,
        gas_priority_fee,
        kind: case.to.map_or(TxKind::Create, TxKind::Call),
        value: case.value,
        data: case.data.clone(),
        nonce: u64::try_from(case.nonce).ok()?,
        chain_id: Some(super::CHAIN_ID),
        access_list: access_list(case),
        ..TxEnv::default()
    };
    let balances = case.pre.iter().map(|(address, account)| (*address, account.balance)).collect();
    Some(Setup { balances, block, tx })
}

/// vein's parameters, as `super::run` gives them to the ledger: whole-gwei balances with the
/// sender's loan, the fee sink as coinbase, base fee 0, the checkpoint gas limit, 1 gwei
/// prices, the value without its sub-gwei part.
fn vein(case: &Case) -> Option<Setup> {
    let block = BlockEnv {
        number: U256::from(case.env.number),
        beneficiary: FEE_SINK,
        timestamp: U256::from(case.env.timestamp),
        gas_limit: CHECKPOINT_GAS_MAX,
        basefee: 0,
        prevrandao: Some(case.env.random),
        ..BlockEnv::default()
    };
    let (tx_type, gas_price, gas_priority_fee) = match case.price {
        Price::Legacy(price) => {
            (u8::from(case.access_list.is_some()), super::vein_price(price), None)
        }
        Price::Dynamic { max_fee, priority } => {
            (2, super::vein_price(max_fee), Some(super::vein_priority(max_fee, priority)))
        }
    };
    let tx = TxEnv {
        tx_type,
        caller: case.sender,
        gas_limit: u64::try_from(super::vein_gas_limit(case)).ok()?,
        gas_price,
        gas_priority_fee,
        kind: case.to.map_or(TxKind::Create, TxKind::Call),
        value: super::whole_gwei(case.value),
        data: case.data.clone(),
        nonce: u64::try_from(case.nonce).ok()?,
        chain_id: Some(super::CHAIN_ID),
        access_list: access_list(case),
        ..TxEnv::default()
    };
    let mut balances: BTreeMap<Address, U256> = case
        .pre
        .iter()
        .map(|(address, account)| (*address, super::whole_gwei(account.balance)))
        .collect();
    let loan = U256::from(super::loan(case)) * super::gwei();
    let sender = balances.entry(case.sender).or_default();
    *sender = sender.saturating_add(loan);
    Some(Setup { balances, block, tx })
}

fn execute(case: &Case, setup: Setup) -> Option<Executed> {
    let mut db = CacheDB::new(EmptyDB::default());
    for (address, balance) in &setup.balances {
        let account = case.pre.get(address).cloned().unwrap_or_default();
        let code = Bytecode::new_raw(account.code.clone());
        let info = AccountInfo {
            balance: *balance,
            nonce: account.nonce,
            code_hash: keccak256(&account.code),
            code: Some(code),
            ..AccountInfo::default()
        };
        db.insert_account_info(*address, info);
        for (key, value) in &account.storage {
            db.insert_account_storage(*address, *key, *value).ok()?;
        }
    }
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(SpecId::CANCUN);
            cfg.chain_id = super::CHAIN_ID;
        })
        .with_block(setup.block)
        .build_mainnet();
    let (executed, status, logs) = match evm.transact_commit(setup.tx) {
        Ok(result) => (true, Some((result.is_success(), result.tx_gas_used())), result.into_logs()),
        Err(_) => (false, None, Vec::new()),
    };
    // The cache is a hash map: sorted before anything reads it in order.
    let mut state: BTreeMap<Address, Account> = BTreeMap::new();
    let cache = &evm.ctx.journaled_state.database.cache;
    for (address, account) in &cache.accounts {
        if account.account_state == AccountState::NotExisting {
            continue;
        }
        let code = match &account.info.code {
            Some(code) => code.original_bytes(),
            None => cache
                .contracts
                .get(&account.info.code_hash)
                .map(Bytecode::original_bytes)
                .unwrap_or_default(),
        };
        state.insert(
            *address,
            Account {
                balance: account.info.balance,
                nonce: account.info.nonce,
                code,
                storage: account
                    .storage
                    .iter()
                    .filter(|(_, value)| **value != U256::ZERO)
                    .map(|(key, value)| (*key, *value))
                    .collect(),
            },
        );
    }
    Some(Executed { executed, logs, status, state })
}

/// `case` on revm with the fixture's own parameters, as Ethereum runs it.
pub fn run(case: &Case) -> Option<Run> {
    let done = execute(case, ethereum(case)?)?;
    Some(Run {
        executed: done.executed,
        refused: None,
        status: done.status,
        root: super::root_of(&done.state),
        raw: done.state,
        logs_hash: keccak256(alloy_rlp::encode(&done.logs)),
    })
}

/// `case` on revm alone with the parameters vein's run gives it.
pub fn run_as_vein(case: &Case) -> Option<Executed> {
    execute(case, vein(case)?)
}

/// Whether the reference run gives the fixture's result.
pub fn passes(case: &Case) -> bool {
    run(case).is_some_and(|outcome| {
        outcome.executed != case.exception.is_some()
            && outcome.root == case.post_root
            && outcome.logs_hash == case.logs_hash
    })
}
