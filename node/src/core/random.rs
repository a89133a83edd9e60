//! Seeded randomness for the core. The core never asks the OS for entropy: each node is handed a
//! 32-byte seed (from the simulation seed, or from the OS by the production binary) and draws
//! everything from a ChaCha8 stream, so a simulation replays bit for bit.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A deterministic random stream (ChaCha8): the only randomness the core draws from.
#[derive(Clone, Debug)]
pub struct DetRng {
    inner: ChaCha8Rng,
}

impl DetRng {
    /// The stream seeded by `seed`; equal seeds give equal streams on every platform.
    pub fn from_seed(seed: [u8; 32]) -> DetRng {
        DetRng { inner: ChaCha8Rng::from_seed(seed) }
    }

    /// The next 64 uniformly random bits of the stream.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `0..bound` without modulo bias (Lemire's multiply-shift with rejection).
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        if bound == 0 {
            return 0;
        }
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Uniform index into a slice of length `len` (`len > 0`).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A child seed, for handing independent streams to sub-components.
    pub fn fork_seed(&mut self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_bounds_hold() {
        let mut a = DetRng::from_seed([7; 32]);
        let mut b = DetRng::from_seed([7; 32]);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
            let value = a.below(10);
            assert_eq!(value, b.below(10));
            assert!(value < 10);
            let unit = a.unit_f64();
            assert!((0.0..1.0).contains(&unit));
            b.unit_f64();
        }
        assert_ne!(DetRng::from_seed([8; 32]).next_u64(), DetRng::from_seed([7; 32]).next_u64());
    }
}
