//! The Ethereum JSON-RPC on `POST /rpc` (docs/evm.md): JSON-RPC 2.0, single requests and
//! batches (ethers batches by default), typed in [`types`]. Reads are answered from the core
//! between two driver steps; `eth_sendRawTransaction` wraps the raw transaction in a carrier
//! (`TxKind::Evm`) signed by this node, which pays its vein fee.
//!
//! Open, like the other pre-signed routes: a wallet cannot send a bearer token, and the
//! Ethereum signature is the authorisation. The node's cost is one vein fee per transaction
//! that passes admission (decodes, right chain id, unused nonce); docs/evm.md discusses it.

pub mod history;
pub mod methods;
pub mod types;

use super::{ApiState, inspect};
use crate::core::evm::{Address, B256, EvmCall, EvmTxError, chain_id_of};
use crate::core::node::RejectReason;
use crate::core::transaction::TxKind;
use axum::body::Bytes as Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use methods::{data, parse_address, parse_b256, parse_bytes, quantity, required_str};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use types::{RpcError, code};

/// Requests one batch may hold.
const BATCH_MAX: usize = 1_000;
/// Transactions sent through this node remembered until executed (for `pending` nonces and
/// `eth_getTransactionByHash` before execution).
const SENT_MAX: usize = 65_536;

/// Ethereum transactions this node wrapped and that have not executed yet, by sender and nonce.
#[derive(Default)]
pub struct SentTxs {
    by_sender: BTreeMap<(Address, u64), B256>,
    /// The calls by Ethereum hash, their senders remembered (decoding them never recovers).
    calls: BTreeMap<B256, EvmCall>,
}

/// The [`SentTxs`] table shared by every `/rpc` request ([`crate::api::ApiState::eth_sent`]).
pub type SharedSentTxs = Arc<Mutex<SentTxs>>;

impl SentTxs {
    fn insert(&mut self, sender: Address, nonce: u64, hash: B256, call: EvmCall) {
        if self.calls.len() >= SENT_MAX {
            // A bound, not a correctness matter: forgetting an entry only makes `pending`
            // nonces and pending lookups less complete. The lowest key goes first.
            if let Some((_, old)) = self.by_sender.pop_first() {
                self.calls.remove(&old);
            }
        }
        self.by_sender.insert((sender, nonce), hash);
        self.calls.insert(hash, call);
    }

    /// Drop what `sender` sent below its confirmed nonce `next`.
    fn prune(&mut self, sender: &Address, next: u64) {
        let done: Vec<(Address, u64)> =
            self.by_sender.range((*sender, 0)..(*sender, next)).map(|(key, _)| *key).collect();
        for key in done {
            if let Some(hash) = self.by_sender.remove(&key) {
                self.calls.remove(&hash);
            }
        }
    }
}

/// `POST /rpc`.
pub(super) async fn rpc(State(state): State<ApiState>, body: Body) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let answer = match parsed {
        Err(error) => serde_json::to_value(failure(
            Value::Null,
            RpcError::new(code::PARSE_ERROR, error.to_string()),
        )),
        Ok(Value::Array(items)) if items.is_empty() || items.len() > BATCH_MAX => {
            let error = RpcError::new(code::INVALID_REQUEST, "a batch holds 1 to 1,000 requests");
            serde_json::to_value(failure(Value::Null, error))
        }
        Ok(Value::Array(items)) => {
            let mut answers = Vec::with_capacity(items.len());
            for item in items {
                answers.push(one(&state, item).await);
            }
            serde_json::to_value(answers)
        }
        Ok(item) => serde_json::to_value(one(&state, item).await),
    };
    let text = answer.map_or_else(|_| "null".to_string(), |value| value.to_string());
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn failure(id: Value, error: RpcError) -> types::Response {
    types::Response { jsonrpc: "2.0", id, result: None, error: Some(error) }
}

async fn one(state: &ApiState, item: Value) -> types::Response {
    let request: types::Request = match serde_json::from_value(item) {
        Ok(request) => request,
        Err(error) => {
            return failure(Value::Null, RpcError::new(code::INVALID_REQUEST, error.to_string()));
        }
    };
    let id = request.id.clone().unwrap_or(Value::Null);
    let params = match request.params {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(params)) => params,
        Some(_) => return failure(id, RpcError::params("params must be an array")),
    };
    match dispatch(state, &request.method, params).await {
        Ok(result) => types::Response { jsonrpc: "2.0", id, result: Some(result), error: None },
        Err(error) => failure(id, error),
    }
}

/// Run a read on the core.
async fn read(
    state: &ApiState,
    params: Vec<Value>,
    method: fn(&crate::core::node::Node, &[Value]) -> Result<Value, RpcError>,
) -> Result<Value, RpcError> {
    inspect(state, move |node| method(node, &params))
        .await
        .map_err(|_| RpcError::new(code::INTERNAL, "the node is shutting down"))?
}

