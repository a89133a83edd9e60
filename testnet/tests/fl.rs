//! Federated learning on real processes: a 4-node testnet, a FedAvg task of 3 rounds, and 10
//! participants (`vein-testnet fl join`, one process each, two or three per node) that train on
//! their IID shares of the wine-quality set and exchange updates only through the nodes' APIs.
//! Every round must settle with all ten accepted, payments plus commission must equal the price,
//! the escrow must be spent, and the model the chain accepted must be bit for bit the one the
//! in-process lab run computes (so the network path changed nothing), at an accuracy within
//! 2 points of the centralised reference. The same task masked (secure aggregation) must end
//! on the same bits.
//!
//! Drop-out and resume: in a masked task one participant's `join` is killed mid-task; the
//! others declare it dropped, reveal their seeds with it and settle the round on the
//! survivors; the killed one, started again with the same arguments, resumes from its log and
//! contributes again; every payment comes out of the escrow and nothing else.

// Test helpers may panic on broken invariants; the test drives real processes on the wall clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{CLI, Net};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vein_fl_lab::scenarios::{Federation, Split, centralised, federated, shards, wine_setup};
use vein_node::api_types::{FlTaskDetail, FlUpdatePost};
use vein_node::core::fl::AggregationRule;
use vein_testnet::fl::ModelReport;
use vein_testnet::http::{self, HttpError};

const PARTICIPANTS: usize = 10;
const ROUNDS: u32 = 3;
const PRICE: u64 = 10_000;

/// Start participant `index` of `PARTICIPANTS` of `task` as its own process.
fn join(net: &Net, task: &str, index: usize) -> Child {
    Command::new(CLI)
        .arg("--dir")
        .arg(net.dir.path())
        .args(["fl", "join", "--task", task, "--participant", &index.to_string()])
        .args(["--of", &PARTICIPANTS.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a participant")
}

/// Post a task, run the ten participants as processes to its end, and check its rounds and
/// payments; returns the task id, its final state and the accepted model.
fn run_task(net: &Net, masked: bool) -> (String, FlTaskDetail, ModelReport) {
    let mut args = vec!["fl", "task", "--rule", "fedavg"];
    let (rounds, participants, price) =
        (ROUNDS.to_string(), PARTICIPANTS.to_string(), PRICE.to_string());
    args.extend(["--rounds", &rounds, "--min-participants", &participants, "--price", &price]);
    if masked {
        args.push("--masked");
    }
    let task = net.cli(&args);
    assert_eq!(task.len(), 64, "task printed {task:?}");

    let children: Vec<_> = (0..PARTICIPANTS).map(|index| join(net, &task, index)).collect();
    for (index, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("{stdout}");
        assert!(output.status.success(), "participant {index} failed: {stderr}\n{stdout}");
        for round in 0..ROUNDS {
            let line = format!("participant {index}: round {round}: {PARTICIPANTS} contributors");
            assert!(stdout.contains(&line), "participant {index} missed round {round}: {stdout}");
        }
    }

    let detail: FlTaskDetail =
        serde_json::from_str(&net.cli(&["fl", "status", "--task", &task, "--json"])).unwrap();
    assert_eq!(detail.summary.masked, masked);
    assert_eq!(detail.summary.settled_rounds, ROUNDS);
    assert_eq!(detail.summary.escrow, 0, "the escrow is spent");
    assert_eq!(detail.settled.len(), ROUNDS as usize);
    let mut burned = 0;
    for row in &detail.settled {
        assert_eq!((row.contributors, row.accepted), (PARTICIPANTS as u32, PARTICIPANTS as u32));
        assert_eq!(row.paid + row.burned, PRICE, "round {}: paid + commission = price", row.round);
        assert!(row.burned >= PRICE / 100, "the 1% commission is burned");
        burned += row.burned;
    }
    let paid: u64 = detail.participants.iter().map(|row| row.paid).sum();
    assert_eq!(paid + burned, u64::from(ROUNDS) * PRICE);
    assert!(detail.participants.iter().all(|row| row.paid > 0), "every participant is paid");
    let text = net.cli(&["fl", "status", "--task", &task]);
    assert!(text.contains("3 of 3 rounds settled"), "{text}");
    assert!(text.contains("(k+1)T s"), "round timing is reported: {text}");
    eprintln!("{text}");
    let report: ModelReport =
        serde_json::from_str(&net.cli(&["fl", "model", "--task", &task])).unwrap();
    assert_eq!(report.rounds, ROUNDS);
    (task, detail, report)
}

#[test]
fn ten_participants_on_four_nodes_train_fed_avg_to_completion_masked_and_not() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);
    let (task, detail, report) = run_task(&net, false);

    // The accepted model is exactly what the lab computes in one process for the same split.
    let mut setup = wine_setup(1).unwrap();
    setup.rounds = ROUNDS;
    let split = shards(&setup, PARTICIPANTS, Split::Iid).unwrap();
    let lab = federated(&setup, &split, Federation::honest(AggregationRule::FedAvg)).unwrap();
    let expected: Vec<i64> = lab.weights.iter().map(|weight| weight.0).collect();
    assert_eq!(report.weights_fixed, expected, "the network run equals the in-process run");
    let reference = centralised(&setup).unwrap().final_accuracy();
    eprintln!(
        "accuracy {:.4} on {} held-out records; centralised reference {reference:.4}",
        report.accuracy, report.held_out
    );
    assert!(report.accuracy >= reference - 0.02, "{} vs {reference}", report.accuracy);

    // Refusals of the update route, typed by status.
    let api = net.manifest().nodes[1].api;
    let post = FlUpdatePost {
        participant: detail.participants[0].account.clone(),
        round: 0,
        update: "00".repeat(108),
    };
    let status = |route: &str, body: &FlUpdatePost| match http::post::<_, serde_json::Value>(
        api, route, body,
    ) {
        Err(HttpError::Status { status, body, .. }) => (status, body),
        other => panic!("{route}: expected a refusal, got {other:?}"),
    };
    let (code, body) = status(&format!("/fl/task/{task}/update"), &post);
    assert_eq!(code, 409, "a settled round is closed: {body}");
    assert!(body.contains("closed"), "{body}");
    let (code, _) = status(&format!("/fl/task/{}/update", "ab".repeat(32)), &post);
    assert_eq!(code, 404, "unknown task");
    let stranger = FlUpdatePost { participant: "cd".repeat(32), ..post.clone() };
    let (code, _) = status(&format!("/fl/task/{task}/update"), &stranger);
    assert_eq!(code, 403, "not a participant");
    let junk = FlUpdatePost { update: "zz".into(), ..post };
    let (code, _) = status(&format!("/fl/task/{task}/update"), &junk);
    assert_eq!(code, 400, "not hex");

    // Under pairwise masks only the sum is ever unmasked, and it ends on the same bits.
    let (_, _, masked) = run_task(&net, true);
    assert_eq!(masked.weights_fixed, report.weights_fixed, "masking changes no bit");
}

