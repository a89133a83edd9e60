//! Ethereum transactions through whole nodes: admission refuses a foreign chain id and a
//! tampered signature; carriers gossip, checkpoints execute them, and a wallet's nonces given
//! in reverse order both execute, with the same ledger root (contract state included) and the
//! same receipts on every node at every final height.
#![allow(clippy::unwrap_used)]

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::Signature;
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use vein_node::core::evm::{Address, EvmCall, EvmTxError, U256, account_of};
use vein_node::core::node::RejectReason;
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

const GWEI: u128 = 1_000_000_000;

fn sign(key: &SigningKey, nonce: u64, to: Address, value_gwei: u128, chain_id: u64) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: GWEI,
        gas_limit: 21_000,
        to: alloy_consensus::private::alloy_primitives::TxKind::Call(to),
        value: U256::from(value_gwei * GWEI),
        input: Default::default(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

fn evm(raw: Vec<u8>) -> TxKind {
    TxKind::Evm(Box::new(EvmCall::new(raw)))
}

#[test]
fn nodes_execute_a_wallets_reversed_nonces_and_agree_on_root_and_receipts() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, _keys) = LocalNet::new(11, &[1_000, 1_000, 1_000], params, 20).unwrap();
    let wallet = SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    let chain_id = net.nodes[0].chain().evm_chain_id();
    let to = Address::repeat_byte(0x42);

    // Admission: a foreign chain id and a tampered signature never enter the DAG.
    let foreign = sign(&wallet, 0, to, 1, chain_id + 1);
    let refused = net.nodes[0].submit(0, evm(foreign), 1).unwrap_err();
    assert!(matches!(refused, RejectReason::Evm(EvmTxError::WrongChainId { .. })), "{refused}");
    let mut tampered = sign(&wallet, 0, to, 1, chain_id);
    let at = tampered.len() - 40; // inside r
    tampered[at] ^= 1;
    match net.nodes[0].submit(0, evm(tampered), 1) {
        Err(RejectReason::Evm(EvmTxError::BadSignature { .. })) => {}
        // A changed r may still recover, to another sender with no funds and nonce 0: it is
        // admitted as a transaction of that sender, never of the wallet.
        Ok(unit) => {
            let TxKind::Evm(call) = &unit.tx.body.kind else { unreachable!() };
            assert_ne!(call.decode(chain_id).unwrap().sender, sender);
        }
        Err(other) => panic!("unexpected refusal {other}"),
    }

    // Fund the wallet's address with a native transfer, then its nonces 1 and 0, reversed.
    net.nodes[1].transfer(0, account_of(&sender), 1_000_000, 1).unwrap();
    net.run_until(10_000);
    assert_eq!(net.nodes[2].chain().ledger().balance(&account_of(&sender)), 1_000_000);
    let second = sign(&wallet, 1, to, 7, chain_id);
    let first = sign(&wallet, 0, to, 5, chain_id);
    net.nodes[0].submit(net.now_ms, evm(second.clone()), 1).unwrap();
    net.run_until(net.now_ms + 3_000);
    net.nodes[2].submit(net.now_ms, evm(first.clone()), 1).unwrap();
    net.run_until(net.now_ms + 30_000);

    for node in &net.nodes {
        let ledger = node.chain().ledger();
        assert_eq!(ledger.balance(&account_of(&to)), 12);
        assert_eq!(ledger.evm().nonce(&sender), 2);
        let receipts: Vec<_> = [&first, &second]
            .iter()
            .map(|raw| {
                let hash = EvmCall::new(raw.to_vec()).decode(chain_id).unwrap().hash;
                ledger.evm().receipt(&hash).cloned().unwrap()
            })
            .collect();
        assert!(receipts.iter().all(|receipt| receipt.success));
        // Nonce order, whatever order the carriers arrived in.
        assert!((receipts[0].height, receipts[0].index) < (receipts[1].height, receipts[1].index));
        assert!(node.chain().final_height() > receipts[1].height, "executed and final");
    }
    // The same final checkpoints everywhere, hence the same ledger roots (contract state
    // included: a node that executed differently would have refused them).
    let common = net.nodes.iter().map(|n| n.chain().final_height()).min().unwrap();
    let root_at = |node: &vein_node::core::node::Node, height: u64| {
        let chain = node.chain();
        chain.header(&chain.active_at(height).unwrap()).unwrap().ledger_root
    };
    for height in 1..=common {
        let ids: Vec<_> =
            net.finals.iter().filter_map(|by_height| by_height.get(&height)).collect();
        assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "height {height}");
    }
    let roots: Vec<_> = net.nodes.iter().map(|node| root_at(node, common)).collect();
    assert!(roots.windows(2).all(|pair| pair[0] == pair[1]));
}
