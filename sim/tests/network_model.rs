//! The network model and the newer fault kinds under madsim: latency distributions, geo
//! regions, uplink limits, duplication and reordering, multi-way splits and one-way cuts, disk
//! I/O errors and clock jumps. Same conventions as `simulation.rs`: explicit seeds, 2 s
//! checkpoints, k = 3, small networks.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

use vein_sim::config::FaultKinds;
use vein_sim::faults::{Fault, plan};
use vein_sim::net::{LatencyModel, NetConfig};
use vein_sim::simulation::run;

#[allow(dead_code, reason = "each test crate uses part of the shared helpers")]
mod common;

use common::{assert_safe, fast};

/// A tight uplink for the traffic of these tests (bursts of gossip queue behind each other).
/// Starving it further (2 kB/s) cuts every node off from the others, and lone miners then
/// finalise their own branches k deep: the network-split scenario, not a fault to survive.
const UPLINK: u64 = 20_000;

fn wide_area() -> NetConfig {
    NetConfig {
        latency: LatencyModel::LogNormal { median_ms: 80.0, sigma: 0.5 },
        duplicate: 0.1,
        reorder: 0.2,
        reorder_ms: 300,
        uplink_bytes_per_s: None,
    }
}

#[test]
fn lognormal_latency_with_duplicates_and_reordering_converges_and_finalises() {
    let mut config = fast(21, 20, 60, FaultKinds::none());
    config.net = wide_area();
    let report = run(&config, None).unwrap();
    assert_safe(&report);
    assert!(report.checkpoints_final >= 8, "final height {}", report.checkpoints_final);
    assert!(report.final_height_range.0 >= 8, "{:?}", report.final_height_range);
    assert!(
        report.transactions_applied * 10 >= report.transfers_submitted * 5,
        "{} applied of {} submitted",
        report.transactions_applied,
        report.transfers_submitted
    );
    // Duplicates are delivered: about 10% more messages than the same run without them.
    let mut plain = config.clone();
    plain.net.duplicate = 0.0;
    let without = run(&plain, None).unwrap();
    assert_safe(&without);
    let ratio = report.messages_delivered as f64 / without.messages_delivered as f64;
    assert!((1.03..1.2).contains(&ratio), "duplicates changed deliveries by {ratio}");
}

#[test]
fn geo_regions_with_an_uplink_limit_converge() {
    let mut config = fast(22, 20, 60, FaultKinds::none());
    config.net.latency = LatencyModel::Geo { regions: 6, jitter_ms: 10.0 };
    config.net.uplink_bytes_per_s = Some(UPLINK);
    let report = run(&config, None).unwrap();
    assert_safe(&report);
    assert!(report.final_height_range.0 >= 8, "{:?}", report.final_height_range);
}

#[test]
fn three_way_split_then_heal_converges() {
    let faults = FaultKinds { split: true, ..FaultKinds::none() };
    let config = fast(23, 18, 90, faults);
    let splits: Vec<usize> = plan(&config)
        .iter()
        .filter_map(|scheduled| match &scheduled.fault {
            Fault::Partition { groups } => groups.iter().max().map(|most| usize::from(*most) + 1),
            _ => None,
        })
        .collect();
    assert!(splits.iter().any(|ways| *ways >= 3), "no 3-way split: {splits:?}");
    let report = run(&config, None).unwrap();
    assert_safe(&report);
    assert!(report.final_height_range.0 >= 8, "{:?}", report.final_height_range);
}

#[test]
fn one_way_cuts_heal_and_converge() {
    let faults = FaultKinds { cut: true, ..FaultKinds::none() };
    let config = fast(24, 16, 90, faults);
    assert!(plan(&config).iter().any(|f| matches!(f.fault, Fault::Cut { .. })));
    let report = run(&config, None).unwrap();
    assert_safe(&report);
    assert!(report.faults_applied >= 2, "{} faults", report.faults_applied);
}

#[test]
fn disk_errors_stop_and_restart_nodes_without_any_violation() {
    // With kills too: a crash after a failed sync must still lose nothing reported final.
    let faults = FaultKinds { disk: true, kill: true, ..FaultKinds::none() };
    for seed in [25, 26] {
        let report = run(&fast(seed, 12, 90, faults), None).unwrap();
        assert_safe(&report);
        assert!(report.disk_errors > 0, "seed {seed}: no disk error injected");
        assert!(report.disk_restarts > 0, "seed {seed}: no node stopped on a disk error");
        assert!(report.transactions_final > 0);
    }
}

#[test]
fn forward_clock_jumps_stay_safe() {
    let faults = FaultKinds { jump: true, skew: true, ..FaultKinds::none() };
    let config = fast(27, 12, 90, faults);
    assert!(plan(&config).iter().any(|f| matches!(f.fault, Fault::Jump { .. })));
    let report = run(&config, None).unwrap();
    assert_safe(&report);
}

#[test]
fn every_new_feature_on_is_still_deterministic() {
    let mut config = fast(28, 12, 40, FaultKinds::all());
    config.net = NetConfig { uplink_bytes_per_s: Some(1_000_000), ..wide_area() };
    let first = run(&config, None).unwrap();
    assert_safe(&first);
    let again = run(&config, None).unwrap();
    assert_eq!(first.trace_hash, again.trace_hash);
    assert_eq!(first.messages_delivered, again.messages_delivered);
    assert_eq!(first.disk_errors, again.disk_errors);
    let mut other = config.clone();
    other.seed = 29;
    assert_ne!(run(&other, None).unwrap().trace_hash, first.trace_hash);
    // The network model alone changes the trace: it is part of the run's identity.
    let mut geo = config.clone();
    geo.net.latency = LatencyModel::Geo { regions: 3, jitter_ms: 5.0 };
    assert_ne!(run(&geo, None).unwrap().trace_hash, first.trace_hash);
}

#[test]
fn swarm_seeds_with_the_wide_area_model_stay_safe() {
    for seed in [30, 31, 32] {
        let mut config = fast(seed, 14, 90, FaultKinds::swarm(seed));
        config.net = wide_area();
        let report = run(&config, None).unwrap();
        assert_safe(&report);
    }
}

/// Regression: in networks a little over 2k + 1 nodes a node could find every other node
/// already linked to it before it had drawn its k peers, and the draw looped forever.
#[test]
fn peer_graphs_of_every_small_size_are_built() {
    for nodes in 14..40 {
        for seed in 0..20 {
            let graph = vein_sim::simulation::peer_graph(seed, nodes, 6);
            assert!(graph.iter().all(|peers| peers.len() >= 6.min(nodes - 1)));
            for (node, peers) in graph.iter().enumerate() {
                assert!(peers.iter().all(|peer| graph[*peer].contains(&node)));
            }
        }
    }
}
