//! The storage-chain families (PROTOCOL.md §5): #9 storage cheating and shard loss.
//!
//! Model: miners (`network.nodes`, with space) and storage-only nodes (`storage.storage_nodes`,
//! no space) form the storage node set (every genesis account). The owner (node 0) stores files
//! with `StorePut`; the assigned nodes keep their shards and answer `c` chunk challenges per shard
//! per round (`challenge_count`); the ledger settles each round and records the misses.
//!
//! - **Storage cheating** (`metric = "storage_detection"`): the last node keeps only `1 − f` of
//!   the chunks of each of its shards (`Node::drop_shard_fraction`); the owner grinds its files so
//!   that this node holds a shard of every one. Each (file, round) the ledger settles is one
//!   trial; a trial is a detection when the ledger recorded the cheater's shard as missed. Judged
//!   against `1 − (1 − f)^c` with the exact dropped fraction `⌊f·L⌋ / L` (L chunks per shard;
//!   the files are sized so that L is `chunks_per_shard`). The run also checks, exactly, that the
//!   recorded misses are the rounds whose challenge indices hit a dropped chunk, and that honest
//!   shards never miss.
//! - **Shard loss** (`metric = "shard_loss"`): the owner grinds one file onto storage-only nodes;
//!   after a few proven rounds `crashed` of its holders crash at once (shards lost, cut off for
//!   good). Measured: whether the file recovers from the surviving shards
//!   (`shard_loss_recoverable`), and whether, by the end of the run, repair re-created every
//!   shard on a live node that proves it and the file recovers from the current holders
//!   (`shard_loss_restored`). Both are judged against the k-of-n rule: 1 when `n − crashed ≥ k`,
//!   else 0. Repair is driven the way a v0 owner would: a `StoreRepair` as soon as a shard's node
//!   missed `repair_after_missed` settled rounds in a row, then the new node gets the shard rebuilt
//!   from `k` live ones (`LocalNet::deliver_repaired`). Throughout, whenever at least `k` shards are
//!   held by live nodes the file must decode (violation `data-lost-with-k-shards` otherwise).

use std::collections::{BTreeMap, BTreeSet};

use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::params::{Params, StorageParams};
use vein_node::core::random::DetRng;
use vein_node::core::storage::{
    OwnerKey, StorePut, assign, challenge_indices, prepare_file, recover_file,
};
use vein_node::core::storage_node::FileRequest;
use vein_node::core::transaction::TxKind;
use vein_reports::charts::interval_chart;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, SweepReport, Violation};
use vein_reports::plots::{Chart, ChartLabels, Curve, LegendCorner, LineStyle};
use vein_reports::reference;
use vein_reports::summary::NamedChart;

use crate::attacker::NoAttacker;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::net_setup::{params, tip_strategy};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::InvalidValue;
pub use crate::storage_spec::StorageSpec;
use crate::storage_spec::plaintext_bytes;
use crate::storage_spec::{self, StorageRole};

/// Transaction fee of the owner's puts and repairs.
const OWNER_FEE: u64 = 10;
/// Rounds proven before the holders crash (shard loss).
const ROUNDS_BEFORE_CRASH: u64 = 3;
/// Simulated time before the first put: a few checkpoints so that the chain is moving.
const WARMUP_MS: u64 = 4_000;
/// Step of the shard-loss driver loop.
const STEP_MS: u64 = 500;

/// Plaintext size that gives shards of exactly `chunks_per_shard` chunks.
fn spec_of(scenario: &Scenario, seed: u64) -> Result<&StorageSpec, RunError> {
    scenario.storage.as_ref().ok_or_else(|| RunError::Setup {
        scenario: scenario.name.clone(),
        seed,
        detail: "the [storage] table is missing".into(),
    })
}

fn setup(scenario: &Scenario, seed: u64, detail: impl Into<String>) -> RunError {
    RunError::Setup { scenario: scenario.name.clone(), seed, detail: detail.into() }
}

fn storage_params(scenario: &Scenario, spec: &StorageSpec) -> Params {
    Params {
        storage: StorageParams {
            challenge_count: spec.challenges,
            proof_deadline_rounds: spec.proof_deadline_rounds,
            repair_after_missed: spec.repair_after_missed,
        },
        ..params(scenario)
    }
}

