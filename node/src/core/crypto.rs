//! Identities and signatures. An account is an ed25519 public key; every unit on the wire is
//! signed by its author. Keys are built from 32 seed bytes (never from an OS random source inside
//! the core) so that the simulator can derive them from its seed.
//!
//! This module is the one place that knows the signature scheme. Signing is RFC 8032
//! (ed25519-dalek); validity is ZIP 215 (`zip215`), checked one signature at a time (`verify`)
//! or many at once (`verify_batch`) with identical answers (docs/protocol.md, "Signature
//! validity").

mod zip215;

use curve25519_dalek::edwards::EdwardsPoint;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An account: the 32 bytes of an ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// The 32 public-key bytes, as hashed into ids and roots.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex characters of the key: the account's form in the API, the CLI
    /// and genesis files ([`AccountId::from_hex`] reads it back).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse 64 hex characters.
    pub fn from_hex(text: &str) -> Result<AccountId, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::BadHex)?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| CryptoError::BadLength { length: bytes.len() })?;
        Ok(AccountId(array))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "acct:{}", hex::encode(&self.0[..4]))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

/// A 64-byte ed25519 signature. Serialised as a byte string so bincode's serde path accepts it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature(pub [u8; 64]);

impl Default for Signature {
    fn default() -> Self {
        Signature([0u8; 64])
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sig:{}", hex::encode(&self.0[..4]))
    }
}

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SignatureVisitor;
        impl<'de> serde::de::Visitor<'de> for SignatureVisitor {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "64 signature bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Signature, E> {
                let array: [u8; 64] =
                    bytes.try_into().map_err(|_| E::invalid_length(bytes.len(), &self))?;
                Ok(Signature(array))
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<Signature, E> {
                self.visit_bytes(bytes)
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Signature, E> {
                self.visit_bytes(&bytes)
            }
        }
        deserializer.deserialize_bytes(SignatureVisitor)
    }
}

/// Why a signature check or an account parse failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The signature is not a valid ZIP 215 signature by `account` over the signed bytes (or
    /// those bytes could not be encoded).
    #[error("signature does not verify for account {account}")]
    BadSignature {
        /// The claimed signer.
        account: AccountId,
    },
    /// The account's 32 bytes do not decompress to a curve point, so nothing verifies for it.
    #[error("account bytes are not a valid ed25519 public key: {account}")]
    BadPublicKey {
        /// The account whose key bytes are invalid.
        account: AccountId,
    },
    /// [`AccountId::from_hex`] was given characters that are not hex digits (or an odd count).
    #[error("not hexadecimal")]
    BadHex,
    /// [`AccountId::from_hex`] decoded hex of the wrong size.
    #[error("expected 32 bytes, got {length}")]
    BadLength {
        /// Bytes decoded (32 expected).
        length: usize,
    },
}

/// A signing identity. Holds the secret key; never serialised onto the wire.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.account())
    }
}

impl Keypair {
    /// Build a key from 32 secret seed bytes.
    pub fn from_seed(seed: [u8; 32]) -> Keypair {
        Keypair { signing: SigningKey::from_bytes(&seed) }
    }

    /// A reproducible key for tests, simulations and testnet genesis: seed = H(label || index).
    pub fn derived(label: &str, index: u64) -> Keypair {
        let seed = crate::core::hash::Hash::of_parts(&[label.as_bytes(), &index.to_le_bytes()]);
        Keypair::from_seed(seed.0)
    }

    /// The 32 secret seed bytes the key was built from; the node derives its other secrets
    /// (member key, random seed) from them, so they never leave it.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public key: the account this key signs for.
    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    /// An RFC 8032 ed25519 signature over `message` (callers prepend their signing domain).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }
}

/// Decompressed public keys kept per thread (cleared when full). Decompressing an account's
/// key is a field square root, about a tenth of a verification, and a node verifies many
/// transactions of the same few accounts; decompression is a pure function, so the cache
/// changes no answer.
const VERIFYING_KEYS_CACHED_MAX: usize = 65_536;

thread_local! {
    static VERIFYING_KEYS: std::cell::RefCell<std::collections::BTreeMap<[u8; 32], EdwardsPoint>> =
        const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
}

/// The point of `account` (cached), or `None` if its bytes are no curve point.
fn verifying_key(account: &AccountId) -> Option<EdwardsPoint> {
    let cached = VERIFYING_KEYS.with(|keys| keys.borrow().get(&account.0).copied());
    if cached.is_some() {
        return cached;
    }
    let key = zip215::decompress(&account.0)?;
    VERIFYING_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= VERIFYING_KEYS_CACHED_MAX {
            keys.clear();
        }
        keys.insert(account.0, key);
    });
    Some(key)
}

/// Decode what both checks need: the key, then the scalar and the challenge.
fn prepare(
    account: &AccountId,
    message: &[u8],
    signature: &Signature,
) -> Result<zip215::Prepared, CryptoError> {
    let key = verifying_key(account).ok_or(CryptoError::BadPublicKey { account: *account })?;
    zip215::prepare(&account.0, key, message, &signature.0)
        .ok_or(CryptoError::BadSignature { account: *account })
}

