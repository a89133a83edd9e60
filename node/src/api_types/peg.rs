//! Side-chain and peg bodies (docs/peg.md, docs/sidechains.md): what a relayer reads to carry
//! anchors and peg claims between two chains, and what `vein-testnet peg status` shows.
//! Checkpoints and proofs travel as the hex of their canonical encoding (`Checkpoint::encode`,
//! `core::wire::encode_body` of a `PegProof`), so the relayer posts exactly what it was given.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A checkpoint (or light-client header) by height and id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeaderRef {
    /// Height (genesis is 0).
    pub height: u64,
    /// The checkpoint's id (64 hex).
    pub id: String,
}

/// One chain this chain follows as a light client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SideChainView {
    /// The registration's id (64 hex): what an anchor names.
    pub id: String,
    /// The followed chain's genesis id (64 hex): its chain id in the peg.
    pub chain: String,
    /// The consortium that registered it (64 hex).
    pub consortium: String,
    /// The party that registered it (64 hex).
    pub registrant: String,
    /// Every anchor ends at a multiple of this height.
    pub anchor_interval: u64,
    /// A header this deep on the light client's best branch is final.
    pub finality_depth: u64,
    /// The light client's best header (heaviest anchored branch).
    pub best: HeaderRef,
    /// The light client's highest final header.
    pub final_tip: HeaderRef,
    /// Headers the light client holds.
    pub headers: u64,
}

/// `GET /sidechains`: the chains this chain's ledger follows, at its head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SideChainList {
    /// This chain's own id in the peg (its genesis id, 64 hex); `null` if the ledger has none.
    pub chain: Option<String>,
    /// Registered chains, by registration id.
    pub chains: Vec<SideChainView>,
    /// The head height the answer was read at.
    pub height: u64,
    /// The head checkpoint's id (64 hex) the answer was read at: once it is final, so is what
    /// the answer says (the relayer pins side nodes to a final header read at a final head).
    pub head: String,
}

/// `GET /sidechain/headers?from=H&interval=A&limit=N`: this chain's active checkpoints past
/// height `H`, up to the last multiple of `A`: the headers of one anchor on another chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnchorSegment {
    /// This chain's genesis id (64 hex).
    pub chain: String,
    /// The active checkpoint at `from` (the header the segment extends); `null` if `from` is
    /// above the head or no longer held.
    pub base: Option<HeaderRef>,
    /// Hex of each checkpoint's canonical encoding, heights `from + 1` upwards; empty when no
    /// multiple of the interval lies between `from` and the head.
    pub headers: Vec<String>,
    /// Height of the last header (`from` when empty).
    pub end: u64,
    /// The head height the answer was read at.
    pub height: u64,
}

/// What a token's escrow for one other chain holds (home chain side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EscrowView {
    /// The home token (64 hex).
    pub token: String,
    /// The chain its locks went to (64 hex).
    pub chain: String,
    /// Held now: locked and not released.
    pub held: u64,
    /// Ever locked for that chain.
    pub locked: u64,
    /// Ever released for burns proven on that chain.
    pub released: u64,
}

/// A token the peg mints on this chain for another chain's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WrappedView {
    /// The wrapped token here (64 hex).
    pub token: String,
    /// Its home chain (64 hex).
    pub home_chain: String,
    /// The token on its home chain (64 hex).
    pub home_token: String,
    /// Minted for proven locks.
    pub minted: u64,
    /// Burned by peg burns (each sent home).
    pub burned: u64,
}

/// One outbox entry: a lock or a burn waiting to be (or already) claimed on its destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutboxEntryView {
    /// The entry id (64 hex): what the destination records as claimed.
    pub id: String,
    /// `lock` or `burn`.
    pub direction: String,
    /// The only chain that may claim it (64 hex).
    pub dest_chain: String,
    /// The home token (64 hex).
    pub token: String,
    /// Base units.
    pub amount: u64,
    /// Credited on the destination (64 hex).
    pub recipient: String,
}

