//! #4: extend-all-forks (double dipping, PoC's nothing-at-stake). The attacker holds share q of
//! the space, split evenly over `attacker.split` = m identities (nodes), and runs the core with
//! `Policy::ExtendAllForks`: each identity forges on every checkpoint it knows, at its own
//! deadline for that checkpoint's successor, not only on its fork-choice head. The identities
//! mine privately from genesis (a partition cuts them off from the honest nodes) for
//! `run.duration_s`; fixed difficulty, so weight is height.
//!
//! Why identities matter: a successor's challenge is `H(g ‖ winner)`, refreshed every c
//! checkpoints, so it depends on a fork only through who authored the window's last checkpoint.
//! One identity opens the same lottery on every fork of its own tree; m identities open m. The
//! tree of distinct challenges is then a branching random walk whose growth factor
//! `reference::fork_tree_growth_factor(m, c)` tends to e (c = 1) and 1.47 (c = 16) as m grows,
//! the Chia green paper's values.
//!
//! Measurements, each seed running `RACES_PER_SEED` independent races (distinct geneses):
//! `fork_private_height`, the deepest private branch at the end (mean), judged against the exact
//! finite-time mean of the model (`reference::fork_tree_height_pmf`); shown beside it, one chain
//! of the same space (λt) and the asymptotic growth G·λt. `fork_catch_up`, the fraction of races
//! whose private branch ends strictly heavier than the honest chain (which grows as a Poisson
//! process), judged against the same model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, attacker_capacity, minority_share, whole};
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};

/// Independent races per seed (a mean needs at least two samples per record).
pub const RACES_PER_SEED: u64 = 8;

/// Hard bound on the checkpoints any one attacker identity may hold (its private tree plus
/// genesis). The tree is a branching process: with m identities at c = 1 it holds about
/// `exp(λ(1 − 1/m)·t)` checkpoints after t seconds (λ the attacker's checkpoint rate), so a
/// longer run, a larger q or more identities multiply it by orders of magnitude; every identity
/// keeps the whole tree, and the cost per new checkpoint grows with the tree (one race at
/// q = 0.4, m = 4, c = 1 went from 12,600 to 17,000 checkpoints in over 100 s of CPU, after
/// 2 s for the first 12,600). The shipped sweep stays below: its largest race in 24 (q = 0.4,
/// c = 1, 25 s) held 12,278. A race that reaches the bound stops with [`RunError::TooLarge`],
/// naming the knobs, instead of running for hours.
pub const MAX_TREE_CHECKPOINTS: usize = 30_000;

/// How often (simulated) a race checks the bound: the tree grows by at most a factor
/// `exp(λ·CHECK_MS)` in between, a few percent at the rates the family accepts.
const CHECK_MS: u64 = 100;

const CITATION: &str = "branching random walk (Biggins 1976) over vein's challenge \
     H(g ‖ winner) refreshed every c; limits e and 1.47: Chia green paper §2.2 / Bagaria et al. 2019";

/// The family's type in the registry.
pub struct ExtendForks;

impl Family for ExtendForks {
    const METRIC: &'static str = "fork_growth";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::ForkTree];
    type Attacker = ExtendAllForks;

