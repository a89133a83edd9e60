//! The registry of scenario families: which [`Family`] a scenario's metric selects.
//!
//! Model: families are types (one file each, `impl Family`), generic over the engine that runs
//! them, so the registry is a visitor: [`visit`] hands the family a metric selects to a
//! [`FamilyVisitor`], which does with it what the caller needs (run a seed, read its chunk size).
//! The match in [`visit`] is exhaustive over [`MetricName`], so a metric without a family does
//! not compile. Dependencies run one way: the registry imports the families, no family imports
//! the registry. Adding a family: its file, one arm here, its metric and attacker variant, and
//! its TOML (docs/scenarios.md, "Adding a family").

use std::marker::PhantomData;

use vein_reports::metrics::RunMetrics;

use crate::baseline::Baseline;
use crate::conflict_spam::ConflictSpam;
use crate::double_spend::DoubleSpend;
use crate::engine::Engine;
use crate::extend_forks::ExtendForks;
use crate::fake_space::FakeSpace;
pub use crate::family::Family;
use crate::grinding::Grinding;
use crate::lazy_tips::LazyTips;
use crate::network_split::NetworkSplit;
use crate::plot_sharing::PlotSharing;
pub use crate::run_error::RunError;
use crate::scenario::{MetricName, Scenario};
use crate::selfish::Selfish;
use crate::storage::{ShardLoss, StorageDetection};
use crate::tip_dynamics::TipDynamics;
use crate::win_share::WinShare;

/// What a caller does with the family a metric selects, whichever type it is.
pub trait FamilyVisitor {
    type Output;
    fn visit<F: Family>(self) -> Self::Output;
}

/// The registry: hands the family of `metric` to `visitor`.
pub fn visit<V: FamilyVisitor>(metric: MetricName, visitor: V) -> V::Output {
    match metric {
        MetricName::CheckpointInterval => visitor.visit::<Baseline>(),
        MetricName::WinShare => visitor.visit::<WinShare>(),
        MetricName::DoubleSpendSuccess => visitor.visit::<DoubleSpend>(),
        MetricName::SelfishRevenue => visitor.visit::<Selfish>(),
        MetricName::TipCount => visitor.visit::<TipDynamics>(),
        MetricName::ConflictSpam => visitor.visit::<ConflictSpam>(),
        MetricName::GrindShare => visitor.visit::<Grinding>(),
        MetricName::SplitRevert => visitor.visit::<NetworkSplit>(),
        MetricName::LazyTips => visitor.visit::<LazyTips>(),
        MetricName::FakeSpaceShare => visitor.visit::<FakeSpace>(),
        MetricName::ForkGrowth => visitor.visit::<ExtendForks>(),
        MetricName::PlotSharing => visitor.visit::<PlotSharing>(),
        MetricName::StorageDetection => visitor.visit::<StorageDetection>(),
        MetricName::ShardLoss => visitor.visit::<ShardLoss>(),
    }
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
    visit(scenario.metric.name, Run { scenario, seed, engine: PhantomData::<E> })
}

/// Seeds per record for `metric`'s family ([`Family::SEEDS_PER_CHUNK`]).
pub fn seeds_per_chunk(metric: MetricName) -> usize {
    struct Chunk;
    impl FamilyVisitor for Chunk {
        type Output = usize;
        fn visit<F: Family>(self) -> usize {
            F::SEEDS_PER_CHUNK
        }
    }
    visit(metric, Chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MetricOf;
    impl FamilyVisitor for MetricOf {
        type Output = MetricName;
        fn visit<F: Family>(self) -> MetricName {
            F::METRIC
        }
    }

    /// Fails if the registry hands a metric to a family that declares another one.
    #[test]
    fn every_metric_selects_the_family_that_declares_it() {
        let metrics = [
            MetricName::CheckpointInterval,
            MetricName::WinShare,
            MetricName::DoubleSpendSuccess,
            MetricName::SelfishRevenue,
            MetricName::TipCount,
            MetricName::ConflictSpam,
            MetricName::GrindShare,
            MetricName::SplitRevert,
            MetricName::LazyTips,
            MetricName::FakeSpaceShare,
            MetricName::ForkGrowth,
            MetricName::PlotSharing,
            MetricName::StorageDetection,
            MetricName::ShardLoss,
        ];
        for metric in metrics {
            assert_eq!(visit(metric, MetricOf), metric, "{}", metric.name());
        }
        assert_eq!(seeds_per_chunk(MetricName::DoubleSpendSuccess), 50);
        assert_eq!(seeds_per_chunk(MetricName::SelfishRevenue), 1);
    }
}
