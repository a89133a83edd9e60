//! Issue #19, token double spend: an attacker holding a business token signs, `pairs` times a
//! seed, two transfers of it that spend the same nonce to two different accounts, and hands one
//! to a node in one half of the honest network and the other, `gap_ms` later, to a node in the
//! other half, so each half first sees a different spend (docs/tokens.md, docs/scenarios.md).
//!
//! Model: honest miners 0..n and a silent attacker node (no space) whose account issues a
//! fixed-supply token first. Token transfers are ordinary transactions (`TxKind::Token`): their
//! conflicts are conflicts of the spend key `(account, nonce)`, which White Flag resolves like
//! a native double spend, so only the attacker's decisions (what to sign, where to deliver it)
//! live here. Each pair waits until one of its spends is applied by a checkpoint that node 0
//! holds final, then the next pair spends the next nonce.
//!
//! Judged on node 0's chain, and on every honest node for the violations:
//! - `token_second_spend_applied`: pairs with both spends applied, reference 0 (a token
//!   transfer is spent once, as an ERC-20 `transfer` debits once; any such pair is also the
//!   violation `double-apply` on whichever honest node applied both);
//! - `token_conflict_applied_once`: pairs with exactly one spend applied, reference 1 (an oracle
//!   that ignored every spend would pass the first check trivially);
//! - `token_conflict_final_latency_t`: from the first spend's delivery to node 0 holding the
//!   checkpoint that applied one of the pair final, in units of T: the time a merchant needs to
//!   know which spend stands. Reference k + 1: the wait for the checkpoint that orders the pair
//!   is Exp(T) at fixed difficulty (memoryless mining) and finality k more, so the latency is
//!   Gamma(k + 1, T) with mean (k + 1)·T, as for the consortium deny (`revocation_race`). The
//!   gate tests means two-sided: a conflict that delayed its own ordering fails it.
//!
//! Also checked: on every honest node each sink holds exactly the units of its applied spends,
//! and the attacker's balance plus the sinks' is the token's whole supply (`token-supply`), on
//! top of the ledger invariants (the per-token supply invariant among them) every family checks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::dag::Outcome;
use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;
use vein_node::core::token::{IssueToken, SupplyRule, TokenId, TokenTx};
use vein_node::core::transaction::{Transaction, TxKind};
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};

use crate::attacker::{AttackerKind, NetworkShape, whole};
use crate::engine::{Engine, FEE};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::spec_with_silent_attacker;
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};

/// The attacker's token supply: each pair moves 1 unit, so it never runs short.
const SUPPLY: u64 = 1_000_000;
/// Longest wait for one step of the story (the issue, a pair's decision), in T.
const WAIT_T: u64 = 60;
const CITATION: &str = "EIP-20 (a transfer debits once); Back et al. 2014 (a pegged coin is \
                        spent once); White Flag conflict order and Gamma(k + 1) finality, \
                        PROTOCOL.md";

/// The family's type in the registry.
pub struct TokenDoubleSpend;

/// `[attacker] kind = "token-double-spend"`: conflicting token transfer pairs per seed, and
/// how long after the first spend the second is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDoubleSpender {
    /// Conflicting pairs per seed (each gives one latency sample).
    pub pairs: u64,
    /// Delay between delivering the first spend to one half and the second to the other.
    pub gap_ms: u64,
}

impl AttackerKind for TokenDoubleSpender {
    const KIND: &'static str = "token-double-spend";
    const PARAMETERS: &'static [&'static str] = &["gap_ms"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        at_least("attacker.pairs", self.pairs, 2)?;
        at_most("attacker.pairs", self.pairs, 100)?;
        at_most("attacker.gap_ms", self.gap_ms, 60_000)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "gap_ms" {
            self.gap_ms = whole(name, value)?;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("gap_ms".into(), self.gap_ms as f64);
    }
}

impl Family for TokenDoubleSpend {
    const METRIC: &'static str = "token_double_spend";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::ExactlyOnce];
    const MADSIM_UNSUPPORTED: Option<&'static str> =
        Some("the attacker signs token transfers with parents of its choosing (LocalNet only)");
    type Attacker = TokenDoubleSpender;

    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        // Two halves of at least one node each.
        at_least("network.nodes", scenario.network.nodes, 2)
    }

    fn story(scenario: &Scenario) -> String {
        let k = scenario.network.finality_depth;
        format!(
            "A silent attacker node's account issues a token, then signs `pairs` times two \
             transfers of 1 unit spending one nonce to two sinks, delivering one to a node of \
             the first half of the honest network and the other gap_ms later to a node of the \
             second half; each pair waits until one spend is final on node 0.\n\
             metric: token_second_spend_applied (pairs with both spends applied), \
             token_conflict_applied_once, token_conflict_final_latency_t (first delivery to \
             the deciding checkpoint final on node 0, in T).\n\
             reference: 0, 1 and k + 1 = {} (White Flag applies one spend per nonce; Exp(T) \
             to the ordering checkpoint and k more: the Gamma(k + 1) mean, judged two-sided).",
            k + 1
        )
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// One conflicting pair: the two spends and the sink each pays.
struct Pair {
    spends: [Hash; 2],
}

/// The story's state.
struct Attack<'a, E> {
    context: &'a Context<'a>,
    engine: E,
    attacker: usize,
    sinks: [AccountId; 2],
    rng: DetRng,
}

