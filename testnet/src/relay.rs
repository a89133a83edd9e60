//! The testnet's relayer between the main net and its side chain (`vein-testnet peg relay`,
//! docs/peg.md "On a testnet"): what the simulator's bridge (`sim/src/peg_bridge.rs`) does
//! through a node's core, done here through the API, with the same shared pieces
//! (`vein_node::core::sidechain::relay`: the anchor segment, the bridge consortium).
//!
//! Each tick, for both directions (main → side: anchors of main and mints on the side;
//! side → main: anchors of the side and releases on main), from the source chain to the
//! destination:
//! - **Setup**: if the destination does not follow the source yet, its relaying account (its
//!   node 0's key) creates the one-party bridge consortium, then registers the source chain
//!   (`SideChainTx::Register` with `FollowedChain::from_genesis` of the source's genesis file).
//! - **Anchors**: the source's checkpoints past the destination light client's best header (or,
//!   if the source left that branch, past its final one), up to the last multiple of `a`
//!   (`GET /sidechain/headers`), posted as `SideChainTx::Anchor`.
//! - **Claims**: the proofs of the source's outbox entries for the destination
//!   (`GET /peg/proofs/{chain}`) are kept by the source head they were read at; once the
//!   destination's light client holds a head final, each of its proofs is checked there
//!   (`POST /peg/claim/check`) and, if claimable, claimed (`PegTx::Mint` for a lock,
//!   `PegTx::Release` for a burn). A `replayed` refusal means it was claimed: dropped.
//! - **Pins**: a side header final in main's light client as read at a main head now final
//!   on main is a final anchor; every running side node is pinned to the highest
//!   (`POST /sidechain/pin`, `relay_pin.rs`).
//!
//! Every transaction is signed here and posted pre-signed (`POST /tx`); one not seen applied
//! is sent again after [`RETRY_MS`]. Nonces are a set per account, so a local counter
//! above the node's `next_nonce` lets one tick send several.

use crate::manifest::Manifest;
use crate::{TestnetError, http, is_alive, now_ms, parents_from, read_key};
use pins::Pins;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use vein_node::api_types::{
    AccountBalance, AnchorSegment, ConsortiumDetail, ConsortiumList, PegClaimCheck,
    PegClaimVerdict, PegProofs, SideChainList, SideChainView, SignedTxRequest, TxAccepted,
};
use vein_node::core::checkpoint::Checkpoint;
use vein_node::core::consortium::ConsortiumTx;
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::hash::Hash;
use vein_node::core::params::Genesis;
use vein_node::core::peg::{Direction, PegProof, PegTx};
use vein_node::core::sidechain::relay::{BRIDGE_CONSORTIUM_NAME, bridge_consortium};
use vein_node::core::sidechain::{FollowedChain, SideChainTx};
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::core::wire;
use vein_node::genesis_file::GenesisFile;

#[path = "relay_pin.rs"]
mod pins;

/// A setup transaction, anchor or claim not seen applied is sent again after this.
pub const RETRY_MS: u64 = 8_000;
/// Source heads whose proofs are kept until the destination holds them final.
const PROOF_HEADS_KEPT: usize = 64;
/// Proofs read per source head (the newest entries for the destination).
const PROOFS_PER_READ: usize = 1_000;
/// The native fee of every relayed transaction.
const FEE: u64 = 1;
/// Entries remembered as claimed on the destination (so that their proofs, which the source
/// keeps serving, are not checked again every pass); the oldest are forgotten first.
const CLAIMED_KEPT: usize = 100_000;

/// One chain as the relayer sees it.
pub struct ChainEnd {
    /// "main" or "side", for the log.
    pub label: &'static str,
    /// Its manifest (reloaded each tick: nodes restart with new pids).
    pub manifest: Manifest,
    /// Its genesis: a light client's spec is built from it.
    pub genesis: Genesis,
    /// Its genesis id: its chain id in the peg.
    pub id: Hash,
    /// The relaying account's key (node 0's): it pays for anchors and claims here.
    pub signer: Keypair,
}

impl ChainEnd {
    /// The chain of the testnet in `manifest`.
    pub fn load(label: &'static str, manifest: Manifest) -> Result<ChainEnd, TestnetError> {
        let genesis = GenesisFile::load(&manifest.genesis)?.to_genesis()?;
        let id = genesis.id().map_err(|error| TestnetError::Invalid(error.to_string()))?;
        let key = &crate::node_entry(&manifest, 0)?.key;
        let signer = read_key(key)?;
        Ok(ChainEnd { label, manifest, genesis, id, signer })
    }

