//! The network model: whether, when and how many times a message sent from one node reaches
//! another. Pure and seeded; the transport ([`crate::runtime`]) asks it about every message and
//! holds the message in the receiver's mailbox until its delivery time.
//!
//! Before anything else a message may not arrive at all ([`NetModel::passes`]): a clogged link
//! (partitions, splits, one-way cuts) drops everything sent on it, and the `loss` fault drops
//! each message with its probability (drawn from the sender's stream).
//!
//! Per message from node `a` to node `b` of `size` bytes, sent at `now`:
//! 1. uplink: with a per-node uplink of `bw` bytes/s, the message queues behind `a`'s earlier
//!    messages: `departs = max(now, a's link free) + size / bw`, and `a`'s link is free again at
//!    `departs` (without a limit `departs = now`);
//! 2. latency: drawn from the link's distribution ([`LatencyModel`]), plus the extra uniform
//!    delay of an active `latency` fault;
//! 3. reordering: with probability `reorder`, an extra uniform delay in `[0, reorder_ms]`, so
//!    that later messages overtake it;
//! 4. duplication: with probability `duplicate`, a second copy arrives a uniform `[0,
//!    reorder_ms]` after the first (a duplicate does not use the uplink again: it is a
//!    retransmission somewhere in the network).
//!
//! Every draw comes from the sender's own seeded stream, so a run replays exactly and one node's
//! traffic never shifts another's randomness.

use crate::config_error::ConfigError;
pub use crate::config_error::LATENCY_SYNTAX;
use crate::seed_stream::stream;
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use vein_node::core::random::DetRng;

/// The port every simulated node listens on.
pub const PORT: u16 = 7_000;

/// Latencies above this are clamped (a log-normal tail must not park a message for hours).
const LATENCY_MS_MAX: f64 = 60_000.0;

/// Node i's address: 10.x.y.z:7000 with i + 1 in the last three octets.
pub fn node_addr(index: usize) -> SocketAddr {
    let n = index as u32 + 1;
    let ip = Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

/// The inverse of [`node_addr`].
pub fn node_index(addr: SocketAddr) -> Option<usize> {
    match addr.ip() {
        IpAddr::V4(ip) => {
            let [ten, a, b, c] = ip.octets();
            let n = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
            (ten == 10 && n > 0).then(|| n as usize - 1)
        }
        IpAddr::V6(_) => None,
    }
}

/// Region names of the geo model, in matrix order.
pub const REGIONS: [&str; 6] =
    ["us-east", "us-west", "europe", "asia-east", "south-america", "oceania"];

/// One-way base latency in ms between regions (about half the public round-trip times between
/// cloud regions on those continents); within a region 5 ms.
const GEO_BASE_MS: [[u16; 6]; 6] = [
    [5, 35, 40, 90, 60, 100],
    [35, 5, 70, 55, 85, 70],
    [40, 70, 5, 110, 100, 140],
    [90, 55, 110, 5, 140, 55],
    [60, 85, 100, 140, 5, 150],
    [100, 70, 140, 55, 150, 5],
];

/// How long a message spends on a link (before uplink queueing and faults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyModel {
    /// Every message takes the same time: the easiest model to reason about in a failing run.
    Constant {
        /// The one-way latency, in ms (default 20).
        ms: f64,
    },
    /// A uniform draw per message (the default model, 5–50 ms).
    Uniform {
        /// Lowest one-way latency, in ms; at most `max_ms`.
        min_ms: f64,
        /// Highest one-way latency, in ms.
        max_ms: f64,
    },
    /// `median · e^(σ Z)`, Z standard normal: the long right tail of real wide-area links.
    LogNormal {
        /// The median one-way latency, in ms (default 50).
        median_ms: f64,
        /// Spread of the tail, σ of the underlying normal; at most 3 (default 0.5).
        sigma: f64,
    },
    /// Nodes sit in the first `regions` of [`REGIONS`] (drawn from the seed); a message takes
    /// the region pair's base latency plus a uniform `[0, jitter_ms]`.
    Geo {
        /// How many of [`REGIONS`] the nodes are spread over, 1 to 6.
        regions: usize,
        /// Largest extra delay added to the base latency, in ms (default 10).
        jitter_ms: f64,
    },
}

