//! Which running node a load request goes to: round robin, except that a node is passed over
//! while it already holds its share of the client's requests in flight, or for a back-off
//! after it failed in transport (refused the connection, or did not answer within the HTTP
//! timeout: killed, paused, cut off by a partition). Its requests go to the next node.
//!
//! Without this, every request routed to a paused node waits out the whole HTTP timeout, one
//! worker after the other gets stuck there, and a fault drill makes the client fall behind its
//! schedule instead of measuring the network. With it, a stalled node ties up at most its
//! share of the workers until the first timeout, and none after, except one probe per
//! back-off: asking again is how the client learns the node is back.

use std::sync::Mutex;
use std::time::Duration;

/// How long a node that failed in transport is passed over.
pub const BACKOFF: Duration = Duration::from_secs(3);

/// One node's standing with the client.
#[derive(Clone, Copy, Debug, Default)]
struct Standing {
    /// Until when (ms on the caller's clock) it is passed over; 0 = never failed.
    avoid_until_ms: u64,
    /// Requests sent to it and not answered yet.
    in_flight: usize,
}

/// How a request to a node ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The node answered (whatever it said).
    Answered,
    /// No connection, or no answer within the HTTP timeout.
    Unreachable,
}

/// Round robin over `n` nodes with an in-flight cap and a transport back-off per node. Shared
/// by the load workers.
#[derive(Debug)]
pub struct Router {
    nodes: Mutex<Vec<Standing>>,
    /// Requests one node may hold in flight before the next ones go elsewhere.
    in_flight_cap: usize,
    backoff_ms: u64,
    /// Requests sent to another node than their round-robin one.
    rerouted: std::sync::atomic::AtomicU64,
}

impl Router {
    /// A router over `nodes` nodes (at least one) for `workers` concurrent workers: a node may
    /// hold its share of them, `ceil(workers / nodes)`, and is passed over for `backoff` after
    /// a transport failure.
    pub fn new(nodes: usize, workers: usize, backoff: Duration) -> Router {
        let nodes = nodes.max(1);
        Router {
            nodes: Mutex::new(vec![Standing::default(); nodes]),
            in_flight_cap: workers.div_ceil(nodes).max(1),
            backoff_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            rerouted: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Choose the node (an index) for request number `request` at `now_ms` and count the
    /// request in flight there; every call must be followed by one [`Router::finish`] for the
    /// node returned. The round-robin node if it is usable, else the next usable one; when
    /// none is, the round-robin node (asking is the only way to learn that one is back).
    pub fn start(&self, request: u64, now_ms: u64) -> usize {
        let Ok(mut nodes) = self.nodes.lock() else {
            return 0;
        };
        let n = nodes.len();
        let first = (request % n as u64) as usize;
        let usable = |standing: &Standing| {
            standing.avoid_until_ms <= now_ms && standing.in_flight < self.in_flight_cap
        };
        let node = (0..n).map(|step| (first + step) % n).find(|&node| usable(&nodes[node]));
        let node = match node {
            Some(node) if node != first => {
                self.rerouted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                node
            }
            Some(node) => node,
            None => first,
        };
        nodes[node].in_flight += 1;
        node
    }

    /// The request [`Router::start`] sent to `node` ended at `now_ms` with `outcome`.
    pub fn finish(&self, node: usize, now_ms: u64, outcome: Outcome) {
        let Ok(mut nodes) = self.nodes.lock() else { return };
        let Some(standing) = nodes.get_mut(node) else { return };
        standing.in_flight = standing.in_flight.saturating_sub(1);
        if outcome == Outcome::Unreachable {
            standing.avoid_until_ms =
                standing.avoid_until_ms.max(now_ms.saturating_add(self.backoff_ms));
        }
    }

    /// Requests sent so far to another node than their round-robin one.
    pub fn rerouted(&self) -> u64 {
        self.rerouted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_while_every_node_answers() {
        let router = Router::new(4, 4, BACKOFF);
        let picks: Vec<usize> = (0..8)
            .map(|request| {
                let node = router.start(request, 1_000);
                router.finish(node, 1_001, Outcome::Answered);
                node
            })
            .collect();
        assert_eq!(picks, [0, 1, 2, 3, 0, 1, 2, 3]);
        assert_eq!(router.rerouted(), 0);
    }

    #[test]
    fn a_failed_node_is_passed_over_until_its_backoff_ends_then_asked_again() {
        let router = Router::new(4, 4, Duration::from_millis(3_000));
        let node = router.start(1, 7_000);
        router.finish(node, 10_000, Outcome::Unreachable);
        let during: Vec<usize> = (0..4)
            .map(|request| {
                let node = router.start(request, 12_999);
                router.finish(node, 12_999, Outcome::Answered);
                node
            })
            .collect();
        assert_eq!(during, [0, 2, 2, 3], "node 1's request goes to the next node");
        assert_eq!(router.rerouted(), 1);
        assert_eq!(router.start(1, 13_000), 1, "asked again once the back-off has passed");
    }

    #[test]
    fn a_node_holding_its_share_of_the_workers_gets_no_more_requests() {
        // 8 workers over 4 nodes: a node may hold 2 requests. Node 1 stops answering (paused):
        // the requests it holds stay in flight, and the later ones go on to node 2.
        let router = Router::new(4, 8, BACKOFF);
        assert_eq!(router.start(1, 0), 1);
        assert_eq!(router.start(5, 10), 1);
        assert_eq!(router.start(9, 20), 2, "node 1 holds its share");
        assert_eq!(router.rerouted(), 1);
        router.finish(1, 30, Outcome::Answered);
        assert_eq!(router.start(13, 40), 1, "a slot freed: node 1 is asked again");
    }

    #[test]
    fn with_every_node_unusable_the_round_robin_node_is_asked() {
        let router = Router::new(3, 3, Duration::from_millis(500));
        for node in 0..3 {
            let started = router.start(node as u64, 0);
            router.finish(started, 0, Outcome::Unreachable);
        }
        let picks: Vec<usize> = (0..3).map(|request| router.start(request, 100)).collect();
        assert_eq!(picks, [0, 1, 2]);
        assert_eq!(router.rerouted(), 0);
    }

    #[test]
    fn a_later_failure_extends_the_backoff_and_an_earlier_one_does_not_shorten_it() {
        let router = Router::new(2, 2, Duration::from_millis(1_000));
        for at in [5_000, 4_000] {
            let node = router.start(0, at);
            router.finish(node, at, Outcome::Unreachable);
        }
        let node = router.start(0, 5_999);
        router.finish(node, 5_999, Outcome::Answered);
        assert_eq!(node, 1);
        assert_eq!(router.start(0, 6_000), 0);
    }
}
