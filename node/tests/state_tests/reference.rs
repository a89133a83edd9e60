//! The reference run: the same case on revm alone, with Ethereum's own parameters (the
//! fixture's prices, base fee, coinbase, block gas limit and wei amounts) over an in-memory
//! database. It is an oracle for the explained list only: a case may be explained as a vein
//! difference only if Ethereum's rules, run this way, pass it.

use super::Run;
use super::fixture::{Account, Case, Price};
use revm::context::{BlockEnv, Context, TxEnv};
use revm::context_interface::transaction::{AccessList, AccessListItem};
use revm::database::{AccountState, CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Log, TxKind, U256, keccak256};
use revm::state::{AccountInfo, Bytecode};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use std::collections::BTreeMap;

/// Run `case` on revm with the fixture's parameters; `None` if a field does not fit revm's
/// environment (the fixture then expects the transaction refused, and is not explained).
pub fn run(case: &Case) -> Option<Run> {
    let mut db = CacheDB::new(EmptyDB::default());
    for (address, account) in &case.pre {
        let code = Bytecode::new_raw(account.code.clone());
        let info = AccountInfo {
            balance: account.balance,
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
        access_list: AccessList(
            case.access_list
                .iter()
                .flatten()
                .map(|(address, keys)| AccessListItem {
                    address: *address,
                    storage_keys: keys.clone(),
                })
                .collect(),
        ),
        ..TxEnv::default()
    };
    let mut evm = Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(SpecId::CANCUN);
            cfg.chain_id = super::CHAIN_ID;
        })
        .with_block(block)
        .build_mainnet();
    let (executed, logs): (bool, Vec<Log>) = match evm.transact_commit(tx) {
        Ok(result) => (true, result.into_logs()),
        Err(_) => (false, Vec::new()),
    };
    // The cache is a hash map: sorted before anything reads it in order.
    let mut state: BTreeMap<_, Account> = BTreeMap::new();
    for (address, account) in &evm.ctx.journaled_state.database.cache.accounts {
        if account.account_state == AccountState::NotExisting {
            continue;
        }
        let code = match &account.info.code {
            Some(code) => code.original_bytes(),
            None => evm
                .ctx
                .journaled_state
                .database
                .cache
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
                storage: account.storage.iter().map(|(key, value)| (*key, *value)).collect(),
            },
        );
    }
    Some(Run {
        executed,
        refused: None,
        status: None,
        root: super::root_of(&state),
        logs_hash: keccak256(alloy_rlp::encode(&logs)),
    })
}

/// Whether the reference run gives the fixture's result.
pub fn passes(case: &Case) -> bool {
    run(case).is_some_and(|outcome| {
        outcome.executed != case.exception.is_some()
            && outcome.root == case.post_root
            && outcome.logs_hash == case.logs_hash
    })
}
