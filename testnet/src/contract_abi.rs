//! The Solidity ABI as `vein-testnet contract` needs it: a function signature as written
//! (`transfer(address,uint256)`), its selector, arguments from the command line encoded by
//! their types, and return data decoded by the types `--returns` names.
//!
//! Model: the types a command line can spell as one word: `uintN`, `intN` (decimal, or `0x`
//! hex for unsigned), `address`, `bool`, `bytesN` (hex), `bytes` (hex) and `string`. Arrays
//! and tuples are refused by name (`UnsupportedType`) rather than guessed at. Encoding is the
//! ABI's head and tail: static values in place, dynamic ones as an offset into the tail.

use alloy_consensus::private::alloy_primitives::{Address, U256, keccak256};

/// Why a signature, an argument or return data did not fit the ABI.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AbiError {
    /// A function signature that is not `name(type,...)`.
    #[error(
        "bad function signature {signature:?}: {reason} (example: 'transfer(address,uint256)')"
    )]
    BadSignature {
        /// The signature as given.
        signature: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A type this command line does not encode (arrays, tuples, or no ABI type at all).
    #[error("type {name:?} is not supported (uintN, intN, address, bool, bytesN, bytes, string)")]
    UnsupportedType {
        /// The type as given.
        name: String,
    },
    /// An argument that is not a value of its type.
    #[error("argument {index} ({value:?}) is not a {type_name}: {reason}")]
    BadValue {
        /// Position among the arguments, from 0.
        index: usize,
        /// The argument as given.
        value: String,
        /// Its type.
        type_name: String,
        /// Why it does not fit.
        reason: &'static str,
    },
    /// Not as many `--arg`s as the signature has parameters.
    #[error("{expected} argument(s) expected by the signature, {given} given (one --arg each)")]
    ArgumentCount {
        /// Parameters in the signature.
        expected: usize,
        /// `--arg`s given.
        given: usize,
    },
    /// Return data too short or malformed for the types asked.
    #[error("the call returned {bytes} bytes, which do not decode as ({types})")]
    BadOutput {
        /// Length of the returned data.
        bytes: usize,
        /// The `--returns` types.
        types: String,
    },
}

/// One ABI type a command line can spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiType {
    /// `uintN`, N bits.
    Uint(u16),
    /// `intN`, N bits.
    Int(u16),
    /// `address`.
    Address,
    /// `bool`.
    Bool,
    /// `bytesN`, N bytes (1..=32).
    FixedBytes(u8),
    /// `bytes`.
    Bytes,
    /// `string`.
    String,
}

impl AbiType {
    /// Parses one type name (`uint` and `int` are `uint256` and `int256`).
    pub fn parse(name: &str) -> Result<AbiType, AbiError> {
        let unsupported = || AbiError::UnsupportedType { name: name.to_string() };
        let bits = |digits: &str| -> Result<u16, AbiError> {
            if digits.is_empty() {
                return Ok(256);
            }
            let bits: u16 = digits.parse().map_err(|_| unsupported())?;
            if bits == 0 || bits > 256 || !bits.is_multiple_of(8) {
                return Err(unsupported());
            }
            Ok(bits)
        };
        match name {
            "address" => Ok(AbiType::Address),
            "bool" => Ok(AbiType::Bool),
            "bytes" => Ok(AbiType::Bytes),
            "string" => Ok(AbiType::String),
            _ if name.starts_with("uint") => Ok(AbiType::Uint(bits(&name[4..])?)),
            _ if name.starts_with("int") => Ok(AbiType::Int(bits(&name[3..])?)),
            _ if name.starts_with("bytes") => {
                let size: u8 = name[5..].parse().map_err(|_| unsupported())?;
                if size == 0 || size > 32 {
                    return Err(unsupported());
                }
                Ok(AbiType::FixedBytes(size))
            }
            _ => Err(unsupported()),
        }
    }

    /// The canonical name, as selectors hash it.
    pub fn name(&self) -> String {
        match self {
            AbiType::Uint(bits) => format!("uint{bits}"),
            AbiType::Int(bits) => format!("int{bits}"),
            AbiType::Address => "address".into(),
            AbiType::Bool => "bool".into(),
            AbiType::FixedBytes(size) => format!("bytes{size}"),
            AbiType::Bytes => "bytes".into(),
            AbiType::String => "string".into(),
        }
    }

    fn is_dynamic(&self) -> bool {
        matches!(self, AbiType::Bytes | AbiType::String)
    }
}

/// A list of types, comma-separated (`""` is none).
pub fn parse_types(list: &str) -> Result<Vec<AbiType>, AbiError> {
    let list = list.trim();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.split(',').map(|name| AbiType::parse(name.trim())).collect()
}

/// A function signature `name(type,...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its canonical form (`uint` written `uint256`), which the selector hashes.
    pub canonical: String,
    /// Its parameter types.
    pub inputs: Vec<AbiType>,
}

