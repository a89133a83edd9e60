//! PoC2 nonce generation with BLAKE3 in place of Shabal256.
//!
//! Model (Burstcoin/Signum PoC2): a nonce of account `a` and index `n` is 8192 hashes of 32 bytes
//! (256 KiB, 4096 scoops of 64 bytes). The generator works on `gen = buffer || seed` where
//! `seed = a || n_be` (40 bytes). Hashes are produced backwards: slot 8191 is `H(seed)`, and slot
//! `i` is `H(gen[(i+1)·32 .. min((i+1)·32 + 4096, len(gen))])`, i.e. the hash of the following
//! up-to-4096 bytes, which include the seed while the window still reaches it (the last 128
//! slots) and are pure buffer afterwards, exactly as Burst does. The seed thus enters every slot
//! through the chain. Then every slot is XORed with `H(gen)` (the whole buffer plus seed), so no
//! slot can be computed without the whole chain, and finally the PoC2 swap exchanges the second
//! half of scoop `i` with the second half of scoop `4095 − i`: the two halves of any scoop then
//! come from opposite ends of the chain, so no scoop is cheap to recompute on the fly (the PoC1
//! weakness Burst fixed).
//!
//! Cost: 8192 hashes of ≤ 4 KiB ≈ 32 MiB hashed per nonce. [`generate_nonce`] is the reference
//! (one nonce, one BLAKE3 call per slot, 4 of the SIMD lanes busy). [`generate_nonces`] hashes
//! several nonces side by side through `blake3::platform::Platform::hash_many` (BLAKE3's own
//! multi-input SIMD kernel, all 16 AVX-512 lanes busy): one chunk position of 16 nonces per call,
//! then the two parent levels, the root with the ROOT flag. It is checked bit for bit against the
//! reference in the tests, because `platform` is a `#[doc(hidden)]` API of the blake3 crate.

use crate::core::crypto::AccountId;
use crate::core::poc::blake3_spec::{
    BLAKE3_IV, FLAG_CHUNK_END, FLAG_CHUNK_START, FLAG_PARENT, FLAG_ROOT,
};
use crate::core::poc::challenge::{NONCE_BYTES, SCOOP_BYTES, SCOOPS_PER_NONCE};

/// Bytes of the per-nonce seed: 32-byte account then the nonce index big-endian.
pub const SEED_BYTES: usize = 40;
const HASH_BYTES: usize = 32;
const HASHES_PER_NONCE: usize = NONCE_BYTES / HASH_BYTES;
/// Burst's hash cap: each slot hashes at most this many following bytes.
const WINDOW_BYTES: usize = 4096;
const CHUNK_BYTES: usize = 1024;
const CHUNKS_PER_WINDOW: usize = WINDOW_BYTES / CHUNK_BYTES;
/// Slots `0..=LAST_FULL_SLOT` hash a full 4096-byte window lying entirely in the buffer.
const LAST_FULL_SLOT: usize = (NONCE_BYTES - WINDOW_BYTES) / HASH_BYTES - 1;

/// The 40-byte seed `account || nonce_index_be`.
pub fn seed(account: &AccountId, nonce_index: u64) -> [u8; SEED_BYTES] {
    let mut seed = [0u8; SEED_BYTES];
    seed[..32].copy_from_slice(account.as_bytes());
    seed[32..].copy_from_slice(&nonce_index.to_be_bytes());
    seed
}

/// A zeroed nonce buffer on the heap (256 KiB is too large for small thread stacks).
pub fn zeroed_nonce() -> Box<[u8; NONCE_BYTES]> {
    let boxed: Box<[u8]> = vec![0u8; NONCE_BYTES].into_boxed_slice();
    match boxed.try_into() {
        Ok(array) => array,
        // Unreachable: the length is NONCE_BYTES by construction.
        Err(_) => Box::new([0u8; NONCE_BYTES]),
    }
}

/// Hash slot `slot` from the window that follows it, reading the seed past the buffer's end.
fn hash_slot_scalar(buffer: &[u8; NONCE_BYTES], seed: &[u8; SEED_BYTES], slot: usize) -> [u8; 32] {
    let start = (slot + 1) * HASH_BYTES;
    let end = start + WINDOW_BYTES;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&buffer[start.min(NONCE_BYTES)..end.min(NONCE_BYTES)]);
    if end > NONCE_BYTES {
        let seed_len = (end - NONCE_BYTES).min(SEED_BYTES);
        hasher.update(&seed[..seed_len]);
    }
    *hasher.finalize().as_bytes()
}

