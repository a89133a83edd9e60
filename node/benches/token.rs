#![allow(clippy::unwrap_used)] // A benchmark's set-up failing is the report.
//! The token hot path: check and apply one business-token transfer on a ledger holding 1,000
//! accounts of native balance and 1,000 holders of the token, against a native transfer on the
//! same ledger for comparison (docs/tokens.md). Each iteration applies one pre-signed
//! transaction through `Ledger::apply` and then reverts it, so the state is the same every time.
//!
//! Run only this file: `cargo bench -p vein-node --bench token`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::{FeePolicy, Ledger, Undo};
use vein_node::core::token::{IssueToken, SupplyRule, TokenTx, token_id};
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

const HOLDERS: u64 = 1_000;
const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };

fn signed(key: &Keypair, nonce: u64, kind: TxKind) -> Transaction {
    let body = TransactionBody {
        from: key.account(),
        nonce,
        kind,
        fee: 1,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    };
    body.sign(key).unwrap()
}

/// A ledger where the issuer (account 0) has handed 10 tokens to each of 1,000 holders.
fn ledger() -> (Ledger, Keypair, Vec<AccountId>) {
    let issuer = Keypair::derived("token-bench", 0);
    let holders: Vec<AccountId> =
        (1..=HOLDERS).map(|i| Keypair::derived("token-bench", i).account()).collect();
    let mut allocations = vec![(issuer.account(), 1_000_000_000)];
    allocations.extend(holders.iter().map(|holder| (*holder, 1_000)));
    let mut ledger = Ledger::genesis(&allocations).unwrap();
    let author = Keypair::derived("token-bench-author", 0).account();
    let issue = IssueToken {
        name: "Bench".into(),
        symbol: "BENCH".into(),
        decimals: 0,
        initial_supply: 1_000_000,
        supply: SupplyRule::Fixed,
    };
    let token = token_id(&issuer.account(), 0);
    let mut undo = Undo::default();
    let issue = signed(&issuer, 0, TxKind::Token(Box::new(TokenTx::Issue(issue))));
    ledger.apply(&issue, &author, POLICY, &mut undo).unwrap();
    for (index, holder) in holders.iter().enumerate() {
        let transfer = TokenTx::Transfer { token, to: *holder, amount: 10 };
        let tx = signed(&issuer, index as u64 + 1, TxKind::Token(Box::new(transfer)));
        ledger.apply(&tx, &author, POLICY, &mut undo).unwrap();
    }
    ledger.check_invariants().unwrap();
    (ledger, issuer, holders)
}

fn bench(c: &mut Criterion) {
    let (mut ledger, issuer, holders) = ledger();
    let author = Keypair::derived("token-bench-author", 0).account();
    let token = token_id(&issuer.account(), 0);
    let nonce = HOLDERS + 1;
    let to = holders[HOLDERS as usize / 2];
    let token_transfer =
        signed(&issuer, nonce, TxKind::Token(Box::new(TokenTx::Transfer { token, to, amount: 3 })));
    let native_transfer = signed(&issuer, nonce, TxKind::Transfer { to, amount: 3 });
    let mut group = c.benchmark_group("token");
    for (name, tx) in [("token transfer", &token_transfer), ("native transfer", &native_transfer)] {
        group.bench_function(format!("check + apply + revert, {name}"), |b| {
            b.iter(|| {
                let mut undo = Undo::default();
                ledger.apply(black_box(tx), &author, POLICY, &mut undo).unwrap();
                ledger.revert(undo);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
