//! The non-IID split by label with Dirichlet(α) proportions, the standard benchmark split (Hsu
//! et al., 2019): for each class, the class's records are shuffled and cut among the
//! participants in proportions drawn from Dirichlet(α, …, α). Small α gives each participant
//! mostly one class; large α approaches IID. (The IID split is the core's, `core::fl::split`.)
//!
//! The draws use floats (Gamma variates via Marsaglia–Tsang), which is why this lives in the
//! lab and not in the core: a split is an experiment's input, never consensus state. It is
//! still reproducible from its seed on one build. A participant may receive no record at all
//! under small α; callers leave it out.

use vein_node::core::fl::FlError;
use vein_node::core::fl::dataset::shuffle;
use vein_node::core::random::DetRng;

/// Label-skewed split: per class, Dirichlet(`alpha`) proportions over the participants.
pub fn dirichlet(
    labels: &[bool],
    participants: usize,
    alpha: f64,
    seed: [u8; 32],
) -> Result<Vec<Vec<usize>>, FlError> {
    if participants == 0 || labels.is_empty() || !(alpha.is_finite() && alpha > 0.0) {
        return Err(FlError::BadSplit { samples: labels.len(), participants });
    }
    let mut rng = DetRng::from_seed(seed);
    let mut parts = vec![Vec::new(); participants];
    for class in [false, true] {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        shuffle(&mut members, &mut rng);
        let weights: Vec<f64> = (0..participants).map(|_| gamma(alpha, &mut rng)).collect();
        let total: f64 = weights.iter().sum();
        // Cut points from the cumulative proportions; the last part takes the remainder, so
        // every record is dealt exactly once whatever the rounding.
        let mut start = 0;
        let mut cumulative = 0.0;
        for (participant, weight) in weights.iter().enumerate() {
            cumulative += weight;
            let end = if participant + 1 == participants || total <= 0.0 {
                members.len()
            } else {
                ((cumulative / total) * members.len() as f64).round() as usize
            };
            let end = end.clamp(start, members.len());
            parts[participant].extend_from_slice(&members[start..end]);
            start = end;
        }
        debug_assert_eq!(start, members.len());
    }
    Ok(parts)
}

/// A Gamma(shape, 1) variate (Marsaglia and Tsang, 2000); shape < 1 by the boost
/// Gamma(a) = Gamma(a + 1) · U^(1/a).
fn gamma(shape: f64, rng: &mut DetRng) -> f64 {
    if shape < 1.0 {
        let boost = rng.unit_f64().max(f64::MIN_POSITIVE).powf(1.0 / shape);
        return gamma(shape + 1.0, rng) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.unit_f64();
        if u.max(f64::MIN_POSITIVE).ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A standard normal variate (Box–Muller).
fn normal(rng: &mut DetRng) -> f64 {
    let u1 = rng.unit_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.unit_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_exactly(parts: &[Vec<usize>], samples: usize) {
        let mut all: Vec<usize> = parts.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..samples).collect::<Vec<_>>());
    }

    /// The fraction of positives per participant: spread wide at α = 0.1, near the pooled
    /// fraction at α = 100.
    #[test]
    fn dirichlet_skews_labels_more_as_alpha_shrinks() {
        let labels: Vec<bool> = (0..2000).map(|i| i % 2 == 0).collect();
        let spread = |alpha: f64| {
            let parts = dirichlet(&labels, 10, alpha, [9; 32]).unwrap();
            covers_exactly(&parts, labels.len());
            parts
                .iter()
                .filter(|part| part.len() >= 20)
                .map(|part| {
                    let positives = part.iter().filter(|&&i| labels[i]).count();
                    (positives as f64 / part.len() as f64 - 0.5).abs()
                })
                .fold(0.0, f64::max)
        };
        let (skewed, balanced) = (spread(0.1), spread(100.0));
        assert!(skewed > 0.3, "α = 0.1 leaves some participant mostly one class: {skewed}");
        assert!(balanced < 0.1, "α = 100 is near IID: {balanced}");
        assert!(dirichlet(&labels, 10, 0.0, [9; 32]).is_err());
        assert!(dirichlet(&labels, 10, f64::NAN, [9; 32]).is_err());
    }

    #[test]
    fn gamma_has_the_right_mean() {
        let mut rng = DetRng::from_seed([5; 32]);
        for shape in [0.1, 1.0, 5.0] {
            let mean = (0..20_000).map(|_| gamma(shape, &mut rng)).sum::<f64>() / 20_000.0;
            assert!((mean - shape).abs() < 0.05 * shape.max(1.0), "shape {shape}: mean {mean}");
        }
    }
}
