#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failure is a test failure.
//! The storage families: their files are checked field by field, and short runs measure what
//! they claim (detection trials with the exact miss check, survival and repair of a k-of-n file).

use std::path::Path;

use vein_reports::metrics::MeasurementData;
use vein_scenarios::engine::LocalNetEngine;
use vein_scenarios::families::run_seed;
use vein_scenarios::scenario::Scenario;

const CHEATING: &str = include_str!("../storage-cheating.toml");
const SHARD_LOSS: &str = include_str!("../shard-loss.toml");

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, Path::new("storage.toml")).unwrap()
}

fn error_of(text: &str) -> String {
    match Scenario::parse(text, Path::new("bad.toml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

fn proportion(run: &vein_reports::metrics::RunMetrics, name: &str) -> (u64, u64) {
    let measurement = run.measurements.iter().find(|m| m.name == name).unwrap();
    match measurement.data {
        MeasurementData::Proportion { successes, trials } => (successes, trials),
        MeasurementData::Samples { .. } => panic!("{name} is not a proportion"),
    }
}

#[test]
fn storage_tables_are_checked_field_by_field() {
    parse(CHEATING);
    parse(SHARD_LOSS);
    let missing = CHEATING.split("[storage]").next().unwrap();
    assert!(error_of(missing).contains("needs a [storage] table"), "{}", error_of(missing));
    let no_f = CHEATING.replace("f = 0.1\n", "");
    assert!(error_of(&no_f).contains("storage.f is required"), "{}", error_of(&no_f));
    let both = CHEATING.replace("f = 0.1\n", "f = 0.1\ncrashed = 1\n");
    assert!(error_of(&both).contains("storage.crashed is not used"), "{}", error_of(&both));
    let bad_f = CHEATING.replace("f = 0.1\n", "f = 1.5\n");
    assert!(error_of(&bad_f).contains("storage.f = 1.5"), "{}", error_of(&bad_f));
    let k_above_n = SHARD_LOSS.replace("data_shards = 3", "data_shards = 7");
    assert!(error_of(&k_above_n).contains("storage.data_shards"), "{}", error_of(&k_above_n));
    let too_many_crashed = SHARD_LOSS.replace("crashed = 2", "crashed = 7");
    assert!(error_of(&too_many_crashed).contains("storage.crashed = 7"));
    let huge_proofs = CHEATING
        .replace("chunk_bytes = 64", "chunk_bytes = 65536")
        .replace("challenges = 4", "challenges = 64");
    assert!(error_of(&huge_proofs).contains("2 MiB"), "{}", error_of(&huge_proofs));
    let typo = CHEATING.replace("files = 4", "filez = 4");
    assert!(error_of(&typo).contains("filez"), "{}", error_of(&typo));
    // A [storage] table on another family is refused rather than ignored.
    let baseline = include_str!("../honest-baseline.toml").to_string()
        + "\n[storage]\nstorage_nodes = 1\ndata_shards = 1\ntotal_shards = 1\n\
           chunks_per_shard = 4\nchallenges = 1\n";
    assert!(error_of(&baseline).contains("not used by metric"), "{}", error_of(&baseline));
    // Sweep parameters reach the table and are validated.
    let mut scenario = parse(CHEATING);
    scenario.set_parameter("f", 0.35).unwrap();
    scenario.set_parameter("challenges", 16.0).unwrap();
    assert!(scenario.set_parameter("challenges", 300.0).is_err());
    assert!(parse(SHARD_LOSS).set_parameter("crashed", 9.0).is_err());
}

#[test]
fn a_cheater_is_detected_in_the_rounds_its_challenges_predict() {
    let mut scenario = parse(CHEATING);
    scenario.run.duration_s = 40;
    scenario.set_parameter("f", 0.5).unwrap();
    let run = run_seed::<LocalNetEngine>(&scenario, 3).unwrap();
    // The family checks, exactly, that the recorded misses are the predicted ones and that
    // honest shards never missed: both would be violations.
    assert!(run.violations.is_empty(), "{:#?}", run.violations);
    let (misses, trials) = proportion(&run, "storage_detection");
    // 4 files x ~30 settled rounds; at f = 0.5, c = 4 the detection rate is 0.9375.
    assert!(trials >= 80, "{trials} trials");
    assert!(misses * 100 >= trials * 80, "{misses} of {trials}");
    assert!(misses < trials || trials < 40);
}

#[test]
fn a_file_survives_exactly_while_k_shards_do_and_repair_recreates_them() {
    let mut scenario = parse(SHARD_LOSS);
    scenario.run.duration_s = 60;
    for (crashed, survives) in [(3u64, true), (4, false)] {
        scenario.set_parameter("crashed", crashed as f64).unwrap();
        let run = run_seed::<LocalNetEngine>(&scenario, 1).unwrap();
        assert!(run.violations.is_empty(), "{:#?}", run.violations);
        let expected = u64::from(survives);
        assert_eq!(proportion(&run, "shard_loss_recoverable"), (expected, 1), "crashed {crashed}");
        assert_eq!(proportion(&run, "shard_loss_restored"), (expected, 1), "crashed {crashed}");
    }
}
