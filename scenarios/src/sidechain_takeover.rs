//! Issue #19, side-chain takeover: an attacker holding share q of a small side network's space
//! mines a private fork to rewrite its history, while every a-th side checkpoint is anchored on
//! the main chain and pinned by the side nodes D after it is posted
//! (docs/sidechain-fork-choice.md).
//!
//! Model: the side network is the ordinary vein node code (`network.nodes` honest miners and the
//! attacker, the last node, at fixed difficulty so weight is height); the main chain is its
//! effect on the side nodes only ([`MainChain`]). The attacker forks at an anchored height (its
//! best case: the whole window of a checkpoints is ahead of it), mines cut off, and releases the
//! moment its branch is strictly longer than an honest branch of at least one checkpoint. The
//! run then lets every posted anchor become final. Success: node 0 ends with the attacker's
//! checkpoint above the fork. At every step no honest node may hold a chain that lacks its pin.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::chain::AnchorPin;
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::anchor_race::anchored_rewrite;
use crate::attacker::{AttackerKind, NetworkShape, whole};
use crate::chain_view::run_to_height;
use crate::engine::Engine;
use crate::family::Family;
use crate::invariants::invariants;
use crate::main_chain::{MainChain, refused_switches, rewrite_below_pin};
use crate::net_setup::attack_spec;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

/// The family's type in the registry.
pub struct SidechainTakeover;

/// Where the closed form of the anchored race is written down.
pub(crate) const CITATION_ANCHOR_RACE: &str = "docs/sidechain-fork-choice.md (first passages of \
     the private race, Rosenfeld 2014's model, cut at the anchor window)";

impl Family for SidechainTakeover {
    const METRIC: &'static str = "sidechain_rewrite_success";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::AnchorWindowRace];
    type Attacker = SideChainAttacker;
    /// A race is tens of milliseconds: 25 seeds share a record.
    const SEEDS_PER_CHUNK: usize = 25;

    fn story(_scenario: &Scenario) -> String {
        "A side network of honest miners and an attacker of share q (the last node). Every a-th \
         side checkpoint is posted to the main chain as an anchor (node 0's checkpoint at that \
         height when it first reaches it) and is pinned by every honest side node D ms later, \
         when it is final on main; from then on their fork choice takes no branch without it. \
         The attacker forks at an anchored height, mines cut off and releases the moment its \
         branch is strictly longer than an honest branch of at least one checkpoint; the run \
         ends once every posted anchor is final. a = 0: nothing is anchored.\n\
         metric: sidechain_rewrite_success = node 0 ends with the attacker's checkpoint above \
         the fork (one trial per seed, Wilson CI); also the rewrites a later pin undid and the \
         candidate heads each honest node refused for lacking its pin. Checked at every step: \
         no honest node's chain lacks its pin (`rewrite-below-anchor`).\n\
         reference (judged): anchored race, P = q^2 + sum_{j=0}^{a-2} (q p C_j q^{j+1} p^j + p \
         2/(2j+2) C(2j+2,j) q^{j+2} p^j), 0 for a = 1 (first passages before the honest branch \
         reaches the next anchor; computed with the give-up); a -> infinity gives vein's \
         strictly heavier race at z = 1 (Rosenfeld 2014 model, first-seen ties), shown beside."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        takeover::<E>(scenario, seed)
    }
}

/// What one race did.
struct Race {
    released: bool,
    /// Node 0 held the attacker's branch at some step after the release.
    adopted: bool,
    success: bool,
    violations: Vec<Violation>,
}

fn takeover<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let attack: SideChainAttacker = context.attacker()?;
    let give_up = attack.give_up_behind.unwrap_or(30);
    let spec = attack_spec(scenario, attack.q, Policy::Honest, true);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let deadline_ms = scenario.run.duration_s * 1000;
    run_to_height(&mut engine, 2, deadline_ms);
    let settle_ms = 4 * scenario.network.latency_ms + 4;
    engine.run_until(engine.now_ms() + settle_ms);
    let fork = engine.node(attacker).chain().height();
    let fork_id = engine
        .node(attacker)
        .chain()
        .active_at(fork)
        .ok_or_else(|| context.setup("the attacker holds no checkpoint at its own height"))?;
    let mut main = MainChain::new(attack.a, attack.delay_ms, fork);
    let mut violations = Vec::new();
    if attack.a > 0 {
        // The fork point is an anchor already final: the attacker's best case.
        let pin = AnchorPin { height: fork, id: fork_id };
        violations.extend(main.pin_everywhere(&mut engine, attacker, pin));
    }
    let mut groups = vec![0u8; engine.node_count()];
    groups[attacker] = 1;
    engine.partition(groups);
    let race = race(&mut engine, &mut main, attacker, fork, give_up, deadline_ms, scenario);
    violations.extend(race.violations);
    violations.extend(invariants(&engine, attacker, scenario.network.finality_depth));
    let labels = context.labels.clone();
    let judged = Reference::new(
        anchored_rewrite(attack.q, attack.a, give_up),
        "anchored race: strictly longer before the next anchor",
        CITATION_ANCHOR_RACE,
    );
    let unanchored = Reference::new(
        anchored_rewrite(attack.q, 0, give_up),
        "no anchors: strictly heavier race, z = 1",
        reference::CITATION_STRICTLY_HEAVIER,
    );
    let success = Measurement::proportion(
        "sidechain_rewrite_success",
        labels.clone(),
        u64::from(race.success),
        1,
        Some(judged),
    )?
    .with_other_reference(unanchored);
    let undone = Measurement::proportion(
        "sidechain_rewrite_undone_by_pin",
        labels.clone(),
        u64::from(race.adopted && !race.success),
        u64::from(race.released),
        None,
    );
    let refused = Measurement::mean_of(
        "anchor_refused_switches",
        labels,
        refused_switches(&engine, attacker),
        None,
    )?;
    // A seed whose attacker never released has no trial of being undone.
    let mut measurements = vec![success, refused];
    if let Ok(undone) = undone
        && race.released
    {
        measurements.push(undone);
    }
    Ok(finish(&context, &engine, violations, measurements))
}

