//! Why a plot file was refused: its format errors. A file of its own because both the plot
//! reader (`plot_file`) and proof search and verification (`proof`, through the prover) report
//! them, and the reader builds proofs: neither may own the other's vocabulary.

#[derive(Debug, thiserror::Error)]
pub enum PlotFileError {
    #[error("not a vein plot file (magic bytes {found:02x?}, expected \"VEINPLOT\")")]
    BadMagic { found: [u8; 8] },
    #[error("unsupported plot format version {found} (this node reads version 1)")]
    UnsupportedVersion { found: u16 },
    #[error("plot header checksum mismatch: the header is corrupt")]
    HeaderChecksum,
    #[error("plot header declares zero nonces")]
    EmptyPlot,
    #[error("plot header declares {nonce_count} nonces, more than a file can hold")]
    NonceCountTooLarge { nonce_count: u64 },
    #[error("plot file truncated: expected {expected_bytes} bytes, found {actual_bytes}")]
    Truncated { expected_bytes: u64, actual_bytes: u64 },
    #[error("plot file has trailing data: expected {expected_bytes} bytes, found {actual_bytes}")]
    TrailingBytes { expected_bytes: u64, actual_bytes: u64 },
    #[error("plot data checksum mismatch: the nonce data is corrupt")]
    DataChecksum,
    #[error("plot I/O error: {0}")]
    Io(#[from] std::io::Error),
}
