//! A peer's test suite: a vendored subset of the Ethereum Foundation's state tests
//! (ethereum/tests `GeneralStateTests`, Cancun; node/tests/fixtures/state-tests/README.md) run
//! through vein's own execution path, and the pass rate reported (docs/evm.md).
//!
//! Model: each (test, index) case builds a genesis `Ledger` holding the pre-state (balances as
//! native units, nonces, code and storage in `EvmState`), signs the fixture's transaction with
//! its key and applies it in a carrier through `Ledger::apply_in` as a checkpoint does, at a
//! block mapped from the fixture's `env`. The post-state is then read back from the ledger,
//! seen as Ethereum would hold it, and its Merkle-Patricia root and the logs hash are compared
//! with the fixture's; an expected exception must be a transaction vein does not execute.
//!
//! Three mappings make Ethereum fixtures expressible in vein; the comparison undoes what they
//! move, so they hide nothing but the quantities they name:
//! - Prices: vein's gas prices are whole gwei and at least 1 gwei, the fixtures' a few wei.
//!   Every non-zero price field is signed as 1 gwei (a priority fee above the max fee as
//!   2 gwei, so that refusal stays), a zero gas price stays zero (vein refuses it). The sender
//!   is lent what the higher price asks for its gas limit ([`loan`]), so revm's funds check and
//!   the balance the EVM sees are Ethereum's; afterwards the loan is taken back, the sender
//!   gets back what vein charged and pays what Ethereum charges for the same gas (`gas_used` ×
//!   the fixture's effective price), and the fixture's coinbase gets the priority fee Ethereum
//!   pays it (vein's fees go to its fee sink and checkpoint author). A wrong `gas_used`
//!   therefore still shows as a wrong root.
//! - Gas limits: a transaction asking for more than vein's checkpoint limit (30,000,000) is
//!   signed with that limit; a case whose execution depends on the difference fails.
//! - Sub-gwei amounts: vein holds and moves whole gwei. A pre-state balance's sub-gwei
//!   remainder stays outside the EVM and is added back to the same address afterwards; the
//!   transaction's value is signed without its sub-gwei part, which moves from the sender to
//!   the recipient afterwards if the transaction succeeded. A case in which such an amount
//!   matters (read by BALANCE or CALLVALUE, or moved by a CALL) fails and is explained.
//!
//! Cases that hit a deliberate difference (docs/evm.md) are listed with their reason in
//! `fixtures/state-tests/explained.txt`. The test fails if any other case fails, or if a listed
//! case passes (the list cannot rot). Each listed case is also run on revm alone with Ethereum's
//! own parameters (`reference.rs`): a vein difference must pass there, and a case explained as
//! revm's own behaviour (`revm:`) must fail there too, so no explanation can hide a vein bug.

#[path = "state_tests/fixture.rs"]
mod fixture;
#[path = "state_tests/reference.rs"]
mod reference;

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_consensus::private::alloy_primitives::Signature;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_trie::TrieAccount;
use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
use fixture::{Account, Case, Price};
use k256::ecdsa::SigningKey;
use revm::primitives::{Log, TxKind as EthTxKind, keccak256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vein_node::core::contracts::{StorageContext, StorageMode};
use vein_node::core::evm::{
    Address, B256, CHECKPOINT_GAS_MAX, EvmAccount, EvmBlock, EvmCall, EvmState, EvmUndo, FEE_SINK,
    GasSchedule, U256, WEI_PER_UNIT, account_of,
};
use vein_node::core::ledger::{FeePolicy, Ledger, Undo};
use vein_node::core::params::StorageParams;
use vein_node::{Hash, Keypair, TransactionBody, TxKind};

/// The fixtures' chain id; the vein block is given the same.
const CHAIN_ID: u64 = 1;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state-tests")
}

