//! The storage chain's sans-IO core (PROTOCOL.md section 5): encrypted, erasure-coded,
//! Merkle-committed backups whose storage nodes are paid per round for proofs of possession.
//!
//! Pipeline (owner): [`encrypt`] → [`erasure`] → [`merkle`] roots → a [`commitment::StorePut`]
//! whose nodes come from [`assignment`]. Each round (storage node): [`challenge::answer`]; anyone:
//! [`challenge::verify_storage_proof`]; the ledger: [`payment::round_payouts`]. Retrieval (owner):
//! [`commitment::recover_file`].
//!
//! Nothing here touches files, clocks or OS randomness: keys, nonces (or the plaintext they are
//! synthesised from) and generation signatures are handed in, so every function is a pure
//! function of its arguments and the simulator can run it bit for bit. See docs/storage.md.

pub mod assignment;
pub mod challenge;
pub mod commitment;
pub mod encrypt;
pub mod erasure;
pub mod merkle;
pub mod payment;

pub use assignment::{
    AssignmentError, Reassignment, assign, check_assignment, reassign, reassign_attempt,
};
pub use challenge::{Challenge, ProofError, answer, challenge_indices, verify_storage_proof};
pub use commitment::{
    ChunkProof, PreparedFile, PutError, Recovered, StorageProof, StorePut, prepare_file,
    recover_file, repair_shard,
};
pub use encrypt::{EncryptError, OwnerKey};
pub use erasure::ErasureError;
pub use merkle::{MerkleError, MerklePath, MerkleTree};
pub use payment::{PaymentError, RoundPayout, round_payouts};

/// Errors of the owner-side pipeline (`prepare_file`, `recover_file`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Put(#[from] PutError),
    #[error(transparent)]
    Erasure(#[from] ErasureError),
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error("expected {expected} shard slots, got {got}")]
    ShardSlots { expected: usize, got: usize },
    #[error("too few intact shards: have {have}, need {need}; corrupt: {corrupt_shards:?}")]
    TooFewShards { have: usize, need: usize, corrupt_shards: Vec<u8> },
    #[error("rebuilt shard {shard_index} does not match its committed root")]
    RepairMismatch { shard_index: u8 },
    #[error("decoded payload of {payload_bytes} bytes cannot hold a nonce")]
    PayloadTooShort { payload_bytes: usize },
}
