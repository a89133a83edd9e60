//! What a scenario does, in words: the story, the metric and the reference formula.

use std::fmt::Write as _;

use crate::families;
use crate::scenario::{ReferenceName, Scenario};

/// The text of `vein-scenarios explain FILE`.
pub fn explain(scenario: &Scenario) -> String {
    let network = &scenario.network;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", scenario.name, scenario.description);
    let _ = writeln!(
        out,
        "network: {} honest nodes x {} nonces, latency {} ms (+ jitter < latency/2), \
         T = {} ms, k = {}, c = {}, retarget {}",
        network.nodes,
        network.nonces_per_node,
        network.latency_ms,
        network.target_interval_ms,
        network.finality_depth,
        network.challenge_refresh,
        if network.retarget { "on" } else { "off" },
    );
    let _ = writeln!(
        out,
        "run: {} s simulated per seed, {} seeds from {}; workload {} tx/s",
        scenario.run.duration_s,
        scenario.run.seeds,
        scenario.run.first_seed,
        scenario.workload.tx_per_s
    );
    let story = match families::story(scenario) {
        Ok(story) => story,
        Err(error) => error.to_string(),
    };
    let _ = writeln!(out, "{story}");
    let judged = match scenario.metric.reference {
        ReferenceName::TargetInterval => "target-interval",
        other => other.name(),
    };
    let _ = writeln!(out, "judged reference: {judged}");
    if !scenario.sweep.is_empty() {
        let grid: Vec<String> = scenario.sweep.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "default sweep: {}", grid.join(" "));
    }
    out
}
