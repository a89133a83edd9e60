//! The explorer page in a real browser: a one-node testnet, started with an operator's explorer
//! configuration, takes transfers, a token and a consortium, then headless Chromium loads the
//! page and dumps the DOM after the page's scripts ran. The front page must show the configured
//! title, link and panels and none other, the drawings of the DAG and the checkpoint tree, the
//! recent checkpoints, the transfers with their final status, the accounts with their balances,
//! the token with its holders and the consortium with its parties and action count but none of
//! its rows, all of which only the page's JavaScript can have rendered (the HTML served is an
//! empty skeleton). Search must find a transaction and an account and open their pages, and a
//! checkpoint's page must render. Screenshots go to `$VEIN_EXPLORER_SCREENSHOTS` when set
//! (`docs/explorer/*.png` are made that way), else to a temporary directory.
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

/// Run headless Chromium on `url` with `action` (`--dump-dom`, `--screenshot=...`) after the
/// page's scripts ran; returns its stdout.
fn chromium_run(chromium: &Path, url: &str, action: &str) -> String {
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
            "--hide-scrollbars",
            "--window-size=1200,1500",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // Virtual time runs the page's timers without waiting for them, but pauses while its
        // fetches are in flight, so the first refresh completes before the dump.
        .arg("--virtual-time-budget=5000")
        .arg(action)
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
    assert!(
        output.status.success(),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Load `url` in headless Chromium and return the DOM after its scripts ran.
fn dump_dom(chromium: &Path, url: &str) -> String {
    let dom = chromium_run(chromium, url, "--dump-dom");
    assert!(dom.contains("</html>"), "chromium returned no page: {dom}");
    dom
}

/// Save a screenshot of `url` as `name` in `dir` and check that it is a real PNG.
fn screenshot(chromium: &Path, url: &str, dir: &Path, name: &str) {
    let path = dir.join(name);
    chromium_run(chromium, url, &format!("--screenshot={}", path.display()));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot {name}: {e}"));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    // A blank page compresses to a few kilobytes; a drawn one does not.
    assert!(bytes.len() > 20_000, "{name} is only {} bytes: a blank page?", bytes.len());
}

/// The `<section id="panel-NAME">...</section>` of the front page, if shown.
fn panel<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find(&format!("<section class=\"panel\" id=\"panel-{name}\""))?;
    let end = dom[start..].find("</section>")? + start;
    Some(&dom[start..end])
}

/// The text of the `<p id="updated">` status line (written last by a completed refresh).
fn updated(dom: &str) -> Option<&str> {
    let rest = dom.split("<p id=\"updated\">").nth(1)?;
    rest.split("</p>").next()
}

/// The `<table ... id="...">...</table>` element of the dump.
fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .match_indices(&format!(" id=\"{id}\""))
        .filter_map(|(at, _)| {
            dom[..at].rfind('<').filter(|open| dom[*open..].starts_with("<table"))
        })
        .next()
        .unwrap_or_else(|| panic!("no table #{id} in the DOM:\n{dom}"));
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
fn the_explorer_draws_searches_and_shows_the_configured_panels_in_chromium() {
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
    // The operator's configuration: every panel but the learning one, which must then be absent
    // (the drawings and the subsystems first, so that the screenshot shows them).
    let config = net.dir.path().join("explorer.json");
    let panels = r#"["forks", "dag", "tokens", "contracts", "consortia", "status", "checkpoints",
        "transactions", "accounts"]"#;
    let config_text = format!(
        r#"{{"title": "Acme test ledger", "theme": "light", "panels": {panels},
            "links": [{{"label": "Operator docs", "url": "https://example.org/vein?a=1&b=2"}}]}}"#
    );
    std::fs::write(&config, config_text).unwrap();
    let up = Command::new(common::CLI)
        .arg("--dir")
        .arg(net.dir.path())
        .args(["up", "--nodes", "1", "--nonces", "16", "--interval-ms", "1000", "--k", "2"])
        .env("VEIN_EXPLORER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(up.status.success(), "up failed: {}", String::from_utf8_lossy(&up.stderr));
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
    // A token (issued by the faucet, before its balance is read): the Tokens panel lists it with its supply and holder.
    // Its name holds markup: the page must show it as text, never as elements.
    let token_args = ["token", "issue", "--name", "Acme <i>Points</i>", "--symbol", "ACME"];
    let token = net.cli(&[&token_args[..], &["--supply", "5000"]].concat());

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
    let status_line = updated(&dom);
    assert!(
        status_line.is_some_and(|text| text.starts_with("height ")),
        "the page did not complete a refresh: {status_line:?}\n{dom}"
    );
    // The operator's title and link (escaped), and exactly the configured panels.
    assert!(dom.contains(">Acme test ledger</a>"), "no configured title");
    assert!(dom.contains("<title>Acme test ledger</title>"), "no configured title");
    assert!(dom.contains("href=\"https://example.org/vein?a=1&amp;b=2\""), "no configured link");
    for name in panels.split('"').filter(|part| part.chars().all(|c| c.is_ascii_lowercase())) {
        if name.is_empty() {
            continue;
        }
        let shown = panel(&dom, name).unwrap_or_else(|| panic!("panel {name} missing:\n{dom}"));
        assert!(shown.contains("<h2>"), "panel {name} was never filled: {shown}");
    }
    assert!(panel(&dom, "learning").is_none(), "the unconfigured learning panel is shown");

    // The drawings: units as dots with parent edges, a tip among them; the checkpoint tree.
    let dag_panel = panel(&dom, "dag").unwrap();
    assert!(dag_panel.contains("<svg id=\"dag-svg\""), "no DAG drawing:\n{dag_panel}");
    let units_drawn = dag_panel.matches("<circle class=\"unit ").count();
    assert!(units_drawn >= 3, "{units_drawn} units drawn:\n{dag_panel}");
    assert!(dag_panel.contains("<path class=\"edge\""), "no parent edge drawn");
    assert!(dag_panel.contains(" tip\" data-id="), "no tip drawn:\n{dag_panel}");
    let forks = panel(&dom, "forks").unwrap();
    let active_drawn = forks.matches("<circle class=\"cp active").count();
    assert!(active_drawn >= 3, "{active_drawn} active checkpoints drawn:\n{forks}");
    assert!(forks.contains("cp active final"), "no final checkpoint drawn:\n{forks}");
    assert!(forks.contains(" head\" data-id="), "the head is not marked:\n{forks}");

    // Tokens: the token with its supply and its one holder (the faucet).
    let tokens = table(&dom, "tokens");
    let token_row = row(tokens, &token).unwrap_or_else(|| panic!("token not listed:\n{tokens}"));
    assert!(token_row.contains("<td>5,000</td>"), "{token_row}");
    assert!(token_row.contains("<span class=\"holders\">1</span>"), "{token_row}");
    assert!(token_row.contains("<td>Acme &lt;i&gt;Points&lt;/i&gt;</td>"), "{token_row}");
    assert!(!dom.contains("<i>Points</i>"), "a token's name was rendered as markup");

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
    assert!(consortium_row.contains("<span class=\"certified\">"), "{consortium_row}");
    assert!(!dom.contains(canary), "the public page shows a consortium row:\n{dom}");

    // Search finds a transaction by id and opens its page.
    let page = dump_dom(&chromium, &format!("http://{api}/#/search/{}", ids[0]));
    assert!(page.contains("<li class=\"match\" data-kind=\"unit\">"), "no unit match:\n{page}");
    let unit_page = table(&page, "unit");
    assert!(unit_page.contains(&ids[0]), "{unit_page}");
    assert!(unit_page.contains("<span class=\"st-final\">final</span>"), "{unit_page}");
    assert!(unit_page.contains(&recipient), "the recipient is not on the unit page");
    // ... and an account, with its balance and its transfers.
    let page = dump_dom(&chromium, &format!("http://{api}/#/search/{recipient}"));
    assert!(page.contains("data-kind=\"account\""), "no account match:\n{page}");
    let account_page = table(&page, "account");
    assert!(account_page.contains("<span class=\"balance\">1,000</span>"), "{account_page}");
    let account_txs = table(&page, "account-txs");
    for id in &ids {
        assert!(row(account_txs, id).is_some(), "{id} not on the account page:\n{account_txs}");
    }
    // A checkpoint's page: a final one of the active chain, with its place in the tree.
    let (final_id, _) = chain.iter().find(|(_, is_final)| *is_final).unwrap();
    let page = dump_dom(&chromium, &format!("http://{api}/#/checkpoint/{final_id}"));
    let checkpoint_page = table(&page, "checkpoint");
    assert!(checkpoint_page.contains(final_id.as_str()), "{checkpoint_page}");
    assert!(checkpoint_page.contains("<td>active chain</td>"), "{checkpoint_page}");

    // Screenshots of the front page and a unit's page.
    let kept = std::env::var_os("VEIN_EXPLORER_SCREENSHOTS").map(PathBuf::from);
    let scratch = tempfile::tempdir().unwrap();
    let dir = kept.as_deref().unwrap_or(scratch.path());
    screenshot(&chromium, &format!("http://{api}/"), dir, "front-page.png");
    screenshot(&chromium, &format!("http://{api}/#/unit/{}", ids[0]), dir, "unit-page.png");

    // Edited without rebuilding: the operator switches to the dark theme and shows the learning
    // panel instead of the accounts; restarting the node applies the file.
    let edited = r#"{"title": "Acme test ledger", "theme": "dark",
        "panels": ["status", "forks", "dag", "learning", "consortia"]}"#;
    std::fs::write(&config, edited).unwrap();
    net.cli(&["kill", "0", "--graceful"]);
    let restart = Command::new(common::CLI)
        .arg("--dir")
        .arg(net.dir.path())
        .args(["restart", "0"])
        .env("VEIN_EXPLORER_CONFIG", &config)
        .output()
        .unwrap();
    assert!(restart.status.success(), "{}", String::from_utf8_lossy(&restart.stderr));
    let dom = dump_dom(&chromium, &format!("http://{api}/"));
    assert!(updated(&dom).is_some_and(|text| text.starts_with("height ")), "{dom}");
    assert!(dom.contains("data-theme=\"dark\""), "the theme did not change");
    assert!(panel(&dom, "learning").is_some_and(|p| p.contains("<h2>")), "no learning panel");
    assert!(panel(&dom, "accounts").is_none(), "the accounts panel is still shown");
    screenshot(&chromium, &format!("http://{api}/"), dir, "dark-theme.png");

    // A configuration that breaks a rule stops the node at start, naming the file and rule.
    let bad = net.dir.path().join("bad-explorer.json");
    std::fs::write(&bad, r#"{"panels": ["dag", "blocks"]}"#).unwrap();
    let refused = Command::new(&manifest.node_bin)
        .args(["run", "--genesis", "g.json", "--key", "k.hex", "--listen", "127.0.0.1:0"])
        .args(["--api", "127.0.0.1:0", "--data", "unused"])
        .arg("--explorer-config")
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a bad explorer config was accepted");
    assert!(stderr.contains("bad-explorer.json") && stderr.contains("unknown variant `blocks`"));
}