impl Default for LatencyModel {
    fn default() -> LatencyModel {
        LatencyModel::Uniform { min_ms: 5.0, max_ms: 50.0 }
    }
}

fn bad(spec: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Latency { spec: spec.to_string(), reason: reason.into() }
}

/// `key=value` pairs of a spec, each key at most once and among `allowed`.
fn parameters<'a>(
    spec: &str,
    text: &'a str,
    allowed: &[&str],
) -> Result<Vec<(&'a str, f64)>, ConfigError> {
    let mut out: Vec<(&str, f64)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
        let (key, value) =
            pair.split_once('=').ok_or_else(|| bad(spec, format!("{pair:?} is not key=value")))?;
        let (key, value) = (key.trim(), value.trim());
        if !allowed.contains(&key) {
            return Err(bad(spec, format!("unknown parameter {key:?} (expected {allowed:?})")));
        }
        if out.iter().any(|(seen, _)| *seen == key) {
            return Err(bad(spec, format!("{key} given twice")));
        }
        let number: f64 =
            value.parse().map_err(|_| bad(spec, format!("{key}={value:?} is not a number")))?;
        if !number.is_finite() || number < 0.0 {
            return Err(bad(spec, format!("{key} must be a non-negative number")));
        }
        out.push((key, number));
    }
    Ok(out)
}

fn get(pairs: &[(&str, f64)], key: &str, default: f64) -> f64 {
    pairs.iter().find(|(name, _)| *name == key).map_or(default, |(_, value)| *value)
}

impl LatencyModel {
    /// Parse `kind[:key=value,...]` (see [`LATENCY_SYNTAX`]); omitted parameters take defaults
    /// (uniform 5–50 ms, constant 20 ms, log-normal median 50 ms σ 0.5, geo 6 regions 10 ms).
    pub fn parse(spec: &str) -> Result<LatencyModel, ConfigError> {
        let (kind, rest) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
        let model = match kind {
            "constant" => {
                let p = parameters(spec, rest, &["ms"])?;
                LatencyModel::Constant { ms: get(&p, "ms", 20.0) }
            }
            "uniform" => {
                let p = parameters(spec, rest, &["min_ms", "max_ms"])?;
                let (min_ms, max_ms) = (get(&p, "min_ms", 5.0), get(&p, "max_ms", 50.0));
                if min_ms > max_ms {
                    return Err(bad(spec, "min_ms exceeds max_ms"));
                }
                LatencyModel::Uniform { min_ms, max_ms }
            }
            "lognormal" => {
                let p = parameters(spec, rest, &["median_ms", "sigma"])?;
                let (median_ms, sigma) = (get(&p, "median_ms", 50.0), get(&p, "sigma", 0.5));
                if sigma > 3.0 {
                    return Err(bad(spec, "sigma above 3 puts most latency in the tail"));
                }
                LatencyModel::LogNormal { median_ms, sigma }
            }
            "geo" => {
                let p = parameters(spec, rest, &["regions", "jitter_ms"])?;
                let regions = get(&p, "regions", REGIONS.len() as f64);
                if regions < 1.0 || regions > REGIONS.len() as f64 || regions.fract() != 0.0 {
                    return Err(bad(spec, format!("regions must be 1 to {}", REGIONS.len())));
                }
                LatencyModel::Geo {
                    regions: regions as usize,
                    jitter_ms: get(&p, "jitter_ms", 10.0),
                }
            }
            other => return Err(bad(spec, format!("unknown latency model {other:?}"))),
        };
        Ok(model)
    }

    /// The model as a `--latency` argument.
    pub fn to_arg(&self) -> String {
        match self {
            LatencyModel::Constant { ms } => format!("constant:ms={ms}"),
            LatencyModel::Uniform { min_ms, max_ms } => {
                format!("uniform:min_ms={min_ms},max_ms={max_ms}")
            }
            LatencyModel::LogNormal { median_ms, sigma } => {
                format!("lognormal:median_ms={median_ms},sigma={sigma}")
            }
            LatencyModel::Geo { regions, jitter_ms } => {
                format!("geo:regions={regions},jitter_ms={jitter_ms}")
            }
        }
    }

