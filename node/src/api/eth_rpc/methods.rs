//! The read methods, evaluated on the core between two driver steps (`inspect`): blocks are
//! checkpoints of the active chain, state is the head's ledger or, for a block tag or number
//! below the head, the state as of that height within the historical window ([`history`]),
//! transactions and logs are the receipts the ledger recorded (and has not pruned).

use super::history::{self, StateAt};
use super::types::{
    AccessListEntry, Block, BlockTransactions, CallObject, FeeHistory, Log, LogFilter, Receipt,
    RpcError, TransactionObject, code,
};
use crate::core::chain::Chain;
use crate::core::evm::{
    self, Address, B256, Bytes, CHECKPOINT_GAS_MAX, CallRequest, ContractReads, EvmBlock, EvmCall,
    GAS_PRICE_MIN_WEI, NativeBalances, U256,
};
use crate::core::node::Node;
use revm::primitives::alloy_primitives::Bloom;
use serde_json::Value;

/// Heights one `eth_getLogs` may scan.
pub const LOG_RANGE_MAX: u64 = 10_000;
/// Blocks one `eth_feeHistory` may describe.
const FEE_HISTORY_MAX: u64 = 1_024;

/// A quantity as the JSON-RPC writes it: `0x`, lower-case hex, no leading zeros (`0x0`).
pub fn quantity(value: impl std::fmt::LowerHex) -> String {
    format!("{value:#x}")
}

/// Bytes as the JSON-RPC writes data: `0x` and two lower-case hex digits per byte (`0x` when
/// empty).
pub fn data(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn hash(bytes: &[u8; 32]) -> String {
    data(bytes)
}

fn strip(text: &str) -> Result<&str, RpcError> {
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| RpcError::params(format!("{text:?} lacks the 0x prefix")))
}

/// Data (`0x` and hex, either case) as bytes; a missing prefix or an odd or non-hex digit is an
/// invalid-params error.
pub fn parse_bytes(text: &str) -> Result<Vec<u8>, RpcError> {
    hex::decode(strip(text)?).map_err(|_| RpcError::params(format!("{text:?} is not hex")))
}

/// A quantity (`0x` and 1 to 64 hex digits, leading zeros tolerated) as a 256-bit number.
pub fn parse_u256(text: &str) -> Result<U256, RpcError> {
    let digits = strip(text)?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(RpcError::params(format!("{text:?} is not a quantity")));
    }
    U256::from_str_radix(digits, 16).map_err(|_| RpcError::params(format!("{text:?} not hex")))
}

/// A quantity that must fit in 64 bits (a height, a nonce, gas).
pub fn parse_u64(text: &str) -> Result<u64, RpcError> {
    u64::try_from(parse_u256(text)?).map_err(|_| RpcError::params(format!("{text:?} too large")))
}

/// A 20-byte address as `0x` and 40 hex digits; the EIP-55 checksum casing is not checked.
pub fn parse_address(text: &str) -> Result<Address, RpcError> {
    let bytes = parse_bytes(text)?;
    if bytes.len() != 20 {
        return Err(RpcError::params(format!("{text:?} is not a 20-byte address")));
    }
    Ok(Address::from_slice(&bytes))
}

/// A 32-byte hash (a transaction or block hash, a topic) as `0x` and 64 hex digits.
pub fn parse_b256(text: &str) -> Result<B256, RpcError> {
    let bytes = parse_bytes(text)?;
    if bytes.len() != 32 {
        return Err(RpcError::params(format!("{text:?} is not 32 bytes")));
    }
    Ok(B256::from_slice(&bytes))
}

/// Positional parameter `index` as a string, if present and not null.
pub fn param_str(params: &[Value], index: usize) -> Result<Option<&str>, RpcError> {
    match params.get(index) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(RpcError::params(format!("parameter {index} {other} is not a string"))),
    }
}

/// Positional parameter `index` as a string; missing or null is an invalid-params error.
pub fn required_str(params: &[Value], index: usize) -> Result<&str, RpcError> {
    param_str(params, index)?.ok_or_else(|| RpcError::params(format!("parameter {index} missing")))
}

/// A block tag or number as a height of the active chain.
pub fn resolve_height(chain: &Chain, tag: Option<&str>) -> Result<u64, RpcError> {
    match tag.unwrap_or("latest") {
        "latest" | "pending" | "safe" => Ok(chain.height()),
        "finalized" => Ok(chain.final_height()),
        "earliest" => Ok(0),
        number => parse_u64(number),
    }
}

