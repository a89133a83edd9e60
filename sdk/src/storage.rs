//! Storing a file and reading it back (docs/storage.md). The data owner is the client: it
//! encrypts, erasure-codes and Merkle-commits the file itself ([`prepare_file`]), places the
//! shards over the chain's storage node set ([`assign`], the rule the ledger checks), signs the
//! `StorePut` with the paying key and posts it through its node; once the contract is on a
//! holder's ledger, the holder takes its shard through `POST /shard/{file}/{index}`, which
//! checks it against the contract. Reading asks the contract (`GET /contract/{file}`), fetches
//! shards from their holders, checks each against the committed root and length, and decodes
//! the file from any `k` intact ones with the owner key.
//!
//! The storage node set is the genesis allocations (`Genesis::storage_nodes`); the client
//! learns it from the genesis file. A holder is reached through its own API, so the client
//! needs the API address of each storage account's node ([`Holders`]). The placement is a
//! function of the file id, which the owner key changes: [`Client::store_file`] takes the first
//! fresh owner key whose placement names only holders it can reach.

use crate::client::{Client, Submitted};
use crate::error::{SdkError, random_bytes};
use crate::http::{self, HttpError};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use vein_node::api_types;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::storage::{OwnerKey, StorePut, assign, merkle, prepare_file, recover_file};
use vein_node::core::transaction::TxKind;

/// Chunk size of the shards' Merkle trees (the protocol default).
pub const CHUNK_BYTES: u32 = 1024;
/// Fresh owner keys tried for a placement on reachable holders.
const PLACEMENT_TRIES_MAX: u32 = 256;
/// Pause between deliveries a holder refused because the put is not on its ledger yet.
const DELIVERY_RETRY: Duration = Duration::from_millis(250);

/// The API address of each storage account's node: where its shard is delivered and fetched.
pub type Holders = BTreeMap<AccountId, SocketAddr>;

/// How a file is stored.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// k: shards any of which recover the file.
    pub data_shards: u8,
    /// n: shards made and placed, one per storage account.
    pub total_shards: u8,
    /// Contract term in rounds (checkpoints); the prepaid fee is one base unit per shard per
    /// round.
    pub term_rounds: u64,
    /// The put's transaction fee, in base units.
    pub fee: u64,
    /// Bound on waiting for the holders to apply the put and take their shards.
    pub timeout: Duration,
}

/// A file stored by [`Client::store_file`].
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// The file id: the hash of the contract's shape and shard roots.
    pub file_id: Hash,
    /// The key the shards are encrypted under: keep it, it is the only way to read the file.
    pub owner_key: OwnerKey,
    /// The storage contract as signed and posted.
    pub put: StorePut,
    /// The put transaction.
    pub submitted: Submitted,
}

/// Whether `bytes` are shard `shard_index` of `put`: its committed length and Merkle root.
pub fn shard_matches(put: &StorePut, shard_index: u8, bytes: &[u8]) -> bool {
    let root = merkle::root(bytes, put.chunk_bytes).ok();
    bytes.len() as u64 == put.shard_bytes
        && root.is_some()
        && root.as_ref() == put.shard_roots.get(usize::from(shard_index))
}

fn storage_error(file_id: Option<&Hash>, reason: impl ToString) -> SdkError {
    let file_id = file_id.map_or_else(|| "-".to_string(), Hash::to_string);
    SdkError::Storage { file_id, reason: reason.to_string() }
}

impl Client {
    /// The holders among the nodes whose APIs listen on `apis`: each node's own account (from
    /// its `GET /status`) and address.
    pub fn holders(apis: &[SocketAddr]) -> Result<Holders, SdkError> {
        let mut holders = Holders::new();
        for api in apis {
            let status = Client::new(*api).status()?;
            let account =
                AccountId::from_hex(&status.account).map_err(|error| SdkError::BadAnswer {
                    route: "/status".into(),
                    what: "the node's account",
                    reason: error.to_string(),
                })?;
            holders.insert(account, *api);
        }
        Ok(holders)
    }

