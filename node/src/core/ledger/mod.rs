//! The ledger: balances, nonces, rewards and burns. Ledger state is a pure function of the
//! checkpoint chain (White Flag ordering applies transactions in a fixed order), so two honest
//! nodes on the same chain hold byte-identical state and the same `root()`.
//!
//! Nonces: an account may use each nonce once. Nonces below `nonce_floor` are all used; above it,
//! the used ones are listed. A nonce is acceptable if it is unused and below
//! `nonce_floor + NONCE_WINDOW`. Gaps are allowed because the DAG may order two transactions of
//! one account either way; a strict "next nonce" rule would throw away honest transactions that
//! happened to be ordered late. The window bounds the per-account state. See docs/protocol.md.
//!
//! Every change goes through an `Undo` log so that a reorganisation re-derives the ledger exactly.
//!
//! Storage (docs/storage.md): the ledger also holds the storage contracts (`contracts.rs`). A
//! `StorePut` moves its prepaid fee from the owner's balance into a contract's escrow; proofs
//! mark shards proven; `settle` pays or burns each round's budget. Escrow is part of the supply:
//! `balances + escrow = genesis + minted − burned`. Storage rules need the checkpoint height and
//! recent generation signatures, which the chain passes in a `StorageContext` (`apply_in`).
//!
//! EVM (docs/evm.md): a `TxKind::Evm` carrier's Ethereum transaction executes against the
//! native balances and the `evm` section (`evm_execution.rs`), through the same undo log.
//!
//! Federated learning (docs/federated-learning.md): `TxKind::Fl` tasks hold their price in
//! escrow (counted in the supply like storage escrow) and pay it out per settled round
//! (`fl_execution.rs`).
//! Tokens (docs/tokens.md): business tokens live in the `tokens` section; `TxKind::Token` and
//! a consortium's passed mint proposal change it (`token_execution.rs`), through the undo log.
//! Side chains (docs/sidechains.md): registered chains and their light clients live in the
//! `side_chains` section; `TxKind::SideChain` changes it (`sidechain_execution.rs`).
//! Peg (docs/peg.md): `TxKind::Peg` locks, mints, burns and releases business tokens across
//! chains (`peg_execution.rs`); with peg state the root also commits the peg's outbox.

use crate::core::consortium::{Consortia, ConsortiumEffect, ConsortiumUndo};
use crate::core::contracts::{Contract, Settlement, StorageContext, StorageMode};
use crate::core::crypto::AccountId;
use crate::core::evm::{EvmEffect, EvmState, EvmUndo, GasSchedule};
use crate::core::fl::{FlEffect, FlTasks, FlTx, FlUndo};
use crate::core::hash::Hash;
pub use crate::core::params::FeePolicy;
use crate::core::peg::{FinalHeaders, PegEffect, PegUndo, Pegs};
use crate::core::sidechain::{SideChainEffect, SideChainUndo, SideChains};
use crate::core::storage::{
    Challenge, StorageProof, StorePut, check_assignment, reassign_attempt, round_payouts,
    verify_storage_proof,
};
use crate::core::token::{TokenEffect, TokenUndo, Tokens};
use crate::core::transaction::{Transaction, TxKind};
pub use error::{InvariantViolation, LedgerError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod error;
mod evm_execution;
mod fl_execution;
mod peg_execution;
mod root;
mod sidechain_execution;
mod token_execution;

/// How far above the floor a nonce may be.
pub const NONCE_WINDOW: u64 = 1024;

/// Largest storage proof a put may require: half a message, leaving room for the envelope,
/// the transaction and slack.
pub const PROOF_BYTES_MAX: usize = crate::core::wire::MESSAGE_BYTES_MAX / 2;

/// Upper bound on the encoded size of a proof of `challenge_count` chunks of `chunk_bytes`:
/// per chunk the bytes, a Merkle path of at most 35 hashes (shards hold < 2^35 chunks) and
/// length prefixes.
pub fn proof_bytes_max(chunk_bytes: u32, challenge_count: u32) -> u64 {
    u64::from(challenge_count) * (u64::from(chunk_bytes) + 35 * 32 + 32)
}

/// One native account's confirmed state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Spendable tokens (escrows are not in it).
    pub balance: u64,
    /// Every nonce below this is used.
    pub nonce_floor: u64,
    /// Used nonces at or above the floor.
    pub used_above_floor: BTreeSet<u64>,
}

