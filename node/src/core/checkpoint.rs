//! Checkpoints: signed, PoC-backed units that confirm their past cone and order it.
//!
//! A checkpoint names its predecessor, the round's generation signature, the author's proof of
//! space, 1..8 DAG tips, the retargeted base target, the cumulative weight and the ledger root
//! after applying its cone. This module holds the unit itself and its stateless validation
//! against its predecessor (everything except the ledger root, which needs the ledger and is
//! checked when the checkpoint is connected; see `chain`).

use crate::core::crypto::{self, AccountId, CryptoError, Keypair, Signature};
use crate::core::hash::Hash;
use crate::core::poc::challenge::{successor_challenge, weight};
use crate::core::poc::{Challenge, PocError, PocMode, PocProof, verify_proof};
use crate::core::wire::{self, WireError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

const SIGNING_DOMAIN: &[u8] = b"vein/checkpoint/v0";

/// The signed content of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBody {
    /// The predecessor's height plus one (genesis is 0).
    pub height: u64,
    /// Id of the predecessor checkpoint.
    pub prev: Hash,
    /// The round's `g`, derived from the predecessor by `successor_challenge` (it picks the
    /// scoop every plot answers with).
    pub generation_signature: Hash,
    /// The author's proof of space for this round's challenge.
    pub proof: PocProof,
    /// DAG units this checkpoint confirms (with their past cones).
    pub parents: Vec<Hash>,
    /// Difficulty of this round, retargeted from the ancestry; a proof's deadline is
    /// `hit / base_target` seconds.
    pub base_target: u64,
    /// The predecessor's cumulative weight plus this checkpoint's `2^64 / base_target`: the
    /// fork-choice score.
    pub cumulative_weight: u128,
    /// Root of the ledger after applying the confirmed cone in White Flag order; checked
    /// when the checkpoint is connected.
    pub ledger_root: Hash,
    /// Author's time of issue, in ms: at least the predecessor's plus the proof's deadline.
    pub timestamp_ms: u64,
    /// The forger: signs the checkpoint, owns the plot and receives the reward and fee shares.
    pub author: AccountId,
}

/// A checkpoint body with its author's signature, as gossiped and stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed content.
    pub body: CheckpointBody,
    /// The author's signature over the domain-separated encoded body.
    pub signature: Signature,
}

/// The facts about a predecessor that validation of its successor needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predecessor {
    /// The predecessor's id, which the successor must name as `prev`.
    pub id: Hash,
    /// Its height; the successor's is one more.
    pub height: u64,
    /// Its generation signature, from which the successor's is derived.
    pub generation_signature: Hash,
    /// Its author (the successor's generation signature hashes it in).
    pub author: AccountId,
    /// Its timestamp in ms; the successor's deadline counts from here.
    pub timestamp_ms: u64,
    /// Its cumulative weight; the successor adds its own weight to it.
    pub cumulative_weight: u128,
    /// The base target the successor must carry (retargeted from the predecessor's ancestry).
    pub next_base_target: u64,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signature does not verify for `author`.
    #[error("bad checkpoint signature: {0}")]
    Signature(#[from] CryptoError),
    /// The height is not the predecessor's plus one, or `prev` is not the predecessor's id.
    #[error("height {found} does not follow predecessor height {expected_minus_one}")]
    WrongHeight {
        /// The checkpoint's height.
        found: u64,
        /// The predecessor's height.
        expected_minus_one: u64,
    },
    /// `generation_signature` is not the one `successor_challenge` derives.
    #[error("wrong generation signature at height {height}")]
    WrongGenerationSignature {
        /// The checkpoint's height.
        height: u64,
    },
    /// `base_target` is not the retargeted one.
    #[error("wrong base target {found}, expected {expected}")]
    WrongBaseTarget {
        /// The checkpoint's base target.
        found: u64,
        /// The one retargeting gives.
        expected: u64,
    },
    /// `cumulative_weight` is not the predecessor's plus this checkpoint's weight.
    #[error("wrong cumulative weight {found}, expected {expected}")]
    WrongCumulativeWeight {
        /// The checkpoint's cumulative weight.
        found: u128,
        /// The predecessor's plus `2^64 / base_target`.
        expected: u128,
    },
    /// The proof's plot was made for another account than the author's.
    #[error("proof uses a plot of {plot_account:?}, but the author is {author:?}")]
    PlotOfAnotherAccount {
        /// The account the plot was generated for.
        plot_account: AccountId,
        /// The checkpoint's author.
        author: AccountId,
    },
    /// The proof's scoop is not what regenerating its nonce gives: no plot backs it.
    #[error("forged proof: scoop {scoop} of nonce {nonce_index} does not match its regeneration")]
    ForgedProof {
        /// The nonce the proof claims.
        nonce_index: u64,
        /// The scoop index the challenge selected.
        scoop: u32,
    },
    /// Any other proof fault: a model proof on a real network (or the reverse), an author
    /// without a modelled capacity or claiming another one, a bad plot; holds the `PocError`
    /// text.
    #[error("proof of the wrong kind for this network or capacity: {0}")]
    ProofMode(String),
    /// The timestamp is earlier than the predecessor's plus the proof's deadline.
    #[error(
        "deadline not elapsed: timestamp {timestamp_ms} is before predecessor {prev_ms} + deadline {deadline_ms}"
    )]
    DeadlineNotElapsed {
        /// The checkpoint's timestamp, in ms.
        timestamp_ms: u64,
        /// The predecessor's timestamp, in ms.
        prev_ms: u64,
        /// The proof's deadline, in ms.
        deadline_ms: u64,
    },
    /// The timestamp is more than `future_drift_ms` ahead of the validator's clock.
    #[error("timestamp {timestamp_ms} is more than the allowed drift ahead of now {now_ms}")]
    FromTheFuture {
        /// The checkpoint's timestamp, in ms.
        timestamp_ms: u64,
        /// The validator's clock, in ms.
        now_ms: u64,
    },
    /// No parents, more than the limit, or a parent named twice.
    #[error("a checkpoint needs 1 to {max} distinct parents, found {count}")]
    BadParents {
        /// Parents named.
        count: usize,
        /// `Params::checkpoint_parents_max`.
        max: usize,
    },
    /// The checkpoint extends one that failed its ledger-root check when connected (so it
    /// and all its descendants are invalid).
    #[error("ledger root mismatch at height {height}")]
    LedgerRootMismatch {
        /// Height of the invalid ancestor: the predecessor's.
        height: u64,
    },
    /// The checkpoint could not be encoded (for its signing bytes or id).
    #[error(transparent)]
    Wire(#[from] WireError),
}

