//! Why a plot file was refused: its format errors. A file of its own because both the plot
//! reader (`plot_file`) and proof search and verification (`proof`, through the prover) report
//! them, and the reader builds proofs: neither may own the other's vocabulary.

/// Why a plot file could not be opened, verified or read.
#[derive(Debug, thiserror::Error)]
pub enum PlotFileError {
    /// The first 8 bytes are not `VEINPLOT`: not a plot file.
    #[error("not a vein plot file (magic bytes {found:02x?}, expected \"VEINPLOT\")")]
    BadMagic {
        /// The file's first 8 bytes.
        found: [u8; 8],
    },
    /// A format version this node cannot read.
    #[error("unsupported plot format version {found} (this node reads version 1)")]
    UnsupportedVersion {
        /// The version in the header.
        found: u16,
    },
    /// The header's BLAKE3 of bytes 0..96 does not match.
    #[error("plot header checksum mismatch: the header is corrupt")]
    HeaderChecksum,
    /// The header declares a nonce count of 0.
    #[error("plot header declares zero nonces")]
    EmptyPlot,
    /// The declared nonce count's file size overflows a `u64`.
    #[error("plot header declares {nonce_count} nonces, more than a file can hold")]
    NonceCountTooLarge {
        /// The declared nonce count.
        nonce_count: u64,
    },
    /// The file is shorter than the header says it must be.
    #[error("plot file truncated: expected {expected_bytes} bytes, found {actual_bytes}")]
    Truncated {
        /// Length the header implies.
        expected_bytes: u64,
        /// The file's length.
        actual_bytes: u64,
    },
    /// The file is longer than the header says it must be.
    #[error("plot file has trailing data: expected {expected_bytes} bytes, found {actual_bytes}")]
    TrailingBytes {
        /// Length the header implies.
        expected_bytes: u64,
        /// The file's length.
        actual_bytes: u64,
    },
    /// The data region does not hash to the header's data checksum (full verification only).
    #[error("plot data checksum mismatch: the nonce data is corrupt")]
    DataChecksum,
    /// Reading or seeking the file failed.
    #[error("plot I/O error: {0}")]
    Io(#[from] std::io::Error),
}