/// Paid to participants + burned by settled rounds + still escrowed, from the API's view.
fn accounted(detail: &FlTaskDetail) -> u64 {
    let paid: u64 = detail.participants.iter().map(|row| row.paid).sum();
    let burned: u64 = detail.settled.iter().map(|row| row.burned).sum();
    paid + burned + detail.summary.escrow
}

#[test]
fn a_killed_participant_of_a_masked_task_is_recovered_around_and_then_resumes() {
    let net = Net::new();
    net.cli(&["up", "--nodes", "4", "--nonces", "16", "--interval-ms", "1000", "--k", "3"]);
    let price = PRICE.to_string();
    let args = ["fl", "task", "--rule", "fedavg", "--rounds", "3", "--min-participants", "5"];
    let task = net.cli(&[&args[..], &["--price", &price, "--masked"]].concat());
    let posted = 3 * PRICE;
    let status = || -> FlTaskDetail {
        serde_json::from_str(&net.cli(&["fl", "status", "--task", &task, "--json"])).unwrap()
    };

    let victim = PARTICIPANTS - 1;
    let mut children: Vec<Child> = (0..victim).map(|index| join(&net, &task, index)).collect();
    let mut killed = join(&net, &task, victim);
    // Killed once its round-0 update is posted: it is in round 0's set, and round 0 cannot
    // settle (every contributor's update must be fetched, aggregates committed and a settle
    // ordered, seconds of checkpoints) before it could commit anything for round 1.
    let mut lines = BufReader::new(killed.stdout.take().unwrap()).lines();
    let posted_line = format!("participant {victim}: round 0: update posted");
    let mut before = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        before.push_str(&line);
        before.push('\n');
        if line == posted_line {
            break;
        }
    }
    assert!(before.contains(&posted_line), "participant {victim} never posted: {before}");
    killed.kill().unwrap();
    killed.wait().unwrap();

    // The others settle round 0, then give up on the victim in round 1 and reveal.
    let started = Instant::now();
    let frozen = loop {
        let detail = status();
        assert_eq!(accounted(&detail), posted, "escrow conserved mid-task: {detail:?}");
        let revealing = detail.open_round.iter().any(|row| !row.revealed.is_empty());
        if detail.settled.len() >= 2 || (detail.settled.len() == 1 && revealing) {
            break detail;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "no reveal: {detail:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("round 1 frozen by reveals: {:?}", frozen.open_round);
    children.push(join(&net, &task, victim));

    for (index, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("{stdout}");
        assert!(output.status.success(), "participant {index} failed: {stderr}\n{stdout}");
        assert!(stdout.contains("all 3 rounds settled"), "{stdout}");
        if index == victim {
            // Round 0 settled while it was away: taken from a survivor's log, hash-checked.
            let caught = format!("participant {victim}: round 0: {PARTICIPANTS} contributors");
            let line = stdout.lines().find(|line| line.starts_with(&caught));
            assert!(
                line.is_some_and(|line| line.contains("another participant's log")),
                "{stdout}"
            );
            let missed = format!("participant {victim}: round 1: 9 contributors");
            assert!(stdout.contains(&missed), "{stdout}");
            let back = format!("participant {victim}: round 2: {PARTICIPANTS} contributors");
            assert!(stdout.contains(&back), "the resumed participant contributes again: {stdout}");
        } else {
            let reveal = format!("participant {index}: round 1: 1 participant(s) dropped out");
            assert!(stdout.contains(&reveal), "participant {index} did not reveal: {stdout}");
        }
    }

    let detail = status();
    let contributors: Vec<u32> = detail.settled.iter().map(|row| row.contributors).collect();
    assert_eq!(contributors, vec![10, 9, 10], "round 1 settled on the nine survivors");
    assert_eq!(detail.summary.escrow, 0, "the escrow is spent");
    assert_eq!(accounted(&detail), posted, "paid + burned + escrow left = escrow posted");
    for row in &detail.settled {
        assert_eq!(row.paid + row.burned, PRICE, "round {}: paid + commission = price", row.round);
    }
    let report: ModelReport =
        serde_json::from_str(&net.cli(&["fl", "model", "--task", &task])).unwrap();
    assert_eq!(report.rounds, 3, "every kept aggregate matches the chain's");
    let text = net.cli(&["fl", "status", "--task", &task]);
    assert!(text.contains("(k+1)T s"), "round timing is reported: {text}");
    eprintln!("{text}");
}