impl From<PocError> for CheckpointError {
    fn from(error: PocError) -> CheckpointError {
        match error {
            PocError::PlotOfAnotherAccount { plot_account, author } => {
                CheckpointError::PlotOfAnotherAccount { plot_account, author }
            }
            PocError::ForgedProof { nonce_index, scoop } => {
                CheckpointError::ForgedProof { nonce_index, scoop }
            }
            other => CheckpointError::ProofMode(other.to_string()),
        }
    }
}

impl CheckpointBody {
    fn signing_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut bytes = SIGNING_DOMAIN.to_vec();
        bytes.extend_from_slice(&wire::encode_body(self, "checkpoint body")?);
        Ok(bytes)
    }

    /// Sign with `key`, which must be `author`'s (debug-asserted).
    pub fn sign(self, key: &Keypair) -> Result<Checkpoint, WireError> {
        debug_assert_eq!(key.account(), self.author);
        let signature = key.sign(&self.signing_bytes()?);
        Ok(Checkpoint { body: self, signature })
    }

    /// The challenge this checkpoint's proof answers (height, `g`, base target).
    pub fn challenge(&self) -> Challenge {
        Challenge {
            height: self.height,
            generation_signature: self.generation_signature,
            base_target: self.base_target,
        }
    }
}

/// How validation treats the clock.
#[derive(Clone, Copy, Debug)]
pub struct ValidationContext<'a> {
    /// The validator's clock, in ms.
    pub now_ms: u64,
    /// How far ahead of `now_ms` a timestamp may be (`Params::future_drift_ms`).
    pub future_drift_ms: u64,
    /// `Params::challenge_refresh`: how often the generation signature changes.
    pub challenge_refresh: u64,
    /// `Params::checkpoint_parents_max`.
    pub parents_max: usize,
    /// How proofs are checked: real plots or modelled capacities.
    pub poc: &'a PocMode,
    /// These exact bytes (the id covers the signature) passed the signature check before, on
    /// this or another node of the same simulation: skip that one check.
    pub signature_checked: bool,
}

