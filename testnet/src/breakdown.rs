//! Where a load run's time to finality went: the chain's own floor, checkpoints a transfer
//! missed, and delivery to the node that accepted it.
//!
//! A transfer submitted at `s` can at best be confirmed by the first checkpoint whose timestamp
//! is after `s` (height `h0`) and be final when the checkpoint `k` above that one exists, at its
//! timestamp: the **floor**, `ts(h0 + k) − s`, which only the chain's random intervals decide
//! (no node could do better on that chain). A checkpoint forged late can carry a timestamp
//! before `s` and still confirm the transfer; its height is then `h0`. It was confirmed at height `h ≥ h0`: `h − h0`
//! checkpoints were **missed** (it reached the forger too late, or no named tip covered it). It
//! became final on its node at `final_ms`, after `ts(h + k)`: the **delivery** lag (the
//! checkpoint's propagation and the node's handling of it, plus forging late when the forger
//! was busy). Measured finality = floor + missed + delivery, exactly, per transfer.
//!
//! Timestamps are a checkpoint's protocol time (parent timestamp + deadline), all nodes on the
//! one machine share its clock, so the three parts are on one time base.

use std::collections::BTreeMap;

/// One final transfer: when the client submitted it, the height that confirmed it, and when its
/// node saw it final (Unix ms).
#[derive(Clone, Copy, Debug)]
pub struct FinalTransfer {
    /// Unix ms at which the load client posted it (the client's clock, shared with the nodes).
    pub submitted_ms: u64,
    /// Main-chain height of the checkpoint that confirmed it (`h` in the model above).
    pub confirmed_height: u64,
    /// Unix ms at which its node recorded it final (the node's `final_ms` time).
    pub final_ms: u64,
}

/// Percentiles of the three parts over the transfers whose checkpoints were all known.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Breakdown {
    /// Transfers the breakdown covers.
    pub transfers: u64,
    /// Mean interval between the checkpoints from the first floor checkpoint to the last
    /// finalising one (the chain's pace during the run; the target is T).
    pub interval_ms_mean: Option<f64>,
    /// Largest interval in that range.
    pub interval_ms_max: Option<u64>,
    /// Median floor in ms: `ts(h0 + k) − submitted`, the best this chain allowed; `None` with
    /// no transfers.
    pub floor_ms_p50: Option<u64>,
    /// 99th percentile of the floor in ms (nearest rank).
    pub floor_ms_p99: Option<u64>,
    /// Share of transfers confirmed later than the first checkpoint after their submission.
    pub missed_share: f64,
    /// Median time lost to missed checkpoints in ms: `ts(h + k) − ts(h0 + k)`, 0 for a
    /// transfer the first possible checkpoint confirmed.
    pub missed_ms_p50: Option<u64>,
    /// 99th percentile of the missed time in ms (nearest rank).
    pub missed_ms_p99: Option<u64>,
    /// Median delivery lag in ms: the node's `final_ms − ts(h + k)`.
    pub delivery_ms_p50: Option<u64>,
    /// 99th percentile of the delivery lag in ms (nearest rank).
    pub delivery_ms_p99: Option<u64>,
}

