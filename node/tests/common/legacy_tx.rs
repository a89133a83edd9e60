//! An Ethereum wallet's plain value transfer, signed: what the EVM tests feed a node as the raw
//! bytes of `eth_sendRawTransaction`. Included by path where a test needs it.

// A failed unwrap is a test failure.
#![allow(clippy::unwrap_used)]

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::Signature;
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use vein_node::core::evm::{Address, U256};

/// One gwei in wei.
pub const GWEI: u128 = 1_000_000_000;

/// A legacy (EIP-155) transfer of 1 gwei to `to` at `nonce`, 21,000 gas at 1 gwei, signed by
/// `key`, in its 2718 encoding.
pub fn sign(key: &SigningKey, nonce: u64, to: Address, chain_id: u64) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: GWEI,
        gas_limit: 21_000,
        to: alloy_consensus::private::alloy_primitives::TxKind::Call(to),
        value: U256::from(GWEI),
        input: Default::default(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}
