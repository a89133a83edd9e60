//! Issue #17, revocation race: an attacker account keeps writing to a consortium table while a
//! quorum of the parties denies it (docs/consortium.md, "Deny").
//!
//! Model: honest nodes 0..3 are the consortium's parties and member nodes (quorum 2 of 3,
//! `crate::consortium_net`); the attacker is an extra node that does not mine and is no party.
//! Each of `rounds` rounds, two parties grant it write permission on the table (a proposal, then
//! the approval that reaches the quorum), let it write for [`GRANTED_T`] intervals, and deny it
//! again (the table, or every table on odd rounds), then wait [`DENIED_T`] intervals after the
//! deny is final. From the first grant to the end the attacker signs `rate` writes a second
//! (Poisson), permission or not: the race is the writes in flight while the deny is ordered.
//!
//! Judged, from the White Flag order itself (`Chain::confirmed_at`: every unit of every
//! checkpoint in the order it applied, with its outcome), walked on every honest node from
//! genesis to its head: the permission state changes exactly at the grant and deny approvals
//! that applied, and
//! - `revoked_writes_applied`: the attacker's writes ordered while it holds no permission that
//!   applied (node 0's final chain), reference 0: the rule, so any such write is also the
//!   violation `write-after-deny` on whichever honest node's chain holds it;
//! - `granted_writes_applied`: its writes ordered while permitted that applied, reference 1
//!   (an oracle that called every write refused would pass the first check trivially);
//! - `deny_final_latency_t`: from submitting the approval that completes the deny to the
//!   approving party's node reporting its checkpoint final, in units of T, one sample per
//!   round; reference k + 1. Mining is memoryless at fixed difficulty, so the wait for the
//!   checkpoint that orders the approval is Exp(T) and finality k checkpoints later adds k more:
//!   the latency is Gamma(k + 1, T), whose mean is exactly the bound (k + 1)·T the issue names.
//!   The gate tests means two-sided, which judges the bound as the model's mean (slower
//!   finality and an impossibly fast one both fail);
//! - `deny_final_within_bound`: rounds whose deny was final within (k + 1)·T, against the
//!   Gamma(k + 1) probability of that, P = 1 − Σ_{i ≤ k} e^{−(k+1)} (k + 1)^i / i! (0.567 at
//!   k = 3): the share of denies within the bound, judged by the binomial test.
//!
//! Also checked: the walk's permission state at node 0's head equals the ledger's writer set
//! (`revocation-oracle`), and the invariants every family checks.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vein_node::core::consortium::PermissionChange;
use vein_node::core::crypto::AccountId;
use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};

use crate::attacker::{AttackerKind, NetworkShape};
use crate::consortium_net::{ConsortiumNet, TABLE, open_proposal};
use crate::engine::{Engine, FEE};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::spec_with_silent_attacker;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

/// The consortium's parties (honest nodes 0..3) and its quorum.
const PARTIES: usize = 3;
const QUORUM: u16 = 2;
/// Intervals the attacker writes with permission before each deny.
const GRANTED_T: u64 = 4;
/// Intervals it keeps writing after each deny is final, before the next grant.
const DENIED_T: u64 = 4;
/// Longest wait for one step of the story (a proposal to apply, a deny to be final), in T.
const WAIT_T: u64 = 60;
const CITATION: &str = "docs/consortium.md (Deny); Gamma(k + 1) finality, PROTOCOL.md";

/// The family's type in the registry.
pub struct RevocationRace;

/// `[attacker] kind = "revocation-race"`: the denied account's write rate and the number of
/// grant and deny rounds per seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeniedWriter {
    /// Writes the attacker signs per second, permission or not.
    pub rate: f64,
    /// Grant-then-deny rounds per seed (each gives one deny latency sample).
    pub rounds: u64,
}

impl AttackerKind for DeniedWriter {
    const KIND: &'static str = "revocation-race";
    const PARAMETERS: &'static [&'static str] = &["rate"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 100.0) {
            return Err(out_of_range("attacker.rate", self.rate, "(0, 100]"));
        }
        at_least("attacker.rounds", self.rounds, 2)?;
        at_most("attacker.rounds", self.rounds, 50)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "rate" {
            self.rate = value;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("rate".into(), self.rate);
    }
}

