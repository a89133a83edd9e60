//! The light client on a real side chain (`test_chain`): the chain's own retarget and weights,
//! forged headers, fork choice above final, refusal below it, replays.

use super::*;
use crate::core::checkpoint::CheckpointError;
use crate::core::poc::PocProof;
use crate::core::sidechain::test_chain::{SIDE_FINALITY_DEPTH, SideChainRun, side_chain_run};

const K: u64 = SIDE_FINALITY_DEPTH;

fn light_client(run: &SideChainRun) -> HeaderChain {
    let spec = FollowedChain::from_genesis(&run.genesis, 4).unwrap();
    spec.validate().unwrap();
    HeaderChain::new(spec)
}

/// The time a carrier would check `segment` at: its last header's own timestamp.
fn now_of(segment: &[Checkpoint]) -> u64 {
    segment.last().map_or(0, |last| last.body.timestamp_ms)
}

fn feed(client: &mut HeaderChain, segment: &[Checkpoint]) -> Result<(), LightClientError> {
    client.extend(segment, now_of(segment))
}

fn id(checkpoint: &Checkpoint) -> Hash {
    checkpoint.id().unwrap()
}

/// `checkpoint` changed by `tamper` and signed again by its author: only the tampered field
/// is wrong.
fn resigned(
    run: &SideChainRun,
    checkpoint: &Checkpoint,
    tamper: impl FnOnce(&mut CheckpointBody),
) -> Checkpoint {
    let mut body = checkpoint.body.clone();
    tamper(&mut body);
    body.sign(run.key_of(checkpoint)).unwrap()
}

#[test]
fn a_real_chain_is_followed_with_its_own_retarget_and_finality_trails_by_k() {
    let run = side_chain_run();
    let mut client = light_client(run);
    let genesis = client.best().id;
    for chunk in run.heavy.chunks(5) {
        feed(&mut client, chunk).unwrap();
        client.check_invariants().unwrap();
        for checkpoint in chunk {
            let header = client.get(&id(checkpoint)).expect("just inserted");
            assert_eq!(header.next_base_target, run.next_base_targets[&header.id]);
        }
        assert!(client.len() <= RETARGET_WINDOW + 1 + 5 + K as usize, "bounded tree");
    }
    let tip = run.heavy.last().unwrap();
    assert_eq!(client.best().id, id(tip));
    let final_height = tip.body.height - K;
    assert_eq!(client.final_tip().height, final_height);
    let final_checkpoint = &run.heavy[final_height as usize - 1];
    assert_eq!(
        client.final_header(&id(final_checkpoint)),
        Some((final_height, final_checkpoint.body.ledger_root))
    );
    assert!(client.is_final(&id(&run.heavy[0])));
    assert!(!client.is_final(&id(&run.heavy[final_height as usize])), "one above final");
    assert_eq!(client.final_header(&genesis), None, "genesis has no known root");
    // Retargeting really moved the base target over the run (else the check above is weak).
    let targets: std::collections::BTreeSet<u64> =
        run.heavy.iter().map(|checkpoint| checkpoint.body.base_target).collect();
    assert!(targets.len() > 3, "base targets seen: {targets:?}");
}

