//! Writes a complete synthetic run report and sweep report, with every chart kind, so that the
//! output format and the charts can be looked at without a simulator.
//!
//! `cargo run -p vein-reports --example render_demo -- /tmp/vein-demo`
//! then open `/tmp/vein-demo/run/index.html` and `/tmp/vein-demo/sweep/summary.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vein_reports::charts;
use vein_reports::demo;
use vein_reports::metrics::SweepReport;
use vein_reports::plots::{Chart, ChartLabels};
use vein_reports::summary::{self, NamedChart};

fn write_all(directory: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let charts: Vec<NamedChart> = demo::demo_charts(7)?
        .into_iter()
        .map(|(stem, chart)| NamedChart::new(&stem, chart))
        .collect();
    let run = demo::demo_run(7)?;
    let files = summary::write_run_report(&directory.join("run"), &run, &charts)?;
    println!("{}", files.index_html.display());
    for rendered in &files.plots {
        println!("{}", rendered.png.display());
    }
    let runs = [1, 2, 3, 4].map(demo::demo_run).into_iter().collect::<Result<Vec<_>, _>>()?;
    let sweep = SweepReport::from_runs(&runs)?;
    // A chart built straight from the pooled measurements: x = q, one series per z.
    let pooled = sweep
        .measurements
        .iter()
        .filter(|pooled| pooled.measurement.name == "double_spend_success")
        .map(|pooled| &pooled.measurement);
    let from_metrics = charts::interval_chart(
        ChartLabels::new("Pooled double-spend success", "attacker share q", "success probability"),
        pooled,
        "q",
        Some("z"),
    );
    let sweep_charts = [NamedChart::new("pooled_double_spend", Chart::Intervals(from_metrics))];
    let files = summary::write_sweep_report(&directory.join("sweep"), &sweep, &sweep_charts)?;
    println!("{}", files.summary_markdown.display());
    Ok(())
}

fn main() -> ExitCode {
    let directory = std::env::args_os()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("vein-reports-demo"), PathBuf::from);
    match write_all(&directory) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("render_demo: {error}");
            ExitCode::FAILURE
        }
    }
}
