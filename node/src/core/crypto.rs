//! Identities and signatures. An account is an ed25519 public key; every unit on the wire is
//! signed by its author. Keys are built from 32 seed bytes (never from an OS random source inside
//! the core) so that the simulator can derive them from its seed.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An account: the 32 bytes of an ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("signature does not verify for account {account}")]
    BadSignature { account: AccountId },
    #[error("account bytes are not a valid ed25519 public key: {account}")]
    BadPublicKey { account: AccountId },
    #[error("not hexadecimal")]
    BadHex,
    #[error("expected 32 bytes, got {length}")]
    BadLength { length: usize },
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

    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }
}

/// Decompressed public keys kept per thread (cleared when full). Decompressing an account's
/// key is a field square root, about a tenth of a verification, and a node verifies many
/// transactions of the same few accounts; `from_bytes` is a pure function, so the cache
/// changes no answer.
const VERIFYING_KEYS_CACHED_MAX: usize = 65_536;

thread_local! {
    static VERIFYING_KEYS: std::cell::RefCell<std::collections::BTreeMap<[u8; 32], VerifyingKey>> =
        const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
}

/// The decompressed key of `account` (cached), or `None` if its bytes are not a valid key.
fn verifying_key(account: &AccountId) -> Option<VerifyingKey> {
    let cached = VERIFYING_KEYS.with(|keys| keys.borrow().get(&account.0).copied());
    if cached.is_some() {
        return cached;
    }
    let key = VerifyingKey::from_bytes(&account.0).ok()?;
    VERIFYING_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= VERIFYING_KEYS_CACHED_MAX {
            keys.clear();
        }
        keys.insert(account.0, key);
    });
    Some(key)
}

/// Verify `signature` over `message` by `account`.
pub fn verify(
    account: &AccountId,
    message: &[u8],
    signature: &Signature,
) -> Result<(), CryptoError> {
    let key = verifying_key(account).ok_or(CryptoError::BadPublicKey { account: *account })?;
    let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify(message, &signature).map_err(|_| CryptoError::BadSignature { account: *account })
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
            .find(|account| VerifyingKey::from_bytes(&account.0).is_err())
            .unwrap();
        for _ in 0..2 {
            assert_eq!(
                verify(&bad, b"hello", &signature),
                Err(CryptoError::BadPublicKey { account: bad })
            );
        }
    }

    #[test]
    fn hex_round_trip() {
        let account = Keypair::derived("test", 3).account();
        assert_eq!(AccountId::from_hex(&account.to_hex()), Ok(account));
        assert_eq!(AccountId::from_hex("zz"), Err(CryptoError::BadHex));
        assert_eq!(AccountId::from_hex("abcd"), Err(CryptoError::BadLength { length: 2 }));
    }
}
