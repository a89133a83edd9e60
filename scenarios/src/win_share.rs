//! Families #2 and #8 (identity splitting): a large miner's share of the checkpoints against
//! its share of the space, whole or spread over `split` identities of one owner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::crypto::AccountId;
use vein_reports::metrics::{Measurement, Reference, RunMetrics};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, share_and_split, whole};
use crate::chain_view::settled_chain;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::InvalidValue;
use crate::workload::{TxSource, drive};

/// The family's type in the registry.
pub struct WinShare;

impl Family for WinShare {
    const METRIC: &'static str = "win_share";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::Share];
    type Attacker = LargeMiner;

    fn story(_scenario: &Scenario) -> String {
        "Node 0 holds share s of the space (with attacker.split = m: nodes 0..m share it \
             evenly, one owner's identities), the others split the rest.\n\
             metric: win_share = checkpoints of node 0 on the settled chain / all (Wilson CI).\n\
             reference: s (the minimum of exponential deadlines falls to i with probability \
             r_i / sum r)."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        win_share::<E>(scenario, seed)
    }
}

/// #2: node 0 holds share `s` of the space; fraction of checkpoints it wins. #8: with
/// `attacker.split = m`, that space is spread evenly over nodes `0..m` (m identities of one
/// owner) and the fraction counts all of them; splitting must not change the share.
fn win_share<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let miner: LargeMiner = context.attacker()?;
    let s = miner.s;
    let split = miner.split.unwrap_or(1).max(1);
    let nodes = scenario.network.nodes;
    let total = scenario.network.nonces_per_node * nodes;
    let large = ((total as f64) * s / split as f64).round().max(1.0) as u64;
    let others = (total.saturating_sub(large * split) / (nodes - split).max(1)).max(1);
    let mut capacities = vec![others; nodes as usize];
    for capacity in capacities.iter_mut().take(split as usize) {
        *capacity = large;
    }
    // The exact share after rounding; differences are below 1e-6 with the default space.
    let share = (large * split) as f64 / capacities.iter().sum::<u64>() as f64;
    let spec = NetSpec {
        capacities,
        params: params(scenario),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: Vec::new(),
    };
    let mut engine: E = start(&context, &spec)?;
    let mut source = TxSource::new(seed, scenario.workload.tx_per_s, engine.node_count());
    drive(&mut engine, &mut source, scenario.run.duration_s * 1000);
    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k);
    if chain.is_empty() {
        return Err(context.too_short(0, 1));
    }
    let identities: Vec<AccountId> = (0..split as usize).map(|i| engine.account(i)).collect();
    let won = chain.iter().filter(|link| identities.contains(&link.author)).count() as u64;
    let expected = context.reference(reference::expected_win_share(share))?;
    let name = if miner.split.is_some() { "split_share" } else { "win_share" };
    let measurements = vec![Measurement::proportion(
        name,
        context.labels.clone(),
        won,
        chain.len() as u64,
        Some(Reference::new(expected, "s (share of space)", reference::CITATION_PROTOCOL)),
    )?];
    let violations = invariants(&engine, engine.node_count(), k);
    Ok(finish(&context, &engine, violations, measurements))
}

/// `[attacker] kind = "large-miner"`: an honest miner holding share `s` of the space (#2), or
/// split over identities (#8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargeMiner {
    /// Share of the space held by the large miner.
    pub s: f64,
    /// The space split evenly over this many identities (nodes): #8, identity splitting.
    /// Absent: one identity, and the measurement is `win_share` rather than `split_share`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<u64>,
}

impl AttackerKind for LargeMiner {
    const KIND: &'static str = "large-miner";
    const PARAMETERS: &'static [&'static str] = &["s", "split"];

    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        let split = self.split.unwrap_or(1);
        share_and_split(self.s, split)?;
        if network.nodes < split + 1 {
            return Err(InvalidValue::OutOfRange {
                field: "network.nodes",
                value: network.nodes.to_string(),
                expected: "at least attacker.split + 1 (the large miner's identities and one \
                           other miner)",
            });
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "s" => self.s = value,
            "split" => self.split = Some(whole(name, value)?),
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("s".into(), self.s);
        if let Some(split) = self.split {
            labels.insert("split".into(), split as f64);
        }
    }
}
