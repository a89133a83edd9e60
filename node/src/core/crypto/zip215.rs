//! The ed25519 verification rule of the protocol: ZIP 215 (Zcash), the cofactored equation
//! `[8]([s]B − R − [k]A) = 0` with `k = SHA-512(R ‖ A ‖ M) mod ℓ`, where `A` and `R` may be any
//! encoding that decompresses to a curve point (non-canonical `y` and small-order points
//! included) and `s` must be canonical (`s < ℓ`). Every `[8]·P` lies in the prime-order subgroup,
//! so a random linear combination of the per-signature equations holds exactly when each does
//! (up to a 2^-128 chance over the coefficients): batch and single verification agree, which
//! the cofactorless rule of RFC 8032 implementations does not guarantee (docs/protocol.md,
//! "Signature validity").

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};
use std::collections::BTreeMap;

/// Domain of the batch coefficients' hash (any fixed string; it only separates this use).
const BATCH_COEFFICIENTS_CONTEXT: &str = "vein 2026-11 zip215 batch coefficients v1";

/// One signature whose scalar decoded, ready for either equation. `R` is kept as bytes: the
/// single check needs it decompressed only when the fast path misses.
pub(super) struct Prepared {
    a_bytes: [u8; 32],
    a: EdwardsPoint,
    r_bytes: [u8; 32],
    s: Scalar,
    k: Scalar,
}

/// Decode `s` and hash the challenge. `None`: `s` is not canonical (the signature is invalid
/// whatever the rest).
pub(super) fn prepare(
    a_bytes: &[u8; 32],
    a: EdwardsPoint,
    message: &[u8],
    signature: &[u8; 64],
) -> Option<Prepared> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(a_bytes);
    hasher.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(hasher.finalize().as_slice());
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    Some(Prepared { a_bytes: *a_bytes, a, r_bytes, s, k })
}

/// The public key's point, or `None` if the bytes are no curve point. Non-canonical encodings
/// and small-order points are accepted (ZIP 215).
pub(super) fn decompress(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    CompressedEdwardsY(*bytes).decompress()
}

/// The single check: `[8](R − R') = 0` with `R' = [s]B − [k]A`.
pub(super) fn check_single(signature: &Prepared) -> bool {
    let r_prime = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &-signature.k,
        &signature.a,
        &signature.s,
    );
    // Fast path, the honest case: R' encodes to exactly the bytes of R, so R decodes to R' and
    // R − R' = 0. It costs one compression instead of a decompression and a cofactor check.
    if r_prime.compress().as_bytes() == &signature.r_bytes {
        return true;
    }
    match decompress(&signature.r_bytes) {
        Some(r) => (r - r_prime).mul_by_cofactor().is_identity(),
        None => false,
    }
}

/// The batch check over signatures that all `prepare`d: true iff
/// `[8](−(Σ zᵢsᵢ)B + Σ zᵢRᵢ + Σ zᵢkᵢAᵢ) = 0` for 128-bit coefficients `zᵢ` derived from the
/// whole batch. Terms of one public key (same bytes) are merged into one point.
///
/// Why deterministic coefficients are sound here: write `Dᵢ = [8]([sᵢ]B − Rᵢ − [kᵢ]Aᵢ)`. Each
/// `Dᵢ` lies in the subgroup of prime order ℓ (the cofactor is multiplied out), and the single
/// check is `Dᵢ = 0`. If some `Dⱼ ≠ 0`, then `Σ zᵢDᵢ = 0` fixes `zⱼ` mod ℓ given the others, so
/// it holds for at most one of the 2^128 values `zⱼ` can take. The coefficients are an
/// extendable hash of every input of the equations (`A`, `R`, `s`, and `k`, which binds the
/// message), so a sender choosing a batch learns them only after fixing it: each attempt passes
/// a bad signature with probability 2^-128, as with random coefficients. Under the cofactorless
/// equation `Dᵢ` may carry a small-order part, which a coefficient with the right residue mod 8
/// cancels (1 in 8 per attempt) — the reason ed25519-dalek's batch and single verification
/// disagree, and the reason the protocol uses ZIP 215.
pub(super) fn check_batch(signatures: &[Prepared]) -> bool {
    let coefficients = batch_coefficients(signatures);
    let mut basepoint_scalar = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(signatures.len() * 2 + 1);
    let mut points = Vec::with_capacity(signatures.len() * 2 + 1);
    let mut keys: BTreeMap<[u8; 32], (Scalar, EdwardsPoint)> = BTreeMap::new();
    for (signature, z) in signatures.iter().zip(&coefficients) {
        let Some(r) = decompress(&signature.r_bytes) else { return false };
        basepoint_scalar -= z * signature.s;
        scalars.push(*z);
        points.push(r);
        let key = keys.entry(signature.a_bytes).or_insert((Scalar::ZERO, signature.a));
        key.0 += z * signature.k;
    }
    scalars.push(basepoint_scalar);
    points.push(ED25519_BASEPOINT_POINT);
    for (scalar, point) in keys.into_values() {
        scalars.push(scalar);
        points.push(point);
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
}

/// 128-bit coefficients from a hash of the whole batch (see `check_batch`).
fn batch_coefficients(signatures: &[Prepared]) -> Vec<Scalar> {
    let mut hasher = blake3::Hasher::new_derive_key(BATCH_COEFFICIENTS_CONTEXT);
    hasher.update(&(signatures.len() as u64).to_le_bytes());
    for signature in signatures {
        hasher.update(&signature.a_bytes);
        hasher.update(&signature.r_bytes);
        hasher.update(signature.s.as_bytes());
        hasher.update(signature.k.as_bytes());
    }
    let mut reader = hasher.finalize_xof();
    signatures
        .iter()
        .map(|_| {
            let mut bytes = [0u8; 32];
            reader.fill(&mut bytes[..16]);
            Scalar::from_bytes_mod_order(bytes)
        })
        .collect()
}