fn net_spec(scenario: &Scenario, spec: &StorageSpec) -> NetSpec {
    let mut capacities = vec![scenario.network.nonces_per_node; scenario.network.nodes as usize];
    capacities.extend(std::iter::repeat_n(0, spec.storage_nodes as usize));
    NetSpec {
        capacities,
        params: storage_params(scenario, spec),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: Vec::new(),
    }
}

fn start<E: Engine>(scenario: &Scenario, spec: &StorageSpec, seed: u64) -> Result<E, RunError> {
    E::start(&net_spec(scenario, spec), seed).map_err(|source| RunError::Genesis {
        scenario: scenario.name.clone(),
        seed,
        source,
    })
}

/// The owner's key, secret to the owner (seeded: runs are reproducible).
fn owner_key(seed: u64) -> OwnerKey {
    OwnerKey(Hash::of_parts(&[b"vein-scenarios/storage/key", &seed.to_le_bytes()]).0)
}

/// A plaintext for file `file` whose assignment satisfies `accept`; the owner grinds a counter
/// (docs/storage.md: steering one's own file only pays oneself).
fn ground_plaintext(
    spec: &StorageSpec,
    key: &OwnerKey,
    nodes: &[AccountId],
    seed: u64,
    file: u64,
    accept: impl Fn(&[AccountId]) -> bool,
) -> Option<Vec<u8>> {
    let length = plaintext_bytes(spec) as usize;
    let mut rng =
        DetRng::from_seed(Hash::of_parts(&[b"file", &seed.to_le_bytes(), &file.to_le_bytes()]).0);
    let mut plaintext: Vec<u8> = (0..length).map(|_| rng.below(256) as u8).collect();
    for attempt in 0u32..100_000 {
        // The counter overwrites the first bytes; length stays exact.
        for (slot, byte) in plaintext.iter_mut().zip(attempt.to_le_bytes()) {
            *slot = byte;
        }
        let prepared =
            prepare_file(&plaintext, key, spec.data_shards, spec.total_shards, spec.chunk_bytes)
                .ok()?;
        let chosen = assign(&prepared.file_id, spec.total_shards, nodes).ok()?;
        if accept(&chosen) {
            return Some(plaintext);
        }
    }
    None
}

fn request(spec: &StorageSpec, term_rounds: u64) -> FileRequest {
    FileRequest {
        data_shards: spec.data_shards,
        total_shards: spec.total_shards,
        chunk_bytes: spec.chunk_bytes,
        term_rounds,
        // One token per shard-round keeps every share positive.
        prepaid_fee: term_rounds * u64::from(spec.total_shards),
        fee: OWNER_FEE,
    }
}

/// A term that outlasts the run, so the contract (and its record) is still open at the end.
fn term_rounds(scenario: &Scenario) -> u64 {
    4 * scenario.run.duration_s * 1000 / scenario.network.target_interval_ms.max(1) + 100
}

/// Ledger invariants on every live node, no conflicting finality among them, and one chain a
/// few checkpoints below the lowest live head.
fn live_invariants<E: Engine>(engine: &E, crashed: &BTreeSet<usize>) -> Vec<Violation> {
    let at = engine.now_ms() as f64 / 1000.0;
    let live: Vec<usize> = (0..engine.node_count()).filter(|i| !crashed.contains(i)).collect();
    let mut violations = Vec::new();
    let mut agreed: BTreeMap<u64, (Hash, usize)> = BTreeMap::new();
    for index in &live {
        if let Err(error) = engine.node(*index).chain().ledger().check_invariants() {
            violations.push(Violation {
                invariant: "ledger".into(),
                at_simulated_seconds: at,
                node: Some(*index as u64),
                detail: format!("{error:?}"),
            });
        }
        for (height, id) in engine.finals(*index) {
            match agreed.get(height) {
                Some((other, first)) if other != id => violations.push(Violation {
                    invariant: "conflicting-finality".into(),
                    at_simulated_seconds: at,
                    node: Some(*index as u64),
                    detail: format!("nodes {first} and {index} hold different finals at {height}"),
                }),
                Some(_) => {}
                None => {
                    agreed.insert(*height, (*id, *index));
                }
            }
        }
    }
    let lowest = live.iter().map(|i| engine.node(*i).chain().height()).min().unwrap_or(0);
    let top = lowest.saturating_sub(3);
    let reference = engine.node(0).chain().active_at(top);
    for index in &live {
        if engine.node(*index).chain().active_at(top) != reference {
            violations.push(Violation {
                invariant: "convergence".into(),
                at_simulated_seconds: at,
                node: Some(*index as u64),
                detail: format!("node {index} is on another chain at height {top}"),
            });
        }
    }
    violations
}

