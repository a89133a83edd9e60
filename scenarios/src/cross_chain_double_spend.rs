//! Issue #19, cross-chain double spend: the attacker burns on the side chain (pays a bridge
//! account), has the bridge release the tokens on the main chain, then tries to undo the burn
//! with a private side fork (docs/sidechain-fork-choice.md).
//!
//! Model: the side network and the main chain are those of the takeover family
//! ([`MainChain`]): every a-th side checkpoint is anchored, final on main D later and then pinned
//! by the honest side nodes. The release on main is modelled as the moment the bridge's rule is
//! met on node 0 (the bridge's view of the side chain):
//! - strict: the anchor covering the burn's checkpoint is pinned (final on main);
//! - relaxed: the burn's checkpoint has z side checkpoints on it (itself included), nothing is
//!   anchored (the relaxed bridge trusts the side chain's own confirmations).
//!
//! The attacker spends the burn's nonce to another account of its own on its private branch from
//! the fork point, and releases the branch the first moment after the release on main that it is
//! strictly longer.
//! Success: node 0 ends with the burn not applied and the private spend applied, after the
//! release on main (one trial per seed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::chain::AnchorPin;
use vein_node::core::crypto::Keypair;
use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, confirmations, whole};
use crate::chain_view::run_to_height;
use crate::engine::Engine;
use crate::family::Family;
use crate::invariants::invariants;
use crate::main_chain::{MainChain, refused_switches, rewrite_below_pin};
use crate::net_setup::attack_spec;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};
use crate::sidechain_takeover::{anchoring, side_share};

/// The family's type in the registry.
pub struct CrossChainDoubleSpend;

impl Family for CrossChainDoubleSpend {
    const METRIC: &'static str = "cross_chain_double_spend_success";
    const REFERENCES: &'static [ReferenceName] =
        &[ReferenceName::StrictlyHeavier, ReferenceName::Rosenfeld, ReferenceName::Nakamoto];
    type Attacker = CrossChainAttacker;
    /// A race is tens of milliseconds: 25 seeds share a record.
    const SEEDS_PER_CHUNK: usize = 25;

    fn story(_scenario: &Scenario) -> String {
        "A side network of honest miners and an attacker of share q (the last node). The \
         attacker cuts itself off at the fork point, burns on the honest side (a transfer to \
         the bridge account, seen by node 0, the bridge's view) and spends the same nonce to \
         another account of its own on its private branch. The bridge releases the tokens on \
         main when its rule is met: strict = 1, the anchor covering the burn's checkpoint is \
         final on main and pinned (anchors every a side checkpoints, final D ms after \
         posting); strict = 0, the burn has \
         z side confirmations and nothing is anchored. After the release the attacker publishes \
         its branch the moment it is strictly longer; it gives up when give_up_behind behind.\n\
         metric: cross_chain_double_spend_success = released on main, and node 0 ends with the \
         burn not applied and the private spend applied (one trial per seed, Wilson CI). \
         Checked at every step: no honest node's chain lacks its pin; under strict = 1 a \
         success is also the violation `cross-chain-double-spend`.\n\
         reference (judged): strict = 1: 0 (the burn is at or below a pinned anchor, which no \
         branch may lack); strict = 0: strictly heavier race, P = 1 - sum_{m=0}^{z} \
         C(m+z-1,m) (p^z q^m - q^{z+1} p^{m-1}) (Rosenfeld 2014's model with first-seen ties); \
         Rosenfeld (ties win) and Nakamoto 2008 (Poisson) are shown, not judged."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        cross_chain::<E>(scenario, seed)
    }
}

/// The burn and the private spend of the same nonce.
struct Spends {
    burn: Hash,
    spend: Hash,
}

/// What one race did.
#[derive(Default)]
struct Race {
    released_on_main: bool,
    branch_published: bool,
    violations: Vec<Violation>,
}

