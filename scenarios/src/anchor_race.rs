//! The analytic reference of the side-chain takeover (docs/sidechain-fork-choice.md): the
//! private race of an attacker of share q that must rewrite at least one honest checkpoint
//! before the next anchor above its fork point is taken from the honest branch.
//!
//! Model. Checkpoints are a sequence of independent trials, the attacker's with probability q
//! and the honest network's with p = 1 − q (fixed difficulty, instant propagation). The attacker
//! forks at an anchored height f; the next anchor is the honest checkpoint at f + a. It releases
//! the moment its branch is strictly longer than an honest branch of at least one checkpoint,
//! and wins if that happens while the honest branch is below f + a. Once the anchor is taken
//! from the honest branch it is final on the main chain D later and pinned: the fork is dead
//! whatever happens in between (a rewrite during D is undone by the pin), so D does not enter.
//! It gives up `g` behind. With h honest and m attacker checkpoints,
//!
//! ```text
//!   win  when m > h ≥ 1 and h < a;   lose when h = a, or h − m ≥ g.
//! ```
//!
//! Closed form without the give-up (first passages of a ±1 walk; C_j the Catalan numbers):
//!
//! ```text
//!   P(q, a) = q² + Σ_{j=0}^{a−2} ( q p · C_j q^{j+1} p^j
//!                                + p · 2/(2j+2) · C(2j+2, j) q^{j+2} p^j )
//! ```
//!
//! for a ≥ 2 (0 for a = 1): the attacker leads by two before the first honest checkpoint, or
//! from a tie (one each) or one behind reaches +1 before the honest count reaches a. As a → ∞
//! it tends to vein's strictly-heavier double-spend race at z = 1 (Rosenfeld 2014's
//! negative-binomial race with first-seen ties), 1 for q ≥ 1/2. [`anchored_rewrite`] computes
//! the same race with the give-up by dynamic programming over (h, m); a = 0 means no anchors.

/// Honest checkpoints the race is followed for when nothing anchors it (a = 0): the walk is
/// absorbed long before (at −g or +1) unless q is within a hair of 1/2.
const UNANCHORED_HORIZON: u64 = 20_000;

/// Probability that the attacker rewrites at least one honest checkpoint before the anchor at
/// f + a is taken from the honest branch, giving up `give_up` behind (see the module docs);
/// `a = 0`: no anchors.
pub fn anchored_rewrite(q: f64, a: u64, give_up: u64) -> f64 {
    debug_assert!((0.0..1.0).contains(&q));
    debug_assert!(give_up >= 1);
    let p = 1.0 - q;
    let horizon = if a == 0 { UNANCHORED_HORIZON } else { a };
    if horizon == 1 {
        return 0.0;
    }
    // Before the first honest checkpoint: m ≥ 2 wins at it (a ≥ 2), m = 0 or 1 goes on.
    let mut win = q * q;
    // mass[d] = probability of being at (h, m = h − d) with no decision yet, d = h − m ≥ 0,
    // d < give_up; h = 1 here.
    let mut mass = vec![0.0; give_up as usize];
    if give_up > 1 {
        mass[1] = p;
    }
    mass[0] = q * p;
    for _h in 1..horizon {
        // Attacker checkpoints until the next honest one: from deficit d, reaching −1 (a lead
        // of one) wins; the geometric number of attacker checkpoints shifts the deficit down.
        let mut before_honest = vec![0.0; give_up as usize];
        for (deficit, weight) in mass.iter().enumerate() {
            if *weight == 0.0 {
                continue;
            }
            // Needs deficit + 1 attacker checkpoints in a row to lead.
            win += weight * q.powi(deficit as i32 + 1);
            for taken in 0..=deficit {
                before_honest[deficit - taken] += weight * q.powi(taken as i32);
            }
        }
        // The honest checkpoint: deficit + 1, lost at give_up (an anchor at h + 1 = a is the
        // loop's end).
        let mut next = vec![0.0; give_up as usize];
        for (deficit, weight) in before_honest.iter().enumerate() {
            if deficit + 1 < give_up as usize {
                next[deficit + 1] += weight * p;
            }
        }
        mass = next;
        // Nothing left undecided (the unanchored walk is absorbed): later rounds add nothing.
        if mass.iter().sum::<f64>() < 1e-16 {
            break;
        }
    }
    win.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalan(j: u64) -> f64 {
        binomial(2 * j, j) / (j as f64 + 1.0)
    }

    fn binomial(n: u64, k: u64) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }

    /// The closed form of the module docs (no give-up).
    fn closed_form(q: f64, a: u64) -> f64 {
        if a < 2 {
            return 0.0;
        }
        let p = 1.0 - q;
        let mut sum = q * q;
        for j in 0..=(a - 2) {
            let jf = j as i32;
            sum += q * p * catalan(j) * q.powi(jf + 1) * p.powi(jf);
            sum += p * 2.0 / (2.0 * j as f64 + 2.0)
                * binomial(2 * j + 2, j)
                * q.powi(jf + 2)
                * p.powi(jf);
        }
        sum
    }

    #[test]
    fn the_dynamic_programme_matches_the_closed_form() {
        for q in [0.1, 0.3, 0.45, 0.6, 0.8] {
            for a in [1, 2, 3, 4, 8, 16] {
                let exact = closed_form(q, a);
                // A give-up farther than the window never binds.
                let computed = anchored_rewrite(q, a, a + 2);
                assert!((computed - exact).abs() < 1e-12, "q {q} a {a}: {computed} vs {exact}");
            }
        }
    }

    #[test]
    fn small_windows_by_hand() {
        // a = 2: q² (two before the first honest), or one each then the attacker again.
        let q: f64 = 0.3;
        let p = 1.0 - q;
        let by_hand = q * q + q * p * q + p * q * q;
        assert!((anchored_rewrite(q, 2, 10) - by_hand).abs() < 1e-12);
        assert_eq!(anchored_rewrite(q, 1, 10), 0.0);
    }

    /// Without anchors it is vein's strictly-heavier race at z = 1 (0.309 at q = 0.3, README);
    /// a majority wins for sure.
    #[test]
    fn no_anchor_is_the_strictly_heavier_race_at_one_confirmation() {
        for q in [0.1, 0.2, 0.3] {
            let race = vein_reports::reference::double_spend_strictly_heavier(q, 1).unwrap();
            let unanchored = anchored_rewrite(q, 0, 200);
            assert!((unanchored - race).abs() < 1e-9, "q {q}: {unanchored} vs {race}");
        }
        assert!(anchored_rewrite(0.6, 0, 200) > 0.999_999);
        // Windows only ever shrink the chance.
        let by_window: Vec<f64> =
            [2, 4, 8, 0].iter().map(|a| anchored_rewrite(0.6, *a, 30)).collect();
        assert!(by_window.windows(2).all(|pair| pair[0] < pair[1]), "{by_window:?}");
    }
}
