//! A damaged store log on a real disk: a record damaged in the middle of `units.log` or
//! `shards.log` (valid records after it) stops the start with a typed error and leaves the file
//! untouched, while a torn tail (the last record cut short, as a crash leaves it) is cut and
//! the node starts from the valid prefix. The logs are written by the real driver on `FsDisk`
//! in a temporary directory; the damage is done to the file between runs.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::future::pending;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::node::NodeConfig;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::ModelPlots;
use vein_node::driver::{Driver, DriverError, NoEvents, Primitives, STORE_PATH};
use vein_node::localnet::model_genesis;
use vein_node::runtime::tokio_impl::{FsDisk, TokioBlocking, TokioClock};
use vein_node::runtime::{Clock, Disk, DiskError, InPlace, NetError, Network};
use vein_node::store::replay::StoreError;
use vein_node::store::{self, LogEnd};

const SHARDS_PATH: &str = "shards.log";

#[path = "common/lone_driver.rs"]
mod lone_driver;
use lone_driver::{Alone, VirtualClock};

/// `FsDisk` whose next append to the shard log, once armed, writes half its bytes and fails
/// (a short write, as a full disk or an I/O error leaves it).
struct ShortWriteDisk {
    inner: FsDisk,
    armed: Arc<AtomicBool>,
}

impl Disk for ShortWriteDisk {
    async fn read_all(&self, path: &str) -> Result<Option<Vec<u8>>, DiskError> {
        self.inner.read_all(path).await
    }

    async fn append(&self, path: &str, bytes: &[u8]) -> Result<(), DiskError> {
        if path == SHARDS_PATH && self.armed.swap(false, Ordering::SeqCst) {
            self.inner.append(path, &bytes[..bytes.len() / 2]).await?;
            return Err(DiskError::Io { path: path.to_string(), reason: "short".to_string() });
        }
        self.inner.append(path, bytes).await
    }

    async fn sync(&self, path: &str) -> Result<(), DiskError> {
        self.inner.sync(path).await
    }

    async fn truncate(&self, path: &str, length: u64) -> Result<(), DiskError> {
        self.inner.truncate(path, length).await
    }
}

fn genesis() -> (Arc<Genesis>, Vec<Keypair>) {
    let params = Params { target_interval_ms: 1_000, finality_depth: 2, ..Params::default() };
    let (genesis, keys) = model_genesis("log-corruption", &[1_000], 1_000_000, params);
    (Arc::new(genesis), keys)
}

type TestDriver<D> = Driver<VirtualClock, Alone, D, ModelPlots, NoEvents, InPlace>;

/// Start the one node on `disk`, mining, its network closing at `until_ms`.
async fn start<D: Disk>(
    disk: D,
    clock: &VirtualClock,
    until_ms: u64,
) -> Result<(TestDriver<D>, vein_node::driver::DriverHandle), DriverError> {
    let (genesis, keys) = genesis();
    let config = NodeConfig::new(genesis, keys[0].clone(), [7; 32]);
    let prover = ModelPlots { account: keys[0].account(), nonces: 1_000 };
    let net = Alone { clock: clock.clone(), until_ms };
    let runtime = Primitives { clock: clock.clone(), net, disk, blocking: InPlace };
    Driver::start(config, Vec::new(), runtime, prover, NoEvents).await
}

/// No peers, never closes (the storage tests end the driver with a shutdown).
struct Silent;

impl Network for Silent {
    fn local_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 2))
    }

    async fn send(&self, _to: SocketAddr, _bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        Ok(())
    }

    async fn recv(&self) -> Result<(SocketAddr, Vec<u8>), NetError> {
        pending().await
    }
}

type StorageDriver<D> = Driver<TokioClock, Silent, D, ModelPlots, NoEvents, TokioBlocking>;

/// A storage node that does not mine, on the real clock (its driver waits between turns).
async fn start_storage<D: Disk>(
    disk: D,
) -> Result<(StorageDriver<D>, vein_node::driver::DriverHandle), DriverError> {
    let (genesis, keys) = genesis();
    let config = NodeConfig::new(genesis, keys[0].clone(), [8; 32]);
    let prover = ModelPlots { account: keys[0].account(), nonces: 0 };
    let runtime = Primitives { clock: TokioClock, net: Silent, disk, blocking: TokioBlocking };
    Driver::start(config, Vec::new(), runtime, prover, NoEvents).await
}

