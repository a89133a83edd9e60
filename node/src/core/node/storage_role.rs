//! The storage role (docs/storage.md): as a holder, a node keeps shards for others, serves them
//! and submits the storage proofs due every round while their contract is active; as a data
//! owner, it uploads files (encrypted, erasure-coded, assigned over the storage node set) and
//! fetches shards back from its peers.

use super::{Node, PeerId, RejectReason};
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::message::{Message, SHARD_MESSAGE_BYTES_MAX};
use crate::core::storage::{OwnerKey, StorageProof, StorePut, assign, prepare_file};
use crate::core::storage_node::{FileRequest, StorageNodeError, StorageNodeStats, StoredFile};
use crate::core::transaction::TxKind;
use std::collections::{BTreeMap, BTreeSet};

impl Node {
    /// A peer asks for a shard: serve what is held; a holder that lost chunks serves what it
    /// has, and the owner's root check drops it.
    pub(super) fn serve_shard(&mut self, to: PeerId, file_id: Hash, shard_index: u8) {
        if let Some(bytes) = self.shard(&file_id, shard_index)
            && bytes.len() <= SHARD_MESSAGE_BYTES_MAX
        {
            let bytes = bytes.to_vec();
            self.send(to, &Message::Shard { file_id, shard_index, bytes });
        }
    }

    /// A shard a peer sent this node as a data owner. Unsolicited or wrong answers are dropped;
    /// they cost the sender nothing here because a reply to a broadcast request may
    /// legitimately come twice.
    pub(super) fn accept_shard(&mut self, file_id: Hash, shard_index: u8, bytes: Vec<u8>) {
        let put = self.chain.ledger().contract(&file_id).map(|c| c.put.clone());
        let _ = self.fetch.accept(file_id, shard_index, bytes, put.as_deref());
    }

    /// Keep shard `shard_index` of `file_id` (handed over by its owner through the driver) and
    /// prove it every round while its contract is active.
    pub fn store_shard(&mut self, file_id: Hash, shard_index: u8, bytes: Vec<u8>) {
        self.shards.insert(file_id, shard_index, bytes);
        self.prove_storage();
    }

    /// The bytes of a shard this node holds (what it would serve to the owner).
    pub fn shard(&self, file_id: &Hash, shard_index: u8) -> Option<&[u8]> {
        self.shards.get(file_id, shard_index).map(|held| held.bytes.as_slice())
    }

    /// As a data owner, ask every peer for shards `shard_indices` of `file_id` (retrieval over
    /// the network, docs/storage.md); answers collect in [`Node::fetched_shards`].
    pub fn request_shards(&mut self, file_id: Hash, shard_indices: &[u8]) {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for shard_index in shard_indices {
            self.fetch.want(file_id, *shard_index);
            for peer in &peers {
                self.send(*peer, &Message::GetShard { file_id, shard_index: *shard_index });
            }
        }
    }

    /// Shards of `file_id` fetched from peers so far, by index.
    pub fn fetched_shards(&self, file_id: &Hash) -> BTreeMap<u8, &[u8]> {
        self.fetch.fetched(file_id)
    }

    /// Hand over the fetched shards of `file_id` and stop asking for its others.
    pub fn take_fetched_shards(&mut self, file_id: &Hash) -> BTreeMap<u8, Vec<u8>> {
        self.fetch.take(file_id)
    }

    /// Stop storing (and proving) every shard of `file_id`.
    pub fn forget_file(&mut self, file_id: &Hash) {
        self.shards.forget(file_id);
    }

    /// This node's storage-node counters (proofs sent, impossible, failed).
    pub fn storage_stats(&self) -> &StorageNodeStats {
        &self.shards.stats
    }

