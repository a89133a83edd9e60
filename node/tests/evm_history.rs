//! The history the Ethereum JSON-RPC serves (docs/evm.md, "Historical state" and "Receipt
//! pruning"), through the method handlers on LocalNet nodes: state reads at a block number
//! below the head answer that height's state (a balance before a transfer, code before a
//! deployment, a slot and an `eth_call` before a write, nonces), a height outside the window is
//! the -32000 error naming the window, and receipts of final heights beyond the kept window
//! answer null.
#![allow(clippy::unwrap_used)]

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Signature, TxKind as EthTxKind};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use serde_json::{Value, json};
use vein_node::api::eth_rpc::history::HISTORY_HEIGHTS_MAX;
use vein_node::api::eth_rpc::methods;
use vein_node::api::eth_rpc::types::{RpcError, code};
use vein_node::core::evm::{Address, B256, EvmCall, U256, account_of};
use vein_node::core::node::Node;
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

const GWEI: u128 = 1_000_000_000;

/// Runtime: with calldata, `sstore(0, calldataload(0))`; without, return `sload(0)`.
const RUNTIME: [u8; 24] = [
    0x36, 0x15, 0x60, 0x0c, 0x57, // jump to the getter when there is no calldata
    0x60, 0x00, 0x35, 0x60, 0x00, 0x55, 0x00, // the setter
    0x5b, 0x60, 0x00, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3, // the getter
];

