//! The plotter: writes plot files with every core. Lives outside the sans-IO core because it
//! owns files and threads; the format and the nonce generator it drives are in `core::poc`.
//!
//! Pipeline, per batch of `batch_nonces` nonces (default 256, 64 MiB of memory):
//! 1. rayon generates the batch in groups of [`simd_lanes`] nonces, each group hashed side by
//!    side in SIMD lanes ([`generate_nonces`]);
//! 2. the batch is transposed in memory into scoop-major order: for each of the 4096 scoops one
//!    run of `batch · 64` bytes, written at that scoop's offset for this batch's nonces (the
//!    file is scoop-major over the whole plot, so a batch is 4096 strided writes);
//! 3. after the last batch the data region is read back sequentially to compute its BLAKE3
//!    checksum (a second pass at disk speed, small beside the hashing cost of plotting), the
//!    header is written, the file fsynced and renamed from `.tmp` to its final name, and the
//!    directory fsynced, so a crash never leaves a file that looks complete but is not.
//!
//! The first nonce of every plot is regenerated with the scalar reference and compared with the
//! SIMD output: the SIMD path drives a `#[doc(hidden)]` blake3 API, and a silent change there
//! must stop the plotter rather than write plots that no verifier accepts.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::challenge::{NONCE_BYTES, SCOOP_BYTES, SCOOPS_PER_NONCE};
use crate::core::poc::nonce::{generate_nonce, generate_nonces, simd_lanes, zeroed_nonce};
use crate::core::poc::plot_file::{HEADER_BYTES, PlotFileError, PlotHeader, PlotReader};

/// What to plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlotSpec {
    /// The miner the plot is for: every nonce is seeded with this account, so the plot proves
    /// capacity for it alone.
    pub account: AccountId,
    /// Index of the first nonce; plots of one account must not overlap to count twice.
    pub start_nonce: u64,
    /// Nonces to plot (256 KiB each); at least 1, and `start_nonce + nonce_count` must fit in
    /// u64.
    pub nonce_count: u64,
}

/// How to plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlotOptions {
    /// Worker threads; `None` = all cores.
    pub threads: Option<usize>,
    /// Nonces generated and transposed per batch (memory = batch · 256 KiB).
    pub batch_nonces: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions { threads: None, batch_nonces: 256 }
    }
}

/// Reported after every batch.
#[derive(Clone, Copy, Debug)]
pub struct PlotProgress {
    /// Nonces generated and written so far.
    pub nonces_done: u64,
    /// Nonces in the whole plot ([`PlotSpec::nonce_count`]).
    pub nonces_total: u64,
    /// Wall time since plotting started (after the file was created and sized).
    pub elapsed: Duration,
}

impl PlotProgress {
    /// Plot data written per second so far, in MiB/s (see [`mib_per_second`]).
    pub fn mib_per_second(&self) -> f64 {
        mib_per_second(self.nonces_done, self.elapsed)
    }
}

/// The finished plot.
#[derive(Clone, Debug)]
pub struct PlotReport {
    /// Where the plot now lives: its final name ([`plot_file_name`]) in the target directory.
    pub path: PathBuf,
    /// The header written at the start of the file, data checksum included.
    pub header: PlotHeader,
    /// Wall time from the first batch to the synced rename, the read-back pass included.
    pub elapsed: Duration,
    /// Worker threads used: [`PlotOptions::threads`], or all cores.
    pub threads: usize,
}

