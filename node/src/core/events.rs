//! Events the core emits for metrics, logs and the simulator's checkers. They describe what
//! happened, never ask for anything: what must be kept and when it must be durable are outputs
//! of their own (`Output::Persist`, `Output::SyncBeforeFinal`), so an environment may drop every
//! event without changing behaviour.

use crate::core::consortium::{Consortium, SealedAction};
use crate::core::crypto::AccountId;
use crate::core::dag::Outcome;
use crate::core::hash::Hash;
use std::sync::Arc;

/// Something that happened in the core, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A unit entered the DAG (`own` if this node issued it).
    UnitAccepted {
        /// The unit's id.
        id: Hash,
        /// Issued by this node (through `submit`), not received from a peer.
        own: bool,
    },
    /// A unit arrived before its parents; it waits in the orphan pool and `missing` were
    /// requested.
    UnitOrphaned {
        /// The orphan's id.
        id: Hash,
        /// Its parents not yet known, now requested from peers.
        missing: Vec<Hash>,
    },
    /// An input was refused; `reason` is the typed error's display text, `kind` a short label.
    InputRejected {
        /// The peer that sent it; `None` for the node's own inputs (API submissions, its own
        /// checkpoints and proofs).
        peer: Option<u64>,
        /// A stable snake_case label for metrics (`"fee_too_low"`, `"own_checkpoint"`, ...).
        kind: &'static str,
        /// The error's display text, for logs.
        reason: String,
    },
    /// A checkpoint passed header validation and joined the header tree (on the active chain or a
    /// fork); connecting it may still fail (`CheckpointInvalid`).
    CheckpointAccepted {
        /// The checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// Its forger.
        author: AccountId,
    },
    /// This node forged a checkpoint.
    CheckpointWon {
        /// The new checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// The deadline of the winning proof, in ms after the predecessor's timestamp.
        deadline_ms: u64,
    },
    /// The active chain's head moved (extension or reorganisation).
    HeadChanged {
        /// The new head's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// Its cumulative weight (the fork-choice score).
        cumulative_weight: u128,
        /// Its timestamp, in ms.
        timestamp_ms: u64,
    },
    /// The head switched to a heavier branch, disconnecting `depth` checkpoints (emitted
    /// before the `HeadChanged` of the switch).
    Reorg {
        /// Checkpoints disconnected from the old active chain.
        depth: u64,
        /// The head before the switch.
        old_head: Hash,
        /// The head after it.
        new_head: Hash,
    },
    /// A checkpoint left the active chain in a reorganisation.
    CheckpointDisconnected {
        /// The checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// Its forger.
        author: AccountId,
    },
    /// One of this node's own checkpoints left the active chain (the round was lost).
    CheckpointLost {
        /// The lost checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
    },
    /// A heavier branch was not switched to: it forks deeper than the reorg limit, or below
    /// the prune horizon.
    ReorgRefused {
        /// Checkpoints the switch would have disconnected.
        depth: u64,
        /// The depth allowed: `Params::reorg_limit`, or the distance to the prune horizon.
        limit: u64,
        /// The refused branch's tip.
        candidate: Hash,
    },
    /// A transaction was confirmed by the checkpoint at `height` (applied or ignored).
    TxConfirmed {
        /// The transaction's unit id.
        id: Hash,
        /// Height of the confirming checkpoint.
        height: u64,
        /// Whether it applied to the ledger.
        outcome: Outcome,
    },
    /// The checkpoint at `height` is buried under k checkpoints: it and its cone are final.
    CheckpointFinal {
        /// The checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// The ledger root it carries (the state after it).
        ledger_root: Hash,
        /// Total tokens in existence right after it was applied.
        supply: u64,
    },
    /// A transaction confirmed by a checkpoint that just became final (after its
    /// `CheckpointFinal`).
    TxFinal {
        /// The transaction's unit id.
        id: Hash,
        /// Height of the final checkpoint that confirmed it.
        height: u64,
        /// Whether it applied to the ledger.
        outcome: Outcome,
        /// Its author.
        from: AccountId,
        /// Its nonce: with `from`, the spend it settled.
        nonce: u64,
    },
    /// A final checkpoint was disconnected: a safety violation (only possible if a reorg deeper
    /// than k but within the reorg limit happens).
    FinalReverted {
        /// Height of the reverted final checkpoint.
        height: u64,
        /// Its id.
        id: Hash,
    },
    /// A checkpoint failed connection (bad ledger root) and its branch was marked invalid.
    CheckpointInvalid {
        /// The checkpoint's id.
        id: Hash,
        /// Its height.
        height: u64,
        /// The connection error's display text.
        reason: String,
    },
    /// A peer's score fell below `Limits::peer_score_min`: it was dropped and banned.
    PeerDisconnected {
        /// The peer's id, as the driver numbers peers.
        peer: u64,
        /// Its score after the last penalty.
        score: i64,
    },
    /// Storage round `round` of `file_id` was settled by the checkpoint at `height`: proven
    /// shards' nodes were paid `paid` in total, `forfeited` was burned for `missed_shards`.
    StorageSettled {
        /// The contract's file.
        file_id: Hash,
        /// The settled round (a checkpoint height).
        round: u64,
        /// Height of the settling checkpoint (`round + D`).
        height: u64,
        /// Shard indices proven on time.
        proven_shards: Vec<u8>,
        /// Shard indices not proven.
        missed_shards: Vec<u8>,
        /// Tokens paid to the proven shards' nodes.
        paid: u64,
        /// Tokens burned for the missed shards.
        forfeited: u64,
        /// The contract's last round: it is closed.
        closed: bool,
    },
    /// A consortium write applied by the checkpoint at `height` (after its `TxConfirmed`, in
    /// White Flag order): what a member's replica applies (docs/consortium.md).
    ConsortiumWrite {
        /// Height of the applying checkpoint.
        height: u64,
        /// The write transaction's unit id.
        tx: Hash,
        /// The sealed (encrypted) action for members to open and apply.
        action: Arc<SealedAction>,
    },
    /// A write to a table requiring approval, applied by the checkpoint at `height` as a
    /// pending entry (`entry`): members keep its action until the parties decide.
    ConsortiumEntryPending {
        /// Height of the applying checkpoint.
        height: u64,
        /// The write transaction's unit id.
        tx: Hash,
        /// The pending entry's id (from the consortium, the writer and its nonce).
        entry: Hash,
        /// The sealed action, applied by members only if the entry passes.
        action: Arc<SealedAction>,
    },
    /// A pending entry decided at `height`: passed (members apply its action at this height,
    /// in this position of the order) or dropped.
    ConsortiumEntryDecided {
        /// Height of the deciding checkpoint.
        height: u64,
        /// The consortium's id.
        consortium: Hash,
        /// The decided entry's id.
        entry: Hash,
        /// Approved (apply the action) rather than denied (drop it).
        passed: bool,
    },
    /// A consortium as it stands right after a transaction of the checkpoint at `height`
    /// created or changed it (members, keys, permissions, proposals).
    ConsortiumChanged {
        /// Height of the applying checkpoint.
        height: u64,
        /// The consortium's whole state after the change.
        consortium: Arc<Consortium>,
    },
    /// An attestation applied by the checkpoint at `height` concerns a certified height of
    /// `consortium`: its certified `root` at `attested_height`, and the member nodes whose vote
    /// there differs from it (docs/consortium.md, "States on chain").
    ConsortiumCertified {
        /// Height of the checkpoint that applied the attestation.
        height: u64,
        /// The consortium's id.
        consortium: Hash,
        /// The chain height whose consortium state the members attested.
        attested_height: u64,
        /// The certified state root at that height.
        root: Hash,
        /// Members that voted another root there.
        diverged: Vec<AccountId>,
    },
}
