//! Table schemas and typed values. A consortium's tables are declared on chain when it is
//! created: each has named, typed columns and one primary-key column. Names are restricted to
//! short ASCII identifiers so that the SQL replica can quote them without any escaping question,
//! and values carry their type so that a row operation means the same thing on every member.

use super::error::ConsortiumError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Longest table or column name, in bytes.
pub const NAME_BYTES_MAX: usize = 48;
/// Most columns in one table.
pub const COLUMNS_MAX: usize = 64;
/// Most tables in one consortium.
pub const TABLES_MAX: usize = 64;

/// The type of a column. Floating point is left out on purpose: its rounding in SQL
/// aggregates differs between builds, and a replica root must be the same on every member.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum ColumnType {
    /// A signed 64-bit integer ([`Value::Integer`]).
    Integer,
    /// UTF-8 text ([`Value::Text`]).
    Text,
    /// Raw bytes ([`Value::Blob`]).
    Blob,
    /// A boolean ([`Value::Bool`]).
    Bool,
}

impl ColumnType {
    /// The lower-case name used in error messages (`integer`, `text`, `blob`, `bool`).
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Text => "text",
            ColumnType::Blob => "blob",
            ColumnType::Bool => "bool",
        }
    }
}

/// One typed value of a row.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Value {
    /// SQL NULL: allowed only in a nullable column, never in the primary key.
    Null,
    /// A value of an `Integer` column.
    Integer(i64),
    /// A value of a `Text` column.
    Text(String),
    /// A value of a `Blob` column.
    Blob(Vec<u8>),
    /// A value of a `Bool` column.
    Bool(bool),
}

impl Value {
    /// The column type this value fits, or `None` for `Null` (which fits a nullable column).
    pub fn column_type(&self) -> Option<ColumnType> {
        match self {
            Value::Null => None,
            Value::Integer(_) => Some(ColumnType::Integer),
            Value::Text(_) => Some(ColumnType::Text),
            Value::Blob(_) => Some(ColumnType::Blob),
            Value::Bool(_) => Some(ColumnType::Bool),
        }
    }
}

/// One typed column of a [`TableSchema`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Column {
    /// Column name, checked by [`check_name`]; unique within its table ignoring case.
    pub name: String,
    /// Type every non-null value of the column must have.
    pub column_type: ColumnType,
    /// Whether the column accepts [`Value::Null`]; the primary key never does.
    pub nullable: bool,
}

/// A table as declared on chain at consortium creation; fixed for the consortium's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableSchema {
    /// Table name, checked by [`check_name`]; unique within its consortium ignoring case.
    pub name: String,
    /// Columns in row order: a row holds one value per column, in this order (1..=`COLUMNS_MAX`).
    pub columns: Vec<Column>,
    /// Index into `columns` of the primary key (never nullable).
    pub primary_key: usize,
}

/// A name is 1..=48 bytes of ASCII letters, digits and `_`, not starting with a digit, and
/// not starting with `vein_` (the replica's own bookkeeping columns and tables use that prefix).
pub fn check_name(name: &str) -> Result<(), ConsortiumError> {
    let bad = || ConsortiumError::BadName { name: name.chars().take(NAME_BYTES_MAX + 8).collect() };
    let first = name.chars().next().ok_or_else(bad)?;
    if name.len() > NAME_BYTES_MAX
        || first.is_ascii_digit()
        || name.to_ascii_lowercase().starts_with("vein_")
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(bad());
    }
    Ok(())
}

