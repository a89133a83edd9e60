//! `put` and `get`: store a file on the testnet's storage nodes and read it back (docs/storage.md).
//!
//! The data owner is this CLI. Its owner key never leaves the testnet directory: `put` encrypts,
//! erasure-codes and Merkle-commits the file locally (`prepare_file`), assigns the shards over the
//! genesis storage node set (`assign`, the rule the ledger checks), signs the `StorePut` with the
//! faucet key (the faucet is the paying account; it runs no node) and posts it through one node's
//! `POST /tx`. Once the contract is on a holder's ledger, that holder takes its shard through
//! `POST /shard/{file}/{index}`, which checks it against the contract before keeping it.
//!
//! `get` reads the contract (`GET /contract/{file}`), asks each shard's holder for it
//! (`GET /shard/{file}/{index}`), checks every answer against the contract's root and length (a
//! bad one is skipped with a message), and recovers the file from any `k` good shards.
//!
//! The testnet's genesis names its nodes' accounts as the storage node set (not the faucet nor
//! the attestation accounts, funded at genesis too), so every placement names a running node.
//! A genesis without that set makes every allocation a storage node: then `put` takes the first
//! fresh owner key whose placement names only accounts a node runs (the placement is a function
//! of the file id). Either way it refuses an `n` above the number of accounts a node runs.

use crate::http::{self, HttpError};
use crate::manifest::{Manifest, NodeEntry};
use crate::{TestnetError, io, node_entry, now_ms, parents_from, read_key};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vein_node::api_types;
use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::storage::{OwnerKey, StorePut, assign, merkle, prepare_file, recover_file};
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::genesis_file::GenesisFile;

/// Chunk size of the Merkle trees (the protocol default).
pub const CHUNK_BYTES: u32 = 1024;
/// Files kept in memory whole; a bound so a wrong path (a disk image) fails clearly.
pub const FILE_BYTES_MAX: u64 = 16 << 20;
/// Subdirectory of the testnet directory holding one owner key per stored file.
const KEYS_DIR: &str = "files";
/// Fresh owner keys `put` tries for a placement on accounts a node runs (see the module docs).
const PLACEMENT_TRIES_MAX: u32 = 256;

/// Why `put` or `get` failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageCliError {
    /// `put` of a path that does not exist or is not a regular file.
    #[error("file not found: {path}")]
    FileNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// `put` of a file above [`FILE_BYTES_MAX`].
    #[error("{path} is {bytes} bytes; put takes at most {FILE_BYTES_MAX}")]
    FileTooLarge {
        /// The path given.
        path: PathBuf,
        /// Its size in bytes.
        bytes: u64,
    },
    /// A file id that is not 64 hex, whose owner key this testnet does not hold, or that no
    /// node has an active contract for.
    #[error("unknown file id {file_id}: {reason}")]
    UnknownFile {
        /// The file id as given (64 hex when valid).
        file_id: String,
        /// Which of those it is.
        reason: String,
    },
    /// Fewer than k shards were delivered (`put`) or could be fetched intact (`get`).
    #[error("only {have} intact shard(s) of {file_id} reachable, {need} needed")]
    TooFewShards {
        /// The file id (64 hex).
        file_id: String,
        /// Shards delivered or fetched intact.
        have: usize,
        /// k: data shards the erasure code needs to recover the file.
        need: usize,
    },
    /// A holder kept refusing its shard (404) until the timeout: the put did not reach its
    /// ledger.
    #[error("the put was not applied by node {index} within {seconds} s (is the net finalising?)")]
    NotApplied {
        /// The holder node.
        index: usize,
        /// The `put` timeout, in whole seconds.
        seconds: u64,
    },
    /// The storage core refused: preparing, placing, signing or recovering the file, or a
    /// contract the node returned that does not decode.
    #[error("storage: {0}")]
    Storage(String),
    /// `--n` is above the number of storage accounts a node runs.
    #[error(
        "--n {n} shards need {n} storage accounts that a node runs; this testnet has {nodes}: \
         lower --n"
    )]
    TooManyShards {
        /// Total shards asked for.
        n: u8,
        /// Storage accounts a node of this testnet runs.
        nodes: usize,
    },
    /// Every fresh owner key tried placed a shard on an account no node runs (only with a
    /// genesis that does not name its storage nodes).
    #[error("no placement on accounts a node runs after {tries} fresh owner keys")]
    NoServedPlacement {
        /// Owner keys tried (`PLACEMENT_TRIES_MAX`).
        tries: u32,
    },
}

