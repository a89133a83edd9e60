//! Anchor pins in fork choice (docs/sidechain-fork-choice.md): a side chain's node refuses any
//! branch that lacks a checkpoint pinned as final on the main chain, however heavy; a pin on a
//! header it has not seen waits for it; pins only move up, and a conflicting pin is a typed error.
//!
//! Every test splits a 3-node network into a light side (nodes 0 and 1, 20% of the space) and a
//! heavy side (node 2, 80%) for 30 s, so that each side holds its own branch above the common
//! fork height, and then heals it.

use vein_node::core::chain::{AnchorPin, PinError, PinOutcome};
use vein_node::core::hash::Hash;
use vein_node::core::params::Params;
use vein_node::localnet::LocalNet;

/// Both branches above the fork: `(fork height, light branch ids, heavy branch ids)`, ids from
/// the fork height + 1 up.
struct Split {
    net: LocalNet,
    fork: u64,
    light: Vec<Hash>,
    heavy: Vec<Hash>,
}

fn branch(net: &LocalNet, node: usize, fork: u64) -> Vec<Hash> {
    let chain = net.nodes[node].chain();
    ((fork + 1)..=chain.height()).filter_map(|height| chain.active_at(height)).collect()
}

fn split() -> Split {
    let params = Params {
        target_interval_ms: 1_000,
        fixed_base_target: true,
        finality_depth: 1_000,
        reorg_limit: 4_096,
        ..Params::default()
    };
    let (mut net, _) = LocalNet::new(5, &[100, 100, 800], params, 5).expect("genesis");
    net.run_until(10_000);
    net.partition(vec![0, 0, 1]);
    // Whatever was in flight at the split has landed: the common part is what all hold alike.
    net.run_until(10_100);
    let fork = (0..=net.nodes[0].chain().height())
        .rev()
        .find(|height| {
            net.nodes[0].chain().active_at(*height) == net.nodes[2].chain().active_at(*height)
        })
        .expect("genesis is common");
    net.run_until(40_000);
    let light = branch(&net, 0, fork);
    let heavy = branch(&net, 2, fork);
    assert!(light.len() >= 2, "light side mined {} checkpoints", light.len());
    assert!(heavy.len() > light.len() + 2, "heavy {} vs light {}", heavy.len(), light.len());
    Split { net, fork, light, heavy }
}

/// Without the pin, node 0 would take the heavier branch at the heal (node 1 does).
#[test]
fn a_pinned_node_refuses_a_heavier_branch_without_the_anchor() {
    let Split { mut net, fork, light, heavy } = split();
    assert_eq!(net.pin_anchor(0, fork + 1, light[0]), Ok(PinOutcome::Pinned));
    net.heal();
    net.run_until(60_000);
    let pinned = net.nodes[0].chain();
    assert_eq!(pinned.active_at(fork + 1), Some(light[0]), "node 0 left its anchor");
    let status = pinned.pin_status();
    assert_eq!(status.pinned, Some(AnchorPin { height: fork + 1, id: light[0] }));
    assert!(status.refused_switches >= 1, "{status:?}");
    let unpinned = net.nodes[1].chain();
    assert_eq!(unpinned.active_at(fork + 1), Some(heavy[0]), "node 1 kept the light branch");
    assert_eq!(unpinned.pin_status().refused_switches, 0);
}

/// Node 2 has not seen the light branch: the pin waits, changes nothing, and takes effect when
/// the branch arrives, moving node 2 onto it although it is lighter than node 2's own.
#[test]
fn a_pin_on_an_unseen_header_waits_until_it_connects() {
    let Split { mut net, fork, light, heavy } = split();
    assert!(!net.nodes[2].chain().knows(&light[0]));
    assert_eq!(net.pin_anchor(2, fork + 1, light[0]), Ok(PinOutcome::Pending));
    let waiting = net.nodes[2].chain().pin_status();
    assert_eq!((waiting.pinned, waiting.pending), (None, 1));
    assert_eq!(net.nodes[2].chain().active_at(fork + 1), Some(heavy[0]));
    net.heal();
    // Node 0 publishes its branch before the heavy branch reaches it.
    net.release(0, (fork + 1)..=(fork + light.len() as u64));
    net.run_until(41_000);
    let chain = net.nodes[2].chain();
    let status = chain.pin_status();
    assert_eq!(status.pinned, Some(AnchorPin { height: fork + 1, id: light[0] }));
    assert_eq!(status.pending, 0);
    assert!(status.refused_switches >= 1, "{status:?}");
    assert_eq!(chain.active_at(fork + 1), Some(light[0]), "node 2 ignored the connected pin");
}

/// Pins only move up along one branch; anything else is a typed error and leaves the pin in
/// force as it was.
#[test]
fn conflicting_pins_are_typed_errors_and_pins_only_move_up() {
    let Split { mut net, fork, light, heavy } = split();
    net.heal();
    net.release(0, (fork + 1)..=(fork + light.len() as u64));
    net.run_until(41_000);
    // Node 2 now holds both branches as headers.
    assert!(net.nodes[2].chain().knows(&light[1]) && net.nodes[2].chain().knows(&heavy[1]));
    assert_eq!(net.pin_anchor(2, fork + 2, light[1]), Ok(PinOutcome::Pinned));
    let in_force = Some(AnchorPin { height: fork + 2, id: light[1] });
    let conflict = |height, id| PinError::Conflict {
        height,
        id,
        pinned_height: fork + 2,
        pinned_id: light[1],
    };
    // Lower and on the branch: implied, and the pin does not move down.
    assert_eq!(net.pin_anchor(2, fork + 1, light[0]), Ok(PinOutcome::Unchanged));
    assert_eq!(net.pin_anchor(2, fork + 2, light[1]), Ok(PinOutcome::Unchanged));
    // Another branch, below, at or above the pin.
    assert_eq!(net.pin_anchor(2, fork + 1, heavy[0]), Err(conflict(fork + 1, heavy[0])));
    assert_eq!(net.pin_anchor(2, fork + 2, heavy[1]), Err(conflict(fork + 2, heavy[1])));
    assert_eq!(net.pin_anchor(2, fork + 3, heavy[2]), Err(conflict(fork + 3, heavy[2])));
    // A known header at another height.
    assert_eq!(
        net.pin_anchor(2, fork + 5, light[0]),
        Err(PinError::WrongHeight { height: fork + 5, id: light[0], actual: fork + 1 })
    );
    // An unknown id below the pin cannot be its ancestor.
    let unknown = Hash::of(b"never mined");
    assert_eq!(net.pin_anchor(2, fork + 1, unknown), Err(conflict(fork + 1, unknown)));
    // Above it, it waits; a second id at that height conflicts with the waiting one.
    assert_eq!(net.pin_anchor(2, fork + 9, unknown), Ok(PinOutcome::Pending));
    let other = Hash::of(b"also never mined");
    assert_eq!(
        net.pin_anchor(2, fork + 9, other),
        Err(PinError::Conflict {
            height: fork + 9,
            id: other,
            pinned_height: fork + 9,
            pinned_id: unknown
        })
    );
    let status = net.nodes[2].chain().pin_status();
    assert_eq!((status.pinned, status.pending), (in_force, 1));
    assert_eq!(net.nodes[2].chain().active_at(fork + 2), Some(light[1]));
}
