//! The `[metric]` table: what a scenario measures (which selects its family, crate::families)
//! and the analytic reference the measurement is judged against.

use serde::{Deserialize, Serialize};

/// What is measured, as the scenario file names it; the registry (crate::families) resolves it
/// to the family that runs, and refuses a name no family registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetricName(String);

impl MetricName {
    /// The metric called `name` (whether a family registers it is checked on validation).
    pub fn new(name: &str) -> MetricName {
        MetricName(name.to_string())
    }

    /// The `[metric] name` as written in a scenario file.
    pub fn as_str(&self) -> &str {
        &self.0
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
    /// Consortium deny (docs/consortium.md): no write of a denied account applies after the
    /// deny; the deny is final after Gamma(k + 1) intervals.
    DenyHolds,
    /// Consortium attestations: every honest member names a tampering member at the verdict
    /// of the first attested height after the tampering, and never names an honest one.
    NextCertification,
    /// Side-chain takeover (docs/sidechain-fork-choice.md): the private race cut at the next
    /// anchor, which the side nodes pin once it is final on the main chain.
    AnchorWindowRace,
    /// Federated learning under poisoning (Blanchard et al., 2017; Yin et al., 2018): robust
    /// rules keep their clean accuracy up to the fraction they are tuned for, the mean does not.
    ByzantineRobustness,
}

impl ReferenceName {
    /// The kebab-case spelling a scenario file uses (`metric.reference = "eyal-sirer"`).
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
            ReferenceName::DenyHolds => "deny-holds",
            ReferenceName::NextCertification => "next-certification",
            ReferenceName::AnchorWindowRace => "anchor-window-race",
            ReferenceName::ByzantineRobustness => "byzantine-robustness",
        }
    }
}

/// The `[metric]` table of a scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// What is measured; selects the family that runs the scenario.
    pub name: MetricName,
    /// The analytic value the measurement is judged against; must be one of the family's.
    pub reference: ReferenceName,
}
