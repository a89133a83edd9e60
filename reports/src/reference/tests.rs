use super::*;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn nakamoto_matches_whitepaper_table() {
    let table_q01 = [
        (0, 1.0),
        (1, 0.2045873),
        (2, 0.0509779),
        (3, 0.0131722),
        (4, 0.0034552),
        (5, 0.0009137),
        (6, 0.0002428),
        (7, 0.0000647),
        (8, 0.0000173),
        (9, 0.0000046),
        (10, 0.0000012),
    ];
    for (z, expected) in table_q01 {
        let value = nakamoto_double_spend(0.1, z).expect("in domain");
        assert!(close(value, expected, 5e-8), "q=0.1 z={z}: {value} vs {expected}");
    }
    let table_q03 = [
        (0, 1.0),
        (5, 0.1773523),
        (10, 0.0416605),
        (15, 0.0101008),
        (20, 0.0024804),
        (25, 0.0006132),
        (30, 0.0001522),
        (35, 0.0000379),
        (40, 0.0000095),
        (45, 0.0000024),
        (50, 0.0000006),
    ];
    for (z, expected) in table_q03 {
        let value = nakamoto_double_spend(0.3, z).expect("in domain");
        assert!(close(value, expected, 5e-8), "q=0.3 z={z}: {value} vs {expected}");
    }
}

#[test]
fn rosenfeld_and_beta_forms_agree() {
    for q in [0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.45, 0.49] {
        for z in [1, 2, 3, 5, 6, 10, 20, 40, 80] {
            let sum = rosenfeld_double_spend(q, z).expect("in domain");
            let beta = grunspan_double_spend_beta(q, z).expect("in domain");
            assert!(close(sum, beta, 1e-10), "q={q} z={z}: {sum} vs {beta}");
        }
    }
}

#[test]
fn rosenfeld_matches_its_printed_formula_and_small_cases() {
    // The printed sum, term by term, with exact binomials.
    fn printed(q: f64, z: u32) -> f64 {
        let p = 1.0 - q;
        let mut binomial = 1.0; // C(z−1, 0)
        let mut sum = 0.0;
        for m in 0..=z {
            if m > 0 {
                binomial *= f64::from(m + z - 1) / f64::from(m);
            }
            sum += binomial
                * (p.powi(z as i32) * q.powi(m as i32) - q.powi(z as i32) * p.powi(m as i32));
        }
        1.0 - sum
    }
    for q in [0.1, 0.3] {
        for z in [1, 2, 6, 12] {
            let value = rosenfeld_double_spend(q, z).expect("in domain");
            assert!(close(value, printed(q, z), 1e-12), "q={q} z={z}");
        }
        assert!(close(rosenfeld_double_spend(q, 1).expect("ok"), 2.0 * q, 1e-12));
    }
    // Exact correction exceeds Nakamoto's approximation (Grunspan–Pérez-Marco, §4).
    assert!(
        rosenfeld_double_spend(0.1, 6).expect("ok") > nakamoto_double_spend(0.1, 6).expect("ok")
    );
    assert_eq!(rosenfeld_double_spend(0.5, 6).expect("ok"), 1.0);
}

/// The race by its definition: sum the negative binomial far into its tail and apply the
/// gambler's ruin to the deficit. Independent of the finite closed forms.
fn race_by_definition(q: f64, z: u32, extra: u32) -> f64 {
    let p = 1.0 - q;
    let mut probability = p.powi(z as i32); // m = 0
    let mut total = 0.0;
    for m in 0..5_000u32 {
        if m > 0 {
            probability *= f64::from(m + z - 1) / f64::from(m) * q;
        }
        let deficit = i64::from(z) + i64::from(extra) - i64::from(m);
        let win = if deficit <= 0 { 1.0 } else { (q / p).powi(deficit as i32) };
        total += probability * win;
    }
    total
}

#[test]
fn strict_and_catch_up_races_match_their_definitions() {
    for q in [0.05, 0.1, 0.3, 0.45] {
        for z in [1, 2, 5, 10] {
            let catch_up = rosenfeld_double_spend(q, z).expect("ok");
            assert!(close(catch_up, race_by_definition(q, z, 0), 1e-10), "q={q} z={z}");
            let strict = double_spend_strictly_heavier(q, z).expect("ok");
            assert!(close(strict, race_by_definition(q, z, 1), 1e-10), "q={q} z={z}");
            assert!(strict < catch_up);
        }
    }
    // z = 1 by hand: p·(q/p)² + pq·(q/p) + q² = q²(1/p + 2).
    let q: f64 = 0.2;
    let hand = q * q * (1.0 / (1.0 - q) + 2.0);
    assert!(close(double_spend_strictly_heavier(q, 1).expect("ok"), hand, 1e-12));
    assert!(close(double_spend_strictly_heavier(q, 0).expect("ok"), 0.25, 1e-12));
}

