//! The default suite: the main families at sizes that finish in a few minutes on two cores, all
//! pooled into one report directory.

use std::path::Path;

use vein_reports::gate::InjectedBias;
use vein_reports::metrics::{RunMetrics, Verdict};

use crate::runner::{self, RunnerError, Shard};
use crate::scenario::{Scenario, ScenarioError};

/// One suite entry: a built-in scenario file and the seeds per grid point.
pub struct Entry {
    /// File name under `scenarios/`; what `--skip` matches and errors name.
    pub file: &'static str,
    /// The file's TOML text, built into the binary.
    pub text: &'static str,
    /// Seeds per grid point at scale 1, replacing the file's `run.seeds` (sized for minutes of
    /// CPU, not the file's full precision).
    pub seeds: u64,
}

/// The scenario files shipped in `scenarios/`, built in so the suite runs from anywhere.
pub const ENTRIES: &[Entry] = &[
    Entry { file: "honest-baseline.toml", text: include_str!("../honest-baseline.toml"), seeds: 2 },
    Entry { file: "win-share.toml", text: include_str!("../win-share.toml"), seeds: 2 },
    Entry { file: "identity-split.toml", text: include_str!("../identity-split.toml"), seeds: 4 },
    Entry { file: "double-spend.toml", text: include_str!("../double-spend.toml"), seeds: 600 },
    // 8 seeds: the judged curve and Eyal–Sirer's differ by 0.02 at q = 0.4, a 2-seed interval is ±0.03.
    Entry { file: "selfish.toml", text: include_str!("../selfish.toml"), seeds: 8 },
    Entry {
        file: "storage-cheating.toml",
        text: include_str!("../storage-cheating.toml"),
        seeds: 1,
    },
    Entry { file: "shard-loss.toml", text: include_str!("../shard-loss.toml"), seeds: 2 },
    Entry { file: "tips.toml", text: include_str!("../tips.toml"), seeds: 2 },
    Entry { file: "grinding.toml", text: include_str!("../grinding.toml"), seeds: 2 },
    Entry { file: "conflict-spam.toml", text: include_str!("../conflict-spam.toml"), seeds: 2 },
    // 12 grid points × 150 one-race seeds: ~12 s on one core.
    Entry { file: "network-split.toml", text: include_str!("../network-split.toml"), seeds: 150 },
    Entry { file: "lazy-tips.toml", text: include_str!("../lazy-tips.toml"), seeds: 2 },
    // 4 rates × 1 seed: ~11 s of CPU (R = 30000 nonces/s is most of it).
    Entry { file: "fake-space.toml", text: include_str!("../fake-space.toml"), seeds: 1 },
    // 9 points × 8 races of 25 s × 1 seed: ~13 s of CPU.
    // 3 points (split = 1, 2, 4) × 1 seed on real plots: ~58 s of CPU, most of it every node
    // regenerating one nonce per checkpoint to verify it.
    Entry { file: "plot-sharing.toml", text: include_str!("../plot-sharing.toml"), seeds: 1 },
    Entry {
        file: "extend-all-forks.toml",
        text: include_str!("../extend-all-forks.toml"),
        seeds: 1,
    },
    // 3 rates × 4 seeds × 4 grant-and-deny rounds: 16 deny latencies per rate.
    Entry { file: "revocation-race.toml", text: include_str!("../revocation-race.toml"), seeds: 4 },
    Entry {
        file: "tampering-member.toml",
        text: include_str!("../tampering-member.toml"),
        seeds: 4,
    },
    // 6 points (q × a) × 40 one-race seeds (±0.15 intervals): ~20 s of CPU.
    Entry {
        file: "sidechain-takeover.toml",
        text: include_str!("../sidechain-takeover.toml"),
        seeds: 40,
    },
    // 12 points (strict × q × z) × 30 one-race seeds (~30 s of CPU); every strict point is 0.
    Entry {
        file: "cross-chain-double-spend.toml",
        text: include_str!("../cross-chain-double-spend.toml"),
        seeds: 30,
    },
    // 3 shares × 4 seeds × 60 swaps: ~10 s of CPU in debug.
    Entry { file: "ordering-power.toml", text: include_str!("../ordering-power.toml"), seeds: 4 },
    // 4 fractions × 2 seeds × 9 trainings of 20 participants: about a second.
    Entry { file: "fl-poisoning.toml", text: include_str!("../fl-poisoning.toml"), seeds: 2 },
    Entry {
        file: "fl-label-flipping.toml",
        text: include_str!("../fl-label-flipping.toml"),
        seeds: 2,
    }, // 2 gaps × 4 seeds × 8 conflicting pairs: 32 latency samples per gap.
    Entry {
        file: "token-double-spend.toml",
        text: include_str!("../token-double-spend.toml"),
        seeds: 4,
    },
];

/// Errors of the suite.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A built-in scenario file does not parse or validate (a bug in the shipped files).
    #[error("built-in {0}")]
    Scenario(#[from] ScenarioError),
    /// Running an entry's sweep or writing the report failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// `--skip` names a file that is not in [`ENTRIES`].
    #[error("--skip {file:?}: no suite entry has that file (see `vein-scenarios suite --help`)")]
    UnknownEntry {
        /// The file name as given.
        file: String,
    },
}

/// How to run the suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteOptions {
    /// Multiplies every entry's seeds (at least one seed per point remains).
    pub seeds_scale: f64,
    /// Added to every scenario's first seed: another offset is an independent suite run on
    /// fresh seeds (how the gate's false-alarm rate is measured).
    pub seed_offset: u64,
    /// Entry files left out, e.g. `plot-sharing.toml`.
    pub skip: Vec<String>,
    /// Test-only: a bias injected into one scenario's pooled estimates ([`InjectedBias`]).
    pub bias: Option<InjectedBias>,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        Self { seeds_scale: 1.0, seed_offset: 0, skip: Vec::new(), bias: None }
    }
}

/// Runs every entry over its default sweep and writes one report; the family-wise gate over all
/// of the suite's comparisons decides the verdict.
pub fn run_suite(directory: &Path, options: &SuiteOptions) -> Result<Verdict, SuiteError> {
    if let Some(file) = options.skip.iter().find(|file| !ENTRIES.iter().any(|e| e.file == *file)) {
        return Err(SuiteError::UnknownEntry { file: file.clone() });
    }
    let mut runs: Vec<RunMetrics> = Vec::new();
    for entry in ENTRIES.iter().filter(|entry| !options.skip.iter().any(|f| f == entry.file)) {
        let scenario = Scenario::parse(entry.text, Path::new(entry.file))?;
        let parameters = runner::default_sweep(&scenario)?;
        let points = runner::grid(&scenario, &parameters)?;
        let seeds = ((entry.seeds as f64 * options.seeds_scale).round() as u64).max(1);
        let first_seed = scenario.run.first_seed.saturating_add(options.seed_offset);
        runs.extend(runner::execute(
            &scenario.name,
            &points,
            seeds,
            Some(first_seed),
            Shard::WHOLE,
        )?);
    }
    Ok(runner::write_report_with_bias(directory, &runs, options.bias.as_ref())?)
}
