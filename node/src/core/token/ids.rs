//! Token ids and the ERC-20 address each token is seen at. An id is derived from the issuing
//! transaction's spend key, so it is unique (a spend key is) and known before the transaction is
//! ordered; the address is a fixed prefix and the id's first 16 bytes, so a wallet or contract
//! can compute it from the id alone.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first four bytes of every token's ERC-20 address: the range the EVM adapter answers
/// itself. An address in it with no token behind it has no code and holds nothing.
pub const ERC20_ADDRESS_PREFIX: [u8; 4] = [0xe2, 0x0c, 0xe2, 0x0c];

/// Bytes of the token id in its ERC-20 address (after the prefix).
pub const ERC20_ADDRESS_ID_BYTES: usize = 16;

/// A business token's id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct TokenId(pub Hash);

/// The id of the token issued by `(issuer, nonce)`.
pub fn token_id(issuer: &AccountId, nonce: u64) -> TokenId {
    TokenId(Hash::of_parts(&[b"vein/token/id/v1", issuer.as_bytes(), &nonce.to_le_bytes()]))
}

impl TokenId {
    /// The raw 32-byte hash (`token_id`'s output).
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The 20-byte ERC-20 address of this token: `ERC20_ADDRESS_PREFIX ‖ id[..16]`.
    pub fn erc20_address(&self) -> [u8; 20] {
        let mut address = [0u8; 20];
        address[..4].copy_from_slice(&ERC20_ADDRESS_PREFIX);
        address[4..].copy_from_slice(&self.as_bytes()[..ERC20_ADDRESS_ID_BYTES]);
        address
    }

    /// Parse 64 hex digits.
    pub fn from_hex(text: &str) -> Option<TokenId> {
        let bytes = hex::decode(text.trim()).ok()?;
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(TokenId(Hash(array)))
    }
}

/// The id prefix an ERC-20 address names, if the address lies in the token range.
pub fn id_prefix_of(address: &[u8; 20]) -> Option<[u8; ERC20_ADDRESS_ID_BYTES]> {
    if address[..4] != ERC20_ADDRESS_PREFIX {
        return None;
    }
    let mut prefix = [0u8; ERC20_ADDRESS_ID_BYTES];
    prefix.copy_from_slice(&address[4..]);
    Some(prefix)
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token:{:?}", self.0)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_by_issuer_and_nonce_and_round_trip_through_hex() {
        let alice = AccountId([1u8; 32]);
        let bob = AccountId([2u8; 32]);
        assert_ne!(token_id(&alice, 0), token_id(&alice, 1));
        assert_ne!(token_id(&alice, 0), token_id(&bob, 0));
        let id = token_id(&alice, 7);
        assert_eq!(TokenId::from_hex(&id.to_string()), Some(id));
        assert_eq!(TokenId::from_hex("xyz"), None);
        assert_eq!(TokenId::from_hex("00"), None);
    }

    #[test]
    fn the_erc20_address_carries_the_prefix_and_the_id() {
        let id = token_id(&AccountId([1u8; 32]), 0);
        let address = id.erc20_address();
        assert_eq!(id_prefix_of(&address).unwrap(), id.as_bytes()[..16]);
        let mut outside = address;
        outside[0] ^= 1;
        assert_eq!(id_prefix_of(&outside), None);
    }
}
