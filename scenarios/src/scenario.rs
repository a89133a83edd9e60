//! Scenario files: what one experiment is, as a TOML document.
//!
//! Model: a scenario names a network (honest nodes, their space, latency, protocol parameters),
//! a workload, how long and with how many seeds to run, an attacker (kind and parameters) and the
//! metric it measures with the reference that metric is judged against. Parsing is strict
//! (`deny_unknown_fields`), so a misspelt key is an error that names its line and column rather
//! than a silently ignored setting; [`Scenario::validate`] then refuses impossible values (a share
//! outside (0, 1), zero nodes, k = 0...) with one error each, naming the field. Sweeps override
//! parameters by name through [`Scenario::set_parameter`], which validates again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors reading or validating a scenario. Each names the file (when there is one) and the field.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The `toml` crate's message already names the line, column and key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: invalid value: {source}")]
    Invalid { path: PathBuf, source: InvalidValue },
}

/// One impossible or inconsistent value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InvalidValue {
    #[error("{field} = {value} must be in {expected}")]
    OutOfRange { field: &'static str, value: String, expected: &'static str },
    #[error("{field} is required when attacker.kind = \"{kind}\"")]
    Missing { field: &'static str, kind: &'static str },
    #[error("{field} is not used when attacker.kind = \"{kind}\"; remove it")]
    Unused { field: &'static str, kind: &'static str },
    #[error("metric \"{metric}\" needs attacker.kind = \"{needs}\", found \"{found}\"")]
    MetricNeedsAttacker { metric: &'static str, needs: &'static str, found: &'static str },
    #[error("metric \"{metric}\" is not judged by reference \"{reference}\"; use one of {allowed}")]
    ReferenceNotForMetric { metric: &'static str, reference: &'static str, allowed: String },
    #[error("the [simulator] table applies only with engine = \"madsim\"; remove it")]
    SimulatorUnused,
    #[error("simulator.{field} = {value} must be a probability in [0, 1]")]
    SimulatorProbability { field: &'static str, value: f64 },
    #[error("unknown parameter \"{name}\"; known: {known}")]
    UnknownParameter { name: String, known: String },
    #[error("metric \"{metric}\" needs a [storage] table")]
    StorageRequired { metric: &'static str },
    #[error("the [storage] table is not used by metric \"{metric}\"; remove it")]
    StorageUnused { metric: &'static str },
}

/// Which executor runs the nodes: the in-memory LocalNet (`vein-scenarios`), or the madsim
/// simulator with its network model (`vein-sim scenario FILE`, a madsim build of crate
/// vein-sim; `vein-scenarios` refuses such a file with that hint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    #[default]
    Localnet,
    Madsim,
}

/// The honest network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Honest nodes (an attacker, if any, is one more node).
    pub nodes: u64,
    /// Space of each honest node, in nonces (256 KiB each); the total sets the difficulty.
    #[serde(default = "default_nonces_per_node")]
    pub nonces_per_node: u64,
    /// One-way link latency; LocalNet adds a uniform jitter of up to half of it.
    pub latency_ms: u64,
    /// Target checkpoint interval `T`.
    pub target_interval_ms: u64,
    /// Finality depth `k`.
    #[serde(default = "default_finality_depth")]
    pub finality_depth: u64,
    /// Challenge refresh period `c`.
    #[serde(default = "default_challenge_refresh")]
    pub challenge_refresh: u64,
    /// Whether the base target retargets (false: fixed difficulty, constant checkpoint weight).
    #[serde(default = "default_true")]
    pub retarget: bool,
}

fn default_nonces_per_node() -> u64 {
    1_000_000
}
fn default_finality_depth() -> u64 {
    6
}
fn default_challenge_refresh() -> u64 {
    1
}
fn default_true() -> bool {
    true
}

/// Tip selection of the honest nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TipSelection {
    #[default]
    WeightedWalk,
    Uniform,
}