impl Account {
    /// Whether a confirmed transaction of this account already used `nonce`.
    pub fn nonce_used(&self, nonce: u64) -> bool {
        nonce < self.nonce_floor || self.used_above_floor.contains(&nonce)
    }

    /// The lowest unused nonce: what a wallet should use next.
    pub fn next_nonce(&self) -> u64 {
        let mut candidate = self.nonce_floor;
        while self.used_above_floor.contains(&candidate) {
            candidate += 1;
        }
        candidate
    }

    fn use_nonce(&mut self, nonce: u64) {
        self.used_above_floor.insert(nonce);
        while self.used_above_floor.remove(&self.nonce_floor) {
            self.nonce_floor += 1;
        }
    }
}

/// What a checked transaction will do (computed once, by `check_in`).
enum Effect {
    Transfer {
        to: AccountId,
        amount: u64,
    },
    Open(Contract),
    Prove {
        file_id: Hash,
        shard_index: u8,
        round: u64,
    },
    Repair {
        file_id: Hash,
        shard_index: u8,
        node: AccountId,
    },
    /// Plausibility mode: a put's prepaid fee leaves the scratch ledger.
    BurnPrepaid(u64),
    /// Plausibility mode: a proof only pays its fee.
    FeeOnly,
    /// A consortium change, and the token mint its passed proposal carries out.
    Consortium(ConsortiumEffect, Option<TokenEffect>),
    Token(TokenEffect),
    /// An Ethereum transaction's execution or hold (the carrier pays its vein fee).
    Evm(EvmEffect),
    /// A learning task's next state and what its escrow pays or burns.
    Fl(FlEffect),
    /// A side chain's registration or the headers an anchor adds.
    SideChain(SideChainEffect),
    /// A peg lock, mint, burn or release: its token writes and its peg writes.
    /// Boxed: an outbox entry makes it the largest effect by far.
    Peg(Box<(TokenEffect, PegEffect)>),
}

/// The record needed to reverse a sequence of ledger changes.
#[derive(Debug, Default, Clone)]
pub struct Undo {
    previous: Vec<(AccountId, Option<Account>)>,
    /// Accounts already in `previous`: only the first (oldest) state of an account is needed
    /// to revert, and saving it again on every change cloned its whole used-nonce set per
    /// transaction (quadratic when one undo spans many transactions of one sender, as the
    /// tip-eligibility replay of a large unconfirmed cone does).
    saved: BTreeSet<AccountId>,
    contracts_previous: Vec<(Hash, Option<Contract>)>,
    minted_before: Option<u64>,
    burned_before: Option<u64>,
    consortia: ConsortiumUndo,
    evm: EvmUndo,
    fl: FlUndo,
    tokens: TokenUndo,
    side_chains: SideChainUndo,
    peg: PegUndo,
}

/// Reads of an undo log, for state as of an earlier height (the JSON-RPC's block parameter,
/// docs/evm.md "Historical state"): the first state an undo log saved of a key is the one it
/// had before the log began.
impl Undo {
    /// `account` before this log's first change to it: `Some(None)` if it did not exist,
    /// `None` if the log does not change it.
    pub fn account_before(&self, account: &AccountId) -> Option<Option<&Account>> {
        if !self.saved.contains(account) {
            return None;
        }
        self.previous.iter().find(|(saved, _)| saved == account).map(|(_, before)| before.as_ref())
    }

    /// The EVM section's part of this log.
    pub fn evm(&self) -> &EvmUndo {
        &self.evm
    }

    /// The business tokens' part of this log.
    pub fn tokens(&self) -> &TokenUndo {
        &self.tokens
    }
}

