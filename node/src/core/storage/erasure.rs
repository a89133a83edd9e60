//! Reed-Solomon erasure coding: `k` data shards plus `n - k` parity shards, any `k` recover.
//!
//! Model: the payload (for files: nonce and ciphertext) is framed as
//! `payload_len (u64 LE) || payload || zero padding` and cut into `k` equal data shards of
//! `shard_bytes` bytes; the code adds `n - k` parity shards of the same size. The length header
//! travels inside the coded data, so a decoder needs nothing but `k`, `n` and `k` shards, and the
//! padding is checked to be zero on decode (a cheap extra tamper check).
//!
//! `shard_bytes` is always even and at least 2 because `reed-solomon-simd` requires it; the cost is
//! at most one byte per shard. Both codecs are systematic (data shards are the payload itself), so
//! decoding with all data shards present is a copy.
//!
//! Large shards are coded in independent stripes of [`STRIPE_BYTES`]: symbol positions of a
//! Reed-Solomon code are independent, so striping changes nothing about which shards recover
//! what, but keeps the working set in cache (measured in docs/storage.md).
//!
//! Two interchangeable back-ends are kept so the benchmark can compare them on this machine:
//! `reed-solomon-simd` 3.x (Leopard-style O(n log n) FFT over GF(2^16), SIMD) and
//! `reed-solomon-erasure` 6.x (Backblaze-style Vandermonde matrix over GF(2^8), pure Rust here).
//! [`DEFAULT_CODEC`] is the faster one (measured; see docs/storage.md). Both produce the same data
//! shards but different parity shards, so a file must be decoded with the codec that encoded it;
//! the protocol fixes one.

/// The protocol's maximum number of shards per file: bounds every vector a peer can make us build.
pub const MAX_TOTAL_SHARDS: u8 = 64;
/// Bytes of the length header prepended to the payload before splitting.
pub const LENGTH_HEADER_BYTES: usize = 8;
/// Shards are coded in stripes of this many bytes (the last one shorter), so that the codec's
/// working set (`n` stripes) stays in cache for large files. Even, as reed-solomon-simd requires,
/// and a multiple of 64, its internal block size. Part of the format: a decoder must use the same.
pub const STRIPE_BYTES: usize = 64 * 1024;

/// Which Reed-Solomon implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `reed-solomon-simd` 3.x.
    Simd,
    /// `reed-solomon-erasure` 6.x (GF(2^8)).
    Classic,
}

/// The codec the protocol uses: the faster of the two in `benches/storage.rs`.
pub const DEFAULT_CODEC: Codec = Codec::Simd;

/// Why a payload could not be encoded or recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErasureError {
    /// `k` and `n` break `1 <= k <= n <= MAX_TOTAL_SHARDS`.
    #[error("bad erasure parameters k = {k}, n = {n}: need 1 <= k <= n <= {MAX_TOTAL_SHARDS}")]
    BadParameters {
        /// Data shards asked for.
        k: u8,
        /// Total shards asked for.
        n: u8,
    },
    /// Fewer than `k` shards are present: the payload cannot be recovered.
    #[error("too few shards to decode: have {have}, need {need}")]
    TooFewShards {
        /// Shards present.
        have: usize,
        /// Shards needed: `k`.
        need: usize,
    },
    /// A present shard differs in length from the first present one, or its length is odd or
    /// below 2 (no encoder makes such a shard).
    #[error("shard {index} has {got} bytes, expected {expected}")]
    ShardSizeMismatch {
        /// Position of the shard in the slots.
        index: usize,
        /// Length of the first present shard.
        expected: usize,
        /// Length of this one.
        got: usize,
    },
    /// The decoder was not given one slot (present or `None`) per shard.
    #[error("expected {expected} shard slots, got {got}")]
    ShardCountMismatch {
        /// `n`.
        expected: usize,
        /// Slots given.
        got: usize,
    },
    /// The decoded length header is larger than the data shards can hold: the shards are not
    /// this payload's, or were altered.
    #[error("length header claims {claimed} bytes but the shards hold at most {capacity}")]
    BadLength {
        /// Payload length the header states, in bytes.
        claimed: u64,
        /// Bytes of payload the data shards can hold after the header.
        capacity: usize,
    },
    /// Bytes after the payload are not zero: the shards were altered.
    #[error("padding after the payload is not zero")]
    BadPadding,
    /// The framed payload would not fit `k` shards of an addressable size.
    #[error("payload of {payload_bytes} bytes is too large to encode")]
    TooLarge {
        /// Length of the payload.
        payload_bytes: usize,
    },
    /// The Reed-Solomon library refused or failed to restore a shard.
    #[error("codec failure: {message}")]
    Codec {
        /// The library's error, prefixed with its name.
        message: String,
    },
}