/// Every vendored case, in file order.
fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut categories: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    categories.sort();
    for category in categories {
        let name = category.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&category)
            .expect("category directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        for file in files {
            let json = std::fs::read_to_string(&file).expect("fixture file");
            let file_name = file.file_name().and_then(|n| n.to_str()).expect("utf-8 name");
            cases.extend(fixture::cases(&name, file_name, &json).expect("a readable fixture"));
        }
    }
    cases
}

/// The explained cases: `case id | reason`, one a line; `#` starts a comment.
fn explained() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixtures_dir().join("explained.txt")).expect("explained");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (id, reason) = line.split_once(" | ").expect("`case id | reason`");
            (id.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

fn gwei() -> U256 {
    U256::from(WEI_PER_UNIT)
}

/// vein's lowest price (1 gwei), and what a fixture's price fields are signed as.
fn one_gwei() -> u128 {
    u128::from(WEI_PER_UNIT)
}

/// A fixture's price (a few wei) as vein's: 1 gwei, or 0 for 0 (which vein refuses).
fn vein_price(wei: U256) -> u128 {
    if wei == U256::ZERO { 0 } else { one_gwei() }
}

/// A 1559 priority fee as vein's: 1 gwei, a zero one too (Ethereum's base fee makes such a
/// price non-zero; vein's base fee is zero); one above the max fee stays above it (2 gwei).
fn vein_priority(max_fee: U256, priority: U256) -> u128 {
    one_gwei() * if priority > max_fee { 2 } else { 1 }
}

/// The pre-state as a vein ledger, and each balance's sub-gwei remainder (kept outside).
fn pre_ledger(case: &Case, carrier: &Keypair) -> Option<(Ledger, BTreeMap<Address, U256>)> {
    let mut allocations = vec![(carrier.account(), 1_000), (account_of(&case.sender), loan(case))];
    let mut remainders = BTreeMap::new();
    let mut evm = EvmState::default();
    let mut undo = EvmUndo::default();
    for (address, account) in &case.pre {
        let (units, remainder) = account.balance.div_rem(gwei());
        allocations.push((account_of(address), u64::try_from(units).ok()?));
        if remainder != U256::ZERO {
            remainders.insert(*address, remainder);
        }
        let code_hash = keccak256(&account.code);
        if !account.code.is_empty() {
            evm.insert_code(code_hash, account.code.clone(), &mut undo);
        }
        evm.set_account(*address, EvmAccount { nonce: account.nonce, code_hash }, &mut undo);
        for (key, value) in &account.storage {
            evm.set_slot(*address, *key, *value, &mut undo);
        }
    }
    Some((Ledger::genesis_with_evm(&allocations, evm, GasSchedule::Ethereum)?, remainders))
}

/// The fixture's transaction signed for vein (EIP-155 for legacy), prices in gwei; `None` when
/// a field does not fit a transaction at all (vein would refuse it as malformed).
fn signed(case: &Case) -> Option<Vec<u8>> {
    let key = SigningKey::from_bytes(&case.secret_key.0.into()).ok()?;
    let nonce = u64::try_from(case.nonce).ok()?;
    // Above vein's checkpoint limit a transaction never runs: such fixtures (80,000,000 is
    // common) are signed with the checkpoint limit instead.
    let gas_limit = u64::try_from(vein_gas_limit(case)).ok()?;
    let to = case.to.map_or(EthTxKind::Create, EthTxKind::Call);
    let access_list = AccessList(
        case.access_list
            .iter()
            .flatten()
            .map(|(address, keys)| AccessListItem { address: *address, storage_keys: keys.clone() })
            .collect(),
    );
    let input = case.data.clone();
    let sign = |hash: B256| -> Option<Signature> {
        let (signature, recovery) = key.sign_prehash_recoverable(hash.as_slice()).ok()?;
        Some(Signature::from_signature_and_parity(signature, recovery.is_y_odd()))
    };
    let envelope: TxEnvelope = match case.price {
        Price::Legacy(price) if case.access_list.is_none() => {
            let tx = TxLegacy {
                chain_id: Some(CHAIN_ID),
                nonce,
                gas_price: vein_price(price),
                gas_limit,
                to,
                value: whole_gwei(case.value),
                input,
            };
            let signature = sign(tx.signature_hash())?;
            tx.into_signed(signature).into()
        }
        Price::Legacy(price) => {
            let tx = TxEip2930 {
                chain_id: CHAIN_ID,
                nonce,
                gas_price: vein_price(price),
                gas_limit,
                to,
                value: whole_gwei(case.value),
                access_list,
                input,
            };
            let signature = sign(tx.signature_hash())?;
            tx.into_signed(signature).into()
        }
        Price::Dynamic { max_fee, priority } => {
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: vein_price(max_fee),
                max_priority_fee_per_gas: vein_priority(max_fee, priority),
                to,
                value: whole_gwei(case.value),
                access_list,
                input,
            };
            let signature = sign(tx.signature_hash())?;
            tx.into_signed(signature).into()
        }
    };
    Some(envelope.encoded_2718())
}

