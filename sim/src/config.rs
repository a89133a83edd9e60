//! What one simulation run is. Everything random in a run derives from `seed`; the rest of this
//! struct is the experiment's shape. `replay_command` prints the one line that reruns it.
//!
//! Fault kinds are switched on individually (`--faults partition,kill`) or drawn from the seed
//! (`--faults swarm`, after swarm testing: each kind on with probability one half, so that many
//! seeds explore many combinations instead of every run mixing everything).

pub use crate::config_error::ConfigError;
use crate::net::NetConfig;
pub use crate::seed_stream::{derive_seed, stream};
use crate::selftest::SelfTestBug;
use std::collections::BTreeSet;
use vein_node::core::params::Params;
use vein_node::core::random::DetRng;

/// The fee every simulated transaction pays (the workload, the consortium, tokens).
pub(crate) const FEE: u64 = 10;

/// The names `--faults` accepts, for the help text and the error on an unknown one.
pub const FAULT_NAMES: &str = "partition, split, cut, kill, skew, jump, loss, latency, \
                               duplicate, reorder, disk, corrupt, all, none, swarm";

/// Which fault kinds the run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultKinds {
    /// Two-way partition: a random 20–50% of the nodes is cut off from the rest, then healed.
    pub partition: bool,
    /// A node is killed (unsynced disk bytes lost or torn) and restarted from its disk.
    pub kill: bool,
    /// A node's clock is offset by up to ±3 s for the rest of the run.
    pub skew: bool,
    /// Every link drops a fraction (1–20%) of its packets for a while.
    pub loss: bool,
    /// Every message gets an extra uniform delay (up to 20–300 ms) for a while.
    pub latency: bool,
    /// Multi-way partition: the nodes split into 3 or 4 groups.
    pub split: bool,
    /// One-way cut: one side's messages to the other side are dropped, not the reverse.
    pub cut: bool,
    /// A node's clock jumps forward by seconds.
    pub jump: bool,
    /// A fraction (5–30%) of messages is delivered twice for a while.
    pub duplicate: bool,
    /// A fraction (5–30%) of messages is held back and delivered out of order for a while.
    pub reorder: bool,
    /// A node's disk fails a fraction of its writes and syncs.
    pub disk: bool,
    /// A down node's unit log has a byte flipped in a record that valid records follow. Not in
    /// `all` or `swarm` (opt-in, so that their seeds keep their plans and trace hashes).
    pub corrupt: bool,
    /// The kinds were drawn from the seed (recorded so the replay command says `swarm`).
    pub swarm: bool,
}

impl FaultKinds {
    /// No fault at all: the run is a pure liveness and agreement check.
    pub fn none() -> FaultKinds {
        FaultKinds::default()
    }

    /// Every kind except the opt-in `corrupt` (so that `all` seeds keep their plans).
    pub fn all() -> FaultKinds {
        FaultKinds {
            partition: true,
            kill: true,
            skew: true,
            loss: true,
            latency: true,
            split: true,
            cut: true,
            jump: true,
            duplicate: true,
            reorder: true,
            disk: true,
            corrupt: false,
            swarm: false,
        }
    }

    /// Each kind on with probability one half, drawn from the seed; at least one is on.
    pub fn swarm(seed: u64) -> FaultKinds {
        let mut rng = DetRng::from_seed(derive_seed(seed, "swarm", 0));
        loop {
            let kinds = FaultKinds {
                partition: rng.below(2) == 1,
                kill: rng.below(2) == 1,
                skew: rng.below(2) == 1,
                loss: rng.below(2) == 1,
                latency: rng.below(2) == 1,
                split: rng.below(2) == 1,
                cut: rng.below(2) == 1,
                jump: rng.below(2) == 1,
                duplicate: rng.below(2) == 1,
                reorder: rng.below(2) == 1,
                disk: rng.below(2) == 1,
                corrupt: false,
                swarm: true,
            };
            if kinds.any() {
                return kinds;
            }
        }
    }

