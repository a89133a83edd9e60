//! Failing-seed minimisation (`vein-sim shrink`): given a run that violates an invariant, find a
//! smaller run that violates the same one, so that the replay a developer debugs has as few nodes,
//! seconds, faults and transfers as possible.
//!
//! Every candidate is a whole deterministic simulation with the same seed, so a kept reduction
//! is a fact about that exact configuration, not a guess; the result replays with the printed
//! command line. A candidate is kept only if its *first* violation is of the same invariant as
//! the original's first (a reduction that fails differently is a different bug).
//!
//! The reductions, repeated until a whole pass keeps nothing (or the run budget is spent):
//! 1. nodes: binary search between 1 and the current count (with the peer graph, genesis and
//!    fault plan redrawn for the new size: they all depend on it);
//! 2. duration: first just past the first violation (everything before it is the same run, so
//!    an invariant that fired at t fires again in a run that ends just after t; with faults on,
//!    the settle phase shrinks too, so that the fault plan before t stays the same), then a
//!    binary search down to 1 s (or just past the settle phase while faults are on);
//! 3. fault kinds: all off, then each kind off in turn;
//! 4. fault episodes: drop halves, quarters... down to single episodes (delta debugging); a
//!    dropped episode is still drawn, so every other fault keeps its time and shape
//!    ([`SimConfig::dropped_faults`]);
//! 5. transaction rate: zero, then halving.
//!
//! The algorithm takes the runner as a function, so its logic is tested without simulations; the
//! CLI passes [`crate::simulation::run`].

use crate::checker::Violation;
use crate::config::{ConfigError, FaultKinds, SimConfig};
use crate::faults;
use std::collections::BTreeSet;

/// Default bound on candidate runs.
pub const DEFAULT_MAX_RUNS: usize = 100;
/// A pass tries every reduction once; passes repeat while one keeps something.
const MAX_PASSES: usize = 4;
/// How many times the transaction rate is halved at most.
const RATE_HALVINGS: usize = 4;

/// What a run produced, as far as shrinking cares: its first violation.
pub trait Outcome {
    /// The violation the run found first, or `None` if it passed.
    fn first_violation(&self) -> Option<&Violation>;
}

impl Outcome for Option<Violation> {
    fn first_violation(&self) -> Option<&Violation> {
        self.as_ref()
    }
}

#[cfg(madsim)]
impl Outcome for crate::simulation::RunReport {
    fn first_violation(&self) -> Option<&Violation> {
        self.violations.first()
    }
}

/// Why shrinking could not start; `E` is the runner's own error type.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError<E> {
    /// The original configuration ran without any violation.
    #[error("the run does not fail (no invariant violated): nothing to shrink")]
    Passes,
    /// The original configuration is invalid (`SimConfig::validate` refused it).
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The original run could not be simulated (a candidate that cannot is only rejected).
    #[error("simulation: {0}")]
    Run(E),
}

/// What one candidate did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same invariant failed: the reduction is kept.
    Kept,
    /// No violation: rejected.
    Passed,
    /// Another invariant failed first: rejected.
    Other(&'static str),
    /// The candidate could not be simulated: rejected.
    Error(String),
}

/// One candidate run, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based count of simulation runs so far (the original is run 1).
    pub run: usize,
    /// The reduction tried, in words (`nodes 8 -> 4`, `drop ...`).
    pub change: String,
    /// Whether the reduction was kept, and if not why.
    pub verdict: Verdict,
    /// The invariant the original run violated first, which the candidate had to violate.
    pub target: &'static str,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[run {}] {}: ", self.run, self.change)?;
        match &self.verdict {
            Verdict::Kept => write!(f, "fails {}: kept", self.target),
            Verdict::Passed => write!(f, "passes: rejected"),
            Verdict::Other(invariant) => write!(f, "fails {invariant} instead: rejected"),
            Verdict::Error(error) => write!(f, "error ({error}): rejected"),
        }
    }
}

/// The smallest failing run found.
#[derive(Debug)]
pub struct Shrunk<R> {
    /// The configuration shrinking started from.
    pub original: SimConfig,
    /// The smallest configuration found that still fails the same invariant first.
    pub config: SimConfig,
    /// The outcome of `config`'s run.
    pub outcome: R,
    /// Its first violation (of the original's invariant).
    pub violation: Violation,
    /// Simulation runs made, the original's included.
    pub runs: usize,
    /// The run budget ran out before a pass kept nothing.
    pub exhausted: bool,
}

