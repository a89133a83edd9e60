// Test code: panics are the failure report.
#![allow(clippy::unwrap_used)]

use super::HistoryViolation;
use super::check::check;
use super::ledger_view::{LedgerEntry, LedgerView};
use super::record::{History, HistoryError, Record, StartBalance, TransferOp, parse_records};
use super::recorder::Recorder;
use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;

fn account(index: u64) -> AccountId {
    Keypair::derived("history-test", index).account()
}

fn id(byte: u8) -> Hash {
    Hash([byte; 32])
}

fn checkpoint(height: u64) -> Hash {
    Hash([200 + height as u8; 32])
}

/// Two client accounts with 1,000 each; op 0 (a→b, 10, fee 1) final at 3, op 1 (b→a, 5)
/// acknowledged, never seen final; op 2 refused.
fn recorded() -> Recorder {
    let balances = vec![
        StartBalance { account: account(0), balance: 1_000 },
        StartBalance { account: account(1), balance: 1_000 },
    ];
    let mut recorder = Recorder::begin(0, 1, balances);
    let transfer = |from, to, amount| TransferOp {
        from: account(from),
        to: account(to),
        amount,
        fee: 1,
        nonce: None,
        id: None,
    };
    let first = recorder.invoke(1, 0, transfer(0, 1, 10));
    let second = recorder.invoke(2, 1, transfer(1, 0, 5));
    let third = recorder.invoke(3, 0, TransferOp { id: Some(id(3)), ..transfer(0, 1, 7) });
    recorder.ok(first, 4, id(1));
    recorder.ok(second, 5, id(2));
    recorder.fail(third, 6, "no funds".into());
    // Only the node the operation was sent to counts.
    assert!(!recorder.seen_final(1, &id(1), 7, (3, Some(checkpoint(3))), true));
    assert!(recorder.seen_final(0, &id(1), 8, (3, Some(checkpoint(3))), true));
    assert!(!recorder.seen_final(0, &id(1), 9, (3, Some(checkpoint(3))), true));
    recorder
}

fn entry(height: u64, byte: u8, from: u64, nonce: u64) -> LedgerEntry {
    LedgerEntry {
        height,
        checkpoint: checkpoint(height),
        id: id(byte),
        from: account(from),
        nonce,
        applied: true,
    }
}

/// A node that finalised 4 and holds op 0 at 3 and op 1 at 5 (not final), balances to match.
fn good_view(node: usize) -> LedgerView {
    LedgerView {
        node,
        final_height: 4,
        head_height: 5,
        from_height: 1,
        to_height: 5,
        entries: vec![entry(3, 1, 0, 0), entry(5, 2, 1, 0)],
        bodies_missing: 0,
        balances: [(account(0), 1_000 - 11 + 5), (account(1), 1_000 + 10 - 6)].into(),
    }
}

fn names(history: &History, views: &[LedgerView]) -> Vec<String> {
    let report = check(history, views);
    report.violations.iter().map(|v| v.to_string().split(':').next().unwrap().to_string()).collect()
}

#[test]
fn a_clean_history_checks_and_reports_what_never_became_final() {
    let history = recorded().history().unwrap();
    let report = check(&history, &[good_view(0), good_view(1)]);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!((report.operations, report.acknowledged, report.refused), (3, 2, 1));
    assert_eq!((report.seen_final, report.verified, report.balances_checked), (1, 2, 4));
    assert_eq!(report.acknowledged_not_final, 1);
    assert_eq!(report.not_final[0].confirmed_height, Some(5));
    assert!(!report.not_final[0].is_final);
    // A node that has not finalised height 3 cannot be held to it.
    let behind = LedgerView { final_height: 2, ..good_view(2) };
    let report = check(&history, &[behind]);
    assert!(report.violations.is_empty());
    assert_eq!((report.verified, report.unverifiable), (0, 1));
}

#[test]
fn every_violation_is_caught_with_its_evidence() {
    let history = recorded().history().unwrap();
    let mut lost = good_view(1);
    lost.entries.remove(0);
    lost.balances.insert(account(0), 1_000 + 5);
    lost.balances.insert(account(1), 1_000 - 6);
    let report = check(&history, &[good_view(0), lost]);
    assert_eq!(
        report.violations,
        [HistoryViolation::MissingFinal {
            op: 0,
            id: id(1),
            node: 1,
            height: 3,
            node_final_height: 4
        }]
    );

    let mut moved = good_view(0);
    moved.entries[0].height = 4;
    assert_eq!(names(&history, &[moved]), ["final-differs"]);
    let mut ignored = good_view(0);
    ignored.entries[0].applied = false;
    // Ignored: the fee and amount stay, so the balances disagree too.
    assert_eq!(names(&history, &[ignored]), ["final-differs", "balance", "balance"]);

    let mut twice = good_view(0);
    twice.entries.push(entry(5, 1, 0, 0));
    assert_eq!(names(&history, &[twice])[..2], ["applied-twice", "nonce-twice"]);

    let mut spent = good_view(0);
    spent.entries.push(entry(5, 9, 0, 0));
    let found = names(&history, &[spent]);
    assert_eq!(found[..2], ["nonce-twice", "unexplained"]);

    let mut refused = good_view(0);
    refused.entries.push(LedgerEntry { applied: false, ..entry(5, 3, 0, 1) });
    assert_eq!(names(&history, &[refused]), ["refused-present"]);

    let mut rich = good_view(0);
    *rich.balances.get_mut(&account(1)).unwrap() += 1;
    let report = check(&history, &[rich]);
    assert!(matches!(
        report.violations[..],
        [HistoryViolation::Balance { node: 0, held: 1_005, expected: 1_004, .. }]
    ));
}

#[test]
fn histories_round_trip_as_json_lines_and_bad_ones_are_typed_errors() {
    let recorder = recorded();
    let text: String = recorder
        .records()
        .iter()
        .map(|record| serde_json::to_string(record).unwrap() + "\n")
        .collect();
    assert!(text.starts_with("{\"type\":\"begin\""), "{text}");
    assert_eq!(parse_records(&text).unwrap(), recorder.records());
    assert_eq!(History::parse_jsonl(&text).unwrap(), recorder.history().unwrap());
    let bad = |records: &[Record]| History::from_records(records).unwrap_err();
    let records = recorder.records();
    assert!(matches!(bad(&records[2..]), HistoryError::NotInvoked { op: 0, .. }));
    let doubled = [&records[..4], &records[1..2]].concat();
    assert!(matches!(bad(&doubled), HistoryError::InvokedTwice { op: 0, .. }));
    let late = [&records[1..2], &records[..1]].concat();
    assert!(matches!(bad(&late), HistoryError::LateBegin { index: 1 }));
    let final_first = [&records[..2], &records[7..8]].concat();
    assert!(matches!(bad(&final_first), HistoryError::OutOfOrder { op: 0, .. }));
    let error = History::parse_jsonl("{\"type\":\"ok\",\"op\":1}\n").unwrap_err();
    assert!(matches!(error, HistoryError::Parse { line: 1, .. }), "{error}");
}