/// The gas limit vein runs the transaction with (see [`signed`]).
fn vein_gas_limit(case: &Case) -> U256 {
    case.gas_limit.min(U256::from(CHECKPOINT_GAS_MAX))
}

/// Native units lent to the sender before the transaction and taken back after it: what
/// vein's 1 gwei price asks for the gas limit beyond what the fixture's price asks, so that
/// revm's funds check and the sender's balance during execution are Ethereum's (to within
/// 1 gwei). Zero when the fixture's price is 1 gwei or more.
fn loan(case: &Case) -> u64 {
    let asked = match case.price {
        Price::Legacy(price) => price,
        Price::Dynamic { max_fee, .. } => max_fee,
    };
    let extra = U256::from(one_gwei()).saturating_sub(asked);
    let wei = vein_gas_limit(case).saturating_mul(extra);
    u64::try_from(wei.div_ceil(gwei())).unwrap_or(u64::MAX)
}

/// `wei` less its sub-gwei remainder: vein moves whole gwei.
fn whole_gwei(wei: U256) -> U256 {
    wei - wei % gwei()
}

/// The price per gas Ethereum charges the sender, and the part of it the coinbase receives.
fn ethereum_price(case: &Case) -> (U256, U256) {
    let base = case.env.base_fee;
    let price = match case.price {
        Price::Legacy(price) => price,
        Price::Dynamic { max_fee, priority } => max_fee.min(base.saturating_add(priority)),
    };
    (price, price.saturating_sub(base))
}

/// What one case did on vein, seen as Ethereum state.
struct Run {
    executed: bool,
    /// Why vein did not execute it (the ledger's refusal), for the failure message.
    refused: Option<String>,
    /// The receipt's status and gas used, for the failure message.
    status: Option<(bool, u64)>,
    /// The state as run, before the mappings are undone (vein: the ledger's EVM accounts).
    raw: BTreeMap<Address, Account>,
    root: B256,
    logs_hash: B256,
}

