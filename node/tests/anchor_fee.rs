//! What anchoring a side chain costs the main chain (docs/peg.md, "The anchor fee"): real
//! anchors of `a` = 1, 2, 4 and 8 checkpoints of a real-plot side chain (LocalNet, three
//! plots), each verified by a light client with that interval, encoded as the signed main-chain
//! transaction a relayer posts. An anchor's bytes are its envelope plus its checkpoints' own
//! encodings, nothing per checkpoint besides; its fee is one transaction's (`fee_min`, split
//! by the genesis `FeePolicy`) whatever `a` is. Prints the table the doc quotes:
//! `cargo test -p vein-node --test anchor_fee -- --nocapture`.

// A test's set-up failing is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use vein_node::core::checkpoint::Checkpoint;
use vein_node::core::crypto::Keypair;
use vein_node::core::hash::Hash;
use vein_node::core::params::{Genesis, Params};
use vein_node::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use vein_node::core::poc::prover::PlotSet;
use vein_node::core::sidechain::{FollowedChain, HeaderChain, SideChainTx};
use vein_node::core::transaction::{TransactionBody, TxKind};
use vein_node::localnet::{BoxedProver, LocalNet, real_genesis};

const PLOT_NONCES: u64 = 16;
const INTERVALS: [usize; 4] = [1, 2, 4, 8];

/// A real-plot side chain of at least 16 checkpoints: its genesis and node 0's active chain.
fn side_chain() -> (Genesis, Vec<Checkpoint>) {
    let keys: Vec<Keypair> = (0..3).map(|i| Keypair::derived("anchor-fee", i)).collect();
    let provers: Vec<BoxedProver> = keys
        .iter()
        .map(|key| {
            let bytes = build_plot_in_memory(&key.account(), 0, PLOT_NONCES);
            let reader = PlotReader::open(Cursor::new(bytes)).unwrap();
            Box::new(PlotSet::new(vec![reader])) as BoxedProver
        })
        .collect();
    let params = Params { target_interval_ms: 1_000, finality_depth: 3, ..Params::default() };
    let genesis = real_genesis("anchor-fee", &keys, 3 * PLOT_NONCES, 1_000, params);
    let (mut net, _) =
        LocalNet::with_provers(genesis.clone(), keys, provers, 1, 50, |_, _| {}).unwrap();
    net.keep_events = false;
    net.run_until(30_000);
    let chain = net.nodes[0].chain();
    let checkpoints = (1..=chain.height())
        .map(|height| {
            let id = chain.active_at(height).unwrap();
            (**chain.header(&id).unwrap().checkpoint.as_ref().unwrap()).clone()
        })
        .collect();
    (genesis, checkpoints)
}

/// The signed main-chain transaction carrying `headers` as an anchor, encoded.
fn anchor_bytes(headers: &[Checkpoint], fee: u64) -> usize {
    let relayer = Keypair::derived("anchor-fee/relayer", 0);
    let anchor = SideChainTx::Anchor { chain: Hash([9; 32]), headers: headers.to_vec() };
    let tx = TransactionBody {
        from: relayer.account(),
        nonce: 7,
        kind: TxKind::SideChain(Box::new(anchor)),
        fee,
        parents: [Hash([1; 32]), Hash([2; 32])],
        issued_at_ms: 1_700_000_000_000,
    }
    .sign(&relayer)
    .unwrap();
    tx.encode().unwrap().len()
}

#[test]
fn an_anchor_costs_its_envelope_plus_its_checkpoints_and_one_fee() {
    let (genesis, chain) = side_chain();
    let max = *INTERVALS.iter().max().unwrap();
    assert!(chain.len() >= 2 * max, "the run forged {} checkpoints", chain.len());
    let params = Params::default();
    let fee = params.fee_min;
    let envelope = anchor_bytes(&[], fee);
    println!("fee_min {fee}, split (burned, author) {:?}", params.fee_policy.split(fee));
    println!("a | anchor tx bytes | bytes per side checkpoint | fee per side checkpoint");
    for a in INTERVALS {
        // The segment after the first `max` checkpoints ends at height max + a: a multiple of
        // a, so it is an anchor a light client of interval a accepts after the first ones.
        let spec = FollowedChain::from_genesis(&genesis, a as u64).unwrap();
        let mut client = HeaderChain::new(spec);
        let first = &chain[..max];
        client.extend(first, first[max - 1].body.timestamp_ms).unwrap();
        let segment = &chain[max..max + a];
        client.check_segment(segment, segment[a - 1].body.timestamp_ms).unwrap();

        let bytes = anchor_bytes(segment, fee);
        let checkpoints: usize =
            segment.iter().map(|checkpoint| checkpoint.encode().unwrap().len()).sum();
        assert_eq!(bytes, envelope + checkpoints, "a = {a}: nothing but the checkpoints is added");
        // Bytes and verification grow with a; the fee does not.
        assert_eq!(anchor_bytes(segment, fee + 1), bytes, "the fee's size does not move");
        println!("{a} | {bytes} | {:.0} | {:.3}", bytes as f64 / a as f64, fee as f64 / a as f64);
    }
    println!("envelope (an anchor of no checkpoints): {envelope} bytes");
}
