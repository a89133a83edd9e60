//! The one balance store seen from both sides: EVM addresses as native accounts, native units as
//! wei, and the EVM chain id of a vein network.

use crate::core::crypto::AccountId;
use revm::primitives::{Address, U256, address, keccak256};

/// Wei per native unit: the native token is ether counted in gwei.
pub const WEI_PER_UNIT: u64 = 1_000_000_000;

/// The block's coinbase: gas fees collect here during one execution and are then split by the
/// fee policy (burned share burned, the rest to the checkpoint author). Its balance is always
/// zero between transactions; ether a contract sends here is paid out as fee.
pub const FEE_SINK: Address = address!("0x000000000000000000000000000000000000fee0");

/// The native account holding the balance of EVM address `address`: 12 zero bytes, then the
/// address. An ed25519 public key starting with 12 zero bytes is not a key anyone can find.
pub fn account_of(address: &Address) -> AccountId {
    let mut bytes = [0u8; 32];
    bytes[12..].copy_from_slice(address.as_slice());
    AccountId(bytes)
}

/// The EVM address of a native account: the inverse of [`account_of`] for accounts it made,
/// and for an ed25519 account the last 20 bytes of keccak256 of its public key (Ethereum's rule
/// for a public key). Funds reach an ed25519 account's EVM address by a native transfer to
/// `account_of(address)`.
pub fn address_of(account: &AccountId) -> Address {
    let bytes = account.as_bytes();
    if bytes[..12].iter().all(|byte| *byte == 0) {
        return Address::from_slice(&bytes[12..]);
    }
    Address::from_slice(&keccak256(bytes)[12..])
}

/// `units` native units as wei.
pub fn units_to_wei(units: u64) -> U256 {
    U256::from(units) * U256::from(WEI_PER_UNIT)
}

/// `wei` as native units, if it is a whole number of gwei that fits a u64.
pub fn wei_to_units(wei: U256) -> Option<u64> {
    let (units, rest) = wei.div_rem(U256::from(WEI_PER_UNIT));
    if rest != U256::ZERO {
        return None;
    }
    u64::try_from(units).ok()
}

/// The EIP-155 chain id of the vein network named `chain_id` (the genesis's name): 31 bits of
/// BLAKE3 of the name, so two vein networks never accept each other's Ethereum transactions
/// and wallets that keep chain ids below 2^53 accept it. Never zero.
pub fn chain_id_of(chain_id: &str) -> u64 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"vein/evm/chain-id/v0");
    hasher.update(chain_id.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first) % 0x7fff_ffff + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evm_address_round_trips_through_its_native_account() {
        let address = address!("0x1234567890abcdef1234567890abcdef12345678");
        assert_eq!(address_of(&account_of(&address)), address);
        let ed25519 = AccountId([7u8; 32]);
        assert_ne!(account_of(&address_of(&ed25519)), ed25519);
    }

    #[test]
    fn only_whole_gwei_convert_to_units() {
        assert_eq!(wei_to_units(units_to_wei(42)), Some(42));
        assert_eq!(wei_to_units(units_to_wei(42) + U256::from(1)), None);
        assert_eq!(wei_to_units(units_to_wei(u64::MAX) * U256::from(2)), None);
    }

    #[test]
    fn chain_ids_differ_by_network_name_and_are_never_zero() {
        assert_ne!(chain_id_of("vein-testnet"), chain_id_of("vein-sim"));
        assert!(chain_id_of("") > 0 && chain_id_of("") < 1 << 31);
    }
}
