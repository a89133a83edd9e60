//! Wall-clock benchmarks: how fast the simulator runs networks of 100 to 10,000 nodes, and how
//! that compares with madsim itself.
//!
//! A bench run is a normal fault-free run (10 s checkpoints, 2 transfers per second, 1 for
//! 10,000 nodes). The raw baseline replays the same traffic through the same transport with
//! nothing behind it: the same nodes and peer graph on the simulator's own transport
//! ([`SimNetwork`], the same network model), each node sending its share of the messages the
//! protocol run delivered, of the protocol run's mean size, to random peers every 100 ms (a
//! fresh envelope each time), and a receive loop that drops them. Protocol rate over raw rate is
//! the share of the transport's message throughput the protocol keeps, i.e. the inverse of the
//! protocol's per-message overhead. (Until issue #3 both ran on madsim's own endpoints, whose
//! per-message cost then dominated both.)

use crate::config::{SimConfig, stream};
use crate::net::NetModel;
use crate::runtime::{SharedNet, SimNet, SimNetwork};
use crate::simulation::{RunReport, node_addr, peer_graph};
use crate::trace::Trace;
use madsim::runtime::{Handle, Runtime};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vein_node::runtime::Network;

/// The configuration of a bench run of `nodes` nodes.
pub fn bench_config(seed: u64, nodes: usize, duration_s: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, nodes);
    config.duration_s = duration_s;
    config.tx_rate = if nodes >= 10_000 { 1.0 } else { 2.0 };
    config.target_interval_ms = 10_000;
    config
}

/// Peak resident set size of this process (VmHWM), if the kernel reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Messages delivered by the raw baseline of `report`'s traffic (see the module docs).
pub fn raw_messages(config: &SimConfig, report: &RunReport) -> u64 {
    let nodes = config.nodes.max(1);
    let per_node_per_s =
        report.messages_delivered as f64 / (nodes as f64 * config.duration_s.max(1) as f64);
    let size = (report.message_bytes / report.messages_delivered.max(1)) as usize;
    let graph = Arc::new(peer_graph(config.seed, nodes, config.peers_per_node));
    let delivered = Arc::new(AtomicU64::new(0));
    let net = SimNet::new(NetModel::new(config.seed, nodes, config.net));
    let trace = Arc::new(Mutex::new(Trace::new()));
    let runtime = Runtime::with_seed_and_config(config.seed, madsim::Config::default());
    let seed = config.seed;
    let duration = Duration::from_secs(config.duration_s);
    let counter = delivered.clone();
    runtime.block_on(async move {
        let handle = Handle::current();
        for index in 0..nodes {
            let graph = graph.clone();
            let counter = counter.clone();
            let (net, trace) = (net.clone(), trace.clone());
            handle
                .create_node()
                .name(format!("raw{index}"))
                .ip(node_addr(index).ip())
                .init(move || {
                    let wiring = (net.clone(), trace.clone(), counter.clone());
                    raw_node(seed, index, graph.clone(), per_node_per_s, size, wiring)
                })
                .build();
        }
        madsim::time::sleep(duration).await;
    });
    delivered.load(Ordering::Relaxed)
}

async fn raw_node(
    seed: u64,
    index: usize,
    graph: Arc<Vec<Vec<usize>>>,
    per_second: f64,
    size: usize,
    (net, trace, delivered): (SharedNet, Arc<Mutex<Trace>>, Arc<AtomicU64>),
) {
    let Ok(network) = SimNetwork::bind(node_addr(index), index, trace, net).await else { return };
    let network = Arc::new(network);
    let receiver = network.clone();
    madsim::task::spawn(async move {
        // Like the driver: the shared envelope, no copy.
        while receiver.recv_shared().await.is_ok() {
            delivered.fetch_add(1, Ordering::Relaxed);
        }
    });
    let peers = &graph[index];
    if peers.is_empty() {
        return;
    }
    let mut rng = stream(seed, "raw", index as u64);
    let mut budget = rng.unit_f64();
    let mut tick = 0u64;
    loop {
        madsim::time::sleep(Duration::from_millis(100)).await;
        budget += per_second / 10.0;
        tick += 1;
        // A fresh envelope per tick, as the protocol sends fresh envelopes (hashed once each).
        let mut bytes = vec![0u8; size.max(8)];
        bytes[..8].copy_from_slice(&tick.to_le_bytes());
        let payload = Arc::new(bytes);
        while budget >= 1.0 {
            budget -= 1.0;
            let peer = node_addr(peers[rng.index(peers.len())]);
            let _ = network.send(peer, payload.clone()).await;
        }
    }
}