/// Check `1 <= k <= n <= MAX_TOTAL_SHARDS`.
pub fn check_parameters(k: u8, n: u8) -> Result<(), ErasureError> {
    if k == 0 || k > n || n > MAX_TOTAL_SHARDS {
        return Err(ErasureError::BadParameters { k, n });
    }
    Ok(())
}

/// Size of every shard for a payload of `payload_bytes` split into `k` data shards.
pub fn shard_bytes_for(payload_bytes: usize, k: u8) -> Option<usize> {
    let framed = payload_bytes.checked_add(LENGTH_HEADER_BYTES)?;
    let per_shard = framed.div_ceil(usize::from(k.max(1)));
    // Even, and at least 2: reed-solomon-simd's requirement.
    let even = per_shard.checked_add(per_shard % 2)?;
    Some(even.max(2))
}

/// Encode `payload` into `n` shards (data shards first), any `k` of which recover it.
pub fn encode(codec: Codec, payload: &[u8], k: u8, n: u8) -> Result<Vec<Vec<u8>>, ErasureError> {
    check_parameters(k, n)?;
    let too_large = ErasureError::TooLarge { payload_bytes: payload.len() };
    let shard_bytes = shard_bytes_for(payload.len(), k).ok_or(too_large.clone())?;
    let data_count = usize::from(k);
    let parity_count = usize::from(n - k);

    let mut framed = Vec::with_capacity(shard_bytes * data_count);
    framed.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    framed.extend_from_slice(payload);
    framed.resize(shard_bytes * data_count, 0);
    let mut shards: Vec<Vec<u8>> = framed.chunks(shard_bytes).map(<[u8]>::to_vec).collect();
    debug_assert_eq!(shards.len(), data_count);

    if parity_count > 0 {
        let mut parity = vec![vec![0u8; shard_bytes]; parity_count];
        let mut simd = None;
        let classic = match codec {
            Codec::Classic => Some(classic(k, n)?),
            Codec::Simd => None,
        };
        for offset in (0..shard_bytes).step_by(STRIPE_BYTES) {
            let range = offset..(offset + STRIPE_BYTES).min(shard_bytes);
            let data: Vec<&[u8]> = shards.iter().map(|shard| &shard[range.clone()]).collect();
            let mut out: Vec<&mut [u8]> =
                parity.iter_mut().map(|shard| &mut shard[range.clone()]).collect();
            match &classic {
                Some(codec) => codec.encode_sep(&data, &mut out).map_err(classic_error)?,
                None => encode_stripe_simd(&mut simd, &data, &mut out)?,
            }
        }
        shards.extend(parity);
    }
    debug_assert_eq!(shards.len(), usize::from(n));
    Ok(shards)
}

