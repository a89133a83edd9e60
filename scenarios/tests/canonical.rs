//! Insta snapshots of the summaries of small canonical runs: every family's small points
//! (`small/mod.rs`, the property test's sizes) at seed 1. Runs are deterministic, so a change in a
//! snapshot is a change in behaviour: review it (`cargo insta review`) and say why in the commit.
//! The double-spend race has its own, larger canonical run in `scenarios.rs`.
#![allow(clippy::unwrap_used)]

mod small;

use vein_reports::metrics::SweepReport;
use vein_reports::summary::sweep_summary_markdown;
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;

/// Seed of every canonical run.
const SEED: u64 = 1;

fn summary(family: &str) -> String {
    let runs: Vec<_> = small::points(family)
        .iter()
        .map(|scenario| {
            let mut run = run_seed::<LocalNetEngine>(scenario, SEED).unwrap();
            run.wall_seconds = 0.0;
            run
        })
        .collect();
    let sweep = SweepReport::from_runs(&runs).unwrap();
    let charts = vein_scenarios::charts::sweep_charts(&sweep);
    sweep_summary_markdown(&sweep, &charts)
}

#[test]
fn every_family_but_the_double_spend_race_has_a_snapshot() {
    let tested = [
        "honest-baseline",
        "win-share",
        "identity-split",
        "selfish",
        "grinding",
        "network-split",
        "extend-all-forks",
        "fake-space",
        "conflict-spam",
        "lazy-tips",
        "tips",
        "storage-cheating",
        "shard-loss",
        "plot-sharing",
        "revocation-race",
        "tampering-member",
        "sidechain-takeover",
        "cross-chain-double-spend",
        "ordering-power",
        "fl-poisoning",
        "fl-label-flipping",
        "token-double-spend",
    ];
    let mut expected: Vec<&str> =
        small::FAMILIES.iter().copied().filter(|f| *f != "double-spend").collect();
    expected.sort_unstable();
    let mut tested = tested.to_vec();
    tested.sort_unstable();
    assert_eq!(tested, expected);
}

macro_rules! canonical {
    ($($test:ident => $family:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!(stringify!($test), summary($family));
            }
        )*
    };
}

canonical! {
    honest_baseline => "honest-baseline",
    win_share => "win-share",
    identity_split => "identity-split",
    selfish => "selfish",
    grinding => "grinding",
    network_split => "network-split",
    extend_all_forks => "extend-all-forks",
    fake_space => "fake-space",
    conflict_spam => "conflict-spam",
    lazy_tips => "lazy-tips",
    tips => "tips",
    storage_cheating => "storage-cheating",
    shard_loss => "shard-loss",
    plot_sharing => "plot-sharing",
    revocation_race => "revocation-race",
    tampering_member => "tampering-member",
    sidechain_takeover => "sidechain-takeover",
    cross_chain_double_spend => "cross-chain-double-spend",
    ordering_power => "ordering-power",
    fl_poisoning => "fl-poisoning",
    fl_label_flipping => "fl-label-flipping",
    token_double_spend => "token-double-spend",
}
