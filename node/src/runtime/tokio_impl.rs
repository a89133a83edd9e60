//! The production runtime: tokio time, TCP with length-prefixed frames, and std files.
//!
//! TCP framing: every connection starts with a hello frame carrying the sender's listening
//! address (so that replies and peer identities use listening addresses, not ephemeral ports),
//! then frames of `[length u32 LE][envelope bytes]`. A frame longer than the wire limit closes
//! the connection. Outbound connections are opened lazily per peer, each with a bounded queue;
//! when a queue is full the message is dropped (the protocol pulls what it misses).

#![allow(clippy::disallowed_methods)] // This is the one place allowed to read the wall clock.

use crate::core::wire::MESSAGE_BYTES_MAX;
use crate::runtime::{Clock, Disk, DiskError, NetError, Network};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Wall-clock milliseconds since the Unix epoch, so timestamps survive restarts.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send {
        let wait = at_ms.saturating_sub(self.now_ms());
        tokio::time::sleep(Duration::from_millis(wait))
    }
}

const OUTBOUND_QUEUE: usize = 4_096;
const INBOUND_QUEUE: usize = 16_384;

/// Outbound queues by peer listening address.
type OutboundTable = Arc<Mutex<BTreeMap<SocketAddr, mpsc::Sender<Arc<Vec<u8>>>>>>;

pub struct TcpNetwork {
    local: SocketAddr,
    outbound: OutboundTable,
    inbound: tokio::sync::Mutex<mpsc::Receiver<(SocketAddr, Vec<u8>)>>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Drop for TcpNetwork {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn read_frame<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Vec<u8>, NetError> {
    let length = stream.read_u32_le().await.map_err(|e| NetError::Io(e.to_string()))? as usize;
    if length > MESSAGE_BYTES_MAX {
        return Err(NetError::FrameTooLarge { length });
    }
    let mut bytes = vec![0u8; length];
    stream.read_exact(&mut bytes).await.map_err(|e| NetError::Io(e.to_string()))?;
    Ok(bytes)
}

async fn write_frame(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), NetError> {
    let mut buffer = Vec::with_capacity(bytes.len() + 4);
    push_frame(&mut buffer, bytes)?;
    stream.write_all(&buffer).await.map_err(|e| NetError::Io(e.to_string()))
}

/// Append one `[length][bytes]` frame to `buffer`.
fn push_frame(buffer: &mut Vec<u8>, bytes: &[u8]) -> Result<(), NetError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(NetError::FrameTooLarge { length: bytes.len() });
    }
    buffer.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buffer.extend_from_slice(bytes);
    Ok(())
}

/// Bytes of queued frames gathered into one write: under load a peer gets one system call
/// (and, with no-delay set, about one TCP segment train) per batch instead of two per message.
const WRITE_BATCH_BYTES: usize = 256 << 10;
/// Read buffer per inbound connection: most frames are then read without a system call.
const READ_BUFFER_BYTES: usize = 256 << 10;

