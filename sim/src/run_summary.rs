//! The text summary `vein-sim run` prints after a run: one line per measurement, and a line per
//! subsystem only when the run exercised it. It lives beside [`RunReport`] so that every
//! front end (the command line, the seeds runner) prints the same lines.

use crate::run_report::RunReport;
use std::fmt;

/// A [`RunReport`] with the wall time it took, displayed as the run's summary lines.
pub struct RunSummary<'a> {
    /// The run.
    pub report: &'a RunReport,
    /// Wall-clock seconds the run took (only for the speed line).
    pub wall_s: f64,
}

impl fmt::Display for RunSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report;
        let wall = self.wall_s;
        writeln!(f, "seed:               {}", report.config.seed)?;
        writeln!(f, "trace hash:         {}", report.trace_hash)?;
        writeln!(
            f,
            "simulated:          {:.0} s in {wall:.1} s wall ({:.1}x)",
            report.simulated_ms as f64 / 1e3,
            report.simulated_ms as f64 / 1e3 / wall.max(1e-9)
        )?;
        writeln!(f, "messages delivered: {}", report.messages_delivered)?;
        writeln!(
            f,
            "final checkpoints:  {} (final heights at the end {}..={})",
            report.checkpoints_final, report.final_height_range.0, report.final_height_range.1
        )?;
        writeln!(
            f,
            "transfers:          {} submitted, {} refused, {} final ({} applied)",
            report.transfers_submitted,
            report.transfers_refused,
            report.transactions_final,
            report.transactions_applied
        )?;
        let history = &report.history;
        writeln!(
            f,
            "client history:     {} transfers seen final, {} (transfer, node) checks passed, {} \
             not checkable yet; {} acknowledged never seen final",
            history.seen_final,
            history.verified,
            history.unverifiable,
            history.acknowledged_not_final
        )?;
        if report.config.token_share > 0.0 {
            writeln!(
                f,
                "token txs:          {} submitted, {} tokens at the end",
                report.token_txs_submitted, report.tokens_at_end
            )?;
        }
        if report.config.consortium_share > 0.0 {
            let end = &report.consortium;
            writeln!(
                f,
                "consortium txs:     {} submitted, {} skipped; {} consortia, {} writes final",
                end.submitted, end.skipped, end.end.consortia, end.end.final_writes
            )?;
            writeln!(
                f,
                "replicas:           {} members ({} removed): {} actions applied, {} refused, \
                 {} restores; {} root and {} as-of checks; {} envelopes scanned for the canary",
                end.end.member_replicas,
                end.end.removed_members,
                end.end.applied,
                end.end.refused,
                end.end.restores,
                end.root_checks,
                end.end.as_of_checks,
                end.envelopes_scanned
            )?;
        }
        if report.config.evm_share > 0.0 {
            let evm = &report.evm;
            writeln!(
                f,
                "evm txs:            {} submitted ({} gap fills), {} refused; carriers final: \
                 {} applied, {} ignored",
                evm.submitted,
                evm.gap_fills,
                evm.refused,
                evm.carriers_applied,
                evm.carriers_ignored
            )?;
            writeln!(
                f,
                "evm receipts:       {} at final heights ({} reverted or halted)",
                evm.receipts, evm.failed_receipts
            )?;
            writeln!(
                f,
                "evm reorgs:         {} checkpoint disconnections with EVM effects ({} carriers), \
                 {} carriers re-executed",
                evm.disconnected_checkpoints, evm.disconnected_carriers, evm.reexecuted_carriers
            )?;
        }
        if report.config.fl_share > 0.0 {
            let fl = &report.fl;
            writeln!(
                f,
                "fl task:            {} participants, {} rounds settled ({} when the faults \
                 ended); signed {} posts, {} joins, {} updates, {} aggregates, {} settles; \
                 {} root checks",
                fl.participants,
                fl.rounds_settled,
                fl.rounds_at_faults_end,
                fl.posts,
                fl.joins,
                fl.updates,
                fl.aggregates,
                fl.settles,
                fl.root_checks
            )?;
        }
        if report.config.side_chains > 0 {
            let peg = &report.peg;
            writeln!(
                f,
                "side chains, peg:   {} anchors ({} final on main), {} pins; signed {} locks, {} \
                 mints, {} burns, {} releases, {} replays; {} minted, {} released; {} \
                 conservation checks",
                peg.anchors_submitted,
                peg.anchors_final,
                peg.pins,
                peg.locks_submitted,
                peg.mints_submitted,
                peg.burns_submitted,
                peg.releases_submitted,
                peg.replays_submitted,
                peg.minted,
                peg.released,
                peg.conservation_checks
            )?;
        }
        writeln!(f, "faults applied:     {}", report.faults_applied)?;
        if report.config.faults.corrupt {
            let (applied, detected) = report.corruptions;
            writeln!(
                f,
                "logs corrupted:     {applied} ({detected} detected at restart, restored)"
            )?;
        }
        writeln!(f, "violations:         {}", report.violations.len())?;
        Ok(())
    }
}