#[test]
fn incomplete_beta_known_values() {
    // I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a.
    let value = regularized_incomplete_beta(0.3, 1.0, 0.5).expect("ok");
    assert!(close(value, 1.0 - 0.7f64.sqrt(), 1e-13));
    let value = regularized_incomplete_beta(0.6, 3.0, 1.0).expect("ok");
    assert!(close(value, 0.216, 1e-13));
    // Symmetric case I_{1/2}(a, a) = 1/2.
    let value = regularized_incomplete_beta(0.5, 7.5, 7.5).expect("ok");
    assert!(close(value, 0.5, 1e-13));
    assert!(regularized_incomplete_beta(1.5, 1.0, 1.0).is_err());
    assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-12));
}

/// `C = E[(1/(1+β))^j]`, `j` the trailing honest steps when the lead walk (from 2, up with
/// probability α, down with β) first steps down from 2, summed over the walk's states: per
/// lead, the probability mass and the mass weighted by `(1/(1+β))^trailing`.
fn credit_by_summation(alpha: f64) -> f64 {
    let beta = 1.0 - alpha;
    let ratio = 1.0 / (1.0 + beta);
    // Leads above the cap carry negligible mass for alpha <= 0.45.
    let cap = 1_000;
    let (mut mass, mut weighted) = (vec![0.0f64; cap + 2], vec![0.0f64; cap + 2]);
    mass[2] = 1.0;
    weighted[2] = 1.0;
    let mut credit = 0.0;
    for _ in 0..100_000 {
        let (mut next_mass, mut next_weighted) = (vec![0.0f64; cap + 2], vec![0.0f64; cap + 2]);
        for lead in 2..=cap {
            let (p, w) = (mass[lead], weighted[lead]);
            next_mass[lead + 1] += p * alpha;
            next_weighted[lead + 1] += p * alpha;
            if lead == 2 {
                credit += w * beta * ratio;
            } else {
                next_mass[lead - 1] += p * beta;
                next_weighted[lead - 1] += w * beta * ratio;
            }
        }
        mass = next_mass;
        weighted = next_weighted;
        if mass.iter().sum::<f64>() < 1e-14 {
            break;
        }
    }
    credit
}

#[test]
fn selfish_revenue_with_deadline_credit() {
    for alpha in [0.05, 0.1, 0.25, 0.33, 0.4, 0.45] {
        let credit = credit_by_summation(alpha);
        assert!(close(credit, 0.5, 1e-9), "alpha={alpha}: C = {credit}");
        // Without credit the same cycle accounting is Eyal–Sirer's γ = 0 revenue.
        let classic = selfish_mining_revenue(alpha, 0.0).expect("ok");
        assert!(close(selfish_revenue_with_credit(alpha, 1.0), classic, 1e-12));
        let revenue = selfish_mining_revenue_deadline_credit(alpha).expect("ok");
        assert!(revenue < classic, "alpha={alpha}: {revenue} vs {classic}");
    }
    // q = 0.25: 4/21; q = 0.4: 0.4622.
    assert!(close(selfish_mining_revenue_deadline_credit(0.25).expect("ok"), 4.0 / 21.0, 1e-12));
    assert!(close(selfish_mining_revenue_deadline_credit(0.4).expect("ok"), 0.462_222, 1e-6));
    // The threshold rises above 1/3 (about 0.3478).
    assert!(selfish_mining_revenue_deadline_credit(0.345).expect("ok") < 0.345);
    assert!(selfish_mining_revenue_deadline_credit(0.35).expect("ok") > 0.35);
    assert!(selfish_mining_revenue_deadline_credit(0.5).is_err());
}

