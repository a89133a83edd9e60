//! Hostile peers against the real TCP transport over loopback: a peer that claims a huge hello,
//! says nothing, signs badly, claims an address it does not hold, opens too many connections,
//! trickles a frame or goes idle is closed and counted by kind, and an honest peer on the same
//! address still delivers what it sends, up to a frame of nearly `MESSAGE_BYTES_MAX`.
//!
//! Closing is observed from the hostile side (its read ends); each wait has a generous upper
//! bound and asserts nothing about speed. The transport counts a refusal before it closes the
//! socket, so once the hostile side sees the close the count is there.

// Test helpers may unwrap and expect: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vein_node::core::crypto::Keypair;
use vein_node::core::wire::MESSAGE_BYTES_MAX;
use vein_node::runtime::Network;
use vein_node::runtime::tokio_impl::{Refusal, TcpLimits, TcpNetwork};

#[path = "common/peer.rs"]
mod peer;
use peer::{Identity, PATIENCE, closed_by_node, frame};

/// A timeout that must not fire during a test.
const NEVER: Duration = Duration::from_secs(600);

/// Limits where only the timeout under test is short.
fn limits() -> TcpLimits {
    TcpLimits {
        inbound_max: 64,
        inbound_per_ip_max: 16,
        handshake_timeout: NEVER,
        idle_timeout: NEVER,
        frame_timeout: NEVER,
        ..TcpLimits::default()
    }
}

async fn node(limits: TcpLimits) -> TcpNetwork {
    TcpNetwork::bind_with("127.0.0.1:0".parse().unwrap(), Keypair::derived("node", 0), limits)
        .await
        .unwrap()
}

/// An honest transport with its own key.
async fn honest_transport(index: u64) -> TcpNetwork {
    let key = Keypair::derived("honest", index);
    TcpNetwork::bind("127.0.0.1:0".parse().unwrap(), key).await.unwrap()
}

/// A raw connection to `node` that ran the handshake as `key` claiming `claimed`, signing
/// `challenge` (the node's, if `None`). Best effort: a connection the node closes early is
/// returned as is.
async fn hello_as(
    node: &TcpNetwork,
    key: &Keypair,
    claimed: SocketAddr,
    challenge: Option<[u8; 32]>,
) -> TcpStream {
    peer::hello_as(node.local_addr(), node.account(), key, claimed, challenge).await.0
}

/// A raw connection that has run the handshake as `identity`, claiming its address.
async fn greeted(node: &TcpNetwork, identity: &Identity) -> TcpStream {
    hello_as(node, &identity.key, identity.addr, None).await
}

