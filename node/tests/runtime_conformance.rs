//! The runtime contracts (`vein_node::runtime::conformance`) over the production
//! implementations (tokio's clock and blocking pool, std files) and the node tests' virtual
//! clock. The simulator's clock and disk run the same checks in sim/tests/runtime_conformance.rs.
#![allow(clippy::unwrap_used)] // A failure is a test failure.

use vein_node::runtime::conformance;
use vein_node::runtime::tokio_impl::{FsDisk, TokioBlocking, TokioClock};
use vein_node::runtime::{Blocking, Clock, Disk, InPlace};

#[path = "common/lone_driver.rs"]
#[allow(dead_code)] // Only its clock is used here.
mod lone_driver;
use lone_driver::VirtualClock;

#[tokio::test]
async fn tokio_clock_keeps_the_clock_contract() {
    conformance::clock(&TokioClock).await.unwrap();
}

#[tokio::test]
async fn tokio_clock_reads_the_unix_timeline() {
    // Timestamps are compared across machines: the clock must be on the Unix epoch, not on the
    // process's start. 2020-01-01 and 2100-01-01 in milliseconds bound any plausible reading.
    let now = TokioClock.now_ms();
    assert!((1_577_836_800_000..4_102_444_800_000).contains(&now), "{now}");
}

#[tokio::test]
async fn virtual_clock_keeps_the_clock_contract() {
    let clock = VirtualClock::default();
    clock.sleep_until(5_000).await;
    conformance::clock(&clock).await.unwrap();
}

#[tokio::test]
async fn fs_disk_keeps_the_disk_contract() {
    let directory = tempfile::tempdir().unwrap();
    let disk = FsDisk::new(directory.path().join("node"));
    conformance::disk(&disk, "").await.unwrap();
    // A second instance over the same directory (a restart) reads what the first wrote.
    conformance::disk(&disk, "again-").await.unwrap();
    let reopened = FsDisk::new(directory.path().join("node"));
    assert_eq!(reopened.read_all("again-other").await.unwrap(), Some(b"xyz".to_vec()));
}

#[tokio::test(flavor = "current_thread")]
async fn tokio_blocking_runs_off_the_executor_thread() {
    let executor = std::thread::current().id();
    let worker = TokioBlocking.run_blocking(|| std::thread::current().id()).await;
    assert_ne!(worker, executor, "the plot scan would hold up every task of this runtime");
    assert_eq!(TokioBlocking.run_blocking(|| 6 * 7).await, 42);
}

#[tokio::test(flavor = "current_thread")]
async fn in_place_runs_on_the_callers_thread() {
    let caller = std::thread::current().id();
    assert_eq!(InPlace.run_blocking(|| std::thread::current().id()).await, caller);
}

#[tokio::test]
#[should_panic(expected = "a bug in the scan")]
async fn a_panic_in_blocking_work_reaches_the_caller() {
    TokioBlocking.run_blocking(|| panic!("a bug in the scan")).await
}