#[test]
fn selfish_mining_threshold_and_revenue() {
    assert!(close(selfish_mining_threshold(0.0).expect("ok"), 1.0 / 3.0, 1e-15));
    assert!(close(selfish_mining_threshold(0.5).expect("ok"), 0.25, 1e-15));
    assert_eq!(selfish_mining_threshold(1.0).expect("ok"), 0.0);
    // At the threshold selfish revenue equals the fair share; above it exceeds it.
    for gamma in [0.0, 0.25, 0.5, 0.75] {
        let alpha = selfish_mining_threshold(gamma).expect("ok");
        let revenue = selfish_mining_revenue(alpha, gamma).expect("ok");
        assert!(close(revenue, alpha, 1e-12), "gamma={gamma}: {revenue} vs {alpha}");
        assert!(selfish_mining_revenue(alpha + 0.05, gamma).expect("ok") > alpha + 0.05);
        assert!(selfish_mining_revenue(alpha - 0.05, gamma).expect("ok") < alpha - 0.05);
    }
    assert!(selfish_mining_revenue(0.5, 0.0).is_err());
}

#[test]
fn simple_references() {
    assert_eq!(double_dipping_growth_factor(1), Some(std::f64::consts::E));
    assert_eq!(double_dipping_growth_factor(16), Some(1.47));
    assert_eq!(double_dipping_growth_factor(2), None);
    // Green paper §2.2: 1/(1+e) ≈ 0.269 and 1/(1+1.47) ≈ 0.405.
    assert!(close(double_dipping_threshold(std::f64::consts::E).expect("ok"), 0.269, 5e-4));
    assert!(close(double_dipping_threshold(1.47).expect("ok"), 0.405, 5e-4));
    assert!(double_dipping_threshold(0.5).is_err());
    assert_eq!(uniform_tip_count(50.0, 0.2).expect("ok"), 20.0);
    assert!(close(storage_detection_probability(0.1, 10).expect("ok"), 0.651_321_559_9, 1e-9));
    assert_eq!(expected_win_share(0.25).expect("ok"), 0.25);
    assert!(expected_win_share(1.5).is_err());
    assert_eq!(exponential_interval_cv(), 1.0);
    assert!(close(exponential_density(0.0, 10.0).expect("ok"), 0.1, 1e-15));
    // 2^82 / (10 s · 2^40) = 2^42 / 10 bytes.
    let capacity = estimated_capacity_bytes(10.0, 2f64.powi(40)).expect("ok");
    assert!(close(capacity / (2f64.powi(42) / 10.0), 1.0, 1e-12));
    assert_eq!(virtual_space_nonces(100.0, 30.0).expect("ok"), 3_000.0);
}

#[test]
fn fork_tree_references() {
    // The published values come out of the branching-random-walk formula in the limit.
    let e = fork_tree_growth_factor_limit(1).expect("ok");
    assert!(close(e, std::f64::consts::E, 1e-6), "{e}");
    let sixteen = fork_tree_growth_factor_limit(16).expect("ok");
    assert!(close(sixteen, 1.47, 0.005), "{sixteen}");
    // One identity gains nothing; more identities approach the limit from below.
    assert!(close(fork_tree_growth_factor(1, 1).expect("ok"), 1.0, 1e-6));
    assert!(close(fork_tree_growth_factor(1, 16).expect("ok"), 1.0, 1e-6));
    let two = fork_tree_growth_factor(2, 1).expect("ok");
    let four = fork_tree_growth_factor(4, 1).expect("ok");
    assert!(close(two, 2.1555, 1e-3) && close(four, 2.4551, 1e-3), "{two} {four}");
    assert!(fork_tree_growth_factor(4, 0).is_err());
    // One identity: the height is Poisson(tau) exactly (here from the grid, to 1e-3).
    let pmf = fork_tree_height_pmf(1, 1, 3.0, 30).expect("ok");
    let mut term = (-3.0f64).exp();
    for (n, p) in pmf.iter().take(10).enumerate() {
        assert!(close(*p, term, 2e-3), "n = {n}: {p} vs {term}");
        term *= 3.0 / (n + 1) as f64;
    }
    assert!(close(pmf.iter().sum::<f64>(), 1.0, 1e-9));
    // c = 4 with one identity is still one chain: Poisson(tau).
    let pmf = fork_tree_height_pmf(1, 4, 3.0, 30).expect("ok");
    assert!(close(pmf[3], 4.5 * (-3.0f64).exp(), 2e-3), "{}", pmf[3]);
    // More identities, deeper trees; a long window (c = 64 > tau) branches once at most.
    let mean = |p: &[f64]| p.iter().enumerate().map(|(n, x)| n as f64 * x).sum::<f64>();
    let four = mean(&fork_tree_height_pmf(4, 1, 6.0, 80).expect("ok"));
    assert!(four > 6.0 * 1.5 && four < 6.0 * 2.4551, "{four}");
    let long = mean(&fork_tree_height_pmf(4, 64, 6.0, 80).expect("ok"));
    assert!(close(long, 6.0, 0.05), "{long}");
    assert!(fork_tree_height_pmf(0, 1, 6.0, 80).is_err());
}

