//! The consortium rules through the ledger: creation, quorum grants and denies, writes, key
//! rotation, and undo round trips.

use super::keys::{self, DataKey, MemberSecret};
use super::*;
use crate::core::contracts::StorageMode;
use crate::core::crypto::Keypair;
use crate::core::ledger::{FeePolicy, Ledger, LedgerError, Undo};
use crate::core::transaction::{Transaction, TransactionBody, TxKind};

const POLICY: FeePolicy = FeePolicy { burn_per_mille: 500 };

/// Three parties (quorum 2), one outsider, two member nodes, one table.
struct Fixture {
    parties: Vec<Keypair>,
    outsider: Keypair,
    nodes: Vec<(AccountId, MemberSecret)>,
    ledger: Ledger,
    key: DataKey,
    nonces: BTreeMap<AccountId, u64>,
}

fn patients() -> TableSchema {
    TableSchema {
        name: "patients".into(),
        columns: vec![
            Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
            Column { name: "name".into(), column_type: ColumnType::Text, nullable: false },
        ],
        primary_key: 0,
    }
}

impl Fixture {
    fn new() -> Fixture {
        let parties: Vec<Keypair> = (0..3).map(|i| Keypair::derived("consortium", i)).collect();
        let outsider = Keypair::derived("consortium", 9);
        let nodes = (0..2u8)
            .map(|i| {
                (
                    Keypair::derived("node", u64::from(i)).account(),
                    MemberSecret::from_bytes([i + 1; 32]),
                )
            })
            .collect();
        let mut allocations: Vec<(AccountId, u64)> =
            parties.iter().map(|key| (key.account(), 1_000)).collect();
        allocations.push((outsider.account(), 1_000));
        let ledger = Ledger::genesis(&allocations).unwrap();
        Fixture {
            parties,
            outsider,
            nodes,
            ledger,
            key: DataKey([42u8; 32]),
            nonces: BTreeMap::new(),
        }
    }

    fn tx(&mut self, key: &Keypair, consortium_tx: ConsortiumTx) -> Transaction {
        let nonce = self.nonces.entry(key.account()).or_default();
        let body = TransactionBody {
            from: key.account(),
            nonce: *nonce,
            kind: TxKind::Consortium(Box::new(consortium_tx)),
            fee: 1,
            parents: [Hash::ZERO; 2],
            issued_at_ms: 0,
        };
        *nonce += 1;
        body.sign(key).unwrap()
    }

    fn submit(
        &mut self,
        key: &Keypair,
        consortium_tx: ConsortiumTx,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let tx = self.tx(key, consortium_tx);
        let author = self.outsider.account();
        self.ledger.apply(&tx, &author, POLICY, undo)
    }

    fn create_tx(&self, epoch_key: &DataKey) -> CreateConsortium {
        let id = consortium_id(&self.parties[0].account(), 0);
        CreateConsortium {
            name: "hospitals".into(),
            parties: self.parties.iter().map(Keypair::account).collect(),
            members: self.nodes.iter().map(|(node, secret)| (*node, secret.public())).collect(),
            tables: vec![patients()],
            quorum: 2,
            wrapped: self
                .nodes
                .iter()
                .map(|(node, secret)| {
                    let wrapped =
                        keys::wrap(epoch_key, &id, 0, &secret.public(), [7u8; 32]).unwrap();
                    (*node, wrapped)
                })
                .collect(),
        }
    }

    /// Create the consortium (by party 0, nonce 0) and return its id.
    fn create(&mut self, undo: &mut Undo) -> Hash {
        let create = self.create_tx(&self.key.clone());
        let creator = self.parties[0].clone();
        self.submit(&creator, ConsortiumTx::Create(create), undo).unwrap();
        consortium_id(&creator.account(), 0)
    }

    fn write(&self, id: Hash, row_id: i64, epoch: u64) -> ConsortiumTx {
        let action = Action {
            table: "patients".into(),
            ops: vec![RowOp::Upsert { row: vec![Value::Integer(row_id), Value::Text("x".into())] }],
            salt: [row_id as u8; 16],
        };
        ConsortiumTx::Write(action.seal(&self.key, id, epoch).unwrap())
    }

