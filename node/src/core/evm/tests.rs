//! The EVM through the ledger, as a checkpoint applies it: deploy and call, transfer, revert,
//! out of gas, the nonce hold, reorg undo and order independence of the root.

use super::*;
use crate::core::contracts::{StorageContext, StorageMode};
use crate::core::crypto::Keypair;
use crate::core::hash::Hash;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::params::StorageParams;
use crate::core::transaction::{Transaction, TransactionBody, TxKind};
use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::Signature;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use revm::primitives::TxKind as EthTxKind;
use std::collections::BTreeMap;
use std::sync::Arc;

const CHAIN_ID: u64 = 4242;
const GWEI: u128 = 1_000_000_000;
const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };

/// Stores its first calldata word in slot 0 and logs it as a topic; reverts when it is zero.
const RUNTIME: [u8; 26] = [
    0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x60, 0x00, 0x35, 0x15,
    0x60, 0x14, 0x57, 0x00, 0x5b, 0x60, 0x00, 0x60, 0x00, 0xfd,
];

/// Init code: copy the runtime (after these 11 bytes) to memory and return it.
fn init_code() -> Vec<u8> {
    let mut code = vec![0x60, 0x1a, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(&RUNTIME);
    code
}

struct World {
    ledger: Ledger,
    wallet: SigningKey,
    carrier: Keypair,
    author: Keypair,
    carrier_nonce: u64,
}

fn wallet_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32].into()).unwrap()
}

fn address(key: &SigningKey) -> Address {
    Address::from_private_key(key)
}

fn world() -> World {
    let wallet = wallet_key(7);
    let carrier = Keypair::derived("evm", 1);
    let author = Keypair::derived("evm", 2);
    let ledger = Ledger::genesis(&[
        (account_of(&address(&wallet)), 1_000_000_000),
        (carrier.account(), 1_000),
        (author.account(), 0),
    ])
    .unwrap();
    World { ledger, wallet, carrier, author, carrier_nonce: 0 }
}

fn context(height: u64, chain_id: u64) -> StorageContext {
    let generation_signature = Hash::of(&height.to_le_bytes());
    StorageContext {
        height,
        params: StorageParams::default(),
        nodes: Arc::from(Vec::new()),
        generation_signatures: BTreeMap::from([(height, generation_signature)]),
        evm: EvmBlock {
            height,
            timestamp_ms: 5_000,
            generation_signature,
            parent_id: Hash::of_parts(&[b"parent", &height.to_le_bytes()]),
            chain_id,
        },
    }
}