/// `GET /peg?limit=N`: this chain's peg state at its head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegView {
    /// This chain's id in the peg (64 hex); `null` if the ledger has none.
    pub chain: Option<String>,
    /// Escrows of home tokens locked for other chains.
    pub escrows: Vec<EscrowView>,
    /// Wrapped tokens minted here.
    pub wrapped: Vec<WrappedView>,
    /// Entries in the outbox (all, ever: the outbox only grows).
    pub outbox_len: u64,
    /// The first `limit` entries, oldest first (all of them when `outbox_len <= limit`).
    pub outbox: Vec<OutboxEntryView>,
    /// Claims recorded here, by source chain then entry id, at most `limit`.
    pub claimed: Vec<ClaimedEntry>,
    /// Claims recorded in all.
    pub claimed_len: u64,
    /// The head height the answer was read at.
    pub height: u64,
}

/// An entry of another chain this chain claimed (minted or released for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimedEntry {
    /// The source chain (64 hex).
    pub chain: String,
    /// The entry id (64 hex).
    pub entry: String,
}

/// One proof of `GET /peg/proofs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegProofView {
    /// The entry it proves.
    pub entry: OutboxEntryView,
    /// Hex of the proof's canonical encoding (a `PegProof`), ready for `PegTx::Mint` or
    /// `PegTx::Release`.
    pub proof: String,
}

/// `GET /peg/proofs?dest=CHAIN&limit=N`: proofs of the outbox entries addressed to `CHAIN`,
/// against the head's ledger root. A proof is claimable on `CHAIN` once `head` is final in its
/// light client of this chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegProofs {
    /// The header whose ledger root the proofs hash to; `null` (and no proofs) when the head
    /// does not commit the current ledger (a moment between applying and forging).
    pub head: Option<HeaderRef>,
    /// One per entry, oldest first, at most `limit`.
    pub proofs: Vec<PegProofView>,
}

/// `POST /peg/claim/check`: would this claim apply on this chain now?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegClaimCheck {
    /// Hex of a `PegProof`'s canonical encoding (`PegProofView::proof`).
    pub proof: String,
}

/// The answer of `POST /peg/claim/check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegClaimVerdict {
    /// The claim (a mint for a lock entry, a release for a burn) would apply now.
    pub claimable: bool,
    /// Why not: the ledger's refusal, `null` when claimable.
    pub refusal: Option<PegRefusal>,
    /// The head height the answer was read at.
    pub height: u64,
}

/// A peg refusal as the ledger gives it (`core::peg::PegError`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PegRefusal {
    /// The error's kind, one word (`PegError::kind`): `replayed`, `header_not_final`,
    /// `bad_proof`, `wrong_destination`, ...
    pub kind: String,
    /// The error in words.
    pub message: String,
}

/// `POST /sidechain/pin` (privileged): a checkpoint of this chain that is final as an anchor on
/// the main chain; fork choice never again leaves a branch holding it (docs/sidechains.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// The anchored checkpoint's height.
    pub height: u64,
    /// Its id (64 hex).
    pub id: String,
}

/// What a pin did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PinOutcomeName {
    /// In force: fork choice ran at once and honours it from now on.
    Pinned,
    /// The pin in force already implies it (the same pin or one of its ancestors).
    Unchanged,
    /// Its header is not accepted here yet: it waits for it, and refuses nothing meanwhile.
    Pending,
}

/// `GET /sidechain/pin`: the anchor pin in force and its counters. Pins live in memory: a
/// restarted node has none until its relayer pins again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PinView {
    /// The pin in force; `null` without one.
    pub pinned: Option<HeaderRef>,
    /// Pins waiting for their header.
    pub pending: u64,
    /// Candidate heads fork choice refused because their branch lacks the pin (each once).
    pub refused_switches: u64,
    /// Pending pins dropped when their header arrived: they conflicted with the pin in force.
    pub pending_conflicts: u64,
}

/// `POST /sidechain/pin`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PinAnswer {
    /// What this pin did.
    pub outcome: PinOutcomeName,
    /// The pins afterwards.
    pub pins: PinView,
}
