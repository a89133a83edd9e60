//! The async node: owns a core, feeds it messages, timers and proofs, and performs its outputs
//! through the runtime traits. It makes no protocol decisions; everything it does is either
//! plumbing (addresses to peer ids, bytes to the network, events to the sink) or persistence
//! (the store log, synced before anything final is reported).
//!
//! A disk error stops the driver (`run` returns [`DriverError::Disk`]) before the event that
//! needed the write is reported: after a failed append the log may end in a torn record and
//! later records would sit behind it, and after a failed sync the data is not durable, so going
//! on would report finality the store cannot back. Fail-stop leaves recovery to the restart,
//! whose replay cuts a torn tail and resumes from what the log holds (peers supply the rest).

use crate::core::crypto::AccountId;
use crate::core::events::Event;
use crate::core::hash::Hash;
use crate::core::node::{Node, NodeConfig, Output, PeerId, RejectReason};
use crate::core::params::GenesisError;
use crate::core::poc::Prover;
use crate::core::transaction::Transaction;
use crate::runtime::{Clock, Disk, DiskError, NetError, Network};
use crate::store;
use crate::store::replay::StoreError;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt, pin_mut};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

pub const STORE_PATH: &str = "units.log";
/// Shards kept for others (docs/storage.md): survive restarts like the units.
const SHARDS_PATH: &str = "shards.log";
/// Commands handled back to back before the network and timers get the first look once.
const COMMANDS_IN_A_ROW_MAX: usize = 8;
/// Turns (messages, timers) after which an idle command channel is polled again although the
/// task has not waited in between (`Driver::select`).
const COMMAND_RECHECK_TURNS: usize = 16;
/// Messages already waiting that one turn of the production loop handles before flushing the
/// outputs (`Driver::with_receive_batch`).
pub const RECEIVE_BATCH_PRODUCTION: usize = 64;

/// Requests from the local operator, API or simulator.
pub enum Command {
    Transfer {
        to: AccountId,
        amount: u64,
        fee: u64,
        reply: oneshot::Sender<Result<Hash, RejectReason>>,
    },
    Submit {
        tx: Transaction,
        reply: oneshot::Sender<Result<Hash, RejectReason>>,
    },
    /// Submit many signed transactions in order; one outcome per transaction.
    SubmitBatch {
        txs: Vec<Transaction>,
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
        file_id: Hash,
        shard_index: u8,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<(), DiskError>>,
    },
    AddPeer(SocketAddr),
    Shutdown,
}

/// Where events go (logs, metrics, the simulator's checkers).
pub trait EventSink: Send + 'static {
    fn on_event(&mut self, now_ms: u64, event: &Event);
}

/// Drops every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn on_event(&mut self, _now_ms: u64, _event: &Event) {}
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    #[error("store: {0}")]
    Disk(#[from] DiskError),
    /// A log was damaged in a way a crash cannot explain; the node refuses to start.
    #[error("store: {0}")]
    Store(StoreError),
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

pub struct Driver<C: Clock, N: Network, D: Disk, P: Prover + Send + 'static, S: EventSink> {
    node: Node,
    clock: C,
    net: N,
    disk: D,
    prover: P,
    sink: S,
    peer_ids: BTreeMap<SocketAddr, PeerId>,
    peer_addrs: Vec<SocketAddr>,
    commands: mpsc::Receiver<Command>,
    persist: bool,
    unsynced: bool,
    /// Messages handled per turn when more are waiting (1: one per turn, the simulator's
    /// schedule, which its pinned histories depend on).
    receive_batch: usize,
    /// Group the store records of one turn into one append (`with_production_batching`);
    /// `None`: one append per record.
    log_group: Option<Vec<u8>>,
    /// Length of the shard log's valid prefix, and whether a failed append may have left part
    /// of a record behind it (cut before the next append: a record written behind a torn one
    /// would read as corruption on restart).
    shard_log_bytes: u64,
    shard_log_torn: bool,
}

/// A handle to a running driver.
#[derive(Clone)]
pub struct DriverHandle {
    sender: mpsc::Sender<Command>,
}

impl DriverHandle {
    pub async fn send(&self, command: Command) -> bool {
        let mut sender = self.sender.clone();
        futures::SinkExt::send(&mut sender, command).await.is_ok()
    }

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

    pub async fn shutdown(&self) {
        self.send(Command::Shutdown).await;
    }
}