/// The state a tag or number names: the head's for `latest`, `pending` and `safe`, else the
/// state as of that height while it is in the historical window ([`StateAt`]).
fn state_at<'a>(chain: &'a Chain, tag: Option<&str>) -> Result<StateAt<'a>, RpcError> {
    StateAt::new(chain, resolve_height(chain, tag)?)
}

/// The block a call on `state` runs in: the successor of its height's checkpoint.
fn block_of(chain: &Chain, state: &StateAt<'_>) -> Result<EvmBlock, RpcError> {
    history::block_after(chain, state.height()).ok_or_else(|| {
        RpcError::server(format!("header not found: height {} is not held", state.height()))
    })
}

/// The block a call runs in: the successor of the head, as the next checkpoint would see it.
pub fn pending_block(chain: &Chain) -> EvmBlock {
    let head = chain.head();
    EvmBlock {
        height: head.height + 1,
        timestamp_ms: head.timestamp_ms,
        generation_signature: head.generation_signature,
        parent_id: head.id,
        chain_id: chain.evm_chain_id(),
    }
}

/// `eth_getBalance [address, tag]`: the vein balance of the address's account, in wei, at the
/// head or a height of the historical window.
pub fn balance(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let address = parse_address(required_str(params, 0)?)?;
    let state = state_at(node.chain(), param_str(params, 1)?)?;
    let units = NativeBalances::balance(&state, &evm::account_of(&address));
    Ok(Value::String(quantity(evm::units_to_wei(units))))
}

/// `eth_getCode [address, tag]`: the contract's runtime bytecode, `0x` for an account without
/// code.
pub fn code(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let address = parse_address(required_str(params, 0)?)?;
    let state = state_at(node.chain(), param_str(params, 1)?)?;
    Ok(Value::String(data(&state.code(&address))))
}

/// `eth_getStorageAt [address, slot, tag]`: the slot's 32-byte value (zero if never written).
pub fn storage_at(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let address = parse_address(required_str(params, 0)?)?;
    let key = parse_u256(required_str(params, 1)?)?;
    let state = state_at(node.chain(), param_str(params, 2)?)?;
    let value = state.read_slot(&address, &key);
    Ok(Value::String(data(&value.to_be_bytes::<32>())))
}

/// The confirmed nonce at the head, and with `pending` the next one after the held transactions
/// and those this node sent that are not executed yet (`sent_above`).
pub fn transaction_count(
    node: &Node,
    address: &Address,
    pending: bool,
    sent_above: &dyn Fn(u64) -> bool,
) -> u64 {
    let state = node.chain().ledger().evm();
    let mut nonce = state.nonce(address);
    if pending {
        while state.held(address, nonce).is_some() || sent_above(nonce) {
            nonce += 1;
        }
    }
    nonce
}

/// `eth_getTransactionCount [address, tag]` for a tag other than `pending`: the nonce at the
/// head or a height of the historical window.
pub fn transaction_count_at(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let address = parse_address(required_str(params, 0)?)?;
    let state = state_at(node.chain(), param_str(params, 1)?)?;
    Ok(Value::String(quantity(state.nonce(&address))))
}

fn call_request(object: &CallObject) -> Result<CallRequest, RpcError> {
    let input = object.input.as_deref().or(object.data.as_deref());
    Ok(CallRequest {
        from: object.from.as_deref().map(parse_address).transpose()?,
        to: object.to.as_deref().map(parse_address).transpose()?,
        gas: object.gas.as_deref().map(parse_u64).transpose()?,
        value: object.value.as_deref().map(parse_u256).transpose()?.unwrap_or(U256::ZERO),
        input: Bytes::from(input.map(parse_bytes).transpose()?.unwrap_or_default()),
    })
}

fn call_object(params: &[Value]) -> Result<CallObject, RpcError> {
    let value = params.first().cloned().ok_or_else(|| RpcError::params("call object missing"))?;
    serde_json::from_value(value).map_err(|error| RpcError::params(format!("call object: {error}")))
}

fn reverted(output: &Bytes) -> RpcError {
    RpcError {
        code: code::EXECUTION_REVERTED,
        message: "execution reverted".to_string(),
        data: Some(data(output)),
    }
}