fn violation(engine_ms: u64, invariant: &str, node: Option<usize>, detail: String) -> Violation {
    Violation {
        invariant: invariant.into(),
        at_simulated_seconds: engine_ms as f64 / 1000.0,
        node: node.map(|n| n as u64),
        detail,
    }
}

fn finish<E: Engine>(
    scenario: &Scenario,
    seed: u64,
    engine: &E,
    violations: Vec<Violation>,
    measurements: Vec<Measurement>,
) -> RunMetrics {
    let trace: String = engine.trace_hash().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let mut run = RunMetrics::new(&scenario.name, seed, trace);
    run.nodes = engine.node_count() as u64;
    run.simulated_seconds = engine.now_ms() as f64 / 1000.0;
    run.messages_delivered = engine.messages_delivered();
    run.checkpoints = engine.node(0).chain().height();
    run.violations = violations;
    run.measurements = measurements;
    run
}

/// #9, storage cheating, in the registry.
pub struct StorageDetection;

impl Family for StorageDetection {
    const METRIC: &'static str = "storage_detection";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::DetectionCurve];
    const STORAGE: bool = true;
    const PARAMETERS: &'static [&'static str] = &["f", "challenges"];
    type Attacker = NoAttacker;

    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        match &scenario.storage {
            Some(spec) => {
                storage_spec::validate(spec, StorageRole::Detection, scenario.network.nodes)
            }
            None => Err(InvalidValue::StorageRequired { metric: Self::METRIC }),
        }
    }

    fn set_parameter(scenario: &mut Scenario, name: &str, value: f64) -> Result<(), InvalidValue> {
        storage_spec::set_parameter(scenario.storage.as_mut(), name, value)
    }

    fn labels(scenario: &Scenario, labels: &mut BTreeMap<String, f64>) {
        if let Some(spec) = &scenario.storage {
            storage_spec::labels(spec, StorageRole::Detection, labels);
        }
    }

    fn story(_scenario: &Scenario) -> String {
        "The owner (node 0) stores `files` files (k of n, L chunks per shard); the last \
             node holds a shard of each and keeps only 1 - f of its chunks, the others are \
             honest. Each round every shard is challenged at c chunks; the cheater cannot \
             answer when a challenged chunk is missing, and the ledger records the miss.\n\
             metric: storage_detection = recorded misses of the cheater's shards / settled \
             (file, round) trials (Wilson CI). Checked exactly: the misses are the rounds whose \
             challenge indices hit a dropped chunk; honest shards never miss.\n\
             reference: 1 - (1 - f)^c (PROTOCOL.md section 5), f = floor(f L) / L exactly."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        detection::<E>(scenario, seed)
    }
}

/// Shard loss, in the registry.
pub struct ShardLoss;

