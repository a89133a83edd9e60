//! `--watch`: a watched node's chain events printed as they happen, for finality questions.

use crate::runtime::sim_now_ms;
use vein_node::core::crypto::AccountId;
use vein_node::core::events::Event;

/// Print one chain event of a watched node: simulated time, the node's own clock, the event.
/// Unit and transaction events are left out (there are thousands; the chain's are what a
/// finality question needs).
pub fn watch_event(node: usize, now_ms: u64, event: &Event, accounts: &[AccountId]) {
    let author = |account: &AccountId| {
        accounts.iter().position(|a| a == account).map_or("?".to_string(), |i| i.to_string())
    };
    let text = match event {
        Event::UnitAccepted { .. }
        | Event::UnitOrphaned { .. }
        | Event::TxConfirmed { .. }
        | Event::TxFinal { .. }
        | Event::StorageSettled { .. } => return,
        Event::CheckpointAccepted { id, height, author: author_id } => {
            format!("accepted {} at {height} by node {}", id.short(), author(author_id))
        }
        Event::HeadChanged { id, height, cumulative_weight, timestamp_ms } => format!(
            "head {} at {height} weight {cumulative_weight} timestamp {:.3} s",
            id.short(),
            *timestamp_ms as f64 / 1e3
        ),
        Event::CheckpointFinal { id, height, .. } => format!("FINAL {} at {height}", id.short()),
        other => format!("{other:?}"),
    };
    eprintln!(
        "[{:9.3} s] node {node} (clock {:.3} s) {text}",
        sim_now_ms() as f64 / 1e3,
        now_ms as f64 / 1e3
    );
}
