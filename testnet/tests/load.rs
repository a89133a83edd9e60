//! `vein-testnet load` signing on the client: against a real 2-node testnet it funds its load
//! accounts from the faucet once, signs transfers from many of them round robin (parents from
//! the nodes' `GET /parents`), and every transfer it got accepted ends applied and final. A
//! second run reuses the funded accounts and their next nonces; the node-signed mode
//! (`--accounts 0`) still works. Waits are bounded by `--settle`, not timed. A node stopped
//! mid-run (SIGSTOP, as the soak's pause fault does) costs the client only the requests it
//! already held: the rest go to the other node and the client keeps its schedule.

// Test code: panics are the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Net;
use serde_json::Value;

fn load(net: &Net, accounts: &str) -> Value {
    let report = net.cli(&[
        "load",
        "--rate",
        "40",
        "--duration",
        "2",
        "--settle",
        "90",
        "--concurrency",
        "4",
        "--accounts",
        accounts,
    ]);
    serde_json::from_str(&report).unwrap()
}

fn assert_all_final(report: &Value, submitted: u64) {
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["submitted"], submitted, "{report}");
    assert_eq!(report["applied"], submitted, "{report}");
    assert_eq!(report["ignored"], 0, "{report}");
    assert_eq!(report["final_count"], submitted, "{report}");
    assert!(report["final_latency_ms_p50"].as_u64().is_some(), "{report}");
    assert_eq!(report["final_times_missing"], 0, "{report}");
    // Every final transfer's finality is split into floor, missed and delivery.
    let parts = &report["finality_breakdown"];
    assert_eq!(parts["transfers"], submitted, "{report}");
    for field in ["floor_ms_p50", "missed_ms_p50", "delivery_ms_p50", "interval_ms_max"] {
        assert!(parts[field].as_u64().is_some(), "{field}: {report}");
    }
}

#[test]
fn client_signed_load_uses_many_accounts_and_every_transfer_becomes_final() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "2", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);

    let first = load(&net, "8");
    assert_all_final(&first, 80);
    assert_eq!(first["accounts"], 8, "{first}");
    assert_eq!(first["accounts_used"], 8, "{first}");
    assert!(first["funding_s"].as_f64().unwrap() > 0.0, "{first}");
    assert_eq!(first["finality_target_ms"], 4_000, "{first}");

    // Funded already: no second funding, and the nonces continue where the first run stopped
    // (a reused nonce would be a conflict, and one of the pair would be ignored).
    let second = load(&net, "8");
    assert_all_final(&second, 80);
    assert_eq!(second["funding_s"], 0.0, "{second}");
    let account = vein_testnet::load_key(&net.manifest().chain_id, 3).account();
    let balance: vein_node::api_types::AccountBalance =
        net.get(0, &format!("/balance/{}", account.to_hex())).unwrap();
    assert_eq!(balance.next_nonce, 20, "{balance:?}");

    // The old mode: each node signs from its own account.
    let nodes = load(&net, "0");
    assert_all_final(&nodes, 80);
    assert_eq!(nodes["accounts_used"], 2, "{nodes}");
}

#[test]
fn a_node_stopped_mid_run_is_routed_around_and_the_client_keeps_its_schedule() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "2", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);
    // A first run funds the load accounts, so that the second one starts sending at once.
    assert_all_final(&load(&net, "8"), 80);
    let pid = net.manifest().nodes[1].pid.unwrap().to_string();
    let signal = |name: &str| {
        let status = std::process::Command::new("kill").args([name, &pid]).status().unwrap();
        assert!(status.success(), "kill {name} {pid}");
    };
    let report = std::thread::scope(|scope| {
        let load = scope.spawn(|| {
            let args = ["--rate", "40", "--duration", "5", "--settle", "90"];
            let more = ["--concurrency", "4", "--accounts", "8"];
            net.cli(&[&["load"][..], &args, &more].concat())
        });
        // Stopped once the second run is sending (the first left account 3 at nonce 10),
        // until after the sending ends: requests to it hang, as to a paused process, until it
        // is continued.
        let account = vein_testnet::load_key(&net.manifest().chain_id, 3).account();
        let path = format!("/balance/{}", account.to_hex());
        common::wait_until("the second run to send", std::time::Duration::from_secs(60), || {
            net.get::<vein_node::api_types::AccountBalance>(0, &path)
                .is_some_and(|balance| balance.next_nonce > 10)
        });
        signal("-STOP");
        fault_lasts(std::time::Duration::from_secs(7));
        signal("-CONT");
        load.join().unwrap()
    });
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["funding_s"], 0.0, "{report}");
    assert!(report["rerouted"].as_u64().unwrap() > 0, "{report}");
    // The requests the stopped node held are answered once it continues: nothing is lost.
    assert_all_final(&report, 200);
    // A client stuck behind the stopped node sends nothing until it is continued, 7 s later:
    // every request due meanwhile, over a hundred, is late. A rerouted one loses only the few
    // requests the stopped node held (at most its share of the workers, 2).
    assert!(report["late_requests"].as_u64().unwrap() <= 20, "{report}");
}

