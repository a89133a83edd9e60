//! The async node: owns a core, feeds it messages, timers and proofs, and performs its outputs
//! through the runtime traits. It makes no protocol decisions; everything it does is either
//! plumbing (addresses to peer ids, bytes to the network, events to the sink) or persistence
//! (the store log, synced before anything final is reported).
//!
//! Every turn (a command, a run of messages, a timer) ends with one [`pump::drain`] of the core's
//! outputs into the driver's [`Environment`], which buffers them; the driver then performs them:
//! sends and disconnects in order, the turn's records as one append to the log (a tokio file
//! write is a hand-off to a blocking thread, so one per unit would cost more than the unit), a
//! sync if the core asked for one before a final event, and last the turn's events. So records
//! are appended in the order accepted, a crash leaves a prefix of the log, no event reaches the
//! sink before the records of its turn are written, and nothing final before they are synced. Up to
//! `receive_batch` messages that have already arrived are handled per turn (their signatures
//! verified as one batch): production takes [`RECEIVE_BATCH_PRODUCTION`], the simulator draws
//! it from its seed, and the code path is the same for every size.
//!
//! A challenge is scanned off the executor ([`Blocking::run_blocking`]: tokio's blocking pool in
//! production, in place in the simulator), between the drain that asked for it and the turn's
//! flush; its outputs join the same turn. The driver's own task waits for the scan, as it
//! always did; the tasks beside it (the API, the network) no longer do.
//!
//! A disk error stops the driver (`run` returns [`DriverError::Disk`]) before the event that
//! needed the write is reported: after a failed append the log may end in a torn record and
//! later records would sit behind it, and after a failed sync the data is not durable, so going
//! on would report finality the store cannot back. Fail-stop leaves recovery to the restart,
//! whose replay cuts a torn tail and resumes from what the log holds (peers supply the rest).
// The runtime seam, the pump and the driver are what an embedder programs against: every
// public item is documented.

use crate::core::crypto::AccountId;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::node::{Node, NodeConfig, PeerId, RejectReason};
use crate::core::params::GenesisError;
use crate::core::poc::{Challenge, PocProof, Prover};
use crate::core::record::Record;
use crate::core::transaction::Transaction;
use crate::pump::{self, Answer, Environment};
use crate::runtime::{Blocking, Clock, Disk, DiskError, NetError, Network};
use crate::store;
use crate::store::replay::StoreError;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt, pin_mut};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

/// The unit log: every accepted unit and checkpoint, replayed on restart.
pub const STORE_PATH: &str = "units.log";
/// Shards kept for others (docs/storage.md): survive restarts like the units.
const SHARDS_PATH: &str = "shards.log";
/// Commands handled back to back before the network and timers get the first look once.
const COMMANDS_IN_A_ROW_MAX: usize = 8;
/// Turns (messages, timers) after which an idle command channel is polled again although the
/// task has not waited in between (`Driver::select`).
const COMMAND_RECHECK_TURNS: usize = 16;
/// Messages already waiting that one turn of the production node handles before flushing the
/// outputs (`Driver::with_receive_batch`).
pub const RECEIVE_BATCH_PRODUCTION: usize = 64;