/// Transactions submitted while the scenario runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Poisson rate of transfers over the whole network (each from a random honest node).
    #[serde(default)]
    pub tx_per_s: f64,
    #[serde(default)]
    pub tip_selection: TipSelection,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload { tx_per_s: 0.0, tip_selection: TipSelection::WeightedWalk }
    }
}

/// How long and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Simulated time of one run; for races, the cap after which the attacker gives up.
    pub duration_s: u64,
    /// Seeds (independent runs) per parameter point, unless `--seeds` says otherwise.
    pub seeds: u64,
    #[serde(default = "default_first_seed")]
    pub first_seed: u64,
}

fn default_first_seed() -> u64 {
    1
}

/// Attacker behaviours, each a policy of the ordinary node (see `docs/scenarios.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttackerKind {
    /// Nobody attacks.
    #[default]
    None,
    /// An honest miner holding share `s` of the space.
    LargeMiner,
    /// Private double-spend race with share `q` against a merchant waiting `z` checkpoints.
    PrivateRace,
    /// Selfish mining (Eyal–Sirer) with share `q`: withhold own checkpoints, release tactically.
    Withhold,
    /// Conflict spam: `rate` pairs per second of conflicting spends of one nonce.
    ConflictSpam,
    /// Challenge grinding: share `s`, forging each checkpoint in `variants` versions and
    /// publishing the one that gives it the best next deadline.
    Grind,
    /// Network-split double-spend (#12): the network is split into the merchant's side (share
    /// `s`) and the other side for `d` target intervals; the payer spends one nonce differently
    /// on each side and the merchant delivers after `z` checkpoints of its side.
    NetworkSplit,
    /// Lazy tips / parasite sub-DAG (#10): `rate` transfers per second, each approving the
    /// attacker's previous one and an old honest unit instead of recent tips.
    LazyTips,
    /// Fake space (#7): a node storing nothing that computes `nonces_per_s` nonces per second
    /// once the challenge is known (`Policy::OnTheFly`).
    OnTheFly,
    /// Extend all forks (#4, double dipping): share `q` over `split` identities, each forging on
    /// every checkpoint it knows, privately (`Policy::ExtendAllForks`).
    ExtendAllForks,
    /// Plot sharing (#8): an owner with share `s` of the real space and `split − 1` more
    /// identities claiming its one plot (`Policy::PublishRefused`), on real plots.
    PlotSharing,
}