    /// Parse a comma-separated list: kinds, or `all`, `none`, `swarm` (which needs the seed).
    pub fn parse(text: &str, seed: u64) -> Result<FaultKinds, ConfigError> {
        let mut kinds = FaultKinds::none();
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match name {
                "partition" => kinds.partition = true,
                "kill" => kinds.kill = true,
                "skew" => kinds.skew = true,
                "loss" => kinds.loss = true,
                "latency" => kinds.latency = true,
                "split" => kinds.split = true,
                "cut" => kinds.cut = true,
                "jump" => kinds.jump = true,
                "duplicate" => kinds.duplicate = true,
                "reorder" => kinds.reorder = true,
                "disk" => kinds.disk = true,
                "corrupt" => kinds.corrupt = true,
                "all" => kinds = FaultKinds::all(),
                "none" => kinds = FaultKinds::none(),
                "swarm" => kinds = FaultKinds::swarm(seed),
                other => {
                    return Err(ConfigError::UnknownFault {
                        name: other.to_string(),
                        expected: FAULT_NAMES,
                    });
                }
            }
        }
        Ok(kinds)
    }

    /// Whether at least one kind is on (`swarm` itself does not count); a run with faults needs
    /// a duration longer than its settle phase.
    pub fn any(&self) -> bool {
        self.named().iter().any(|(on, _)| *on)
    }

    /// Every kind with its name, in `--faults` order.
    fn named(&self) -> [(bool, &'static str); 12] {
        [
            (self.partition, "partition"),
            (self.kill, "kill"),
            (self.skew, "skew"),
            (self.loss, "loss"),
            (self.latency, "latency"),
            (self.split, "split"),
            (self.cut, "cut"),
            (self.jump, "jump"),
            (self.duplicate, "duplicate"),
            (self.reorder, "reorder"),
            (self.disk, "disk"),
            (self.corrupt, "corrupt"),
        ]
    }

    /// The enabled kinds as a `--faults` argument.
    pub fn to_arg(&self) -> String {
        if self.swarm {
            return "swarm".to_string();
        }
        let names: Vec<&str> =
            self.named().iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
        if names.is_empty() { "none".to_string() } else { names.join(",") }
    }

    /// The enabled kinds, for reports.
    pub fn describe(&self) -> String {
        let arg =
            if self.swarm { FaultKinds { swarm: false, ..*self }.to_arg() } else { self.to_arg() };
        if self.swarm { format!("swarm: {arg}") } else { arg }
    }
}

