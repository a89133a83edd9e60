//! The networks families start: protocol parameters and tip selection from the scenario file,
//! the honest miners' space, and the layouts with one attacker node beside them.
//!
//! Model: honest nodes come first (indices `0..network.nodes`), an attacker is the last node;
//! races run at a fixed base target so that checkpoint weight is constant and weight
//! comparisons are height comparisons, as in the race formulas.

use vein_node::core::node::Policy;
use vein_node::core::params::Params;
use vein_node::core::tips::TipStrategy;

use crate::attacker::attacker_capacity;
use crate::engine::NetSpec;
use crate::scenario::{Scenario, TipSelection};

pub(crate) fn params(scenario: &Scenario) -> Params {
    let network = &scenario.network;
    Params {
        target_interval_ms: network.target_interval_ms,
        challenge_refresh: network.challenge_refresh,
        finality_depth: network.finality_depth,
        reorg_limit: network.finality_depth.max(32),
        fixed_base_target: !network.retarget,
        ..Params::default()
    }
}

/// The consensus parameters of an attack network (a private race, a withholding miner): the
/// scenario's, at a fixed base target, with a reorganisation limit deep enough for any release.
/// Real processes (`vein-testnet scenario`) start their genesis from the same parameters.
pub fn attack_params(scenario: &Scenario) -> Params {
    let mut params = params(scenario);
    params.fixed_base_target = true;
    // Releases may reorganise deeper than the default limit (a selfish lead of 3+ held for
    // dozens of checkpoints); refusing them would change the game the formulas describe.
    params.reorg_limit = 4_096;
    params
}

pub(crate) fn tip_strategy(scenario: &Scenario) -> TipStrategy {
    match scenario.workload.tip_selection {
        TipSelection::Uniform => TipStrategy::Uniform,
        TipSelection::WeightedWalk => TipStrategy::WeightedWalk { alpha: 0.5 },
    }
}

pub(crate) fn honest_capacities(scenario: &Scenario) -> Vec<u64> {
    vec![scenario.network.nonces_per_node; scenario.network.nodes as usize]
}

/// The honest network plus one extra node that does not mine (capacity 0) and runs the honest
/// policy, on a fixed base target: the attacker of the paired-run families (conflict spam, lazy
/// tips). It is present, and silent, in the baseline run too, so both runs of a seed share one
/// genesis and one mining lottery. Returns the spec and the attacker's node index.
pub(crate) fn spec_with_silent_attacker(scenario: &Scenario) -> (NetSpec, usize) {
    let mut capacities = honest_capacities(scenario);
    let attacker = capacities.len();
    capacities.push(0);
    let mut params = params(scenario);
    params.fixed_base_target = true;
    let spec = NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: vec![Policy::Honest; attacker + 1],
    };
    (spec, attacker)
}

/// Network of `nodes` honest miners plus one attacker of share `q` (last index), at fixed
/// difficulty so that checkpoint weight is constant and weight comparisons are height
/// comparisons, as in the race formulas.
pub(crate) fn attack_spec(
    scenario: &Scenario,
    q: f64,
    policy: Policy,
    deep_finality: bool,
) -> NetSpec {
    let mut capacities = honest_capacities(scenario);
    let honest_total: u64 = capacities.iter().sum();
    capacities.push(attacker_capacity(honest_total, q));
    let mut params = attack_params(scenario);
    if deep_finality {
        // The merchant's own wait `z` is the finality rule under test; the protocol's k must
        // not refuse or flag the reorganisation the race is about.
        params.finality_depth = 4_096;
        params.reorg_limit = 4_096;
    }
    let mut policies = vec![Policy::Honest; capacities.len()];
    if let Some(last) = policies.last_mut() {
        *last = policy;
    }
    NetSpec {
        capacities,
        params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    }
}