impl Family for ShardLoss {
    const METRIC: &'static str = "shard_loss";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::KOfN];
    const STORAGE: bool = true;
    const PARAMETERS: &'static [&'static str] = &["crashed", "challenges"];
    type Attacker = NoAttacker;

    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        match &scenario.storage {
            Some(spec) => storage_spec::validate(spec, StorageRole::Loss, scenario.network.nodes),
            None => Err(InvalidValue::StorageRequired { metric: Self::METRIC }),
        }
    }

    fn set_parameter(scenario: &mut Scenario, name: &str, value: f64) -> Result<(), InvalidValue> {
        storage_spec::set_parameter(scenario.storage.as_mut(), name, value)
    }

    fn labels(scenario: &Scenario, labels: &mut BTreeMap<String, f64>) {
        if let Some(spec) = &scenario.storage {
            storage_spec::labels(spec, StorageRole::Loss, labels);
        }
    }

    fn story(_scenario: &Scenario) -> String {
        "The owner (node 0) stores one file (k of n erasure code) on storage-only nodes; \
             after 3 proven rounds `crashed` holders crash at once (shards lost, cut off). The \
             owner submits StoreRepair once a shard's node missed M settled rounds in a row; \
             the new node gets the shard rebuilt from k live ones.\n\
             metric: shard_loss_recoverable (the file decodes from the surviving shards) and \
             shard_loss_restored (at the end every shard is on a live node, proven, and the \
             file decodes from the current holders), one trial per seed (Wilson CI).\n\
             reference: k of n: 1 if n - crashed >= k, else 0. Invariant: whenever k shards \
             are held by live nodes the file decodes."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        shard_loss::<E>(scenario, seed)
    }
}

/// #9: one cheater holding a shard of every file keeps `1 − f` of its chunks.
pub fn detection<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let spec = spec_of(scenario, seed)?;
    let f = spec.f.ok_or_else(|| setup(scenario, seed, "storage.f missing"))?;
    let mut engine: E = start(scenario, spec, seed)?;
    let cheater = engine.node_count() - 1;
    let cheater_account = engine.account(cheater);
    let key = owner_key(seed);
    let term = term_rounds(scenario);
    engine.run_until(WARMUP_MS);
    let nodes = engine.node(0).chain().storage_nodes().to_vec();
    let mut puts: Vec<(StorePut, BTreeSet<u32>)> = Vec::new();
    for file in 0..spec.files {
        let plaintext = ground_plaintext(spec, &key, &nodes, seed, file, |chosen| {
            chosen.contains(&cheater_account)
        })
        .ok_or_else(|| setup(scenario, seed, "no file assignable to the cheater"))?;
        let stored = engine
            .store_file(0, &plaintext, &key, &request(spec, term))
            .map_err(|error| setup(scenario, seed, format!("store_file: {error}")))?;
        // Keyed by f too: points of one sweep share the seed's chain, but their dropped chunks
        // must not be nested subsets of each other (that would correlate the points).
        let drop_seed = Hash::of_parts(&[
            b"drop",
            &seed.to_le_bytes(),
            &file.to_le_bytes(),
            &f.to_bits().to_le_bytes(),
        ]);
        let dropped = engine
            .drop_shard_fraction(cheater, &stored.put, f, drop_seed.first_u64_le())
            .map_err(|error| setup(scenario, seed, format!("drop_shard_fraction: {error}")))?;
        let dropped = dropped.into_values().next().unwrap_or_default();
        puts.push((stored.put, dropped));
    }
    engine.run_until(scenario.run.duration_s * 1000);

    let view = engine.node(0);
    let chain = view.chain();
    let count = spec.challenges as usize;
    let (mut trials, mut misses) = (0u64, 0u64);
    let mut violations = Vec::new();
    let mut exact_fraction = None;
    for (put, dropped) in &puts {
        let contract = chain
            .ledger()
            .contract(&put.file_id)
            .ok_or_else(|| setup(scenario, seed, "a put was not applied by the end of the run"))?;
        let shard = put
            .shard_of(&cheater_account)
            .ok_or_else(|| setup(scenario, seed, "the cheater holds no shard"))?;
        let leaf_count =
            put.leaf_count().map_err(|error| setup(scenario, seed, format!("{error}")))?;
        let fraction = dropped.len() as f64 / f64::from(leaf_count);
        exact_fraction.get_or_insert(fraction);
        let rounds = contract.first_round..contract.first_round + contract.settled_rounds;
        let mut predicted = 0u64;
        for round in rounds {
            let Some(g) = chain.generation_signature_at(round) else {
                return Err(setup(scenario, seed, format!("no generation signature at {round}")));
            };
            let indices = challenge_indices(&g, &put.file_id, shard, round, leaf_count, count);
            if indices.iter().any(|index| dropped.contains(index)) {
                predicted += 1;
            }
        }
        let recorded = contract.missed_rounds[usize::from(shard)];
        if recorded != predicted {
            violations.push(violation(
                engine.now_ms(),
                "storage-miss-mismatch",
                Some(cheater),
                format!(
                    "file {}: ledger recorded {recorded} misses, challenges predict {predicted}",
                    put.file_id.short()
                ),
            ));
        }
        let honest: u64 = contract
            .missed_rounds
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != usize::from(shard))
            .map(|(_, missed)| missed)
            .sum();
        if honest > 0 {
            violations.push(violation(
                engine.now_ms(),
                "honest-storage-missed",
                None,
                format!("file {}: honest shards missed {honest} rounds", put.file_id.short()),
            ));
        }
        trials += contract.settled_rounds;
        misses += recorded;
    }
    let fraction = exact_fraction.unwrap_or(f);
    let expected = reference::storage_detection_probability(fraction, spec.challenges)
        .map_err(|source| RunError::Reference { scenario: scenario.name.clone(), source })?;
    let measurement = Measurement::proportion(
        "storage_detection",
        scenario.labels(),
        misses,
        trials,
        Some(Reference::new(
            expected,
            format!("1 − (1 − f)^c, f = {fraction}"),
            reference::CITATION_PROTOCOL,
        )),
    )?;
    violations.extend(live_invariants(&engine, &BTreeSet::new()));
    Ok(finish(scenario, seed, &engine, violations, vec![measurement]))
}

