//! A digest of the EVM receipts a node holds per final height, for the simulator's
//! `evm-receipts` end check (`crate::checker`). Receipts are history kept out of the ledger root,
//! so equal roots do not imply equal receipts. Its own file so that the checker and the EVM
//! workload (which reports on the run) both use it without importing each other.

use std::collections::BTreeMap;
use vein_node::core::evm::EvmState;
use vein_node::core::hash::Hash;

/// A digest of the receipts one node holds at one height, and their counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptsAt {
    /// BLAKE3 over every receipt field, in execution order.
    pub digest: Hash,
    /// Receipts at the height.
    pub executed: u64,
    /// Of those, status 0.
    pub failed: u64,
}

/// The receipts `evm` holds at heights `1..=up_to`, digested per height. Receipts are history
/// kept out of the ledger root, so equal roots do not imply equal receipts; this is what the
/// `evm-receipts` end check compares between nodes.
pub fn receipts_by_height(evm: &EvmState, up_to: u64) -> BTreeMap<u64, ReceiptsAt> {
    let mut digests = BTreeMap::new();
    for (height, hashes) in evm.heights(1, up_to) {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"vein-sim/evm-receipts");
        let mut failed = 0;
        for receipt in hashes.iter().filter_map(|hash| evm.receipt(hash)) {
            failed += u64::from(!receipt.success);
            hasher.update(receipt.hash.as_slice());
            hasher.update(&receipt.height.to_le_bytes());
            hasher.update(&receipt.index.to_le_bytes());
            hasher.update(receipt.from.as_slice());
            hasher.update(receipt.to.unwrap_or_default().as_slice());
            hasher.update(receipt.contract_address.unwrap_or_default().as_slice());
            hasher.update(&[u8::from(receipt.success)]);
            hasher.update(&receipt.gas_used.to_le_bytes());
            hasher.update(&receipt.cumulative_gas_used.to_le_bytes());
            hasher.update(&receipt.effective_gas_price.to_le_bytes());
            hasher.update(&(receipt.logs.len() as u64).to_le_bytes());
            for log in &receipt.logs {
                hasher.update(log.address.as_slice());
                hasher.update(&(log.topics.len() as u64).to_le_bytes());
                for topic in &log.topics {
                    hasher.update(topic.as_slice());
                }
                hasher.update(&(log.data.len() as u64).to_le_bytes());
                hasher.update(&log.data);
                hasher.update(&log.log_index.to_le_bytes());
            }
            hasher.update(&(receipt.output.len() as u64).to_le_bytes());
            hasher.update(&receipt.output);
        }
        let executed = hashes.len() as u64;
        digests.insert(
            height,
            ReceiptsAt { digest: Hash(*hasher.finalize().as_bytes()), executed, failed },
        );
    }
    digests
}