/// One run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The one seed every random choice of the run derives from (via [`derive_seed`]).
    pub seed: u64,
    /// Nodes in the network (at least 1).
    pub nodes: usize,
    /// Simulated length of the whole run.
    pub duration_s: u64,
    /// Network-wide transfers per simulated second.
    pub tx_rate: f64,
    /// The share of the workload's transactions that are business token transactions instead
    /// of native transfers (`crate::token_workload`); 0 leaves the workload, and the trace,
    /// exactly as without tokens.
    pub token_share: f64,
    /// The share of the workload's transactions that are consortium transactions instead
    /// (`crate::consortium_workload`: creation, writes, grants and denies, a member's removal
    /// with a rekey); members keep in-memory replicas and the consortium checks run. 0 leaves
    /// the workload, and the trace, exactly as without consortia.
    pub consortium_share: f64,
    /// The share of the workload's transactions that are Ethereum transactions instead
    /// (`crate::evm_workload`: seeded wallets funded in genesis deploy the committed ERC-20,
    /// then transfer it, some calls reverting or running out of gas). 0 leaves the genesis,
    /// the workload and the trace exactly as without the EVM.
    pub evm_share: f64,
    /// The share of the workload's slots that are federated-learning ticks instead
    /// (`crate::fl_workload`: node 0 posts a task with escrow, up to six other funded nodes
    /// join, train, commit updates and aggregates and settle rounds); the `fl-*` checks run.
    /// 0 leaves the workload and the trace exactly as without it.
    pub fl_share: f64,
    /// Which fault kinds the plan draws from ([`crate::faults`]).
    pub faults: FaultKinds,
    /// Target checkpoint interval `T`.
    pub target_interval_ms: u64,
    /// Finality depth `k`.
    pub finality_depth: u64,
    /// Random peers each node picks; links are symmetric, so the mean degree is about twice this.
    pub peers_per_node: usize,
    /// Nodes that mine (the first `miners` nodes). Every node would hold every miner's capacity
    /// in its genesis copy, so large networks keep this bounded.
    pub miners: usize,
    /// Nodes whose accounts are funded in genesis and issue the workload.
    pub funded: usize,
    /// The liveness phase at the end of the run: no fault starts or lasts into it, and every
    /// node must have converged and advanced its final height by its end.
    pub settle_s: u64,
    /// Fault episodes (numbered in drawing order, see [`crate::faults::episodes`]) drawn but not
    /// applied: how `vein-sim shrink` removes faults without moving the others.
    pub dropped_faults: BTreeSet<usize>,
    /// A deliberate bug for a checker self-test; `None` in every real run.
    pub self_test: Option<SelfTestBug>,
    /// Latency distribution, duplication, reordering, uplink bandwidth ([`crate::net`]).
    pub net: NetConfig,
    /// Nodes whose chain events (and every fault) are printed to stderr as they happen, for
    /// debugging one node's history (`--watch`). Output only: the run is the same without it.
    pub watch: BTreeSet<usize>,
    /// Nodes prune history below finality from memory (docs/protocol.md, "Bounded state");
    /// off only to measure what pruning saves (`--no-prune`).
    pub prune: bool,
    /// Messages every driver handles per turn when more have already arrived
    /// (`Driver::with_receive_batch`): drawn from the seed out of [`RECEIVE_BATCHES`], so that
    /// seeds explore the batch sizes on the production path (`--receive-batch` sets it).
    pub receive_batch: usize,
    /// Side networks run beside the main one (`crate::peg_checks`, docs/peg.md): each with
    /// its own genesis and `side_nodes` nodes under faults of the same kinds, anchored to main
    /// and pegged both ways by a relayer with a token workload. 0 leaves the run, and the
    /// trace, exactly as without them.
    pub side_chains: usize,
    /// Nodes of each side network (all mine and are funded).
    pub side_nodes: usize,
    /// The anchor interval `a` of every side chain on main, and of main on every side chain.
    pub anchor_interval: u64,
}

/// The receive batches a seed draws from: one message per turn up to production's 64.
pub const RECEIVE_BATCHES: [usize; 4] = [1, 4, 16, 64];

/// The receive batch of a run with `seed` that does not set one.
pub fn drawn_receive_batch(seed: u64) -> usize {
    RECEIVE_BATCHES[stream(seed, "receive-batch", 0).index(RECEIVE_BATCHES.len())]
}

impl SimConfig {
    /// Defaults for `nodes` nodes: 10 s checkpoints, k = 6, 2 transfers per second, no faults.
    pub fn new(seed: u64, nodes: usize) -> SimConfig {
        let mut config = SimConfig {
            seed,
            nodes,
            duration_s: 300,
            tx_rate: 2.0,
            token_share: 0.0,
            consortium_share: 0.0,
            evm_share: 0.0,
            fl_share: 0.0,
            faults: FaultKinds::none(),
            target_interval_ms: 10_000,
            finality_depth: 6,
            peers_per_node: 6,
            miners: nodes.min(100),
            funded: nodes.min(200),
            settle_s: 0,
            dropped_faults: BTreeSet::new(),
            self_test: None,
            net: NetConfig::default(),
            watch: BTreeSet::new(),
            prune: true,
            receive_batch: drawn_receive_batch(seed),
            side_chains: 0,
            side_nodes: 4,
            anchor_interval: 2,
        };
        config.settle_s = config.default_settle_s();
        config
    }

    /// Long enough for a healed network to agree and then bury new checkpoints k deep: k + 12
    /// checkpoint intervals. The liveness check is statistical: checkpoint intervals are
    /// exponential, so a correct network forges nothing for 12 T with probability e^-12 = 6e-6.
    /// The former k + 6 (e^-6 = 2.5e-3 per run) raised false `no-progress` alarms on fresh
    /// seeds without any fault (seed 1236503671420418644: a 9 T gap, then progress).
    pub fn default_settle_s(&self) -> u64 {
        ((self.finality_depth + 12) * self.target_interval_ms).div_ceil(1_000)
    }

