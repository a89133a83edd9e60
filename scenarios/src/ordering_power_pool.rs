//! The Ethereum side of the ordering-power family: the `SwapPool` contract
//! (`contracts/SwapPool.sol`, its committed build), the traders' secp256k1 wallets, the calls
//! they sign, the pool's state read from a node's ledger, and the pool's arithmetic mirrored in
//! integers so the attacker can plan a sandwich exactly.
//!
//! Model: the pool keeps both tokens itself (balances in two maps, no approvals), so a trader
//! needs one contract and no ERC-20. Amounts are `u128` (the run's reserves and supplies stay
//! far below 2^100, so the contract's uint256 products fit). [`Reserves::swap`] is the
//! contract's `quote` and reserve update, integer for integer: every run checks it against the
//! contract (a buy applied first in the attacker's own checkpoint must pay what the mirror
//! planned, else the violation `pool-mirror`).

use alloy_consensus::private::alloy_eips::eip2718::Encodable2718;
use alloy_consensus::private::alloy_primitives::{Signature, TxKind as EthTxKind, keccak256};
use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use k256::ecdsa::SigningKey;
use vein_node::core::evm::{Address, B256, EvmCall, EvmState, GAS_PRICE_MIN_WEI, U256};
use vein_node::core::hash::Hash;
use vein_node::core::transaction::TxKind;

const SWAP_POOL_BUILD: &str = include_str!("../../contracts/build/SwapPool.json");

/// Gas limit of the pool's deployment.
pub const GAS_DEPLOY: u64 = 1_000_000;
/// Gas limit of a swap or transfer (~50,000 used: cold slots and a log).
pub const GAS_CALL: u64 = 120_000;

/// Storage slots of `SwapPool` (its declaration order).
const SLOT_RESERVE0: u64 = 0;
const SLOT_RESERVE1: u64 = 1;
const SLOT_BALANCE0: u64 = 2;
const SLOT_BALANCE1: u64 = 3;

/// The pool's fee on the amount in, per mille (`FEE_PER_MILLE`).
const FEE_PER_MILLE: u128 = 3;

/// Why the pool's build could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PoolBuildError {
    /// The committed build is not JSON with a hex `bytecode` string.
    #[error("contracts/build/SwapPool.json: {detail}")]
    Build {
        /// What was wrong with it.
        detail: String,
    },
}

/// The pool's two reserves, and its swap formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserves {
    /// Token 0 held by the pool.
    pub reserve0: u128,
    /// Token 1 held by the pool.
    pub reserve1: u128,
}

impl Reserves {
    /// What a swap of `amount_in` pays out (`quote`): Uniswap v2's formula with the fee.
    pub fn quote(&self, zero_for_one: bool, amount_in: u128) -> u128 {
        let (reserve_in, reserve_out) = if zero_for_one {
            (self.reserve0, self.reserve1)
        } else {
            (self.reserve1, self.reserve0)
        };
        let in_with_fee = amount_in.saturating_mul(1000 - FEE_PER_MILLE);
        let denominator = reserve_in.saturating_mul(1000).saturating_add(in_with_fee);
        if denominator == 0 {
            return 0;
        }
        in_with_fee.saturating_mul(reserve_out) / denominator
    }

    /// Applies a swap as the contract does; its payout.
    pub fn swap(&mut self, zero_for_one: bool, amount_in: u128) -> u128 {
        let out = self.quote(zero_for_one, amount_in);
        if zero_for_one {
            self.reserve0 += amount_in;
            self.reserve1 -= out;
        } else {
            self.reserve1 += amount_in;
            self.reserve0 -= out;
        }
        out
    }

    /// `amount` of token 1 in token 0 at the pool's spot price.
    pub fn in_token0(&self, amount: u128, token0: bool) -> f64 {
        if token0 || self.reserve1 == 0 {
            amount as f64
        } else {
            amount as f64 * self.reserve0 as f64 / self.reserve1 as f64
        }
    }
}

/// One trader's wallet: its key, address and next nonce.
#[derive(Debug, Clone)]
pub struct Wallet {
    key: SigningKey,
    /// The wallet's Ethereum address.
    pub address: Address,
    /// The next nonce it signs.
    pub next_nonce: u64,
}

impl Wallet {
    /// Wallet number `index` of the run with `seed`.
    pub fn derived(seed: u64, index: u64) -> Wallet {
        // A 32-byte draw is a valid key unless zero or above the group order (~2^-128); the
        // next draw is taken then.
        let key = (0u64..)
            .find_map(|attempt| {
                let parts: [&[u8]; 4] = [
                    b"ordering-power/wallet",
                    &seed.to_le_bytes(),
                    &index.to_le_bytes(),
                    &attempt.to_le_bytes(),
                ];
                SigningKey::from_bytes(&Hash::of_parts(&parts).0.into()).ok()
            })
            .unwrap_or_else(|| unreachable!("an endless stream of draws"));
        let address = Address::from_private_key(&key);
        Wallet { key, address, next_nonce: 0 }
    }