/// The length of a fault: how long a node stays stopped is the point of the test, so this is
/// a schedule, not a wait for something to happen.
#[allow(clippy::disallowed_methods)]
fn fault_lasts(duration: std::time::Duration) {
    std::thread::sleep(duration);
}

/// A run whose only node stops answering falls behind its schedule at once: each request now
/// waits out the HTTP timeout. Past `--lag-max-s` it sends nothing more, settles, prints its
/// report and exits 1 naming the node and the request it waited on, instead of waiting out
/// every remaining request (here about 2,500 of them at 10 s each over 4 workers).
#[test]
// Polls the child's exit against a bound (the point of the test), not a sleep-and-hope.
#[allow(clippy::disallowed_methods)]
fn a_run_that_falls_behind_stops_sending_and_names_what_it_waited_on() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);
    assert_all_final(&load(&net, "8"), 80);
    let manifest = net.manifest();
    let (pid, api) = (manifest.nodes[0].pid.unwrap().to_string(), manifest.nodes[0].api);
    let signal = |name: &str| {
        let status = Command::new("kill").args([name, &pid]).status().unwrap();
        assert!(status.success(), "kill {name} {pid}");
    };
    let args = ["load", "--rate", "100", "--duration", "30", "--batch", "1", "--settle", "2"];
    let more = ["--concurrency", "4", "--accounts", "8", "--lag-max-s", "3"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_vein-testnet"))
        .arg("--dir")
        .arg(&manifest.dir)
        .args(args)
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let account = vein_testnet::load_key(&manifest.chain_id, 3).account();
    let path = format!("/balance/{}", account.to_hex());
    common::wait_until("the second run to send", Duration::from_secs(60), || {
        net.get::<vein_node::api_types::AccountBalance>(0, &path)
            .is_some_and(|balance| balance.next_nonce > 10)
    });
    signal("-STOP");
    let stopped = Instant::now();
    // Bounded: 3 s of lag past one HTTP timeout (10 s), then the settle round and the
    // checkpoint read, each at most one more timeout. Without the bound it runs for minutes.
    let limit = Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > limit {
            let _ = child.kill();
            signal("-CONT");
            panic!("load still running {limit:?} after its node stopped answering");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    signal("-CONT");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("more than 3 s behind its"), "{stderr}");
    assert!(stderr.contains(&format!("to node 0 ({api})")), "{stderr}");
    assert!(stderr.contains("behind schedule (bound 3 s)"), "the progress says the lag: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let stopped = &report["stopped_behind"];
    assert_eq!(stopped["lag_max_s"], 3, "{report}");
    let unsent = report["unsent"].as_u64().unwrap();
    assert!(unsent > 1_000, "{report}");
    assert_eq!(stopped["unsent"], unsent, "{report}");
    let count = |field: &str| report[field].as_u64().unwrap();
    assert_eq!(count("offered"), 3_000, "{report}");
    assert_eq!(count("submitted") + count("refused") + unsent, 3_000, "{report}");
    let first = &stopped["waited_on"][0];
    assert_eq!(first["node"], 0, "{report}");
    assert!(first["longest_ms"].as_u64().unwrap() >= 9_000, "a wait hit the timeout: {report}");
}