    /// Party `by` proposes `change`; returns the proposal id.
    fn propose(&mut self, id: Hash, by: usize, change: PermissionChange, undo: &mut Undo) -> Hash {
        let proposer = self.parties[by].clone();
        let nonce = self.nonces.get(&proposer.account()).copied().unwrap_or(0);
        self.submit(&proposer, ConsortiumTx::Propose { consortium: id, change }, undo).unwrap();
        proposal_id(&id, &proposer.account(), nonce)
    }

    fn consortium_error(result: Result<(), LedgerError>) -> ConsortiumError {
        match result {
            Err(LedgerError::Consortium(error)) => error,
            other => panic!("expected a consortium error, got {other:?}"),
        }
    }
}

#[test]
fn creating_a_consortium_changes_the_root_and_reverts_to_the_exact_state() {
    let mut fixture = Fixture::new();
    let before = fixture.ledger.clone();
    let root_before = fixture.ledger.root();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let consortium = fixture.ledger.consortia().get(&id).unwrap();
    assert_eq!(consortium.quorum, 2);
    assert!(consortium.may_write("patients", &fixture.parties[1].account()));
    assert!(!consortium.may_write("patients", &fixture.outsider.account()));
    assert_ne!(fixture.ledger.root(), root_before);
    fixture.ledger.revert(undo);
    assert_eq!(fixture.ledger, before);
    assert_eq!(fixture.ledger.root(), root_before, "an empty consortium section adds nothing");
}

#[test]
fn a_bad_creation_gets_a_typed_error() {
    let mut fixture = Fixture::new();
    let key = fixture.key.clone();
    let creator = fixture.parties[0].clone();
    let mut undo = Undo::default();
    let mut zero = fixture.create_tx(&key);
    zero.quorum = 0;
    let result = fixture.submit(&creator, ConsortiumTx::Create(zero), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::BadQuorum { .. }));
    let mut four = fixture.create_tx(&key);
    four.quorum = 4;
    let result = fixture.submit(&creator, ConsortiumTx::Create(four), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::BadQuorum { .. }));
    let outsider = fixture.outsider.clone();
    let create = fixture.create_tx(&key);
    let result = fixture.submit(&outsider, ConsortiumTx::Create(create), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::NotAParty { .. }));
    let mut twice = fixture.create_tx(&key);
    let mut upper = patients();
    upper.name = "PATIENTS".into();
    twice.tables.push(upper);
    let result = fixture.submit(&creator, ConsortiumTx::Create(twice), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::DuplicateTable { .. }));
    let mut unwrapped = fixture.create_tx(&key);
    unwrapped.wrapped.pop_first();
    let result = fixture.submit(&creator, ConsortiumTx::Create(unwrapped), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::RekeyMembers { .. }));
    assert!(fixture.ledger.consortia().is_empty(), "nothing was created");
}

#[test]
fn a_grant_applies_only_when_the_quorum_has_signed() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let outsider = fixture.outsider.clone();
    let change = PermissionChange::Grant { account: outsider.account(), table: "patients".into() };
    let proposal = fixture.propose(id, 1, change, &mut undo);
    let write = fixture.write(id, 1, 0);
    let refused = fixture.submit(&outsider, write.clone(), &mut undo);
    assert!(matches!(
        Fixture::consortium_error(refused),
        ConsortiumError::NoWritePermission { .. }
    ));
    let approver = fixture.parties[2].clone();
    fixture
        .submit(&approver, ConsortiumTx::Approve { consortium: id, proposal }, &mut undo)
        .unwrap();
    let consortium = fixture.ledger.consortia().get(&id).unwrap();
    assert!(consortium.proposals.is_empty(), "a passed proposal is closed");
    fixture.submit(&outsider, write, &mut undo).unwrap();
    assert_eq!(fixture.ledger.consortia().log(&id).count, 1);
}

