//! A node's carrier that a checkpoint ignores gives its nonce back: the node's next transaction
//! takes it, so the account's confirmed nonce floor moves past it. Kept, the nonce was a gap at
//! the bottom of the node's nonce window forever, and 1,024 transactions later the node could
//! sign nothing ("nonce N is beyond the window of the confirmed floor M"). Carriers are ignored
//! whenever an Ethereum transaction was sent through two nodes, does not fit the checkpoint's
//! gas or cannot pay for it, which ERC-20 load does routinely.
#![allow(clippy::unwrap_used)]

use k256::ecdsa::SigningKey;
use vein_node::core::dag::Outcome;
use vein_node::core::evm::{Address, EvmCall};
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

#[path = "common/legacy_tx.rs"]
mod legacy_tx;
use legacy_tx::sign;

#[test]
fn an_ignored_carrier_gives_its_nonce_back() {
    let params = Params { target_interval_ms: 1_000, ..Params::default() };
    let (mut net, keys) = LocalNet::new(17, &[1_000, 1_000, 1_000], params, 20).unwrap();
    let chain_id = net.nodes[0].chain().evm_chain_id();
    // A wallet with no funds: admission takes its transaction (it checks signature, chain id
    // and nonce, not balance), execution refuses it, so the checkpoint ignores the carrier.
    let unfunded = SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
    let raw = sign(&unfunded, 0, Address::repeat_byte(0x42), chain_id);
    let carrier = net.nodes[0].submit(0, TxKind::Evm(Box::new(EvmCall::new(raw))), 1).unwrap();
    let ignored_nonce = carrier.tx.body.nonce;
    net.run_until(15_000);
    let confirmation = net.nodes[0].dag().confirmation(&carrier.id).unwrap();
    assert_eq!(confirmation.outcome, Outcome::Ignored);
    let node = net.nodes[0].account();
    assert_eq!(net.nodes[0].chain().ledger().account(&node).map_or(0, |a| a.nonce_floor), 0);

    // The node's next transaction reuses the ignored nonce, and the floor passes it.
    let next = net.nodes[0].transfer(net.now_ms, keys[1].account(), 5, 1).unwrap();
    assert_eq!(next.tx.body.nonce, ignored_nonce, "the ignored carrier's nonce is reused");
    net.run_until(net.now_ms + 15_000);
    for each in &net.nodes {
        let floor = each.chain().ledger().account(&node).map_or(0, |a| a.nonce_floor);
        assert!(floor > ignored_nonce, "floor {floor} stuck at the ignored carrier's nonce");
    }
}
