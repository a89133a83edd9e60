//! On-the-fly plotting (PROTOCOL.md §7 #7, "fake space"): a miner that stores no plot and
//! computes nonces only once the challenge is known, at `rate` nonces per second.
//!
//! Model: nonce `k` of the miner's account is finished `(k + 1) / rate` seconds after the
//! miner learned the challenge, and its deadline is its own uniform hit divided by the base
//! target, exactly as for a stored nonce (a verifier cannot tell the two apart: on a real network
//! the proof is the same scoop). The miner can publish nonce `k`'s checkpoint at
//! `max(start + (k + 1)/rate, prev_timestamp + deadline_k)`: not before it has the proof, not
//! before its deadline. It searches for the nonce with the earliest such time; nonces finished
//! after the best time found so far can never beat it, which bounds the search.
//!
//! On a model network the per-nonce hit is a keyed PRF of `(author, g, height, nonce)`
//! ([`model_nonce_hit`]), and the proof is [`crate::core::poc::PocProof::ModelNonce`], which the
//! verifier checks by recomputing that one hit: the per-nonce counterpart of `ModelPlots`, whose
//! single draw is the minimum over all of a capacity's nonces and so cannot say *when* during
//! the round the best nonce would have been computed.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::challenge::{Challenge, deadline_ms};

/// The hit of nonce `nonce_index` of `author` for `challenge` on a model network: uniform on
/// u64, independent across nonces, fixed once the challenge is known.
pub fn model_nonce_hit(author: &AccountId, challenge: &Challenge, nonce_index: u64) -> u64 {
    Hash::of_parts(&[
        b"vein-model-nonce",
        author.as_bytes(),
        challenge.generation_signature.as_bytes(),
        &challenge.height.to_le_bytes(),
        &nonce_index.to_le_bytes(),
    ])
    .first_u64_le()
}

/// The deadline (ms) of one model nonce.
pub fn model_nonce_deadline_ms(author: &AccountId, challenge: &Challenge, nonce_index: u64) -> u64 {
    deadline_ms(model_nonce_hit(author, challenge, nonce_index), challenge.base_target)
}

/// The best nonce found so far: when its checkpoint can be published, and its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlyCandidate {
    /// The nonce of the author's account.
    pub nonce_index: u64,
    /// Its deadline, in ms after the predecessor's timestamp.
    pub deadline_ms: u64,
    /// Earliest local time (ms) its checkpoint can be published: when the nonce is finished
    /// or when its deadline has elapsed, whichever is later.
    pub publish_ms: u64,
}

/// One round's search by an on-the-fly plotter. Deterministic: driven by the node's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnTheFlySearch {
    /// The miner's account, whose nonces are computed.
    pub author: AccountId,
    /// The round's challenge.
    pub challenge: Challenge,
    /// The predecessor's timestamp (ms): deadlines count from here.
    pub prev_timestamp_ms: u64,
    /// When the miner learned the challenge and started computing.
    pub start_ms: u64,
    /// The computing rate, in nonces per second (0: never finishes one).
    pub nonces_per_s: u64,
    /// Nonces computed so far (`0..next_nonce`).
    pub next_nonce: u64,
    /// The candidate with the earliest publish time so far (`None` before the first nonce).
    pub best: Option<FlyCandidate>,
}

impl OnTheFlySearch {
    /// A search with no nonce computed yet, started at `start_ms`.
    pub fn new(
        author: AccountId,
        challenge: Challenge,
        prev_timestamp_ms: u64,
        start_ms: u64,
        nonces_per_s: u64,
    ) -> OnTheFlySearch {
        OnTheFlySearch {
            author,
            challenge,
            prev_timestamp_ms,
            start_ms,
            nonces_per_s,
            next_nonce: 0,
            best: None,
        }
    }

