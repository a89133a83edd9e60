//! A member node's SQL replica of one consortium (issue #17), outside the core: SQLite through
//! `rusqlite` (bundled), a file in the node and `:memory:` in tests and the simulator.
//!
//! Model: the chain orders sealed actions (`core::consortium`); a member decrypts each one of
//! its consortium and applies it, in chain order, at the height of the checkpoint that applied
//! it. Every sealed action is kept in the replica's action log (`vein_actions`), applied or not,
//! so the replica can be restored to a past height (`restore_to`, for a reorg) or rebuilt from
//! genesis by replaying the log (`rebuild`). An action that decrypts but does not fit (a type
//! error, an insert over an existing key, a delete of a missing one) or does not decrypt at all
//! is refused whole; every member refuses it alike, because every member holds the same rows
//! and the same ciphertext. Rows are versioned by height (`layout`), so any table can be read
//! as of any height; a Merkle root over the current rows (`state_root`) is kept incrementally
//! and recorded per height, with a proof for any row.

pub mod attest_signer;
pub mod attester;
pub mod feed;
pub mod key_ring;
pub mod layout;
pub mod state_root;

pub use attest_signer::AttestationSigner;
pub use attester::{AttestStats, Attester, OwnDivergence, PeerDivergence, Verdicts};
pub use feed::{FeedSink, FeedStats, ReplicaFeed, SharedFeed};
pub use key_ring::KeyRing;
pub use state_root::{RowProof, StateTree};

use crate::core::consortium::{
    Action, Consortium, ConsortiumError, RowOp, SealedAction, TableSchema, Value,
};
use crate::core::hash::Hash;
use crate::core::wire;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::collections::BTreeMap;
use std::path::Path;

/// Why the replica could not do what was asked. An action that opens but does not fit is not
/// an error: it is an [`ActionOutcome::Refused`], the same on every member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// SQLite returned an error; the replica may then be behind the chain.
    #[error("SQLite failed while {operation}: {reason}")]
    Sql {
        /// What the replica was doing (for example "starting an action").
        operation: &'static str,
        /// SQLite's error message.
        reason: String,
    },
    /// A read or an action names a table the consortium does not declare.
    #[error("the replica has no table {table:?}")]
    UnknownTable {
        /// The table named.
        table: String,
    },
    /// An action is sealed under a key epoch this member holds no key for.
    #[error("the action is sealed under key epoch {epoch}, which this member does not hold")]
    NoKey {
        /// The action's key epoch.
        epoch: u64,
    },
    /// An action arrives for a height below the last one applied (a restore must come first).
    #[error("an action at height {height} arrived after height {last}: actions apply in order")]
    OutOfOrder {
        /// Checkpoint height of the arriving action.
        height: u64,
        /// Height of the last action applied.
        last: u64,
    },
    /// An action of another consortium was handed to this replica.
    #[error("the action belongs to consortium {got}, not this replica's {expected}")]
    WrongConsortium {
        /// This replica's consortium.
        expected: Hash,
        /// The action's consortium.
        got: Hash,
    },
    /// A free query is more than one statement, or a statement that could write.
    #[error("only a single read-only SELECT may be queried")]
    NotReadOnly,
    /// Stored rows, roots or log entries do not decode as the schema says: the file was
    /// changed outside the replica.
    #[error("the stored replica disagrees with its schema in {table}: {reason}")]
    Corrupt {
        /// The SQLite table holding the bad value (a consortium table or a `vein_` one).
        table: String,
        /// What does not decode.
        reason: String,
    },
    /// A sealed action or a primary key could not be encoded for storage.
    #[error("{0}")]
    Invalid(ConsortiumError),
}

fn sql(operation: &'static str) -> impl Fn(rusqlite::Error) -> ReplicaError {
    move |error| ReplicaError::Sql { operation, reason: error.to_string() }
}

/// What applying one sealed action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Applied; the number of row operations.
    Applied {
        /// Row operations the action held, all applied.
        ops: usize,
    },
    /// Refused whole, the same way by every member.
    Refused {
        /// Why: the `ConsortiumError` of opening or validating it, or the row operation
        /// that did not fit (an insert over an existing key, a delete of a missing one).
        reason: String,
    },
}