/// Requests from the local operator, API or simulator.
pub enum Command {
    /// Pay `amount` to `to` from the node's own account (the node signs).
    Transfer {
        /// The recipient.
        to: AccountId,
        /// Tokens moved.
        amount: u64,
        /// The fee offered.
        fee: u64,
        /// The new unit's id, or why the core refused it.
        reply: oneshot::Sender<Result<Hash, RejectReason>>,
    },
    /// Admit a transaction a client signed.
    Submit {
        /// The signed transaction.
        tx: Transaction,
        /// Its id, or why the core refused it.
        reply: oneshot::Sender<Result<Hash, RejectReason>>,
    },
    /// Submit many signed transactions in order; one outcome per transaction.
    SubmitBatch {
        /// The signed transactions, in submission order.
        txs: Vec<Transaction>,
        /// One outcome per transaction, in the same order.
        reply: oneshot::Sender<Vec<Result<Hash, RejectReason>>>,
    },
    /// Run a read-only query against the core (status pages, checkers).
    Inspect(Box<dyn FnOnce(&Node) + Send>),
    /// Run an operation that changes the core (a data owner's retrieval request, a harness's
    /// fault knob); its outputs are performed like any other.
    Operate(Box<dyn FnOnce(&mut Node) + Send>),
    /// Keep shard `shard_index` of `file_id` for its owner: written and synced to the shard log
    /// before the reply, then handed to the core, which proves it from then on.
    StoreShard {
        /// The storage contract's file.
        file_id: Hash,
        /// Which of the file's shards.
        shard_index: u8,
        /// The shard's bytes (ciphertext).
        bytes: Vec<u8>,
        /// Durable, or the disk error that stopped it.
        reply: oneshot::Sender<Result<(), DiskError>>,
    },
    /// Connect to a peer by its listening address.
    AddPeer(SocketAddr),
    /// Stop the driver: `run` returns after the current turn's outputs are performed.
    Shutdown,
}

/// Where events go (logs, metrics, the simulator's checkers).
pub trait EventSink: Send + 'static {
    /// One event, at the node's clock reading `now_ms`, after the records of its turn are
    /// written (and synced, for a final checkpoint).
    fn on_event(&mut self, now_ms: u64, event: &Event);
}

/// Drops every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn on_event(&mut self, _now_ms: u64, _event: &Event) {}
}

/// Why a driver did not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The genesis in the node's configuration is invalid.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// A disk operation failed: the driver stops before reporting what needed it.
    #[error("store: {0}")]
    Disk(#[from] DiskError),
    /// A log was damaged in a way a crash cannot explain; the node refuses to start.
    #[error("store: {0}")]
    Store(StoreError),
    /// The network failed or closed.
    #[error("network: {0}")]
    Net(#[from] NetError),
}

impl From<StoreError> for DriverError {
    fn from(error: StoreError) -> DriverError {
        match error {
            StoreError::Disk(error) => DriverError::Disk(error),
            error => DriverError::Store(error),
        }
    }
}

/// A node running on a runtime: see the module documentation.
pub struct Driver<
    C: Clock,
    N: Network,
    D: Disk,
    P: Prover + Send + 'static,
    S: EventSink,
    B: Blocking,
> {
    node: Node,
    clock: C,
    net: N,
    disk: D,
    /// Away (`None`) only while a scan holds it on the blocking side.
    prover: Option<P>,
    sink: S,
    blocking: B,
    /// Looked up for every message received, never iterated: a hash map (foldhash, see
    /// `core::hash::IdHasher`) instead of a B-tree of addresses compared field by field.
    peer_ids: HashMap<SocketAddr, PeerId, foldhash::fast::RandomState>,
    peer_addrs: Vec<SocketAddr>,
    commands: mpsc::Receiver<Command>,
    /// Records were appended since the last sync.
    unsynced: bool,
    /// Messages handled per turn when more have already arrived (at least 1).
    receive_batch: usize,
    /// What the last drain left to perform (kept between turns for its allocations).
    turn: Turn,
    /// Length of the shard log's valid prefix, and whether a failed append may have left part
    /// of a record behind it (cut before the next append: a record written behind a torn one
    /// would read as corruption on restart).
    shard_log_bytes: u64,
    shard_log_torn: bool,
}

/// The outputs of one turn the driver performs after [`pump::drain`].
#[derive(Default)]
struct Turn {
    net: Vec<NetAction>,
    /// The turn's records, encoded for the log in order: one append.
    log_group: Vec<u8>,
    /// The core asked for a sync before a final event.
    sync: bool,
    /// The turn's events, reported once its records are written (and synced, if asked).
    events: Vec<Event>,
    /// Challenges to scan before the turn is flushed, in the order the core asked.
    challenges: Vec<Challenge>,
    /// Replies to the turn's submissions, sent last: once a client has its answer, the
    /// transaction's records are written and its events reached the sink, so a read right
    /// after it (`GET /txs`, `GET /unit/{id}`) sees the transaction.
    replies: Vec<Reply>,
}

/// A submission's outcome waiting for the end of its turn ([`Turn::replies`]).
enum Reply {
    One(oneshot::Sender<Result<Hash, RejectReason>>, Result<Hash, RejectReason>),
    Batch(oneshot::Sender<Vec<Result<Hash, RejectReason>>>, Vec<Result<Hash, RejectReason>>),
}

impl Reply {
    fn send(self) {
        // A client that stopped waiting is no reason to stop the node.
        match self {
            Reply::One(reply, result) => {
                let _ = reply.send(result);
            }
            Reply::Batch(reply, results) => {
                let _ = reply.send(results);
            }
        }
    }
}

enum NetAction {
    Send(PeerId, Arc<Vec<u8>>),
    Disconnect(PeerId),
}

/// The driver's [`Environment`] during one drain: everything is buffered in the [`Turn`],
/// challenges included (scanned after the drain, off the executor).
struct TurnEnv<'a, C: Clock> {
    clock: &'a C,
    turn: &'a mut Turn,
}

