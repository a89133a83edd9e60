//! Proofs of contribution and their verification.
//!
//! A checkpoint carries a [`PocProof`]. On a real network it is the winning scoop with the nonce
//! it came from; the verifier regenerates that one nonce (~12 ms, 32 MiB hashed) and compares the
//! scoop, so the proof is exactly as hard to fake as the plot was to build. On a model network
//! (simulations of thousands of nodes, where nobody plots) the proof is a claimed capacity that
//! must equal the capacity registered for the author in genesis, and the deadline is recomputed
//! from the keyed PRF of [`crate::core::poc::model`].
//!
//! Verification returns the deadline; it does not judge timing. A proof built for another
//! challenge almost surely names another scoop index, so the regenerated scoop differs and the
//! error is [`PocError::ForgedProof`]; if the scoop index happens to coincide (probability
//! 1/4096) the proof verifies but yields a different deadline, which the checkpoint layer rejects
//! when it compares the deadline with the elapsed time.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::crypto::AccountId;
use crate::core::poc::challenge::{Challenge, SCOOP_BYTES, deadline_ms, hit, scoop_index};
use crate::core::poc::model::model_deadline_ms;
use crate::core::poc::nonce::scoop_of;
use crate::core::poc::on_the_fly::model_nonce_deadline_ms;
use crate::core::poc::plot_error::PlotFileError;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum PocProof {
    /// A scoop read from a real plot of `plot_account`.
    Plot {
        plot_account: AccountId,
        nonce_index: u64,
        #[serde(with = "scoop_bytes")]
        scoop: [u8; SCOOP_BYTES],
    },
    /// A model-network claim: the author's registered capacity in nonces.
    Model { nonces: u64 },
    /// A model-network proof of one nonce of the author's account, computed on the fly (no
    /// plot stored): its hit is the keyed PRF of `poc::on_the_fly`. As on a real network, any
    /// nonce of one's own account is a valid proof; the author must be a registered model miner
    /// (any capacity, 0 included: an on-the-fly plotter stores nothing).
    ModelNonce { nonce_index: u64 },
}

/// Which proofs a network accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PocMode {
    /// Real plots only.
    Real,
    /// Model proofs only; each miner's capacity (nonces) is registered in genesis.
    Model { capacities: BTreeMap<AccountId, u64> },
}

