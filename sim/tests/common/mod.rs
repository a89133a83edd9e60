//! Helpers shared by the whole-network simulator tests (`simulation.rs`, `network_model.rs`).

use vein_sim::config::{FaultKinds, SimConfig};
use vein_sim::simulation::RunReport;

/// A small fast run: 4 transfers/s, 2 s checkpoints, k = 3, the default settle phase.
pub fn fast(seed: u64, nodes: usize, duration_s: u64, faults: FaultKinds) -> SimConfig {
    let mut config = SimConfig::new(seed, nodes);
    config.duration_s = duration_s;
    config.tx_rate = 4.0;
    config.target_interval_ms = 2_000;
    config.finality_depth = 3;
    config.faults = faults;
    config.settle_s = config.default_settle_s();
    config
}

/// Fails with every violation and the replay line.
pub fn assert_safe(report: &RunReport) {
    assert!(
        report.ok(),
        "violations {:#?}\nreplay: {}",
        report.violations,
        report.config.replay_command()
    );
}
