//! The EVM share of the simulated workload (`SimConfig::evm_share`, docs/evm.md): a few
//! secp256k1 wallets, keyed from the run's seed and funded in genesis at their mapped native
//! accounts (`evm::account_of`), each deploy the committed `VeinToken` ERC-20
//! (`contracts/build/VeinToken.json`) with their nonce 0 and then send ERC-20 transfers of it,
//! with a small share of calls that revert (a transfer of more than the balance) or run out of
//! gas (a gas limit a little above the intrinsic cost). Whatever the draws, each wallet's first
//! call (nonce 1) reverts and its second (nonce 2) runs out of gas ([`forced_action`]), so a
//! run that executes any wallet's first calls always has failed receipts to check: on some
//! seeds the 10% share alone drew none among the few calls that became final. A random funded
//! node that is up wraps each one in a `TxKind::Evm` carrier, as `eth_sendRawTransaction`
//! would.
//!
//! Nonces follow the node's documented rule (the nonce hold): a wallet signs sequential nonces
//! and never waits for one to execute, since a carrier the DAG orders early is held until the
//! gap fills. A carrier can still be lost for good (its node crashed before it spread, or the
//! checkpoint gas limit made it invalid), which would hold every later nonce forever; so when a
//! wallet is more than [`OUTSTANDING_MAX`] nonces ahead of what the submitting node has
//! executed, and that node neither holds the executed nonce nor has its last carrier waiting in
//! its DAG (it never arrived, or a checkpoint ignored it), the wallet signs that nonce again (a
//! gap fill; if the first copy was only late after all, one of the two is ignored).
//!
//! [`EvmObserver`] watches every node's events for the run report: carriers applied per
//! connected height, checkpoints with EVM effects that a reorganisation disconnected, and those
//! carriers applied again on the new branch (re-executed). The receipts' digest for the
//! `evm-receipts` end check is [`crate::evm_receipts`].

use crate::checker::FinalTx;
use crate::config::{FEE, SimConfig, derive_seed};
use crate::evm_receipts::ReceiptsAt;
use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Signature, TxKind as EthTxKind};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use vein_node::core::crypto::AccountId;
use vein_node::core::dag::{Dag, Outcome};
use vein_node::core::events::Event;
use vein_node::core::evm::{Address, EvmCall, EvmState, GAS_PRICE_MIN_WEI, U256, account_of};
use vein_node::core::hash::Hash;
use vein_node::core::node::{Node, RejectReason};
use vein_node::core::transaction::TxKind;

/// Wallets in a run with EVM load.
pub const WALLETS: usize = 4;
/// Native units (gwei) each wallet's address holds in genesis: far more than its gas.
pub const WALLET_BALANCE: u64 = 1_000_000_000_000;
/// Nonces a wallet may be ahead of what the submitting node executed before it fills the gap.
pub const OUTSTANDING_MAX: u64 = 8;
/// Gas limits: the deployment, a transfer, and a transfer meant to run out of gas (above the
/// ~21,600 intrinsic cost of its calldata, below a cold storage read).
const GAS_DEPLOY: u64 = 2_000_000;
const GAS_TRANSFER: u64 = 100_000;
const GAS_STARVED: u64 = 23_000;
/// The token's supply, minted to its deployer: 10^24 base units.
const SUPPLY_EXPONENT: u64 = 24;
/// Draw actions: a transfer of more than the supply, which reverts, and a starved one.
const ACTION_REVERT: u64 = 90;
const ACTION_STARVED: u64 = 95;
/// `transfer(address,uint256)`.
const TRANSFER_SELECTOR: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const VEIN_TOKEN_BUILD: &str = include_str!("../../contracts/build/VeinToken.json");

/// Why the EVM workload could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EvmWorkloadError {
    /// The committed build is not JSON with a hex `bytecode` string.
    #[error("contracts/build/VeinToken.json: {detail}")]
    Build {
        /// What was wrong with it.
        detail: String,
    },
}