impl Function {
    /// Parses `name(type,...)`.
    pub fn parse(signature: &str) -> Result<Function, AbiError> {
        let bad = |reason| AbiError::BadSignature { signature: signature.to_string(), reason };
        let signature_trimmed = signature.trim();
        let (name, rest) = signature_trimmed.split_once('(').ok_or_else(|| bad("no '('"))?;
        let list = rest.strip_suffix(')').ok_or_else(|| bad("it must end with ')'"))?;
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
        if name.is_empty()
            || !name.chars().all(valid)
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad("the name is not a Solidity identifier"));
        }
        let inputs = parse_types(list)?;
        let names: Vec<String> = inputs.iter().map(AbiType::name).collect();
        Ok(Function { canonical: format!("{name}({})", names.join(",")), inputs })
    }

    /// The 4-byte selector: keccak256 of the canonical signature.
    pub fn selector(&self) -> [u8; 4] {
        let hash = keccak256(self.canonical.as_bytes());
        [hash[0], hash[1], hash[2], hash[3]]
    }

    /// Call data: the selector, then `args` encoded.
    pub fn calldata(&self, args: &[String]) -> Result<Vec<u8>, AbiError> {
        let mut data = self.selector().to_vec();
        data.extend(encode(&self.inputs, args)?);
        Ok(data)
    }
}

fn bad_value(index: usize, value: &str, ty: &AbiType, reason: &'static str) -> AbiError {
    AbiError::BadValue { index, value: value.to_string(), type_name: ty.name(), reason }
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()
}

/// One static value as its 32-byte word.
fn word(index: usize, value: &str, ty: &AbiType) -> Result<[u8; 32], AbiError> {
    let bad = |reason| bad_value(index, value, ty, reason);
    match ty {
        AbiType::Uint(bits) => {
            let number = match value.strip_prefix("0x") {
                Some(digits) => U256::from_str_radix(digits, 16),
                None => U256::from_str_radix(value, 10),
            }
            .map_err(|_| bad("not a whole number (decimal, or 0x hex)"))?;
            if *bits < 256 && number >> usize::from(*bits) != U256::ZERO {
                return Err(bad("too large for its width"));
            }
            Ok(number.to_be_bytes::<32>())
        }
        AbiType::Int(bits) => {
            let (negative, digits) = match value.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, value),
            };
            let magnitude =
                U256::from_str_radix(digits, 10).map_err(|_| bad("not a decimal integer"))?;
            let limit = U256::from(1u8) << usize::from(bits - 1);
            if magnitude > limit || (!negative && magnitude == limit) {
                return Err(bad("out of range for its width"));
            }
            let number = if negative { U256::ZERO.wrapping_sub(magnitude) } else { magnitude };
            Ok(number.to_be_bytes::<32>())
        }
        AbiType::Address => {
            let address: Address = value.parse().map_err(|_| bad("not 0x and 40 hex digits"))?;
            let mut out = [0u8; 32];
            out[12..].copy_from_slice(address.as_slice());
            Ok(out)
        }
        AbiType::Bool => match value {
            "true" => Ok(U256::from(1u8).to_be_bytes::<32>()),
            "false" => Ok([0u8; 32]),
            _ => Err(bad("neither true nor false")),
        },
        AbiType::FixedBytes(size) => {
            let bytes = parse_hex(value).ok_or_else(|| bad("not hex"))?;
            if bytes.len() != usize::from(*size) {
                return Err(bad("not exactly its size in bytes"));
            }
            let mut out = [0u8; 32];
            out[..bytes.len()].copy_from_slice(&bytes);
            Ok(out)
        }
        AbiType::Bytes | AbiType::String => Err(bad("dynamic")),
    }
}

/// The ABI encoding of `args` as `types` (a constructor's arguments, or a call's after the
/// selector).
pub fn encode(types: &[AbiType], args: &[String]) -> Result<Vec<u8>, AbiError> {
    if types.len() != args.len() {
        return Err(AbiError::ArgumentCount { expected: types.len(), given: args.len() });
    }
    let mut head = Vec::with_capacity(32 * types.len());
    let mut tail = Vec::new();
    for (index, (ty, value)) in types.iter().zip(args).enumerate() {
        if !ty.is_dynamic() {
            head.extend_from_slice(&word(index, value, ty)?);
            continue;
        }
        let bytes = match ty {
            AbiType::String => value.as_bytes().to_vec(),
            _ => parse_hex(value).ok_or_else(|| bad_value(index, value, ty, "not hex"))?,
        };
        let offset = 32 * types.len() + tail.len();
        head.extend_from_slice(&U256::from(offset).to_be_bytes::<32>());
        tail.extend_from_slice(&U256::from(bytes.len()).to_be_bytes::<32>());
        tail.extend_from_slice(&bytes);
        tail.resize(tail.len().div_ceil(32) * 32, 0);
    }
    head.extend(tail);
    Ok(head)
}

