//! A peer that passes the signed handshake (it holds a key and answers the node's dial-back on
//! the address it claims) and then sends garbage frames, against a real node over loopback:
//! the driver, the core and the TCP transport of `vein-node run`. Three kinds of garbage: an
//! envelope of an unknown version, frames of a plausible length filled with random bytes, and
//! a transaction envelope whose body is random. Each costs the peer 20 points; below the
//! minimum the core bans it and tells the transport to disconnect it, which must close the
//! peer's inbound connection (not only the node's outbound link to it) and refuse the same
//! identity when it comes straight back, both counted as `peer_banned`.
//!
//! Closing is observed from the hostile side (its read ends). Each wait has a generous upper
//! bound (far below the 60 s idle timeout, which would close the connection anyway) and
//! asserts nothing about speed.

// Test helpers may unwrap and expect: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::node::NodeConfig;
use vein_node::core::params::Params;
use vein_node::core::poc::ModelPlots;
use vein_node::core::wire;
use vein_node::driver::{CollectEvents, Driver, Primitives};
use vein_node::localnet::model_genesis;
use vein_node::runtime::tokio_impl::{FsDisk, Refusal, TcpNetwork, TokioBlocking, TokioClock};
use vein_node::runtime::{Clock, Network};

#[path = "common/peer.rs"]
mod peer;
use peer::{Identity, closed_by_node, frame, hello_as};

/// `count` bytes that look random (a hash chain), the same every run.
fn noise(seed: u64, count: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(count + 32);
    let mut block = Hash::of(&seed.to_le_bytes());
    while bytes.len() < count {
        bytes.extend_from_slice(&block.0);
        block = Hash::of(&block.0);
    }
    bytes.truncate(count);
    bytes
}

/// The garbage frame `index` of a kind: what a hostile peer sends after its handshake.
fn garbage(kind: &str, index: u64) -> Vec<u8> {
    match kind {
        // An envelope header of a version nobody speaks.
        "undecodable" => [&[0xff, 0xff, 1, 0, 4, 0, 0, 0][..], &noise(index, 4)].concat(),
        "random" => noise(1_000 + index, 200),
        // A transaction envelope (kind 1) whose body is not a transaction.
        "malformed-body" => wire::seal(1, noise(2_000 + index, 120)).unwrap(),
        other => panic!("no garbage kind {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_garbage_frames_after_the_handshake_is_cut_off_and_kept_out() {
    let params = Params { target_interval_ms: 500, finality_depth: 2, ..Params::default() };
    let (mut genesis, keys) = model_genesis("garbage-frames", &[1_000], 1_000_000, params);
    genesis.timestamp_ms = TokioClock.now_ms();
    let directory = tempfile::tempdir().unwrap();
    let net = TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), Keypair::derived("node", 0))
        .await
        .unwrap();
    let (node, node_key, counters) = (net.local_addr(), net.account(), net.counters());
    let config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [0; 32]);
    let prover = ModelPlots { account: keys[0].account(), nonces: 1_000 };
    let primitives = Primitives {
        clock: TokioClock,
        net,
        disk: FsDisk::new(directory.path().join("node")),
        blocking: TokioBlocking,
    };
    let events = CollectEvents(Arc::new(Mutex::new(Vec::new())));
    let (driver, handle) =
        Driver::start(config, Vec::new(), primitives, prover, events).await.unwrap();
    tokio::spawn(driver.run());

    for (index, kind) in ["undecodable", "random", "malformed-body"].into_iter().enumerate() {
        let key = Keypair::derived("garbage-peer", index as u64);
        let identity = Identity::answering(key.clone()).await;
        let claimed = identity.addr;
        let banned_before = counters.snapshot().refused(Refusal::PeerBanned);
        let (mut stream, acked) = hello_as(node, node_key, &key, claimed, None).await;
        assert!(acked, "{kind}: the handshake did not complete");
        // Far more than the six that take a peer from 100 below 0; writes after the node has
        // closed the connection fail, which is what the peer is told.
        for frame_index in 0..50 {
            if stream.write_all(&frame(&garbage(kind, frame_index))).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(closed_by_node(&mut stream).await, "{kind}: the connection is still open");
        let after_garbage = counters.snapshot().refused(Refusal::PeerBanned);
        assert_eq!(after_garbage, banned_before + 1, "{kind}: counted as peer_banned once");

        // Straight back as the same identity: the handshake completes (the node proves its
        // key to anyone), then the connection is closed before any frame is read.
        let (mut again, acked) = hello_as(node, node_key, &key, claimed, None).await;
        assert!(acked, "{kind}: the node no longer proves its key");
        let _ = again.write_all(&frame(&garbage(kind, 99))).await;
        assert!(closed_by_node(&mut again).await, "{kind}: a banned identity came back");
        assert_eq!(counters.snapshot().refused(Refusal::PeerBanned), after_garbage + 1);
    }
    handle.shutdown().await;
}
