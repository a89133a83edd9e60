#![allow(clippy::unwrap_used)]
//! Signature validity is ZIP 215 (docs/protocol.md, "Signature validity"): single and batch
//! verification give the same answer for every signature, including the edge cases where
//! ed25519 implementations disagree (small-order points, non-canonical encodings), and the
//! answers match the reference implementation (ed25519-consensus).

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::Verifier;
use proptest::prelude::*;
use sha2::{Digest, Sha512};
use vein_node::core::crypto::{self, AccountId, CryptoError, Keypair, Signature};
use vein_node::core::hash::Hash;
use vein_node::core::message::Message;
use vein_node::core::transaction::Transaction;

/// ZIP 215 as the reference implementation answers it.
fn reference_accepts(account: &AccountId, message: &[u8], signature: &Signature) -> bool {
    let Ok(key) = ed25519_consensus::VerificationKey::try_from(account.0) else { return false };
    key.verify(&ed25519_consensus::Signature::from(signature.0), message).is_ok()
}

/// RFC 8032 as ed25519-dalek's (cofactorless) `verify` answers it: the old rule.
fn cofactorless_accepts(account: &AccountId, message: &[u8], signature: &Signature) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&account.0) else { return false };
    key.verify(message, &ed25519_dalek::Signature::from_bytes(&signature.0)).is_ok()
}

/// Our single and batch answers for `items`, checked equal, with the reference's.
fn check_agreement(items: &[(AccountId, Vec<u8>, Signature)]) -> Vec<bool> {
    let refs: Vec<(&AccountId, &[u8], &Signature)> = items
        .iter()
        .map(|(account, message, signature)| (account, &message[..], signature))
        .collect();
    let batch = crypto::verify_batch(&refs);
    assert_eq!(batch.len(), items.len());
    items
        .iter()
        .zip(&batch)
        .map(|((account, message, signature), batched)| {
            let single = crypto::verify(account, message, signature);
            assert_eq!(&single, batched, "single and batch disagree");
            assert_eq!(single.is_ok(), reference_accepts(account, message, signature));
            single.is_ok()
        })
        .collect()
}

fn scalar_of(label: &str, index: u64) -> Scalar {
    Scalar::from_bytes_mod_order(Hash::of_parts(&[label.as_bytes(), &index.to_le_bytes()]).0)
}

/// The eight points of order dividing 8: multiples of one point of order 8, found as the
/// torsion part `P − [8⁻¹]([8]P)` of curve points from hashed bytes.
fn eight_torsion() -> Vec<EdwardsPoint> {
    let inverse_of_eight = Scalar::from(8u64).invert();
    let order_eight = (0u64..1_000)
        .filter_map(|i| CompressedEdwardsY(Hash::of(&i.to_le_bytes()).0).decompress())
        .map(|point| point - point.mul_by_cofactor() * inverse_of_eight)
        .find(|torsion| !(torsion * Scalar::from(4u64)).is_identity())
        .unwrap();
    (0u64..8).map(|multiple| order_eight * Scalar::from(multiple)).collect()
}

/// Every 32-byte string that decodes to a small-order point: the canonical encodings, the
/// sign-flipped encodings of the two points with x = 0, and y + p for y ∈ {0, 1}. ZIP 215
/// lists 14.
fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut candidates = Vec::new();
    for point in eight_torsion() {
        let canonical = point.compress().to_bytes();
        let mut flipped = canonical;
        flipped[31] ^= 0x80;
        candidates.extend([canonical, flipped]);
        let y_is_small = canonical[1..31].iter().all(|byte| *byte == 0)
            && canonical[31] & 0x7f == 0
            && canonical[0] < 19;
        if y_is_small {
            // y + p, p = 2^255 − 19 = ed ff … ff 7f (little-endian).
            let mut plus_p = [0xffu8; 32];
            plus_p[0] = 0xed + canonical[0];
            plus_p[31] = 0x7f;
            let mut plus_p_flipped = plus_p;
            plus_p_flipped[31] ^= 0x80;
            candidates.extend([plus_p, plus_p_flipped]);
        }
    }
    candidates.sort();
    candidates.dedup();
    candidates.retain(|bytes| {
        CompressedEdwardsY(*bytes).decompress().is_some_and(|point| point.is_small_order())
    });
    candidates
}

