//! Side-chain and peg routes (docs/peg.md): everything a relayer between two chains reads,
//! all open reads of the head's ledger and chain. A relayer signs its anchors and claims
//! itself and posts them pre-signed through `POST /tx`.
//!
//! - `GET /sidechains`: the chains this ledger follows, with their light clients' heads.
//! - `GET /sidechain/headers?from=H&interval=A&limit=N`: this chain's checkpoints for an
//!   anchor on another chain ([`anchor_segment`]).
//! - `GET /peg?limit=N`: escrows, wrapped tokens, outbox and claims.
//! - `GET /peg/proofs/{chain}?limit=N`: Merkle proofs of the newest outbox entries for `chain`.
//! - `POST /peg/claim/check`: whether a proof's claim would apply here now, or the ledger's
//!   typed refusal (a replayed proof is `replayed`, an early one `header_not_final`).

use super::{
    ApiError, ApiResult, ApiState, inspect, list_limit, parse_body, parse_hash, query_u64,
};
use crate::api_types::{
    AnchorSegment, ClaimedEntry, EscrowView, HeaderRef, OutboxEntryView, PegClaimCheck,
    PegClaimVerdict, PegProofView, PegProofs, PegRefusal, PegView, SideChainList, SideChainView,
    WrappedView,
};
use crate::core::hash::Hash;
use crate::core::ledger::Ledger;
use crate::core::node::Node;
use crate::core::peg::{Direction, OutboxEntry, PegProof, PegTx};
use crate::core::sidechain::light_client::{LightHeader, SEGMENT_HEADERS_MAX};
use crate::core::sidechain::relay::anchor_segment;
use crate::core::wire;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

fn header_ref(height: u64, id: &Hash) -> HeaderRef {
    HeaderRef { height, id: id.to_string() }
}

fn light_ref(header: &LightHeader) -> HeaderRef {
    header_ref(header.height, &header.id)
}

fn entry_view(entry: &OutboxEntry) -> OutboxEntryView {
    OutboxEntryView {
        id: entry.id.to_string(),
        direction: match entry.direction {
            Direction::Lock => "lock".into(),
            Direction::Burn => "burn".into(),
        },
        dest_chain: entry.dest_chain.to_string(),
        token: entry.token.to_string(),
        amount: entry.amount,
        recipient: entry.recipient.to_hex(),
    }
}

/// `GET /sidechains`
pub(super) async fn side_chains(State(state): State<ApiState>) -> ApiResult<SideChainList> {
    inspect(&state, |node| {
        let ledger = node.chain().ledger();
        let chains = ledger
            .side_chains()
            .iter()
            .map(|side| {
                let spec = side.headers.spec();
                SideChainView {
                    id: side.id.to_string(),
                    chain: spec.genesis_id.to_string(),
                    consortium: side.consortium.to_string(),
                    registrant: side.registrant.to_hex(),
                    anchor_interval: spec.anchor_interval,
                    finality_depth: spec.finality_depth,
                    best: light_ref(side.headers.best()),
                    final_tip: light_ref(side.headers.final_tip()),
                    headers: side.headers.len() as u64,
                }
            })
            .collect();
        Json(SideChainList {
            chain: ledger.peg().chain().map(|chain| chain.to_string()),
            chains,
            height: node.chain().height(),
            head: node.chain().head().id.to_string(),
        })
    })
    .await
}

/// `GET /sidechain/headers?from=H&interval=A&limit=N` (`from` 0, `interval` 1 and `limit` 256
/// when left out).
pub(super) async fn headers(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<AnchorSegment> {
    let from = query_u64(query.as_deref(), "from")?.unwrap_or(0);
    let interval = query_u64(query.as_deref(), "interval")?.unwrap_or(1);
    if interval == 0 {
        return Err(ApiError::bad_request("interval must be at least 1"));
    }
    let limit = query_u64(query.as_deref(), "limit")?.unwrap_or(SEGMENT_HEADERS_MAX as u64);
    let (segment, chain, base, height) = inspect(&state, move |node: &Node| {
        let chain = node.chain();
        let segment = anchor_segment(chain, from, interval, limit);
        let base = chain.active_at(from).map(|id| header_ref(from, &id));
        (segment, chain.genesis_id(), base, chain.height())
    })
    .await?;
    let end = from + segment.len() as u64;
    let headers = segment
        .iter()
        .map(|checkpoint| checkpoint.encode().map(hex::encode))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ApiError::bad_request(format!("a checkpoint does not encode: {error}")))?;
    Ok(Json(AnchorSegment { chain: chain.to_string(), base, headers, end, height }))
}