/// Shard loss: `crashed` holders crash at once; recovery from the survivors and repair.
pub fn shard_loss<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let spec = spec_of(scenario, seed)?;
    let crash_count =
        spec.crashed.ok_or_else(|| setup(scenario, seed, "storage.crashed missing"))?;
    let mut engine: E = start(scenario, spec, seed)?;
    let miners = scenario.network.nodes as usize;
    let storage_only: BTreeSet<AccountId> =
        (miners..engine.node_count()).map(|i| engine.account(i)).collect();
    let index_of: BTreeMap<AccountId, usize> =
        (0..engine.node_count()).map(|i| (engine.account(i), i)).collect();
    let key = owner_key(seed);
    let term = term_rounds(scenario);
    let deadline_ms = scenario.run.duration_s * 1000;
    engine.run_until(WARMUP_MS);
    let nodes = engine.node(0).chain().storage_nodes().to_vec();
    let plaintext = ground_plaintext(spec, &key, &nodes, seed, 0, |chosen| {
        chosen.iter().all(|node| storage_only.contains(node))
    })
    .ok_or_else(|| setup(scenario, seed, "no file assignable to storage-only nodes"))?;
    let stored = engine
        .store_file(0, &plaintext, &key, &request(spec, term))
        .map_err(|error| setup(scenario, seed, format!("store_file: {error}")))?;
    let file_id = stored.put.file_id;
    let files = [file_id];
    // Wait until a few rounds are settled and proven.
    loop {
        let settled =
            engine.node(0).chain().ledger().contract(&file_id).map_or(0, |c| c.settled_rounds);
        if settled >= ROUNDS_BEFORE_CRASH {
            break;
        }
        if engine.now_ms() >= deadline_ms {
            return Err(setup(
                scenario,
                seed,
                "the contract did not settle 3 rounds; raise run.duration_s",
            ));
        }
        let next = engine.now_ms() + STEP_MS;
        engine.run_until(next);
    }
    // Crash `crashed` holders chosen by the seed.
    let mut rng = DetRng::from_seed(Hash::of_parts(&[b"crash", &seed.to_le_bytes()]).0);
    let mut holders: Vec<usize> =
        stored.put.storage_nodes.iter().filter_map(|node| index_of.get(node).copied()).collect();
    let mut crashed = BTreeSet::new();
    for _ in 0..crash_count {
        let victim = holders.remove(rng.index(holders.len()));
        engine.crash(victim, &files);
        crashed.insert(victim);
    }
    let k = usize::from(spec.data_shards);
    let n = usize::from(spec.total_shards);
    let decodes = |shards: &[Option<Vec<u8>>]| {
        recover_file(&stored.put, shards, &key).is_ok_and(|r| r.plaintext == plaintext)
    };
    let recoverable = decodes(&engine.fetch_shards(&stored.put));
    let survives = n - crash_count as usize >= k;

    // Repair loop: the owner asks for a repair once due, the new node gets its shard rebuilt.
    let mut violations = Vec::new();
    let mut asked: BTreeMap<u8, (AccountId, u64)> = BTreeMap::new();
    let mut delivered: BTreeSet<(u8, AccountId)> = BTreeSet::new();
    let mut data_lost_reported = false;
    let repair_after = spec.repair_after_missed;
    let retry_ms = 10 * scenario.network.target_interval_ms;
    while engine.now_ms() < deadline_ms {
        let next = (engine.now_ms() + STEP_MS).min(deadline_ms);
        engine.run_until(next);
        let Some(contract) = engine.node(0).chain().ledger().contract(&file_id).cloned() else {
            return Err(setup(scenario, seed, "the contract closed during the run"));
        };
        let put = contract.put.clone();
        for (shard, node) in put.storage_nodes.iter().enumerate() {
            let shard = shard as u8;
            let Some(&holder) = index_of.get(node) else { continue };
            // A new live holder gets its shard once (rebuilt from k live shards).
            if !crashed.contains(&holder)
                && engine.node(holder).shard(&file_id, shard).is_none()
                && !delivered.contains(&(shard, *node))
                && engine.deliver_repaired(0, &file_id, shard).is_ok()
            {
                delivered.insert((shard, *node));
            }
            let due = contract.consecutive_missed[usize::from(shard)] >= repair_after;
            let fresh = asked.get(&shard).is_some_and(|(asked_node, at)| {
                asked_node == node && engine.now_ms() < at + retry_ms
            });
            if due && !fresh {
                let kind = TxKind::StoreRepair { file_id, shard_index: shard };
                if engine.submit(0, kind, OWNER_FEE).is_some() {
                    asked.insert(shard, (*node, engine.now_ms()));
                }
            }
        }
        // Data is never lost while k shards survive on live nodes.
        let shards = engine.fetch_shards(&put);
        let live_held = shards.iter().filter(|s| s.is_some()).count();
        if live_held >= k && !decodes(&shards) && !data_lost_reported {
            data_lost_reported = true;
            violations.push(violation(
                engine.now_ms(),
                "data-lost-with-k-shards",
                None,
                format!(
                    "{live_held} shards held by live nodes, k = {k}, and the file does not decode"
                ),
            ));
        }
    }
    let view = engine.node(0);
    let chain = view.chain();
    let contract = chain
        .ledger()
        .contract(&file_id)
        .ok_or_else(|| setup(scenario, seed, "the contract closed during the run"))?;
    let put = contract.put.clone();
    let all_live = put
        .storage_nodes
        .iter()
        .all(|node| index_of.get(node).is_some_and(|i| !crashed.contains(i)));
    let shards = engine.fetch_shards(&put);
    let all_held = shards.iter().all(Option::is_some);
    // No shard is failing: every node proved within its last M settled rounds.
    let all_proven = contract.consecutive_missed.iter().all(|missed| *missed < repair_after);
    let restored = all_live && all_held && all_proven && decodes(&shards);
    let labels = scenario.labels();
    let judged = |name: &str, value: bool| -> Result<Measurement, RunError> {
        Ok(Measurement::proportion(
            name,
            labels.clone(),
            u64::from(value),
            1,
            Some(Reference::new(
                if survives { 1.0 } else { 0.0 },
                "k of n: 1 if n − crashed ≥ k, else 0",
                "erasure coding (Reed–Solomon, any k of n shards), docs/storage.md",
            )),
        )?)
    };
    let measurements = vec![
        judged("shard_loss_recoverable", recoverable)?,
        judged("shard_loss_restored", restored)?,
    ];
    violations.extend(live_invariants(&engine, &crashed));
    Ok(finish(scenario, seed, &engine, violations, measurements))
}

