//! The same driver that runs in the simulator, on the tokio runtime: two nodes on loopback over
//! real TCP exchange signed transfers and both see them applied and final, with equal ledgers.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::node::NodeConfig;
use vein_node::core::params::Params;
use vein_node::core::poc::ModelPlots;
use vein_node::driver::{CollectEvents, Driver, Primitives};
use vein_node::localnet::model_genesis;
use vein_node::runtime::tokio_impl::{FsDisk, TcpNetwork, TokioBlocking, TokioClock};
use vein_node::runtime::{Clock, Network};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_loopback_confirm_transfers() {
    let params = Params { target_interval_ms: 300, finality_depth: 2, ..Params::default() };
    let (mut genesis, keys) = model_genesis("tokio-test", &[1_000, 1_000], 1_000_000, params);
    genesis.timestamp_ms = TokioClock.now_ms();
    let genesis = Arc::new(genesis);
    let directory = tempfile::tempdir().unwrap();
    let nets = [
        TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("transport", 1))
            .await
            .unwrap(),
        TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("transport", 2))
            .await
            .unwrap(),
    ];
    let addresses = [nets[0].local_addr(), nets[1].local_addr()];
    let mut handles = Vec::new();
    let mut events = Vec::new();
    for (index, net) in nets.into_iter().enumerate() {
        let config = NodeConfig::new(genesis.clone(), keys[index].clone(), [index as u8; 32]);
        let prover = ModelPlots { account: keys[index].account(), nonces: 1_000 };
        let collected = Arc::new(Mutex::new(Vec::new()));
        let (driver, handle) = Driver::start(
            config,
            vec![addresses[1 - index]],
            Primitives {
                clock: TokioClock,
                net,
                disk: FsDisk::new(directory.path().join(format!("node{index}"))),
                blocking: TokioBlocking,
            },
            prover,
            CollectEvents(collected.clone()),
        )
        .await
        .unwrap();
        tokio::spawn(driver.run());
        handles.push(handle);
        events.push(collected);
    }
    let mut sent = Vec::new();
    for round in 0..6u64 {
        let from = (round % 2) as usize;
        let to = keys[1 - from].account();
        let id = handles[from].transfer(to, 100 + round, 5).await.unwrap().unwrap();
        sent.push(id);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Wait (bounded) until both nodes report every transfer final and applied.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = events.iter().all(|collected| {
            let events = collected.lock().unwrap();
            sent.iter().all(|id| {
                events.iter().any(|(_, event)| {
                    matches!(event, Event::TxFinal { id: final_id, outcome: Outcome::Applied, .. }
                        if final_id == id)
                })
            })
        });
        if done {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "transfers not final within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both ledgers agree at the common final height.
    let final_roots: Vec<_> = events
        .iter()
        .map(|collected| {
            collected
                .lock()
                .unwrap()
                .iter()
                .filter_map(|(_, event)| match event {
                    Event::CheckpointFinal { height, ledger_root, .. } => {
                        Some((*height, *ledger_root))
                    }
                    _ => None,
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        })
        .collect();
    let common = final_roots[0].keys().filter(|h| final_roots[1].contains_key(h)).max().unwrap();
    assert_eq!(final_roots[0][common], final_roots[1][common]);
    for handle in &handles {
        handle.shutdown().await;
    }
}