/// The confirmed state derived from the active chain: native accounts, storage contracts,
/// consortia, EVM state, learning tasks and business tokens (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    accounts: BTreeMap<AccountId, Account>,
    /// Active storage contracts by file id.
    contracts: BTreeMap<Hash, Contract>,
    genesis_supply: u64,
    minted: u64,
    burned: u64,
    consortia: Consortia,
    /// Contract state (docs/evm.md); balances stay in `accounts`.
    evm: EvmState,
    /// Federated-learning tasks and their escrow (docs/federated-learning.md).
    fl: FlTasks,
    /// Business tokens and their balances (docs/tokens.md).
    tokens: Tokens,
    /// Registered side chains and their light clients (docs/sidechains.md).
    side_chains: SideChains,
    /// The two-way peg's escrows, wrapped tokens, claims and outbox (docs/peg.md).
    peg: Pegs,
    /// Precompile prices of its executions: vein's, except in the Ethereum state tests.
    evm_schedule: GasSchedule,
}

impl Ledger {
    /// A ledger holding exactly the genesis allocations. Returns `None` if they overflow u64.
    pub fn genesis(allocations: &[(AccountId, u64)]) -> Option<Ledger> {
        let mut accounts: BTreeMap<AccountId, Account> = BTreeMap::new();
        let mut total: u64 = 0;
        for (account, amount) in allocations {
            total = total.checked_add(*amount)?;
            let entry = accounts.entry(*account).or_default();
            entry.balance = entry.balance.checked_add(*amount)?;
        }
        Some(Ledger {
            accounts,
            contracts: BTreeMap::new(),
            genesis_supply: total,
            minted: 0,
            burned: 0,
            consortia: Consortia::default(),
            evm: EvmState::default(),
            fl: FlTasks::default(),
            tokens: Tokens::default(),
            side_chains: SideChains::default(),
            peg: Pegs::default(),
            evm_schedule: GasSchedule::Vein,
        })
    }

    /// The account's state; `None` if it never held tokens nor used a nonce.
    pub fn account(&self, account: &AccountId) -> Option<&Account> {
        self.accounts.get(account)
    }

    /// Spendable tokens of the account (0 if unknown).
    pub fn balance(&self, account: &AccountId) -> u64 {
        self.accounts.get(account).map_or(0, |entry| entry.balance)
    }

    /// The account's lowest unused nonce (0 if unknown): what a wallet should use next.
    pub fn next_nonce(&self, account: &AccountId) -> u64 {
        self.accounts.get(account).map_or(0, Account::next_nonce)
    }

    /// Every known account, in key order.
    pub fn accounts(&self) -> impl Iterator<Item = (&AccountId, &Account)> {
        self.accounts.iter()
    }

    /// Native tokens in existence: `genesis + minted − burned` (balances plus escrows).
    pub fn supply(&self) -> u64 {
        self.genesis_supply + self.minted - self.burned
    }

    /// Tokens minted as checkpoint rewards since genesis.
    pub fn minted(&self) -> u64 {
        self.minted
    }

    /// Tokens burned since genesis (fee shares, storage forfeits, burns in the EVM and elsewhere).
    pub fn burned(&self) -> u64 {
        self.burned
    }

    /// The active storage contract of `file_id`, if any.
    pub fn contract(&self, file_id: &Hash) -> Option<&Contract> {
        self.contracts.get(file_id)
    }

    /// Every active storage contract, by file id.
    pub fn contracts(&self) -> impl Iterator<Item = (&Hash, &Contract)> {
        self.contracts.iter()
    }

    /// The consortia and their state.
    pub fn consortia(&self) -> &Consortia {
        &self.consortia
    }

    /// Tokens held in storage contract and learning task escrows (part of the supply, in no
    /// balance).
    pub fn escrowed(&self) -> u64 {
        self.contracts.values().map(|contract| contract.escrow).sum::<u64>() + self.fl.escrowed()
    }

    /// Would `tx` apply to the current state? Storage transactions are refused (no context).
    pub fn check(&self, tx: &Transaction) -> Result<(), LedgerError> {
        self.check_in(tx, StorageMode::Refuse, self.final_headers()).map(|_| ())
    }