/// Mine for a minute of virtual time: `units.log` then holds hundreds of records.
async fn write_units_log(directory: &Path) -> VirtualClock {
    let clock = VirtualClock::default();
    let (driver, _handle) = start(FsDisk::new(directory), &clock, 60_000).await.unwrap();
    let result = driver.run().await;
    assert!(matches!(result, Err(DriverError::Net(NetError::Closed))), "{result:?}");
    clock
}

/// The offset of every record of a clean log.
fn record_offsets(log: &[u8]) -> Vec<usize> {
    let decoded = store::decode_log(log);
    assert_eq!(decoded.end, LogEnd::Clean);
    let mut offsets = Vec::new();
    let mut offset = 0;
    for (_, body) in decoded.records {
        offsets.push(offset);
        offset += 13 + body.len();
    }
    offsets
}

/// Flip four bytes in the middle of record `index`'s body.
fn flip_inside_record(path: &Path, index: usize) -> usize {
    let mut bytes = std::fs::read(path).unwrap();
    let offsets = record_offsets(&bytes);
    let middle = (offsets[index] + 13 + offsets[index + 1]) / 2;
    for byte in &mut bytes[middle..middle + 4] {
        *byte ^= 0x5a;
    }
    std::fs::write(path, &bytes).unwrap();
    offsets[index]
}

#[tokio::test]
async fn units_log_damaged_in_record_2_refuses_to_start_and_keeps_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let clock = write_units_log(directory.path()).await;
    let path = directory.path().join(STORE_PATH);
    let records = record_offsets(&std::fs::read(&path).unwrap()).len();
    assert!(records > 50, "{records} records");
    let offset = flip_inside_record(&path, 2);
    let damaged = std::fs::read(&path).unwrap();

    let error =
        start(FsDisk::new(directory.path()), &clock, clock.now_ms() + 60_000).await.err().unwrap();
    let DriverError::Store(StoreError::Corrupt {
        path: ref named,
        offset: at,
        record_index,
        valid_after,
        file_bytes,
        ..
    }) = error
    else {
        panic!("not a corruption error: {error:?}")
    };
    assert_eq!((named.as_str(), at, record_index), (STORE_PATH, offset as u64, 2));
    assert_eq!(valid_after, records as u64 - 3);
    assert_eq!(file_bytes, damaged.len() as u64);
    let message = error.to_string();
    assert!(message.contains("units.log") && message.contains("valid records follow"));
    // Not a byte cut or changed.
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
}

#[tokio::test]
async fn a_torn_units_tail_is_cut_and_the_node_starts_from_the_rest() {
    let directory = tempfile::tempdir().unwrap();
    let clock = write_units_log(directory.path()).await;
    let path = directory.path().join(STORE_PATH);
    let bytes = std::fs::read(&path).unwrap();
    let offsets = record_offsets(&bytes);
    let last = offsets[offsets.len() - 1];
    // The last record cut short: its header and a few bytes of its body.
    std::fs::write(&path, &bytes[..last + 20]).unwrap();

    let (driver, _handle) =
        start(FsDisk::new(directory.path()), &clock, clock.now_ms() + 60_000).await.unwrap();
    assert!(driver.node().chain().final_height() > 10);
    assert_eq!(std::fs::read(&path).unwrap(), &bytes[..last]);
}

/// Run a storage node that keeps `count` shards of one file and shuts down.
async fn write_shards(directory: &Path, count: u8) -> Hash {
    let file_id = Hash::of(b"the owner's file");
    let (driver, handle) = start_storage(FsDisk::new(directory)).await.unwrap();
    let task = tokio::spawn(driver.run());
    for index in 0..count {
        let shard = vec![index; 1_000 + usize::from(index)];
        handle.store_shard(file_id, index, shard).await.unwrap().unwrap();
    }
    handle.shutdown().await;
    task.await.unwrap().unwrap();
    file_id
}

#[tokio::test]
async fn shards_log_damaged_in_record_2_refuses_to_start_and_keeps_the_file() {
    let directory = tempfile::tempdir().unwrap();
    write_shards(directory.path(), 4).await;
    let path = directory.path().join(SHARDS_PATH);
    let offset = flip_inside_record(&path, 2);
    let damaged = std::fs::read(&path).unwrap();

    let error = start_storage(FsDisk::new(directory.path())).await.err().unwrap();
    let DriverError::Store(StoreError::Corrupt { ref path, offset: at, valid_after, .. }) = error
    else {
        panic!("not a corruption error: {error:?}")
    };
    assert_eq!((path.as_str(), at, valid_after), (SHARDS_PATH, offset as u64, 1));
    assert_eq!(std::fs::read(directory.path().join(SHARDS_PATH)).unwrap(), damaged);
}

