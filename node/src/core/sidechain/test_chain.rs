//! A real side chain for the tests: three LocalNet nodes mining on real in-memory plots (each
//! checkpoint's proof regenerates a nonce to check), with retargeting on, connected for a
//! while, then split 2 : 1 so that two branches grow from one fork point. Built once per test
//! binary; tests take its checkpoints and feed them to light clients.

use crate::core::checkpoint::Checkpoint;
use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;
use crate::core::node::Node;
use crate::core::params::{Genesis, Params};
use crate::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use crate::core::poc::prover::PlotSet;
use crate::localnet::{BoxedProver, LocalNet, real_genesis};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::OnceLock;

/// Nonces per node's plot: enough for a spread of deadlines, cheap to build.
const PLOT_NONCES: u64 = 16;
/// The side chain's finality depth `k`.
pub(crate) const SIDE_FINALITY_DEPTH: u64 = 3;
/// Simulated time the nodes stay connected, then split.
const CONNECTED_MS: u64 = 12_000;
const SPLIT_UNTIL_MS: u64 = 40_000;

/// The side chain's history as the tests use it.
pub(crate) struct SideChainRun {
    /// The side chain's genesis.
    pub genesis: Genesis,
    /// The signing key of every author, by account.
    pub keys: BTreeMap<AccountId, Keypair>,
    /// The majority side's active chain (two nodes), heights 1.., index = height − 1.
    pub heavy: Vec<Checkpoint>,
    /// The minority side's active chain (one node), heights 1.., sharing `heavy`'s prefix.
    pub light: Vec<Checkpoint>,
    /// Last height both branches share.
    pub fork_height: u64,
    /// For each checkpoint id, the base target the side chain's own nodes computed for its
    /// successor (`chain::Header::next_base_target`).
    pub next_base_targets: BTreeMap<Hash, u64>,
}

impl SideChainRun {
    /// The key that signed `checkpoint`.
    pub fn key_of(&self, checkpoint: &Checkpoint) -> &Keypair {
        &self.keys[&checkpoint.body.author]
    }
}

/// The side chain's rules: 1 s interval, retargeting, `k` = 3.
pub(crate) fn side_params() -> Params {
    Params { target_interval_ms: 1_000, finality_depth: SIDE_FINALITY_DEPTH, ..Params::default() }
}

fn active_chain(node: &Node, targets: &mut BTreeMap<Hash, u64>) -> Vec<Checkpoint> {
    let chain = node.chain();
    (1..=chain.height())
        .map(|height| {
            let id = chain.active_at(height).expect("the run is shorter than the reorg limit");
            let header = chain.header(&id).expect("active header held");
            targets.insert(id, header.next_base_target);
            let checkpoint = header.checkpoint.as_ref().expect("a non-genesis header");
            (**checkpoint).clone()
        })
        .collect()
}

/// The shared run (built on first use).
pub(crate) fn side_chain_run() -> &'static SideChainRun {
    static RUN: OnceLock<SideChainRun> = OnceLock::new();
    RUN.get_or_init(build)
}

fn build() -> SideChainRun {
    let chain_id = "sidechain-test";
    let keys: Vec<Keypair> = (0..3).map(|index| Keypair::derived(chain_id, index)).collect();
    let provers: Vec<BoxedProver> = keys
        .iter()
        .map(|key| {
            let bytes = build_plot_in_memory(&key.account(), 0, PLOT_NONCES);
            let reader = PlotReader::open(Cursor::new(bytes)).expect("a fresh plot opens");
            Box::new(PlotSet::new(vec![reader])) as BoxedProver
        })
        .collect();
    let genesis = real_genesis(chain_id, &keys, 3 * PLOT_NONCES, 1_000_000, side_params());
    let (mut net, keys) = LocalNet::with_provers(genesis.clone(), keys, provers, 7, 50, |_, _| {})
        .expect("a valid genesis");
    net.keep_events = false;
    net.run_until(CONNECTED_MS);
    net.partition(vec![0, 0, 1]);
    net.run_until(SPLIT_UNTIL_MS);
    let mut next_base_targets = BTreeMap::new();
    let heavy = active_chain(&net.nodes[0], &mut next_base_targets);
    let light = active_chain(&net.nodes[2], &mut next_base_targets);
    let shared = heavy.iter().zip(&light).take_while(|(a, b)| a == b).count();
    assert!(shared >= 5, "the connected phase built a common prefix ({shared})");
    assert!(heavy.len() > shared + 2 * SIDE_FINALITY_DEPTH as usize, "the heavy branch grew");
    assert!(light.len() > shared + 2, "the light branch grew");
    SideChainRun {
        genesis,
        keys: keys.into_iter().map(|key| (key.account(), key)).collect(),
        heavy,
        light,
        fork_height: shared as u64,
        next_base_targets,
    }
}
