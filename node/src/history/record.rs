//! What a client saw: one [`Record`] per step of one operation (a transfer it asked a node to
//! take), in the order the client observed them, and the [`History`] they fold into.
//!
//! A record is one JSON object per line in a history file (`vein-testnet load --history`), with
//! ids and accounts as 64 hex: `{"type":"invoke","op":0,...}`. Each operation is invoked once,
//! then answered at most once (`ok`, `fail` or `unknown`), and, once acknowledged, seen `final`
//! at most once.

use crate::core::crypto::AccountId;
use crate::core::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The transfer an operation asked for. `nonce` and `id` are known up front when the client
/// signs; when the node signs, the `ok` answer carries the id and the node's ledger the nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOp {
    /// The paying account.
    #[serde(with = "hex_account")]
    pub from: AccountId,
    /// The receiving account.
    #[serde(with = "hex_account")]
    pub to: AccountId,
    /// Base units moved.
    pub amount: u64,
    /// Fee offered, in base units.
    pub fee: u64,
    /// The sender's nonce, when the client chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// The unit id, when the client signed it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_hash_option")]
    pub id: Option<Hash>,
}

/// One step of one operation, as the client observed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The client's starting point, first in a history if present.
    Begin {
        /// The client's clock.
        at_ms: u64,
        /// Nodes' ledgers are read from this height (the head when the client began).
        from_height: u64,
        /// The client's own accounts (used by no one else while the history is checked) and
        /// their balances when it began; empty when the client's senders are shared.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        balances: Vec<StartBalance>,
    },
    /// The client sent `transfer` to node `node`.
    Invoke {
        /// The operation's number (unique in the history).
        op: u64,
        /// The client's clock when it sent it (Unix ms, or simulated ms).
        at_ms: u64,
        /// Which node it was sent to (its index in the net).
        node: usize,
        /// What was asked.
        transfer: TransferOp,
    },
    /// The node acknowledged it: accepted into its pool as unit `id`.
    Ok {
        /// The operation's number.
        op: u64,
        /// When the answer came.
        at_ms: u64,
        /// The unit id the node answered.
        #[serde(with = "hex_hash")]
        id: Hash,
    },
    /// The node refused it: it never enters any ledger.
    Fail {
        /// The operation's number.
        op: u64,
        /// When the answer came.
        at_ms: u64,
        /// The node's reason.
        reason: String,
    },
    /// No answer (a transport error, a timeout): the node may or may not have taken it.
    Unknown {
        /// The operation's number.
        op: u64,
        /// When the client gave up.
        at_ms: u64,
        /// What went wrong.
        reason: String,
    },
    /// The node the client asked reported it final.
    Final {
        /// The operation's number.
        op: u64,
        /// When the client learnt it.
        at_ms: u64,
        /// Height of the final checkpoint that confirmed it.
        height: u64,
        /// That checkpoint's id, when the client learnt it.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_hash_option")]
        checkpoint: Option<Hash>,
        /// Whether the ledger applied it (`false`: confirmed but ignored, e.g. a lost conflict).
        applied: bool,
    },
}

/// One of the client's accounts and its balance when the history began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartBalance {
    /// The account.
    #[serde(with = "hex_account")]
    pub account: AccountId,
    /// Its balance, base units.
    pub balance: u64,
}

impl Record {
    /// The operation this record is about (`None` for `begin`).
    pub fn op(&self) -> Option<u64> {
        match self {
            Record::Begin { .. } => None,
            Record::Invoke { op, .. }
            | Record::Ok { op, .. }
            | Record::Fail { op, .. }
            | Record::Unknown { op, .. }
            | Record::Final { op, .. } => Some(*op),
        }
    }
}

/// How an operation's request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// No answer recorded (the client stopped before one came).
    None,
    /// Acknowledged as unit `id`.
    Ok(Hash),
    /// Refused.
    Fail(String),
    /// Unknown: maybe taken.
    Unknown(String),
}

/// Finality as the client saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenFinal {
    /// Height of the final checkpoint that confirmed it.
    pub height: u64,
    /// That checkpoint's id, if the client learnt it.
    pub checkpoint: Option<Hash>,
    /// Whether it applied.
    pub applied: bool,
}

/// One operation, folded from its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Its number.
    pub op: u64,
    /// The node it was sent to.
    pub node: usize,
    /// What was asked.
    pub transfer: TransferOp,
    /// How the request ended.
    pub answer: Answer,
    /// Finality, if the client saw it.
    pub seen_final: Option<SeenFinal>,
}

impl Operation {
    /// The unit id: the acknowledged one, else the one the client signed.
    pub fn id(&self) -> Option<Hash> {
        match self.answer {
            Answer::Ok(id) => Some(id),
            _ => self.transfer.id,
        }
    }
}