    /// Would `tx` apply at a checkpoint described by `mode`, with `headers` the other chains'
    /// final headers (peg proofs)? Returns what it would do.
    fn check_in(
        &self,
        tx: &Transaction,
        mode: StorageMode<'_>,
        headers: &dyn FinalHeaders,
    ) -> Result<Effect, LedgerError> {
        let (from, nonce) = tx.spend_key();
        let needed = tx.body.debit().ok_or(LedgerError::AmountOverflow)?;
        let empty = Account::default();
        let account = self.accounts.get(&from).unwrap_or(&empty);
        if account.nonce_used(nonce) {
            return Err(LedgerError::NonceUsed { account: from, nonce });
        }
        if nonce >= account.nonce_floor.saturating_add(NONCE_WINDOW) {
            return Err(LedgerError::NonceOutsideWindow {
                account: from,
                nonce,
                floor: account.nonce_floor,
            });
        }
        if account.balance < needed {
            return Err(LedgerError::InsufficientBalance {
                account: from,
                balance: account.balance,
                needed,
            });
        }
        match (&tx.body.kind, mode) {
            (TxKind::Transfer { to, amount }, _) => {
                if *to == from {
                    return Err(LedgerError::SelfTransfer);
                }
                if self.balance(to).checked_add(*amount).is_none() {
                    return Err(LedgerError::BalanceOverflow { account: *to });
                }
                Ok(Effect::Transfer { to: *to, amount: *amount })
            }
            (
                TxKind::StorePut(_)
                | TxKind::StorageProof(_)
                | TxKind::StoreRepair { .. }
                | TxKind::Evm(_),
                StorageMode::Refuse,
            ) => Err(LedgerError::NoStorageContext),
            // Whether it executes depends on the checkpoint: only the carrier's fee moves.
            (TxKind::Evm(_), StorageMode::Plausibility) => Ok(Effect::FeeOnly),
            (TxKind::Evm(call), StorageMode::Full(context)) => {
                self.check_evm(call, &context.evm).map(Effect::Evm)
            }
            (TxKind::StorePut(put), StorageMode::Plausibility) => {
                // Structural validity does not depend on the checkpoint: refuse garbage early.
                put.validate().map_err(LedgerError::InvalidPut)?;
                Ok(Effect::BurnPrepaid(put.prepaid_fee))
            }
            (
                TxKind::StorageProof(_)
                | TxKind::StoreRepair { .. }
                | TxKind::Consortium(_)
                | TxKind::Token(_)
                | TxKind::SideChain(_)
                | TxKind::Peg(_),
                StorageMode::Plausibility,
            ) => Ok(Effect::FeeOnly),
            // Like a put: a post's escrow leaves the scratch ledger; payouts are the chain's.
            (TxKind::Fl(fl_tx), StorageMode::Plausibility) => Ok(match fl_tx.as_ref() {
                FlTx::Post(spec) => Effect::BurnPrepaid(spec.escrow().unwrap_or(0)),
                _ => Effect::FeeOnly,
            }),
            // Task rules need no checkpoint context, like consortium rules.
            (TxKind::Fl(fl_tx), _) => self.check_fl(fl_tx, &from, nonce).map(Effect::Fl),
            // Consortium and token rules need no checkpoint context; scratch replays (above)
            // leave them to the chain, which holds the consortia and tokens.
            (TxKind::Consortium(consortium_tx), mode) => {
                // An attestation's height window is relative to the checkpoint applying it.
                let checkpoint = match mode {
                    StorageMode::Full(context) => Some(context.height),
                    _ => None,
                };
                self.check_consortium(consortium_tx, &from, nonce, checkpoint)
            }
            (TxKind::Token(token_tx), _) => self
                .tokens
                .check(token_tx, &from, nonce, &self.consortia)
                .map(Effect::Token)
                .map_err(LedgerError::Token),
            (TxKind::SideChain(side_tx), mode) => {
                self.check_side_chain(side_tx, &from, nonce, mode).map(Effect::SideChain)
            }
            (TxKind::Peg(peg_tx), _) => self
                .check_peg(peg_tx, &from, nonce, headers)
                .map(|writes| Effect::Peg(Box::new(writes))),
            (TxKind::StoreRepair { file_id, shard_index }, StorageMode::Full(context)) => {
                let node = self.check_repair(file_id, *shard_index, context)?;
                Ok(Effect::Repair { file_id: *file_id, shard_index: *shard_index, node })
            }
            (TxKind::StorePut(put), StorageMode::Full(context)) => {
                self.check_put(put, &from, context).map(Effect::Open)
            }
            (TxKind::StorageProof(proof), StorageMode::Full(context)) => {
                self.check_proof(proof, &from, context)?;
                Ok(Effect::Prove {
                    file_id: proof.file_id,
                    shard_index: proof.shard_index,
                    round: proof.round,
                })
            }
        }
    }