impl Checkpoint {
    /// Canonical bytes: the body of the wire message and the preimage of the id.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        wire::encode_body(self, "checkpoint")
    }

    /// Only the canonical bytes decode (see [`wire::decode_canonical`]).
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, WireError> {
        wire::decode_canonical(bytes, "checkpoint")
    }

    /// The hash of the canonical bytes, signature included.
    pub fn id(&self) -> Result<Hash, WireError> {
        Ok(Hash::of(&self.encode()?))
    }

    /// Everything that can be checked from the predecessor alone. Returns the proof's deadline.
    pub fn validate_header(
        &self,
        prev: &Predecessor,
        context: &ValidationContext<'_>,
    ) -> Result<u64, CheckpointError> {
        let body = &self.body;
        if body.height != prev.height + 1 || body.prev != prev.id {
            return Err(CheckpointError::WrongHeight {
                found: body.height,
                expected_minus_one: prev.height,
            });
        }
        let distinct: BTreeSet<&Hash> = body.parents.iter().collect();
        if body.parents.is_empty()
            || body.parents.len() > context.parents_max
            || distinct.len() != body.parents.len()
        {
            return Err(CheckpointError::BadParents {
                count: body.parents.len(),
                max: context.parents_max,
            });
        }
        let expected = successor_challenge(
            prev.height,
            &prev.generation_signature,
            &prev.author,
            prev.next_base_target,
            context.challenge_refresh,
        );
        if body.generation_signature != expected.generation_signature {
            return Err(CheckpointError::WrongGenerationSignature { height: body.height });
        }
        if body.base_target != expected.base_target {
            return Err(CheckpointError::WrongBaseTarget {
                found: body.base_target,
                expected: expected.base_target,
            });
        }
        let expected_weight = prev.cumulative_weight + weight(body.base_target);
        if body.cumulative_weight != expected_weight {
            return Err(CheckpointError::WrongCumulativeWeight {
                found: body.cumulative_weight,
                expected: expected_weight,
            });
        }
        if body.timestamp_ms > context.now_ms.saturating_add(context.future_drift_ms) {
            return Err(CheckpointError::FromTheFuture {
                timestamp_ms: body.timestamp_ms,
                now_ms: context.now_ms,
            });
        }
        if !context.signature_checked {
            crypto::verify(&body.author, &body.signing_bytes()?, &self.signature)?;
        }
        let deadline_ms = verify_proof(context.poc, &body.author, &body.challenge(), &body.proof)?;
        if body.timestamp_ms < prev.timestamp_ms.saturating_add(deadline_ms) {
            return Err(CheckpointError::DeadlineNotElapsed {
                timestamp_ms: body.timestamp_ms,
                prev_ms: prev.timestamp_ms,
                deadline_ms,
            });
        }
        Ok(deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::poc::plot_file::{PlotReader, build_plot_in_memory};
    use std::io::Cursor;

    const BASE_TARGET: u64 = 1 << 50;

    fn genesis_predecessor() -> Predecessor {
        Predecessor {
            id: Hash::of(b"genesis"),
            height: 0,
            generation_signature: Hash::of(b"g0"),
            author: AccountId::default(),
            timestamp_ms: 1_000,
            cumulative_weight: 0,
            next_base_target: BASE_TARGET,
        }
    }

    /// The best proof from a real in-memory plot of `plot_owner` for the round after `prev`.
    fn real_proof(plot_owner: &AccountId, prev: &Predecessor) -> (Challenge, PocProof, u64) {
        let challenge = successor_challenge(
            prev.height,
            &prev.generation_signature,
            &prev.author,
            prev.next_base_target,
            1,
        );
        let bytes = build_plot_in_memory(plot_owner, 0, 8);
        let mut reader = PlotReader::open(Cursor::new(bytes)).unwrap();
        let (proof, deadline) = reader.best_deadline(&challenge).unwrap().unwrap();
        (challenge, proof, deadline)
    }

    fn checkpoint(
        key: &Keypair,
        prev: &Predecessor,
        challenge: &Challenge,
        proof: PocProof,
        timestamp_ms: u64,
    ) -> Checkpoint {
        CheckpointBody {
            height: challenge.height,
            prev: prev.id,
            generation_signature: challenge.generation_signature,
            proof,
            parents: vec![prev.id],
            base_target: challenge.base_target,
            cumulative_weight: prev.cumulative_weight + weight(challenge.base_target),
            ledger_root: Hash::ZERO,
            timestamp_ms,
            author: key.account(),
        }
        .sign(key)
        .unwrap()
    }

    fn context(poc: &PocMode) -> ValidationContext<'_> {
        ValidationContext {
            now_ms: u64::MAX / 2,
            future_drift_ms: 15_000,
            challenge_refresh: 1,
            parents_max: 8,
            poc,
            signature_checked: false,
        }
    }

    #[test]
    fn honest_real_plot_checkpoint_is_accepted() {
        let key = Keypair::derived("cp", 1);
        let prev = genesis_predecessor();
        let (challenge, proof, deadline) = real_proof(&key.account(), &prev);
        let cp = checkpoint(&key, &prev, &challenge, proof, prev.timestamp_ms + deadline);
        assert_eq!(cp.validate_header(&prev, &context(&PocMode::Real)), Ok(deadline));
    }

    /// Honest authors stamp exactly `prev + deadline`; a later stamp is accepted while it stays
    /// within the drift of the validator's clock (docs/protocol.md, "Checkpoints").
    #[test]
    fn a_late_timestamp_is_accepted_only_within_the_drift() {
        let key = Keypair::derived("cp", 1);
        let prev = genesis_predecessor();
        let poc = PocMode::Real;
        let (challenge, proof, deadline) = real_proof(&key.account(), &prev);
        let on_time = prev.timestamp_ms + deadline;
        let mut ctx = context(&poc);
        ctx.now_ms = on_time;
        let late = checkpoint(&key, &prev, &challenge, proof.clone(), on_time + 15_000);
        assert_eq!(late.validate_header(&prev, &ctx), Ok(deadline));
        let too_late = checkpoint(&key, &prev, &challenge, proof, on_time + 15_001);
        assert_eq!(
            too_late.validate_header(&prev, &ctx),
            Err(CheckpointError::FromTheFuture { timestamp_ms: on_time + 15_001, now_ms: on_time })
        );
    }

    /// A node drops duplicate checkpoints by the hash of the undecoded message body
    /// (`Message::peek_unit`): that hash must be the checkpoint's id.
    #[test]
    fn peeked_message_body_hashes_to_the_id() {
        use crate::core::message::{Message, UnitBytes};
        let key = Keypair::derived("cp", 1);
        let prev = genesis_predecessor();
        let (challenge, proof, deadline) = real_proof(&key.account(), &prev);
        let cp = checkpoint(&key, &prev, &challenge, proof, prev.timestamp_ms + deadline);
        let bytes = Message::Checkpoint(cp.clone()).encode().unwrap();
        let peeked = Message::peek_unit(&bytes).unwrap();
        assert!(matches!(peeked, UnitBytes::Checkpoint(_)));
        assert_eq!(peeked.id(), cp.id().unwrap());
    }

    #[test]
    fn each_attack_has_its_own_error() {
        let key = Keypair::derived("cp", 1);
        let prev = genesis_predecessor();
        let poc = PocMode::Real;
        let (challenge, proof, deadline) = real_proof(&key.account(), &prev);
        let on_time = prev.timestamp_ms + deadline;

        // Forged proof: a scoop that is not what the plot holds.
        let PocProof::Plot { plot_account, nonce_index, mut scoop } = proof.clone() else {
            panic!("real proof expected")
        };
        scoop[0] ^= 1;
        let forged = PocProof::Plot { plot_account, nonce_index, scoop };
        let cp = checkpoint(&key, &prev, &challenge, forged, on_time);
        assert!(matches!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::ForgedProof { .. })
        ));

        // Wrong generation signature.
        let mut wrong = challenge;
        wrong.generation_signature = Hash::of(b"ground");
        let cp = checkpoint(&key, &prev, &wrong, proof.clone(), on_time);
        assert_eq!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::WrongGenerationSignature { height: 1 })
        );

        // Deadline not yet elapsed: published one millisecond early.
        let cp = checkpoint(&key, &prev, &challenge, proof.clone(), on_time - 1);
        assert!(matches!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::DeadlineNotElapsed { .. })
        ));

        // A plot of another account, signed by this key.
        let other = Keypair::derived("cp", 2);
        let (_, other_proof, other_deadline) = real_proof(&other.account(), &prev);
        let cp =
            checkpoint(&key, &prev, &challenge, other_proof, prev.timestamp_ms + other_deadline);
        assert!(matches!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::PlotOfAnotherAccount { .. })
        ));

        // A model proof on a real network, and a tampered signature.
        let cp = checkpoint(&key, &prev, &challenge, PocProof::Model { nonces: 8 }, on_time);
        assert!(matches!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::ProofMode(_))
        ));
        let mut cp = checkpoint(&key, &prev, &challenge, proof, on_time);
        cp.body.timestamp_ms += 1;
        assert!(matches!(
            cp.validate_header(&prev, &context(&poc)),
            Err(CheckpointError::Signature(_))
        ));
    }
}
