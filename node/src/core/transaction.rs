//! Transactions: the units of the DAG. Each is signed by its author, names two parents it
//! approves, and is identified by the hash of its signed bytes. A transaction is immutable once
//! built; nodes share it behind an `Arc` and cache its id and encoded size.

use crate::core::consortium::ConsortiumTx;
use crate::core::crypto::{self, AccountId, CryptoError, Keypair, Signature};
use crate::core::evm::EvmCall;
use crate::core::fl::FlTx;
use crate::core::hash::Hash;
use crate::core::peg::PegTx;
use crate::core::sidechain::SideChainTx;
use crate::core::storage::{StorageProof, StorePut};
use crate::core::token::TokenTx;
use crate::core::wire::{self, WireError};
use serde::{Deserialize, Serialize};

/// Domain separation for transaction signatures: a signature over a transaction can never be
/// replayed as a signature over a checkpoint or anything else.
const SIGNING_DOMAIN: &[u8] = b"vein/transaction/v0";

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxKind {
    /// Move `amount` from the author to `to`.
    Transfer {
        /// The receiving account (must differ from the author).
        to: AccountId,
        /// Tokens moved, on top of the fee.
        amount: u64,
    },
    /// Open a storage contract: the author (the owner) escrows `prepaid_fee`, paid out to the
    /// storage nodes round by round for proven shards (docs/storage.md).
    /// Boxed: keeps every `Transaction` (mostly transfers) small.
    StorePut(Box<StorePut>),
    /// A storage node's answer to one round's challenge on one shard it holds.
    StorageProof(Box<StorageProof>),
    /// Move shard `shard_index` of `file_id` away from a node that missed too many rounds in a
    /// row, to the node `assignment::reassign` names (anyone may submit it).
    StoreRepair {
        /// The file whose contract holds the shard.
        file_id: Hash,
        /// The shard's index in the file's erasure coding.
        shard_index: u8,
    },
    /// A consortium transaction: create, propose, approve, withdraw or write (docs/consortium.md).
    /// Boxed like `StorePut`.
    Consortium(Box<ConsortiumTx>),
    /// An Ethereum-signed transaction, executed by the EVM when a checkpoint applies it
    /// (docs/evm.md). The author of the carrier pays its vein fee; the Ethereum sender pays gas.
    Evm(Box<EvmCall>),
    /// A federated-learning task action: post (escrowing the price), join, commit an update or
    /// aggregate hash, settle a round, close (docs/federated-learning.md). Boxed like `StorePut`.
    Fl(Box<FlTx>),
    /// A business token transaction: issue, transfer, burn or mint (docs/tokens.md). The
    /// carrier's fee is paid in the native token. Boxed like `StorePut`.
    Token(Box<TokenTx>),
    /// A side-chain transaction: register a consortium's chain, or anchor a segment of its
    /// checkpoints (docs/sidechains.md). Boxed like `StorePut`.
    SideChain(Box<SideChainTx>),
    /// A two-way peg transaction: lock, mint, burn or release a business token across chains
    /// (docs/peg.md). The carrier's fee is paid in the native token. Boxed like `StorePut`.
    Peg(Box<PegTx>),
}

/// The signed content of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionBody {
    /// The author: signs the body and pays the fee and any debit.
    pub from: AccountId,
    /// `(from, nonce)` names the spend: two transactions with the same pair conflict.
    pub nonce: u64,
    /// What the transaction does.
    pub kind: TxKind,
    /// Tokens paid by the author, at least `Params::fee_min`; split between burning and the
    /// author of the checkpoint that applies it (`FeePolicy`).
    pub fee: u64,
    /// The two earlier units this transaction approves (equal only when both are genesis).
    pub parents: [Hash; 2],
    /// The author's clock at issue, in ms; a unit more than `Params::future_drift_ms` ahead of
    /// the receiver's clock is refused.
    pub issued_at_ms: u64,
}

/// A transaction body with its author's signature: one unit of the DAG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The signed content.
    pub body: TransactionBody,
    /// `from`'s signature over [`TransactionBody::signing_bytes`].
    pub signature: Signature,
}

impl TransactionBody {
    /// The bytes the signature covers: the signing domain, then the encoded body.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut bytes = SIGNING_DOMAIN.to_vec();
        bytes.extend_from_slice(&wire::encode_body(self, "transaction body")?);
        Ok(bytes)
    }

    /// Sign this body with `key`. The caller makes sure `key` belongs to `from`.
    pub fn sign(self, key: &Keypair) -> Result<Transaction, WireError> {
        debug_assert_eq!(key.account(), self.from);
        let signature = key.sign(&self.signing_bytes()?);
        Ok(Transaction { body: self, signature })
    }

    /// The amount leaving the author's balance if applied (amount or escrowed prepaid fee, plus
    /// the fee), or `None` on overflow.
    pub fn debit(&self) -> Option<u64> {
        match &self.kind {
            TxKind::Transfer { amount, .. } => amount.checked_add(self.fee),
            TxKind::StorePut(put) => put.prepaid_fee.checked_add(self.fee),
            TxKind::StorageProof(_) | TxKind::StoreRepair { .. } | TxKind::Evm(_) => Some(self.fee),
            TxKind::Consortium(_) | TxKind::Token(_) | TxKind::SideChain(_) | TxKind::Peg(_) => {
                Some(self.fee)
            }
            TxKind::Fl(fl) => fl.debit()?.checked_add(self.fee),
        }
    }
}

