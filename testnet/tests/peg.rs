//! The two-way peg on real processes: a 2-node main net and a 2-node side chain beside it
//! (`side up`, with its relayer), one round trip main → side → main through the CLI, then
//! conservation read from both chains' `GET /peg`, each chain following the other as a light
//! client (`GET /sidechains`), and a replayed proof refused with the ledger's typed error
//! (`POST /peg/claim/check` answers `replayed`; posted anyway, the claim is ignored and nothing
//! more is minted). The relayer pins every side node to a final anchor (`POST /sidechain/pin`),
//! a checkpoint on the side's own active chain.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{Net, wait_until};
use std::time::Duration;
use vein_node::api_types::{
    Checkpoints, Outcome, PegClaimCheck, PegClaimVerdict, PegProofs, PegView, PinView,
    SideChainList, Unit,
};
use vein_testnet::http;
use vein_testnet::manifest::Manifest;
use vein_testnet::peg::{PegStatus, RoundTripReport};
use vein_testnet::relay::{Nonces, claim_kind, post_signed};

#[test]
fn a_round_trip_conserves_and_a_replayed_proof_is_refused() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "2", "--nonces", "8", "--interval-ms", "1000", "--k", "2"]);
    net.cli(&["side", "up", "--nodes", "2", "--nonces", "8", "--anchor-interval", "2"]);
    let side: Manifest = Manifest::load(&net.dir.path().join("side")).unwrap();
    assert_ne!(side.chain_id, net.manifest().chain_id);
    let status = net.cli(&["status"]);
    assert!(status.contains(&format!("side chain {}", side.chain_id)), "{status}");

    let report = net.cli(&["peg", "roundtrip", "--amount", "7", "--leg-timeout", "300"]);
    let report: RoundTripReport = serde_json::from_str(&report).unwrap();
    assert_eq!(report.rounds, 1);
    assert!(report.lock_to_mint.p50_ms > 0 && report.burn_to_release.p50_ms > 0, "{report:?}");
    // Main: k = 2 at T = 1 s; the side takes main's parameters: (1 + 2) 1 s + 2 x 1 s per leg.
    assert_eq!(report.floor_ms, 10_000);

    // Conservation on both chains: everything locked came home, nothing is in flight.
    let status: PegStatus = serde_json::from_str(&net.cli(&["peg", "status"])).unwrap();
    assert_eq!(status.tokens.len(), 1, "{status:?}");
    let token = &status.tokens[0];
    assert!(token.conserved, "{token:?}");
    assert_eq!((token.locked, token.released, token.escrow_held), (7, 7, 0), "{token:?}");
    assert_eq!((token.minted, token.burned), (7, 7), "{token:?}");
    assert_eq!((token.locks_in_flight, token.burns_in_flight), (0, 0), "{token:?}");

    // Each chain follows the other, with a final header past genesis.
    let main_api = net.manifest().nodes[0].api;
    let side_api = side.nodes[0].api;
    for (api, other) in [(main_api, &status.side_chain), (side_api, &status.main_chain)] {
        let list: SideChainList = http::get(api, "/sidechains").unwrap();
        let followed = list.chains.iter().find(|chain| &chain.chain == other).unwrap();
        assert!(followed.final_tip.height > 0, "{followed:?}");
    }

    // Every side node is pinned to a final anchor: a side header final in main's light client
    // as read at a main head now final on main, found on the side's own active chain.
    for node in &side.nodes {
        let pins = || http::get::<PinView>(node.api, "/sidechain/pin").ok();
        wait_until("a side node pinned to a final anchor", Duration::from_secs(120), || {
            pins().and_then(|pins| pins.pinned).is_some_and(|pin| pin.height > 0)
        });
        let pin = pins().and_then(|pins| pins.pinned).unwrap();
        let chain: Checkpoints = http::get(node.api, "/checkpoints?limit=1000").unwrap();
        let row = chain.checkpoints.iter().find(|row| row.height == pin.height);
        assert_eq!(row.map(|row| &row.id), Some(&pin.id), "side node {}: {pin:?}", node.index);
    }

    // The lock's proof, claimed once already on the side: the check names the replay.
    let proofs: PegProofs =
        http::get(main_api, &format!("/peg/proofs/{}", status.side_chain)).unwrap();
    let proof = proofs.proofs.first().expect("main's lock entry").proof.clone();
    let check = PegClaimCheck { proof: proof.clone() };
    let verdict =
        || -> PegClaimVerdict { http::post(side_api, "/peg/claim/check", &check).unwrap() };
    // The proof hashes to main's head now: the side checks finality first, so it says
    // `header_not_final` until that head is anchored k deep.
    wait_until("the proof's header is final on the side", Duration::from_secs(120), || {
        verdict().refusal.is_none_or(|refusal| refusal.kind != "header_not_final")
    });
    let verdict = verdict();
    assert!(!verdict.claimable, "{verdict:?}");
    assert_eq!(verdict.refusal.as_ref().map(|r| r.kind.as_str()), Some("replayed"), "{verdict:?}");

    // Posted anyway, the replay is ordered and ignored: the side mints nothing more.
    let key = vein_node::service::load_key(&side.nodes[1].key).unwrap();
    let nonce = Nonces::default().take(side_api, &key.account()).unwrap();
    let id = post_signed(side_api, &key, nonce, claim_kind(&proof).unwrap()).unwrap();
    wait_until("the replayed mint is ordered", Duration::from_secs(60), || {
        http::get::<Unit>(side_api, &format!("/unit/{id}")).is_ok_and(|unit| unit.outcome.is_some())
    });
    let unit: Unit = http::get(side_api, &format!("/unit/{id}")).unwrap();
    assert_eq!(unit.outcome, Some(Outcome::Ignored), "{unit:?}");
    let side_peg: PegView = http::get(side_api, "/peg").unwrap();
    assert_eq!(side_peg.wrapped[0].minted, 7, "{side_peg:?}");
    let status: PegStatus = serde_json::from_str(&net.cli(&["peg", "status"])).unwrap();
    assert!(status.tokens[0].conserved, "{status:?}");

    let down = net.cli(&["down"]);
    assert!(down.contains("stopped 4 node(s)"), "{down}");
}