    /// When nonce `k` is finished: `start + ceil((k + 1) · 1000 / rate)` ms.
    pub fn finished_ms(&self, nonce_index: u64) -> u64 {
        if self.nonces_per_s == 0 {
            return u64::MAX;
        }
        let elapsed = (u128::from(nonce_index) + 1) * 1000;
        let elapsed = elapsed.div_ceil(u128::from(self.nonces_per_s));
        self.start_ms.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    /// Whether the search is over: the best candidate is publishable no later than the next
    /// nonce would be finished, so no further nonce can beat it.
    pub fn settled(&self) -> bool {
        self.best.is_some_and(|best| best.publish_ms <= self.finished_ms(self.next_nonce))
    }

    /// Computes every nonce finished by `until_ms` (stopping early once settled). Returns the
    /// time the next nonce will be finished (when to call again), or `None` once settled or
    /// when the rate is zero.
    pub fn advance(&mut self, until_ms: u64) -> Option<u64> {
        if self.nonces_per_s == 0 {
            return None;
        }
        loop {
            if self.settled() {
                return None;
            }
            let finished = self.finished_ms(self.next_nonce);
            if finished > until_ms {
                return Some(finished);
            }
            let deadline = model_nonce_deadline_ms(&self.author, &self.challenge, self.next_nonce);
            let publish_ms = finished.max(self.prev_timestamp_ms.saturating_add(deadline));
            if self.best.is_none_or(|best| publish_ms < best.publish_ms) {
                self.best = Some(FlyCandidate {
                    nonce_index: self.next_nonce,
                    deadline_ms: deadline,
                    publish_ms,
                });
            }
            self.next_nonce += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    fn challenge(height: u64, base_target: u64) -> Challenge {
        Challenge { height, generation_signature: Hash::of(&height.to_le_bytes()), base_target }
    }

    #[test]
    fn finished_times_follow_the_rate() {
        let author = Keypair::derived("fly", 1).account();
        let search = OnTheFlySearch::new(author, challenge(1, 1), 0, 100, 1000);
        assert_eq!(search.finished_ms(0), 101);
        assert_eq!(search.finished_ms(999), 1100);
        let stalled = OnTheFlySearch::new(author, challenge(1, 1), 0, 100, 0);
        assert_eq!(stalled.finished_ms(0), u64::MAX);
    }

    #[test]
    fn the_search_finds_the_earliest_publishable_nonce() {
        let author = Keypair::derived("fly", 2).account();
        // Base target so that one nonce's deadline is uniform on [0, 1000 s].
        let base_target = u64::MAX / 1000;
        let challenge = challenge(7, base_target);
        let mut search = OnTheFlySearch::new(author, challenge, 0, 0, 200);
        let mut until = 0;
        while let Some(next) = search.advance(until) {
            until = next + 50;
            assert!(until < 10_000_000, "never settles");
        }
        let best = search.best.expect("a candidate");
        // Brute force over every nonce computed: nobody publishes earlier.
        for k in 0..search.next_nonce {
            let publish =
                search.finished_ms(k).max(model_nonce_deadline_ms(&author, &search.challenge, k));
            assert!(publish >= best.publish_ms, "nonce {k} publishes at {publish}");
        }
        assert_eq!(
            best.deadline_ms,
            model_nonce_deadline_ms(&author, &search.challenge, best.nonce_index)
        );
        assert!(best.publish_ms >= best.deadline_ms);
    }

    #[test]
    fn publish_time_has_the_rayleigh_law() {
        // P(X > x) = exp(−R·ρ·x²) for ρ = bt/2^64 per second: with R = 100/s and one nonce
        // uniform on [0, 100 s] (ρ = 0.01/s), E[X] = sqrt(π/(4Rρ)) = 0.886 s.
        let author = Keypair::derived("fly", 3).account();
        let base_target = u64::MAX / 100;
        let rounds = 2000u64;
        let mut total = 0u64;
        for height in 0..rounds {
            let mut search = OnTheFlySearch::new(author, challenge(height, base_target), 0, 0, 100);
            let mut until = 0;
            while let Some(next) = search.advance(until) {
                until = next + 100;
            }
            total += search.best.expect("candidate").publish_ms;
        }
        let mean_ms = total as f64 / rounds as f64;
        // sd of X ≈ 0.46 s, so the mean of 2000 has sd ≈ 10 ms; allow 5 sd (plus the discrete
        // 10 ms nonce step, which delays X by about half a step).
        assert!((mean_ms - 886.0).abs() < 60.0, "mean {mean_ms} ms");
    }
}
