//! Proof-of-Contribution: disk space as the scarce resource (PROTOCOL.md section 3).
//!
//! - [`challenge`]: generation signature, successor challenge, scoop index, hit, deadline,
//!   weight.
//! - `blake3_spec`: the BLAKE3 flags and IV the SIMD kernels need.
//! - [`nonce`]: PoC2 nonce generation (BLAKE3), reference and SIMD multi-nonce.
//! - [`plot_file`]: the scoop-major plot file format and its validating reader.
//! - [`plot_error`]: why a plot file was refused.
//! - [`proof`]: proofs, network modes and verification.
//! - [`model`]: the keyed-PRF back-end for large simulations.
//! - [`on_the_fly`]: a plotter that stores nothing and computes nonces after the challenge.
//! - [`prover`]: the interface both back-ends implement.
//! - [`retarget`]: base-target retargeting.
//!
//! Everything here is pure: readers work over `Read + Seek`, the caller opens files.

mod blake3_spec;
pub mod challenge;
pub mod model;
pub mod nonce;
pub mod on_the_fly;
pub mod plot_error;
pub mod plot_file;
pub mod proof;
pub mod prover;
pub mod retarget;

#[cfg(test)]
mod equivalence_tests;

pub use challenge::{Challenge, NONCE_BYTES, SCOOP_BYTES, SCOOPS_PER_NONCE};
pub use plot_file::{PlotFileError, PlotHeader, PlotReader};
pub use proof::{PocError, PocMode, PocProof, verify_proof};
pub use prover::{ModelPlots, PlotSet, Prover};
