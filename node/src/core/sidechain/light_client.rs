//! A light client of another vein chain: a tree of its checkpoint headers, fed segments that
//! extend a header it knows, each checkpoint checked by `Checkpoint::validate_header` against
//! its predecessor (signature, generation signature, retargeted base target, cumulative weight,
//! proof of space, deadline) with no ledger state at all. The one thing it cannot check is the
//! ledger root a header carries: it believes a root once the header is final.
//!
//! Fork choice is the chain's own, on headers only: the greatest cumulative weight, the first
//! seen on a tie. The final header is the best branch's header `k` below the best one
//! (`k = finality_depth`), and it never moves back: a segment that forks below it is refused
//! whatever its weight. Depth alone is the rule here, not the chain's participation test
//! (`chain/finality.rs`): that test compares the burying weight rate with the chain's rate over
//! 256 checkpoints before, which needs every header of that window on every node following the
//! chain, and anchors deliver headers late and in bursts; an anchored header is already known to
//! every main-chain node in the same order, so depth `k` on the anchored best branch is a rule
//! each of them applies identically, and refusing reorganisations below it is what makes an
//! anchor a checkpoint the side chain's own fork choice can pin (docs/sidechains.md).
//!
//! "Now" for the from-the-future check is handed in by the caller (the ledger passes the block
//! time of the main checkpoint carrying the anchor), never read from a clock.
//!
//! Bounded memory: the tree holds the final header, its descendants and the `RETARGET_WINDOW`
//! final ancestors the retarget of a new header reads; side branches that fork below the final
//! header are dropped, as they can never be extended; the ids and ledger roots of the last
//! [`FINAL_HEADERS_KEPT`] final headers stay answerable by [`HeaderChain::final_header`].

use super::spec::FollowedChain;
use crate::core::chain::retarget_over;
use crate::core::checkpoint::ValidationContext;
use crate::core::checkpoint::{Checkpoint, CheckpointBody, CheckpointError, Predecessor};
use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use crate::core::poc::retarget::RETARGET_WINDOW;
use crate::core::wire;
use std::collections::{BTreeMap, BTreeSet};

/// Most checkpoints one segment may carry: bounds the work one anchor causes.
pub const SEGMENT_HEADERS_MAX: usize = 256;
/// Most headers the tree above the final header may hold (forks included).
pub const TREE_HEADERS_MAX: usize = 4_096;
/// Final headers whose ledger roots stay answerable (older ones are forgotten).
pub const FINAL_HEADERS_KEPT: usize = 4_096;

/// A followed chain's header as the light client keeps it (the consensus fields of its
/// checkpoint, and the base target its successor must carry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LightHeader {
    /// The checkpoint's id (the genesis id for height 0).
    pub id: Hash,
    /// Height (genesis is 0).
    pub height: u64,
    /// The predecessor's id (`Hash::ZERO` for genesis).
    pub prev: Hash,
    /// The round's generation signature.
    pub generation_signature: Hash,
    /// The forger (the default account for genesis).
    pub author: AccountId,
    /// The checkpoint's timestamp, in ms.
    pub timestamp_ms: u64,
    /// The base target the checkpoint carried.
    pub base_target: u64,
    /// Sum of the weights from genesis to here.
    pub cumulative_weight: u128,
    /// The ledger root the author signed: believed once the header is final (`Hash::ZERO`
    /// for genesis, whose root depends on allocations the spec does not carry).
    pub ledger_root: Hash,
    /// Base target the successor must carry, retargeted from the ancestry when inserted.
    pub next_base_target: u64,
}

impl LightHeader {
    fn from_body(id: Hash, body: &CheckpointBody) -> LightHeader {
        LightHeader {
            id,
            height: body.height,
            prev: body.prev,
            generation_signature: body.generation_signature,
            author: body.author,
            timestamp_ms: body.timestamp_ms,
            base_target: body.base_target,
            cumulative_weight: body.cumulative_weight,
            ledger_root: body.ledger_root,
            next_base_target: body.base_target,
        }
    }

    fn predecessor(&self) -> Predecessor {
        Predecessor {
            id: self.id,
            height: self.height,
            generation_signature: self.generation_signature,
            author: self.author,
            timestamp_ms: self.timestamp_ms,
            cumulative_weight: self.cumulative_weight,
            next_base_target: self.next_base_target,
        }
    }
}

