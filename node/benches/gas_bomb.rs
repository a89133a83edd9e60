#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // Benchmarks use the wall clock.
//! The gas bomb (docs/evm.md "Gas bomb"): one whole checkpoint (`CHECKPOINT_GAS_MAX` =
//! 60,000,000 gas, ten 6,000,000-gas transactions, at vein's gas schedule) of each attacker
//! (node/tests/gas_bomb/attackers.rs), applied through `Ledger::evm_begin` and
//! `Ledger::apply_in` exactly as a checkpoint applies its carriers: decoding, sender
//! recovery, revm, the sorted change set and the ledger write. Time per checkpoint is the
//! verification time a node pays for the worst checkpoint an attacker can buy.
//!
//! Run: `cargo bench -p vein-node --bench gas_bomb -- gas_bomb`.

#[path = "../tests/gas_bomb/attackers.rs"]
mod attackers;
#[path = "../tests/gas_bomb/checkpoint.rs"]
mod checkpoint;
#[path = "common/vein_token.rs"]
mod vein_token;

use attackers::KINDS;
use checkpoint::{Bomb, TX_GAS, context};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vein_node::core::evm::{CHECKPOINT_GAS_MAX, EvmCall, U256};
use vein_node::core::transaction::TxKind;
use vein_token::token_init_code;

/// Gas of one ERC-20 transfer to a fresh holder: what a lower checkpoint limit costs in
/// transfers per checkpoint (printed for docs/evm.md).
fn erc20_transfer_gas(bomb: &Bomb) -> u64 {
    let mut bomb = bomb.clone();
    let at = context(2);
    bomb.begin(&at);
    let token = bomb.sender().create(bomb.wallet_nonce);
    let raw = bomb.sign(None, token_init_code(), 3_000_000);
    let deploy = bomb.carrier_tx(raw);
    bomb.apply(&deploy, &at).unwrap();
    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(&[0x77; 20]);
    input.extend_from_slice(&U256::from(1_000).to_be_bytes::<32>());
    let raw = bomb.sign(Some(token), input, 100_000);
    let hash = EvmCall::new(raw.clone()).decode(checkpoint::CHAIN_ID).unwrap().hash;
    let transfer = bomb.carrier_tx(raw);
    bomb.apply(&transfer, &at).unwrap();
    let receipt = bomb.ledger.evm().receipt(&hash).unwrap();
    assert!(receipt.success, "the transfer succeeds");
    receipt.gas_used
}

fn bench_gas_bomb(c: &mut Criterion) {
    let deployed = Bomb::deployed();
    let transfer = erc20_transfer_gas(&deployed);
    eprintln!(
        "gas_bomb: one ERC-20 transfer uses {transfer} gas: {} transfers per checkpoint",
        CHECKPOINT_GAS_MAX / transfer
    );
    let mut group = c.benchmark_group("evm/gas_bomb");
    group.sample_size(10);
    for kind in KINDS {
        let mut bomb = deployed.clone();
        let carriers = bomb.carriers(kind, CHECKPOINT_GAS_MAX / TX_GAS, TX_GAS);
        let at = context(2);
        // Once outside the timing: every carrier executes and the checkpoint is full.
        let mut check = bomb.clone();
        for result in check.checkpoint(&carriers, &at) {
            result.unwrap();
        }
        let hashes = carriers.iter().map(|tx| match &tx.body.kind {
            TxKind::Evm(call) => {
                EvmCall::new(call.raw.clone()).decode(checkpoint::CHAIN_ID).unwrap().hash
            }
            _ => unreachable!("an EVM carrier"),
        });
        let failed =
            hashes.filter(|hash| !check.ledger.evm().receipt(hash).unwrap().success).count();
        eprintln!(
            "gas_bomb: {}: {} gas used by {} transactions ({failed} out of gas)",
            kind.name(),
            check.ledger.evm().gas_used(),
            carriers.len()
        );
        group.bench_function(kind.name(), |b| {
            b.iter_batched(
                || bomb.clone(),
                |mut bomb| black_box(bomb.checkpoint(&carriers, &at)),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gas_bomb);
criterion_main!(benches);