/// One stored version of a row: visible at heights `from..to` (`to` `None`: still current).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// Name of the table the row belongs to.
    pub table: String,
    /// Checkpoint height from which this version is visible (the height of the action that
    /// wrote it).
    pub from: u64,
    /// Height from which it is no longer visible (overwritten or deleted); `None` while current.
    pub to: Option<u64>,
    /// The row's values, one per column in schema order.
    pub row: Vec<Value>,
}

/// A row an action changed: its key, and its new values (`None`: deleted).
type RowChange = (Value, Option<Vec<Value>>);

/// A free query's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRows {
    /// Column names of the result, in order.
    pub columns: Vec<String>,
    /// Result rows, one value per column; typed from SQLite's storage classes (a bool reads
    /// back as an integer).
    pub rows: Vec<Vec<Value>>,
}

/// A member node's SQL replica of one consortium (see the module docs): SQLite tables
/// versioned by height, the action log, the keys, and the incremental state root.
pub struct Replica {
    db: Connection,
    consortium: Hash,
    tables: BTreeMap<String, TableSchema>,
    keys: KeyRing,
    tree: StateTree,
    /// Height of the last applied action (0 before any).
    height: u64,
    /// The root after each height that changed something.
    roots: BTreeMap<u64, Hash>,
    /// SQLite's `data_version` as of the last reload: it moves when another connection
    /// commits, that is when the file was written behind the replica's back.
    data_version: i64,
    /// Reloads forced by such foreign writes.
    foreign_writes: u64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("consortium", &self.consortium)
            .field("height", &self.height)
            .field("root", &self.tree.root())
            .finish()
    }
}

impl Replica {
    /// An in-memory replica (tests, simulator).
    pub fn in_memory(consortium: &Consortium, keys: KeyRing) -> Result<Replica, ReplicaError> {
        let db = Connection::open_in_memory().map_err(sql("opening an in-memory database"))?;
        Replica::open_on(db, consortium, keys)
    }

    /// A file-backed replica; an existing file is reopened with its rows, log and roots.
    pub fn open(
        path: &Path,
        consortium: &Consortium,
        keys: KeyRing,
    ) -> Result<Replica, ReplicaError> {
        let db = Connection::open(path).map_err(sql("opening the replica file"))?;
        // The file is a cache of the chain: a restarted node restores and replays it from its
        // own log (`feed`), so a commit need not wait for the disk.
        db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
            .map_err(sql("setting the journal mode"))?;
        Replica::open_on(db, consortium, keys)
    }

