//! The runtime contracts (`vein_node::runtime::conformance`) over the simulator's clock and
//! disk: the clock with its skew fault moving it while it is read, and the disk healthy and
//! with injected I/O errors. The production implementations run the same checks in
//! node/tests/runtime_conformance.rs.
//! Build and run: `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo test -p vein-sim
//! --profile sim --test runtime_conformance`.
#![cfg(madsim)]
#![allow(clippy::unwrap_used)] // A failure is a test failure.

use std::sync::Arc;
use std::time::Duration;

use madsim::runtime::Runtime;
use vein_node::runtime::conformance;
use vein_sim::disk::SimDisk;
use vein_sim::runtime::{SimClock, Skew};

#[test]
fn sim_clock_keeps_the_clock_contract_while_skew_jumps() {
    for seed in 0..8 {
        let runtime = Runtime::with_seed_and_config(seed, madsim::Config::default());
        runtime.block_on(async move {
            let skew = Arc::new(Skew::default());
            let clock = SimClock::new(skew.clone());
            // The skew fault's moves, while the clock is read and slept on: back, forward, back.
            let mover = madsim::task::spawn(async move {
                for (step, offset_ms) in [-700i64, 400, -1_500, 2_000, 0].into_iter().enumerate() {
                    madsim::time::sleep(Duration::from_millis(1 + step as u64)).await;
                    skew.set(offset_ms);
                }
            });
            conformance::clock(&clock).await.unwrap();
            mover.await.unwrap();
        });
    }
}

#[test]
fn sim_disk_keeps_the_disk_contract() {
    let runtime = Runtime::with_seed_and_config(1, madsim::Config::default());
    runtime.block_on(async {
        conformance::disk(&SimDisk::with_seed([1; 32]), "").await.unwrap();
    });
}

#[test]
fn sim_disk_with_injected_errors_keeps_the_faulty_disk_contract() {
    let runtime = Runtime::with_seed_and_config(2, madsim::Config::default());
    runtime.block_on(async {
        let disk = SimDisk::with_seed([2; 32]);
        disk.set_error_rate(0.3);
        let tally = conformance::faulty_disk(&disk, "log", 400).await.unwrap();
        // The check means something only if both outcomes happened, many times.
        assert!(tally.appends_failed > 50 && tally.appends_ok > 50, "{tally:?}");
        assert!(tally.syncs_failed > 50 && tally.syncs_ok > 50, "{tally:?}");
        assert_eq!(disk.errors_injected(), tally.appends_failed + tally.syncs_failed);
    });
}