/// Why a segment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LightClientError {
    /// A segment with no checkpoint.
    #[error("empty segment")]
    EmptySegment,
    /// More than [`SEGMENT_HEADERS_MAX`] checkpoints.
    #[error("segment of {count} checkpoints, at most {max}")]
    SegmentTooLong {
        /// Checkpoints in the segment.
        count: usize,
        /// [`SEGMENT_HEADERS_MAX`].
        max: usize,
    },
    /// The first checkpoint's predecessor is not a header the light client knows.
    #[error("segment extends unknown header {prev:?}")]
    UnknownPredecessor {
        /// The predecessor the first checkpoint names.
        prev: Hash,
    },
    /// The segment forks below the final header: refused whatever its weight.
    #[error("segment forks at height {fork_height}, below the final height {final_height}")]
    ReorgBelowFinal {
        /// Height of the header the segment extends.
        fork_height: u64,
        /// Height of the light client's final header.
        final_height: u64,
    },
    /// Every checkpoint of the segment is already known: a replay.
    #[error("replayed segment: header {id:?} at height {height} is already known")]
    Replayed {
        /// The segment's last checkpoint.
        id: Hash,
        /// Its height.
        height: u64,
    },
    /// A checkpoint fails validation against its predecessor: a forged or broken header
    /// (bad proof, signature, generation signature, base target, weight, deadline, time).
    #[error("forged header at height {height}: {source}")]
    Forged {
        /// The checkpoint's height.
        height: u64,
        /// What `validate_header` refused.
        source: CheckpointError,
    },
    /// The tree would hold more than [`TREE_HEADERS_MAX`] headers.
    #[error("header tree full ({held} held, at most {max})")]
    TreeFull {
        /// Headers held now.
        held: usize,
        /// [`TREE_HEADERS_MAX`].
        max: usize,
    },
}

/// A broken light-client invariant: a bug, never an input error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderChainInvariant {
    /// The best or final id has no header in the tree.
    #[error("best or final header {id:?} missing from the tree")]
    Missing {
        /// The missing id.
        id: Hash,
    },
    /// The final header is not an ancestor of the best one.
    #[error("final header {final_id:?} is not on the best branch")]
    FinalOffBestBranch {
        /// The final header's id.
        final_id: Hash,
    },
    /// A header outweighs the best one: fork choice missed it.
    #[error("header {id:?} is heavier than the best header")]
    HeavierThanBest {
        /// The heavier header.
        id: Hash,
    },
    /// A non-final header whose predecessor left the tree (it could never be extended).
    #[error("header {id:?} lost its predecessor")]
    Orphan {
        /// The orphaned header.
        id: Hash,
    },
}

/// What a checked segment adds: its new headers, parents before children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The headers to insert (known ones skipped), each with its retargeted successor target.
    pub headers: Vec<LightHeader>,
}

/// The header tree of one followed chain (see the module comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderChain {
    spec: FollowedChain,
    headers: BTreeMap<Hash, LightHeader>,
    best: Hash,
    final_id: Hash,
    /// The last final headers of the best branch: id -> (height, ledger root).
    finalised: BTreeMap<Hash, (u64, Hash)>,
    /// The same, by height, to forget the oldest first.
    finalised_by_height: BTreeMap<u64, Hash>,
}

impl HeaderChain {
    /// A light client knowing only the followed chain's genesis header (final from the start).
    /// The caller validated `spec`.
    pub fn new(spec: FollowedChain) -> HeaderChain {
        let genesis = LightHeader {
            id: spec.genesis_id,
            height: 0,
            prev: Hash::ZERO,
            generation_signature: spec.genesis_generation_signature(),
            author: spec.genesis_author(),
            timestamp_ms: spec.genesis_timestamp_ms,
            base_target: spec.initial_base_target,
            cumulative_weight: 0,
            ledger_root: Hash::ZERO,
            next_base_target: spec.initial_base_target,
        };
        let id = genesis.id;
        HeaderChain {
            spec,
            headers: BTreeMap::from([(id, genesis)]),
            best: id,
            final_id: id,
            finalised: BTreeMap::new(),
            finalised_by_height: BTreeMap::new(),
        }
    }

    /// The followed chain's spec.
    pub fn spec(&self) -> &FollowedChain {
        &self.spec
    }

    /// The heaviest header seen (first seen on a tie).
    pub fn best(&self) -> &LightHeader {
        self.header(&self.best)
    }

    /// The final header: `k` below the best on its branch, never moving back.
    pub fn final_tip(&self) -> &LightHeader {
        self.header(&self.final_id)
    }

    fn header(&self, id: &Hash) -> &LightHeader {
        // The best and final ids always name held headers (check_invariants).
        self.headers.get(id).unwrap_or_else(|| unreachable!("held header {id:?}"))
    }

    /// Headers held in the tree (final ancestors for the retarget included).
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Never true: the tree always holds at least its final header.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// The held header `id` (the tree: final, its descendants and retarget ancestors).
    pub fn get(&self, id: &Hash) -> Option<&LightHeader> {
        self.headers.get(id)
    }

