//! Consortium databases (docs/consortium.md) from a party's side: create one (the data key is
//! drawn here and wrapped for each member node's X25519 key), change permissions (a proposal,
//! then approvals up to the quorum), write sealed row actions, and read a member node's
//! replica (`POST /consortium/{id}/query` and `/row`, with the node's API token).
//!
//! The data key never reaches the chain in clear: it is wrapped for the member nodes only, and
//! the creator keeps it ([`CreatedConsortium::data_key`]) to seal its own writes. Every party
//! may write every table at creation; grants and denies change that afterwards.

use crate::client::{Client, Submitted};
use crate::error::{SdkError, random_bytes};
use std::collections::{BTreeMap, BTreeSet};
use vein_node::api_types::{
    ConsortiumDetail, ConsortiumQuery, ConsortiumQueryAnswer, ConsortiumRowAnswer,
    ConsortiumRowRequest,
};
use vein_node::core::consortium::keys::{self, DataKey, MemberSecret};
use vein_node::core::consortium::{
    Action, Consortium, ConsortiumTx, CreateConsortium, PermissionChange, RowOp, TableSchema,
    Value, consortium_id, proposal_id,
};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::transaction::TxKind;

/// What a new consortium is.
#[derive(Clone, Debug)]
pub struct NewConsortium {
    /// A name for people; the id identifies it.
    pub name: String,
    /// Accounts that vote on permission changes; the creator must be one.
    pub parties: BTreeSet<AccountId>,
    /// Member nodes (their accounts) with their X25519 public keys ([`member_public_key`]).
    pub members: BTreeMap<AccountId, [u8; 32]>,
    /// Its tables.
    pub tables: Vec<TableSchema>,
    /// m of the n parties needed for a permission change.
    pub quorum: u16,
}

/// A consortium [`Client::create_consortium`] created.
#[derive(Clone, Debug)]
pub struct CreatedConsortium {
    /// Its id: `consortium_id` of the creator and the creation's nonce.
    pub id: Hash,
    /// The epoch-0 data key, to seal writes with (keep it secret).
    pub data_key: DataKey,
    /// The creation transaction.
    pub submitted: Submitted,
}

/// The X25519 public key a node holding `seed` serves as a consortium member: the node
/// derives its member secret from its signing seed.
pub fn member_public_key(seed: &[u8; 32]) -> [u8; 32] {
    MemberSecret::derived_from_seed(seed).public()
}

fn build_error(error: impl ToString) -> SdkError {
    SdkError::Build { what: "consortium", reason: error.to_string() }
}

impl Client {
    /// Create a consortium from `key` (one of `spec.parties`). The ledger's own checks run
    /// first: a bad quorum, name or table is an error here, not an ignored transaction.
    pub fn create_consortium(
        &self,
        key: &Keypair,
        spec: &NewConsortium,
        fee: u64,
    ) -> Result<CreatedConsortium, SdkError> {
        let from = key.account();
        let nonce = self.balance(&from)?.next_nonce;
        let id = consortium_id(&from, nonce);
        let data_key = DataKey(random_bytes()?);
        let mut wrapped = BTreeMap::new();
        for (account, public) in &spec.members {
            let wrapping =
                keys::wrap(&data_key, &id, 0, public, random_bytes()?).map_err(build_error)?;
            wrapped.insert(*account, wrapping);
        }
        let create = CreateConsortium {
            name: spec.name.clone(),
            parties: spec.parties.clone(),
            members: spec.members.clone(),
            tables: spec.tables.clone(),
            quorum: spec.quorum,
            wrapped,
        };
        Consortium::create(&create, &from, id).map_err(build_error)?;
        let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
        let tx = self.sign_at(key, nonce, kind, fee, "consortium create")?;
        let submitted = self.submit_signed(&tx)?;
        Ok(CreatedConsortium { id, data_key, submitted })
    }

    /// Propose `change` as party `key`; returns the proposal id (the proposal counts as the
    /// proposer's approval: with quorum 1 it applies when this is confirmed).
    pub fn propose(
        &self,
        key: &Keypair,
        consortium: &Hash,
        change: PermissionChange,
        fee: u64,
    ) -> Result<(Hash, Submitted), SdkError> {
        let kind =
            TxKind::Consortium(Box::new(ConsortiumTx::Propose { consortium: *consortium, change }));
        let submitted = self.submit(key, kind, fee, "consortium propose")?;
        Ok((proposal_id(consortium, &key.account(), submitted.nonce), submitted))
    }

    /// Approve proposal `proposal` as party `key`.
    pub fn approve(
        &self,
        key: &Keypair,
        consortium: &Hash,
        proposal: &Hash,
        fee: u64,
    ) -> Result<Submitted, SdkError> {
        let tx = ConsortiumTx::Approve { consortium: *consortium, proposal: *proposal };
        self.submit(key, TxKind::Consortium(Box::new(tx)), fee, "consortium approve")
    }

    /// Write `ops` to `table` as `key`, sealed under the data key of `epoch` (0 until a
    /// member is added or removed; `GET /consortium/{id}` shows the current `key_epoch`).
    /// The rows are checked against the table's schema first.
    #[allow(clippy::too_many_arguments)] // one write: who, where, what, under which key
    pub fn write_rows(
        &self,
        key: &Keypair,
        consortium: &Hash,
        data_key: &DataKey,
        epoch: u64,
        table: &str,
        ops: Vec<RowOp>,
        fee: u64,
    ) -> Result<Submitted, SdkError> {
        let detail = self.consortium(consortium)?;
        let schema = detail.tables.iter().find(|schema| schema.name == table).ok_or_else(|| {
            build_error(format!("no table {table} in {consortium}: {:?}", detail.summary.tables))
        })?;
        let action = Action { table: table.to_string(), ops, salt: random_bytes()? };
        action.validate(schema).map_err(build_error)?;
        let sealed = action.seal(data_key, *consortium, epoch).map_err(build_error)?;
        let kind = TxKind::Consortium(Box::new(ConsortiumTx::Write(sealed)));
        self.submit(key, kind, fee, "consortium write")
    }

    /// `GET /consortium/{id}`: parties, members, schemas, writers, open proposals.
    pub fn consortium(&self, id: &Hash) -> Result<ConsortiumDetail, SdkError> {
        self.get(&format!("/consortium/{id}"))
    }

    /// `POST /consortium/{id}/query` on a member node (needs its API token): one read-only
    /// SELECT as of height `at` (`None`: the replica's latest).
    pub fn query(
        &self,
        id: &Hash,
        sql: &str,
        at: Option<u64>,
    ) -> Result<ConsortiumQueryAnswer, SdkError> {
        let body = ConsortiumQuery { sql: sql.to_string(), at };
        self.post(&format!("/consortium/{id}/query"), &body)
    }

    /// `POST /consortium/{id}/row` on a member node (needs its API token): one row by primary
    /// key as of `at`, with its Merkle proof (checked by the node: `verified`).
    pub fn row(
        &self,
        id: &Hash,
        table: &str,
        key: Value,
        at: Option<u64>,
    ) -> Result<ConsortiumRowAnswer, SdkError> {
        let body = ConsortiumRowRequest { table: table.to_string(), key, at };
        self.post(&format!("/consortium/{id}/row"), &body)
    }
}
