//! `db load --writers N` end to end, through the real CLI and four real node processes: a
//! 3-party consortium (quorum 2) on member nodes 0, 1 and 2; `db load --writers 4` derives four
//! accounts, funds them, has them granted the table by a proposal from one party and an
//! approval from another (the quorum path, journalled in `db history`), then signs its writes
//! round robin from them alone. Every write is applied and final, and every member's replica
//! holds every written row. A bad writer count is a usage error (exit 2) before anything is
//! sent, and a second run reuses the granted writers without a new grant.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::Net;
use vein_node::api_types::{ConsortiumDetail, ConsortiumQueryAnswer};
use vein_node::core::consortium::Value;
use vein_testnet::db_writers::{WRITERS_MAX, writer_key};

#[test]
fn db_load_with_writers_grants_them_through_the_quorum_and_every_member_reads_every_write() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);
    let id = net.cli(&[
        "db",
        "create",
        "--name",
        "ledger",
        "--parties",
        "0,1,2",
        "--members",
        "0,1,2",
        "--quorum",
        "2",
        "--table",
        "entries(id integer key, note text)",
    ]);
    let load = |rest: &[&str]| -> std::process::Output {
        let args = [&["db", "load", "--consortium", id.as_str()][..], rest].concat();
        net.run(&args)
    };

    // A bad count is the caller's mistake (exit 2), refused before anything is signed.
    let too_many = (WRITERS_MAX + 1).to_string();
    for bad in ["0", too_many.as_str()] {
        let output = load(&["--writers", bad, "--rate", "4", "--duration", "3"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--writers {bad}: {stderr}");
        assert!(
            stderr.contains(&format!("--writers {bad}: must be 1..={WRITERS_MAX}")),
            "{stderr}"
        );
    }
    let detail: ConsortiumDetail =
        serde_json::from_str(&net.cli(&["db", "list", "--consortium", &id])).unwrap();
    assert!(detail.proposals.is_empty() && detail.writers["entries"].len() == 3, "{detail:?}");

    let output = load(&["--writers", "4", "--rate", "4", "--duration", "3", "--settle", "90"]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "db load --writers 4: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let labels = serde_json::json!(["writer-0", "writer-1", "writer-2", "writer-3"]);
    assert_eq!(report["signers"], labels, "{report}");
    assert_eq!(report["writers_granted"], 4, "{report}");
    assert_eq!(report["offered"], 12, "{report}");
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["applied_final"], 12, "{report}");
    assert_eq!(report["replica_rows_added"], 12, "{report}");
    assert!(
        stderr.contains("granting table entries to 4 writer(s): proposed by 0, approved by 1"),
        "{stderr}"
    );

    // The writers are the faucet-derived accounts, granted on chain; no proposal is left open.
    let faucet = vein_node::service::load_key(&net.manifest().faucet_key).unwrap();
    let detail: ConsortiumDetail =
        serde_json::from_str(&net.cli(&["db", "list", "--consortium", &id])).unwrap();
    for index in 0..4 {
        let account = writer_key(&faucet, index).account().to_hex();
        assert!(detail.writers["entries"].contains(&account), "writer {index} not granted");
    }
    assert!(detail.proposals.is_empty(), "{:?}", detail.proposals);
    // The quorum path: 4 proposals by party 0 and 4 approvals by party 1, each applied.
    let history = net.cli(&["db", "history", "--consortium", &id]);
    // Columns: height, outcome, kind, from, what.
    let lines = |kind: &str, from: &str| {
        let columns = |line: &str| line.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let rows = history.lines().filter(|line| !line.starts_with('#')).map(columns);
        rows.filter(|row| row.len() > 4 && row[1] == "applied" && row[2] == kind && row[3] == from)
            .count()
    };
    assert_eq!(lines("propose", "0"), 4, "{history}");
    assert_eq!(lines("approve", "1"), 4, "{history}");
    assert!(!history.contains("ignored"), "{history}");

    // Every member reads the same 12 rows.
    let sql = "SELECT id FROM entries ORDER BY id";
    let mut seen = Vec::new();
    for via in ["0", "1", "2"] {
        let text = net.cli(&["db", "query", "--consortium", &id, sql, "--json", "--via", via]);
        let answer: ConsortiumQueryAnswer = serde_json::from_str(&text).unwrap();
        let ids: Vec<Value> = answer.rows.into_iter().flatten().collect();
        assert_eq!(ids.len(), 12, "member {via}: {ids:?}");
        seen.push(ids);
    }
    assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "{seen:?}");

    // A second run signs from the same writers, already granted: no new grant.
    let output = load(&["--writers", "4", "--rate", "4", "--duration", "2", "--settle", "90"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["writers_granted"], 0, "{report}");
    assert_eq!(report["applied_final"], 8, "{report}");
}
