//! The plot file format and its reader.
//!
//! Layout (all integers little-endian), 128-byte header then the data region:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"VEINPLOT"` |
//! | 8 | 2 | format version (1) |
//! | 10 | 6 | reserved, zero |
//! | 16 | 32 | account the plot is bound to |
//! | 48 | 8 | start nonce |
//! | 56 | 8 | nonce count `n` (≥ 1) |
//! | 64 | 32 | BLAKE3 of the data region |
//! | 96 | 32 | BLAKE3 of header bytes 0..96 |
//!
//! The data region is scoop-major: for scoop `s` in `0..4096`, the 64-byte scoop `s` of every
//! nonce `0..n` in order, so scoop `s` of nonce `k` sits at `128 + (s·n + k)·64`. A round reads
//! one contiguous `n·64`-byte run (1/4096 of the plot) with one seek: this is what makes mining
//! cheap for the disk and fast for a TiB of plots.
//!
//! Opening checks magic, version, header checksum and the exact file length, so a corrupt,
//! truncated or foreign file is refused at once with a typed error naming the fault. The data
//! checksum costs a full read and is checked only by [`PlotReader::verify_data`] (`vein-node
//! plot-verify`). Errors carry no path: the caller outside the core adds it.

use std::io::{Read, Seek, SeekFrom};

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::challenge::{
    Challenge, NONCE_BYTES, SCOOP_BYTES, SCOOPS_PER_NONCE, deadline_ms, hits_many, scoop_index,
};
use crate::core::poc::nonce::{generate_nonce, zeroed_nonce};
pub use crate::core::poc::plot_error::PlotFileError;
use crate::core::poc::proof::PocProof;

/// The first 8 bytes of every plot file.
pub const PLOT_MAGIC: [u8; 8] = *b"VEINPLOT";
/// The format version this node writes and reads.
pub const PLOT_FORMAT_VERSION: u16 = 1;
/// Size of the header before the data region.
pub const HEADER_BYTES: usize = 128;
/// Bytes read per `read` call while scanning or verifying: bounds memory for huge plots.
const READ_BATCH_BYTES: usize = 1 << 20;

/// The decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlotHeader {
    /// The account the nonces were generated for; only it can prove with them.
    pub account: AccountId,
    /// The account nonce of the plot's first nonce: its `k`-th is `start_nonce + k`.
    pub start_nonce: u64,
    /// Nonces in the plot (at least 1), 256 KiB each.
    pub nonce_count: u64,
    /// BLAKE3 of the data region, checked by [`PlotReader::verify_data`].
    pub data_checksum: Hash,
}

impl PlotHeader {
    /// Bytes the whole file must have.
    pub fn file_bytes(&self) -> Result<u64, PlotFileError> {
        self.nonce_count
            .checked_mul(NONCE_BYTES as u64)
            .and_then(|data| data.checked_add(HEADER_BYTES as u64))
            .ok_or(PlotFileError::NonceCountTooLarge { nonce_count: self.nonce_count })
    }

    /// Offset of scoop `scoop` of the plot's `k`-th nonce.
    pub fn scoop_offset(&self, scoop: u32, k: u64) -> u64 {
        HEADER_BYTES as u64 + (u64::from(scoop) * self.nonce_count + k) * SCOOP_BYTES as u64
    }

    /// The 128 header bytes, checksum included, as laid out in the module comment.
    pub fn encode(&self) -> [u8; HEADER_BYTES] {
        let mut bytes = [0u8; HEADER_BYTES];
        bytes[0..8].copy_from_slice(&PLOT_MAGIC);
        bytes[8..10].copy_from_slice(&PLOT_FORMAT_VERSION.to_le_bytes());
        bytes[16..48].copy_from_slice(self.account.as_bytes());
        bytes[48..56].copy_from_slice(&self.start_nonce.to_le_bytes());
        bytes[56..64].copy_from_slice(&self.nonce_count.to_le_bytes());
        bytes[64..96].copy_from_slice(self.data_checksum.as_bytes());
        let checksum = Hash::of(&bytes[..96]);
        bytes[96..128].copy_from_slice(checksum.as_bytes());
        bytes
    }