    /// A put opens a contract if it is well formed, assigned by the rule over the node set, and
    /// its file is not already under contract.
    fn check_put(
        &self,
        put: &StorePut,
        owner: &AccountId,
        context: &StorageContext,
    ) -> Result<Contract, LedgerError> {
        put.validate().map_err(LedgerError::InvalidPut)?;
        // Every round's proof must fit in one message, or the contract could never be proven.
        let proof_bytes = proof_bytes_max(put.chunk_bytes, context.params.challenge_count);
        let limit = PROOF_BYTES_MAX as u64;
        if proof_bytes > limit {
            return Err(LedgerError::ProofTooLarge {
                chunk_bytes: put.chunk_bytes,
                proof_bytes,
                limit,
            });
        }
        check_assignment(put, &context.nodes).map_err(LedgerError::Assignment)?;
        if self.contracts.contains_key(&put.file_id) {
            return Err(LedgerError::FileActive { file_id: put.file_id });
        }
        let overflow =
            LedgerError::TermOverflow { height: context.height, term_rounds: put.term_rounds };
        let first_round = context.height.checked_add(1).ok_or(overflow.clone())?;
        first_round.checked_add(put.term_rounds).ok_or(overflow)?;
        let shards = usize::from(put.total_shards);
        Ok(Contract {
            put: Arc::new(put.clone()),
            owner: *owner,
            opened_at: context.height,
            first_round,
            escrow: put.prepaid_fee,
            proven: BTreeMap::new(),
            missed_rounds: vec![0; shards],
            consecutive_missed: vec![0; shards],
            paid: 0,
            forfeited: 0,
            settled_rounds: 0,
            repairs: 0,
        })
    }

    /// A repair is due once the shard's node missed `M` settled rounds in a row; the shard goes
    /// to the node `reassign_attempt` names over the node set for the file's repair count so far
    /// (the first repair of a file is plain `reassign`). Returns that node.
    fn check_repair(
        &self,
        file_id: &Hash,
        shard_index: u8,
        context: &StorageContext,
    ) -> Result<AccountId, LedgerError> {
        let contract =
            self.contracts.get(file_id).ok_or(LedgerError::UnknownFile { file_id: *file_id })?;
        let put = &contract.put;
        let out_of_range =
            LedgerError::ShardIndexOutOfRange { shard_index, total_shards: put.total_shards };
        let departed = put.storage_nodes.get(usize::from(shard_index)).ok_or(out_of_range)?;
        let consecutive =
            contract.consecutive_missed.get(usize::from(shard_index)).copied().unwrap_or(0);
        let needed = context.params.repair_after_missed.max(1);
        if consecutive < needed {
            return Err(LedgerError::RepairNotDue { shard_index, consecutive, needed });
        }
        let moved = reassign_attempt(put, departed, &context.nodes, contract.repairs)
            .map_err(LedgerError::Assignment)?;
        debug_assert_eq!(moved.shard_index, shard_index);
        Ok(moved.node)
    }