#[tokio::test]
async fn a_torn_shards_tail_is_cut_and_the_acknowledged_shards_are_back() {
    let directory = tempfile::tempdir().unwrap();
    let file_id = write_shards(directory.path(), 3).await;
    let path = directory.path().join(SHARDS_PATH);
    let mut bytes = std::fs::read(&path).unwrap();
    let good = bytes.len();
    // A fourth hand-over cut short by a crash before it was acknowledged.
    let torn = store::encode_record(store::KIND_SHARD, &store::encode_shard(&file_id, 3, &[3; 99]));
    bytes.extend_from_slice(&torn[..60]);
    std::fs::write(&path, &bytes).unwrap();

    let (driver, _handle) = start_storage(FsDisk::new(directory.path())).await.unwrap();
    for index in 0..3u8 {
        assert_eq!(
            driver.node().shard(&file_id, index).map(<[u8]>::len),
            Some(1_000 + index as usize)
        );
    }
    assert_eq!(driver.node().shard(&file_id, 3), None);
    assert_eq!(std::fs::read(&path).unwrap().len(), good);
}

/// A failed shard append leaves half a record at the end of the log; the next hand-over must
/// not land behind it, or the restart would either drop it (read as a torn tail) or refuse
/// to start (read as corruption).
#[tokio::test]
async fn a_shard_acknowledged_after_a_failed_append_survives_the_restart() {
    let directory = tempfile::tempdir().unwrap();
    let file_id = Hash::of(b"the owner's file");
    let armed = Arc::new(AtomicBool::new(false));
    let disk = ShortWriteDisk { inner: FsDisk::new(directory.path()), armed: armed.clone() };
    let (driver, handle) = start_storage(disk).await.unwrap();
    let task = tokio::spawn(driver.run());
    handle.store_shard(file_id, 0, vec![0; 500]).await.unwrap().unwrap();
    armed.store(true, Ordering::SeqCst);
    assert!(handle.store_shard(file_id, 1, vec![1; 500]).await.unwrap().is_err());
    handle.store_shard(file_id, 2, vec![2; 500]).await.unwrap().unwrap();
    handle.shutdown().await;
    task.await.unwrap().unwrap();

    let (driver, _handle) = start_storage(FsDisk::new(directory.path())).await.unwrap();
    assert_eq!(driver.node().shard(&file_id, 0), Some(&[0; 500][..]));
    assert_eq!(driver.node().shard(&file_id, 1), None);
    assert_eq!(driver.node().shard(&file_id, 2), Some(&[2; 500][..]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any damaged region that ends before the last record of a real `units.log` stops the
    /// start and leaves the file as it was; damage inside the last record is a torn tail.
    #[test]
    fn a_flipped_region_inside_the_units_log_is_never_cut(
        position in any::<prop::sample::Index>(),
        length in 1usize..64,
        flip in 1u8..=255,
    ) {
        let (log, clock_ms) = real_units_log();
        let clock_ms = *clock_ms;
        let offsets = record_offsets(log);
        let last = offsets[offsets.len() - 1];
        let start_at = position.index(log.len());
        let end = (start_at + length).min(log.len());
        let mut damaged = log.clone();
        for byte in &mut damaged[start_at..end] {
            *byte ^= flip;
        }
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(STORE_PATH);
        std::fs::write(&path, &damaged).unwrap();
        let clock = VirtualClock(Arc::new(AtomicU64::new(clock_ms)));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = runtime.block_on(start(FsDisk::new(directory.path()), &clock, clock_ms));
        let after = std::fs::read(&path).unwrap();
        if end <= last {
            prop_assert!(
                matches!(result, Err(DriverError::Store(StoreError::Corrupt { .. }))),
                "damage at {}..{} of {}: {:?}", start_at, end, log.len(), result.err()
            );
            prop_assert!(after == damaged, "the file was changed");
        } else if start_at >= last {
            prop_assert!(result.is_ok(), "{:?}", result.err());
            prop_assert_eq!(after.len(), last);
        }
    }
}

/// One real `units.log` (and the clock it ended at), written once for the property test.
fn real_units_log() -> &'static (Vec<u8>, u64) {
    static LOG: std::sync::OnceLock<(Vec<u8>, u64)> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let directory = tempfile::tempdir().unwrap();
            let clock = write_units_log(directory.path()).await;
            (std::fs::read(directory.path().join(STORE_PATH)).unwrap(), clock.now_ms())
        })
    })
}