    /// One draw for a message from region `from` to region `to` (regions matter only to geo).
    fn sample_ms(&self, rng: &mut DetRng, from: u8, to: u8) -> f64 {
        let ms = match *self {
            LatencyModel::Constant { ms } => ms,
            LatencyModel::Uniform { min_ms, max_ms } => min_ms + rng.unit_f64() * (max_ms - min_ms),
            LatencyModel::LogNormal { median_ms, sigma } => {
                median_ms * (sigma * standard_normal(rng)).exp()
            }
            LatencyModel::Geo { jitter_ms, .. } => {
                let base =
                    GEO_BASE_MS[usize::from(from) % REGIONS.len()][usize::from(to) % REGIONS.len()];
                f64::from(base) + rng.unit_f64() * jitter_ms
            }
        };
        ms.clamp(0.0, LATENCY_MS_MAX)
    }
}

/// Box–Muller: one standard normal draw from two uniform ones.
fn standard_normal(rng: &mut DetRng) -> f64 {
    // 1 − u is in (0, 1], so the logarithm is finite.
    let u = 1.0 - rng.unit_f64();
    let v = rng.unit_f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The run-wide network settings (faults may raise duplication and reordering for a while).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetConfig {
    /// The per-message link latency distribution (`--latency`).
    pub latency: LatencyModel,
    /// Probability that a message is delivered a second time.
    pub duplicate: f64,
    /// Probability that a message is held back by an extra delay.
    pub reorder: f64,
    /// Largest extra delay of a held-back message or a duplicate.
    pub reorder_ms: u64,
    /// Per-node uplink in bytes per second; `None` is unlimited.
    pub uplink_bytes_per_s: Option<u64>,
}

impl Default for NetConfig {
    fn default() -> NetConfig {
        NetConfig {
            latency: LatencyModel::default(),
            duplicate: 0.0,
            reorder: 0.0,
            reorder_ms: 200,
            uplink_bytes_per_s: None,
        }
    }
}

impl NetConfig {
    /// Refuse probabilities outside [0, 1] and a zero uplink.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, p) in [("duplicate", self.duplicate), ("reorder", self.reorder)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(ConfigError::Probability { field, value: p });
            }
        }
        if self.uplink_bytes_per_s == Some(0) {
            return Err(ConfigError::NotPositive { field: "uplink" });
        }
        Ok(())
    }

    /// The non-default settings as `vein-sim run` flags (empty for the defaults).
    pub fn to_args(&self) -> String {
        let default = NetConfig::default();
        let mut args = String::new();
        if self.latency != default.latency {
            args.push_str(&format!(" --latency {}", self.latency.to_arg()));
        }
        if self.duplicate != default.duplicate {
            args.push_str(&format!(" --duplicate {}", self.duplicate));
        }
        if self.reorder != default.reorder {
            args.push_str(&format!(" --reorder {}", self.reorder));
        }
        if self.reorder_ms != default.reorder_ms {
            args.push_str(&format!(" --reorder-ms {}", self.reorder_ms));
        }
        if let Some(bytes) = self.uplink_bytes_per_s {
            args.push_str(&format!(" --uplink {bytes}"));
        }
        args
    }
}

/// Parse a byte rate: a number with an optional `k`, `M` or `G` suffix (powers of 1,000).
pub fn parse_rate(text: &str) -> Result<u64, ConfigError> {
    let text = text.trim();
    let (digits, scale) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1_000),
        Some((at, 'm' | 'M')) => (&text[..at], 1_000_000),
        Some((at, 'g' | 'G')) => (&text[..at], 1_000_000_000),
        _ => (text, 1),
    };
    let value: f64 = digits.parse().map_err(|_| ConfigError::Rate { text: text.to_string() })?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(ConfigError::Rate { text: text.to_string() });
    }
    Ok(bytes as u64)
}

/// When a message arrives: once, or twice with a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Simulated microseconds since the start.
    pub at_us: u64,
    /// When the second copy arrives (same clock, never before `at_us`); `None`: no duplicate.
    pub duplicate_at_us: Option<u64>,
}