    /// Signs a call (`to`) or a creation (`None`) at the next nonce, which it then advances:
    /// the raw transaction and its hash.
    pub fn sign(&mut self, to: Option<Address>, input: Vec<u8>, gas: u64, chain: u64) -> Signed {
        let tx = TxLegacy {
            chain_id: Some(chain),
            nonce: self.next_nonce,
            gas_price: GAS_PRICE_MIN_WEI,
            gas_limit: gas,
            to: to.map_or(EthTxKind::Create, EthTxKind::Call),
            value: U256::ZERO,
            input: input.into(),
        };
        let (signature, recovery) = self
            .key
            .sign_prehash_recoverable(tx.signature_hash().as_slice())
            .unwrap_or_else(|error| unreachable!("a valid key signs any prehash: {error}"));
        let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
        let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
        self.next_nonce += 1;
        Signed { hash: keccak256(&raw), raw }
    }
}

/// A signed Ethereum transaction.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Its hash (keccak256 of the raw bytes), the key of its receipt.
    pub hash: B256,
    /// The EIP-2718 bytes.
    pub raw: Vec<u8>,
}

impl Signed {
    /// The vein transaction kind that carries it.
    pub fn kind(&self) -> TxKind {
        TxKind::Evm(Box::new(EvmCall::new(self.raw.clone())))
    }
}

fn word(value: u128) -> [u8; 32] {
    U256::from(value).to_be_bytes::<32>()
}

fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// `SwapPool`'s init code with its constructor arguments.
pub fn init_code(reserves: Reserves, supply: u128) -> Result<Vec<u8>, PoolBuildError> {
    let build: serde_json::Value = serde_json::from_str(SWAP_POOL_BUILD)
        .map_err(|error| PoolBuildError::Build { detail: error.to_string() })?;
    let bytecode = build["bytecode"]
        .as_str()
        .ok_or_else(|| PoolBuildError::Build { detail: "no bytecode string".to_string() })?;
    let mut code = hex::decode(bytecode.trim_start_matches("0x"))
        .map_err(|error| PoolBuildError::Build { detail: error.to_string() })?;
    for value in [reserves.reserve0, reserves.reserve1, supply, supply] {
        code.extend_from_slice(&word(value));
    }
    Ok(code)
}

/// `swap(zeroForOne, amountIn, minOut)` calldata.
pub fn swap_input(zero_for_one: bool, amount_in: u128, min_out: u128) -> Vec<u8> {
    let mut input = selector("swap(bool,uint256,uint256)").to_vec();
    input.extend_from_slice(&word(u128::from(zero_for_one)));
    input.extend_from_slice(&word(amount_in));
    input.extend_from_slice(&word(min_out));
    input
}

/// `transfer(to, token0, amount)` calldata.
pub fn transfer_input(to: Address, token0: bool, amount: u128) -> Vec<u8> {
    let mut input = selector("transfer(address,bool,uint256)").to_vec();
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(to.as_slice());
    input.extend_from_slice(&word(u128::from(token0)));
    input.extend_from_slice(&word(amount));
    input
}

fn as_u128(value: U256) -> u128 {
    u128::try_from(value).unwrap_or(u128::MAX)
}

/// The pool's reserves in `state`.
pub fn reserves(state: &EvmState, pool: &Address) -> Reserves {
    Reserves {
        reserve0: as_u128(state.slot(pool, &U256::from(SLOT_RESERVE0))),
        reserve1: as_u128(state.slot(pool, &U256::from(SLOT_RESERVE1))),
    }
}

/// `owner`'s balance of token 0 (`token0`) or token 1 held in the pool, in `state`.
pub fn balance(state: &EvmState, pool: &Address, owner: &Address, token0: bool) -> u128 {
    let map = if token0 { SLOT_BALANCE0 } else { SLOT_BALANCE1 };
    let mut key = [0u8; 64];
    key[12..32].copy_from_slice(owner.as_slice());
    key[32..].copy_from_slice(&word(u128::from(map)));
    let slot = U256::from_be_bytes(keccak256(key).0);
    as_u128(state.slot(pool, &slot))
}

/// A successful swap's payout, read from its receipt's output (`swap` returns it).
pub fn swap_output(state: &EvmState, hash: &B256) -> Option<u128> {
    let receipt = state.receipt(hash).filter(|receipt| receipt.success)?;
    let bytes: [u8; 32] = receipt.output.as_ref().try_into().ok()?;
    Some(as_u128(U256::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quote_is_uniswap_v2s_formula() {
        let pool = Reserves { reserve0: 1_000_000, reserve1: 2_000_000 };
        // 997 × 1000 × 2e6 / (1e6 × 1000 + 997 × 1000) = 1992.01... → 1992.
        assert_eq!(pool.quote(true, 1000), 1992);
        let mut after = pool;
        assert_eq!(after.swap(true, 1000), 1992);
        assert_eq!(after, Reserves { reserve0: 1_001_000, reserve1: 1_998_008 });
        // The product never falls: the fee stays in the pool.
        assert!(after.reserve0 * after.reserve1 >= pool.reserve0 * pool.reserve1);
    }

    #[test]
    fn the_init_code_is_the_build_and_four_words() {
        let code = init_code(Reserves { reserve0: 1, reserve1: 2 }, 3).unwrap();
        assert_eq!(&code[code.len() - 32..], &word(3));
        assert_eq!(&code[code.len() - 96..code.len() - 64], &word(2));
        // swap(bool,uint256,uint256) is 4 + 3 words.
        assert_eq!(swap_input(true, 5, 6).len(), 100);
    }
}
