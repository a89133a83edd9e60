#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! The tampering member (issue #17) on a LocalNet of four member nodes. Every node keeps a
//! file replica fed by its own events, and every 250 ms it signs and submits the attestations
//! its feed queued (what the service's attestation task does). The parties write one row per
//! second. Then member 3's operator edits a row of its replica file directly in SQLite: its
//! replica notices the foreign write at its next action (SQLite's `data_version`) and re-reads
//! its rows, so the root it attests is the root of the forged rows. The three honest members
//! certify the true root (a strict majority of four), and the chain names member 3 as
//! diverged in a `ConsortiumCertified` event that every honest member sees. Member 3 sees the
//! same verdict, finds its own root differs, repairs its replica from its action log and
//! attests matching roots again, which clears it on chain.
//!
//! A member that attests a false root while its replica is intact is named the same way.
//!
//! Detection latency is counted in checkpoints from the head height at the moment of the
//! tampering to the checkpoint whose verdict names the tamperer, on each honest member.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use vein_node::consortium_db::{ReplicaFeed, layout};
use vein_node::core::consortium::keys::{self, DataKey, MemberSecret};
use vein_node::core::consortium::{
    Action, Column, ColumnType, ConsortiumTx, CreateConsortium, RowOp, TableSchema, Value,
    consortium_id,
};
use vein_node::core::crypto::Keypair;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::params::Params;
use vein_node::core::transaction::TxKind;
use vein_node::localnet::LocalNet;

const CAPACITIES: [u64; 4] = [100, 100, 100, 100];
const KEY: DataKey = DataKey([33u8; 32]);
const TAMPERER: usize = 3;
/// How often the harness submits queued attestations (the service's interval).
const SUBMIT_EVERY_MS: u64 = 250;
/// The bound the scenario asserts: every honest member has the verdict within this many
/// checkpoints of the tampering.
/// The key of the row written once and forged later.
const STATIC_ROW: i64 = 100;
const DETECTION_CHECKPOINTS_MAX: u64 = 4;

struct Scenario {
    net: LocalNet,
    keys: Vec<Keypair>,
    id: Hash,
    feeds: Vec<ReplicaFeed>,
    directories: Vec<PathBuf>,
    /// How many of `net.events` the feeds have seen.
    cursor: usize,
    next_row: i64,
    /// Parties write once every member holds a replica.
    writing: bool,
    /// A member that attests a false root from now on (its replica is intact).
    liar: Option<usize>,
    _temp: tempfile::TempDir,
}

fn create(keys: &[Keypair], secrets: &[MemberSecret]) -> (CreateConsortium, Hash) {
    let id = consortium_id(&keys[0].account(), 0);
    let create = CreateConsortium {
        name: "registry".into(),
        parties: keys.iter().map(Keypair::account).collect::<BTreeSet<_>>(),
        members: keys.iter().zip(secrets).map(|(key, s)| (key.account(), s.public())).collect(),
        tables: vec![TableSchema {
            name: "ledger".into(),
            columns: vec![
                Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                Column { name: "note".into(), column_type: ColumnType::Text, nullable: false },
            ],
            primary_key: 0,
        }],
        quorum: 2,
        wrapped: keys
            .iter()
            .zip(secrets)
            .enumerate()
            .map(|(i, (key, secret))| {
                let wrapped = keys::wrap(&KEY, &id, 0, &secret.public(), [i as u8 + 50; 32]);
                (key.account(), wrapped.unwrap())
            })
            .collect::<BTreeMap<_, _>>(),
    };
    (create, id)
}

impl Scenario {
    /// Four member nodes (T = 2 s), the consortium created at 4 s, writes from 20 s.
    fn new(seed: u64) -> Scenario {
        let params = Params { target_interval_ms: 2_000, ..Params::default() };
        let (mut net, keys) = LocalNet::new(seed, &CAPACITIES, params, 50).unwrap();
        let secrets: Vec<MemberSecret> =
            keys.iter().map(|key| MemberSecret::derived_from_seed(&key.seed())).collect();
        let (create, id) = create(&keys, &secrets);
        net.run_until(4_000);
        net.submit(0, TxKind::Consortium(Box::new(ConsortiumTx::Create(create))), 10).unwrap();
        let temp = tempfile::tempdir().unwrap();
        let directories: Vec<PathBuf> =
            (0..keys.len()).map(|i| temp.path().join(format!("node{i}"))).collect();
        let feeds = keys
            .iter()
            .zip(&secrets)
            .zip(&directories)
            .map(|((key, secret), directory)| {
                std::fs::create_dir_all(directory).unwrap();
                ReplicaFeed::new(key.account(), secret.clone(), Some(directory.clone()))
            })
            .collect();
        let mut scenario = Scenario {
            net,
            keys,
            id,
            feeds,
            directories,
            cursor: 0,
            next_row: 0,
            writing: false,
            liar: None,
            _temp: temp,
        };
        scenario.run_for(16_000);
        assert!(scenario.feeds.iter().all(|feed| feed.replica(&id).is_some()), "all members");
        scenario.writing = true;
        scenario
    }