/// `eth_call [call object, tag]`: run the call on the state at the tag's height (the head's,
/// or one of the historical window) in the block after it, and return its output; nothing is
/// kept. A revert is error 3 with the revert data.
pub fn call(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let request = call_request(&call_object(params)?)?;
    let chain = node.chain();
    let state = state_at(chain, param_str(params, 1)?)?;
    let outcome = evm::simulate_call(state.adapter(), &block_of(chain, &state)?, &request)
        .map_err(|error| RpcError::server(error.to_string()))?;
    if !outcome.success {
        return Err(reverted(&outcome.output));
    }
    Ok(Value::String(data(&outcome.output)))
}

/// `eth_estimateGas [call object, tag]`: the least gas limit (to within 1 %) under which the
/// call succeeds on the state at the tag's height (default the head's) in the block after it;
/// one that fails even at the cap is error 3 with the revert data.
pub fn estimate_gas(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let request = call_request(&call_object(params)?)?;
    let chain = node.chain();
    let state = state_at(chain, param_str(params, 1)?)?;
    match evm::estimate_gas(state.adapter(), &block_of(chain, &state)?, &request) {
        Ok(Ok(gas)) => Ok(Value::String(quantity(gas))),
        Ok(Err(outcome)) => Err(reverted(&outcome.output)),
        Err(error) => Err(RpcError::server(error.to_string())),
    }
}

/// The JSON-RPC object of `call` (its sender remembered: a receipt's `from`, or recovered when
/// it was sent through this node), at (height, block hash, index) once executed.
fn transaction_object(
    call: &EvmCall,
    chain_id: u64,
    at: Option<(u64, B256, u64)>,
) -> Result<TransactionObject, RpcError> {
    let tx =
        call.decode(chain_id).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))?;
    let (v, r, s) = tx.signature;
    let dynamic = tx.tx_type == 2;
    Ok(TransactionObject {
        hash: hash(&tx.hash.0),
        nonce: quantity(tx.nonce),
        block_hash: at.map(|(_, block, _)| hash(&block.0)),
        block_number: at.map(|(height, _, _)| quantity(height)),
        transaction_index: at.map(|(_, _, index)| quantity(index)),
        from: data(tx.sender.as_slice()),
        to: tx.to.map(|to| data(to.as_slice())),
        value: quantity(tx.value),
        gas: quantity(tx.gas_limit),
        gas_price: quantity(U256::from(tx.effective_gas_price())),
        max_fee_per_gas: dynamic.then(|| quantity(U256::from(tx.max_fee_per_gas))),
        max_priority_fee_per_gas: tx.max_priority_fee_per_gas.map(|fee| quantity(U256::from(fee))),
        input: data(&tx.input),
        tx_type: quantity(tx.tx_type),
        chain_id: quantity(tx.chain_id),
        v: quantity(v),
        r: quantity(r),
        s: quantity(s),
        y_parity: (tx.tx_type != 0).then(|| quantity(v)),
        access_list: (tx.tx_type != 0).then(|| {
            tx.access_list
                .iter()
                .map(|(address, keys)| AccessListEntry {
                    address: data(address.as_slice()),
                    storage_keys: keys.iter().map(|key| hash(&key.0)).collect(),
                })
                .collect()
        }),
    })
}

/// The checkpoint id at `height` of the active chain, as a block hash.
fn block_hash_at(chain: &Chain, height: u64) -> Option<B256> {
    chain.active_at(height).map(|id| B256::from(id.0))
}