/// The network's state during a run.
#[derive(Debug, Clone)]
pub struct NetModel {
    config: NetConfig,
    /// Region of each node (geo model; zeros otherwise).
    regions: Vec<u8>,
    rngs: Vec<DetRng>,
    uplink_free_us: Vec<u64>,
    /// Extra uniform latency of an active `latency` fault.
    spike_ms: (u64, u64),
    /// Raised probabilities of active `duplicate` / `reorder` faults.
    duplicate_fault: f64,
    reorder_fault: f64,
    /// Directed links `(from, to)` that drop everything (partitions, splits, cuts).
    clogged: BTreeSet<(usize, usize)>,
    /// Probability that a message is lost (the `loss` fault).
    loss: f64,
}

impl NetModel {
    /// A healed, fault-free network of `nodes` nodes: each node's own random stream and (geo
    /// model) its region are derived from `seed`.
    pub fn new(seed: u64, nodes: usize, config: NetConfig) -> NetModel {
        let regions = match config.latency {
            LatencyModel::Geo { regions, .. } => {
                let mut rng = stream(seed, "regions", 0);
                let count = regions.clamp(1, REGIONS.len());
                (0..nodes).map(|_| rng.index(count) as u8).collect()
            }
            _ => vec![0; nodes],
        };
        NetModel {
            config,
            regions,
            rngs: (0..nodes).map(|node| stream(seed, "net", node as u64)).collect(),
            uplink_free_us: vec![0; nodes],
            spike_ms: (0, 0),
            duplicate_fault: 0.0,
            reorder_fault: 0.0,
            clogged: BTreeSet::new(),
            loss: 0.0,
        }
    }

    /// Drop everything sent from `from` to `to` until [`NetModel::unclog`].
    pub fn clog(&mut self, from: usize, to: usize) {
        self.clogged.insert((from, to));
    }

    /// Let messages from `from` to `to` through again (the reverse link is separate).
    pub fn unclog(&mut self, from: usize, to: usize) {
        self.clogged.remove(&(from, to));
    }

    /// The `loss` fault: each message is lost with probability `rate` (0 ends it).
    pub fn set_loss(&mut self, rate: f64) {
        self.loss = rate;
    }

    /// Whether a message from `from` to `to` gets through: its link is not clogged and the
    /// `loss` fault (if active) spares it. The loss draw comes from the sender's stream, and is
    /// only made while the fault is active.
    pub fn passes(&mut self, from: usize, to: usize) -> bool {
        if !self.clogged.is_empty() && self.clogged.contains(&(from, to)) {
            return false;
        }
        if self.loss <= 0.0 {
            return true;
        }
        let from = from.min(self.rngs.len().saturating_sub(1));
        self.rngs.get_mut(from).is_none_or(|rng| rng.unit_f64() >= self.loss)
    }

