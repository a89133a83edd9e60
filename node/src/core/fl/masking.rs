//! Secure aggregation by pairwise masks (Bonawitz et al., 2017, the "one-time pad" core of
//! their protocol). Participants i < j agree a seed sᵢⱼ by X25519 (their mask public keys are
//! published when they join the task) and expand it with a seeded ChaCha8 stream into one 64-bit
//! word per coordinate. Participant i sends
//!
//!   yᵢ = nᵢ·uᵢ + Σ_{j>i} m(sᵢⱼ) − Σ_{j<i} m(sⱼᵢ)   (mod 2^64)
//!
//! Every mask appears once with + and once with −, so Σ yᵢ = Σ nᵢ·uᵢ exactly, and FedAvg is
//! that sum divided by Σ nᵢ: bit for bit the unmasked `aggregate(FedAvg)`. A single yᵢ is
//! uniformly random to anyone missing one of i's pairwise seeds. Only sums are revealed, so
//! median, trimmed mean and Krum cannot run under masking.
//!
//! Drop-outs: if d sent no yᵈ, the survivors' masks with d do not cancel. Each survivor i then
//! reveals sᵢd on chain, and every participant removes those masks (`recovery`, which holds
//! the chain's rule and the threat model). **Simplification and its cost**: Bonawitz
//! et al. add a self-mask bᵢ and Shamir-share both bᵢ and the key, so that a dropped
//! participant's seeds are only reconstructed with t-of-n help and a late-arriving yᵈ stays
//! masked by bᵈ. Here seeds are revealed outright: if d's yᵈ was only delayed, not lost, anyone
//! holding it and all revealed sᵢd recovers d's individual update. The round must therefore
//! refuse d's masked update once recovery has started (the chain does: an aggregate commit
//! closes a round's updates), and a participant that drops must not send later.
//!
//! Range: the true sum must fit in i64 for the mod-2^64 sum to equal it; `weigh` bounds each
//! nᵢ·uᵢ by i64::MAX / PARTICIPANTS_MAX, so any permitted number of them fits.

use super::aggregate::divide;
use super::error::FlError;
use super::fixed::Fixed;
use super::task::PARTICIPANTS_MAX;
use crate::core::hash::Hash;
use crate::core::random::DetRng;
use x25519_dalek::{PublicKey, StaticSecret};

const PAIRWISE_CONTEXT: &str = "vein fl v1 pairwise mask seed";
const SECRET_CONTEXT: &str = "vein fl v1 mask secret";

/// Largest |nᵢ·uᵢ| one participant may contribute under masking.
pub const WEIGHTED_MAX: i64 = i64::MAX / PARTICIPANTS_MAX as i64;

/// A participant's X25519 mask secret for one task (derived, so a node keeps no extra file).
pub struct MaskSecret(StaticSecret);

impl MaskSecret {
    /// The secret for `task`, derived from the node's signing seed with BLAKE3 `derive_key`.
    pub fn derive(node_seed: &[u8; 32], task: &Hash) -> MaskSecret {
        let mut material = node_seed.to_vec();
        material.extend_from_slice(task.as_bytes());
        MaskSecret(StaticSecret::from(blake3::derive_key(SECRET_CONTEXT, &material)))
    }

    /// Published in the join transaction.
    pub fn public(&self) -> [u8; 32] {
        PublicKey::from(&self.0).to_bytes()
    }

    /// sᵢⱼ = sⱼᵢ for the first attempt at `round` of `task` (`attempt_seed` with attempt 0).
    pub fn pairwise_seed(&self, peer_public: &[u8; 32], task: &Hash, round: u32) -> [u8; 32] {
        self.attempt_seed(peer_public, task, round, 0)
    }

    /// sᵢⱼ = sⱼᵢ for `attempt` at `round` of `task`, from the Diffie–Hellman output and both
    /// public keys in byte order (so both sides derive the same seed). A restarted round
    /// (`RoundCommits::attempt`) masks with fresh seeds: the seeds revealed for the previous
    /// attempt's drop-outs are public, and must not mask a drop-out that comes back.
    pub fn attempt_seed(
        &self,
        peer_public: &[u8; 32],
        task: &Hash,
        round: u32,
        attempt: u32,
    ) -> [u8; 32] {
        let shared = self.0.diffie_hellman(&PublicKey::from(*peer_public));
        let own = self.public();
        let (low, high) =
            if own <= *peer_public { (own, *peer_public) } else { (*peer_public, own) };
        let mut material = Vec::with_capacity(32 * 4 + 4);
        material.extend_from_slice(shared.as_bytes());
        material.extend_from_slice(&low);
        material.extend_from_slice(&high);
        material.extend_from_slice(task.as_bytes());
        material.extend_from_slice(&round.to_le_bytes());
        // Attempt 0 derives what it did before restarts existed.
        if attempt > 0 {
            material.extend_from_slice(&attempt.to_le_bytes());
        }
        blake3::derive_key(PAIRWISE_CONTEXT, &material)
    }
}

