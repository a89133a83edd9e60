//! Checker self-tests and `vein-sim shrink`, end to end under madsim: the injected bugs must make
//! their checkers fire (a checker that cannot fail is a defect), a failing run with extra nodes,
//! seconds and faults must shrink to a smaller one that still fails the same invariant and
//! replays from the printed line, and a passing run has nothing to shrink (exit 2).
#![cfg(madsim)]
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use vein_sim::config::{FaultKinds, SimConfig};
use vein_sim::selftest::SelfTestBug;
use vein_sim::simulation::run;

fn fast(seed: u64, nodes: usize, duration_s: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, nodes);
    config.duration_s = duration_s;
    config.tx_rate = 4.0;
    config.target_interval_ms = 2_000;
    config.finality_depth = 3;
    config.settle_s = config.default_settle_s();
    config
}

fn vein_sim(args: &[&str]) -> (Option<i32>, String) {
    let out = tempfile::tempdir().unwrap();
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_vein-sim"))
        .args(args)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.code(), text)
}

/// The value of `--flag` in a command line.
fn flag<'a>(line: &'a str, flag: &str) -> &'a str {
    let mut words = line.split_whitespace();
    words.by_ref().find(|word| *word == flag).unwrap();
    words.next().unwrap()
}

#[test]
fn checkers_fire_on_the_injected_bugs() {
    let honest = run(&fast(2, 4, 30), None).unwrap();
    assert!(honest.ok(), "control run fails: {:#?}", honest.violations);
    for bug in [SelfTestBug::LedgerRoot, SelfTestBug::ConflictingFinal] {
        let mut config = fast(2, 4, 30);
        config.self_test = Some(bug);
        let report = run(&config, None).unwrap();
        let first = report.violations.first().unwrap_or_else(|| panic!("{bug:?} not caught"));
        assert_eq!(first.invariant, bug.invariant(), "{bug:?}: {first}");
        // The run stops within a second of the first violation, long before its end.
        assert!(report.simulated_ms < 30_000, "{bug:?}: ran {} ms", report.simulated_ms);
        assert!(config.replay_command().contains(&format!("--checker-self-test {}", bug.name())));
    }
    // The recovery bug is silent without restarts and caught with them.
    let mut config = fast(2, 8, 60);
    config.self_test = Some(SelfTestBug::RestartLedgerRoot);
    let report = run(&config, None).unwrap();
    assert!(report.ok(), "no restart, yet {:#?}", report.violations);
    config.faults = FaultKinds { kill: true, ..FaultKinds::none() };
    let report = run(&config, None).unwrap();
    assert_eq!(report.violations.first().map(|v| v.invariant), Some("ledger-root"));
}

fn replays(replay: &str, seed: u64, invariant: &str) {
    let (_, rest) = replay.split_once(" -- ").unwrap();
    let rerun: Vec<&str> = rest.split_whitespace().collect();
    let (status, text) = vein_sim(&rerun);
    assert_eq!(status, Some(1), "{text}");
    assert!(text.contains(&format!("VIOLATION (seed {seed}): {invariant}")), "{text}");
}

#[test]
fn an_injected_bug_shrinks_to_a_smaller_run_that_fails_the_same_way() {
    let original = [
        "--seed",
        "3",
        "--nodes",
        "9",
        "--duration",
        "80",
        "--tx-rate",
        "4",
        "--faults",
        "kill,partition",
        "--interval-ms",
        "2000",
        "--finality",
        "3",
    ];
    let mut args = vec!["shrink"];
    args.extend(original);
    args.extend(["--checker-self-test", "ledger-root", "--check-determinism"]);
    let (status, text) = vein_sim(&args);
    assert_eq!(status, Some(0), "{text}");
    assert!(text.contains("invariant: ledger-root"), "{text}");
    assert!(text.contains("determinism: ok"), "{text}");
    assert!(text.contains("fails ledger-root: kept"), "{text}");
    let replay = text.lines().find_map(|line| line.strip_prefix("replay: ")).unwrap();
    let nodes: usize = flag(replay, "--nodes").parse().unwrap();
    let duration: u64 = flag(replay, "--duration").parse().unwrap();
    // The bug needs node 0 and one other node to finalise one checkpoint: 2 nodes, and a run
    // that ends just after the first finalisation (height 1 is final once height k + 1 = 4 is
    // mined, ~4 intervals of 2 s; 8 s when measured), with no faults at all.
    assert_eq!(nodes, 2, "{replay}");
    assert!(duration <= 12, "{replay}");
    assert_eq!(flag(replay, "--faults"), "none", "{replay}");
    assert_eq!(flag(replay, "--checker-self-test"), "ledger-root", "{replay}");

    // The printed line replays: the same invariant fails.
    replays(replay, 3, "ledger-root");
}