/// What `put` did.
#[derive(Debug, Clone)]
pub struct PutReport {
    /// The file's id: the hash of the contract's shape and shard roots, so it changes with
    /// the owner key as well as the content.
    pub file_id: Hash,
    /// The storage contract as signed and posted.
    pub put: StorePut,
    /// Shard indices handed to a running holder.
    pub delivered: Vec<u8>,
    /// Shards not delivered, with why.
    pub undelivered: Vec<(u8, String)>,
    /// Where the owner key was written (`DIR/files/ID.key`); `get` needs it to decrypt.
    pub key_path: PathBuf,
}

/// What `get` did.
#[derive(Debug, Clone)]
pub struct GetReport {
    /// Size of the recovered file written out, in bytes.
    pub bytes: usize,
    /// Shard indices the file was decoded from.
    pub used: Vec<u8>,
    /// Shards that could not be used, with why (unreachable holder, corrupt answer).
    pub skipped: Vec<(u8, String)>,
}

/// What `put` stores and on what terms.
#[derive(Debug, Clone)]
pub struct PutOptions {
    /// The file to store, at most [`FILE_BYTES_MAX`] bytes.
    pub file: PathBuf,
    /// The node whose API takes the transaction.
    pub via: usize,
    /// k: shards any of which recover the file.
    pub data_shards: u8,
    /// n: shards made and placed, one per storage account.
    pub total_shards: u8,
    /// Contract term in rounds (checkpoints); the prepaid fee is one base unit per shard per
    /// round.
    pub term_rounds: u64,
    /// Transaction fee of the put, in base units of the coin (paid by the faucet).
    pub fee: u64,
    /// Bound on waiting for the contract to be applied by the holders.
    pub timeout: Duration,
}

fn storage_error(error: impl std::fmt::Display) -> TestnetError {
    StorageCliError::Storage(error.to_string()).into()
}

fn key_path(manifest: &Manifest, file_id: &Hash) -> PathBuf {
    manifest.dir.join(KEYS_DIR).join(format!("{file_id}.key"))
}

/// A fresh owner key from the operating system's random source.
fn fresh_owner_key() -> Result<OwnerKey, TestnetError> {
    use std::io::Read;
    let path = Path::new("/dev/urandom");
    let mut seed = [0u8; 32];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut seed))
        .map_err(io("reading", path))?;
    Ok(OwnerKey(seed))
}

fn read_owner_key(manifest: &Manifest, file_id: &Hash) -> Result<OwnerKey, TestnetError> {
    let path = key_path(manifest, file_id);
    let unknown =
        |reason: String| StorageCliError::UnknownFile { file_id: file_id.to_string(), reason };
    let text = std::fs::read_to_string(&path).map_err(|_| {
        unknown(format!("no owner key {} (not put from this testnet)", path.display()))
    })?;
    let bytes =
        hex::decode(text.trim()).map_err(|_| unknown(format!("{} is not hex", path.display())))?;
    let seed: [u8; 32] =
        bytes.try_into().map_err(|_| unknown(format!("{} is not 32 bytes", path.display())))?;
    Ok(OwnerKey(seed))
}

fn write_owner_key(path: &Path, key: &OwnerKey) -> Result<(), TestnetError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    let temporary = path.with_extension("key.tmp");
    std::fs::write(&temporary, hex::encode(key.0)).map_err(io("writing", &temporary))?;
    std::fs::rename(&temporary, path).map_err(io("renaming", &temporary))
}

/// A file id from its 64 hex characters (surrounding whitespace ignored).
pub fn parse_file_id(text: &str) -> Result<Hash, TestnetError> {
    let bytes = hex::decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    bytes.map(Hash).ok_or_else(|| {
        StorageCliError::UnknownFile {
            file_id: text.into(),
            reason: "a file id is 64 hex characters".into(),
        }
        .into()
    })
}

/// The node whose account is `account`, if any.
fn holder<'a>(manifest: &'a Manifest, account: &AccountId) -> Option<&'a NodeEntry> {
    let hex = account.to_hex();
    manifest.nodes.iter().find(|node| node.account == hex)
}