#[test]
fn a_denied_accounts_later_action_does_not_apply() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let writer = fixture.parties[0].clone();
    let first = fixture.write(id, 1, 0);
    fixture.submit(&writer, first, &mut undo).unwrap();
    let change = PermissionChange::Deny { account: writer.account(), table: None };
    let proposal = fixture.propose(id, 1, change, &mut undo);
    // Before the quorum: the writer still writes.
    let second = fixture.write(id, 2, 0);
    fixture.submit(&writer, second, &mut undo).unwrap();
    let approver = fixture.parties[2].clone();
    let approve = ConsortiumTx::Approve { consortium: id, proposal };
    let before_deny = fixture.ledger.clone();
    let mut deny_undo = Undo::default();
    fixture.submit(&approver, approve, &mut deny_undo).unwrap();
    let third = fixture.write(id, 3, 0);
    let refused = fixture.submit(&writer, third.clone(), &mut deny_undo);
    assert!(matches!(
        Fixture::consortium_error(refused),
        ConsortiumError::NoWritePermission { .. }
    ));
    assert_eq!(fixture.ledger.consortia().log(&id).count, 2);
    let other = fixture.parties[1].clone();
    let by_other = fixture.write(id, 4, 0);
    fixture.submit(&other, by_other, &mut deny_undo).unwrap();
    // A reorg that drops the approval drops the deny: the same write applies again.
    fixture.ledger.revert(deny_undo);
    assert_eq!(fixture.ledger, before_deny);
    let tx = fixture.tx(&writer, third);
    fixture.ledger.apply(&tx, &other.account(), POLICY, &mut undo).unwrap();
}

#[test]
fn proposals_refuse_outsiders_double_approvals_and_foreign_withdrawals() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let outsider = fixture.outsider.clone();
    let change = PermissionChange::Grant { account: outsider.account(), table: "patients".into() };
    let result = fixture.submit(
        &outsider,
        ConsortiumTx::Propose { consortium: id, change: change.clone() },
        &mut undo,
    );
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::NotAParty { .. }));
    let proposal = fixture.propose(id, 0, change, &mut undo);
    let proposer = fixture.parties[0].clone();
    let again = ConsortiumTx::Approve { consortium: id, proposal };
    let result = fixture.submit(&proposer, again.clone(), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::AlreadyApproved { .. }));
    let result = fixture.submit(&outsider, again, &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::NotAParty { .. }));
    let other = fixture.parties[1].clone();
    let withdraw = ConsortiumTx::Withdraw { consortium: id, proposal };
    let result = fixture.submit(&other, withdraw.clone(), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::UnknownProposal { .. }));
    fixture.submit(&proposer, withdraw, &mut undo).unwrap();
    let approve = ConsortiumTx::Approve { consortium: id, proposal };
    let result = fixture.submit(&other, approve, &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::UnknownProposal { .. }));
    let deny_nobody = PermissionChange::Deny { account: outsider.account(), table: None };
    let result = fixture.submit(
        &other,
        ConsortiumTx::Propose { consortium: id, change: deny_nobody },
        &mut undo,
    );
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::NoChange { .. }));
}

#[test]
fn writes_to_unknown_consortia_or_tables_are_refused() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let writer = fixture.parties[0].clone();
    let ConsortiumTx::Write(mut sealed) = fixture.write(id, 1, 0) else { unreachable!() };
    sealed.table = "nope".into();
    let result = fixture.submit(&writer, ConsortiumTx::Write(sealed.clone()), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::UnknownTable { .. }));
    sealed.consortium = Hash::of(b"elsewhere");
    let result = fixture.submit(&writer, ConsortiumTx::Write(sealed), &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::UnknownConsortium { .. }));
    let ConsortiumTx::Write(mut huge) = fixture.write(id, 1, 0) else { unreachable!() };
    huge.ciphertext = vec![0u8; action::ACTION_CIPHERTEXT_BYTES_MAX + 1];
    let result = fixture.submit(&writer, ConsortiumTx::Write(huge), &mut undo);
    assert!(matches!(
        Fixture::consortium_error(result),
        ConsortiumError::CiphertextTooLarge { .. }
    ));
    assert_eq!(fixture.ledger.consortia().log(&id).count, 0);
}