/// `data` decoded as `types`, one value a string (numbers in decimal, bytes in 0x hex).
pub fn decode(types: &[AbiType], data: &[u8]) -> Result<Vec<String>, AbiError> {
    let bad = || AbiError::BadOutput {
        bytes: data.len(),
        types: types.iter().map(AbiType::name).collect::<Vec<_>>().join(","),
    };
    let word_at = |at: usize| -> Result<U256, AbiError> {
        let bytes = data.get(at..at.checked_add(32).ok_or_else(bad)?).ok_or_else(bad)?;
        Ok(U256::from_be_slice(bytes))
    };
    let mut values = Vec::with_capacity(types.len());
    for (index, ty) in types.iter().enumerate() {
        let value = word_at(32 * index)?;
        let text = match ty {
            AbiType::Uint(_) => value.to_string(),
            AbiType::Int(_) if value.bit(255) => format!("-{}", U256::ZERO.wrapping_sub(value)),
            AbiType::Int(_) => value.to_string(),
            AbiType::Address => {
                let bytes = value.to_be_bytes::<32>();
                Address::from_slice(&bytes[12..]).to_checksum(None)
            }
            AbiType::Bool => (value != U256::ZERO).to_string(),
            AbiType::FixedBytes(size) => {
                format!("0x{}", hex::encode(&value.to_be_bytes::<32>()[..usize::from(*size)]))
            }
            AbiType::Bytes | AbiType::String => {
                let offset = usize::try_from(value).map_err(|_| bad())?;
                let length = usize::try_from(word_at(offset)?).map_err(|_| bad())?;
                let start = offset.checked_add(32).ok_or_else(bad)?;
                let end = start.checked_add(length).ok_or_else(bad)?;
                let bytes = data.get(start..end).ok_or_else(bad)?;
                match ty {
                    AbiType::String => String::from_utf8_lossy(bytes).into_owned(),
                    _ => format!("0x{}", hex::encode(bytes)),
                }
            }
        };
        values.push(text);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn selectors_match_the_erc20s() {
        let transfer = Function::parse("transfer(address,uint)").unwrap();
        assert_eq!(transfer.canonical, "transfer(address,uint256)");
        assert_eq!(transfer.selector(), [0xa9, 0x05, 0x9c, 0xbb]);
        assert_eq!(
            Function::parse("balanceOf(address)").unwrap().selector(),
            [0x70, 0xa0, 0x82, 0x31]
        );
    }

    #[test]
    fn strings_go_in_the_tail_and_decode_back() {
        let types = parse_types("string,string,uint256").unwrap();
        let data = encode(&types, &args(&["Acme", "ACME", "1000"])).unwrap();
        // Head: two offsets and the number; tail: two length-prefixed, padded strings.
        assert_eq!(data.len(), 32 * 3 + 64 * 2);
        assert_eq!(U256::from_be_slice(&data[..32]), U256::from(96));
        assert_eq!(U256::from_be_slice(&data[32..64]), U256::from(160));
        assert_eq!(decode(&types, &data).unwrap(), args(&["Acme", "ACME", "1000"]));
    }

    #[test]
    fn negative_ints_are_twos_complement() {
        let types = [AbiType::Int(256)];
        let data = encode(&types, &args(&["-5"])).unwrap();
        assert_eq!(data, U256::ZERO.wrapping_sub(U256::from(5)).to_be_bytes::<32>().to_vec());
        assert_eq!(decode(&types, &data).unwrap(), args(&["-5"]));
        let out = encode(&[AbiType::Int(8)], &args(&["128"])).unwrap_err();
        assert!(matches!(out, AbiError::BadValue { index: 0, .. }), "{out}");
    }

    #[test]
    fn wrong_input_is_named() {
        assert!(matches!(Function::parse("transfer"), Err(AbiError::BadSignature { .. })));
        assert!(matches!(Function::parse("f(uint256[])"), Err(AbiError::UnsupportedType { .. })));
        let transfer = Function::parse("transfer(address,uint256)").unwrap();
        assert_eq!(
            transfer.calldata(&args(&["0x01"])),
            Err(AbiError::ArgumentCount { expected: 2, given: 1 })
        );
        let bad = transfer.calldata(&args(&["0x12", "1"])).unwrap_err();
        assert!(bad.to_string().contains("argument 0"), "{bad}");
        let big = encode(&[AbiType::Uint(8)], &args(&["256"])).unwrap_err();
        assert!(big.to_string().contains("too large"), "{big}");
        assert!(matches!(decode(&[AbiType::Uint(256)], &[0; 8]), Err(AbiError::BadOutput { .. })));
    }
}
