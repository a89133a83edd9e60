//! Seeds of a run's named random streams: everything random in a simulation derives from its
//! one seed through these, so adding a consumer never shifts another's randomness.

use vein_node::core::hash::Hash;
use vein_node::core::random::DetRng;

/// An independent 32-byte seed for a named stream of the simulation (`node` 7's core, the fault
/// plan, the peer graph...), so adding a consumer never shifts another's randomness.
pub fn derive_seed(seed: u64, stream: &str, index: u64) -> [u8; 32] {
    Hash::of_parts(&[
        b"vein-sim/seed",
        &seed.to_le_bytes(),
        stream.as_bytes(),
        &index.to_le_bytes(),
    ])
    .0
}

/// A seeded random stream.
pub fn stream(seed: u64, name: &str, index: u64) -> DetRng {
    DetRng::from_seed(derive_seed(seed, name, index))
}