#[test]
fn removing_a_member_rotates_the_key_past_its_reach() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let (kept, kept_secret) = (fixture.nodes[0].0, fixture.nodes[0].1.clone());
    let (removed, removed_secret) = (fixture.nodes[1].0, fixture.nodes[1].1.clone());
    let next = DataKey([43u8; 32]);
    let rekey = Rekey {
        epoch: 1,
        wrapped: BTreeMap::from([(
            kept,
            keys::wrap(&next, &id, 1, &kept_secret.public(), [8u8; 32]).unwrap(),
        )]),
        previous: keys::chain_previous(&next, &fixture.key, &id, 1).unwrap(),
    };
    let mut wrong_epoch = rekey.clone();
    wrong_epoch.epoch = 2;
    let change = PermissionChange::RemoveMember { node: removed, rekey: wrong_epoch };
    let proposer = fixture.parties[0].clone();
    let result =
        fixture.submit(&proposer, ConsortiumTx::Propose { consortium: id, change }, &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::RekeyEpoch { .. }));
    let proposal =
        fixture.propose(id, 0, PermissionChange::RemoveMember { node: removed, rekey }, &mut undo);
    let approver = fixture.parties[1].clone();
    fixture
        .submit(&approver, ConsortiumTx::Approve { consortium: id, proposal }, &mut undo)
        .unwrap();
    let consortium = fixture.ledger.consortia().get(&id).unwrap().clone();
    assert_eq!(consortium.key_epoch, 1);
    assert!(!consortium.members.contains_key(&removed));
    // The kept member opens the new key and, through the chain, the old one.
    let opened = keys::unwrap(&consortium.wrapped[&kept], &id, 1, &kept_secret).unwrap();
    assert_eq!(opened, next);
    let old = keys::open_previous(&opened, &consortium.key_chain[&1], &id, 1).unwrap();
    assert_eq!(old, fixture.key);
    // The removed member's secret opens no wrapping of the new epoch.
    assert!(consortium.wrapped.values().all(|w| keys::unwrap(w, &id, 1, &removed_secret).is_err()));
    // A write still sealed under epoch 0 is refused.
    let writer = fixture.parties[2].clone();
    let stale = fixture.write(id, 1, 0);
    let result = fixture.submit(&writer, stale, &mut undo);
    assert!(matches!(Fixture::consortium_error(result), ConsortiumError::StaleKeyEpoch { .. }));
}

#[test]
fn a_scratch_replay_moves_only_the_fee_of_a_consortium_transaction() {
    let mut fixture = Fixture::new();
    let writer = fixture.parties[0].clone();
    let write = fixture.write(Hash::of(b"unknown here"), 1, 0);
    let tx = fixture.tx(&writer, write);
    let mut undo = Undo::default();
    let nobody = AccountId([0u8; 32]);
    let mode = StorageMode::Plausibility;
    fixture.ledger.apply_in(&tx, &nobody, POLICY, mode, &mut undo).unwrap();
    assert_eq!(fixture.ledger.balance(&writer.account()), 999);
    assert!(fixture.ledger.consortia().is_empty());
}

#[test]
fn one_undo_over_a_whole_history_reverts_to_the_exact_state_and_root() {
    let mut fixture = Fixture::new();
    let before = fixture.ledger.clone();
    let root = fixture.ledger.root();
    let mut undo = Undo::default();
    let id = fixture.create(&mut undo);
    let outsider = fixture.outsider.account();
    let grant = PermissionChange::Grant { account: outsider, table: "patients".into() };
    let proposal = fixture.propose(id, 0, grant, &mut undo);
    let approver = fixture.parties[1].clone();
    fixture
        .submit(&approver, ConsortiumTx::Approve { consortium: id, proposal }, &mut undo)
        .unwrap();
    for row in 0..5 {
        let writer = fixture.parties[(row % 3) as usize].clone();
        let write = fixture.write(id, row, 0);
        fixture.submit(&writer, write, &mut undo).unwrap();
    }
    assert_eq!(fixture.ledger.consortia().log(&id).count, 5);
    fixture.ledger.check_invariants().unwrap();
    fixture.ledger.revert(undo);
    assert_eq!(fixture.ledger, before);
    assert_eq!(fixture.ledger.root(), root);
}

