//! Which scenario families `vein-testnet scenario` runs on real processes, and how a family's
//! network maps onto a testnet.
//!
//! Model: a testnet mines with real plots, and its attackers are whole `vein-node run --policy`
//! processes that decide alone; the scenario cannot steer them between steps as the LocalNet and
//! madsim engines let a family do. So a family runs here only when a node policy plays its
//! attacker by itself. Today that is selfish mining: `--policy withhold` keeps its checkpoints
//! private and releases them by the core's Eyal–Sirer rule (`SelfishRelease`), the rule the
//! `selfish_revenue` family applies on the other engines. Every other family is refused before
//! anything starts, with a typed error naming the family and what the testnet lacks for it.

use vein_node::core::node::Policy;
use vein_scenarios::families;
use vein_scenarios::scenario::Scenario;
use vein_scenarios::selfish::Withhold;

use crate::attacker::AttackerSpec;

/// A scenario family this testnet cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scenario family \"{family}\" (metric {metric}) cannot run on real processes: {reason}")]
pub struct UnsupportedOnTestnet {
    /// The family's attacker kind, as scenario files name it.
    pub family: &'static str,
    /// The metric the scenario asked for, which selected the family.
    pub metric: &'static str,
    /// What the testnet lacks for it.
    pub reason: &'static str,
}

/// A family the testnet runs, with its attacker's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestnetFamily {
    /// `selfish_revenue`: one `--policy withhold` node with share `q` beside the honest nodes.
    Selfish {
        /// The attacker's share of the space, as the scenario asks.
        q: f64,
    },
}

/// Why the testnet cannot play the attacker of `metric`'s family.
fn reason(metric: &str) -> &'static str {
    match metric {
        "double_spend_success" => {
            "the private race forks from before the attacker's own payment and releases when \
             strictly heavier after the merchant's z confirmations; no vein-node policy plays \
             it (withhold releases by the selfish rule), and a scenario cannot steer a real \
             process between steps"
        }
        "grind_share" | "fork_growth" | "fake_space_share" => {
            "its attacker policy (grind, extend-all-forks, on-the-fly) answers challenges from \
             model proofs, and a testnet mines real plots"
        }
        "plot_sharing" => {
            "a second identity proving from another account's plot (publish-refused) needs a \
             plot of another account, which `vein-testnet up` does not write"
        }
        "win_share" | "checkpoint_interval" => {
            "it needs unequal honest plots (node 0 with share s) or a transfer workload, which \
             `vein-testnet up` does not lay out yet"
        }
        _ => {
            "no vein-node policy plays this family's attacker on real processes yet; run it \
             with vein-scenarios (LocalNet) or vein-sim scenario (madsim)"
        }
    }
}

impl TestnetFamily {
    /// The family `scenario`'s metric selects, if the testnet can run it.
    pub fn of(scenario: &Scenario) -> Result<TestnetFamily, UnsupportedOnTestnet> {
        let (_, family) = families::find(&scenario.metric.name).map_err(|_| {
            // A loaded scenario always names a registered metric; say so if one does not.
            UnsupportedOnTestnet {
                family: "unknown",
                metric: "unknown",
                reason: "its metric selects no registered family",
            }
        })?;
        let unsupported = || UnsupportedOnTestnet {
            family: family.attacker_kind,
            metric: family.metric,
            reason: reason(family.metric),
        };
        match family.metric {
            "selfish_revenue" => {
                let withhold: Withhold = scenario.attacker.read().map_err(|_| unsupported())?;
                Ok(TestnetFamily::Selfish { q: withhold.q })
            }
            _ => Err(unsupported()),
        }
    }

    /// The attacker's node (the last, after the honest ones) and its policy.
    pub fn attacker(&self, honest: usize) -> AttackerSpec {
        match self {
            TestnetFamily::Selfish { .. } => {
                AttackerSpec { node: honest, policy: Policy::Withhold }
            }
        }
    }

    /// Nonces of the attacker's plot for share `q` beside `honest` nodes of `nonces` each:
    /// `q / (1 − q)` of the honest space, rounded to the nearest nonce (at least one).
    pub fn attacker_nonces(&self, honest: usize, nonces: u64) -> u64 {
        let TestnetFamily::Selfish { q } = *self;
        let honest_total = honest as f64 * nonces as f64;
        ((q / (1.0 - q)) * honest_total).round().max(1.0) as u64
    }
}

/// The attacker's share of the space a testnet's plots actually give it.
pub fn real_share(attacker_nonces: u64, honest: usize, nonces: u64) -> f64 {
    let honest_total = honest as f64 * nonces as f64;
    attacker_nonces as f64 / (attacker_nonces as f64 + honest_total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    fn load(file: &str) -> Scenario {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(file);
        Scenario::load(&path).unwrap()
    }

    #[test]
    fn selfish_runs_and_every_other_family_is_refused_by_name() {
        let selfish = TestnetFamily::of(&load("selfish.toml")).unwrap();
        assert_eq!(selfish, TestnetFamily::Selfish { q: 0.4 });
        assert_eq!(selfish.attacker(4), AttackerSpec { node: 4, policy: Policy::Withhold });
        // 0.4 / 0.6 of 4 × 64 = 170.67 nonces: the share is 0.4 within a nonce.
        assert_eq!(selfish.attacker_nonces(4, 64), 171);
        assert!((real_share(171, 4, 64) - 0.4).abs() < 1e-3);
        let refused = TestnetFamily::of(&load("double-spend.toml")).unwrap_err();
        assert_eq!((refused.family, refused.metric), ("private-race", "double_spend_success"));
        let message = refused.to_string();
        assert!(message.contains("\"private-race\"") && message.contains("merchant"), "{message}");
        let grinding = TestnetFamily::of(&load("grinding.toml")).unwrap_err();
        assert!(grinding.reason.contains("model proofs"), "{grinding}");
        let storage = TestnetFamily::of(&load("storage-cheating.toml")).unwrap_err();
        assert!(storage.reason.contains("LocalNet"), "{storage}");
    }
}