/// The seeded draws behind one EVM transaction.
#[derive(Clone, Copy, Debug)]
pub struct EvmDraw {
    /// Which wallet signs.
    pub wallet: usize,
    /// 0..100: a transfer, a reverting transfer (90..95) or a starved one (95..100).
    pub action: u64,
    /// The recipient: another wallet, or one of a few outside addresses.
    pub to: u64,
    /// 1..=1000 token base units.
    pub amount: u64,
}

impl EvmDraw {
    /// Draw one from the EVM workload's own stream.
    pub fn draw(rng: &mut vein_node::core::random::DetRng) -> EvmDraw {
        EvmDraw {
            wallet: rng.index(WALLETS),
            action: rng.below(100),
            to: rng.below(WALLETS as u64 + 4),
            amount: 1 + rng.below(1_000),
        }
    }
}

/// One wallet: its key, its address and the next nonce it signs.
#[derive(Clone, Debug)]
pub struct Wallet {
    key: SigningKey,
    /// The Ethereum address of `key`.
    pub address: Address,
    /// The next new nonce this wallet signs.
    pub next_nonce: u64,
    /// The carrier unit last submitted for each nonce not known executed yet.
    carriers: BTreeMap<u64, Hash>,
}

/// What the submitting node knows of a wallet's executed nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Held in its state, or its carrier is in its DAG and not confirmed yet: on its way.
    InFlight,
    /// Its carrier is unknown to the node, or a checkpoint confirmed it without executing it.
    Missing,
}

impl Wallet {
    /// The wallet numbered `index` of the run with `seed`.
    fn derived(seed: u64, index: usize) -> Wallet {
        // A 32-byte draw is a valid secret key unless it is zero or above the group order
        // (probability ~2^-128); the next draw of the stream is taken then.
        let key = (0..)
            .find_map(|attempt: u64| {
                let bytes = derive_seed(seed, "evm-wallet", (index as u64) << 32 | attempt);
                SigningKey::from_bytes(&bytes.into()).ok()
            })
            .unwrap_or_else(|| unreachable!("an endless stream of draws"));
        let address = Address::from_private_key(&key);
        Wallet { key, address, next_nonce: 0, carriers: BTreeMap::new() }
    }

    /// The wallet's own token: the contract its nonce 0 deploys.
    pub fn token(&self) -> Address {
        self.address.create(0)
    }

    /// Which nonce to sign now, given what the submitting node executed (`executed`) and
    /// what it knows of that nonce: the next new one, or a gap fill.
    pub fn nonce_to_sign(&self, executed: u64, pending: Pending) -> u64 {
        let behind = self.next_nonce.saturating_sub(executed);
        if behind > OUTSTANDING_MAX && pending == Pending::Missing {
            executed
        } else {
            self.next_nonce
        }
    }

    /// Sign the transaction of `draw` at `nonce` for `chain_id`: the token's deployment at
    /// nonce 0, else a transfer of its own token (or a reverting or starved one).
    pub fn sign(
        &self,
        init_code: &[u8],
        nonce: u64,
        draw: &EvmDraw,
        recipients: &[Address],
        chain_id: u64,
    ) -> Vec<u8> {
        let (to, gas_limit, input) = if nonce == 0 {
            (EthTxKind::Create, GAS_DEPLOY, init_code.to_vec())
        } else {
            let recipient = recipients
                .get(draw.to as usize)
                .copied()
                .unwrap_or_else(|| Address::repeat_byte(0xe0 + draw.to as u8));
            let (amount, gas_limit) = match forced_action(nonce).unwrap_or(draw.action) {
                // More than the supply: `InsufficientBalance` reverts.
                ACTION_REVERT..ACTION_STARVED => (U256::MAX, GAS_TRANSFER),
                ACTION_STARVED.. => (U256::from(draw.amount), GAS_STARVED),
                _ => (U256::from(draw.amount), GAS_TRANSFER),
            };
            (EthTxKind::Call(self.token()), gas_limit, transfer_input(recipient, amount))
        };
        let tx = TxLegacy {
            chain_id: Some(chain_id),
            nonce,
            gas_price: GAS_PRICE_MIN_WEI,
            gas_limit,
            to,
            value: U256::ZERO,
            input: input.into(),
        };
        let (signature, recovery) = self
            .key
            .sign_prehash_recoverable(tx.signature_hash().as_slice())
            .unwrap_or_else(|error| unreachable!("a valid key signs any prehash: {error}"));
        let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
        TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
    }
}

