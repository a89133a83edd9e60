//! The relayer's pins (docs/sidechain-fork-choice.md): what the simulator's bridge does with
//! `Node::pin_anchor`, done through `POST /sidechain/pin`.
//!
//! Each pass reads main's light client of the side chain (`GET /sidechains`, which names the
//! main head it was read at) and keeps its final header as an observation of that main head.
//! Once the main head is final on main (on main's active chain at or below its final height,
//! `GET /checkpoints`), the side header is a **final anchor**: main's finality now stands
//! behind it. Every running side node is then pinned to the highest final anchor, so its fork
//! choice never leaves it whatever weight a rival side branch shows. A side node that refuses
//! (409/422: the main chain finalised another side history than the node holds) is logged and
//! left as it is; a node that does not answer is pinned at the next pass. A restarted node has
//! no pins: `pinned` tracks the height every node took, so it is pinned again with the next.

use super::ChainEnd;
use crate::{TestnetError, http};
use std::collections::BTreeMap;
use vein_node::api_types::{Checkpoints, PinAnswer, PinRequest, SideChainList};
use vein_node::core::hash::Hash;

/// Main heads whose light-client reading is kept until they are final (the oldest go first).
const OBSERVATIONS_KEPT: usize = 256;
/// Main checkpoints read to judge finality: far more than the final depth of any testnet.
const CHECKPOINTS_READ: usize = 1_000;

/// The pins' memory between passes.
#[derive(Default)]
pub(super) struct Pins {
    /// `(main height, main head id)` → the side header `(height, id)` final in main's light
    /// client as read at that head.
    observations: BTreeMap<(u64, Hash), (u64, Hash)>,
    /// The highest final anchor `(height, id)`.
    highest: Option<(u64, Hash)>,
    /// The height every running side node was pinned to (0: none yet).
    pinned: u64,
}

fn hash(text: &str, what: &str) -> Result<Hash, TestnetError> {
    vein_sdk::parse_hash(text)
        .ok_or_else(|| TestnetError::Invalid(format!("{what}: {text:?} is not 64 hex")))
}

impl Pins {
    /// One pass: observe, promote what main made final, pin the side nodes.
    pub(super) fn pass(
        &mut self,
        main: &ChainEnd,
        side: &ChainEnd,
        log: &mut Vec<String>,
    ) -> Result<(), TestnetError> {
        self.observe(main, side)?;
        self.promote(main)?;
        self.pin(side, log)
    }

    fn observe(&mut self, main: &ChainEnd, side: &ChainEnd) -> Result<(), TestnetError> {
        let list: SideChainList = http::get(main.api()?, "/sidechains")?;
        let side_chain = side.id.to_string();
        let Some(view) = list.chains.iter().find(|chain| chain.chain == side_chain) else {
            return Ok(());
        };
        if view.final_tip.height == 0 {
            return Ok(());
        }
        let tip = (view.final_tip.height, hash(&view.final_tip.id, "final side header")?);
        self.observations.insert((list.height, hash(&list.head, "main head")?), tip);
        while self.observations.len() > OBSERVATIONS_KEPT {
            self.observations.pop_first();
        }
        Ok(())
    }

    /// Observations made at main heads now final on main become final anchors.
    fn promote(&mut self, main: &ChainEnd) -> Result<(), TestnetError> {
        let path = format!("/checkpoints?limit={CHECKPOINTS_READ}");
        let chain: Checkpoints = http::get(main.api()?, &path)?;
        let final_ids: BTreeMap<u64, &str> = chain
            .checkpoints
            .iter()
            .filter(|row| row.height <= chain.final_height)
            .map(|row| (row.height, row.id.as_str()))
            .collect();
        let final_heads: Vec<(u64, Hash)> = self
            .observations
            .keys()
            .filter(|(height, id)| final_ids.get(height) == Some(&id.to_string().as_str()))
            .copied()
            .collect();
        for head in final_heads {
            if let Some(anchor) = self.observations.remove(&head)
                && self.highest.is_none_or(|(height, _)| anchor.0 > height)
            {
                self.highest = Some(anchor);
            }
        }
        // Heads below the final height that are not on main's chain will never be final.
        self.observations.retain(|(height, _), _| *height > chain.final_height);
        Ok(())
    }

    fn pin(&mut self, side: &ChainEnd, log: &mut Vec<String>) -> Result<(), TestnetError> {
        let Some((height, id)) = self.highest else { return Ok(()) };
        if height <= self.pinned {
            return Ok(());
        }
        let token = crate::api_token::of_manifest(&side.manifest)?;
        let request = PinRequest { height, id: id.to_string() };
        let mut pinned_all = true;
        for node in &side.manifest.nodes {
            if node.paused || !node.pid.is_some_and(|pid| crate::is_alive(pid, node)) {
                pinned_all = false;
                continue;
            }
            let answer: Result<PinAnswer, _> =
                http::post_authorized(node.api, "/sidechain/pin", &request, token.as_deref());
            match answer {
                Ok(answer) => log.push(format!(
                    "side node {}: pinned to the final anchor {height} ({id}): {:?}",
                    node.index, answer.outcome
                )),
                Err(http::HttpError::Status { status: 409 | 422, body, .. }) => log.push(format!(
                    "side node {} refuses the final anchor {height} ({id}): {body}",
                    node.index
                )),
                Err(_) => pinned_all = false,
            }
        }
        if pinned_all {
            self.pinned = height;
        }
        Ok(())
    }
}
