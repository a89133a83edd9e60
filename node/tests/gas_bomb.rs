#![allow(clippy::unwrap_used)]
//! The gas bomb (docs/evm.md "Gas bomb"): a checkpoint offered more than its gas limit's worth
//! of the most expensive calls executes only up to `CHECKPOINT_GAS_MAX`, and every
//! hand-assembled attacker really runs its expensive operation (status 1 means each
//! precompile call succeeded; a refused input would have reverted), and the slow precompiles
//! charge vein's prices (its gas schedule), not Ethereum's.

// Shared with the bench (node/benches/gas_bomb.rs), which uses all of it.
#[allow(dead_code)]
#[path = "gas_bomb/attackers.rs"]
mod attackers;
#[allow(dead_code)]
#[path = "gas_bomb/checkpoint.rs"]
mod checkpoint;

use attackers::{KINDS, Kind};
use checkpoint::{Bomb, CHAIN_ID, TX_GAS, context};
use vein_node::core::evm::{
    Address, CHECKPOINT_GAS_MAX, ECRECOVER_GAS, EvmCall, POINT_EVALUATION_GAS, Receipt,
};
use vein_node::core::ledger::LedgerError;
use vein_node::core::transaction::{Transaction, TxKind};

fn receipt(bomb: &Bomb, tx: &Transaction) -> Option<Receipt> {
    let TxKind::Evm(call) = &tx.body.kind else { panic!("an EVM carrier") };
    let hash = EvmCall::new(call.raw.clone()).decode(CHAIN_ID).unwrap().hash;
    bomb.ledger.evm().receipt(&hash).cloned()
}

#[test]
fn a_checkpoint_offered_more_than_its_gas_limit_executes_only_up_to_it() {
    let mut bomb = Bomb::deployed();
    let fits = CHECKPOINT_GAS_MAX / TX_GAS;
    assert_eq!(fits, 10);
    assert_eq!(CHECKPOINT_GAS_MAX, 60_000_000);
    let carriers = bomb.carriers(Kind::ColdBalance, fits + 2, TX_GAS);
    let at = context(2);
    bomb.begin(&at);
    for tx in &carriers[..fits as usize] {
        bomb.apply(tx, &at).unwrap();
        assert!(receipt(&bomb, tx).unwrap().success);
    }
    let used: u64 =
        carriers[..fits as usize].iter().map(|tx| receipt(&bomb, tx).unwrap().gas_used).sum();
    assert_eq!(bomb.ledger.evm().gas_used(), used);
    assert!(used <= CHECKPOINT_GAS_MAX);
    // The attack did spend (nearly) the whole limit: each transaction stops only when less
    // than its loop's reserve is left.
    assert!(used > CHECKPOINT_GAS_MAX - fits * 61_000, "{used}");
    assert_eq!(bomb.ledger.evm().block_txs(2).len() as u64, fits);
    let gas_full = &carriers[fits as usize];
    let before = bomb.ledger.clone();
    let result = bomb.apply(gas_full, &at);
    assert!(
        matches!(
            result,
            Err(LedgerError::CheckpointGasFull { gas_limit: TX_GAS, limit, .. })
                if limit == CHECKPOINT_GAS_MAX
        ),
        "{result:?}"
    );
    assert_eq!(bomb.ledger, before, "an ignored carrier changes nothing");
    assert!(receipt(&bomb, gas_full).is_none());
    // The wallet's next nonce is now ahead of the gap the ignored one left: held, not run
    // (the nonce rule), so it cannot slip past the limit either.
    let ahead = &carriers[fits as usize + 1];
    bomb.apply(ahead, &at).unwrap();
    assert!(receipt(&bomb, ahead).is_none());
    assert_eq!(bomb.ledger.evm().gas_used(), used);
    assert_eq!(bomb.ledger.evm().block_txs(2).len() as u64, fits);
    // Only the limit held them back: in the next checkpoint the wallet sends the ignored one
    // again; it executes and the held one follows it.
    let next = context(3);
    bomb.begin(&next);
    let resent = bomb.carrier_tx(match &gas_full.body.kind {
        TxKind::Evm(call) => call.raw.clone(),
        _ => unreachable!("an EVM carrier"),
    });
    bomb.apply(&resent, &next).unwrap();
    assert!(receipt(&bomb, gas_full).unwrap().success);
    assert!(receipt(&bomb, ahead).unwrap().success);
    assert_eq!(bomb.ledger.evm().block_txs(3).len(), 2);
}