/// The private race and the settling after a release (see the module docs).
fn race<E: Engine>(
    engine: &mut E,
    main: &mut MainChain,
    attacker: usize,
    fork: u64,
    give_up: u64,
    deadline_ms: u64,
    scenario: &Scenario,
) -> Race {
    let honest = attacker;
    let mut race = Race { released: false, adopted: false, success: false, violations: Vec::new() };
    let mut attacker_first = None;
    while engine.step(deadline_ms) {
        race.violations.extend(main.advance(engine, 0, honest));
        if let Some(violation) = rewrite_below_pin(engine, honest) {
            race.violations.push(violation);
            return race;
        }
        let honest_length = engine.node(0).chain().height().saturating_sub(fork);
        let private_height = engine.node(attacker).chain().height();
        let private_length = private_height.saturating_sub(fork);
        if honest_length >= 1 && private_length > honest_length {
            attacker_first = engine.node(attacker).chain().active_at(fork + 1);
            engine.heal();
            engine.release(attacker, fork + 1..=private_height);
            race.released = true;
            break;
        }
        if honest_length >= private_length + give_up {
            break;
        }
    }
    if !race.released {
        return race;
    }
    // Branch delivery and the reorganisation, then every anchor posted so far becomes final.
    let mut until_ms = engine.now_ms() + 20 * scenario.network.latency_ms + 20;
    loop {
        if !engine.step(until_ms.min(deadline_ms)) {
            if main.in_flight() && until_ms < deadline_ms {
                until_ms += scenario.network.target_interval_ms;
                continue;
            }
            break;
        }
        race.violations.extend(main.advance(engine, 0, honest));
        if let Some(violation) = rewrite_below_pin(engine, honest) {
            race.violations.push(violation);
            return race;
        }
        if engine.node(0).chain().active_at(fork + 1) == attacker_first {
            race.adopted = true;
        }
    }
    race.success =
        attacker_first.is_some() && engine.node(0).chain().active_at(fork + 1) == attacker_first;
    race
}

/// `[attacker] kind = "sidechain-takeover"`: share `q` of the side network's space against
/// anchors every `a` side checkpoints, final on main `delay_ms` after posting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideChainAttacker {
    /// Attacker's share of the side network's space, in (0, 0.9]: a majority is the case.
    pub q: f64,
    /// Side checkpoints between anchors; 0: nothing is anchored.
    pub a: u64,
    /// Main-chain finality latency D: from posting an anchor to the side nodes' pin, in ms.
    pub delay_ms: u64,
    /// The race is abandoned when the attacker is this many checkpoints behind (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_behind: Option<u64>,
}

/// A side-chain attacker's share: (0, 0.9] (a majority of a small side network is the point).
pub(crate) fn side_share(q: f64) -> Result<(), InvalidValue> {
    if !(q.is_finite() && q > 0.0 && q <= 0.9) {
        return Err(out_of_range("attacker.q", q, "(0, 0.9]"));
    }
    Ok(())
}

/// Anchor interval and main-chain delay within what a run can hold.
pub(crate) fn anchoring(a: u64, delay_ms: u64) -> Result<(), InvalidValue> {
    at_most("attacker.a", a, 1_000)?;
    at_most("attacker.delay_ms", delay_ms, 3_600_000)
}

impl AttackerKind for SideChainAttacker {
    const KIND: &'static str = "sidechain-takeover";
    const PARAMETERS: &'static [&'static str] = &["q", "a", "delay_ms", "give_up_behind"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        side_share(self.q)?;
        anchoring(self.a, self.delay_ms)?;
        if let Some(behind) = self.give_up_behind {
            at_least("attacker.give_up_behind", behind, 1)?;
            at_most("attacker.give_up_behind", behind, 500)?;
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "q" => self.q = value,
            "a" => self.a = whole(name, value)?,
            "delay_ms" => self.delay_ms = whole(name, value)?,
            "give_up_behind" => self.give_up_behind = Some(whole(name, value)?),
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
        labels.insert("a".into(), self.a as f64);
        labels.insert("delay_ms".into(), self.delay_ms as f64);
    }
}