/// Recover the payload from `n` slots of which at least `k` hold a shard (owned or borrowed).
pub fn decode<T: AsRef<[u8]>>(
    codec: Codec,
    shards: &[Option<T>],
    k: u8,
    n: u8,
) -> Result<Vec<u8>, ErasureError> {
    check_parameters(k, n)?;
    let shards: Vec<Option<&[u8]>> =
        shards.iter().map(|shard| shard.as_ref().map(AsRef::as_ref)).collect();
    let data_count = usize::from(k);
    let parity_count = usize::from(n - k);
    if shards.len() != usize::from(n) {
        return Err(ErasureError::ShardCountMismatch {
            expected: usize::from(n),
            got: shards.len(),
        });
    }
    let mut shard_bytes = None;
    let mut present = 0usize;
    for (index, shard) in shards.iter().enumerate() {
        let Some(shard) = shard else { continue };
        present += 1;
        let expected = *shard_bytes.get_or_insert(shard.len());
        if shard.len() != expected || shard.len() < 2 || !shard.len().is_multiple_of(2) {
            return Err(ErasureError::ShardSizeMismatch { index, expected, got: shard.len() });
        }
    }
    if present < data_count {
        return Err(ErasureError::TooFewShards { have: present, need: data_count });
    }
    let shard_bytes = shard_bytes.unwrap_or(0);

    let all_data_present = shards[..data_count].iter().all(Option::is_some);
    let mut restored: Vec<Option<Vec<u8>>> = vec![None; data_count];
    if !all_data_present && parity_count > 0 {
        for (index, slot) in restored.iter_mut().enumerate() {
            if shards[index].is_none() {
                *slot = Some(vec![0u8; shard_bytes]);
            }
        }
        let mut simd = None;
        let classic = match codec {
            Codec::Classic => Some(classic(k, n)?),
            Codec::Simd => None,
        };
        for offset in (0..shard_bytes).step_by(STRIPE_BYTES) {
            let range = offset..(offset + STRIPE_BYTES).min(shard_bytes);
            let present: Vec<Option<&[u8]>> = shards
                .iter()
                .map(|shard| shard.as_ref().map(|shard| &shard[range.clone()]))
                .collect();
            let mut out: Vec<(usize, &mut [u8])> = restored
                .iter_mut()
                .enumerate()
                .filter_map(|(index, slot)| slot.as_mut().map(|shard| (index, shard)))
                .map(|(index, shard)| (index, &mut shard[range.clone()]))
                .collect();
            match &classic {
                Some(codec) => decode_stripe_classic(codec, &present, &mut out)?,
                None => decode_stripe_simd(&mut simd, data_count, &present, &mut out)?,
            }
        }
    }
    let mut framed = Vec::with_capacity(shard_bytes * data_count);
    for (index, slot) in shards[..data_count].iter().enumerate() {
        let piece = slot.or(restored[index].as_deref()).ok_or(ErasureError::Codec {
            message: format!("data shard {index} neither present nor restored"),
        })?;
        framed.extend_from_slice(piece);
    }
    unframe(framed)
}

/// Strip the length header and check that the padding is zero.
fn unframe(mut framed: Vec<u8>) -> Result<Vec<u8>, ErasureError> {
    let capacity = framed.len().saturating_sub(LENGTH_HEADER_BYTES);
    let mut header = [0u8; LENGTH_HEADER_BYTES];
    let head = framed
        .get(..LENGTH_HEADER_BYTES)
        .ok_or(ErasureError::BadLength { claimed: 0, capacity })?;
    header.copy_from_slice(head);
    let claimed = u64::from_le_bytes(header);
    let length = usize::try_from(claimed)
        .ok()
        .filter(|length| *length <= capacity)
        .ok_or(ErasureError::BadLength { claimed, capacity })?;
    let end = LENGTH_HEADER_BYTES + length;
    if framed[end..].iter().any(|byte| *byte != 0) {
        return Err(ErasureError::BadPadding);
    }
    framed.truncate(end);
    framed.drain(..LENGTH_HEADER_BYTES);
    Ok(framed)
}

fn classic(k: u8, n: u8) -> Result<reed_solomon_erasure::galois_8::ReedSolomon, ErasureError> {
    reed_solomon_erasure::galois_8::ReedSolomon::new(usize::from(k), usize::from(n - k))
        .map_err(classic_error)
}

fn classic_error(error: reed_solomon_erasure::Error) -> ErasureError {
    ErasureError::Codec { message: format!("reed-solomon-erasure: {error:?}") }
}

fn simd_error(error: reed_solomon_simd::Error) -> ErasureError {
    ErasureError::Codec { message: format!("reed-solomon-simd: {error}") }
}

