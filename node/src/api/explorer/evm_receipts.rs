//! `GET /evm/receipts?limit=N`: the newest executed Ethereum transactions and how many contracts
//! are deployed, for the explorer's Contracts panel. The EVM state keeps receipts by height
//! (history, outside the ledger root); the newest heights are read first and the walk stops
//! after `limit` receipts or [`HEIGHTS_SCANNED_MAX`] heights, so one request's work is bounded
//! however long the chain.

use crate::api::{ApiResult, ApiState, inspect, list_limit};
use crate::api_types::{EvmReceiptRow, EvmReceipts};
use crate::core::evm::{Address, B256};
use axum::Json;
use axum::extract::{RawQuery, State};
use revm::primitives::KECCAK_EMPTY;

/// Heights below the head searched for receipts.
const HEIGHTS_SCANNED_MAX: u64 = 100_000;

/// An address as Ethereum clients write it, lowercase.
pub(crate) fn address_hex(address: &Address) -> String {
    format!("0x{}", hex::encode(address.as_slice()))
}

fn hash_hex(hash: &B256) -> String {
    format!("0x{}", hex::encode(hash.as_slice()))
}

pub(crate) async fn receipts(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<EvmReceipts> {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| {
        let evm = node.chain().ledger().evm();
        let head = node.chain().height();
        let heights: Vec<(u64, &[B256])> =
            evm.heights(head.saturating_sub(HEIGHTS_SCANNED_MAX), head).collect();
        let receipts = heights
            .iter()
            .rev()
            .flat_map(|(_, hashes)| hashes.iter().rev())
            .filter_map(|hash| evm.receipt(hash))
            .take(limit)
            .map(|receipt| EvmReceiptRow {
                hash: hash_hex(&receipt.hash),
                height: receipt.height,
                index: receipt.index,
                from: address_hex(&receipt.from),
                to: receipt.to.as_ref().map(address_hex),
                contract_address: receipt.contract_address.as_ref().map(address_hex),
                success: receipt.success,
                gas_used: receipt.gas_used,
                logs: receipt.logs.len() as u64,
            })
            .collect();
        let contracts =
            evm.accounts().filter(|(_, account)| account.code_hash != KECCAK_EMPTY).count();
        Json(EvmReceipts { contracts: contracts as u64, receipts })
    })
    .await
}
