//! The consortium share of the simulated workload (`SimConfig::consortium_share`,
//! docs/consortium.md): consortium databases driven through the chain the way their parties'
//! clients would drive them.
//!
//! Model.
//! - Plans ([`plans`]): one consortium (two when at least six nodes are funded) of up to four
//!   funded nodes, each both a party (votes, writes) and a member node (its X25519 key derived
//!   from its signing seed, `MemberSecret::derived_from_seed`, as the node process does).
//!   Consortium 0 is created by node 0, which is never removed (the checker self-tests make
//!   node 0's replica diverge). Quorum 2; one table `records` (id, note, amount).
//! - Keys: the data key of each epoch comes from the run's seed ([`data_key`]), so the
//!   simulator can replay the chain's writes into an oracle replica; a client would draw them
//!   from fresh randomness.
//! - Steps ([`step`]): a party's client reads the consortium as its own node's ledger holds it
//!   and writes (upserts, inserts, a delete with an upsert; inserts over a present key and
//!   deletes of an absent one are refused by every replica alike), proposes a deny or a grant,
//!   approves another party's open proposal, withdraws its own, and once enough writes are on
//!   chain proposes removing one member with a rekey (the next epoch's key wrapped for the
//!   members left, the old key chained under the new). A step the node's view makes pointless
//!   is skipped; a step the chain's order makes invalid is ignored by the ledger, as any
//!   invalid transaction.
//! - Every row's text carries [`CANARY`], so the plaintext of every action does
//!   (`crate::canary`).
//! - The creation is signed with a nonce chosen here ([`free_nonce`]) because the consortium's
//!   id, which the wrapped keys are bound to, derives from it.

use crate::canary::CANARY;
use crate::seed_stream::derive_seed;
use std::collections::{BTreeMap, BTreeSet};
use vein_node::core::consortium::keys::{self, DataKey, KeyError, MemberSecret, WrappedKey};
use vein_node::core::consortium::{
    Action, Column, ColumnType, Consortium, ConsortiumError, ConsortiumTx, CreateConsortium,
    PermissionChange, Rekey, RowOp, TableSchema, Value, consortium_id,
};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::node::Node;
use vein_node::core::random::DetRng;
use vein_node::core::transaction::TxKind;

/// The one table every simulated consortium holds (columns in [`schema`]).
pub const TABLE: &str = "records";
/// Party approvals a proposal needs. A member is removed only from three or more, so the two
/// left can still reach it.
pub const QUORUM: u16 = 2;
/// The read every time-machine check runs as of a height.
pub const QUERY: &str = "SELECT id, note, amount FROM records ORDER BY id";
/// Row keys are drawn from `0..ROW_KEYS`, so rows get many versions.
pub const ROW_KEYS: u64 = 48;
const MEMBERS_MAX: usize = 4;
/// Writes on chain before a member's removal is proposed (so that it has a history to keep).
const WRITES_BEFORE_REMOVAL: u64 = 6;

/// A member node of a plan: its index, account and X25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedMember {
    /// Index of the member's node in the run (one of the funded nodes).
    pub node: usize,
    /// The node's account, which signs as a party and is listed as a member.
    pub account: AccountId,
    /// The node's X25519 public key, to which each epoch's data key is wrapped.
    pub public: [u8; 32],
}

/// One consortium the workload creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsortiumPlan {
    /// Position among the run's plans (0 or 1); it also selects the plan's data keys.
    pub index: u64,
    /// The creator first.
    pub members: Vec<PlannedMember>,
    /// The member removed once the consortium has a history (never the creator).
    pub victim: Option<AccountId>,
}

/// The X25519 secret of the node with signing key `key`, derived as the node process derives
/// its own, so that the simulated members open what a real member would.
pub fn member_secret(key: &Keypair) -> MemberSecret {
    MemberSecret::derived_from_seed(&key.seed())
}

