//! A selfish miner on real processes: `vein-testnet up --attacker 3=withhold` runs node 3 with
//! `vein-node run --policy withhold` and 40% of the space. The node keeps its checkpoints
//! private and publishes them by the core's release rule (the one the scenario engines use);
//! the honest nodes receive the released branch (it wins some races: attacker checkpoints on
//! their chains, or reorganisations) and never revert a final checkpoint.
//!
//! Bounded: debug binaries, 4 nodes of 32-64 nonces, one checkpoint a second, at most 150 s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::time::Duration;
use vein_node::api_types::{Checkpoints, Status};
use vein_testnet::http;

const ATTACKER: usize = 3;
const HONEST: [usize; 3] = [0, 1, 2];

/// `GET /metrics` on `node`, the value of the counter `name` (`None` when it does not answer).
fn counter(net: &Net, node: usize, name: &str) -> Option<u64> {
    let api = net.manifest().nodes[node].api;
    let (_, text) = http::request(api, "GET", "/metrics", None, Duration::from_secs(5)).ok()?;
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Checkpoints on `node`'s active chain (the newest 200) forged by `author`.
fn authored_by(net: &Net, node: usize, author: &str) -> usize {
    let chain: Option<Checkpoints> = net.get(node, "/checkpoints?limit=200");
    chain.map_or(0, |chain| chain.checkpoints.iter().filter(|c| c.author == author).count())
}

#[test]
fn a_withholding_attacker_publishes_by_the_release_rule_and_final_checkpoints_hold() {
    let net = Net::new();
    net.cli(&[
        "up",
        "--nodes",
        "4",
        "--nonces",
        "32",
        "--attacker",
        "3=withhold",
        "--attacker-nonces",
        "64",
        "--interval-ms",
        "1000",
        "--k",
        "6",
        "--label",
        "attacker",
    ]);
    let manifest = net.manifest();
    assert_eq!(manifest.nodes[ATTACKER].policy.as_deref(), Some("withhold"));
    let attacker_account = manifest.nodes[ATTACKER].account.clone();
    let status: Status = net.get(ATTACKER, "/status").expect("attacker status");
    assert_eq!(status.policy, "withhold");
    let honest: Status = net.get(0, "/status").expect("honest status");
    assert_eq!((honest.policy.as_str(), honest.released_height), ("honest", None));

    // The attacker withholds, then its rule publishes: checkpoints released (counted by the
    // node) that honest nodes received and judged.
    wait_until("the attacker's rule released private checkpoints", Duration::from_secs(90), || {
        counter(&net, ATTACKER, "vein_checkpoints_released_total").is_some_and(|n| n >= 2)
    });
    wait_until(
        "an honest node switched to a released branch (reorg) or holds attacker checkpoints",
        Duration::from_secs(60),
        || {
            HONEST.iter().any(|&node| {
                counter(&net, node, "vein_reorgs_total").is_some_and(|n| n > 0)
                    || authored_by(&net, node, &attacker_account) > 0
            })
        },
    );
    // Finality must have advanced on every honest node before "no final checkpoint reverted"
    // says anything.
    wait_until("every honest node finalised checkpoints", Duration::from_secs(60), || {
        HONEST.iter().all(|&node| {
            net.get::<Checkpoints>(node, "/checkpoints?limit=1").is_some_and(|c| c.final_height > 0)
        })
    });
    let status: Status = net.get(ATTACKER, "/status").expect("attacker status");
    eprintln!(
        "attacker: height {}, released up to {:?}, released {:?} checkpoints",
        status.height,
        status.released_height,
        counter(&net, ATTACKER, "vein_checkpoints_released_total")
    );
    for node in HONEST {
        let reorgs = counter(&net, node, "vein_reorgs_total");
        let chain: Checkpoints = net.get(node, "/checkpoints?limit=200").expect("chain");
        eprintln!(
            "honest node {node}: height {}, final {}, reorgs {reorgs:?}, attacker's share of \
             its chain {}/{}",
            chain.height,
            chain.final_height,
            authored_by(&net, node, &attacker_account),
            chain.checkpoints.len()
        );
        assert_eq!(
            counter(&net, node, "vein_final_reverted_total"),
            Some(0),
            "honest node {node} reverted a final checkpoint"
        );
        assert!(chain.final_height > 0, "honest node {node} finalised nothing");
    }
}