    /// The API of its first running node.
    pub fn api(&self) -> Result<SocketAddr, TestnetError> {
        self.manifest
            .nodes
            .iter()
            .find(|node| !node.paused && node.pid.is_some_and(|pid| is_alive(pid, node)))
            .map(|node| node.api)
            .ok_or_else(|| TestnetError::Invalid(format!("no {} node is running", self.label)))
    }
}

/// Per-account nonces handed out by this process (see the module).
#[derive(Default)]
pub struct Nonces {
    next: BTreeMap<AccountId, u64>,
}

impl Nonces {
    /// The nonce for `account`'s next transaction: above both the node's and ours.
    pub fn take(&mut self, api: SocketAddr, account: &AccountId) -> Result<u64, TestnetError> {
        let state: AccountBalance = http::get(api, &format!("/balance/{}", account.to_hex()))?;
        let ours = self.next.get(account).copied().unwrap_or(0);
        let nonce = state.next_nonce.max(ours);
        self.next.insert(*account, nonce + 1);
        Ok(nonce)
    }
}

/// Sign `kind` with `key` at `nonce` and post it to `api`; the transaction id.
pub fn post_signed(
    api: SocketAddr,
    key: &Keypair,
    nonce: u64,
    kind: TxKind,
) -> Result<String, TestnetError> {
    let tx = TransactionBody {
        from: key.account(),
        nonce,
        kind,
        fee: FEE,
        parents: parents_from(api)?,
        issued_at_ms: now_ms(),
    }
    .sign(key)
    .map_err(|error| TestnetError::Invalid(error.to_string()))?;
    let bytes = tx.encode().map_err(|error| TestnetError::Invalid(error.to_string()))?;
    let body = SignedTxRequest { tx: hex::encode(bytes) };
    let answer: TxAccepted = http::post(api, "/tx", &body)?;
    Ok(answer.id)
}

/// One direction's memory between ticks.
#[derive(Default)]
struct Lane {
    consortium_sent_ms: Option<u64>,
    register_sent_ms: Option<u64>,
    posted_end: u64,
    posted_ms: u64,
    /// Proofs (hex) by the source head `(height, id)` they hash to.
    proofs: BTreeMap<(u64, Hash), Vec<(Hash, String)>>,
    claim_sent_ms: BTreeMap<Hash, u64>,
    /// Entries the destination refused as `replayed`, in the order seen.
    claimed: BTreeSet<(u64, Hash)>,
    claimed_ids: BTreeSet<Hash>,
    claimed_seen: u64,
}

impl Lane {
    fn remember_claimed(&mut self, entry: Hash) {
        if self.claimed_ids.insert(entry) {
            self.claimed_seen += 1;
            self.claimed.insert((self.claimed_seen, entry));
        }
        while self.claimed.len() > CLAIMED_KEPT {
            if let Some((_, oldest)) = self.claimed.pop_first() {
                self.claimed_ids.remove(&oldest);
            }
        }
    }
}

/// The relayer: both directions between main and side.
pub struct Relayer {
    main: ChainEnd,
    side: ChainEnd,
    anchor_interval: u64,
    /// side → main.
    up: Lane,
    /// main → side.
    down: Lane,
    nonces: Nonces,
    pins: Pins,
}

impl Relayer {
    /// A relayer between the two chains, anchoring every `anchor_interval` checkpoints.
    pub fn new(main: ChainEnd, side: ChainEnd, anchor_interval: u64) -> Relayer {
        Relayer {
            main,
            side,
            anchor_interval,
            up: Lane::default(),
            down: Lane::default(),
            nonces: Nonces::default(),
            pins: Pins::default(),
        }
    }

    /// Take freshly loaded manifests (nodes restarted since keep their ports, not their pids).
    pub fn refresh(&mut self, main: Manifest, side: Manifest) {
        self.main.manifest = main;
        self.side.manifest = side;
    }

    /// One pass over both directions; the log lines of what it did.
    pub fn tick(&mut self) -> Result<Vec<String>, TestnetError> {
        let mut log = Vec::new();
        let a = self.anchor_interval;
        let now = now_ms();
        lane(&self.main, &self.side, &mut self.down, &mut self.nonces, a, now, &mut log)?;
        lane(&self.side, &self.main, &mut self.up, &mut self.nonces, a, now, &mut log)?;
        self.pins.pass(&self.main, &self.side, &mut log)?;
        Ok(log)
    }
}

fn due(sent: Option<u64>, now: u64) -> bool {
    sent.is_none_or(|at| now >= at + RETRY_MS)
}

/// The destination's light client of `source`, if it registered it.
fn follower(
    dest_api: SocketAddr,
    source: &ChainEnd,
) -> Result<Option<SideChainView>, TestnetError> {
    let list: SideChainList = http::get(dest_api, "/sidechains")?;
    let id = source.id.to_string();
    Ok(list.chains.into_iter().find(|chain| chain.chain == id))
}

