//! The explorer page in a real browser: a one-node testnet takes transfers, then headless
//! Chromium loads `GET /` and dumps the DOM after the page's scripts ran. The dump must show
//! the recent checkpoints, the DAG near the tips, the transfers with their final status, the
//! accounts with their balances and a consortium with its parties and action count but none of
//! its rows, which only the page's JavaScript can have rendered (the HTML served is an empty
//! skeleton).
//!
//! Chromium is `/usr/bin/chromium` (Debian's package; `.ci/run` installs it) or `$CHROMIUM`.
//! Without it the test fails when `CI` or `VEIN_REQUIRE_CHROMIUM` is set and otherwise skips
//! with a loud message.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use vein_node::api_types;
use vein_testnet::http;

fn chromium() -> Option<PathBuf> {
    let explicit = std::env::var_os("CHROMIUM").map(PathBuf::from);
    explicit
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|path| path.is_file())
}

/// Load `url` in headless Chromium and return the DOM after its scripts ran.
fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // Virtual time runs the page's timers without waiting for them, but pauses while its
        // fetches are in flight, so the first refresh completes before the dump.
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let pid = child.id();
    // A hung browser must fail the test, not hang it.
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(90));
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let output = child.wait_with_output().unwrap();
    drop(watchdog);
    let dom = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success() && dom.contains("</html>"),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// The `<table id="...">...</table>` element of the dump.
fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("<table id=\"{id}\"")).unwrap_or_else(|| {
        panic!("no table #{id} in the DOM:\n{dom}");
    });
    let end = dom[start..].find("</table>").unwrap() + start;
    &dom[start..end]
}

/// The `<tr ... data-id="id">...</tr>` row of a table, if rendered.
fn row<'a>(table: &'a str, id: &str) -> Option<&'a str> {
    let start = table.find(&format!("data-id=\"{id}\""))?;
    let start = table[..start].rfind("<tr")?;
    let end = table[start..].find("</tr>")? + start;
    Some(&table[start..end])
}

#[test]
fn the_explorer_renders_checkpoints_dag_transfers_and_accounts_in_chromium() {
    let Some(chromium) = chromium() else {
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("VEIN_REQUIRE_CHROMIUM").is_some();
        assert!(
            !required,
            "chromium is required (CI or VEIN_REQUIRE_CHROMIUM is set) but neither \
             /usr/bin/chromium nor $CHROMIUM exists: apt-get install -y chromium"
        );
        eprintln!(
            "\n!!!!! SKIPPED: the explorer browser test needs chromium (apt-get install -y \
             chromium, or set CHROMIUM=/path); set VEIN_REQUIRE_CHROMIUM=1 to make this fail !!!!!\n"
        );
        return;
    };
    let net = Net::new();
    net.cli(&["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"]);
    let manifest = net.manifest();
    let api = manifest.nodes[0].api;
    let recipient = "ab".repeat(32);
    let ids: Vec<String> = [("0", 700u64), ("faucet", 300)]
        .iter()
        .map(|(from, amount)| {
            net.cli(&["tx", "--from", from, "--to", &recipient, "--amount", &amount.to_string()])
        })
        .collect();
    let unit = |id: &str| http::get::<api_types::Unit>(api, &format!("/unit/{id}")).ok();
    wait_until("both transfers final", Duration::from_secs(60), || {
        ids.iter().all(|id| unit(id).is_some_and(|unit| unit.is_final))
    });
    let balance = |account: &str| {
        http::get::<api_types::AccountBalance>(api, &format!("/balance/{account}")).unwrap().balance
    };
    let recipient_balance = balance(&recipient);
    assert_eq!(recipient_balance, 1000);
    let faucet_balance = balance(&manifest.faucet_account);
    // A consortium with one written row: the page lists it, and never the row.
    let consortium = net.cli(&[
        "db",
        "create",
        "--name",
        "clinic",
        "--parties",
        "0",
        "--members",
        "0",
        "--quorum",
        "1",
        "--table",
        "patients(id integer key, note text)",
    ]);
    let canary = "CANARY-e1c3";
    let write = format!("insert patients (1, '{canary}')");
    net.cli(&["db", "exec", "--consortium", &consortium, &write]);

    let dom = dump_dom(&chromium, &format!("http://{api}/"));
    // The status line is written last by a successful refresh (or says why it failed).
    let updated = dom.split("<p id=\"updated\">").nth(1).and_then(|rest| rest.split("</p>").next());
    assert!(
        updated.is_some_and(|text| text.starts_with("height ")),
        "the page did not complete a refresh: {updated:?}\n{dom}"
    );

    // Recent checkpoints: rows of the node's active chain (fetched after the dump, so it holds
    // every row the page showed), at least one of them final.
    let chain: api_types::Checkpoints = http::get(api, "/checkpoints?limit=1000").unwrap();
    let chain: Vec<(String, bool)> =
        chain.checkpoints.into_iter().map(|cp| (cp.id, cp.is_final)).collect();
    let cps = table(&dom, "cps");
    let shown: Vec<&str> =
        cps.split("data-id=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(shown.len() >= 3, "fewer than 3 checkpoint rows:\n{cps}");
    for id in &shown {
        let (_, is_final) = chain
            .iter()
            .find(|(known, _)| known == id)
            .unwrap_or_else(|| panic!("checkpoint {id} on the page is not on the node's chain"));
        let cp_row = row(cps, id).unwrap();
        assert!(cp_row.contains(&id[..16]), "{cp_row}");
        // Finality only grows: what the page showed final is final now.
        if cp_row.contains("<td>true</td>") {
            assert!(*is_final, "the page shows {id} final, the node does not");
        }
    }
    assert!(cps.contains("<tr class=\"final\""), "no final checkpoint on the page:\n{cps}");

    // Transactions with status.
    let txs = table(&dom, "txs");
    for id in &ids {
        let tx_row = row(txs, id).unwrap_or_else(|| panic!("transfer {id} not listed:\n{txs}"));
        assert!(tx_row.contains(&id[..16]), "{tx_row}");
        assert!(tx_row.contains("<span class=\"status\">final</span>"), "{tx_row}");
    }

    // The DAG near the tips: rows with parents, at least one marked as a tip.
    let dag = table(&dom, "dag");
    assert!(dag.contains("<td>tip</td>"), "no tip in the DAG view:\n{dag}");

    // Accounts with their balances.
    let accounts = table(&dom, "accounts");
    let recipient_row =
        row(accounts, &recipient).unwrap_or_else(|| panic!("recipient not listed:\n{accounts}"));
    assert!(
        recipient_row.contains(&format!("<span class=\"balance\">{recipient_balance}</span>")),
        "{recipient_row}"
    );
    let faucet_row = row(accounts, &manifest.faucet_account).unwrap();
    assert!(
        faucet_row.contains(&format!("<span class=\"balance\">{faucet_balance}</span>")),
        "{faucet_row}"
    );

    // Consortia: parties, member, table and action count; sizes and hashes only.
    let consortia = table(&dom, "consortia");
    let consortium_row = row(consortia, &consortium)
        .unwrap_or_else(|| panic!("consortium {consortium} not listed:\n{consortia}"));
    for cell in ["<td>clinic</td>", "<td>patients (2 columns)</td>", "<td>1 of 1</td>"] {
        assert!(consortium_row.contains(cell), "no {cell} in {consortium_row}");
    }
    assert!(consortium_row.contains("<span class=\"actions\">1</span>"), "{consortium_row}");
    assert!(consortium_row.contains(&manifest.nodes[0].account[..16]), "{consortium_row}");
    assert!(!dom.contains(canary), "the public page shows a consortium row:\n{dom}");
}