fn sign_1559(
    key: &SigningKey,
    nonce: u64,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    gas_limit: u64,
) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 3 * GWEI,
        max_priority_fee_per_gas: 2 * GWEI,
        to: to.map_or(EthTxKind::Create, EthTxKind::Call),
        value,
        access_list: Default::default(),
        input: input.into(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

fn sign_legacy(key: &SigningKey, nonce: u64, to: Address, value: U256, chain_id: u64) -> Vec<u8> {
    let tx = TxLegacy {
        chain_id: Some(chain_id),
        nonce,
        gas_price: GWEI,
        gas_limit: 21_000,
        to: EthTxKind::Call(to),
        value,
        input: Default::default(),
    };
    let (signature, recovery) =
        key.sign_prehash_recoverable(tx.signature_hash().as_slice()).unwrap();
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

fn word(value: u64) -> Vec<u8> {
    U256::from(value).to_be_bytes::<32>().to_vec()
}

impl World {
    fn carrier_tx(&mut self, raw: Vec<u8>) -> Transaction {
        let body = TransactionBody {
            from: self.carrier.account(),
            nonce: self.carrier_nonce,
            kind: TxKind::Evm(Box::new(EvmCall::new(raw))),
            fee: 1,
            parents: [Hash::ZERO, Hash::ZERO],
            issued_at_ms: 0,
        };
        self.carrier_nonce += 1;
        body.sign(&self.carrier).unwrap()
    }

    /// Apply one carrier at `height` as a checkpoint would.
    fn apply(&mut self, raw: Vec<u8>, height: u64, undo: &mut Undo) -> Result<(), LedgerError> {
        let tx = self.carrier_tx(raw);
        let context = context(height, CHAIN_ID);
        self.ledger.apply_in(&tx, &self.author.account(), POLICY, StorageMode::Full(&context), undo)
    }

    fn receipt(&self, raw: &[u8]) -> Receipt {
        let hash = EvmCall::new(raw.to_vec()).decode(CHAIN_ID).unwrap().hash;
        self.ledger.evm().receipt(&hash).cloned().expect("executed")
    }

    fn deploy(&mut self, height: u64, undo: &mut Undo) -> Address {
        let raw = sign_1559(&self.wallet, 0, None, U256::ZERO, init_code(), 200_000);
        self.apply(raw.clone(), height, undo).unwrap();
        let receipt = self.receipt(&raw);
        assert!(receipt.success);
        receipt.contract_address.unwrap()
    }
}

#[test]
fn a_deployed_contract_stores_and_logs_and_gas_is_paid_in_native_units() {
    let mut world = world();
    let mut undo = Undo::default();
    let sender = address(&world.wallet);
    let contract = world.deploy(1, &mut undo);
    assert_eq!(contract, sender.create(0));
    assert_eq!(
        world.ledger.evm().code(&contract).map(|code| code.to_vec()),
        Some(RUNTIME.to_vec())
    );
    let before = world.ledger.balance(&account_of(&sender));
    let raw = sign_1559(&world.wallet, 1, Some(contract), U256::ZERO, word(42), 100_000);
    world.apply(raw.clone(), 1, &mut undo).unwrap();
    let receipt = world.receipt(&raw);
    assert!(receipt.success);
    assert_eq!(world.ledger.evm().slot(&contract, &U256::ZERO), U256::from(42));
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!(receipt.logs[0].topics, vec![B256::from(U256::from(42))]);
    assert_eq!(receipt.index, 1, "the second execution of height 1");
    // Effective price: the 2 gwei priority fee (base fee zero), 2 native units per gas.
    let paid = before - world.ledger.balance(&account_of(&sender));
    assert_eq!(paid, 2 * receipt.gas_used);
    assert_eq!(world.ledger.evm().nonce(&sender), 2);
    world.ledger.check_invariants().unwrap();
}

#[test]
fn a_transfer_moves_whole_gwei_between_native_accounts() {
    let mut world = world();
    let to = Address::repeat_byte(0x42);
    let raw = sign_legacy(&world.wallet, 0, to, U256::from(5 * GWEI), CHAIN_ID);
    world.apply(raw.clone(), 1, &mut Undo::default()).unwrap();
    assert!(world.receipt(&raw).success);
    assert_eq!(world.ledger.balance(&account_of(&to)), 5);
    // Gas (21,000 units at 1 gwei) and the carrier's vein fee, each split by the policy.
    let to_author = POLICY.split(21_000).1 + POLICY.split(1).1;
    assert_eq!(world.ledger.balance(&world.author.account()), to_author);
    world.ledger.check_invariants().unwrap();
}

#[test]
fn a_revert_and_an_out_of_gas_give_status_zero_keep_storage_and_advance_the_nonce() {
    let mut world = world();
    let mut undo = Undo::default();
    let contract = world.deploy(1, &mut undo);
    let sender = address(&world.wallet);
    let reverting = sign_1559(&world.wallet, 1, Some(contract), U256::ZERO, word(0), 100_000);
    world.apply(reverting.clone(), 1, &mut undo).unwrap();
    let receipt = world.receipt(&reverting);
    assert!(!receipt.success);
    assert!(receipt.logs.is_empty(), "a revert drops its logs");
    assert_eq!(world.ledger.evm().slot(&contract, &U256::ZERO), U256::ZERO);
    // 21,000 + calldata leaves too little for the SSTORE.
    let starved = sign_1559(&world.wallet, 2, Some(contract), U256::ZERO, word(9), 22_000);
    world.apply(starved.clone(), 1, &mut undo).unwrap();
    let receipt = world.receipt(&starved);
    assert!(!receipt.success);
    assert_eq!(receipt.gas_used, 22_000);
    assert_eq!(world.ledger.evm().slot(&contract, &U256::ZERO), U256::ZERO);
    assert_eq!(world.ledger.evm().nonce(&sender), 3);
    world.ledger.check_invariants().unwrap();
}

#[test]
fn malformed_badly_signed_and_foreign_chain_transactions_are_refused_with_nothing_changed() {
    let mut world = world();
    let before = world.ledger.clone();
    let to = Address::repeat_byte(1);
    let foreign = sign_legacy(&world.wallet, 0, to, U256::ZERO, CHAIN_ID + 1);
    let result = world.apply(foreign, 1, &mut Undo::default());
    assert!(matches!(result, Err(LedgerError::EvmTx(EvmTxError::WrongChainId { .. }))));
    let mut tampered = sign_legacy(&world.wallet, 0, to, U256::ZERO, CHAIN_ID);
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff; // a byte of s: another signer, or none
    let call = EvmCall::new(tampered.clone());
    let recovered = call.decode(CHAIN_ID).map(|tx| tx.sender);
    assert!(recovered.is_err() || recovered.is_ok_and(|sender| sender != address(&world.wallet)));
    let result = world.apply(vec![0xf8, 0x01, 0x02], 1, &mut Undo::default());
    assert!(matches!(result, Err(LedgerError::EvmTx(EvmTxError::Malformed { .. }))));
    assert_eq!(world.ledger, before);
}

#[test]
fn a_remembered_sender_leaves_the_carriers_bytes_and_the_decoded_transaction_unchanged() {
    let mut world = world();
    let raw = sign_legacy(&world.wallet, 0, Address::repeat_byte(1), U256::from(GWEI), CHAIN_ID);
    let carrier = world.carrier_tx(raw);
    let bytes_before = carrier.encode().unwrap();
    let TxKind::Evm(call) = &carrier.body.kind else { unreachable!() };
    let recovered = call.decode(CHAIN_ID).unwrap();
    let reused = call.decode(CHAIN_ID).unwrap();
    assert_eq!(recovered, reused);
    assert_eq!(recovered.sender, address(&world.wallet));
    assert_eq!(carrier.encode().unwrap(), bytes_before, "the sender is never serialised");
    let from_peer = Transaction::decode(&bytes_before).unwrap();
    assert_eq!(from_peer, carrier, "whether a sender is remembered is no part of the value");
    // The rules after recovery still apply to a remembered sender.
    let foreign = call.decode(CHAIN_ID + 1);
    assert!(matches!(foreign, Err(EvmTxError::WrongChainId { .. })), "{foreign:?}");
}

#[test]
fn a_nonce_ahead_is_held_until_the_gap_fills_then_both_execute_in_nonce_order() {
    let mut world = world();
    let to = Address::repeat_byte(0x42);
    let first = sign_legacy(&world.wallet, 0, to, U256::from(GWEI), CHAIN_ID);
    let second = sign_legacy(&world.wallet, 1, to, U256::from(2 * GWEI), CHAIN_ID);
    let mut undo = Undo::default();
    world.apply(second.clone(), 1, &mut undo).unwrap();
    let sender = address(&world.wallet);
    assert!(world.ledger.evm().held(&sender, 1).is_some());
    assert_eq!(world.ledger.balance(&account_of(&to)), 0);
    world.apply(first.clone(), 1, &mut undo).unwrap();
    assert_eq!(world.ledger.balance(&account_of(&to)), 3);
    assert_eq!(world.ledger.evm().nonce(&sender), 2);
    assert!(world.ledger.evm().held(&sender, 1).is_none());
    assert_eq!(world.receipt(&first).index, 0);
    assert_eq!(world.receipt(&second).index, 1);
    // A used nonce never executes twice.
    let result = world.apply(first, 2, &mut Undo::default());
    assert!(matches!(result, Err(LedgerError::EvmNonceUsed { nonce: 0, .. })));
}

#[test]
fn the_root_is_the_same_whichever_order_the_dag_gave_a_wallets_nonces() {
    let roots: Vec<Hash> = [[0usize, 1, 2], [2, 1, 0], [1, 2, 0]]
        .iter()
        .map(|order| {
            let mut world = world();
            let to = Address::repeat_byte(0x42);
            let raws: Vec<Vec<u8>> = (0..3)
                .map(|nonce| sign_legacy(&world.wallet, nonce, to, U256::from(GWEI), CHAIN_ID))
                .collect();
            for &index in order {
                world.apply(raws[index].clone(), 1, &mut Undo::default()).unwrap();
            }
            assert_eq!(world.ledger.balance(&account_of(&to)), 3);
            world.ledger.root()
        })
        .collect();
    assert_eq!(roots[0], roots[1]);
    assert_eq!(roots[0], roots[2]);
}

#[test]
fn reverting_the_undo_log_restores_the_state_and_the_root_exactly() {
    let mut world = world();
    let root = world.ledger.root();
    let before = world.ledger.clone();
    let mut undo = Undo::default();
    let contract = world.deploy(1, &mut undo);
    let raw = sign_1559(&world.wallet, 1, Some(contract), U256::ZERO, word(7), 100_000);
    world.apply(raw, 1, &mut undo).unwrap();
    let ahead = sign_1559(&world.wallet, 5, Some(contract), U256::ZERO, word(8), 100_000);
    world.apply(ahead, 1, &mut undo).unwrap();
    assert_ne!(world.ledger.root(), root);
    world.ledger.revert(undo);
    assert_eq!(world.ledger.root(), root);
    assert_eq!(world.ledger, before);
}

#[test]
fn a_checkpoint_executes_at_most_its_gas_limit() {
    let mut world = world();
    let to = Address::repeat_byte(0x42);
    let mut undo = Undo::default();
    // Init code 0xfe (INVALID) halts and consumes its whole gas limit: two such transactions
    // of just over half the limit each do not fit one checkpoint.
    let gas = CHECKPOINT_GAS_MAX / 2 + 1_000_000;
    let big = sign_1559(&world.wallet, 0, None, U256::ZERO, vec![0xfe], gas);
    world.apply(big.clone(), 1, &mut undo).unwrap();
    assert_eq!(world.receipt(&big).gas_used, gas);
    let second = sign_1559(&world.wallet, 1, Some(to), U256::ZERO, Vec::new(), gas);
    let result = world.apply(second.clone(), 1, &mut undo);
    assert!(matches!(result, Err(LedgerError::CheckpointGasFull { .. })));
    // The next checkpoint starts with the full limit.
    world.ledger.evm_begin(&context(2, CHAIN_ID).evm, &world.author.account(), POLICY, &mut undo);
    world.apply(second, 2, &mut undo).unwrap();
}

#[test]
fn a_ledger_without_contracts_keeps_its_root_section_free() {
    let mut world = world();
    let root = world.ledger.root();
    let mut undo = Undo::default();
    world.ledger.evm_begin(&context(1, CHAIN_ID).evm, &world.author.account(), POLICY, &mut undo);
    assert!(world.ledger.evm().is_empty());
    assert_eq!(world.ledger.root(), root);
}

mod blockhash;
mod erc20;