/// Encode one stripe with reed-solomon-simd, reusing the encoder's work buffers across stripes.
fn encode_stripe_simd(
    encoder: &mut Option<reed_solomon_simd::ReedSolomonEncoder>,
    data: &[&[u8]],
    parity: &mut [&mut [u8]],
) -> Result<(), ErasureError> {
    let stripe = data.first().map_or(0, |shard| shard.len());
    let encoder = match encoder {
        Some(encoder) => {
            encoder.reset(data.len(), parity.len(), stripe).map_err(simd_error)?;
            encoder
        }
        None => encoder.insert(
            reed_solomon_simd::ReedSolomonEncoder::new(data.len(), parity.len(), stripe)
                .map_err(simd_error)?,
        ),
    };
    for shard in data {
        encoder.add_original_shard(shard).map_err(simd_error)?;
    }
    let result = encoder.encode().map_err(simd_error)?;
    for (out, recovery) in parity.iter_mut().zip(result.recovery_iter()) {
        out.copy_from_slice(recovery);
    }
    Ok(())
}

/// Restore the missing data shards' part of one stripe (`out` holds their buffers).
fn decode_stripe_simd(
    decoder: &mut Option<reed_solomon_simd::ReedSolomonDecoder>,
    data_count: usize,
    present: &[Option<&[u8]>],
    out: &mut [(usize, &mut [u8])],
) -> Result<(), ErasureError> {
    let stripe = present.iter().flatten().next().map_or(0, |shard| shard.len());
    let parity_count = present.len() - data_count;
    let decoder = match decoder {
        Some(decoder) => {
            decoder.reset(data_count, parity_count, stripe).map_err(simd_error)?;
            decoder
        }
        None => decoder.insert(
            reed_solomon_simd::ReedSolomonDecoder::new(data_count, parity_count, stripe)
                .map_err(simd_error)?,
        ),
    };
    for (index, shard) in present.iter().enumerate() {
        let Some(shard) = shard else { continue };
        if index < data_count {
            decoder.add_original_shard(index, shard).map_err(simd_error)?;
        } else {
            decoder.add_recovery_shard(index - data_count, shard).map_err(simd_error)?;
        }
    }
    let result = decoder.decode().map_err(simd_error)?;
    for (index, buffer) in out.iter_mut() {
        let restored = result.restored_original(*index).ok_or(ErasureError::Codec {
            message: format!("reed-solomon-simd did not restore data shard {index}"),
        })?;
        buffer.copy_from_slice(restored);
    }
    Ok(())
}