    /// Whether `id` is known: in the tree, or a remembered final header.
    pub fn knows(&self, id: &Hash) -> bool {
        self.headers.contains_key(id) || self.finalised.contains_key(id)
    }

    /// `(height, ledger_root)` of `id` if it is a final header still remembered; `None` for
    /// a header above final, an unknown one, one forgotten, and genesis (no root known).
    pub fn final_header(&self, id: &Hash) -> Option<(u64, Hash)> {
        self.finalised.get(id).copied()
    }

    /// Whether `id` is a remembered final header.
    pub fn is_final(&self, id: &Hash) -> bool {
        self.finalised.contains_key(id)
    }

    /// Check `segment` as an extension of a known header, at time `now_ms` (the caller's
    /// deterministic "now"). Returns the headers it would add; nothing changes.
    pub fn check_segment(
        &self,
        segment: &[Checkpoint],
        now_ms: u64,
    ) -> Result<Segment, LightClientError> {
        let (Some(first), Some(last)) = (segment.first(), segment.last()) else {
            return Err(LightClientError::EmptySegment);
        };
        if segment.len() > SEGMENT_HEADERS_MAX {
            return Err(LightClientError::SegmentTooLong {
                count: segment.len(),
                max: SEGMENT_HEADERS_MAX,
            });
        }
        let last_id = checkpoint_id(last)?;
        if self.knows(&last_id) {
            return Err(LightClientError::Replayed { id: last_id, height: last.body.height });
        }
        let final_height = self.final_tip().height;
        let Some(start) = self.headers.get(&first.body.prev) else {
            return Err(match self.finalised.get(&first.body.prev) {
                Some((fork_height, _)) => {
                    LightClientError::ReorgBelowFinal { fork_height: *fork_height, final_height }
                }
                None => LightClientError::UnknownPredecessor { prev: first.body.prev },
            });
        };
        if start.height < final_height {
            return Err(LightClientError::ReorgBelowFinal {
                fork_height: start.height,
                final_height,
            });
        }
        let params = self.spec.retarget_params();
        let parents_max = usize::try_from(self.spec.parents_max).unwrap_or(usize::MAX);
        let context = ValidationContext {
            now_ms,
            future_drift_ms: self.spec.future_drift_ms,
            challenge_refresh: self.spec.challenge_refresh,
            parents_max,
            poc: &self.spec.poc,
            signature_checked: false,
        };
        let mut added: BTreeMap<Hash, LightHeader> = BTreeMap::new();
        let mut order = Vec::with_capacity(segment.len());
        let mut previous = start.predecessor();
        for checkpoint in segment {
            let id = checkpoint_id(checkpoint)?;
            // A known prefix (overlap with an earlier anchor) is skipped; it is valid already.
            if order.is_empty()
                && checkpoint.body.prev == previous.id
                && let Some(known) = self.headers.get(&id)
            {
                previous = known.predecessor();
                continue;
            }
            let height = checkpoint.body.height;
            checkpoint
                .validate_header(&previous, &context)
                .map_err(|source| LightClientError::Forged { height, source })?;
            let mut header = LightHeader::from_body(id, &checkpoint.body);
            let ancestor = |id: &Hash| {
                added
                    .get(id)
                    .or_else(|| self.headers.get(id))
                    .map(|a| (a.timestamp_ms, a.base_target, a.prev))
            };
            header.next_base_target = retarget_over(
                header.height,
                (header.timestamp_ms, header.base_target),
                header.prev,
                ancestor,
                &params,
            );
            previous = header.predecessor();
            order.push(id);
            added.insert(id, header);
        }
        if self.headers.len() + added.len() > TREE_HEADERS_MAX {
            return Err(LightClientError::TreeFull {
                held: self.headers.len(),
                max: TREE_HEADERS_MAX,
            });
        }
        let headers = order.iter().filter_map(|id| added.remove(id)).collect();
        Ok(Segment { headers })
    }

    /// Insert a checked segment: fork choice, the final header, pruning.
    pub fn insert(&mut self, segment: Segment) {
        for header in segment.headers {
            debug_assert!(self.headers.contains_key(&header.prev));
            if header.cumulative_weight > self.best().cumulative_weight {
                self.best = header.id;
            }
            self.headers.insert(header.id, header);
        }
        self.advance_final();
        self.prune();
    }

    /// Check then insert `segment` at time `now_ms`.
    pub fn extend(&mut self, segment: &[Checkpoint], now_ms: u64) -> Result<(), LightClientError> {
        let checked = self.check_segment(segment, now_ms)?;
        self.insert(checked);
        Ok(())
    }

