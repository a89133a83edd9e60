//! What a light client must know about another vein chain to check its checkpoints without its
//! state: the genesis facts the first checkpoint builds on, the rules `validate_header` and the
//! retarget need, the chain's finality depth, and how often it anchors (`a`).
//!
//! The genesis id cannot be recomputed from these facts (it also hashes the allocations and the
//! chain name); the consortium that registers the chain vouches for it, and a wrong id only
//! makes every anchor of that registration fail. What can be derived is derived: the first
//! generation signature comes from the id (`genesis_generation_signature`) and the genesis
//! author is the default account, exactly as `Chain::new` builds the genesis header.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::params::{Genesis, Params, genesis_generation_signature};
use crate::core::poc::PocMode;
use crate::core::wire::WireError;
use serde::{Deserialize, Serialize};

/// Largest anchor interval: a segment of `a` headers is verified in one transaction, and with
/// real plots each header costs a nonce regeneration (~12 ms), so `a` bounds that work.
pub const ANCHOR_INTERVAL_MAX: u64 = 128;
/// Largest finality depth a followed chain may declare: the light client keeps every header
/// above its final one, so `k` bounds that memory.
pub const FINALITY_DEPTH_MAX: u64 = 1_024;
/// Most modelled capacities a spec may register (a registration is one transaction).
pub const MODEL_CAPACITIES_MAX: usize = 4_096;

/// A followed chain: another vein network a light client verifies (docs/sidechains.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowedChain {
    /// `Genesis::id` of the followed chain: the id of its height-0 header.
    pub genesis_id: Hash,
    /// `Genesis::timestamp_ms`: the first deadline counts from here.
    pub genesis_timestamp_ms: u64,
    /// `Genesis::initial_base_target`: the first checkpoint's base target (positive).
    pub initial_base_target: u64,
    /// `Params::target_interval_ms` (positive): the retarget aims at it.
    pub target_interval_ms: u64,
    /// `Params::fixed_base_target`: keep the genesis base target forever.
    pub fixed_base_target: bool,
    /// `Params::challenge_refresh` `c` (positive): how often the generation signature changes.
    pub challenge_refresh: u64,
    /// `Params::checkpoint_parents_max` (positive).
    pub parents_max: u32,
    /// `Params::finality_depth` `k` (1..=1,024): a header that deep on the best anchored branch
    /// is final for the light client.
    pub finality_depth: u64,
    /// `Params::future_drift_ms`: how far a header may be ahead of the light client's "now".
    pub future_drift_ms: u64,
    /// `Genesis::poc`: real plots (checked by regenerating the nonce) or modelled capacities.
    pub poc: PocMode,
    /// The anchor interval `a` (1..=128): every anchor ends at a height that is a multiple of it.
    pub anchor_interval: u64,
}

/// Why a followed-chain spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// `initial_base_target` is 0 (deadlines would divide by zero).
    #[error("initial base target must be positive")]
    ZeroBaseTarget,
    /// `target_interval_ms` is 0 while the base target retargets.
    #[error("target interval must be positive")]
    ZeroInterval,
    /// `challenge_refresh` is 0.
    #[error("challenge refresh must be positive")]
    ZeroChallengeRefresh,
    /// `parents_max` is 0: no checkpoint could be valid.
    #[error("parents max must be positive")]
    ZeroParentsMax,
    /// `finality_depth` is 0 or above [`FINALITY_DEPTH_MAX`].
    #[error("finality depth {finality_depth} outside 1..={max}")]
    FinalityDepth {
        /// The declared depth.
        finality_depth: u64,
        /// [`FINALITY_DEPTH_MAX`].
        max: u64,
    },
    /// `anchor_interval` is 0 or above [`ANCHOR_INTERVAL_MAX`].
    #[error("anchor interval {anchor_interval} outside 1..={max}")]
    AnchorInterval {
        /// The declared interval.
        anchor_interval: u64,
        /// [`ANCHOR_INTERVAL_MAX`].
        max: u64,
    },
    /// A modelled-capacity chain with no capacity (nobody could forge) or too many entries.
    #[error("{count} modelled capacities, expected 1..={max}")]
    ModelCapacities {
        /// Capacities registered.
        count: usize,
        /// [`MODEL_CAPACITIES_MAX`].
        max: usize,
    },
}