/// A signature by the "secret" `a` for the public point `public` (which may carry a torsion
/// component), with nonce point `[r]B + nonce_torsion`.
fn sign_raw(
    a: Scalar,
    public: &EdwardsPoint,
    r: Scalar,
    nonce_torsion: &EdwardsPoint,
    message: &[u8],
) -> (AccountId, Signature) {
    let a_bytes = public.compress().to_bytes();
    let r_bytes = (ED25519_BASEPOINT_POINT * r + nonce_torsion).compress().to_bytes();
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(a_bytes);
    hasher.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(hasher.finalize().as_slice());
    let k = Scalar::from_bytes_mod_order_wide(&wide);
    let s = r + k * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(s.as_bytes());
    (AccountId(a_bytes), Signature(signature))
}

#[test]
fn all_small_order_key_and_nonce_encodings_are_valid_single_and_batched() {
    let encodings = small_order_encodings();
    assert_eq!(encodings.len(), 14, "ZIP 215 names 14 encodings of small-order points");
    let mut items = Vec::new();
    for a in &encodings {
        for r in &encodings {
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(r);
            // s = 0: [8](0·B − R − kA) = 0 for any small-order A and R.
            items.push((AccountId(*a), b"Zcash".to_vec(), Signature(signature)));
        }
    }
    assert_eq!(items.len(), 196);
    assert!(check_agreement(&items).iter().all(|valid| *valid));
    // The rule changed: the cofactorless check of the old rule refuses some of them.
    let refused = items
        .iter()
        .filter(|(account, message, signature)| !cofactorless_accepts(account, message, signature))
        .count();
    assert!(refused > 0);
}

#[test]
fn signatures_with_torsion_in_key_or_nonce_are_valid_single_and_batched() {
    let torsion = eight_torsion();
    let order_eight = torsion.iter().find(|t| !(*t * Scalar::from(4u64)).is_identity()).unwrap();
    let a = scalar_of("secret", 0);
    let public = ED25519_BASEPOINT_POINT * a + order_eight;
    let honest = Keypair::derived("zip215", 0);
    let mut items = Vec::new();
    for i in 0..16u64 {
        let message = format!("message {i}").into_bytes();
        let nonce_torsion =
            if i % 2 == 0 { EdwardsPoint::default() } else { torsion[i as usize % 8] };
        let (account, signature) =
            sign_raw(a, &public, scalar_of("nonce", i), &nonce_torsion, &message);
        items.push((account, message.clone(), signature));
        items.push((honest.account(), message.clone(), honest.sign(&message)));
    }
    assert!(check_agreement(&items).iter().all(|valid| *valid));
    // The old rule refuses those whose torsion part does not vanish (kT ≠ 0): most of them.
    let refused = items
        .iter()
        .filter(|(account, message, signature)| !cofactorless_accepts(account, message, signature))
        .count();
    assert!(refused >= 4, "{refused}");
}

#[test]
fn a_non_canonical_scalar_is_refused_single_and_batched() {
    let key = Keypair::derived("zip215", 1);
    let good = key.sign(b"hello");
    // s + ℓ: the same scalar mod ℓ, not canonical.
    let ell: [u8; 32] = {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&0x14de_f9de_a2f7_9cd6_5812_631a_5cf5_d3edu128.to_le_bytes());
        bytes[31] = 0x10;
        bytes
    };
    let mut s_plus_ell = good.0;
    let mut carry = 0u16;
    for (byte, add) in s_plus_ell[32..].iter_mut().zip(ell) {
        let sum = u16::from(*byte) + u16::from(add) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    let mut high_bit = good.0;
    high_bit[63] |= 0x80;
    let items = vec![
        (key.account(), b"hello".to_vec(), good),
        (key.account(), b"hello".to_vec(), Signature(s_plus_ell)),
        (key.account(), b"hello".to_vec(), Signature(high_bit)),
    ];
    assert_eq!(check_agreement(&items), vec![true, false, false]);
}