#[test]
fn forged_headers_are_refused_each_with_its_own_error_and_change_nothing() {
    let run = side_chain_run();
    let mut client = light_client(run);
    feed(&mut client, &run.heavy[..5]).unwrap();
    let before = client.clone();
    let next = &run.heavy[5];
    let height = next.body.height;
    let refusal = |client: &HeaderChain, forged: Checkpoint| {
        let segment = [forged];
        match client.check_segment(&segment, now_of(&segment)) {
            Err(LightClientError::Forged { height: at, source }) => {
                assert_eq!(at, height);
                source
            }
            other => panic!("expected a forged header, got {other:?}"),
        }
    };

    let PocProof::Plot { plot_account, nonce_index, mut scoop } = next.body.proof.clone() else {
        panic!("a real plot proof")
    };
    scoop[0] ^= 1;
    let tampered = PocProof::Plot { plot_account, nonce_index, scoop };
    let forged = resigned(run, next, |body| body.proof = tampered);
    assert!(matches!(refusal(&client, forged), CheckpointError::ForgedProof { .. }));

    let forged = resigned(run, next, |body| body.cumulative_weight += 1);
    assert!(matches!(refusal(&client, forged), CheckpointError::WrongCumulativeWeight { .. }));

    let forged = resigned(run, next, |body| body.generation_signature = Hash::of(b"ground"));
    assert_eq!(refusal(&client, forged), CheckpointError::WrongGenerationSignature { height });

    let forged = resigned(run, next, |body| body.base_target += 1);
    assert!(matches!(refusal(&client, forged), CheckpointError::WrongBaseTarget { .. }));

    let mut unsigned = next.clone();
    unsigned.body.timestamp_ms += 1;
    assert!(matches!(refusal(&client, unsigned), CheckpointError::Signature(_)));

    // Dated beyond the drift of the caller's "now" (a late header: early ones are dated
    // within the drift of the genesis time).
    let mut late_client = light_client(run);
    let (last, earlier) = run.heavy.split_last().unwrap();
    feed(&mut late_client, earlier).unwrap();
    let drift = client.spec().future_drift_ms;
    assert!(last.body.timestamp_ms > drift, "the run outlasts the drift");
    let early = last.body.timestamp_ms - drift - 1;
    assert!(matches!(
        late_client.check_segment(std::slice::from_ref(last), early),
        Err(LightClientError::Forged { source: CheckpointError::FromTheFuture { .. }, .. })
    ));
    late_client.check_segment(std::slice::from_ref(last), early + 1).unwrap();

    // A forged header in the middle refuses the whole segment.
    let mut segment = run.heavy[5..9].to_vec();
    segment[2] = resigned(run, &segment[2], |body| body.cumulative_weight -= 1);
    assert!(matches!(feed(&mut client, &segment), Err(LightClientError::Forged { .. })));
    assert_eq!(client, before);

    // The untouched header is accepted: each refusal came from its tampering.
    feed(&mut client, &run.heavy[5..9]).unwrap();
}

#[test]
fn a_heavier_fork_above_final_is_accepted_and_the_lighter_branch_pruned() {
    let run = side_chain_run();
    let fork = run.fork_height as usize;
    let mut client = light_client(run);
    feed(&mut client, &run.heavy[..fork]).unwrap();
    // The light branch, at most k past the fork: the fork point stays at or above final.
    let light = &run.light[fork..fork + K as usize];
    feed(&mut client, light).unwrap();
    assert_eq!(client.best().id, id(light.last().unwrap()));
    assert!(client.final_tip().height <= run.fork_height);
    let light_weight = light.last().unwrap().body.cumulative_weight;
    let heavier = run.heavy[fork..]
        .iter()
        .position(|checkpoint| checkpoint.body.cumulative_weight > light_weight)
        .expect("the majority branch outweighs the minority's first k headers");
    let branch = &run.heavy[fork..=fork + heavier];
    // Not yet heavier: the light branch stays best (first seen wins ties and below).
    if heavier > 0 {
        feed(&mut client, &branch[..heavier]).unwrap();
        assert_eq!(client.best().id, id(light.last().unwrap()));
    }
    feed(&mut client, &branch[heavier..]).unwrap();
    assert_eq!(client.best().id, id(branch.last().unwrap()));
    client.check_invariants().unwrap();
    // Once final passes the fork point, the lighter branch can never win and is dropped.
    feed(&mut client, &run.heavy[fork + heavier + 1..]).unwrap();
    assert!(client.final_tip().height > run.fork_height);
    assert!(!client.knows(&id(&light[0])));
    client.check_invariants().unwrap();
}