impl<E: Engine> Attack<'_, E> {
    /// Runs event by event until `done` holds; the time it first held. Refuses after
    /// [`WAIT_T`] intervals, naming `what`.
    fn wait_for(&mut self, what: &str, done: impl Fn(&E) -> bool) -> Result<u64, RunError> {
        let interval = self.context.scenario.network.target_interval_ms;
        let cap = self.engine.now_ms() + WAIT_T * interval;
        loop {
            if done(&self.engine) {
                return Ok(self.engine.now_ms());
            }
            if self.engine.now_ms() >= cap {
                return Err(self.context.setup(format!("{what}: not within {WAIT_T} T")));
            }
            if !self.engine.step(cap) {
                self.engine.run_until(cap);
            }
        }
    }

    /// The attacker issues its token; returns the id once every honest node holds it.
    fn issue(&mut self) -> Result<TokenId, RunError> {
        let issue = IssueToken {
            name: "Attacker Points".into(),
            symbol: "ATK".into(),
            decimals: 0,
            initial_supply: SUPPLY,
            supply: SupplyRule::Fixed,
        };
        let kind = TxKind::Token(Box::new(TokenTx::Issue(issue)));
        self.engine
            .submit(self.attacker, kind, FEE)
            .ok_or_else(|| self.context.setup("the attacker's node refused its issue"))?;
        let issuer = self.engine.account(self.attacker);
        let honest = self.attacker;
        self.wait_for("the token issue to apply", |engine| {
            (0..honest).all(|node| issued_by(engine, node, &issuer).is_some())
        })?;
        issued_by(&self.engine, 0, &issuer).ok_or_else(|| self.context.setup("no token"))
    }

    /// A token transfer of 1 unit from the attacker with `nonce`, approving the tips its
    /// node's own tip selection picks.
    fn spend(
        &mut self,
        token: TokenId,
        nonce: u64,
        to: AccountId,
    ) -> Result<Transaction, RunError> {
        let parents = self
            .engine
            .build_transfer(self.attacker, nonce, to, 1)
            .ok_or_else(|| self.context.setup("the attacker's node cannot pick parents"))?
            .body
            .parents;
        let kind = TxKind::Token(Box::new(TokenTx::Transfer { token, to, amount: 1 }));
        self.engine
            .build_with_parents(self.attacker, nonce, kind, parents)
            .ok_or_else(|| self.context.setup("the engine cannot sign the attacker's spends"))
    }

    /// Delivers one conflicting pair to the two halves; returns it and the first delivery time.
    fn deliver_pair(&mut self, token: TokenId, gap_ms: u64) -> Result<(Pair, u64), RunError> {
        let account = self.engine.account(self.attacker);
        let nonce = self.engine.node(0).chain().ledger().next_nonce(&account);
        let first = self.spend(token, nonce, self.sinks[0])?;
        let second = self.spend(token, nonce, self.sinks[1])?;
        let ids = [first.id(), second.id()];
        let [Ok(first_id), Ok(second_id)] = ids else {
            return Err(self.context.setup("a spend has no id"));
        };
        let honest = self.attacker;
        let half = honest / 2;
        let first_node = self.rng.index(half);
        let second_node = half + self.rng.index(honest - half);
        let delivered_ms = self.engine.now_ms();
        self.engine.inject(first_node, first);
        self.engine.run_until(delivered_ms + gap_ms);
        self.engine.inject(second_node, second);
        Ok((Pair { spends: [first_id, second_id] }, delivered_ms))
    }
}

/// The token `issuer` issued, as node `node`'s ledger holds it.
fn issued_by<E: Engine>(engine: &E, node: usize, issuer: &AccountId) -> Option<TokenId> {
    let view = engine.node(node);
    let found = view.chain().ledger().tokens().iter().find(|token| token.issuer == *issuer);
    found.map(|token| token.id)
}

/// Whether node `node` holds a spend of `pair` applied by a final checkpoint.
fn decided<E: Engine>(engine: &E, node: usize, pair: &Pair) -> bool {
    let view = engine.node(node);
    let final_height = view.chain().final_height();
    pair.spends.iter().any(|id| {
        view.dag()
            .confirmation(id)
            .is_some_and(|c| c.outcome == Outcome::Applied && c.height <= final_height)
    })
}

/// How many of `pair`'s spends node `node` holds applied.
fn applied<E: Engine>(engine: &E, node: usize, pair: &Pair) -> [bool; 2] {
    let view = engine.node(node);
    pair.spends
        .map(|id| view.dag().confirmation(&id).is_some_and(|c| c.outcome == Outcome::Applied))
}

