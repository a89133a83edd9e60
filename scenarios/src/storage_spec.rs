//! The `[storage]` table of the storage families (crate::storage): the storage chain's set-up,
//! its checks against the metric, its sweep parameters and labels.
//!
//! Model: the table is required by the storage families and refused by every other one (the
//! registry's `Family::STORAGE`); `f` belongs to storage cheating, `crashed` to shard loss.
//! Checks take the table, the family's role and the miner count rather than the whole
//! scenario, so that this file and scenario.rs do not import each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario_error::InvalidValue;

/// Bytes the file format adds to a plaintext: AEAD nonce (12) and tag (16), length header (8).
const FORMAT_OVERHEAD_BYTES: u64 = 36;
/// Largest storage proof the ledger accepts (docs/storage.md, `ProofTooLarge`).
const MAX_PROOF_BYTES: u64 = 2 * 1024 * 1024;
/// The `[storage]` table of a storage scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Storage-only nodes (no space) beside the `network.nodes` miners.
    pub storage_nodes: u64,
    /// `k`: data shards (any `k` recover the file).
    pub data_shards: u8,
    /// `n`: total shards.
    pub total_shards: u8,
    /// Chunk size (the unit of a challenge), even, 64..=65536.
    #[serde(default = "default_chunk_bytes")]
    pub chunk_bytes: u32,
    /// `L`: chunks per shard; the files are sized to give exactly this many.
    pub chunks_per_shard: u32,
    /// Files the owner stores (storage cheating: trials per round).
    #[serde(default = "default_files")]
    pub files: u64,
    /// `c`: chunks challenged per shard per round.
    pub challenges: u32,
    /// `D`: rounds a proof may arrive late.
    #[serde(default = "default_three")]
    pub proof_deadline_rounds: u64,
    /// `M`: consecutive missed rounds before a repair may move a shard.
    #[serde(default = "default_three")]
    pub repair_after_missed: u64,
    /// Storage cheating: fraction of its chunks the cheater dropped.
    pub f: Option<f64>,
    /// Shard loss: holders of the file that crash at once.
    pub crashed: Option<u64>,
}

fn default_chunk_bytes() -> u32 {
    64
}
fn default_files() -> u64 {
    1
}
fn default_three() -> u64 {
    3
}

fn out_of_range(field: &'static str, value: impl ToString, expected: &'static str) -> InvalidValue {
    InvalidValue::OutOfRange { field, value: value.to_string(), expected }
}

/// Which storage family reads the table: each has its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageRole {
    /// #9 storage cheating (`storage_detection`): `f` is required, `crashed` refused.
    Detection,
    /// Shard loss (`shard_loss`): `crashed` is required, `f` refused.
    Loss,
}

