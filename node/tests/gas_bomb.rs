#![allow(clippy::unwrap_used)]
//! The gas bomb (docs/evm.md "Gas bomb"): a checkpoint offered more than its gas limit's worth
//! of the most expensive calls executes only up to `CHECKPOINT_GAS_MAX`, and every
//! hand-assembled attacker really runs its expensive operation (status 1 means each
//! precompile call succeeded; a refused input would have reverted).

// Shared with the bench (node/benches/gas_bomb.rs), which uses all of it.
#[allow(dead_code)]
#[path = "gas_bomb/attackers.rs"]
mod attackers;
#[allow(dead_code)]
#[path = "gas_bomb/checkpoint.rs"]
mod checkpoint;

use attackers::{KINDS, Kind};
use checkpoint::{Bomb, CHAIN_ID, TX_GAS, context};
use vein_node::core::evm::{CHECKPOINT_GAS_MAX, EvmCall, Receipt};
use vein_node::core::ledger::LedgerError;
use vein_node::core::transaction::{Transaction, TxKind};

fn receipt(bomb: &Bomb, tx: &Transaction) -> Option<Receipt> {
    let TxKind::Evm(call) = &tx.body.kind else { panic!("an EVM carrier") };
    let hash = EvmCall { raw: call.raw.clone() }.decode(CHAIN_ID).unwrap().hash;
    bomb.ledger.evm().receipt(&hash).cloned()
}

#[test]
fn a_checkpoint_offered_more_than_its_gas_limit_executes_only_up_to_it() {
    let mut bomb = Bomb::deployed();
    let fits = CHECKPOINT_GAS_MAX / TX_GAS;
    assert_eq!(fits, 10);
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
        let gas = 1_000_000 + if kind == Kind::Modexp512Even { 1_000_000 } else { 0 };
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