    /// Store `data`, paid by `payer`, over `storage_nodes` (the genesis storage node set),
    /// delivering each shard to its holder in `holders`. Returns once every shard is delivered.
    #[allow(clippy::disallowed_methods)] // a client's wait on the wall clock, bounded
    pub fn store_file(
        &self,
        payer: &Keypair,
        data: &[u8],
        storage_nodes: &[AccountId],
        holders: &Holders,
        options: &StoreOptions,
    ) -> Result<StoredFile, SdkError> {
        let mut tries = 0;
        let (owner_key, prepared, nodes) = loop {
            tries += 1;
            let owner_key = OwnerKey(random_bytes()?);
            let prepared = prepare_file(
                data,
                &owner_key,
                options.data_shards,
                options.total_shards,
                CHUNK_BYTES,
            )
            .map_err(|error| storage_error(None, error))?;
            let nodes = assign(&prepared.file_id, prepared.total_shards, storage_nodes)
                .map_err(|error| storage_error(Some(&prepared.file_id), error))?;
            if nodes.iter().all(|account| holders.contains_key(account)) {
                break (owner_key, prepared, nodes);
            }
            if tries >= PLACEMENT_TRIES_MAX {
                let reason = format!(
                    "no placement on the {} reachable holder(s) after {tries} owner keys",
                    holders.len()
                );
                return Err(storage_error(None, reason));
            }
        };
        let file_id = prepared.file_id;
        // One base unit per shard per round: the escrow the storage nodes are paid from.
        let prepaid_fee = options.term_rounds.saturating_mul(u64::from(prepared.total_shards));
        let put = prepared.store_put(nodes, options.term_rounds, prepaid_fee);
        let kind = TxKind::StorePut(Box::new(put.clone()));
        let submitted = self.submit(payer, kind, options.fee, "store put")?;

        let deadline = Instant::now() + options.timeout;
        for (index, (account, shard)) in put.storage_nodes.iter().zip(&prepared.shards).enumerate()
        {
            let holder = holders.get(account).copied().ok_or_else(|| {
                storage_error(Some(&file_id), format!("no holder address for {account}"))
            })?;
            let body = api_types::Shard { shard: hex::encode(shard) };
            let route = format!("/shard/{file_id}/{index}");
            // The holder refuses (404) until the put is applied on its own ledger.
            loop {
                match http::post::<_, api_types::ShardStored>(holder, &route, &body) {
                    Ok(_) => break,
                    Err(HttpError::Status { status: 404, .. }) if Instant::now() < deadline => {
                        std::thread::sleep(DELIVERY_RETRY);
                    }
                    Err(HttpError::Status { status: 404, .. }) => {
                        return Err(SdkError::Timeout {
                            what: format!("holder {holder} to apply the put of {file_id}"),
                            seconds: options.timeout.as_secs(),
                        });
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(StoredFile { file_id, owner_key, put, submitted })
    }

    /// `GET /contract/{file_id}`: the active contract and the `StorePut` it was opened with;
    /// `None` if the node knows no active contract for the file.
    pub fn contract(
        &self,
        file_id: &Hash,
    ) -> Result<Option<(api_types::Contract, StorePut)>, SdkError> {
        let route = format!("/contract/{file_id}");
        let answer = match http::get::<api_types::Contract>(self.addr(), &route) {
            Ok(answer) => answer,
            Err(HttpError::Status { status: 404, .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let bad =
            |reason: String| SdkError::BadAnswer { route: route.clone(), what: "put", reason };
        let bytes = hex::decode(&answer.put).map_err(|error| bad(error.to_string()))?;
        let put = vein_node::core::wire::decode_body(&bytes, "store put")
            .map_err(|error| bad(error.to_string()))?;
        Ok(Some((answer, put)))
    }

    /// Read file `file_id` back: its contract from this node, then shards from their current
    /// holders (repairs included), each checked against the contract, until `k` are intact.
    pub fn fetch_file(
        &self,
        file_id: &Hash,
        owner_key: &OwnerKey,
        holders: &Holders,
    ) -> Result<Vec<u8>, SdkError> {
        let (contract, put) = self
            .contract(file_id)?
            .ok_or_else(|| storage_error(Some(file_id), "the node knows no active contract"))?;
        let need = usize::from(put.data_shards);
        let mut slots: Vec<Option<Vec<u8>>> = vec![None; usize::from(put.total_shards)];
        let mut skipped = Vec::new();
        for (index, holder) in contract.storage_nodes.iter().enumerate().take(slots.len()) {
            if slots.iter().flatten().count() == need {
                break;
            }
            let shard_index = index as u8;
            match self.fetch_shard(&put, shard_index, holder, holders) {
                Ok(bytes) => slots[index] = Some(bytes),
                Err(reason) => skipped.push(format!("shard {shard_index}: {reason}")),
            }
        }
        let have = slots.iter().flatten().count();
        if have < need {
            let reason =
                format!("only {have} intact shard(s), {need} needed ({})", skipped.join("; "));
            return Err(storage_error(Some(file_id), reason));
        }
        let recovered = recover_file(&put, &slots, owner_key)
            .map_err(|error| storage_error(Some(file_id), error))?;
        Ok(recovered.plaintext)
    }

    /// Shard `shard_index` from `holder`, checked against the put; `Err` says why it is
    /// unusable.
    fn fetch_shard(
        &self,
        put: &StorePut,
        shard_index: u8,
        holder: &str,
        holders: &Holders,
    ) -> Result<Vec<u8>, String> {
        let account = AccountId::from_hex(holder).map_err(|error| error.to_string())?;
        let api = holders.get(&account).ok_or(format!("no address for holder {holder}"))?;
        let route = format!("/shard/{}/{shard_index}", put.file_id);
        let answer: api_types::Shard = http::get(*api, &route).map_err(|e| e.to_string())?;
        let bytes = hex::decode(&answer.shard).map_err(|_| format!("{api}{route}: not hex"))?;
        if !shard_matches(put, shard_index, &bytes) {
            return Err(format!("{api}{route}: does not match the committed root"));
        }
        Ok(bytes)
    }
}
