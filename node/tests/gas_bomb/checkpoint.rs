//! A ledger with every attacker deployed (at height 1), and the carriers of one checkpoint
//! (height 2) full of one attacker's transactions, applied as a checkpoint applies them
//! (`Ledger::evm_begin`, then `Ledger::apply_in` per carrier in order).

use super::attackers::{KINDS, Kind};
use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Signature, TxKind as EthTxKind};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use k256::ecdsa::SigningKey;
use std::collections::BTreeMap;
use std::sync::Arc;
use vein_node::core::contracts::{StorageContext, StorageMode};
use vein_node::core::crypto::Keypair;
use vein_node::core::evm::{Address, EvmBlock, EvmCall, U256, account_of};
use vein_node::core::hash::Hash;
use vein_node::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use vein_node::core::params::StorageParams;
use vein_node::core::transaction::{Transaction, TransactionBody, TxKind};

pub const CHAIN_ID: u64 = 7;
/// Gas limit of one attacker transaction: ten fill a checkpoint exactly.
pub const TX_GAS: u64 = 6_000_000;
const DEPLOY_GAS: u64 = 400_000;
const POLICY: FeePolicy = FeePolicy { burn_per_mille: 1000 };

pub fn sign(
    key: &SigningKey,
    nonce: u64,
    to: Option<Address>,
    input: Vec<u8>,
    gas: u64,
) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: to.map_or(EthTxKind::Create, EthTxKind::Call),
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).expect("signs");
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

pub fn context(height: u64) -> StorageContext {
    StorageContext {
        height,
        params: StorageParams::default(),
        nodes: Arc::from(Vec::new()),
        generation_signatures: BTreeMap::new(),
        evm: EvmBlock {
            height,
            timestamp_ms: 1_000 * height,
            generation_signature: Hash::of(&height.to_le_bytes()),
            parent_id: Hash::ZERO,
            chain_id: CHAIN_ID,
        },
    }
}

/// The attackers' world after their deployment.
#[derive(Clone)]
pub struct Bomb {
    pub ledger: Ledger,
    pub wallet: SigningKey,
    pub carrier: Keypair,
    pub author: Keypair,
    /// Next nonces: the wallet's Ethereum one and the carrier's native one.
    pub wallet_nonce: u64,
    pub carrier_nonce: u64,
}

impl Bomb {
    /// A ledger with one deployed contract per attacker kind, in `KINDS` order.
    pub fn deployed() -> Bomb {
        let wallet = SigningKey::from_bytes(&[9u8; 32].into()).expect("a valid key");
        let carrier = Keypair::derived("gas-bomb", 1);
        let author = Keypair::derived("gas-bomb", 2);
        let ledger = Ledger::genesis(&[
            (account_of(&Address::from_private_key(&wallet)), 1_000_000_000_000),
            (carrier.account(), 1_000_000),
            (author.account(), 0),
        ])
        .expect("a genesis");
        let mut bomb = Bomb { ledger, wallet, carrier, author, wallet_nonce: 0, carrier_nonce: 0 };
        let context = context(1);
        for kind in KINDS {
            let raw = bomb.sign(None, kind.init_code(), DEPLOY_GAS);
            let tx = bomb.carrier_tx(raw);
            bomb.apply(&tx, &context).expect("the attacker deploys");
            assert!(bomb.ledger.evm().code(&bomb.address(kind)).is_some(), "{kind:?} deployed");
        }
        bomb
    }

    pub fn sender(&self) -> Address {
        Address::from_private_key(&self.wallet)
    }

    /// Where `kind`'s contract lives (deployed by the wallet's nonce = its index in `KINDS`).
    pub fn address(&self, kind: Kind) -> Address {
        let index = KINDS.iter().position(|k| *k == kind).expect("a listed kind");
        self.sender().create(index as u64)
    }

    pub fn sign(&mut self, to: Option<Address>, input: Vec<u8>, gas: u64) -> Vec<u8> {
        let raw = sign(&self.wallet, self.wallet_nonce, to, input, gas);
        self.wallet_nonce += 1;
        raw
    }

    pub fn carrier_tx(&mut self, raw: Vec<u8>) -> Transaction {
        let body = TransactionBody {
            from: self.carrier.account(),
            nonce: self.carrier_nonce,
            kind: TxKind::Evm(Box::new(EvmCall::new(raw))),
            fee: 1,
            parents: [Hash::ZERO, Hash::ZERO],
            issued_at_ms: 0,
        };
        self.carrier_nonce += 1;
        body.sign(&self.carrier).expect("signs")
    }

    /// `count` carriers of `kind`'s transactions, `gas` each, in nonce order.
    pub fn carriers(&mut self, kind: Kind, count: u64, gas: u64) -> Vec<Transaction> {
        (0..count)
            .map(|index| {
                let raw = self.sign(Some(self.address(kind)), kind.calldata(index), gas);
                self.carrier_tx(raw)
            })
            .collect()
    }

    pub fn apply(&mut self, tx: &Transaction, context: &StorageContext) -> Result<(), LedgerError> {
        let mut undo = Undo::default();
        self.ledger.apply_in(
            tx,
            &self.author.account(),
            POLICY,
            StorageMode::Full(context),
            &mut undo,
        )
    }

    /// Start checkpoint `context` (the EVM gas counter back to zero).
    pub fn begin(&mut self, context: &StorageContext) {
        let mut undo = Undo::default();
        self.ledger.evm_begin(&context.evm, &self.author.account(), POLICY, &mut undo);
    }

    /// Apply a whole checkpoint of carriers; returns the results in order.
    pub fn checkpoint(
        &mut self,
        carriers: &[Transaction],
        context: &StorageContext,
    ) -> Vec<Result<(), LedgerError>> {
        self.begin(context);
        carriers.iter().map(|tx| self.apply(tx, context)).collect()
    }
}