#[derive(Debug, thiserror::Error)]
pub enum PocError {
    #[error("proof uses a plot of account {plot_account}, but the checkpoint author is {author}")]
    PlotOfAnotherAccount { plot_account: AccountId, author: AccountId },
    #[error("forged proof: scoop {scoop} of nonce {nonce_index} does not match its regeneration")]
    ForgedProof { nonce_index: u64, scoop: u32 },
    #[error("model proof submitted on a network that accepts only real plots")]
    ModelProofOnRealNetwork,
    #[error("real plot proof submitted on a model network")]
    RealProofOnModelNetwork,
    #[error("no capacity registered in genesis for author {author}")]
    UnknownCapacity { author: AccountId },
    #[error("model proof claims {claimed} nonces but {registered} are registered")]
    CapacityMismatch { claimed: u64, registered: u64 },
    #[error(transparent)]
    Plot(#[from] PlotFileError),
}

/// Check `proof` by `author` for `challenge` under `mode`; on success return its deadline (ms).
pub fn verify_proof(
    mode: &PocMode,
    author: &AccountId,
    challenge: &Challenge,
    proof: &PocProof,
) -> Result<u64, PocError> {
    match (mode, proof) {
        (PocMode::Real, PocProof::Plot { plot_account, nonce_index, scoop }) => {
            // Binding first: it is free, and a plot reused by a second account is the
            // identity-splitting attack of scenario 8.
            if plot_account != author {
                return Err(PocError::PlotOfAnotherAccount {
                    plot_account: *plot_account,
                    author: *author,
                });
            }
            let index = scoop_index(challenge);
            if scoop_of(plot_account, *nonce_index, index) != *scoop {
                return Err(PocError::ForgedProof { nonce_index: *nonce_index, scoop: index });
            }
            Ok(deadline_ms(hit(&challenge.generation_signature, scoop), challenge.base_target))
        }
        (PocMode::Real, PocProof::Model { .. } | PocProof::ModelNonce { .. }) => {
            Err(PocError::ModelProofOnRealNetwork)
        }
        (PocMode::Model { .. }, PocProof::Plot { .. }) => Err(PocError::RealProofOnModelNetwork),
        (PocMode::Model { capacities }, PocProof::Model { nonces }) => {
            let registered =
                *capacities.get(author).ok_or(PocError::UnknownCapacity { author: *author })?;
            if registered != *nonces {
                return Err(PocError::CapacityMismatch { claimed: *nonces, registered });
            }
            Ok(model_deadline_ms(author, registered, challenge))
        }
        (PocMode::Model { capacities }, PocProof::ModelNonce { nonce_index }) => {
            if !capacities.contains_key(author) {
                return Err(PocError::UnknownCapacity { author: *author });
            }
            Ok(model_nonce_deadline_ms(author, challenge, *nonce_index))
        }
    }
}

/// Serde for `[u8; 64]` as one byte string (serde derives arrays only up to 32 elements, and a
/// byte string is also the compact form in bincode).
mod scoop_bytes {
    use super::{SCOOP_BYTES, fmt};
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(
        bytes: &[u8; SCOOP_BYTES],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    struct ScoopVisitor;

    impl<'de> de::Visitor<'de> for ScoopVisitor {
        type Value = [u8; SCOOP_BYTES];
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "{SCOOP_BYTES} scoop bytes")
        }
        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
            bytes.try_into().map_err(|_| E::invalid_length(bytes.len(), &self))
        }
        fn visit_borrowed_bytes<E: de::Error>(self, bytes: &'de [u8]) -> Result<Self::Value, E> {
            self.visit_bytes(bytes)
        }
        fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
            self.visit_bytes(&bytes)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // Self-describing formats (JSON) may hand the bytes as a sequence.
            let mut out = [0u8; SCOOP_BYTES];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; SCOOP_BYTES], D::Error> {
        deserializer.deserialize_bytes(ScoopVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;
    use crate::core::hash::Hash;
    use crate::core::poc::plot_file::{PlotReader, build_plot_in_memory};
    use proptest::prelude::*;
    use std::io::Cursor;

    fn challenge(height: u64) -> Challenge {
        Challenge { height, generation_signature: Hash::of(b"verify"), base_target: 1 << 44 }
    }

    fn honest_proof(author: &AccountId, challenge: &Challenge) -> (PocProof, u64) {
        let plot = build_plot_in_memory(author, 10, 2);
        let mut reader = PlotReader::open(Cursor::new(plot)).expect("plot");
        reader.best_deadline(challenge).expect("read").expect("a deadline")
    }

    #[test]
    fn real_proofs_accepted_and_attacks_rejected() {
        let alice = Keypair::derived("proof", 1).account();
        let mallory = Keypair::derived("proof", 2).account();
        let round = challenge(5);
        let (proof, deadline) = honest_proof(&alice, &round);
        assert_eq!(verify_proof(&PocMode::Real, &alice, &round, &proof).ok(), Some(deadline));

        // Identity splitting: Mallory presents Alice's plot.
        assert!(matches!(
            verify_proof(&PocMode::Real, &mallory, &round, &proof),
            Err(PocError::PlotOfAnotherAccount { plot_account, author })
                if plot_account == alice && author == mallory
        ));

        // Forged scoop: one bit flipped.
        let PocProof::Plot { plot_account, nonce_index, mut scoop } = proof.clone() else {
            panic!("plot proof")
        };
        scoop[0] ^= 1;
        let forged = PocProof::Plot { plot_account, nonce_index, scoop };
        assert!(matches!(
            verify_proof(&PocMode::Real, &alice, &round, &forged),
            Err(PocError::ForgedProof { .. })
        ));

        // The honest proof replayed against another challenge names the wrong scoop.
        let other = Challenge { generation_signature: Hash::of(b"other"), ..round };
        assert_ne!(scoop_index(&other), scoop_index(&round), "pick a challenge with another scoop");
        assert!(matches!(
            verify_proof(&PocMode::Real, &alice, &other, &proof),
            Err(PocError::ForgedProof { .. })
        ));

        // Model proof on a real network.
        assert!(matches!(
            verify_proof(&PocMode::Real, &alice, &round, &PocProof::Model { nonces: 2 }),
            Err(PocError::ModelProofOnRealNetwork)
        ));
    }

    #[test]
    fn model_proofs_checked_against_genesis_capacity() {
        let alice = Keypair::derived("proof", 1).account();
        let bob = Keypair::derived("proof", 3).account();
        let mode = PocMode::Model { capacities: BTreeMap::from([(alice, 1000)]) };
        let round = challenge(9);
        let deadline = verify_proof(&mode, &alice, &round, &PocProof::Model { nonces: 1000 });
        assert_eq!(deadline.ok(), Some(model_deadline_ms(&alice, 1000, &round)));
        assert!(matches!(
            verify_proof(&mode, &alice, &round, &PocProof::Model { nonces: 2000 }),
            Err(PocError::CapacityMismatch { claimed: 2000, registered: 1000 })
        ));
        assert!(matches!(
            verify_proof(&mode, &bob, &round, &PocProof::Model { nonces: 1000 }),
            Err(PocError::UnknownCapacity { author }) if author == bob
        ));
        let plot = PocProof::Plot { plot_account: alice, nonce_index: 0, scoop: [0; 64] };
        assert!(matches!(
            verify_proof(&mode, &alice, &round, &plot),
            Err(PocError::RealProofOnModelNetwork)
        ));
    }

    fn encode(proof: &PocProof) -> Vec<u8> {
        bincode::serde::encode_to_vec(proof, bincode::config::standard()).expect("encode")
    }

    proptest! {
        #[test]
        fn bincode_round_trip(
            account in any::<[u8; 32]>(),
            nonce_index in any::<u64>(),
            scoop in proptest::collection::vec(any::<u8>(), SCOOP_BYTES),
            nonces in any::<u64>(),
        ) {
            let mut scoop_array = [0u8; SCOOP_BYTES];
            scoop_array.copy_from_slice(&scoop);
            let plot_account = AccountId(account);
            for proof in [
                PocProof::Plot { plot_account, nonce_index, scoop: scoop_array },
                PocProof::Model { nonces },
            ] {
                let bytes = encode(&proof);
                let (decoded, used): (PocProof, usize) =
                    bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
                        .expect("decode");
                prop_assert_eq!(used, bytes.len());
                prop_assert_eq!(decoded, proof);
            }
        }

        #[test]
        fn bincode_decoder_rejects_garbage_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..120)
        ) {
            let config = bincode::config::standard().with_limit::<4096>();
            let _ = bincode::serde::decode_from_slice::<PocProof, _>(&bytes, config);
        }
    }
}