impl PlotReport {
    /// Whole-run throughput in nonces per second.
    pub fn nonces_per_second(&self) -> f64 {
        self.header.nonce_count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// Whole-run throughput in MiB of plot data per second (see [`mib_per_second`]).
    pub fn mib_per_second(&self) -> f64 {
        mib_per_second(self.header.nonce_count, self.elapsed)
    }
}

/// Plot data throughput: nonces × 256 KiB per second.
pub fn mib_per_second(nonces: u64, elapsed: Duration) -> f64 {
    nonces as f64 * NONCE_BYTES as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64().max(1e-9)
}

/// Why plotting, or reading a plot back, failed.
#[derive(Debug, thiserror::Error)]
pub enum PlotterError {
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "writing plot file".
        action: &'static str,
        /// The file it was done to (the `.tmp` file while plotting).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The plot format refused: a header or data that fails its checks on open or verify, or
    /// a new plot too large to address.
    #[error("plot file {path}: {source}")]
    Plot {
        /// The plot file, or the target directory when sizing a new plot failed.
        path: PathBuf,
        /// The format's error.
        #[source]
        source: PlotFileError,
    },
    /// The [`PlotSpec`] cannot be plotted.
    #[error("invalid plot request: {reason}")]
    InvalidSpec {
        /// Which rule it breaks (no nonces, or a nonce range that overflows u64).
        reason: String,
    },
    /// rayon could not build the worker pool.
    #[error("cannot start {threads} plotting threads: {reason}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// rayon's error, as text.
        reason: String,
    },
    /// The SIMD generator's first nonce differs from the scalar reference: the plot is
    /// abandoned (its `.tmp` file left behind) before anything unverifiable is written.
    #[error(
        "SIMD nonce generator disagrees with the reference for nonce {nonce_index}; refusing \
             to write plots no verifier would accept (blake3 crate changed?)"
    )]
    SimdSelfCheck {
        /// The nonce that disagreed: the plot's first.
        nonce_index: u64,
    },
}

/// `<account hex>_<start>_<count>.vplot`, Burst-style: the name tells what the file holds.
pub fn plot_file_name(spec: &PlotSpec) -> String {
    format!("{}_{}_{}.vplot", spec.account.to_hex(), spec.start_nonce, spec.nonce_count)
}

/// Open and validate a plot file (header, checksum and length; not the data checksum).
pub fn open_plot(path: &Path) -> Result<PlotReader<File>, PlotterError> {
    let file = File::open(path).map_err(|source| PlotterError::Io {
        action: "opening plot file",
        path: path.to_path_buf(),
        source,
    })?;
    PlotReader::open(file).map_err(|source| PlotterError::Plot { path: path.to_path_buf(), source })
}

/// Open a plot file and check its data checksum too (reads the whole file).
pub fn verify_plot(path: &Path) -> Result<PlotHeader, PlotterError> {
    let mut reader = open_plot(path)?;
    reader
        .verify_data()
        .map_err(|source| PlotterError::Plot { path: path.to_path_buf(), source })?;
    Ok(*reader.header())
}

/// Write the plot `spec` into `dir`, calling `progress` after each batch.
// The plotter is a production tool outside the sans-IO core; the wall clock only measures its
// throughput for the progress report and never feeds a protocol decision.
#[allow(clippy::disallowed_methods)]
pub fn write_plot(
    dir: &Path,
    spec: &PlotSpec,
    options: &PlotOptions,
    mut progress: impl FnMut(&PlotProgress),
) -> Result<PlotReport, PlotterError> {
    if spec.nonce_count == 0 {
        return Err(PlotterError::InvalidSpec { reason: "--nonces must be at least 1".into() });
    }
    if spec.start_nonce.checked_add(spec.nonce_count).is_none() {
        return Err(PlotterError::InvalidSpec { reason: "start + nonces overflows u64".into() });
    }
    let mut header = PlotHeader {
        account: spec.account,
        start_nonce: spec.start_nonce,
        nonce_count: spec.nonce_count,
        data_checksum: Hash::ZERO,
    };
    let file_bytes = header
        .file_bytes()
        .map_err(|source| PlotterError::Plot { path: dir.to_path_buf(), source })?;
    let threads = options.threads.unwrap_or_else(rayon::current_num_threads).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|error| PlotterError::ThreadPool { threads, reason: error.to_string() })?;

    let final_path = dir.join(plot_file_name(spec));
    let temp_path = final_path.with_extension("vplot.tmp");
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| PlotterError::Io { action, path, source }
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp_path)
        .map_err(io("creating plot file", &temp_path))?;
    file.set_len(file_bytes).map_err(io("sizing plot file", &temp_path))?;

    let started = Instant::now();
    let lanes = simd_lanes().max(1);
    let batch_nonces = options.batch_nonces.max(lanes);
    let mut buffers: Vec<Box<[u8; NONCE_BYTES]>> =
        (0..batch_nonces.min(spec.nonce_count as usize)).map(|_| zeroed_nonce()).collect();
    let mut run = Vec::with_capacity(buffers.len() * SCOOP_BYTES);
    let mut done = 0u64;
    while done < spec.nonce_count {
        let batch = (spec.nonce_count - done).min(batch_nonces as u64) as usize;
        let first = spec.start_nonce + done;
        let account = spec.account;
        pool.install(|| {
            buffers[..batch].par_chunks_mut(lanes).enumerate().for_each(|(group, outs)| {
                generate_nonces(&account, first + (group * lanes) as u64, outs);
            });
        });
        if done == 0 {
            let mut reference = zeroed_nonce();
            generate_nonce(&spec.account, first, &mut reference);
            if reference != buffers[0] {
                return Err(PlotterError::SimdSelfCheck { nonce_index: first });
            }
        }
        for scoop in 0..SCOOPS_PER_NONCE {
            run.clear();
            for nonce in &buffers[..batch] {
                run.extend_from_slice(&nonce[scoop * SCOOP_BYTES..(scoop + 1) * SCOOP_BYTES]);
            }
            file.seek(SeekFrom::Start(header.scoop_offset(scoop as u32, done)))
                .map_err(io("seeking in plot file", &temp_path))?;
            file.write_all(&run).map_err(io("writing plot file", &temp_path))?;
        }
        done += batch as u64;
        progress(&PlotProgress {
            nonces_done: done,
            nonces_total: spec.nonce_count,
            elapsed: started.elapsed(),
        });
    }

    file.flush().map_err(io("writing plot file", &temp_path))?;
    header.data_checksum =
        data_checksum(&mut file, file_bytes).map_err(io("reading back plot file", &temp_path))?;
    file.seek(SeekFrom::Start(0)).map_err(io("seeking in plot file", &temp_path))?;
    file.write_all(&header.encode()).map_err(io("writing plot header", &temp_path))?;
    file.sync_all().map_err(io("syncing plot file", &temp_path))?;
    drop(file);
    std::fs::rename(&temp_path, &final_path).map_err(io("renaming plot file", &final_path))?;
    // Persist the rename itself; not every platform can open a directory, so best effort.
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(PlotReport { path: final_path, header, elapsed: started.elapsed(), threads })
}