    /// Decode and check a header from arbitrary bytes (never panics).
    pub fn decode(bytes: &[u8]) -> Result<PlotHeader, PlotFileError> {
        if bytes.len() < HEADER_BYTES {
            return Err(PlotFileError::Truncated {
                expected_bytes: HEADER_BYTES as u64,
                actual_bytes: bytes.len() as u64,
            });
        }
        let field = |from: usize, to: usize| -> &[u8] { &bytes[from..to] };
        let mut magic = [0u8; 8];
        magic.copy_from_slice(field(0, 8));
        if magic != PLOT_MAGIC {
            return Err(PlotFileError::BadMagic { found: magic });
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != PLOT_FORMAT_VERSION {
            return Err(PlotFileError::UnsupportedVersion { found: version });
        }
        if Hash::of(field(0, 96)).as_bytes()[..] != bytes[96..128] {
            return Err(PlotFileError::HeaderChecksum);
        }
        let u64_at = |from: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[from..from + 8]);
            u64::from_le_bytes(word)
        };
        let mut account = [0u8; 32];
        account.copy_from_slice(field(16, 48));
        let mut data_checksum = [0u8; 32];
        data_checksum.copy_from_slice(field(64, 96));
        let header = PlotHeader {
            account: AccountId(account),
            start_nonce: u64_at(48),
            nonce_count: u64_at(56),
            data_checksum: Hash(data_checksum),
        };
        if header.nonce_count == 0 {
            return Err(PlotFileError::EmptyPlot);
        }
        header.file_bytes()?;
        Ok(header)
    }
}

/// Lay out already generated nonces (nonce-major, `k`-th nonce at `k·256 KiB`) into the
/// scoop-major run for scoop `scoop`: the transpose the plotter does in memory per batch.
pub fn transpose_scoop(nonces: &[Box<[u8; NONCE_BYTES]>], scoop: usize, out: &mut Vec<u8>) {
    for nonce in nonces {
        out.extend_from_slice(&nonce[scoop * SCOOP_BYTES..(scoop + 1) * SCOOP_BYTES]);
    }
}

/// Build a whole plot in memory with the single-threaded reference generator. For tests, the
/// testnet's tiny plots and the simulator; the plotter (outside the core) does large ones.
pub fn build_plot_in_memory(account: &AccountId, start_nonce: u64, nonce_count: u64) -> Vec<u8> {
    let nonces: Vec<Box<[u8; NONCE_BYTES]>> = (0..nonce_count)
        .map(|k| {
            let mut buffer = zeroed_nonce();
            generate_nonce(account, start_nonce + k, &mut buffer);
            buffer
        })
        .collect();
    let mut data = Vec::with_capacity(nonce_count as usize * NONCE_BYTES);
    for scoop in 0..SCOOPS_PER_NONCE {
        transpose_scoop(&nonces, scoop, &mut data);
    }
    let header =
        PlotHeader { account: *account, start_nonce, nonce_count, data_checksum: Hash::of(&data) };
    let mut file = header.encode().to_vec();
    file.extend_from_slice(&data);
    file
}

/// A validated plot over any `Read + Seek` source (a `File` outside the core, a `Cursor` in
/// tests and simulations).
#[derive(Debug)]
pub struct PlotReader<R> {
    source: R,
    header: PlotHeader,
}

impl<R: Read + Seek> PlotReader<R> {
    /// Read and check the header and the exact length. Reads 128 bytes, not the data.
    pub fn open(mut source: R) -> Result<PlotReader<R>, PlotFileError> {
        let actual_bytes = source.seek(SeekFrom::End(0))?;
        source.seek(SeekFrom::Start(0))?;
        let mut bytes = [0u8; HEADER_BYTES];
        let header_len = (actual_bytes as usize).min(HEADER_BYTES);
        source.read_exact(&mut bytes[..header_len])?;
        let header = PlotHeader::decode(&bytes[..header_len])?;
        let expected_bytes = header.file_bytes()?;
        if actual_bytes < expected_bytes {
            return Err(PlotFileError::Truncated { expected_bytes, actual_bytes });
        }
        if actual_bytes > expected_bytes {
            return Err(PlotFileError::TrailingBytes { expected_bytes, actual_bytes });
        }
        Ok(PlotReader { source, header })
    }

    /// The header, checked when the file was opened.
    pub fn header(&self) -> &PlotHeader {
        &self.header
    }

    /// Call `visit(first_k, run)` over the given scoop of every nonce: one contiguous region
    /// read in bounded batches, `run` holding the 64-byte scoops of nonces `first_k..`.
    pub fn for_each_scoop_run(
        &mut self,
        scoop: u32,
        mut visit: impl FnMut(u64, &[u8]),
    ) -> Result<(), PlotFileError> {
        debug_assert!((scoop as usize) < SCOOPS_PER_NONCE);
        let count = self.header.nonce_count;
        self.source.seek(SeekFrom::Start(self.header.scoop_offset(scoop, 0)))?;
        let per_batch = (READ_BATCH_BYTES / SCOOP_BYTES) as u64;
        let mut buffer = vec![0u8; (count.min(per_batch) as usize) * SCOOP_BYTES];
        let mut k = 0u64;
        while k < count {
            let batch = (count - k).min(per_batch) as usize;
            let run = &mut buffer[..batch * SCOOP_BYTES];
            self.source.read_exact(run)?;
            visit(k, run);
            k += batch as u64;
        }
        Ok(())
    }