impl Fixture {
    /// Create the consortium and require approval of each entry of `patients` (parties 1 and
    /// 2 pass the change).
    fn create_with_approval(&mut self, undo: &mut Undo) -> Hash {
        let id = self.create(undo);
        let change = PermissionChange::EntryApproval { table: "patients".into(), required: true };
        let proposal = self.propose(id, 1, change, undo);
        let approver = self.parties[2].clone();
        self.submit(&approver, ConsortiumTx::Approve { consortium: id, proposal }, undo).unwrap();
        assert!(self.ledger.consortia().get(&id).unwrap().approval_tables.contains("patients"));
        id
    }

    /// Party `by` writes row `row_id`; returns the entry id its write has if it pends, and the
    /// applied transaction.
    fn write_entry(&mut self, id: Hash, by: usize, row_id: i64, undo: &mut Undo) -> Hash {
        let writer = self.parties[by].clone();
        let nonce = self.nonces.get(&writer.account()).copied().unwrap_or(0);
        let write = self.write(id, row_id, 0);
        self.submit(&writer, write, undo).unwrap();
        entry_id(&id, &writer.account(), nonce)
    }

    fn vote(
        &mut self,
        id: Hash,
        by: usize,
        entry: Hash,
        approve: bool,
        undo: &mut Undo,
    ) -> Result<(), LedgerError> {
        let voter =
            if by < self.parties.len() { self.parties[by].clone() } else { self.outsider.clone() };
        let tx = if approve {
            ConsortiumTx::ApproveEntry { consortium: id, entry }
        } else {
            ConsortiumTx::DenyEntry { consortium: id, entry }
        };
        self.submit(&voter, tx, undo)
    }
}

#[test]
fn an_entry_applies_once_the_quorum_approves_and_is_dropped_once_denied() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create_with_approval(&mut undo);
    let before = fixture.ledger.clone();
    let root_before = fixture.ledger.root();
    let mut entries_undo = Undo::default();
    let entry = fixture.write_entry(id, 0, 1, &mut entries_undo);
    let consortia = fixture.ledger.consortia();
    assert_eq!(consortia.log(&id).count, 0, "a pending entry is not in the action log");
    assert_eq!(consortia.pending_count(&id), 1);
    assert_ne!(fixture.ledger.root(), root_before, "the pending entry is in the root");
    fixture.vote(id, 1, entry, true, &mut entries_undo).unwrap();
    assert_eq!(fixture.ledger.consortia().log(&id).count, 0, "one approval of a quorum of 2");
    let twice = fixture.vote(id, 1, entry, false, &mut entries_undo);
    assert!(matches!(Fixture::consortium_error(twice), ConsortiumError::AlreadyVoted { .. }));
    let outsider = fixture.vote(id, 9, entry, true, &mut entries_undo);
    assert!(matches!(Fixture::consortium_error(outsider), ConsortiumError::NotAParty { .. }));
    fixture.vote(id, 2, entry, true, &mut entries_undo).unwrap();
    assert_eq!(fixture.ledger.consortia().log(&id).count, 1, "the quorum applied it");
    assert_eq!(fixture.ledger.consortia().pending_count(&id), 0);
    let late = fixture.vote(id, 0, entry, true, &mut entries_undo);
    assert!(matches!(Fixture::consortium_error(late), ConsortiumError::UnknownEntry { .. }));
    // Three parties, quorum 2: one denial leaves the quorum reachable, the second does not.
    let second = fixture.write_entry(id, 1, 2, &mut entries_undo);
    fixture.vote(id, 0, second, false, &mut entries_undo).unwrap();
    assert_eq!(fixture.ledger.consortia().pending_count(&id), 1);
    fixture.vote(id, 2, second, false, &mut entries_undo).unwrap();
    assert_eq!(fixture.ledger.consortia().pending_count(&id), 0, "dropped");
    assert_eq!(fixture.ledger.consortia().log(&id).count, 1, "never applied");
    // A reorg undoes every step exactly.
    fixture.ledger.revert(entries_undo);
    assert_eq!(fixture.ledger, before);
    assert_eq!(fixture.ledger.root(), root_before);
}