fn lane(
    source: &ChainEnd,
    dest: &ChainEnd,
    lane: &mut Lane,
    nonces: &mut Nonces,
    a: u64,
    now: u64,
    log: &mut Vec<String>,
) -> Result<(), TestnetError> {
    let dest_api = dest.api()?;
    let Some(view) = follower(dest_api, source)? else {
        return setup(source, dest, lane, nonces, a, now, log);
    };
    anchor(source, dest, &view, lane, nonces, a, now, log)?;
    read_proofs(source, dest, lane)?;
    claim(source, dest, &view, lane, nonces, now, log)
}

/// The bridge consortium, then the registration of `source` on `dest`.
fn setup(
    source: &ChainEnd,
    dest: &ChainEnd,
    lane: &mut Lane,
    nonces: &mut Nonces,
    a: u64,
    now: u64,
    log: &mut Vec<String>,
) -> Result<(), TestnetError> {
    let api = dest.api()?;
    let me = dest.signer.account();
    let list: ConsortiumList = http::get(api, "/consortia")?;
    let mut found = None;
    for summary in list.consortia.iter().filter(|c| c.name == BRIDGE_CONSORTIUM_NAME) {
        let detail: ConsortiumDetail = http::get(api, &format!("/consortium/{}", summary.id))?;
        if detail.parties.contains(&me.to_hex()) {
            found = vein_sdk::parse_hash(&summary.id);
            break;
        }
    }
    match found {
        Some(consortium) if due(lane.register_sent_ms, now) => {
            let spec = FollowedChain::from_genesis(&source.genesis, a)
                .map_err(|error| TestnetError::Invalid(error.to_string()))?;
            let kind = TxKind::SideChain(Box::new(SideChainTx::Register { consortium, spec }));
            let nonce = nonces.take(api, &me)?;
            let id = post_signed(api, &dest.signer, nonce, kind)?;
            lane.register_sent_ms = Some(now);
            log.push(format!(
                "{}: registered {} as a followed chain (tx {id})",
                dest.label, source.label
            ));
        }
        None if due(lane.consortium_sent_ms, now) => {
            let nonce = nonces.take(api, &me)?;
            let create = bridge_consortium(me, nonce)
                .map_err(|error| TestnetError::Invalid(error.to_string()))?;
            let kind = TxKind::Consortium(Box::new(ConsortiumTx::Create(create)));
            let id = post_signed(api, &dest.signer, nonce, kind)?;
            lane.consortium_sent_ms = Some(now);
            log.push(format!("{}: bridge consortium created (tx {id})", dest.label));
        }
        _ => {}
    }
    Ok(())
}

