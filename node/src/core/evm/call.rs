//! An Ethereum transaction as the DAG carries it (raw signed bytes) and as execution reads it
//! (decoded, sender recovered, checked against the chain id and the gas price rules).

use super::address::WEI_PER_UNIT;
use alloy_consensus::private::alloy_eips::eip2718::Decodable2718;
use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use revm::primitives::{Address, B256, Bytes, TxKind, U256};
use serde::{Deserialize, Serialize};

/// Largest raw transaction accepted (EIP-3860 caps init code at 48 KiB).
pub const EVM_TX_BYTES_MAX: usize = 64 * 1024;

/// The lowest gas price (effective, in wei) a transaction may pay: 1 gwei, one native unit.
pub const GAS_PRICE_MIN_WEI: u128 = WEI_PER_UNIT as u128;

/// The payload of `TxKind::Evm`: one Ethereum transaction in its EIP-2718 network encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvmCall {
    pub raw: Vec<u8>,
}

/// Why an Ethereum transaction is refused before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmTxError {
    #[error("raw transaction of {bytes} bytes exceeds {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("malformed Ethereum transaction: {reason}")]
    Malformed { reason: String },
    #[error("transaction type {tx_type} is not supported (legacy, 2930 and 1559 are)")]
    UnsupportedType { tx_type: u8 },
    #[error("bad signature: {reason}")]
    BadSignature { reason: String },
    #[error("legacy transaction without an EIP-155 chain id")]
    MissingChainId,
    #[error("chain id {got}, this network's is {expected}")]
    WrongChainId { got: u64, expected: u64 },
    #[error("gas price {price_wei} wei: must be at least {GAS_PRICE_MIN_WEI} and whole gwei")]
    GasPrice { price_wei: u128 },
    #[error("value {value_wei} wei is not a whole number of gwei")]
    SubGweiValue { value_wei: U256 },
}

/// A decoded, signature-checked Ethereum transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedTx {
    /// The Ethereum transaction hash (keccak256 of the raw bytes).
    pub hash: B256,
    pub sender: Address,
    pub nonce: u64,
    pub chain_id: u64,
    pub gas_limit: u64,
    /// Legacy and 2930: the gas price; 1559: the max fee per gas.
    pub max_fee_per_gas: u128,
    /// 1559 only.
    pub max_priority_fee_per_gas: Option<u128>,
    /// `None` creates a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
    /// 0 legacy, 1 EIP-2930, 2 EIP-1559.
    pub tx_type: u8,
    pub access_list: Vec<(Address, Vec<B256>)>,
    /// The signature as (v or y-parity, r, s), for the JSON-RPC's transaction objects.
    pub signature: (u64, U256, U256),
    pub raw: Bytes,
}

impl DecodedTx {
    /// The price per gas actually paid: the base fee is zero, so for 1559 the priority fee
    /// capped by the max fee.
    pub fn effective_gas_price(&self) -> u128 {
        match self.max_priority_fee_per_gas {
            Some(priority) => priority.min(self.max_fee_per_gas),
            None => self.max_fee_per_gas,
        }
    }
}

impl EvmCall {
    /// Decode, recover the sender, check the chain id and the price rules.
    pub fn decode(&self, chain_id: u64) -> Result<DecodedTx, EvmTxError> {
        if self.raw.len() > EVM_TX_BYTES_MAX {
            return Err(EvmTxError::TooLarge { bytes: self.raw.len(), limit: EVM_TX_BYTES_MAX });
        }
        let envelope = TxEnvelope::decode_2718_exact(&self.raw)
            .map_err(|error| EvmTxError::Malformed { reason: error.to_string() })?;
        let (tx_type, signature) = match &envelope {
            TxEnvelope::Legacy(signed) => {
                let signature = signed.signature();
                let v = alloy_consensus::private::alloy_primitives::Signature::v(signature);
                let parity = u64::from(v);
                let v = match signed.tx().chain_id {
                    Some(id) => parity + 35 + 2 * id,
                    None => parity + 27,
                };
                (0, (v, signature.r(), signature.s()))
            }
            TxEnvelope::Eip2930(signed) => {
                let signature = signed.signature();
                (1, (u64::from(signature.v()), signature.r(), signature.s()))
            }
            TxEnvelope::Eip1559(signed) => {
                let signature = signed.signature();
                (2, (u64::from(signature.v()), signature.r(), signature.s()))
            }
            other => return Err(EvmTxError::UnsupportedType { tx_type: other.tx_type() as u8 }),
        };
        let sender = envelope
            .recover_signer()
            .map_err(|error| EvmTxError::BadSignature { reason: error.to_string() })?;
        let got = envelope.chain_id().ok_or(EvmTxError::MissingChainId)?;
        if got != chain_id {
            return Err(EvmTxError::WrongChainId { got, expected: chain_id });
        }
        let decoded = DecodedTx {
            hash: *envelope.tx_hash(),
            sender,
            nonce: envelope.nonce(),
            chain_id: got,
            gas_limit: envelope.gas_limit(),
            max_fee_per_gas: envelope.max_fee_per_gas(),
            max_priority_fee_per_gas: envelope.max_priority_fee_per_gas(),
            to: match envelope.kind() {
                TxKind::Create => None,
                TxKind::Call(to) => Some(to),
            },
            value: envelope.value(),
            input: envelope.input().clone(),
            tx_type,
            access_list: envelope
                .access_list()
                .map(|list| {
                    list.iter().map(|item| (item.address, item.storage_keys.clone())).collect()
                })
                .unwrap_or_default(),
            signature,
            raw: Bytes::copy_from_slice(&self.raw),
        };
        // Every price must be whole gwei, or balances would leave the native unit.
        let price = decoded.effective_gas_price();
        for price_wei in [Some(decoded.max_fee_per_gas), decoded.max_priority_fee_per_gas] {
            let Some(price_wei) = price_wei else { continue };
            if price_wei % GAS_PRICE_MIN_WEI != 0 {
                return Err(EvmTxError::GasPrice { price_wei });
            }
        }
        if price < GAS_PRICE_MIN_WEI {
            return Err(EvmTxError::GasPrice { price_wei: price });
        }
        if decoded.value % U256::from(WEI_PER_UNIT) != U256::ZERO {
            return Err(EvmTxError::SubGweiValue { value_wei: decoded.value });
        }
        Ok(decoded)
    }
}
