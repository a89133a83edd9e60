//! An Ethereum transaction as the DAG carries it (raw signed bytes) and as execution reads it
//! (decoded, sender recovered, checked against the chain id and the gas price rules).

use super::address::WEI_PER_UNIT;
use super::recovery;
use super::sender;
use alloy_consensus::private::alloy_eips::eip2718::Decodable2718;
use alloy_consensus::{Transaction as _, TxEnvelope};
use revm::primitives::{Address, B256, Bytes, TxKind, U256};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Largest raw transaction accepted (EIP-3860 caps init code at 48 KiB).
pub const EVM_TX_BYTES_MAX: usize = 64 * 1024;

/// The lowest gas price (effective, in wei) a transaction may pay: 1 gwei, one native unit.
pub const GAS_PRICE_MIN_WEI: u128 = WEI_PER_UNIT as u128;

/// The payload of `TxKind::Evm`: one Ethereum transaction in its EIP-2718 network encoding.
///
/// The sender is recovered from the signature (secp256k1, the costliest step of a transfer)
/// once per copy of the call and remembered beside the bytes: the unit a node admits is the
/// one its checkpoints apply, so admission recovers and every later decode (apply, a reorg's
/// re-apply, the JSON-RPC's objects) reuses the answer. Recovery is a pure function of `raw`
/// (the hash commits to the signature), so the remembered sender is the one recovery would
/// give, and it is never serialised: a peer's bytes always arrive without one. Memory: one
/// address per call, freed with the call; there is no separate cache to bound.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvmCall {
    /// The signed transaction's EIP-2718 bytes, as a wallet sends them to
    /// `eth_sendRawTransaction` (at most `EVM_TX_BYTES_MAX`).
    pub raw: Vec<u8>,
    /// The sender recovered from `raw`, once known (see the type's comment).
    #[serde(skip)]
    sender: OnceLock<Address>,
}

/// Equal bytes are equal calls: whether the sender is remembered yet is no part of the value.
impl PartialEq for EvmCall {
    fn eq(&self, other: &EvmCall) -> bool {
        self.raw == other.raw
    }
}

impl Eq for EvmCall {}

/// Why an Ethereum transaction is refused before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmTxError {
    /// The raw bytes are longer than `EVM_TX_BYTES_MAX`.
    #[error("raw transaction of {bytes} bytes exceeds {limit}")]
    TooLarge {
        /// Length of the raw transaction, in bytes.
        bytes: usize,
        /// Longest raw transaction accepted, in bytes.
        limit: usize,
    },
    /// The bytes are not an EIP-2718 transaction envelope.
    #[error("malformed Ethereum transaction: {reason}")]
    Malformed {
        /// The decoder's error message.
        reason: String,
    },
    /// A well-formed envelope of a type other than legacy, EIP-2930 or EIP-1559 (blob and
    /// EIP-7702 transactions are refused).
    #[error("transaction type {tx_type} is not supported (legacy, 2930 and 1559 are)")]
    UnsupportedType {
        /// The EIP-2718 type byte.
        tx_type: u8,
    },
    /// The sender cannot be recovered from the signature.
    #[error("bad signature: {reason}")]
    BadSignature {
        /// The recovery error message.
        reason: String,
    },
    /// A legacy transaction signed without EIP-155 replay protection.
    #[error("legacy transaction without an EIP-155 chain id")]
    MissingChainId,
    /// The transaction was signed for another network.
    #[error("chain id {got}, this network's is {expected}")]
    WrongChainId {
        /// The chain id signed over.
        got: u64,
        /// This network's chain id (`chain_id_of`).
        expected: u64,
    },
    /// A gas price (legacy price, max fee or priority fee) that is not whole gwei, or an
    /// effective price below `GAS_PRICE_MIN_WEI`.
    #[error("gas price {price_wei} wei: must be at least {GAS_PRICE_MIN_WEI} and whole gwei")]
    GasPrice {
        /// The offending price, in wei per gas.
        price_wei: u128,
    },
    /// A value that is not a whole number of gwei (one native unit).
    #[error("value {value_wei} wei is not a whole number of gwei")]
    SubGweiValue {
        /// The value sent, in wei.
        value_wei: U256,
    },
}

/// A decoded, signature-checked Ethereum transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedTx {
    /// The Ethereum transaction hash (keccak256 of the raw bytes).
    pub hash: B256,
    /// The signer, recovered from the signature: pays the gas and the value.
    pub sender: Address,
    /// The sender's Ethereum nonce; must be its next one to execute (ahead: held).
    pub nonce: u64,
    /// The EIP-155 chain id signed over; equals the network's (`chain_id_of`).
    pub chain_id: u64,
    /// Most gas the transaction may use; the gas fee is at most this times the price.
    pub gas_limit: u64,
    /// Legacy and 2930: the gas price; 1559: the max fee per gas.
    pub max_fee_per_gas: u128,
    /// 1559 only.
    pub max_priority_fee_per_gas: Option<u128>,
    /// `None` creates a contract.
    pub to: Option<Address>,
    /// Wei sent with the call (a whole number of gwei).
    pub value: U256,
    /// Call data, or the init code of a contract creation.
    pub input: Bytes,
    /// 0 legacy, 1 EIP-2930, 2 EIP-1559.
    pub tx_type: u8,
    /// EIP-2930 access list: addresses and the slots pre-warmed for each (empty for legacy).
    pub access_list: Vec<(Address, Vec<B256>)>,
    /// The signature as (v or y-parity, r, s), for the JSON-RPC's transaction objects.
    pub signature: (u64, U256, U256),
    /// The raw bytes the transaction was decoded from (`EvmCall::raw`).
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
    /// A call of `raw`, its sender not recovered yet.
    pub fn new(raw: Vec<u8>) -> EvmCall {
        EvmCall { raw, sender: OnceLock::new() }
    }

    /// A call of `raw` whose sender `sender` was recovered from these very bytes before (the
    /// key a held transaction is stored under, a receipt's `from`): decoding it skips the
    /// recovery. Crate-private: a wrong `sender` would be believed.
    pub(crate) fn recovered(raw: Vec<u8>, sender: Address) -> EvmCall {
        EvmCall { raw, sender: OnceLock::from(sender) }
    }

    /// The sender of `envelope` (the decoding of `self.raw`): the remembered one, or recovered
    /// from the signature and remembered.
    fn sender_of(&self, envelope: &TxEnvelope) -> Result<Address, EvmTxError> {
        if let Some(sender) = self.sender.get() {
            recovery::count_reused();
            return Ok(*sender);
        }
        recovery::count_recovered();
        let sender = sender::sender_of(envelope)
            .ok_or(EvmTxError::UnsupportedType { tx_type: envelope.tx_type() as u8 })?
            .map_err(|error| EvmTxError::BadSignature { reason: error.to_string() })?;
        Ok(*self.sender.get_or_init(|| sender))
    }

    /// Decode, recover the sender (once per call: see the type's comment), check the chain id
    /// and the price rules.
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
        let sender = self.sender_of(&envelope)?;
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
