//! The registry of scenario families: which [`Family`] a scenario's metric selects.
//!
//! Model: families are types (one file each, `impl Family`), generic over the engine that runs
//! them, so the registry is a visitor: [`visit`] hands the family a metric selects to a
//! [`FamilyVisitor`], which does with it what the caller needs (check a scenario, run a seed,
//! read its chunk size). [`FAMILIES`] is the same list as plain data, for what is asked of all
//! families at once (the known metrics, kinds and parameters). Both come from the one list in
//! [`registry!`]'s invocation below: adding a family is its file, one line there, and its TOML
//! (docs/scenarios.md, "Adding a family"). Dependencies run one way: the registry imports the
//! families, no family imports the registry.

use std::marker::PhantomData;

use vein_reports::metrics::RunMetrics;

use crate::attacker::AttackerKind;
use crate::baseline::Baseline;
use crate::conflict_spam::ConflictSpam;
use crate::cross_chain_double_spend::CrossChainDoubleSpend;
use crate::double_spend::DoubleSpend;
use crate::engine::Engine;
use crate::extend_forks::ExtendForks;
use crate::fake_space::FakeSpace;
pub use crate::family::Family;
use crate::fl_poisoning::FlPoisoning;
use crate::grinding::Grinding;
use crate::lazy_tips::LazyTips;
use crate::metric::{MetricName, ReferenceName};
use crate::network_split::NetworkSplit;
use crate::ordering_power::OrderingPower;
use crate::plot_sharing::PlotSharing;
use crate::revocation_race::RevocationRace;
pub use crate::run_error::RunError;
use crate::scenario::Scenario;
use crate::scenario_error::InvalidValue;
use crate::selfish::Selfish;
use crate::sidechain_takeover::SidechainTakeover;
use crate::storage::{ShardLoss, StorageDetection};
use crate::tampering_member::TamperingMemberFamily;
use crate::tip_dynamics::TipDynamics;
use crate::token_double_spend::TokenDoubleSpend;
use crate::win_share::WinShare;

/// What a caller does with the family a metric selects, whichever type it is.
pub trait FamilyVisitor {
    /// What the visit gives back.
    type Output;
    /// Does the caller's work with family `F`.
    fn visit<F: Family>(self) -> Self::Output;
}

/// A family's constants, as data.
#[derive(Debug, Clone, Copy)]
pub struct FamilyInfo {
    /// [`Family::METRIC`].
    pub metric: &'static str,
    /// The `kind` of [`Family::Attacker`].
    pub attacker_kind: &'static str,
    /// The sweep parameters of [`Family::Attacker`].
    pub attacker_parameters: &'static [&'static str],
    /// [`Family::PARAMETERS`].
    pub parameters: &'static [&'static str],
    /// [`Family::REFERENCES`].
    pub references: &'static [ReferenceName],
    /// [`Family::SEEDS_PER_CHUNK`].
    pub seeds_per_chunk: usize,
    /// [`Family::STORAGE`].
    pub storage: bool,
    /// [`Family::MADSIM_UNSUPPORTED`].
    pub madsim_unsupported: Option<&'static str>,
}

const fn info<F: Family>() -> FamilyInfo {
    FamilyInfo {
        metric: F::METRIC,
        attacker_kind: <F::Attacker as AttackerKind>::KIND,
        attacker_parameters: <F::Attacker as AttackerKind>::PARAMETERS,
        parameters: F::PARAMETERS,
        references: F::REFERENCES,
        seeds_per_chunk: F::SEEDS_PER_CHUNK,
        storage: F::STORAGE,
        madsim_unsupported: F::MADSIM_UNSUPPORTED,
    }
}

/// Hands family number `$index` of the list to `$visitor`; the last family takes what is left,
/// so there is no unreachable arm (the index always comes from a position in the same list).
macro_rules! dispatch {
    ($index:expr, $at:expr, $visitor:ident; $last:ty) => {
        $visitor.visit::<$last>()
    };
    ($index:expr, $at:expr, $visitor:ident; $first:ty, $($rest:ty),+) => {
        if $index == $at {
            $visitor.visit::<$first>()
        } else {
            dispatch!($index, $at + 1, $visitor; $($rest),+)
        }
    };
}

macro_rules! registry {
    ($($family:ty),+ $(,)?) => {
        /// Every family, in registry order.
        pub const FAMILIES: &[FamilyInfo] = &[$(info::<$family>()),+];

        fn visit_at<V: FamilyVisitor>(index: usize, visitor: V) -> V::Output {
            dispatch!(index, 0, visitor; $($family),+)
        }
    };
}

