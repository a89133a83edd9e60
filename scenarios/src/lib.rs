//! vein-scenarios: the attack and fault scenarios of PROTOCOL.md §7, as TOML files, run over
//! many seeds and compared with their analytic references.
//!
//! - [`scenario`]: the file format, strict parsing and validation.
//! - [`engine`]: the executor seam (LocalNet today, the madsim simulator later).
//! - [`families`]: one run of one seed per family; attackers are node policies. Families
//!   with more story than fits there have their own file: [`tip_dynamics`] (#11),
//!   [`conflict_spam`] (#10), [`grinding`] (#5), [`network_split`] (#12),
//!   [`lazy_tips`] (#10), [`fake_space`] (#7), [`extend_forks`] (#4), [`plot_sharing`] (#8).
//! - [`runner`]: grids, seeds, shards, parallel execution, merging, report directories.
//! - [`charts`]: the plots of a pooled sweep.
//! - [`suite`]: the default suite, one report for the main families.
//! - [`explain`]: the prose `vein-scenarios explain` prints.
//! - [`storage`]: the storage-chain families (#9 storage cheating, shard loss) and their charts.

pub mod charts;
pub mod conflict_spam;
pub mod engine;
pub mod explain;
pub mod extend_forks;
pub mod fake_space;
pub mod families;
pub mod grinding;
pub mod lazy_tips;
pub mod network_split;
pub mod plot_sharing;
pub mod runner;
pub mod scenario;
pub mod storage;
pub mod suite;
pub mod tip_dynamics;