    /// A proof counts once, from the shard's node, for a round of the term, applied at a height
    /// in `round ..= round + D`, and only if it verifies against the roots.
    fn check_proof(
        &self,
        proof: &StorageProof,
        prover: &AccountId,
        context: &StorageContext,
    ) -> Result<(), LedgerError> {
        let file_id = proof.file_id;
        let contract = self.contracts.get(&file_id).ok_or(LedgerError::UnknownFile { file_id })?;
        let put = &contract.put;
        let shard_index = proof.shard_index;
        let holder = put.storage_nodes.get(usize::from(shard_index)).ok_or(
            LedgerError::ShardIndexOutOfRange { shard_index, total_shards: put.total_shards },
        )?;
        if holder != prover {
            return Err(LedgerError::NotAssignedNode {
                file_id,
                shard_index,
                expected: *holder,
                got: *prover,
            });
        }
        let round = proof.round;
        if !contract.covers(round) {
            return Err(LedgerError::RoundOutsideTerm {
                round,
                first: contract.first_round,
                last: contract.last_round(),
            });
        }
        let height = context.height;
        if height < round {
            return Err(LedgerError::ProofTooEarly { round, height });
        }
        let deadline = round.saturating_add(context.params.proof_deadline_rounds);
        if height > deadline {
            return Err(LedgerError::ProofTooLate { round, height, deadline });
        }
        if contract.is_proven(round, shard_index) {
            return Err(LedgerError::DuplicateProof { file_id, shard_index, round });
        }
        let generation_signature = *context
            .generation_signatures
            .get(&round)
            .ok_or(LedgerError::MissingGenerationSignature { round })?;
        let challenge = Challenge {
            generation_signature,
            round,
            count: context.params.challenge_count as usize,
        };
        verify_storage_proof(put, &challenge, proof).map_err(LedgerError::BadProof)
    }

    /// Apply `tx`, paying its fee per `policy` to `author`. Atomic: on error nothing changed.
    /// Storage transactions are refused; the chain uses [`Ledger::apply_in`].
    pub fn apply(
        &mut self,
        tx: &Transaction,
        author: &AccountId,
        policy: FeePolicy,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        self.apply_in(tx, author, policy, StorageMode::Refuse, undo)
    }

    /// Apply `tx` under storage rules `mode`. Atomic: on error nothing changed.
    pub fn apply_in(
        &mut self,
        tx: &Transaction,
        author: &AccountId,
        policy: FeePolicy,
        mode: StorageMode<'_>,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let effect = self.check_in(tx, mode, self.final_headers())?;
        self.apply_checked(tx, author, policy, mode, effect, undo)
    }

    /// Write what `check_in` found `tx` would do. Atomic: on error nothing changed.
    fn apply_checked(
        &mut self,
        tx: &Transaction,
        author: &AccountId,
        policy: FeePolicy,
        mode: StorageMode<'_>,
        effect: Effect,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let supply_before = self.supply();
        let (from, nonce) = tx.spend_key();
        let debit = tx.body.debit().ok_or(LedgerError::AmountOverflow)?;
        let (mut burned, to_author) = policy.split(tx.body.fee);
        // check_in() proved the debit fits and the recipient cannot overflow; the author's credit
        // is checked here before any change is made.
        if to_author > 0 && self.balance(author).checked_add(to_author).is_none() {
            return Err(LedgerError::BalanceOverflow { account: *author });
        }
        self.save(&from, undo);
        let sender = self.accounts.entry(from).or_default();
        sender.balance -= debit;
        sender.use_nonce(nonce);
        match effect {
            Effect::Transfer { to, amount } => {
                self.save(&to, undo);
                self.accounts.entry(to).or_default().balance += amount;
            }
            Effect::Open(contract) => {
                let file_id = contract.put.file_id;
                self.save_contract(&file_id, undo);
                self.contracts.insert(file_id, contract);
            }
            Effect::Prove { file_id, shard_index, round } => {
                self.save_contract(&file_id, undo);
                if let Some(contract) = self.contracts.get_mut(&file_id) {
                    contract.proven.entry(round).or_default().insert(shard_index);
                }
            }
            Effect::Repair { file_id, shard_index, node } => {
                self.save_contract(&file_id, undo);
                if let Some(contract) = self.contracts.get_mut(&file_id) {
                    let shard = usize::from(shard_index);
                    let mut put = (*contract.put).clone();
                    if let Some(slot) = put.storage_nodes.get_mut(shard) {
                        *slot = node;
                    }
                    contract.put = Arc::new(put);
                    if let Some(consecutive) = contract.consecutive_missed.get_mut(shard) {
                        *consecutive = 0;
                    }
                    contract.repairs += 1;
                }
            }
            Effect::BurnPrepaid(prepaid) => burned += prepaid,
            Effect::FeeOnly => {}
            Effect::Consortium(effect, mint) => {
                self.consortia.apply(effect, &mut undo.consortia);
                if let Some(mint) = mint {
                    self.tokens.apply(mint, &mut undo.tokens);
                }
            }
            Effect::Token(effect) => self.tokens.apply(effect, &mut undo.tokens),
            Effect::SideChain(effect) => self.side_chains.apply(effect, &mut undo.side_chains),
            Effect::Peg(writes) => {
                let (tokens, peg) = *writes;
                self.tokens.apply(tokens, &mut undo.tokens);
                self.peg.apply(peg, &mut undo.peg);
            }
            Effect::Fl(effect) => burned += self.apply_fl(effect, undo),
            Effect::Evm(effect) => {
                // check_in() ran it with a context: Full mode is the only way here.
                if let StorageMode::Full(context) = mode {
                    burned += self.apply_evm(effect, &context.evm, author, policy, undo);
                }
            }
        }
        if to_author > 0 {
            self.save(author, undo);
            self.accounts.entry(*author).or_default().balance += to_author;
        }
        undo.burned_before.get_or_insert(self.burned);
        self.burned += burned;
        debug_assert_eq!(self.supply() + burned, supply_before);
        Ok(())
    }