/// `GET /contract/{file}` from `api`: `Ok(None)` if that node has no such contract.
fn fetch_contract(api: SocketAddr, file_id: &Hash) -> Result<Option<StorePut>, TestnetError> {
    match http::get::<api_types::Contract>(api, &format!("/contract/{file_id}")) {
        Ok(answer) => {
            let bytes =
                hex::decode(&answer.put).map_err(|_| storage_error("contract put is not hex"))?;
            let put =
                vein_node::core::wire::decode_body(&bytes, "store put").map_err(storage_error)?;
            Ok(Some(put))
        }
        Err(HttpError::Status { status: 404, .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Store `options.file`: returns the file id and where the shards went.
pub fn put(manifest: &Manifest, options: &PutOptions) -> Result<PutReport, TestnetError> {
    let path = &options.file;
    let metadata = std::fs::metadata(path)
        .map_err(|_| StorageCliError::FileNotFound { path: path.clone() })?;
    if !metadata.is_file() {
        return Err(StorageCliError::FileNotFound { path: path.clone() }.into());
    }
    if metadata.len() > FILE_BYTES_MAX {
        return Err(
            StorageCliError::FileTooLarge { path: path.clone(), bytes: metadata.len() }.into()
        );
    }
    let plaintext = std::fs::read(path).map_err(io("reading", path))?;
    let via = node_entry(manifest, options.via)?;
    if via.pid.is_none() {
        return Err(TestnetError::NotRunning { index: options.via });
    }
    let api = via.api;

    let genesis = GenesisFile::load(&manifest.genesis)?.to_genesis()?;
    let storage_nodes = genesis.storage_nodes();
    let served = storage_nodes.iter().filter(|account| holder(manifest, account).is_some()).count();
    if usize::from(options.total_shards) > served {
        return Err(
            StorageCliError::TooManyShards { n: options.total_shards, nodes: served }.into()
        );
    }
    // The placement is a function of the file id, which the owner key changes: the owner takes
    // the first fresh key whose placement names only accounts a node runs. A testnet's genesis
    // names its nodes as the storage set, so the first key fits; only a genesis without that set
    // (every allocation a storage node) needs more tries.
    let mut tries = 0;
    let (owner_key, prepared, nodes) = loop {
        tries += 1;
        let owner_key = fresh_owner_key()?;
        let prepared = prepare_file(
            &plaintext,
            &owner_key,
            options.data_shards,
            options.total_shards,
            CHUNK_BYTES,
        )
        .map_err(storage_error)?;
        let nodes = assign(&prepared.file_id, prepared.total_shards, &storage_nodes)
            .map_err(storage_error)?;
        if nodes.iter().all(|account| holder(manifest, account).is_some()) {
            break (owner_key, prepared, nodes);
        }
        if tries >= PLACEMENT_TRIES_MAX {
            return Err(StorageCliError::NoServedPlacement { tries }.into());
        }
    };
    let file_id = prepared.file_id;
    // One token per shard per round: the escrow the storage nodes are paid from.
    let prepaid_fee = options.term_rounds.saturating_mul(u64::from(prepared.total_shards));
    let put = prepared.store_put(nodes, options.term_rounds, prepaid_fee);
    // The key first: if anything below fails, the owner can still read what was stored.
    let key_path = key_path(manifest, &file_id);
    write_owner_key(&key_path, &owner_key)?;

    let faucet = read_key(&manifest.faucet_key)?;
    let nonce = crate::account_state(api, &faucet.account())?.next_nonce;
    let tx = TransactionBody {
        from: faucet.account(),
        nonce,
        kind: TxKind::StorePut(Box::new(put.clone())),
        fee: options.fee,
        parents: parents_from(api)?,
        issued_at_ms: now_ms(),
    }
    .sign(&faucet)
    .map_err(storage_error)?;
    let bytes = tx.encode().map_err(storage_error)?;
    let request = api_types::SignedTxRequest { tx: hex::encode(bytes) };
    let _: api_types::TxAccepted = http::post(api, "/tx", &request)?;

    let deadline = Instant::now() + options.timeout;
    let mut delivered = Vec::new();
    let mut undelivered = Vec::new();
    for (index, account) in put.storage_nodes.iter().enumerate() {
        let shard_index = index as u8;
        let Some(node) = holder(manifest, account) else {
            undelivered.push((shard_index, "assigned to an account no node runs".into()));
            continue;
        };
        if node.pid.is_none() || node.paused {
            undelivered.push((shard_index, format!("holder node {} is not running", node.index)));
            continue;
        }
        let shard = prepared.shards.get(index).map(hex::encode).unwrap_or_default();
        let body = api_types::Shard { shard };
        let route = format!("/shard/{file_id}/{shard_index}");
        // The holder refuses (404) until the put is applied on its own ledger: retry until then.
        loop {
            match http::post::<_, api_types::ShardStored>(node.api, &route, &body) {
                Ok(_) => {
                    delivered.push(shard_index);
                    break;
                }
                Err(HttpError::Status { status: 404, .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(HttpError::Status { status: 404, .. }) => {
                    return Err(StorageCliError::NotApplied {
                        index: node.index,
                        seconds: options.timeout.as_secs(),
                    }
                    .into());
                }
                Err(error) => {
                    undelivered.push((shard_index, error.to_string()));
                    break;
                }
            }
        }
    }
    if delivered.len() < usize::from(put.data_shards) {
        return Err(StorageCliError::TooFewShards {
            file_id: file_id.to_string(),
            have: delivered.len(),
            need: usize::from(put.data_shards),
        }
        .into());
    }
    Ok(PutReport { file_id, put, delivered, undelivered, key_path })
}

/// Read the contract of `file_id` from the first running node that answers.
fn contract_of(manifest: &Manifest, file_id: &Hash) -> Result<StorePut, TestnetError> {
    let mut last_error = None;
    for node in manifest.nodes.iter().filter(|node| node.pid.is_some() && !node.paused) {
        match fetch_contract(node.api, file_id) {
            Ok(Some(put)) => return Ok(put),
            Ok(None) => {
                return Err(StorageCliError::UnknownFile {
                    file_id: file_id.to_string(),
                    reason: format!("node {} knows no active contract for it", node.index),
                }
                .into());
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| TestnetError::Invalid("no node is running".into())))
}

/// Shard `shard_index` from its holder, checked against the put; `Err` says why it is unusable.
fn fetch_shard(manifest: &Manifest, put: &StorePut, shard_index: u8) -> Result<Vec<u8>, String> {
    let account = put.storage_nodes.get(usize::from(shard_index)).ok_or("no such shard")?;
    let node = holder(manifest, account).ok_or("assigned to an account no node runs")?;
    if node.pid.is_none() || node.paused {
        return Err(format!("holder node {} is not running", node.index));
    }
    let answer: api_types::Shard =
        http::get(node.api, &format!("/shard/{}/{shard_index}", put.file_id))
            .map_err(|error| format!("node {}: {error}", node.index))?;
    let bytes = hex::decode(&answer.shard)
        .map_err(|_| format!("node {} answered no shard hex", node.index))?;
    if !shard_matches(put, shard_index, &bytes) {
        return Err(format!(
            "corrupted: node {}'s copy does not match the committed root",
            node.index
        ));
    }
    Ok(bytes)
}

/// Whether `bytes` are shard `shard_index` of `put`: its committed length and Merkle root.
pub fn shard_matches(put: &StorePut, shard_index: u8, bytes: &[u8]) -> bool {
    let root = merkle::root(bytes, put.chunk_bytes).ok();
    bytes.len() as u64 == put.shard_bytes
        && root.is_some()
        && root.as_ref() == put.shard_roots.get(usize::from(shard_index))
}

/// Fetch any `k` intact shards of `file_id`, recover the file and write it to `out`.
pub fn get(manifest: &Manifest, file_id: &Hash, out: &Path) -> Result<GetReport, TestnetError> {
    let owner_key = read_owner_key(manifest, file_id)?;
    let put = contract_of(manifest, file_id)?;
    let need = usize::from(put.data_shards);
    let mut slots: Vec<Option<Vec<u8>>> = vec![None; usize::from(put.total_shards)];
    let mut used = Vec::new();
    let mut skipped = Vec::new();
    for shard_index in 0..put.total_shards {
        if used.len() == need {
            break;
        }
        match fetch_shard(manifest, &put, shard_index) {
            Ok(bytes) => {
                slots[usize::from(shard_index)] = Some(bytes);
                used.push(shard_index);
            }
            Err(reason) => skipped.push((shard_index, reason)),
        }
    }
    if used.len() < need {
        return Err(StorageCliError::TooFewShards {
            file_id: file_id.to_string(),
            have: used.len(),
            need,
        }
        .into());
    }
    let recovered = recover_file(&put, &slots, &owner_key).map_err(storage_error)?;
    std::fs::write(out, &recovered.plaintext).map_err(io("writing", out))?;
    Ok(GetReport { bytes: recovered.plaintext.len(), used, skipped })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;

    #[test]
    fn only_the_committed_shard_matches() {
        let prepared = prepare_file(&[9u8; 5000], &OwnerKey([3; 32]), 2, 3, 64).unwrap();
        let put = prepared.store_put(Vec::new(), 1, 0);
        for (index, shard) in prepared.shards.iter().enumerate() {
            assert!(shard_matches(&put, index as u8, shard));
        }
        let mut flipped = prepared.shards[0].clone();
        flipped[17] ^= 1;
        assert!(!shard_matches(&put, 0, &flipped), "a flipped bit");
        assert!(!shard_matches(&put, 1, &prepared.shards[0]), "another shard's bytes");
        assert!(!shard_matches(&put, 0, &prepared.shards[0][..64]), "a truncated shard");
        assert!(!shard_matches(&put, 3, &prepared.shards[0]), "an index past n");
        assert!(parse_file_id("xyz").is_err());
        assert!(parse_file_id(&"00".repeat(32)).is_ok());
    }
}