/// Run `case` through the ledger as a checkpoint applies a carrier; `None` when the pre-state
/// cannot be held by vein at all.
fn run(case: &Case) -> Option<Run> {
    let carrier = Keypair::derived("state-tests", 0);
    let author = Keypair::derived("state-tests", 1);
    let (mut ledger, remainders) = pre_ledger(case, &carrier)?;
    let generation_signature = Hash(case.env.random.0);
    let context = StorageContext {
        height: case.env.number,
        params: StorageParams::default(),
        nodes: Arc::from(Vec::new()),
        generation_signatures: BTreeMap::from([(case.env.number, generation_signature)]),
        evm: EvmBlock {
            height: case.env.number,
            timestamp_ms: case.env.timestamp.saturating_mul(1_000),
            generation_signature,
            parent_id: Hash::ZERO,
            chain_id: CHAIN_ID,
        },
    };
    let mut receipt = None;
    let mut refused = Some("the transaction does not encode (a field too large)".to_string());
    if let Some(raw) = signed(case) {
        let body = TransactionBody {
            from: carrier.account(),
            nonce: 0,
            kind: TxKind::Evm(Box::new(EvmCall::new(raw.clone()))),
            fee: 1,
            parents: [Hash::ZERO, Hash::ZERO],
            issued_at_ms: 0,
        };
        let carrier_tx = body.sign(&carrier).ok()?;
        let policy = FeePolicy { burn_per_mille: 500 };
        let applied = ledger.apply_in(
            &carrier_tx,
            &author.account(),
            policy,
            StorageMode::Full(&context),
            &mut Undo::default(),
        );
        refused = match applied {
            Ok(()) => Some("held: its nonce is ahead of the sender's".to_string()),
            Err(error) => Some(error.to_string()),
        };
        receipt = ledger.evm().receipt(&keccak256(&raw)).cloned();
        if receipt.is_some() {
            refused = None;
        }
    }
    let mut known: BTreeSet<Address> = case.pre.keys().copied().collect();
    known.extend(receipt.as_ref().and_then(|receipt| receipt.contract_address));
    let raw = ethereum_state(&ledger, &BTreeMap::new(), &known);
    let mut state = ethereum_state(&ledger, &remainders, &known);
    let sender = state.entry(case.sender).or_default();
    sender.balance = sender.balance.wrapping_sub(U256::from(loan(case)) * gwei());
    if let Some(receipt) = &receipt {
        let gas = U256::from(receipt.gas_used);
        let (price, tip) = ethereum_price(case);
        let sender = state.entry(case.sender).or_default();
        let charged = gas * U256::from(receipt.effective_gas_price);
        // Wrapping: a mismatch must show as a wrong root, never as a panic.
        sender.balance = sender.balance.wrapping_add(charged).wrapping_sub(gas * price);
        state.entry(case.env.coinbase).or_default().balance += gas * tip;
        // The value's sub-gwei remainder, kept outside, moves as Ethereum moves the value.
        let remainder = case.value % gwei();
        if let (true, Some(to)) = (receipt.success, case.to.or(receipt.contract_address)) {
            let sender = state.entry(case.sender).or_default();
            sender.balance = sender.balance.wrapping_sub(remainder);
            let to = state.entry(to).or_default();
            to.balance = to.balance.wrapping_add(remainder);
        }
    }
    let logs: Vec<_> = receipt
        .iter()
        .flat_map(|receipt| receipt.logs.iter())
        .map(|log| Log::new_unchecked(log.address, log.topics.clone(), log.data.clone()))
        .collect();
    Some(Run {
        executed: receipt.is_some(),
        refused,
        status: receipt.as_ref().map(|receipt| (receipt.success, receipt.gas_used)),
        raw,
        root: root_of(&state),
        logs_hash: keccak256(alloy_rlp::encode(&logs)),
    })
}

/// The ledger's EVM-visible accounts as Ethereum holds them: native balances of `account_of`
/// addresses in wei plus their kept remainders, nonces, code and storage.
fn ethereum_state(
    ledger: &Ledger,
    remainders: &BTreeMap<Address, U256>,
    known: &BTreeSet<Address>,
) -> BTreeMap<Address, Account> {
    let mut state: BTreeMap<Address, Account> = BTreeMap::new();
    for (account, entry) in ledger.accounts() {
        let bytes = account.as_bytes();
        if bytes[..12].iter().all(|byte| *byte == 0) {
            let address = Address::from_slice(&bytes[12..]);
            state.entry(address).or_default().balance = U256::from(entry.balance) * gwei();
        }
    }
    let evm = ledger.evm();
    // Storage can outlive an account's nonce and code (a pre-state may hold slots at an address
    // with neither): read it for every address the case knows of.
    let mut addresses: BTreeSet<Address> = evm.accounts().map(|(address, _)| *address).collect();
    addresses.extend(state.keys().copied());
    addresses.extend(known.iter().copied());
    for address in addresses {
        let account = state.entry(address).or_default();
        account.nonce = evm.nonce(&address);
        account.code = evm.code(&address).cloned().unwrap_or_default();
        account.storage = evm.slots_of(&address).collect();
    }
    for (address, remainder) in remainders {
        state.entry(*address).or_default().balance += *remainder;
    }
    state
}