#[test]
fn a_fork_below_final_is_refused_even_when_heavier() {
    let run = side_chain_run();
    let fork = run.fork_height as usize;
    let mut client = light_client(run);
    // Follow the minority branch until its final header is above the fork point.
    let light = &run.light[..fork + K as usize + 2];
    feed(&mut client, light).unwrap();
    let final_height = client.final_tip().height;
    assert_eq!(final_height, run.fork_height + 2);
    let before = client.clone();
    let heavy = &run.heavy[fork..];
    let best_weight = client.best().cumulative_weight;
    assert!(heavy.last().unwrap().body.cumulative_weight > best_weight, "the fork is heavier");
    assert_eq!(
        feed(&mut client, heavy),
        Err(LightClientError::ReorgBelowFinal { fork_height: run.fork_height, final_height })
    );
    assert_eq!(client, before);
}

#[test]
fn replays_gaps_and_empty_segments_are_refused_and_overlaps_skip_what_is_known() {
    let run = side_chain_run();
    let mut client = light_client(run);
    feed(&mut client, &run.heavy[..6]).unwrap();
    let tip = &run.heavy[5];
    assert_eq!(
        feed(&mut client, &run.heavy[3..6]),
        Err(LightClientError::Replayed { id: id(tip), height: tip.body.height })
    );
    assert_eq!(
        feed(&mut client, &run.heavy[7..9]),
        Err(LightClientError::UnknownPredecessor { prev: id(&run.heavy[6]) })
    );
    assert_eq!(feed(&mut client, &[]), Err(LightClientError::EmptySegment));
    feed(&mut client, &run.heavy[3..9]).unwrap();
    assert_eq!(client.best().id, id(&run.heavy[8]));
    client.check_invariants().unwrap();
}

/// The cost of an anchor for docs/sidechains.md: bytes per checkpoint and per anchor of `a`
/// = 8, and verify time per checkpoint on the real-plot run. A measurement, not a check (wall
/// time is never asserted): `cargo test -p vein-node --lib measure_anchor_cost -- --ignored
/// --nocapture`.
#[test]
#[ignore]
#[allow(clippy::disallowed_methods)] // A measurement reads the wall clock, outside the core.
fn measure_anchor_cost() {
    use crate::core::crypto::Keypair;
    use crate::core::sidechain::SideChainTx;
    use crate::core::transaction::{TransactionBody, TxKind};
    let run = side_chain_run();
    let a = 8;
    let bytes: Vec<usize> =
        run.heavy.iter().map(|checkpoint| checkpoint.encode().unwrap().len()).collect();
    let relayer = Keypair::derived("relayer", 0);
    let anchor = SideChainTx::Anchor { chain: Hash::ZERO, headers: run.heavy[a..2 * a].to_vec() };
    let tx = TransactionBody {
        from: relayer.account(),
        nonce: 0,
        kind: TxKind::SideChain(Box::new(anchor)),
        fee: 1,
        parents: [Hash::ZERO; 2],
        issued_at_ms: 0,
    }
    .sign(&relayer)
    .unwrap();
    println!(
        "checkpoint bytes: min {} max {} mean {:.0}; anchor tx of {a}: {} bytes",
        bytes.iter().min().unwrap(),
        bytes.iter().max().unwrap(),
        bytes.iter().sum::<usize>() as f64 / bytes.len() as f64,
        tx.encode().unwrap().len()
    );
    let mut client = light_client(run);
    feed(&mut client, &run.heavy[..a]).unwrap();
    let segment = &run.heavy[a..2 * a];
    let rounds = 50;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        client.check_segment(segment, now_of(segment)).unwrap();
    }
    let per_anchor = started.elapsed() / rounds;
    println!(
        "real plots: verify an anchor of {a}: {per_anchor:?} ({:?} per checkpoint)",
        per_anchor / a as u32
    );
}