impl AttackerKind {
    pub fn name(self) -> &'static str {
        match self {
            AttackerKind::None => "none",
            AttackerKind::LargeMiner => "large-miner",
            AttackerKind::PrivateRace => "private-race",
            AttackerKind::Withhold => "withhold",
            AttackerKind::ConflictSpam => "conflict-spam",
            AttackerKind::Grind => "grind",
            AttackerKind::NetworkSplit => "network-split",
            AttackerKind::LazyTips => "lazy-tips",
            AttackerKind::OnTheFly => "on-the-fly",
            AttackerKind::ExtendAllForks => "extend-all-forks",
            AttackerKind::PlotSharing => "plot-sharing",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attacker {
    #[serde(default)]
    pub kind: AttackerKind,
    /// Share of the space held by the large miner.
    pub s: Option<f64>,
    /// The large miner's space split evenly over this many identities (nodes): #8, identity
    /// splitting. Default 1.
    pub split: Option<u64>,
    /// Attacker's share of the total space.
    pub q: Option<f64>,
    /// Confirmations (checkpoints) the merchant waits.
    pub z: Option<u64>,
    /// The race is abandoned when the attacker is this many checkpoints behind.
    pub give_up_behind: Option<u64>,
    /// Conflict spam: pairs of conflicting spends per second.
    pub rate: Option<f64>,
    /// Grinding: versions of each checkpoint the attacker forges and chooses from.
    pub variants: Option<u64>,
    /// Network split: its duration, in target intervals T.
    pub d: Option<f64>,
    /// On-the-fly plotting: nonces computed per second after the challenge (R).
    pub nonces_per_s: Option<f64>,
}

/// What is measured; decides which family runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// Interval mean, CV and capacity estimate of an honest network.
    CheckpointInterval,
    /// Fraction of checkpoints won by the large miner.
    WinShare,
    /// Probability that the private race reverses the merchant's payment.
    DoubleSpendSuccess,
    /// Share of the final chain authored by the selfish miner.
    SelfishRevenue,
    /// Tips at a node under uniform tip selection.
    TipCount,
    /// #9: fraction of (shard, round) challenges a storage node that dropped `f` of its chunks
    /// fails (crate::storage).
    StorageDetection,
    /// Shard loss: whether a file survives crashed holders and is repaired (crate::storage).
    ShardLoss,
    /// Conflicting spends applied exactly once; honest latency and confirmation under spam.
    ConflictSpam,
    /// Fraction of checkpoints won by a grinding miner.
    GrindShare,
    /// Fraction of network splits of length d after which the merchant's delivered payment is
    /// reverted (crate::network_split).
    SplitRevert,
    /// Honest latency and confirmation beside a lazy / parasite issuer (crate::lazy_tips).
    LazyTips,
    /// Fraction of checkpoints won by an on-the-fly plotter (crate::fake_space).
    FakeSpaceShare,
    /// Depth of an extend-all-forks attacker's private tree, and its chance to out-grow the
    /// honest chain (crate::extend_forks).
    ForkGrowth,
    /// Share won by a group of identities sharing one real plot, and the fraction of the
    /// non-owners' proofs honest nodes refuse (crate::plot_sharing).
    PlotSharing,
}

impl MetricName {
    pub fn name(self) -> &'static str {
        match self {
            MetricName::CheckpointInterval => "checkpoint_interval",
            MetricName::WinShare => "win_share",
            MetricName::DoubleSpendSuccess => "double_spend_success",
            MetricName::SelfishRevenue => "selfish_revenue",
            MetricName::TipCount => "tip_count",
            MetricName::StorageDetection => "storage_detection",
            MetricName::ShardLoss => "shard_loss",
            MetricName::ConflictSpam => "conflict_spam",
            MetricName::GrindShare => "grind_share",
            MetricName::SplitRevert => "split_revert",
            MetricName::LazyTips => "lazy_tips",
            MetricName::FakeSpaceShare => "fake_space_share",
            MetricName::ForkGrowth => "fork_growth",
            MetricName::PlotSharing => "plot_sharing",
        }
    }

    fn attacker(self) -> AttackerKind {
        match self {
            MetricName::CheckpointInterval | MetricName::TipCount => AttackerKind::None,
            MetricName::StorageDetection | MetricName::ShardLoss => AttackerKind::None,
            MetricName::WinShare => AttackerKind::LargeMiner,
            MetricName::DoubleSpendSuccess => AttackerKind::PrivateRace,
            MetricName::SelfishRevenue => AttackerKind::Withhold,
            MetricName::ConflictSpam => AttackerKind::ConflictSpam,
            MetricName::GrindShare => AttackerKind::Grind,
            MetricName::SplitRevert => AttackerKind::NetworkSplit,
            MetricName::LazyTips => AttackerKind::LazyTips,
            MetricName::FakeSpaceShare => AttackerKind::OnTheFly,
            MetricName::ForkGrowth => AttackerKind::ExtendAllForks,
            MetricName::PlotSharing => AttackerKind::PlotSharing,
        }
    }

    fn references(self) -> &'static [ReferenceName] {
        match self {
            MetricName::CheckpointInterval => &[ReferenceName::TargetInterval],
            MetricName::WinShare => &[ReferenceName::Share],
            MetricName::DoubleSpendSuccess => {
                &[ReferenceName::StrictlyHeavier, ReferenceName::Rosenfeld, ReferenceName::Nakamoto]
            }
            MetricName::SelfishRevenue => &[ReferenceName::EyalSirer],
            MetricName::TipCount => &[ReferenceName::TwoLambdaH],
            MetricName::StorageDetection => &[ReferenceName::DetectionCurve],
            MetricName::ShardLoss => &[ReferenceName::KOfN],
            MetricName::ConflictSpam => &[ReferenceName::ExactlyOnce],
            MetricName::GrindShare => &[ReferenceName::Share],
            MetricName::SplitRevert => &[ReferenceName::PoissonRace],
            MetricName::LazyTips => &[ReferenceName::Unchanged],
            MetricName::FakeSpaceShare => &[ReferenceName::OnTheFlyRace],
            MetricName::ForkGrowth => &[ReferenceName::ForkTree],
            MetricName::PlotSharing => &[ReferenceName::Share],
        }
    }
}

