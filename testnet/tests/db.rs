//! Consortium databases end to end, through the real CLI and four real node processes: a
//! 3-party consortium on member nodes 0, 1 and 2 (node 3 is an outsider) takes writes; a query
//! as of an old height returns the old rows, with a row proof checked by the CLI; a deny applied
//! by a quorum of 2 stops later writes by the denied account (refused by the CLI, and ignored by
//! the chain when sent anyway); every member's replica verifies; the outsider's API shows only
//! sizes and hashes; `db load` reports every offered write applied and final, while the member
//! nodes attest from their own attestation accounts and certify the roots; with per-entry
//! approval required, an approved entry reaches the replicas and a denied one does not.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::Net;
use vein_node::api_types::{
    ConsortiumAttestations, ConsortiumDetail, ConsortiumList, ConsortiumQueryAnswer,
};
use vein_node::core::consortium::Value;
use vein_testnet::http;

const CANARY: &str = "CANARY-7f3a";

fn rows(answer: &ConsortiumQueryAnswer) -> Vec<(i64, String, Option<String>)> {
    answer
        .rows
        .iter()
        .map(|row| match row.as_slice() {
            [Value::Integer(id), Value::Text(name), note] => {
                let note = match note {
                    Value::Text(note) => Some(note.clone()),
                    _ => None,
                };
                (*id, name.clone(), note)
            }
            other => panic!("unexpected row {other:?}"),
        })
        .collect()
}

fn exit_code(net: &Net, args: &[&str]) -> (Option<i32>, String) {
    let output = net.run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "vein-testnet {args:?} panicked: {stderr}");
    (output.status.code(), stderr)
}

/// The consortium's certified height on node 0 once it reaches `height`; panics, naming the
/// last answer, if it does not within 120 s (attestations are applied a checkpoint or two after
/// the heights they attest).
fn wait_for_certified(net: &Net, id: &str, height: u64) -> u64 {
    let api = net.manifest().nodes[0].api;
    let path = format!("/consortium/{id}/attestations");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (status, body) = http::request(api, "GET", &path, None, http::TIMEOUT).unwrap();
        assert_eq!(status, 200, "{body}");
        let answer: ConsortiumAttestations = serde_json::from_str(&body).unwrap();
        assert!(answer.diverged.is_empty(), "{body}");
        match answer.certified_height {
            Some(certified) if certified >= height => return certified,
            _ if std::time::Instant::now() > deadline => {
                panic!("height {height} not certified within 120 s: {body}")
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(500)),
        }
    }
}