/// A transaction this node knows: executed (from its receipt), or sent through this node and
/// not executed yet (`sent`).
pub fn transaction_by_hash(
    node: &Node,
    tx_hash: &B256,
    sent: Option<EvmCall>,
) -> Result<Value, RpcError> {
    let chain = node.chain();
    let chain_id = chain.evm_chain_id();
    let object = match chain.ledger().evm().receipt(tx_hash) {
        Some(receipt) => {
            let block = block_hash_at(chain, receipt.height).unwrap_or_default();
            Some(transaction_object(
                &executed_call(receipt),
                chain_id,
                Some((receipt.height, block, receipt.index)),
            )?)
        }
        None => match sent {
            Some(call) => Some(transaction_object(&call, chain_id, None)?),
            None => None,
        },
    };
    serde_json::to_value(object).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

fn log_objects(receipt: &evm::Receipt, block: &B256) -> Vec<Log> {
    receipt
        .logs
        .iter()
        .map(|log| Log {
            address: data(log.address.as_slice()),
            topics: log.topics.iter().map(|topic| hash(&topic.0)).collect(),
            data: data(&log.data),
            block_number: quantity(receipt.height),
            block_hash: hash(&block.0),
            transaction_hash: hash(&receipt.hash.0),
            transaction_index: quantity(receipt.index),
            log_index: quantity(log.log_index),
            removed: false,
        })
        .collect()
}

/// The logs bloom of one receipt (Yellow Paper §4.3.1: each log's address and topics set three
/// bits of 2,048). Derived from the receipt's logs on request, so it is no consensus state: a
/// client may check it against the logs it is served.
fn receipt_bloom(receipt: &evm::Receipt) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for log in &receipt.logs {
        bloom.accrue_raw_log(log.address, &log.topics);
    }
    bloom
}

/// The call a receipt records, its sender the receipt's `from` (recovered when it executed):
/// serving receipts and blocks never recovers a signature again.
fn executed_call(receipt: &evm::Receipt) -> EvmCall {
    EvmCall::recovered(receipt.raw.to_vec(), receipt.from)
}

fn receipt_object(chain: &Chain, receipt: &evm::Receipt) -> Receipt {
    let block = block_hash_at(chain, receipt.height).unwrap_or_default();
    let tx_type = executed_call(receipt).decode(chain.evm_chain_id()).map_or(0, |tx| tx.tx_type);
    Receipt {
        transaction_hash: hash(&receipt.hash.0),
        transaction_index: quantity(receipt.index),
        block_hash: hash(&block.0),
        block_number: quantity(receipt.height),
        from: data(receipt.from.as_slice()),
        to: receipt.to.map(|to| data(to.as_slice())),
        cumulative_gas_used: quantity(receipt.cumulative_gas_used),
        gas_used: quantity(receipt.gas_used),
        effective_gas_price: quantity(U256::from(receipt.effective_gas_price)),
        contract_address: receipt.contract_address.map(|a| data(a.as_slice())),
        logs: log_objects(receipt, &block),
        logs_bloom: data(receipt_bloom(receipt).as_slice()),
        status: quantity(u64::from(receipt.success)),
        tx_type: quantity(tx_type),
    }
}