/// Verify `signature` over `message` by `account` under the protocol's rule (ZIP 215).
pub fn verify(
    account: &AccountId,
    message: &[u8],
    signature: &Signature,
) -> Result<(), CryptoError> {
    let prepared = prepare(account, message, signature)?;
    if zip215::check_single(&prepared) {
        Ok(())
    } else {
        Err(CryptoError::BadSignature { account: *account })
    }
}

/// Verify many signatures at once: one result per item, each exactly what `verify` answers for
/// that item alone (a pure function of its bytes, whatever else is in the batch). Items that
/// fail to decode are refused on their own; the rest are checked with one multi-scalar
/// multiplication, and only if that fails is each checked singly to name the bad ones.
pub fn verify_batch(items: &[(&AccountId, &[u8], &Signature)]) -> Vec<Result<(), CryptoError>> {
    let mut results: Vec<Result<(), CryptoError>> = Vec::with_capacity(items.len());
    let mut prepared = Vec::with_capacity(items.len());
    let mut prepared_at = Vec::with_capacity(items.len());
    for (index, (account, message, signature)) in items.iter().enumerate() {
        match prepare(account, message, signature) {
            Ok(signature) => {
                prepared.push(signature);
                prepared_at.push(index);
                results.push(Ok(()));
            }
            Err(error) => results.push(Err(error)),
        }
    }
    // A batch of one is the single check (the same answer, less work).
    if prepared.len() >= 2 && zip215::check_batch(&prepared) {
        return results;
    }
    for (signature, index) in prepared.iter().zip(prepared_at) {
        if !zip215::check_single(signature) {
            results[index] = Err(CryptoError::BadSignature { account: *items[index].0 });
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify() {
        let key = Keypair::derived("test", 1);
        let signature = key.sign(b"hello");
        assert!(verify(&key.account(), b"hello", &signature).is_ok());
        assert!(matches!(
            verify(&key.account(), b"hellO", &signature),
            Err(CryptoError::BadSignature { .. })
        ));
        let other = Keypair::derived("test", 2);
        assert!(verify(&other.account(), b"hello", &signature).is_err());
    }

    #[test]
    fn cached_keys_verify_exactly_like_fresh_ones() {
        let key = Keypair::derived("test", 4);
        let signature = key.sign(b"hello");
        for _ in 0..3 {
            // The first call decompresses and caches; later ones hit the cache.
            assert!(verify(&key.account(), b"hello", &signature).is_ok());
            assert!(verify(&key.account(), b"hellO", &signature).is_err());
        }
        // Bytes that are no curve point are refused every time, never cached as a key.
        let bad = (0u8..=255)
            .map(|byte| AccountId([byte; 32]))
            .find(|account| zip215::decompress(&account.0).is_none())
            .unwrap();
        for _ in 0..2 {
            assert_eq!(
                verify(&bad, b"hello", &signature),
                Err(CryptoError::BadPublicKey { account: bad })
            );
        }
    }

    /// The batch equation itself holds for valid batches (not only the single fallback):
    /// honest signatures, and signatures over small-order keys and nonces whose single check
    /// passes only under the cofactored rule; one bad signature makes it fail.
    #[test]
    fn the_batch_equation_holds_exactly_for_valid_batches() {
        let identity = {
            let mut bytes = [0u8; 32];
            bytes[0] = 1;
            bytes
        };
        let mut identity_negative_zero = identity;
        identity_negative_zero[31] |= 0x80;
        // y = 1 + p and the point of order two, y = p − 1 (little-endian).
        let mut identity_plus_p = [0xffu8; 32];
        identity_plus_p[0] = 0xee;
        identity_plus_p[31] = 0x7f;
        let mut order_two = [0xffu8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f;
        let small = [identity, identity_negative_zero, identity_plus_p, order_two];
        let mut items: Vec<(AccountId, Vec<u8>, Signature)> = Vec::new();
        for a in small {
            for r in small {
                let mut signature = [0u8; 64];
                signature[..32].copy_from_slice(&r);
                items.push((AccountId(a), b"small".to_vec(), Signature(signature)));
            }
        }
        for i in 0..16u64 {
            let key = Keypair::derived("batch-equation", i % 5);
            let message = i.to_le_bytes().to_vec();
            let signature = key.sign(&message);
            items.push((key.account(), message, signature));
        }
        let prepared: Vec<zip215::Prepared> = items
            .iter()
            .map(|(account, message, signature)| prepare(account, message, signature).unwrap())
            .collect();
        assert!(prepared.iter().all(zip215::check_single));
        assert!(zip215::check_batch(&prepared));
        assert!(zip215::check_batch(&prepared[..2]));
        assert!(zip215::check_batch(&prepared[16..]));
        let (account, message, signature) = &items[20];
        let mut bad = prepared;
        bad[20] = prepare(account, &[message.as_slice(), b"!"].concat(), signature).unwrap();
        assert!(!zip215::check_single(&bad[20]));
        assert!(!zip215::check_batch(&bad));
        assert!(!zip215::check_batch(&bad[16..]));
    }

    #[test]
    fn hex_round_trip() {
        let account = Keypair::derived("test", 3).account();
        assert_eq!(AccountId::from_hex(&account.to_hex()), Ok(account));
        assert_eq!(AccountId::from_hex("zz"), Err(CryptoError::BadHex));
        assert_eq!(AccountId::from_hex("abcd"), Err(CryptoError::BadLength { length: 2 }));
    }
}