/// The analytic value a metric is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceName {
    /// Interval mean T, CV 1, capacity = the configured space.
    TargetInterval,
    /// Win share = space share s.
    Share,
    /// Attacker must get strictly heavier (vein's first-seen tie rule).
    StrictlyHeavier,
    /// Rosenfeld 2014: catching up (a tie) wins.
    Rosenfeld,
    /// Nakamoto 2008, Poisson approximation.
    Nakamoto,
    /// Eyal–Sirer strategy with γ = 0, judged with the deadline credit of proof of space
    /// (`reference::selfish_mining_revenue_deadline_credit`).
    EyalSirer,
    /// IOTA whitepaper: L ≈ 2λh.
    TwoLambdaH,
    /// PROTOCOL.md §5: a node missing fraction f fails c challenges with 1 − (1 − f)^c.
    DetectionCurve,
    /// Erasure coding: the file recovers iff at least k of its n shards survive.
    KOfN,
    /// Each conflict applied exactly once, honest transfers unaffected (PROTOCOL.md §7 #10).
    ExactlyOnce,
    /// Two independent Poisson processes race for d T; the heavier side at the heal wins.
    PoissonRace,
    /// Honest transfers all applied, their latency unchanged (PROTOCOL.md §7 #10).
    Unchanged,
    /// On-the-fly plotting: the earliest publishable nonce (Rayleigh) races the honest deadline.
    OnTheFlyRace,
    /// Extend all forks: the branching random walk of distinct challenges (finite time, exact).
    ForkTree,
}

impl ReferenceName {
    pub fn name(self) -> &'static str {
        match self {
            ReferenceName::TargetInterval => "target-interval",
            ReferenceName::Share => "share",
            ReferenceName::StrictlyHeavier => "strictly-heavier",
            ReferenceName::Rosenfeld => "rosenfeld",
            ReferenceName::Nakamoto => "nakamoto",
            ReferenceName::EyalSirer => "eyal-sirer",
            ReferenceName::TwoLambdaH => "two-lambda-h",
            ReferenceName::DetectionCurve => "detection-curve",
            ReferenceName::KOfN => "k-of-n",
            ReferenceName::ExactlyOnce => "exactly-once",
            ReferenceName::PoissonRace => "poisson-race",
            ReferenceName::Unchanged => "unchanged",
            ReferenceName::OnTheFlyRace => "on-the-fly-race",
            ReferenceName::ForkTree => "fork-tree",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: MetricName,
    pub reference: ReferenceName,
}

/// The `[simulator]` table: the madsim network model a scenario runs on (docs/simulator.md,
/// "Network model"). Absent, the simulator draws latency like LocalNet: uniform in
/// `[latency_ms, 1.5 latency_ms]`. The latency and uplink syntax is the simulator's (`vein-sim
/// run --latency`, `--uplink`); it checks them when the run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSpec {
    /// Latency model, e.g. `"lognormal:median_ms=80,sigma=0.5"` or `"geo:regions=3"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    /// Probability that a message is delivered twice.
    #[serde(default)]
    pub duplicate: f64,
    /// Probability that a message is held back up to `reorder_ms`.
    #[serde(default)]
    pub reorder: f64,
    #[serde(default = "default_reorder_ms")]
    pub reorder_ms: u64,
    /// Uplink of every node, bytes per second with suffixes k, M, G (`"1M"`); unlimited if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<String>,
    /// Share of packets dropped on every link.
    #[serde(default)]
    pub loss: f64,
}

