//! The one place the core's outputs are dispatched. Every environment a node runs in (the async
//! driver on tokio or madsim, LocalNet, the madsim scenario engine, a test) implements
//! [`Environment`]: its primitives (a clock reading, send, disconnect, persist, sync, prove,
//! report an event); [`drain`] decides what each output means.
//!
//! Model: `drain` is synchronous and takes every output the core has queued, in order. A
//! challenge is answered at once (`Environment::prove` gives [`Answer::Now`], then
//! `Node::on_proof` at the environment's time), which may queue more outputs; those are taken
//! in the same call. An environment that scans plots off its executor (the driver) answers
//! [`Answer::Later`] and calls `Node::on_proof` itself once the scan is done, then drains
//! again: the core queues `on_proof`'s outputs behind every output already queued either way,
//! so both give the same order. An
//! environment whose primitives are asynchronous (the driver's network and disk) buffers them
//! and performs them after `drain` returns, in an order that keeps the outputs' promises:
//! records are appended in the order they came, and nothing after a `sync_before_final` is
//! reported before every record before it is durable.
// The runtime seam, the pump and the driver are what an embedder programs against: every
// public item is documented.

use crate::core::events::Event;
use crate::core::node::{Node, Output, PeerId};
use crate::core::poc::{Challenge, PocProof, Prover};
use crate::core::record::Record;
use std::sync::Arc;

/// What a node needs from wherever it runs.
pub trait Environment {
    /// The node's clock, for the answer to a challenge.
    fn now_ms(&self) -> u64;
    /// Send envelope bytes to a peer; loss is the protocol's to tolerate.
    fn send(&mut self, to: PeerId, bytes: Arc<Vec<u8>>);
    /// Drop the connection to a peer.
    fn disconnect(&mut self, peer: PeerId);
    /// Keep an accepted unit or checkpoint, after every record persisted before it.
    fn persist(&mut self, record: Record);
    /// Make every record persisted so far durable before any later event is reported.
    fn sync_before_final(&mut self);
    /// The best proof of space for `challenge` now, or a promise to answer it later.
    fn prove(&mut self, challenge: &Challenge) -> Answer;
    /// Report an event (logs, metrics, checkers); dropping it changes nothing.
    fn event(&mut self, event: Event);
}

/// An environment's answer to a challenge.
#[derive(Debug)]
pub enum Answer {
    /// The best proof of space (`None`: none, or the prover failed).
    Now(Option<(PocProof, u64)>),
    /// The environment scans later and calls `Node::on_proof` with the result itself.
    Later,
}

/// Perform every output `node` has queued through `env`, answering challenges as they come.
pub fn drain(node: &mut Node, env: &mut impl Environment) {
    while let Some(output) = node.poll_output() {
        match output {
            Output::Send { to, bytes } => env.send(to, bytes),
            Output::Disconnect { peer } => env.disconnect(peer),
            Output::Challenge(challenge) => {
                if let Answer::Now(best) = env.prove(&challenge) {
                    node.on_proof(env.now_ms(), challenge, best);
                }
            }
            Output::Persist(record) => env.persist(record),
            Output::SyncBeforeFinal => env.sync_before_final(),
            Output::Event(event) => env.event(event),
        }
    }
}

/// The best proof from `prover`, a failure counted as no proof (a plot read error must not
/// stop the node; the next round asks again).
pub fn best_proof(
    prover: &mut (impl Prover + ?Sized),
    challenge: &Challenge,
) -> Option<(PocProof, u64)> {
    prover.best(challenge).ok().flatten()
}

/// An environment that keeps what the node did, in order, for tests and small harnesses: every
/// output, and it answers each challenge with `prover` (none: no proof) at `now_ms`.
pub struct Collect {
    /// The time every challenge is answered at.
    pub now_ms: u64,
    /// Answers challenges (none: no proof).
    pub prover: Option<Box<dyn Prover + Send>>,
    /// Every output (challenges included) in the order the node produced them.
    pub outputs: Vec<Output>,
}

impl Collect {
    /// Without a prover, at time `now_ms`.
    pub fn at(now_ms: u64) -> Collect {
        Collect { now_ms, prover: None, outputs: Vec::new() }
    }

    /// Answering challenges with `prover`, at time `now_ms`.
    pub fn proving(now_ms: u64, prover: impl Prover + Send + 'static) -> Collect {
        Collect { now_ms, prover: Some(Box::new(prover)), outputs: Vec::new() }
    }

    /// Drain `node` and take what it did since the last call.
    pub fn drain(&mut self, node: &mut Node) -> Vec<Output> {
        drain(node, self);
        std::mem::take(&mut self.outputs)
    }

    /// The sends among `outputs`.
    pub fn sends(outputs: &[Output]) -> impl Iterator<Item = (PeerId, &Arc<Vec<u8>>)> {
        outputs.iter().filter_map(|output| match output {
            Output::Send { to, bytes } => Some((*to, bytes)),
            _ => None,
        })
    }

    /// The events among `outputs`.
    pub fn events(outputs: &[Output]) -> impl Iterator<Item = &Event> {
        outputs.iter().filter_map(|output| match output {
            Output::Event(event) => Some(event),
            _ => None,
        })
    }

    /// The records among `outputs`.
    pub fn records(outputs: &[Output]) -> impl Iterator<Item = &Record> {
        outputs.iter().filter_map(|output| match output {
            Output::Persist(record) => Some(record),
            _ => None,
        })
    }
}

impl Environment for Collect {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn send(&mut self, to: PeerId, bytes: Arc<Vec<u8>>) {
        self.outputs.push(Output::Send { to, bytes });
    }

    fn disconnect(&mut self, peer: PeerId) {
        self.outputs.push(Output::Disconnect { peer });
    }

    fn persist(&mut self, record: Record) {
        self.outputs.push(Output::Persist(record));
    }

    fn sync_before_final(&mut self) {
        self.outputs.push(Output::SyncBeforeFinal);
    }

    fn prove(&mut self, challenge: &Challenge) -> Answer {
        self.outputs.push(Output::Challenge(*challenge));
        Answer::Now(self.prover.as_mut().and_then(|prover| best_proof(prover.as_mut(), challenge)))
    }

    fn event(&mut self, event: Event) {
        self.outputs.push(Output::Event(event));
    }
}