impl<C: Clock> Environment for TurnEnv<'_, C> {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn send(&mut self, to: PeerId, bytes: Arc<Vec<u8>>) {
        self.turn.net.push(NetAction::Send(to, bytes));
    }

    fn disconnect(&mut self, peer: PeerId) {
        self.turn.net.push(NetAction::Disconnect(peer));
    }

    fn persist(&mut self, record: Record) {
        store::append_record(&mut self.turn.log_group, &record);
    }

    fn sync_before_final(&mut self) {
        self.turn.sync = true;
    }

    fn prove(&mut self, challenge: &Challenge) -> Answer {
        self.turn.challenges.push(*challenge);
        Answer::Later
    }

    fn event(&mut self, event: Event) {
        self.turn.events.push(event);
    }
}

/// A handle to a running driver.
#[derive(Clone)]
pub struct DriverHandle {
    sender: mpsc::Sender<Command>,
}

impl DriverHandle {
    /// Queue `command`; `false` if the driver is gone.
    pub async fn send(&self, command: Command) -> bool {
        let mut sender = self.sender.clone();
        futures::SinkExt::send(&mut sender, command).await.is_ok()
    }

    /// [`Command::Transfer`]; `None` if the driver is gone.
    pub async fn transfer(
        &self,
        to: AccountId,
        amount: u64,
        fee: u64,
    ) -> Option<Result<Hash, RejectReason>> {
        let (reply, answer) = oneshot::channel();
        if !self.send(Command::Transfer { to, amount, fee, reply }).await {
            return None;
        }
        answer.await.ok()
    }

    /// [`Command::Submit`]; `None` if the driver is gone.
    pub async fn submit(&self, tx: Transaction) -> Option<Result<Hash, RejectReason>> {
        let (reply, answer) = oneshot::channel();
        if !self.send(Command::Submit { tx, reply }).await {
            return None;
        }
        answer.await.ok()
    }

    /// Submit signed transactions in order with one command (a batch from the API).
    pub async fn submit_batch(
        &self,
        txs: Vec<Transaction>,
    ) -> Option<Vec<Result<Hash, RejectReason>>> {
        let (reply, answer) = oneshot::channel();
        if !self.send(Command::SubmitBatch { txs, reply }).await {
            return None;
        }
        answer.await.ok()
    }

