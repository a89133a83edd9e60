//! Consortium keys. Each consortium has a symmetric data key per key epoch; actions are sealed
//! under it with ChaCha20-Poly1305. The data key reaches each member node wrapped with X25519:
//! the wrapper draws an ephemeral X25519 secret, and the wrapping key is BLAKE3's `derive_key`
//! over the Diffie-Hellman output and both public keys, so only the holder of the member's
//! secret can unwrap it. Each epoch's wrapping also carries the previous epoch's key sealed
//! under the new one (a backward key chain): a member that holds the newest key can read the
//! whole history, which is what rebuilding a replica from genesis needs, while a member removed
//! at epoch e never receives a key of epoch e or later.
//!
//! The core draws no randomness: wrapping takes the ephemeral secret from the caller (a client
//! with a real random source), and an action's nonce is synthetic (keyed BLAKE3 of the
//! plaintext, as in `storage::encrypt`), so the same key never seals two different plaintexts
//! under one nonce except on a 96-bit PRF collision.

use crate::core::hash::Hash;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};

/// Bytes in an AEAD nonce.
pub const NONCE_BYTES: usize = 12;

const WRAP_KEY_CONTEXT: &str = "vein consortium v1 key wrap";
const CHAIN_KEY_CONTEXT: &str = "vein consortium v1 key chain";
const ACTION_KEY_CONTEXT: &str = "vein consortium v1 action aead key";
const NONCE_KEY_CONTEXT: &str = "vein consortium v1 action synthetic nonce";

/// A consortium's symmetric data key for one epoch. Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub [u8; 32]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey(<redacted>)")
    }
}

/// A member node's X25519 secret. Debug output is redacted.
#[derive(Clone)]
pub struct MemberSecret(StaticSecret);

impl fmt::Debug for MemberSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberSecret(<redacted>)")
    }
}

impl MemberSecret {
    /// The secret with these bytes (clamped by X25519 when used).
    pub fn from_bytes(bytes: [u8; 32]) -> MemberSecret {
        MemberSecret(StaticSecret::from(bytes))
    }

    /// A member secret derived from a node's signing seed, so a node needs no second secret
    /// file: BLAKE3 `derive_key` separates it from every other use of the seed.
    pub fn derived_from_seed(seed: &[u8; 32]) -> MemberSecret {
        MemberSecret::from_bytes(blake3::derive_key("vein consortium v1 member secret", seed))
    }

    /// The X25519 public key other parties wrap data keys for.
    pub fn public(&self) -> [u8; 32] {
        PublicKey::from(&self.0).to_bytes()
    }
}

/// A data key wrapped for one member node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The wrapper's one-time X25519 public key; the member combines it with its secret.
    pub ephemeral_public: [u8; 32],
    /// The data key sealed under the wrapping key: 32 bytes plus the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// Why wrapping, unwrapping, sealing or opening a consortium key or action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The other side's X25519 key (the member's when wrapping, the ephemeral one when
    /// unwrapping) is a low-order point: the shared secret would be predictable.
    #[error("the ephemeral key is a low-order point: the wrapping is worthless")]
    LowOrderPoint,
    /// A wrapped or chained key fails authentication: altered, or bound to another consortium,
    /// epoch or node.
    #[error("a wrapped or chained key does not open: tampered, or not for this member")]
    Unwrap,
    /// An action's ciphertext fails authentication under the epoch's data key.
    #[error("an action's ciphertext does not open under the epoch's key: tampered or wrong key")]
    Decrypt,
    /// An opened wrapped or chained key is not 32 bytes long.
    #[error("an opened key is {bytes} bytes, not 32")]
    KeyLength {
        /// Length of the opened plaintext, in bytes.
        bytes: usize,
    },
    /// The AEAD refused to seal: only for a plaintext beyond ChaCha20-Poly1305's length limit.
    #[error("a plaintext of {bytes} bytes cannot be sealed")]
    Seal {
        /// Length of the plaintext, in bytes.
        bytes: usize,
    },
}

/// What a wrapping is bound to: a wrapped key moved to another consortium, epoch or node does
/// not open.
fn wrap_binding(consortium: &Hash, epoch: u64, node_public: &[u8; 32]) -> Vec<u8> {
    let mut aad = b"vein/consortium/wrap/v1".to_vec();
    aad.extend_from_slice(consortium.as_bytes());
    aad.extend_from_slice(&epoch.to_le_bytes());
    aad.extend_from_slice(node_public);
    aad
}

