//! Recovering an Ethereum transaction's sender from its signature: Ethereum's `ecrecover` on
//! k256, in one linear combination.
//!
//! Model: for a signature `(r, s, y parity)` over the transaction's signing hash `z`, the
//! signer's public key is `Q = r⁻¹ (s·R − z·G)`, where `R` is the curve point with x = r and the
//! given y parity. `alloy`'s `recover_signer` (through k256's `recover_from_prehash`) computes
//! `Q` this way and then verifies the signature against `Q`, a second scalar multiplication of
//! the same cost. That check cannot fail: verification computes `z·s⁻¹·G + r·s⁻¹·Q`, which is
//! `R` by construction, whose x is `r`. So this module computes `Q` once and skips it: half the
//! secp256k1 work of every recovery, the costliest step of an ERC-20 transfer on every node.
//!
//! The accepted set is alloy's exactly (a consensus matter: a sender one node recovers and
//! another refuses would split them): `s` at most n/2 (EIP-2), `r` and `s` in `1..n`, `R` on
//! the curve, `Q` not the identity. The test compares the two on valid, tampered, high-s,
//! zero, out-of-range and off-curve signatures.

use alloy_consensus::TxEnvelope;
use alloy_consensus::private::alloy_primitives::Signature;
use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::ops::{Invert, LinearCombination, Reduce};
use k256::elliptic_curve::point::DecompressPoint;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::subtle::Choice;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use revm::primitives::{Address, B256, U256, keccak256};

/// secp256k1's group order halved: EIP-2's bound on `s`.
const N_HALF: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Why no sender can be recovered from a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// `s` above n/2: a malleable signature, refused since Homestead (EIP-2).
    #[error("signature s is above secp256k1n/2 (EIP-2)")]
    HighS,
    /// `r` or `s` is zero or not below the group order.
    #[error("signature {which} is zero or not below the group order")]
    ScalarOutOfRange {
        /// "r" or "s".
        which: &'static str,
    },
    /// No curve point has x = `r`.
    #[error("signature r is not the x coordinate of a curve point")]
    NotOnCurve,
    /// The recovered key is the point at infinity.
    #[error("the recovered public key is the identity")]
    Identity,
}

/// The sender of a signed transaction of a type vein executes (legacy, 2930, 1559); `None`
/// for other types, which the caller refuses first.
pub(super) fn sender_of(envelope: &TxEnvelope) -> Option<Result<Address, RecoveryError>> {
    let (signature, hash) = match envelope {
        TxEnvelope::Legacy(signed) => (signed.signature(), signed.signature_hash()),
        TxEnvelope::Eip2930(signed) => (signed.signature(), signed.signature_hash()),
        TxEnvelope::Eip1559(signed) => (signed.signature(), signed.signature_hash()),
        _ => return None,
    };
    Some(recover(signature, &hash))
}

fn scalar(value: U256, which: &'static str) -> Result<Scalar, RecoveryError> {
    let bytes = FieldBytes::from(value.to_be_bytes::<32>());
    Option::<Scalar>::from(Scalar::from_repr(bytes))
        .filter(|scalar| !bool::from(scalar.is_zero()))
        .ok_or(RecoveryError::ScalarOutOfRange { which })
}

