//! Transactions whose signatures are verified as one batch (a driver turn's messages,
//! `Node::on_messages`; a wallet's `POST /txs`, `Node::accept_transactions`) are admitted or
//! refused exactly as one by one: same units, same reject reasons, same outputs.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::node::{Node, NodeConfig, Output, RejectReason};
use vein_node::core::params::Params;
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};
use vein_node::localnet::model_genesis;
use vein_node::pump::Collect;

struct Setup {
    nodes: [Node; 2],
    keys: Vec<Keypair>,
    genesis_id: Hash,
}

fn setup() -> Setup {
    let (genesis, keys) =
        model_genesis("batched-admission", &[100, 100, 100], 1_000_000, Params::default());
    let genesis_id = genesis.id().unwrap();
    let genesis = Arc::new(genesis);
    let node = || {
        let mut config = NodeConfig::new(genesis.clone(), keys[0].clone(), [3; 32]);
        config.mining = false;
        let mut node = Node::new(config).unwrap();
        node.add_peer(9);
        node.add_peer(10);
        node
    };
    Setup { nodes: [node(), node()], keys, genesis_id }
}

fn transfer(setup: &Setup, from: usize, nonce: u64, to: usize) -> Transaction {
    TransactionBody {
        from: setup.keys[from].account(),
        nonce,
        kind: TxKind::Transfer { to: setup.keys[to].account(), amount: 1 },
        fee: 10,
        parents: [setup.genesis_id, setup.genesis_id],
        issued_at_ms: 1_000,
    }
    .sign(&setup.keys[from])
    .unwrap()
}

fn with_bad_signature(mut tx: Transaction) -> Transaction {
    tx.signature.0[40] ^= 1;
    tx
}

/// What a node did, comparable across nodes: outputs (sends and events) and counters.
fn trace(node: &mut Node) -> (Vec<String>, String) {
    let outputs = Collect::at(1_000)
        .drain(node)
        .into_iter()
        .map(|output| match output {
            Output::Send { to, bytes } => format!("send {to} {}", Hash::of(&bytes)),
            other => format!("{other:?}"),
        })
        .collect();
    (outputs, format!("{:?}", node.stats()))
}

#[test]
fn a_turn_of_messages_verified_as_a_batch_is_handled_as_one_by_one() {
    let mut setup = setup();
    let mut txs: Vec<Transaction> = (0..12).map(|nonce| transfer(&setup, 1, nonce, 2)).collect();
    txs.extend((0..6).map(|nonce| transfer(&setup, 2, nonce, 1)));
    txs[3] = with_bad_signature(txs[3].clone());
    txs[14] = with_bad_signature(txs[14].clone());
    txs.push(transfer(&setup, 1, 20, 1)); // a self-transfer, refused before its signature
    let mut messages: Vec<(u64, Vec<u8>)> =
        txs.iter().map(|tx| (9, Message::Transaction(tx.clone()).encode().unwrap())).collect();
    // A duplicate from the other peer, garbage, and a bad signature's duplicate.
    messages.insert(5, (10, messages[2].1.clone()));
    messages.insert(9, (10, vec![0xff; 40]));
    messages.push((10, messages[3].1.clone()));

    let [one_by_one, batched] = &mut setup.nodes;
    for (from, bytes) in &messages {
        one_by_one.on_message(1_000, *from, bytes);
    }
    for turn in messages.chunks(7) {
        let turn: Vec<(u64, Arc<Vec<u8>>)> =
            turn.iter().map(|(from, bytes)| (*from, Arc::new(bytes.to_vec()))).collect();
        batched.on_messages(1_000, &turn);
    }
    for tx in &txs {
        let id = tx.id().unwrap();
        assert_eq!(one_by_one.dag().knows(&id), batched.dag().knows(&id));
    }
    assert!(!batched.dag().knows(&txs[3].id().unwrap()));
    assert!(batched.dag().knows(&txs[4].id().unwrap()));
    assert_eq!(batched.stats().rejected.get("bad_signature"), Some(&3));
    assert_eq!(trace(one_by_one), trace(batched));
}

#[test]
fn a_wallet_batch_refuses_exactly_its_bad_signatures() {
    let mut setup = setup();
    let mut txs: Vec<Transaction> = (0..40).map(|nonce| transfer(&setup, 1, nonce, 2)).collect();
    txs[7] = with_bad_signature(txs[7].clone());
    txs[31] = with_bad_signature(txs[31].clone());
    txs.push(txs[0].clone()); // already held by then: accepted again as a no-op
    let [one_by_one, batched] = &mut setup.nodes;
    let singles: Vec<Result<Hash, RejectReason>> = txs
        .iter()
        .map(|tx| one_by_one.accept_transaction(tx.clone(), None).map(|()| tx.id().unwrap()))
        .collect();
    let results = batched.accept_transactions(txs.clone());
    assert_eq!(results, singles);
    for (index, result) in results.iter().enumerate() {
        if index == 7 || index == 31 {
            assert_eq!(result, &Err(RejectReason::BadSignature));
        } else {
            assert_eq!(result, &Ok(txs[index].id().unwrap()));
        }
    }
    assert_eq!(trace(one_by_one), trace(batched));
}