/// An address on loopback where nobody listens (bound, then released).
async fn unused_address() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// The next message the node delivers, within [`PATIENCE`].
async fn delivered(node: &TcpNetwork) -> (SocketAddr, Vec<u8>) {
    tokio::time::timeout(PATIENCE, node.recv()).await.expect("delivered in time").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_claiming_4_mib_is_refused_at_once() {
    let node = node(limits()).await;
    let mut hostile = TcpStream::connect(node.local_addr()).await.unwrap();
    hostile.write_all(&(MESSAGE_BYTES_MAX as u32).to_le_bytes()).await.unwrap();
    assert!(closed_by_node(&mut hostile).await, "an oversize hello must close the connection");
    let stats = node.stats();
    assert_eq!(stats.refused(Refusal::HelloOversize), 1);
    assert_eq!(stats.refused(Refusal::HandshakeTimeout), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_that_is_not_a_signed_address_is_refused() {
    let node = node(limits()).await;
    let mut hostile = TcpStream::connect(node.local_addr()).await.unwrap();
    hostile.write_all(&frame(b"not an address")).await.unwrap();
    assert!(closed_by_node(&mut hostile).await);
    assert_eq!(node.stats().refused(Refusal::HelloInvalid), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_says_nothing_is_closed_after_the_handshake_timeout() {
    let node = node(TcpLimits { handshake_timeout: Duration::from_millis(300), ..limits() }).await;
    let mut silent = TcpStream::connect(node.local_addr()).await.unwrap();
    assert!(closed_by_node(&mut silent).await, "a silent connection must be closed");
    let stats = node.stats();
    assert_eq!(stats.refused(Refusal::HandshakeTimeout), 1);
    assert_eq!(stats.inbound_open, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_per_address_cap_is_closed_and_its_slot_comes_back() {
    let node = node(TcpLimits { inbound_per_ip_max: 2, ..limits() }).await;
    let ids = [Identity::new(1).await, Identity::new(2).await, Identity::new(3).await];
    let mut first = greeted(&node, &ids[0]).await;
    let mut second = greeted(&node, &ids[1]).await;
    let mut third = greeted(&node, &ids[2]).await;
    assert!(closed_by_node(&mut third).await, "the third connection from one IP is over the cap");
    assert_eq!(node.stats().refused(Refusal::ConnectionCapPerIp), 1);
    // The two admitted ones still carry frames.
    second.write_all(&frame(b"from the second")).await.unwrap();
    assert_eq!(delivered(&node).await, (ids[1].addr, b"from the second".into()));
    // Closing one frees its place for a new connection.
    first.shutdown().await.unwrap();
    assert!(closed_by_node(&mut first).await);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while node.stats().inbound_open > 1 {
        assert!(tokio::time::Instant::now() < deadline, "the closed connection's slot is freed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fourth_id = Identity::new(4).await;
    let mut fourth = greeted(&node, &fourth_id).await;
    fourth.write_all(&frame(b"from the fourth")).await.unwrap();
    assert_eq!(delivered(&node).await, (fourth_id.addr, b"from the fourth".into()));
    assert_eq!(node.stats().refused(Refusal::ConnectionCapPerIp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_global_cap_is_closed() {
    let node = node(TcpLimits { inbound_max: 1, ..limits() }).await;
    let ids = [Identity::new(1).await, Identity::new(2).await];
    let _first = greeted(&node, &ids[0]).await;
    let mut second = greeted(&node, &ids[1]).await;
    assert!(closed_by_node(&mut second).await);
    assert_eq!(node.stats().refused(Refusal::ConnectionCapGlobal), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_claiming_1_mib_that_trickles_is_cut_by_the_frame_timeout() {
    let node = node(TcpLimits { frame_timeout: Duration::from_millis(500), ..limits() }).await;
    let identity = Identity::new(9).await;
    let stream = greeted(&node, &identity).await;
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(&(1u32 << 20).to_le_bytes()).await.unwrap();
    // One byte every 50 ms: the connection is never idle, the frame never completes.
    let trickle = tokio::spawn(async move {
        while writer.write_all(&[0]).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut buffer = [0u8; 64];
    let closed = tokio::time::timeout(PATIENCE, reader.read(&mut buffer)).await;
    trickle.abort();
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "a trickled frame must be cut: {closed:?}");
    let stats = node.stats();
    assert_eq!(stats.refused(Refusal::FrameTimeout), 1);
    assert_eq!(stats.refused(Refusal::IdleTimeout), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_wire_limit_is_refused() {
    let node = node(limits()).await;
    let identity = Identity::new(9).await;
    let mut hostile = greeted(&node, &identity).await;
    hostile.write_all(&(MESSAGE_BYTES_MAX as u32 + 1).to_le_bytes()).await.unwrap();
    assert!(closed_by_node(&mut hostile).await);
    assert_eq!(node.stats().refused(Refusal::FrameOversize), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_link_is_closed_and_an_honest_sender_reconnects() {
    let node = node(TcpLimits { idle_timeout: Duration::from_millis(300), ..limits() }).await;
    let identity = Identity::new(9).await;
    let mut idle = greeted(&node, &identity).await;
    assert!(closed_by_node(&mut idle).await, "a connection idle after its hello is closed");
    assert_eq!(node.stats().refused(Refusal::IdleTimeout), 1);
    // An honest transport's link is cut the same way, and its next sends get through again.
    let honest = honest_transport(1).await;
    honest.send(node.local_addr(), Arc::new(b"first".to_vec())).await.unwrap();
    assert_eq!(delivered(&node).await, (honest.local_addr(), b"first".to_vec()));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while node.stats().refused(Refusal::IdleTimeout) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the honest link goes idle and is cut");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Sends are best effort: one racing the close may be lost, so send until one arrives.
    let resend = async {
        loop {
            let _ = honest.send(node.local_addr(), Arc::new(b"again".to_vec())).await;
            match tokio::time::timeout(Duration::from_millis(200), node.recv()).await {
                Ok(Ok(received)) => return received,
                _ => continue,
            }
        }
    };
    let received = tokio::time::timeout(PATIENCE, resend).await.expect("the link comes back");
    assert_eq!(received, (honest.local_addr(), b"again".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_peer_still_delivers_after_hostile_ones_on_its_address() {
    let node = node(TcpLimits {
        inbound_per_ip_max: 3,
        handshake_timeout: Duration::from_millis(300),
        ..limits()
    })
    .await;
    // Three hostile connections fill the address's cap: a huge hello, silence, a huge frame.
    let mut oversize_hello = TcpStream::connect(node.local_addr()).await.unwrap();
    oversize_hello.write_all(&(MESSAGE_BYTES_MAX as u32).to_le_bytes()).await.unwrap();
    let mut silent = TcpStream::connect(node.local_addr()).await.unwrap();
    let identity = Identity::new(9).await;
    let mut oversize_frame = greeted(&node, &identity).await;
    oversize_frame.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
    for stream in [&mut oversize_hello, &mut silent, &mut oversize_frame] {
        assert!(closed_by_node(stream).await);
    }
    let stats = node.stats();
    assert_eq!(stats.refused(Refusal::HelloOversize), 1);
    assert_eq!(stats.refused(Refusal::HandshakeTimeout), 1);
    assert_eq!(stats.refused(Refusal::FrameOversize), 1);
    // The honest peer, on the same address, gets every frame through in order, the largest
    // one the wire allows included (less room for the envelope header).
    let honest = honest_transport(2).await;
    let large: Vec<u8> = (0..MESSAGE_BYTES_MAX - 64).map(|index| (index % 251) as u8).collect();
    let messages = [b"small".to_vec(), large, b"after the large one".to_vec()];
    for message in &messages {
        honest.send(node.local_addr(), Arc::new(message.clone())).await.unwrap();
    }
    for message in &messages {
        let (from, bytes) = delivered(&node).await;
        assert_eq!(from, honest.local_addr());
        assert!(bytes == *message, "frame of {} bytes delivered intact", message.len());
    }
    let stats = node.stats();
    assert_eq!(stats.inbound_open, 1);
    assert_eq!(stats.refused.values().sum::<u64>(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_signed_on_another_challenge_is_refused() {
    let node = node(limits()).await;
    let identity = Identity::new(1).await;
    let mut replayed = hello_as(&node, &identity.key, identity.addr, Some([9; 32])).await;
    assert!(closed_by_node(&mut replayed).await);
    assert_eq!(node.stats().refused(Refusal::HelloBadSignature), 1);
}

/// The finding: 30 hellos claiming made-up addresses became 30 peers the node dialled and
/// pushed gossip to. Now each costs one failed dial and is refused before any frame of it is
/// delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hellos_claiming_addresses_nobody_serves_are_refused_and_deliver_nothing() {
    let node = node(limits()).await;
    for index in 0..30 {
        let key = Keypair::derived("made-up", index);
        let mut hostile = hello_as(&node, &key, unused_address().await, None).await;
        // Written before the node has decided; it must never be delivered.
        let _ = hostile.write_all(&frame(b"gossip from nowhere")).await;
        assert!(closed_by_node(&mut hostile).await, "hello {index} must be refused");
    }
    assert_eq!(node.stats().refused(Refusal::PeerUnverified), 30);
    // Every hostile connection was closed above, so anything of theirs the node had delivered
    // would come before this honest frame.
    let honest = honest_transport(1).await;
    honest.send(node.local_addr(), Arc::new(b"honest".to_vec())).await.unwrap();
    assert_eq!(delivered(&node).await, (honest.local_addr(), b"honest".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hello_claiming_an_honest_peers_address_with_another_key_is_refused() {
    let node = node(limits()).await;
    let honest = honest_transport(1).await;
    let impostor = Keypair::derived("impostor", 0);
    let mut hostile = hello_as(&node, &impostor, honest.local_addr(), None).await;
    let _ = hostile.write_all(&frame(b"as the honest peer")).await;
    assert!(closed_by_node(&mut hostile).await);
    assert_eq!(node.stats().refused(Refusal::PeerUnverified), 1);
    honest.send(node.local_addr(), Arc::new(b"honest".to_vec())).await.unwrap();
    assert_eq!(delivered(&node).await, (honest.local_addr(), b"honest".to_vec()));
    // And a hello claiming the node's own address is refused without dialling anything.
    let mut mirror = hello_as(&node, &impostor, node.local_addr(), None).await;
    assert!(closed_by_node(&mut mirror).await);
    assert_eq!(node.stats().refused(Refusal::PeerUnverified), 2);
}