impl TcpNetwork {
    /// Listen on `addr` (port 0 picks a free port; see `local_addr`).
    pub async fn bind(addr: SocketAddr) -> Result<TcpNetwork, NetError> {
        let listener = TcpListener::bind(addr).await.map_err(|e| NetError::Io(e.to_string()))?;
        let local = listener.local_addr().map_err(|e| NetError::Io(e.to_string()))?;
        let (sender, receiver) = mpsc::channel(INBOUND_QUEUE);
        let accept_task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sender = sender.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let mut stream = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
                    let Ok(hello) = read_frame(&mut stream).await else { return };
                    let Some(peer) = std::str::from_utf8(&hello)
                        .ok()
                        .and_then(|text| text.parse::<SocketAddr>().ok())
                    else {
                        return;
                    };
                    while let Ok(frame) = read_frame(&mut stream).await {
                        if sender.send((peer, frame)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(TcpNetwork {
            local,
            outbound: Arc::new(Mutex::new(BTreeMap::new())),
            inbound: tokio::sync::Mutex::new(receiver),
            accept_task,
        })
    }

    fn connection(&self, to: SocketAddr) -> Option<mpsc::Sender<Arc<Vec<u8>>>> {
        let mut outbound = self.outbound.lock().ok()?;
        if let Some(sender) = outbound.get(&to)
            && !sender.is_closed()
        {
            return Some(sender.clone());
        }
        let (sender, mut receiver) = mpsc::channel::<Arc<Vec<u8>>>(OUTBOUND_QUEUE);
        outbound.insert(to, sender.clone());
        let local = self.local;
        let table = self.outbound.clone();
        tokio::spawn(async move {
            let connected =
                tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(to)).await;
            if let Ok(Ok(mut stream)) = connected {
                let _ = stream.set_nodelay(true);
                if write_frame(&mut stream, local.to_string().as_bytes()).await.is_ok() {
                    let mut buffer = Vec::new();
                    while let Some(bytes) = receiver.recv().await {
                        // Whatever else is queued already goes out in the same write.
                        buffer.clear();
                        let mut framed = push_frame(&mut buffer, &bytes);
                        while framed.is_ok() && buffer.len() < WRITE_BATCH_BYTES {
                            let Ok(bytes) = receiver.try_recv() else { break };
                            framed = push_frame(&mut buffer, &bytes);
                        }
                        let written = stream.write_all(&buffer).await;
                        if framed.is_err() || written.is_err() {
                            break;
                        }
                    }
                }
            }
            // Forget this connection so the next send reconnects.
            if let Ok(mut table) = table.lock() {
                table.remove(&to);
            }
        });
        Some(sender)
    }
}

impl Network for TcpNetwork {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        let sender = self.connection(to).ok_or(NetError::Closed)?;
        sender.try_send(bytes).map_err(|_| NetError::Unreachable {
            peer: to,
            reason: "outbound queue full or connection lost".to_string(),
        })
    }

    async fn recv(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        self.inbound.lock().await.recv().await.ok_or(NetError::Closed)
    }

    fn disconnect(&self, peer: SocketAddr) {
        if let Ok(mut outbound) = self.outbound.lock() {
            outbound.remove(&peer);
        }
    }
}

/// Append-only files under one directory.
pub struct FsDisk {
    root: PathBuf,
    files: tokio::sync::Mutex<BTreeMap<String, tokio::fs::File>>,
}

impl FsDisk {
    pub fn new(root: impl Into<PathBuf>) -> FsDisk {
        FsDisk { root: root.into(), files: tokio::sync::Mutex::new(BTreeMap::new()) }
    }

    fn error(&self, path: &str, error: std::io::Error) -> DiskError {
        DiskError::Io {
            path: self.root.join(path).display().to_string(),
            reason: error.to_string(),
        }
    }
}

impl Disk for FsDisk {
    async fn read_all(&self, path: &str) -> Result<Option<Vec<u8>>, DiskError> {
        match tokio::fs::read(self.root.join(path)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.error(path, error)),
        }
    }

    async fn append(&self, path: &str, bytes: &[u8]) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        if !files.contains_key(path) {
            tokio::fs::create_dir_all(&self.root).await.map_err(|e| self.error(path, e))?;
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.root.join(path))
                .await
                .map_err(|e| self.error(path, e))?;
            files.insert(path.to_string(), file);
        }
        let Some(file) = files.get_mut(path) else { return Ok(()) };
        file.write_all(bytes).await.map_err(|e| self.error(path, e))
    }

    async fn sync(&self, path: &str) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        if let Some(file) = files.get_mut(path) {
            file.flush().await.map_err(|e| self.error(path, e))?;
            file.sync_data().await.map_err(|e| self.error(path, e))?;
        }
        Ok(())
    }

    async fn truncate(&self, path: &str, length: u64) -> Result<(), DiskError> {
        let mut files = self.files.lock().await;
        files.remove(path);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.root.join(path))
            .await
            .map_err(|e| self.error(path, e))?;
        file.set_len(length).await.map_err(|e| self.error(path, e))?;
        file.sync_all().await.map_err(|e| self.error(path, e))
    }
}