fn init_code() -> Vec<u8> {
    let mut code = vec![0x60, 0x18, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(&RUNTIME);
    code
}

fn sign(key: &SigningKey, nonce: u64, to: Option<Address>, value: U256, input: Vec<u8>) -> TxKind {
    let tx = TxLegacy {
        chain_id: Some(vein_node::core::evm::chain_id_of("localnet")),
        nonce,
        gas_price: GWEI,
        gas_limit: 200_000,
        to: to.map_or(EthTxKind::Create, EthTxKind::Call),
        value,
        input: input.into(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
    TxKind::Evm(Box::new(EvmCall::new(raw)))
}

fn word(value: u64) -> String {
    format!("0x{}", hex::encode(U256::from(value).to_be_bytes::<32>()))
}

fn at(height: u64) -> Value {
    json!(format!("{height:#x}"))
}

type Method = fn(&Node, &[Value]) -> Result<Value, RpcError>;

fn ask(node: &Node, method: Method, params: &[Value]) -> Value {
    method(node, params).unwrap()
}

#[test]
fn state_reads_at_an_earlier_height_answer_that_heights_state() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, _keys) = LocalNet::new(7, &[1_000, 1_000, 1_000], params, 20).unwrap();
    let wallet = SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    let recipient = Address::repeat_byte(0x42);
    net.nodes[1].transfer(0, account_of(&sender), 10_000_000, 1).unwrap();
    net.run_until(8_000);
    let contract = sender.create(0);
    let funded = net.nodes[0].chain().height();
    let deploy = sign(&wallet, 0, None, U256::ZERO, init_code());
    net.nodes[0].submit(net.now_ms, deploy, 1).unwrap();
    net.run_until(net.now_ms + 8_000);
    let deployed = net.nodes[0].chain().height();
    assert!(net.nodes[0].chain().ledger().evm().code(&contract).is_some(), "deployed by now");
    let set = sign(&wallet, 1, Some(contract), U256::ZERO, U256::from(7).to_be_bytes_vec());
    let pay = sign(&wallet, 2, Some(recipient), U256::from(5 * GWEI), Vec::new());
    net.nodes[0].submit(net.now_ms, set, 1).unwrap();
    net.nodes[0].submit(net.now_ms, pay, 1).unwrap();
    net.run_until(net.now_ms + 10_000);

    let node = &net.nodes[2];
    let head = node.chain().height();
    assert!(head - funded < HISTORY_HEIGHTS_MAX, "every height read is in the window");
    let (contract_hex, recipient_hex) =
        (json!(format!("{contract}")), json!(format!("{recipient}")));
    let sender_hex = json!(format!("{sender}"));
    // The balance: nothing at `deployed`, the transfer at the head.
    let wei = |height: Value| ask(node, methods::balance, &[recipient_hex.clone(), height]);
    assert_eq!(wei(at(deployed)), json!("0x0"));
    assert_eq!(wei(json!("latest")), json!(format!("{:#x}", 5 * GWEI)));
    assert_eq!(wei(at(head)), wei(json!("latest")));
    // The sender's balance shrank by the transfer and the gas since it was funded.
    let paid = |height: Value| ask(node, methods::balance, &[sender_hex.clone(), height]);
    assert_eq!(paid(at(funded)), json!(format!("{:#x}", 10_000_000 * GWEI)));
    assert_ne!(paid(at(funded)), paid(json!("latest")));
    // Code: none before the deployment.
    let code = |height: Value| ask(node, methods::code, &[contract_hex.clone(), height]);
    assert_eq!(code(at(funded)), json!("0x"));
    assert_eq!(code(json!("latest")), json!(format!("0x{}", hex::encode(RUNTIME))));
    // A slot and a call: 0 before the write, 7 after.
    let slot = |height: Value| {
        ask(node, methods::storage_at, &[contract_hex.clone(), json!("0x0"), height])
    };
    assert_eq!(slot(at(deployed)), json!(word(0)));
    assert_eq!(slot(json!("latest")), json!(word(7)));
    let call = |height: Value| ask(node, methods::call, &[json!({"to": contract_hex}), height]);
    assert_eq!(call(at(deployed)), json!(word(0)));
    assert_eq!(call(json!("latest")), json!(word(7)));
    assert_eq!(call(at(funded)), json!("0x"), "no code yet: the call returns nothing");
    // Nonces.
    let nonce =
        |height: Value| ask(node, methods::transaction_count_at, &[sender_hex.clone(), height]);
    assert_eq!(nonce(at(funded)), json!("0x0"));
    assert_eq!(nonce(at(deployed)), json!("0x1"));
    assert_eq!(nonce(json!("latest")), json!("0x3"));
    // Above the head: no such block.
    let error = methods::balance(node, &[recipient_hex, at(head + 1)]).unwrap_err();
    assert_eq!(error.code, code::SERVER);
    assert!(error.message.contains("header not found"), "{}", error.message);
}

#[test]
fn a_height_outside_the_window_is_refused_naming_the_window() {
    // A small reorg limit: the chain keeps few undo logs, so the window is short.
    let params = Params {
        target_interval_ms: 1_000,
        finality_depth: 3,
        reorg_limit: 6,
        ..Params::default()
    };
    let (mut net, _keys) = LocalNet::new(9, &[1_000, 1_000], params, 20).unwrap();
    net.run_until(30_000);
    let node = &net.nodes[0];
    let head = node.chain().height();
    assert!(head > 12, "head {head}");
    let address = json!(format!("{}", Address::repeat_byte(1)));
    let error = methods::balance(node, &[address.clone(), at(head - 10)]).unwrap_err();
    assert_eq!(error.code, code::SERVER);
    let oldest = vein_node::api::eth_rpc::history::oldest_height(node.chain());
    assert!(oldest > head - 10 && oldest < head, "oldest {oldest}, head {head}");
    let window = format!("heights {oldest}..={head}");
    assert!(error.message.contains(&window), "{} lacks {window}", error.message);
    let reads: [(Method, Value); 3] = [
        (methods::code, address.clone()),
        (methods::transaction_count_at, address.clone()),
        (methods::call, json!({})),
    ];
    for (method, first) in reads {
        assert_eq!(method(node, &[first, at(head - 10)]).unwrap_err().code, code::SERVER);
    }
    assert_eq!(ask(node, methods::balance, &[address.clone(), at(oldest)]), json!("0x0"));
    let earliest = methods::balance(node, &[address, json!("earliest")]).unwrap_err();
    assert!(earliest.message.contains(&window), "{}", earliest.message);
}

#[test]
fn receipts_beyond_the_kept_final_heights_answer_null() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, _keys) =
        LocalNet::with_config("localnet", 11, &[1_000, 1_000], params, 20, |_, config| {
            config.limits.evm_receipt_heights = 2;
        })
        .unwrap();
    let wallet = SigningKey::from_bytes(&[6u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    net.nodes[1].transfer(0, account_of(&sender), 10_000_000, 1).unwrap();
    net.run_until(8_000);
    let first = sign(&wallet, 0, Some(Address::repeat_byte(9)), U256::from(GWEI), Vec::new());
    let hash = |kind: &TxKind| match kind {
        TxKind::Evm(call) => call.decode(vein_node::core::evm::chain_id_of("localnet")).unwrap(),
        _ => unreachable!(),
    };
    let first_hash: B256 = hash(&first).hash;
    net.nodes[0].submit(net.now_ms, first, 1).unwrap();
    net.run_until(net.now_ms + 6_000);
    let receipt = |node: &Node, tx: B256| ask(node, methods::receipt, &[json!(format!("{tx}"))]);
    let executed = net.nodes[0].chain().ledger().evm().receipt(&first_hash).unwrap().height;
    assert_ne!(receipt(&net.nodes[0], first_hash), Value::Null, "kept while recent");
    // Run until the executing height is more than 2 final heights deep on every node.
    net.run_until(net.now_ms + 20_000);
    let second = sign(&wallet, 1, Some(Address::repeat_byte(9)), U256::from(GWEI), Vec::new());
    let second_hash = hash(&second).hash;
    net.nodes[0].submit(net.now_ms, second, 1).unwrap();
    net.run_until(net.now_ms + 6_000);
    for node in &net.nodes {
        assert!(
            node.chain().final_height() > executed + 2,
            "final {}",
            node.chain().final_height()
        );
        assert_eq!(receipt(node, first_hash), Value::Null, "pruned: null, as Ethereum nodes do");
        assert!(node.stats().evm_receipts_pruned >= 1);
        assert_ne!(receipt(node, second_hash), Value::Null, "the recent one is kept");
    }
}
