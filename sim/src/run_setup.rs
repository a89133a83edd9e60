//! What a run starts from, drawn from its seed alone: the genesis (every node's account and
//! plot capacity, the funded accounts, the initial base target) and the peer graph.

use crate::config::{SimConfig, stream};
use std::collections::BTreeSet;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::params::Genesis;
use vein_node::core::poc::PocMode;
use vein_node::core::poc::retarget::initial_base_target;

/// The native balance of every funded node's account at genesis.
const BALANCE: u64 = 1_000_000_000_000;

/// Symmetric random peer lists: each node picks `k` others (everyone in small networks).
pub fn peer_graph(seed: u64, nodes: usize, k: usize) -> Vec<Vec<usize>> {
    let mut sets = vec![BTreeSet::new(); nodes];
    if nodes <= 2 * k + 1 {
        for (index, set) in sets.iter_mut().enumerate() {
            set.extend((0..nodes).filter(|other| *other != index));
        }
    } else {
        let mut rng = stream(seed, "peers", 0);
        for index in 0..nodes {
            let mut picked = 0;
            // Others' symmetric links may already have taken every candidate (in networks a
            // little over 2k + 1 nodes); without the second bound the draw never ends.
            while picked < k && sets[index].len() < nodes - 1 {
                let other = rng.index(nodes);
                if other != index && sets[index].insert(other) {
                    sets[other].insert(index);
                    picked += 1;
                }
            }
        }
    }
    sets.into_iter().map(|set| set.into_iter().collect()).collect()
}

/// The model-space genesis of a run; `extra` funds more accounts (the EVM wallets).
pub(crate) fn genesis(
    config: &SimConfig,
    keys: &[Keypair],
    extra: Vec<(AccountId, u64)>,
) -> (Genesis, Vec<u64>) {
    let mut rng = stream(config.seed, "capacities", 0);
    let capacities: Vec<u64> = (0..keys.len())
        .map(|index| if index < config.miners { 500 + rng.below(1_000) } else { 0 })
        .collect();
    let total: u64 = capacities.iter().sum();
    let params = config.params();
    let genesis = Genesis {
        chain_id: format!("vein-sim-{}", config.seed),
        timestamp_ms: 0,
        allocations: keys
            .iter()
            .take(config.funded)
            .map(|key| (key.account(), BALANCE))
            .chain(extra)
            .collect(),
        initial_base_target: initial_base_target(total.max(1), params.target_interval_ms),
        poc: PocMode::Model {
            capacities: keys
                .iter()
                .zip(&capacities)
                .filter(|(_, nonces)| **nonces > 0)
                .map(|(key, nonces)| (key.account(), *nonces))
                .collect(),
        },
        params,
    };
    (genesis, capacities)
}