impl<R> Shrunk<R> {
    /// One line: what changed from the original.
    pub fn summary(&self) -> String {
        let (from, to) = (&self.original, &self.config);
        format!(
            "nodes {} -> {}, duration {} -> {} s (settle {} -> {} s), faults {} ({} applied) -> \
             {} ({} applied), tx-rate {} -> {}",
            from.nodes,
            to.nodes,
            from.duration_s,
            to.duration_s,
            from.settle_s,
            to.settle_s,
            from.faults.describe(),
            applied_episodes(from),
            to.faults.describe(),
            applied_episodes(to),
            from.tx_rate,
            to.tx_rate
        )
    }
}

/// Episodes of `config`'s plan that are not dropped.
pub fn applied_episodes(config: &SimConfig) -> usize {
    let total = faults::episodes(config);
    total - config.dropped_faults.iter().filter(|episode| **episode < total).count()
}

/// Shrink `config`, which must fail, running candidates with `run` (at most `max_runs` runs in
/// all) and reporting each to `on_step`.
pub fn shrink<R: Outcome, E: std::fmt::Display>(
    config: &SimConfig,
    max_runs: usize,
    mut run: impl FnMut(&SimConfig) -> Result<R, E>,
    on_step: impl FnMut(&Step),
) -> Result<Shrunk<R>, ShrinkError<E>> {
    config.validate()?;
    let outcome = run(config).map_err(ShrinkError::Run)?;
    let Some(violation) = outcome.first_violation().cloned() else {
        return Err(ShrinkError::Passes);
    };
    let mut shrinker = Shrinker {
        target: violation.invariant,
        best: config.clone(),
        outcome,
        violation,
        runs: 1,
        rejected: Vec::new(),
        max_runs: max_runs.max(1),
        exhausted: false,
        run,
        on_step,
    };
    for _ in 0..MAX_PASSES {
        let before = shrinker.best.clone();
        shrinker.nodes();
        shrinker.duration();
        shrinker.kinds();
        shrinker.episodes();
        shrinker.tx_rate();
        if shrinker.best == before || shrinker.exhausted {
            break;
        }
    }
    Ok(Shrunk {
        original: config.clone(),
        config: shrinker.best,
        outcome: shrinker.outcome,
        violation: shrinker.violation,
        runs: shrinker.runs,
        exhausted: shrinker.exhausted,
    })
}

struct Shrinker<R, F, G> {
    target: &'static str,
    best: SimConfig,
    outcome: R,
    violation: Violation,
    runs: usize,
    /// Candidates already run and rejected (a later pass would otherwise rerun them).
    rejected: Vec<SimConfig>,
    max_runs: usize,
    exhausted: bool,
    run: F,
    on_step: G,
}

