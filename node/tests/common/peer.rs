//! A peer a P2P test speaks as, over loopback against a real TCP transport: the acceptor's half
//! of the signed handshake (so that the node, dialling back the address a hello claims, finds the
//! claimed key there), the dialler's half, frames, and watching for the node to close.
//! Included by path (`#[path = "common/peer.rs"] mod peer;`) only where a test needs a peer.

// Each test binary uses a different part of this module; a failed unwrap is a test failure.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::runtime::handshake::{ACK_BYTES, Ack, HELLO_BYTES_MAX, Hello};

/// Upper bound on any wait for the node to act: far above the transport's timeouts under test,
/// so a slow machine passes, and a node that never acts fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// `bytes` behind their little-endian u32 length: one frame of the wire.
pub fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut framed = (bytes.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(bytes);
    framed
}

/// A listener that answers handshakes as `key` (and nothing else). It never dials, so it adds no
/// inbound connections of its own to the node's counts. Dropping it stops the listener.
pub struct Identity {
    pub addr: SocketAddr,
    pub key: Keypair,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Identity {
    /// The identity of the derived key `index` (`Keypair::derived("identity", index)`).
    pub async fn new(index: u64) -> Identity {
        Identity::answering(Keypair::derived("identity", index)).await
    }

    /// A listener on a fresh loopback port answering as `key`.
    pub async fn answering(key: Keypair) -> Identity {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answering = key.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer_handshake(stream, answering.clone()));
            }
        });
        Identity { addr, key, task }
    }
}

/// The acceptor's half of the handshake as `key`, then hold the connection until it closes.
async fn answer_handshake(mut stream: TcpStream, key: Keypair) {
    if stream.write_all(&[4u8; 32]).await.is_err() {
        return;
    }
    let Ok(length) = stream.read_u32_le().await else { return };
    if length as usize > HELLO_BYTES_MAX {
        return;
    }
    let mut bytes = vec![0u8; length as usize];
    if stream.read_exact(&mut bytes).await.is_err() {
        return;
    }
    let Ok(hello) = Hello::decode(&bytes) else { return };
    if stream.write_all(&Ack::new(&key, &hello.challenge).encode()).await.is_err() {
        return;
    }
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink).await;
}

/// A raw connection to `node` that ran the handshake as `key` claiming `claimed`, signing
/// `challenge` (the node's, if `None`), and whether the node's ack proved `node_key`. Best
/// effort: a connection the node closes early is returned as is, unacknowledged.
pub async fn hello_as(
    node: SocketAddr,
    node_key: AccountId,
    key: &Keypair,
    claimed: SocketAddr,
    challenge: Option<[u8; 32]>,
) -> (TcpStream, bool) {
    let mut stream = TcpStream::connect(node).await.unwrap();
    let mut theirs = [0u8; 32];
    if stream.read_exact(&mut theirs).await.is_err() {
        return (stream, false);
    }
    let mine = [3u8; 32];
    let hello = Hello::new(key, &challenge.unwrap_or(theirs), mine, claimed);
    if stream.write_all(&frame(&hello.encode())).await.is_err() {
        return (stream, false);
    }
    let mut ack = [0u8; ACK_BYTES];
    if challenge.is_some() || stream.read_exact(&mut ack).await.is_err() {
        return (stream, false);
    }
    assert_eq!(Ack::verified_key(&ack, &mine), Some(node_key), "the node's ack");
    (stream, true)
}

/// Whether the node closes `stream` within [`PATIENCE`] (end of stream or a reset). Bytes the
/// node sends (its challenge and acknowledgement) are read past.
pub async fn closed_by_node(stream: &mut TcpStream) -> bool {
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
