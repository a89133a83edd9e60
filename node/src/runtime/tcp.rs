//! The production peer-to-peer transport: TCP with length-prefixed frames, hardened against
//! peers that are not honest.
//!
//! Framing: every connection starts with the handshake of `handshake.rs` (a challenge from the
//! acceptor, a signed hello carrying the dialer's node key and listening address, a signed
//! acknowledgement), then frames of `[length u32 LE][envelope bytes]` from dialer to acceptor.
//! Peers are named by their listening addresses, not ephemeral ports, and an address is only
//! believed once this node's own connection to it was acknowledged by the hello's key: frames
//! from a connection are delivered only after that, so a made-up address never becomes a peer. Outbound connections are opened lazily per
//! peer, each with a bounded queue; when a queue is full the message is dropped (the protocol
//! pulls what it misses). An outbound connection also watches its read side: the remote never
//! writes on it, so end-of-stream there means the remote closed it (for example after its idle
//! timeout) and the next send reconnects instead of writing into a dead socket.
//!
//! Inbound, what a connection may cost is bounded before any peer is trusted ([`TcpLimits`]):
//! - admission: at most `inbound_max` connections in all and `inbound_per_ip_max` from one IP
//!   address; one over is closed at once;
//! - the hello is at most [`HELLO_BYTES_MAX`] bytes and must arrive within `handshake_timeout`,
//!   signed on this node's challenge; the address it claims must be verified (dialled and
//!   acknowledged by the same key) within another `handshake_timeout`;
//! - a frame's claimed length is only a limit: its buffer grows as bytes arrive, so a claim of
//!   4 MiB that never comes costs nothing; a frame must complete within `frame_timeout` of its
//!   length, and the next length must start within `idle_timeout` (honest peers gossip every
//!   interval; an outbound link cut while idle reconnects on its next send);
//! - each connection reads through a small buffer (`read_buffer_bytes`), not one sized for the
//!   largest burst;
//! - a peer the core disconnects (its score fell below the minimum: garbage frames, say) is
//!   cut off: every inbound connection delivering for its address is closed at once, and hellos
//!   claiming that address are refused for `ban` (the core's ban), so a banned peer can neither
//!   keep a connection open by sending nor come straight back.
//!
//! Every refusal is counted by kind ([`Refusal`]) in [`TcpCounters`], which the node's
//! `/metrics` renders.

use crate::core::crypto::{AccountId, Keypair};
use crate::core::node::Limits;
use crate::core::wire::MESSAGE_BYTES_MAX;
use crate::runtime::handshake::{ACK_BYTES, Ack, CHALLENGE_BYTES, Challenge, Challenges, Hello};
use crate::runtime::{NetError, Network};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

pub use crate::runtime::handshake::HELLO_BYTES_MAX;

const OUTBOUND_QUEUE: usize = 4_096;
const INBOUND_QUEUE: usize = 16_384;
/// Bytes of queued frames gathered into one write: under load a peer gets one system call
/// (and, with no-delay set, about one TCP segment train) per batch instead of two per message.
const WRITE_BATCH_BYTES: usize = 256 << 10;
/// First capacity of a frame's buffer: a claimed length above it is grown into as bytes arrive
/// (doubling, so at most twice what arrived), never allocated on the claim alone.
const FRAME_CAPACITY_FIRST: usize = 64 << 10;
/// Pause after a failed `accept` (out of file descriptors, say) before trying again, so that a
/// burst of connections cannot end the accept loop for good or spin it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Time to open an outbound connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time from an outbound connection's open to the acceptor's acknowledgement.
const DIAL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Addresses cut off at once: one more forgets the cut-off that ends soonest (a bound on memory
/// against peers appearing under many addresses; the core's own ban list is bounded alike).
const CUT_OFF_MAX: usize = 4_096;

/// What one inbound connection may cost. `Default` holds the production values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// Inbound connections open at once, from everyone.
    pub inbound_max: usize,
    /// Inbound connections open at once from one IP address. A loopback testnet puts every node
    /// on 127.0.0.1 and each node opens one connection to each other (`vein-testnet up` allows
    /// up to 64 nodes), plus a reconnect that may overlap the one it replaces: 128.
    pub inbound_per_ip_max: usize,
    /// Time from accept to a complete hello.
    pub handshake_timeout: Duration,
    /// Time between frames (from one frame's end to the next one's length) before the
    /// connection is closed as idle.
    pub idle_timeout: Duration,
    /// Time from a frame's length to its last byte: 30 s takes a maximal 4 MiB frame at
    /// 140 KB/s or more, and cuts a peer trickling bytes to hold the connection.
    pub frame_timeout: Duration,
    /// Read buffer per inbound connection: most small frames are read without a system call.
    pub read_buffer_bytes: usize,
    /// How long a peer the core disconnected stays cut off: its hellos are refused. The
    /// default is the core's ban (`Limits::peer_ban_ms`), whose end lets it in again.
    pub ban: Duration,
}