    /// Refuse a configuration no run can honour (zero nodes, duration, interval or batch, a
    /// share outside [0, 1], a bad network model, faults with no time before the settle phase).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nodes == 0 {
            return Err(ConfigError::NotPositive { field: "nodes" });
        }
        if self.duration_s == 0 {
            return Err(ConfigError::NotPositive { field: "duration" });
        }
        if self.target_interval_ms == 0 {
            return Err(ConfigError::NotPositive { field: "target interval" });
        }
        if self.receive_batch == 0 {
            return Err(ConfigError::NotPositive { field: "receive batch" });
        }
        if !(0.0..=1.0).contains(&self.token_share) {
            return Err(ConfigError::Probability { field: "token share", value: self.token_share });
        }
        if !(0.0..=1.0).contains(&self.consortium_share) {
            return Err(ConfigError::Probability {
                field: "consortium share",
                value: self.consortium_share,
            });
        }
        if !(0.0..=1.0).contains(&self.evm_share) {
            return Err(ConfigError::Probability { field: "evm share", value: self.evm_share });
        }
        if !(0.0..=1.0).contains(&self.fl_share) {
            return Err(ConfigError::Probability { field: "fl share", value: self.fl_share });
        }
        if self.side_chains > 0 && self.side_nodes == 0 {
            return Err(ConfigError::NotPositive { field: "side nodes" });
        }
        let anchor_max = vein_node::core::sidechain::spec::ANCHOR_INTERVAL_MAX;
        if self.side_chains > 0 && !(1..=anchor_max).contains(&self.anchor_interval) {
            return Err(ConfigError::AnchorInterval {
                value: self.anchor_interval,
                max: anchor_max,
            });
        }
        self.net.validate()?;
        if self.faults.any() && self.duration_s <= self.settle_s {
            return Err(ConfigError::TooShort {
                duration_s: self.duration_s,
                settle_s: self.settle_s,
            });
        }
        Ok(())
    }

    /// Protocol parameters of the simulated chain.
    pub fn params(&self) -> Params {
        Params {
            target_interval_ms: self.target_interval_ms,
            finality_depth: self.finality_depth,
            reorg_limit: (self.finality_depth * 4).max(32),
            ..Params::default()
        }
    }

    /// When the safety phase (faults allowed) ends and the liveness phase begins.
    pub fn faults_end_ms(&self) -> u64 {
        self.duration_s.saturating_sub(self.settle_s) * 1_000
    }

    /// One line that reruns this exact simulation.
    pub fn replay_command(&self) -> String {
        let mut line = format!(
            "RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/madsim cargo run -p vein-sim \
             --profile sim -- run --seed {} --nodes {} --duration {} --tx-rate {} --faults {} \
             --interval-ms {} --finality {} --peers {} --settle {} --receive-batch {}{}",
            self.seed,
            self.nodes,
            self.duration_s,
            self.tx_rate,
            self.faults.to_arg(),
            self.target_interval_ms,
            self.finality_depth,
            self.peers_per_node,
            self.settle_s,
            self.receive_batch,
            self.net.to_args(),
        );
        if !self.dropped_faults.is_empty() {
            let dropped: Vec<String> = self.dropped_faults.iter().map(usize::to_string).collect();
            line.push_str(&format!(" --drop-faults {}", dropped.join(",")));
        }
        if !self.watch.is_empty() {
            let watched: Vec<String> = self.watch.iter().map(usize::to_string).collect();
            line.push_str(&format!(" --watch {}", watched.join(",")));
        }
        if let Some(bug) = self.self_test {
            line.push_str(&format!(" --checker-self-test {}", bug.name()));
        }
        if !self.prune {
            line.push_str(" --no-prune");
        }
        if self.token_share > 0.0 {
            line.push_str(&format!(" --token-share {}", self.token_share));
        }
        if self.consortium_share > 0.0 {
            line.push_str(&format!(" --consortium-share {}", self.consortium_share));
        }
        if self.evm_share > 0.0 {
            line.push_str(&format!(" --evm-share {}", self.evm_share));
        }
        if self.fl_share > 0.0 {
            line.push_str(&format!(" --fl-share {}", self.fl_share));
        }
        if self.side_chains > 0 {
            line.push_str(&format!(
                " --side-chains {} --side-nodes {} --anchor-interval {}",
                self.side_chains, self.side_nodes, self.anchor_interval
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print() {
        let kinds = FaultKinds::parse("partition,kill", 1).unwrap();
        assert!(kinds.partition && kinds.kill && !kinds.skew);
        assert_eq!(kinds.to_arg(), "partition,kill");
        assert_eq!(FaultKinds::parse("all", 1).unwrap(), FaultKinds::all());
        assert_eq!(FaultKinds::parse("none", 1).unwrap().to_arg(), "none");
        assert!(FaultKinds::parse("meteor", 1).is_err());
        let swarm = FaultKinds::parse("swarm", 9).unwrap();
        assert!(swarm.any());
        assert_eq!(swarm, FaultKinds::swarm(9));
        assert_eq!(swarm.to_arg(), "swarm");
        let new = FaultKinds::parse("split,cut,jump,duplicate,reorder,disk", 1).unwrap();
        assert!(new.split && new.cut && new.jump && new.duplicate && new.reorder && new.disk);
        assert!(!new.partition);
        assert_eq!(FaultKinds::parse(&new.to_arg(), 1).unwrap(), new);
        // Swarm explores: over a few seeds every kind is on at least once and off at least once.
        let drawn: Vec<FaultKinds> = (0..40).map(FaultKinds::swarm).collect();
        for index in 0..11 {
            assert!(drawn.iter().any(|kinds| kinds.named()[index].0));
            assert!(drawn.iter().any(|kinds| !kinds.named()[index].0));
        }
    }

    #[test]
    fn seeds_draw_every_receive_batch() {
        let drawn: BTreeSet<usize> = (0..64).map(drawn_receive_batch).collect();
        assert_eq!(drawn, RECEIVE_BATCHES.into_iter().collect());
        assert_eq!(SimConfig::new(5, 10).receive_batch, drawn_receive_batch(5));
    }

    #[test]
    fn streams_are_independent_and_stable() {
        assert_eq!(derive_seed(1, "node", 0), derive_seed(1, "node", 0));
        assert_ne!(derive_seed(1, "node", 0), derive_seed(1, "node", 1));
        assert_ne!(derive_seed(1, "node", 0), derive_seed(2, "node", 0));
        assert_ne!(derive_seed(1, "node", 0), derive_seed(1, "disk", 0));
    }

    #[test]
    fn validate_rejects_short_faulty_runs() {
        let mut config = SimConfig::new(1, 10);
        config.faults = FaultKinds::all();
        config.duration_s = config.settle_s;
        assert!(config.validate().is_err());
        config.duration_s = config.settle_s + 10;
        config.validate().unwrap();
        assert!(config.replay_command().contains("--seed 1 --nodes 10"));
        let batch = format!("--receive-batch {}", config.receive_batch);
        assert!(config.replay_command().contains(&batch));
        config.receive_batch = 0;
        assert!(config.validate().is_err());
        config.receive_batch = 1;
        assert!(!config.replay_command().contains("--latency"));
        config.net.duplicate = 0.1;
        config.net.latency = crate::net::LatencyModel::Constant { ms: 7.0 };
        assert!(config.replay_command().contains("--latency constant:ms=7 --duplicate 0.1"));
        config.net.reorder = 1.5;
        assert!(config.validate().is_err());
        config.net.reorder = 0.0;
        config.consortium_share = 0.3;
        assert!(config.replay_command().ends_with(" --consortium-share 0.3"));
        config.consortium_share = 1.5;
        assert!(config.validate().is_err());
        config.consortium_share = 0.0;
        config.evm_share = 0.2;
        config.validate().unwrap();
        assert!(config.replay_command().ends_with(" --evm-share 0.2"));
        config.evm_share = -0.1;
        assert!(config.validate().is_err());
    }
}