#[test]
fn on_the_fly_reference() {
    // Closed form 1 − √π·s·e^{s²}·erfc(s), s = 1/(2√κ): at κ = 1, erfc(1/2) = 0.479500122.
    let s = 0.5f64;
    let closed = 1.0 - std::f64::consts::PI.sqrt() * s * (s * s).exp() * 0.479_500_122_186_953_5;
    assert!(close(on_the_fly_win_probability(1.0).expect("ok"), closed, 1e-9));
    // Small κ: 2κ(1 − 12κ/2 + ...) → 2κ.
    let tiny = on_the_fly_win_probability(1e-4).expect("ok");
    assert!(close(tiny / 2e-4, 1.0, 2e-3), "{tiny}");
    assert!(on_the_fly_win_probability(1e6).expect("ok") > 0.99);
    assert_eq!(on_the_fly_win_probability(0.0).expect("ok"), 0.0);
    assert!(on_the_fly_win_probability(-1.0).is_err());
    // κ = R·2^64/(N²·bt): R = 1000/s, N = 1000, bt = 2^64/1000 (T_h = 1 s) gives 1.
    let kappa = on_the_fly_kappa(1000.0, 1000.0, 2f64.powi(64) / 1000.0).expect("ok");
    assert!(close(kappa, 1.0, 1e-12));
    assert!(on_the_fly_kappa(-1.0, 1000.0, 1.0).is_err());
    assert!(close(virtual_space_share(1.0).expect("ok"), 0.5, 1e-15));
}

#[test]
fn network_split_references() {
    // docs/simulator.md: a half side finalises during a split of k T / 4 with probability
    // P(Poisson(k/8) ≥ k + 1): 6e-4 at k = 3, 1.4e-5 at k = 6.
    let k3 = poisson_at_least(3.0 / 8.0, 4).expect("ok");
    let k6 = poisson_at_least(6.0 / 8.0, 7).expect("ok");
    assert!(close(k3, 6.1e-4, 0.1e-4), "{k3}");
    assert!(close(k6, 1.4e-5, 0.05e-5), "{k6}");
    assert_eq!(poisson_at_least(2.0, 0).expect("ok"), 1.0);
    assert!(close(poisson_at_least(2.0, 1).expect("ok"), 1.0 - (-2.0f64).exp(), 1e-15));
    assert!(poisson_at_least(-1.0, 1).is_err());
    // Symmetric sides, no wait: B ahead, or a tie then B next with 1/2, is 1/2 exactly.
    assert!(close(network_split_revert(0.5, 4.0, 0).expect("ok"), 0.5, 1e-12));
    // No split, nothing delivered; a long split with a lighter merchant side reverts it.
    assert_eq!(network_split_revert(0.4, 0.0, 1).expect("ok"), 0.0);
    assert!(network_split_revert(0.3, 300.0, 1).expect("ok") > 0.99);
    // By definition, with the two Poisson laws written out independently.
    for (s, d, z) in [(0.4, 2.0, 1), (0.4, 8.0, 3), (0.25, 4.0, 2), (0.6, 3.0, 2)] {
        let pmf = |mean: f64, i: u32| {
            (-mean).exp() * mean.powi(i as i32) / (1..=i).map(f64::from).product::<f64>()
        };
        let mut direct = 0.0;
        for a in z..80 {
            let heavier: f64 = (a + 1..120).map(|b| pmf((1.0 - s) * d, b)).sum();
            direct += pmf(s * d, a) * (heavier + (1.0 - s) * pmf((1.0 - s) * d, a));
        }
        let formula = network_split_revert(s, d, z).expect("ok");
        assert!(close(formula, direct, 1e-12), "s={s} d={d} z={z}: {formula} vs {direct}");
        // Reverted needs delivered: never above P(A ≥ z).
        assert!(formula <= poisson_at_least(s * d, z).expect("ok"));
    }
}
