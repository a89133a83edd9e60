//! A member node's attestation account: where the attestations its [`super::Attester`] queues
//! are signed (docs/consortium.md, "Who signs an attestation").
//!
//! Model:
//! - The key is [`attestation_key`] of the node key and every attestation carries the node's
//!   [`AttestationCertificate`], so the chain counts the vote as the member's while the nonce,
//!   the fee and the balance are the attestation account's. A client signing writes with the
//!   node key (a party that is also a member node) therefore never competes with the node for
//!   a nonce: the node spends none of its own.
//! - Nonces: the lowest the confirmed ledger leaves free that no undecided unit of the DAG
//!   spends. Only this node signs for the account, so the DAG already holds every attestation
//!   it sent and not yet confirmed; a unit a checkpoint ignored frees its nonce again. A nonce
//!   past the confirmed floor's window is refused here, like the wallet does.
//! - Fees: the account pays the minimum fee per attestation; it must be funded (the testnet's
//!   genesis funds it). An unfunded account's attestations are refused at admission and the
//!   refusal names the account to fund.

use crate::core::consortium::{AttestationCertificate, ConsortiumTx, attestation_key};
use crate::core::crypto::{AccountId, Keypair};
use crate::core::ledger::NONCE_WINDOW;
use crate::core::node::{Node, RejectReason};
use crate::core::transaction::{TransactionBody, TxKind};
use std::collections::BTreeSet;

/// Signs a member node's attestations from its attestation account.
pub struct AttestationSigner {
    key: Keypair,
    certificate: AttestationCertificate,
}

impl AttestationSigner {
    /// The signer of the node whose key is `node`.
    pub fn new(node: &Keypair) -> AttestationSigner {
        AttestationSigner {
            key: attestation_key(node),
            certificate: AttestationCertificate::issue(node),
        }
    }

    /// The attestation account: it pays the attestations' fees.
    pub fn account(&self) -> AccountId {
        self.key.account()
    }

    /// Sign each queued attestation from the attestation account, with the node's certificate,
    /// and admit it to `node` (which relays it); the refusals, in order.
    pub fn submit(
        &self,
        node: &mut Node,
        now_ms: u64,
        txs: Vec<ConsortiumTx>,
    ) -> Vec<RejectReason> {
        let account = self.key.account();
        let fee = node.chain().params().fee_min;
        let mut refused = Vec::new();
        // Nonces signed by this call: a unit admitted a moment ago is in the DAG already, but
        // the loop should not depend on admission's internals to skip it.
        let mut signed = BTreeSet::new();
        for tx in txs {
            let tx = match tx {
                ConsortiumTx::Attest { consortium, height, root, .. } => ConsortiumTx::Attest {
                    consortium,
                    height,
                    root,
                    certificate: Some(self.certificate),
                },
                other => other,
            };
            let ledger = node.chain().ledger();
            let floor = ledger.account(&account).map_or(0, |state| state.nonce_floor);
            let mut nonce = ledger.next_nonce(&account);
            while ledger.account(&account).is_some_and(|state| state.nonce_used(nonce))
                || node.dag().spends_undecided(&(account, nonce))
                || signed.contains(&nonce)
            {
                nonce += 1;
            }
            if nonce >= floor.saturating_add(NONCE_WINDOW) {
                refused.push(RejectReason::NonceWindowFull { nonce, floor });
                continue;
            }
            let body = TransactionBody {
                from: account,
                nonce,
                kind: TxKind::Consortium(Box::new(tx)),
                fee,
                parents: node.select_parents(),
                issued_at_ms: now_ms,
            };
            let accepted = body
                .sign(&self.key)
                .map_err(RejectReason::from)
                .and_then(|signed| node.accept_transaction(signed, None));
            match accepted {
                Ok(()) => {
                    signed.insert(nonce);
                }
                Err(reason) => refused.push(reason),
            }
        }
        refused
    }
}