    fn open_on(
        db: Connection,
        consortium: &Consortium,
        keys: KeyRing,
    ) -> Result<Replica, ReplicaError> {
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS vein_actions (seq INTEGER PRIMARY KEY, \
             height INTEGER NOT NULL, sealed BLOB NOT NULL, outcome TEXT NOT NULL) STRICT;\n\
             CREATE TABLE IF NOT EXISTS vein_roots (height INTEGER PRIMARY KEY, \
             root BLOB NOT NULL) STRICT;",
        )
        .map_err(sql("creating the bookkeeping tables"))?;
        for schema in consortium.tables.values() {
            db.execute_batch(&layout::create_table_sql(schema))
                .map_err(sql("creating a versioned table"))?;
        }
        let mut replica = Replica {
            db,
            consortium: consortium.id,
            tables: consortium.tables.clone(),
            keys,
            tree: StateTree::new(),
            height: 0,
            roots: BTreeMap::new(),
            data_version: 0,
            foreign_writes: 0,
        };
        replica.reload()?;
        Ok(replica)
    }

    /// Rebuild the in-memory tree, height and roots from the stored rows.
    fn reload(&mut self) -> Result<(), ReplicaError> {
        let mut tree = StateTree::new();
        for schema in self.tables.values() {
            for (key, row) in self.rows_at(schema, None)? {
                tree.set(&schema.name, &key, Some(&row));
            }
        }
        self.tree = tree;
        let mut roots = BTreeMap::new();
        let mut statement = self
            .db
            .prepare("SELECT height, root FROM vein_roots ORDER BY height")
            .map_err(sql("reading roots"))?;
        let stored = statement
            .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))
            .map_err(sql("reading roots"))?;
        for entry in stored {
            let (height, root) = entry.map_err(sql("reading roots"))?;
            let root: [u8; 32] = root.as_slice().try_into().map_err(|_| ReplicaError::Corrupt {
                table: "vein_roots".into(),
                reason: format!("a root of {} bytes", root.len()),
            })?;
            roots.insert(height as u64, Hash(root));
        }
        drop(statement);
        self.height = self
            .db
            .query_row("SELECT COALESCE(MAX(height), 0) FROM vein_actions", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(sql("reading the log height"))? as u64;
        self.roots = roots;
        self.data_version = self.read_data_version()?;
        Ok(())
    }

    fn read_data_version(&self) -> Result<i64, ReplicaError> {
        self.db
            .query_row("PRAGMA data_version", [], |row| row.get::<_, i64>(0))
            .map_err(sql("reading data_version"))
    }

    /// If another connection wrote the database since the last reload (an operator editing
    /// the file, a tampering member), re-read the tree from the stored rows, so that the roots
    /// this replica records and attests are those of the rows it actually holds. One PRAGMA
    /// per call; the full re-read only after a foreign write.
    pub fn reload_if_written_elsewhere(&mut self) -> Result<bool, ReplicaError> {
        if self.read_data_version()? == self.data_version {
            return Ok(false);
        }
        self.foreign_writes += 1;
        self.reload()?;
        Ok(true)
    }

    /// Reloads forced by writes of another connection.
    pub fn foreign_writes(&self) -> u64 {
        self.foreign_writes
    }

    /// Replace every row, root and log entry by a replay of this replica's action log (the
    /// on-chain sealed actions it was fed, with their heights): a member whose rows were
    /// altered, or whose root differs from a certified one, gets the chain's rows back.
    /// Returns the number of actions replayed.
    pub fn repair(&mut self) -> Result<usize, ReplicaError> {
        let actions = self.actions()?;
        let transaction = self.db.transaction().map_err(sql("starting a repair"))?;
        for schema in self.tables.values() {
            let versions = layout::version_table(&schema.name);
            transaction
                .execute(&format!("DELETE FROM \"{versions}\""), [])
                .map_err(sql("clearing a table"))?;
        }
        transaction
            .execute_batch("DELETE FROM vein_actions; DELETE FROM vein_roots;")
            .map_err(sql("clearing the log"))?;
        transaction.commit().map_err(sql("committing a repair"))?;
        self.reload()?;
        debug_assert_eq!(self.height, 0);
        for (height, sealed) in &actions {
            self.apply(*height, sealed)?;
        }
        Ok(actions.len())
    }

    /// Id of the consortium this replica holds.
    pub fn consortium(&self) -> Hash {
        self.consortium
    }

    /// Checkpoint height of the last action applied (0 before any).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The state root over the current rows (`state_root`); what this member attests.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The root at the end of height `height` (the empty tree's before any change).
    pub fn root_at(&self, height: u64) -> Hash {
        self.roots
            .range(..=height)
            .next_back()
            .map_or_else(|| StateTree::new().root(), |(_, root)| *root)
    }

    /// Add data keys (a new epoch after a rekey), keeping every key already held.
    pub fn add_keys(&mut self, keys: KeyRing) {
        self.keys.merge(keys);
    }

    fn schema(&self, table: &str) -> Result<&TableSchema, ReplicaError> {
        self.tables.get(table).ok_or_else(|| ReplicaError::UnknownTable { table: table.into() })
    }

    /// Apply the sealed action the chain applied at checkpoint `height`.
    pub fn apply(
        &mut self,
        height: u64,
        sealed: &SealedAction,
    ) -> Result<ActionOutcome, ReplicaError> {
        if sealed.consortium != self.consortium {
            return Err(ReplicaError::WrongConsortium {
                expected: self.consortium,
                got: sealed.consortium,
            });
        }
        if height < self.height {
            return Err(ReplicaError::OutOfOrder { height, last: self.height });
        }
        self.reload_if_written_elsewhere()?;
        let key = self
            .keys
            .get(sealed.key_epoch)
            .ok_or(ReplicaError::NoKey { epoch: sealed.key_epoch })?;
        let opened = sealed.open(key).and_then(|action| {
            let schema = self.schema(&action.table).map_err(|_| ConsortiumError::UnknownTable {
                consortium: self.consortium,
                table: action.table.clone(),
            })?;
            action.validate(schema)?;
            Ok(action)
        });
        let encoded = wire::encode_body(sealed, "sealed action").map_err(|error| {
            ReplicaError::Invalid(ConsortiumError::Malformed { reason: error.to_string() })
        })?;
        let transaction = self.db.transaction().map_err(sql("starting an action"))?;
        let outcome = match opened {
            Err(refused) => ActionOutcome::Refused { reason: refused.to_string() },
            Ok(action) => {
                let schema =
                    self.tables.get(&action.table).cloned().ok_or_else(|| {
                        ReplicaError::UnknownTable { table: action.table.clone() }
                    })?;
                transaction.execute("SAVEPOINT vein_action", []).map_err(sql("savepoint"))?;
                match apply_ops(&transaction, &schema, &action, height) {
                    Ok(changes) => {
                        transaction.execute("RELEASE vein_action", []).map_err(sql("release"))?;
                        for (key, row) in &changes {
                            self.tree.set(&schema.name, key, row.as_deref());
                        }
                        ActionOutcome::Applied { ops: action.ops.len() }
                    }
                    Err(refused) => {
                        transaction
                            .execute_batch("ROLLBACK TO vein_action; RELEASE vein_action")
                            .map_err(sql("rollback"))?;
                        ActionOutcome::Refused { reason: refused }
                    }
                }
            }
        };
        let outcome_text = match &outcome {
            ActionOutcome::Applied { .. } => "applied".to_string(),
            ActionOutcome::Refused { reason } => format!("refused: {reason}"),
        };
        transaction
            .execute(
                "INSERT INTO vein_actions (height, sealed, outcome) VALUES (?1, ?2, ?3)",
                params![height as i64, encoded, outcome_text],
            )
            .map_err(sql("logging an action"))?;
        let root = self.tree.root();
        transaction
            .execute(
                "INSERT OR REPLACE INTO vein_roots (height, root) VALUES (?1, ?2)",
                params![height as i64, root.as_bytes().to_vec()],
            )
            .map_err(sql("recording a root"))?;
        if let Err(error) = transaction.commit() {
            // The tree already holds the action's rows: bring it back to the stored state.
            self.reload()?;
            return Err(sql("committing an action")(error));
        }
        self.roots.insert(height, root);
        self.height = height;
        Ok(outcome)
    }

    /// The current row of `table` with primary key `key`.
    pub fn get(&self, table: &str, key: &Value) -> Result<Option<Vec<Value>>, ReplicaError> {
        self.get_at(table, key, None)
    }

    /// The row of `table` with primary key `key` as of the end of height `height`.
    pub fn get_as_of(
        &self,
        table: &str,
        key: &Value,
        height: u64,
    ) -> Result<Option<Vec<Value>>, ReplicaError> {
        self.get_at(table, key, Some(height))
    }

    fn get_at(
        &self,
        table: &str,
        key: &Value,
        height: Option<u64>,
    ) -> Result<Option<Vec<Value>>, ReplicaError> {
        let schema = self.schema(table)?;
        let pk = pk_bytes(key)?;
        let condition = match height {
            Some(_) => layout::visible_at(2),
            None => "vein_valid_to IS NULL".to_string(),
        };
        let query = format!(
            "SELECT {} FROM \"{}\" WHERE vein_pk = ?1 AND {condition} \
             ORDER BY vein_valid_from DESC LIMIT 1",
            layout::column_list(schema),
            layout::version_table(table)
        );
        let mut statement = self.db.prepare_cached(&query).map_err(sql("preparing a lookup"))?;
        let found = match height {
            Some(height) => statement
                .query_row(params![pk, height as i64], |row| read_values(row, schema.columns.len()))
                .optional(),
            None => statement
                .query_row(params![pk], |row| read_values(row, schema.columns.len()))
                .optional(),
        }
        .map_err(sql("looking a row up"))?;
        found.map(|values| typed_row(schema, values)).transpose()
    }

    /// Every row of `table` visible at `height` (`None`: now), by primary key.
    fn rows_at(
        &self,
        schema: &TableSchema,
        height: Option<u64>,
    ) -> Result<Vec<(Value, Vec<Value>)>, ReplicaError> {
        let condition = match height {
            Some(_) => layout::visible_at(1),
            None => "vein_valid_to IS NULL".to_string(),
        };
        let query = format!(
            "SELECT {} FROM \"{}\" WHERE {condition}",
            layout::column_list(schema),
            layout::version_table(&schema.name)
        );
        let mut statement = self.db.prepare(&query).map_err(sql("preparing a scan"))?;
        let width = schema.columns.len();
        let mapped: Vec<Vec<rusqlite::types::Value>> = match height {
            Some(height) => statement
                .query_map(params![height as i64], |row| read_values(row, width))
                .map_err(sql("scanning"))?
                .collect::<Result<_, _>>(),
            None => statement
                .query_map([], |row| read_values(row, width))
                .map_err(sql("scanning"))?
                .collect::<Result<_, _>>(),
        }
        .map_err(sql("scanning"))?;
        mapped
            .into_iter()
            .map(|values| {
                let row = typed_row(schema, values)?;
                let key = row.get(schema.primary_key).cloned().unwrap_or(Value::Null);
                Ok((key, row))
            })
            .collect()
    }

    /// The state root of the rows visible at `height`, computed from them (not incremental):
    /// what a member checks a past attested root against.
    pub fn recompute_root_at(&self, height: u64) -> Result<Hash, ReplicaError> {
        Ok(self.tree_at(height)?.root())
    }

    fn tree_at(&self, height: u64) -> Result<StateTree, ReplicaError> {
        let mut tree = StateTree::new();
        for schema in self.tables.values() {
            for (key, row) in self.rows_at(schema, Some(height))? {
                tree.set(&schema.name, &key, Some(&row));
            }
        }
        Ok(tree)
    }

    /// The current row `key` of `table` with its proof against [`Replica::root`].
    pub fn prove(
        &self,
        table: &str,
        key: &Value,
    ) -> Result<(Option<Vec<Value>>, RowProof), ReplicaError> {
        let row = self.get(table, key)?;
        Ok((row, self.tree.prove(table, key)))
    }

    /// The row `key` of `table` as of `height` with its proof against [`Replica::root_at`]
    /// (the past tree is rebuilt from the versioned rows: linear in the table size).
    pub fn prove_as_of(
        &self,
        table: &str,
        key: &Value,
        height: u64,
    ) -> Result<(Option<Vec<Value>>, RowProof), ReplicaError> {
        let row = self.get_as_of(table, key, height)?;
        Ok((row, self.tree_at(height)?.prove(table, key)))
    }

    /// Run one read-only SELECT over the tables as they were at the end of `height`: each
    /// table name resolves to a temporary view of the versions visible at that height.
    pub fn select_as_of(&self, query: &str, height: u64) -> Result<QueryRows, ReplicaError> {
        for schema in self.tables.values() {
            // Dropped first: a failed earlier call may have left one behind.
            let view = format!(
                "DROP VIEW IF EXISTS temp.\"{name}\"; CREATE TEMP VIEW \"{name}\" AS SELECT \
                 {columns} FROM main.\"{versions}\" WHERE vein_valid_from <= {height} AND \
                 (vein_valid_to IS NULL OR vein_valid_to > {height})",
                name = schema.name,
                columns = layout::column_list(schema),
                versions = layout::version_table(&schema.name)
            );
            self.db.execute_batch(&view).map_err(sql("creating an as-of view"))?;
        }
        let answer = self.run_select(query);
        for schema in self.tables.values() {
            self.db
                .execute_batch(&format!("DROP VIEW IF EXISTS temp.\"{}\"", schema.name))
                .map_err(sql("dropping an as-of view"))?;
        }
        answer
    }

    fn run_select(&self, query: &str) -> Result<QueryRows, ReplicaError> {
        let mut statement = self.db.prepare(query).map_err(|error| match error {
            rusqlite::Error::MultipleStatement => ReplicaError::NotReadOnly,
            other => {
                ReplicaError::Sql { operation: "preparing a query", reason: other.to_string() }
            }
        })?;
        if !statement.readonly() {
            return Err(ReplicaError::NotReadOnly);
        }
        let columns: Vec<String> = statement.column_names().map(|name| name.to_string()).collect();
        let width = columns.len();
        let rows = statement
            .query_map([], |row| read_values(row, width))
            .map_err(sql("running a query"))?
            .map(|values| {
                values.map(|values| values.into_iter().map(layout::from_sql_untyped).collect())
            })
            .collect::<Result<Vec<Vec<Value>>, _>>()
            .map_err(sql("running a query"))?;
        Ok(QueryRows { columns, rows })
    }

    /// Every logged action with its height, in chain order.
    pub fn actions(&self) -> Result<Vec<(u64, SealedAction)>, ReplicaError> {
        let mut statement = self
            .db
            .prepare("SELECT height, sealed FROM vein_actions ORDER BY seq")
            .map_err(sql("reading the log"))?;
        let stored = statement
            .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?)))
            .map_err(sql("reading the log"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql("reading the log"))?;
        stored
            .into_iter()
            .map(|(height, bytes)| {
                let sealed = wire::decode_body(&bytes, "sealed action").map_err(|error| {
                    ReplicaError::Corrupt {
                        table: "vein_actions".into(),
                        reason: error.to_string(),
                    }
                })?;
                Ok((height as u64, sealed))
            })
            .collect()
    }

    /// Return to the state at the end of `height`: later versions go, versions they closed
    /// become current again, later log entries and roots go (a reorg below the replica's
    /// height, or a restore for inspection).
    pub fn restore_to(&mut self, height: u64) -> Result<(), ReplicaError> {
        let h = height as i64;
        let transaction = self.db.transaction().map_err(sql("starting a restore"))?;
        for schema in self.tables.values() {
            let versions = layout::version_table(&schema.name);
            transaction
                .execute(&format!("DELETE FROM \"{versions}\" WHERE vein_valid_from > ?1"), [h])
                .map_err(sql("dropping later versions"))?;
            transaction
                .execute(
                    &format!(
                        "UPDATE \"{versions}\" SET vein_valid_to = NULL WHERE vein_valid_to > ?1"
                    ),
                    [h],
                )
                .map_err(sql("reopening closed versions"))?;
        }
        transaction
            .execute("DELETE FROM vein_actions WHERE height > ?1", [h])
            .map_err(sql("truncating the log"))?;
        transaction
            .execute("DELETE FROM vein_roots WHERE height > ?1", [h])
            .map_err(sql("truncating the roots"))?;
        transaction.commit().map_err(sql("committing a restore"))?;
        self.reload()
    }

    /// A fresh in-memory replica built by replaying this one's action log from genesis.
    pub fn rebuild(&self, consortium: &Consortium) -> Result<Replica, ReplicaError> {
        let mut fresh = Replica::in_memory(consortium, self.keys.clone())?;
        for (height, sealed) in self.actions()? {
            fresh.apply(height, &sealed)?;
        }
        Ok(fresh)
    }

    /// Every version row of every table (for comparing replicas in tests and checkers).
    pub fn dump_versions(&self) -> Result<Vec<VersionRow>, ReplicaError> {
        let mut dump = Vec::new();
        for schema in self.tables.values() {
            let query = format!(
                "SELECT vein_valid_from, vein_valid_to, {} FROM \"{}\" \
                 ORDER BY vein_pk, vein_valid_from",
                layout::column_list(schema),
                layout::version_table(&schema.name)
            );
            let mut statement = self.db.prepare(&query).map_err(sql("dumping"))?;
            let width = schema.columns.len() + 2;
            let rows = statement
                .query_map([], |row| read_values(row, width))
                .map_err(sql("dumping"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql("dumping"))?;
            for mut values in rows {
                let rest = values.split_off(2);
                let from = match values[0] {
                    rusqlite::types::Value::Integer(from) => from as u64,
                    _ => 0,
                };
                let to = match values[1] {
                    rusqlite::types::Value::Integer(to) => Some(to as u64),
                    _ => None,
                };
                let row = typed_row(schema, rest)?;
                dump.push(VersionRow { table: schema.name.clone(), from, to, row });
            }
        }
        Ok(dump)
    }
}

