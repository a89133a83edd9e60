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
    /// Height of the checkpoint to be forged.
    pub height: u64,
    /// `g_h`: picks the scoop index and keys every hit.
    pub generation_signature: Hash,
    /// The round's difficulty: a hit becomes a deadline of `hit / base_target` seconds.
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

/// The challenge of the round after a checkpoint at `prev_height` whose generation signature is
/// `prev_signature` and whose author is `prev_author`; `base_target` is the base target the
/// successor must carry (retargeted from the predecessor's ancestry). Validation, forging and the
/// ledger-root preview all derive a successor's challenge here, so they cannot disagree.
pub fn successor_challenge(
    prev_height: u64,
    prev_signature: &Hash,
    prev_author: &AccountId,
    base_target: u64,
    refresh_every: u64,
) -> Challenge {
    let height = prev_height + 1;
    Challenge {
        height,
        generation_signature: generation_signature_for(
            height,
            refresh_every,
            prev_signature,
            prev_author,
        ),
        base_target,
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

/// [`hit`] for many scoops at once, into `hits` (same length): the scan's inner loop. A hit input
/// is 96 bytes, two BLAKE3 blocks: the first (`g` and the scoop's first half) of every scoop is
/// compressed side by side in SIMD lanes (`Platform::hash_many`, as in the nonce generator), the
/// short second block one by one. Bit-identical to [`hit`] (tested).
pub fn hits_many(generation_signature: &Hash, scoops: &[u8], hits: &mut [u64]) {
    use crate::core::poc::blake3_spec::{BLAKE3_IV, FLAG_CHUNK_END, FLAG_CHUNK_START, FLAG_ROOT};
    debug_assert_eq!(scoops.len(), hits.len() * SCOOP_BYTES);
    let platform = blake3::platform::Platform::detect();
    let half = SCOOP_BYTES / 2;
    let first_blocks: Vec<[u8; 64]> = scoops
        .chunks_exact(SCOOP_BYTES)
        .map(|scoop| {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(generation_signature.as_bytes());
            block[32..].copy_from_slice(&scoop[..half]);
            block
        })
        .collect();
    let inputs: Vec<&[u8; 64]> = first_blocks.iter().collect();
    let mut chaining = vec![0u8; inputs.len() * 32];
    platform.hash_many(
        &inputs,
        &BLAKE3_IV,
        0,
        blake3::IncrementCounter::No,
        0,
        FLAG_CHUNK_START,
        0,
        &mut chaining,
    );
    for ((hit, scoop), cv_bytes) in
        hits.iter_mut().zip(scoops.chunks_exact(SCOOP_BYTES)).zip(chaining.chunks_exact(32))
    {
        let mut cv = [0u32; 8];
        for (word, bytes) in cv.iter_mut().zip(cv_bytes.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let mut block = [0u8; 64];
        block[..half].copy_from_slice(&scoop[half..]);
        platform.compress_in_place(&mut cv, &block, half as u8, 0, FLAG_CHUNK_END | FLAG_ROOT);
        *hit = u64::from(cv[0]) | (u64::from(cv[1]) << 32);
    }
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
    fn hits_many_equals_hit() {
        let g = Hash::of(b"hits");
        let scoops: Vec<u8> = (0..37u32).flat_map(|i| Hash::of(&i.to_le_bytes()).0).collect();
        let scoops: Vec<u8> = scoops.chunks(32).flat_map(|h| [h, h].concat()).collect();
        let mut scoops = scoops;
        scoops[5] ^= 0x11; // break the half symmetry of the first scoop
        let mut hits = vec![0u64; scoops.len() / SCOOP_BYTES];
        hits_many(&g, &scoops, &mut hits);
        for (k, scoop) in scoops.chunks_exact(SCOOP_BYTES).enumerate() {
            let scoop: [u8; SCOOP_BYTES] = scoop.try_into().expect("64 bytes");
            assert_eq!(hits[k], hit(&g, &scoop), "scoop {k}");
        }
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