fn cross_chain<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let attack: CrossChainAttacker = context.attacker()?;
    let give_up = attack.give_up_behind.unwrap_or(30);
    let spec = attack_spec(scenario, attack.q, Policy::Honest, true);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let deadline_ms = scenario.run.duration_s * 1000;
    run_to_height(&mut engine, 2, deadline_ms);
    engine.run_until(engine.now_ms() + 4 * scenario.network.latency_ms + 4);
    let fork = engine.node(attacker).chain().height();
    let fork_id = engine
        .node(attacker)
        .chain()
        .active_at(fork)
        .ok_or_else(|| context.setup("the attacker holds no checkpoint at its own height"))?;
    let interval = if attack.strict { attack.a } else { 0 };
    let mut main = MainChain::new(interval, attack.delay_ms, fork);
    let mut violations = Vec::new();
    if interval > 0 {
        let pin = AnchorPin { height: fork, id: fork_id };
        violations.extend(main.pin_everywhere(&mut engine, attacker, pin));
    }
    let mut groups = vec![0u8; engine.node_count()];
    groups[attacker] = 1;
    engine.partition(groups);
    let spends = spend_twice(&context, &mut engine, attacker)?;
    let race = race(&mut engine, &mut main, &attack, &spends, fork, give_up, deadline_ms, scenario);
    violations.extend(race.violations);
    let (burn_applied, spend_applied) = {
        let view = engine.node(0);
        let applied =
            |id: &Hash| view.dag().confirmation(id).is_some_and(|c| c.outcome == Outcome::Applied);
        (applied(&spends.burn), applied(&spends.spend))
    };
    let success = race.released_on_main && !burn_applied && spend_applied;
    let at = engine.now_ms() as f64 / 1000.0;
    if burn_applied && spend_applied {
        violations.push(Violation {
            invariant: "double-apply".into(),
            at_simulated_seconds: at,
            node: Some(0),
            detail: "both spends of one nonce applied".into(),
        });
    }
    if success && attack.strict {
        violations.push(Violation {
            invariant: "cross-chain-double-spend".into(),
            at_simulated_seconds: at,
            node: Some(0),
            detail: "the burn was undone after its anchor was final on main".into(),
        });
    }
    violations.extend(invariants(&engine, attacker, scenario.network.finality_depth));
    let labels = context.labels.clone();
    let mut measurement = Measurement::proportion(
        "cross_chain_double_spend_success",
        labels.clone(),
        u64::from(success),
        1,
        Some(judged_reference(&context, &attack)?),
    )?;
    for other in [ReferenceName::StrictlyHeavier, ReferenceName::Rosenfeld, ReferenceName::Nakamoto]
    {
        if attack.strict || other != scenario.metric.reference {
            measurement = measurement
                .with_other_reference(race_reference(&context, other, attack.q, attack.z)?);
        }
    }
    let refused = Measurement::mean_of(
        "anchor_refused_switches",
        labels,
        refused_switches(&engine, attacker),
        None,
    )?;
    Ok(finish(&context, &engine, violations, vec![measurement, refused]))
}

/// Builds the burn (to the bridge, at node 0) and the private spend of the same nonce (at the
/// attacker), and hands each to its side.
fn spend_twice<E: Engine>(
    context: &Context<'_>,
    engine: &mut E,
    attacker: usize,
) -> Result<Spends, RunError> {
    let account = engine.account(attacker);
    let nonce = engine.node(attacker).chain().ledger().next_nonce(&account);
    let bridge = Keypair::derived("vein-scenarios/bridge", 0).account();
    let burn = engine
        .build_transfer(attacker, nonce, bridge, 1_000)
        .ok_or_else(|| context.setup("attacker cannot build the burn"))?;
    // To an account of its own: a self-transfer is refused at admission.
    let pocket = Keypair::derived("vein-scenarios/pocket", 0).account();
    let spend = engine
        .build_transfer(attacker, nonce, pocket, 1_000)
        .ok_or_else(|| context.setup("attacker cannot build the private spend"))?;
    let spends = Spends {
        burn: burn.id().map_err(|error| context.setup(error.to_string()))?,
        spend: spend.id().map_err(|error| context.setup(error.to_string()))?,
    };
    engine.inject(0, burn);
    engine.inject(attacker, spend);
    Ok(spends)
}

/// Whether the bridge's rule is met on node 0 (see the module docs).
fn bridge_releases<E: Engine>(
    engine: &E,
    attack: &CrossChainAttacker,
    burn: &Hash,
    fork: u64,
) -> bool {
    let view = engine.node(0);
    let Some(confirmation) = view.dag().confirmation(burn) else { return false };
    if confirmation.outcome != Outcome::Applied || confirmation.height <= fork {
        return false;
    }
    if attack.strict {
        view.chain().pin_status().pinned.is_some_and(|pin| pin.height >= confirmation.height)
    } else {
        view.chain().height() + 1 >= confirmation.height + attack.z
    }
}

