//! A minimal Ethereum JSON-RPC client over `POST /rpc` (docs/evm.md): the calls a deployment
//! needs (`eth_chainId`, `eth_getTransactionCount`, `eth_sendRawTransaction`,
//! `eth_getTransactionReceipt`, `eth_getCode`, `eth_call`) and [`Client::rpc`] for the rest.
//! Transactions are signed by the caller's Ethereum wallet (any secp256k1 signer producing
//! EIP-2718 bytes); the node holds no Ethereum keys. An EVM address is funded by a native
//! transfer to its account (`vein_node::core::evm::account_of`; one native unit is 1 gwei).
//!
//! The node's own JSON-RPC types (`vein_node::api::eth_rpc::types`) live behind its
//! `tokio-runtime` feature with the server; [`EthReceipt`] reads the receipt fields a client
//! acts on, by the same names, and ignores the rest.

use crate::client::Client;
use crate::error::SdkError;
use crate::http::{self, HttpError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One JSON-RPC 2.0 request.
#[derive(Serialize)]
struct RpcRequest<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: &'a [Value],
}

/// The call object of `eth_call` (the node's `CallObject`, the fields sent here).
#[derive(Serialize)]
struct CallRequest {
    to: String,
    data: String,
}

/// A JSON-RPC error object.
#[derive(Deserialize)]
struct RpcErrorBody {
    code: i64,
    message: String,
}

/// A JSON-RPC answer: `result` or `error`.
#[derive(Deserialize)]
struct RpcAnswer {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcErrorBody>,
}

/// The fields of a transaction receipt (`eth_getTransactionReceipt`) a client acts on.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EthReceipt {
    /// Hash of the Ethereum transaction.
    pub transaction_hash: String,
    /// Height of the checkpoint that executed it (quantity).
    pub block_number: String,
    /// The sender recovered from the signature.
    pub from: String,
    /// The callee; null for a contract creation.
    pub to: Option<String>,
    /// The contract a creation deployed; null for a call.
    pub contract_address: Option<String>,
    /// Gas this transaction used (quantity).
    pub gas_used: String,
    /// `0x1` success, `0x0` revert or halt.
    pub status: String,
}

impl EthReceipt {
    /// Whether the execution succeeded (`status` `0x1`).
    pub fn succeeded(&self) -> bool {
        self.status == "0x1"
    }
}

/// A JSON-RPC quantity (`0x` hex) as a number.
pub fn quantity(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

impl Client {
    /// Call JSON-RPC `method` with positional `params`; the result parsed as `R`.
    pub fn rpc<R: DeserializeOwned>(&self, method: &str, params: &[Value]) -> Result<R, SdkError> {
        let request = RpcRequest { jsonrpc: "2.0", id: 1, method, params };
        let answer: RpcAnswer = http::post(self.addr(), "/rpc", &request)?;
        if let Some(error) = answer.error {
            return Err(SdkError::Rpc {
                method: method.into(),
                code: error.code,
                message: error.message,
            });
        }
        let result = answer.result.unwrap_or(Value::Null);
        serde_json::from_value(result.clone()).map_err(|error| {
            SdkError::Http(HttpError::NotJson {
                addr: self.addr(),
                path: format!("/rpc {method}"),
                reason: error.to_string(),
                body: result.to_string(),
            })
        })
    }

    /// `eth_chainId`: the chain id Ethereum transactions must be signed for (EIP-155).
    pub fn eth_chain_id(&self) -> Result<u64, SdkError> {
        let text: String = self.rpc("eth_chainId", &[])?;
        quantity(&text).ok_or_else(|| bad_quantity("eth_chainId", &text))
    }

    /// `eth_getTransactionCount(address, "pending")`: the nonce the next transaction takes.
    pub fn eth_nonce(&self, address: &str) -> Result<u64, SdkError> {
        let params = [Value::from(address), Value::from("pending")];
        let text: String = self.rpc("eth_getTransactionCount", &params)?;
        quantity(&text).ok_or_else(|| bad_quantity("eth_getTransactionCount", &text))
    }

    /// `eth_sendRawTransaction`: the hash of the signed EIP-2718 transaction `raw`.
    pub fn eth_send_raw_transaction(&self, raw: &[u8]) -> Result<String, SdkError> {
        let params = [Value::from(format!("0x{}", hex::encode(raw)))];
        self.rpc("eth_sendRawTransaction", &params)
    }

    /// `eth_getTransactionReceipt`: `None` until a checkpoint executed the transaction.
    pub fn eth_receipt(&self, hash: &str) -> Result<Option<EthReceipt>, SdkError> {
        self.rpc("eth_getTransactionReceipt", &[Value::from(hash)])
    }

    /// Poll [`Client::eth_receipt`] until the transaction is executed, at most `timeout`.
    #[allow(clippy::disallowed_methods)] // a client's wait on the wall clock, bounded
    pub fn eth_wait_receipt(&self, hash: &str, timeout: Duration) -> Result<EthReceipt, SdkError> {
        let started = Instant::now();
        loop {
            if let Some(receipt) = self.eth_receipt(hash)? {
                return Ok(receipt);
            }
            if started.elapsed() + crate::client::WAIT_POLL > timeout {
                return Err(SdkError::Timeout {
                    what: format!("the receipt of {hash}"),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(crate::client::WAIT_POLL);
        }
    }

    /// `eth_getCode(address, "latest")`: the deployed code (empty for no contract).
    pub fn eth_code(&self, address: &str) -> Result<Vec<u8>, SdkError> {
        let text: String = self.rpc("eth_getCode", &[Value::from(address), "latest".into()])?;
        decode_data("eth_getCode", &text)
    }

    /// `eth_call({to, data}, "latest")`: what the call returns, executed without a transaction.
    pub fn eth_call(&self, to: &str, data: &[u8]) -> Result<Vec<u8>, SdkError> {
        let call = CallRequest { to: to.into(), data: format!("0x{}", hex::encode(data)) };
        let call = serde_json::to_value(call)
            .map_err(|error| SdkError::Build { what: "eth_call", reason: error.to_string() })?;
        let text: String = self.rpc("eth_call", &[call, "latest".into()])?;
        decode_data("eth_call", &text)
    }
}

fn bad_quantity(method: &str, text: &str) -> SdkError {
    SdkError::BadAnswer {
        route: format!("/rpc {method}"),
        what: "a quantity",
        reason: format!("{text:?} is not 0x hex"),
    }
}

fn decode_data(method: &str, text: &str) -> Result<Vec<u8>, SdkError> {
    text.strip_prefix("0x").and_then(|digits| hex::decode(digits).ok()).ok_or_else(|| {
        SdkError::BadAnswer {
            route: format!("/rpc {method}"),
            what: "data",
            reason: format!("{text:?} is not 0x hex"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_data_are_0x_hex() {
        assert_eq!(quantity("0x0"), Some(0));
        assert_eq!(quantity("0x6c3b1ed"), Some(0x6c3b1ed));
        assert_eq!(quantity("12"), None);
        assert_eq!(quantity("0xg"), None);
        assert_eq!(decode_data("eth_call", "0x00ff").unwrap(), vec![0, 255]);
        assert_eq!(decode_data("eth_getCode", "0x").unwrap(), Vec::<u8>::new());
        assert!(decode_data("eth_call", "00ff").is_err());
    }
}
