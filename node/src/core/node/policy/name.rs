//! Policies by name, as `vein-node run --policy NAME[:PARAMETER]` and the API spell them:
//! `honest`, `withhold`, `grind:VARIANTS`, `on-the-fly:NONCES_PER_S`, `extend-all-forks`,
//! `publish-refused`.

use super::Policy;

/// The names `--policy` accepts, with their parameter where they take one.
pub const POLICY_NAMES: &str = "honest, withhold, grind:VARIANTS (default 4), \
    on-the-fly:NONCES_PER_S, extend-all-forks, publish-refused";

/// Why a policy name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyNameError {
    /// No policy has this name.
    #[error("unknown policy {name:?}: the policies are {POLICY_NAMES}")]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The parameter is not a number in the policy's range.
    #[error("policy {policy}: parameter {parameter:?} is not {expected}")]
    Parameter {
        /// The policy's name.
        policy: &'static str,
        /// The parameter as given.
        parameter: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A policy without a parameter was given one.
    #[error("policy {policy} takes no parameter (given {parameter:?})")]
    Unexpected {
        /// The policy's name.
        policy: &'static str,
        /// The parameter as given.
        parameter: String,
    },
}

/// Versions per checkpoint `grind` forges when no parameter is given.
const GRIND_VARIANTS_DEFAULT: u8 = 4;

impl Policy {
    /// Parse `NAME[:PARAMETER]`.
    pub fn parse(text: &str) -> Result<Policy, PolicyNameError> {
        let (name, parameter) = match text.split_once(':') {
            Some((name, parameter)) => (name.trim(), Some(parameter.trim())),
            None => (text.trim(), None),
        };
        let no_parameter = |policy: Policy| match parameter {
            None => Ok(policy),
            Some(parameter) => Err(PolicyNameError::Unexpected {
                policy: policy.name(),
                parameter: parameter.to_string(),
            }),
        };
        match name {
            "honest" => no_parameter(Policy::Honest),
            "withhold" => no_parameter(Policy::Withhold),
            "extend-all-forks" => no_parameter(Policy::ExtendAllForks),
            "publish-refused" => no_parameter(Policy::PublishRefused),
            "grind" => {
                let variants = match parameter {
                    None => GRIND_VARIANTS_DEFAULT,
                    Some(text) => text.parse::<u8>().ok().filter(|v| *v >= 2).ok_or_else(|| {
                        PolicyNameError::Parameter {
                            policy: "grind",
                            parameter: text.to_string(),
                            expected: "a number of versions from 2 to 255",
                        }
                    })?,
                };
                Ok(Policy::Grind { variants })
            }
            "on-the-fly" => {
                let text = parameter.unwrap_or("");
                let nonces_per_s =
                    text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        PolicyNameError::Parameter {
                            policy: "on-the-fly",
                            parameter: text.to_string(),
                            expected: "a positive number of nonces per second",
                        }
                    })?;
                Ok(Policy::OnTheFly { nonces_per_s })
            }
            _ => Err(PolicyNameError::Unknown { name: text.to_string() }),
        }
    }

    /// The policy's name, without its parameter.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Honest => "honest",
            Policy::Withhold => "withhold",
            Policy::Grind { .. } => "grind",
            Policy::OnTheFly { .. } => "on-the-fly",
            Policy::ExtendAllForks => "extend-all-forks",
            Policy::PublishRefused => "publish-refused",
        }
    }

    /// Whether the policy only acts with model proofs, whose deadlines the node computes
    /// itself: with real plots it would be honest mining under another name (`grind` would
    /// publish its first version), so a real-plot node refuses it.
    pub fn needs_model_proofs(&self) -> bool {
        matches!(self, Policy::Grind { .. } | Policy::OnTheFly { .. } | Policy::ExtendAllForks)
    }
}

impl std::fmt::Display for Policy {
    /// `NAME[:PARAMETER]`, which [`Policy::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Policy::Grind { variants } => write!(f, "grind:{variants}"),
            Policy::OnTheFly { nonces_per_s } => write!(f, "on-the-fly:{nonces_per_s}"),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_reads_back_its_own_name() {
        for policy in [
            Policy::Honest,
            Policy::Withhold,
            Policy::Grind { variants: 3 },
            Policy::OnTheFly { nonces_per_s: 50 },
            Policy::ExtendAllForks,
            Policy::PublishRefused,
        ] {
            assert_eq!(Policy::parse(&policy.to_string()), Ok(policy));
        }
        assert_eq!(Policy::parse("grind"), Ok(Policy::Grind { variants: 4 }));
    }

    #[test]
    fn bad_names_and_parameters_are_typed_errors() {
        assert!(matches!(Policy::parse("selfish"), Err(PolicyNameError::Unknown { .. })));
        assert!(matches!(Policy::parse("grind:1"), Err(PolicyNameError::Parameter { .. })));
        assert!(matches!(Policy::parse("on-the-fly"), Err(PolicyNameError::Parameter { .. })));
        assert!(matches!(Policy::parse("withhold:2"), Err(PolicyNameError::Unexpected { .. })));
    }
}