/// Post the source's checkpoints past the light client's head, if there are any to post.
#[allow(clippy::too_many_arguments)]
fn anchor(
    source: &ChainEnd,
    dest: &ChainEnd,
    view: &SideChainView,
    lane: &mut Lane,
    nonces: &mut Nonces,
    a: u64,
    now: u64,
    log: &mut Vec<String>,
) -> Result<(), TestnetError> {
    let source_api = source.api()?;
    let read = |from: u64| -> Result<AnchorSegment, TestnetError> {
        Ok(http::get(source_api, &format!("/sidechain/headers?from={from}&interval={a}"))?)
    };
    let extends =
        |segment: &AnchorSegment, id: &str| segment.base.as_ref().is_some_and(|b| b.id == id);
    let mut segment = read(view.best.height)?;
    if !extends(&segment, &view.best.id) {
        // The source left the light client's best branch: extend its final header instead.
        segment = read(view.final_tip.height)?;
        if !extends(&segment, &view.final_tip.id) {
            return Ok(());
        }
    }
    if segment.headers.is_empty()
        || (segment.end <= lane.posted_end && now < lane.posted_ms + RETRY_MS)
    {
        return Ok(());
    }
    let headers = segment
        .headers
        .iter()
        .map(|text| {
            let bytes =
                hex::decode(text).map_err(|_| TestnetError::Invalid("header: not hex".into()))?;
            Checkpoint::decode(&bytes).map_err(|error| TestnetError::Invalid(error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let chain = vein_sdk::parse_hash(&view.id)
        .ok_or_else(|| TestnetError::Invalid(format!("side chain id {:?}", view.id)))?;
    let api = dest.api()?;
    let nonce = nonces.take(api, &dest.signer.account())?;
    let kind = TxKind::SideChain(Box::new(SideChainTx::Anchor { chain, headers }));
    let id = post_signed(api, &dest.signer, nonce, kind)?;
    log.push(format!(
        "{}: anchored {} {}..={} (tx {id})",
        dest.label,
        source.label,
        segment.end + 1 - segment.headers.len() as u64,
        segment.end
    ));
    lane.posted_end = segment.end;
    lane.posted_ms = now;
    Ok(())
}

/// Keep the source head's proofs of the entries addressed to the destination.
fn read_proofs(source: &ChainEnd, dest: &ChainEnd, lane: &mut Lane) -> Result<(), TestnetError> {
    let path = format!("/peg/proofs/{}?limit={PROOFS_PER_READ}", dest.id);
    let read: PegProofs = http::get(source.api()?, &path)?;
    let Some(head) = read.head else { return Ok(()) };
    let Some(head_id) = vein_sdk::parse_hash(&head.id) else { return Ok(()) };
    let proofs: Vec<(Hash, String)> = read
        .proofs
        .into_iter()
        .filter_map(|view| vein_sdk::parse_hash(&view.entry.id).map(|entry| (entry, view.proof)))
        .filter(|(entry, _)| !lane.claimed_ids.contains(entry))
        .collect();
    if !proofs.is_empty() {
        lane.proofs.insert((head.height, head_id), proofs);
    }
    while lane.proofs.len() > PROOF_HEADS_KEPT {
        lane.proofs.pop_first();
    }
    Ok(())
}

/// Claim every kept proof whose head the destination could hold final, once each.
fn claim(
    source: &ChainEnd,
    dest: &ChainEnd,
    view: &SideChainView,
    lane: &mut Lane,
    nonces: &mut Nonces,
    now: u64,
    log: &mut Vec<String>,
) -> Result<(), TestnetError> {
    let api = dest.api()?;
    let mut tried: BTreeSet<Hash> = BTreeSet::new();
    let mut claimed: BTreeSet<Hash> = BTreeSet::new();
    let heads: Vec<(u64, Hash)> = lane.proofs.keys().rev().copied().collect();
    for head in heads {
        if head.0 > view.final_tip.height {
            continue;
        }
        let Some(proofs) = lane.proofs.get(&head) else { continue };
        for (entry, proof) in proofs.clone() {
            if claimed.contains(&entry) || !tried.insert(entry) {
                continue;
            }
            if !due(lane.claim_sent_ms.get(&entry).copied(), now) {
                continue;
            }
            let check = PegClaimCheck { proof: proof.clone() };
            let verdict: PegClaimVerdict = http::post(api, "/peg/claim/check", &check)?;
            match verdict.refusal.as_ref().map(|refusal| refusal.kind.as_str()) {
                None => {
                    let id = submit_claim(api, dest, nonces, &proof)?;
                    lane.claim_sent_ms.insert(entry, now);
                    log.push(format!(
                        "{}: claimed {} entry {} (tx {id})",
                        dest.label,
                        source.label,
                        entry.short()
                    ));
                }
                Some("replayed") => {
                    claimed.insert(entry);
                }
                // Not final on this branch yet: another head of the same entry may be.
                Some("header_not_final") => {
                    tried.remove(&entry);
                }
                Some(_) => {
                    let refusal =
                        verdict.refusal.map(|refusal| refusal.message).unwrap_or_default();
                    log.push(format!("{}: entry {} refused: {refusal}", dest.label, entry.short()));
                    claimed.insert(entry);
                }
            }
        }
    }
    for proofs in lane.proofs.values_mut() {
        proofs.retain(|(entry, _)| !claimed.contains(entry));
    }
    lane.proofs.retain(|_, proofs| !proofs.is_empty());
    lane.claim_sent_ms.retain(|entry, _| !claimed.contains(entry));
    for entry in claimed {
        lane.remember_claimed(entry);
    }
    Ok(())
}

/// Decode a proof and post its claim, signed by the destination's relaying account.
fn submit_claim(
    api: SocketAddr,
    dest: &ChainEnd,
    nonces: &mut Nonces,
    proof: &str,
) -> Result<String, TestnetError> {
    let kind = claim_kind(proof)?;
    let nonce = nonces.take(api, &dest.signer.account())?;
    post_signed(api, &dest.signer, nonce, kind)
}

/// The claim transaction of a proof (hex of its canonical encoding): a mint for a lock entry,
/// a release for a burn.
pub fn claim_kind(proof: &str) -> Result<TxKind, TestnetError> {
    let bytes = hex::decode(proof).map_err(|_| TestnetError::Invalid("proof: not hex".into()))?;
    let proof: PegProof = wire::decode_canonical(&bytes, "peg proof")
        .map_err(|error| TestnetError::Invalid(error.to_string()))?;
    let tx = match proof.entry.direction {
        Direction::Lock => PegTx::Mint { proof: Box::new(proof) },
        Direction::Burn => PegTx::Release { proof: Box::new(proof) },
    };
    Ok(TxKind::Peg(Box::new(tx)))
}