impl Family for RevocationRace {
    const METRIC: &'static str = "revocation_race";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::DenyHolds];
    type Attacker = DeniedWriter;

    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        at_least("network.nodes", scenario.network.nodes, PARTIES as u64)
    }

    fn story(scenario: &Scenario) -> String {
        let k = scenario.network.finality_depth;
        format!(
            "Honest nodes 0..3 are the parties and members of a consortium (quorum 2 of 3); an \
             extra node's account is granted write permission, writes for {GRANTED_T} T, is \
             denied (one table, or every table on odd rounds), and {DENIED_T} T after the \
             deny is final is granted again, `rounds` times; it signs `rate` writes a second \
             throughout, permitted or not.\n\
             metric: revoked_writes_applied (its writes ordered while denied that applied, \
             walking every checkpoint's White Flag order), granted_writes_applied, \
             deny_final_latency_t (submitting the completing approval to its checkpoint final \
             on the approver's node, in T), deny_final_within_bound.\n\
             reference: 0, 1, k + 1 = {} (Gamma(k + 1) mean: Exp(T) to the ordering \
             checkpoint, k more to finality; the bound (k + 1) T is that mean, judged \
             two-sided) and P(Gamma(k + 1) <= k + 1) = {:.4}.",
            k + 1,
            gamma_cdf_at_shape(k + 1),
        )
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// P(Gamma(n, 1) ≤ n): the chance a deny is final within (k + 1)·T, for n = k + 1.
pub fn gamma_cdf_at_shape(n: u64) -> f64 {
    let x = n as f64;
    let mut term = (-x).exp();
    let mut below = 0.0;
    for i in 0..n {
        if i > 0 {
            term *= x / i as f64;
        }
        below += term;
    }
    (1.0 - below).clamp(0.0, 1.0)
}

/// The story's state: the engine, the consortium, and the attacker's write schedule.
struct Race<'a, E> {
    context: &'a Context<'a>,
    engine: E,
    consortium: ConsortiumNet,
    attacker: usize,
    rate: f64,
    rng: DetRng,
    /// Next write time in ms, once writing.
    next_write_ms: Option<f64>,
    writes: BTreeSet<Hash>,
}

impl<E: Engine> Race<'_, E> {
    fn schedule(&mut self, from_ms: f64) {
        let gap = -(1.0 - self.rng.unit_f64()).ln() * 1000.0 / self.rate;
        self.next_write_ms = Some(from_ms + gap);
    }

    fn write(&mut self, at_ms: f64) -> Result<(), RunError> {
        let kind = self.consortium.write().map_err(|error| self.context.setup(error))?;
        // A refused submission is the attacker's loss, not the story's: keep racing.
        if let Some(id) = self.engine.submit(self.attacker, kind, FEE) {
            self.writes.insert(id);
        }
        self.schedule(at_ms);
        Ok(())
    }

    /// Runs to `until_ms`, the attacker writing on its schedule.
    fn advance(&mut self, until_ms: u64) -> Result<(), RunError> {
        while let Some(at) = self.next_write_ms.filter(|at| *at < until_ms as f64) {
            self.engine.run_until(at as u64);
            self.write(at)?;
        }
        self.engine.run_until(until_ms);
        Ok(())
    }

    /// Runs event by event (the attacker writing on its schedule) until `done` holds; the
    /// time it first held. Refuses after [`WAIT_T`] intervals, naming `what`.
    fn wait_for(&mut self, what: &str, done: impl Fn(&E) -> bool) -> Result<u64, RunError> {
        let interval = self.context.scenario.network.target_interval_ms;
        let cap = self.engine.now_ms() + WAIT_T * interval;
        loop {
            if done(&self.engine) {
                return Ok(self.engine.now_ms());
            }
            let now = self.engine.now_ms();
            if now >= cap {
                return Err(self.context.setup(format!("{what}: not within {WAIT_T} T")));
            }
            let write_at = self.next_write_ms.map_or(u64::MAX, |at| at.ceil() as u64);
            let until = write_at.min(cap);
            if !self.engine.step(until) {
                self.engine.run_until(until);
                if let Some(at) = self.next_write_ms.filter(|at| *at <= until as f64) {
                    self.write(at)?;
                }
            }
        }
    }

    /// Party `proposer` proposes `change`, party `approver` approves it once its node holds
    /// the proposal. Returns the approval's unit and the time it was submitted.
    fn change(
        &mut self,
        change: PermissionChange,
        proposer: usize,
        approver: usize,
    ) -> Result<(Hash, u64), RunError> {
        let propose = self.consortium.propose(change.clone());
        self.engine
            .submit(proposer, propose, FEE)
            .ok_or_else(|| self.context.setup(format!("party {proposer} refused its proposal")))?;
        let proposer_account = self.engine.account(proposer);
        let id = self.consortium.id;
        self.wait_for("the proposal to apply", |engine| {
            open_proposal(engine, &id, approver, &change, &proposer_account).is_some()
        })?;
        let proposal = open_proposal(&self.engine, &id, approver, &change, &proposer_account)
            .ok_or_else(|| self.context.setup("the proposal vanished"))?;
        let submitted_ms = self.engine.now_ms();
        let approve = self.consortium.approve(proposal);
        let unit = self
            .engine
            .submit(approver, approve, FEE)
            .ok_or_else(|| self.context.setup(format!("party {approver} refused to approve")))?;
        Ok((unit, submitted_ms))
    }
}