fn named<'a>(sweep: &'a SweepReport, name: &'a str) -> impl Iterator<Item = &'a Measurement> {
    sweep
        .measurements
        .iter()
        .map(|pooled| &pooled.measurement)
        .filter(move |measurement| measurement.name == name)
}

fn shift(points: &mut [vein_reports::plots::IntervalPoint], by: f64) {
    for point in points {
        point.x += by;
    }
}

/// Largest swept value of parameter `name` among `measurements`.
fn largest<'a>(measurements: impl Iterator<Item = &'a Measurement>, name: &str) -> f64 {
    measurements.filter_map(|m| m.parameters.get(name).copied()).fold(0.0, f64::max)
}

/// The storage charts: detection vs f with the 1 − (1 − f)^c curves; shard loss vs crashed.
pub fn charts(sweep: &SweepReport, charts: &mut Vec<NamedChart>) {
    if named(sweep, "storage_detection").next().is_some() {
        let mut chart = interval_chart(
            ChartLabels::new(
                "Storage cheating: detection per round vs fraction dropped",
                "fraction of chunks dropped f",
                "rounds the ledger recorded as missed",
            ),
            named(sweep, "storage_detection"),
            "f",
            Some("challenges"),
        );
        // One smooth reference curve per c, in the colour of its points.
        let mut counts: Vec<f64> = named(sweep, "storage_detection")
            .filter_map(|m| m.parameters.get("challenges").copied())
            .collect();
        counts.sort_by(f64::total_cmp);
        counts.dedup();
        let high = largest(named(sweep, "storage_detection"), "f").max(0.05) * 1.05;
        chart.curves = counts
            .iter()
            .enumerate()
            .map(|(index, c)| {
                let c = *c as u32;
                Curve::from_function(
                    &format!("c = {c}: 1 − (1 − f)^c"),
                    0.0..high.min(1.0),
                    101,
                    index,
                    LineStyle::Dashed,
                    move |f| reference::storage_detection_probability(f, c).ok(),
                )
            })
            .collect();
        for series in &mut chart.series {
            series.label = series.label.replace("challenges", "c");
        }
        chart.legend = LegendCorner::LowerRight;
        charts.push(NamedChart::new("storage_detection", Chart::Intervals(chart)));
    }
    if named(sweep, "shard_loss_recoverable").next().is_some() {
        let labels = ChartLabels::new(
            "Shard loss: file survival and repair vs holders crashed",
            "holders crashed at once",
            "fraction of runs",
        );
        let mut chart =
            interval_chart(labels.clone(), named(sweep, "shard_loss_recoverable"), "crashed", None);
        let restored = interval_chart(labels, named(sweep, "shard_loss_restored"), "crashed", None);
        // The two series share x values: shift them apart a little so both stay visible.
        if let Some(series) = chart.series.first_mut() {
            series.label = "decodes from the surviving shards".into();
            shift(&mut series.points, -0.06);
        }
        for mut series in restored.series {
            series.label = "every shard re-created and proven by the end".into();
            shift(&mut series.points, 0.06);
            chart.series.push(series);
        }
        // The reference is a step: 1 up to n − k crashed, 0 beyond; drawn between the points.
        let mut steps: Vec<(f64, f64)> = named(sweep, "shard_loss_recoverable")
            .filter_map(|m| Some((*m.parameters.get("crashed")?, m.reference.as_ref()?.value)))
            .collect();
        steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        steps.dedup_by(|a, b| a.0.to_bits() == b.0.to_bits());
        let mut curve = Vec::new();
        for (index, (x, y)) in steps.iter().enumerate() {
            if let Some((previous_x, previous_y)) = index.checked_sub(1).map(|i| steps[i])
                && previous_y.to_bits() != y.to_bits()
            {
                let middle = (previous_x + x) / 2.0;
                curve.push((middle, previous_y));
                curve.push((middle, *y));
            }
            curve.push((*x, *y));
        }
        chart.curves =
            vec![Curve::new("k of n: 1 if n − crashed ≥ k, else 0", curve, 2, LineStyle::Dashed)];
        chart.legend = LegendCorner::LowerLeft;
        charts.push(NamedChart::new("shard_loss", Chart::Intervals(chart)));
    }
}
