//! Recording a history as it happens: operation numbers, and which acknowledged unit belongs
//! to which operation so that a finality report can be attributed.

use super::record::{History, HistoryError, Record, StartBalance, TransferOp};
use crate::core::hash::Hash;
use std::collections::BTreeMap;

/// A history being written, in observation order.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    records: Vec<Record>,
    next_op: u64,
    /// Acknowledged units not yet seen final: their operation and the node that took them.
    awaiting: BTreeMap<Hash, (u64, usize)>,
    /// Node of each invoked operation.
    nodes: BTreeMap<u64, usize>,
}

impl Recorder {
    /// Start a history: ledgers are read from `from_height`; `balances` are the client's own
    /// accounts (empty when its senders are shared).
    pub fn begin(at_ms: u64, from_height: u64, balances: Vec<StartBalance>) -> Recorder {
        Recorder {
            records: vec![Record::Begin { at_ms, from_height, balances }],
            ..Recorder::default()
        }
    }

    /// The client sends `transfer` to `node`: its operation number.
    pub fn invoke(&mut self, at_ms: u64, node: usize, transfer: TransferOp) -> u64 {
        let op = self.next_op;
        self.next_op += 1;
        self.nodes.insert(op, node);
        self.records.push(Record::Invoke { op, at_ms, node, transfer });
        op
    }

    /// `op` was acknowledged as unit `id`.
    pub fn ok(&mut self, op: u64, at_ms: u64, id: Hash) {
        let node = self.nodes.get(&op).copied().unwrap_or(usize::MAX);
        self.awaiting.insert(id, (op, node));
        self.records.push(Record::Ok { op, at_ms, id });
    }

    /// `op` was refused.
    pub fn fail(&mut self, op: u64, at_ms: u64, reason: String) {
        self.records.push(Record::Fail { op, at_ms, reason });
    }

    /// `op` got no definite answer.
    pub fn unknown(&mut self, op: u64, at_ms: u64, reason: String) {
        self.records.push(Record::Unknown { op, at_ms, reason });
    }

    /// Node `node` reports unit `id` final: recorded if it is an acknowledged operation's, sent
    /// to that node, not yet seen final. Returns whether it was.
    pub fn seen_final(
        &mut self,
        node: usize,
        id: &Hash,
        at_ms: u64,
        (height, checkpoint): (u64, Option<Hash>),
        applied: bool,
    ) -> bool {
        match self.awaiting.get(id) {
            Some((op, sent_to)) if *sent_to == node => {
                let op = *op;
                self.awaiting.remove(id);
                self.records.push(Record::Final { op, at_ms, height, checkpoint, applied });
                true
            }
            _ => false,
        }
    }

    /// Acknowledged units not yet seen final.
    pub fn awaiting(&self) -> usize {
        self.awaiting.len()
    }

    /// The records so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records folded into a history.
    pub fn history(&self) -> Result<History, HistoryError> {
        History::from_records(&self.records)
    }
}
