//! The storage chain under madsim (PROTOCOL.md §5): a small network of unmodified drivers, an
//! owner's `StorePut`, honest storage nodes and one cheater that kept half of its chunks.
//! Checked: the ledger records the cheater's misses exactly in the rounds its challenges hit a
//! dropped chunk, honest shards never miss, a holder killed by a power cut comes back with its
//! shard (the driver's shard log) and proves again, and while it is down the owner still
//! retrieves the file over the network (`GetShard`/`Shard`) from k good shards (the cheater's
//! damaged shard fails the root check).
//! Build and run: `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo test -p vein-sim
//! --profile sim --test storage`.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use madsim::runtime::{Handle, Runtime};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::node::NodeConfig;
use vein_node::core::params::{Genesis, Params, StorageParams};
use vein_node::core::poc::retarget::initial_base_target;
use vein_node::core::poc::{ModelPlots, PocMode};
use vein_node::core::random::DetRng;
use vein_node::core::storage::{
    OwnerKey, StorePut, assign, challenge_indices, prepare_file, recover_file,
};
use vein_node::core::storage_node::FileRequest;
use vein_node::driver::{Driver, DriverHandle, NoEvents, Primitives};
use vein_node::runtime::InPlace;
use vein_sim::disk::SimDisk;
use vein_sim::net::{NetConfig, NetModel};
use vein_sim::runtime::{SharedNet, SimClock, SimNet, SimNetwork, Skew, sim_now_ms};
use vein_sim::simulation::node_addr;
use vein_sim::trace::Trace;

const MINERS: usize = 3;
const NODES: usize = 6;
const CHALLENGES: u32 = 8;
const KEY: OwnerKey = OwnerKey([9; 32]);

/// What a node needs to (re)start; the disk outlives restarts.
struct Spec {
    index: usize,
    key: Keypair,
    capacity: u64,
    genesis: Arc<Genesis>,
    disk: SimDisk,
    trace: Arc<Mutex<Trace>>,
    /// The simulator's seeded network model (default latencies), shared by all nodes.
    net: SharedNet,
    handle: Mutex<Option<DriverHandle>>,
}

impl Spec {
    fn handle(&self) -> DriverHandle {
        self.handle.lock().unwrap_or_else(PoisonError::into_inner).clone().unwrap()
    }
}

async fn run_node(spec: Arc<Spec>) {
    let addr = node_addr(spec.index);
    let net =
        SimNetwork::bind(addr, spec.index, spec.trace.clone(), spec.net.clone()).await.unwrap();
    let mut seed = [0u8; 32];
    seed[0] = spec.index as u8;
    let mut config = NodeConfig::new(spec.genesis.clone(), spec.key.clone(), seed);
    config.mining = spec.capacity > 0;
    let peers: Vec<SocketAddr> = (0..NODES).filter(|i| *i != spec.index).map(node_addr).collect();
    let prover = ModelPlots { account: spec.key.account(), nonces: spec.capacity };
    let clock = SimClock::new(Arc::new(Skew::default()));
    let runtime = Primitives { clock, net, disk: spec.disk.clone(), blocking: InPlace };
    let (driver, handle) = Driver::start(config, peers, runtime, prover, NoEvents).await.unwrap();
    *spec.handle.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
    let _ = driver.run().await;
}

fn genesis(keys: &[Keypair]) -> Genesis {
    let params = Params {
        target_interval_ms: 2_000,
        finality_depth: 3,
        reorg_limit: 32,
        storage: StorageParams {
            challenge_count: CHALLENGES,
            proof_deadline_rounds: 3,
            repair_after_missed: 3,
        },
        ..Params::default()
    };
    Genesis {
        chain_id: "vein-sim-storage".into(),
        timestamp_ms: 0,
        allocations: keys.iter().map(|key| (key.account(), 1_000_000_000)).collect(),
        initial_base_target: initial_base_target(3_000, params.target_interval_ms),
        poc: PocMode::Model {
            capacities: keys.iter().take(MINERS).map(|key| (key.account(), 1_000)).collect(),
        },
        params,
    }
}