/// A bug that needs a fault: the shrunk run keeps one kill (and only kills) and drops the other
/// episodes by number, and its replay line still fails.
#[test]
fn a_recovery_bug_shrinks_to_one_kill() {
    let args = [
        "shrink",
        "--seed",
        "2",
        "--nodes",
        "8",
        "--duration",
        "60",
        "--tx-rate",
        "4",
        "--faults",
        "kill,skew,loss",
        "--interval-ms",
        "2000",
        "--finality",
        "3",
        "--checker-self-test",
        "restart-ledger-root",
    ];
    let (status, text) = vein_sim(&args);
    assert_eq!(status, Some(0), "{text}");
    assert!(text.contains("invariant: ledger-root"), "{text}");
    // Of the 7 episodes drawn for 8 nodes and 60 s, one kill is left.
    assert!(text.contains("faults kill,skew,loss ("), "{text}");
    assert!(text.contains(" -> kill (1 applied)"), "{text}");
    let replay = text.lines().find_map(|line| line.strip_prefix("replay: ")).unwrap();
    assert_eq!(flag(replay, "--faults"), "kill", "{replay}");
    assert!(!flag(replay, "--drop-faults").is_empty(), "{replay}");
    let nodes: usize = flag(replay, "--nodes").parse().unwrap();
    let duration: u64 = flag(replay, "--duration").parse().unwrap();
    assert!(nodes < 8 && duration < 60, "{replay}");
    replays(replay, 2, "ledger-root");
    // Shrinking is deterministic: the same steps and result again (all but the wall-clock time
    // and the temporary output directory).
    let (_, again) = vein_sim(&args);
    let steps = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| !line.starts_with("shrunk in ") && !line.starts_with("metrics: "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(steps(&text), steps(&again));
}

#[test]
fn a_passing_run_has_nothing_to_shrink() {
    let args = [
        "shrink",
        "--seed",
        "9",
        "--nodes",
        "6",
        "--duration",
        "40",
        "--interval-ms",
        "2000",
        "--finality",
        "3",
        "--faults",
        "kill,skew",
    ];
    let (status, text) = vein_sim(&args);
    assert_eq!(status, Some(2), "{text}");
    assert!(text.contains("nothing to shrink"), "{text}");
}

#[test]
fn bad_shrink_input_is_a_typed_error() {
    let (status, text) = vein_sim(&["shrink", "--faults", "meteor"]);
    assert_eq!(status, Some(3), "{text}");
    assert!(text.contains("unknown fault kind"), "{text}");
    let (status, text) = vein_sim(&["shrink", "--checker-self-test", "meteor"]);
    assert_eq!(status, Some(3), "{text}");
    assert!(text.contains("unknown checker self-test"), "{text}");
    let (status, text) = vein_sim(&["shrink", "--no-such-flag"]);
    assert_eq!(status, Some(64), "{text}");
}

#[test]
fn dropped_fault_episodes_are_not_applied() {
    let mut config = fast(4, 6, 60);
    config.faults = FaultKinds { kill: true, ..FaultKinds::none() };
    let full = run(&config, None).unwrap();
    assert!(full.ok(), "{:#?}", full.violations);
    let episodes = vein_sim::faults::episodes(&config);
    assert!(episodes >= 2, "{episodes} episodes");
    config.dropped_faults.insert(0);
    let fewer = run(&config, None).unwrap();
    assert!(fewer.ok(), "{:#?}", fewer.violations);
    // Each kill episode is a kill and a restart.
    assert_eq!(fewer.faults_applied + 2, full.faults_applied);
    assert_ne!(fewer.trace_hash, full.trace_hash);
}