/// One line of the bench table.
#[derive(Debug, Clone)]
pub struct BenchRow {
    /// Nodes in the benched network.
    pub nodes: usize,
    /// Network-wide transfers per simulated second.
    pub tx_rate: f64,
    /// Simulated seconds the run covered.
    pub simulated_s: f64,
    /// Wall-clock seconds the protocol run took (the raw baseline not included).
    pub wall_s: f64,
    /// Messages delivered in the protocol run.
    pub messages: u64,
    /// Peak RSS of the whole process after the run (VmHWM: it never decreases, so in a
    /// sweep it is the largest run's so far); `None` where the kernel does not report it.
    pub peak_rss_bytes: Option<u64>,
    /// Raw baseline: messages delivered and wall seconds; `None` with `--no-raw`.
    pub raw: Option<(u64, f64)>,
    /// Invariant violations the run found (a bench run should find none).
    pub violations: usize,
    /// DAG units held per node at the end: mean and largest.
    pub units_held: (f64, u64),
    /// All nodes' simulated unit logs (in this process's memory, so inside its RSS).
    pub disk_log_bytes: u64,
}

impl BenchRow {
    /// The row of `report`'s run, which took `wall_s` wall-clock seconds.
    pub fn new(
        report: &RunReport,
        wall_s: f64,
        peak_rss_bytes: Option<u64>,
        raw: Option<(u64, f64)>,
    ) -> BenchRow {
        BenchRow {
            nodes: report.config.nodes,
            tx_rate: report.config.tx_rate,
            simulated_s: report.simulated_ms as f64 / 1e3,
            wall_s,
            messages: report.messages_delivered,
            peak_rss_bytes,
            raw,
            violations: report.violations.len(),
            units_held: report.units_held,
            disk_log_bytes: report.disk_log_bytes,
        }
    }

    /// Protocol messages delivered per wall-clock second.
    pub fn messages_per_wall_s(&self) -> f64 {
        self.messages as f64 / self.wall_s.max(1e-9)
    }

    /// Raw-baseline messages delivered per wall-clock second, if the baseline ran.
    pub fn raw_per_wall_s(&self) -> Option<f64> {
        self.raw.map(|(messages, wall)| messages as f64 / wall.max(1e-9))
    }

    /// One line with every figure, printed as each size finishes (the table comes at the end).
    pub fn describe(&self) -> String {
        format!(
            "{} nodes: {:.1} s wall, {:.1}x real time, {:.0} msgs/s, peak RSS {}, raw {}, \
             {} violations, units held per node {:.0} mean / {} max, simulated disk logs {} MiB",
            self.nodes,
            self.wall_s,
            self.simulated_s / self.wall_s.max(1e-9),
            self.messages_per_wall_s(),
            self.peak_rss_bytes.map_or("?".to_string(), |b| format!("{} MiB", b >> 20)),
            self.raw_per_wall_s().map_or("-".to_string(), |r| format!("{r:.0} msgs/s")),
            self.violations,
            self.units_held.0,
            self.units_held.1,
            self.disk_log_bytes >> 20
        )
    }
}

/// The Markdown bench table.
pub fn table(rows: &[BenchRow]) -> String {
    let mut out = String::from(
        "| nodes | tx/s | simulated s | wall s | simulated/wall | messages | messages/wall s \
         | peak RSS MiB | raw messages/wall s | protocol/raw |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let raw = row.raw_per_wall_s();
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {:.0} | {} | {} | {} |\n",
            row.nodes,
            row.tx_rate,
            row.simulated_s,
            row.wall_s,
            row.simulated_s / row.wall_s.max(1e-9),
            row.messages,
            row.messages_per_wall_s(),
            row.peak_rss_bytes.map_or("?".to_string(), |b| (b >> 20).to_string()),
            raw.map_or("-".to_string(), |r| format!("{r:.0}")),
            raw.map_or("-".to_string(), |r| format!(
                "{:.0}%",
                100.0 * row.messages_per_wall_s() / r.max(1e-9)
            )),
        ));
    }
    out
}