#[test]
fn a_pending_entry_of_a_denied_writer_never_applies() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create_with_approval(&mut undo);
    let writer = fixture.parties[0].account();
    let entry = fixture.write_entry(id, 0, 1, &mut undo);
    let change = PermissionChange::Deny { account: writer, table: None };
    let proposal = fixture.propose(id, 1, change, &mut undo);
    let approver = fixture.parties[2].clone();
    fixture
        .submit(&approver, ConsortiumTx::Approve { consortium: id, proposal }, &mut undo)
        .unwrap();
    fixture.vote(id, 1, entry, true, &mut undo).unwrap();
    let refused = fixture.vote(id, 2, entry, true, &mut undo);
    assert!(matches!(
        Fixture::consortium_error(refused),
        ConsortiumError::NoWritePermission { .. }
    ));
    assert_eq!(fixture.ledger.consortia().log(&id).count, 0);
    assert!(fixture.ledger.consortia().pending_entry(&id, &entry).is_some(), "still pending");
}

#[test]
fn pending_entries_are_bounded() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create_with_approval(&mut undo);
    for row in 0..PENDING_ENTRIES_MAX as i64 {
        fixture.write_entry(id, (row % 3) as usize, row, &mut undo);
    }
    let writer = fixture.parties[0].clone();
    let write = fixture.write(id, -1, 0);
    let refused = fixture.submit(&writer, write, &mut undo);
    assert!(matches!(
        Fixture::consortium_error(refused),
        ConsortiumError::TooManyPendingEntries { .. }
    ));
}