/// `GET /peg?limit=N`
pub(super) async fn peg(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
) -> ApiResult<PegView> {
    let limit = list_limit(query.as_deref())?;
    inspect(&state, move |node| peg_view(node.chain().ledger(), node.chain().height(), limit))
        .await
        .map(Json)
}

fn peg_view(ledger: &Ledger, height: u64, limit: usize) -> PegView {
    let pegs = ledger.peg();
    let escrows = pegs
        .escrows()
        .map(|((token, chain), escrow)| EscrowView {
            token: token.to_string(),
            chain: chain.to_string(),
            held: escrow.held,
            locked: escrow.locked,
            released: escrow.released,
        })
        .collect();
    let wrapped = pegs
        .wrapped_tokens()
        .map(|(token, wrapped)| WrappedView {
            token: token.to_string(),
            home_chain: wrapped.home_chain.to_string(),
            home_token: wrapped.home_token.to_string(),
            minted: wrapped.minted,
            burned: wrapped.burned,
        })
        .collect();
    let entries = pegs.outbox().entries();
    let claims = pegs.claims();
    let claimed_len = claims.len() as u64;
    PegView {
        chain: pegs.chain().map(|chain| chain.to_string()),
        escrows,
        wrapped,
        outbox_len: entries.len() as u64,
        outbox: entries.iter().take(limit).map(entry_view).collect(),
        claimed: claims
            .take(limit)
            .map(|(chain, entry)| ClaimedEntry {
                chain: chain.to_string(),
                entry: entry.to_string(),
            })
            .collect(),
        claimed_len,
        height,
    }
}

/// `GET /peg/proofs/{chain}?limit=N`: the newest `limit` entries addressed to `chain`.
pub(super) async fn proofs(
    State(state): State<ApiState>,
    Path(chain): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<PegProofs> {
    let dest = parse_hash(&chain)?;
    let limit = list_limit(query.as_deref())?;
    let (head, proofs) = inspect(&state, move |node: &Node| {
        let chain = node.chain();
        let head = chain.head();
        let ledger = chain.ledger();
        if head.ledger_root != ledger.root() {
            return (None, Vec::new());
        }
        let entries = ledger.peg().outbox().entries();
        let mut addressed: Vec<&OutboxEntry> =
            entries.iter().rev().filter(|entry| entry.dest_chain == dest).take(limit).collect();
        addressed.reverse();
        let proofs: Vec<PegProof> =
            addressed.iter().filter_map(|entry| ledger.peg_proof(&entry.id, head.id)).collect();
        (Some(header_ref(head.height, &head.id)), proofs)
    })
    .await?;
    let proofs = proofs
        .iter()
        .map(|proof| {
            let bytes = wire::encode_body(proof, "peg proof").map_err(|error| {
                ApiError::bad_request(format!("a proof does not encode: {error}"))
            })?;
            Ok(PegProofView { entry: entry_view(&proof.entry), proof: hex::encode(bytes) })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(PegProofs { head, proofs }))
}

/// `POST /peg/claim/check`: the claim a proof makes (a mint of a lock entry, a release of a
/// burn), checked against the head's ledger as its transaction would be.
pub(super) async fn claim_check(
    State(state): State<ApiState>,
    body: Bytes,
) -> ApiResult<PegClaimVerdict> {
    let request: PegClaimCheck =
        parse_body(&body, |error| format!("expected {{\"proof\": hex}}: {error}"))?;
    let bytes =
        hex::decode(request.proof.trim()).map_err(|_| ApiError::bad_request("proof: not hex"))?;
    let proof: PegProof = wire::decode_canonical(&bytes, "peg proof")
        .map_err(|error| ApiError::bad_request(format!("proof does not decode: {error}")))?;
    let tx = match proof.entry.direction {
        Direction::Lock => PegTx::Mint { proof: Box::new(proof) },
        Direction::Burn => PegTx::Release { proof: Box::new(proof) },
    };
    let signer = state.account;
    inspect(&state, move |node| {
        let ledger = node.chain().ledger();
        // A claim's outcome depends on neither its signer nor its nonce.
        let checked = ledger.peg().check(&tx, &signer, 0, ledger.tokens(), ledger.side_chains());
        let refusal = checked
            .err()
            .map(|error| PegRefusal { kind: error.kind().into(), message: error.to_string() });
        Json(PegClaimVerdict {
            claimable: refusal.is_none(),
            refusal,
            height: node.chain().height(),
        })
    })
    .await
}