/// The mask words for one pairwise seed.
pub fn mask_words(seed: &[u8; 32], dimension: usize) -> Vec<u64> {
    let mut rng = DetRng::from_seed(*seed);
    (0..dimension).map(|_| rng.next_u64()).collect()
}

/// nᵢ·uᵢ, refused if a coordinate exceeds `WEIGHTED_MAX` in magnitude.
pub fn weigh(update: &[Fixed], samples: u64) -> Result<Vec<i64>, FlError> {
    let samples = i64::try_from(samples).map_err(|_| FlError::Overflow { operation: "weigh" })?;
    update
        .iter()
        .map(|value| {
            value
                .0
                .checked_mul(samples)
                .filter(|weighted| weighted.unsigned_abs() <= WEIGHTED_MAX as u64)
                .ok_or(FlError::Overflow { operation: "weigh" })
        })
        .collect()
}

/// yᵢ for the participant at `position` (positions are the task's participant order), given its
/// weighted update and its seed with every other participant `(peer position, seed)`.
pub fn mask(
    position: usize,
    weighted: &[i64],
    peers: &[(usize, [u8; 32])],
) -> Result<Vec<u64>, FlError> {
    let mut masked: Vec<u64> = weighted.iter().map(|&v| v as u64).collect();
    for (peer, seed) in peers {
        if *peer == position {
            return Err(FlError::Masking { reason: "a participant has no seed with itself" });
        }
        let words = mask_words(seed, masked.len());
        for (value, word) in masked.iter_mut().zip(words) {
            *value =
                if *peer > position { value.wrapping_add(word) } else { value.wrapping_sub(word) };
        }
    }
    Ok(masked)
}

/// A survivor's pairwise seed with a dropped participant, revealed for recovery.
#[derive(Clone, Debug)]
pub struct RevealedSeed {
    /// Position (in the task's participant order) of the survivor revealing the seed.
    pub survivor: usize,
    /// Position of the dropped participant the seed is shared with.
    pub dropped: usize,
    /// The pairwise seed sᵢd, as `MaskSecret::pairwise_seed` derived it.
    pub seed: [u8; 32],
}

/// Σ nᵢ·uᵢ over the survivors: the sum of their masked updates with every mask they share with
/// a dropped participant removed. Every (survivor, dropped) pair must have its seed revealed.
pub fn unmask_sum(
    masked: &[(usize, Vec<u64>)],
    dropped: &[usize],
    revealed: &[RevealedSeed],
    dimension: usize,
) -> Result<Vec<i64>, FlError> {
    let mut sum = vec![0u64; dimension];
    for (_, words) in masked {
        if words.len() != dimension {
            return Err(FlError::WrongDimension { expected: dimension, got: words.len() });
        }
        for (total, word) in sum.iter_mut().zip(words) {
            *total = total.wrapping_add(*word);
        }
    }
    for (survivor, _) in masked {
        for &gone in dropped {
            let seed =
                revealed.iter().find(|r| r.survivor == *survivor && r.dropped == gone).ok_or(
                    FlError::Masking { reason: "a survivor's seed with a dropped peer is missing" },
                )?;
            // Undo exactly what the survivor added for this peer in `mask`.
            for (total, word) in sum.iter_mut().zip(mask_words(&seed.seed, dimension)) {
                *total = if gone > *survivor {
                    total.wrapping_sub(word)
                } else {
                    total.wrapping_add(word)
                };
            }
        }
    }
    Ok(sum.into_iter().map(|word| word as i64).collect())
}