fn pk_bytes(key: &Value) -> Result<Vec<u8>, ReplicaError> {
    wire::encode_body(key, "primary key").map_err(|error| {
        ReplicaError::Invalid(ConsortiumError::Malformed { reason: error.to_string() })
    })
}

fn read_values(
    row: &rusqlite::Row<'_>,
    width: usize,
) -> rusqlite::Result<Vec<rusqlite::types::Value>> {
    (0..width).map(|index| row.get::<_, rusqlite::types::Value>(index)).collect()
}

fn typed_row(
    schema: &TableSchema,
    values: Vec<rusqlite::types::Value>,
) -> Result<Vec<Value>, ReplicaError> {
    schema
        .columns
        .iter()
        .zip(values)
        .map(|(column, value)| {
            layout::from_sql(value, column.column_type).ok_or_else(|| ReplicaError::Corrupt {
                table: schema.name.clone(),
                reason: format!("column {} holds a value of another type", column.name),
            })
        })
        .collect()
}

/// Run an action's operations at `height` inside the caller's savepoint. Returns the rows it
/// changed (key, new row or `None` for deleted), or why it is refused.
fn apply_ops(
    db: &Connection,
    schema: &TableSchema,
    action: &Action,
    height: u64,
) -> Result<Vec<RowChange>, String> {
    let versions = layout::version_table(&schema.name);
    let h = height as i64;
    let mut changes = Vec::with_capacity(action.ops.len());
    for op in &action.ops {
        let (key, row) = match op {
            RowOp::Insert { row } | RowOp::Upsert { row } => {
                (row.get(schema.primary_key).cloned().unwrap_or(Value::Null), Some(row))
            }
            RowOp::Delete { key } => (key.clone(), None),
        };
        let pk = pk_bytes(&key).map_err(|error| error.to_string())?;
        let current: Option<(i64, i64)> = db
            .query_row(
                &format!(
                    "SELECT vein_row, vein_valid_from FROM \"{versions}\" \
                     WHERE vein_pk = ?1 AND vein_valid_to IS NULL"
                ),
                params![pk],
                |found| Ok((found.get(0)?, found.get(1)?)),
            )
            .optional()
            .map_err(|error| error.to_string())?;
        match (op, &current) {
            (RowOp::Insert { .. }, Some(_)) => {
                return Err(format!("insert into {}: the key is present", schema.name));
            }
            (RowOp::Delete { .. }, None) => {
                return Err(format!("delete from {}: the key is absent", schema.name));
            }
            _ => {}
        }
        if let Some((version, valid_from)) = current {
            // Replaced within the height that wrote it: the version was never visible.
            let close = if valid_from == h {
                format!("DELETE FROM \"{versions}\" WHERE vein_row = ?1")
            } else {
                format!("UPDATE \"{versions}\" SET vein_valid_to = {h} WHERE vein_row = ?1")
            };
            db.execute(&close, [version]).map_err(|error| error.to_string())?;
        }
        if let Some(row) = row {
            let mut values =
                vec![rusqlite::types::Value::Blob(pk), rusqlite::types::Value::Integer(h)];
            values.extend(row.iter().map(layout::to_sql));
            let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
            let insert = format!(
                "INSERT INTO \"{versions}\" (vein_pk, vein_valid_from, {}) VALUES ({})",
                layout::column_list(schema),
                placeholders.join(", ")
            );
            db.execute(&insert, params_from_iter(values)).map_err(|error| error.to_string())?;
        }
        changes.push((key, row.cloned()));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests;
