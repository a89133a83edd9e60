//! The relayer and the peg workload between the main network and each side network of a run
//! (madsim only; `SimConfig::side_chains`, docs/peg.md "In the simulator").
//!
//! Model. One task, once per simulated second, for each side chain:
//! - **Views**: it inspects every running node of both networks ([`NodeView`]) and runs the
//!   checks of [`crate::peg_checks`] on them.
//! - **Setup**, in both directions: node 0 of each network creates a one-party consortium and
//!   registers the other chain (`SideChainTx::Register` with `FollowedChain::from_genesis`), so
//!   main follows the side chain and the side chain follows main, each as a light client.
//! - **Anchors**, both directions: the source network's highest node gives the checkpoints from
//!   the fork point with the destination's light client (its best header, or the highest one it
//!   still holds on the source's active chain) up to the last multiple of `a`; a running funded
//!   destination node (in turn) posts them as `SideChainTx::Anchor`.
//! - **Proofs**: at each head of the source's highest node whose ledger root the head commits,
//!   the relayer keeps `Ledger::peg_proof` of every entry addressed to the destination that the
//!   destination has not claimed; once the destination's light client holds that head final, a
//!   destination node submits `PegTx::Mint` (a lock on main) or `PegTx::Release` (a burn on the
//!   side). Every few seconds it also resubmits a proof already claimed: the core must refuse
//!   the replay (a mutation that lets it through fails `peg-conservation`).
//! - **Pins**: a side header final in main's light client as of a main checkpoint final on main
//!   is a final anchor ([`FinalAnchors`]); every running side node is pinned to the highest
//!   (`Node::pin_anchor`), so its fork choice never leaves it.
//! - **Workload**: main node 0 issues a fixed-supply token, then on each tick, drawn from the
//!   run's `peg-workload` stream, locks some of it for a side node's account, and a side node
//!   holding the wrapped token burns some back to a main node's account.
//!
//! Transactions go through `Node::submit` like the rest of the workload: a refused or lost one
//! is retried by a later tick. Violations go to the run's checker.

use crate::checker::Violation;
use crate::config::{FEE, SimConfig, stream};
use crate::peg_checks::{
    ACTIVE_WINDOW, FinalAnchors, NodeView, PegReport, check_conservation, check_light_clients,
};
use crate::runtime::sim_now_ms;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use vein_node::core::checkpoint::Checkpoint;
use vein_node::core::consortium::ConsortiumTx;
use vein_node::core::crypto::AccountId;
use vein_node::core::hash::Hash;
use vein_node::core::node::Node;
use vein_node::core::params::Genesis;
use vein_node::core::peg::{ChainId, Direction, PegProof, PegTx, wrapped_token_id};
use vein_node::core::sidechain::light_client::SEGMENT_HEADERS_MAX;
use vein_node::core::sidechain::relay::{
    BRIDGE_CONSORTIUM_NAME, anchor_segment, bridge_consortium,
};
use vein_node::core::sidechain::{FollowedChain, HeaderChain, SideChainTx};
use vein_node::core::token::{IssueToken, SupplyRule, TokenId, TokenTx};
use vein_node::core::transaction::TxKind;
use vein_node::driver::DriverHandle;

/// A network's running nodes, by index (`None` while down).
pub type Handles = Arc<dyn Fn(usize) -> Option<DriverHandle> + Send + Sync>;
/// Where the bridge reports a violation (the run's checker).
pub type Record = Arc<dyn Fn(Violation) + Send + Sync>;

/// The token main node 0 issues and pegs.
const TOKEN_SYMBOL: &str = "PEG";
const TOKEN_SUPPLY: u64 = 1_000_000_000;
/// A setup transaction, anchor or claim not seen applied is submitted again after this.
const RETRY_MS: u64 = 8_000;
/// An already claimed proof is resubmitted (and must be refused) this often.
const REPLAY_EVERY_MS: u64 = 5_000;
/// Source heads whose proofs are kept until the destination holds them final.
const PROOF_HEADS_KEPT: usize = 64;
/// Main checkpoints whose light-client state waits to be seen final on main.
const OBSERVATIONS_KEPT: usize = 256;