/// XOR with the final hash, then the PoC2 swap. Shared by both generators.
fn finish_nonce(buffer: &mut [u8; NONCE_BYTES], seed: &[u8; SEED_BYTES]) {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&buffer[..]);
    hasher.update(seed);
    let final_hash = *hasher.finalize().as_bytes();
    for slot in buffer.chunks_exact_mut(HASH_BYTES) {
        for (byte, mask) in slot.iter_mut().zip(final_hash.iter()) {
            *byte ^= mask;
        }
    }
    let half = SCOOP_BYTES / 2;
    for scoop in 0..SCOOPS_PER_NONCE / 2 {
        let mirror = SCOOPS_PER_NONCE - 1 - scoop;
        let (low, high) = buffer.split_at_mut(mirror * SCOOP_BYTES);
        let low_half = &mut low[scoop * SCOOP_BYTES + half..(scoop + 1) * SCOOP_BYTES];
        low_half.swap_with_slice(&mut high[half..SCOOP_BYTES]);
    }
}

/// Generate nonce `nonce_index` of `account` into `out` (reference implementation).
pub fn generate_nonce(account: &AccountId, nonce_index: u64, out: &mut [u8; NONCE_BYTES]) {
    let seed = seed(account, nonce_index);
    for slot in (0..HASHES_PER_NONCE).rev() {
        let digest = hash_slot_scalar(out, &seed, slot);
        out[slot * HASH_BYTES..(slot + 1) * HASH_BYTES].copy_from_slice(&digest);
    }
    finish_nonce(out, &seed);
}

/// Scoop `scoop` of nonce `nonce_index` of `account`. Regenerates the whole nonce (~12 ms):
/// this is the cost of verifying one proof.
pub fn scoop_of(account: &AccountId, nonce_index: u64, scoop: u32) -> [u8; SCOOP_BYTES] {
    debug_assert!((scoop as usize) < SCOOPS_PER_NONCE);
    let mut buffer = zeroed_nonce();
    generate_nonce(account, nonce_index, &mut buffer);
    let offset = (scoop as usize % SCOOPS_PER_NONCE) * SCOOP_BYTES;
    let mut out = [0u8; SCOOP_BYTES];
    out.copy_from_slice(&buffer[offset..offset + SCOOP_BYTES]);
    out
}

/// How many nonces [`generate_nonces`] should be given at once to fill every SIMD lane here.
pub fn simd_lanes() -> usize {
    blake3::platform::Platform::detect().simd_degree()
}

