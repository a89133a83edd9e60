//! ModelPlots: the best deadline of `N` nonces drawn from a keyed PRF instead of read from disk.
//!
//! With `N` honest nonces the hits are `N` independent uniform draws on `[0, 2^64)`; their
//! minimum `M` satisfies `P(M > x) = (1 − x/2^64)^N → exp(−N·x/2^64)`, an exponential with mean
//! `2^64/N`. So `M = −ln(U)·2^64/N` for `U` uniform on `(0, 1]`, and the deadline is
//! `M / base_target` seconds. `U` comes from `H(b"vein-model" || author || g || height_le)`, so
//! it is unpredictable before the challenge, fixed after it, and anyone can recompute it: the
//! proof is just the capacity, checked against genesis. Because the PRF is keyed by the
//! generation signature, the model keeps the real back-end's grinding and double-dipping
//! properties (one draw per challenge, the same on every fork).
//!
//! Floating point: `ln` comes from the platform's libm. All nodes of one simulation run one
//! binary, so this is deterministic where model networks exist; a real network never accepts
//! model proofs.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::challenge::Challenge;

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// `U = (PRF + 1) / 2^64`, in `(0, 1]`.
pub fn model_uniform(author: &AccountId, challenge: &Challenge) -> f64 {
    let draw = Hash::of_parts(&[
        b"vein-model",
        author.as_bytes(),
        challenge.generation_signature.as_bytes(),
        &challenge.height.to_le_bytes(),
    ])
    .first_u64_le();
    let uniform = (draw as f64 + 1.0) / TWO_POW_64;
    debug_assert!(uniform > 0.0 && uniform <= 1.0);
    uniform
}

/// The model deadline in ms: `−ln(U)·2^64/(N·base_target)·1000`, rounded, saturating.
/// `N = 0` (no space) or `base_target = 0` never wins: `u64::MAX`.
pub fn model_deadline_ms(author: &AccountId, capacity_nonces: u64, challenge: &Challenge) -> u64 {
    if capacity_nonces == 0 || challenge.base_target == 0 {
        return u64::MAX;
    }
    let uniform = model_uniform(author, challenge);
    let denominator = capacity_nonces as f64 * challenge.base_target as f64;
    let deadline = -uniform.ln() * TWO_POW_64 / denominator * 1000.0;
    // `as` saturates for f64 -> u64 (and maps NaN to 0, which cannot occur: U is in (0, 1]).
    deadline.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    #[test]
    fn mean_deadline_matches_capacity() {
        // Mean of the exponential is 2^64/(N·bt) s; with bt = 2^64/(N·10) it is 10 s.
        let author = Keypair::derived("model", 1).account();
        let nonces = 1000u64;
        let base_target = (TWO_POW_64 / (nonces as f64 * 10.0)) as u64;
        let rounds = 4000u64;
        let total: u64 = (0..rounds)
            .map(|height| {
                let challenge = Challenge {
                    height,
                    generation_signature: Hash::of(&height.to_be_bytes()),
                    base_target,
                };
                model_deadline_ms(&author, nonces, &challenge)
            })
            .sum();
        let mean_ms = total as f64 / rounds as f64;
        // Standard error of the mean = 10 s / sqrt(4000) ≈ 158 ms; allow 5 sigma.
        assert!((mean_ms - 10_000.0).abs() < 800.0, "mean {mean_ms} ms");
    }

    #[test]
    fn deterministic_and_keyed_by_author() {
        let alice = Keypair::derived("model", 1).account();
        let bob = Keypair::derived("model", 2).account();
        let challenge =
            Challenge { height: 3, generation_signature: Hash::of(b"g"), base_target: 1 << 50 };
        assert_eq!(
            model_deadline_ms(&alice, 5, &challenge),
            model_deadline_ms(&alice, 5, &challenge)
        );
        assert_ne!(
            model_deadline_ms(&alice, 5, &challenge),
            model_deadline_ms(&bob, 5, &challenge)
        );
        assert_eq!(model_deadline_ms(&alice, 0, &challenge), u64::MAX);
    }
}