    /// Move the final header up to `k` below the best, remembering every header it passes.
    fn advance_final(&mut self) {
        let best = self.best();
        let Some(target) = best.height.checked_sub(self.spec.finality_depth) else { return };
        let final_height = self.final_tip().height;
        if target <= final_height {
            return;
        }
        let mut newly_final = Vec::new();
        let mut cursor = best;
        while cursor.height > final_height {
            if cursor.height <= target {
                newly_final.push((cursor.id, cursor.height, cursor.ledger_root));
            }
            let Some(prev) = self.headers.get(&cursor.prev) else { break };
            cursor = prev;
        }
        debug_assert_eq!(cursor.id, self.final_id, "the best branch descends from final");
        let Some(&(new_final, ..)) = newly_final.first() else { return };
        self.final_id = new_final;
        for (id, height, root) in newly_final {
            self.finalised.insert(id, (height, root));
            self.finalised_by_height.insert(height, id);
        }
        while self.finalised.len() > FINAL_HEADERS_KEPT {
            let Some((_, oldest)) = self.finalised_by_height.pop_first() else { break };
            self.finalised.remove(&oldest);
        }
    }

    /// Keep the final header, its descendants and `RETARGET_WINDOW` final ancestors; a side
    /// branch off a header below final can never be extended, so it goes.
    fn prune(&mut self) {
        let mut keep: BTreeSet<Hash> = BTreeSet::new();
        let mut cursor = self.final_id;
        for _ in 0..=RETARGET_WINDOW {
            let Some(header) = self.headers.get(&cursor) else { break };
            keep.insert(cursor);
            cursor = header.prev;
        }
        let final_height = self.final_tip().height;
        let mut above: Vec<(u64, Hash, Hash)> = self
            .headers
            .values()
            .filter(|header| header.height > final_height)
            .map(|header| (header.height, header.id, header.prev))
            .collect();
        above.sort_unstable();
        let mut descendants = BTreeSet::from([self.final_id]);
        for (_, id, prev) in above {
            if descendants.contains(&prev) {
                descendants.insert(id);
            }
        }
        keep.extend(descendants);
        self.headers.retain(|id, _| keep.contains(id));
    }

    /// Feed the header chain into a ledger root: the spec, the best and final ids, every held
    /// header id (a header is a function of its id and its ancestry) and the final roots.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        // Encoding plain integers, hashes and a map cannot fail; a marker keeps the root a
        // function of the state if it ever did.
        let spec = wire::encode_body(&self.spec, "followed chain").unwrap_or_default();
        debug_assert!(!spec.is_empty());
        hasher.update(&(spec.len() as u64).to_le_bytes());
        hasher.update(&spec);
        hasher.update(self.best.as_bytes());
        hasher.update(self.final_id.as_bytes());
        hasher.update(&(self.headers.len() as u64).to_le_bytes());
        for id in self.headers.keys() {
            hasher.update(id.as_bytes());
        }
        hasher.update(&(self.finalised_by_height.len() as u64).to_le_bytes());
        for (height, id) in &self.finalised_by_height {
            let root = self.finalised.get(id).map_or(Hash::ZERO, |(_, root)| *root);
            hasher.update(&height.to_le_bytes());
            hasher.update(id.as_bytes());
            hasher.update(root.as_bytes());
        }
    }

    /// The best and final headers are held, final is on the best branch, nothing outweighs
    /// the best, and every header above the final one still has its predecessor.
    pub fn check_invariants(&self) -> Result<(), HeaderChainInvariant> {
        for id in [self.best, self.final_id] {
            if !self.headers.contains_key(&id) {
                return Err(HeaderChainInvariant::Missing { id });
            }
        }
        let best = self.best();
        let final_tip = self.final_tip();
        let mut cursor = best;
        while cursor.height > final_tip.height {
            let Some(prev) = self.headers.get(&cursor.prev) else { break };
            cursor = prev;
        }
        if cursor.id != self.final_id {
            return Err(HeaderChainInvariant::FinalOffBestBranch { final_id: self.final_id });
        }
        for header in self.headers.values() {
            if header.cumulative_weight > best.cumulative_weight {
                return Err(HeaderChainInvariant::HeavierThanBest { id: header.id });
            }
            if header.height > final_tip.height && !self.headers.contains_key(&header.prev) {
                return Err(HeaderChainInvariant::Orphan { id: header.id });
            }
        }
        Ok(())
    }
}

fn checkpoint_id(checkpoint: &Checkpoint) -> Result<Hash, LightClientError> {
    checkpoint.id().map_err(|error| LightClientError::Forged {
        height: checkpoint.body.height,
        source: CheckpointError::Wire(error),
    })
}

#[cfg(test)]
#[path = "light_client_tests.rs"]
mod tests;