registry![
    Baseline,
    WinShare,
    DoubleSpend,
    Selfish,
    TipDynamics,
    ConflictSpam,
    Grinding,
    NetworkSplit,
    LazyTips,
    FakeSpace,
    ExtendForks,
    PlotSharing,
    StorageDetection,
    ShardLoss,
    RevocationRace,
    TamperingMemberFamily,
    SidechainTakeover,
    CrossChainDoubleSpend,
    OrderingPower,
    FlPoisoning,
    TokenDoubleSpend,
];

/// The registered family of `metric`.
pub fn find(metric: &MetricName) -> Result<(usize, &'static FamilyInfo), InvalidValue> {
    FAMILIES.iter().enumerate().find(|(_, family)| family.metric == metric.as_str()).ok_or_else(
        || InvalidValue::UnknownMetric {
            name: metric.as_str().to_string(),
            known: quoted(FAMILIES.iter().map(|family| family.metric)),
        },
    )
}

/// The registry: hands the family of `metric` to `visitor`.
pub fn visit<V: FamilyVisitor>(metric: &MetricName, visitor: V) -> Result<V::Output, InvalidValue> {
    let (index, _) = find(metric)?;
    Ok(visit_at(index, visitor))
}

/// Every attacker kind some family runs, each once, in registry order.
pub fn attacker_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for family in FAMILIES {
        if !kinds.contains(&family.attacker_kind) {
            kinds.push(family.attacker_kind);
        }
    }
    kinds
}

/// `"a", "b"` for error messages.
pub fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

/// Runs one seed of `scenario` on engine `E`, with the family its metric selects.
pub fn run_seed<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    struct Run<'a, E> {
        scenario: &'a Scenario,
        seed: u64,
        engine: PhantomData<E>,
    }
    impl<E: Engine> FamilyVisitor for Run<'_, E> {
        type Output = Result<RunMetrics, RunError>;
        fn visit<F: Family>(self) -> Self::Output {
            F::run::<E>(self.scenario, self.seed)
        }
    }
    visit(&scenario.metric.name, Run { scenario, seed, engine: PhantomData::<E> }).map_err(
        |source| RunError::Setup {
            scenario: scenario.name.clone(),
            seed,
            detail: source.to_string(),
        },
    )?
}

/// Seeds per record for `metric`'s family ([`Family::SEEDS_PER_CHUNK`]); 1 for a metric no
/// family registers (such a scenario never passes validation).
pub fn seeds_per_chunk(metric: &MetricName) -> usize {
    find(metric).map(|(_, family)| family.seeds_per_chunk).unwrap_or(1)
}

/// The story of `scenario`'s family (`vein-scenarios explain`).
pub fn story(scenario: &Scenario) -> Result<String, InvalidValue> {
    struct Story<'a>(&'a Scenario);
    impl FamilyVisitor for Story<'_> {
        type Output = String;
        fn visit<F: Family>(self) -> String {
            F::story(self.0)
        }
    }
    visit(&scenario.metric.name, Story(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MetricOf;
    impl FamilyVisitor for MetricOf {
        type Output = &'static str;
        fn visit<F: Family>(self) -> &'static str {
            F::METRIC
        }
    }

    /// Fails if the registry hands a metric to a family that declares another one, or if two
    /// families claim one metric.
    #[test]
    fn every_metric_selects_the_family_that_declares_it() {
        assert_eq!(FAMILIES.len(), 21);
        for (index, family) in FAMILIES.iter().enumerate() {
            assert_eq!(visit_at(index, MetricOf), family.metric);
            let metric = MetricName::new(family.metric);
            assert_eq!(visit(&metric, MetricOf), Ok(family.metric));
            assert_eq!(find(&metric).map(|(at, _)| at), Ok(index), "{}", family.metric);
        }
        assert_eq!(seeds_per_chunk(&MetricName::new("double_spend_success")), 50);
        assert_eq!(seeds_per_chunk(&MetricName::new("selfish_revenue")), 1);
        let unknown = visit(&MetricName::new("win_shares"), MetricOf).unwrap_err().to_string();
        assert!(unknown.contains("\"win_shares\"") && unknown.contains("`win_share`"), "{unknown}");
    }

    #[test]
    fn attacker_kinds_are_listed_once() {
        let kinds = attacker_kinds();
        assert_eq!(kinds.len(), 18, "{kinds:?}");
        assert_eq!(kinds[0], "none");
    }
}
