//! `vein-testnet up --attacker NODE=POLICY`: which nodes of a testnet run an attacker policy of
//! the core (`vein-node run --policy`), and how much space they plot. A testnet mines with real
//! plots, so only the policies that act on real plots are accepted here: `withhold` (selfish
//! mining, released by the core's Eyal-Sirer rule) and `honest`; `publish-refused` needs a plot
//! of another account, which `up` does not write, and `grind`, `on-the-fly` and
//! `extend-all-forks` need model proofs.

use std::str::FromStr;

use vein_node::core::node::{Policy, PolicyNameError};

/// One `--attacker NODE=POLICY` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttackerSpec {
    /// The node's index.
    pub node: usize,
    /// Its policy.
    pub policy: Policy,
}

/// Why an `--attacker` argument was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttackerSpecError {
    /// Not `NODE=POLICY`.
    #[error("--attacker {text:?}: expected NODE=POLICY, e.g. 3=withhold")]
    Syntax {
        /// The argument as given.
        text: String,
    },
    /// The node is not a number.
    #[error("--attacker {text:?}: the node {node:?} is not an index")]
    Node {
        /// The argument as given.
        text: String,
        /// The node part.
        node: String,
    },
    /// The policy has no such name or a bad parameter.
    #[error("--attacker {text:?}: {source}")]
    Policy {
        /// The argument as given.
        text: String,
        /// The policy's own error.
        source: PolicyNameError,
    },
    /// The policy does nothing meaningful on a testnet's real plots.
    #[error(
        "--attacker {text:?}: policy {policy} does not act on a testnet's real plots (it needs \
         model proofs, or plots of another account); use withhold"
    )]
    NotOnRealPlots {
        /// The argument as given.
        text: String,
        /// The policy.
        policy: Policy,
    },
}

impl FromStr for AttackerSpec {
    type Err = AttackerSpecError;

    fn from_str(text: &str) -> Result<AttackerSpec, AttackerSpecError> {
        let (node, policy) =
            text.split_once('=').ok_or(AttackerSpecError::Syntax { text: text.to_string() })?;
        let node = node.trim().parse::<usize>().map_err(|_| AttackerSpecError::Node {
            text: text.to_string(),
            node: node.to_string(),
        })?;
        let policy = Policy::parse(policy)
            .map_err(|source| AttackerSpecError::Policy { text: text.to_string(), source })?;
        if policy.needs_model_proofs() || policy == Policy::PublishRefused {
            return Err(AttackerSpecError::NotOnRealPlots { text: text.to_string(), policy });
        }
        Ok(AttackerSpec { node, policy })
    }
}

/// The policy `attackers` give node `index` (honest when none names it; the last one wins).
pub fn policy_of(attackers: &[AttackerSpec], index: usize) -> Policy {
    attackers.iter().rev().find(|spec| spec.node == index).map_or(Policy::Honest, |s| s.policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attackers_parse_and_refuse_what_real_plots_cannot_run() {
        let spec: AttackerSpec = "3=withhold".parse().unwrap();
        assert_eq!(spec, AttackerSpec { node: 3, policy: Policy::Withhold });
        assert_eq!(policy_of(&[spec], 3), Policy::Withhold);
        assert_eq!(policy_of(&[spec], 0), Policy::Honest);
        let refused = |text: &str| text.parse::<AttackerSpec>().unwrap_err();
        assert!(matches!(refused("withhold"), AttackerSpecError::Syntax { .. }));
        assert!(matches!(refused("x=withhold"), AttackerSpecError::Node { .. }));
        assert!(matches!(refused("1=selfish"), AttackerSpecError::Policy { .. }));
        assert!(matches!(refused("1=grind:3"), AttackerSpecError::NotOnRealPlots { .. }));
        assert!(matches!(refused("1=publish-refused"), AttackerSpecError::NotOnRealPlots { .. }));
    }
}