/// What walking one node's chain found.
#[derive(Default)]
struct Walk {
    /// Attacker writes ordered while it held no permission, and how many of those applied.
    denied: u64,
    denied_applied: u64,
    /// Attacker writes ordered while permitted, and how many applied.
    permitted: u64,
    permitted_applied: u64,
    /// The permission state after the last checkpoint walked.
    permitted_at_end: bool,
    /// Heights at which a write applied while the attacker held no permission.
    violations: Vec<u64>,
}

/// Walks node `node`'s active chain from genesis to `top` in White Flag order, switching the
/// attacker's permission exactly at the grant and deny approvals that applied.
fn walk<E: Engine>(
    engine: &E,
    node: usize,
    top: u64,
    grants: &BTreeSet<Hash>,
    denies: &BTreeSet<Hash>,
    writes: &BTreeSet<Hash>,
) -> Walk {
    let view = engine.node(node);
    let chain = view.chain();
    let mut walk = Walk::default();
    let mut permitted = false;
    for height in 1..=top {
        for (unit, outcome) in chain.confirmed_at(height).unwrap_or_default() {
            let applied = *outcome == Outcome::Applied;
            if applied && grants.contains(unit) {
                permitted = true;
            } else if applied && denies.contains(unit) {
                permitted = false;
            } else if writes.contains(unit) {
                if permitted {
                    walk.permitted += 1;
                    walk.permitted_applied += u64::from(applied);
                } else {
                    walk.denied += 1;
                    walk.denied_applied += u64::from(applied);
                    if applied {
                        walk.violations.push(height);
                    }
                }
            }
        }
    }
    walk.permitted_at_end = permitted;
    walk
}

/// Runs one seed: create the consortium, then `rounds` grant and deny rounds.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let writer: DeniedWriter = context.attacker()?;
    let (spec, attacker) = spec_with_silent_attacker(scenario);
    let mut engine: E = start(&context, &spec)?;
    let interval = scenario.network.target_interval_ms;
    engine.run_until(interval);
    let consortium = ConsortiumNet::create(&mut engine, seed, PARTIES, QUORUM)
        .map_err(|error| context.setup(error))?;
    let seed_bytes = seed.to_le_bytes();
    let rng = DetRng::from_seed(Hash::of_parts(&[b"revocation-race", &seed_bytes]).0);
    let mut race = Race {
        context: &context,
        engine,
        consortium,
        attacker,
        rate: writer.rate,
        rng,
        next_write_ms: None,
        writes: BTreeSet::new(),
    };
    let id = race.consortium.id;
    race.wait_for("the consortium's creation", |engine| {
        (0..PARTIES).all(|node| engine.node(node).chain().ledger().consortia().get(&id).is_some())
    })?;
    let account = race.engine.account(attacker);
    let mut grants = BTreeSet::new();
    let mut denies = BTreeSet::new();
    let mut latencies_t = Vec::new();
    for round in 0..writer.rounds as usize {
        let (first, second) = (round % PARTIES, (round + 1) % PARTIES);
        let grant = PermissionChange::Grant { account, table: TABLE.into() };
        let (unit, _) = race.change(grant, first, second)?;
        grants.insert(unit);
        race.wait_for("the grant to apply", |engine| writes_on(engine, second, &id, &account))?;
        if race.next_write_ms.is_none() {
            let now = race.engine.now_ms() as f64;
            race.schedule(now);
        }
        race.advance(race.engine.now_ms() + GRANTED_T * interval)?;
        let table = (round % 2 == 0).then(|| TABLE.to_string());
        let deny = PermissionChange::Deny { account, table };
        let (unit, submitted_ms) = race.change(deny, second, first)?;
        denies.insert(unit);
        let final_ms = race.wait_for("the deny to be final", |engine| {
            let view = engine.node(first);
            let confirmed = view.dag().confirmation(&unit);
            confirmed.is_some_and(|c| c.height <= view.chain().final_height())
        })?;
        latencies_t.push((final_ms - submitted_ms) as f64 / interval as f64);
        race.advance(race.engine.now_ms() + DENIED_T * interval)?;
    }
    // The last writes settle: k + 2 intervals with the attacker silent.
    race.next_write_ms = None;
    let k = scenario.network.finality_depth;
    race.advance(race.engine.now_ms() + (k + 2) * interval)?;
    measure(&context, race.engine, &grants, &denies, &race.writes, latencies_t, attacker)
}

