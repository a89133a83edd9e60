//! `load`'s bound on falling behind its schedule, and what the client waited on meanwhile.
//!
//! An open-loop client sends every overdue request at once, so a client whose nodes answer
//! slower than the offered rate falls further behind with every request and, without a bound,
//! keeps sending for as long as the nodes take: minutes at a rate they cannot follow, with no
//! report until the end. With the bound a run stops
//! sending once a request it would send is more than `--lag-max-s` overdue, settles what was
//! accepted, prints its report and fails naming the requests it waited on longest.

use super::*;
use std::fmt;

/// Default of `--lag-max-s`: how far behind its schedule a load run may fall before it stops
/// sending.
pub const LAG_MAX: Duration = Duration::from_secs(30);

/// The requests a load worker waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// `GET /parents`: the node's tip selection for a batch.
    Parents,
    /// `POST /txs`: the batch itself.
    Txs,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Parents => "GET /parents",
            Step::Txs => "POST /txs",
        })
    }
}

/// Calls of one request kind to one node, and the time spent waiting for their answers.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    calls: u64,
    total: Duration,
    longest: Duration,
}

/// How long the workers waited for each node's answers, by request kind.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    tallies: Mutex<BTreeMap<(usize, Step), Tally>>,
}

impl Waits {
    /// One call of `step` to node `node` took `waited` (answered or not).
    pub(crate) fn record(&self, node: usize, step: Step, waited: Duration) {
        let Ok(mut tallies) = self.tallies.lock() else { return };
        let tally = tallies.entry((node, step)).or_default();
        tally.calls += 1;
        tally.total += waited;
        tally.longest = tally.longest.max(waited);
    }

    /// The tallies as the report shows them, longest total wait first (`nodes` gives the
    /// addresses).
    pub(crate) fn longest_first(&self, nodes: &[NodeEntry]) -> Vec<WaitedOn> {
        let Ok(tallies) = self.tallies.lock() else { return Vec::new() };
        let mut rows: Vec<WaitedOn> = tallies
            .iter()
            .map(|((node, step), tally)| WaitedOn {
                node: *node,
                api: nodes.iter().find(|entry| entry.index == *node).map(|entry| entry.api),
                request: step.to_string(),
                calls: tally.calls,
                total_s: tally.total.as_secs_f64(),
                mean_ms: (tally.total / u32::try_from(tally.calls).unwrap_or(u32::MAX).max(1))
                    .as_millis() as u64,
                longest_ms: tally.longest.as_millis() as u64,
            })
            .collect();
        rows.sort_by(|a, b| b.total_s.total_cmp(&a.total_s).then(a.node.cmp(&b.node)));
        rows
    }
}

/// The workers' waits on one node for one request kind.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WaitedOn {
    /// The node's index.
    pub node: usize,
    /// Its API address.
    pub api: Option<SocketAddr>,
    /// The request: `GET /parents` or `POST /txs`.
    pub request: String,
    /// Calls made (answered, refused or timed out).
    pub calls: u64,
    /// Seconds spent waiting for their answers, summed over the workers.
    pub total_s: f64,
    /// Mean wait per call, ms.
    pub mean_ms: u64,
    /// Longest single wait, ms (the HTTP timeout is [`http::TIMEOUT`]).
    pub longest_ms: u64,
}

impl fmt::Display for WaitedOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = self.api.map_or_else(String::new, |api| format!(" ({api})"));
        write!(
            f,
            "{} to node {}{api}: {} calls, {:.1} s in all, mean {} ms, longest {} ms",
            self.request, self.node, self.calls, self.total_s, self.mean_ms, self.longest_ms
        )
    }
}

/// Why a load run stopped sending before its schedule ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoppedBehind {
    /// The bound (`--lag-max-s`).
    pub lag_max_s: u64,
    /// Seconds after the start when a worker found its next request over the bound.
    pub at_s: f64,
    /// Transfers of the requests never sent (also `LoadReport::unsent`).
    pub unsent: u64,
    /// What the workers waited on, longest total first.
    pub waited_on: Vec<WaitedOn>,
}

impl StoppedBehind {
    /// The error a run that stopped behind ends with, after its report was printed.
    pub fn error(&self, offered: u64) -> TestnetError {
        let waited = match self.waited_on.first() {
            Some(first) => format!("it waited longest on {first}"),
            None => "no request was answered or timed out".into(),
        };
        TestnetError::LoadBehind {
            lag_max_s: self.lag_max_s,
            at_s: self.at_s,
            unsent: self.unsent,
            offered,
            waited,
        }
    }
}

/// Whether a request due at `due` (from the start), taken at `now`, is over the bound.
pub(crate) fn over_bound(now: Duration, due: Duration, lag_max: Duration) -> bool {
    now.saturating_sub(due) > lag_max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_lag_past_the_due_time() {
        let s = Duration::from_secs;
        assert!(!over_bound(s(40), s(10), s(30)), "exactly at the bound still goes out");
        assert!(over_bound(s(41), s(10), s(30)));
        assert!(!over_bound(s(5), s(10), s(0)), "an early request is never over");
    }

    #[test]
    fn waits_rank_by_total_time_and_name_the_node_and_request() {
        let waits = Waits::default();
        let ms = Duration::from_millis;
        for _ in 0..100 {
            waits.record(0, Step::Txs, ms(20));
        }
        waits.record(1, Step::Parents, ms(6_000));
        waits.record(1, Step::Parents, ms(4_000));
        let rows = waits.longest_first(&[]);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].node, rows[0].request.as_str()), (1, "GET /parents"));
        assert_eq!((rows[0].calls, rows[0].mean_ms, rows[0].longest_ms), (2, 5_000, 6_000));
        assert_eq!((rows[1].calls, rows[1].mean_ms), (100, 20));
        let stopped = StoppedBehind { lag_max_s: 30, at_s: 51.0, unsent: 87_000, waited_on: rows };
        let text = stopped.error(100_000).to_string();
        assert!(text.contains("GET /parents to node 1"), "{text}");
        assert!(text.contains("87000 of 100000"), "{text}");
    }
}
