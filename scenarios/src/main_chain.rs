//! The main chain as a side network's nodes see it, for the side-chain families: every a-th
//! side checkpoint is posted as an anchor, final on the main chain a delay D later, when every
//! honest side node pins it (docs/sidechain-fork-choice.md).
//!
//! Model. The main chain is not simulated: its only effect on the side nodes is the pins. An
//! anchor is the side checkpoint the observer node (the bridge's view, node 0) holds at an
//! anchored height the moment it first reaches that height; the main chain finalises what was
//! posted, so a later reorganisation of the side chain does not change the anchor, and it takes
//! a new anchor only if it descends from the last one (a light client follows one side
//! history): a node on a branch that left the last anchor posts nothing until a pin brings it
//! back. Anchored
//! heights are `base + j·a` for the run's base height (the family aligns them to the fork point,
//! the attacker's best case). The invariant every side family checks at every step is
//! [`rewrite_below_pin`]: no honest node's active chain differs from its pin.

use std::collections::VecDeque;

use vein_node::core::chain::{AnchorPin, PinOutcome};
use vein_reports::metrics::Violation;

use crate::engine::Engine;

/// The anchors posted so far and those not yet final.
pub(crate) struct MainChain {
    /// Side checkpoints between anchors (0: nothing is anchored).
    interval: u64,
    /// Main-chain finality latency: from posting to the side nodes' pin.
    delay_ms: u64,
    /// The next anchored height.
    next_height: u64,
    /// Posted anchors and when they become final, oldest first.
    posted: VecDeque<(u64, AnchorPin)>,
    /// The last anchor posted: the main chain's light client takes a new one only if it
    /// descends from it.
    last: Option<AnchorPin>,
}

impl MainChain {
    /// Anchors at `base + j·interval`, j ≥ 1, final `delay_ms` after posting.
    pub(crate) fn new(interval: u64, delay_ms: u64, base: u64) -> MainChain {
        MainChain {
            interval,
            delay_ms,
            next_height: base.saturating_add(interval.max(1)),
            posted: VecDeque::new(),
            last: None,
        }
    }

    /// Whether anchors are posted but not final yet.
    pub(crate) fn in_flight(&self) -> bool {
        !self.posted.is_empty()
    }

    /// Posts the anchors `observer` has reached and pins, on honest nodes `0..honest`, those
    /// final by now. A pin an honest node refuses is a violation (main finalises one history).
    pub(crate) fn advance<E: Engine>(
        &mut self,
        engine: &mut E,
        observer: usize,
        honest: usize,
    ) -> Vec<Violation> {
        if self.interval == 0 {
            return Vec::new();
        }
        let now_ms = engine.now_ms();
        loop {
            let anchor = {
                let view = engine.node(observer);
                let chain = view.chain();
                // A branch that does not extend the last anchor cannot post the next one.
                let extends =
                    self.last.is_none_or(|last| chain.active_at(last.height) == Some(last.id));
                chain.active_at(self.next_height).filter(|_| extends)
            };
            let Some(id) = anchor else { break };
            let pin = AnchorPin { height: self.next_height, id };
            self.posted.push_back((now_ms.saturating_add(self.delay_ms), pin));
            self.last = Some(pin);
            self.next_height += self.interval;
        }
        let mut violations = Vec::new();
        while let Some((final_ms, pin)) = self.posted.front().copied()
            && final_ms <= now_ms
        {
            self.posted.pop_front();
            violations.extend(self.pin_everywhere(engine, honest, pin));
        }
        violations
    }

    /// Pins `pin` on honest nodes `0..honest` now (a checkpoint already final on main, which
    /// later anchors extend).
    pub(crate) fn pin_everywhere<E: Engine>(
        &mut self,
        engine: &mut E,
        honest: usize,
        pin: AnchorPin,
    ) -> Vec<Violation> {
        let mut violations = Vec::new();
        for node in 0..honest {
            match engine.pin_anchor(node, pin.height, pin.id) {
                Ok(PinOutcome::Pinned | PinOutcome::Unchanged | PinOutcome::Pending) => {}
                Err(error) => violations.push(Violation {
                    invariant: "anchor-pin-refused".into(),
                    at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
                    node: Some(node as u64),
                    detail: error.to_string(),
                }),
            }
        }
        if self.last.is_none_or(|last| last.height < pin.height) {
            self.last = Some(pin);
        }
        violations
    }
}

/// The invariant of the side families, checked at every step: every honest node's active chain
/// holds its pin, so nothing at or below a pinned anchor was rewritten.
pub(crate) fn rewrite_below_pin<E: Engine>(engine: &E, honest: usize) -> Option<Violation> {
    (0..honest).find_map(|node| {
        let view = engine.node(node);
        let chain = view.chain();
        let pin = chain.pin_status().pinned?;
        let held = chain.active_at(pin.height);
        (held != Some(pin.id)).then(|| Violation {
            invariant: "rewrite-below-anchor".into(),
            at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
            node: Some(node as u64),
            detail: format!(
                "pinned {:?} at height {}, active chain holds {held:?}",
                pin.id, pin.height
            ),
        })
    })
}

/// Candidate heads each honest node `0..honest` refused for lacking its pin.
pub(crate) fn refused_switches<E: Engine>(engine: &E, honest: usize) -> Vec<f64> {
    (0..honest).map(|node| engine.node(node).chain().pin_status().refused_switches as f64).collect()
}