async fn dispatch(state: &ApiState, method: &str, params: Vec<Value>) -> Result<Value, RpcError> {
    match method {
        "eth_chainId" => chain_id(state).await.map(|id| Value::String(quantity(id))),
        "net_version" => chain_id(state).await.map(|id| Value::String(id.to_string())),
        "web3_clientVersion" => Ok(Value::String(format!("vein/{}", env!("CARGO_PKG_VERSION")))),
        "eth_syncing" => Ok(Value::Bool(false)),
        "eth_accounts" => Ok(Value::Array(Vec::new())),
        "eth_blockNumber" => inspect(state, |node| node.chain().height())
            .await
            .map(|height| Value::String(quantity(height)))
            .map_err(|_| RpcError::new(code::INTERNAL, "the node is shutting down")),
        "eth_gasPrice" | "eth_maxPriorityFeePerGas" => Ok(Value::String(quantity(
            crate::core::evm::U256::from(crate::core::evm::GAS_PRICE_MIN_WEI),
        ))),
        "eth_getBalance" => read(state, params, methods::balance).await,
        "eth_getCode" => read(state, params, methods::code).await,
        "eth_getStorageAt" => read(state, params, methods::storage_at).await,
        "eth_call" => read(state, params, methods::call).await,
        "eth_estimateGas" => read(state, params, methods::estimate_gas).await,
        "eth_getBlockByNumber" => read(state, params, methods::block_by_number).await,
        "eth_getBlockByHash" => read(state, params, methods::block_by_hash).await,
        "eth_feeHistory" => read(state, params, methods::fee_history).await,
        "eth_getTransactionReceipt" => read(state, params, methods::receipt).await,
        "eth_getLogs" => read(state, params, methods::logs).await,
        "eth_getTransactionCount" => transaction_count(state, params).await,
        "eth_getTransactionByHash" => transaction_by_hash(state, params).await,
        "eth_sendRawTransaction" => send_raw_transaction(state, params).await,
        other => {
            Err(RpcError::new(code::METHOD_NOT_FOUND, format!("method {other} not supported")))
        }
    }
}

async fn chain_id(state: &ApiState) -> Result<u64, RpcError> {
    inspect(state, |node| node.chain().evm_chain_id())
        .await
        .map_err(|_| RpcError::new(code::INTERNAL, "the node is shutting down"))
}

async fn transaction_count(state: &ApiState, params: Vec<Value>) -> Result<Value, RpcError> {
    let address = parse_address(required_str(&params, 0)?)?;
    let pending = methods::param_str(&params, 1)? == Some("pending");
    if !pending {
        return read(state, params, methods::transaction_count_at).await;
    }
    let sent = state.eth_sent.clone();
    let count = inspect(state, move |node| {
        let confirmed = node.chain().ledger().evm().nonce(&address);
        let mut sent = sent.lock().map_err(|_| RpcError::new(code::INTERNAL, "lock poisoned"))?;
        sent.prune(&address, confirmed);
        let above = |nonce: u64| sent.by_sender.contains_key(&(address, nonce));
        Ok(methods::transaction_count(node, &address, pending, &above))
    })
    .await
    .map_err(|_| RpcError::new(code::INTERNAL, "the node is shutting down"))??;
    Ok(Value::String(quantity(count)))
}

async fn transaction_by_hash(state: &ApiState, params: Vec<Value>) -> Result<Value, RpcError> {
    let tx_hash = parse_b256(required_str(&params, 0)?)?;
    let sent = state.eth_sent.lock().ok().and_then(|sent| sent.calls.get(&tx_hash).cloned());
    inspect(state, move |node| methods::transaction_by_hash(node, &tx_hash, sent))
        .await
        .map_err(|_| RpcError::new(code::INTERNAL, "the node is shutting down"))?
}

fn refused(reason: &RejectReason) -> RpcError {
    match reason {
        RejectReason::Evm(EvmTxError::Malformed { .. } | EvmTxError::TooLarge { .. }) => {
            RpcError::params(reason.to_string())
        }
        RejectReason::EvmNonceUsed { .. } => RpcError::server(format!("nonce too low: {reason}")),
        _ => RpcError::server(reason.to_string()),
    }
}

/// Wrap the raw transaction in a carrier signed by this node and submit it. Admission decodes
/// it, checks chain id and nonce; the answer is the Ethereum hash.
///
/// The sender is recovered here, on the API's thread, before the carrier reaches the driver:
/// the call remembers it, so admission and apply on the driver's thread reuse it.
async fn send_raw_transaction(state: &ApiState, params: Vec<Value>) -> Result<Value, RpcError> {
    let raw = parse_bytes(required_str(&params, 0)?)?;
    let call = EvmCall::new(raw);
    let tx = call
        .decode(chain_id_of(&state.chain_id))
        .map_err(|error| refused(&RejectReason::from(error)))?;
    let sent_call = call.clone();
    let now_ms = crate::runtime::Clock::now_ms(&crate::runtime::tokio_impl::TokioClock);
    let result = state
        .handle
        .operate(move |node| {
            let fee = node.chain().params().fee_min;
            node.submit(now_ms, TxKind::Evm(Box::new(call)), fee).map(|_| ())
        })
        .await
        .ok_or_else(|| RpcError::new(code::INTERNAL, "the node is shutting down"))?;
    result.map_err(|reason| refused(&reason))?;
    if let Ok(mut sent) = state.eth_sent.lock() {
        sent.insert(tx.sender, tx.nonce, tx.hash, sent_call);
    }
    Ok(Value::String(data(tx.hash.as_slice())))
}