    /// Call `visit(k, scoop_bytes)` for the given scoop of every nonce.
    pub fn for_each_scoop(
        &mut self,
        scoop: u32,
        mut visit: impl FnMut(u64, &[u8; SCOOP_BYTES]),
    ) -> Result<(), PlotFileError> {
        self.for_each_scoop_run(scoop, |first, run| {
            for (i, bytes) in run.chunks_exact(SCOOP_BYTES).enumerate() {
                let mut scoop_bytes = [0u8; SCOOP_BYTES];
                scoop_bytes.copy_from_slice(bytes);
                visit(first + i as u64, &scoop_bytes);
            }
        })
    }

    /// The best (smallest) deadline of this plot for `challenge`, reading only the challenged
    /// scoop run. Ties go to the lowest nonce index.
    pub fn best_deadline(
        &mut self,
        challenge: &Challenge,
    ) -> Result<Option<(PocProof, u64)>, PlotFileError> {
        let scoop = scoop_index(challenge);
        let mut best: Option<(u64, u64, [u8; SCOOP_BYTES])> = None;
        let mut hits = Vec::new();
        self.for_each_scoop_run(scoop, |first, run| {
            hits.resize(run.len() / SCOOP_BYTES, 0);
            hits_many(&challenge.generation_signature, run, &mut hits);
            for (i, &hit) in hits.iter().enumerate() {
                if best.is_none_or(|(best_hit, _, _)| hit < best_hit) {
                    let mut bytes = [0u8; SCOOP_BYTES];
                    bytes.copy_from_slice(&run[i * SCOOP_BYTES..(i + 1) * SCOOP_BYTES]);
                    best = Some((hit, first + i as u64, bytes));
                }
            }
        })?;
        let start = self.header.start_nonce;
        let account = self.header.account;
        Ok(best.map(|(hit, k, scoop)| {
            let proof = PocProof::Plot { plot_account: account, nonce_index: start + k, scoop };
            (proof, deadline_ms(hit, challenge.base_target))
        }))
    }