    /// Cheating knob (scenario 9): forget a fraction of the chunks of every shard of `put` this
    /// node holds. Returns the dropped chunk indices per shard index.
    pub fn drop_shard_fraction(
        &mut self,
        put: &StorePut,
        fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<u8, BTreeSet<u32>>, StorageNodeError> {
        self.shards.drop_fraction(&put.file_id, put.chunk_bytes, fraction, seed)
    }

    /// The owner's upload: encrypt, erasure-code and commit `plaintext`, assign the shards over
    /// the storage node set and submit the `StorePut` from this node's account. The caller
    /// hands `shards[i]` to `put.storage_nodes[i]` and keeps `owner_key`.
    pub fn store_file(
        &mut self,
        now_ms: u64,
        plaintext: &[u8],
        owner_key: &OwnerKey,
        request: &FileRequest,
    ) -> Result<StoredFile, StorageNodeError> {
        let prepared = prepare_file(
            plaintext,
            owner_key,
            request.data_shards,
            request.total_shards,
            request.chunk_bytes,
        )?;
        let file_id = prepared.file_id;
        if self.chain.ledger().contract(&file_id).is_some() {
            return Err(StorageNodeError::FileActive { file_id });
        }
        let nodes = assign(&file_id, prepared.total_shards, self.chain.storage_nodes())?;
        let put = prepared.store_put(nodes, request.term_rounds, request.prepaid_fee);
        let unit = self
            .submit(now_ms, TxKind::StorePut(Box::new(put.clone())), request.fee)
            .map_err(|reason| StorageNodeError::Rejected { reason: reason.to_string() })?;
        Ok(StoredFile { unit_id: unit.id, put, shards: prepared.shards })
    }

    /// Send the storage proofs due at the current head (see `core/storage_node.rs`).
    pub(super) fn prove_storage(&mut self) {
        let height = self.chain.height();
        let params = self.chain.params().storage;
        let fee = self.chain.params().fee_min;
        let lowest = (height + 1).saturating_sub(params.proof_deadline_rounds);
        let mut files: Vec<Hash> = Vec::new();
        for file_id in self.shards.files() {
            if self.chain.ledger().contract(&file_id).is_some() {
                files.push(file_id);
            }
        }
        for file_id in files {
            let Some(contract) = self.chain.ledger().contract(&file_id).cloned() else { continue };
            let first = contract.first_round.max(lowest);
            let last = contract.last_round().min(height);
            if first > last {
                continue;
            }
            let chain = &self.chain;
            let due = self.shards.due_proofs(
                &contract,
                &self.account,
                first..=last,
                |round| chain.generation_signature_at(round),
                params.challenge_count as usize,
            );
            for due in due {
                match self.submit_proof(due.proof.clone(), due.nonce_hint, fee) {
                    Ok(nonce) => {
                        self.shards.stats.proofs_sent += 1;
                        self.shards.record_nonce(&due.proof, nonce, lowest);
                    }
                    Err(reason) => self.emit(Event::InputRejected {
                        peer: None,
                        kind: "own_storage_proof",
                        reason: reason.to_string(),
                    }),
                }
            }
        }
    }

    /// Submit a storage proof, reusing `nonce_hint` if the ledger has not used it (so the new
    /// proof conflicts with, and replaces, an earlier one for the same round). Returns the nonce.
    pub(super) fn submit_proof(
        &mut self,
        proof: StorageProof,
        nonce_hint: Option<u64>,
        fee: u64,
    ) -> Result<u64, RejectReason> {
        let kind = TxKind::StorageProof(Box::new(proof));
        let ledger = self.chain.ledger();
        let reusable = nonce_hint.filter(|nonce| {
            ledger.account(&self.account).is_none_or(|account| !account.nonce_used(*nonce))
        });
        match reusable {
            Some(nonce) => {
                let tx = self.build_transaction(nonce, kind, fee)?;
                self.accept_transaction(tx, None)?;
                self.own_pending_nonces.insert(nonce);
                Ok(nonce)
            }
            None => Ok(self.submit(self.now_ms, kind, fee)?.tx.body.nonce),
        }
    }
}
