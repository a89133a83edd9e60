//! vein's gas schedule: which price each precompile charges (docs/evm.md, "Gas bomb").
//!
//! Model:
//! - Gas bounds a checkpoint's EVM work only as well as gas tracks time. Under Ethereum's
//!   Cancun prices three precompiles cost far more time per gas than anything else in vein's
//!   in-memory EVM (measured by `node/benches/gas_bomb.rs`): `ECRECOVER` (0x01, 59.5 ns/gas),
//!   the KZG point evaluation (0x0a, 47.0) and MODEXP (0x05) on a small modulus with a long
//!   exponent at the 200-gas floor (36.4); every other operation measured ≤ 13.5 ns/gas. A
//!   checkpoint full of them would take 1.75 T at a 30 Mgas limit.
//! - [`GasSchedule::Vein`] (every vein chain) reprices those three, a consensus rule:
//!   `ECRECOVER` costs [`ECRECOVER_GAS`], the point evaluation [`POINT_EVALUATION_GAS`], and
//!   MODEXP follows Ethereum's own fix for it (Osaka: EIP-7883 prices, EIP-7823 input bounds).
//!   Everything else is Cancun's, so the precompiles compute the same outputs, only the gas
//!   differs.
//! - [`GasSchedule::Ethereum`] is Cancun unchanged: the Ethereum Foundation's state tests run
//!   through vein's path with it (node/tests/state_tests.rs), since their expected gas is
//!   Ethereum's.
//! - A repriced precompile halts out of gas below its price and otherwise runs revm's own
//!   implementation with Ethereum's rules, then reports vein's price as the gas used.

use revm::handler::EthPrecompiles;
use revm::precompile::{
    EthPrecompileOutput, EthPrecompileResult, Precompile, PrecompileHalt, PrecompileId,
    PrecompileResult, Precompiles, call_eth_precompile, kzg_point_evaluation, modexp, secp256k1,
    u64_to_address,
};
use std::sync::OnceLock;

/// The Ethereum hard fork whose rules execute (EIP-1559 fees, PUSH0, transient storage, MCOPY);
/// vein's schedule is this fork's with three precompiles repriced.
pub const SPEC: revm::primitives::hardfork::SpecId = revm::primitives::hardfork::SpecId::CANCUN;

/// vein's price of `ECRECOVER` (Ethereum: 3,000): 10×, so that a checkpoint of nothing but
/// recoveries runs no slower per gas than ordinary computation (docs/evm.md, "Gas bomb").
pub const ECRECOVER_GAS: u64 = 30_000;

/// vein's price of the KZG point evaluation (Ethereum: 50,000): 7×, for the same reason.
pub const POINT_EVALUATION_GAS: u64 = 350_000;

/// Which precompile prices an execution charges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GasSchedule {
    /// vein's chain rule: Cancun with `ECRECOVER`, MODEXP and the point evaluation repriced.
    #[default]
    Vein,
    /// Ethereum's Cancun prices, for the Ethereum state tests.
    Ethereum,
}

impl GasSchedule {
    /// The precompile set revm runs under this schedule at `spec`.
    pub fn precompiles(self, spec: revm::primitives::hardfork::SpecId) -> EthPrecompiles {
        match self {
            GasSchedule::Ethereum => EthPrecompiles::new(spec),
            GasSchedule::Vein => EthPrecompiles { precompiles: vein_precompiles(spec), spec },
        }
    }
}

/// Cancun's set with vein's three prices, built once per process.
fn vein_precompiles(spec: revm::primitives::hardfork::SpecId) -> &'static Precompiles {
    static VEIN: OnceLock<Precompiles> = OnceLock::new();
    debug_assert_eq!(spec, SPEC, "vein's prices are a change of Cancun's");
    VEIN.get_or_init(|| {
        let mut precompiles = EthPrecompiles::new(spec).precompiles.clone();
        precompiles.extend([
            Precompile::new(PrecompileId::EcRec, u64_to_address(1), ecrecover),
            modexp::OSAKA,
            Precompile::new(
                PrecompileId::KzgPointEvaluation,
                kzg_point_evaluation::ADDRESS,
                point_evaluation,
            ),
        ]);
        precompiles
    })
}

