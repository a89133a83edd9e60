//! vein-sim: the deterministic simulator. One process, one madsim runtime, one seed; N nodes each
//! running the unmodified [`vein_node::driver::Driver`] over simulated time, network and disk.
//!
//! The pieces, one per module:
//! - [`config`]: what a run is (seed, nodes, duration, workload, which faults are on);
//!   [`config_error`] why one is refused; [`seed_stream`] the seeded streams it draws from.
//! - [`disk`]: an in-memory disk per node that survives restarts and loses or tears unsynced
//!   bytes on a crash.
//! - [`run_report`]: what a run found ([`run_report::RunReport`]) and its metrics record;
//!   [`run_summary`] the lines `vein-sim run` prints of it.
//! - [`trace`]: the running BLAKE3 trace hash over every delivered message and every event.
//! - [`checker`]: the invariants (no conflicting finality, equal ledger roots and supply at equal
//!   final heights, no final reverted, convergence after the last fault).
//! - [`faults`]: the fault plan drawn from the seed (partitions, splits and one-way cuts, kills
//!   and restarts, clock skew and jumps, loss, latency, duplication, reordering, disk errors).
//! - [`net`]: the seeded network model (latency distributions, geo regions, uplink bandwidth,
//!   duplication, reordering).
//! - [`selftest`]: deliberate bugs (`--checker-self-test`, off by default) that checkers must
//!   catch, to test the checkers and the shrinker.
//! - [`consortium_workload`]: the consortium share of the workload; [`consortium_replicas`]
//!   every node's replicas and the time-machine checks; [`canary`] the confidentiality scan;
//!   `consortium_sim` (madsim only) runs them on the nodes.
//! - [`evm_workload`]: the EVM share of the workload (seeded wallets deploying and calling the
//!   committed ERC-20) and its counters; [`evm_receipts`]: the receipts digest the
//!   `evm-receipts` check compares.
//! - [`fl_workload`]: the federated-learning share of the workload (one task, its acquirer and
//!   data owners on funded nodes); [`fl_checks`]: its escrow, root and progress checks;
//!   `fl_sim` (madsim only) runs it on the nodes.
//! - [`inspect_state`]: what `vein-sim inspect` reads from a node; [`inspect_timeline`] the
//!   fork tree's frames over time; [`inspect_graph`] DOT and GraphML (petgraph);
//!   [`inspect_svg`] the drawings; [`inspect_report`] the files; `inspect` and `inspect_probe`
//!   (madsim only) replay a run to an instant and read the node there.
//! - [`peg_checks`]: the side chains' and the peg's checks (conservation, light clients,
//!   final anchors); `peg_bridge` (madsim only) the relayer and peg workload between main and
//!   the side networks that `simulation`'s child module `side_network` starts.
//! - [`shrink`]: minimises a failing run (nodes, duration, faults, workload) while the same
//!   invariant still fails.
//! - `alarm` (madsim only): waking a task at a simulated instant without piling up timers.
//! - `runtime` (madsim only): `Clock` and `Network` on madsim time and `madsim::net::Endpoint`.
//! - `simulation` (madsim only): builds the network, runs workload and faults, feeds checkers;
//!   `run_setup` (madsim only): the genesis and peer graph it starts from; `run_end` (madsim
//!   only): every task of a run ends with it, so no run's memory outlives it.
//! - `scenario_engine` (madsim only): the scenario families' `Engine` on madsim nodes and the
//!   network model (`vein-sim scenario FILE`).
//! - `bench` (madsim only): wall-clock throughput of 100 to 10,000 node networks.
//! - `seeds` (madsim only): many fresh seeds across fault families on every core (`vein-sim
//!   seeds`, the nightly run).
//!
//! The madsim parts exist only when built with `RUSTFLAGS="--cfg madsim"`; the pure parts build
//! and unit-test everywhere.

#![warn(missing_docs)]

pub mod canary;
pub mod checker;
pub mod config;
pub mod config_error;
pub mod consortium_replicas;
pub mod consortium_workload;
pub mod disk;
pub mod evm_receipts;
pub mod evm_workload;
pub mod faults;
pub mod fl_checks;
pub mod fl_workload;
pub mod inspect_graph;
pub mod inspect_report;
pub mod inspect_state;
pub mod inspect_svg;
pub mod inspect_timeline;
pub mod net;
pub mod peg_checks;
pub mod run_report;
pub mod run_summary;
pub mod seed_stream;
pub mod selftest;
pub mod shrink;
pub mod token_workload;
pub mod trace;

#[cfg(madsim)]
pub mod alarm;
#[cfg(madsim)]
pub mod bench;
#[cfg(madsim)]
pub mod client_history;
#[cfg(madsim)]
pub mod consortium_sim;
#[cfg(madsim)]
pub mod fl_sim;
#[cfg(madsim)]
pub mod inspect;
#[cfg(madsim)]
pub mod inspect_probe;
#[cfg(madsim)]
pub mod peg_bridge;
#[cfg(madsim)]
pub mod run_end;
#[cfg(madsim)]
pub mod run_setup;
#[cfg(madsim)]
pub mod runtime;
#[cfg(madsim)]
pub mod scenario_engine;
#[cfg(madsim)]
pub mod seeds;
#[cfg(madsim)]
pub mod sim_error;
#[cfg(madsim)]
pub mod sim_time;
#[cfg(madsim)]
pub mod simulation;
#[cfg(madsim)]
pub mod watch;