/// Generate nonces `first_index, first_index + 1, ...` of `account` into `outs`, hashing them
/// side by side in SIMD lanes. Bit-identical to calling [`generate_nonce`] for each.
pub fn generate_nonces(account: &AccountId, first_index: u64, outs: &mut [Box<[u8; NONCE_BYTES]>]) {
    let platform = blake3::platform::Platform::detect();
    let seeds: Vec<[u8; SEED_BYTES]> =
        (0..outs.len() as u64).map(|k| seed(account, first_index + k)).collect();
    // The tail slots hash short windows that reach into the seed: scalar, as in the reference.
    for (out, seed) in outs.iter_mut().zip(seeds.iter()) {
        for slot in (LAST_FULL_SLOT + 1..HASHES_PER_NONCE).rev() {
            let digest = hash_slot_scalar(out, seed, slot);
            out[slot * HASH_BYTES..(slot + 1) * HASH_BYTES].copy_from_slice(&digest);
        }
    }
    let lanes = outs.len();
    let mut chunk_cvs = vec![[0u8; CHUNKS_PER_WINDOW * HASH_BYTES]; lanes];
    let mut lane_cvs = vec![0u8; lanes * HASH_BYTES];
    let mut parent_blocks = vec![[0u8; 64]; 2 * lanes];
    let mut parent_cvs = vec![0u8; 2 * lanes * HASH_BYTES];
    let mut root_blocks = vec![[0u8; 64]; lanes];
    let mut roots = vec![0u8; lanes * HASH_BYTES];
    for slot in (0..=LAST_FULL_SLOT).rev() {
        let start = (slot + 1) * HASH_BYTES;
        // A 4096-byte input is four 1 KiB chunks at counters 0..3: hash chunk position `c` of
        // every lane in one call so all lanes are busy.
        for chunk in 0..CHUNKS_PER_WINDOW {
            let offset = start + chunk * CHUNK_BYTES;
            let inputs: Vec<&[u8; CHUNK_BYTES]> = outs
                .iter()
                .filter_map(|out| out[offset..offset + CHUNK_BYTES].try_into().ok())
                .collect();
            debug_assert_eq!(inputs.len(), lanes);
            platform.hash_many(
                &inputs,
                &BLAKE3_IV,
                chunk as u64,
                blake3::IncrementCounter::No,
                0,
                FLAG_CHUNK_START,
                FLAG_CHUNK_END,
                &mut lane_cvs,
            );
            for (lane, cvs) in chunk_cvs.iter_mut().enumerate() {
                cvs[chunk * HASH_BYTES..(chunk + 1) * HASH_BYTES]
                    .copy_from_slice(&lane_cvs[lane * HASH_BYTES..(lane + 1) * HASH_BYTES]);
            }
        }
        // Parents (c0,c1) and (c2,c3), then the root over the two parents.
        for (lane, cvs) in chunk_cvs.iter().enumerate() {
            parent_blocks[2 * lane].copy_from_slice(&cvs[..64]);
            parent_blocks[2 * lane + 1].copy_from_slice(&cvs[64..]);
        }
        let inputs: Vec<&[u8; 64]> = parent_blocks.iter().collect();
        platform.hash_many(
            &inputs,
            &BLAKE3_IV,
            0,
            blake3::IncrementCounter::No,
            FLAG_PARENT,
            0,
            0,
            &mut parent_cvs,
        );
        for (lane, block) in root_blocks.iter_mut().enumerate() {
            block.copy_from_slice(&parent_cvs[lane * 64..(lane + 1) * 64]);
        }
        let inputs: Vec<&[u8; 64]> = root_blocks.iter().collect();
        platform.hash_many(
            &inputs,
            &BLAKE3_IV,
            0,
            blake3::IncrementCounter::No,
            FLAG_PARENT | FLAG_ROOT,
            0,
            0,
            &mut roots,
        );
        for (lane, out) in outs.iter_mut().enumerate() {
            out[slot * HASH_BYTES..(slot + 1) * HASH_BYTES]
                .copy_from_slice(&roots[lane * HASH_BYTES..(lane + 1) * HASH_BYTES]);
        }
    }
    for (out, seed) in outs.iter_mut().zip(seeds.iter()) {
        finish_nonce(out, seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    fn nonce(account: &AccountId, index: u64) -> Box<[u8; NONCE_BYTES]> {
        let mut buffer = zeroed_nonce();
        generate_nonce(account, index, &mut buffer);
        buffer
    }

    #[test]
    fn deterministic_and_distinct_per_account_and_index() {
        let alice = Keypair::derived("nonce", 1).account();
        let bob = Keypair::derived("nonce", 2).account();
        let a0 = nonce(&alice, 0);
        assert_eq!(a0, nonce(&alice, 0));
        assert_ne!(a0, nonce(&alice, 1));
        assert_ne!(a0, nonce(&bob, 0));
        // Not trivially structured: no all-zero scoop half.
        assert!(a0.chunks_exact(32).all(|half| half.iter().any(|&b| b != 0)));
    }

    #[test]
    fn scoop_of_matches_generated_nonce() {
        let alice = Keypair::derived("nonce", 1).account();
        let full = nonce(&alice, 7);
        for scoop in [0u32, 1, 2047, 2048, 4095] {
            let offset = scoop as usize * SCOOP_BYTES;
            assert_eq!(scoop_of(&alice, 7, scoop)[..], full[offset..offset + SCOOP_BYTES]);
        }
    }

    #[test]
    fn poc2_swap_pairs_scoop_halves() {
        // Undo the swap by hand and check the mirror relation against an unswapped rebuild.
        let alice = Keypair::derived("nonce", 3).account();
        let full = nonce(&alice, 0);
        let seed = seed(&alice, 0);
        let mut raw = zeroed_nonce();
        for slot in (0..HASHES_PER_NONCE).rev() {
            let digest = hash_slot_scalar(&raw, &seed, slot);
            raw[slot * 32..(slot + 1) * 32].copy_from_slice(&digest);
        }
        let final_hash = Hash::of_parts(&[&raw[..], &seed]);
        let xor = |slot: usize| -> Vec<u8> {
            raw[slot * 32..(slot + 1) * 32]
                .iter()
                .zip(final_hash.as_bytes())
                .map(|(a, b)| a ^ b)
                .collect()
        };
        // First half of scoop 5 is slot 10; its second half is slot 2*(4095-5)+1.
        assert_eq!(full[5 * 64..5 * 64 + 32], xor(10)[..]);
        assert_eq!(full[5 * 64 + 32..6 * 64], xor(2 * (4095 - 5) + 1)[..]);
    }

    use crate::core::hash::Hash;

    #[test]
    fn simd_batch_matches_reference() {
        let alice = Keypair::derived("nonce", 4).account();
        let lanes = simd_lanes().clamp(2, 16) + 1; // odd count exercises a partial SIMD group
        let mut outs: Vec<Box<[u8; NONCE_BYTES]>> = (0..lanes).map(|_| zeroed_nonce()).collect();
        generate_nonces(&alice, 100, &mut outs);
        for (k, out) in outs.iter().enumerate() {
            assert!(**out == *nonce(&alice, 100 + k as u64), "lane {k} differs from reference");
        }
    }
}