/// Why records do not make a history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// A line of a history file is not a record.
    #[error("history line {line}: {source}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A record names an operation never invoked before it.
    #[error("history record {index}: operation {op} was not invoked before")]
    NotInvoked {
        /// 0-based record index.
        index: usize,
        /// The operation.
        op: u64,
    },
    /// An operation is invoked twice.
    #[error("history record {index}: operation {op} invoked twice")]
    InvokedTwice {
        /// 0-based record index.
        index: usize,
        /// The operation.
        op: u64,
    },
    /// A `begin` record that is not the first.
    #[error("history record {index}: begin is allowed only as the first record")]
    LateBegin {
        /// 0-based record index.
        index: usize,
    },
    /// An operation is answered twice, or seen final twice, or final without an `ok`.
    #[error("history record {index}: operation {op}: {what}")]
    OutOfOrder {
        /// 0-based record index.
        index: usize,
        /// The operation.
        op: u64,
        /// What came out of order.
        what: &'static str,
    },
}

/// A client's whole history: its operations by number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Every operation, by number.
    pub operations: BTreeMap<u64, Operation>,
    /// Height from which nodes' ledgers are read (`begin`; 0 without one).
    pub from_height: u64,
    /// The client's own accounts and their balances at the start, when it has such.
    pub balances: Option<BTreeMap<AccountId, u64>>,
}

impl History {
    /// Fold records, in the order observed, into operations; a record out of order is an error.
    pub fn from_records(records: &[Record]) -> Result<History, HistoryError> {
        let mut history = History::default();
        let operations = &mut history.operations;
        for (index, record) in records.iter().enumerate() {
            let Some(op) = record.op() else {
                let Record::Begin { from_height, balances, .. } = record else { continue };
                if index > 0 {
                    return Err(HistoryError::LateBegin { index });
                }
                history.from_height = *from_height;
                history.balances = (!balances.is_empty())
                    .then(|| balances.iter().map(|b| (b.account, b.balance)).collect());
                continue;
            };
            if let Record::Invoke { node, transfer, .. } = record {
                if operations.contains_key(&op) {
                    return Err(HistoryError::InvokedTwice { index, op });
                }
                let operation = Operation {
                    op,
                    node: *node,
                    transfer: transfer.clone(),
                    answer: Answer::None,
                    seen_final: None,
                };
                operations.insert(op, operation);
                continue;
            }
            let operation =
                operations.get_mut(&op).ok_or(HistoryError::NotInvoked { index, op })?;
            let out_of_order = |what| HistoryError::OutOfOrder { index, op, what };
            match record {
                Record::Begin { .. } | Record::Invoke { .. } => {}
                Record::Ok { .. } | Record::Fail { .. } | Record::Unknown { .. }
                    if operation.answer != Answer::None =>
                {
                    return Err(out_of_order("answered twice"));
                }
                Record::Ok { id, .. } => operation.answer = Answer::Ok(*id),
                Record::Fail { reason, .. } => operation.answer = Answer::Fail(reason.clone()),
                Record::Unknown { reason, .. } => {
                    operation.answer = Answer::Unknown(reason.clone());
                }
                Record::Final { height, checkpoint, applied, .. } => {
                    if !matches!(operation.answer, Answer::Ok(_)) {
                        return Err(out_of_order("final without an acknowledgement"));
                    }
                    if operation.seen_final.is_some() {
                        return Err(out_of_order("final twice"));
                    }
                    let (height, checkpoint, applied) = (*height, *checkpoint, *applied);
                    operation.seen_final = Some(SeenFinal { height, checkpoint, applied });
                }
            }
        }
        Ok(history)
    }

    /// Parse a JSON-lines history file's text (blank lines skipped) and fold it.
    pub fn parse_jsonl(text: &str) -> Result<History, HistoryError> {
        let records = parse_records(text)?;
        History::from_records(&records)
    }

    /// Operations the client saw final.
    pub fn finals(&self) -> impl Iterator<Item = (&Operation, SeenFinal)> {
        self.operations.values().filter_map(|op| op.seen_final.map(|seen| (op, seen)))
    }
}

/// The records of a JSON-lines text, in order.
pub fn parse_records(text: &str) -> Result<Vec<Record>, HistoryError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|source| HistoryError::Parse { line: index + 1, source })
        })
        .collect()
}

/// Ids and accounts as 64 hex in history files, as everywhere else on the wire.
mod hex_hash {
    use crate::core::hash::Hash;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(id: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&id.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_hash(&text).ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

mod hex_hash_option {
    use crate::core::hash::Hash;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(id: &Option<Hash>, serializer: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => serializer.serialize_str(&id.to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Hash>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => super::parse_hash(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected 64 hex digits")),
        }
    }
}

mod hex_account {
    use crate::core::crypto::AccountId;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(account: &AccountId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&account.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AccountId, D::Error> {
        let text = String::deserialize(deserializer)?;
        AccountId::from_hex(&text).map_err(D::Error::custom)
    }
}

/// 64 hex digits as a hash; `None` for anything else.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text.trim()).ok()?;
    <[u8; 32]>::try_from(bytes).ok().map(Hash)
}
