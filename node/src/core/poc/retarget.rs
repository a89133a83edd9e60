//! Base-target retargeting (Signum's rule) and the genesis base target.
//!
//! With network capacity `N` nonces the best deadline is exponential with mean
//! `2^64/(N·base_target)` seconds, so the base target that gives a target interval `T` is
//! `2^64/(N·T)`; it is also the network's capacity estimate (scenario 1). Each checkpoint
//! retargets from the last (up to) 24 checkpoints: the average base target scaled by
//! `actual span / target span` (slow rounds raise the base target, shortening deadlines).
//!
//! Choice: the scaled value is clamped to `[0.9, 1.1] ×` the window average per step, as Signum
//! does, so one outlier interval (or a miner lying about timestamps within the allowed skew)
//! moves difficulty by at most 10% per checkpoint; a full swing of capacity is tracked within a
//! few dozen checkpoints. The result is never 0 (deadlines would be infinite and `weight` would
//! divide by zero). Integer arithmetic in u128 only: every node computes the same value.

/// Signum's window length.
pub const RETARGET_WINDOW: usize = 24;
/// Clamp of one step, as a fraction `numerator / 10` of the window average.
const CLAMP_LOW_TENTHS: u128 = 9;
const CLAMP_HIGH_TENTHS: u128 = 11;

/// Next base target from `recent` = `(timestamp_ms, base_target)` of the last up to 24
/// checkpoints, oldest first. Fewer than 2 entries carry the last base target (1 if empty: the
/// hardest target, a visible stall rather than a flood of instant checkpoints).
pub fn next_base_target(recent: &[(u64, u64)], target_interval_ms: u64) -> u64 {
    let window = &recent[recent.len().saturating_sub(RETARGET_WINDOW)..];
    let (Some(&(first_ms, _)), Some(&(last_ms, last_target))) = (window.first(), window.last())
    else {
        return 1;
    };
    if window.len() < 2 || target_interval_ms == 0 {
        return last_target.max(1);
    }
    let sum: u128 = window.iter().map(|&(_, target)| u128::from(target)).sum();
    let average = sum / window.len() as u128;
    let actual_span = u128::from(last_ms.saturating_sub(first_ms));
    let target_span = u128::from(target_interval_ms) * (window.len() as u128 - 1);
    let scaled = average * actual_span / target_span;
    let clamped = scaled
        .clamp(average * CLAMP_LOW_TENTHS / 10, average * CLAMP_HIGH_TENTHS / 10)
        .clamp(1, u128::from(u64::MAX));
    u64::try_from(clamped).unwrap_or(u64::MAX)
}

/// Genesis base target for `total_nonces` of network capacity and the target interval:
/// `2^64 / (N · T_s)` (computed as `2^64·1000 / (N · T_ms)`), at least 1.
pub fn initial_base_target(total_nonces: u64, target_interval_ms: u64) -> u64 {
    let denominator = u128::from(total_nonces.max(1)) * u128::from(target_interval_ms.max(1));
    let target = ((1u128 << 64) * 1000 / denominator).clamp(1, u128::from(u64::MAX));
    u64::try_from(target).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(count: usize, interval_ms: u64, target: u64) -> Vec<(u64, u64)> {
        (0..count as u64).map(|i| (i * interval_ms, target)).collect()
    }

    #[test]
    fn on_target_keeps_base_target() {
        assert_eq!(next_base_target(&steady(24, 10_000, 5_000_000), 10_000), 5_000_000);
    }

    #[test]
    fn slow_rounds_raise_and_fast_rounds_lower_within_clamp() {
        let slow = next_base_target(&steady(24, 10_500, 1_000_000), 10_000);
        assert_eq!(slow, 1_050_000);
        assert_eq!(next_base_target(&steady(24, 100_000, 1_000_000), 10_000), 1_100_000);
        assert_eq!(next_base_target(&steady(24, 1, 1_000_000), 10_000), 900_000);
        assert_eq!(next_base_target(&steady(24, 0, 1_000_000), 10_000), 900_000);
    }

    #[test]
    fn never_zero_and_uses_only_last_24() {
        assert_eq!(next_base_target(&steady(24, 0, 1), 10_000), 1);
        assert_eq!(next_base_target(&[], 10_000), 1);
        assert_eq!(next_base_target(&[(5, 77)], 10_000), 77);
        let mut long = steady(10, 1, 1);
        long.extend(steady(24, 10_000, 4_000).iter().map(|&(t, b)| (t + 100, b)));
        assert_eq!(next_base_target(&long, 10_000), 4_000);
        assert_eq!(next_base_target(&steady(24, u64::MAX / 30, u64::MAX), 1), u64::MAX);
    }

    #[test]
    fn initial_target_gives_target_interval() {
        // 2^64 / (1024 · 10 s) = 2^54 / 10.
        assert_eq!(initial_base_target(1024, 10_000), (1u64 << 54) / 10);
        assert_eq!(initial_base_target(0, 0), u64::MAX);
        assert!(initial_base_target(u64::MAX, u64::MAX) >= 1);
    }
}
