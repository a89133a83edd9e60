//! The send schedule of `load`: exactly `rate` transfers per second on an absolute clock, and
//! the window the achieved throughput is divided by.

use std::time::Duration;

/// `total = round(rate × duration)` transfers, transfer `t` due at `t / rate` seconds after the
/// start, sent in requests of `batch` (the last one may be shorter). A request is due when its
/// first transfer is. The schedule is absolute: a client that falls behind sends the overdue
/// requests at once (catches up) instead of shifting the rest later.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    rate: f64,
    total: u64,
    batch: u64,
}

impl Schedule {
    /// `rate` > 0 and `batch` ≥ 1 (checked by the caller); a zero batch is taken as 1.
    pub fn new(rate: f64, duration: Duration, batch: usize) -> Self {
        let total = (rate * duration.as_secs_f64()).round() as u64;
        Self { rate, total, batch: (batch as u64).max(1) }
    }

    /// Transfers offered in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Requests in all.
    pub fn requests(&self) -> u64 {
        self.total.div_ceil(self.batch)
    }

    /// Request `index`: when it is due (after the start) and how many transfers it carries;
    /// `None` past the last one.
    pub fn request(&self, index: u64) -> Option<(Duration, usize)> {
        let first = index.checked_mul(self.batch)?;
        if first >= self.total {
            return None;
        }
        let count = (self.total - first).min(self.batch);
        Some((Duration::from_secs_f64(first as f64 / self.rate), count as usize))
    }

    /// The scheduled window: `total / rate` (the requested duration, up to rounding).
    pub fn scheduled(&self) -> Duration {
        Duration::from_secs_f64(self.total as f64 / self.rate)
    }

    /// The window the transfers were actually offered over: the scheduled one, or, when the
    /// client fell behind, until the latest request was dispatched plus one request's share of
    /// the schedule (`batch / rate`: the slot that request would have filled on time). Throughput
    /// divided by this never exceeds what the client really offered per second.
    pub fn offered_window(&self, latest_dispatch: Duration) -> Duration {
        let slot = Duration::from_secs_f64(self.batch.min(self.total) as f64 / self.rate);
        self.scheduled().max(latest_dispatch + slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_exactly_rate_times_duration() {
        // 5,500/s in batches of 28 does not divide: the last request is short, the total exact.
        let schedule = Schedule::new(5500.0, Duration::from_secs(20), 28);
        assert_eq!(schedule.total(), 110_000);
        assert_eq!(schedule.requests(), 3929);
        let carried: usize =
            (0..schedule.requests()).map(|i| schedule.request(i).map_or(0, |(_, n)| n)).sum();
        assert_eq!(carried, 110_000);
        assert_eq!(schedule.request(3928).map(|(_, n)| n), Some(110_000 - 3928 * 28));
        assert_eq!(schedule.request(3929), None);
        assert_eq!(schedule.request(u64::MAX), None);
    }

    #[test]
    fn requests_fall_due_on_an_absolute_clock() {
        let schedule = Schedule::new(5000.0, Duration::from_secs(20), 25);
        assert_eq!(schedule.requests(), 4000);
        assert_eq!(schedule.request(0), Some((Duration::ZERO, 25)));
        // Request i is due at i·25/5000 s = 5i ms, whatever happened to the requests before.
        assert_eq!(schedule.request(200).map(|(due, _)| due), Some(Duration::from_secs(1)));
        let last = schedule.request(3999).map(|(due, _)| due);
        assert_eq!(last, Some(Duration::from_secs_f64(3999.0 * 25.0 / 5000.0)));
        assert_eq!(schedule.scheduled(), Duration::from_secs(20));
    }

    #[test]
    fn the_window_grows_only_when_the_client_fell_behind() {
        let schedule = Schedule::new(5000.0, Duration::from_secs(20), 25);
        // On time: the last request goes out at 19.995 s and fills the slot up to 20 s.
        let on_time = Duration::from_secs_f64(19.995);
        assert_eq!(schedule.offered_window(on_time), Duration::from_secs(20));
        // 300 ms behind at the end: the transfers were offered over 20.3 s, not 20.
        let late = Duration::from_secs_f64(20.295);
        let window = schedule.offered_window(late).as_secs_f64();
        assert!((window - 20.3).abs() < 1e-9, "{window}");
    }
}