fn aead(key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(Key::from_slice(key))
}

fn wrapping_key(
    shared: &[u8; 32],
    ephemeral_public: &[u8; 32],
    node_public: &[u8; 32],
) -> [u8; 32] {
    let mut material = Vec::with_capacity(96);
    material.extend_from_slice(shared);
    material.extend_from_slice(ephemeral_public);
    material.extend_from_slice(node_public);
    blake3::derive_key(WRAP_KEY_CONTEXT, &material)
}

fn open_key(cipher: &ChaCha20Poly1305, ciphertext: &[u8], aad: &[u8]) -> Result<DataKey, KeyError> {
    let nonce = [0u8; NONCE_BYTES];
    let bytes = cipher
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: ciphertext, aad })
        .map_err(|_| KeyError::Unwrap)?;
    let key: [u8; 32] =
        bytes.as_slice().try_into().map_err(|_| KeyError::KeyLength { bytes: bytes.len() })?;
    Ok(DataKey(key))
}

/// Wrap `key` for the member whose X25519 public key is `node_public`. `ephemeral` must be
/// fresh randomness (one per wrapping): the wrapping key is then used once, so a zero nonce
/// is safe.
pub fn wrap(
    key: &DataKey,
    consortium: &Hash,
    epoch: u64,
    node_public: &[u8; 32],
    ephemeral: [u8; 32],
) -> Result<WrappedKey, KeyError> {
    let ephemeral = StaticSecret::from(ephemeral);
    let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
    let shared = ephemeral.diffie_hellman(&PublicKey::from(*node_public));
    if !shared.was_contributory() {
        return Err(KeyError::LowOrderPoint);
    }
    let wrapping = wrapping_key(shared.as_bytes(), &ephemeral_public, node_public);
    let aad = wrap_binding(consortium, epoch, node_public);
    let nonce = [0u8; NONCE_BYTES];
    let ciphertext = aead(&wrapping)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &key.0, aad: &aad })
        .map_err(|_| KeyError::Seal { bytes: key.0.len() })?;
    Ok(WrappedKey { ephemeral_public, ciphertext })
}

/// Unwrap a data key wrapped for `secret`'s node.
pub fn unwrap(
    wrapped: &WrappedKey,
    consortium: &Hash,
    epoch: u64,
    secret: &MemberSecret,
) -> Result<DataKey, KeyError> {
    let shared = secret.0.diffie_hellman(&PublicKey::from(wrapped.ephemeral_public));
    if !shared.was_contributory() {
        return Err(KeyError::LowOrderPoint);
    }
    let node_public = secret.public();
    let wrapping = wrapping_key(shared.as_bytes(), &wrapped.ephemeral_public, &node_public);
    let aad = wrap_binding(consortium, epoch, &node_public);
    open_key(&aead(&wrapping), &wrapped.ciphertext, &aad)
}

fn chain_binding(consortium: &Hash, epoch: u64) -> Vec<u8> {
    let mut aad = b"vein/consortium/chain/v1".to_vec();
    aad.extend_from_slice(consortium.as_bytes());
    aad.extend_from_slice(&epoch.to_le_bytes());
    aad
}

/// Seal the previous epoch's key under the new epoch's (`epoch` is the new one).
pub fn chain_previous(
    new_key: &DataKey,
    previous: &DataKey,
    consortium: &Hash,
    epoch: u64,
) -> Result<Vec<u8>, KeyError> {
    let chain = blake3::derive_key(CHAIN_KEY_CONTEXT, &new_key.0);
    let nonce = [0u8; NONCE_BYTES];
    let aad = chain_binding(consortium, epoch);
    aead(&chain)
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &previous.0, aad: &aad })
        .map_err(|_| KeyError::Seal { bytes: previous.0.len() })
}

/// Open the previous epoch's key from the new epoch's chain link.
pub fn open_previous(
    new_key: &DataKey,
    sealed: &[u8],
    consortium: &Hash,
    epoch: u64,
) -> Result<DataKey, KeyError> {
    let chain = blake3::derive_key(CHAIN_KEY_CONTEXT, &new_key.0);
    open_key(&aead(&chain), sealed, &chain_binding(consortium, epoch))
}

