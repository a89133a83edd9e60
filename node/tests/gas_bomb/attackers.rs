//! Hand-assembled attacker contracts for the gas bomb (docs/evm.md "Gas bomb"): each spends its
//! transaction's gas on one operation that the literature names among the worst in time per gas
//! under Cancun pricing, so a checkpoint full of them is the slowest a checkpoint can be made.
//!
//! Every attacker but the jump loop has the same shape: a prologue, then a loop that leaves
//! (STOP, status 1) when less than `reserve` gas is left, else runs its body once. A precompile
//! body checks the call's success flag and REVERTs on failure, so an input the precompile
//! refuses cannot pass for a cheap success: the tests assert status 1. The jump loop has no
//! exit and runs out of gas (status 0, its whole limit spent), the cheapest way to burn gas.
//! Per-transaction inputs (fresh address seeds, precompile inputs) come in the calldata.

use k256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};
use vein_node::core::evm::U256;

/// One attacker kind; its name is the bench's `evm/gas_bomb/<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    JumpLoop,
    ColdSload,
    ColdBalance,
    ColdExtcodesize,
    ColdExtcodehash,
    SstoreNew,
    SstoreChurn,
    Keccak32k,
    KeccakWord,
    MemoryExpand,
    CallCold,
    Ecrecover,
    ModexpExpHeavy,
    ModexpFloor,
    ModexpSmallMod,
    Modexp512Even,
    Bn254Add,
    Bn254Mul,
    Bn254Pairing,
    Blake2f,
    PointEvaluation,
}

pub const KINDS: [Kind; 21] = [
    Kind::JumpLoop,
    Kind::ColdSload,
    Kind::ColdBalance,
    Kind::ColdExtcodesize,
    Kind::ColdExtcodehash,
    Kind::SstoreNew,
    Kind::SstoreChurn,
    Kind::Keccak32k,
    Kind::KeccakWord,
    Kind::MemoryExpand,
    Kind::CallCold,
    Kind::Ecrecover,
    Kind::ModexpExpHeavy,
    Kind::ModexpFloor,
    Kind::ModexpSmallMod,
    Kind::Modexp512Even,
    Kind::Bn254Add,
    Kind::Bn254Mul,
    Kind::Bn254Pairing,
    Kind::Blake2f,
    Kind::PointEvaluation,
];