impl Transaction {
    /// Canonical bytes: the body of the wire message and the preimage of the id.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        wire::encode_body(self, "transaction")
    }

    /// Only the canonical bytes decode: the id must be the hash of the bytes received.
    pub fn decode(bytes: &[u8]) -> Result<Transaction, WireError> {
        wire::decode_canonical(bytes, "transaction")
    }

    /// The id is the hash of the signed bytes.
    pub fn id(&self) -> Result<Hash, WireError> {
        Ok(Hash::of(&self.encode()?))
    }

    /// Check that `signature` is `from`'s over the body (ZIP 215 rules).
    pub fn verify_signature(&self) -> Result<(), CryptoError> {
        let bytes = self
            .body
            .signing_bytes()
            .map_err(|_| CryptoError::BadSignature { account: self.body.from })?;
        crypto::verify(&self.body.from, &bytes, &self.signature)
    }

    /// `verify_signature` for many transactions at once (one batch equation, `crypto::verify_batch`):
    /// one result each, exactly what `verify_signature` answers for it alone.
    pub fn verify_signatures(txs: &[&Transaction]) -> Vec<Result<(), CryptoError>> {
        let bytes: Vec<Option<Vec<u8>>> =
            txs.iter().map(|tx| tx.body.signing_bytes().ok()).collect();
        let items: Vec<(&AccountId, &[u8], &Signature)> = txs
            .iter()
            .zip(&bytes)
            .filter_map(|(tx, bytes)| {
                bytes.as_ref().map(|bytes| (&tx.body.from, bytes.as_slice(), &tx.signature))
            })
            .collect();
        let mut verified = crypto::verify_batch(&items).into_iter();
        txs.iter()
            .zip(&bytes)
            .map(|(tx, bytes)| match bytes {
                Some(_) => verified
                    .next()
                    .unwrap_or(Err(CryptoError::BadSignature { account: tx.body.from })),
                None => Err(CryptoError::BadSignature { account: tx.body.from }),
            })
            .collect()
    }

    /// The conflict key: two transactions with the same key can never both be applied.
    pub fn spend_key(&self) -> (AccountId, u64) {
        (self.body.from, self.body.nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn transfer(key: &Keypair, nonce: u64, to: AccountId, amount: u64) -> Transaction {
        TransactionBody {
            from: key.account(),
            nonce,
            kind: TxKind::Transfer { to, amount },
            fee: 1,
            parents: [Hash::ZERO, Hash::ZERO],
            issued_at_ms: 0,
        }
        .sign(key)
        .unwrap()
    }

    #[test]
    fn signed_transaction_verifies_and_round_trips() {
        let alice = Keypair::derived("test", 1);
        let bob = Keypair::derived("test", 2);
        let tx = transfer(&alice, 0, bob.account(), 5);
        assert!(tx.verify_signature().is_ok());
        let decoded = Transaction::decode(&tx.encode().unwrap()).unwrap();
        assert_eq!(decoded, tx);
        assert_eq!(decoded.id().unwrap(), tx.id().unwrap());
    }

    /// Malleability: the nonce written as an over-long varint (251 then a u16) decodes to the
    /// same validly signed transaction under bincode, but would hash to a second id, a twin that
    /// "conflicts" with the original. Only canonical bytes decode.
    #[test]
    fn an_over_long_varint_is_refused_so_one_transaction_has_one_id() {
        let alice = Keypair::derived("test", 1);
        let bob = Keypair::derived("test", 2);
        let five = transfer(&alice, 5, bob.account(), 5).encode().unwrap();
        let six = transfer(&alice, 6, bob.account(), 5).encode().unwrap();
        let at = five.iter().zip(&six).position(|(a, b)| a != b).unwrap();
        assert_eq!(five[at], 5, "the first difference is the nonce's one-byte varint");
        let mut longer = five[..at].to_vec();
        longer.extend_from_slice(&[251, 5, 0]);
        longer.extend_from_slice(&five[at + 1..]);
        let twin: Transaction = wire::decode_body(&longer, "transaction").unwrap();
        assert_eq!(twin, Transaction::decode(&five).unwrap(), "bincode accepts the long form");
        assert_eq!(
            Transaction::decode(&longer),
            Err(WireError::NonCanonical { what: "transaction" })
        );
    }

    #[test]
    fn tampering_breaks_the_signature_and_changes_the_id() {
        let alice = Keypair::derived("test", 1);
        let bob = Keypair::derived("test", 2);
        let tx = transfer(&alice, 0, bob.account(), 5);
        let mut forged = tx.clone();
        forged.body.kind = TxKind::Transfer { to: bob.account(), amount: 500 };
        assert!(forged.verify_signature().is_err());
        assert_ne!(forged.id().unwrap(), tx.id().unwrap());
        let mut stolen = tx.clone();
        stolen.body.from = bob.account();
        assert!(stolen.verify_signature().is_err());
    }
}
