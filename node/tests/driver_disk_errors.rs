//! The driver on a failing disk: it stops with a typed error instead of panicking or going on,
//! never reports a checkpoint final that its store has not synced, and a restart on the same
//! (now healthy) disk recovers and finalises again. One mining node on a virtual clock that
//! jumps to each wake-up time, so minutes of chain time take milliseconds.
#![allow(clippy::unwrap_used)]

use std::future::{Future, ready};
use std::sync::{Arc, Mutex};
use vein_node::core::events::Event;
use vein_node::core::node::NodeConfig;
use vein_node::core::params::Params;
use vein_node::core::poc::ModelPlots;
use vein_node::driver::{CollectEvents, Driver, DriverError, Primitives, SharedEvents};
use vein_node::localnet::model_genesis;
use vein_node::runtime::{Clock, Disk, DiskError, InPlace, NetError};

#[path = "common/lone_driver.rs"]
mod lone_driver;
use lone_driver::{Alone, VirtualClock};

#[derive(Default)]
struct Files {
    durable: Vec<u8>,
    pending: Vec<u8>,
    /// Fail every append / sync after this many successful ones.
    appends_left: Option<u64>,
    syncs_left: Option<u64>,
}

/// One in-memory log file with switchable failures.
#[derive(Clone, Default)]
struct FlakyDisk(Arc<Mutex<Files>>);

fn io(path: &str) -> DiskError {
    DiskError::Io { path: path.to_string(), reason: "injected".to_string() }
}

fn spend(budget: &mut Option<u64>) -> bool {
    match budget {
        Some(0) => false,
        Some(left) => {
            *left -= 1;
            true
        }
        None => true,
    }
}

impl Disk for FlakyDisk {
    fn read_all(
        &self,
        _path: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, DiskError>> + Send {
        let files = self.0.lock().unwrap();
        let mut bytes = files.durable.clone();
        bytes.extend_from_slice(&files.pending);
        ready(Ok((!bytes.is_empty()).then_some(bytes)))
    }

    fn append(
        &self,
        path: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), DiskError>> + Send {
        let mut files = self.0.lock().unwrap();
        if !spend(&mut files.appends_left) {
            // A short write: half the record reaches the page cache.
            files.pending.extend_from_slice(&bytes[..bytes.len() / 2]);
            return ready(Err(io(path)));
        }
        files.pending.extend_from_slice(bytes);
        ready(Ok(()))
    }

    fn sync(&self, path: &str) -> impl Future<Output = Result<(), DiskError>> + Send {
        let mut files = self.0.lock().unwrap();
        if !spend(&mut files.syncs_left) {
            return ready(Err(io(path)));
        }
        let pending = std::mem::take(&mut files.pending);
        files.durable.extend_from_slice(&pending);
        ready(Ok(()))
    }

    fn truncate(
        &self,
        _path: &str,
        length: u64,
    ) -> impl Future<Output = Result<(), DiskError>> + Send {
        let mut files = self.0.lock().unwrap();
        let mut bytes = std::mem::take(&mut files.durable);
        bytes.extend_from_slice(&files.pending);
        bytes.truncate(length as usize);
        files.durable = bytes;
        files.pending.clear();
        ready(Ok(()))
    }
}

/// Run one mining node on `disk` from the clock's current time until `until_ms`.
async fn run(
    disk: FlakyDisk,
    clock: VirtualClock,
    until_ms: u64,
) -> (Result<(), DriverError>, Vec<Event>) {
    let params = Params { target_interval_ms: 1_000, finality_depth: 2, ..Params::default() };
    let (genesis, keys) = model_genesis("disk-errors", &[1_000], 1_000_000, params);
    let config = NodeConfig::new(Arc::new(genesis), keys[0].clone(), [7; 32]);
    let prover = ModelPlots { account: keys[0].account(), nonces: 1_000 };
    let events: SharedEvents = Arc::default();
    let net = Alone { clock: clock.clone(), until_ms };
    let result = match Driver::start(
        config,
        Vec::new(),
        Primitives { clock, net, disk, blocking: InPlace },
        prover,
        CollectEvents(events.clone()),
    )
    .await
    {
        Ok((driver, _handle)) => driver.run().await,
        Err(error) => Err(error),
    };
    let events = events.lock().unwrap().iter().map(|(_, event)| event.clone()).collect();
    (result, events)
}

fn finals(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::CheckpointFinal { height, .. } => Some(*height),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_healthy_disk_finalises_and_syncs() {
    let disk = FlakyDisk::default();
    let (result, events) = run(disk.clone(), VirtualClock::default(), 60_000).await;
    assert!(matches!(result, Err(DriverError::Net(NetError::Closed))), "{result:?}");
    assert!(finals(&events).len() >= 10, "{:?}", finals(&events));
    assert!(!disk.0.lock().unwrap().durable.is_empty());
}

#[tokio::test]
async fn a_failed_sync_stops_the_driver_before_finality_is_reported() {
    let disk = FlakyDisk::default();
    disk.0.lock().unwrap().syncs_left = Some(0);
    let clock = VirtualClock::default();
    let (result, events) = run(disk.clone(), clock.clone(), 60_000).await;
    assert!(matches!(result, Err(DriverError::Disk(DiskError::Io { .. }))), "{result:?}");
    assert!(finals(&events).is_empty(), "reported final without a sync: {events:?}");
    assert!(events.iter().any(|event| matches!(event, Event::CheckpointAccepted { .. })));
    assert!(disk.0.lock().unwrap().durable.is_empty());

    // Restarted on the healed disk, the node replays what it appended, syncs it, and goes on.
    disk.0.lock().unwrap().syncs_left = None;
    let (result, events) = run(disk.clone(), clock.clone(), clock.now_ms() + 60_000).await;
    assert!(matches!(result, Err(DriverError::Net(NetError::Closed))), "{result:?}");
    assert!(finals(&events).len() >= 10, "{:?}", finals(&events));
    assert!(!disk.0.lock().unwrap().durable.is_empty());
}

#[tokio::test]
async fn a_failed_append_stops_the_driver_and_the_torn_record_is_cut_on_restart() {
    let disk = FlakyDisk::default();
    disk.0.lock().unwrap().appends_left = Some(3);
    let clock = VirtualClock::default();
    let (result, events) = run(disk.clone(), clock.clone(), 60_000).await;
    assert!(matches!(result, Err(DriverError::Disk(DiskError::Io { .. }))), "{result:?}");
    // Three records were written; the event whose record failed was not reported.
    let persisted = events
        .iter()
        .filter(|event| {
            matches!(event, Event::UnitAccepted { .. } | Event::CheckpointAccepted { .. })
        })
        .count();
    assert!(persisted <= 3, "{persisted} persisted events reported: {events:?}");
    let torn = disk.0.lock().unwrap().pending.len();
    assert!(torn > 0);

    disk.0.lock().unwrap().appends_left = None;
    let (result, events) = run(disk.clone(), clock.clone(), clock.now_ms() + 60_000).await;
    assert!(matches!(result, Err(DriverError::Net(NetError::Closed))), "{result:?}");
    assert!(finals(&events).len() >= 10, "{:?}", finals(&events));
    let log = disk.0.lock().unwrap();
    let mut bytes = log.durable.clone();
    bytes.extend_from_slice(&log.pending);
    let valid = vein_node::store::decode_log(&bytes).valid_len;
    assert_eq!(valid, bytes.len(), "the torn record was not cut");
}