/// The action every wallet's call at `nonce` takes whatever its draw: nonce 1 reverts, nonce 2
/// runs out of gas (see the module doc); `None` for the later nonces, which follow their draw.
pub fn forced_action(nonce: u64) -> Option<u64> {
    match nonce {
        1 => Some(ACTION_REVERT),
        2 => Some(ACTION_STARVED),
        _ => None,
    }
}

/// `transfer(to, amount)` calldata.
fn transfer_input(to: Address, amount: U256) -> Vec<u8> {
    let mut input = TRANSFER_SELECTOR.to_vec();
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(to.as_slice());
    input.extend_from_slice(&amount.to_be_bytes::<32>());
    input
}

/// `VeinToken`'s init code with its constructor arguments ("Sim", "SIM", 10^24).
pub fn token_init_code() -> Result<Vec<u8>, EvmWorkloadError> {
    let build: serde_json::Value = serde_json::from_str(VEIN_TOKEN_BUILD)
        .map_err(|error| EvmWorkloadError::Build { detail: error.to_string() })?;
    let bytecode = build["bytecode"]
        .as_str()
        .ok_or_else(|| EvmWorkloadError::Build { detail: "no bytecode string".to_string() })?;
    let mut code = hex::decode(bytecode.trim_start_matches("0x"))
        .map_err(|error| EvmWorkloadError::Build { detail: error.to_string() })?;
    let word = |value: U256| value.to_be_bytes::<32>();
    let text = |text: &str| {
        let mut padded = [0u8; 32];
        padded[..text.len()].copy_from_slice(text.as_bytes());
        padded
    };
    // ABI head: two string offsets and the supply; then each string's length and bytes.
    for part in [
        word(U256::from(0x60)),
        word(U256::from(0xa0)),
        word(U256::from(10u64).pow(U256::from(SUPPLY_EXPONENT))),
        word(U256::from(3)),
        text("Sim"),
        word(U256::from(3)),
        text("SIM"),
    ] {
        code.extend_from_slice(&part);
    }
    Ok(code)
}

/// The run's wallets and the init code they deploy.
#[derive(Debug)]
pub struct EvmWallets {
    /// The wallets, by index.
    pub wallets: Vec<Wallet>,
    /// `VeinToken`'s init code with constructor arguments.
    pub init_code: Vec<u8>,
}

impl EvmWallets {
    /// The [`WALLETS`] wallets of the run with `seed`.
    pub fn new(seed: u64) -> Result<EvmWallets, EvmWorkloadError> {
        let wallets = (0..WALLETS).map(|index| Wallet::derived(seed, index)).collect();
        Ok(EvmWallets { wallets, init_code: token_init_code()? })
    }

    /// Genesis allocations funding every wallet's address.
    pub fn allocations(&self) -> Vec<(AccountId, u64)> {
        self.wallets.iter().map(|wallet| (account_of(&wallet.address), WALLET_BALANCE)).collect()
    }

    /// Every wallet's address: the recipients a draw picks from (other draws go outside).
    pub fn addresses(&self) -> Vec<Address> {
        self.wallets.iter().map(|wallet| wallet.address).collect()
    }

