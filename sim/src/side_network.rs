//! Side networks beside the main one in a run (`SimConfig::side_chains`, issue #19): each is a
//! second vein network with its own genesis and chain id, `side_nodes` nodes that all mine
//! (modelled capacities, as main's) and are funded, its own peer graph, network model, disks,
//! checker and fault plan. A child module of `simulation`, so that a side node is started,
//! killed, restarted and restored by exactly the code that runs main's nodes.
//!
//! Model.
//! - Side network i draws everything from its own seed (`stream(seed, "side-chain", i)`): its
//!   capacities, its genesis (chain id `vein-sim-<that seed>`), its peers, its network model and
//!   its fault plan, which has main's fault kinds, duration and settle phase: faults hit both
//!   networks in the same phases, at independently drawn times and nodes.
//! - Its nodes' madsim addresses are 11+i.x.y.z (madsim refuses two nodes on one address); the
//!   addresses the nodes know each other by are the usual 10.x.y.z of their own network.
//! - Its events go to the run's trace (so the trace hash covers both networks) and to its own
//!   checker: conflicting finality, equal roots at equal final heights and every other per-event
//!   invariant hold on each side network as on main.
//! - The relayer between the networks is `crate::peg_bridge`.

use super::*;
use crate::peg_bridge::{Handles, Network, PegRun, Record, relay};
use crate::peg_checks::PegReport;
use std::net::{IpAddr, Ipv4Addr};

/// A running side network.
pub(super) struct SideNetwork {
    index: usize,
    specs: Arc<Vec<Arc<NodeSpec>>>,
    shared: Arc<Shared>,
    /// What the relayer needs of it.
    pub(super) network: Network,
}

/// The configuration side network `index` is drawn from.
fn side_config(config: &SimConfig, index: usize) -> SimConfig {
    let mut side = SimConfig::new(stream(config.seed, "side-chain", index as u64).next_u64(), 1);
    side.nodes = config.side_nodes;
    side.miners = config.side_nodes;
    side.funded = config.side_nodes;
    side.peers_per_node = config.peers_per_node;
    side.duration_s = config.duration_s;
    side.settle_s = config.settle_s;
    side.faults = config.faults;
    side.target_interval_ms = config.target_interval_ms;
    side.finality_depth = config.finality_depth;
    side.net = config.net;
    side.prune = config.prune;
    side
}

/// The relayer's view of main.
pub(super) fn main_network(
    config: &SimConfig,
    genesis: &Arc<Genesis>,
    specs: &Arc<Vec<Arc<NodeSpec>>>,
) -> Result<Network, SimError> {
    Ok(Network {
        label: "main".into(),
        genesis: genesis.clone(),
        chain: genesis.id()?,
        nodes: specs.len(),
        funded: config.funded.min(specs.len()),
        handles: handles(specs),
    })
}

fn handles(specs: &Arc<Vec<Arc<NodeSpec>>>) -> Handles {
    let specs = specs.clone();
    Arc::new(move |node: usize| specs.get(node).and_then(|spec| spec.handle()))
}

/// Start every side network of `config`: its nodes, its operator and its fault injector.
pub(super) fn start(
    config: &SimConfig,
    main: &Shared,
    end: &mut EndOfRun,
    applied: &Arc<AtomicU64>,
) -> Result<Vec<SideNetwork>, SimError> {
    let mut sides = Vec::new();
    for index in 0..config.side_chains {
        let side = side_config(config, index);
        let label = format!("side{index}");
        let keys: Vec<Keypair> =
            (0..side.nodes as u64).map(|node| Keypair::derived(&label, node)).collect();
        let (genesis, capacities) = genesis(&side, &keys, Vec::new());
        genesis.validate()?;
        let genesis = Arc::new(genesis);
        let graph = peer_graph(side.seed, side.nodes, side.peers_per_node);
        let edges: Vec<(usize, usize)> = graph
            .iter()
            .enumerate()
            .flat_map(|(a, peers)| peers.iter().filter(move |b| a < **b).map(move |b| (a, *b)))
            .collect();
        let (restarts, restart_requests) = mpsc::unbounded();
        let shared = Arc::new(Shared {
            checker: Mutex::new(Checker::new(side.nodes)),
            trace: main.trace.clone(),
            units: Arc::new(vein_node::core::node::SharedUnitCache::new(1 << 14)),
            self_test: None,
            watch: BTreeSet::new(),
            accounts: keys.iter().map(Keypair::account).collect(),
            prune: side.prune,
            receive_batch: side.receive_batch,
            net: SimNet::new(NetModel::new(side.seed, side.nodes, side.net)),
            restarts,
            corruptions_applied: AtomicU64::new(0),
            corruptions_detected: AtomicU64::new(0),
            consortia: None,
            evm: None,
            fl: None,
            // `vein-sim inspect` reads a main node; side networks are never probed.
            probe: None,
            // No client workload runs on a side network: an empty history records nothing.
            history: ClientHistory::new(side.nodes, BTreeSet::new(), None),
        });
        let specs: Vec<Arc<NodeSpec>> = keys
            .iter()
            .enumerate()
            .map(|(node, key)| {
                Arc::new(NodeSpec::new(
                    node,
                    side.seed,
                    key,
                    capacities[node],
                    &graph[node],
                    &genesis,
                ))
            })
            .collect();
        let runtime = Handle::current();
        let ids: Vec<NodeId> = specs
            .iter()
            .map(|spec| {
                let (spec, shared) = (spec.clone(), shared.clone());
                let n = spec.index as u32 + 1;
                let ip = Ipv4Addr::new(11 + index as u8, (n >> 16) as u8, (n >> 8) as u8, n as u8);
                let id = runtime
                    .create_node()
                    .name(format!("side{index}-node{}", spec.index))
                    .ip(IpAddr::V4(ip))
                    .init(move || run_node(spec.clone(), shared.clone()))
                    .build()
                    .id();
                end.node(id);
                id
            })
            .collect();
        let specs = Arc::new(specs);
        let ids = Arc::new(ids);
        end.task(madsim::task::spawn(operator(
            restart_requests,
            specs.clone(),
            ids.clone(),
            shared.clone(),
            Arc::new(AtomicU64::new(0)),
        )));
        end.task(madsim::task::spawn(inject(
            side.seed,
            faults::plan(&side),
            specs.clone(),
            ids,
            Arc::new(edges),
            shared.clone(),
            applied.clone(),
        )));
        let network = Network {
            label: format!("side chain {index}"),
            chain: genesis.id()?,
            genesis,
            nodes: side.nodes,
            funded: side.nodes,
            handles: handles(&specs),
        };
        sides.push(SideNetwork { index, specs, shared, network });
    }
    Ok(sides)
}

