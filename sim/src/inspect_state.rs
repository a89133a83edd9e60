//! What `vein-sim inspect` reads from one node at one simulated instant: its chain head and
//! every checkpoint header it still holds (the fork tree), the DAG nearest its tips, a ledger
//! summary, the orphans waiting for parents, its peers' scores; and the node's chain events up
//! to that instant ([`ChainRecord`]), from which the fork tree's past frames are derived.
//!
//! Everything here is plain data read from a [`Node`] in one call (the driver's `inspect`), in
//! a deterministic order: ids sorted, the DAG walked breadth first from the sorted tips, so
//! that the same seed and instant give the same bytes. Nothing here changes the node.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::Node;

/// Units of the DAG view at most (the nearest the tips, breadth first).
pub const DAG_UNITS_MAX: usize = 300;
/// Orphans listed at most (the count is always given).
pub const ORPHANS_LISTED_MAX: usize = 256;
/// Accounts listed in the ledger summary (the richest, then by id).
pub const RICHEST_LISTED: usize = 8;

/// One checkpoint of the fork tree. The JSON shape is the explorer's `ForkNode` (`GET /forks`),
/// so its drawing script reads it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointView {
    /// The checkpoint id (hex).
    pub id: String,
    /// Its predecessor's id.
    pub prev: String,
    /// Its height.
    pub height: u64,
    /// The forger's account (hex).
    pub author: String,
    /// Its timestamp (the forger's clock, ms).
    pub timestamp_ms: u64,
    /// Cumulative weight of the chain it ends (as a decimal string: it is a u128).
    pub cumulative_weight: String,
    /// On this node's active chain.
    pub active: bool,
    /// Active and at or below the final height.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// One unit of the DAG view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitView {
    /// The unit id.
    pub id: String,
    /// Its two parents (a parent outside the view has no edge drawn).
    pub parents: Vec<String>,
    /// The signer's account (hex).
    pub from: String,
    /// The signer's nonce.
    pub nonce: u64,
    /// `pending` (unconfirmed), `applied`, `ignored` (confirmed, not final), or `final`.
    pub status: &'static str,
    /// No unit approves it yet.
    pub tip: bool,
    /// Breadth-first distance from the nearest tip (0 for a tip).
    pub depth: u64,
}

/// A unit waiting in the orphan pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrphanView {
    /// The unit id.
    pub id: String,
    /// Parents it waits for (neither in the DAG nor genesis).
    pub missing: Vec<String>,
}

/// The ledger at the node's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerSummary {
    /// The ledger root.
    pub root: String,
    /// Native supply.
    pub supply: u64,
    /// Accounts held.
    pub accounts: usize,
    /// Business tokens issued.
    pub tokens: usize,
    /// The richest accounts: (account, balance), balance descending then account.
    pub richest: Vec<(String, u64)>,
}

/// A connected peer (the driver's peer number) and its score (starts at 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerView {
    /// The driver's number for the peer.
    pub peer: u64,
    /// Its score.
    pub score: i64,
}

/// Everything `vein-sim inspect` dumps about one node at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeState {
    /// The node index.
    pub node: usize,
    /// Simulated instant, ms since the start.
    pub at_ms: u64,
    /// The head checkpoint.
    pub head: CheckpointView,
    /// Height of the newest final checkpoint.
    pub final_height: u64,
    /// Lowest height whose active checkpoint is still held (pruning drops those below).
    pub lowest_held_height: u64,
    /// Every checkpoint header held, on any branch, by height then id.
    pub checkpoints: Vec<CheckpointView>,
    /// Units held in the DAG.
    pub units_held: usize,
    /// The tips, sorted.
    pub tips: Vec<String>,
    /// The DAG nearest the tips (at most [`DAG_UNITS_MAX`] units), breadth first.
    pub dag: Vec<UnitView>,
    /// The ledger at the head.
    pub ledger: LedgerSummary,
    /// Units in the orphan pool.
    pub orphan_count: usize,
    /// The first [`ORPHANS_LISTED_MAX`] of them, by id.
    pub orphans: Vec<OrphanView>,
    /// Connected peers and their scores, by peer number.
    pub peers: Vec<PeerView>,
    /// Banned peers and the local time each ban ends.
    pub banned: Vec<(u64, u64)>,
    /// Units this node accepted so far, messages in and out.
    pub units_accepted: u64,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
}

/// One chain event of the inspected node, stamped with simulated time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainRecord {
    /// Simulated ms since the start.
    pub at_ms: u64,
    /// `accepted`, `head` or `final`.
    pub kind: &'static str,
    /// The checkpoint id.
    pub id: String,
    /// Its height.
    pub height: u64,
}

impl ChainRecord {
    /// The record of a chain event, if `event` is one (units and transactions are not).
    pub fn of(at_ms: u64, event: &Event) -> Option<ChainRecord> {
        let (kind, id, height) = match event {
            Event::CheckpointAccepted { id, height, .. } => ("accepted", id, *height),
            Event::HeadChanged { id, height, .. } => ("head", id, *height),
            Event::CheckpointFinal { id, height, .. } => ("final", id, *height),
            _ => return None,
        };
        Some(ChainRecord { at_ms, kind, id: id.to_string(), height })
    }
}

