#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! Shards through the driver on the tokio runtime: a shard handed to a storage node is written
//! to its disk and is back after a restart (also after a torn write at the log's tail), and a
//! data owner fetches shards from its peers over TCP (`GetShard` / `Shard`) and recovers the file.

use std::sync::Arc;
use std::time::Duration;
use vein_node::core::crypto::Keypair;
use vein_node::core::node::NodeConfig;
use vein_node::core::params::Params;
use vein_node::core::poc::ModelPlots;
use vein_node::core::storage::{OwnerKey, prepare_file, recover_file};
use vein_node::driver::{Driver, NoEvents, Primitives};
use vein_node::localnet::model_genesis;
use vein_node::runtime::tokio_impl::{FsDisk, TcpNetwork, TokioBlocking, TokioClock};
use vein_node::runtime::{Clock, Network};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_survive_a_restart_and_are_fetched_over_the_network() {
    let params = Params { target_interval_ms: 300, finality_depth: 2, ..Params::default() };
    let (mut genesis, keys) = model_genesis("shard-test", &[1_000, 0], 1_000_000, params);
    genesis.timestamp_ms = TokioClock.now_ms();
    let genesis = Arc::new(genesis);
    let directory = tempfile::tempdir().unwrap();
    let key = OwnerKey([5; 32]);
    let plaintext: Vec<u8> = (0..5_000u32).map(|i| (i % 253) as u8).collect();
    let prepared = prepare_file(&plaintext, &key, 2, 3, 64).unwrap();
    let file_id = prepared.file_id;
    let holder_dir = directory.path().join("holder");

    // The holder (node 1) keeps shards 0 and 2, then shuts down.
    let start = |index: usize, net: TcpNetwork, peers: Vec<std::net::SocketAddr>| {
        let config = NodeConfig::new(genesis.clone(), keys[index].clone(), [index as u8; 32]);
        let prover = ModelPlots { account: keys[index].account(), nonces: 0 };
        let disk = FsDisk::new(directory.path().join(if index == 1 { "holder" } else { "owner" }));
        let runtime = Primitives { clock: TokioClock, net, disk, blocking: TokioBlocking };
        Driver::start(config, peers, runtime, prover, NoEvents)
    };
    let net = TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("transport", 1))
        .await
        .unwrap();
    let (driver, handle) = start(1, net, Vec::new()).await.unwrap();
    let task = tokio::spawn(driver.run());
    for index in [0u8, 2] {
        let shard = prepared.shards[usize::from(index)].clone();
        handle.store_shard(file_id, index, shard).await.unwrap().unwrap();
    }
    handle.shutdown().await;
    task.await.unwrap().unwrap();
    // A torn write at the tail (a crash mid-append) must not lose the synced shards.
    let log = holder_dir.join("shards.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(&[3, 200, 0, 0, 0, 1, 2]);
    std::fs::write(&log, bytes).unwrap();

    // Restart the holder from its disk, and start the owner (node 0) peered with it.
    let holder_net =
        TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("transport", 2))
            .await
            .unwrap();
    let owner_net =
        TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("transport", 3))
            .await
            .unwrap();
    let (holder_addr, owner_addr) = (holder_net.local_addr(), owner_net.local_addr());
    let (driver, holder) = start(1, holder_net, vec![owner_addr]).await.unwrap();
    tokio::spawn(driver.run());
    for index in [0u8, 2] {
        let held = holder
            .inspect(move |node| node.shard(&file_id, index).map(<[u8]>::to_vec))
            .await
            .unwrap();
        assert_eq!(held.as_ref(), Some(&prepared.shards[usize::from(index)]), "shard {index}");
    }
    let (driver, owner) = start(0, owner_net, vec![holder_addr]).await.unwrap();
    tokio::spawn(driver.run());

    // The owner asks its peers for every shard; the holder answers with the two it has.
    // Bounded wait: re-ask every 200 ms (the first request may precede the TCP connection).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let fetched = loop {
        owner.operate(move |node| node.request_shards(file_id, &[0, 1, 2])).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let count = owner.inspect(move |node| node.fetched_shards(&file_id).len()).await.unwrap();
        if count == 2 {
            break owner.operate(move |node| node.take_fetched_shards(&file_id)).await.unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "fetched {count} of 2 shards");
    };
    let shards: Vec<Option<Vec<u8>>> = (0..3).map(|i| fetched.get(&i).cloned()).collect();
    assert!(shards[1].is_none());
    let put = vein_node::core::storage::StorePut {
        file_id,
        data_shards: 2,
        total_shards: 3,
        chunk_bytes: 64,
        shard_bytes: prepared.shard_bytes,
        shard_roots: prepared.shard_roots.clone(),
        storage_nodes: (0..3).map(|i| Keypair::derived("n", i).account()).collect(),
        term_rounds: 1,
        prepaid_fee: 0,
    };
    assert_eq!(recover_file(&put, &shards, &key).unwrap().plaintext, plaintext);
    owner.shutdown().await;
    holder.shutdown().await;
}
