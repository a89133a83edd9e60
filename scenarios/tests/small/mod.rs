//! Small, short versions of every shipped scenario family, shared by the property test
//! (`properties.rs`, fresh seeds every run) and the canonical snapshots (`canonical.rs`, fixed
//! seeds). Each family is its shipped file with a few values changed, in one or more points.
//!
//! Sizes are chosen for two things: a whole family runs in about a second (CI runs this on every
//! push), and the honest nodes' safety checks cannot fail by bad luck at the chosen parameters:
//! one-way latency is kept at most 1% of the checkpoint interval T, so a fork that lasts the k = 6
//! checkpoints a conflicting finality needs has probability of order (2 × 1.5 latency / T)^6
//! < 1e-9 per checkpoint (1.5: LocalNet's jitter adds up to half the latency).

use std::path::Path;

use vein_scenarios::attacker::AttackerTable;
use vein_scenarios::scenario::Scenario;
use vein_scenarios::tampering_member::{TamperMode, TamperingMember};

/// Every family the property test and the snapshots cover, by scenario file stem.
pub const FAMILIES: &[&str] = &[
    "honest-baseline",
    "win-share",
    "identity-split",
    "double-spend",
    "selfish",
    "grinding",
    "network-split",
    "extend-all-forks",
    "fake-space",
    "conflict-spam",
    "lazy-tips",
    "tips",
    "storage-cheating",
    "shard-loss",
    "plot-sharing",
    "revocation-race",
    "tampering-member",
    "sidechain-takeover",
    "cross-chain-double-spend",
    "ordering-power",
    "fl-poisoning",
    "fl-label-flipping",
    "token-double-spend",
];

/// The shipped file `scenarios/{family}.toml` with `edit` applied, validated.
fn shipped(family: &str, edit: impl Fn(&mut Scenario)) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("{family}.toml"));
    let mut scenario = Scenario::load(&path).unwrap_or_else(|error| panic!("{error}"));
    edit(&mut scenario);
    scenario.validate().unwrap_or_else(|error| panic!("{family}: {error}"));
    scenario
}

