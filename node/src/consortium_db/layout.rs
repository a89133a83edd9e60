//! The replica's SQL layout: SQL:2011-style system-versioned tables keyed by checkpoint height.
//! Table `T` of the consortium is stored as `vein_v_T`, one row per version of a row:
//!
//! ```sql
//! CREATE TABLE "vein_v_T" (vein_row INTEGER PRIMARY KEY, vein_pk BLOB NOT NULL,
//!   vein_valid_from INTEGER NOT NULL, vein_valid_to INTEGER, <columns>) STRICT;
//! CREATE INDEX ... ON "vein_v_T"(vein_pk, vein_valid_from);
//! CREATE UNIQUE INDEX ... ON "vein_v_T"(vein_pk) WHERE vein_valid_to IS NULL;
//! ```
//!
//! A version is visible at height H when `valid_from <= H < valid_to` (`valid_to` NULL: still
//! current). Only the state at the end of a height is visible, so a version replaced within the
//! height that wrote it is overwritten in place rather than kept with an empty interval.
//! `STRICT` tables refuse a value of the wrong storage class instead of converting it.

use crate::core::consortium::{ColumnType, TableSchema, Value};
use rusqlite::types::Value as SqlValue;

/// The physical table holding `table`'s versions. User names never start with `vein_`
/// (`schema::check_name`), so these never collide with a consortium's own tables.
pub fn version_table(table: &str) -> String {
    format!("vein_v_{table}")
}

fn sql_type(column_type: ColumnType) -> &'static str {
    match column_type {
        ColumnType::Integer | ColumnType::Bool => "INTEGER",
        ColumnType::Text => "TEXT",
        ColumnType::Blob => "BLOB",
    }
}

/// The DDL of one versioned table and its indexes. Names are checked identifiers, so
/// double-quoting them is exact.
pub fn create_table_sql(schema: &TableSchema) -> String {
    let versions = version_table(&schema.name);
    let columns: Vec<String> = schema
        .columns
        .iter()
        .map(|column| {
            let null = if column.nullable { "" } else { " NOT NULL" };
            format!("\"{}\" {}{null}", column.name, sql_type(column.column_type))
        })
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS \"{versions}\" (vein_row INTEGER PRIMARY KEY, \
         vein_pk BLOB NOT NULL, vein_valid_from INTEGER NOT NULL, vein_valid_to INTEGER, {}) \
         STRICT;\n\
         CREATE INDEX IF NOT EXISTS \"{versions}_asof\" ON \"{versions}\"(vein_pk, vein_valid_from);\n\
         CREATE UNIQUE INDEX IF NOT EXISTS \"{versions}_now\" ON \"{versions}\"(vein_pk) \
         WHERE vein_valid_to IS NULL;",
        columns.join(", ")
    )
}

/// The quoted, comma-separated user columns of `schema`.
pub fn column_list(schema: &TableSchema) -> String {
    let names: Vec<String> =
        schema.columns.iter().map(|column| format!("\"{}\"", column.name)).collect();
    names.join(", ")
}

/// The visibility condition of a version at the height bound to parameter `?{param}`.
pub fn visible_at(param: usize) -> String {
    format!("vein_valid_from <= ?{param} AND (vein_valid_to IS NULL OR vein_valid_to > ?{param})")
}

/// The SQLite value stored for `value` (a bool as integer 0 or 1).
pub fn to_sql(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Integer(integer) => SqlValue::Integer(*integer),
        Value::Text(text) => SqlValue::Text(text.clone()),
        Value::Blob(blob) => SqlValue::Blob(blob.clone()),
        Value::Bool(flag) => SqlValue::Integer(i64::from(*flag)),
    }
}

/// A stored value read back as the column's type; `None` if storage disagrees with the schema
/// (the replica file was altered outside the replica).
pub fn from_sql(value: SqlValue, column_type: ColumnType) -> Option<Value> {
    match (value, column_type) {
        (SqlValue::Null, _) => Some(Value::Null),
        (SqlValue::Integer(integer), ColumnType::Integer) => Some(Value::Integer(integer)),
        (SqlValue::Integer(0), ColumnType::Bool) => Some(Value::Bool(false)),
        (SqlValue::Integer(1), ColumnType::Bool) => Some(Value::Bool(true)),
        (SqlValue::Text(text), ColumnType::Text) => Some(Value::Text(text)),
        (SqlValue::Blob(blob), ColumnType::Blob) => Some(Value::Blob(blob)),
        _ => None,
    }
}

/// A value of a free query's result, by its SQLite storage class (a query's columns need not
/// be table columns). A REAL (from an aggregate such as AVG) is returned as its text.
pub fn from_sql_untyped(value: SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(integer) => Value::Integer(integer),
        SqlValue::Real(real) => Value::Text(real.to_string()),
        SqlValue::Text(text) => Value::Text(text),
        SqlValue::Blob(blob) => Value::Blob(blob),
    }
}