    /// The region name of `node` (always `us-east` outside the geo model); `None` for a node
    /// outside the model.
    pub fn region(&self, node: usize) -> Option<&'static str> {
        self.regions.get(node).map(|region| REGIONS[usize::from(*region) % REGIONS.len()])
    }

    /// The `latency` fault: every message gets an extra uniform `[min_ms, max_ms]` (0, 0 ends it).
    pub fn set_spike(&mut self, min_ms: u64, max_ms: u64) {
        self.spike_ms = (min_ms, max_ms.max(min_ms));
    }

    /// The `duplicate` fault: at least this probability (0 ends it).
    pub fn set_duplicate_fault(&mut self, rate: f64) {
        self.duplicate_fault = rate;
    }

    /// The `reorder` fault: at least this probability (0 ends it).
    pub fn set_reorder_fault(&mut self, rate: f64) {
        self.reorder_fault = rate;
    }

    /// When a message of `size` bytes sent by `from` to `to` at `now_us` arrives. Unknown
    /// nodes (outside the model) get the plain latency draw from stream 0.
    pub fn deliver(&mut self, from: usize, to: usize, size: usize, now_us: u64) -> Delivery {
        let from = from.min(self.rngs.len().saturating_sub(1));
        let region = |node: usize| self.regions.get(node).copied().unwrap_or(0);
        let (region_from, region_to) = (region(from), region(to));
        let Some(rng) = self.rngs.get_mut(from) else {
            return Delivery { at_us: now_us, duplicate_at_us: None };
        };
        let departs_us = match self.config.uplink_bytes_per_s {
            Some(bytes_per_s) => {
                let free = &mut self.uplink_free_us[from];
                let transmit_us = (size as u64).saturating_mul(1_000_000) / bytes_per_s.max(1);
                *free = (*free).max(now_us).saturating_add(transmit_us);
                *free
            }
            None => now_us,
        };
        let mut latency_us = self.config.latency.sample_ms(rng, region_from, region_to) * 1e3;
        let (spike_low, spike_high) = self.spike_ms;
        if spike_high > 0 {
            latency_us +=
                (spike_low as f64 + rng.unit_f64() * (spike_high - spike_low) as f64) * 1e3;
        }
        let extra_max_us = self.config.reorder_ms as f64 * 1e3;
        if rng.unit_f64() < self.config.reorder.max(self.reorder_fault) {
            latency_us += rng.unit_f64() * extra_max_us;
        }
        let at_us = departs_us.saturating_add(latency_us as u64);
        let duplicate_at_us = (rng.unit_f64() < self.config.duplicate.max(self.duplicate_fault))
            .then(|| at_us.saturating_add((rng.unit_f64() * extra_max_us) as u64));
        Delivery { at_us, duplicate_at_us }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for index in [0, 1, 255, 256, 70_000] {
            assert_eq!(node_index(node_addr(index)), Some(index));
        }
        assert_eq!(node_index("127.0.0.1:1".parse().unwrap()), None);
    }

    #[test]
    fn latency_specs_parse_print_and_reject_nonsense() {
        let lognormal = LatencyModel::parse("lognormal:median_ms=80,sigma=0.5").unwrap();
        assert_eq!(lognormal, LatencyModel::LogNormal { median_ms: 80.0, sigma: 0.5 });
        for spec in ["constant:ms=20", "uniform:min_ms=1,max_ms=9", "geo:regions=3,jitter_ms=4"] {
            let model = LatencyModel::parse(spec).unwrap();
            assert_eq!(LatencyModel::parse(&model.to_arg()).unwrap(), model);
        }
        assert_eq!(LatencyModel::parse("uniform").unwrap(), LatencyModel::default());
        assert_eq!(
            LatencyModel::parse("geo").unwrap(),
            LatencyModel::Geo { regions: 6, jitter_ms: 10.0 }
        );
        for bad in [
            "pareto",
            "constant:ms=-1",
            "constant:ms=x",
            "constant:speed=3",
            "constant:ms=1,ms=2",
            "uniform:min_ms=9,max_ms=1",
            "geo:regions=7",
            "geo:regions=0",
            "lognormal:sigma=9",
            "lognormal:median_ms",
        ] {
            assert!(LatencyModel::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn rates_parse_with_suffixes() {
        assert_eq!(parse_rate("1500").unwrap(), 1_500);
        assert_eq!(parse_rate("2k").unwrap(), 2_000);
        assert_eq!(parse_rate("1.5M").unwrap(), 1_500_000);
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("").is_err());
    }

    fn draws(model: LatencyModel, count: usize) -> Vec<f64> {
        let config = NetConfig { latency: model, ..NetConfig::default() };
        let mut net = NetModel::new(1, 2, config);
        (0..count).map(|_| net.deliver(0, 1, 100, 0).at_us as f64 / 1e3).collect()
    }

    #[test]
    fn distributions_have_their_shape() {
        assert!(draws(LatencyModel::Constant { ms: 20.0 }, 50).iter().all(|ms| *ms == 20.0));
        let uniform = draws(LatencyModel::Uniform { min_ms: 5.0, max_ms: 50.0 }, 2_000);
        assert!(uniform.iter().all(|ms| (5.0..=50.0).contains(ms)));
        let mut lognormal = draws(LatencyModel::LogNormal { median_ms: 80.0, sigma: 0.5 }, 4_001);
        lognormal.sort_by(f64::total_cmp);
        let median = lognormal[2_000];
        assert!((72.0..88.0).contains(&median), "median {median}");
        // e^(0.5 · 1.645) ≈ 2.28: the 95th percentile sits near 2.28 × the median.
        let p95 = lognormal[3_800];
        assert!((150.0..215.0).contains(&p95), "p95 {p95}");
    }

    #[test]
    fn geo_links_follow_the_region_matrix() {
        let config = NetConfig {
            latency: LatencyModel::Geo { regions: 6, jitter_ms: 10.0 },
            ..NetConfig::default()
        };
        let mut net = NetModel::new(3, 60, config);
        let regions: std::collections::BTreeSet<_> =
            (0..60).filter_map(|node| net.region(node)).collect();
        assert!(regions.len() >= 5, "{regions:?}");
        for (a, b) in [(0, 1), (5, 17), (30, 2)] {
            let base = GEO_BASE_MS[usize::from(net.regions[a])][usize::from(net.regions[b])];
            let ms = net.deliver(a, b, 10, 0).at_us as f64 / 1e3;
            assert!(ms >= f64::from(base) && ms <= f64::from(base) + 10.0, "{a}->{b} {ms}");
        }
        assert_eq!(NetModel::new(3, 60, config).regions, net.regions);
    }

    #[test]
    fn uplink_queues_messages_behind_each_other() {
        let config = NetConfig {
            latency: LatencyModel::Constant { ms: 10.0 },
            uplink_bytes_per_s: Some(1_000_000),
            ..NetConfig::default()
        };
        let mut net = NetModel::new(1, 3, config);
        // 10 kB at 1 MB/s is 10 ms on the wire, then 10 ms of latency.
        assert_eq!(net.deliver(0, 1, 10_000, 0).at_us, 20_000);
        assert_eq!(net.deliver(0, 2, 10_000, 0).at_us, 30_000);
        // Another node's uplink is free; an idle uplink starts at `now`.
        assert_eq!(net.deliver(1, 0, 10_000, 0).at_us, 20_000);
        assert_eq!(net.deliver(0, 1, 10_000, 100_000).at_us, 120_000);
    }

    #[test]
    fn duplicates_come_later_and_reordered_messages_overtake() {
        let config = NetConfig {
            latency: LatencyModel::Constant { ms: 10.0 },
            duplicate: 0.3,
            reorder: 0.3,
            reorder_ms: 100,
            ..NetConfig::default()
        };
        let mut net = NetModel::new(1, 2, config);
        let deliveries: Vec<Delivery> =
            (0..1_000).map(|i| net.deliver(0, 1, 10, i * 1_000)).collect();
        let duplicated = deliveries.iter().filter(|d| d.duplicate_at_us.is_some()).count();
        assert!((220..380).contains(&duplicated), "{duplicated} duplicated");
        assert!(deliveries.iter().all(|d| d.duplicate_at_us.is_none_or(|at| at >= d.at_us)));
        let overtaken = deliveries.windows(2).filter(|pair| pair[1].at_us < pair[0].at_us).count();
        assert!(overtaken > 100, "{overtaken} overtaken");
        let mut quiet = NetModel::new(1, 2, NetConfig::default());
        quiet.set_duplicate_fault(1.0);
        assert!(quiet.deliver(0, 1, 10, 0).duplicate_at_us.is_some());
        quiet.set_duplicate_fault(0.0);
        quiet.set_spike(1_000, 1_000);
        assert!(quiet.deliver(0, 1, 10, 0).at_us >= 1_000_000);
    }

    #[test]
    fn clogged_links_and_loss_drop_messages() {
        let mut net = NetModel::new(1, 3, NetConfig::default());
        assert!(net.passes(0, 1));
        net.clog(0, 1);
        assert!(!net.passes(0, 1));
        assert!(net.passes(1, 0), "a clog is one-way");
        net.unclog(0, 1);
        assert!(net.passes(0, 1));
        net.set_loss(0.25);
        let passed = (0..4_000).filter(|_| net.passes(2, 0)).count();
        assert!((2_800..3_200).contains(&passed), "{passed} of 4000 passed at 25% loss");
        net.set_loss(1.0);
        assert!(!net.passes(2, 0));
    }
}