/// The Merkle-Patricia root of `state`, empty accounts left out (EIP-161).
fn root_of(state: &BTreeMap<Address, Account>) -> B256 {
    state_root_unhashed(
        state
            .iter()
            .filter(|(_, account)| {
                account.balance != U256::ZERO || account.nonce != 0 || !account.code.is_empty()
            })
            .map(|(address, account)| {
                let storage = account
                    .storage
                    .iter()
                    .filter(|(_, value)| **value != U256::ZERO)
                    .map(|(key, value)| (B256::from(*key), *value));
                (
                    *address,
                    TrieAccount {
                        nonce: account.nonce,
                        balance: account.balance,
                        storage_root: storage_root_unhashed(storage),
                        code_hash: keccak256(&account.code),
                    },
                )
            }),
    )
}

/// Why `case` fails on vein, or `None` when it passes.
fn failure(case: &Case) -> Option<String> {
    if case.blob {
        return Some("a blob transaction (vein refuses type 3)".to_string());
    }
    let Some(run) = run(case) else {
        return Some("the pre-state does not fit vein's u64 native balances".to_string());
    };
    let mut wrong = Vec::new();
    if run.executed == case.exception.is_some() {
        wrong.push(match &case.exception {
            Some(exception) => format!("executed, expected {exception}"),
            None => format!("not executed ({})", run.refused.as_deref().unwrap_or("?")),
        });
    }
    if run.root != case.post_root {
        wrong.push(match run.status {
            Some((success, gas)) => {
                format!(
                    "state root differs (status {}, gas {gas} of {})",
                    u8::from(success),
                    case.gas_limit
                )
            }
            None => "state root differs".to_string(),
        });
    }
    if run.logs_hash != case.logs_hash {
        wrong.push("logs differ".to_string());
    }
    (!wrong.is_empty()).then(|| wrong.join(", "))
}

#[test]
fn every_state_test_passes_or_is_explained() {
    let cases = all_cases();
    let explained = explained();
    let mut by_category: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut rotten = Vec::new();
    let mut unfounded = Vec::new();
    let ids: BTreeSet<&str> = cases.iter().map(|case| case.id.as_str()).collect();
    for case in &cases {
        let row = by_category.entry(case.category.as_str()).or_default();
        row.2 += 1;
        match (failure(case), explained.contains_key(&case.id)) {
            (None, false) => row.0 += 1,
            (None, true) => rotten.push(case.id.clone()),
            // A vein difference must pass on revm with Ethereum's parameters; revm's own
            // behaviour (`revm:`) must fail there too.
            (Some(_), true)
                if reference::passes(case) == explained[&case.id].starts_with("revm:") =>
            {
                unfounded.push(case.id.clone())
            }
            (Some(_), true) => row.1 += 1,
            (Some(why), false) => unexplained.push(format!("{} | {why}", case.id)),
        }
    }
    println!("{:<14} {:>7} {:>10} {:>6}", "category", "passed", "explained", "total");
    let mut totals = (0, 0, 0);
    for (category, (passed, explained, total)) in &by_category {
        println!("{category:<14} {passed:>7} {explained:>10} {total:>6}");
        totals = (totals.0 + passed, totals.1 + explained, totals.2 + total);
    }
    println!("{:<14} {:>7} {:>10} {:>6}", "all", totals.0, totals.1, totals.2);
    let unknown: Vec<&String> = explained.keys().filter(|id| !ids.contains(id.as_str())).collect();
    assert!(unknown.is_empty(), "explained cases that are not vendored: {unknown:#?}");
    assert!(rotten.is_empty(), "explained cases that now pass (remove them): {rotten:#?}");
    assert!(
        unfounded.is_empty(),
        "explanations the reference run (revm, Ethereum's parameters) contradicts: {unfounded:#?}"
    );
    assert!(unexplained.is_empty(), "failing cases not explained:\n{}", unexplained.join("\n"));
}

