//! Each node recovers an Ethereum transaction's sender from its signature once: admission
//! recovers it and the call remembers it, so applying the carrier (and re-applying it after a
//! reorganisation, or running it after a nonce hold) reuses the answer.
//!
//! The counters are process-wide (`SenderRecoveries`), so this binary holds this one test: no
//! other test decodes Ethereum transactions in the process meanwhile.
#![allow(clippy::unwrap_used)]

use alloy_consensus::private::alloy_primitives::keccak256;
use k256::ecdsa::SigningKey;
use vein_node::core::evm::{Address, EvmCall, SenderRecoveries, account_of};
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

#[path = "common/legacy_tx.rs"]
mod legacy_tx;
use legacy_tx::sign;

#[test]
fn every_node_recovers_each_sender_once_from_admission_to_final_execution() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, _keys) = LocalNet::new(17, &[1_000, 1_000, 1_000], params, 20).unwrap();
    let wallet = SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    let chain_id = net.nodes[0].chain().evm_chain_id();
    let to = Address::repeat_byte(0x24);
    net.nodes[1].transfer(0, account_of(&sender), 1_000_000, 1).unwrap();
    net.run_until(10_000);

    let before = SenderRecoveries::now();
    // Nonce 1 first: every node holds it until nonce 0 executes, then runs it from the hold.
    let (first, second) = (sign(&wallet, 0, to, chain_id), sign(&wallet, 1, to, chain_id));
    let hashes = [keccak256(&first), keccak256(&second)];
    net.nodes[0].submit(net.now_ms, TxKind::Evm(Box::new(EvmCall::new(second))), 1).unwrap();
    net.run_until(net.now_ms + 3_000);
    net.nodes[2].submit(net.now_ms, TxKind::Evm(Box::new(EvmCall::new(first))), 1).unwrap();
    net.run_until(net.now_ms + 30_000);
    let after = SenderRecoveries::now();

    for node in &net.nodes {
        let ledger = node.chain().ledger();
        assert_eq!(ledger.evm().nonce(&sender), 2, "both executed");
        assert_eq!(ledger.balance(&account_of(&to)), 2);
        for hash in &hashes {
            let receipt = ledger.evm().receipt(hash).unwrap();
            assert!(receipt.success);
            assert!(node.chain().final_height() >= receipt.height, "executed and final");
        }
    }
    let nodes = net.nodes.len() as u64;
    // Two transactions, each recovered by each node's admission and never again.
    assert_eq!(after.recovered - before.recovered, 2 * nodes);
    // Each node applied both at least once and decoded the held one again to run it.
    assert!(after.reused - before.reused >= 3 * nodes, "{before:?} -> {after:?}");
}