/// Whether `account` may write the table, as node `node`'s ledger holds the consortium.
fn writes_on<E: Engine>(engine: &E, node: usize, id: &Hash, account: &AccountId) -> bool {
    let view = engine.node(node);
    let consortium = view.chain().ledger().consortia().get(id);
    consortium.and_then(|c| c.writers.get(TABLE)).is_some_and(|writers| writers.contains(account))
}

fn measure<E: Engine>(
    context: &Context<'_>,
    engine: E,
    grants: &BTreeSet<Hash>,
    denies: &BTreeSet<Hash>,
    writes: &BTreeSet<Hash>,
    latencies_t: Vec<f64>,
    attacker: usize,
) -> Result<RunMetrics, RunError> {
    let scenario = context.scenario;
    let k = scenario.network.finality_depth;
    let honest = attacker;
    let at = engine.now_ms() as f64 / 1000.0;
    let mut violations = invariants(&engine, honest, k);
    for node in 0..honest {
        let head = engine.node(node).chain().height();
        let heights = walk(&engine, node, head, grants, denies, writes).violations;
        if let Some(first) = heights.first() {
            violations.push(Violation {
                invariant: "write-after-deny".into(),
                at_simulated_seconds: at,
                node: Some(node as u64),
                detail: format!(
                    "{} writes of the denied account applied after the deny, the first at \
                     height {first}",
                    heights.len()
                ),
            });
        }
    }
    let head = engine.node(0).chain().height();
    let at_head = walk(&engine, 0, head, grants, denies, writes).permitted_at_end;
    let id = engine.node(0).chain().ledger().consortia().iter().next().map(|c| c.id);
    let ledger = id.is_some_and(|id| writes_on(&engine, 0, &id, &engine.account(attacker)));
    if at_head != ledger {
        violations.push(Violation {
            invariant: "revocation-oracle".into(),
            at_simulated_seconds: at,
            node: Some(0),
            detail: format!("the walk says permitted = {at_head}, the ledger {ledger}"),
        });
    }
    let final_height = engine.node(0).chain().final_height();
    let settled = walk(&engine, 0, final_height, grants, denies, writes);
    if settled.denied == 0 || settled.permitted == 0 {
        return Err(context.setup(format!(
            "too few final writes to judge: {} while denied, {} while permitted",
            settled.denied, settled.permitted
        )));
    }
    let labels = &context.labels;
    let bound = (k + 1) as f64;
    let within = latencies_t.iter().filter(|latency| **latency <= bound).count() as u64;
    let rounds = latencies_t.len() as u64;
    let measurements = vec![
        Measurement::proportion(
            "revoked_writes_applied",
            labels.clone(),
            settled.denied_applied,
            settled.denied,
            Some(Reference::new(0.0, "no write applies after the deny", CITATION)),
        )?,
        Measurement::proportion(
            "granted_writes_applied",
            labels.clone(),
            settled.permitted_applied,
            settled.permitted,
            Some(Reference::new(1.0, "every permitted write applies", CITATION)),
        )?,
        Measurement::mean_of(
            "deny_final_latency_t",
            labels.clone(),
            latencies_t,
            Some(Reference::new(bound, "(k + 1) T, the Gamma(k + 1) mean", CITATION)),
        )?,
        Measurement::proportion(
            "deny_final_within_bound",
            labels.clone(),
            within,
            rounds,
            Some(Reference::new(gamma_cdf_at_shape(k + 1), "P(Gamma(k + 1) <= k + 1)", CITATION)),
        )?,
    ];
    Ok(finish(context, &engine, violations, measurements))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gamma_probability_matches_its_closed_form() {
        // k = 3: 1 − e^−4 (1 + 4 + 8 + 32/3).
        let expected = 1.0 - (-4.0f64).exp() * (1.0 + 4.0 + 8.0 + 32.0 / 3.0);
        assert!((gamma_cdf_at_shape(4) - expected).abs() < 1e-12);
        // n = 1: exponential, 1 − e^−1.
        assert!((gamma_cdf_at_shape(1) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }
}