    fn story(_scenario: &Scenario) -> String {
        "The attacker (share q, split evenly over attacker.split = m identities) mines \
             privately from genesis with Policy::ExtendAllForks: each identity forges on every \
             checkpoint it knows at its deadline for that checkpoint's successor (forks whose \
             successors share a challenge: only the earliest). Fixed difficulty; each seed runs \
             8 independent races of run.duration_s.\n\
             metric: fork_private_height (deepest private branch at the end, mean) and \
             fork_catch_up (races whose private branch ends strictly above the honest chain).\n\
             reference: the challenge H(g || winner), refreshed every c, depends on a fork only \
             through the author of each window's last checkpoint, so distinct challenges form a \
             branching random walk (per window: c-1 fastest steps, then m children at \
             Exp(lambda/m)). Judged: its exact finite-time depth distribution (integral \
             recursion) and P(depth > Poisson honest height). Shown: one chain lambda*t and the \
             asymptotic growth G(m,c)*lambda*t, G = c/(lambda*gamma) by Biggins' theorem: G = 1 \
             for one identity, -> e at c = 1 and 1.47 at c = 16 as m grows (Chia green paper)."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed (several races) of the extend-all-forks scenario, within
/// [`MAX_TREE_CHECKPOINTS`].
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    run_bounded::<E>(scenario, seed, MAX_TREE_CHECKPOINTS)
}

/// [`run`] with another bound on each identity's checkpoints (tests use a small one).
pub fn run_bounded<E: Engine>(
    scenario: &Scenario,
    seed: u64,
    max_tree: usize,
) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let forks: ExtendAllForks = context.attacker()?;
    let q = forks.q;
    let identities = forks.split.unwrap_or(1).max(1);
    let mut capacities = honest_capacities(scenario);
    let honest_nonces: u64 = capacities.iter().sum();
    let honest = capacities.len();
    let each = (attacker_capacity(honest_nonces, q) / identities).max(1);
    capacities.extend(std::iter::repeat_n(each, identities as usize));
    let attacker_nonces = each * identities;
    let mut params = params(scenario);
    params.fixed_base_target = true;
    // The private tree is compared by height at the end; nothing may refuse or flag it.
    params.finality_depth = 4_096;
    params.reorg_limit = 4_096;
    let mut policies = vec![Policy::Honest; capacities.len()];
    for policy in policies.iter_mut().skip(honest) {
        *policy = Policy::ExtendAllForks;
    }
    let spec = NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    };
    let c = u32::try_from(scenario.network.challenge_refresh)
        .map_err(|_| context.setup("challenge_refresh above u32"))?;
    let m = u32::try_from(identities).map_err(|_| context.setup("split above u32"))?;
    let duration_ms = scenario.run.duration_s * 1000;
    let mut heights = Vec::new();
    let mut caught_up = 0u64;
    let mut violations: Vec<Violation> = Vec::new();
    let mut rates: Option<(f64, f64)> = None;
    let mut last: Option<E> = None;
    for race in 0..RACES_PER_SEED {
        // Wrapping: any u64 is a valid seed (the property test draws them from OS entropy);
        // seeds below 2^58, all the sweeps use, give distinct races as before.
        let race_seed = seed.wrapping_mul(64).wrapping_add(race);
        let race_context = Context { scenario, seed: race_seed, labels: Default::default() };
        let mut engine: E = start(&race_context, &spec)?;
        let mut groups = vec![0u8; engine.node_count()];
        for group in groups.iter_mut().skip(honest) {
            *group = 1;
        }
        engine.partition(groups);
        let mut until_ms = 0;
        while until_ms < duration_ms {
            until_ms = (until_ms + CHECK_MS).min(duration_ms);
            engine.run_until(until_ms);
            let size = (honest..engine.node_count())
                .map(|i| engine.node(i).chain().size().headers)
                .max()
                .unwrap_or(0);
            if size > max_tree {
                return Err(RunError::TooLarge {
                    scenario: scenario.name.clone(),
                    seed,
                    what: "an attacker identity's private tree (checkpoints)",
                    size,
                    limit: max_tree,
                    hint: "lower run.duration_s, attacker.q or attacker.split, or raise \
                           network.challenge_refresh",
                });
            }
        }
        let base_target = {
            let first = engine.node(0);
            let chain = first.chain();
            chain.header(&chain.genesis_id()).map(|genesis| genesis.base_target)
        }
        .ok_or_else(|| context.setup("genesis header missing"))?;
        // Checkpoints per second of a space of N nonces: N · base_target / 2^64.
        let per_second = |nonces: u64| nonces as f64 * base_target as f64 / 2f64.powi(64);
        rates = Some((per_second(attacker_nonces), per_second(honest_nonces)));
        let private = (honest..engine.node_count())
            .map(|i| engine.node(i).chain().height())
            .max()
            .unwrap_or(0);
        let public = engine.node(0).chain().height();
        heights.push(private as f64);
        caught_up += u64::from(private > public);
        violations.extend(invariants(&engine, honest, 6));
        last = Some(engine);
    }
    let (Some((attacker_rate, honest_rate)), Some(engine)) = (rates, last) else {
        return Err(context.setup("no race ran"));
    };
    let seconds = duration_ms as f64 / 1000.0;
    let tau = attacker_rate * seconds;
    let growth = context.reference(reference::fork_tree_growth_factor(m, c))?;
    let n_max = ((2.0 * growth * tau + 40.0).ceil() as usize).min(2_000);
    let pmf = reference::fork_tree_height_pmf(m, c, tau, n_max)
        .map_err(|source| RunError::Reference { scenario: scenario.name.clone(), source })?;
    let mean: f64 = pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    let honest_mean = honest_rate * seconds;
    let mut catch_up = 0.0;
    for (n, p) in pmf.iter().enumerate() {
        let below = 1.0 - context.reference(reference::poisson_at_least(honest_mean, n as u32))?;
        catch_up += p * below;
    }
    let mut labels = context.labels.clone();
    labels.insert("c".to_string(), f64::from(c));
    let measurements = vec![
        Measurement::mean_of(
            "fork_private_height",
            labels.clone(),
            heights,
            Some(Reference::new(mean, "private tree depth at t (exact, model)", CITATION)),
        )?
        .with_other_reference(Reference::new(
            tau,
            "one chain of the same space: λt (not judged)",
            reference::CITATION_PROTOCOL,
        ))
        .with_other_reference(Reference::new(
            growth * tau,
            "asymptotic growth G(m, c)·λt (not judged)",
            CITATION,
        )),
        Measurement::proportion(
            "fork_catch_up",
            labels,
            caught_up,
            RACES_PER_SEED,
            Some(Reference::new(catch_up, "P(private depth > Poisson honest height)", CITATION)),
        )?,
    ];
    Ok(finish(&context, &engine, violations, measurements))
}

/// `[attacker] kind = "extend-all-forks"` (#4, double dipping): share `q` over `split`
/// identities, each forging on every checkpoint it knows, privately (`Policy::ExtendAllForks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendAllForks {
    /// Attacker's share of the total space.
    pub q: f64,
    /// Identities the share is split over (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<u64>,
}

impl AttackerKind for ExtendAllForks {
    const KIND: &'static str = "extend-all-forks";
    const PARAMETERS: &'static [&'static str] = &["q", "split"];

    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        minority_share(self.q)?;
        let split = self.split.unwrap_or(1);
        at_least("attacker.split", split, 1)?;
        at_most("attacker.split", split, 16)?;
        at_most("network.challenge_refresh", network.challenge_refresh, 4_096)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "q" => self.q = value,
            "split" => self.split = Some(whole(name, value)?),
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
        if let Some(split) = self.split {
            labels.insert("split".into(), split as f64);
        }
    }
}
