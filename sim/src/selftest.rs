//! Checker self-tests: deliberate bugs a run can inject (`--checker-self-test BUG`, off by
//! default) so that a checker must fire. They exist to test the checkers (a checker that cannot
//! fail is a defect) and `vein-sim shrink` (which needs a run that fails); a real run never sets
//! one, and every replay line of a run that does says so.
//!
//! The bug sits between a node's driver and the checker: the node misreports what it finalised,
//! as a node with a corrupt ledger or a forked chain would. Its chain, ledger and messages are
//! untouched, so the rest of the network behaves exactly as without the bug, and the violation
//! appears as soon as the buggy node and any other node have reported the same final height (so
//! it needs at least two nodes and one finalisation). `ledger-root` and `conflicting-final` make
//! node 0 buggy from the start; `restart-ledger-root` makes every node buggy once it has been
//! killed and restarted (a recovery bug), so it fails only with a `kill` fault, which is what a
//! shrinker must then keep.
//!
//! Two bugs need the consortium workload (`--consortium-share`): `replica-skip` withholds the
//! first consortium write node 0 sees (in each of its starts) from its replica, whose root then
//! differs from the other members' (`replica-root`); `unsealed-actions` makes the workload put
//! each action's plaintext on chain in place of its ciphertext, which the canary scan of the
//! wire and the disks must find (`consortium-plaintext`).
//!
//! Two bugs act on the client-history check ([`crate::client_history`]): at the end of the run
//! node 0's ledger view loses the first transfer the client saw final (`history-drop-final`:
//! a lost acknowledged write) or holds it twice (`history-double-apply`: a write applied twice);
//! `client-history` must fire. They need transfers that become final.

use vein_node::core::events::Event;
use vein_node::core::hash::Hash;

/// The node that carries the injected bug.
pub const BUGGY_NODE: usize = 0;

/// The names `--checker-self-test` accepts, for the help text and the parse error.
pub const SELF_TEST_NAMES: &str = "ledger-root, conflicting-final, restart-ledger-root, \
     replica-skip, unsealed-actions, history-drop-final, history-double-apply";

/// `--checker-self-test` named no known bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown checker self-test {name:?} (expected one of {SELF_TEST_NAMES})")]
pub struct UnknownSelfTest {
    /// The name as given, trimmed.
    pub name: String,
}

/// A deliberate bug for a checker self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfTestBug {
    /// Node 0 reports every final checkpoint with a corrupted ledger root: the `ledger-root`
    /// checker must fire.
    LedgerRoot,
    /// Node 0 reports another checkpoint id final at every height: the `conflicting-finality`
    /// checker must fire.
    ConflictingFinal,
    /// Every node that has been restarted reports its final checkpoints with a corrupted ledger
    /// root: `ledger-root` must fire, and only in runs with a kill.
    RestartLedgerRoot,
    /// Node 0's replicas never see the first consortium write of each of its starts:
    /// `replica-root` must fire.
    ReplicaSkip,
    /// The consortium workload submits plaintext as the ciphertext: `consortium-plaintext`
    /// must fire.
    UnsealedActions,
    /// Node 0's ledger view, read for the client-history check, lacks the first transfer the
    /// client saw final: `client-history` must fire.
    HistoryDropFinal,
    /// Node 0's ledger view holds that transfer twice: `client-history` must fire.
    HistoryDoubleApply,
}

/// The bugs of the client-history check (they act on a ledger view at the end).
pub const HISTORY_SELF_TEST_BUGS: [SelfTestBug; 2] =
    [SelfTestBug::HistoryDropFinal, SelfTestBug::HistoryDoubleApply];

/// The bugs of the consortium workload (they act outside the checker's events).
pub const CONSORTIUM_SELF_TEST_BUGS: [SelfTestBug; 2] =
    [SelfTestBug::ReplicaSkip, SelfTestBug::UnsealedActions];

/// Every self-test bug that misreports a node's events.
pub const SELF_TEST_BUGS: [SelfTestBug; 3] =
    [SelfTestBug::LedgerRoot, SelfTestBug::ConflictingFinal, SelfTestBug::RestartLedgerRoot];

impl SelfTestBug {
    /// The bug named as on the command line (one of [`SELF_TEST_NAMES`]).
    pub fn parse(name: &str) -> Result<SelfTestBug, UnknownSelfTest> {
        match name.trim() {
            "ledger-root" => Ok(SelfTestBug::LedgerRoot),
            "conflicting-final" => Ok(SelfTestBug::ConflictingFinal),
            "restart-ledger-root" => Ok(SelfTestBug::RestartLedgerRoot),
            "replica-skip" => Ok(SelfTestBug::ReplicaSkip),
            "unsealed-actions" => Ok(SelfTestBug::UnsealedActions),
            "history-drop-final" => Ok(SelfTestBug::HistoryDropFinal),
            "history-double-apply" => Ok(SelfTestBug::HistoryDoubleApply),
            other => Err(UnknownSelfTest { name: other.to_string() }),
        }
    }