#[test]
fn every_attacker_spends_its_gas_on_its_operation() {
    let mut bomb = Bomb::deployed();
    let at = context(2);
    bomb.begin(&at);
    for kind in KINDS {
        let gas = if kind == Kind::Modexp512Even { 3_000_000 } else { 1_000_000 };
        let tx = bomb.carriers(kind, 1, gas).remove(0);
        bomb.begin(&at);
        bomb.apply(&tx, &at).unwrap();
        let receipt = receipt(&bomb, &tx).unwrap();
        if kind == Kind::JumpLoop {
            // No exit: out of gas, the whole limit spent.
            assert!(!receipt.success);
            assert_eq!(receipt.gas_used, gas);
        } else {
            assert!(receipt.success, "{kind:?} reverted: an operation failed");
            // The loop ran until only its reserve was left, so most gas went to the body.
            assert!(receipt.gas_used > gas / 5, "{kind:?} used {}", receipt.gas_used);
        }
    }
    // New slots really were written by the SSTORE attacker.
    let sstore = bomb.address(Kind::SstoreNew);
    let first = vein_node::core::evm::U256::from(1u64 << 40);
    assert_eq!(bomb.ledger.evm().slot(&sstore, &first), vein_node::core::evm::U256::from(1));
}

/// Intrinsic gas of a call carrying `input` (Cancun: 21,000 plus 16 a non-zero byte, 4 a zero).
fn intrinsic(input: &[u8]) -> u64 {
    21_000 + input.iter().map(|byte| if *byte == 0 { 4 } else { 16 }).sum::<u64>()
}

/// vein's gas schedule applies on the chain: the three precompiles that ran slowest per gas at
/// Ethereum's prices charge vein's (docs/evm.md, "Gas bomb"), and a gas limit that Ethereum's
/// price would satisfy runs out of gas.
#[test]
fn the_slow_precompiles_charge_veins_prices() {
    let mut bomb = Bomb::deployed();
    let at = context(2);
    bomb.begin(&at);
    // (kind, vein's price, Ethereum's): MODEXP on an 8-byte modulus with a 75-byte exponent
    // costs 16 × (16 × 43 + 255) under EIP-7883, Berlin's floor of 200 under Cancun.
    let cases = [
        (Kind::Ecrecover, ECRECOVER_GAS, 3_000),
        (Kind::PointEvaluation, POINT_EVALUATION_GAS, 50_000),
        (Kind::ModexpSmallMod, 16 * (16 * 43 + 255), 200),
    ];
    for (kind, vein_price, ethereum_price) in cases {
        let precompile = Address::with_last_byte(kind.precompile().unwrap());
        let input = kind.calldata(0);
        let raw = bomb.sign(Some(precompile), input.clone(), 1_000_000);
        let tx = bomb.carrier_tx(raw);
        bomb.apply(&tx, &at).unwrap();
        let charged = receipt(&bomb, &tx).unwrap();
        assert!(charged.success, "{kind:?}");
        assert_eq!(charged.gas_used, intrinsic(&input) + vein_price, "{kind:?}");
        // Enough for Ethereum's price, not for vein's: the precompile halts out of gas.
        let short = intrinsic(&input) + ethereum_price.max(vein_price / 2);
        let raw = bomb.sign(Some(precompile), input.clone(), short);
        let tx = bomb.carrier_tx(raw);
        bomb.apply(&tx, &at).unwrap();
        let halted = receipt(&bomb, &tx).unwrap();
        assert!(!halted.success, "{kind:?} ran below vein's price");
        assert_eq!(halted.gas_used, short);
    }
}