    /// Settle the round due at the checkpoint described by `context` (round `height − D`):
    /// every contract covering it pays its proven shards' nodes from escrow, burns the
    /// forfeits and records the misses; a contract whose last round this was is closed.
    /// Not atomic on error (only a u64 overflow can fail it): the caller reverts `undo`.
    pub fn settle(
        &mut self,
        context: &StorageContext,
        undo: &mut Undo,
    ) -> Result<Vec<Settlement>, LedgerError> {
        let Some(round) = context.height.checked_sub(context.params.proof_deadline_rounds) else {
            return Ok(Vec::new());
        };
        let due: Vec<Hash> = self
            .contracts
            .iter()
            .filter(|(_, contract)| contract.covers(round))
            .map(|(file_id, _)| *file_id)
            .collect();
        let mut settlements = Vec::with_capacity(due.len());
        for file_id in due {
            let Some(mut contract) = self.contracts.get(&file_id).cloned() else { continue };
            // Rounds settle in order, one per checkpoint, so this is the next unsettled one.
            debug_assert_eq!(round, contract.first_round + contract.settled_rounds);
            let proven = contract.proven.remove(&round).unwrap_or_default();
            let payout = round_payouts(&contract.put, round - contract.first_round, &proven)
                .map_err(LedgerError::Payment)?;
            for (node, amount) in &payout.payouts {
                let balance = self
                    .balance(node)
                    .checked_add(*amount)
                    .ok_or(LedgerError::BalanceOverflow { account: *node })?;
                self.save(node, undo);
                self.accounts.entry(*node).or_default().balance = balance;
            }
            undo.burned_before.get_or_insert(self.burned);
            self.burned += payout.forfeited;
            contract.escrow -= payout.budget;
            contract.paid += payout.budget - payout.forfeited;
            contract.forfeited += payout.forfeited;
            contract.settled_rounds += 1;
            let mut missed_shards = Vec::new();
            for shard_index in 0..contract.put.total_shards {
                let shard = usize::from(shard_index);
                if proven.contains(&shard_index) {
                    contract.consecutive_missed[shard] = 0;
                } else {
                    contract.missed_rounds[shard] += 1;
                    contract.consecutive_missed[shard] += 1;
                    missed_shards.push(shard_index);
                }
            }
            let closed = round == contract.last_round();
            self.save_contract(&file_id, undo);
            if closed {
                debug_assert_eq!(contract.escrow, 0);
                self.contracts.remove(&file_id);
            } else {
                self.contracts.insert(file_id, contract);
            }
            settlements.push(Settlement {
                file_id,
                round,
                proven_shards: proven.into_iter().collect(),
                missed_shards,
                payouts: payout.payouts,
                forfeited: payout.forfeited,
                closed,
            });
        }
        Ok(settlements)
    }