    /// Evaluate `query` on the core and return its answer.
    pub async fn inspect<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Node) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn FnOnce(&Node) + Send> = Box::new(move |node: &Node| {
            let _ = reply.send(query(node));
        });
        if !self.send(Command::Inspect(job)).await {
            return None;
        }
        answer.await.ok()
    }

    /// Evaluate `operation` on the core (it may change it) and return its answer.
    pub async fn operate<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&mut Node) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn FnOnce(&mut Node) + Send> = Box::new(move |node: &mut Node| {
            let _ = reply.send(operation(node));
        });
        if !self.send(Command::Operate(job)).await {
            return None;
        }
        answer.await.ok()
    }

    /// Hand a shard to this storage node; `None` if the driver is gone, else whether it was
    /// made durable.
    pub async fn store_shard(
        &self,
        file_id: Hash,
        shard_index: u8,
        bytes: Vec<u8>,
    ) -> Option<Result<(), DiskError>> {
        let (reply, answer) = oneshot::channel();
        if !self.send(Command::StoreShard { file_id, shard_index, bytes, reply }).await {
            return None;
        }
        answer.await.ok()
    }

    /// [`Command::Shutdown`].
    pub async fn shutdown(&self) {
        self.send(Command::Shutdown).await;
    }
}

/// What a driver runs on: one implementation of each `crate::runtime` trait.
pub struct Primitives<C, N, D, B> {
    /// Timers and timestamps.
    pub clock: C,
    /// Messages to and from peers.
    pub net: N,
    /// The unit and shard logs.
    pub disk: D,
    /// Where plot scans run.
    pub blocking: B,
}