    /// The carrier of `draw` as a node with contract state `evm` and `dag` would wrap it, and
    /// the nonce signed.
    pub fn carrier(
        &self,
        draw: &EvmDraw,
        evm: &EvmState,
        dag: &Dag,
        chain_id: u64,
    ) -> Option<(TxKind, usize, u64)> {
        let wallet = self.wallets.get(draw.wallet)?;
        let executed = evm.nonce(&wallet.address);
        let carrier = wallet.carriers.get(&executed);
        let waiting = carrier.is_some_and(|id| dag.contains(id) && dag.confirmation(id).is_none());
        let pending = if waiting || evm.held(&wallet.address, executed).is_some() {
            Pending::InFlight
        } else {
            Pending::Missing
        };
        let nonce = wallet.nonce_to_sign(executed, pending);
        let raw = wallet.sign(&self.init_code, nonce, draw, &self.addresses(), chain_id);
        Some((TxKind::Evm(Box::new(EvmCall::new(raw))), draw.wallet, nonce))
    }

    /// Carrier `id` of `wallet`'s `nonce` was accepted for submission by a node that had
    /// executed the wallet's nonces below `executed`.
    pub fn signed(&mut self, wallet: usize, nonce: u64, id: Hash, executed: u64) {
        if let Some(wallet) = self.wallets.get_mut(wallet) {
            wallet.next_nonce = wallet.next_nonce.max(nonce + 1);
            wallet.carriers.insert(nonce, id);
            // Executed nonces never need a gap fill: what is kept is bounded by those in flight.
            wallet.carriers = wallet.carriers.split_off(&executed);
        }
    }
}

/// What the EVM counters of a run found (all zero without `evm_share`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvmReport {
    /// Carriers a node accepted for submission.
    pub submitted: u64,
    /// EVM draws not submitted: the node was down or refused (e.g. the nonce was used).
    pub refused: u64,
    /// Of the submitted, gap fills: a nonce signed again because it looked lost.
    pub gap_fills: u64,
    /// Receipts at heights every node holds final at the end (executions: status 1 or 0).
    pub receipts: u64,
    /// Of those, status 0: reverted or halted (out of gas).
    pub failed_receipts: u64,
    /// Carriers reported final as ignored (nonce used or duplicate, checkpoint gas full).
    pub carriers_ignored: u64,
    /// Carriers reported final as applied (executed or held).
    pub carriers_applied: u64,
    /// Checkpoints with applied carriers that a node disconnected in a reorganisation.
    pub disconnected_checkpoints: u64,
    /// Carriers those disconnections took off a node's chain.
    pub disconnected_carriers: u64,
    /// Of those, the ones the same node applied again on its new branch (re-executed).
    pub reexecuted_carriers: u64,
}

/// One node's view for the observer: the EVM carriers applied at each height of its active
/// chain, and those a reorganisation disconnected that it has not applied again yet.
#[derive(Debug, Default)]
struct NodeView {
    applied_at: BTreeMap<u64, Vec<Hash>>,
    disconnected: BTreeSet<Hash>,
}

/// Watches every node's events for EVM carriers (see the module doc).
#[derive(Debug, Default)]
pub struct EvmObserver {
    carriers: BTreeSet<Hash>,
    nodes: BTreeMap<usize, NodeView>,
    /// The counters the events feed (the receipt ones are filled at the end).
    pub report: EvmReport,
}

impl EvmObserver {
    /// `id` is an EVM carrier of the workload (registered as it is submitted, before any node
    /// can confirm it).
    pub fn carrier(&mut self, id: Hash) {
        self.carriers.insert(id);
    }

    /// Whether `id` is a carrier of the workload.
    pub fn is_carrier(&self, id: &Hash) -> bool {
        self.carriers.contains(id)
    }

    /// Node `node` (re)starts: its chain is rebuilt from its disk, its events start over.
    pub fn start(&mut self, node: usize) {
        self.nodes.remove(&node);
    }

