//! The wire and disk encoding: a fixed, versioned envelope `{version, kind, body}` around a
//! serde + bincode (2.0.1, standard config) body. Decoding is defensive because every byte here
//! comes from a peer or a file: lengths are capped before allocation, trailing bytes are an
//! error, unknown versions and kinds are an error, and nothing panics.

use serde::{Serialize, de::DeserializeOwned};

/// The only envelope version this node speaks.
pub const WIRE_VERSION: u16 = 0;

/// The largest envelope accepted from the network or a file. A checkpoint with 8 parents or a
/// batch of units fits comfortably; a larger length prefix is refused before allocating.
pub const MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;

const CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MESSAGE_BYTES_MAX>,
> = bincode::config::standard().with_limit::<MESSAGE_BYTES_MAX>();

/// Why a byte string could not be decoded. Each variant names one fault so that the driver can
/// count and log them separately.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A message, a declared length or a list is over its limit.
    #[error("message of {length} bytes exceeds the limit of {limit} bytes")]
    Oversize {
        /// The size found or declared: bytes, or items for a capped list.
        length: usize,
        /// The limit it exceeds, in the same unit.
        limit: usize,
    },
    /// Zero bytes where an envelope was expected.
    #[error("empty message")]
    Empty,
    /// The envelope's version is not [`WIRE_VERSION`].
    #[error("unknown envelope version {version} (this node speaks {WIRE_VERSION})")]
    UnknownVersion {
        /// The version in the envelope header.
        version: u16,
    },
    /// The envelope's kind names no message this node knows.
    #[error("unknown message kind {kind}")]
    UnknownKind {
        /// The kind in the envelope header.
        kind: u16,
    },
    /// bincode refused the body (bad tag, invalid value, short read inside the body).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded ("transaction", "head", ...).
        what: &'static str,
        /// bincode's description of the fault.
        reason: String,
    },
    /// Fewer bytes than the envelope header or its declared body length.
    #[error("truncated {what}: expected {expected} bytes, got {actual}")]
    Truncated {
        /// What was being read ("envelope header", "envelope", ...).
        what: &'static str,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// Bytes left over after the value or the declared body length.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// What was decoded.
        what: &'static str,
        /// Bytes left over.
        count: usize,
    },
    /// Serialising a value failed (our own value; not input from a peer).
    #[error("could not encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// bincode's description of the fault.
        reason: String,
    },
    /// The bytes decode, but are not the value's canonical encoding (e.g. a varint written
    /// longer than needed). Refused: a unit's id is the hash of its canonical bytes, and a
    /// second byte string for one signed transaction would be a second id for it.
    #[error("{what} is not in canonical encoding")]
    NonCanonical {
        /// What was decoded.
        what: &'static str,
    },
}

/// Envelope header: version (u16 LE), kind (u16 LE), body length (u32 LE). A fixed layout so that
/// a reader can refuse an oversize or truncated message from the first eight bytes alone.
pub const ENVELOPE_HEADER_BYTES: usize = 8;

/// Encode any serde value as a bare bincode body (used for signing and hashing too).
pub fn encode_body<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, WireError> {
    bincode::serde::encode_to_vec(value, CONFIG)
        .map_err(|error| WireError::Encode { what, reason: error.to_string() })
}

/// Decode a bare bincode body, rejecting trailing bytes.
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, WireError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { length: bytes.len(), limit: MESSAGE_BYTES_MAX });
    }
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(bytes, CONFIG)
        .map_err(|error| classify(error, what, bytes.len()))?;
    if used != bytes.len() {
        return Err(WireError::TrailingBytes { what, count: bytes.len() - used });
    }
    Ok(value)
}

/// [`decode_body`] for values whose id is the hash of their bytes: the bytes must be exactly
/// what encoding the decoded value gives (bincode accepts over-long varints, so a transaction
/// could otherwise arrive in several byte strings, each with its own hash).
pub fn decode_canonical<T: DeserializeOwned + Serialize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, WireError> {
    let value: T = decode_body(bytes, what)?;
    if encode_body(&value, what)? != bytes {
        return Err(WireError::NonCanonical { what });
    }
    Ok(value)
}

