//! Helpers shared by the whole-network simulator tests (`simulation.rs`, `network_model.rs`,
//! and the subsystem properties `consortium.rs`, `evm.rs`, `fl.rs`). Each test crate compiles
//! this module and uses part of it.

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

/// The subsystem properties' network (consortium, EVM, FL): 10 nodes, 80 simulated s, 2 s
/// checkpoints, k = 6 (as the CI property test), 4 slots/s, `faults` drawn from `seed`; each
/// property then sets its own share of the slots.
pub fn subsystem(faults: &str, seed: u64) -> SimConfig {
    let faults = FaultKinds::parse(faults, seed).unwrap_or_else(|error| panic!("{error}"));
    let mut config = fast(seed, 10, 80, faults);
    config.finality_depth = 6;
    // The settle phase scales with k: recomputed for k = 6.
    config.settle_s = config.default_settle_s();
    config
}

/// The first violation, as a failure line with the replay command.
pub fn first_violation(report: &RunReport) -> Option<String> {
    let first = report.violations.first()?;
    Some(format!(
        "seed {}: {first}\n  replay: {}",
        report.config.seed,
        report.config.replay_command()
    ))
}
