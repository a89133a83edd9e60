//! A consortium database on a scenario network (docs/consortium.md), as its parties' clients
//! drive it through the chain: the shared setup of the consortium families (revocation race,
//! tampering member).
//!
//! Model: honest nodes `0..members` are both the parties (accounts that vote and write) and the
//! member nodes (which hold the data key and may keep replicas) of one consortium, created by
//! node 0 with one table `records (id integer key, note text)` and quorum `m` of the parties.
//! Every transaction is the node's own wallet signing through [`Engine::submit`], so nonces
//! never race. What a client would draw from fresh randomness (the data key, each member's
//! X25519 secret, the wrapping ephemerals, salts) is derived from the run's seed here, so a seed
//! replays; the chain checks only that the key is wrapped for exactly the members' public keys.
//! The consortium's id derives from the creator's nonce, which must be its first (0): the
//! families create the consortium before node 0 signs anything else, and [`ConsortiumNet::create`]
//! checks the creator's nonce so a changed story fails loudly instead of writing to nothing.
//! Only the rules of crate vein-node are used (sealing, wrapping, ids); nothing is re-implemented.

use std::collections::{BTreeMap, BTreeSet};

use vein_node::consortium_db::ReplicaFeed;
use vein_node::core::consortium::keys::{self, DataKey, MemberSecret};
use vein_node::core::consortium::{
    Action, Column, ColumnType, ConsortiumTx, CreateConsortium, PermissionChange, RowOp,
    TableSchema, Value, consortium_id,
};
use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::transaction::TxKind;

use crate::engine::{Engine, FEE};

/// The consortium's one table.
pub(crate) const TABLE: &str = "records";
/// Distinct row keys writes go to, so rows get several versions.
const ROW_KEYS: i64 = 16;
/// The key of the row the first write also inserts and no write changes again.
pub(crate) const STATIC_ROW: i64 = 1_000;

/// One consortium on a running network, and the secrets its clients and members hold.
pub(crate) struct ConsortiumNet {
    /// The consortium's id on chain.
    pub(crate) id: Hash,
    /// The epoch-0 data key every writer seals under.
    key: DataKey,
    /// Member `i`'s X25519 secret (member i is node i).
    secrets: Vec<MemberSecret>,
    /// Writes sealed so far (the salt of the next one).
    sealed: u64,
}

fn derived(seed: u64, purpose: &[u8], index: u64) -> [u8; 32] {
    Hash::of_parts(&[
        b"vein-scenarios/consortium",
        purpose,
        &seed.to_le_bytes(),
        &index.to_le_bytes(),
    ])
    .0
}

impl ConsortiumNet {
    /// Node 0 submits the creation of a consortium whose parties and member nodes are nodes
    /// `0..members`, with quorum `quorum`. `Err` names what went wrong (a bug in the family).
    pub(crate) fn create<E: Engine>(
        engine: &mut E,
        seed: u64,
        members: usize,
        quorum: u16,
    ) -> Result<ConsortiumNet, String> {
        let creator = engine.account(0);
        // The wallet signs the creation with the creator's next nonce; checked below.
        let nonce = engine.node(0).chain().ledger().next_nonce(&creator);
        let id = consortium_id(&creator, nonce);
        let key = DataKey(derived(seed, b"data-key", 0));
        let secrets: Vec<MemberSecret> = (0..members as u64)
            .map(|index| MemberSecret::derived_from_seed(&derived(seed, b"member", index)))
            .collect();
        let accounts: Vec<AccountId> = (0..members).map(|index| engine.account(index)).collect();
        let mut wrapped = BTreeMap::new();
        for (index, (account, secret)) in accounts.iter().zip(&secrets).enumerate() {
            let ephemeral = derived(seed, b"wrap", index as u64);
            let wrap = keys::wrap(&key, &id, 0, &secret.public(), ephemeral)
                .map_err(|error| format!("wrapping the key for member {index}: {error}"))?;
            wrapped.insert(*account, wrap);
        }
        let create = CreateConsortium {
            name: "scenario".into(),
            parties: accounts.iter().copied().collect::<BTreeSet<_>>(),
            members: accounts.iter().zip(&secrets).map(|(a, s)| (*a, s.public())).collect(),
            tables: vec![TableSchema {
                name: TABLE.into(),
                columns: vec![
                    Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                    Column { name: "note".into(), column_type: ColumnType::Text, nullable: false },
                ],
                primary_key: 0,
            }],
            quorum,
            wrapped,
        };
        let unit = engine
            .submit(0, TxKind::Consortium(Box::new(ConsortiumTx::Create(create))), FEE)
            .ok_or_else(|| "node 0 refused the consortium's creation".to_string())?;
        let signed = engine.node(0).dag().get(&unit).map(|unit| unit.tx.body.nonce);
        if signed != Some(nonce) {
            return Err(format!("the creation was signed with nonce {signed:?}, not {nonce}"));
        }
        Ok(ConsortiumNet { id, key, secrets, sealed: 0 })
    }

    /// A write upserting one row, sealed under the data key (anyone holding the key can seal
    /// one; whether it applies is the chain's permission check).
    pub(crate) fn write(&mut self) -> Result<TxKind, String> {
        let index = self.sealed;
        self.sealed += 1;
        let mut ops = vec![RowOp::Upsert {
            row: vec![
                Value::Integer(index as i64 % ROW_KEYS),
                Value::Text(format!("write {index}")),
            ],
        }];
        if index == 0 {
            // A row no later write touches: what a tampering operator forges stays current.
            ops.push(RowOp::Insert {
                row: vec![Value::Integer(STATIC_ROW), Value::Text("registry header".into())],
            });
        }
        let action = Action { table: TABLE.into(), ops, salt: u128::from(index).to_le_bytes() };
        let sealed = action.seal(&self.key, self.id, 0).map_err(|error| error.to_string())?;
        Ok(TxKind::Consortium(Box::new(ConsortiumTx::Write(sealed))))
    }

    /// A party proposes `change` (its own approval counts).
    pub(crate) fn propose(&self, change: PermissionChange) -> TxKind {
        TxKind::Consortium(Box::new(ConsortiumTx::Propose { consortium: self.id, change }))
    }

    /// A party approves the open proposal `proposal`.
    pub(crate) fn approve(&self, proposal: Hash) -> TxKind {
        TxKind::Consortium(Box::new(ConsortiumTx::Approve { consortium: self.id, proposal }))
    }

    /// A replica feed for member node `member` (account `account`): in memory without a
    /// directory, else a SQLite file replica in `directory` (what a node process keeps).
    pub(crate) fn feed(
        &self,
        member: usize,
        account: AccountId,
        directory: Option<std::path::PathBuf>,
    ) -> ReplicaFeed {
        ReplicaFeed::new(account, self.secrets[member].clone(), directory)
    }
}

/// The open proposal of `change` by `proposer` in consortium `id`, as node `node`'s ledger
/// holds it.
pub(crate) fn open_proposal<E: Engine>(
    engine: &E,
    id: &Hash,
    node: usize,
    change: &PermissionChange,
    proposer: &AccountId,
) -> Option<Hash> {
    let view = engine.node(node);
    let consortium = view.chain().ledger().consortia().get(id)?;
    consortium
        .proposals
        .iter()
        .find(|(_, open)| open.change == *change && open.proposer == *proposer)
        .map(|(proposal, _)| *proposal)
}