impl Default for TcpLimits {
    fn default() -> TcpLimits {
        TcpLimits {
            inbound_max: 1_024,
            inbound_per_ip_max: 128,
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(30),
            read_buffer_bytes: 16 << 10,
            ban: Duration::from_millis(Limits::default().peer_ban_ms),
        }
    }
}

/// Why an inbound connection was closed by this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// `inbound_max` connections were already open.
    ConnectionCapGlobal,
    /// `inbound_per_ip_max` connections from that IP address were already open.
    ConnectionCapPerIp,
    /// The hello claimed more than [`HELLO_BYTES_MAX`] bytes.
    HelloOversize,
    /// The hello was not key, signature, challenge and a socket address, or the connection
    /// ended before it was complete.
    HelloInvalid,
    /// The hello's signature was not its key's over this node's challenge and its address.
    HelloBadSignature,
    /// The address the hello claimed was not acknowledged by the hello's key when this node
    /// dialled it (nobody there, another key there, or no answer in time).
    PeerUnverified,
    /// No complete hello within `handshake_timeout`.
    HandshakeTimeout,
    /// A frame claimed more than [`MESSAGE_BYTES_MAX`] bytes.
    FrameOversize,
    /// No frame started within `idle_timeout`.
    IdleTimeout,
    /// A started frame did not complete within `frame_timeout`.
    FrameTimeout,
    /// The core disconnected the peer this connection delivers for (its score fell below the
    /// minimum), or the hello claimed an address cut off for that within `ban`.
    PeerBanned,
}

impl Refusal {
    /// Every kind, in the order `/metrics` lists them.
    pub const ALL: [Refusal; 11] = [
        Refusal::ConnectionCapGlobal,
        Refusal::ConnectionCapPerIp,
        Refusal::HelloOversize,
        Refusal::HelloInvalid,
        Refusal::HelloBadSignature,
        Refusal::PeerUnverified,
        Refusal::HandshakeTimeout,
        Refusal::FrameOversize,
        Refusal::IdleTimeout,
        Refusal::FrameTimeout,
        Refusal::PeerBanned,
    ];