fn default_reorder_ms() -> u64 {
    200
}

/// A complete scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One line, shown by `vein-scenarios list`.
    pub description: String,
    #[serde(default)]
    pub engine: EngineKind,
    /// The simulator's network model, for `engine = "madsim"` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<SimulatorSpec>,
    pub network: Network,
    #[serde(default)]
    pub workload: Workload,
    pub run: RunConfig,
    #[serde(default)]
    pub attacker: Attacker,
    pub metric: Metric,
    /// Default sweep grid (parameter name → range such as `"0.1..0.3:0.1"` or `"1..6"`), used
    /// by `sweep` without `--param` and by `suite`.
    #[serde(default)]
    pub sweep: BTreeMap<String, String>,
    /// The storage chain set-up of the storage families (crate::storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<crate::storage::StorageSpec>,
}

/// Parameter names a sweep may set.
pub const PARAMETERS: &[&str] = &[
    "q",
    "s",
    "z",
    "split",
    "nodes",
    "latency_ms",
    "tx_per_s",
    "k",
    "c",
    "give_up_behind",
    // Storage families: dropped fraction, chunk challenges per round, holders crashed.
    "f",
    "challenges",
    "crashed",
    "rate",
    "variants",
    // Network split: its duration in T.
    "d",
    // Fake space: nonces computed per second (R).
    "nonces_per_s",
];

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
        Scenario::parse(&text, path)
    }

    /// Parses and validates scenario text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|error| ScenarioError::Parse {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })?;
        scenario
            .validate()
            .map_err(|source| ScenarioError::Invalid { path: path.to_path_buf(), source })?;
        Ok(scenario)
    }

    /// Refuses impossible values, one error for the first found.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let network = &self.network;
        if let Some(simulator) = &self.simulator {
            if self.engine != EngineKind::Madsim {
                return Err(InvalidValue::SimulatorUnused);
            }
            for (field, value) in [
                ("duplicate", simulator.duplicate),
                ("reorder", simulator.reorder),
                ("loss", simulator.loss),
            ] {
                if !(0.0..=1.0).contains(&value) {
                    return Err(InvalidValue::SimulatorProbability { field, value });
                }
            }
        }
        at_least("network.nodes", network.nodes, 1)?;
        at_most("network.nodes", network.nodes, 64)?;
        at_least("network.nonces_per_node", network.nonces_per_node, 1)?;
        at_most("network.nonces_per_node", network.nonces_per_node, 1 << 40)?;
        at_most("network.latency_ms", network.latency_ms, 60_000)?;
        at_least("network.target_interval_ms", network.target_interval_ms, 10)?;
        at_least("network.finality_depth", network.finality_depth, 1)?;
        at_most("network.finality_depth", network.finality_depth, 1_000)?;
        at_least("network.challenge_refresh", network.challenge_refresh, 1)?;
        at_least("run.duration_s", self.run.duration_s, 1)?;
        at_most("run.duration_s", self.run.duration_s, 10_000_000)?;
        at_least("run.seeds", self.run.seeds, 1)?;
        let rate = self.workload.tx_per_s;
        if !(rate.is_finite() && (0.0..=10_000.0).contains(&rate)) {
            return Err(out_of_range("workload.tx_per_s", rate, "[0, 10000]"));
        }
        self.validate_attacker()?;
        let metric = self.metric.name;
        let needs = metric.attacker();
        if needs != self.attacker.kind {
            return Err(InvalidValue::MetricNeedsAttacker {
                metric: metric.name(),
                needs: needs.name(),
                found: self.attacker.kind.name(),
            });
        }
        let allowed = metric.references();
        if !allowed.contains(&self.metric.reference) {
            return Err(InvalidValue::ReferenceNotForMetric {
                metric: metric.name(),
                reference: self.metric.reference.name(),
                allowed: allowed
                    .iter()
                    .map(|r| format!("\"{}\"", r.name()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if metric == MetricName::TipCount && rate <= 0.0 {
            return Err(out_of_range("workload.tx_per_s", rate, "(0, 10000] for tip_count"));
        }
        for name in self.sweep.keys() {
            check_parameter_name(name)?;
        }
        crate::storage::validate(self)?;
        Ok(())
    }

    fn validate_attacker(&self) -> Result<(), InvalidValue> {
        let attacker = &self.attacker;
        let kind = attacker.kind.name();
        let kind_is = |wanted: AttackerKind| attacker.kind == wanted;
        let (wants_s, wants_q, wants_z) = match attacker.kind {
            AttackerKind::None
            | AttackerKind::ConflictSpam
            | AttackerKind::LazyTips
            | AttackerKind::OnTheFly => (false, false, false),
            AttackerKind::LargeMiner | AttackerKind::Grind | AttackerKind::PlotSharing => {
                (true, false, false)
            }
            AttackerKind::NetworkSplit => (true, false, true),
            AttackerKind::PrivateRace => (false, true, true),
            AttackerKind::Withhold | AttackerKind::ExtendAllForks => (false, true, false),
        };
        let fields: [(&'static str, bool, bool); 9] = [
            ("attacker.s", wants_s, attacker.s.is_some()),
            (
                "attacker.split",
                kind_is(AttackerKind::LargeMiner)
                    || kind_is(AttackerKind::ExtendAllForks)
                    || kind_is(AttackerKind::PlotSharing),
                attacker.split.is_some(),
            ),
            (
                "attacker.rate",
                kind_is(AttackerKind::ConflictSpam) || kind_is(AttackerKind::LazyTips),
                attacker.rate.is_some(),
            ),
            ("attacker.variants", kind_is(AttackerKind::Grind), attacker.variants.is_some()),
            ("attacker.q", wants_q, attacker.q.is_some()),
            ("attacker.z", wants_z, attacker.z.is_some()),
            (
                "attacker.give_up_behind",
                kind_is(AttackerKind::PrivateRace),
                attacker.give_up_behind.is_some(),
            ),
            ("attacker.d", kind_is(AttackerKind::NetworkSplit), attacker.d.is_some()),
            (
                "attacker.nonces_per_s",
                kind_is(AttackerKind::OnTheFly),
                attacker.nonces_per_s.is_some(),
            ),
        ];
        for (field, wanted, present) in fields {
            // Plot sharing needs its identity count spelt out: one identity shares nothing.
            let optional = matches!(field, "attacker.give_up_behind")
                || (field == "attacker.split" && !kind_is(AttackerKind::PlotSharing));
            if wanted && !present && !optional {
                return Err(InvalidValue::Missing { field, kind });
            }
            if !wanted && present {
                return Err(InvalidValue::Unused { field, kind });
            }
        }
        if let Some(s) = attacker.s {
            open_unit("attacker.s", s)?;
            let split = attacker.split.unwrap_or(1);
            at_least("attacker.split", split, 1)?;
            at_most("attacker.split", split, 50)?;
            // A plot-sharing group's identities are extra nodes, not honest ones.
            if !kind_is(AttackerKind::PlotSharing) && self.network.nodes < split + 1 {
                return Err(InvalidValue::OutOfRange {
                    field: "network.nodes",
                    value: self.network.nodes.to_string(),
                    expected: "at least attacker.split + 1 (the large miner's identities and \
                               one other miner)",
                });
            }
        }
        if let Some(q) = attacker.q {
            // At q ≥ 1/2 the attacker wins with certainty; the races model minority attackers.
            if !(q.is_finite() && q > 0.0 && q < 0.5) {
                return Err(out_of_range("attacker.q", q, "(0, 0.5)"));
            }
        }
        if let Some(rate) = attacker.rate
            && !(rate.is_finite() && (0.0..=1_000.0).contains(&rate))
        {
            return Err(out_of_range("attacker.rate", rate, "[0, 1000]"));
        }
        if let Some(variants) = attacker.variants {
            at_least("attacker.variants", variants, 1)?;
            at_most("attacker.variants", variants, 64)?;
        }
        if let Some(d) = attacker.d
            && !(d.is_finite() && (0.0..=100.0).contains(&d))
        {
            return Err(out_of_range("attacker.d", d, "[0, 100]"));
        }
        if let Some(rate) = attacker.nonces_per_s
            && !(rate.is_finite()
                && rate > 0.0
                && rate <= crate::fake_space::NONCES_PER_S_MAX
                && rate.fract() == 0.0)
        {
            return Err(out_of_range(
                "attacker.nonces_per_s",
                rate,
                "(0, 10000000], a whole number of nonces per second",
            ));
        }
        if kind_is(AttackerKind::ExtendAllForks) {
            let split = attacker.split.unwrap_or(1);
            at_least("attacker.split", split, 1)?;
            at_most("attacker.split", split, 16)?;
            at_most("network.challenge_refresh", self.network.challenge_refresh, 4_096)?;
        }
        if kind_is(AttackerKind::PlotSharing) {
            crate::plot_sharing::validate(self)?;
        }
        if kind_is(AttackerKind::OnTheFly) && self.network.retarget {
            return Err(InvalidValue::OutOfRange {
                field: "network.retarget",
                value: "true".into(),
                expected: "false for on-the-fly plotting (the race assumes fixed difficulty)",
            });
        }
        if kind_is(AttackerKind::NetworkSplit) && self.network.nodes < 4 {
            return Err(InvalidValue::OutOfRange {
                field: "network.nodes",
                value: self.network.nodes.to_string(),
                expected: "at least 4 for a network split (two nodes a side)",
            });
        }
        if let Some(z) = attacker.z {
            at_least("attacker.z", z, 1)?;
            at_most("attacker.z", z, 50)?;
        }
        if let Some(behind) = attacker.give_up_behind {
            at_least("attacker.give_up_behind", behind, 1)?;
            at_most("attacker.give_up_behind", behind, 500)?;
        }
        Ok(())
    }

    /// Sets a sweep parameter by name (integers are rounded) and validates the result.
    pub fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        check_parameter_name(name)?;
        let whole = || -> Result<u64, InvalidValue> {
            if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
                Ok(value as u64)
            } else {
                Err(InvalidValue::OutOfRange {
                    field: "parameter",
                    value: format!("{name} = {value}"),
                    expected: "a whole number",
                })
            }
        };
        match name {
            "q" => self.attacker.q = Some(value),
            "s" => self.attacker.s = Some(value),
            "z" => self.attacker.z = Some(whole()?),
            "give_up_behind" => self.attacker.give_up_behind = Some(whole()?),
            "split" => self.attacker.split = Some(whole()?),
            "nodes" => self.network.nodes = whole()?,
            "latency_ms" => self.network.latency_ms = whole()?,
            "k" => self.network.finality_depth = whole()?,
            "c" => self.network.challenge_refresh = whole()?,
            "tx_per_s" => self.workload.tx_per_s = value,
            "f" | "challenges" | "crashed" => crate::storage::set_parameter(self, name, value)?,
            "rate" => self.attacker.rate = Some(value),
            "variants" => self.attacker.variants = Some(whole()?),
            "d" => self.attacker.d = Some(value),
            "nonces_per_s" => self.attacker.nonces_per_s = Some(value),
            _ => {}
        }
        self.validate()
    }

    /// The parameters a measurement of this scenario is labelled with (its family's own).
    pub fn labels(&self) -> BTreeMap<String, f64> {
        let mut labels = BTreeMap::new();
        let attacker = &self.attacker;
        if let Some(q) = attacker.q {
            labels.insert("q".to_string(), q);
        }
        if let Some(s) = attacker.s {
            labels.insert("s".to_string(), s);
        }
        if let Some(z) = attacker.z {
            labels.insert("z".to_string(), z as f64);
        }
        if let Some(split) = attacker.split {
            labels.insert("split".to_string(), split as f64);
        }
        if let Some(rate) = attacker.rate {
            labels.insert("rate".to_string(), rate);
        }
        if let Some(variants) = attacker.variants {
            labels.insert("variants".to_string(), variants as f64);
        }
        if let Some(d) = attacker.d {
            labels.insert("d".to_string(), d);
        }
        if let Some(rate) = attacker.nonces_per_s {
            labels.insert("nonces_per_s".to_string(), rate);
        }
        if self.metric.name == MetricName::TipCount {
            labels.insert("tx_per_s".to_string(), self.workload.tx_per_s);
            labels.insert("latency_ms".to_string(), self.network.latency_ms as f64);
        }
        crate::storage::labels(self, &mut labels);
        labels
    }
}

fn check_parameter_name(name: &str) -> Result<(), InvalidValue> {
    if PARAMETERS.contains(&name) {
        Ok(())
    } else {
        Err(InvalidValue::UnknownParameter { name: name.to_string(), known: PARAMETERS.join(", ") })
    }
}

fn out_of_range(field: &'static str, value: f64, expected: &'static str) -> InvalidValue {
    InvalidValue::OutOfRange { field, value: value.to_string(), expected }
}

fn at_least(field: &'static str, value: u64, minimum: u64) -> Result<(), InvalidValue> {
    if value >= minimum {
        Ok(())
    } else {
        Err(InvalidValue::OutOfRange {
            field,
            value: value.to_string(),
            expected: match minimum {
                1 => "[1, ...]",
                10 => "[10, ...]",
                _ => "a larger range",
            },
        })
    }
}

fn at_most(field: &'static str, value: u64, maximum: u64) -> Result<(), InvalidValue> {
    if value <= maximum {
        Ok(())
    } else {
        let expected = match maximum {
            16 => "[.., 16]",
            50 => "[.., 50]",
            64 => "[.., 64]",
            500 => "[.., 500]",
            1_000 => "[.., 1000]",
            4_096 => "[.., 4096]",
            60_000 => "[.., 60000]",
            10_000_000 => "[.., 10000000]",
            _ => "a smaller range",
        };
        Err(InvalidValue::OutOfRange { field, value: value.to_string(), expected })
    }
}

fn open_unit(field: &'static str, value: f64) -> Result<(), InvalidValue> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(out_of_range(field, value, "(0, 1)"))
    }
}

/// Parses a sweep range: `"0.1..0.3:0.1"` (inclusive, step), `"1..6"` (step 1), `"0.1,0.25"`
/// (list) or a single number. Values are rounded to 12 significant digits so that
/// `0.1 + 0.2` is written `0.3`, the same bits as the literal in a scenario file.
pub fn parse_range(spec: &str) -> Result<Vec<f64>, String> {
    let number = |text: &str| -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| format!("\"{text}\" is not a number in range \"{spec}\""))
    };
    if spec.contains(',') {
        return spec.split(',').map(number).collect();
    }
    let Some((low, rest)) = spec.split_once("..") else { return Ok(vec![number(spec)?]) };
    let (high, step) = match rest.split_once(':') {
        Some((high, step)) => (number(high)?, number(step)?),
        None => (number(rest)?, 1.0),
    };
    let low = number(low)?;
    if step <= 0.0 || high < low {
        return Err(format!("range \"{spec}\" needs low <= high and a positive step"));
    }
    let count = ((high - low) / step + 1e-9).floor() as u64 + 1;
    if count > 10_000 {
        return Err(format!("range \"{spec}\" has {count} values; at most 10000"));
    }
    Ok((0..count).map(|index| round12(low + step * index as f64)).collect())
}

fn round12(value: f64) -> f64 {
    if value == 0.0 {
        return 0.0;
    }
    let text = format!("{value:.11e}");
    text.parse().unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("0.1..0.3:0.1").unwrap(), vec![0.1, 0.2, 0.3]);
        assert_eq!(parse_range("1..6").unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(parse_range("0.1,0.25").unwrap(), vec![0.1, 0.25]);
        assert_eq!(parse_range("7").unwrap(), vec![7.0]);
        assert!(parse_range("3..1").is_err());
        assert!(parse_range("a..b").is_err());
    }
}