    /// Feed one event of node `node`.
    pub fn on_event(&mut self, node: usize, event: &Event) {
        match event {
            Event::TxConfirmed { id, height, outcome: Outcome::Applied }
                if self.carriers.contains(id) =>
            {
                let view = self.nodes.entry(node).or_default();
                view.applied_at.entry(*height).or_default().push(*id);
                if view.disconnected.remove(id) {
                    self.report.reexecuted_carriers += 1;
                }
            }
            Event::CheckpointDisconnected { height, .. } => {
                let view = self.nodes.entry(node).or_default();
                if let Some(ids) = view.applied_at.remove(height) {
                    self.report.disconnected_checkpoints += 1;
                    self.report.disconnected_carriers += ids.len() as u64;
                    view.disconnected.extend(ids);
                }
            }
            _ => {}
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The EVM workload of one run, shared by the workload task (which submits through a node's
/// driver) and every node's event hook.
#[derive(Debug)]
pub struct EvmRun {
    wallets: Mutex<EvmWallets>,
    observer: Mutex<EvmObserver>,
}

impl EvmRun {
    /// The run's EVM workload, if its configuration has an EVM share.
    pub fn new(config: &SimConfig) -> Result<Option<Arc<EvmRun>>, EvmWorkloadError> {
        if config.evm_share <= 0.0 {
            return Ok(None);
        }
        let wallets = Mutex::new(EvmWallets::new(config.seed)?);
        Ok(Some(Arc::new(EvmRun { wallets, observer: Mutex::new(EvmObserver::default()) })))
    }

    /// Genesis allocations funding the wallets.
    pub fn allocations(&self) -> Vec<(AccountId, u64)> {
        lock(&self.wallets).allocations()
    }

    /// Sign `draw`'s transaction against `node`'s ledger and submit its carrier from `node`
    /// (called on the node's driver, so the carrier is registered before any event of it).
    pub fn submit(&self, node: &mut Node, draw: &EvmDraw) -> Result<(), RejectReason> {
        let mut wallets = lock(&self.wallets);
        let chain_id = node.chain().evm_chain_id();
        let evm = node.chain().ledger().evm();
        let Some((kind, wallet, nonce)) = wallets.carrier(draw, evm, node.dag(), chain_id) else {
            return Ok(());
        };
        let executed = wallets.wallets.get(wallet).map_or(0, |w| evm.nonce(&w.address));
        let gap_fill = wallets.wallets.get(wallet).is_some_and(|w| nonce < w.next_nonce);
        let unit = node.submit(0, kind, FEE)?;
        wallets.signed(wallet, nonce, unit.id, executed);
        let mut observer = lock(&self.observer);
        observer.carrier(unit.id);
        observer.report.submitted += 1;
        observer.report.gap_fills += u64::from(gap_fill);
        Ok(())
    }

    /// A draw that was not submitted (the node down, or its refusal).
    pub fn refused(&self) {
        lock(&self.observer).report.refused += 1;
    }

    /// Node `node` (re)starts.
    pub fn start(&self, node: usize) {
        lock(&self.observer).start(node);
    }

    /// Feed one event of node `node`.
    pub fn on_event(&self, node: usize, event: &Event) {
        lock(&self.observer).on_event(node, event);
    }

    /// The counters, with the carriers' final outcomes from `finals` and the receipts the
    /// node with the highest final height holds at its final heights.
    pub fn report(
        &self,
        finals: &BTreeMap<Hash, FinalTx>,
        receipts: Option<&BTreeMap<u64, ReceiptsAt>>,
    ) -> EvmReport {
        let observer = lock(&self.observer);
        let mut report = observer.report;
        for (id, tx) in finals {
            if observer.is_carrier(id) {
                match tx.outcome {
                    Outcome::Applied => report.carriers_applied += 1,
                    Outcome::Ignored => report.carriers_ignored += 1,
                }
            }
        }
        for at in receipts.into_iter().flat_map(BTreeMap::values) {
            report.receipts += at.executed;
            report.failed_receipts += at.failed;
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::core::evm::DecodedTx;

    #[test]
    fn wallets_are_seeded_and_sign_decodable_transactions() {
        let wallets = EvmWallets::new(7).unwrap();
        let again = EvmWallets::new(7).unwrap();
        assert_eq!(wallets.addresses(), again.addresses());
        assert_ne!(wallets.addresses(), EvmWallets::new(8).unwrap().addresses());
        let chain_id = 1234;
        let draw = EvmDraw { wallet: 1, action: 0, to: 0, amount: 5 };
        let wallet = &wallets.wallets[1];
        let deploy = wallet.sign(&wallets.init_code, 0, &draw, &wallets.addresses(), chain_id);
        let decoded = EvmCall::new(deploy).decode(chain_id).unwrap();
        assert_eq!((decoded.sender, decoded.nonce), (wallet.address, 0));
        let transfer = wallet.sign(&wallets.init_code, 3, &draw, &wallets.addresses(), chain_id);
        let decoded: DecodedTx = EvmCall::new(transfer).decode(chain_id).unwrap();
        assert_eq!(decoded.nonce, 3);
        assert_eq!(decoded.gas_limit, GAS_TRANSFER);
        assert_eq!(decoded.input.to_vec(), transfer_input(wallets.addresses()[0], U256::from(5)));
    }

    #[test]
    fn every_wallets_first_two_calls_fail_whatever_the_draw() {
        let wallets = EvmWallets::new(512_977_828_947_521_543).unwrap();
        let (chain_id, recipients) = (1234, wallets.addresses());
        for wallet in &wallets.wallets {
            let draw = EvmDraw { wallet: 0, action: 0, to: 1, amount: 5 };
            let sign = |nonce| {
                let raw = wallet.sign(&wallets.init_code, nonce, &draw, &recipients, chain_id);
                EvmCall::new(raw).decode(chain_id).unwrap()
            };
            let reverting = sign(1);
            assert_eq!(
                reverting.input.to_vec(),
                transfer_input(recipients[1], U256::MAX),
                "reverts"
            );
            assert_eq!(reverting.gas_limit, GAS_TRANSFER);
            let starved = sign(2);
            assert_eq!(starved.gas_limit, GAS_STARVED, "runs out of gas");
            assert_eq!(starved.input.to_vec(), transfer_input(recipients[1], U256::from(5)));
            assert_eq!(sign(3).gas_limit, GAS_TRANSFER, "later nonces follow the draw");
        }
    }

    #[test]
    fn a_wallet_fills_a_gap_only_when_far_ahead_and_the_nonce_is_missing() {
        let mut wallet = Wallet::derived(1, 0);
        wallet.next_nonce = 5;
        assert_eq!(wallet.nonce_to_sign(2, Pending::Missing), 5);
        wallet.next_nonce = 2 + OUTSTANDING_MAX + 1;
        assert_eq!(wallet.nonce_to_sign(2, Pending::Missing), 2);
        assert_eq!(wallet.nonce_to_sign(2, Pending::InFlight), 2 + OUTSTANDING_MAX + 1);
    }

    #[test]
    fn the_observer_counts_disconnected_and_reexecuted_carriers() {
        let mut observer = EvmObserver::default();
        let carrier = Hash([1; 32]);
        let other = Hash([2; 32]);
        observer.carrier(carrier);
        let confirmed = |id, height| Event::TxConfirmed { id, height, outcome: Outcome::Applied };
        let disconnected = |height| Event::CheckpointDisconnected {
            id: Hash([9; 32]),
            height,
            author: AccountId([0; 32]),
        };
        observer.on_event(0, &confirmed(carrier, 4));
        observer.on_event(0, &confirmed(other, 5));
        observer.on_event(0, &disconnected(5));
        assert_eq!(observer.report.disconnected_checkpoints, 0);
        observer.on_event(0, &disconnected(4));
        assert_eq!(observer.report.disconnected_checkpoints, 1);
        assert_eq!(observer.report.disconnected_carriers, 1);
        // Another node applying it is not a re-execution on node 0.
        observer.on_event(1, &confirmed(carrier, 4));
        assert_eq!(observer.report.reexecuted_carriers, 0);
        observer.on_event(0, &confirmed(carrier, 4));
        assert_eq!(observer.report.reexecuted_carriers, 1);
        // A restart starts the node's view over.
        observer.on_event(0, &disconnected(4));
        observer.start(0);
        observer.on_event(0, &confirmed(carrier, 4));
        assert_eq!(observer.report.reexecuted_carriers, 1);
    }
}
