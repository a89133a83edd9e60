//! Federated learning on a real data set (docs/federated-learning.md): the red wine-quality set
//! (1,599 records, 11 physico-chemical features; Cortez et al., 2009) as `linfa-datasets` ships
//! it, turned into vein's fixed-point [`Dataset`]; the measured scenarios (`scenarios`); and the
//! report command `vein-fl-report`.
//!
//! This crate exists so that vein-node's core, which the simulator also builds, does not carry
//! linfa, ndarray and a CSV reader: the core takes records, not files.

#![warn(missing_docs)]

pub mod charts;
pub mod convert;
pub mod poisoning;
pub mod scenarios;
pub mod split;

use vein_node::core::fl::{Dataset, FlError};

/// Wine quality is scored 3..=8; "good" (quality ≥ 6) is the binary target, 53% of records.
pub const GOOD_QUALITY_MIN: usize = 6;

/// The raw records and binary labels, as read once from the packaged CSV.
pub fn wine_quality_raw() -> (Vec<Vec<f64>>, Vec<bool>) {
    let dataset = linfa_datasets::winequality();
    let records: Vec<Vec<f64>> =
        dataset.records.rows().into_iter().map(|row| row.to_vec()).collect();
    let labels: Vec<bool> =
        dataset.targets.iter().map(|quality| *quality >= GOOD_QUALITY_MIN).collect();
    (records, labels)
}

/// The standardised fixed-point data set.
pub fn wine_quality() -> Result<Dataset, FlError> {
    let (records, labels) = wine_quality_raw();
    convert::standardise(&records, &labels)
}
