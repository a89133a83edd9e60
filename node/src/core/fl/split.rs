//! How the records are spread over participants: IID, a seeded shuffle dealt round-robin. The
//! non-IID split by label with Dirichlet(α) proportions draws Gamma variates in floating point,
//! so it lives in the lab crate (`vein_fl_lab::split`), outside the core.

use super::dataset::shuffle;
use super::error::FlError;
use crate::core::random::DetRng;

/// Indices of each participant's records: `participants` lists, disjoint, covering `0..samples`.
pub fn iid(
    samples: usize,
    participants: usize,
    seed: [u8; 32],
) -> Result<Vec<Vec<usize>>, FlError> {
    if participants == 0 || samples < participants {
        return Err(FlError::BadSplit { samples, participants });
    }
    let mut order: Vec<usize> = (0..samples).collect();
    shuffle(&mut order, &mut DetRng::from_seed(seed));
    let mut parts = vec![Vec::with_capacity(samples / participants + 1); participants];
    for (position, index) in order.into_iter().enumerate() {
        parts[position % participants].push(index);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_exactly(parts: &[Vec<usize>], samples: usize) {
        let mut all: Vec<usize> = parts.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..samples).collect::<Vec<_>>());
    }

    #[test]
    fn iid_deals_every_record_once_in_near_equal_parts() {
        let parts = iid(103, 10, [3; 32]).unwrap();
        covers_exactly(&parts, 103);
        assert!(parts.iter().all(|part| part.len() == 10 || part.len() == 11));
        assert_eq!(iid(103, 10, [3; 32]).unwrap(), parts);
        assert!(iid(5, 10, [3; 32]).is_err());
        assert!(iid(5, 0, [3; 32]).is_err());
    }
}