/// Runs one seed: the issue, then `pairs` conflicting pairs, each until decided and final.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let spender: TokenDoubleSpender = context.attacker()?;
    let (spec, attacker) = spec_with_silent_attacker(scenario);
    let mut engine: E = start(&context, &spec)?;
    let interval = scenario.network.target_interval_ms;
    engine.run_until(interval);
    let sinks = [0, 1].map(|index| Keypair::derived("vein-scenarios/token-sink", index).account());
    let seed_bytes = seed.to_le_bytes();
    let rng = DetRng::from_seed(Hash::of_parts(&[b"token-double-spend", &seed_bytes]).0);
    let mut attack = Attack { context: &context, engine, attacker, sinks, rng };
    let token = attack.issue()?;
    let mut pairs = Vec::new();
    let mut latencies_t = Vec::new();
    for _ in 0..spender.pairs {
        let (pair, delivered_ms) = attack.deliver_pair(token, spender.gap_ms)?;
        let final_ms = attack
            .wait_for("a spend of the pair to be final", |engine| decided(engine, 0, &pair))?;
        latencies_t.push((final_ms - delivered_ms) as f64 / interval as f64);
        pairs.push(pair);
    }
    // Every honest node catches up with the last decision: k + 2 intervals.
    let k = scenario.network.finality_depth;
    let settle_until = attack.engine.now_ms() + (k + 2) * interval;
    attack.engine.run_until(settle_until);
    measure(&context, &attack.engine, token, &sinks, &pairs, latencies_t, attacker)
}

fn measure<E: Engine>(
    context: &Context<'_>,
    engine: &E,
    token: TokenId,
    sinks: &[AccountId; 2],
    pairs: &[Pair],
    latencies_t: Vec<f64>,
    honest: usize,
) -> Result<RunMetrics, RunError> {
    let k = context.scenario.network.finality_depth;
    let mut violations = invariants(engine, honest, k);
    violations.extend(double_applies(engine, pairs, honest));
    violations.extend(supply_violations(engine, token, sinks, pairs, honest));
    let outcomes: Vec<[bool; 2]> = pairs.iter().map(|pair| applied(engine, 0, pair)).collect();
    let both = outcomes.iter().filter(|o| o[0] && o[1]).count() as u64;
    let once = outcomes.iter().filter(|o| o[0] != o[1]).count() as u64;
    let total = pairs.len() as u64;
    let labels = &context.labels;
    let measurements = vec![
        Measurement::proportion(
            "token_second_spend_applied",
            labels.clone(),
            both,
            total,
            Some(Reference::new(0.0, "a token transfer's nonce is spent once", CITATION)),
        )?,
        Measurement::proportion(
            "token_conflict_applied_once",
            labels.clone(),
            once,
            total,
            Some(Reference::new(1.0, "exactly one spend of each pair applies", CITATION)),
        )?,
        Measurement::mean_of(
            "token_conflict_final_latency_t",
            labels.clone(),
            latencies_t,
            Some(Reference::new((k + 1) as f64, "(k + 1) T, the Gamma(k + 1) mean", CITATION)),
        )?,
    ];
    Ok(finish(context, engine, violations, measurements))
}

/// `double-apply` on every honest node that applied both spends of a pair.
fn double_applies<E: Engine>(engine: &E, pairs: &[Pair], honest: usize) -> Vec<Violation> {
    let at = engine.now_ms() as f64 / 1000.0;
    (0..honest)
        .filter_map(|node| {
            let count =
                pairs.iter().filter(|pair| applied(engine, node, pair) == [true; 2]).count();
            (count > 0).then(|| Violation {
                invariant: "double-apply".into(),
                at_simulated_seconds: at,
                node: Some(node as u64),
                detail: format!("both token spends of {count} attacker nonce(s) applied"),
            })
        })
        .collect()
}

/// `token-supply` on every honest node where the sinks do not hold exactly their applied
/// spends, or the attacker and the sinks do not hold the whole supply.
fn supply_violations<E: Engine>(
    engine: &E,
    token: TokenId,
    sinks: &[AccountId; 2],
    pairs: &[Pair],
    honest: usize,
) -> Vec<Violation> {
    let at = engine.now_ms() as f64 / 1000.0;
    let attacker = engine.account(honest);
    let mut violations = Vec::new();
    for node in 0..honest {
        let mut expected = [0u64; 2];
        for pair in pairs {
            for (slot, was_applied) in applied(engine, node, pair).into_iter().enumerate() {
                expected[slot] += u64::from(was_applied);
            }
        }
        let view = engine.node(node);
        let tokens = view.chain().ledger().tokens();
        let held = sinks.map(|sink| tokens.balance(&token, &sink));
        let supply = tokens.get(&token).map_or(0, |t| t.total_supply());
        let total = held[0] + held[1] + tokens.balance(&token, &attacker);
        if held != expected || total != supply || supply != SUPPLY {
            violations.push(Violation {
                invariant: "token-supply".into(),
                at_simulated_seconds: at,
                node: Some(node as u64),
                detail: format!(
                    "sinks hold {held:?} for applied spends {expected:?}; attacker and sinks \
                     {total} of supply {supply} (issued {SUPPLY})"
                ),
            });
        }
    }
    violations
}