/// The comparison is not vacuous: a passing case with any expectation changed fails.
#[test]
fn a_changed_expectation_fails() {
    let cases = all_cases();
    let case = cases
        .iter()
        .find(|case| case.id.starts_with("storage/") && failure(case).is_none())
        .expect("a passing storage case");
    let mut root = case.clone();
    root.post_root.0[0] ^= 1;
    assert!(failure(&root).is_some_and(|why| why.starts_with("state root differs")));
    let mut logs = case.clone();
    logs.logs_hash.0[0] ^= 1;
    assert_eq!(failure(&logs).as_deref(), Some("logs differ"));
    let mut exception = case.clone();
    exception.exception = Some("TransactionException.INTRINSIC_GAS_TOO_LOW".to_string());
    assert!(failure(&exception).is_some_and(|why| why.starts_with("executed, expected")));
}

/// `state` without what only one side has: empty accounts (EIP-161), zero slots and the fee
/// sink (revm alone keeps the fee there; vein splits it to the author and the burn).
fn comparable(state: &BTreeMap<Address, Account>) -> BTreeMap<Address, Account> {
    state
        .iter()
        .filter(|(address, account)| {
            **address != FEE_SINK
                && (account.balance != U256::ZERO || account.nonce != 0 || !account.code.is_empty())
        })
        .map(|(address, account)| {
            let mut account = account.clone();
            account.storage.retain(|_, value| *value != U256::ZERO);
            (*address, account)
        })
        .collect()
}

/// vein's own path (state adapter, change extraction, ledger writes) against revm alone given
/// the same parameters: every case vein admits must leave the same state, status, gas and logs,
/// except where an amount would leave whole gwei, which vein fails as a whole (docs/evm.md).
#[test]
fn vein_writes_what_revm_alone_computes_with_the_same_parameters() {
    let (mut compared, mut whole_gwei_rule, mut mismatches) = (0, 0, Vec::new());
    for case in all_cases() {
        // Refused at admission (blob, price rules): nothing executes on either side to compare.
        let admitted = signed(&case).is_some_and(|raw| EvmCall::new(raw).decode(CHAIN_ID).is_ok());
        if case.blob || !admitted {
            continue;
        }
        let (Some(vein), Some(alone)) = (run(&case), reference::run_as_vein(&case)) else {
            mismatches.push(format!("{}: a run did not start", case.id));
            continue;
        };
        let alone_state = comparable(&alone.state);
        if alone_state.values().any(|account| account.balance % gwei() != U256::ZERO) {
            whole_gwei_rule += 1;
            let gas_limit = u64::try_from(vein_gas_limit(&case)).unwrap_or(u64::MAX);
            if vein.status != Some((false, gas_limit)) {
                mismatches.push(format!("{}: a sub-gwei result not failed whole", case.id));
            }
            continue;
        }
        compared += 1;
        let logs_hash = keccak256(alloy_rlp::encode(&alone.logs));
        if comparable(&vein.raw) != alone_state
            || vein.executed != alone.executed
            || vein.status != alone.status
            || vein.logs_hash != logs_hash
        {
            mismatches
                .push(format!("{}: vein {:?}, revm {:?}", case.id, vein.status, alone.status));
        }
    }
    println!("{compared} cases compared, {whole_gwei_rule} failed whole by the whole-gwei rule");
    assert!(compared > 700, "too few cases compared: {compared}");
    assert!(mismatches.is_empty(), "vein differs from revm alone:\n{}", mismatches.join("\n"));
}