/// One vein network as the bridge sees it.
#[derive(Clone)]
pub struct Network {
    /// "main" or "side chain i", for violations.
    pub label: String,
    /// Its genesis (a light client's spec is built from it).
    pub genesis: Arc<Genesis>,
    /// `Genesis::id`: its chain id for the peg.
    pub chain: ChainId,
    /// Its nodes and how many of the first are funded.
    pub nodes: usize,
    /// Funded nodes (signers of anchors and claims).
    pub funded: usize,
    /// Its running nodes.
    pub handles: Handles,
}

/// One direction of a bridge: `source`'s checkpoints anchored on, and its entries claimed on,
/// the destination.
#[derive(Default)]
struct Lane {
    consortium_sent_ms: Option<u64>,
    register_sent_ms: Option<u64>,
    posted_end: u64,
    posted_ms: u64,
    /// Proofs by source head `(height, id)`.
    proofs: BTreeMap<(u64, Hash), Vec<PegProof>>,
    claim_sent_ms: BTreeMap<Hash, u64>,
    last_claimed: Option<PegProof>,
    replay_ms: u64,
    signer: usize,
}

/// Main and one side network, and the state of both directions between them.
struct Bridge {
    index: usize,
    side: Network,
    /// side → main (anchors of the side on main, releases on main).
    up: Lane,
    /// main → side (anchors of main on the side, mints on the side).
    down: Lane,
    /// `(main height, main id) -> main's light-client final header of the side`.
    observations: BTreeMap<(u64, Hash), (u64, Hash)>,
    anchors: FinalAnchors,
    pinned: u64,
}

/// The relayer's shared state, read at the end of the run.
pub struct PegRun {
    report: Mutex<PegReport>,
}

impl PegRun {
    /// An empty report for `sides` side chains.
    pub fn new(sides: usize) -> Arc<PegRun> {
        let report = PegReport { side_chains: sides as u64, ..PegReport::default() };
        Arc::new(PegRun { report: Mutex::new(report) })
    }