    /// Mint a checkpoint reward to `author`.
    pub fn mint(
        &mut self,
        author: &AccountId,
        amount: u64,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let new_balance = self
            .balance(author)
            .checked_add(amount)
            .ok_or(LedgerError::BalanceOverflow { account: *author })?;
        let minted = self.minted.checked_add(amount).ok_or(LedgerError::AmountOverflow)?;
        self.genesis_supply.checked_add(minted).ok_or(LedgerError::AmountOverflow)?;
        self.save(author, undo);
        self.accounts.entry(*author).or_default().balance = new_balance;
        undo.minted_before.get_or_insert(self.minted);
        self.minted = minted;
        Ok(())
    }

    /// Copy the nonce state of `account` from another ledger (used by scratch replays that start
    /// from a subset of balances).
    pub fn set_nonce_state(&mut self, account: &AccountId, from: &Account) {
        let entry = self.accounts.entry(*account).or_default();
        entry.nonce_floor = from.nonce_floor;
        entry.used_above_floor = from.used_above_floor.clone();
    }

    fn save(&self, account: &AccountId, undo: &mut Undo) {
        if undo.saved.insert(*account) {
            undo.previous.push((*account, self.accounts.get(account).cloned()));
        }
    }

    fn save_contract(&self, file_id: &Hash, undo: &mut Undo) {
        undo.contracts_previous.push((*file_id, self.contracts.get(file_id).cloned()));
    }

    /// Reverse every change recorded in `undo` (newest first).
    pub fn revert(&mut self, undo: Undo) {
        for (account, previous) in undo.previous.into_iter().rev() {
            match previous {
                Some(state) => {
                    self.accounts.insert(account, state);
                }
                None => {
                    self.accounts.remove(&account);
                }
            }
        }
        for (file_id, previous) in undo.contracts_previous.into_iter().rev() {
            match previous {
                Some(contract) => {
                    self.contracts.insert(file_id, contract);
                }
                None => {
                    self.contracts.remove(&file_id);
                }
            }
        }
        if let Some(minted) = undo.minted_before {
            self.minted = minted;
        }
        if let Some(burned) = undo.burned_before {
            self.burned = burned;
        }
        self.consortia.revert(undo.consortia);
        self.evm.revert(undo.evm);
        self.fl.revert(undo.fl);
        self.tokens.revert(undo.tokens);
        self.side_chains.revert(undo.side_chains);
        self.peg.revert(undo.peg);
    }

    /// `supply = genesis + minted - burned` and balances plus escrow sum to the supply; every
    /// contract escrows exactly the budgets of its unsettled rounds; every business token's
    /// balances (plus its peg escrow) sum to its `issued + minted − burned`; the peg's
    /// escrows, wrapped tokens and outbox agree (docs/peg.md). Balances are u64 so they
    /// can never be negative; an underflow would have panicked in debug builds.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let balances: u128 = self.accounts.values().map(|entry| u128::from(entry.balance)).sum();
        let escrowed: u128 = self.contracts.values().map(|c| u128::from(c.escrow)).sum::<u128>()
            + u128::from(self.fl.escrowed());
        self.fl.check_escrows().map_err(|mismatch| InvariantViolation::FlEscrowMismatch {
            task: mismatch.task,
            escrow: mismatch.escrow,
            expected: mismatch.expected,
        })?;
        let supply =
            u128::from(self.genesis_supply) + u128::from(self.minted) - u128::from(self.burned);
        for (file_id, contract) in &self.contracts {
            let expected = contract.expected_escrow();
            if contract.escrow != expected {
                return Err(InvariantViolation::EscrowMismatch {
                    file_id: *file_id,
                    escrow: contract.escrow,
                    expected,
                });
            }
        }
        if balances + escrowed != supply {
            return Err(InvariantViolation::SupplyMismatch {
                balances,
                escrowed,
                supply,
                genesis: self.genesis_supply,
                minted: self.minted,
                burned: self.burned,
            });
        }
        self.side_chains.check_invariants().map_err(InvariantViolation::SideChain)?;
        // What the peg escrows exists but is in no balance.
        self.tokens
            .check_invariants_holding(&self.peg.held_by_token())
            .map_err(InvariantViolation::TokenSupply)?;
        self.peg.check_invariants(&self.tokens).map_err(InvariantViolation::Peg)
    }
}

#[cfg(test)]
mod tests;
