//! VeinToken's init code for the EVM benches (`--bench evm`, `--bench gas_bomb`): the committed
//! bytecode (`contracts/build/VeinToken.json`) with its constructor arguments ("T", "T", 10^24)
//! ABI-encoded after it.

use vein_node::core::evm::U256;

/// The committed bytecode followed by the encoded constructor arguments.
pub fn token_init_code() -> Vec<u8> {
    let artifact: serde_json::Value =
        serde_json::from_str(include_str!("../../../contracts/build/VeinToken.json")).unwrap();
    let bytecode = artifact["bytecode"].as_str().unwrap().trim_start_matches("0x");
    let mut code = hex::decode(bytecode).unwrap();
    let word = |value: U256| value.to_be_bytes::<32>();
    let mut letter = [0u8; 32];
    letter[0] = b'T';
    for part in [
        word(U256::from(0x60)),
        word(U256::from(0xa0)),
        word(U256::from(10u64).pow(U256::from(24))),
        word(U256::from(1)),
        letter,
        word(U256::from(1)),
        letter,
    ] {
        code.extend_from_slice(&part);
    }
    code
}