fn status(node: &Node, id: &Hash) -> &'static str {
    match node.dag().confirmation(id) {
        None => "pending",
        Some(held) if held.height <= node.chain().final_height() => "final",
        Some(held) if held.outcome == Outcome::Ignored => "ignored",
        Some(_) => "applied",
    }
}

fn checkpoint_view(node: &Node, header: &vein_node::core::chain::Header) -> CheckpointView {
    let chain = node.chain();
    let active = chain.active_at(header.height) == Some(header.id);
    CheckpointView {
        id: header.id.to_string(),
        prev: header.prev.to_string(),
        height: header.height,
        author: header.author.to_hex(),
        timestamp_ms: header.timestamp_ms,
        cumulative_weight: header.cumulative_weight.to_string(),
        active,
        is_final: active && header.height <= chain.final_height(),
    }
}

/// The DAG nearest the tips: breadth first over parents from the sorted tips.
fn dag_view(node: &Node) -> Vec<UnitView> {
    let dag = node.dag();
    let mut tips: Vec<Hash> = dag.tips().as_slice().to_vec();
    tips.sort();
    let tip_set: BTreeSet<Hash> = tips.iter().copied().collect();
    let mut seen: BTreeSet<Hash> = BTreeSet::new();
    let mut frontier: Vec<(Hash, u64)> = tips.iter().map(|id| (*id, 0)).collect();
    let mut view = Vec::new();
    let mut next = 0;
    while next < frontier.len() && view.len() < DAG_UNITS_MAX {
        let (id, depth) = frontier[next];
        next += 1;
        if !seen.insert(id) {
            continue;
        }
        let Some(unit) = dag.get(&id) else { continue };
        let parents = unit.tx.body.parents;
        frontier.extend(parents.iter().map(|parent| (*parent, depth + 1)));
        view.push(UnitView {
            id: id.to_string(),
            parents: parents.iter().map(Hash::to_string).collect(),
            from: unit.tx.body.from.to_hex(),
            nonce: unit.tx.body.nonce,
            status: status(node, &id),
            tip: tip_set.contains(&id),
            depth,
        });
    }
    view
}

fn ledger_summary(node: &Node) -> LedgerSummary {
    let ledger = node.chain().ledger();
    let mut richest: Vec<(String, u64)> =
        ledger.accounts().map(|(account, _)| (account.to_hex(), ledger.balance(account))).collect();
    richest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let accounts = richest.len();
    richest.truncate(RICHEST_LISTED);
    LedgerSummary {
        root: ledger.root().to_string(),
        supply: ledger.supply(),
        accounts,
        tokens: ledger.tokens().len(),
        richest,
    }
}

fn orphans(node: &Node) -> Vec<OrphanView> {
    let dag = node.dag();
    let genesis = dag.genesis();
    dag.orphans()
        .take(ORPHANS_LISTED_MAX)
        .map(|unit| OrphanView {
            id: unit.id.to_string(),
            missing: unit
                .tx
                .body
                .parents
                .iter()
                .filter(|parent| **parent != genesis && !dag.contains(parent))
                .map(Hash::to_string)
                .collect(),
        })
        .collect()
}

impl NodeState {
    /// Read node `index`'s state at simulated instant `at_ms`.
    pub fn read(core: &Node, index: usize, at_ms: u64) -> NodeState {
        let chain = core.chain();
        let mut checkpoints: Vec<CheckpointView> =
            chain.headers().map(|header| checkpoint_view(core, header)).collect();
        checkpoints.sort_by(|a, b| a.height.cmp(&b.height).then_with(|| a.id.cmp(&b.id)));
        let mut tips: Vec<String> =
            core.dag().tips().as_slice().iter().map(Hash::to_string).collect();
        tips.sort();
        let peers: BTreeMap<u64, i64> = core.peers().map(|(peer, score)| (*peer, *score)).collect();
        let banned: BTreeMap<u64, u64> =
            core.banned().map(|(peer, until)| (*peer, *until)).collect();
        NodeState {
            node: index,
            at_ms,
            head: checkpoint_view(core, chain.head()),
            final_height: chain.final_height(),
            lowest_held_height: chain.lowest_held_height(),
            checkpoints,
            units_held: core.dag().len(),
            tips,
            dag: dag_view(core),
            ledger: ledger_summary(core),
            orphan_count: core.dag().orphan_count(),
            orphans: orphans(core),
            peers: peers.into_iter().map(|(peer, score)| PeerView { peer, score }).collect(),
            banned: banned.into_iter().collect(),
            units_accepted: core.stats().units_accepted,
            messages_in: core.stats().messages_in,
            messages_out: core.stats().messages_out,
        }
    }
}
