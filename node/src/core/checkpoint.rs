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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointBody {
    pub height: u64,
    pub prev: Hash,
    pub generation_signature: Hash,
    pub proof: PocProof,
    /// DAG units this checkpoint confirms (with their past cones).
    pub parents: Vec<Hash>,
    pub base_target: u64,
    pub cumulative_weight: u128,
    pub ledger_root: Hash,
    pub timestamp_ms: u64,
    pub author: AccountId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub body: CheckpointBody,
    pub signature: Signature,
}

/// The facts about a predecessor that validation of its successor needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predecessor {
    pub id: Hash,
    pub height: u64,
    pub generation_signature: Hash,
    pub author: AccountId,
    pub timestamp_ms: u64,
    pub cumulative_weight: u128,
    /// The base target the successor must carry (retargeted from the predecessor's ancestry).
    pub next_base_target: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("bad checkpoint signature: {0}")]
    Signature(#[from] CryptoError),
    #[error("height {found} does not follow predecessor height {expected_minus_one}")]
    WrongHeight { found: u64, expected_minus_one: u64 },
    #[error("wrong generation signature at height {height}")]
    WrongGenerationSignature { height: u64 },
    #[error("wrong base target {found}, expected {expected}")]
    WrongBaseTarget { found: u64, expected: u64 },
    #[error("wrong cumulative weight {found}, expected {expected}")]
    WrongCumulativeWeight { found: u128, expected: u128 },
    #[error("proof uses a plot of {plot_account:?}, but the author is {author:?}")]
    PlotOfAnotherAccount { plot_account: AccountId, author: AccountId },
    #[error("forged proof: scoop {scoop} of nonce {nonce_index} does not match its regeneration")]
    ForgedProof { nonce_index: u64, scoop: u32 },
    #[error("proof of the wrong kind for this network or capacity: {0}")]
    ProofMode(String),
    #[error(
        "deadline not elapsed: timestamp {timestamp_ms} is before predecessor {prev_ms} + deadline {deadline_ms}"
    )]
    DeadlineNotElapsed { timestamp_ms: u64, prev_ms: u64, deadline_ms: u64 },
    #[error("timestamp {timestamp_ms} is more than the allowed drift ahead of now {now_ms}")]
    FromTheFuture { timestamp_ms: u64, now_ms: u64 },
    #[error("a checkpoint needs 1 to {max} distinct parents, found {count}")]
    BadParents { count: usize, max: usize },
    #[error("ledger root mismatch at height {height}")]
    LedgerRootMismatch { height: u64 },
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

    pub fn sign(self, key: &Keypair) -> Result<Checkpoint, WireError> {
        debug_assert_eq!(key.account(), self.author);
        let signature = key.sign(&self.signing_bytes()?);
        Ok(Checkpoint { body: self, signature })
    }

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
    pub now_ms: u64,
    pub future_drift_ms: u64,
    pub challenge_refresh: u64,
    pub parents_max: usize,
    pub poc: &'a PocMode,
    /// These exact bytes (the id covers the signature) passed the signature check before, on
    /// this or another node of the same simulation: skip that one check.
    pub signature_checked: bool,
}

impl Checkpoint {
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        wire::encode_body(self, "checkpoint")
    }

    /// Only the canonical bytes decode (see [`wire::decode_canonical`]).
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, WireError> {
        wire::decode_canonical(bytes, "checkpoint")
    }

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
