//! Write actions. A write is a structured row operation (insert, upsert or delete by primary
//! key, with typed values), not free SQL: its effect is a pure function of the replica's rows,
//! so there is nothing node-dependent (no `random()`, no clock, no collation or float
//! question) to refuse after the fact. One action writes one table, atomically: every
//! operation applies or none does.
//!
//! On chain an action is a [`SealedAction`]: the consortium, the table name and key epoch in
//! clear (the chain checks write permission per table), the ciphertext, and the BLAKE3 hash of
//! the plaintext. The plaintext carries a writer-chosen salt, so the hash does not let a
//! non-member confirm a guessed row (the same reason Fabric salts private data hashes).

use super::error::ConsortiumError;
use super::keys::{self, DataKey, NONCE_BYTES};
use super::schema::{TableSchema, Value};
use crate::core::hash::Hash;
use crate::core::wire;
use serde::{Deserialize, Serialize};

/// Largest ciphertext of one action: well inside a message, with room for the transaction.
pub const ACTION_CIPHERTEXT_BYTES_MAX: usize = 32 * 1024;
/// Most row operations in one action.
pub const ACTION_OPS_MAX: usize = 256;

/// One row operation on the action's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowOp {
    /// Add a row; refused if its key is present.
    Insert {
        /// One value per column, in the table's column order.
        row: Vec<Value>,
    },
    /// Add or replace the row with this row's key.
    Upsert {
        /// One value per column, in the table's column order.
        row: Vec<Value>,
    },
    /// Remove the row with this key; refused if absent.
    Delete {
        /// Value of the primary-key column of the row to remove.
        key: Value,
    },
}

/// The plaintext of a write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The table every operation writes; must equal the sealed action's clear `table`.
    pub table: String,
    /// The row operations, applied in order and all or none (1..=`ACTION_OPS_MAX`).
    pub ops: Vec<RowOp>,
    /// Fresh randomness from the writer: hides the plaintext hash from guessing.
    pub salt: [u8; 16],
}

/// A write as the chain carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedAction {
    /// Id of the consortium whose data key sealed the action.
    pub consortium: Hash,
    /// The table written, in clear so the chain can check the signer's write permission.
    pub table: String,
    /// Key epoch of the data key that sealed it; must be the consortium's current epoch.
    pub key_epoch: u64,
    /// Synthetic AEAD nonce: keyed BLAKE3 of the plaintext (`keys::seal_action`).
    pub nonce: [u8; NONCE_BYTES],
    /// The encoded [`Action`] sealed with ChaCha20-Poly1305; at most
    /// `ACTION_CIPHERTEXT_BYTES_MAX` bytes.
    pub ciphertext: Vec<u8>,
    /// BLAKE3 of the encoded plaintext; members check the opened action against it.
    pub plaintext_hash: Hash,
}

impl Action {
    /// Every operation fits the table's schema, and there are between 1 and `ACTION_OPS_MAX`.
    pub fn validate(&self, schema: &TableSchema) -> Result<(), ConsortiumError> {
        if self.table != schema.name {
            return Err(ConsortiumError::ActionTableMismatch {
                sealed: schema.name.clone(),
                inner: self.table.clone(),
            });
        }
        if self.ops.is_empty() || self.ops.len() > ACTION_OPS_MAX {
            return Err(ConsortiumError::ActionOpCount {
                count: self.ops.len(),
                limit: ACTION_OPS_MAX,
            });
        }
        for op in &self.ops {
            match op {
                RowOp::Insert { row } | RowOp::Upsert { row } => schema.check_row(row)?,
                RowOp::Delete { key } => schema.check_key(key)?,
            }
        }
        Ok(())
    }

    /// Seal this action for the chain under the consortium's key of `epoch`.
    pub fn seal(
        &self,
        key: &DataKey,
        consortium: Hash,
        epoch: u64,
    ) -> Result<SealedAction, ConsortiumError> {
        let plaintext = wire::encode_body(self, "consortium action")
            .map_err(|error| ConsortiumError::Malformed { reason: error.to_string() })?;
        let (nonce, ciphertext) =
            keys::seal_action(key, &consortium, epoch, &self.table, &plaintext)
                .map_err(ConsortiumError::Key)?;
        Ok(SealedAction {
            consortium,
            table: self.table.clone(),
            key_epoch: epoch,
            nonce,
            ciphertext,
            plaintext_hash: Hash::of(&plaintext),
        })
    }
}

