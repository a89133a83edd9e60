//! Finality: a checkpoint buried under `k` others on the active chain is final, if the burying
//! checkpoints came at a weight rate of at least the participation share of the reference rate
//! (see [`Chain::is_final`]); a checkpoint `finality_depth_max` deep is final regardless.
//! Finality is reported once per height, as `Event::CheckpointFinal` and one `Event::TxFinal`
//! per unit it confirmed; disconnecting a final checkpoint reports `Event::FinalReverted`.

use super::Chain;
use crate::core::dag::Dag;
use crate::core::events::Event;

/// Checkpoints before a height whose weight rate is the finality reference.
pub(super) const FINALITY_REFERENCE_CHECKPOINTS: u64 = 256;

impl Chain {
    /// Weight per millisecond of the active chain between two heights.
    fn weight_rate(&self, from: u64, to: u64) -> Option<f64> {
        let start = self.link_at(from)?;
        let end = self.link_at(to)?;
        let span_ms = end.timestamp_ms.saturating_sub(start.timestamp_ms).max(1);
        Some((end.cumulative_weight - start.cumulative_weight) as f64 / span_ms as f64)
    }

    /// Whether the checkpoint at `height` on the active chain is final. Buried under k others
    /// is necessary. Unless disabled, the burying checkpoints must also have come at a weight
    /// rate of at least the participation share of the reference rate, the chain's rate over
    /// the 256 checkpoints before `height`. A side of a partition holding less than that share
    /// of the space therefore does not finalise while it is split. Two valves keep honest
    /// finality live: with under 2k checkpoints of history the reference is the rate the
    /// genesis declares, and a checkpoint `finality_depth_max` deep is final regardless, because a
    /// reference that happened to be fast could otherwise stall finality forever. So the
    /// guarantee holds for splits shorter than about `finality_depth_max` intervals.
    fn is_final(&self, height: u64) -> bool {
        let depth = self.params.finality_depth;
        let tip = self.height();
        if tip < height + depth {
            return false;
        }
        let share = u64::from(self.params.finality_participation_per_mille);
        if share == 0 || tip - height >= self.params.finality_depth_max {
            return true;
        }
        let reference = if height < 2 * depth {
            // Too little history: the genesis declares the expected rate (its base target was
            // set from the declared capacity for the target interval).
            Some(
                crate::core::poc::challenge::weight(self.genesis.initial_base_target) as f64
                    / self.params.target_interval_ms.max(1) as f64,
            )
        } else {
            self.weight_rate(height.saturating_sub(FINALITY_REFERENCE_CHECKPOINTS), height)
        };
        let (Some(reference), Some(burying)) = (reference, self.weight_rate(height, tip)) else {
            return false;
        };
        burying * 1000.0 >= reference * share as f64
    }

    pub(super) fn emit_finality(&mut self, dag: &Dag) {
        let depth = self.params.finality_depth;
        let now_final = self.height().saturating_sub(depth);
        while self.final_height < now_final {
            let height = self.final_height + 1;
            if !self.is_final(height) {
                break;
            }
            let Some(index) = height.checked_sub(self.active_base) else { break };
            // Field access, not `link_at`: the events vector is pushed to while it is held.
            let Some(link) = self.active.get(index as usize) else { break };
            let Some(header) = self.headers.get(&link.id) else { break };
            self.events.push(Event::CheckpointFinal {
                id: link.id,
                height,
                ledger_root: header.ledger_root,
                supply: link.supply,
            });
            for (unit, outcome) in &link.confirmed {
                if let Some(unit_data) = dag.get(unit) {
                    self.events.push(Event::TxFinal {
                        id: *unit,
                        height,
                        outcome: *outcome,
                        from: unit_data.tx.body.from,
                        nonce: unit_data.tx.body.nonce,
                    });
                }
            }
            self.final_height = height;
        }
    }
}
