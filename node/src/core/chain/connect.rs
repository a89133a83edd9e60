//! Connecting a checkpoint: White Flag over the unconfirmed past cone of its parents (post-order
//! DFS; each transaction valid against the ledger is applied, the rest ignored forever on that
//! branch), then settlement of storage round `height − D`, then the reward, all through one undo
//! log. The resulting ledger root must equal the one the author signed. Disconnecting reverts a
//! checkpoint from its undo log. The same steps preview the root a new checkpoint must carry.

use super::header::Header;
use super::{CHECKPOINT_CONE_UNITS_MAX, Chain, Link};
use crate::core::consortium::applied_event;
use crate::core::contracts::{Settlement, StorageContext, StorageMode};
use crate::core::crypto::AccountId;
use crate::core::dag::{Confirmation, Dag, DagError, Outcome};
use crate::core::events::Event;
use crate::core::evm::EvmBlock;
use crate::core::hash::Hash;
use crate::core::ledger::{LedgerError, Undo};
use crate::core::poc::challenge::successor_challenge;
use std::collections::BTreeMap;

/// What connecting one checkpoint did: each ordered unit's outcome, and the storage rounds it
/// settled.
/// Each ordered unit's outcome, the storage settlements, and the consortium events of the
/// applied units (by unit, in order).
type Applied = (Vec<(Hash, Outcome)>, Vec<Settlement>, Vec<(Hash, Event)>);

/// Why a checkpoint could not be connected, or a ledger root not previewed. Its text is what
/// `Event::CheckpointInvalid` and a refused own checkpoint report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The unconfirmed cone of the parents could not be ordered (a unit missing, or more than
    /// `CHECKPOINT_CONE_UNITS_MAX` units).
    #[error("{source}")]
    Cone {
        /// The DAG's error.
        source: DagError,
    },
    /// A unit of the ordered cone was not in the DAG when it was to be applied.
    #[error("unit {unit:?} vanished")]
    UnitVanished {
        /// The missing unit.
        unit: Hash,
    },
    /// Settling the round's storage contracts failed.
    #[error("{source}")]
    Settle {
        /// The ledger's error.
        source: LedgerError,
    },
    /// Minting the checkpoint reward would overflow the supply (`u64`).
    #[error("reward overflows the supply")]
    RewardOverflow,
    /// The ledger after applying the cone differs from the root the author signed.
    #[error("ledger root mismatch at height {height} (ordered {ordered_units} units)")]
    LedgerRootMismatch {
        /// The checkpoint's height.
        height: u64,
        /// Units in the cone it ordered, for the log.
        ordered_units: usize,
    },
    /// A root preview on a predecessor this node has no header for.
    #[error("unknown predecessor")]
    UnknownPredecessor {
        /// The requested predecessor.
        prev: Hash,
    },
    /// A root preview on a predecessor whose branch cannot be reached (invalid or pruned).
    #[error("predecessor on an invalid branch")]
    PredecessorInvalid {
        /// The requested predecessor.
        prev: Hash,
    },
    /// A root preview on a predecessor whose fork point is deeper than the reorg limit.
    #[error("predecessor {depth} deep, beyond the reorg limit")]
    BeyondReorgLimit {
        /// Checkpoints the switch would disconnect.
        depth: u64,
    },
}

impl Chain {
    /// The storage context of a checkpoint at `height` (on top of the head) whose generation
    /// signature is `generation_signature`.
    fn storage_context(&self, height: u64, generation_signature: Hash) -> StorageContext {
        let params = self.params.storage;
        let oldest = height.saturating_sub(params.proof_deadline_rounds);
        let mut generation_signatures: BTreeMap<u64, Hash> = (oldest..height)
            .filter_map(|round| Some((round, self.generation_signature_at(round)?)))
            .collect();
        generation_signatures.insert(height, generation_signature);
        // Called for a successor of the head: the head's timestamp is the predecessor's.
        let evm = EvmBlock {
            height,
            timestamp_ms: self.head().timestamp_ms,
            generation_signature,
            parent_id: self.head().id,
            chain_id: self.evm_chain_id(),
        };
        StorageContext {
            height,
            params,
            nodes: self.storage_nodes.clone(),
            generation_signatures,
            evm,
        }
    }