    /// Run `duration_ms`, a write every second by a rotating party, feeding every node's events
    /// to its feed and submitting its queued attestations every `SUBMIT_EVERY_MS`.
    fn run_for(&mut self, duration_ms: u64) {
        let end = self.net.now_ms + duration_ms;
        while self.net.now_ms < end {
            let next = self.net.now_ms + SUBMIT_EVERY_MS;
            if next.is_multiple_of(1_000) && self.writing {
                self.write();
            }
            self.net.run_until(next);
            self.feed_and_submit();
        }
    }

    fn write(&mut self) {
        let row = self.next_row;
        self.next_row += 1;
        let mut ops = vec![RowOp::Upsert {
            row: vec![Value::Integer(row % 8), Value::Text(format!("entry {row}"))],
        }];
        if row == 0 {
            // A row nobody rewrites: the one the tampering operator forges.
            ops.push(RowOp::Insert {
                row: vec![Value::Integer(STATIC_ROW), Value::Text("registry header".into())],
            });
        }
        let action = Action { table: "ledger".into(), ops, salt: (row as u128).to_le_bytes() };
        let sealed = action.seal(&KEY, self.id, 0).unwrap();
        let from = (row as usize) % self.keys.len();
        self.net.submit(from, TxKind::Consortium(Box::new(ConsortiumTx::Write(sealed))), 10);
    }

    fn feed_and_submit(&mut self) {
        for (_, node, event) in &self.net.events[self.cursor..] {
            self.feeds[*node].on_event(event);
        }
        self.cursor = self.net.events.len();
        for node in 0..self.feeds.len() {
            let fee = self.net.nodes[node].chain().params().fee_min;
            for mut tx in self.feeds[node].take_outgoing() {
                if self.liar == Some(node)
                    && let ConsortiumTx::Attest { root, .. } = &mut tx
                {
                    *root = Hash::of(root.as_bytes());
                }
                self.net.submit(node, TxKind::Consortium(Box::new(tx)), fee);
            }
        }
    }

    fn replica_file(&self, node: usize) -> PathBuf {
        self.directories[node].join(format!("consortium-{}.sqlite", self.id))
    }

    /// The operator of `node` rewrites a current row of its replica file behind the node's
    /// back. Returns the node's head height at that moment.
    fn tamper(&mut self, node: usize) -> u64 {
        forge_row(&self.replica_file(node));
        self.net.nodes[node].chain().height()
    }

    /// Per honest node: the first checkpoint whose verdict names `member` as diverged.
    fn detections(&self, member: usize) -> BTreeMap<usize, u64> {
        let account = self.keys[member].account();
        let mut first = BTreeMap::new();
        for (_, node, event) in &self.net.events {
            if let Event::ConsortiumCertified { height, diverged, .. } = event
                && *node != member
                && diverged.contains(&account)
            {
                first.entry(*node).or_insert(*height);
            }
        }
        first
    }
}

/// Rewrite the note of the static row of `ledger` through a second SQLite connection.
fn forge_row(path: &Path) {
    let db = rusqlite::Connection::open(path).unwrap();
    let table = layout::version_table("ledger");
    let changed = db
        .execute(
            &format!(
                "UPDATE \"{table}\" SET note = 'forged' WHERE id = ?1 AND vein_valid_to IS NULL"
            ),
            [STATIC_ROW],
        )
        .unwrap();
    assert_eq!(changed, 1, "one current row forged");
}

/// One seed: tamper about 30 s after the writes start, at a phase of the 2 s checkpoint
/// interval that varies with the seed, then run 30 s more. Returns (head at tampering,
/// detection checkpoint per honest member).
fn tampered_run(seed: u64) -> (Scenario, u64, BTreeMap<usize, u64>) {
    let mut scenario = Scenario::new(seed);
    scenario.run_for(30_000 + (seed * 750) % 2_000);
    let tampered_at = scenario.tamper(TAMPERER);
    scenario.run_for(30_000);
    let detections = scenario.detections(TAMPERER);
    (scenario, tampered_at, detections)
}