    /// The `kind` label in `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::ConnectionCapGlobal => "connection_cap_global",
            Refusal::ConnectionCapPerIp => "connection_cap_per_ip",
            Refusal::HelloOversize => "hello_oversize",
            Refusal::HelloInvalid => "hello_invalid",
            Refusal::HelloBadSignature => "hello_bad_signature",
            Refusal::PeerUnverified => "peer_unverified",
            Refusal::HandshakeTimeout => "handshake_timeout",
            Refusal::FrameOversize => "frame_oversize",
            Refusal::IdleTimeout => "idle_timeout",
            Refusal::FrameTimeout => "frame_timeout",
            Refusal::PeerBanned => "peer_banned",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Live counters of one [`TcpNetwork`], shared with whoever reports them (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct TcpCounters(Arc<CountersInner>);

#[derive(Debug, Default)]
struct CountersInner {
    refused: [AtomicU64; Refusal::ALL.len()],
    inbound_open: AtomicU64,
    inbound_accepted: AtomicU64,
}

/// A snapshot of [`TcpCounters`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Inbound connections open now (admitted, hello or not).
    pub inbound_open: u64,
    /// Inbound connections admitted since start.
    pub inbound_accepted: u64,
    /// Refusals by kind, every kind present (zero if never seen).
    pub refused: BTreeMap<Refusal, u64>,
}

impl TcpStats {
    /// Connections refused for `kind`.
    pub fn refused(&self, kind: Refusal) -> u64 {
        self.refused.get(&kind).copied().unwrap_or(0)
    }
}

impl TcpCounters {
    /// The counters as plain numbers, now.
    pub fn snapshot(&self) -> TcpStats {
        TcpStats {
            inbound_open: self.0.inbound_open.load(Ordering::Relaxed),
            inbound_accepted: self.0.inbound_accepted.load(Ordering::Relaxed),
            refused: Refusal::ALL
                .iter()
                .map(|kind| (*kind, self.0.refused[kind.index()].load(Ordering::Relaxed)))
                .collect(),
        }
    }