impl<C: Clock, N: Network, D: Disk, P: Prover + Send + 'static, S: EventSink>
    Driver<C, N, D, P, S>
{
    /// Build the core, replay the store, and connect to the initial peers.
    pub async fn start(
        config: NodeConfig,
        peers: Vec<SocketAddr>,
        clock: C,
        net: N,
        disk: D,
        prover: P,
        sink: S,
    ) -> Result<(Driver<C, N, D, P, S>, DriverHandle), DriverError> {
        let node = Node::new(config)?;
        let (sender, commands) = mpsc::channel(1024);
        let mut driver = Driver {
            node,
            clock,
            net,
            disk,
            prover,
            sink,
            peer_ids: BTreeMap::new(),
            peer_addrs: Vec::new(),
            commands,
            persist: false,
            unsynced: false,
            receive_batch: 1,
            log_group: None,
            shard_log_bytes: 0,
            shard_log_torn: false,
        };
        driver.replay().await?;
        driver.persist = true;
        for peer in peers {
            driver.peer_id(peer);
        }
        Ok((driver, DriverHandle { sender }))
    }

    /// The production node's batching (the simulator keeps the default schedule, one message
    /// and one store append at a time, which its pinned histories depend on):
    /// - up to [`RECEIVE_BATCH_PRODUCTION`] already-arrived messages per turn of the loop
    ///   before the outputs are flushed and commands and timers looked at again;
    /// - the store records of one turn are written with one append at the end of the turn
    ///   (and always before a sync): a tokio file write is a hand-off to a blocking thread, so
    ///   one per unit cost more than the unit. Durability is unchanged: nothing is reported
    ///   final before the records it rests on are written and synced, and records are written
    ///   in order, so a crash leaves a prefix of the log as before.
    pub fn with_production_batching(mut self) -> Self {
        self.receive_batch = RECEIVE_BATCH_PRODUCTION.max(1);
        self.log_group = Some(Vec::new());
        self
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    async fn replay(&mut self) -> Result<(), DriverError> {
        // A corrupt log stops the start here, before anything is restored or cut.
        if let Some(log) = store::replay::open(&self.disk, STORE_PATH).await? {
            let now = self.clock.now_ms();
            for (kind, bytes) in log.records() {
                self.node.restore(now, kind, bytes);
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
        // Outputs produced while replaying (challenges, events) are handled normally, but the
        // replayed units are not written again.
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
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::Send { to, bytes } => {
                    if let Some(addr) = self.peer_addrs.get(to as usize).copied() {
                        // Loss is tolerated by the protocol: a failed send is not retried here.
                        let _ = self.net.send(addr, bytes).await;
                    }
                }
                Output::Challenge(challenge) => {
                    let best = self.prover.best(&challenge).ok().flatten();
                    let now = self.clock.now_ms();
                    self.node.on_proof(now, challenge, best);
                }
                Output::Disconnect { peer } => {
                    if let Some(addr) = self.peer_addrs.get(peer as usize).copied() {
                        self.net.disconnect(addr);
                    }
                }
                Output::Event(event) => {
                    self.persist_event(&event).await?;
                    let now = self.clock.now_ms();
                    self.sink.on_event(now, &event);
                }
            }
        }
        self.write_log_group().await?;
        Ok(())
    }

    /// Append the records grouped in this turn (if grouping is on and any are waiting).
    async fn write_log_group(&mut self) -> Result<(), DiskError> {
        let Some(group) = self.log_group.as_mut().filter(|group| !group.is_empty()) else {
            return Ok(());
        };
        let bytes = std::mem::take(group);
        let result = self.disk.append(STORE_PATH, &bytes).await;
        if let Some(group) = self.log_group.as_mut() {
            // Keep the allocation for the next turn.
            *group = bytes;
            group.clear();
        }
        result
    }

    async fn persist_event(&mut self, event: &Event) -> Result<(), DiskError> {
        if !self.persist {
            return Ok(());
        }
        let record = match event {
            // The unit's gossip envelope holds its canonical bytes (made once, shared by
            // every relay and, in a simulation, by every node).
            Event::UnitAccepted { id, .. } => {
                let envelope = self.node.dag().get(id).and_then(|unit| unit.envelope().ok());
                envelope.and_then(|envelope| {
                    let body = envelope.get(crate::core::wire::ENVELOPE_HEADER_BYTES..)?;
                    Some(store::encode_unit_record(store::KIND_TRANSACTION, body, id))
                })
            }
            Event::CheckpointAccepted { id, .. } => self
                .node
                .chain()
                .header(id)
                .and_then(|header| header.checkpoint.as_ref())
                .and_then(|checkpoint| checkpoint.encode().ok())
                .map(|bytes| store::encode_unit_record(store::KIND_CHECKPOINT, &bytes, id)),
            Event::CheckpointFinal { .. } => {
                // Write and sync before anything final is reported to the sink.
                self.write_log_group().await?;
                if self.unsynced {
                    self.disk.sync(STORE_PATH).await?;
                    self.unsynced = false;
                }
                None
            }
            _ => None,
        };
        if let Some(record) = record {
            // Set first: a failed append may still have written part of the record.
            self.unsynced = true;
            match self.log_group.as_mut() {
                Some(group) => group.extend_from_slice(&record),
                None => self.disk.append(STORE_PATH, &record).await?,
            }
        }
        Ok(())
    }

    async fn handle(&mut self, command: Command) {
        let now = self.clock.now_ms();
        match command {
            Command::Transfer { to, amount, fee, reply } => {
                let result = self.node.transfer(now, to, amount, fee).map(|unit| unit.id);
                let _ = reply.send(result);
            }
            Command::Submit { tx, reply } => {
                let id = tx.id().map_err(RejectReason::from);
                let result = id.and_then(|id| self.node.accept_transaction(tx, None).map(|()| id));
                let _ = reply.send(result);
            }
            Command::SubmitBatch { txs, reply } => {
                let results = self.node.accept_transactions(txs);
                let _ = reply.send(results);
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
                    if self.unsynced {
                        self.disk.sync(STORE_PATH).await?;
                    }
                    return Ok(());
                }
                Wake::Command(Some(command)) => self.handle(command).await,
                Wake::Received(Ok((from, bytes))) => {
                    let now = self.clock.now_ms();
                    let peer = self.peer_id(from);
                    if self.receive_batch <= 1 {
                        // The simulator's schedule: one message per turn, as its pinned
                        // histories expect.
                        self.node.on_shared_message(now, peer, &bytes);
                    } else {
                        // Take what else has already arrived before flushing: under load one
                        // turn (timer, futures, flush) then serves a run of messages, not each
                        // one, and their transactions' signatures are verified as one batch.
                        let mut messages = vec![(peer, bytes)];
                        for _ in 1..self.receive_batch {
                            let Some(Ok((from, bytes))) = self.net.recv_shared().now_or_never()
                            else {
                                break;
                            };
                            let peer = self.peer_id(from);
                            messages.push((peer, bytes));
                        }
                        self.node.on_messages(now, &messages);
                    }
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