    /// White Flag over `order` plus settlement and reward, for a checkpoint at `context.height`
    /// by `author`. On error everything is reverted.
    /// `height`: the checkpoint's, to collect the consortium events of what applies; `None` for
    /// a preview, which emits nothing.
    fn apply_checkpoint(
        &mut self,
        order: &[Hash],
        author: &AccountId,
        context: &StorageContext,
        dag: &Dag,
        undo: &mut Undo,
        height: Option<u64>,
    ) -> Result<Applied, ConnectError> {
        let mut confirmed = Vec::with_capacity(order.len());
        let mut consortium_events = Vec::new();
        self.ledger.evm_begin(&context.evm, author, self.params.fee_policy, undo);
        for unit_id in order {
            let Some(unit) = dag.get(unit_id) else {
                return Err(ConnectError::UnitVanished { unit: *unit_id });
            };
            let mode = StorageMode::Full(context);
            let outcome =
                match self.ledger.apply_in(&unit.tx, author, self.params.fee_policy, mode, undo) {
                    Ok(()) => Outcome::Applied,
                    Err(_) => Outcome::Ignored,
                };
            // Read right after the transaction, so the event holds exactly what it did (a
            // later transaction of the same checkpoint may change the same consortium).
            if let (Outcome::Applied, Some(height)) = (outcome, height)
                && let Some(event) =
                    applied_event(&unit.tx, *unit_id, height, self.ledger.consortia())
            {
                consortium_events.push((*unit_id, event));
            }
            confirmed.push((*unit_id, outcome));
        }
        let settlements =
            self.ledger.settle(context, undo).map_err(|source| ConnectError::Settle { source })?;
        self.ledger
            .mint(author, self.params.checkpoint_reward, undo)
            .map_err(|_| ConnectError::RewardOverflow)?;
        Ok((confirmed, settlements, consortium_events))
    }

    pub(super) fn disconnect_to(&mut self, fork_height: u64, dag: &mut Dag) {
        while self.height() > fork_height {
            let Some(link) = self.active.pop_back() else { break };
            let height = self.active_base + self.active.len() as u64;
            if height <= self.final_height {
                self.events.push(Event::FinalReverted { height, id: link.id });
                self.final_height = height - 1;
            }
            if let Some(header) = self.headers.get(&link.id) {
                self.events.push(Event::CheckpointDisconnected {
                    id: link.id,
                    height,
                    author: header.author,
                });
            }
            if let Some(undo) = link.undo {
                self.ledger.revert(undo);
            }
            for (unit, _) in &link.confirmed {
                dag.set_confirmation(unit, None);
            }
        }
        #[cfg(debug_assertions)]
        if let Err(violation) = self.ledger.check_invariants() {
            panic!(
                "ledger invariant broken after disconnecting to height {fork_height}: {violation}"
            );
        }
    }

    /// Apply one checkpoint on top of the current head.
    pub(super) fn connect(&mut self, header: &Header, dag: &mut Dag) -> Result<(), ConnectError> {
        self.connect_unpruned(header, dag)?;
        self.prune_undo();
        Ok(())
    }

