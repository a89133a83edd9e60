//! Participation-aware finality: during a long even split neither side finalises, so the two
//! sides can never hold conflicting final checkpoints; with the plain depth rule they do. A
//! side holding 3/4 of the space keeps finalising.

use vein_node::core::params::Params;
use vein_node::localnet::LocalNet;

fn split_run(participation_per_mille: u16, groups: Vec<u8>) -> (LocalNet, u64) {
    let params = Params {
        target_interval_ms: 1_000,
        finality_participation_per_mille: participation_per_mille,
        ..Params::default()
    };
    let (mut net, _) = LocalNet::new(9, &[100, 100, 100, 100], params, 20).expect("genesis");
    // A few hundred checkpoints of history make the reference rate accurate.
    net.run_until(250_000);
    let final_before = net.finals[0].keys().max().copied().unwrap_or(0);
    net.partition(groups);
    net.run_until(310_000); // 60 s: about 30 intervals per side, far beyond k = 6
    (net, final_before)
}

#[test]
fn even_split_never_finalises_conflicting_checkpoints() {
    let (mut net, _) = split_run(667, vec![0, 0, 1, 1]);
    assert_eq!(net.conflicting_finality(), None);
    net.heal();
    net.run_until(420_000);
    assert_eq!(net.conflicting_finality(), None);
    // After the heal finality resumes everywhere.
    let heights: Vec<u64> =
        net.finals.iter().map(|f| f.keys().max().copied().unwrap_or(0)).collect();
    assert!(heights.iter().all(|h| *h > 330), "final heights after heal: {heights:?}");
}

#[test]
fn plain_depth_rule_finalises_both_sides_of_a_split() {
    let (net, _) = split_run(0, vec![0, 0, 1, 1]);
    assert!(net.conflicting_finality().is_some(), "expected conflicting finality without the rule");
}

#[test]
fn a_large_majority_keeps_finalising() {
    let (net, final_before) = split_run(667, vec![0, 0, 0, 1]);
    let majority_final = net.finals[0].keys().max().copied().unwrap_or(0);
    let minority_final = net.finals[3].keys().max().copied().unwrap_or(0);
    assert!(majority_final > final_before + 20, "{final_before} -> {majority_final}");
    assert!(minority_final <= final_before + 2, "minority finalised {minority_final}");
    assert_eq!(net.conflicting_finality(), None);
}
