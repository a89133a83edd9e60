//! Protocol parameters and the genesis description. Everything a node must agree on with its
//! peers lives in `Genesis`; its hash is the chain id every unit ultimately approves.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::PocMode;
use crate::core::wire::{self, WireError};
use serde::{Deserialize, Serialize};

/// Gas one checkpoint may execute: each Ethereum transaction runs only if the gas used so far
/// plus its gas limit fits (docs/evm.md, "Gas per checkpoint"). 60 Mgas holds about 1,160
/// ERC-20 transfers to fresh holders (51,545 gas each) and 1,740 between holders, so 1,000
/// transfers a second fit one checkpoint at T = 1 s. Under vein's gas schedule the slowest
/// operation measured costs 13.5 ns/gas, so a full checkpoint takes at most ≈ 0.81 s on the
/// reference machine (docs/evm.md, "Gas bomb").
pub const CHECKPOINT_GAS_MAX: u64 = 60_000_000;

/// The protocol rules of one chain, fixed at genesis and hashed into its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Target checkpoint interval `T`.
    pub target_interval_ms: u64,
    /// Challenge refresh period `c` (PROTOCOL.md section 3; 1 = every checkpoint).
    pub challenge_refresh: u64,
    /// Finality depth `k`: a transaction is final when its checkpoint is buried under k more.
    pub finality_depth: u64,
    /// Reorganisations deeper than this are refused.
    pub reorg_limit: u64,
    /// Smallest fee a transaction may carry.
    pub fee_min: u64,
    /// How each fee is split between burning and the checkpoint author.
    pub fee_policy: FeePolicy,
    /// Minted to the author of every checkpoint.
    pub checkpoint_reward: u64,
    /// How far ahead of the local clock a unit or checkpoint timestamp may be.
    pub future_drift_ms: u64,
    /// Most tips a checkpoint may name as parents.
    pub checkpoint_parents_max: usize,
    /// Keep the genesis base target forever (scenarios that fix the difficulty).
    pub fixed_base_target: bool,
    /// Participation-aware finality: a checkpoint buried under k others is final only if the
    /// weight rate of the burying checkpoints is at least this share (per mille) of the chain's
    /// recent reference rate. 0 gives the plain depth rule. See docs/protocol.md.
    pub finality_participation_per_mille: u16,
    /// A checkpoint this deep is final even if the participation test fails (liveness valve).
    pub finality_depth_max: u64,
    /// Storage-chain rules (PROTOCOL.md section 5, docs/storage.md). Hashed into the genesis
    /// id only when they differ from the defaults, so chains that predate them keep their ids
    /// (and every seeded history and pinned trace stays as it was). Params are only ever
    /// encoded for that hash, never decoded with bincode, so skipping a field is safe.
    #[serde(default, skip_serializing_if = "StorageParams::is_default")]
    pub storage: StorageParams,
    /// The storage node set, when it is not every account with a genesis allocation: a
    /// network that funds accounts no storage node runs (a testnet's faucet and attestation
    /// accounts) names its storage nodes here, or shards would be placed where nobody keeps
    /// them. Hashed into the genesis id only when set, like `storage`; the two encodings can
    /// never be confused (20 bytes of storage rules against 9 + 32n of a set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_nodes: Option<Vec<AccountId>>,
}

/// Proof of Possession of Data rules the ledger enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageParams {
    /// `c`: chunks challenged per shard per round (1..=256).
    pub challenge_count: u32,
    /// `D`: a proof for round `r` counts only if applied by a checkpoint at height `r..=r + D`;
    /// round `r` is settled when the checkpoint at height `r + D` is connected.
    pub proof_deadline_rounds: u64,
    /// `M`: a shard whose node missed this many consecutive settled rounds may be moved to
    /// another node by a `StoreRepair` transaction from anyone.
    pub repair_after_missed: u64,
}

impl StorageParams {
    /// Whether these are the defaults (then they are left out of the genesis hash).
    pub fn is_default(&self) -> bool {
        *self == StorageParams::default()
    }
}

impl Default for StorageParams {
    fn default() -> StorageParams {
        StorageParams { challenge_count: 16, proof_deadline_rounds: 3, repair_after_missed: 3 }
    }
}

impl Default for Params {
    fn default() -> Params {
        Params {
            target_interval_ms: 10_000,
            challenge_refresh: 1,
            finality_depth: 6,
            reorg_limit: 360,
            fee_min: 1,
            fee_policy: FeePolicy { burn_per_mille: 500 },
            checkpoint_reward: 1_000_000,
            future_drift_ms: 15_000,
            checkpoint_parents_max: 8,
            fixed_base_target: false,
            finality_participation_per_mille: 0,
            finality_depth_max: 64,
            storage: StorageParams::default(),
            storage_nodes: None,
        }
    }
}

/// Everything peers must agree on before the first checkpoint; [`Genesis::id`] hashes it all.
#[derive(Clone, Debug, PartialEq)]
pub struct Genesis {
    /// The network's name (also the source of its EIP-155 chain id, `evm::chain_id_of`).
    pub chain_id: String,
    /// The genesis checkpoint's timestamp, in ms on the nodes' clock (local nets use 0).
    pub timestamp_ms: u64,
    /// Opening balances in tokens; their total is the initial supply, and these accounts are
    /// the storage node set.
    pub allocations: Vec<(AccountId, u64)>,
    /// Base target of the first checkpoints (positive): sets the first deadlines and weights
    /// until retargeting moves it.
    pub initial_base_target: u64,
    /// Real plots, or modelled capacities for simulations.
    pub poc: PocMode,
    /// The protocol rules.
    pub params: Params,
}