/// Run revm's implementation `run` at a fixed `price`: out of gas below it, else its output
/// (or its refusal) with `price` as the gas used.
fn at_price(
    run: fn(&[u8], u64) -> EthPrecompileResult,
    price: u64,
    input: &[u8],
    gas_limit: u64,
) -> EthPrecompileResult {
    if gas_limit < price {
        return Err(PrecompileHalt::OutOfGas);
    }
    let output = run(input, gas_limit)?;
    Ok(EthPrecompileOutput::new(price, output.bytes))
}

fn ecrecover_at_vein_price(input: &[u8], gas_limit: u64) -> EthPrecompileResult {
    at_price(secp256k1::ec_recover_run, ECRECOVER_GAS, input, gas_limit)
}

fn point_evaluation_at_vein_price(input: &[u8], gas_limit: u64) -> EthPrecompileResult {
    at_price(kzg_point_evaluation::run, POINT_EVALUATION_GAS, input, gas_limit)
}

fn ecrecover(input: &[u8], gas_limit: u64, reservoir: u64) -> PrecompileResult {
    Ok(call_eth_precompile(ecrecover_at_vein_price, input, gas_limit, reservoir))
}

fn point_evaluation(input: &[u8], gas_limit: u64, reservoir: u64) -> PrecompileResult {
    Ok(call_eth_precompile(point_evaluation_at_vein_price, input, gas_limit, reservoir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::precompile::PrecompileOutput;

    fn run(schedule: GasSchedule, address: u64, input: &[u8], gas_limit: u64) -> PrecompileOutput {
        let provider = schedule.precompiles(super::super::schedule::SPEC);
        let precompile = provider.precompiles.get(&u64_to_address(address)).expect("a precompile");
        precompile.execute(input, gas_limit, 0).expect("not fatal")
    }

    #[test]
    fn vein_charges_its_prices_and_ethereum_keeps_cancuns() {
        // v = 27 with a zero signature: a well-formed input that recovers nothing.
        let mut input = [0u8; 128];
        input[63] = 27;
        assert_eq!(run(GasSchedule::Ethereum, 1, &input, 100_000).gas_used, 3_000);
        assert_eq!(run(GasSchedule::Vein, 1, &input, 100_000).gas_used, ECRECOVER_GAS);
        // Below vein's price: out of gas, though Ethereum's would do.
        assert!(run(GasSchedule::Vein, 1, &input, ECRECOVER_GAS - 1).is_halt());
        assert!(!run(GasSchedule::Ethereum, 1, &input, ECRECOVER_GAS - 1).is_halt());
        // MODEXP with an 8-byte modulus and a 75-byte exponent: Berlin's 200-gas floor,
        // Osaka's 16 × (16 × 43 + 255).
        let mut modexp = Vec::new();
        for len in [8u8, 75, 8] {
            let mut word = [0u8; 32];
            word[31] = len;
            modexp.extend_from_slice(&word);
        }
        modexp.extend_from_slice(&[0xfe; 8]);
        modexp.extend_from_slice(&[0xff; 75]);
        modexp.extend_from_slice(&[0xfd; 8]);
        assert_eq!(run(GasSchedule::Ethereum, 5, &modexp, 1_000_000).gas_used, 200);
        assert_eq!(run(GasSchedule::Vein, 5, &modexp, 1_000_000).gas_used, 16 * (16 * 43 + 255));
        let same = |address: u64| {
            let vein = run(GasSchedule::Vein, address, &input, 1_000_000);
            let ethereum = run(GasSchedule::Ethereum, address, &input, 1_000_000);
            (vein.gas_used, vein.bytes) == (ethereum.gas_used, ethereum.bytes)
        };
        // The rest are Cancun's: SHA-256, RIPEMD-160, identity, BN254, BLAKE2F.
        assert!([2, 3, 4, 6, 7, 8, 9].into_iter().all(same));
        assert_eq!(
            GasSchedule::Vein.precompiles(super::super::schedule::SPEC).precompiles.len(),
            GasSchedule::Ethereum.precompiles(super::super::schedule::SPEC).precompiles.len()
        );
    }
}