/// The events a member's replica follows: a pending entry carries its action, a vote that
/// leaves it pending emits nothing, the deciding vote says whether it passed.
#[test]
fn entry_events_carry_the_action_then_the_decision() {
    let mut fixture = Fixture::new();
    let mut undo = Undo::default();
    let id = fixture.create_with_approval(&mut undo);
    let writer = fixture.parties[0].clone();
    let write = fixture.write(id, 1, 0);
    let tx = fixture.tx(&writer, write);
    let author = fixture.outsider.account();
    fixture.ledger.apply(&tx, &author, POLICY, &mut undo).unwrap();
    let entry = entry_id(&id, &writer.account(), tx.body.nonce);
    let event = applied_event(&tx, Hash::ZERO, 5, fixture.ledger.consortia());
    assert!(matches!(
        event,
        Some(crate::core::events::Event::ConsortiumEntryPending { height: 5, entry: e, .. }) if e == entry
    ));
    for (by, decided) in [(1, false), (2, true)] {
        let vote = fixture
            .tx(&fixture.parties[by].clone(), ConsortiumTx::ApproveEntry { consortium: id, entry });
        fixture.ledger.apply(&vote, &author, POLICY, &mut undo).unwrap();
        let event = applied_event(&vote, Hash::ZERO, 6, fixture.ledger.consortia());
        match event {
            None => assert!(!decided),
            Some(crate::core::events::Event::ConsortiumEntryDecided {
                passed, entry: e, ..
            }) => {
                assert!(decided && passed && e == entry)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The checkpoint context an attestation needs (its height window); nothing else is read.
fn checkpoint_at(height: u64) -> crate::core::contracts::StorageContext {
    crate::core::contracts::StorageContext {
        height,
        params: crate::core::params::StorageParams::default(),
        nodes: std::sync::Arc::from(Vec::new()),
        generation_signatures: BTreeMap::new(),
        evm: crate::core::evm::EvmBlock {
            height,
            timestamp_ms: 0,
            generation_signature: Hash::ZERO,
            parent_id: Hash::ZERO,
            chain_id: 1,
        },
    }
}

#[test]
fn attestations_certify_through_the_ledger_change_the_root_and_revert_exactly() {
    let mut fixture = Fixture::new();
    let node_keys: Vec<Keypair> = (0..2).map(|i| Keypair::derived("node", i)).collect();
    let mut allocations: Vec<(AccountId, u64)> =
        fixture.parties.iter().map(|key| (key.account(), 1_000)).collect();
    allocations.extend(node_keys.iter().map(|key| (key.account(), 1_000)));
    // Node 1 attests through its attestation account, funded apart from its node account.
    let attester = attestation_key(&node_keys[1]);
    allocations.push((attester.account(), 1_000));
    fixture.ledger = Ledger::genesis(&allocations).unwrap();
    let id = fixture.create(&mut Undo::default());
    let before = fixture.ledger.clone();
    let root_before = fixture.ledger.root();
    let replica_root = Hash::of(b"replica root at 4");
    let attest =
        ConsortiumTx::Attest { consortium: id, height: 4, root: replica_root, certificate: None };
    let author = fixture.outsider.account();

    // Outside a checkpoint the window cannot be checked: refused.
    let tx = fixture.tx(&node_keys[0], attest.clone());
    let outside = fixture.ledger.apply(&tx, &author, POLICY, &mut Undo::default());
    assert_eq!(Fixture::consortium_error(outside), ConsortiumError::AttestationNeedsCheckpoint);
    // A party that is not a member node may not attest.
    let party = fixture.parties[1].clone();
    let tx = fixture.tx(&party, attest.clone());
    let context = checkpoint_at(5);
    let by_party = fixture.ledger.apply_in(
        &tx,
        &author,
        POLICY,
        StorageMode::Full(&context),
        &mut Undo::default(),
    );
    assert!(matches!(Fixture::consortium_error(by_party), ConsortiumError::NotAMember { .. }));

    // A node's certificate is no use to another signer (a party here).
    let certified = |certificate| ConsortiumTx::Attest {
        consortium: id,
        height: 4,
        root: replica_root,
        certificate: Some(certificate),
    };
    let certificate = AttestationCertificate::issue(&node_keys[1]);
    let tx = fixture.tx(&party, certified(certificate));
    let borrowed = fixture.ledger.apply_in(
        &tx,
        &author,
        POLICY,
        StorageMode::Full(&context),
        &mut Undo::default(),
    );
    assert!(matches!(
        Fixture::consortium_error(borrowed),
        ConsortiumError::BadAttestationCertificate { .. }
    ));

    let mut undo = Undo::default();
    let by_node = fixture.tx(&node_keys[0], attest.clone());
    let by_attester = fixture.tx(&attester, certified(certificate));
    for tx in [by_node, by_attester] {
        fixture
            .ledger
            .apply_in(&tx, &author, POLICY, StorageMode::Full(&context), &mut undo)
            .unwrap();
    }
    let state = fixture.ledger.consortia().attestations(&id).unwrap();
    assert_eq!(state.certified, Some(Certified { height: 4, root: replica_root }), "2 of 2");
    let voters: Vec<&AccountId> = state.heights[&4].votes.keys().collect();
    let mut members: Vec<AccountId> = node_keys.iter().map(Keypair::account).collect();
    members.sort();
    assert_eq!(voters, members.iter().collect::<Vec<_>>(), "the certified vote is node 1's");
    assert_eq!(fixture.ledger.next_nonce(&node_keys[1].account()), 0, "node 1 spent no nonce");
    assert_ne!(fixture.ledger.root(), root_before, "attestations are covered by the root");
    fixture.ledger.revert(undo);
    assert_eq!(fixture.ledger.root(), root_before);
    assert!(fixture.ledger.consortia().attestations(&id).is_none());
    assert_eq!(fixture.ledger.consortia(), before.consortia());
}
