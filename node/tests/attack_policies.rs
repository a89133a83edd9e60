//! The two attacker policies of PROTOCOL.md §7 #4 and #7 run the honest core and produce only
//! checkpoints every honest node accepts: extend-all-forks (forging on every known checkpoint,
//! the ledger root previewed on that checkpoint's own branch) and on-the-fly plotting (proofs of
//! nonces computed after the challenge, `PocProof::ModelNonce`).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use vein_node::core::events::Event;
use vein_node::core::node::Policy;
use vein_node::core::params::Params;
use vein_node::core::poc::PocProof;
use vein_node::localnet::LocalNet;

fn fixed(challenge_refresh: u64) -> Params {
    Params {
        target_interval_ms: 1_000,
        challenge_refresh,
        fixed_base_target: true,
        finality_depth: 4_096,
        reorg_limit: 4_096,
        ..Params::default()
    }
}

/// Own checkpoints refused anywhere, and checkpoints a node refused from a peer.
fn refusals(net: &LocalNet) -> Vec<String> {
    net.events
        .iter()
        .filter_map(|(_, node, event)| match event {
            Event::InputRejected { kind, reason, .. } if kind.contains("checkpoint") => {
                Some(format!("node {node}: {kind}: {reason}"))
            }
            _ => None,
        })
        .collect()
}

/// Heights at which `node` holds more than one checkpoint.
fn forked_heights(net: &LocalNet, node: usize) -> usize {
    let mut seen = BTreeSet::new();
    let mut forked = BTreeSet::new();
    for (_, at, event) in &net.events {
        if *at == node
            && let Event::CheckpointAccepted { height, .. } = event
            && !seen.insert(*height)
        {
            forked.insert(*height);
        }
    }
    forked.len()
}

#[test]
fn one_identity_extending_all_forks_grows_one_chain() {
    // A lone private double-dipper: every fork of its own tree opens the same challenge
    // (H(g ‖ winner), winner always itself), so it never forks and each height is forged once.
    let (mut net, _) = LocalNet::with_config("forks-one", 1, &[1_000], fixed(1), 1, |_, config| {
        config.policy = Policy::ExtendAllForks;
    })
    .unwrap();
    net.run_until(30_000);
    assert!(refusals(&net).is_empty(), "{:?}", refusals(&net));
    let height = net.nodes[0].chain().height();
    assert!(height > 10, "height {height}");
    assert_eq!(net.nodes[0].stats().checkpoints_won, height);
    assert_eq!(forked_heights(&net, 0), 0);
}

#[test]
fn several_identities_extending_all_forks_grow_a_valid_tree() {
    let run = |challenge_refresh: u64| {
        let (mut net, _) = LocalNet::with_config(
            "forks-tree",
            2,
            &[250, 250, 250, 250],
            fixed(challenge_refresh),
            1,
            |_, config| config.policy = Policy::ExtendAllForks,
        )
        .unwrap();
        net.run_until(8_000);
        assert!(refusals(&net).is_empty(), "{:?}", refusals(&net));
        let won: u64 = net.nodes.iter().map(|node| node.stats().checkpoints_won).sum();
        let heights: Vec<u64> = net.nodes.iter().map(|node| node.chain().height()).collect();
        (won, heights, forked_heights(&net, 0))
    };
    let (won, heights, forked) = run(1);
    // Four identities fork at every height: far more checkpoints than heights, and the
    // deepest branch is deeper than one chain's expected 8.
    assert!(forked > 3, "forked heights {forked}");
    assert!(won > 2 * heights[0], "won {won}, heights {heights:?}");
    // Every identity follows the deepest branch it knows (1 ms apart at most).
    let top = *heights.iter().max().unwrap();
    assert!(heights.iter().all(|height| height + 1 >= top), "{heights:?}");
    // With the challenge fixed for 64 checkpoints nothing branches in 8 s: one chain.
    let (won, heights, forked) = run(64);
    assert_eq!(forked, 0);
    assert_eq!(won, heights[0]);
}

#[test]
fn an_on_the_fly_plotter_wins_with_accepted_nonce_proofs() {
    // Three honest miners of 1000 nonces; node 3 stores nothing and computes 3000 nonces/s.
    let (mut net, keys) =
        LocalNet::with_config("fly", 3, &[1_000, 1_000, 1_000, 0], fixed(1), 1, |index, config| {
            if index == 3 {
                config.policy = Policy::OnTheFly { nonces_per_s: 3_000 };
                config.mining = true;
            }
        })
        .unwrap();
    net.run_until(200_000);
    assert!(refusals(&net).is_empty(), "{:?}", refusals(&net));
    let plotter = keys[3].account();
    let chain = net.nodes[0].chain();
    let mut won = 0u64;
    for height in 1..=chain.height() {
        let header = chain.header(&chain.active_at(height).unwrap()).unwrap();
        let proof = &header.checkpoint.as_ref().unwrap().body.proof;
        if header.author == plotter {
            won += 1;
            assert!(matches!(proof, PocProof::ModelNonce { .. }), "{proof:?}");
        } else {
            assert!(matches!(proof, PocProof::Model { .. }), "{proof:?}");
        }
    }
    // κ = 1: the Rayleigh race gives 0.454; 200 s hold about 370 checkpoints (sd ≈ 0.026).
    let share = won as f64 / chain.height() as f64;
    assert!((share - 0.454).abs() < 0.13, "share {share} of {}", chain.height());
}