#[test]
fn one_bad_signature_in_a_batch_is_named_and_the_rest_accepted() {
    let keys: Vec<Keypair> = (0..8).map(|i| Keypair::derived("batch", i)).collect();
    let not_a_point = (0u8..=255)
        .map(|byte| AccountId([byte; 32]))
        .find(|account| CompressedEdwardsY(account.0).decompress().is_none())
        .unwrap();
    for size in [2usize, 8, 64, 256] {
        let mut items: Vec<(AccountId, Vec<u8>, Signature)> = (0..size)
            .map(|i| {
                let key = &keys[i % keys.len()];
                let message = format!("transfer {i}").into_bytes();
                (key.account(), message.clone(), key.sign(&message))
            })
            .collect();
        let bad = size / 2;
        items[bad].1.push(b'!');
        let refs: Vec<(&AccountId, &[u8], &Signature)> = items
            .iter()
            .map(|(account, message, signature)| (account, &message[..], signature))
            .collect();
        let results = crypto::verify_batch(&refs);
        for (index, result) in results.iter().enumerate() {
            if index == bad {
                assert_eq!(result, &Err(CryptoError::BadSignature { account: items[bad].0 }));
            } else {
                assert_eq!(result, &Ok(()), "size {size} index {index}");
            }
        }
        check_agreement(&items);
        // A key that is no point is refused as such, alone, and the others still pass.
        items[bad].1.pop();
        items[0].0 = not_a_point;
        let refs: Vec<(&AccountId, &[u8], &Signature)> = items
            .iter()
            .map(|(account, message, signature)| (account, &message[..], signature))
            .collect();
        let results = crypto::verify_batch(&refs);
        assert_eq!(results[0], Err(CryptoError::BadPublicKey { account: not_a_point }));
        assert!(results[1..].iter().all(Result::is_ok));
    }
}

/// One random item: random bytes, an honest signature, or an honest one with one bit flipped
/// (in the key, the signature or the message).
fn item() -> impl Strategy<Value = (AccountId, Vec<u8>, Signature)> {
    (
        0u8..4,
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<u16>(),
    )
        .prop_map(|(kind, account, r, s, message, flip)| {
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&r);
            signature[32..].copy_from_slice(&s);
            if kind == 0 {
                return (AccountId(account), message, Signature(signature));
            }
            let key = Keypair::from_seed(account);
            let mut account = key.account();
            let mut signature = key.sign(&message);
            let mut message = message;
            let bit = usize::from(flip);
            match kind {
                1 => {}
                2 => signature.0[bit % 64] ^= 1 << (bit % 8),
                _ if message.is_empty() => account.0[bit % 32] ^= 1 << (bit % 8),
                _ => {
                    let len = message.len();
                    message[bit % len] ^= 1 << (bit % 8)
                }
            }
            (account, message, signature)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Batch results equal single results item by item (and the reference's), for any mix of
    /// valid, corrupted and random signatures; nothing panics.
    #[test]
    fn batch_equals_single_on_any_mix(items in proptest::collection::vec(item(), 0..24)) {
        let valid = check_agreement(&items);
        prop_assert_eq!(valid.len(), items.len());
    }

    /// Random bytes never make the decoders or the batch check panic.
    #[test]
    fn random_bytes_never_panic(messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..16)) {
        let decoded: Vec<Transaction> = messages
            .iter()
            .filter_map(|bytes| match Message::decode(bytes) {
                Ok(Message::Transaction(tx)) => Some(tx),
                _ => Transaction::decode(bytes).ok(),
            })
            .collect();
        let refs: Vec<&Transaction> = decoded.iter().collect();
        let batched = Transaction::verify_signatures(&refs);
        for (tx, result) in decoded.iter().zip(&batched) {
            prop_assert_eq!(&tx.verify_signature(), result);
        }
    }
}
