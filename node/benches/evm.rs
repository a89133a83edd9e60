#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // Benchmarks use the wall clock.
//! One ERC-20 transfer's execution by the EVM against the ledger (revm through the state
//! adapter, the sorted change set, no write): the per-transaction cost a checkpoint pays for a
//! contract call, beside the native transfer's (`--bench core`). The token is
//! `contracts/build/VeinToken.json`, deployed through the ledger first.
//!
//! Run: `cargo bench -p vein-node --bench evm`.

#[path = "common/vein_token.rs"]
mod vein_token;

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::Signature;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use criterion::{Criterion, criterion_group, criterion_main};
use k256::ecdsa::SigningKey;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use vein_node::core::contracts::{StorageContext, StorageMode};
use vein_node::core::crypto::Keypair;
use vein_node::core::evm::{self, Address, EvmBlock, EvmCall, U256, account_of};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::{FeePolicy, Ledger, Undo};
use vein_node::core::params::StorageParams;
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_token::token_init_code;

const CHAIN_ID: u64 = 7;

fn sign(key: &SigningKey, nonce: u64, to: Option<Address>, input: Vec<u8>) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 3_000_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map_or(alloy_consensus::private::alloy_primitives::TxKind::Create, |to| {
            alloy_consensus::private::alloy_primitives::TxKind::Call(to)
        }),
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

fn word(value: U256) -> [u8; 32] {
    value.to_be_bytes::<32>()
}

fn transfer_input(to: Address, amount: u64) -> Vec<u8> {
    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(to.as_slice());
    input.extend_from_slice(&word(U256::from(amount)));
    input
}

fn bench_erc20_transfer(c: &mut Criterion) {
    let wallet = SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
    let sender = Address::from_private_key(&wallet);
    let carrier = Keypair::derived("bench-evm", 1);
    let mut ledger =
        Ledger::genesis(&[(account_of(&sender), 1_000_000_000), (carrier.account(), 100)]).unwrap();
    let block = EvmBlock {
        height: 1,
        timestamp_ms: 1_000,
        generation_signature: Hash::ZERO,
        parent_id: Hash::ZERO,
        chain_id: CHAIN_ID,
    };
    let context = StorageContext {
        height: 1,
        params: StorageParams::default(),
        nodes: Arc::from(Vec::new()),
        generation_signatures: BTreeMap::new(),
        evm: block.clone(),
    };
    let deploy = TransactionBody {
        from: carrier.account(),
        nonce: 0,
        kind: TxKind::Evm(Box::new(EvmCall::new(sign(&wallet, 0, None, token_init_code())))),
        fee: 1,
        parents: [Hash::ZERO, Hash::ZERO],
        issued_at_ms: 0,
    }
    .sign(&carrier)
    .unwrap();
    let policy = FeePolicy { burn_per_mille: 1000 };
    let mut undo = Undo::default();
    ledger
        .apply_in(&deploy, &carrier.account(), policy, StorageMode::Full(&context), &mut undo)
        .unwrap();
    let token = sender.create(0);
    assert!(ledger.evm().code(&token).is_some(), "the token deployed");
    let raw = sign(&wallet, 1, Some(token), transfer_input(Address::repeat_byte(9), 1_000));
    let tx = EvmCall::new(raw).decode(CHAIN_ID).unwrap();
    let executed = evm::execute(ledger.evm_view(), &block, &tx).unwrap();
    assert!(executed.outcome.success, "the transfer succeeds");
    c.bench_function("evm/erc20_transfer_execute", |b| {
        b.iter(|| black_box(evm::execute(ledger.evm_view(), &block, &tx).unwrap()));
    });
    let raw = tx.raw.to_vec();
    c.bench_function("evm/erc20_transfer_decode_and_recover", |b| {
        b.iter(|| black_box(EvmCall::new(raw.clone()).decode(CHAIN_ID).unwrap()));
    });
}

criterion_group!(benches, bench_erc20_transfer);
criterion_main!(benches);