    fn refuse(&self, kind: Refusal) {
        self.0.refused[kind.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// Open inbound connections, in all and by IP address.
#[derive(Debug, Default)]
struct Admission {
    total: usize,
    by_ip: BTreeMap<IpAddr, usize>,
}

/// An admitted connection's place; dropping it (the connection's task ending) frees it.
struct Slot {
    admission: Arc<Mutex<Admission>>,
    counters: TcpCounters,
    ip: IpAddr,
}

impl Slot {
    fn admit(
        admission: &Arc<Mutex<Admission>>,
        counters: &TcpCounters,
        limits: &TcpLimits,
        ip: IpAddr,
    ) -> Result<Slot, Refusal> {
        let mut open = admission.lock().map_err(|_| Refusal::ConnectionCapGlobal)?;
        if open.total >= limits.inbound_max {
            return Err(Refusal::ConnectionCapGlobal);
        }
        let from_ip = open.by_ip.entry(ip).or_insert(0);
        if *from_ip >= limits.inbound_per_ip_max {
            return Err(Refusal::ConnectionCapPerIp);
        }
        *from_ip += 1;
        open.total += 1;
        debug_assert!(open.total <= limits.inbound_max);
        counters.0.inbound_open.fetch_add(1, Ordering::Relaxed);
        counters.0.inbound_accepted.fetch_add(1, Ordering::Relaxed);
        Ok(Slot { admission: admission.clone(), counters: counters.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counters.0.inbound_open.fetch_sub(1, Ordering::Relaxed);
        let Ok(mut open) = self.admission.lock() else { return };
        open.total = open.total.saturating_sub(1);
        if let Some(from_ip) = open.by_ip.get_mut(&self.ip) {
            *from_ip -= 1;
            if *from_ip == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

/// How reading one inbound connection ended when nobody refused it.
enum Ended {
    /// The peer closed it or it failed; not the peer's fault as far as we can tell.
    Closed,
    /// The receiving side (the driver) is gone.
    Receiver,
}

/// One outbound connection's queue, and the key that acknowledged it (`None` while its
/// handshake is under way).
struct Link {
    sender: mpsc::Sender<Arc<Vec<u8>>>,
    verified: Option<AccountId>,
}

/// What the accept loop and the outbound tasks share.
struct Shared {
    local: SocketAddr,
    key: Keypair,
    challenges: Challenges,
    /// Outbound links by peer listening address.
    links: Mutex<BTreeMap<SocketAddr, Link>>,
    /// Woken whenever a link's handshake succeeds or a link goes: inbound connections waiting
    /// to believe a claimed address look again.
    links_changed: Notify,
    /// Peer addresses `disconnect` cut off, each with the end of its cut-off.
    cut_off: Mutex<BTreeMap<SocketAddr, tokio::time::Instant>>,
    /// Woken whenever an address is cut off: its inbound connections close.
    cut_off_changed: Notify,
    /// How long a cut-off lasts (`TcpLimits::ban`).
    ban: Duration,
}

impl Shared {
    /// The queue to `to`, opening a connection (and its handshake) if there is none.
    fn link(self: &Arc<Shared>, to: SocketAddr) -> Option<mpsc::Sender<Arc<Vec<u8>>>> {
        let mut links = self.links.lock().ok()?;
        if let Some(link) = links.get(&to)
            && !link.sender.is_closed()
        {
            return Some(link.sender.clone());
        }
        let (sender, receiver) = mpsc::channel::<Arc<Vec<u8>>>(OUTBOUND_QUEUE);
        links.insert(to, Link { sender: sender.clone(), verified: None });
        let own = sender.downgrade();
        let shared = self.clone();
        tokio::spawn(async move {
            write_outbound(&shared, to, &own, receiver).await;
            // Forget this connection so the next send reconnects, unless `disconnect` and a
            // later send already put a newer one in its place.
            shared.update(to, &own, |links| {
                links.remove(&to);
            });
        });
        Some(sender)
    }

    /// Apply `change` to the links if the link to `to` is still `own`, then wake the waiters.
    fn update(
        &self,
        to: SocketAddr,
        own: &mpsc::WeakSender<Arc<Vec<u8>>>,
        change: impl FnOnce(&mut BTreeMap<SocketAddr, Link>),
    ) {
        if let Ok(mut links) = self.links.lock()
            && let Some(current) = links.get(&to)
            && own.upgrade().is_some_and(|own| own.same_channel(&current.sender))
        {
            change(&mut links);
        }
        self.links_changed.notify_waiters();
    }

    /// Cut `peer` off for `ban`: close its inbound connections, refuse its hellos.
    fn cut_off(&self, peer: SocketAddr) {
        if let Ok(mut cut_off) = self.cut_off.lock() {
            let now = tokio::time::Instant::now();
            cut_off.retain(|_, until| now < *until);
            if cut_off.len() >= CUT_OFF_MAX
                && let Some(soonest) = cut_off.iter().min_by_key(|(_, until)| **until)
            {
                let soonest = *soonest.0;
                cut_off.remove(&soonest);
            }
            cut_off.insert(peer, now + self.ban);
            debug_assert!(cut_off.len() <= CUT_OFF_MAX);
        }
        self.cut_off_changed.notify_waiters();
    }

    /// Whether `peer` is cut off now.
    fn is_cut_off(&self, peer: SocketAddr) -> bool {
        let now = tokio::time::Instant::now();
        self.cut_off
            .lock()
            .is_ok_and(|cut_off| cut_off.get(&peer).is_some_and(|until| now < *until))
    }

    /// Completes once `peer` is cut off.
    async fn until_cut_off(&self, peer: SocketAddr) {
        loop {
            // Registered before looking, so a cut-off between the look and the wait wakes it.
            let changed = self.cut_off_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_cut_off(peer) {
                return;
            }
            changed.await;
        }
    }

    /// The link to `address`: `None` if there is none, `Some(None)` while its handshake runs.
    fn link_state(&self, address: SocketAddr) -> Option<Option<AccountId>> {
        let links = self.links.lock().ok()?;
        links.get(&address).filter(|link| !link.sender.is_closed()).map(|link| link.verified)
    }

    /// Believe that `key` listens at `claimed` once this node's own link there was
    /// acknowledged by `key`, dialling it if there is no link yet.
    async fn believe(
        self: &Arc<Shared>,
        claimed: SocketAddr,
        key: AccountId,
    ) -> Result<(), Refusal> {
        if claimed == self.local {
            return Err(Refusal::PeerUnverified);
        }
        let mut dialled = false;
        loop {
            // Registered before looking, so a change between the look and the wait wakes it.
            let changed = self.links_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.link_state(claimed) {
                Some(Some(verified)) if verified == key => return Ok(()),
                Some(Some(_)) => return Err(Refusal::PeerUnverified),
                Some(None) => {}
                None if !dialled => {
                    dialled = true;
                    self.link(claimed);
                    continue;
                }
                None => return Err(Refusal::PeerUnverified),
            }
            changed.await;
        }
    }
}

/// The production [`Network`](crate::runtime::Network): length-prefixed frames over TCP, one
/// connection per peer, authenticated by node keys, with the bounds of [`TcpLimits`].
pub struct TcpNetwork {
    shared: Arc<Shared>,
    inbound: tokio::sync::Mutex<mpsc::Receiver<(SocketAddr, Vec<u8>)>>,
    counters: TcpCounters,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Drop for TcpNetwork {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl TcpNetwork {
    /// Listen on `addr` (port 0 picks a free port; see `local_addr`) as the node holding `key`,
    /// with the default limits.
    pub async fn bind(addr: SocketAddr, key: Keypair) -> Result<TcpNetwork, NetError> {
        TcpNetwork::bind_with(addr, key, TcpLimits::default()).await
    }

    /// Listen on `addr` as the node holding `key`, with these limits on inbound connections.
    pub async fn bind_with(
        addr: SocketAddr,
        key: Keypair,
        limits: TcpLimits,
    ) -> Result<TcpNetwork, NetError> {
        let challenges = Challenges::from_os()
            .map_err(|error| NetError::Io(format!("no OS randomness for challenges: {error}")))?;
        let listener = TcpListener::bind(addr).await.map_err(|e| NetError::Io(e.to_string()))?;
        let local = listener.local_addr().map_err(|e| NetError::Io(e.to_string()))?;
        let (sender, receiver) = mpsc::channel(INBOUND_QUEUE);
        let counters = TcpCounters::default();
        let shared = Arc::new(Shared {
            local,
            key,
            challenges,
            links: Mutex::new(BTreeMap::new()),
            links_changed: Notify::new(),
            cut_off: Mutex::new(BTreeMap::new()),
            cut_off_changed: Notify::new(),
            ban: limits.ban,
        });
        let accept_task =
            tokio::spawn(accept_loop(listener, shared.clone(), sender, limits, counters.clone()));
        Ok(TcpNetwork { shared, inbound: tokio::sync::Mutex::new(receiver), counters, accept_task })
    }

    /// The live counters (refusals by kind, open connections), for `/metrics`.
    pub fn counters(&self) -> TcpCounters {
        self.counters.clone()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> TcpStats {
        self.counters.snapshot()
    }

    /// The node key this transport proves in its handshakes.
    pub fn account(&self) -> AccountId {
        self.shared.key.account()
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    sender: mpsc::Sender<(SocketAddr, Vec<u8>)>,
    limits: TcpLimits,
    counters: TcpCounters,
) {
    let limits = Arc::new(limits);
    let admission = Arc::new(Mutex::new(Admission::default()));
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::debug!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let slot = match Slot::admit(&admission, &counters, &limits, remote.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                counters.refuse(refusal);
                drop(stream);
                continue;
            }
        };
        let shared = shared.clone();
        let sender = sender.clone();
        let limits = limits.clone();
        let counters = counters.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut stream = BufReader::with_capacity(limits.read_buffer_bytes, stream);
            match read_inbound(&mut stream, &shared, &sender, &limits).await {
                Ok(Ended::Closed | Ended::Receiver) => {}
                Err(refusal) => {
                    tracing::debug!(%remote, refusal = refusal.name(), "inbound peer refused");
                    // Counted before the socket closes, so whoever sees it closed sees it
                    // counted.
                    counters.refuse(refusal);
                }
            }
            drop(stream);
            drop(slot);
        });
    }
}

/// Read one inbound connection: the handshake, the claimed address verified, then frames
/// until it ends or is refused.
async fn read_inbound(
    stream: &mut BufReader<TcpStream>,
    shared: &Arc<Shared>,
    sender: &mpsc::Sender<(SocketAddr, Vec<u8>)>,
    limits: &TcpLimits,
) -> Result<Ended, Refusal> {
    let hello = tokio::time::timeout(limits.handshake_timeout, accept_handshake(stream, shared))
        .await
        .map_err(|_| Refusal::HandshakeTimeout)??;
    if shared.is_cut_off(hello.listen) {
        return Err(Refusal::PeerBanned);
    }
    tokio::time::timeout(limits.handshake_timeout, shared.believe(hello.listen, hello.key))
        .await
        .map_err(|_| Refusal::PeerUnverified)??;
    let peer = hello.listen;
    tokio::select! {
        ended = read_frames(stream, peer, sender, limits) => ended,
        () = shared.until_cut_off(peer) => Err(Refusal::PeerBanned),
    }
}

/// Deliver the frames of a verified connection as from `peer` until it ends or is refused.
async fn read_frames(
    stream: &mut BufReader<TcpStream>,
    peer: SocketAddr,
    sender: &mpsc::Sender<(SocketAddr, Vec<u8>)>,
    limits: &TcpLimits,
) -> Result<Ended, Refusal> {
    loop {
        let length = match tokio::time::timeout(limits.idle_timeout, stream.read_u32_le()).await {
            Err(_) => return Err(Refusal::IdleTimeout),
            Ok(Err(_)) => return Ok(Ended::Closed),
            Ok(Ok(length)) => length as usize,
        };
        if length > MESSAGE_BYTES_MAX {
            return Err(Refusal::FrameOversize);
        }
        let body = read_body(stream, length);
        let frame = match tokio::time::timeout(limits.frame_timeout, body).await {
            Err(_) => return Err(Refusal::FrameTimeout),
            Ok(None) => return Ok(Ended::Closed),
            Ok(Some(frame)) => frame,
        };
        if sender.send((peer, frame)).await.is_err() {
            return Ok(Ended::Receiver);
        }
    }
}

/// The acceptor's half of the handshake: send a challenge, read and check the hello (at most
/// [`HELLO_BYTES_MAX`] bytes, signed on that challenge), acknowledge it with this node's key.
async fn accept_handshake(
    stream: &mut BufReader<TcpStream>,
    shared: &Shared,
) -> Result<Hello, Refusal> {
    let ours = shared.challenges.next();
    stream.get_mut().write_all(&ours).await.map_err(|_| Refusal::HelloInvalid)?;
    let length = stream.read_u32_le().await.map_err(|_| Refusal::HelloInvalid)? as usize;
    if length > HELLO_BYTES_MAX {
        return Err(Refusal::HelloOversize);
    }
    let mut bytes = [0u8; HELLO_BYTES_MAX];
    let bytes = &mut bytes[..length];
    stream.read_exact(bytes).await.map_err(|_| Refusal::HelloInvalid)?;
    let hello = Hello::decode(bytes).map_err(|_| Refusal::HelloInvalid)?;
    hello.verify(&ours).map_err(|_| Refusal::HelloBadSignature)?;
    let ack = Ack::new(&shared.key, &hello.challenge).encode();
    stream.get_mut().write_all(&ack).await.map_err(|_| Refusal::HelloInvalid)?;
    Ok(hello)
}

/// A frame body of `length` bytes, its buffer grown as they arrive; `None` if the stream ends
/// or fails first.
async fn read_body<R: AsyncRead + Unpin>(stream: &mut R, length: usize) -> Option<Vec<u8>> {
    let mut body = Vec::with_capacity(length.min(FRAME_CAPACITY_FIRST));
    let read = stream.take(length as u64).read_to_end(&mut body).await.ok()?;
    debug_assert!(read <= length);
    (read == length).then_some(body)
}

/// The dialer's half of the handshake: read the acceptor's challenge, send the hello, and
/// return the key that acknowledged it (`None` if the acceptor failed to prove one).
async fn dial_handshake(
    shared: &Shared,
    read_half: &mut OwnedReadHalf,
    write_half: &mut OwnedWriteHalf,
) -> Option<AccountId> {
    let mut theirs: Challenge = [0u8; CHALLENGE_BYTES];
    read_half.read_exact(&mut theirs).await.ok()?;
    let mine = shared.challenges.next();
    let hello = Hello::new(&shared.key, &theirs, mine, shared.local);
    let mut buffer = Vec::with_capacity(4 + HELLO_BYTES_MAX);
    push_frame(&mut buffer, &hello.encode()).ok()?;
    write_half.write_all(&buffer).await.ok()?;
    let mut ack = [0u8; ACK_BYTES];
    read_half.read_exact(&mut ack).await.ok()?;
    Ack::verified_key(&ack, &mine)
}

/// One outbound connection: connect, run the handshake, then write queued frames in batches
/// until the queue is dropped, a write fails or the remote closes the connection.
async fn write_outbound(
    shared: &Shared,
    to: SocketAddr,
    own: &mpsc::WeakSender<Arc<Vec<u8>>>,
    mut receiver: mpsc::Receiver<Arc<Vec<u8>>>,
) {
    let connected = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(to)).await;
    let Ok(Ok(stream)) = connected else { return };
    let _ = stream.set_nodelay(true);
    let (mut read_half, mut stream) = stream.into_split();
    let handshake = dial_handshake(shared, &mut read_half, &mut stream);
    let Ok(Some(key)) = tokio::time::timeout(DIAL_HANDSHAKE_TIMEOUT, handshake).await else {
        return;
    };
    shared.update(to, own, |links| {
        if let Some(link) = links.get_mut(&to) {
            link.verified = Some(key);
        }
    });
    let mut buffer = Vec::new();
    loop {
        let bytes = tokio::select! {
            // A close already seen wins over a message, which would go into a dead socket.
            biased;
            () = remote_closed(&mut read_half) => None,
            bytes = receiver.recv() => bytes,
        };
        let Some(bytes) = bytes else { return };
        // Whatever else is queued already goes out in the same write.
        buffer.clear();
        let mut framed = push_frame(&mut buffer, &bytes);
        while framed.is_ok() && buffer.len() < WRITE_BATCH_BYTES {
            let Ok(bytes) = receiver.try_recv() else { break };
            framed = push_frame(&mut buffer, &bytes);
        }
        let written = stream.write_all(&buffer).await;
        if framed.is_err() || written.is_err() {
            return;
        }
    }
}

/// Completes when the remote closes (or resets) an outbound connection: after the handshake
/// nothing is ever read from one, so any read that returns is its end (bytes from a remote that breaks the protocol
/// by writing back end it too).
async fn remote_closed(read_half: &mut OwnedReadHalf) {
    let mut byte = [0u8; 1];
    let _ = read_half.read(&mut byte).await;
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

impl Network for TcpNetwork {
    fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    async fn send(&self, to: SocketAddr, bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        let sender = self.shared.link(to).ok_or(NetError::Closed)?;
        sender.try_send(bytes).map_err(|_| NetError::Unreachable {
            peer: to,
            reason: "outbound queue full or connection lost".to_string(),
        })
    }

    async fn recv(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        self.inbound.lock().await.recv().await.ok_or(NetError::Closed)
    }

    /// The core disconnects a peer only when it bans it: drop the outbound link, close every
    /// inbound connection delivering for it and refuse its hellos for `TcpLimits::ban`.
    fn disconnect(&self, peer: SocketAddr) {
        if let Ok(mut links) = self.shared.links.lock() {
            links.remove(&peer);
        }
        self.shared.links_changed.notify_waiters();
        self.shared.cut_off(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_kinds_index_their_counters_and_names_are_distinct() {
        for (index, kind) in Refusal::ALL.iter().enumerate() {
            assert_eq!(kind.index(), index);
        }
        let names: std::collections::BTreeSet<_> = Refusal::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), Refusal::ALL.len());
    }
}