/// The address that signed `prehash` with `signature` (see the module comment).
pub fn recover(signature: &Signature, prehash: &B256) -> Result<Address, RecoveryError> {
    if signature.s() > N_HALF {
        return Err(RecoveryError::HighS);
    }
    let r = scalar(signature.r(), "r")?;
    let s = scalar(signature.s(), "s")?;
    let z = <Scalar as Reduce<k256::U256>>::reduce_bytes(&FieldBytes::from(prehash.0));
    let parity = Choice::from(u8::from(signature.v()));
    let big_r = Option::<AffinePoint>::from(AffinePoint::decompress(&r.to_repr(), parity))
        .ok_or(RecoveryError::NotOnCurve)?;
    // r is public: the variable-time inverse leaks nothing.
    let r_inv = Option::<Scalar>::from(r.invert_vartime()).ok_or(RecoveryError::Identity)?;
    let u1 = -(r_inv * z);
    let u2 = r_inv * s;
    let key = ProjectivePoint::lincomb(&ProjectivePoint::GENERATOR, &u1, &big_r.into(), &u2);
    if key == ProjectivePoint::IDENTITY {
        return Err(RecoveryError::Identity);
    }
    let encoded = key.to_affine().to_encoded_point(false);
    Ok(Address::from_slice(&keccak256(&encoded.as_bytes()[1..])[12..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::private::alloy_primitives::Signature;
    use k256::ecdsa::SigningKey;
    use proptest::prelude::*;

    /// What alloy (the reference this replaces) recovers, or `None` where it refuses.
    fn alloy_recover(signature: &Signature, prehash: &B256) -> Option<Address> {
        alloy_consensus::crypto::secp256k1::recover_signer(signature, *prehash).ok()
    }

    fn signed(key: [u8; 32], prehash: B256) -> Option<Signature> {
        let key = SigningKey::from_bytes(&key.into()).ok()?;
        let (signature, parity) = key.sign_prehash_recoverable(prehash.as_slice()).ok()?;
        Some(Signature::from_signature_and_parity(signature, parity.is_y_odd()))
    }

    fn check(signature: &Signature, prehash: &B256) -> Result<(), TestCaseError> {
        prop_assert_eq!(recover(signature, prehash).ok(), alloy_recover(signature, prehash));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Valid signatures recover alloy's address; a flipped parity, a tampered r or s, the
        /// high-s twin and arbitrary (r, s) pairs get alloy's answer too, refusal or address.
        #[test]
        fn recovery_agrees_with_alloy(
            key in any::<[u8; 32]>(),
            prehash in any::<[u8; 32]>(),
            flip in 0usize..256,
            r in any::<[u8; 32]>(),
            s in any::<[u8; 32]>(),
            parity in any::<bool>(),
        ) {
            let prehash = B256::from(prehash);
            if let Some(valid) = signed(key, prehash) {
                let address = recover(&valid, &prehash);
                prop_assert!(address.is_ok());
                check(&valid, &prehash)?;
                check(&Signature::new(valid.r(), valid.s(), !valid.v()), &prehash)?;
                let bit = U256::from(1u8) << flip;
                check(&Signature::new(valid.r() ^ bit, valid.s(), valid.v()), &prehash)?;
                check(&Signature::new(valid.r(), valid.s() ^ bit, valid.v()), &prehash)?;
                let order = N_HALF * U256::from(2u8) + U256::from(1u8);
                check(&Signature::new(valid.r(), order - valid.s(), valid.v()), &prehash)?;
            }
            let arbitrary = Signature::new(U256::from_be_bytes(r), U256::from_be_bytes(s), parity);
            check(&arbitrary, &prehash)?;
        }
    }

    #[test]
    fn edge_scalars_are_refused_as_alloy_refuses_them() {
        let prehash = B256::repeat_byte(7);
        let valid = signed([3; 32], prehash).unwrap();
        let order = N_HALF * U256::from(2u8) + U256::from(1u8);
        for (r, s) in [
            (U256::ZERO, valid.s()),
            (valid.r(), U256::ZERO),
            (order, valid.s()),
            (order + U256::from(1u8), valid.s()),
            (U256::MAX, valid.s()),
            (valid.r(), N_HALF + U256::from(1u8)),
        ] {
            let signature = Signature::new(r, s, valid.v());
            assert!(recover(&signature, &prehash).is_err(), "r {r} s {s}");
            assert_eq!(alloy_recover(&signature, &prehash), None, "r {r} s {s}");
        }
        assert_eq!(recover(&valid, &prehash).ok(), alloy_recover(&valid, &prehash));
    }
}