/// Restore one stripe with reed-solomon-erasure (which wants owned, mutable slots).
fn decode_stripe_classic(
    codec: &reed_solomon_erasure::galois_8::ReedSolomon,
    present: &[Option<&[u8]>],
    out: &mut [(usize, &mut [u8])],
) -> Result<(), ErasureError> {
    let mut slots: Vec<Option<Vec<u8>>> =
        present.iter().map(|shard| shard.map(<[u8]>::to_vec)).collect();
    codec.reconstruct_data(&mut slots).map_err(classic_error)?;
    for (index, buffer) in out.iter_mut() {
        let restored = slots.get(*index).and_then(Option::as_ref).ok_or(ErasureError::Codec {
            message: format!("reed-solomon-erasure did not restore data shard {index}"),
        })?;
        buffer.copy_from_slice(restored);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload(bytes: usize) -> Vec<u8> {
        (0..bytes).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn parameters_are_checked() {
        assert_eq!(check_parameters(0, 3), Err(ErasureError::BadParameters { k: 0, n: 3 }));
        assert_eq!(check_parameters(4, 3), Err(ErasureError::BadParameters { k: 4, n: 3 }));
        assert_eq!(check_parameters(4, 65), Err(ErasureError::BadParameters { k: 4, n: 65 }));
        assert!(check_parameters(64, 64).is_ok());
        assert!(matches!(encode(Codec::Simd, b"x", 0, 1), Err(ErasureError::BadParameters { .. })));
    }

    #[test]
    fn shard_bytes_are_even_and_cover_the_payload() {
        for length in [0usize, 1, 7, 8, 9, 1000, 4097] {
            for k in [1u8, 3, 4, 10] {
                let size = shard_bytes_for(length, k).unwrap();
                assert_eq!(size % 2, 0);
                assert!(size * usize::from(k) >= length + LENGTH_HEADER_BYTES);
            }
        }
    }

    #[test]
    fn both_codecs_recover_from_parity_only_where_possible() {
        // 300 KB in 4 data shards spans two stripes per shard, the last one short.
        for (codec, length) in [(Codec::Simd, 10_000), (Codec::Classic, 10_000)]
            .into_iter()
            .chain([(Codec::Simd, 300_001), (Codec::Classic, 300_001)])
        {
            let data = payload(length);
            let shards = encode(codec, &data, 4, 6).unwrap();
            let mut slots: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
            slots[0] = None;
            slots[2] = None;
            assert_eq!(decode(codec, &slots, 4, 6).unwrap(), data);
            slots[3] = None;
            assert_eq!(
                decode(codec, &slots, 4, 6),
                Err(ErasureError::TooFewShards { have: 3, need: 4 })
            );
        }
    }

    #[test]
    fn k_equal_n_and_size_mismatch() {
        let data = payload(33);
        let shards = encode(Codec::Simd, &data, 3, 3).unwrap();
        let mut slots: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
        assert_eq!(decode(Codec::Classic, &slots, 3, 3).unwrap(), data);
        if let Some(shard) = slots[1].as_mut() {
            shard.push(0);
            shard.push(0);
        }
        assert!(matches!(
            decode(Codec::Simd, &slots, 3, 3),
            Err(ErasureError::ShardSizeMismatch { index: 1, .. })
        ));
        assert!(matches!(
            decode(Codec::Simd, &slots[..2], 3, 3),
            Err(ErasureError::ShardCountMismatch { expected: 3, got: 2 })
        ));
    }

    #[test]
    fn corrupt_length_or_padding_is_rejected() {
        let mut slots: Vec<Option<Vec<u8>>> =
            encode(Codec::Simd, b"abc", 2, 3).unwrap().into_iter().map(Some).collect();
        let mut bad_length = slots.clone();
        if let Some(shard) = bad_length[0].as_mut() {
            shard[5] = 0xff; // a length header byte: claims ~2^40 bytes
        }
        assert!(matches!(
            decode(Codec::Simd, &bad_length, 2, 3),
            Err(ErasureError::BadLength { .. })
        ));
        if let Some(shard) = slots[1].as_mut() {
            let last = shard.len() - 1;
            shard[last] = 1;
        }
        assert_eq!(decode(Codec::Simd, &slots, 2, 3), Err(ErasureError::BadPadding));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_k_shards_recover(
            length in 0usize..20_000,
            k in 1u8..12,
            extra in 0u8..8,
            seed in any::<u64>(),
            classic in any::<bool>(),
        ) {
            let n = k + extra;
            let codec = if classic { Codec::Classic } else { Codec::Simd };
            let data = payload(length);
            let shards = encode(codec, &data, k, n).unwrap();
            prop_assert_eq!(shards.len(), usize::from(n));
            // Keep a pseudo-random subset of exactly k shards.
            let mut order: Vec<usize> = (0..usize::from(n)).collect();
            let mut state = seed;
            for i in (1..order.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (state >> 33) as usize % (i + 1));
            }
            let mut slots: Vec<Option<Vec<u8>>> = vec![None; usize::from(n)];
            for &index in &order[..usize::from(k)] {
                slots[index] = Some(shards[index].clone());
            }
            prop_assert_eq!(decode(codec, &slots, k, n).unwrap(), data);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_slots(
            k in any::<u8>(),
            n in any::<u8>(),
            slots in proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
                0..12,
            ),
            uniform_len in proptest::option::of(0usize..40),
            classic in any::<bool>(),
        ) {
            let codec = if classic { Codec::Classic } else { Codec::Simd };
            let mut slots = slots;
            // Often give every shard the same length, so the codecs themselves are reached.
            if let Some(length) = uniform_len {
                for shard in slots.iter_mut().flatten() {
                    shard.resize(length, 7);
                }
            }
            let _ = decode(codec, &slots, k, n);
            let _ = decode(codec, &slots, k.min(slots.len() as u8), slots.len() as u8);
        }
    }
}
