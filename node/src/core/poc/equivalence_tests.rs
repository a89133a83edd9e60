//! Statistical equivalence of the two proof back-ends (PROTOCOL.md section 3).
//!
//! Three miners with real plots of 4, 8 and 16 nonces race for 2000 rounds; three ModelPlots
//! miners with the same capacities race for 2000 rounds. Each back-end chains its own
//! generation signatures (`g_h = H(g_{h-1} || winner)`) from a fixed seed, so the test is
//! deterministic. Checks, each at significance 0.001:
//! - win shares: chi-square test of homogeneity on the 2×3 table of wins (df = 2, critical
//!   13.816), and each back-end's goodness of fit to the capacity shares 4/28, 8/28, 16/28;
//! - intervals (the winning deadline): two-sample Kolmogorov–Smirnov, critical
//!   `D = sqrt(−ln(0.0005)/2) · sqrt((n+m)/(n·m)) ≈ 0.0616`.
//!
//! Power check (so that the test can fail): a model with the smallest miner's capacity wrongly
//! quadrupled must be rejected by the same chi-square test, and a model with the whole network's
//! capacity doubled by the KS test. With 4–16 nonces the minimum of N discrete u64 hits is, to
//! within 2^-60, the continuous exponential the model draws from, so no bias is expected.

use std::io::Cursor;

use crate::core::crypto::{AccountId, Keypair};
use crate::core::hash::Hash;
use crate::core::poc::challenge::{Challenge, next_generation_signature};
use crate::core::poc::plot_file::{PlotReader, build_plot_in_memory};
use crate::core::poc::prover::{ModelPlots, PlotSet, Prover};
use crate::core::poc::retarget::initial_base_target;

const ROUNDS: usize = 2000;
const CAPACITIES: [u64; 3] = [4, 8, 16];
const CHI_SQUARE_DF2_P001: f64 = 13.816;
const KS_C_ALPHA_001: f64 = 1.9495;

struct Race {
    wins: [u64; 3],
    intervals_ms: Vec<u64>,
}

fn race(miners: &mut [(AccountId, Box<dyn Prover>)], base_target: u64) -> Race {
    let mut generation_signature = Hash::of(b"vein-equivalence-seed");
    let mut wins = [0u64; 3];
    let mut intervals_ms = Vec::with_capacity(ROUNDS);
    for height in 1..=ROUNDS as u64 {
        let challenge = Challenge { height, generation_signature, base_target };
        let mut best: Option<(usize, u64)> = None;
        for (index, (_, prover)) in miners.iter_mut().enumerate() {
            let (_, deadline) = prover.best(&challenge).expect("prover").expect("space");
            if best.is_none_or(|(_, best_deadline)| deadline < best_deadline) {
                best = Some((index, deadline));
            }
        }
        let (winner, deadline) = best.expect("three miners");
        wins[winner] += 1;
        intervals_ms.push(deadline);
        generation_signature = next_generation_signature(&generation_signature, &miners[winner].0);
    }
    Race { wins, intervals_ms }
}

fn accounts() -> Vec<AccountId> {
    (0..3).map(|i| Keypair::derived("equivalence", i).account()).collect()
}

fn real_miners() -> Vec<(AccountId, Box<dyn Prover>)> {
    accounts()
        .into_iter()
        .zip(CAPACITIES)
        .map(|(account, nonces)| {
            let bytes = build_plot_in_memory(&account, 0, nonces);
            let reader = PlotReader::open(Cursor::new(bytes)).expect("plot");
            (account, Box::new(PlotSet::new(vec![reader])) as Box<dyn Prover>)
        })
        .collect()
}

fn model_miners(capacities: [u64; 3]) -> Vec<(AccountId, Box<dyn Prover>)> {
    accounts()
        .into_iter()
        .zip(capacities)
        .map(|(account, nonces)| {
            (account, Box::new(ModelPlots { account, nonces }) as Box<dyn Prover>)
        })
        .collect()
}

/// Pearson chi-square of homogeneity for a 2×k table.
fn chi_square_homogeneity(a: &[u64; 3], b: &[u64; 3]) -> f64 {
    let total_a: f64 = a.iter().sum::<u64>() as f64;
    let total_b: f64 = b.iter().sum::<u64>() as f64;
    let total = total_a + total_b;
    let mut statistic = 0.0;
    for column in 0..3 {
        let column_total = (a[column] + b[column]) as f64;
        for (observed, row_total) in [(a[column], total_a), (b[column], total_b)] {
            let expected = row_total * column_total / total;
            statistic += (observed as f64 - expected).powi(2) / expected;
        }
    }
    statistic
}

fn chi_square_fit(observed: &[u64; 3]) -> f64 {
    let total: f64 = observed.iter().sum::<u64>() as f64;
    let capacity: f64 = CAPACITIES.iter().sum::<u64>() as f64;
    observed
        .iter()
        .zip(CAPACITIES)
        .map(|(&count, nonces)| {
            let expected = total * nonces as f64 / capacity;
            (count as f64 - expected).powi(2) / expected
        })
        .sum()
}

/// Two-sample Kolmogorov–Smirnov statistic `sup |F_a − F_b|`.
fn ks_statistic(a: &[u64], b: &[u64]) -> f64 {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    let (mut i, mut j, mut sup) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let gap = (i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs();
        sup = sup.max(gap);
    }
    sup
}

fn ks_critical(n: usize, m: usize) -> f64 {
    KS_C_ALPHA_001 * ((n + m) as f64 / (n * m) as f64).sqrt()
}

#[test]
fn real_and_model_plots_give_the_same_win_shares_and_intervals() {
    let base_target = initial_base_target(CAPACITIES.iter().sum(), 10_000);
    let real = race(&mut real_miners(), base_target);
    let model = race(&mut model_miners(CAPACITIES), base_target);

    let homogeneity = chi_square_homogeneity(&real.wins, &model.wins);
    assert!(
        homogeneity < CHI_SQUARE_DF2_P001,
        "win shares differ: real {:?} model {:?} chi2 {homogeneity:.2}",
        real.wins,
        model.wins
    );
    for (name, wins) in [("real", real.wins), ("model", model.wins)] {
        let fit = chi_square_fit(&wins);
        assert!(fit < CHI_SQUARE_DF2_P001, "{name} wins {wins:?} off capacity: chi2 {fit:.2}");
    }
    let distance = ks_statistic(&real.intervals_ms, &model.intervals_ms);
    assert!(
        distance < ks_critical(ROUNDS, ROUNDS),
        "interval distributions differ: KS D = {distance:.4}"
    );

    // Power: the same tests reject a mis-specified model.
    let skewed = race(&mut model_miners([16, 8, 16]), base_target);
    assert!(chi_square_homogeneity(&real.wins, &skewed.wins) > CHI_SQUARE_DF2_P001);
    let doubled = race(&mut model_miners([8, 16, 32]), base_target);
    assert!(ks_statistic(&real.intervals_ms, &doubled.intervals_ms) > ks_critical(ROUNDS, ROUNDS));
}

#[test]
fn ks_statistic_of_known_samples() {
    assert_eq!(ks_statistic(&[1, 2, 3, 4], &[1, 2, 3, 4]), 0.0);
    assert_eq!(ks_statistic(&[1, 2], &[3, 4]), 1.0);
    assert!((ks_statistic(&[1, 2, 3, 4], &[3, 4, 5, 6]) - 0.5).abs() < 1e-12);
}