fn action_binding(consortium: &Hash, epoch: u64, table: &str) -> Vec<u8> {
    let mut aad = b"vein/consortium/action/v1".to_vec();
    aad.extend_from_slice(consortium.as_bytes());
    aad.extend_from_slice(&epoch.to_le_bytes());
    aad.extend_from_slice(table.as_bytes());
    aad
}

/// Seal an action's plaintext: returns the synthetic nonce and the ciphertext.
pub fn seal_action(
    key: &DataKey,
    consortium: &Hash,
    epoch: u64,
    table: &str,
    plaintext: &[u8],
) -> Result<([u8; NONCE_BYTES], Vec<u8>), KeyError> {
    let nonce_key = blake3::derive_key(NONCE_KEY_CONTEXT, &key.0);
    let mut nonce = [0u8; NONCE_BYTES];
    nonce.copy_from_slice(&blake3::keyed_hash(&nonce_key, plaintext).as_bytes()[..NONCE_BYTES]);
    let aad = action_binding(consortium, epoch, table);
    let ciphertext = aead(&blake3::derive_key(ACTION_KEY_CONTEXT, &key.0))
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| KeyError::Seal { bytes: plaintext.len() })?;
    Ok((nonce, ciphertext))
}

/// Open an action's ciphertext.
pub fn open_action(
    key: &DataKey,
    consortium: &Hash,
    epoch: u64,
    table: &str,
    nonce: &[u8; NONCE_BYTES],
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let aad = action_binding(consortium, epoch, table);
    aead(&blake3::derive_key(ACTION_KEY_CONTEXT, &key.0))
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| KeyError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consortium() -> Hash {
        Hash::of(b"consortium")
    }

    #[test]
    fn a_wrapped_key_opens_only_for_its_member_epoch_and_consortium() {
        let key = DataKey([7u8; 32]);
        let member = MemberSecret::from_bytes([1u8; 32]);
        let other = MemberSecret::from_bytes([2u8; 32]);
        let wrapped = wrap(&key, &consortium(), 3, &member.public(), [9u8; 32]).unwrap();
        assert_eq!(unwrap(&wrapped, &consortium(), 3, &member).unwrap(), key);
        assert_eq!(unwrap(&wrapped, &consortium(), 3, &other), Err(KeyError::Unwrap));
        assert_eq!(unwrap(&wrapped, &consortium(), 4, &member), Err(KeyError::Unwrap));
        assert_eq!(unwrap(&wrapped, &Hash::ZERO, 3, &member), Err(KeyError::Unwrap));
        let mut tampered = wrapped.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(unwrap(&tampered, &consortium(), 3, &member), Err(KeyError::Unwrap));
    }

    #[test]
    fn a_low_order_ephemeral_point_is_refused() {
        let member = MemberSecret::from_bytes([1u8; 32]);
        let wrapped = WrappedKey { ephemeral_public: [0u8; 32], ciphertext: vec![0u8; 48] };
        assert_eq!(unwrap(&wrapped, &consortium(), 0, &member), Err(KeyError::LowOrderPoint));
        assert!(wrap(&DataKey([7u8; 32]), &consortium(), 0, &[0u8; 32], [9u8; 32]).is_err());
    }

    #[test]
    fn the_key_chain_opens_backwards_only_with_the_newer_key() {
        let old = DataKey([1u8; 32]);
        let new = DataKey([2u8; 32]);
        let link = chain_previous(&new, &old, &consortium(), 1).unwrap();
        assert_eq!(open_previous(&new, &link, &consortium(), 1).unwrap(), old);
        assert!(open_previous(&old, &link, &consortium(), 1).is_err());
        assert!(open_previous(&new, &link, &consortium(), 2).is_err());
    }

    #[test]
    fn an_action_opens_under_its_key_and_binding_only() {
        let key = DataKey([5u8; 32]);
        let (nonce, sealed) = seal_action(&key, &consortium(), 0, "t", b"secret row").unwrap();
        assert!(!sealed.windows(6).any(|window| window == b"secret"));
        let opened = open_action(&key, &consortium(), 0, "t", &nonce, &sealed).unwrap();
        assert_eq!(opened, b"secret row");
        assert!(open_action(&key, &consortium(), 0, "u", &nonce, &sealed).is_err());
        assert!(open_action(&DataKey([6u8; 32]), &consortium(), 0, "t", &nonce, &sealed).is_err());
    }
}