#[allow(clippy::too_many_arguments)]
fn race<E: Engine>(
    engine: &mut E,
    main: &mut MainChain,
    attack: &CrossChainAttacker,
    spends: &Spends,
    fork: u64,
    give_up: u64,
    deadline_ms: u64,
    scenario: &Scenario,
) -> Race {
    let honest = engine.node_count() - 1;
    let attacker = honest;
    let mut race = Race::default();
    while engine.step(deadline_ms) {
        race.violations.extend(main.advance(engine, 0, honest));
        if let Some(violation) = rewrite_below_pin(engine, honest) {
            race.violations.push(violation);
            return race;
        }
        if !race.released_on_main {
            race.released_on_main = bridge_releases(engine, attack, &spends.burn, fork);
        }
        let honest_length = engine.node(0).chain().height().saturating_sub(fork);
        let private_height = engine.node(attacker).chain().height();
        let private_length = private_height.saturating_sub(fork);
        if race.released_on_main && private_length > honest_length {
            engine.heal();
            engine.release(attacker, fork + 1..=private_height);
            race.branch_published = true;
            break;
        }
        if honest_length >= private_length + give_up {
            break;
        }
    }
    if race.branch_published {
        // Branch delivery, the private spend's round trip and the reorganisation (or refusal).
        let until_ms = engine.now_ms() + 20 * scenario.network.latency_ms + 20;
        while engine.step(until_ms.min(deadline_ms)) {
            race.violations.extend(main.advance(engine, 0, honest));
            if let Some(violation) = rewrite_below_pin(engine, honest) {
                race.violations.push(violation);
                break;
            }
        }
    }
    race
}

fn judged_reference(
    context: &Context<'_>,
    attack: &CrossChainAttacker,
) -> Result<Reference, RunError> {
    if attack.strict {
        return Ok(Reference::new(
            0.0,
            "strict bridge: the burn is below a pinned anchor",
            "docs/sidechain-fork-choice.md",
        ));
    }
    race_reference(context, context.scenario.metric.reference, attack.q, attack.z)
}

fn race_reference(
    context: &Context<'_>,
    name: ReferenceName,
    q: f64,
    z: u64,
) -> Result<Reference, RunError> {
    let z32 = u32::try_from(z).unwrap_or(u32::MAX);
    Ok(match name {
        ReferenceName::Rosenfeld => Reference::new(
            context.reference(reference::rosenfeld_double_spend(q, z32))?,
            "Rosenfeld: catching up (tie) wins",
            reference::CITATION_ROSENFELD,
        ),
        ReferenceName::Nakamoto => Reference::new(
            context.reference(reference::nakamoto_double_spend(q, z32))?,
            "Nakamoto: Poisson approximation",
            reference::CITATION_NAKAMOTO,
        ),
        _ => Reference::new(
            context.reference(reference::double_spend_strictly_heavier(q, z32))?,
            "relaxed bridge: strictly heavier race after z",
            reference::CITATION_STRICTLY_HEAVIER,
        ),
    })
}

/// `[attacker] kind = "cross-chain-double-spend"`: share `q` against a bridge that releases on
/// a final anchor (`strict`) or after `z` side confirmations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossChainAttacker {
    /// Attacker's share of the side network's space, in (0, 0.9].
    pub q: f64,
    /// Side confirmations the relaxed bridge waits (unused when strict).
    pub z: u64,
    /// Whether the bridge waits for the anchor covering the burn to be final on main.
    pub strict: bool,
    /// Side checkpoints between anchors (strict only).
    pub a: u64,
    /// Main-chain finality latency D, from posting an anchor to the side nodes' pin, in ms.
    pub delay_ms: u64,
    /// The race is abandoned when the attacker is this many checkpoints behind (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_behind: Option<u64>,
}

impl AttackerKind for CrossChainAttacker {
    const KIND: &'static str = "cross-chain-double-spend";
    const PARAMETERS: &'static [&'static str] =
        &["q", "z", "strict", "a", "delay_ms", "give_up_behind"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        side_share(self.q)?;
        confirmations(self.z)?;
        anchoring(self.a, self.delay_ms)?;
        if self.strict {
            at_least("attacker.a", self.a, 1)?;
        }
        if let Some(behind) = self.give_up_behind {
            at_least("attacker.give_up_behind", behind, 1)?;
            at_most("attacker.give_up_behind", behind, 500)?;
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "q" => self.q = value,
            "z" => self.z = whole(name, value)?,
            "strict" => self.strict = whole(name, value)? != 0,
            "a" => self.a = whole(name, value)?,
            "delay_ms" => self.delay_ms = whole(name, value)?,
            "give_up_behind" => self.give_up_behind = Some(whole(name, value)?),
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
        labels.insert("z".into(), self.z as f64);
        labels.insert("strict".into(), f64::from(u8::from(self.strict)));
        labels.insert("a".into(), self.a as f64);
        labels.insert("delay_ms".into(), self.delay_ms as f64);
    }
}
