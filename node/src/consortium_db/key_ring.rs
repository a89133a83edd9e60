//! A member node's keys for one consortium: every epoch's data key it can reach. It unwraps
//! the current epoch's key with its X25519 secret and walks the on-chain key chain backwards,
//! so a member that joins late (or rebuilds) can read the whole history, and a removed member
//! holds nothing of the epochs after its removal.

use crate::core::consortium::Consortium;
use crate::core::consortium::keys::{self, DataKey, KeyError, MemberSecret};
use std::collections::BTreeMap;

/// The data keys a member holds for one consortium, by key epoch.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<u64, DataKey>,
}

impl KeyRing {
    /// Every key `secret`'s node can reach in `consortium` as the chain holds it now. A node
    /// that is not (or no longer) a member gets `Ok` with an empty ring only if it never held
    /// a wrapping; it keeps the keys it already had by merging rings (`merge`).
    pub fn unlock(
        consortium: &Consortium,
        node: &crate::core::crypto::AccountId,
        secret: &MemberSecret,
    ) -> Result<KeyRing, KeyError> {
        let mut ring = KeyRing::default();
        let Some(wrapped) = consortium.wrapped.get(node) else { return Ok(ring) };
        let mut epoch = consortium.key_epoch;
        let mut key = keys::unwrap(wrapped, &consortium.id, epoch, secret)?;
        loop {
            let previous = match consortium.key_chain.get(&epoch) {
                Some(sealed) if epoch > 0 => {
                    Some(keys::open_previous(&key, sealed, &consortium.id, epoch)?)
                }
                _ => None,
            };
            ring.keys.insert(epoch, key);
            match previous {
                Some(older) => {
                    epoch -= 1;
                    key = older;
                }
                None => break,
            }
        }
        Ok(ring)
    }

    /// A ring holding only `key` for `epoch`.
    pub fn with_key(epoch: u64, key: DataKey) -> KeyRing {
        KeyRing { keys: BTreeMap::from([(epoch, key)]) }
    }

    /// Add `other`'s keys; on an epoch present in both, `other`'s key wins.
    pub fn merge(&mut self, other: KeyRing) {
        self.keys.extend(other.keys);
    }

    /// The data key of `epoch`, if this member holds it.
    pub fn get(&self, epoch: u64) -> Option<&DataKey> {
        self.keys.get(&epoch)
    }

    /// The epochs whose keys this member holds, ascending.
    pub fn epochs(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.keys().copied()
    }
}