impl SealedAction {
    /// Decrypt and decode, checking the plaintext hash and that the plaintext names the table
    /// the chain checked permission for.
    pub fn open(&self, key: &DataKey) -> Result<Action, ConsortiumError> {
        let plaintext = keys::open_action(
            key,
            &self.consortium,
            self.key_epoch,
            &self.table,
            &self.nonce,
            &self.ciphertext,
        )
        .map_err(ConsortiumError::Key)?;
        if Hash::of(&plaintext) != self.plaintext_hash {
            return Err(ConsortiumError::PlaintextHashMismatch);
        }
        let action: Action = wire::decode_canonical(&plaintext, "consortium action")
            .map_err(|error| ConsortiumError::Malformed { reason: error.to_string() })?;
        if action.table != self.table {
            return Err(ConsortiumError::ActionTableMismatch {
                sealed: self.table.clone(),
                inner: action.table,
            });
        }
        Ok(action)
    }

    /// The hash chained into the consortium's action log: commits to every clear field and
    /// the ciphertext.
    pub fn log_hash(&self) -> Hash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"vein/consortium/action/v1");
        hasher.update(self.consortium.as_bytes());
        hasher.update(&(self.table.len() as u64).to_le_bytes());
        hasher.update(self.table.as_bytes());
        hasher.update(&self.key_epoch.to_le_bytes());
        hasher.update(&self.nonce);
        hasher.update(&(self.ciphertext.len() as u64).to_le_bytes());
        hasher.update(&self.ciphertext);
        hasher.update(self.plaintext_hash.as_bytes());
        Hash(*hasher.finalize().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consortium::schema::{Column, ColumnType};

    fn schema() -> TableSchema {
        TableSchema {
            name: "t".into(),
            columns: vec![
                Column { name: "id".into(), column_type: ColumnType::Integer, nullable: false },
                Column { name: "v".into(), column_type: ColumnType::Text, nullable: false },
            ],
            primary_key: 0,
        }
    }

    fn action() -> Action {
        Action {
            table: "t".into(),
            ops: vec![RowOp::Insert { row: vec![Value::Integer(1), Value::Text("CANARY".into())] }],
            salt: [3u8; 16],
        }
    }

    #[test]
    fn a_sealed_action_hides_its_rows_and_opens_to_the_same_action() {
        let key = DataKey([4u8; 32]);
        let sealed = action().seal(&key, Hash::of(b"c"), 0).unwrap();
        assert!(!sealed.ciphertext.windows(6).any(|window| window == b"CANARY"));
        assert_eq!(sealed.open(&key).unwrap(), action());
        assert!(matches!(sealed.open(&DataKey([5u8; 32])), Err(ConsortiumError::Key(_))));
    }

    #[test]
    fn a_wrong_plaintext_hash_or_relabelled_table_is_refused() {
        let key = DataKey([4u8; 32]);
        let mut sealed = action().seal(&key, Hash::of(b"c"), 0).unwrap();
        sealed.plaintext_hash = Hash::ZERO;
        assert_eq!(sealed.open(&key), Err(ConsortiumError::PlaintextHashMismatch));
        let mut relabelled = action().seal(&key, Hash::of(b"c"), 0).unwrap();
        relabelled.table = "u".into();
        assert!(relabelled.open(&key).is_err(), "the table is bound as associated data");
    }

    #[test]
    fn validation_checks_every_op_against_the_schema() {
        assert!(action().validate(&schema()).is_ok());
        let mut bad = action();
        bad.ops.push(RowOp::Delete { key: Value::Text("1".into()) });
        assert!(matches!(bad.validate(&schema()), Err(ConsortiumError::ValueType { .. })));
        bad.ops.clear();
        assert!(matches!(bad.validate(&schema()), Err(ConsortiumError::ActionOpCount { .. })));
    }
}