#[test]
fn every_honest_member_detects_a_tampered_replica_within_a_few_checkpoints() {
    println!("seed | head at tampering | detected at (members 0, 1, 2) | latency (checkpoints)");
    let mut latencies = Vec::new();
    for seed in [1u64, 2, 3, 4, 5] {
        let (scenario, tampered_at, detections) = tampered_run(seed);
        let honest: BTreeSet<usize> = (0..4).filter(|node| *node != TAMPERER).collect();
        assert_eq!(
            detections.keys().copied().collect::<BTreeSet<_>>(),
            honest,
            "seed {seed}: every honest member got a verdict naming the tamperer"
        );
        let latency: Vec<u64> =
            detections.values().map(|detected| detected - tampered_at).collect();
        let at: Vec<String> = detections.values().map(u64::to_string).collect();
        println!("{seed:4} | {tampered_at:17} | {:29} | {latency:?}", at.join(", "));
        for node in &honest {
            let verdicts = scenario.feeds[*node].attester.verdicts(&scenario.id).unwrap();
            assert!(verdicts.peers.contains_key(&scenario.keys[TAMPERER].account()));
            assert!(verdicts.own.is_none(), "seed {seed}: honest member {node} agrees");
            assert!(scenario.feeds[*node].attester.stats.peer_divergences >= 1);
        }
        latencies.extend(latency);
    }
    latencies.sort_unstable();
    let worst = *latencies.last().unwrap();
    println!(
        "detection latency over {} (seed, member) pairs: min {} median {} max {} checkpoints",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        worst
    );
    assert!(worst <= DETECTION_CHECKPOINTS_MAX, "latencies {latencies:?}");
}

#[test]
fn the_tampered_member_repairs_its_replica_and_the_chain_clears_it() {
    let (mut scenario, _, detections) = tampered_run(7);
    assert_eq!(detections.len(), 3, "detected: {detections:?}");
    scenario.run_for(20_000);
    let id = scenario.id;
    let tamperer = &scenario.feeds[TAMPERER];
    let replica = tamperer.replica(&id).unwrap();
    assert!(replica.foreign_writes() >= 1, "the replica noticed the foreign write");
    assert!(tamperer.attester.stats.repairs >= 1, "it repaired itself");
    let own = tamperer.attester.verdicts(&id).unwrap().own.unwrap();
    assert_ne!(own.ours, own.certified);
    assert_eq!(own.repaired_root, Some(own.certified), "the repair reached the certified root");
    let honest = scenario.feeds[0].replica(&id).unwrap();
    let height = replica.height().min(honest.height());
    for key in 0..8 {
        let key = Value::Integer(key);
        assert_eq!(
            replica.get_as_of("ledger", &key, height).unwrap(),
            honest.get_as_of("ledger", &key, height).unwrap()
        );
    }
    assert_eq!(replica.root_at(height), honest.root_at(height));
    let forged = replica.select_as_of("SELECT id FROM ledger WHERE note = 'forged'", height);
    assert!(forged.unwrap().rows.is_empty(), "the forged row is gone");
    // On chain: certified past the repair, and the member's later matching votes cleared it.
    for node in &scenario.net.nodes {
        let attestations = node.chain().ledger().consortia().attestations(&id).unwrap();
        assert!(attestations.certified.unwrap().height > own.detected_at);
        assert!(attestations.diverged.is_empty(), "diverged: {:?}", attestations.diverged);
    }
}

#[test]
fn a_member_attesting_a_false_root_is_named_by_every_honest_member() {
    let mut scenario = Scenario::new(9);
    scenario.run_for(20_000);
    let lying_from = scenario.net.nodes[TAMPERER].chain().height();
    scenario.liar = Some(TAMPERER);
    scenario.run_for(12_000);
    let detections = scenario.detections(TAMPERER);
    assert_eq!(detections.len(), 3, "every honest member: {detections:?}");
    for (node, detected) in &detections {
        println!(
            "member {node}: false root named at checkpoint {detected}, lying from {lying_from}"
        );
        assert!(detected - lying_from <= DETECTION_CHECKPOINTS_MAX);
    }
    // Its own replica agrees with the certified roots: nothing to repair.
    let liar = &scenario.feeds[TAMPERER].attester;
    assert_eq!(liar.stats.repairs, 0);
    let chain = scenario.net.nodes[0].chain().ledger().consortia();
    let diverged = &chain.attestations(&scenario.id).unwrap().diverged;
    assert!(diverged.contains_key(&scenario.keys[TAMPERER].account()), "recorded on chain");
}
