//! `vein-sim seeds`: many fresh seeds across fault families on every core, the nightly run.
//!
//! Seed `i` of the run goes to family `i mod families`; each family is a `--faults` argument run
//! on the small network the property tests use (10 nodes, 80 simulated seconds, T = 2 s,
//! k = 6). Workers (one per core by default) take the next seed as they finish one, each run in
//! its own madsim runtime: a run sees only its seed, so the order workers finish in changes
//! nothing but the order failures are printed. Every failure is kept with its invariant and the
//! replay line `vein-sim run` and `vein-sim shrink` accept as is.

use crate::config::{FaultKinds, SimConfig};
use crate::simulation::run;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct SeedsOptions {
    /// `--faults` arguments, one family each.
    pub families: Vec<String>,
    /// The seeds, in order (fresh from the OS, or consecutive from `--first-seed`).
    pub seeds: Vec<u64>,
    /// Worker threads, each running one seed at a time (0 is taken as 1).
    pub jobs: usize,
}

/// One failing seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedFailure {
    /// The `--faults` argument of the seed's family.
    pub family: String,
    /// The failing run's seed.
    pub seed: u64,
    /// The first violated invariant's name, or `config` / `simulation-error` when the run could
    /// not be configured or started.
    pub invariant: String,
    /// The violation (or error) in words.
    pub detail: String,
    /// The `vein-sim run` command line that reruns it (empty for a `config` failure).
    pub replay: String,
}

/// What a run of many seeds found.
#[derive(Clone, Debug, Default)]
pub struct SeedsReport {
    /// Seeds finished so far, passing or failing.
    pub seeds_run: u64,
    /// Every failing seed; sorted by family and seed once all seeds are done (in the order
    /// found while running).
    pub failures: Vec<SeedFailure>,
    /// Seeds run per family.
    pub per_family: BTreeMap<String, u64>,
    /// Wall-clock time since the run of seeds started (the harness's, never a run's).
    pub wall: Duration,
}

impl SeedsReport {
    /// Throughput over the wall time so far.
    pub fn seeds_per_hour(&self) -> f64 {
        self.seeds_run as f64 / self.wall.as_secs_f64().max(1e-9) * 3_600.0
    }

    /// The totals `summary.json` holds.
    pub fn summary(&self) -> SeedsSummary {
        let mut failing_by_invariant = BTreeMap::new();
        for failure in &self.failures {
            *failing_by_invariant.entry(failure.invariant.clone()).or_insert(0) += 1;
        }
        SeedsSummary {
            seeds: self.seeds_run,
            wall_seconds: self.wall.as_secs_f64(),
            seeds_per_hour: self.seeds_per_hour(),
            per_family: self.per_family.clone(),
            failing: self.failures.len() as u64,
            failing_by_invariant,
        }
    }
}

/// `summary.json` of `vein-sim seeds`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SeedsSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Wall-clock length of the whole run of seeds, in seconds.
    pub wall_seconds: f64,
    /// `seeds` per wall-clock hour.
    pub seeds_per_hour: f64,
    /// Seeds run per family (`--faults` argument).
    pub per_family: BTreeMap<String, u64>,
    /// Seeds that failed.
    pub failing: u64,
    /// Failing seeds per first violated invariant.
    pub failing_by_invariant: BTreeMap<String, u64>,
}

/// The configuration of `seed` in `family`: the property tests' small network.
pub fn family_config(family: &str, seed: u64) -> Result<SimConfig, String> {
    let mut config = SimConfig::new(seed, 10);
    config.duration_s = 80;
    config.tx_rate = 4.0;
    config.target_interval_ms = 2_000;
    config.finality_depth = 6;
    config.faults = FaultKinds::parse(family, seed).map_err(|error| error.to_string())?;
    config.settle_s = config.default_settle_s();
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}

/// Run every seed; `progress` is called (from the worker that finished it) after each seed with
/// the report so far.
// The wall clock times the harness (seeds per hour); no run sees it.
#[allow(clippy::disallowed_methods)]
pub fn run_seeds(
    options: &SeedsOptions,
    progress: &(dyn Fn(&SeedsReport) + Sync),
) -> Result<SeedsReport, String> {
    if options.families.is_empty() {
        return Err("no families".into());
    }
    for family in &options.families {
        family_config(family, 0).map_err(|error| format!("family {family:?}: {error}"))?;
    }
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let report = Mutex::new(SeedsReport::default());
    let lock = || {
        let mut guard = report.lock().unwrap_or_else(PoisonError::into_inner);
        guard.wall = started.elapsed();
        guard
    };
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = options.seeds.get(index) else { return };
                    let family = &options.families[index % options.families.len()];
                    let failure = run_one(family, seed);
                    let mut report = lock();
                    report.seeds_run += 1;
                    *report.per_family.entry(family.clone()).or_insert(0) += 1;
                    report.failures.extend(failure);
                    progress(&report);
                }
            });
        }
    });
    let mut report = lock().clone();
    report.failures.sort_by(|a, b| (&a.family, a.seed).cmp(&(&b.family, b.seed)));
    Ok(report)
}

fn run_one(family: &str, seed: u64) -> Option<SeedFailure> {
    let config = match family_config(family, seed) {
        Ok(config) => config,
        Err(error) => return Some(failure(family, seed, "config", error, String::new())),
    };
    let replay = config.replay_command();
    match run(&config, None) {
        Ok(report) => report.violations.first().map(|violation| {
            failure(family, seed, violation.invariant, violation.to_string(), replay)
        }),
        Err(error) => Some(failure(family, seed, "simulation-error", error.to_string(), replay)),
    }
}

fn failure(
    family: &str,
    seed: u64,
    invariant: &str,
    detail: String,
    replay: String,
) -> SeedFailure {
    SeedFailure {
        family: family.to_string(),
        seed,
        invariant: invariant.to_string(),
        detail,
        replay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_dealt_to_families_in_turn_and_every_one_runs_once() {
        let options = SeedsOptions {
            families: vec!["none".into(), "kill".into()],
            seeds: vec![11, 12, 13, 14, 15],
            jobs: 2,
        };
        let calls = AtomicUsize::new(0);
        let report = run_seeds(&options, &|_| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(report.seeds_run, 5);
        assert_eq!(calls.load(Ordering::Relaxed), 5);
        assert_eq!(report.per_family.get("none"), Some(&3));
        assert_eq!(report.per_family.get("kill"), Some(&2));
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    }

    #[test]
    fn no_node_of_a_run_outlives_it() {
        // Kills and pauses leave nodes stopped mid-task; `swarm` draws them with everything else.
        let options = SeedsOptions {
            families: vec!["none".into(), "kill".into(), "swarm".into()],
            seeds: vec![21, 22, 23, 24],
            jobs: 1,
        };
        let live_after_each = Mutex::new(Vec::new());
        // `progress` runs on the worker thread right after its seed's run returned.
        let report = run_seeds(&options, &|_| {
            live_after_each.lock().unwrap().push(crate::run_end::live_nodes());
        })
        .unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(live_after_each.into_inner().unwrap(), vec![0, 0, 0, 0]);
    }

    #[test]
    fn a_bad_family_is_refused_before_anything_runs() {
        let options = SeedsOptions { families: vec!["kill,nope".into()], seeds: vec![1], jobs: 1 };
        let error = run_seeds(&options, &|_| panic!("nothing may run")).unwrap_err();
        assert!(error.contains("nope"), "{error}");
    }
}