impl<C: Clock, N: Network, D: Disk, P: Prover + Send + 'static, S: EventSink, B: Blocking>
    Driver<C, N, D, P, S, B>
{
    /// Build the core, replay the store, and connect to the initial peers.
    pub async fn start(
        config: NodeConfig,
        peers: Vec<SocketAddr>,
        runtime: Primitives<C, N, D, B>,
        prover: P,
        sink: S,
    ) -> Result<(Driver<C, N, D, P, S, B>, DriverHandle), DriverError> {
        let Primitives { clock, net, disk, blocking } = runtime;
        let node = Node::new(config)?;
        let (sender, commands) = mpsc::channel(1024);
        let mut driver = Driver {
            node,
            clock,
            net,
            disk,
            prover: Some(prover),
            sink,
            blocking,
            peer_ids: HashMap::default(),
            peer_addrs: Vec::new(),
            commands,
            unsynced: false,
            receive_batch: RECEIVE_BATCH_PRODUCTION,
            turn: Turn::default(),
            shard_log_bytes: 0,
            shard_log_torn: false,
        };
        driver.replay().await?;
        for peer in peers {
            driver.peer_id(peer);
        }
        Ok((driver, DriverHandle { sender }))
    }

    /// Handle up to `messages` already-arrived messages per turn (at least one) instead of
    /// [`RECEIVE_BATCH_PRODUCTION`]: the simulator draws it from its seed, so that every size
    /// meets its faults on the one path production runs.
    pub fn with_receive_batch(mut self, messages: usize) -> Self {
        self.receive_batch = messages.max(1);
        self
    }

    /// A [`Policy::Withhold`](crate::core::node::Policy::Withhold) core publishes its private
    /// branch itself, by the selfish-mining rule, after every turn
    /// ([`Node::start_release_rule`]); the scenario engines release from outside instead.
    pub fn with_release_rule(mut self) -> Self {
        self.node.start_release_rule();
        self
    }

    /// The core, between turns.
    pub fn node(&self) -> &Node {
        &self.node
    }

    async fn replay(&mut self) -> Result<(), DriverError> {
        // A corrupt log stops the start here, before anything is restored or cut.
        if let Some(log) = store::replay::open(&self.disk, STORE_PATH).await? {
            let now = self.clock.now_ms();
            for (kind, bytes) in log.records() {
                if let Some(kind) = store::record_kind(kind) {
                    self.node.restore(now, kind, bytes);
                }
            }
            if log.file_bytes > 0 {
                // After a fail-stop (no crash) the log may hold bytes that were never synced;
                // make them (and any cut) durable before reporting finality derived from them.
                self.disk.sync(STORE_PATH).await?;
            }
        }
        // Independent of the unit log: a storage node that never accepted a unit still keeps
        // the shards it was handed.
        self.replay_shards().await?;
        // Outputs produced while replaying (challenges, events) are handled normally; the core
        // asks to persist none of the replayed records.
        self.flush().await
    }

    /// Hand the shards of the shard log back to the core (after the units, so that it can
    /// prove them against the contracts it knows). Only a hand-over that was never
    /// acknowledged can be torn; an acknowledged shard behind damage stops the start.
    async fn replay_shards(&mut self) -> Result<(), DriverError> {
        let Some(log) = store::replay::open(&self.disk, SHARDS_PATH).await? else {
            return Ok(());
        };
        self.shard_log_bytes = log.valid_bytes as u64;
        for (kind, body) in log.records() {
            if kind != store::KIND_SHARD {
                continue;
            }
            if let Some((file_id, shard_index, bytes)) = store::decode_shard(body) {
                self.node.store_shard(file_id, shard_index, bytes.to_vec());
            }
        }
        Ok(())
    }

    async fn store_shard(
        &mut self,
        file_id: Hash,
        shard_index: u8,
        bytes: Vec<u8>,
    ) -> Result<(), DiskError> {
        let record = store::encode_record(
            store::KIND_SHARD,
            &store::encode_shard(&file_id, shard_index, &bytes),
        );
        if self.shard_log_torn {
            self.disk.truncate(SHARDS_PATH, self.shard_log_bytes).await?;
            self.shard_log_torn = false;
        }
        if let Err(error) = self.disk.append(SHARDS_PATH, &record).await {
            self.shard_log_torn = true;
            return Err(error);
        }
        self.shard_log_bytes += record.len() as u64;
        self.disk.sync(SHARDS_PATH).await?;
        self.node.store_shard(file_id, shard_index, bytes);
        Ok(())
    }

    fn peer_id(&mut self, addr: SocketAddr) -> PeerId {
        if let Some(id) = self.peer_ids.get(&addr) {
            return *id;
        }
        let id = self.peer_addrs.len() as PeerId;
        self.peer_addrs.push(addr);
        self.peer_ids.insert(addr, id);
        self.node.add_peer(id);
        id
    }

    /// Perform every pending output of the core; stops at the first disk error.
    async fn flush(&mut self) -> Result<(), DriverError> {
        // A withholding node with its own release rule publishes after every step (a no-op
        // for every other node).
        self.node.release_by_rule();
        loop {
            pump::drain(&mut self.node, &mut TurnEnv { clock: &self.clock, turn: &mut self.turn });
            if self.turn.challenges.is_empty() {
                break;
            }
            let challenges = std::mem::take(&mut self.turn.challenges);
            let answers = self.scan(challenges).await;
            let now = self.clock.now_ms();
            for (challenge, best) in answers {
                self.node.on_proof(now, challenge, best);
            }
        }
        for action in std::mem::take(&mut self.turn.net) {
            match action {
                NetAction::Send(to, bytes) => {
                    if let Some(addr) = self.peer_addrs.get(to as usize).copied() {
                        // Loss is tolerated by the protocol: a failed send is not retried here.
                        let _ = self.net.send(addr, bytes).await;
                    }
                }
                NetAction::Disconnect(peer) => {
                    if let Some(addr) = self.peer_addrs.get(peer as usize).copied() {
                        self.net.disconnect(addr);
                    }
                }
            }
        }
        self.write_log_group().await?;
        if std::mem::take(&mut self.turn.sync) {
            self.sync_log().await?;
        }
        let now = self.clock.now_ms();
        for event in self.turn.events.drain(..) {
            self.sink.on_event(now, &event);
        }
        for reply in self.turn.replies.drain(..) {
            reply.send();
        }
        Ok(())
    }

    /// The best proof for each challenge, scanned on the runtime's blocking side (the prover
    /// travels there and back).
    async fn scan(
        &mut self,
        challenges: Vec<Challenge>,
    ) -> Vec<(Challenge, Option<(PocProof, u64)>)> {
        let Some(mut prover) = self.prover.take() else {
            // Unreachable: the prover is only away during this call, which the driver awaits.
            return challenges.into_iter().map(|challenge| (challenge, None)).collect();
        };
        let (prover, answers) = self
            .blocking
            .run_blocking(move || {
                let answers = challenges
                    .into_iter()
                    .map(|challenge| {
                        let best = pump::best_proof(&mut prover, &challenge);
                        (challenge, best)
                    })
                    .collect::<Vec<_>>();
                (prover, answers)
            })
            .await;
        self.prover = Some(prover);
        answers
    }

    /// Append the records of this turn, if any, as one write.
    async fn write_log_group(&mut self) -> Result<(), DiskError> {
        if self.turn.log_group.is_empty() {
            return Ok(());
        }
        // Set first: a failed append may still have written part of the group.
        self.unsynced = true;
        let result = self.disk.append(STORE_PATH, &self.turn.log_group).await;
        // Cleared, not replaced: the allocation serves the next turn.
        self.turn.log_group.clear();
        result
    }

    /// Make every appended record durable (nothing to do if none was appended since).
    async fn sync_log(&mut self) -> Result<(), DiskError> {
        if self.unsynced {
            self.disk.sync(STORE_PATH).await?;
            self.unsynced = false;
        }
        Ok(())
    }

    async fn handle(&mut self, command: Command) {
        let now = self.clock.now_ms();
        match command {
            Command::Transfer { to, amount, fee, reply } => {
                let result = self.node.transfer(now, to, amount, fee).map(|unit| unit.id);
                self.turn.replies.push(Reply::One(reply, result));
            }
            Command::Submit { tx, reply } => {
                let id = tx.id().map_err(RejectReason::from);
                let result = id.and_then(|id| self.node.accept_transaction(tx, None).map(|()| id));
                self.turn.replies.push(Reply::One(reply, result));
            }
            Command::SubmitBatch { txs, reply } => {
                let results = self.node.accept_transactions(txs);
                self.turn.replies.push(Reply::Batch(reply, results));
            }
            Command::Inspect(query) => query(&self.node),
            Command::Operate(operation) => operation(&mut self.node),
            Command::StoreShard { file_id, shard_index, bytes, reply } => {
                let result = self.store_shard(file_id, shard_index, bytes).await;
                let _ = reply.send(result);
            }
            Command::AddPeer(addr) => {
                self.peer_id(addr);
            }
            Command::Shutdown => {}
        }
    }

    /// Run until shutdown or until the network closes.
    pub async fn run(mut self) -> Result<(), DriverError> {
        let mut commands_in_a_row = 0usize;
        // Turns since the command channel was last polled and found empty, if it has not been
        // polled since. `None` after every wake-up of the task (see `select`).
        let mut commands_idle: Option<usize> = None;
        loop {
            self.flush().await?;
            let now = self.clock.now_ms();
            let wake = self.node.poll_timeout().unwrap_or(now + 1_000).max(now);
            let commands_first = commands_in_a_row < COMMANDS_IN_A_ROW_MAX;
            let wake = self.select(wake, commands_first, &mut commands_idle).await;
            commands_in_a_row =
                if matches!(wake, Wake::Command(_)) { commands_in_a_row + 1 } else { 0 };
            match wake {
                Wake::Command(None | Some(Command::Shutdown)) => {
                    self.write_log_group().await?;
                    self.sync_log().await?;
                    return Ok(());
                }
                Wake::Command(Some(command)) => self.handle(command).await,
                Wake::Received(Ok((from, bytes))) => {
                    let now = self.clock.now_ms();
                    let peer = self.peer_id(from);
                    // Take what else has already arrived before flushing: under load one turn
                    // (timer, futures, flush) then serves a run of messages, not each one, and
                    // their transactions' signatures are verified as one batch.
                    let mut messages = vec![(peer, bytes)];
                    for _ in 1..self.receive_batch {
                        let Some(Ok((from, bytes))) = self.net.recv_shared().now_or_never() else {
                            break;
                        };
                        let peer = self.peer_id(from);
                        messages.push((peer, bytes));
                    }
                    self.node.on_messages(now, &messages);
                }
                Wake::Received(Err(NetError::Closed)) => return Err(NetError::Closed.into()),
                Wake::Received(Err(_)) => {}
                Wake::Timer => {
                    let now = self.clock.now_ms();
                    self.node.on_tick(now);
                }
            }
        }
    }

    /// Wait for the next command, message or the timer at `wake`, in that order of priority
    /// (commands last when `commands_first` is false).
    ///
    /// The command channel is polled at most once per wake-up of the task and then once per
    /// `COMMAND_RECHECK_TURNS` turns: a command can only arrive while the task waits (a single
    /// threaded runtime such as the simulator's runs no sender meanwhile) or, on a
    /// multi-threaded runtime, it wakes the task, so an empty channel stays empty for the rest
    /// of a burst of messages. Polling it on every message was ~7% of a 1,000-node simulation
    /// (a cold cache line per node, issue #3). The recheck bounds how long a command can wait
    /// behind a stream of messages on a multi-threaded runtime. Skipping the poll keeps the
    /// waker the last poll registered, so a later command still wakes the task.
    async fn select(
        &mut self,
        wake: u64,
        commands_first: bool,
        commands_idle: &mut Option<usize>,
    ) -> Wake {
        // Fresh futures each turn: a re-polled sleep must not accumulate timers.
        let sleep = self.clock.sleep_until(wake);
        let receive = self.net.recv_shared();
        pin_mut!(sleep, receive);
        let commands = &mut self.commands;
        futures::future::poll_fn(|context| {
            let mut poll_commands = |context: &mut std::task::Context<'_>| {
                if commands_idle.is_some_and(|turns| turns < COMMAND_RECHECK_TURNS) {
                    *commands_idle = commands_idle.map(|turns| turns + 1);
                    return Poll::Pending;
                }
                match commands.poll_next_unpin(context) {
                    Poll::Ready(command) => Poll::Ready(Wake::Command(command)),
                    Poll::Pending => {
                        *commands_idle = Some(0);
                        Poll::Pending
                    }
                }
            };
            if commands_first && let Poll::Ready(wake) = poll_commands(context) {
                return Poll::Ready(wake);
            }
            if let Poll::Ready(received) = receive.as_mut().poll(context) {
                return Poll::Ready(Wake::Received(received));
            }
            if let Poll::Ready(()) = sleep.as_mut().poll(context) {
                return Poll::Ready(Wake::Timer);
            }
            // Under a sustained stream of API commands, commands first would never read the
            // network: the node would fall behind its peers (seen at a few hundred tx/s through
            // the API). After a run of commands, peers and timers go first once.
            if !commands_first && let Poll::Ready(wake) = poll_commands(context) {
                return Poll::Ready(wake);
            }
            // The task waits: anything may arrive before it is polled again.
            *commands_idle = None;
            Poll::Pending
        })
        .await
    }
}

enum Wake {
    Command(Option<Command>),
    Received(Result<(SocketAddr, Arc<Vec<u8>>), NetError>),
    Timer,
}

/// Share of a driver's events with other tasks, for tests and the API.
pub type SharedEvents = Arc<std::sync::Mutex<Vec<(u64, Event)>>>;

/// An event sink that keeps every event in memory.
pub struct CollectEvents(pub SharedEvents);

impl EventSink for CollectEvents {
    fn on_event(&mut self, now_ms: u64, event: &Event) {
        if let Ok(mut events) = self.0.lock() {
            events.push((now_ms, event.clone()));
        }
    }
}