#[test]
fn a_consortium_takes_writes_answers_as_of_a_height_and_a_deny_stops_a_writer() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);

    // A malformed table is a usage error (exit 2), refused before anything is signed.
    let bad = ["db", "create", "--name", "x", "--parties", "0", "--members", "0", "--quorum", "1"];
    let (code, stderr) = exit_code(&net, &[&bad[..], &["--table", "t(a float)"]].concat());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown type \"float\""), "{stderr}");

    let id = net.cli(&[
        "db",
        "create",
        "--name",
        "clinic",
        "--parties",
        "0,1,2",
        "--members",
        "0,1,2",
        "--quorum",
        "2",
        "--table",
        "patients(id integer key, name text, note text?)",
    ]);
    assert_eq!(id.len(), 64, "create printed {id:?}");
    let consortium = ["--consortium", id.as_str()];
    let db = |verb: &'static str, rest: &[&str]| -> Vec<String> {
        let mut args = vec!["db".to_string(), verb.to_string()];
        args.extend(consortium.iter().map(|s| s.to_string()));
        args.extend(rest.iter().map(|s| s.to_string()));
        args
    };
    let run = |args: Vec<String>| net.cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let fails =
        |args: Vec<String>| exit_code(&net, &args.iter().map(String::as_str).collect::<Vec<_>>());

    let insert = format!("insert patients (1, 'Ada', null), (2, 'Bob', '{CANARY}')");
    run(db("exec", &["--from", "1", &insert]));
    let query = |rest: &[&str]| -> ConsortiumQueryAnswer {
        let sql = "SELECT id, name, note FROM patients ORDER BY id";
        serde_json::from_str(&run(db("query", &[&[sql, "--json"][..], rest].concat()))).unwrap()
    };
    let first = query(&[]);
    let old_height = first.height;
    assert_eq!(rows(&first), vec![(1, "Ada".into(), None), (2, "Bob".into(), Some(CANARY.into()))]);

    run(db("exec", &["--from", "2", "upsert patients (2, 'Bob', 'seen'); delete patients 1"]));
    let latest = query(&[]);
    assert!(latest.height > old_height, "{} <= {old_height}", latest.height);
    assert_eq!(rows(&latest), vec![(2, "Bob".into(), Some("seen".into()))]);
    // The time machine: as of the old height, the old rows, on another member too.
    let at = old_height.to_string();
    let then = query(&["--at", &at, "--via", "2"]);
    assert_eq!(rows(&then), rows(&first));
    assert_eq!(then.root, first.root);
    let proved = run(db("query", &["--table", "patients", "--key", "1", "--at", &at]));
    assert!(proved.starts_with("(1, 'Ada', null)"), "{proved}");
    assert!(proved.contains("proof checked against root") && proved.contains("[0, 1, 2]"));
    // SQL the replica cannot run is the caller's mistake (exit 2), named by SQLite.
    let (code, stderr) = fails(db("query", &["SELEC id FROM patients"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("syntax error"), "{stderr}");
    let gone = run(db("query", &["--table", "patients", "--key", "1"]));
    assert!(gone.starts_with("(no row)"), "{gone}");

    // Refused before sending, with exit code 3: an unknown table, a change that changes nothing.
    let (code, stderr) = fails(db("exec", &["insert visits (1)"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("has no table \"visits\""), "{stderr}");
    let (code, stderr) = fails(db("grant", &["--account", "1", "--table", "patients"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("would change nothing"), "{stderr}");

    // A quorum of 2 (party 0 proposes, party 1 approves) denies account 2 on every table.
    let denied = run(db("deny", &["--account", "2"]));
    assert!(denied.contains("deny 2 on every table: applied at height"), "{denied}");
    let (code, stderr) =
        fails(db("exec", &["--from", "2", "upsert patients (2, 'Mallory', null)"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("may not write table \"patients\""), "{stderr}");
    // Sent anyway, the chain orders it and ignores it: the replicas never see it.
    let (code, stderr) =
        fails(db("exec", &["--from", "2", "--no-check", "upsert patients (2, 'Mallory', null)"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("final but ignored"), "{stderr}");
    assert_eq!(rows(&query(&[])), vec![(2, "Bob".into(), Some("seen".into()))]);
    // Account 1 still writes.
    run(db("exec", &["--from", "1", "insert patients (3, 'Cy', null)"]));

    let verified = run(db("verify", &[]));
    assert_eq!(verified.matches("rebuilt from its action log: same root").count(), 3);
    assert!(verified.contains("members [0, 1, 2] agree at final height"), "{verified}");

    let history = run(db("history", &[]));
    for expected in ["create", "propose", "approve", "deny 2 on every table", "ignored"] {
        assert!(history.contains(expected), "no {expected:?} in the history:\n{history}");
    }
    assert_eq!(history.matches(" write ").count(), 4, "{history}");

    // The outsider: sizes and hashes, no replica, no plaintext.
    let outsider = net.manifest().nodes[3].api;
    let (status, list) = http::request(outsider, "GET", "/consortia", None, http::TIMEOUT).unwrap();
    assert_eq!(status, 200);
    let parsed: ConsortiumList = serde_json::from_str(&list).unwrap();
    assert_eq!((parsed.consortia[0].actions, parsed.consortia[0].replica), (3, false));
    let path = format!("/consortium/{id}");
    let (_, detail) = http::request(outsider, "GET", &path, None, http::TIMEOUT).unwrap();
    let parsed: ConsortiumDetail = serde_json::from_str(&detail).unwrap();
    assert_eq!((parsed.replica_height, parsed.members.len()), (None, 3));
    for body in [&list, &detail] {
        assert!(!body.contains(CANARY) && !body.contains("Ada"), "plaintext on node 3: {body}");
    }
    let (code, stderr) = fails(db("query", &["SELECT * FROM patients", "--via", "3"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("keeps no replica"), "{stderr}");

    // A short offered load: the denied account 2 is not among the signers, and every write
    // offered is applied, final and in the member's replica.
    let report: serde_json::Value = serde_json::from_str(&run(db(
        "load",
        &["--rate", "4", "--duration", "3", "--settle", "90"],
    )))
    .unwrap();
    assert_eq!(report["signers"], serde_json::json!(["0", "1"]), "{report}");
    assert_eq!(report["offered"], 12, "{report}");
    assert_eq!(report["applied_final"], 12, "{report}");
    assert_eq!(report["replica_rows_added"], 12, "{report}");
    assert!(report["final_latency_ms_p95"].as_u64().is_some(), "{report}");
    // Member nodes attest by default, from their attestation accounts: parties 0 and 1, who
    // signed the load above, are member nodes 0 and 1 too, and lost no nonce to their nodes
    // (12 of 12 applied); a quorum of members certifies the root up to the load's last write.
    let written = query(&[]).height;
    let certified = wait_for_certified(&net, &id, written);
    assert!(certified >= written, "certified {certified} < written {written}");

    // Per-entry approval: once the quorum requires it, a write waits as a pending entry; two
    // approvals apply it, two denials (of three parties, quorum 2) drop another.
    let required = run(db("approval", &["--table", "patients"]));
    assert!(required.contains("require approval of each entry of patients"), "{required}");
    let pending_entry = |out: &str| -> String {
        let line = out.lines().find_map(|line| line.strip_prefix("pending entry "));
        line.and_then(|rest| rest.split_whitespace().next()).expect(out).to_string()
    };
    let waiting =
        pending_entry(&run(db("exec", &["--from", "1", "insert patients (40, 'Eve', null)"])));
    let refused =
        pending_entry(&run(db("exec", &["--from", "0", "insert patients (41, 'Zed', null)"])));
    let row = |key: &str| run(db("query", &["--table", "patients", "--key", key]));
    assert!(row("40").starts_with("(no row)"), "a pending entry is in no replica");
    let vote = |entry: &str, from: &str, deny: bool| {
        let mut rest = vec!["--entry", entry, "--from", from];
        if deny {
            rest.push("--deny");
        }
        run(db("vote", &rest))
    };
    assert!(vote(&waiting, "0", false).contains("still pending"));
    assert!(vote(&waiting, "2", false).contains("passed"));
    assert!(row("40").starts_with("(40, 'Eve', null)"), "{}", row("40"));
    assert!(vote(&refused, "1", true).contains("still pending"));
    assert!(vote(&refused, "2", true).contains("dropped"));
    assert!(row("41").starts_with("(no row)"));
    let (code, stderr) = fails(db("vote", &["--entry", &refused, "--from", "0"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("no pending entry"), "{stderr}");
    let verified = run(db("verify", &[]));
    assert_eq!(verified.matches("rebuilt from its action log: same root").count(), 3);
}