impl FollowedChain {
    /// The spec of the chain `genesis` starts, anchored every `anchor_interval` checkpoints.
    pub fn from_genesis(
        genesis: &Genesis,
        anchor_interval: u64,
    ) -> Result<FollowedChain, WireError> {
        let params = &genesis.params;
        Ok(FollowedChain {
            genesis_id: genesis.id()?,
            genesis_timestamp_ms: genesis.timestamp_ms,
            initial_base_target: genesis.initial_base_target,
            target_interval_ms: params.target_interval_ms,
            fixed_base_target: params.fixed_base_target,
            challenge_refresh: params.challenge_refresh,
            parents_max: u32::try_from(params.checkpoint_parents_max).unwrap_or(u32::MAX),
            finality_depth: params.finality_depth,
            future_drift_ms: params.future_drift_ms,
            poc: genesis.poc.clone(),
            anchor_interval,
        })
    }

    /// Check the rules a light client needs before it can follow the chain.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.initial_base_target == 0 {
            return Err(SpecError::ZeroBaseTarget);
        }
        if self.target_interval_ms == 0 && !self.fixed_base_target {
            return Err(SpecError::ZeroInterval);
        }
        if self.challenge_refresh == 0 {
            return Err(SpecError::ZeroChallengeRefresh);
        }
        if self.parents_max == 0 {
            return Err(SpecError::ZeroParentsMax);
        }
        if !(1..=FINALITY_DEPTH_MAX).contains(&self.finality_depth) {
            return Err(SpecError::FinalityDepth {
                finality_depth: self.finality_depth,
                max: FINALITY_DEPTH_MAX,
            });
        }
        if !(1..=ANCHOR_INTERVAL_MAX).contains(&self.anchor_interval) {
            return Err(SpecError::AnchorInterval {
                anchor_interval: self.anchor_interval,
                max: ANCHOR_INTERVAL_MAX,
            });
        }
        if let PocMode::Model { capacities } = &self.poc
            && !(1..=MODEL_CAPACITIES_MAX).contains(&capacities.len())
        {
            return Err(SpecError::ModelCapacities {
                count: capacities.len(),
                max: MODEL_CAPACITIES_MAX,
            });
        }
        Ok(())
    }

    /// The height-0 generation signature, derived from the genesis id as the chain does.
    pub fn genesis_generation_signature(&self) -> Hash {
        genesis_generation_signature(&self.genesis_id)
    }

    /// The genesis header's author: the default account (`Chain::new`).
    pub fn genesis_author(&self) -> AccountId {
        AccountId::default()
    }

    /// The followed chain's rules as `Params`, for the shared retarget (`retarget_over`): only
    /// `fixed_base_target` and `target_interval_ms` are read there.
    pub fn retarget_params(&self) -> Params {
        Params {
            target_interval_ms: self.target_interval_ms,
            fixed_base_target: self.fixed_base_target,
            ..Params::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localnet::model_genesis;

    #[test]
    fn a_spec_from_a_genesis_validates_and_each_bad_rule_has_its_error() {
        let (genesis, _) = model_genesis("spec", &[8, 8], 1_000, Params::default());
        let spec = FollowedChain::from_genesis(&genesis, 4).unwrap();
        assert_eq!(spec.validate(), Ok(()));
        assert_eq!(spec.genesis_generation_signature(), genesis.generation_signature().unwrap());
        let refused = |change: fn(&mut FollowedChain)| {
            let mut bad = spec.clone();
            change(&mut bad);
            bad.validate().unwrap_err()
        };
        assert_eq!(refused(|s| s.initial_base_target = 0), SpecError::ZeroBaseTarget);
        assert_eq!(refused(|s| s.target_interval_ms = 0), SpecError::ZeroInterval);
        assert_eq!(refused(|s| s.challenge_refresh = 0), SpecError::ZeroChallengeRefresh);
        assert_eq!(refused(|s| s.parents_max = 0), SpecError::ZeroParentsMax);
        assert!(matches!(refused(|s| s.finality_depth = 0), SpecError::FinalityDepth { .. }));
        assert!(matches!(refused(|s| s.anchor_interval = 0), SpecError::AnchorInterval { .. }));
        assert!(matches!(
            refused(|s| s.anchor_interval = ANCHOR_INTERVAL_MAX + 1),
            SpecError::AnchorInterval { .. }
        ));
        assert!(matches!(
            refused(|s| s.poc = PocMode::Model { capacities: Default::default() }),
            SpecError::ModelCapacities { count: 0, .. }
        ));
    }
}