/// The consortia of a run with `keys` (node i's key at i) of which the first `funded` pay fees.
pub fn plans(seed: u64, keys: &[Keypair], funded: usize) -> Vec<ConsortiumPlan> {
    let funded = funded.min(keys.len());
    if funded < 3 {
        return Vec::new();
    }
    let count = if funded >= 6 { 2 } else { 1 };
    let mut rng = DetRng::from_seed(derive_seed(seed, "consortium-plans", 0));
    (0..count as u64)
        .map(|index| {
            let size = MEMBERS_MAX.min(funded);
            let mut nodes: Vec<usize> = Vec::new();
            if index == 0 {
                nodes.push(0);
            }
            while nodes.len() < size {
                let node = rng.index(funded);
                if !nodes.contains(&node) {
                    nodes.push(node);
                }
            }
            let members: Vec<PlannedMember> = nodes
                .iter()
                .map(|node| PlannedMember {
                    node: *node,
                    account: keys[*node].account(),
                    public: member_secret(&keys[*node]).public(),
                })
                .collect();
            // Two members must stay for the quorum of two.
            let victim = (members.len() >= 3).then(|| members[members.len() - 1].account);
            ConsortiumPlan { index, members, victim }
        })
        .collect()
}

/// The data key of plan `index` at key epoch `epoch`.
pub fn data_key(seed: u64, index: u64, epoch: u64) -> DataKey {
    DataKey(derive_seed(seed, "consortium-data-key", (index << 32) | epoch))
}

/// The one-use X25519 secret wrapping epoch `epoch`'s key for the `member`-th member.
fn ephemeral(seed: u64, index: u64, epoch: u64, member: u64) -> [u8; 32] {
    derive_seed(seed, "consortium-wrap", (index << 48) | (epoch << 16) | member)
}

/// The schema of [`TABLE`]: `id` (integer primary key), `note` (text carrying the canary) and
/// `amount` (nullable integer).
pub fn schema() -> TableSchema {
    let column =
        |name: &str, column_type, nullable| Column { name: name.into(), column_type, nullable };
    TableSchema {
        name: TABLE.into(),
        columns: vec![
            column("id", ColumnType::Integer, false),
            column("note", ColumnType::Text, false),
            column("amount", ColumnType::Integer, true),
        ],
        primary_key: 0,
    }
}

/// The seeded draws behind one consortium step.
#[derive(Clone, Copy, Debug)]
pub struct ConsortiumDraw {
    /// Which plan, then which of its members acts.
    pub plan: u64,
    /// Which member of the plan acts (taken modulo the member count).
    pub actor: u64,
    /// 0..100: which step.
    pub step: u64,
    /// 0..100: which row operations.
    pub ops: u64,
    /// Picks among candidates (proposals, accounts).
    pub pick: u64,
    /// Row key written, `0..ROW_KEYS`.
    pub row: u64,
    /// The `amount` column, `0..10_000`; multiples of 5 are written as NULL.
    pub amount: u64,
    /// The action's salt: its hash must not let a non-member confirm a guessed row.
    pub salt: [u8; 16],
}

