//! Whole-file authenticated encryption with ChaCha20-Poly1305.
//!
//! Model: the data owner holds a 32-byte [`OwnerKey`] that never leaves its machine. A file is
//! encrypted once, as a whole, before erasure coding, so storage nodes only ever see ciphertext
//! shards and nobody without the key can read the content (PROTOCOL.md section 5).
//!
//! Two independent subkeys are derived from the owner key with BLAKE3's `derive_key` (one for the
//! AEAD, one for the nonce PRF) so that no key is used by two primitives.
//!
//! Nonces: ChaCha20-Poly1305 is broken if one key encrypts two different plaintexts under the same
//! nonce (the keystreams cancel and Poly1305's key is revealed). The core has no randomness of its
//! own, so the default nonce is *synthetic* (the SIV idea): `nonce = keyed-BLAKE3(nonce_key,
//! plaintext)[..12]`. Two different plaintexts then share a nonce only on a 96-bit PRF collision
//! (birthday bound: about 2^48 files per key), and identical plaintexts give identical ciphertexts,
//! which reveals only that the owner stored the same file twice. Callers who do have good
//! randomness may pass their own nonce to [`encrypt`] instead. The nonce is not secret; the file
//! layer stores it in clear next to the ciphertext.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::fmt;

/// Bytes in an AEAD nonce.
pub const NONCE_BYTES: usize = 12;
/// Bytes the AEAD tag adds to every ciphertext.
pub const TAG_BYTES: usize = 16;

/// Binds ciphertexts to this protocol and version: a ciphertext made for another purpose under the
/// same key does not decrypt here.
const ASSOCIATED_DATA: &[u8] = b"vein/storage/file/v1";
const AEAD_KEY_CONTEXT: &str = "vein storage v1 aead key";
const NONCE_KEY_CONTEXT: &str = "vein storage v1 synthetic nonce key";

/// The data owner's secret. Debug output is redacted so keys never reach logs.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerKey(pub [u8; 32]);

impl fmt::Debug for OwnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerKey(<redacted>)")
    }
}

impl OwnerKey {
    fn aead(&self) -> ChaCha20Poly1305 {
        let subkey = blake3::derive_key(AEAD_KEY_CONTEXT, &self.0);
        ChaCha20Poly1305::new(Key::from_slice(&subkey))
    }
}

/// Why a file could not be encrypted or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    /// The plaintext exceeds what one ChaCha20-Poly1305 message may hold (about 256 GiB).
    #[error("plaintext of {plaintext_bytes} bytes is too long for ChaCha20-Poly1305")]
    TooLong {
        /// Length of the plaintext.
        plaintext_bytes: usize,
    },
    /// The ciphertext cannot even hold the authentication tag.
    #[error("ciphertext of {ciphertext_bytes} bytes is shorter than the {TAG_BYTES}-byte tag")]
    TooShort {
        /// Length of the ciphertext, tag included.
        ciphertext_bytes: usize,
    },
    /// The tag does not verify: the bytes were altered, or the key or nonce is not the one
    /// they were encrypted with.
    #[error("ciphertext of {ciphertext_bytes} bytes fails authentication: tampered or wrong key")]
    Tampered {
        /// Length of the ciphertext, tag included.
        ciphertext_bytes: usize,
    },
}

/// The deterministic (synthetic) nonce for `plaintext` under `key`; see the module comment.
pub fn synthetic_nonce(key: &OwnerKey, plaintext: &[u8]) -> [u8; NONCE_BYTES] {
    let nonce_key = blake3::derive_key(NONCE_KEY_CONTEXT, &key.0);
    let digest = blake3::keyed_hash(&nonce_key, plaintext);
    let mut nonce = [0u8; NONCE_BYTES];
    nonce.copy_from_slice(&digest.as_bytes()[..NONCE_BYTES]);
    nonce
}

/// Encrypt `plaintext`; the result is `plaintext.len() + TAG_BYTES` bytes.
pub fn encrypt(
    key: &OwnerKey,
    nonce: &[u8; NONCE_BYTES],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    let payload = Payload { msg: plaintext, aad: ASSOCIATED_DATA };
    let ciphertext = key
        .aead()
        .encrypt(Nonce::from_slice(nonce), payload)
        .map_err(|_| EncryptError::TooLong { plaintext_bytes: plaintext.len() })?;
    debug_assert_eq!(ciphertext.len(), plaintext.len() + TAG_BYTES);
    Ok(ciphertext)
}

/// Decrypt and authenticate; any change to ciphertext, nonce or key yields `Tampered`.
pub fn decrypt(
    key: &OwnerKey,
    nonce: &[u8; NONCE_BYTES],
    ciphertext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    if ciphertext.len() < TAG_BYTES {
        return Err(EncryptError::TooShort { ciphertext_bytes: ciphertext.len() });
    }
    let payload = Payload { msg: ciphertext, aad: ASSOCIATED_DATA };
    key.aead()
        .decrypt(Nonce::from_slice(nonce), payload)
        .map_err(|_| EncryptError::Tampered { ciphertext_bytes: ciphertext.len() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(byte: u8) -> OwnerKey {
        OwnerKey([byte; 32])
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let plaintext = b"the quick brown fox".to_vec();
        let nonce = synthetic_nonce(&key(1), &plaintext);
        let ciphertext = encrypt(&key(1), &nonce, &plaintext).unwrap();
        assert_ne!(&ciphertext[..plaintext.len()], &plaintext[..]);
        assert_eq!(decrypt(&key(1), &nonce, &ciphertext).unwrap(), plaintext);
        assert_eq!(
            decrypt(&key(2), &nonce, &ciphertext),
            Err(EncryptError::Tampered { ciphertext_bytes: ciphertext.len() })
        );
        assert_eq!(
            decrypt(&key(1), &nonce, &ciphertext[..3]),
            Err(EncryptError::TooShort { ciphertext_bytes: 3 })
        );
    }

    #[test]
    fn synthetic_nonce_depends_on_key_and_plaintext() {
        assert_eq!(synthetic_nonce(&key(1), b"a"), synthetic_nonce(&key(1), b"a"));
        assert_ne!(synthetic_nonce(&key(1), b"a"), synthetic_nonce(&key(1), b"b"));
        assert_ne!(synthetic_nonce(&key(1), b"a"), synthetic_nonce(&key(2), b"a"));
        assert_eq!(format!("{:?}", key(7)), "OwnerKey(<redacted>)");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_flipped_bit_is_detected(
            plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
            position in any::<usize>(),
            bit in 0u8..8,
        ) {
            let nonce = synthetic_nonce(&key(3), &plaintext);
            let mut ciphertext = encrypt(&key(3), &nonce, &plaintext).unwrap();
            let position = position % ciphertext.len();
            ciphertext[position] ^= 1 << bit;
            prop_assert!(
                matches!(decrypt(&key(3), &nonce, &ciphertext), Err(EncryptError::Tampered { .. })),
                "flipped bit accepted"
            );
        }
    }
}