/// Where the shared `fail` label sits: the code starts `PUSH2 start JUMP`, then `fail`.
const FAIL: u8 = 4;
/// Blake2f rounds per call (1 gas each).
const BLAKE2F_ROUNDS: u32 = 100_000;

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::JumpLoop => "jump_loop",
            Kind::ColdSload => "cold_sload",
            Kind::ColdBalance => "cold_balance",
            Kind::ColdExtcodesize => "cold_extcodesize",
            Kind::ColdExtcodehash => "cold_extcodehash",
            Kind::SstoreNew => "sstore_new_slot",
            Kind::SstoreChurn => "sstore_churn",
            Kind::Keccak32k => "keccak_32k",
            Kind::KeccakWord => "keccak_word",
            Kind::MemoryExpand => "memory_expand",
            Kind::CallCold => "call_cold",
            Kind::Ecrecover => "ecrecover",
            Kind::ModexpExpHeavy => "modexp_32b_exp_heavy",
            Kind::ModexpFloor => "modexp_64b_floor",
            Kind::ModexpSmallMod => "modexp_8b_600bit_exp",
            Kind::Modexp512Even => "modexp_512b_even",
            Kind::Bn254Add => "bn254_add",
            Kind::Bn254Mul => "bn254_mul",
            Kind::Bn254Pairing => "bn254_pairing_4",
            Kind::Blake2f => "blake2f_100k_rounds",
            Kind::PointEvaluation => "point_evaluation",
        }
    }

    /// The precompile a kind calls, if any.
    pub fn precompile(self) -> Option<u8> {
        match self {
            Kind::Ecrecover => Some(0x01),
            Kind::ModexpExpHeavy
            | Kind::ModexpFloor
            | Kind::ModexpSmallMod
            | Kind::Modexp512Even => Some(0x05),
            Kind::Bn254Add => Some(0x06),
            Kind::Bn254Mul => Some(0x07),
            Kind::Bn254Pairing => Some(0x08),
            Kind::Blake2f => Some(0x09),
            Kind::PointEvaluation => Some(0x0a),
            _ => None,
        }
    }

    /// Gas the loop keeps back to exit cleanly: more than one body costs at vein's prices (a
    /// precompile call forwards all but 1/64 of the gas left, so a little above its price is
    /// enough). MODEXP on a 512-byte modulus costs 2 × 64² × 255 = 2,088,960 gas (EIP-7883).
    fn reserve(self) -> u32 {
        match self {
            Kind::Modexp512Even => 2_200_000,
            Kind::Bn254Pairing => 400_000,
            Kind::Blake2f => 2 * BLAKE2F_ROUNDS + 20_000,
            Kind::PointEvaluation => 720_000,
            Kind::MemoryExpand => 20_000,
            _ => 60_000,
        }
    }

    /// The attacker's runtime code.
    pub fn runtime(self) -> Vec<u8> {
        // JUMPDEST PUSH1 0 JUMP: 12 gas a turn, until out of gas.
        if self == Kind::JumpLoop {
            return vec![0x5b, 0x60, 0x00, 0x56];
        }
        // Stack [i] from calldata word 0: a fresh counter per transaction.
        let seed = vec![0x60, 0x00, 0x35];
        let copy_input = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37];
        let (prologue, body): (Vec<u8>, Vec<u8>) = match self {
            // DUP1 <op> POP PUSH1 1 ADD: touch address or slot i, then i + 1.
            Kind::ColdSload => (seed, vec![0x80, 0x54, 0x50, 0x60, 0x01, 0x01]),
            Kind::ColdBalance => (seed, vec![0x80, 0x31, 0x50, 0x60, 0x01, 0x01]),
            Kind::ColdExtcodesize => (seed, vec![0x80, 0x3b, 0x50, 0x60, 0x01, 0x01]),
            Kind::ColdExtcodehash => (seed, vec![0x80, 0x3f, 0x50, 0x60, 0x01, 0x01]),
            // SSTORE(i, 1): a new slot each time (22,100 gas).
            Kind::SstoreNew => (seed, vec![0x60, 0x01, 0x81, 0x55, 0x60, 0x01, 0x01]),
            // SSTORE(0, i): one warm dirty slot rewritten (100 gas a write).
            Kind::SstoreChurn => (seed, vec![0x80, 0x60, 0x00, 0x55, 0x60, 0x01, 0x01]),
            // Memory grown to 32 KiB once, then KECCAK256 over all of it.
            Kind::Keccak32k => (
                vec![0x60, 0x00, 0x62, 0x00, 0x7f, 0xe0, 0x52],
                vec![0x62, 0x00, 0x80, 0x00, 0x60, 0x00, 0x20, 0x50],
            ),
            Kind::KeccakWord => (Vec::new(), vec![0x60, 0x20, 0x60, 0x00, 0x20, 0x50]),
            // MSTORE(i, i), i += 32: memory grows one word a turn (quadratic price).
            Kind::MemoryExpand => (vec![0x60, 0x00], vec![0x80, 0x80, 0x52, 0x60, 0x20, 0x01]),
            // CALL(gas 0, address i, value 0, no input, no output): a cold empty account.
            Kind::CallCold => (
                seed,
                vec![
                    0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x85, 0x60, 0x00,
                    0xf1, 0x50, 0x60, 0x01, 0x01,
                ],
            ),
            // STATICCALL(GAS, precompile, input = calldata at 0, output 512 B at 0x4000),
            // REVERT unless it succeeded.
            _ => {
                let address = self.precompile().expect("a precompile kind");
                let body = vec![
                    0x61, 0x02, 0x00, 0x61, 0x40, 0x00, 0x36, 0x60, 0x00, 0x60, address, 0x5a,
                    0xfa, 0x15, 0x60, FAIL, 0x57,
                ];
                (copy_input, body)
            }
        };
        gas_loop(&prologue, &body, self.reserve())
    }

    /// Init code that deploys the runtime.
    pub fn init_code(self) -> Vec<u8> {
        let runtime = self.runtime();
        let len = u16::try_from(runtime.len()).expect("a small runtime");
        let [hi, lo] = len.to_be_bytes();
        // PUSH2 len DUP1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 0 RETURN
        let mut code = vec![0x61, hi, lo, 0x80, 0x60, 12, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
        code.extend_from_slice(&runtime);
        code
    }

    /// Calldata of the attacker's `index`th transaction: a fresh counter seed, or the
    /// precompile's input.
    pub fn calldata(self, index: u64) -> Vec<u8> {
        match self {
            Kind::Ecrecover => ecrecover_input(),
            Kind::ModexpExpHeavy => modexp_input(&[0xfe; 32], &[0xff; 32], &odd(&[0xfd; 32])),
            Kind::ModexpFloor => modexp_input(&[0xfe; 64], &[0x01, 0xff], &odd(&[0xfd; 64])),
            // The case EIP-7883 singled out (ethereum/EIPs#9855): an 8-byte modulus prices as
            // one word, so a 600-bit exponent still costs the 200-gas floor.
            Kind::ModexpSmallMod => modexp_input(&[0xfe; 8], &[0xff; 75], &odd(&[0xfd; 8])),
            Kind::Modexp512Even => {
                let mut modulus = vec![0xfd; 512];
                modulus[511] = 0xfc;
                modexp_input(&[0xfe; 512], &[0xff; 32], &modulus)
            }
            Kind::Bn254Add => [g1(), g1()].concat(),
            Kind::Bn254Mul => [g1(), vec![0xff; 32]].concat(),
            Kind::Bn254Pairing => [g1(), g2(), g1(), g2(), g1(), g2(), g1(), g2()].concat(),
            Kind::Blake2f => {
                let mut input = BLAKE2F_ROUNDS.to_be_bytes().to_vec();
                input.extend_from_slice(&[0x42; 64 + 128 + 16]);
                input.push(1);
                input
            }
            Kind::PointEvaluation => point_evaluation_input(),
            _ => U256::from((index + 1) << 40).to_be_bytes::<32>().to_vec(),
        }
    }
}

