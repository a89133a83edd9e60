//! `BLOCKHASH` through whole nodes: a contract stores `blockhash(n)` for an earlier height, and
//! on every node the stored value is that checkpoint's id, which is what the JSON-RPC serves as
//! block `n`'s `hash` (docs/evm.md, "BLOCKHASH").
#![allow(clippy::unwrap_used)]

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Signature, TxKind as EthTxKind};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use serde_json::json;
use vein_node::api::eth_rpc::methods;
use vein_node::core::evm::{Address, B256, EvmCall, U256, account_of};
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

const GWEI: u128 = 1_000_000_000;

/// Runtime `sstore(0, blockhash(calldataload(0)))`, after an 11-byte copier.
const READER_INIT: [u8; 19] = [
    0x60, 0x08, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, // copy and return
    0x60, 0x00, 0x35, 0x40, 0x60, 0x00, 0x55, 0x00, // the runtime
];

fn sign(key: &SigningKey, nonce: u64, to: Option<Address>, input: Vec<u8>, chain: u64) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(chain),
        nonce,
        gas_price: GWEI,
        gas_limit: 200_000,
        to: to.map_or(EthTxKind::Create, EthTxKind::Call),
        value: U256::ZERO,
        input: input.into(),
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
fn a_contract_reads_blockhash_as_the_json_rpc_block_hash_on_every_node() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, _keys) = LocalNet::new(5, &[1_000, 1_000, 1_000], params, 20).unwrap();
    let wallet = SigningKey::from_bytes(&[3u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    let chain = net.nodes[0].chain().evm_chain_id();
    net.nodes[1].transfer(0, account_of(&sender), 10_000_000, 1).unwrap();
    net.run_until(8_000);
    let deploy = sign(&wallet, 0, None, READER_INIT.to_vec(), chain);
    net.nodes[0].submit(net.now_ms, evm(deploy), 1).unwrap();
    net.run_until(net.now_ms + 8_000);
    let reader = sender.create(0);
    assert!(net.nodes[0].chain().ledger().evm().code(&reader).is_some(), "deployed");
    // An earlier height of the chain every node shares by now.
    let target = net.nodes[0].chain().height() - 2;
    assert!(target >= 1);
    let call =
        sign(&wallet, 1, Some(reader), U256::from(target).to_be_bytes::<32>().to_vec(), chain);
    let hash = EvmCall::new(call.clone()).decode(chain).unwrap().hash;
    net.nodes[2].submit(net.now_ms, evm(call), 1).unwrap();
    net.run_until(net.now_ms + 20_000);

    for node in &net.nodes {
        let chain_view = node.chain();
        let receipt = chain_view.ledger().evm().receipt(&hash).cloned().unwrap();
        assert!(receipt.success);
        assert!(receipt.height > target && receipt.height - target <= 256);
        assert!(chain_view.final_height() >= receipt.height, "executed and final");
        let stored = B256::from(chain_view.ledger().evm().slot(&reader, &U256::ZERO));
        let id = chain_view.active_at(target).unwrap();
        assert_eq!(stored, B256::from(id.0));
        let header = chain_view.header(&id).unwrap();
        assert_ne!(stored, B256::from(header.generation_signature.0));
        let block =
            methods::block_by_number(node, &[json!(format!("{target:#x}")), json!(false)]).unwrap();
        assert_eq!(block["hash"], json!(format!("{stored}")));
        assert_ne!(block["mixHash"], block["hash"]);
    }
}
