//! The measured scenarios as assertions. Accuracy here is deterministic (integer training from
//! fixed seeds), so these are exact checks on numbers, not timing.

use vein_fl_lab::scenarios::{
    Federation, Split, centralised, federated, masked_fed_avg_with_dropouts, rules, seed_bytes,
    shards, tolerated, wine_setup,
};
use vein_node::core::fl::masking::MaskSecret;
use vein_node::core::fl::model::difference;
use vein_node::core::fl::{AggregationRule, Contribution, aggregate, train_local};
use vein_node::core::hash::Hash;

#[test]
fn the_data_set_is_the_real_wine_quality_set() {
    let (records, labels) = vein_fl_lab::wine_quality_raw();
    assert_eq!(records.len(), 1599);
    assert!(records.iter().all(|row| row.len() == 11));
    let good = labels.iter().filter(|good| **good).count();
    assert_eq!(good, 855, "quality ≥ 6 in the red wine set");
}

/// McMahan et al.'s claim on a convex model: FedAvg over an IID split reaches the centralised
/// model's accuracy. Seed 1, 10 participants, 20 rounds of one local epoch.
#[test]
fn fed_avg_on_iid_is_within_two_points_of_centralised_and_masking_changes_no_bit() {
    let setup = wine_setup(1).unwrap();
    let central = centralised(&setup).unwrap();
    let split = shards(&setup, 10, Split::Iid).unwrap();
    let plain = federated(&setup, &split, Federation::honest(AggregationRule::FedAvg)).unwrap();
    let gap = central.final_accuracy() - plain.final_accuracy();
    assert!(
        gap.abs() <= 0.02,
        "centralised {} FedAvg {}",
        central.final_accuracy(),
        plain.final_accuracy()
    );
    assert!(plain.final_accuracy() > 0.70, "the model learned: {}", plain.final_accuracy());
    let masked = Federation { masked: true, ..Federation::honest(AggregationRule::FedAvg) };
    let masked = federated(&setup, &split, masked).unwrap();
    assert_eq!(masked.weights, plain.weights, "secure aggregation yields the same bits");
    assert_eq!(
        federated(&setup, &split, Federation::honest(AggregationRule::FedAvg)).unwrap(),
        plain
    );
}

/// Two participants drop out after masking: the survivors' revealed seeds recover FedAvg over
/// the survivors exactly.
#[test]
fn masked_aggregation_recovers_from_drop_outs_on_real_updates() {
    let setup = wine_setup(2).unwrap();
    let split = shards(&setup, 6, Split::Dirichlet { alpha: 1.0 }).unwrap();
    let global = setup.training.initial_weights();
    let contributions: Vec<Contribution> = split
        .iter()
        .enumerate()
        .map(|(i, shard)| {
            let trained =
                train_local(&global, shard, &setup.training, seed_bytes(b"t", 2, 0, i)).unwrap();
            Contribution {
                update: difference(&trained, &global).unwrap(),
                samples: shard.len() as u64,
            }
        })
        .collect();
    let task = Hash::of(b"dropout task");
    let secrets: Vec<MaskSecret> =
        (0..split.len()).map(|i| MaskSecret::derive(&[i as u8; 32], &task)).collect();
    let dropped = [1, 4];
    let recovered =
        masked_fed_avg_with_dropouts(&contributions, &secrets, &task, 0, &dropped).unwrap();
    let survivors: Vec<Contribution> = contributions
        .iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(_, c)| c.clone())
        .collect();
    let dimension = global.len();
    assert_eq!(recovered, aggregate(AggregationRule::FedAvg, &survivors, dimension).unwrap());
}

/// Sign flipping (−4·u) by 30% of 20 participants breaks FedAvg and not the robust rules
/// (Blanchard et al., 2017; Yin et al., 2018).
#[test]
fn robust_rules_survive_thirty_percent_sign_flippers_and_fed_avg_does_not() {
    let setup = wine_setup(1).unwrap();
    let participants = 20;
    let split = shards(&setup, participants, Split::Iid).unwrap();
    let byzantine = tolerated(participants);
    assert_eq!(byzantine, 6);
    for rule in rules(participants) {
        let federation = Federation { rule, masked: false, byzantine, flip_scale: 4 };
        let accuracy = federated(&setup, &split, federation).unwrap().final_accuracy();
        if rule == AggregationRule::FedAvg {
            assert!(accuracy < 0.5, "FedAvg under attack: {accuracy}");
        } else {
            assert!(accuracy > 0.70, "{} under attack: {accuracy}", rule.name());
        }
    }
}
