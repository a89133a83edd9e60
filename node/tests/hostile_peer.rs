//! Hostile peers against the real TCP transport over loopback: a peer that claims a huge hello,
//! says nothing, opens too many connections, trickles a frame or goes idle is closed and counted
//! by kind, and an honest peer on the same address still delivers what it sends, up to a
//! frame of nearly `MESSAGE_BYTES_MAX`.
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
use vein_node::core::wire::MESSAGE_BYTES_MAX;
use vein_node::runtime::Network;
use vein_node::runtime::tokio_impl::{Refusal, TcpLimits, TcpNetwork};

/// Upper bound on any wait for the node to act: far above the test timeouts below, so a slow
/// machine passes, and a node that never acts fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);
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
    TcpNetwork::bind_with("127.0.0.1:0".parse().unwrap(), limits).await.unwrap()
}

fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut framed = (bytes.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(bytes);
    framed
}

/// A raw connection that has sent a valid hello naming `name`.
async fn greeted(node: &TcpNetwork, name: &str) -> TcpStream {
    let mut stream = TcpStream::connect(node.local_addr()).await.unwrap();
    stream.write_all(&frame(name.as_bytes())).await.unwrap();
    stream
}

/// Whether the node closes `stream` within [`PATIENCE`] (end of stream or a reset). Bytes the
/// node might send are read past: it never sends any on an inbound connection.
async fn closed_by_node(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 64];
    let read_until_end = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(PATIENCE, read_until_end).await.is_ok()
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
async fn a_hello_that_is_not_an_address_is_refused() {
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
    let mut first = greeted(&node, "127.0.0.1:1").await;
    let mut second = greeted(&node, "127.0.0.1:2").await;
    let mut third = greeted(&node, "127.0.0.1:3").await;
    assert!(closed_by_node(&mut third).await, "the third connection from one IP is over the cap");
    assert_eq!(node.stats().refused(Refusal::ConnectionCapPerIp), 1);
    // The two admitted ones still carry frames.
    second.write_all(&frame(b"from the second")).await.unwrap();
    assert_eq!(delivered(&node).await, ("127.0.0.1:2".parse().unwrap(), b"from the second".into()));
    // Closing one frees its place for a new connection.
    first.shutdown().await.unwrap();
    assert!(closed_by_node(&mut first).await);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while node.stats().inbound_open > 1 {
        assert!(tokio::time::Instant::now() < deadline, "the closed connection's slot is freed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut fourth = greeted(&node, "127.0.0.1:4").await;
    fourth.write_all(&frame(b"from the fourth")).await.unwrap();
    assert_eq!(delivered(&node).await, ("127.0.0.1:4".parse().unwrap(), b"from the fourth".into()));
    assert_eq!(node.stats().refused(Refusal::ConnectionCapPerIp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_global_cap_is_closed() {
    let node = node(TcpLimits { inbound_max: 1, ..limits() }).await;
    let _first = greeted(&node, "127.0.0.1:1").await;
    let mut second = greeted(&node, "127.0.0.1:2").await;
    assert!(closed_by_node(&mut second).await);
    assert_eq!(node.stats().refused(Refusal::ConnectionCapGlobal), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_claiming_1_mib_that_trickles_is_cut_by_the_frame_timeout() {
    let node = node(TcpLimits { frame_timeout: Duration::from_millis(500), ..limits() }).await;
    let stream = greeted(&node, "127.0.0.1:9").await;
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
    let mut hostile = greeted(&node, "127.0.0.1:9").await;
    hostile.write_all(&(MESSAGE_BYTES_MAX as u32 + 1).to_le_bytes()).await.unwrap();
    assert!(closed_by_node(&mut hostile).await);
    assert_eq!(node.stats().refused(Refusal::FrameOversize), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_link_is_closed_and_an_honest_sender_reconnects() {
    let node = node(TcpLimits { idle_timeout: Duration::from_millis(300), ..limits() }).await;
    let mut idle = greeted(&node, "127.0.0.1:9").await;
    assert!(closed_by_node(&mut idle).await, "a connection idle after its hello is closed");
    assert_eq!(node.stats().refused(Refusal::IdleTimeout), 1);
    // An honest transport's link is cut the same way, and its next sends get through again.
    let honest = TcpNetwork::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
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
    let mut oversize_frame = greeted(&node, "127.0.0.1:9").await;
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
    let honest = TcpNetwork::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
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
