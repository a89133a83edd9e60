//! The small text syntaxes of `vein-testnet db`: a table schema, row operations and value
//! literals (docs/consortium.md, "Operators and users").
//!
//! - A table: `NAME(COLUMN TYPE[?] [key], ...)`, e.g. `patients(id integer key, name text,
//!   note text?)`. Types are `integer` (or `int`), `text`, `blob` and `bool`; `?` makes a column
//!   nullable; `key` marks the primary key (default: the first column).
//! - Row operations, separated by `;`, all on one table (one action is one table's atomic
//!   list): `insert TABLE (v, ...)[, (v, ...)]`, `upsert TABLE (v, ...)[, ...]`,
//!   `delete TABLE KEY[, KEY]`.
//! - Values: `-12`, `'text'` (`''` is a quote inside), `x'00ff'` (a blob), `true`, `false`,
//!   `null`. A value's type must be its column's: nothing is converted, so a row means the same
//!   on every member node.
//!
//! Parsing is separate from the schema check: [`parse_ops`] gives untyped literals turned into
//! [`Value`]s, and the caller checks them against the table with the ledger's own
//! `TableSchema::check_row` (`Action::validate`).

use vein_node::core::consortium::{Column, ColumnType, RowOp, TableSchema, Value};

/// Why a schema, an operation or a value did not parse. `at` is a byte offset into the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {text:?}: {reason} (at byte {at})")]
pub struct SyntaxError {
    /// What was being parsed: `table`, `operations` or `value`.
    pub what: &'static str,
    /// The whole text given, as typed.
    pub text: String,
    /// Byte offset into `text` where the problem was found.
    pub at: usize,
    /// What was expected or is wrong there.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Integer(i64),
    Text(String),
    Blob(Vec<u8>),
    Symbol(char),
}

/// A token and where it starts.
type Located = (Token, usize);

struct Lexer<'a> {
    what: &'static str,
    text: &'a str,
}

impl Lexer<'_> {
    fn error(&self, at: usize, reason: impl Into<String>) -> SyntaxError {
        SyntaxError { what: self.what, text: self.text.to_string(), at, reason: reason.into() }
    }

    fn tokens(&self) -> Result<Vec<Located>, SyntaxError> {
        let bytes = self.text.as_bytes();
        let mut tokens = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let c = bytes[at] as char;
            let start = at;
            if c.is_ascii_whitespace() {
                at += 1;
            } else if (c == 'x' || c == 'X') && bytes.get(at + 1) == Some(&b'\'') {
                let (text, next) = self.quoted(at + 1)?;
                let blob = hex::decode(&text)
                    .map_err(|_| self.error(start, format!("x'{text}' is not hex")))?;
                tokens.push((Token::Blob(blob), start));
                at = next;
            } else if c.is_ascii_alphabetic() || c == '_' {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                tokens.push((Token::Word(self.text[start..at].to_string()), start));
            } else if c.is_ascii_digit()
                || (c == '-' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit))
            {
                at += 1;
                while at < bytes.len() && bytes[at].is_ascii_digit() {
                    at += 1;
                }
                let digits = &self.text[start..at];
                let value = digits
                    .parse::<i64>()
                    .map_err(|_| self.error(start, format!("{digits} is not a 64-bit integer")))?;
                tokens.push((Token::Integer(value), start));
            } else if c == '\'' {
                let (text, next) = self.quoted(at)?;
                tokens.push((Token::Text(text), start));
                at = next;
            } else if "(),;?".contains(c) {
                tokens.push((Token::Symbol(c), start));
                at += 1;
            } else {
                let shown = self.text[start..].chars().next().unwrap_or(c);
                return Err(self.error(start, format!("unexpected {shown:?}")));
            }
        }
        Ok(tokens)
    }

    /// The text of a `'...'` literal starting at `open` (`''` is one quote) and the offset
    /// after its closing quote.
    fn quoted(&self, open: usize) -> Result<(String, usize), SyntaxError> {
        let mut out = String::new();
        let mut chars = self.text[open + 1..].char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            if c != '\'' {
                out.push(c);
                continue;
            }
            if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Ok((out, open + 1 + offset + 1));
        }
        Err(self.error(open, "unterminated quote"))
    }
}

/// A cursor over tokens with the errors of one syntax.
struct Parser<'a> {
    lexer: Lexer<'a>,
    tokens: Vec<Located>,
    next: usize,
}