impl<R, E, F, G> Shrinker<R, F, G>
where
    R: Outcome,
    E: std::fmt::Display,
    F: FnMut(&SimConfig) -> Result<R, E>,
    G: FnMut(&Step),
{
    /// Run `candidate`; keep it if it fails the target invariant first.
    fn attempt(&mut self, change: String, candidate: SimConfig) -> bool {
        if candidate == self.best
            || candidate.validate().is_err()
            || self.rejected.contains(&candidate)
        {
            return false;
        }
        if self.runs >= self.max_runs {
            self.exhausted = true;
            return false;
        }
        self.runs += 1;
        let (verdict, kept) = match (self.run)(&candidate) {
            Err(error) => (Verdict::Error(error.to_string()), None),
            Ok(outcome) => match outcome.first_violation().cloned() {
                None => (Verdict::Passed, None),
                Some(violation) if violation.invariant == self.target => {
                    (Verdict::Kept, Some((outcome, violation)))
                }
                Some(violation) => (Verdict::Other(violation.invariant), None),
            },
        };
        (self.on_step)(&Step { run: self.runs, change, verdict, target: self.target });
        let Some((outcome, violation)) = kept else {
            self.rejected.push(candidate);
            return false;
        };
        self.best = candidate;
        self.outcome = outcome;
        self.violation = violation;
        true
    }

    /// Binary search for the fewest nodes; `hi` is always a count known to fail.
    fn nodes(&mut self) {
        let (mut lo, mut hi) = (1, self.best.nodes);
        while lo < hi && !self.exhausted {
            let mid = lo + (hi - lo) / 2;
            let change = format!("nodes {} -> {mid}", self.best.nodes);
            if self.attempt(change, with_nodes(&self.best, mid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    fn duration(&mut self) {
        // The supervisor stops at the whole second after the first violation, and a run cut
        // there is the same run up to that point, provided the fault plan is too: faults end
        // where they ended (the settle phase shrinks with the run) or, if that is after the cut,
        // at the cut (settle 0), which only shortens faults still running after the violation.
        let just_after = self.violation.at_ms / 1_000 + 1;
        if just_after < self.best.duration_s {
            let mut candidate = SimConfig { duration_s: just_after, ..self.best.clone() };
            if candidate.faults.any() {
                let faults_end_s = self.best.duration_s.saturating_sub(self.best.settle_s);
                candidate.settle_s = just_after.saturating_sub(faults_end_s);
            }
            let change = format!(
                "duration {} -> {just_after} s, settle {} -> {} s",
                self.best.duration_s, self.best.settle_s, candidate.settle_s
            );
            self.attempt(change, candidate);
        }
        let floor = if self.best.faults.any() { self.best.settle_s + 1 } else { 1 };
        let (mut lo, mut hi) = (floor, self.best.duration_s);
        while lo < hi && !self.exhausted {
            let mid = lo + (hi - lo) / 2;
            let change = format!("duration {} -> {mid} s", self.best.duration_s);
            if self.attempt(change, SimConfig { duration_s: mid, ..self.best.clone() }) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    /// All fault kinds off, else each kind off in turn.
    fn kinds(&mut self) {
        if !self.best.faults.any() || self.exhausted {
            return;
        }
        let none = SimConfig {
            faults: FaultKinds::none(),
            dropped_faults: BTreeSet::new(),
            ..self.best.clone()
        };
        let change = format!("faults {} -> none", self.best.faults.describe());
        if self.attempt(change, none) {
            return;
        }
        // Through the kinds' names, so that every kind `FaultKinds` knows is covered.
        let listed = FaultKinds { swarm: false, ..self.best.faults }.to_arg();
        for name in listed.split(',') {
            // The kinds still on (an earlier kept step may have turned more off).
            let current = FaultKinds { swarm: false, ..self.best.faults }.to_arg();
            let remaining: Vec<&str> = current.split(',').filter(|kind| *kind != name).collect();
            if remaining.is_empty() || remaining.len() == current.split(',').count() {
                continue;
            }
            let Ok(faults) = FaultKinds::parse(&remaining.join(","), self.best.seed) else {
                continue;
            };
            let change = format!("faults {} -> {}", self.best.faults.describe(), faults.to_arg());
            self.attempt(change, SimConfig { faults, ..self.best.clone() });
        }
    }

    /// Delta debugging over the applied episodes: drop halves, then quarters... then singles.
    fn episodes(&mut self) {
        let total = faults::episodes(&self.best);
        let mut applied: Vec<usize> =
            (0..total).filter(|episode| !self.best.dropped_faults.contains(episode)).collect();
        let mut chunk = (applied.len() / 2).max(1);
        while !applied.is_empty() && !self.exhausted {
            let mut start = 0;
            while start < applied.len() && !self.exhausted {
                let end = (start + chunk).min(applied.len());
                let group = &applied[start..end];
                let mut candidate = self.best.clone();
                candidate.dropped_faults.extend(group.iter().copied());
                let change = format!("drop {}", describe_episodes(&self.best, group));
                if self.attempt(change, candidate) {
                    applied.drain(start..end);
                } else {
                    start = end;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = (chunk / 2).max(1);
        }
    }

    fn tx_rate(&mut self) {
        if self.best.tx_rate <= 0.0 || self.exhausted {
            return;
        }
        let change = format!("tx-rate {} -> 0", self.best.tx_rate);
        if self.attempt(change, SimConfig { tx_rate: 0.0, ..self.best.clone() }) {
            return;
        }
        for _ in 0..RATE_HALVINGS {
            let rate = self.best.tx_rate / 2.0;
            let change = format!("tx-rate {} -> {rate}", self.best.tx_rate);
            if !self.attempt(change, SimConfig { tx_rate: rate, ..self.best.clone() }) {
                break;
            }
        }
    }
}

/// `config` with `nodes` nodes, the rest as the CLI would derive it for that many.
pub fn with_nodes(config: &SimConfig, nodes: usize) -> SimConfig {
    SimConfig {
        nodes,
        miners: config.miners.min(nodes),
        funded: config.funded.min(nodes),
        ..config.clone()
    }
}

/// "fault episodes 3, 4 (kill node 2 at 14.0 s, ...)": what dropping `group` removes.
fn describe_episodes(config: &SimConfig, group: &[usize]) -> String {
    let total = faults::episodes(config);
    let first: Vec<String> = group
        .iter()
        .take(3)
        .filter_map(|episode| {
            // The plan with only this episode applied.
            let only = SimConfig {
                dropped_faults: (0..total).filter(|other| other != episode).collect(),
                ..config.clone()
            };
            let fault = faults::plan(&only).into_iter().next()?;
            Some(format!("{} at {:.1} s", fault.fault.describe(), fault.at_ms as f64 / 1e3))
        })
        .collect();
    let more = if group.len() > first.len() { ", ..." } else { "" };
    let ids: Vec<String> = group.iter().map(usize::to_string).collect();
    let noun = if group.len() == 1 { "episode" } else { "episodes" };
    format!("fault {noun} {} ({}{more})", ids.join(","), first.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic bug: fails `ledger-root` while at least 3 nodes, 20 s and fault episode 2 are
    /// present; with fewer than 3 nodes it fails `no-progress` instead.
    fn synthetic(config: &SimConfig) -> Result<Option<Violation>, String> {
        let violation = |invariant| Violation {
            invariant,
            at_ms: 15_500,
            node: 0,
            other: None,
            detail: String::new(),
        };
        if config.nodes < 3 {
            return Ok(Some(violation("no-progress")));
        }
        let episode_two = faults::episodes(config) > 2 && !config.dropped_faults.contains(&2);
        if config.duration_s >= 20 && config.faults.kill && episode_two {
            return Ok(Some(violation("ledger-root")));
        }
        Ok(None)
    }

    fn failing() -> SimConfig {
        let mut config = SimConfig::new(4, 40);
        config.duration_s = 300;
        config.faults = FaultKinds::all();
        config
    }

    #[test]
    fn shrinks_to_the_smallest_config_that_fails_the_same_way() {
        let original = failing();
        let mut steps = Vec::new();
        let shrunk = shrink(&original, 500, synthetic, |step| steps.push(step.clone())).unwrap();
        let best = &shrunk.config;
        assert_eq!(best.nodes, 3, "{}", shrunk.summary());
        assert_eq!(best.tx_rate, 0.0);
        assert!(best.faults.kill, "{}", shrunk.summary());
        // Only episode 2 is left of however many the smaller run draws.
        assert_eq!(applied_episodes(best), 1, "{}", shrunk.summary());
        assert!(!best.dropped_faults.contains(&2));
        assert_eq!(synthetic(best).unwrap().unwrap().invariant, "ledger-root");
        // A fixpoint: no single further reduction fails the same way.
        let same = |config: &SimConfig| {
            config.validate().is_ok()
                && synthetic(config).unwrap().is_some_and(|v| v.invariant == "ledger-root")
        };
        assert!(!same(&with_nodes(best, best.nodes - 1)));
        assert!(!same(&SimConfig { duration_s: best.duration_s - 1, ..best.clone() }));
        let kinds = best.faults.to_arg();
        for kind in kinds.split(',') {
            let rest: Vec<&str> = kinds.split(',').filter(|other| *other != kind).collect();
            let faults = FaultKinds::parse(&rest.join(","), best.seed).unwrap();
            assert!(!same(&SimConfig { faults, ..best.clone() }), "{kind} not needed");
        }
        assert!(!shrunk.exhausted);
        assert_eq!(shrunk.runs, steps.len() + 1);
        // Two nodes fail too, but differently: rejected, not kept.
        assert!(steps.iter().any(|step| step.verdict == Verdict::Other("no-progress")));
        assert!(steps.iter().any(|step| step.verdict == Verdict::Passed));
        let replay = best.replay_command();
        assert!(replay.contains("--nodes 3 ") && replay.contains("--tx-rate 0 "), "{replay}");
        assert!(replay.contains("--drop-faults "), "{replay}");
    }

    #[test]
    fn shrinking_is_deterministic_and_bounded() {
        let first = shrink(&failing(), 500, synthetic, |_| {}).unwrap();
        let again = shrink(&failing(), 500, synthetic, |_| {}).unwrap();
        assert_eq!(first.config, again.config);
        assert_eq!(first.runs, again.runs);
        let bounded = shrink(&failing(), 5, synthetic, |_| {}).unwrap();
        assert_eq!(bounded.runs, 5);
        assert!(bounded.exhausted);
        assert_eq!(synthetic(&bounded.config).unwrap().unwrap().invariant, "ledger-root");
    }

    #[test]
    fn a_passing_run_is_refused_and_errors_are_typed() {
        let passing = SimConfig::new(1, 10);
        assert!(matches!(shrink(&passing, 10, synthetic, |_| {}), Err(ShrinkError::Passes)));
        let broken = SimConfig::new(1, 0);
        assert!(matches!(shrink(&broken, 10, synthetic, |_| {}), Err(ShrinkError::Config(_))));
        let failing_runner =
            |_: &SimConfig| -> Result<Option<Violation>, String> { Err("no genesis".to_string()) };
        assert!(matches!(shrink(&failing(), 10, failing_runner, |_| {}), Err(ShrinkError::Run(_))));
    }
}