/// `PUSH2 start JUMP fail: REVERT(0,0) start: prologue loop: [GAS < reserve -> exit] body
/// JUMP loop exit: STOP`.
fn gas_loop(prologue: &[u8], body: &[u8], reserve: u32) -> Vec<u8> {
    let start = 9u16;
    let mut code = vec![0x61, 0x00, 9, 0x56, 0x5b, 0x60, 0x00, 0x80, 0xfd, 0x5b];
    assert_eq!(code.len(), usize::from(start) + 1);
    assert_eq!(code[usize::from(FAIL)], 0x5b);
    code.extend_from_slice(prologue);
    let loop_at = u16::try_from(code.len()).expect("small code");
    // JUMPDEST GAS PUSH4 reserve GT PUSH2 exit JUMPI
    let exit = loop_at + 1 + 1 + 5 + 1 + 3 + 1 + body.len() as u16 + 4;
    code.extend_from_slice(&[0x5b, 0x5a, 0x63]);
    code.extend_from_slice(&reserve.to_be_bytes());
    code.push(0x11);
    code.push(0x61);
    code.extend_from_slice(&exit.to_be_bytes());
    code.push(0x57);
    code.extend_from_slice(body);
    code.push(0x61);
    code.extend_from_slice(&loop_at.to_be_bytes());
    code.push(0x56);
    assert_eq!(code.len(), usize::from(exit));
    code.extend_from_slice(&[0x5b, 0x00]);
    code
}

fn odd(bytes: &[u8]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    if let Some(last) = bytes.last_mut() {
        *last |= 1;
    }
    bytes
}

fn len_word(len: usize) -> Vec<u8> {
    U256::from(len).to_be_bytes::<32>().to_vec()
}

fn modexp_input(base: &[u8], exponent: &[u8], modulus: &[u8]) -> Vec<u8> {
    [
        len_word(base.len()),
        len_word(exponent.len()),
        len_word(modulus.len()),
        base.to_vec(),
        exponent.to_vec(),
        modulus.to_vec(),
    ]
    .concat()
}

/// A valid signature, so the precompile does the whole public-key recovery.
fn ecrecover_input() -> Vec<u8> {
    let key = SigningKey::from_bytes(&[0x33; 32].into()).expect("a valid key");
    let hash = [0x5a; 32];
    let (signature, recovery) = key.sign_prehash_recoverable(&hash).expect("signs");
    let mut v = [0u8; 32];
    v[31] = 27 + recovery.to_byte();
    [hash.to_vec(), v.to_vec(), signature.to_bytes().to_vec()].concat()
}

fn decimal(digits: &str) -> Vec<u8> {
    U256::from_str_radix(digits, 10).expect("a decimal").to_be_bytes::<32>().to_vec()
}

/// The BN254 G1 generator (1, 2).
fn g1() -> Vec<u8> {
    [decimal("1"), decimal("2")].concat()
}

/// The BN254 G2 generator (EIP-197: each coordinate imaginary part first).
fn g2() -> Vec<u8> {
    [
        decimal("11559732032986387107991004021392285783925812861821192530917403151452391805634"),
        decimal("10857046999023057135944570762232829481370756359578518086990519993285655852781"),
        decimal("4082367875863433681332203403145435568316851327593401208105741076214120093531"),
        decimal("8495653923123431417604973247489272438418190587263600148770280649306958101930"),
    ]
    .concat()
}

/// A correct KZG proof (c-kzg-4844's `verify_kzg_proof_case_correct_proof_4_4`, as revm's own
/// test uses), so the precompile runs its pairing check to the end.
fn point_evaluation_input() -> Vec<u8> {
    let commitment = hex::decode(
        "8f59a8d2a1a625a17f3fea0fe5eb8c896db3764f3185481bc22f91b4aaffcca25f26936857bc3a7c2539ea8ec3a952b7",
    )
    .expect("hex");
    let z = hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000")
        .expect("hex");
    let y = hex::decode("1522a4a7f34e1ea350ae07c29c96c7e79655aa926122e95fe69fcbd932ca49e9")
        .expect("hex");
    let proof = hex::decode(
        "a62ad71d14c5719385c0686f1871430475bf3a00f0aa3f7b8dd99a9abc2160744faf0070725e00b60ad9a026a15b1a8c",
    )
    .expect("hex");
    let mut versioned_hash = Sha256::digest(&commitment).to_vec();
    versioned_hash[0] = 0x01;
    [versioned_hash, z, y, commitment, proof].concat()
}