impl<'a> Parser<'a> {
    fn new(what: &'static str, text: &'a str) -> Result<Parser<'a>, SyntaxError> {
        let lexer = Lexer { what, text };
        let tokens = lexer.tokens()?;
        Ok(Parser { lexer, tokens, next: 0 })
    }

    fn here(&self) -> usize {
        self.tokens.get(self.next).map_or(self.lexer.text.len(), |(_, at)| *at)
    }

    fn error(&self, reason: impl Into<String>) -> SyntaxError {
        self.lexer.error(self.here(), reason)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(token, _)| token)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.peek().cloned();
        self.next += usize::from(token.is_some());
        token
    }

    fn at_end(&self) -> bool {
        self.next >= self.tokens.len()
    }

    fn symbol(&mut self, symbol: char) -> Result<(), SyntaxError> {
        match self.peek() {
            Some(Token::Symbol(found)) if *found == symbol => {
                self.next += 1;
                Ok(())
            }
            _ => Err(self.error(format!("expected {symbol:?}"))),
        }
    }

    fn eat(&mut self, symbol: char) -> bool {
        self.symbol(symbol).is_ok()
    }

    fn word(&mut self, expected: &str) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Token::Word(word)) => {
                let word = word.clone();
                self.next += 1;
                Ok(word)
            }
            _ => Err(self.error(format!("expected {expected}"))),
        }
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        let error = self.error("expected a value: 12, 'text', x'00ff', true, false or null");
        Ok(match self.take() {
            Some(Token::Integer(value)) => Value::Integer(value),
            Some(Token::Text(text)) => Value::Text(text),
            Some(Token::Blob(blob)) => Value::Blob(blob),
            Some(Token::Word(word)) => match word.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => return Err(error),
            },
            _ => return Err(error),
        })
    }

    fn row(&mut self) -> Result<Vec<Value>, SyntaxError> {
        self.symbol('(')?;
        let mut row = vec![self.value()?];
        while self.eat(',') {
            row.push(self.value()?);
        }
        self.symbol(')')?;
        Ok(row)
    }
}

fn column_type(word: &str) -> Option<ColumnType> {
    Some(match word.to_ascii_lowercase().as_str() {
        "integer" | "int" => ColumnType::Integer,
        "text" => ColumnType::Text,
        "blob" => ColumnType::Blob,
        "bool" | "boolean" => ColumnType::Bool,
        _ => return None,
    })
}

/// Parse `NAME(COLUMN TYPE[?] [key], ...)`. Names are checked by the ledger's rules later
/// (`TableSchema::validate`), so the same names are refused here as on chain.
pub fn parse_table(text: &str) -> Result<TableSchema, SyntaxError> {
    let mut parser = Parser::new("table", text)?;
    let name = parser.word("a table name")?;
    parser.symbol('(')?;
    let mut columns = Vec::new();
    let mut primary_key = None;
    loop {
        let column = parser.word("a column name")?;
        let type_at = parser.here();
        let type_word = parser.word("a column type (integer, text, blob, bool)")?;
        let column_type = column_type(&type_word).ok_or_else(|| {
            parser.lexer.error(
                type_at,
                format!("unknown type {type_word:?}: expected integer, text, blob or bool"),
            )
        })?;
        let nullable = parser.eat('?');
        if matches!(parser.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case("key")) {
            parser.next += 1;
            if primary_key.replace(columns.len()).is_some() {
                return Err(parser.error("a table has one key column"));
            }
        }
        columns.push(Column { name: column, column_type, nullable });
        if !parser.eat(',') {
            break;
        }
    }
    parser.symbol(')')?;
    if !parser.at_end() {
        return Err(parser.error("unexpected text after the table"));
    }
    Ok(TableSchema { name, columns, primary_key: primary_key.unwrap_or(0) })
}