fn data_checksum(file: &mut File, file_bytes: u64) -> std::io::Result<Hash> {
    file.seek(SeekFrom::Start(HEADER_BYTES as u64))?;
    let mut reader = BufReader::with_capacity(1 << 20, file.take(file_bytes - HEADER_BYTES as u64));
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(Hash(*hasher.finalize().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::poc::plot_file::build_plot_in_memory;

    fn spec(count: u64) -> PlotSpec {
        PlotSpec {
            account: Keypair::derived("plotter", 1).account(),
            start_nonce: 3,
            nonce_count: count,
        }
    }

    #[test]
    fn written_plot_equals_reference_layout_across_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = spec(21); // 21 = one full batch of 16 (at least) and a ragged tail
        let options = PlotOptions { threads: Some(2), batch_nonces: 16 };
        let mut calls = 0;
        let report = write_plot(dir.path(), &spec, &options, |_| calls += 1).expect("plot");
        assert!(calls >= 1);
        let bytes = std::fs::read(&report.path).expect("read back");
        assert!(bytes == build_plot_in_memory(&spec.account, 3, 21), "layout differs");
        assert_eq!(verify_plot(&report.path).expect("verify"), report.header);
        assert!(!report.path.with_extension("vplot.tmp").exists());
    }

    #[test]
    fn errors_name_the_file_and_the_fault() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report =
            write_plot(dir.path(), &spec(2), &PlotOptions::default(), |_| {}).expect("plot");
        let mut bytes = std::fs::read(&report.path).expect("read");
        bytes[HEADER_BYTES + 5] ^= 1;
        std::fs::write(&report.path, &bytes).expect("write");
        let message = verify_plot(&report.path).expect_err("corrupt").to_string();
        assert!(message.contains(&report.path.display().to_string()), "{message}");
        assert!(message.contains("data checksum"), "{message}");

        bytes.truncate(1000);
        std::fs::write(&report.path, &bytes).expect("write");
        let message = open_plot(&report.path).expect_err("truncated").to_string();
        assert!(message.contains("truncated") && message.contains(".vplot"), "{message}");

        let missing = open_plot(&dir.path().join("nope.vplot")).expect_err("missing").to_string();
        assert!(message.len() > 10 && missing.contains("nope.vplot"), "{missing}");
        let empty = write_plot(dir.path(), &spec(0), &PlotOptions::default(), |_| {});
        assert!(matches!(empty, Err(PlotterError::InvalidSpec { .. })));
    }
}