impl ConsortiumDraw {
    /// Draw one step's choices from the workload's consortium stream (a fixed number of
    /// draws, so later steps do not depend on what this one turns out to do).
    pub fn draw(rng: &mut DetRng) -> ConsortiumDraw {
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        salt[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
        ConsortiumDraw {
            plan: rng.next_u64(),
            actor: rng.next_u64(),
            step: rng.below(100),
            ops: rng.below(100),
            pick: rng.next_u64(),
            row: rng.below(ROW_KEYS),
            amount: rng.below(10_000),
            salt,
        }
    }
}

/// What a step builds.
#[derive(Debug)]
pub enum Step {
    /// Sign and submit this transaction.
    Submit {
        /// The consortium transaction (approve, propose, withdraw or write).
        kind: TxKind,
        /// The step's name for logs (`"write"`, `"remove member"`...).
        what: &'static str,
    },
    /// Nothing worth submitting: the node's view makes the step pointless.
    Skip {
        /// Why, for logs (`"denied"`, `"already proposed"`...).
        why: &'static str,
    },
}

/// A step's cryptography failed; with the workload's own keys this signals a bug, not chance.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// Wrapping a data key for a member (creation or rekey) failed.
    #[error("wrapping a consortium key: {0}")]
    Key(#[from] KeyError),
    /// Sealing a write's action failed (or, in the unsealed self-test, encoding it).
    #[error("sealing an action: {0}")]
    Seal(#[from] ConsortiumError),
}

/// The lowest nonce of `node`'s account that neither its ledger nor an undecided unit of its
/// DAG has taken: the one `Node::submit` would pick unless the wallet signed it a moment ago
/// and the unit is not in the DAG (then one of the two spends is ignored and the workload
/// retries the creation later with a new id).
pub fn free_nonce(node: &Node) -> u64 {
    let account = node.account();
    let ledger = node.chain().ledger();
    let mut nonce = ledger.next_nonce(&account);
    while ledger.account(&account).is_some_and(|held| held.nonce_used(nonce))
        || node.dag().spends_undecided(&(account, nonce))
    {
        nonce += 1;
    }
    nonce
}

/// The creation of `plan` by its first member (whose account signs at `nonce`).
pub fn create(
    seed: u64,
    plan: &ConsortiumPlan,
    nonce: u64,
) -> Result<(Hash, CreateConsortium), WorkloadError> {
    let creator = &plan.members[0];
    let id = consortium_id(&creator.account, nonce);
    let key = data_key(seed, plan.index, 0);
    let mut wrapped = BTreeMap::new();
    for (position, member) in plan.members.iter().enumerate() {
        let ephemeral = ephemeral(seed, plan.index, 0, position as u64);
        wrapped.insert(member.account, keys::wrap(&key, &id, 0, &member.public, ephemeral)?);
    }
    let create = CreateConsortium {
        name: format!("sim_consortium_{}", plan.index),
        parties: plan.members.iter().map(|member| member.account).collect::<BTreeSet<_>>(),
        members: plan.members.iter().map(|member| (member.account, member.public)).collect(),
        tables: vec![schema()],
        quorum: QUORUM,
        wrapped,
    };
    Ok((id, create))
}

/// What `node` (a party of `consortium`, plan `plan`) submits for `draw`. `unsealed` is the
/// checker self-test that puts the plaintext on chain in place of the ciphertext.
pub fn step(
    seed: u64,
    plan: &ConsortiumPlan,
    node: &Node,
    consortium: &Consortium,
    draw: &ConsortiumDraw,
    unsealed: bool,
) -> Result<Step, WorkloadError> {
    let me = node.account();
    let open_for_me: Vec<_> = consortium
        .proposals
        .iter()
        .filter(|(_, proposal)| !proposal.approvals.contains(&me))
        .map(|(id, _)| *id)
        .collect();
    let consortium_tx = |tx| TxKind::Consortium(Box::new(tx));
    let id = consortium.id;
    match draw.step {
        0..14 if !open_for_me.is_empty() => {
            let proposal = open_for_me[(draw.pick % open_for_me.len() as u64) as usize];
            let tx = ConsortiumTx::Approve { consortium: id, proposal };
            return Ok(Step::Submit { kind: consortium_tx(tx), what: "approve" });
        }
        14..22 => {
            let Some(change) = permission_change(consortium, &me, draw) else {
                return Ok(Step::Skip { why: "no permission change to propose" });
            };
            if consortium.proposals.values().any(|open| open.change == change) {
                return Ok(Step::Skip { why: "already proposed" });
            }
            let tx = ConsortiumTx::Propose { consortium: id, change };
            return Ok(Step::Submit { kind: consortium_tx(tx), what: "propose" });
        }
        22..25 => {
            let own = consortium.proposals.iter().find(|(_, open)| open.proposer == me);
            if let Some((proposal, _)) = own {
                let tx = ConsortiumTx::Withdraw { consortium: id, proposal: *proposal };
                return Ok(Step::Submit { kind: consortium_tx(tx), what: "withdraw" });
            }
        }
        25..35 => {
            let log = node.chain().ledger().consortia().log(&id);
            if let Some(victim) = plan.victim
                && log.count >= WRITES_BEFORE_REMOVAL
                && consortium.members.contains_key(&victim)
                && consortium.members.len() >= 3
                && !consortium
                    .proposals
                    .values()
                    .any(|open| matches!(open.change, PermissionChange::RemoveMember { .. }))
            {
                let rekey = removal_rekey(seed, plan, consortium, &victim)?;
                let change = PermissionChange::RemoveMember { node: victim, rekey };
                let tx = ConsortiumTx::Propose { consortium: id, change };
                return Ok(Step::Submit { kind: consortium_tx(tx), what: "remove member" });
            }
        }
        _ => {}
    }
    // A removed member's client holds no key of the epochs after its removal.
    if !consortium.members.contains_key(&me) {
        return Ok(Step::Skip { why: "a removed member writes no more" });
    }
    // Half the writes of a denied party are still sent: the chain must ignore them.
    if !consortium.may_write(TABLE, &me) && draw.pick.is_multiple_of(2) {
        return Ok(Step::Skip { why: "denied" });
    }
    let action = write_action(draw);
    let epoch = consortium.key_epoch;
    let mut sealed = action.seal(&data_key(seed, plan.index, epoch), id, epoch)?;
    if unsealed {
        sealed.ciphertext = vein_node::core::wire::encode_body(&action, "consortium action")
            .map_err(|error| ConsortiumError::Malformed { reason: error.to_string() })?;
    }
    Ok(Step::Submit { kind: consortium_tx(ConsortiumTx::Write(sealed)), what: "write" })
}

/// A grant back for a denied party, else a deny of another writer while three remain.
fn permission_change(
    consortium: &Consortium,
    me: &AccountId,
    draw: &ConsortiumDraw,
) -> Option<PermissionChange> {
    let writers = consortium.writers.get(TABLE).cloned().unwrap_or_default();
    let denied: Vec<AccountId> =
        consortium.parties.iter().filter(|party| !writers.contains(party)).copied().collect();
    if !denied.is_empty() && !draw.pick.is_multiple_of(3) {
        let account = denied[(draw.pick % denied.len() as u64) as usize];
        return Some(PermissionChange::Grant { account, table: TABLE.into() });
    }
    let others: Vec<AccountId> = writers.iter().filter(|writer| *writer != me).copied().collect();
    if writers.len() < 3 || others.is_empty() {
        return None;
    }
    let account = others[(draw.pick % others.len() as u64) as usize];
    let table = (draw.ops >= 20).then(|| TABLE.to_string());
    Some(PermissionChange::Deny { account, table })
}

/// The next epoch's key wrapped for every member but `victim`, the current key chained under
/// it.
fn removal_rekey(
    seed: u64,
    plan: &ConsortiumPlan,
    consortium: &Consortium,
    victim: &AccountId,
) -> Result<Rekey, WorkloadError> {
    let epoch = consortium.key_epoch + 1;
    let key = data_key(seed, plan.index, epoch);
    let mut wrapped: BTreeMap<AccountId, WrappedKey> = BTreeMap::new();
    for (position, (account, public)) in consortium.members.iter().enumerate() {
        if account != victim {
            let ephemeral = ephemeral(seed, plan.index, epoch, position as u64);
            wrapped.insert(*account, keys::wrap(&key, &consortium.id, epoch, public, ephemeral)?);
        }
    }
    let previous = data_key(seed, plan.index, consortium.key_epoch);
    let previous = keys::chain_previous(&key, &previous, &consortium.id, epoch)?;
    Ok(Rekey { epoch, wrapped, previous })
}

/// The row `key` with the canary in its note.
fn row(key: u64, amount: u64) -> Vec<Value> {
    let amount = if amount.is_multiple_of(5) { Value::Null } else { Value::Integer(amount as i64) };
    vec![Value::Integer(key as i64), Value::Text(format!("{CANARY} row {key}")), amount]
}

/// An upsert (60%), an insert (20%) or a delete of the next key with an upsert (20%).
pub fn write_action(draw: &ConsortiumDraw) -> Action {
    let upsert = RowOp::Upsert { row: row(draw.row, draw.amount) };
    let ops = match draw.ops {
        0..60 => vec![upsert],
        60..80 => vec![RowOp::Insert { row: row(draw.row, draw.amount) }],
        _ => {
            let next = Value::Integer(((draw.row + 1) % ROW_KEYS) as i64);
            vec![RowOp::Delete { key: next }, upsert]
        }
    };
    Action { table: TABLE.into(), ops, salt: draw.salt }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canary::contains;
    use vein_node::consortium_db::KeyRing;

    fn keys(nodes: u64) -> Vec<Keypair> {
        (0..nodes).map(|index| Keypair::derived("vein-sim", index)).collect()
    }

    #[test]
    fn plans_keep_node_zero_and_a_quorum_after_the_removal() {
        let keys = keys(10);
        let drawn = plans(5, &keys, 10);
        assert_eq!(drawn.len(), 2);
        assert_eq!(drawn[0].members[0].node, 0);
        for plan in &drawn {
            assert_eq!(plan.members.len(), MEMBERS_MAX);
            let victim = plan.victim.unwrap();
            assert_ne!(victim, plan.members[0].account);
            let nodes: BTreeSet<usize> = plan.members.iter().map(|m| m.node).collect();
            assert_eq!(nodes.len(), plan.members.len(), "distinct members");
        }
        assert_eq!(plans(5, &keys, 10), drawn);
        assert!(plans(5, &keys, 2).is_empty());
        assert_eq!(plans(5, &keys, 4).len(), 1);
    }

    /// Every member unwraps the epoch-0 key the workload holds, the consortium the creation
    /// describes is valid, and a write's plaintext (not its ciphertext) holds the canary.
    #[test]
    fn members_unwrap_the_workloads_key_and_only_plaintext_holds_the_canary() {
        let keys = keys(6);
        let plan = &plans(9, &keys, 6)[0];
        let (id, create) = create(9, plan, 3).unwrap();
        let consortium = Consortium::create(&create, &plan.members[0].account, id).unwrap();
        for member in &plan.members {
            let ring =
                KeyRing::unlock(&consortium, &member.account, &member_secret(&keys[member.node]))
                    .unwrap();
            assert_eq!(ring.get(0), Some(&data_key(9, plan.index, 0)));
        }
        let mut rng = DetRng::from_seed([1; 32]);
        let action = write_action(&ConsortiumDraw::draw(&mut rng));
        let sealed = action.seal(&data_key(9, plan.index, 0), id, 0).unwrap();
        let plaintext = vein_node::core::wire::encode_body(&action, "test").unwrap();
        assert!(contains(&plaintext, CANARY.as_bytes()));
        assert!(!contains(&sealed.ciphertext, CANARY.as_bytes()));
        assert_eq!(sealed.open(&data_key(9, plan.index, 0)).unwrap(), action);
    }

    /// The removal's rekey is accepted by the rules and leaves the victim without a key while
    /// the others reach both epochs.
    #[test]
    fn the_removal_rekey_excludes_the_victim() {
        let keys = keys(6);
        let plan = &plans(4, &keys, 6)[0];
        let (id, create) = create(4, plan, 0).unwrap();
        let mut consortium = Consortium::create(&create, &plan.members[0].account, id).unwrap();
        let victim = plan.victim.unwrap();
        let rekey = removal_rekey(4, plan, &consortium, &victim).unwrap();
        consortium.apply_change(&PermissionChange::RemoveMember { node: victim, rekey }).unwrap();
        assert_eq!(consortium.key_epoch, 1);
        for member in &plan.members {
            let secret = member_secret(&keys[member.node]);
            let ring = KeyRing::unlock(&consortium, &member.account, &secret).unwrap();
            if member.account == victim {
                assert_eq!(ring.epochs().count(), 0);
            } else {
                assert_eq!(ring.get(1), Some(&data_key(4, plan.index, 1)));
                assert_eq!(ring.get(0), Some(&data_key(4, plan.index, 0)));
            }
        }
    }
}