/// Percentile `fraction` of `sorted` (nearest rank).
pub fn percentile(sorted: &[u64], fraction: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Split each transfer's finality into floor, missed and delivery, given the main chain's
/// checkpoint timestamps by height and the finality depth `k`. Transfers whose checkpoints are
/// not all in `timestamps` (outside the fetched range) are left out.
pub fn breakdown(
    timestamps: &BTreeMap<u64, u64>,
    k: u64,
    transfers: &[FinalTransfer],
) -> Breakdown {
    let (mut floor, mut missed, mut delivery) = (Vec::new(), Vec::new(), Vec::new());
    let mut missed_count = 0u64;
    let (mut low, mut high) = (u64::MAX, 0u64);
    // Main-chain timestamps rise with height, so the first checkpoint after a time is a binary
    // search (a run has ~10^5 transfers).
    let ordered: Vec<(u64, u64)> = timestamps.iter().map(|(h, ts)| (*h, *ts)).collect();
    for transfer in transfers {
        let index = ordered.partition_point(|(_, timestamp)| *timestamp <= transfer.submitted_ms);
        let h = transfer.confirmed_height;
        let first = ordered.get(index).map_or(h, |(height, _)| *height);
        // A checkpoint timestamped before the submission can still have confirmed it: it was
        // forged late (its forger got the parent late, or was busy). Its own height is then
        // the floor, and nothing was missed.
        let h0 = first.min(h);
        let (Some(floor_ts), Some(final_ts)) =
            (timestamps.get(&(h0 + k)), timestamps.get(&(h + k)))
        else {
            continue;
        };
        floor.push(floor_ts.saturating_sub(transfer.submitted_ms));
        missed.push(final_ts - floor_ts);
        if h > h0 {
            missed_count += 1;
        }
        delivery.push(transfer.final_ms.saturating_sub(*final_ts));
        low = low.min(h0);
        high = high.max(h + k);
    }
    let intervals: Vec<u64> = if low < high {
        timestamps
            .range(low..=high)
            .zip(timestamps.range(low + 1..=high))
            .map(|((_, a), (_, b))| b.saturating_sub(*a))
            .collect()
    } else {
        Vec::new()
    };
    let count = floor.len() as u64;
    floor.sort_unstable();
    missed.sort_unstable();
    delivery.sort_unstable();
    Breakdown {
        transfers: count,
        interval_ms_mean: (!intervals.is_empty())
            .then(|| intervals.iter().sum::<u64>() as f64 / intervals.len() as f64),
        interval_ms_max: intervals.iter().copied().max(),
        floor_ms_p50: percentile(&floor, 0.5),
        floor_ms_p99: percentile(&floor, 0.99),
        missed_share: if count == 0 { 0.0 } else { missed_count as f64 / count as f64 },
        missed_ms_p50: percentile(&missed, 0.5),
        missed_ms_p99: percentile(&missed, 0.99),
        delivery_ms_p50: percentile(&delivery, 0.5),
        delivery_ms_p99: percentile(&delivery, 0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> BTreeMap<u64, u64> {
        // Heights 10..=20 at 1,000 ms apart, starting at t = 10,000.
        (10..=20).map(|height| (height, height * 1_000)).collect()
    }

    #[test]
    fn parts_add_up_to_the_measured_finality() {
        let transfers = [
            // On time: the first checkpoint after 10,400 is 11 (11,000), final at 14 (14,000).
            FinalTransfer { submitted_ms: 10_400, confirmed_height: 11, final_ms: 14_050 },
            // Missed one checkpoint: confirmed by 13 instead of 12, final at 16 not 15.
            FinalTransfer { submitted_ms: 11_900, confirmed_height: 13, final_ms: 16_200 },
        ];
        let parts = breakdown(&chain(), 3, &transfers);
        assert_eq!(parts.transfers, 2);
        assert_eq!(parts.floor_ms_p50, Some(3_100)); // 3,600 and 3,100
        assert_eq!(parts.floor_ms_p99, Some(3_600));
        assert_eq!(parts.missed_share, 0.5);
        assert_eq!(parts.missed_ms_p99, Some(1_000));
        assert_eq!(parts.delivery_ms_p50, Some(50));
        assert_eq!(parts.delivery_ms_p99, Some(200));
        assert_eq!(parts.interval_ms_mean, Some(1_000.0));
        for transfer in &transfers {
            let h0 = chain().into_iter().find(|(_, ts)| *ts > transfer.submitted_ms).unwrap().0;
            let floor = chain()[&(h0 + 3)] - transfer.submitted_ms;
            let missed = chain()[&(transfer.confirmed_height + 3)] - chain()[&(h0 + 3)];
            let delivery = transfer.final_ms - chain()[&(transfer.confirmed_height + 3)];
            assert_eq!(floor + missed + delivery, transfer.final_ms - transfer.submitted_ms);
        }
    }

    #[test]
    fn transfers_outside_the_known_chain_are_left_out() {
        let transfers = [
            // Final at 20 + 3 = 23, beyond the fetched heights (and no checkpoint after 19,500
            // is known but 20 itself).
            FinalTransfer { submitted_ms: 19_500, confirmed_height: 20, final_ms: 30_000 },
        ];
        let parts = breakdown(&chain(), 3, &transfers);
        assert_eq!(parts, Breakdown::default());
    }

    #[test]
    fn a_late_forged_checkpoint_is_its_own_floor() {
        // Submitted at 12,500, after checkpoint 12's timestamp, yet confirmed by it (forged
        // late): floor to 15 (15,000), nothing missed, delivery 150.
        let transfers =
            [FinalTransfer { submitted_ms: 12_500, confirmed_height: 12, final_ms: 15_150 }];
        let parts = breakdown(&chain(), 3, &transfers);
        assert_eq!(parts.transfers, 1);
        assert_eq!(parts.floor_ms_p50, Some(2_500));
        assert_eq!(parts.missed_share, 0.0);
        assert_eq!(parts.missed_ms_p50, Some(0));
        assert_eq!(parts.delivery_ms_p50, Some(150));
    }

    #[test]
    fn percentiles_pick_ranks() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), Some(50));
        assert_eq!(percentile(&values, 0.99), Some(99));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