/// Parse row operations; returns the one table they all name and the operations in order.
pub fn parse_ops(text: &str) -> Result<(String, Vec<RowOp>), SyntaxError> {
    let mut parser = Parser::new("operations", text)?;
    let mut table: Option<String> = None;
    let mut ops = Vec::new();
    while !parser.at_end() {
        if parser.eat(';') {
            continue;
        }
        let verb = parser.word("insert, upsert or delete")?.to_ascii_lowercase();
        let named = parser.word("a table name")?;
        match &table {
            Some(first) if *first != named => {
                return Err(parser.error(format!(
                    "every operation of one action is on one table: {first} and {named} \
                     (run one exec per table)"
                )));
            }
            _ => table = Some(named),
        }
        loop {
            match verb.as_str() {
                "insert" => ops.push(RowOp::Insert { row: parser.row()? }),
                "upsert" => ops.push(RowOp::Upsert { row: parser.row()? }),
                "delete" => ops.push(RowOp::Delete { key: parser.value()? }),
                _ => {
                    return Err(
                        parser.error(format!("{verb:?}: expected insert, upsert or delete"))
                    );
                }
            }
            if !parser.eat(',') {
                break;
            }
        }
        if !parser.at_end() {
            parser.symbol(';')?;
        }
    }
    let table = table.ok_or_else(|| parser.error("no operation"))?;
    Ok((table, ops))
}

/// Parse one value literal (a `--key`).
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    let mut parser = Parser::new("value", text)?;
    let value = parser.value()?;
    if !parser.at_end() {
        return Err(parser.error("one value expected"));
    }
    Ok(value)
}

/// A value written in the syntax [`parse_value`] reads.
pub fn format_value(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Integer(value) => value.to_string(),
        Value::Text(text) => format!("'{}'", text.replace('\'', "''")),
        Value::Blob(blob) => format!("x'{}'", hex::encode(blob)),
        Value::Bool(value) => value.to_string(),
    }
}

/// A schema written in the syntax [`parse_table`] reads.
pub fn format_table(table: &TableSchema) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            format!(
                "{} {}{}{}",
                column.name,
                column.column_type.name(),
                if column.nullable { "?" } else { "" },
                if index == table.primary_key { " key" } else { "" }
            )
        })
        .collect();
    format!("{}({})", table.name, columns.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_parses_with_its_key_and_nullable_columns_and_formats_back() {
        let text = "patients(id integer, name text key, note text?, photo blob?, ok bool)";
        let table = parse_table(text).unwrap();
        assert_eq!(table.primary_key, 1);
        assert!(table.columns[2].nullable && !table.columns[1].nullable);
        assert_eq!(table.columns[3].column_type, ColumnType::Blob);
        assert_eq!(parse_table(&format_table(&table)).unwrap(), table);
        assert_eq!(parse_table("t(a int)").unwrap().primary_key, 0);
    }

    #[test]
    fn bad_tables_are_refused_with_where() {
        for bad in ["t", "t(", "t()", "t(a float)", "t(a int key, b int key)", "t(a int) x", "t(a)"]
        {
            assert!(parse_table(bad).is_err(), "{bad:?} must be refused");
        }
        let error = parse_table("t(a int, b float)").unwrap_err();
        assert!(error.reason.contains("float") && error.at == 11, "{error}");
    }

    #[test]
    fn operations_parse_with_every_value_kind() {
        let (table, ops) = parse_ops(
            "insert p (1, 'Ada''s', null, x'00ff', true), (2, 'B', 'n', x'', false); \
             upsert p (-3, 'C', null, x'01', true); delete p 1, 2;",
        )
        .unwrap();
        assert_eq!(table, "p");
        assert_eq!(ops.len(), 5);
        assert_eq!(
            ops[0],
            RowOp::Insert {
                row: vec![
                    Value::Integer(1),
                    Value::Text("Ada's".into()),
                    Value::Null,
                    Value::Blob(vec![0, 255]),
                    Value::Bool(true)
                ]
            }
        );
        assert!(matches!(&ops[2], RowOp::Upsert { row } if row[0] == Value::Integer(-3)));
        assert_eq!(ops[4], RowOp::Delete { key: Value::Integer(2) });
    }

    #[test]
    fn bad_operations_are_refused() {
        for bad in [
            "",
            "insert p",
            "insert p (1,",
            "insert p (1) upsert p (2)",
            "drop p 1",
            "insert p (1); insert q (2)",
            "insert p ('unterminated)",
            "insert p (x'zz')",
            "insert p (99999999999999999999)",
            "delete p maybe",
        ] {
            assert!(parse_ops(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn values_round_trip_through_their_text() {
        for value in [
            Value::Null,
            Value::Integer(-7),
            Value::Text("it's".into()),
            Value::Blob(vec![1, 2]),
            Value::Bool(false),
        ] {
            assert_eq!(parse_value(&format_value(&value)).unwrap(), value);
        }
        assert!(parse_value("1 2").is_err());
    }
}