/// Every side network's violations so far, named by network.
pub(super) fn violations(sides: &[SideNetwork]) -> Vec<Violation> {
    sides
        .iter()
        .flat_map(|side| {
            let found = side.shared.checker().violations().to_vec();
            found.into_iter().map(move |violation| Violation {
                detail: format!("side chain {}: {}", side.index, violation.detail),
                ..violation
            })
        })
        .collect()
}

/// The end-of-run checks of every side network (convergence, agreement, ledger invariants),
/// and its nodes down at the end.
pub(super) async fn end_checks(sides: &[SideNetwork], config: &SimConfig) -> Vec<Violation> {
    let mut found = Vec::new();
    for side in sides {
        let finals: Arc<Vec<(Hash, u64, Outcome)>> = Arc::new(
            side.shared
                .checker()
                .final_transactions()
                .iter()
                .map(|(id, tx)| (*id, tx.height, tx.outcome))
                .collect(),
        );
        let reported = side.shared.checker().final_heights().to_vec();
        let mut snapshots = Vec::new();
        for spec in side.specs.iter() {
            if let Some(snapshot) = snapshot(spec, finals.clone()).await {
                snapshots.push(snapshot);
            }
        }
        let checkpoints = side.shared.checker().final_checkpoints();
        let lag_max = 2 * config.finality_depth + 4;
        let mut violations =
            check_end(&snapshots, &checkpoints, &reported, &[], lag_max, sim_now_ms());
        if snapshots.len() < side.specs.len() {
            violations.push(Violation {
                invariant: "node-down",
                at_ms: sim_now_ms(),
                node: side.specs.iter().position(|spec| spec.handle().is_none()).unwrap_or(0),
                other: None,
                detail: format!(
                    "{} nodes not running at the end",
                    side.specs.len() - snapshots.len()
                ),
            });
        }
        found.extend(violations.into_iter().map(|violation| Violation {
            detail: format!("side chain {}: {}", side.index, violation.detail),
            ..violation
        }));
    }
    found
}

/// The side networks of a run and the relayer between them and main.
pub(super) struct SideChains {
    sides: Vec<SideNetwork>,
    run: Arc<PegRun>,
}

impl SideChains {
    /// Start the side networks and the relayer, or `None` without `side_chains`.
    pub(super) fn start(
        config: &SimConfig,
        genesis: &Arc<Genesis>,
        specs: &Arc<Vec<Arc<NodeSpec>>>,
        shared: &Arc<Shared>,
        end: &mut EndOfRun,
        applied: &Arc<AtomicU64>,
    ) -> Result<Option<SideChains>, SimError> {
        if config.side_chains == 0 {
            return Ok(None);
        }
        let sides = start(config, shared, end, applied)?;
        let main = main_network(config, genesis, specs)?;
        let run = PegRun::new(sides.len());
        let networks = sides.iter().map(|side| side.network.clone()).collect();
        let checker = shared.clone();
        let record: Record = Arc::new(move |violation| checker.checker().record(violation));
        end.task(madsim::task::spawn(relay(config.clone(), main, networks, run.clone(), record)));
        Ok(Some(SideChains { sides, run }))
    }

    /// Whether a side network's checker found a violation.
    pub(super) fn violated(&self) -> bool {
        self.sides.iter().any(|side| !side.shared.checker().violations().is_empty())
    }

    /// The side networks' violations so far.
    pub(super) fn violations(&self) -> Vec<Violation> {
        violations(&self.sides)
    }

    /// The side networks' end-of-run checks.
    pub(super) async fn end_checks(&self, config: &SimConfig) -> Vec<Violation> {
        end_checks(&self.sides, config).await
    }

    /// What the relayer did and checked.
    pub(super) fn report(&self) -> PegReport {
        self.run.report()
    }
}
