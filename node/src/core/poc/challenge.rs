//! The per-round challenge: which scoop every miner must read, and how a scoop turns into a
//! deadline.
//!
//! Model (PROTOCOL.md section 3): round `h` carries a generation signature `g_h` that depends only
//! on the previous signature and the previous winner, never on checkpoint content, so a miner
//! cannot grind the challenge by reshuffling transactions. The scoop index and every hit are
//! BLAKE3 images of `g_h`; a deadline is the hit divided by the base target. All arithmetic is
//! integer (u128 where it could overflow) so that every node computes bit-identical deadlines.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

/// Scoops in one nonce.
pub const SCOOPS_PER_NONCE: usize = 4096;
/// Bytes in one scoop: two 32-byte hashes.
pub const SCOOP_BYTES: usize = 64;
/// Bytes in one nonce: 4096 scoops of 64 bytes = 256 KiB.
pub const NONCE_BYTES: usize = SCOOPS_PER_NONCE * SCOOP_BYTES;

/// What every miner of round `height` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub height: u64,
    pub generation_signature: Hash,
    pub base_target: u64,
}

/// `g_h = H(g_{h-1} || winner_{h-1})`: content-free, so it cannot be ground by the winner's
/// choice of transactions (only by choosing to publish or withhold, which scenario 5/6 measure).
pub fn next_generation_signature(prev: &Hash, prev_winner: &AccountId) -> Hash {
    Hash::of_parts(&[prev.as_bytes(), prev_winner.as_bytes()])
}

/// The generation signature of round `height` when the challenge refreshes every `refresh_every`
/// checkpoints (`c` in PROTOCOL.md, default 1).
///
/// Choice: the signature refreshes at heights that are multiples of `c` (from the previous
/// round's signature and winner), and is carried unchanged otherwise. So rounds
/// `k·c .. k·c + c − 1` share one challenge: a miner extending several forks inside that window
/// sees the same scoop and the same hits on all of them, which is what blunts double-dipping
/// (Chia's "challenge refresh" argument). `refresh_every = 0` is treated as 1 (refresh always),
/// rather than a division by zero.
pub fn generation_signature_for(
    height: u64,
    refresh_every: u64,
    prev_sig: &Hash,
    prev_winner: &AccountId,
) -> Hash {
    let period = refresh_every.max(1);
    if height.is_multiple_of(period) {
        next_generation_signature(prev_sig, prev_winner)
    } else {
        *prev_sig
    }
}

/// Scoop index `H(g || height_le) mod 4096`. The height is mixed in so that rounds sharing one
/// signature (refresh period c > 1) still read different scoops.
pub fn scoop_index(challenge: &Challenge) -> u32 {
    let digest = Hash::of_parts(&[
        challenge.generation_signature.as_bytes(),
        &challenge.height.to_le_bytes(),
    ]);
    let index = digest.first_u64_le() % SCOOPS_PER_NONCE as u64;
    debug_assert!(index < SCOOPS_PER_NONCE as u64);
    index as u32
}

/// `hit = first 8 bytes (LE) of H(g || scoop)`: uniform on u64 for an honest plot.
pub fn hit(generation_signature: &Hash, scoop: &[u8; SCOOP_BYTES]) -> u64 {
    Hash::of_parts(&[generation_signature.as_bytes(), scoop]).first_u64_le()
}

/// `deadline = hit / base_target` seconds, in milliseconds, computed in u128 and saturating at
/// `u64::MAX`. A base target of 0 (never produced by retargeting) yields the maximal deadline.
pub fn deadline_ms(hit: u64, base_target: u64) -> u64 {
    if base_target == 0 {
        return u64::MAX;
    }
    let deadline = u128::from(hit) * 1000 / u128::from(base_target);
    u64::try_from(deadline).unwrap_or(u64::MAX)
}

/// Weight of a checkpoint `= 2^64 / base_target`: the expected number of hashes (nonces scanned)
/// needed to find it, so cumulative weight measures the space behind a chain. u128 because
/// `base_target = 1` gives exactly 2^64.
pub fn weight(base_target: u64) -> u128 {
    (1u128 << 64) / u128::from(base_target.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_saturates_and_scales() {
        assert_eq!(deadline_ms(10, 10), 1000);
        assert_eq!(deadline_ms(u64::MAX, 1), u64::MAX);
        assert_eq!(deadline_ms(5, 0), u64::MAX);
        assert_eq!(deadline_ms(1999, 1000), 1999);
    }

    #[test]
    fn weight_is_inverse_target() {
        assert_eq!(weight(1), 1u128 << 64);
        assert_eq!(weight(1 << 32), 1u128 << 32);
        assert_eq!(weight(0), 1u128 << 64);
    }

    #[test]
    fn refresh_only_at_multiples_of_period() {
        let prev = Hash::of(b"g0");
        let winner = AccountId([7; 32]);
        let fresh = next_generation_signature(&prev, &winner);
        assert_ne!(fresh, prev);
        assert_eq!(generation_signature_for(8, 4, &prev, &winner), fresh);
        assert_eq!(generation_signature_for(9, 4, &prev, &winner), prev);
        assert_eq!(generation_signature_for(9, 1, &prev, &winner), fresh);
        assert_eq!(generation_signature_for(9, 0, &prev, &winner), fresh);
    }

    #[test]
    fn scoop_index_depends_on_height_and_signature() {
        let g = Hash::of(b"g");
        let indices: std::collections::BTreeSet<u32> = (0..64)
            .map(|height| {
                scoop_index(&Challenge { height, generation_signature: g, base_target: 1 })
            })
            .collect();
        assert!(indices.len() > 50, "scoop indices should spread: {}", indices.len());
        assert!(indices.iter().all(|&i| (i as usize) < SCOOPS_PER_NONCE));
    }
}