    /// Full data check: re-hash the data region against the header's checksum.
    pub fn verify_data(&mut self) -> Result<(), PlotFileError> {
        self.source.seek(SeekFrom::Start(HEADER_BYTES as u64))?;
        let mut remaining = self.header.file_bytes()? - HEADER_BYTES as u64;
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0u8; READ_BATCH_BYTES];
        while remaining > 0 {
            let len = remaining.min(READ_BATCH_BYTES as u64) as usize;
            self.source.read_exact(&mut buffer[..len])?;
            hasher.update(&buffer[..len]);
            remaining -= len as u64;
        }
        if Hash(*hasher.finalize().as_bytes()) != self.header.data_checksum {
            return Err(PlotFileError::DataChecksum);
        }
        Ok(())
    }

    /// Give back the underlying reader.
    pub fn into_inner(self) -> R {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::poc::challenge::hit;
    use crate::core::poc::nonce::scoop_of;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn account() -> AccountId {
        Keypair::derived("plot", 1).account()
    }

    fn open(bytes: Vec<u8>) -> Result<PlotReader<Cursor<Vec<u8>>>, PlotFileError> {
        PlotReader::open(Cursor::new(bytes))
    }

    #[test]
    fn round_trip_and_scoops_in_place() {
        let bytes = build_plot_in_memory(&account(), 40, 8);
        assert_eq!(bytes.len(), HEADER_BYTES + 8 * NONCE_BYTES);
        let mut reader = open(bytes).expect("valid plot");
        assert_eq!(reader.header().account, account());
        assert_eq!(reader.header().start_nonce, 40);
        assert_eq!(reader.header().nonce_count, 8);
        reader.verify_data().expect("data checksum");
        let mut seen = Vec::new();
        reader.for_each_scoop(1234, |k, bytes| seen.push((k, *bytes))).expect("read");
        assert_eq!(seen.len(), 8);
        for (k, bytes) in [seen[0], seen[5]] {
            assert_eq!(bytes, scoop_of(&account(), 40 + k, 1234));
        }
    }

    #[test]
    fn best_deadline_is_brute_force_minimum() {
        let count = 16u64;
        let bytes = build_plot_in_memory(&account(), 0, count);
        let mut reader = open(bytes).expect("valid plot");
        // Brute force from nonce-major buffers generated independently of the file layout.
        let nonces: Vec<Box<[u8; NONCE_BYTES]>> = (0..count)
            .map(|k| {
                let mut buffer = zeroed_nonce();
                generate_nonce(&account(), k, &mut buffer);
                buffer
            })
            .collect();
        for height in 0..50u64 {
            let challenge = Challenge {
                height,
                generation_signature: Hash::of(&height.to_le_bytes()),
                base_target: 1 << 40,
            };
            let (proof, deadline) = reader.best_deadline(&challenge).expect("read").expect("some");
            let scoop = scoop_index(&challenge) as usize;
            let (brute_deadline, brute_k) = nonces
                .iter()
                .enumerate()
                .map(|(k, nonce)| {
                    let mut bytes = [0u8; SCOOP_BYTES];
                    bytes.copy_from_slice(&nonce[scoop * SCOOP_BYTES..(scoop + 1) * SCOOP_BYTES]);
                    let hit = hit(&challenge.generation_signature, &bytes);
                    (deadline_ms(hit, challenge.base_target), k as u64)
                })
                .min()
                .expect("nonempty");
            assert_eq!(deadline, brute_deadline, "height {height}");
            let PocProof::Plot { nonce_index, .. } = proof else { panic!("plot proof") };
            assert_eq!(nonce_index, brute_k, "height {height}");
        }
    }

    #[test]
    fn each_corruption_has_its_own_error() {
        let good = build_plot_in_memory(&account(), 0, 2);
        let mut bad_magic = good.clone();
        bad_magic[0] ^= 1;
        assert!(matches!(open(bad_magic), Err(PlotFileError::BadMagic { .. })));

        let mut bad_version = good.clone();
        bad_version[8] = 9;
        assert!(matches!(open(bad_version), Err(PlotFileError::UnsupportedVersion { found: 9 })));

        for flipped in [16usize, 50, 60, 70, 100] {
            let mut bad_header = good.clone();
            bad_header[flipped] ^= 0x40;
            assert!(
                matches!(open(bad_header), Err(PlotFileError::HeaderChecksum)),
                "byte {flipped}"
            );
        }

        let mut truncated = good.clone();
        truncated.truncate(good.len() - 1);
        assert!(matches!(
            open(truncated),
            Err(PlotFileError::Truncated { expected_bytes, actual_bytes })
                if expected_bytes == good.len() as u64 && actual_bytes == good.len() as u64 - 1
        ));
        assert!(matches!(
            open(good[..20].to_vec()),
            Err(PlotFileError::Truncated { expected_bytes: 128, actual_bytes: 20 })
        ));

        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(open(trailing), Err(PlotFileError::TrailingBytes { .. })));

        let mut bad_data = good.clone();
        bad_data[HEADER_BYTES + 77_777] ^= 1;
        let mut reader = open(bad_data).expect("header still valid");
        assert!(matches!(reader.verify_data(), Err(PlotFileError::DataChecksum)));

        let empty = PlotHeader {
            account: account(),
            start_nonce: 0,
            nonce_count: 0,
            data_checksum: Hash::ZERO,
        };
        assert!(matches!(PlotHeader::decode(&empty.encode()), Err(PlotFileError::EmptyPlot)));
        let huge = PlotHeader { nonce_count: u64::MAX / 2, ..empty };
        assert!(matches!(
            PlotHeader::decode(&huge.encode()),
            Err(PlotFileError::NonceCountTooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn header_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = PlotHeader::decode(&bytes);
        }

        #[test]
        fn header_decoder_never_panics_past_the_magic(
            tail in proptest::collection::vec(any::<u8>(), 0..160)
        ) {
            // Most random inputs stop at the magic; this one reaches the later checks.
            let mut bytes = PLOT_MAGIC.to_vec();
            bytes.extend_from_slice(&PLOT_FORMAT_VERSION.to_le_bytes());
            bytes.extend_from_slice(&tail);
            let _ = PlotHeader::decode(&bytes);
            // And with a valid checksum over random fields.
            if bytes.len() >= HEADER_BYTES {
                let checksum = Hash::of(&bytes[..96]);
                bytes[96..128].copy_from_slice(checksum.as_bytes());
                let _ = PlotHeader::decode(&bytes);
            }
        }

        #[test]
        fn header_encode_decode_round_trip(
            seed in any::<[u8; 32]>(), start in any::<u64>(), count in 1u64..1 << 40
        ) {
            let header = PlotHeader {
                account: AccountId(seed),
                start_nonce: start,
                nonce_count: count,
                data_checksum: Hash::of(&seed),
            };
            prop_assert_eq!(PlotHeader::decode(&header.encode()).ok(), Some(header));
        }
    }
}
