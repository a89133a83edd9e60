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
    ChunkProof, PreparedFile, PutError, Recovered, StorageError, StorageProof, StorePut,
    prepare_file, recover_file, repair_shard,
};
pub use encrypt::{EncryptError, OwnerKey};
pub use erasure::ErasureError;
pub use merkle::{MerkleError, MerklePath, MerkleTree};
pub use payment::{PaymentError, RoundPayout, round_payouts};
