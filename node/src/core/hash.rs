//! Content hashes. Every unit, checkpoint, plot scoop and storage chunk is named by the BLAKE3 hash
//! of its canonical bytes; this module is the one place that picks the function.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The hasher of maps keyed by ids that are only looked up, never iterated ([`IdMap`]).
/// foldhash, seeded per map from process randomness: an id is 32 uniformly random bytes, so a
/// few multiplies spread it as well as SipHash's rounds do, at a fraction of the cost on the
/// per-message path. The per-map seed keeps a peer that grinds ids from aiming them at one
/// bucket. The seed never reaches state: nothing may iterate such a map.
pub type IdHasher = foldhash::fast::RandomState;

/// A map from ids, looked up on hot paths and never iterated (see [`IdHasher`]).
pub type IdMap<V> = std::collections::HashMap<Hash, V, IdHasher>;

/// A 32-byte BLAKE3 digest.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// All zero bytes: a placeholder (e.g. the genesis header's `prev`, an empty tree's leaf);
    /// no input is known to hash to it.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// Hash one byte string.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(*blake3::hash(bytes).as_bytes())
    }

    /// Hash the concatenation of several byte strings without allocating.
    pub fn of_parts(parts: &[&[u8]]) -> Hash {
        let mut hasher = blake3::Hasher::new();
        for part in parts {
            hasher.update(part);
        }
        Hash(*hasher.finalize().as_bytes())
    }

    /// The raw 32 digest bytes, for hashing into other digests and for wire encodings.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first eight bytes read little-endian: used for hits, scoop indices and PRF draws.
    pub fn first_u64_le(&self) -> u64 {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(head)
    }

    /// Short hex prefix for logs.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(&self.0[..6]))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_equal_concatenation() {
        assert_eq!(Hash::of_parts(&[b"ab", b"cd"]), Hash::of(b"abcd"));
        assert_ne!(Hash::of(b"abcd"), Hash::of(b"abce"));
    }
}
