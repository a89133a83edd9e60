//! What families read off a node's chain: its settled part, link by link, and waiting for a
//! height. `BLOCK_CHECKPOINTS` cuts long runs into blocks to get independent-ish samples.

use vein_node::core::crypto::AccountId;

use crate::engine::Engine;

/// Checkpoints per block when a long run is cut into blocks to get independent-ish samples.
pub const BLOCK_CHECKPOINTS: usize = 100;

/// One checkpoint of a node's active chain.
pub(crate) struct Link {
    pub(crate) author: AccountId,
    pub(crate) timestamp_ms: u64,
    pub(crate) base_target: u64,
}

/// Node `index`'s active chain from height 1 up to `head − skip_top`: the part that can no
/// longer change in practice.
pub(crate) fn settled_chain<E: Engine>(engine: &E, index: usize, skip_top: u64) -> Vec<Link> {
    let view = engine.node(index);
    let chain = view.chain();
    let top = chain.height().saturating_sub(skip_top);
    (1..=top)
        .filter_map(|height| {
            let id = chain.active_at(height)?;
            let header = chain.header(&id)?;
            Some(Link {
                author: header.author,
                timestamp_ms: header.timestamp_ms,
                base_target: header.base_target,
            })
        })
        .collect()
}

/// Steps until node 0 reaches `height` or `until_ms` passes.
pub(crate) fn run_to_height<E: Engine>(engine: &mut E, height: u64, until_ms: u64) {
    while engine.node(0).chain().height() < height && engine.step(until_ms) {}
}
