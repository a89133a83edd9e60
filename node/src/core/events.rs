//! Events the core emits for metrics, logs and the simulator's checkers. They describe what
//! happened, never ask for anything: what must be kept and when it must be durable are outputs
//! of their own (`Output::Persist`, `Output::SyncBeforeFinal`), so an environment may drop every
//! event without changing behaviour.

use crate::core::consortium::{Consortium, SealedAction};
use crate::core::crypto::AccountId;
use crate::core::dag::Outcome;
use crate::core::hash::Hash;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A unit entered the DAG (`own` if this node issued it).
    UnitAccepted {
        id: Hash,
        own: bool,
    },
    /// A unit arrived before its parents; it waits in the orphan pool and `missing` were
    /// requested.
    UnitOrphaned {
        id: Hash,
        missing: Vec<Hash>,
    },
    /// An input was refused; `reason` is the typed error's display text, `kind` a short label.
    InputRejected {
        peer: Option<u64>,
        kind: &'static str,
        reason: String,
    },
    CheckpointAccepted {
        id: Hash,
        height: u64,
        author: AccountId,
    },
    /// This node forged a checkpoint.
    CheckpointWon {
        id: Hash,
        height: u64,
        deadline_ms: u64,
    },
    HeadChanged {
        id: Hash,
        height: u64,
        cumulative_weight: u128,
        timestamp_ms: u64,
    },
    Reorg {
        depth: u64,
        old_head: Hash,
        new_head: Hash,
    },
    /// A checkpoint left the active chain in a reorganisation.
    CheckpointDisconnected {
        id: Hash,
        height: u64,
        author: AccountId,
    },
    /// One of this node's own checkpoints left the active chain (the round was lost).
    CheckpointLost {
        id: Hash,
        height: u64,
    },
    ReorgRefused {
        depth: u64,
        limit: u64,
        candidate: Hash,
    },
    /// A transaction was confirmed by the checkpoint at `height` (applied or ignored).
    TxConfirmed {
        id: Hash,
        height: u64,
        outcome: Outcome,
    },
    /// The checkpoint at `height` is buried under k checkpoints: it and its cone are final.
    CheckpointFinal {
        id: Hash,
        height: u64,
        ledger_root: Hash,
        supply: u64,
    },
    TxFinal {
        id: Hash,
        height: u64,
        outcome: Outcome,
        from: AccountId,
        nonce: u64,
    },
    /// A final checkpoint was disconnected: a safety violation (only possible if a reorg deeper
    /// than k but within the reorg limit happens).
    FinalReverted {
        height: u64,
        id: Hash,
    },
    /// A checkpoint failed connection (bad ledger root) and its branch was marked invalid.
    CheckpointInvalid {
        id: Hash,
        height: u64,
        reason: String,
    },
    PeerDisconnected {
        peer: u64,
        score: i64,
    },
    /// Storage round `round` of `file_id` was settled by the checkpoint at `height`: proven
    /// shards' nodes were paid `paid` in total, `forfeited` was burned for `missed_shards`.
    StorageSettled {
        file_id: Hash,
        round: u64,
        height: u64,
        proven_shards: Vec<u8>,
        missed_shards: Vec<u8>,
        paid: u64,
        forfeited: u64,
        /// The contract's last round: it is closed.
        closed: bool,
    },
    /// A consortium write applied by the checkpoint at `height` (after its `TxConfirmed`, in
    /// White Flag order): what a member's replica applies (docs/consortium.md).
    ConsortiumWrite {
        height: u64,
        tx: Hash,
        action: Arc<SealedAction>,
    },
    /// A write to a table requiring approval, applied by the checkpoint at `height` as a
    /// pending entry (`entry_id`): members keep its action until the parties decide.
    ConsortiumEntryPending {
        height: u64,
        tx: Hash,
        entry: Hash,
        action: Arc<SealedAction>,
    },
    /// A pending entry decided at `height`: passed (members apply its action at this height,
    /// in this position of the order) or dropped.
    ConsortiumEntryDecided {
        height: u64,
        consortium: Hash,
        entry: Hash,
        passed: bool,
    },
    /// A consortium as it stands right after a transaction of the checkpoint at `height`
    /// created or changed it (members, keys, permissions, proposals).
    ConsortiumChanged {
        height: u64,
        consortium: Arc<Consortium>,
    },
    /// An attestation applied by the checkpoint at `height` concerns a certified height of
    /// `consortium`: its certified `root` at `attested_height`, and the member nodes whose vote
    /// there differs from it (docs/consortium.md, "States on chain").
    ConsortiumCertified {
        height: u64,
        consortium: Hash,
        attested_height: u64,
        root: Hash,
        diverged: Vec<AccountId>,
    },
}