fn classify(error: bincode::error::DecodeError, what: &'static str, length: usize) -> WireError {
    match error {
        bincode::error::DecodeError::LimitExceeded => {
            WireError::Oversize { length, limit: MESSAGE_BYTES_MAX }
        }
        other => WireError::Malformed { what, reason: other.to_string() },
    }
}

/// Wrap an encoded body in the versioned envelope.
pub fn seal(kind: u16, body: Vec<u8>) -> Result<Vec<u8>, WireError> {
    let total = ENVELOPE_HEADER_BYTES + body.len();
    if total > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { length: total, limit: MESSAGE_BYTES_MAX });
    }
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(&WIRE_VERSION.to_le_bytes());
    bytes.extend_from_slice(&kind.to_le_bytes());
    // The cast cannot truncate: total <= MESSAGE_BYTES_MAX < u32::MAX.
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Open an envelope: check size and version, return `(kind, body)`.
pub fn open(bytes: &[u8]) -> Result<(u16, &[u8]), WireError> {
    if bytes.is_empty() {
        return Err(WireError::Empty);
    }
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(WireError::Oversize { length: bytes.len(), limit: MESSAGE_BYTES_MAX });
    }
    let Some((header, body)) = bytes.split_first_chunk::<ENVELOPE_HEADER_BYTES>() else {
        return Err(WireError::Truncated {
            what: "envelope header",
            expected: 8,
            actual: bytes.len(),
        });
    };
    let version = u16::from_le_bytes([header[0], header[1]]);
    if version != WIRE_VERSION {
        return Err(WireError::UnknownVersion { version });
    }
    let kind = u16::from_le_bytes([header[2], header[3]]);
    let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if length > MESSAGE_BYTES_MAX - ENVELOPE_HEADER_BYTES {
        return Err(WireError::Oversize { length, limit: MESSAGE_BYTES_MAX });
    }
    if body.len() < length {
        return Err(WireError::Truncated {
            what: "envelope body",
            expected: length,
            actual: body.len(),
        });
    }
    if body.len() > length {
        return Err(WireError::TrailingBytes { what: "envelope", count: body.len() - length });
    }
    Ok((kind, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip() {
        let body = encode_body(&(7u32, "hi".to_string()), "test").unwrap();
        let sealed = seal(3, body.clone()).unwrap();
        assert_eq!(open(&sealed).unwrap(), (3, body.as_slice()));
        let decoded: (u32, String) = decode_body(open(&sealed).unwrap().1, "test").unwrap();
        assert_eq!(decoded, (7, "hi".to_string()));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut sealed = seal(1, vec![1, 2, 3]).unwrap();
        sealed.push(0);
        assert!(matches!(open(&sealed), Err(WireError::TrailingBytes { count: 1, .. })));
        let body = encode_body(&5u8, "test").unwrap();
        let mut longer = body.clone();
        longer.push(9);
        assert!(matches!(decode_body::<u8>(&longer, "test"), Err(WireError::TrailingBytes { .. })));
    }

    #[test]
    fn unknown_version_and_truncation_are_refused() {
        let mut sealed = seal(1, vec![1, 2, 3]).unwrap();
        sealed[0] = 9;
        assert_eq!(open(&sealed), Err(WireError::UnknownVersion { version: 9 }));
        let sealed = seal(1, vec![1, 2, 3]).unwrap();
        assert!(matches!(open(&sealed[..9]), Err(WireError::Truncated { .. })));
        assert!(matches!(open(&sealed[..3]), Err(WireError::Truncated { .. })));
        assert_eq!(open(&[]), Err(WireError::Empty));
    }

    #[test]
    fn oversize_length_is_refused_from_the_header() {
        let mut bytes = vec![0u8, 0, 1, 0];
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(open(&bytes), Err(WireError::Oversize { .. })));
    }
}