/// The small points of `family`.
pub fn points(family: &str) -> Vec<Scenario> {
    match family {
        // ~390 checkpoints: the family needs 201 settled ones (P(fewer) < 1e-20).
        "honest-baseline" => vec![shipped(family, |s| s.run.duration_s = 400)],
        "win-share" | "identity-split" => vec![shipped(family, |s| s.run.duration_s = 200)],
        "double-spend" => [(0.1, 1), (0.3, 1), (0.45, 2)]
            .into_iter()
            .map(|(q, z)| {
                shipped(family, |s| {
                    s.set_parameter("q", q).unwrap();
                    s.set_parameter("z", z as f64).unwrap();
                })
            })
            .collect(),
        // The revenue needs 200 settled checkpoints of the public chain: about 400 here.
        "selfish" => vec![shipped(family, |s| {
            s.run.duration_s = 500;
            s.set_parameter("q", 0.3).unwrap();
        })],
        "grinding" => vec![shipped(family, |s| s.run.duration_s = 150)],
        // d ≤ 2: a tie at the heal left unresolved for the 10 T the family waits (e^-10) would
        // fail the convergence check; with d ≤ 2 a tie deep enough to matter has probability
        // < 0.004, so < 2e-7 per run.
        "network-split" => [(1.0, 1), (2.0, 1), (2.0, 2)]
            .into_iter()
            .map(|(d, z)| {
                shipped(family, |s| {
                    s.set_parameter("d", d).unwrap();
                    s.set_parameter("z", z as f64).unwrap();
                })
            })
            .collect(),
        // A few hundred checkpoints per identity at most, far below the family's bound.
        "extend-all-forks" => [(0.3, 1), (0.4, 4)]
            .into_iter()
            .map(|(q, c)| {
                shipped(family, |s| {
                    s.run.duration_s = 15;
                    s.set_parameter("q", q).unwrap();
                    s.network.challenge_refresh = c;
                })
            })
            .collect(),
        "fake-space" => [300.0, 3_000.0]
            .into_iter()
            .map(|rate| {
                shipped(family, |s| {
                    s.run.duration_s = 150;
                    s.set_parameter("nonces_per_s", rate).unwrap();
                })
            })
            .collect(),
        "conflict-spam" => vec![shipped(family, |s| {
            s.run.duration_s = 60;
            s.network.latency_ms = 5;
        })],
        "lazy-tips" => vec![
            shipped(family, |s| {
                s.run.duration_s = 80;
                s.network.latency_ms = 5;
            }),
            // No attacker (rate 0): every honest transfer must be applied. The family stops
            // the workload 20 s before the end; at T = 0.5 s the last transfer needs 7 of the
            // ~40 checkpoints expected by then (P(fewer) < 1e-9).
            shipped(family, |s| {
                s.run.duration_s = 60;
                s.network.latency_ms = 2;
                s.network.target_interval_ms = 500;
                s.set_parameter("rate", 0.0).unwrap();
            }),
        ],
        // h = 10 ms instead of 500: the tip count is not judged here, forks must stay rare.
        "tips" => vec![shipped(family, |s| {
            s.run.duration_s = 40;
            s.network.latency_ms = 10;
        })],
        // Real plots: 4 nonces a miner keeps a run to a few seconds (every node regenerates
        // one nonce per checkpoint to verify it); latency 2 ms is 0.2% of T.
        "plot-sharing" => vec![shipped(family, |s| {
            s.network.nonces_per_node = 4;
            s.run.duration_s = 60;
            s.set_parameter("split", 3.0).unwrap_or_else(|error| panic!("{error}"));
        })],
        "storage-cheating" => vec![shipped(family, |s| {
            s.run.duration_s = 60;
            s.network.latency_ms = 5;
        })],
        // f = 0.2 and 0.3 of 20 participants, 10 rounds: no network, a fraction of a second.
        "fl-poisoning" | "fl-label-flipping" => [0.2, 0.3]
            .into_iter()
            .map(|fraction| {
                shipped(family, |s| {
                    s.set_parameter("fraction", fraction).unwrap();
                })
            })
            .collect(),
        // The shipped point (4 rounds, ~70 simulated s); latency 1 ms is 0.1% of T.
        "revocation-race" => vec![shipped(family, |_| {})],
        // Both modes; latency 20 ms is 1% of T = 2 s.
        "tampering-member" => vec![
            shipped(family, |_| {}),
            shipped(family, |s| {
                let liar = TamperingMember { mode: TamperMode::FalseRoot };
                s.attacker = AttackerTable::write(&liar).unwrap_or_else(|error| panic!("{error}"));
            }),
        ],
        // Two crashed holders of 6 (k = 3): the file survives; four: it is lost.
        "shard-loss" => [2.0, 4.0]
            .into_iter()
            .map(|crashed| {
                shipped(family, |s| {
                    s.run.duration_s = 60;
                    s.network.latency_ms = 5;
                    s.set_parameter("crashed", crashed).unwrap_or_else(|error| panic!("{error}"));
                })
            })
            .collect(),
        // A majority attacker with and without anchors (a = 2: a rewrite needs a lead before
        // the second honest checkpoint); one race each, latency 0.1% of T.
        "sidechain-takeover" => [(0.6, 0.0), (0.6, 2.0)]
            .into_iter()
            .map(|(q, a)| {
                shipped(family, |s| {
                    s.set_parameter("q", q).unwrap();
                    s.set_parameter("a", a).unwrap();
                })
            })
            .collect(),
        // Both bridges against a majority: strict must hold, relaxed may lose.
        "cross-chain-double-spend" => [0.0, 1.0]
            .into_iter()
            .map(|strict| {
                shipped(family, |s| {
                    s.set_parameter("q", 0.6).unwrap();
                    s.set_parameter("z", 1.0).unwrap();
                    s.set_parameter("strict", strict).unwrap();
                })
            })
            .collect(),
        // 20 swaps at 0.25 per T (~90 simulated s, well under a second); latency 1 ms is
        // 0.1% of T.
        "ordering-power" => vec![shipped(family, |s| {
            let mut attack: vein_scenarios::ordering_power::Sandwicher =
                s.attacker.read().unwrap_or_else(|error| panic!("{error}"));
            attack.swaps = 20;
            s.attacker = AttackerTable::write(&attack).unwrap_or_else(|error| panic!("{error}"));
        })],
        // Both gaps, 4 pairs each (~25 simulated s, well under a second); latency 10 ms is 1%
        // of T.
        "token-double-spend" => [0.0, 500.0]
            .into_iter()
            .map(|gap| {
                shipped(family, |s| {
                    s.network.latency_ms = 10;
                    s.set_parameter("gap_ms", gap).unwrap();
                    let mut attack: vein_scenarios::token_double_spend::TokenDoubleSpender =
                        s.attacker.read().unwrap_or_else(|error| panic!("{error}"));
                    attack.pairs = 4;
                    s.attacker =
                        AttackerTable::write(&attack).unwrap_or_else(|error| panic!("{error}"));
                })
            })
            .collect(),
        _ => panic!("no small points for family {family:?}"),
    }
}