async fn sleep_s(seconds: u64) {
    madsim::time::sleep(Duration::from_secs(seconds)).await;
}

/// A plaintext whose 4 shards include one on the cheater (node 5) and one on node 4, the node
/// that will be killed, and none on the owner (node 0), so the owner must fetch every shard.
fn plaintext_for(
    nodes: &[AccountId],
    cheater: AccountId,
    victim: AccountId,
    owner: AccountId,
) -> Vec<u8> {
    for attempt in 0u32.. {
        let mut plaintext: Vec<u8> = (0..6_000u32).map(|i| (i * 7 % 251) as u8).collect();
        plaintext.extend_from_slice(&attempt.to_le_bytes());
        let prepared = prepare_file(&plaintext, &KEY, 2, 4, 64).unwrap();
        let chosen = assign(&prepared.file_id, 4, nodes).unwrap();
        if chosen.contains(&cheater) && chosen.contains(&victim) && !chosen.contains(&owner) {
            return plaintext;
        }
    }
    unreachable!()
}

async fn scenario() {
    let keys: Vec<Keypair> =
        (0..NODES as u64).map(|i| Keypair::derived("sim-storage", i)).collect();
    let genesis = Arc::new(genesis(&keys));
    genesis.validate().unwrap();
    let trace = Arc::new(Mutex::new(Trace::new()));
    let net: SharedNet = SimNet::new(NetModel::new(21, NODES, NetConfig::default()));
    let specs: Vec<Arc<Spec>> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            Arc::new(Spec {
                index,
                key: key.clone(),
                capacity: if index < MINERS { 1_000 } else { 0 },
                genesis: genesis.clone(),
                disk: SimDisk::new(),
                trace: trace.clone(),
                net: net.clone(),
                handle: Mutex::new(None),
            })
        })
        .collect();
    let runtime = Handle::current();
    let ids: Vec<_> = specs
        .iter()
        .map(|spec| {
            let spec = spec.clone();
            runtime
                .create_node()
                .name(format!("node{}", spec.index))
                .ip(node_addr(spec.index).ip())
                .init(move || run_node(spec.clone()))
                .build()
                .id()
        })
        .collect();
    sleep_s(6).await;

    // The owner (node 0) stores a file; each shard is handed to its node's driver.
    let accounts: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    let (cheater, victim) = (5usize, 4usize);
    let nodes = genesis.storage_nodes();
    let plaintext = plaintext_for(&nodes, accounts[cheater], accounts[victim], accounts[0]);
    let request = FileRequest {
        data_shards: 2,
        total_shards: 4,
        chunk_bytes: 64,
        term_rounds: 200,
        prepaid_fee: 20_000,
        fee: 10,
    };
    let owned = plaintext.clone();
    let stored = specs[0]
        .handle()
        .operate(move |node| node.store_file(sim_now_ms(), &owned, &KEY, &request))
        .await
        .unwrap()
        .unwrap();
    let put: StorePut = stored.put.clone();
    let file_id = put.file_id;
    for (shard, account) in put.storage_nodes.iter().enumerate() {
        let holder = accounts.iter().position(|a| a == account).unwrap();
        let bytes = stored.shards[shard].clone();
        specs[holder].handle().store_shard(file_id, shard as u8, bytes).await.unwrap().unwrap();
    }
    let cheat_put = put.clone();
    let dropped = specs[cheater]
        .handle()
        .operate(move |node| node.drop_shard_fraction(&cheat_put, 0.5, 11))
        .await
        .unwrap()
        .unwrap();
    let cheater_shard = put.shard_of(&accounts[cheater]).unwrap();
    let victim_shard = put.shard_of(&accounts[victim]).unwrap();
    let dropped: BTreeSet<u32> = dropped[&cheater_shard].clone();
    assert_eq!(dropped.len(), (put.leaf_count().unwrap() / 2) as usize);
    sleep_s(30).await;

    // A power cut on the victim: it loses unsynced bytes, not its (synced) shard log.
    runtime.kill(ids[victim]);
    specs[victim].disk.crash(&mut DetRng::from_seed([3; 32]));
    // While it is down, the owner fetches over the network: the cheater's damaged shard fails
    // the root check, so exactly the two honest live shards arrive, and k = 2 recover the file.
    let wanted: Vec<u8> = (0..put.total_shards).collect();
    specs[0].handle().operate(move |node| node.request_shards(file_id, &wanted)).await.unwrap();
    sleep_s(2).await;
    let fetched =
        specs[0].handle().operate(move |node| node.take_fetched_shards(&file_id)).await.unwrap();
    let expected: BTreeSet<u8> =
        (0..put.total_shards).filter(|i| *i != cheater_shard && *i != victim_shard).collect();
    assert_eq!(fetched.keys().copied().collect::<BTreeSet<u8>>(), expected);
    let shards: Vec<Option<Vec<u8>>> =
        (0..put.total_shards).map(|i| fetched.get(&i).cloned()).collect();
    assert_eq!(recover_file(&put, &shards, &KEY).unwrap().plaintext, plaintext);

    // The victim restarts, replays its shard log and proves again.
    sleep_s(4).await;
    runtime.restart(ids[victim]);
    sleep_s(30).await;
    let held = specs[victim]
        .handle()
        .inspect(move |node| node.shard(&file_id, victim_shard).map(<[u8]>::to_vec))
        .await
        .unwrap();
    assert_eq!(held.as_ref(), Some(&stored.shards[usize::from(victim_shard)]));

    // The ledger's record, read on the owner's node.
    let (contract, predicted) = specs[0]
        .handle()
        .inspect(move |node| {
            let chain = node.chain();
            let contract = chain.ledger().contract(&file_id).unwrap().clone();
            let leaf_count = contract.put.leaf_count().unwrap();
            let rounds = contract.first_round..contract.first_round + contract.settled_rounds;
            let predicted = rounds
                .filter(|round| {
                    let g = chain.generation_signature_at(*round).unwrap();
                    challenge_indices(&g, &file_id, cheater_shard, *round, leaf_count, 8)
                        .iter()
                        .any(|index| dropped.contains(index))
                })
                .count() as u64;
            chain.ledger().check_invariants().unwrap();
            (contract, predicted)
        })
        .await
        .unwrap();
    assert!(contract.settled_rounds >= 20, "{} settled rounds", contract.settled_rounds);
    // Detection: the misses recorded are exactly the rounds the challenges predict (at f = 0.5,
    // c = 8 nearly all of them).
    assert_eq!(contract.missed_rounds[usize::from(cheater_shard)], predicted);
    assert!(
        predicted * 10 >= contract.settled_rounds * 9,
        "{predicted} of {}",
        contract.settled_rounds
    );
    // Honest shards never miss, except the victim's rounds while it was down (it proves again
    // after the restart: no miss in a row at the end).
    for (shard, missed) in contract.missed_rounds.iter().enumerate() {
        if shard != usize::from(cheater_shard) && shard != usize::from(victim_shard) {
            assert_eq!(*missed, 0, "honest shard {shard} missed {missed} rounds");
        }
    }
    assert!(contract.missed_rounds[usize::from(victim_shard)] <= 6, "{:?}", contract.missed_rounds);
    assert_eq!(contract.consecutive_missed[usize::from(victim_shard)], 0);
    assert!(contract.forfeited > 0);
}

#[test]
fn cheater_is_detected_and_data_survives_a_crashed_holder() {
    let runtime = Runtime::with_seed_and_config(21, madsim::Config::default());
    runtime.block_on(scenario());
}