    /// [`Chain::connect`] without dropping old undo logs (a temporary switch must leave the
    /// active chain's undo logs exactly as they were).
    fn connect_unpruned(&mut self, header: &Header, dag: &mut Dag) -> Result<(), ConnectError> {
        debug_assert_eq!(header.prev, self.head().id);
        let order = dag
            .unconfirmed_cone(header.parents(), CHECKPOINT_CONE_UNITS_MAX)
            .map_err(|source| ConnectError::Cone { source })?;
        let mut undo = Undo::default();
        let context = self.storage_context(header.height, header.generation_signature);
        let height = Some(header.height);
        let (confirmed, settlements, consortium_events) =
            match self.apply_checkpoint(&order, &header.author, &context, dag, &mut undo, height) {
                Ok(applied) => applied,
                Err(reason) => {
                    self.ledger.revert(undo);
                    return Err(reason);
                }
            };
        if self.ledger.root() != header.ledger_root {
            self.ledger.revert(undo);
            return Err(ConnectError::LedgerRootMismatch {
                height: header.height,
                ordered_units: order.len(),
            });
        }
        let mut consortium_events = consortium_events.into_iter().peekable();
        for (unit, outcome) in &confirmed {
            dag.set_confirmation(
                unit,
                Some(Confirmation { height: header.height, outcome: *outcome }),
            );
            self.events.push(Event::TxConfirmed {
                id: *unit,
                height: header.height,
                outcome: *outcome,
            });
            while let Some((_, event)) = consortium_events.next_if(|(of, _)| of == unit) {
                self.events.push(event);
            }
        }
        for settlement in settlements {
            self.events.push(Event::StorageSettled {
                file_id: settlement.file_id,
                round: settlement.round,
                height: header.height,
                proven_shards: settlement.proven_shards,
                missed_shards: settlement.missed_shards,
                paid: settlement.payouts.values().sum(),
                forfeited: settlement.forfeited,
                closed: settlement.closed,
            });
        }
        #[cfg(debug_assertions)]
        if let Err(violation) = self.ledger.check_invariants() {
            panic!(
                "ledger invariant broken after connecting height {}: {violation}",
                header.height
            );
        }
        let supply = self.ledger.supply();
        self.active.push_back(Link {
            id: header.id,
            undo: Some(undo),
            confirmed,
            supply,
            timestamp_ms: header.timestamp_ms,
            cumulative_weight: header.cumulative_weight,
        });
        Ok(())
    }

    /// [`Chain::preview_root`] for a successor of `prev`, any known header, not only the head:
    /// what a miner extending every fork (PROTOCOL.md §7 #4) must sign. Switches to `prev`'s
    /// branch for the preview and back; events, finality and undo logs are left as they were.
    /// Refused when the switch would go deeper than the reorg limit (undo logs are gone there).
    pub fn preview_root_after(
        &mut self,
        prev: &Hash,
        parents: &[Hash],
        author: &AccountId,
        dag: &mut Dag,
    ) -> Result<Hash, ConnectError> {
        if *prev == self.head().id {
            return self.preview_root(parents, author, dag);
        }
        let prev_height =
            self.headers.get(prev).ok_or(ConnectError::UnknownPredecessor { prev: *prev })?.height;
        let branch =
            self.branch_to(prev).ok_or(ConnectError::PredecessorInvalid { prev: *prev })?;
        let fork_height = branch.first().map_or(prev_height, |header| header.height - 1);
        let depth = self.height() - fork_height;
        if depth > self.params.reorg_limit {
            return Err(ConnectError::BeyondReorgLimit { depth });
        }
        let old_branch: Vec<Header> = ((fork_height + 1)..=self.height())
            .filter_map(|height| self.active_at(height))
            .filter_map(|id| self.headers.get(&id).cloned())
            .collect();
        let events = self.events.len();
        let final_height = self.final_height;
        self.disconnect_to(fork_height, dag);
        let mut connected = Ok(());
        for header in &branch {
            connected = self.connect_unpruned(header, dag);
            if connected.is_err() {
                break;
            }
        }
        let root = connected.and_then(|()| self.preview_root(parents, author, dag));
        self.disconnect_to(fork_height, dag);
        for old in &old_branch {
            // The old branch connected before, so it connects again identically.
            let reconnected = self.connect_unpruned(old, dag);
            debug_assert!(reconnected.is_ok());
        }
        self.events.truncate(events);
        self.final_height = final_height;
        root
    }

    /// The ledger root after applying the unconfirmed cone of `parents` and a reward for
    /// `author` on top of the head: what a new checkpoint must carry. The ledger is unchanged.
    pub fn preview_root(
        &mut self,
        parents: &[Hash],
        author: &AccountId,
        dag: &Dag,
    ) -> Result<Hash, ConnectError> {
        let order = dag
            .unconfirmed_cone(parents, CHECKPOINT_CONE_UNITS_MAX)
            .map_err(|source| ConnectError::Cone { source })?;
        let head = self.head();
        let challenge = successor_challenge(
            head.height,
            &head.generation_signature,
            &head.author,
            head.next_base_target,
            self.params.challenge_refresh,
        );
        let context = self.storage_context(challenge.height, challenge.generation_signature);
        let mut undo = Undo::default();
        let applied = self.apply_checkpoint(&order, author, &context, dag, &mut undo, None);
        let root = self.ledger.root();
        self.ledger.revert(undo);
        applied?;
        Ok(root)
    }
}
