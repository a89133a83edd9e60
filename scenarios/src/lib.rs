//! vein-scenarios: the attack and fault scenarios of PROTOCOL.md §7, as TOML files, run over
//! many seeds and compared with their analytic references.
//!
//! - [`scenario`]: the file format, strict parsing and validation; [`metric`], [`attacker`] and
//!   [`storage_spec`]: its `[metric]`, `[attacker]` (one variant per kind) and `[storage]`
//!   tables; [`scenario_error`]: what a bad file says.
//! - [`engine`]: the executor seam (LocalNet today, the madsim simulator later).
//! - [`family`]: what a scenario family is; [`families`]: the registry, metric to family.
//! - One file per family: [`baseline`] (#1), [`win_share`] (#2, #8 identity splitting),
//!   [`double_spend`] (#3), [`selfish`] (#6), [`tip_dynamics`] (#11), [`conflict_spam`] (#10),
//!   [`grinding`] (#5), [`network_split`] (#12), [`lazy_tips`] (#10), [`fake_space`] (#7),
//!   [`extend_forks`] (#4), [`plot_sharing`] (#8), [`storage`] (#9 storage cheating, shard loss,
//!   and their charts); side chains (issue #19): [`sidechain_takeover`] and
//!   [`cross_chain_double_spend`], over [`main_chain`] (anchors and pins) with the reference
//!   of [`anchor_race`].
//!   and their charts), [`fl_poisoning`] (#20 poisoning and free riders, no network).
//! - What families share: [`run_context`] (a run's context, start and finish), [`run_error`],
//!   [`net_setup`] (parameters and node layouts), [`chain_view`] (the settled chain),
//!   [`invariants`] (safety checks), [`workload`] (honest transfers).
//! - [`runner`]: grids, seeds, shards, parallel execution, merging, report directories;
//!   [`k8s_job`]: a Kubernetes Indexed Job that runs a sweep's shards and merges them.
//! - [`charts`]: the plots of a pooled sweep.
//! - [`suite`]: the default suite, one report for the main families.
//! - [`three_worlds`]: one scenario file's reports from LocalNet, madsim and real processes
//!   side by side, with a two-sample agreement verdict per measurement.
//! - [`explain`]: the prose `vein-scenarios explain` prints.
//! - [`scenario_checks`]: parsing and validating a scenario through the registry (its family's
//!   attacker type and checks); [`fuzz_target`]: the scenario-file fuzz target's body.

#![warn(missing_docs)]

pub mod anchor_race;
pub mod attacker;
pub mod baseline;
pub mod chain_view;
pub mod charts;
pub mod conflict_spam;
pub mod consortium_net;
pub mod cross_chain_double_spend;
pub mod double_spend;
pub mod engine;
pub mod explain;
pub mod extend_forks;
pub mod fake_space;
pub mod families;
pub mod family;
pub mod fl_poisoning;
pub mod fuzz_target;
pub mod grinding;
pub mod invariants;
pub mod k8s_job;
pub mod lazy_tips;
pub mod main_chain;
pub mod metric;
pub mod net_setup;
pub mod network_split;
pub mod ordering_power;
pub mod ordering_power_pool;
pub mod plot_sharing;
pub mod revocation_race;
pub mod run_context;
pub mod run_error;
pub mod runner;
pub mod scenario;
pub mod scenario_checks;
pub mod scenario_error;
pub mod selfish;
pub mod sidechain_takeover;
pub mod storage;
pub mod storage_spec;
pub mod suite;
pub mod tampering_member;
pub mod three_worlds;
pub mod tip_dynamics;
pub mod token_double_spend;
pub mod win_share;
pub mod workload;