impl TableSchema {
    /// Structural validity: good names, distinct columns (case-insensitively, as SQL compares
    /// them), a bounded column count, and a non-nullable primary key inside the table.
    pub fn validate(&self) -> Result<(), ConsortiumError> {
        check_name(&self.name)?;
        if self.columns.is_empty() || self.columns.len() > COLUMNS_MAX {
            return Err(ConsortiumError::BadColumnCount {
                table: self.name.clone(),
                count: self.columns.len(),
                limit: COLUMNS_MAX,
            });
        }
        let mut seen = BTreeSet::new();
        for column in &self.columns {
            check_name(&column.name)?;
            if !seen.insert(column.name.to_ascii_lowercase()) {
                return Err(ConsortiumError::DuplicateColumn {
                    table: self.name.clone(),
                    column: column.name.clone(),
                });
            }
        }
        match self.columns.get(self.primary_key) {
            Some(key) if !key.nullable => Ok(()),
            _ => Err(ConsortiumError::BadPrimaryKey { table: self.name.clone() }),
        }
    }

    /// The primary-key column.
    pub fn key_column(&self) -> Option<&Column> {
        self.columns.get(self.primary_key)
    }

    /// Does `row` fit: one value per column, each of the column's type or a `Null` where the
    /// column is nullable?
    pub fn check_row(&self, row: &[Value]) -> Result<(), ConsortiumError> {
        if row.len() != self.columns.len() {
            return Err(ConsortiumError::RowArity {
                table: self.name.clone(),
                expected: self.columns.len(),
                got: row.len(),
            });
        }
        for (column, value) in self.columns.iter().zip(row) {
            self.check_value(column, value)?;
        }
        Ok(())
    }

    /// Does `key` fit the primary-key column?
    pub fn check_key(&self, key: &Value) -> Result<(), ConsortiumError> {
        let column = self
            .key_column()
            .ok_or_else(|| ConsortiumError::BadPrimaryKey { table: self.name.clone() })?;
        self.check_value(column, key)
    }

    fn check_value(&self, column: &Column, value: &Value) -> Result<(), ConsortiumError> {
        match value.column_type() {
            None if column.nullable => Ok(()),
            Some(found) if found == column.column_type => Ok(()),
            _ => Err(ConsortiumError::ValueType {
                table: self.name.clone(),
                column: column.name.clone(),
                expected: column.column_type.name(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, column_type: ColumnType, nullable: bool) -> Column {
        Column { name: name.to_string(), column_type, nullable }
    }

    #[test]
    fn names_are_plain_identifiers() {
        assert!(check_name("patients").is_ok());
        assert!(check_name("a_1").is_ok());
        for bad in ["", "1a", "a b", "a\"b", "vein_rows", "VEIN_x", &"x".repeat(49)] {
            assert!(check_name(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_schema_needs_distinct_columns_and_a_non_null_key() {
        let mut table = TableSchema {
            name: "t".into(),
            columns: vec![
                column("id", ColumnType::Integer, false),
                column("note", ColumnType::Text, true),
            ],
            primary_key: 0,
        };
        assert!(table.validate().is_ok());
        table.primary_key = 1;
        assert!(matches!(table.validate(), Err(ConsortiumError::BadPrimaryKey { .. })));
        table.primary_key = 5;
        assert!(matches!(table.validate(), Err(ConsortiumError::BadPrimaryKey { .. })));
        table.primary_key = 0;
        table.columns.push(column("ID", ColumnType::Text, false));
        assert!(matches!(table.validate(), Err(ConsortiumError::DuplicateColumn { .. })));
    }

    #[test]
    fn rows_must_match_types_and_arity() {
        let table = TableSchema {
            name: "t".into(),
            columns: vec![
                column("id", ColumnType::Integer, false),
                column("note", ColumnType::Text, true),
            ],
            primary_key: 0,
        };
        assert!(table.check_row(&[Value::Integer(1), Value::Null]).is_ok());
        assert!(table.check_row(&[Value::Integer(1), Value::Text("x".into())]).is_ok());
        assert!(matches!(
            table.check_row(&[Value::Null, Value::Null]),
            Err(ConsortiumError::ValueType { .. })
        ));
        assert!(matches!(
            table.check_row(&[Value::Integer(1)]),
            Err(ConsortiumError::RowArity { expected: 2, got: 1, .. })
        ));
        assert!(table.check_key(&Value::Text("1".into())).is_err());
    }
}