/// `eth_getTransactionReceipt [hash]`: the receipt of an executed transaction, `null` if it
/// has not executed (or is unknown).
pub fn receipt(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let tx_hash = parse_b256(required_str(params, 0)?)?;
    let chain = node.chain();
    let receipt = chain.ledger().evm().receipt(&tx_hash).map(|r| receipt_object(chain, r));
    serde_json::to_value(receipt).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

fn block_object(chain: &Chain, height: u64, full: bool) -> Result<Option<Block>, RpcError> {
    let Some(id) = chain.active_at(height) else { return Ok(None) };
    let Some(header) = chain.header(&id) else { return Ok(None) };
    let state = chain.ledger().evm();
    let hashes = state.block_txs(height);
    let gas_used = hashes
        .last()
        .and_then(|last| state.receipt(last))
        .map_or(0, |receipt| receipt.cumulative_gas_used);
    // A block's bloom is the union of its receipts' blooms.
    let mut bloom = Bloom::ZERO;
    for receipt in hashes.iter().filter_map(|tx_hash| state.receipt(tx_hash)) {
        bloom.accrue_bloom(&receipt_bloom(receipt));
    }
    let transactions = if full {
        let chain_id = chain.evm_chain_id();
        let block = B256::from(id.0);
        let objects = hashes
            .iter()
            .filter_map(|tx_hash| state.receipt(tx_hash))
            .map(|r| {
                transaction_object(&executed_call(r), chain_id, Some((height, block, r.index)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        BlockTransactions::Full(objects)
    } else {
        BlockTransactions::Hashes(hashes.iter().map(|tx_hash| hash(&tx_hash.0)).collect())
    };
    let zero = hash(&[0u8; 32]);
    Ok(Some(Block {
        number: quantity(height),
        hash: hash(&id.0),
        parent_hash: if height == 0 { zero.clone() } else { hash(&header.prev.0) },
        nonce: "0x0000000000000000".to_string(),
        sha3_uncles: zero.clone(),
        logs_bloom: data(bloom.as_slice()),
        transactions_root: zero.clone(),
        state_root: hash(&header.ledger_root.0),
        receipts_root: zero,
        miner: data(evm::address_of(&header.author).as_slice()),
        difficulty: quantity(0u64),
        total_difficulty: quantity(0u64),
        extra_data: "0x".to_string(),
        size: quantity(0u64),
        gas_limit: quantity(CHECKPOINT_GAS_MAX),
        gas_used: quantity(gas_used),
        timestamp: quantity(header.timestamp_ms / 1_000),
        transactions,
        uncles: Vec::new(),
        base_fee_per_gas: quantity(0u64),
        mix_hash: hash(&header.generation_signature.0),
    }))
}

fn full_flag(params: &[Value]) -> bool {
    matches!(params.get(1), Some(Value::Bool(true)))
}

/// `eth_getBlockByNumber [tag or number, full]`: the active chain's checkpoint at that height
/// as a block (full transaction objects if `full`, else hashes); `null` beyond the head.
pub fn block_by_number(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let chain = node.chain();
    let height = resolve_height(chain, param_str(params, 0)?)?;
    let block = block_object(chain, height, full_flag(params))?;
    serde_json::to_value(block).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

/// `eth_getBlockByHash [hash, full]`: the checkpoint with that id as a block, `null` unless it
/// is on the active chain.
pub fn block_by_hash(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let id = parse_b256(required_str(params, 0)?)?;
    let chain = node.chain();
    let id = crate::core::hash::Hash(id.0);
    let height = chain.header(&id).map(|header| header.height);
    let block = match height {
        Some(height) if chain.active_at(height) == Some(id) => {
            block_object(chain, height, full_flag(params))?
        }
        _ => None,
    };
    serde_json::to_value(block).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

/// `eth_feeHistory [count, newest, percentiles]`: up to 1,024 blocks ending at `newest`. There
/// is no base fee (always 0) and every reward percentile is the minimum gas price.
pub fn fee_history(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let count = match params.first() {
        Some(Value::Number(number)) => number.as_u64().unwrap_or(0),
        _ => parse_u64(required_str(params, 0)?)?,
    }
    .clamp(1, FEE_HISTORY_MAX);
    let chain = node.chain();
    let newest = resolve_height(chain, param_str(params, 1)?)?.min(chain.height());
    let oldest = newest.saturating_sub(count - 1);
    let blocks = newest - oldest + 1;
    let state = chain.ledger().evm();
    let gas_used_ratio = (oldest..=newest)
        .map(|height| {
            let used = state
                .block_txs(height)
                .last()
                .and_then(|last| state.receipt(last))
                .map_or(0, |receipt| receipt.cumulative_gas_used);
            used as f64 / CHECKPOINT_GAS_MAX as f64
        })
        .collect();
    let percentiles = match params.get(2) {
        Some(Value::Array(percentiles)) => percentiles.len(),
        _ => 0,
    };
    let tip = quantity(U256::from(GAS_PRICE_MIN_WEI));
    let history = FeeHistory {
        oldest_block: quantity(oldest),
        base_fee_per_gas: vec![quantity(0u64); blocks as usize + 1],
        gas_used_ratio,
        reward: (percentiles > 0).then(|| vec![vec![tip; percentiles]; blocks as usize]),
    };
    serde_json::to_value(history).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

fn addresses_of(filter: &LogFilter) -> Result<Option<Vec<Address>>, RpcError> {
    match &filter.address {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(vec![parse_address(text)?])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => parse_address(text),
                other => Err(RpcError::params(format!("address {other} is not a string"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(RpcError::params(format!("address {other} is not a string"))),
    }
}

/// Per topic position: `None` matches anything, else any of the listed topics.
fn topics_of(filter: &LogFilter) -> Result<Vec<Option<Vec<B256>>>, RpcError> {
    let Some(topics) = &filter.topics else { return Ok(Vec::new()) };
    topics
        .iter()
        .map(|topic| match topic {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(vec![parse_b256(text)?])),
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => parse_b256(text),
                    other => Err(RpcError::params(format!("topic {other} is not a string"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            other => Err(RpcError::params(format!("topic {other} is not a string"))),
        })
        .collect()
}

/// `eth_getLogs [filter]`: the logs of executed transactions in a block range of the active
/// chain (or one block by hash) matching the filter's addresses and topics; a range over
/// [`LOG_RANGE_MAX`] heights is refused.
pub fn logs(node: &Node, params: &[Value]) -> Result<Value, RpcError> {
    let value = params.first().cloned().unwrap_or(Value::Null);
    let filter: LogFilter = serde_json::from_value(value)
        .map_err(|error| RpcError::params(format!("filter: {error}")))?;
    let chain = node.chain();
    let (from, to) = match &filter.block_hash {
        Some(text) => {
            let id = crate::core::hash::Hash(parse_b256(text)?.0);
            let height = chain
                .header(&id)
                .map(|header| header.height)
                .filter(|height| chain.active_at(*height) == Some(id))
                .ok_or_else(|| RpcError::server("unknown block hash"))?;
            (height, height)
        }
        None => (
            resolve_height(chain, filter.from_block.as_deref())?,
            resolve_height(chain, filter.to_block.as_deref())?.min(chain.height()),
        ),
    };
    if to >= from && to - from >= LOG_RANGE_MAX {
        return Err(RpcError::server(format!("block range over {LOG_RANGE_MAX} heights")));
    }
    let addresses = addresses_of(&filter)?;
    let topics = topics_of(&filter)?;
    let state = chain.ledger().evm();
    let mut found = Vec::new();
    for (height, hashes) in state.heights(from, to) {
        let block = block_hash_at(chain, height).unwrap_or_default();
        for receipt in hashes.iter().filter_map(|tx_hash| state.receipt(tx_hash)) {
            for (log, object) in receipt.logs.iter().zip(log_objects(receipt, &block)) {
                let address_ok = addresses.as_ref().is_none_or(|list| list.contains(&log.address));
                let topics_ok = topics.iter().enumerate().all(|(index, wanted)| match wanted {
                    None => true,
                    Some(any) => log.topics.get(index).is_some_and(|topic| any.contains(topic)),
                });
                if address_ok && topics_ok {
                    found.push(object);
                }
            }
        }
    }
    serde_json::to_value(found).map_err(|error| RpcError::new(code::INTERNAL, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_minimal_hex_and_parse_back() {
        assert_eq!(quantity(U256::ZERO), "0x0");
        assert_eq!(quantity(0u64), "0x0");
        assert_eq!(quantity(U256::from(255u64)), "0xff");
        assert_eq!(parse_u256("0xff"), Ok(U256::from(255u64)));
        assert!(parse_u64("ff").is_err(), "the 0x prefix is required");
        assert!(parse_u64("0x").is_err());
        assert!(parse_address("0x1234").is_err());
    }

    /// The Yellow Paper's M3:2048 by hand: the low 11 bits of each of the first three byte pairs
    /// of keccak256(item) name a bit, counted from the right of the 256-byte big-endian bloom.
    fn bits_of(item: &[u8]) -> [usize; 3] {
        let digest = revm::primitives::keccak256(item);
        std::array::from_fn(|i| {
            (usize::from(digest[2 * i]) << 8 | usize::from(digest[2 * i + 1])) & 2047
        })
    }

    #[test]
    fn a_receipts_bloom_sets_the_yellow_paper_bits_of_its_logs() {
        let address = Address::repeat_byte(0x11);
        let topics = vec![B256::repeat_byte(0x22), B256::repeat_byte(0x33)];
        let log =
            evm::ReceiptLog { address, topics: topics.clone(), data: Bytes::new(), log_index: 0 };
        let receipt = evm::Receipt {
            hash: B256::ZERO,
            height: 1,
            index: 0,
            from: Address::ZERO,
            to: None,
            contract_address: None,
            success: true,
            gas_used: 0,
            cumulative_gas_used: 0,
            effective_gas_price: 0,
            logs: vec![log],
            output: Bytes::new(),
            raw: Bytes::new(),
        };
        let bloom = receipt_bloom(&receipt);
        let mut want = [0u8; 256];
        let items = [address.as_slice(), topics[0].as_slice(), topics[1].as_slice()];
        for bit in items.iter().flat_map(|item| bits_of(item)) {
            want[255 - bit / 8] |= 1 << (bit % 8);
        }
        assert_eq!(bloom.as_slice(), &want[..]);
        assert!(bloom.contains_raw_log(address, &topics));
        assert_eq!(receipt_bloom(&evm::Receipt { logs: vec![], ..receipt }), Bloom::ZERO);
    }
}