    /// The `--checker-self-test` argument.
    pub fn name(&self) -> &'static str {
        match self {
            SelfTestBug::LedgerRoot => "ledger-root",
            SelfTestBug::ConflictingFinal => "conflicting-final",
            SelfTestBug::RestartLedgerRoot => "restart-ledger-root",
            SelfTestBug::ReplicaSkip => "replica-skip",
            SelfTestBug::UnsealedActions => "unsealed-actions",
            SelfTestBug::HistoryDropFinal => "history-drop-final",
            SelfTestBug::HistoryDoubleApply => "history-double-apply",
        }
    }

    /// The invariant that must catch this bug.
    pub fn invariant(&self) -> &'static str {
        match self {
            SelfTestBug::LedgerRoot | SelfTestBug::RestartLedgerRoot => "ledger-root",
            SelfTestBug::ConflictingFinal => "conflicting-finality",
            SelfTestBug::ReplicaSkip => "replica-root",
            SelfTestBug::UnsealedActions => "consortium-plaintext",
            SelfTestBug::HistoryDropFinal | SelfTestBug::HistoryDoubleApply => "client-history",
        }
    }

    /// Consortium writes node `node`'s replicas do not see in each start.
    pub fn replica_writes_skipped(&self, node: usize) -> u64 {
        u64::from(*self == SelfTestBug::ReplicaSkip && node == BUGGY_NODE)
    }

    /// What `node` (`restarted` if its driver is a restart) reports instead of `event`, if the
    /// bug changes it.
    pub fn corrupt(&self, node: usize, restarted: bool, event: &Event) -> Option<Event> {
        let buggy = match self {
            SelfTestBug::LedgerRoot | SelfTestBug::ConflictingFinal => node == BUGGY_NODE,
            SelfTestBug::RestartLedgerRoot => restarted,
            SelfTestBug::ReplicaSkip
            | SelfTestBug::UnsealedActions
            | SelfTestBug::HistoryDropFinal
            | SelfTestBug::HistoryDoubleApply => false,
        };
        if !buggy {
            return None;
        }
        let Event::CheckpointFinal { id, height, ledger_root, supply } = event else {
            return None;
        };
        let (id, ledger_root) = match self {
            SelfTestBug::LedgerRoot | SelfTestBug::RestartLedgerRoot => (*id, garble(ledger_root)),
            SelfTestBug::ConflictingFinal => (garble(id), *ledger_root),
            SelfTestBug::ReplicaSkip
            | SelfTestBug::UnsealedActions
            | SelfTestBug::HistoryDropFinal
            | SelfTestBug::HistoryDoubleApply => return None,
        };
        Some(Event::CheckpointFinal { id, height: *height, ledger_root, supply: *supply })
    }
}

/// A different, deterministic hash.
fn garble(hash: &Hash) -> Hash {
    Hash::of_parts(&[b"vein-sim/checker-self-test", &hash.0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Checker;

    fn final_event(id: u8, root: u8) -> Event {
        Event::CheckpointFinal {
            id: Hash([id; 32]),
            height: 4,
            ledger_root: Hash([root; 32]),
            supply: 1,
        }
    }

    #[test]
    fn names_round_trip() {
        let all = SELF_TEST_BUGS.into_iter().chain(CONSORTIUM_SELF_TEST_BUGS);
        for bug in all.chain(HISTORY_SELF_TEST_BUGS) {
            assert_eq!(SelfTestBug::parse(bug.name()), Ok(bug));
            assert!(SELF_TEST_NAMES.contains(bug.name()));
        }
        assert!(SelfTestBug::parse("meteor").is_err());
    }

    /// Feeding the corrupted reports of node 0 (restarted) and honest reports of node 1 (not
    /// restarted) to a real checker fires exactly the invariant each bug names; other nodes and
    /// events pass unchanged.
    #[test]
    fn each_bug_fires_its_checker() {
        for bug in SELF_TEST_BUGS {
            let honest = final_event(1, 2);
            assert_eq!(bug.corrupt(1, false, &honest), None);
            let reverted = Event::FinalReverted { height: 1, id: Hash([1; 32]) };
            assert_eq!(bug.corrupt(0, true, &reverted), None);
            let mut checker = Checker::new(2);
            checker.on_event(1, 10, &honest);
            let reported = bug.corrupt(0, true, &honest).unwrap_or(honest);
            checker.on_event(0, 11, &reported);
            let names: Vec<_> = checker.violations().iter().map(|v| v.invariant).collect();
            assert_eq!(names, [bug.invariant()], "{bug:?}");
        }
        // The recovery bug needs a restart; the others need node 0.
        assert_eq!(SelfTestBug::RestartLedgerRoot.corrupt(0, false, &final_event(1, 2)), None);
        assert!(SelfTestBug::RestartLedgerRoot.corrupt(5, true, &final_event(1, 2)).is_some());
        assert_eq!(SelfTestBug::LedgerRoot.corrupt(5, true, &final_event(1, 2)), None);
        // The consortium bugs leave events alone; one withholds a write from node 0 only.
        for bug in CONSORTIUM_SELF_TEST_BUGS {
            assert_eq!(bug.corrupt(0, true, &final_event(1, 2)), None);
        }
        assert_eq!(SelfTestBug::ReplicaSkip.replica_writes_skipped(0), 1);
        assert_eq!(SelfTestBug::ReplicaSkip.replica_writes_skipped(1), 0);
        assert_eq!(SelfTestBug::UnsealedActions.replica_writes_skipped(0), 0);
    }
}