/// Checks the `[storage]` table for its family (called by that family's `validate`).
pub fn validate(spec: &StorageSpec, role: StorageRole, miners: u64) -> Result<(), InvalidValue> {
    if !(1..=64).contains(&spec.storage_nodes) {
        return Err(out_of_range("storage.storage_nodes", spec.storage_nodes, "[1, 64]"));
    }
    let (k, n) = (spec.data_shards, spec.total_shards);
    if !(1..=64).contains(&n) {
        return Err(out_of_range("storage.total_shards", n, "[1, 64]"));
    }
    if k == 0 || k > n {
        return Err(out_of_range("storage.data_shards", k, "[1, storage.total_shards]"));
    }
    let all_nodes = miners + spec.storage_nodes;
    if u64::from(n) > all_nodes {
        return Err(out_of_range(
            "storage.total_shards",
            n,
            "at most network.nodes + storage.storage_nodes (one shard per node)",
        ));
    }
    if role == StorageRole::Loss && u64::from(n) > spec.storage_nodes {
        return Err(out_of_range(
            "storage.total_shards",
            n,
            "at most storage.storage_nodes for shard_loss (the file lives on storage-only nodes)",
        ));
    }
    if !(64..=65_536).contains(&spec.chunk_bytes) || !spec.chunk_bytes.is_multiple_of(2) {
        return Err(out_of_range("storage.chunk_bytes", spec.chunk_bytes, "even, [64, 65536]"));
    }
    if !(1..=100_000).contains(&spec.chunks_per_shard) {
        return Err(out_of_range("storage.chunks_per_shard", spec.chunks_per_shard, "[1, 100000]"));
    }
    if plaintext_bytes(spec) == 0 {
        return Err(out_of_range(
            "storage.chunks_per_shard",
            spec.chunks_per_shard,
            "large enough that the file holds at least one byte",
        ));
    }
    if !(1..=64).contains(&spec.files) {
        return Err(out_of_range("storage.files", spec.files, "[1, 64]"));
    }
    if !(1..=256).contains(&spec.challenges) {
        return Err(out_of_range("storage.challenges", spec.challenges, "[1, 256]"));
    }
    // The ledger refuses a put whose proofs could not fit in a message (ProofTooLarge).
    let proof_bytes = u64::from(spec.challenges) * (u64::from(spec.chunk_bytes) + 35 * 32 + 32);
    if proof_bytes > MAX_PROOF_BYTES {
        return Err(out_of_range(
            "storage.challenges",
            spec.challenges,
            "small enough that challenges x (chunk_bytes + 1152) <= 2 MiB",
        ));
    }
    if !(1..=100).contains(&spec.proof_deadline_rounds) {
        return Err(out_of_range(
            "storage.proof_deadline_rounds",
            spec.proof_deadline_rounds,
            "[1, 100]",
        ));
    }
    if !(1..=100).contains(&spec.repair_after_missed) {
        return Err(out_of_range(
            "storage.repair_after_missed",
            spec.repair_after_missed,
            "[1, 100]",
        ));
    }
    let (wants_f, wants_crashed) = (role == StorageRole::Detection, role == StorageRole::Loss);
    let kind = "none";
    match (spec.f, wants_f) {
        (None, true) => return Err(InvalidValue::Missing { field: "storage.f", kind }),
        (Some(_), false) => return Err(InvalidValue::Unused { field: "storage.f", kind }),
        (Some(f), true) if !(f.is_finite() && f > 0.0 && f <= 1.0) => {
            return Err(out_of_range("storage.f", f, "(0, 1]"));
        }
        _ => {}
    }
    match (spec.crashed, wants_crashed) {
        (None, true) => return Err(InvalidValue::Missing { field: "storage.crashed", kind }),
        (Some(_), false) => return Err(InvalidValue::Unused { field: "storage.crashed", kind }),
        (Some(crashed), true) if crashed > u64::from(n) => {
            return Err(out_of_range("storage.crashed", crashed, "[0, storage.total_shards]"));
        }
        _ => {}
    }
    Ok(())
}

/// Sets sweep parameter `f`, `challenges` or `crashed` (the caller validates afterwards).
pub fn set_parameter(
    storage: Option<&mut StorageSpec>,
    name: &str,
    value: f64,
) -> Result<(), InvalidValue> {
    let Some(spec) = storage else {
        return Err(out_of_range(
            "parameter",
            format!("{name} = {value}"),
            "a scenario with a [storage] table",
        ));
    };
    let whole = || -> Result<u64, InvalidValue> {
        if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
            Ok(value as u64)
        } else {
            Err(out_of_range("parameter", format!("{name} = {value}"), "a whole number"))
        }
    };
    match name {
        "f" => spec.f = Some(value),
        "challenges" => {
            spec.challenges = u32::try_from(whole()?)
                .map_err(|_| out_of_range("storage.challenges", value, "[1, 256]"))?;
        }
        "crashed" => spec.crashed = Some(whole()?),
        _ => {}
    }
    Ok(())
}

/// Labels of a storage measurement: its family's parameters.
pub fn labels(spec: &StorageSpec, role: StorageRole, labels: &mut BTreeMap<String, f64>) {
    match role {
        StorageRole::Detection => {
            labels.insert("f".into(), spec.f.unwrap_or(0.0));
            labels.insert("challenges".into(), f64::from(spec.challenges));
        }
        StorageRole::Loss => {
            labels.insert("crashed".into(), spec.crashed.unwrap_or(0) as f64);
        }
    }
}

/// Bytes of plaintext that fill the spec's shards exactly: data shards × chunks × chunk size,
/// less the stored file's format overhead (0 if the shards cannot even hold that).
pub fn plaintext_bytes(spec: &StorageSpec) -> u64 {
    (u64::from(spec.data_shards) * u64::from(spec.chunks_per_shard) * u64::from(spec.chunk_bytes))
        .saturating_sub(FORMAT_OVERHEAD_BYTES)
}