    /// What the bridge did so far.
    pub fn report(&self) -> PegReport {
        self.report.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn count(&self, update: impl FnOnce(&mut PegReport)) {
        update(&mut self.report.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The relayer task: every simulated second until the run ends.
pub async fn relay(
    config: SimConfig,
    main: Network,
    sides: Vec<Network>,
    run: Arc<PegRun>,
    record: Record,
) {
    let mut bridges: Vec<Bridge> = sides
        .into_iter()
        .enumerate()
        .map(|(index, side)| Bridge {
            index,
            side,
            up: Lane::default(),
            down: Lane::default(),
            observations: BTreeMap::new(),
            anchors: FinalAnchors::default(),
            pinned: 0,
        })
        .collect();
    let mut rng = stream(config.seed, "peg-workload", 0);
    let mut token: Option<TokenId> = None;
    let mut issue_sent_ms: Option<u64> = None;
    let duration_ms = config.duration_s * 1_000;
    let mut now_ms = 0;
    while now_ms + 1_000 < duration_ms {
        now_ms += 1_000;
        madsim::time::sleep(Duration::from_millis(now_ms.saturating_sub(sim_now_ms()))).await;
        for bridge in &mut bridges {
            let main_views = views(&main, bridge.side.chain).await;
            let side_views = views(&bridge.side, main.chain).await;
            let mut found = Vec::new();
            check(bridge, &main_views, &side_views, &run, &mut found);
            let a = config.anchor_interval;
            lane(&bridge.side, &main, &mut bridge.up, &main_views, a, now_ms, &run).await;
            lane(&main, &bridge.side, &mut bridge.down, &side_views, a, now_ms, &run).await;
            pin(bridge, &main_views, &run, &mut found).await;
            for violation in found {
                record(violation);
            }
            // The workload: a lock on main, a burn on the side, one draw each per tick.
            let (lock_draw, burn_draw) = (rng.below(1_000), rng.below(1_000));
            let (to_side, to_main) = (rng.index(bridge.side.nodes), rng.index(main.nodes));
            match token {
                None => {
                    let due = issue_sent_ms.is_none_or(|at| now_ms >= at + RETRY_MS);
                    let (found, sent) = issue(&main, due).await;
                    token = found;
                    if sent {
                        issue_sent_ms = Some(now_ms);
                        run.count(|report| report.setup_txs += 1);
                    }
                }
                Some(token) => {
                    let recipient = node_account(&bridge.side, to_side).await;
                    if lock_draw < 700
                        && let Some(recipient) = recipient
                    {
                        let amount = 1 + lock_draw % 100;
                        let lock =
                            PegTx::Lock { token, amount, dest_chain: bridge.side.chain, recipient };
                        if submit(&main, 0, TxKind::Peg(Box::new(lock))).await {
                            run.count(|report| report.locks_submitted += 1);
                        }
                    }
                    let back = node_account(&main, to_main).await;
                    if burn_draw < 600
                        && let Some(recipient) = back
                    {
                        let wrapped = wrapped_token_id(&main.chain, &token);
                        let amount = 1 + burn_draw % 50;
                        if burn(&bridge.side, to_side, wrapped, amount, recipient).await {
                            run.count(|report| report.burns_submitted += 1);
                        }
                    }
                }
            }
        }
    }
}

/// Every running node's view, with its light client of `other`.
async fn views(network: &Network, other: ChainId) -> Vec<NodeView> {
    let mut views = Vec::new();
    for node in 0..network.nodes {
        let Some(handle) = (network.handles)(node) else { continue };
        let me = handle.inspect(move |core: &Node| view(core, node, &other)).await;
        views.extend(me);
    }
    views
}

fn view(core: &Node, node: usize, other: &ChainId) -> NodeView {
    let chain = core.chain();
    let ledger = chain.ledger();
    let height = chain.height();
    let lowest_active =
        height.saturating_sub(ACTIVE_WINDOW).max(chain.lowest_held_height()).min(height);
    let active =
        (lowest_active..=height).map(|h| chain.active_at(h).unwrap_or(Hash::ZERO)).collect();
    let light_client = ledger
        .side_chains()
        .iter()
        .find(|side| side.headers.spec().genesis_id == *other)
        .map(|side| (side.id, side.headers.clone()));
    let me = core.account();
    let consortium = ledger
        .consortia()
        .iter()
        .find(|held| held.name == BRIDGE_CONSORTIUM_NAME && held.parties.contains(&me))
        .map(|held| held.id);
    NodeView {
        node,
        head: chain.head().id,
        height,
        final_height: chain.final_height(),
        lowest_active,
        active,
        pegs: ledger.peg().clone(),
        light_client,
        consortium,
    }
}

/// The per-tick checks of one bridge, and the report's high-water marks.
fn check(
    bridge: &mut Bridge,
    main: &[NodeView],
    side: &[NodeView],
    run: &PegRun,
    found: &mut Vec<Violation>,
) {
    let at_ms = sim_now_ms();
    let index = bridge.index;
    let pairs = check_conservation(main, side, index, at_ms, found);
    let mut compared = check_light_clients(main, "main", at_ms, found);
    compared += check_light_clients(side, &bridge.side.label, at_ms, found);
    bridge.anchors.check(main, side, index, at_ms, found);
    let side_chain = bridge.side.chain;
    let minted = side
        .iter()
        .flat_map(|view| view.pegs.wrapped_tokens().map(|(_, wrapped)| wrapped.minted))
        .max()
        .unwrap_or(0);
    let released = main
        .iter()
        .flat_map(|view| {
            view.pegs
                .escrows()
                .filter(move |((_, chain), _)| *chain == side_chain)
                .map(|(_, escrow)| escrow.released)
        })
        .max()
        .unwrap_or(0);
    run.count(|report| {
        report.conservation_checks += pairs;
        report.light_client_checks += compared;
        report.minted = report.minted.max(minted);
        report.released = report.released.max(released);
    });
}

/// Promote main's light-client final headers seen at main checkpoints now final on main, and
/// pin every running side node to the highest.
async fn pin(bridge: &mut Bridge, main: &[NodeView], run: &PegRun, found: &mut Vec<Violation>) {
    for view in main {
        if let Some(tip) = view.light_final() {
            bridge.observations.insert((view.height, view.head), tip);
        }
    }
    let mut promoted = Vec::new();
    for (&(main_height, main_id), &(height, id)) in &bridge.observations {
        let final_on_main = main.iter().any(|view| {
            view.final_height >= main_height && view.holds(main_height, &main_id) == Some(true)
        });
        if final_on_main {
            promoted.push((main_height, main_id));
            match bridge.anchors.record(height, id, main_height, main_id) {
                Ok(true) => run.count(|report| report.anchors_final += 1),
                Ok(false) => {}
                Err(held) => found.push(Violation {
                    invariant: "anchor-rewritten",
                    at_ms: sim_now_ms(),
                    node: 0,
                    other: None,
                    detail: format!(
                        "main finalised side chain {}'s {} at {height} after {}",
                        bridge.index,
                        id.short(),
                        held.short()
                    ),
                }),
            }
        }
    }
    for key in promoted {
        bridge.observations.remove(&key);
    }
    while bridge.observations.len() > OBSERVATIONS_KEPT {
        bridge.observations.pop_first();
    }
    let Some((height, id)) = bridge.anchors.highest() else { return };
    if height <= bridge.pinned {
        return;
    }
    let mut pinned_all = true;
    for node in 0..bridge.side.nodes {
        let Some(handle) = (bridge.side.handles)(node) else {
            pinned_all = false;
            continue;
        };
        let outcome = handle.operate(move |core| core.pin_anchor(0, height, id)).await;
        match outcome {
            Some(Ok(_)) => run.count(|report| report.pins += 1),
            Some(Err(error)) => found.push(Violation {
                invariant: "anchor-rewritten",
                at_ms: sim_now_ms(),
                node,
                other: None,
                detail: format!("side chain {} refuses the final anchor: {error}", bridge.index),
            }),
            None => pinned_all = false,
        }
    }
    // A node down now restarts without its pins: it is pinned again at the next anchor.
    if pinned_all {
        bridge.pinned = height;
    }
}

/// One direction's setup, anchors and claims (see the module).
async fn lane(
    source: &Network,
    dest: &Network,
    lane: &mut Lane,
    dest_views: &[NodeView],
    anchor_interval: u64,
    now_ms: u64,
    run: &PegRun,
) {
    let due = |sent: Option<u64>| sent.is_none_or(|at| now_ms >= at + RETRY_MS);
    let Some(best) =
        dest_views.iter().max_by_key(|view| (view.height, std::cmp::Reverse(view.node)))
    else {
        return;
    };
    let Some((chain, light)) = best.light_client.clone() else {
        // Setup on the destination's node 0 (the consortium's party).
        let Some(zero) = dest_views.iter().find(|view| view.node == 0) else { return };
        let Some(handle) = (dest.handles)(0) else { return };
        match zero.consortium {
            Some(consortium) if due(lane.register_sent_ms) => {
                let spec = match FollowedChain::from_genesis(&source.genesis, anchor_interval) {
                    Ok(spec) => spec,
                    Err(_) => return,
                };
                let kind = TxKind::SideChain(Box::new(SideChainTx::Register { consortium, spec }));
                if submit_on(&handle, kind).await {
                    lane.register_sent_ms = Some(now_ms);
                    run.count(|report| report.setup_txs += 1);
                }
            }
            None if due(lane.consortium_sent_ms)
                && handle.operate(create_consortium).await == Some(true) =>
            {
                lane.consortium_sent_ms = Some(now_ms);
                run.count(|report| report.setup_txs += 1);
            }
            _ => {}
        }
        return;
    };
    // The source's highest node: its segment past the light client, and its proofs.
    let Some(source_node) = highest(source).await else { return };
    let Some(handle) = (source.handles)(source_node) else { return };
    let claimed: BTreeSet<Hash> = best.pegs.claims_from(&source.chain).copied().collect();
    let dest_chain = dest.chain;
    let read = move |core: &Node| read_source(core, &light, anchor_interval, &dest_chain, &claimed);
    let Some((segment, head, proofs)) = handle.inspect(read).await else { return };
    if let Some(head) = head {
        lane.proofs.insert(head, proofs);
        while lane.proofs.len() > PROOF_HEADS_KEPT {
            lane.proofs.pop_first();
        }
    }
    let end = segment.last().map_or(0, |last| last.body.height);
    if !segment.is_empty() && (end > lane.posted_end || now_ms >= lane.posted_ms + RETRY_MS) {
        let kind = TxKind::SideChain(Box::new(SideChainTx::Anchor { chain, headers: segment }));
        if submit_rotating(dest, &mut lane.signer, kind).await {
            lane.posted_end = end;
            lane.posted_ms = now_ms;
            run.count(|report| report.anchors_submitted += 1);
        }
    }
    claim(source, dest, lane, best, now_ms, run).await;
}

/// Submit the proofs the destination's best node holds final and has not claimed, and now and
/// then a replay of one it has.
async fn claim(
    source: &Network,
    dest: &Network,
    lane: &mut Lane,
    best: &NodeView,
    now_ms: u64,
    run: &PegRun,
) {
    let Some((_, light)) = &best.light_client else { return };
    let mut due = Vec::new();
    for ((_, header), proofs) in &lane.proofs {
        if light.final_header(header).is_none() {
            continue;
        }
        for proof in proofs {
            let entry = proof.entry.id;
            if best.pegs.is_claimed(&source.chain, &entry) {
                lane.last_claimed = Some(proof.clone());
                continue;
            }
            let sent = lane.claim_sent_ms.get(&entry).copied();
            if sent.is_none_or(|at| now_ms >= at + RETRY_MS)
                && !due.iter().any(|p: &PegProof| p.entry.id == entry)
            {
                due.push(proof.clone());
            }
        }
    }
    for proof in due {
        let entry = proof.entry.id;
        let direction = proof.entry.direction;
        let tx = match direction {
            Direction::Lock => PegTx::Mint { proof: Box::new(proof) },
            Direction::Burn => PegTx::Release { proof: Box::new(proof) },
        };
        if submit_rotating(dest, &mut lane.signer, TxKind::Peg(Box::new(tx))).await {
            lane.claim_sent_ms.insert(entry, now_ms);
            run.count(|report| match direction {
                Direction::Lock => report.mints_submitted += 1,
                Direction::Burn => report.releases_submitted += 1,
            });
        }
    }
    if now_ms >= lane.replay_ms + REPLAY_EVERY_MS
        && let Some(proof) = lane.last_claimed.clone()
    {
        let tx = match proof.entry.direction {
            Direction::Lock => PegTx::Mint { proof: Box::new(proof) },
            Direction::Burn => PegTx::Release { proof: Box::new(proof) },
        };
        if submit_rotating(dest, &mut lane.signer, TxKind::Peg(Box::new(tx))).await {
            lane.replay_ms = now_ms;
            run.count(|report| report.replays_submitted += 1);
        }
    }
    // Entries claimed on the best destination node need no proof any more.
    for proofs in lane.proofs.values_mut() {
        proofs.retain(|proof| !best.pegs.is_claimed(&source.chain, &proof.entry.id));
    }
    lane.proofs.retain(|_, proofs| !proofs.is_empty());
    lane.claim_sent_ms.retain(|entry, _| !best.pegs.is_claimed(&source.chain, entry));
}

/// What the relayer reads from the source's highest node: the segment extending `light`, and
/// the head with the proofs of its unclaimed entries addressed to `dest` (if the head commits
/// the ledger).
type SourceRead = (Vec<Checkpoint>, Option<(u64, Hash)>, Vec<PegProof>);

fn read_source(
    core: &Node,
    light: &HeaderChain,
    anchor_interval: u64,
    dest: &ChainId,
    claimed: &BTreeSet<Hash>,
) -> SourceRead {
    let chain = core.chain();
    let height = chain.height();
    // The fork point: the highest height whose active checkpoint the light client holds.
    let mut from = light.best().height.min(height);
    while from > light.final_tip().height {
        match chain.active_at(from) {
            Some(id) if light.get(&id).is_some() => break,
            _ => from -= 1,
        }
    }
    let held = chain.active_at(from).is_some_and(|id| from == 0 || light.get(&id).is_some());
    let segment = if held {
        anchor_segment(chain, from, anchor_interval, SEGMENT_HEADERS_MAX as u64)
    } else {
        Vec::new()
    };
    let head = chain.head();
    let ledger = chain.ledger();
    if head.ledger_root != ledger.root() {
        return (segment, None, Vec::new());
    }
    let proofs = ledger
        .peg()
        .outbox()
        .entries()
        .iter()
        .filter(|entry| entry.dest_chain == *dest && !claimed.contains(&entry.id))
        .filter_map(|entry| ledger.peg_proof(&entry.id, head.id))
        .collect();
    (segment, Some((head.height, head.id)), proofs)
}

/// The running node of `network` with the highest head (lowest index on a tie).
async fn highest(network: &Network) -> Option<usize> {
    let mut best: Option<(u64, usize)> = None;
    for node in 0..network.nodes {
        let Some(handle) = (network.handles)(node) else { continue };
        let Some(height) = handle.inspect(|core: &Node| core.chain().height()).await else {
            continue;
        };
        if best.is_none_or(|(held, _)| height > held) {
            best = Some((height, node));
        }
    }
    best.map(|(_, node)| node)
}

async fn node_account(network: &Network, node: usize) -> Option<AccountId> {
    let handle = (network.handles)(node)?;
    handle.inspect(|core: &Node| core.account()).await
}

async fn submit_on(handle: &DriverHandle, kind: TxKind) -> bool {
    let submitted = handle.operate(move |core| core.submit(0, kind, FEE).map(|_| ())).await;
    matches!(submitted, Some(Ok(())))
}

async fn submit(network: &Network, node: usize, kind: TxKind) -> bool {
    match (network.handles)(node) {
        Some(handle) => submit_on(&handle, kind).await,
        None => false,
    }
}

/// Submit from the next running funded node of `network`, in turn.
async fn submit_rotating(network: &Network, signer: &mut usize, kind: TxKind) -> bool {
    let funded = network.funded.max(1);
    for _ in 0..funded {
        *signer = (*signer + 1) % funded;
        if let Some(handle) = (network.handles)(*signer) {
            return submit_on(&handle, kind).await;
        }
    }
    false
}

/// Main node 0's token, or (if `due`) submit its issue; `(token, whether an issue was sent)`.
async fn issue(main: &Network, due: bool) -> (Option<TokenId>, bool) {
    let Some(handle) = (main.handles)(0) else { return (None, false) };
    let attempt = move |core: &mut Node| {
        let me = core.account();
        let held = core
            .chain()
            .ledger()
            .tokens()
            .iter()
            .find(|token| token.issuer == me && token.symbol == TOKEN_SYMBOL);
        if let Some(token) = held {
            return (Some(token.id), false);
        }
        if !due {
            return (None, false);
        }
        let issue = IssueToken {
            name: "Pegged sim token".into(),
            symbol: TOKEN_SYMBOL.into(),
            decimals: 0,
            initial_supply: TOKEN_SUPPLY,
            supply: SupplyRule::Fixed,
        };
        let kind = TxKind::Token(Box::new(TokenTx::Issue(issue)));
        (None, core.submit(0, kind, FEE).is_ok())
    };
    handle.operate(attempt).await.unwrap_or((None, false))
}

/// Side node `node` burns up to `amount` of the wrapped token for `recipient` on main, if it
/// holds any.
async fn burn(
    side: &Network,
    node: usize,
    wrapped: TokenId,
    amount: u64,
    recipient: AccountId,
) -> bool {
    let Some(handle) = (side.handles)(node) else { return false };
    let attempt = move |core: &mut Node| {
        let balance = core.chain().ledger().tokens().balance(&wrapped, &core.account());
        if balance == 0 {
            return false;
        }
        let tx = PegTx::Burn { wrapped, amount: amount.min(balance), recipient };
        core.submit(0, TxKind::Peg(Box::new(tx)), FEE).is_ok()
    };
    handle.operate(attempt).await.unwrap_or(false)
}

/// Node `core` creates the bridge consortium with itself as its one party and member.
fn create_consortium(core: &mut Node) -> bool {
    let me = core.account();
    let nonce = crate::consortium_workload::free_nonce(core);
    let Ok(create) = bridge_consortium(me, nonce) else { return false };
    let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
    let signed = core.build_transaction(nonce, kind, FEE);
    signed.and_then(|tx| core.accept_transaction(tx, None)).is_ok()
}
