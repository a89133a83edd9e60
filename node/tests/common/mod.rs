//! What several node tests share: a transfer on the genesis DAG, and a signed transaction whose
//! amount was changed after signing (so its signature no longer matches).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

/// The body of a first transfer (nonce 0) from `from` to `to` approving genesis twice.
pub fn genesis_transfer(
    from: AccountId,
    to: AccountId,
    amount: u64,
    fee: u64,
    genesis_id: Hash,
    issued_at_ms: u64,
) -> TransactionBody {
    TransactionBody {
        from,
        nonce: 0,
        kind: TxKind::Transfer { to, amount },
        fee,
        parents: [genesis_id, genesis_id],
        issued_at_ms,
    }
}

/// `signed` with its transfer amount set to `amount` after signing: a forgery.
pub fn with_amount(signed: &Transaction, amount: u64) -> Transaction {
    let mut forged = signed.clone();
    if let TxKind::Transfer { to, .. } = signed.body.kind {
        forged.body.kind = TxKind::Transfer { to, amount };
    }
    forged
}
