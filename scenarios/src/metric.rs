//! The `[metric]` table: what a scenario measures (which selects its family, crate::families)
//! and the analytic reference the measurement is judged against.

use serde::{Deserialize, Serialize};

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

    /// The `attacker.kind` this metric's family runs.
    pub fn attacker_kind(self) -> &'static str {
        match self {
            MetricName::CheckpointInterval | MetricName::TipCount => "none",
            MetricName::StorageDetection | MetricName::ShardLoss => "none",
            MetricName::WinShare => "large-miner",
            MetricName::DoubleSpendSuccess => "private-race",
            MetricName::SelfishRevenue => "withhold",
            MetricName::ConflictSpam => "conflict-spam",
            MetricName::GrindShare => "grind",
            MetricName::SplitRevert => "network-split",
            MetricName::LazyTips => "lazy-tips",
            MetricName::FakeSpaceShare => "on-the-fly",
            MetricName::ForkGrowth => "extend-all-forks",
            MetricName::PlotSharing => "plot-sharing",
        }
    }

    /// The references this metric may be judged against.
    pub fn references(self) -> &'static [ReferenceName] {
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
