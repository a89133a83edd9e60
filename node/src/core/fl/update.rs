//! The update as it travels between participants (never on chain), and the hashes the chain
//! holds instead. An encoded update is a tag, the dimension as u32 LE, then each value as i64
//! LE: fixed width, so there is exactly one encoding per update and the hash names it.
//! A masked update uses the same format (its values are the mod-2^64 masked words).

use super::error::FlError;
use super::fixed::Fixed;
use super::model::DIMENSION_MAX;
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;

const UPDATE_TAG: &[u8; 8] = b"veinflu0";
const HEADER_BYTES: usize = UPDATE_TAG.len() + 4;

/// Encode an update in the module's canonical format (tag, count, i64 LE values).
pub fn encode_update(values: &[Fixed]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + 8 * values.len());
    bytes.extend_from_slice(UPDATE_TAG);
    // Callers hold at most DIMENSION_MAX values (checked on decode and by the task spec).
    bytes.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for value in values {
        bytes.extend_from_slice(&value.0.to_le_bytes());
    }
    bytes
}

/// Decode an update received from a peer, expecting `dimension` values.
pub fn decode_update(bytes: &[u8], dimension: usize) -> Result<Vec<Fixed>, FlError> {
    let (tag, rest) = bytes
        .split_at_checked(UPDATE_TAG.len())
        .ok_or(FlError::MalformedUpdate { reason: "shorter than its header" })?;
    if tag != UPDATE_TAG {
        return Err(FlError::MalformedUpdate { reason: "unknown tag" });
    }
    let (count, values) = rest
        .split_at_checked(4)
        .ok_or(FlError::MalformedUpdate { reason: "shorter than its header" })?;
    let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]);
    if count > DIMENSION_MAX {
        return Err(FlError::MalformedUpdate { reason: "dimension above the maximum" });
    }
    if values.len() != 8 * count as usize {
        return Err(FlError::MalformedUpdate { reason: "length does not match its dimension" });
    }
    if count as usize != dimension {
        return Err(FlError::WrongDimension { expected: dimension, got: count as usize });
    }
    Ok(values
        .chunks_exact(8)
        .map(|word| {
            let mut buffer = [0u8; 8];
            buffer.copy_from_slice(word);
            Fixed(i64::from_le_bytes(buffer))
        })
        .collect())
}

/// What a participant commits on chain for its update of `round`: binding the bytes to the task,
/// the round and the participant, so an update cannot be replayed under another name.
pub fn update_hash(task: &Hash, round: u32, participant: &AccountId, encoded: &[u8]) -> Hash {
    Hash::of_parts(&[
        b"vein/fl/update/v0",
        task.as_bytes(),
        &round.to_le_bytes(),
        participant.as_bytes(),
        encoded,
    ])
}

/// What every participant commits for the aggregate it recomputed for `round`.
pub fn aggregate_hash(task: &Hash, round: u32, aggregate: &[Fixed]) -> Hash {
    Hash::of_parts(&[
        b"vein/fl/aggregate/v0",
        task.as_bytes(),
        &round.to_le_bytes(),
        &encode_update(aggregate),
    ])
}

/// Check received bytes against the hash on chain, then decode them.
pub fn verify_update(
    task: &Hash,
    round: u32,
    participant: &AccountId,
    encoded: &[u8],
    committed: &Hash,
    dimension: usize,
) -> Result<Vec<Fixed>, FlError> {
    let got = update_hash(task, round, participant, encoded);
    if got != *committed {
        return Err(FlError::UpdateHashMismatch { committed: *committed, got });
    }
    decode_update(encoded, dimension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_malformed_bytes() {
        let values = vec![Fixed(1), Fixed(-2), Fixed(i64::MIN)];
        let bytes = encode_update(&values);
        assert_eq!(decode_update(&bytes, 3), Ok(values.clone()));
        assert_eq!(decode_update(&bytes, 4), Err(FlError::WrongDimension { expected: 4, got: 3 }));
        assert!(matches!(decode_update(&bytes[..5], 3), Err(FlError::MalformedUpdate { .. })));
        assert!(matches!(decode_update(&bytes[..20], 3), Err(FlError::MalformedUpdate { .. })));
        let mut bad_tag = bytes.clone();
        bad_tag[0] ^= 1;
        assert!(matches!(decode_update(&bad_tag, 3), Err(FlError::MalformedUpdate { .. })));
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode_update(&huge, 3), Err(FlError::MalformedUpdate { .. })));
    }

    #[test]
    fn the_hash_binds_task_round_and_participant() {
        let bytes = encode_update(&[Fixed(7)]);
        let (task, alice, bob) = (Hash::of(b"t"), AccountId([1; 32]), AccountId([2; 32]));
        let committed = update_hash(&task, 0, &alice, &bytes);
        assert_eq!(verify_update(&task, 0, &alice, &bytes, &committed, 1), Ok(vec![Fixed(7)]));
        assert!(matches!(
            verify_update(&task, 0, &bob, &bytes, &committed, 1),
            Err(FlError::UpdateHashMismatch { .. })
        ));
        assert_ne!(committed, update_hash(&task, 1, &alice, &bytes));
        assert_ne!(aggregate_hash(&task, 0, &[Fixed(1)]), aggregate_hash(&task, 0, &[Fixed(2)]));
    }
}