/// FedAvg from an unmasked weighted sum and the survivors' total declared samples: the same
/// division `aggregate(FedAvg)` makes.
pub fn fed_avg_from_sum(sum: &[i64], total_samples: u64) -> Result<Vec<Fixed>, FlError> {
    let sums: Vec<i128> = sum.iter().map(|&v| i128::from(v)).collect();
    divide(&sums, u128::from(total_samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fl::aggregate::{AggregationRule, Contribution, aggregate};

    struct Party {
        secret: MaskSecret,
        update: Vec<Fixed>,
        samples: u64,
    }

    fn parties(count: usize) -> Vec<Party> {
        let task = Hash::of(b"task");
        (0..count)
            .map(|i| Party {
                secret: MaskSecret::derive(&[i as u8; 32], &task),
                update: (0..6).map(|k| Fixed((i as i64 * 37 - 50) * (k + 1) * 1000)).collect(),
                samples: 10 + i as u64 * 7,
            })
            .collect()
    }

    fn masked_updates(parties: &[Party], task: &Hash, round: u32) -> Vec<Vec<u64>> {
        parties
            .iter()
            .enumerate()
            .map(|(i, party)| {
                let peers: Vec<(usize, [u8; 32])> = parties
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(j, peer)| {
                        (j, party.secret.pairwise_seed(&peer.secret.public(), task, round))
                    })
                    .collect();
                mask(i, &weigh(&party.update, party.samples).unwrap(), &peers).unwrap()
            })
            .collect()
    }

    fn plain_fed_avg(parties: &[&Party]) -> Vec<Fixed> {
        let contributions: Vec<Contribution> = parties
            .iter()
            .map(|p| Contribution { update: p.update.clone(), samples: p.samples })
            .collect();
        aggregate(AggregationRule::FedAvg, &contributions, 6).unwrap()
    }

    #[test]
    fn pairwise_seeds_agree_and_masks_cancel_to_plain_fed_avg() {
        let task = Hash::of(b"task");
        let parties = parties(5);
        let (a, b) = (&parties[0].secret, &parties[3].secret);
        assert_eq!(a.pairwise_seed(&b.public(), &task, 2), b.pairwise_seed(&a.public(), &task, 2));
        assert_ne!(a.pairwise_seed(&b.public(), &task, 2), a.pairwise_seed(&b.public(), &task, 3));
        assert_ne!(
            a.pairwise_seed(&b.public(), &task, 2),
            a.attempt_seed(&b.public(), &task, 2, 1)
        );
        let masked = masked_updates(&parties, &task, 0);
        let weighted = weigh(&parties[1].update, parties[1].samples).unwrap();
        assert!(
            masked[1].iter().zip(&weighted).all(|(m, w)| *m != *w as u64),
            "a masked update hides every coordinate"
        );
        let indexed: Vec<(usize, Vec<u64>)> = masked.into_iter().enumerate().collect();
        let sum = unmask_sum(&indexed, &[], &[], 6).unwrap();
        let total: u64 = parties.iter().map(|p| p.samples).sum();
        let all: Vec<&Party> = parties.iter().collect();
        assert_eq!(fed_avg_from_sum(&sum, total).unwrap(), plain_fed_avg(&all));
    }

    #[test]
    fn a_dropped_participant_is_recovered_from_revealed_seeds() {
        let task = Hash::of(b"task");
        let parties = parties(5);
        let masked = masked_updates(&parties, &task, 1);
        let dropped = [1usize, 3];
        let survivors: Vec<(usize, Vec<u64>)> =
            masked.into_iter().enumerate().filter(|(i, _)| !dropped.contains(i)).collect();
        let mut revealed = Vec::new();
        for (survivor, _) in &survivors {
            for &gone in &dropped {
                let seed = parties[*survivor].secret.pairwise_seed(
                    &parties[gone].secret.public(),
                    &task,
                    1,
                );
                revealed.push(RevealedSeed { survivor: *survivor, dropped: gone, seed });
            }
        }
        let sum = unmask_sum(&survivors, &dropped, &revealed, 6).unwrap();
        let kept: Vec<&Party> = parties
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, p)| p)
            .collect();
        let total: u64 = kept.iter().map(|p| p.samples).sum();
        assert_eq!(fed_avg_from_sum(&sum, total).unwrap(), plain_fed_avg(&kept));
        // Without every revealed seed the sum cannot be unmasked, and says so.
        assert_eq!(
            unmask_sum(&survivors, &dropped, &revealed[1..], 6),
            Err(FlError::Masking { reason: "a survivor's seed with a dropped peer is missing" })
        );
    }

    #[test]
    fn weighing_refuses_what_could_overflow_the_masked_sum() {
        assert_eq!(weigh(&[Fixed(3)], 2), Ok(vec![6]));
        assert_eq!(weigh(&[Fixed(WEIGHTED_MAX)], 2), Err(FlError::Overflow { operation: "weigh" }));
        assert_eq!(weigh(&[Fixed(1)], u64::MAX), Err(FlError::Overflow { operation: "weigh" }));
        assert!(mask(0, &[1], &[(0, [0; 32])]).is_err());
    }
}