/// How a fee is split between burning and the checkpoint author.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeePolicy {
    /// Burned share of every fee, in parts per thousand (default 500: half).
    pub burn_per_mille: u16,
}

impl FeePolicy {
    /// `(burned, to_author)`; the two always sum to `fee`.
    pub fn split(&self, fee: u64) -> (u64, u64) {
        let burned = (u128::from(fee) * u128::from(self.burn_per_mille.min(1000)) / 1000) as u64;
        (burned, fee - burned)
    }
}

/// Why [`Genesis::validate`] refused a genesis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The allocations sum to more than `u64::MAX` tokens.
    #[error("genesis allocations overflow the supply")]
    SupplyOverflow,
    /// `initial_base_target` is 0 (deadlines would divide by zero).
    #[error("initial base target must be positive")]
    ZeroBaseTarget,
    /// A final checkpoint could still be reorganised away.
    #[error("finality depth {finality_depth} must not exceed the reorg limit {reorg_limit}")]
    FinalityBeyondReorgLimit {
        /// `Params::finality_depth`, in checkpoints.
        finality_depth: u64,
        /// `Params::reorg_limit`, in checkpoints.
        reorg_limit: u64,
    },
    /// `target_interval_ms` is 0.
    #[error("target interval must be positive")]
    ZeroInterval,
    /// `StorageParams::challenge_count` is 0 or above the 256 chunks a round may challenge.
    #[error("storage challenge count {count} outside 1..=256")]
    StorageChallengeCount {
        /// The refused count.
        count: u32,
    },
    /// `params.storage_nodes` is set but empty: no file could ever be placed.
    #[error("params.storage_nodes is empty: name at least one storage node, or leave it out")]
    NoStorageNodes,
    /// Encoding the genesis (for its id) failed.
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl Genesis {
    /// Check the rules every node needs before it can start from this genesis.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.initial_base_target == 0 {
            return Err(GenesisError::ZeroBaseTarget);
        }
        if self.params.target_interval_ms == 0 {
            return Err(GenesisError::ZeroInterval);
        }
        if self.params.finality_depth > self.params.reorg_limit {
            return Err(GenesisError::FinalityBeyondReorgLimit {
                finality_depth: self.params.finality_depth,
                reorg_limit: self.params.reorg_limit,
            });
        }
        let count = self.params.storage.challenge_count;
        if count == 0 || count as usize > crate::core::storage::challenge::MAX_CHALLENGE_COUNT {
            return Err(GenesisError::StorageChallengeCount { count });
        }
        if self.params.storage_nodes.as_ref().is_some_and(Vec::is_empty) {
            return Err(GenesisError::NoStorageNodes);
        }
        self.supply().ok_or(GenesisError::SupplyOverflow)?;
        Ok(())
    }

    /// The storage node set, sorted and distinct: `params.storage_nodes` when set, else every
    /// account with a genesis allocation. v0 has no registration transaction, so the set is
    /// fixed for the life of the chain and every validator derives the same one
    /// (docs/storage.md).
    pub fn storage_nodes(&self) -> Vec<AccountId> {
        let nodes: std::collections::BTreeSet<AccountId> = match &self.params.storage_nodes {
            Some(nodes) => nodes.iter().copied().collect(),
            None => self.allocations.iter().map(|(account, _)| *account).collect(),
        };
        nodes.into_iter().collect()
    }

    /// The total of the allocations, `None` if it overflows u64: exactly when
    /// `Ledger::genesis` refuses them (no single balance can overflow if the total does not).
    pub fn supply(&self) -> Option<u64> {
        self.allocations.iter().try_fold(0u64, |total, (_, amount)| total.checked_add(*amount))
    }

    /// The chain id: a hash over every field, so nodes with different genesis never mix.
    pub fn id(&self) -> Result<Hash, WireError> {
        let fixed = wire::encode_body(
            &(
                &self.chain_id,
                self.timestamp_ms,
                &self.allocations,
                self.initial_base_target,
                &self.params,
            ),
            "genesis",
        )?;
        let poc = match &self.poc {
            PocMode::Real => vec![0u8],
            PocMode::Model { capacities } => {
                let mut bytes = vec![1u8];
                for (account, nonces) in capacities {
                    bytes.extend_from_slice(account.as_bytes());
                    bytes.extend_from_slice(&nonces.to_le_bytes());
                }
                bytes
            }
        };
        Ok(Hash::of_parts(&[b"vein/genesis/v0", &fixed, &poc]))
    }

    /// The first generation signature, derived from the chain id.
    pub fn generation_signature(&self) -> Result<Hash, WireError> {
        Ok(genesis_generation_signature(&self.id()?))
    }
}

/// The first generation signature of the chain whose genesis id is `genesis_id` (a light client
/// of that chain derives it from the id alone, `core::sidechain`).
pub fn genesis_generation_signature(genesis_id: &Hash) -> Hash {
    Hash::of_parts(&[b"vein/genesis-signature", genesis_id.as_bytes()])
}
