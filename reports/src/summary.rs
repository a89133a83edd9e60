//! Writes a report directory for a run or a sweep: `summary.md`, `index.html`, `metrics.json` and
//! `plots/*.png|svg`.
//!
//! Model: the run or sweep is first turned into one [`Document`] (header facts, verdict,
//! violations, measurement tables, citations, charts) and both the Markdown and the HTML are
//! rendered from that document, so the two never say different things. The Markdown is what people
//! read in a terminal or a pull request and what insta snapshots pin; the HTML is the same content,
//! self-contained apart from the chart images it links next to it.
//!
//! Determinism: the summaries contain nothing that varies between reruns of the same seed (wall
//! time appears only in `metrics.json`), numbers are printed with a fixed rule, and measurement
//! groups keep their first-appearance order. This crate is a harness, not the sans-IO core, so it
//! uses `std::fs` directly; every IO error names its path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::gate::{GateDecision, GateSummary};
use crate::metrics::{
    Measurement, MetricsError, RunMetrics, SweepReport, Verdict, gate_decisions,
    verdict as compute_verdict,
};
use crate::plots::{self, Chart, PlotError, RenderedChart};

/// Errors writing a report directory.
#[derive(Debug, Error)]
pub enum SummaryError {
    /// The report directory or its `plots/` subdirectory could not be created.
    #[error("cannot create directory {path}: {source}")]
    CreateDirectory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `summary.md`, `index.html` or `metrics.json` could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A chart could not be drawn (see [`PlotError`]).
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The metrics could not be serialised to JSON.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Paths written by [`write_run_report`] / [`write_sweep_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `<directory>/summary.md`.
    pub summary_markdown: PathBuf,
    /// `<directory>/index.html`, the same content with the charts inline.
    pub index_html: PathBuf,
    /// `<directory>/metrics.json`, the data in the versioned schema.
    pub metrics_json: PathBuf,
    /// The PNG and SVG of each chart under `<directory>/plots/`, in the order given.
    pub plots: Vec<RenderedChart>,
}

/// A chart to render into `plots/<stem>.png|svg`, with the caption used in the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedChart {
    /// File name without extension; unique within a report, or a later chart overwrites the
    /// files of an earlier one.
    pub stem: String,
    /// What to draw; its title is the caption.
    pub chart: Chart,
}

impl NamedChart {
    /// A chart to be written as `plots/<stem>.png` and `.svg`.
    pub fn new(stem: &str, chart: Chart) -> Self {
        Self { stem: stem.into(), chart }
    }
}

/// One rendered table: header cells and rows of cells (plain text, escaped per output format).
#[derive(Debug, Clone, PartialEq)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// A measurement group: one table plus the references it cites.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    heading: String,
    table: Table,
    citations: Vec<String>,
}

/// Everything a summary says, independent of the output format.
#[derive(Debug, Clone, PartialEq)]
struct Document {
    title: String,
    facts: Vec<(String, String)>,
    verdict: Verdict,
    violations: Option<Table>,
    sections: Vec<Section>,
    /// `(stem, title)` of each chart, in order.
    charts: Vec<(String, String)>,
}

/// Number formatting shared by every table: four significant digits, scientific notation below
/// 1e-3 or from 1e6, so that tiny attack probabilities stay readable.
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if !(1e-3..1e6).contains(&magnitude) {
        return format!("{value:.3e}");
    }
    let digits_before = magnitude.log10().floor() as i32;
    let decimals = (3 - digits_before).clamp(0, 6) as usize;
    format!("{value:.decimals$}")
}

fn format_parameters(measurement: &Measurement) -> String {
    if measurement.parameters.is_empty() {
        return "—".into();
    }
    measurement
        .parameters
        .iter()
        .map(|(name, value)| format!("{name} = {value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_sentence(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => {
            "PASS: no invariant violated; the family-wise gate (Holm, 5%) rejects no reference."
        }
        Verdict::ReferenceMismatch => {
            "REFERENCE MISMATCH: no invariant violated, but the family-wise gate (Holm, 5%) \
             rejects at least one reference (column \"gate\")."
        }
        Verdict::Violation => "FAIL: at least one invariant was violated.",
    }
}

/// A measurement, in a sweep the number of runs pooled into it, and the gate's decision.
type Member<'a> = (&'a Measurement, Option<usize>, Option<GateDecision>);

/// Groups measurements by a key in first-appearance order.
fn group_in_order<'a, K: PartialEq + Clone>(
    items: impl IntoIterator<Item = (K, Member<'a>)>,
) -> Vec<(K, Vec<Member<'a>>)> {
    let mut groups: Vec<(K, Vec<Member<'a>>)> = Vec::new();
    for (key, member) in items {
        match groups.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, members)) => members.push(member),
            None => groups.push((key, vec![member])),
        }
    }
    groups
}

fn measurement_section(heading: String, members: &[Member<'_>]) -> Section {
    let with_runs = members.iter().any(|(_, runs, _)| runs.is_some());
    let mut header = vec!["parameters".to_string()];
    if with_runs {
        header.push("runs".into());
    }
    header
        .extend(["n", "estimate", "95% CI", "reference", "formula", "inside CI"].map(String::from));
    header.extend(["p", "Holm threshold", "gate"].map(String::from));
    let with_others = members.iter().any(|(m, _, _)| !m.other_references.is_empty());
    if with_others {
        header.push("also shown (not judged)".into());
    }
    let mut citations: Vec<String> = Vec::new();
    let rows = members
        .iter()
        .map(|(measurement, runs, decision)| {
            let mut row = vec![format_parameters(measurement)];
            if let Some(runs) = runs {
                row.push(runs.to_string());
            }
            row.push(measurement.sample_size().to_string());
            row.push(format_number(measurement.estimate));
            row.push(format!(
                "[{}, {}]",
                format_number(measurement.ci_low),
                format_number(measurement.ci_high)
            ));
            match &measurement.reference {
                Some(reference) => {
                    row.push(format_number(reference.value));
                    row.push(reference.formula_name.clone());
                    let citation = format!("{}: {}", reference.formula_name, reference.citation);
                    if !citations.contains(&citation) {
                        citations.push(citation);
                    }
                }
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
            row.push(
                match measurement.reference_inside_ci {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "—",
                }
                .into(),
            );
            match decision {
                Some(decision) => row.extend([
                    format_number(decision.p_value),
                    format_number(decision.holm_threshold),
                    if decision.rejected { "**rejected**" } else { "pass" }.into(),
                ]),
                None => row.extend(["—", "—", "—"].map(String::from)),
            }
            if with_others {
                let others: Vec<String> = measurement
                    .other_references
                    .iter()
                    .map(|other| {
                        let citation = format!("{}: {}", other.formula_name, other.citation);
                        if !citations.contains(&citation) {
                            citations.push(citation);
                        }
                        format!("{} ({})", format_number(other.value), other.formula_name)
                    })
                    .collect();
                row.push(if others.is_empty() { "—".into() } else { others.join("; ") });
            }
            row
        })
        .collect();
    Section { heading, table: Table { header, rows }, citations }
}

fn gate_fact(gate: &GateSummary) -> String {
    format!(
        "Holm at {} over {} comparisons: {} rejected ({} outside their raw 95% CI)",
        gate.alpha, gate.comparisons, gate.rejected, gate.outside_raw_interval
    )
}

fn chart_list(charts: &[NamedChart]) -> Vec<(String, String)> {
    charts.iter().map(|named| (named.stem.clone(), named.chart.labels().title.clone())).collect()
}

fn run_document(run: &RunMetrics, charts: &[NamedChart]) -> Document {
    let mut facts = vec![
        ("scenario".into(), run.scenario.clone()),
        ("seed".into(), run.seed.to_string()),
        ("trace hash".into(), format!("`{}`", run.trace_hash)),
        ("schema version".into(), run.schema_version.to_string()),
        ("nodes".into(), run.nodes.to_string()),
        ("simulated time (s)".into(), format_number(run.simulated_seconds)),
        ("messages delivered".into(), run.messages_delivered.to_string()),
        ("checkpoints".into(), run.checkpoints.to_string()),
        ("transactions final".into(), run.transactions_final.to_string()),
    ];
    let violations = (!run.violations.is_empty()).then(|| Table {
        header: ["invariant", "at (s)", "node", "detail"].map(String::from).to_vec(),
        rows: run
            .violations
            .iter()
            .map(|violation| {
                vec![
                    violation.invariant.clone(),
                    format_number(violation.at_simulated_seconds),
                    violation.node.map_or_else(|| "—".into(), |node| node.to_string()),
                    violation.detail.clone(),
                ]
            })
            .collect(),
    });
    let measurements: Vec<&Measurement> = run.measurements.iter().collect();
    let (decisions, gate) = gate_decisions(&measurements);
    facts.push(("family-wise gate".into(), gate_fact(&gate)));
    let groups = group_in_order(
        run.measurements.iter().zip(decisions).map(|(m, d)| (m.name.clone(), (m, None, d))),
    );
    Document {
        title: format!("vein run report: {} (seed {})", run.scenario, run.seed),
        facts,
        verdict: compute_verdict(run.violations.len(), &run.measurements),
        violations,
        sections: groups
            .into_iter()
            .map(|(name, members)| measurement_section(name, &members))
            .collect(),
        charts: chart_list(charts),
    }
}

fn sweep_document(sweep: &SweepReport, charts: &[NamedChart]) -> Document {
    let scenarios = sweep
        .scenarios
        .iter()
        .map(|(scenario, runs)| format!("{scenario} ({runs})"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut facts = vec![
        ("runs".into(), sweep.runs.to_string()),
        ("scenarios (runs)".into(), scenarios),
        ("schema version".into(), sweep.schema_version.to_string()),
        ("simulated time, all runs (s)".into(), format_number(sweep.simulated_seconds)),
        ("family-wise gate".into(), gate_fact(&sweep.gate)),
    ];
    if let Some(bias) = &sweep.injected_bias {
        facts.push(("TEST-ONLY injected bias".into(), bias.clone()));
    }
    let violations = (!sweep.violations.is_empty()).then(|| Table {
        header: ["scenario", "seed", "invariant", "at (s)", "node", "detail"]
            .map(String::from)
            .to_vec(),
        rows: sweep
            .violations
            .iter()
            .map(|found| {
                vec![
                    found.scenario.clone(),
                    found.seed.to_string(),
                    found.violation.invariant.clone(),
                    format_number(found.violation.at_simulated_seconds),
                    found.violation.node.map_or_else(|| "—".into(), |node| node.to_string()),
                    found.violation.detail.clone(),
                ]
            })
            .collect(),
    });
    let groups = group_in_order(sweep.measurements.iter().map(|pooled| {
        (
            format!("{} / {}", pooled.scenario, pooled.measurement.name),
            (&pooled.measurement, Some(pooled.seeds.len()), pooled.gate),
        )
    }));
    Document {
        title: "vein sweep report".into(),
        facts,
        verdict: sweep.verdict,
        violations,
        sections: groups
            .into_iter()
            .map(|(name, members)| measurement_section(name, &members))
            .collect(),
        charts: chart_list(charts),
    }
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown_table(out: &mut String, table: &Table) {
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|cell| markdown_cell(cell)).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    out.push_str(&line(&table.header));
    out.push_str(&format!("|{}\n", "---|".repeat(table.header.len())));
    for row in &table.rows {
        out.push_str(&line(row));
    }
}

fn render_markdown(document: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", document.title);
    markdown_table(
        &mut out,
        &Table {
            header: vec!["field".into(), "value".into()],
            rows: document.facts.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect(),
        },
    );
    let _ = writeln!(out, "\n**Verdict:** {}\n", verdict_sentence(document.verdict));
    out.push_str("## Violations\n\n");
    match &document.violations {
        Some(table) => markdown_table(&mut out, table),
        None => out.push_str("None.\n"),
    }
    out.push_str("\n## Measurements\n");
    if document.sections.is_empty() {
        out.push_str("\nNone.\n");
    }
    for section in &document.sections {
        let _ = writeln!(out, "\n### {}\n", section.heading);
        markdown_table(&mut out, &section.table);
        if !section.citations.is_empty() {
            out.push('\n');
            for citation in &section.citations {
                let _ = writeln!(out, "- {citation}");
            }
        }
    }
    if !document.charts.is_empty() {
        out.push_str("\n## Charts\n\n");
        for (stem, title) in &document.charts {
            let _ =
                writeln!(out, "- {title}: ![{title}](plots/{stem}.png) ([SVG](plots/{stem}.svg))");
        }
    }
    out
}

fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Cell text to HTML: escape, then turn the two Markdown marks used in cells into tags.
fn html_cell(text: &str) -> String {
    let escaped = html_escape(text);
    if let Some(inner) = escaped.strip_prefix("**").and_then(|rest| rest.strip_suffix("**")) {
        return format!("<strong>{inner}</strong>");
    }
    if let Some(inner) = escaped.strip_prefix('`').and_then(|rest| rest.strip_suffix('`')) {
        return format!("<code>{inner}</code>");
    }
    escaped
}

fn html_table(out: &mut String, table: &Table) {
    out.push_str("<table>\n<tr>");
    for cell in &table.header {
        let _ = write!(out, "<th>{}</th>", html_escape(cell));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", html_cell(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

const STYLE: &str = "body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;\
color:#222}table{border-collapse:collapse;margin:0.5rem 0}th,td{border:1px solid #ccc;\
padding:0.25rem 0.6rem;text-align:left}th{background:#f3f3f3}.pass{color:#0a6e31}\
.reference_mismatch{color:#a66300}.violation{color:#b00020}img{max-width:100%;\
border:1px solid #eee}figure{margin:1.5rem 0}";

fn render_html(document: &Document) -> String {
    let mut out = String::new();
    let title = html_escape(&document.title);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>"
    );
    html_table(
        &mut out,
        &Table {
            header: vec!["field".into(), "value".into()],
            rows: document.facts.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect(),
        },
    );
    let class = match document.verdict {
        Verdict::Pass => "pass",
        Verdict::ReferenceMismatch => "reference_mismatch",
        Verdict::Violation => "violation",
    };
    let _ = writeln!(
        out,
        "<p class=\"{class}\"><strong>Verdict:</strong> {}</p>\n<h2>Violations</h2>",
        html_escape(verdict_sentence(document.verdict))
    );
    match &document.violations {
        Some(table) => html_table(&mut out, table),
        None => out.push_str("<p>None.</p>\n"),
    }
    out.push_str("<h2>Measurements</h2>\n");
    if document.sections.is_empty() {
        out.push_str("<p>None.</p>\n");
    }
    for section in &document.sections {
        let _ = writeln!(out, "<h3>{}</h3>", html_escape(&section.heading));
        html_table(&mut out, &section.table);
        if !section.citations.is_empty() {
            out.push_str("<ul>\n");
            for citation in &section.citations {
                let _ = writeln!(out, "<li>{}</li>", html_escape(citation));
            }
            out.push_str("</ul>\n");
        }
    }
    if !document.charts.is_empty() {
        out.push_str("<h2>Charts</h2>\n");
        for (stem, title) in &document.charts {
            let (stem, title) = (html_escape(stem), html_escape(title));
            let _ = writeln!(
                out,
                "<figure><img src=\"plots/{stem}.png\" alt=\"{title}\"><figcaption>{title} \
                 (<a href=\"plots/{stem}.svg\">SVG</a>)</figcaption></figure>"
            );
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// `summary.md` text of a run (charts listed, not rendered).
pub fn run_summary_markdown(run: &RunMetrics, charts: &[NamedChart]) -> String {
    render_markdown(&run_document(run, charts))
}

/// `index.html` text of a run.
pub fn run_summary_html(run: &RunMetrics, charts: &[NamedChart]) -> String {
    render_html(&run_document(run, charts))
}

/// `summary.md` text of a sweep.
pub fn sweep_summary_markdown(sweep: &SweepReport, charts: &[NamedChart]) -> String {
    render_markdown(&sweep_document(sweep, charts))
}

/// `index.html` text of a sweep.
pub fn sweep_summary_html(sweep: &SweepReport, charts: &[NamedChart]) -> String {
    render_html(&sweep_document(sweep, charts))
}

fn create_directory(path: &Path) -> Result<(), SummaryError> {
    std::fs::create_dir_all(path)
        .map_err(|source| SummaryError::CreateDirectory { path: path.to_path_buf(), source })
}

fn write_file(path: PathBuf, contents: &str) -> Result<PathBuf, SummaryError> {
    match std::fs::write(&path, contents) {
        Ok(()) => Ok(path),
        Err(source) => Err(SummaryError::Write { path, source }),
    }
}

fn write_directory(
    directory: &Path,
    json: &str,
    document: &Document,
    charts: &[NamedChart],
) -> Result<ReportFiles, SummaryError> {
    create_directory(directory)?;
    let plots_directory = directory.join("plots");
    let mut plots = Vec::with_capacity(charts.len());
    if !charts.is_empty() {
        create_directory(&plots_directory)?;
        for named in charts {
            plots.push(plots::render(&named.chart, &plots_directory, &named.stem)?);
        }
    }
    let mut json = json.to_string();
    json.push('\n');
    Ok(ReportFiles {
        metrics_json: write_file(directory.join("metrics.json"), &json)?,
        summary_markdown: write_file(directory.join("summary.md"), &render_markdown(document))?,
        index_html: write_file(directory.join("index.html"), &render_html(document))?,
        plots,
    })
}

/// Writes a run's report directory (created if missing; existing files are overwritten).
pub fn write_run_report(
    directory: &Path,
    run: &RunMetrics,
    charts: &[NamedChart],
) -> Result<ReportFiles, SummaryError> {
    write_directory(directory, &run.to_json()?, &run_document(run, charts), charts)
}

/// Writes a sweep's report directory (created if missing; existing files are overwritten).
pub fn write_sweep_report(
    directory: &Path,
    sweep: &SweepReport,
    charts: &[NamedChart],
) -> Result<ReportFiles, SummaryError> {
    write_directory(directory, &sweep.to_json()?, &sweep_document(sweep, charts), charts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::metrics::SweepReport;

    fn demo_charts() -> Vec<NamedChart> {
        vec![NamedChart::new("reorg_depth", demo::reorg_chart())]
    }

    #[test]
    fn numbers_have_a_fixed_format() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(0.02850), "0.02850");
        assert_eq!(format_number(10.0), "10.00");
        assert_eq!(format_number(3600.0), "3600");
        assert_eq!(format_number(0.000_912_2), "9.122e-4");
        assert_eq!(format_number(2.5e7), "2.500e7");
    }

    #[test]
    fn run_summary_markdown_snapshot() {
        let run = demo::demo_run(7).expect("demo run");
        insta::assert_snapshot!("run_summary", run_summary_markdown(&run, &demo_charts()));
    }

    #[test]
    fn failing_run_summary_markdown_snapshot() {
        let run = demo::demo_run_with_violation(7).expect("demo run");
        insta::assert_snapshot!("failing_run_summary", run_summary_markdown(&run, &[]));
    }

    #[test]
    fn sweep_summary_markdown_snapshot() {
        let runs: Vec<_> =
            [3, 1, 2].into_iter().map(|seed| demo::demo_run(seed).expect("demo run")).collect();
        let sweep = SweepReport::from_runs(&runs).expect("merges");
        insta::assert_snapshot!("sweep_summary", sweep_summary_markdown(&sweep, &demo_charts()));
    }

    #[test]
    fn run_metrics_json_snapshot() {
        let mut run = demo::demo_run(7).expect("demo run");
        // Long sample vectors would drown the schema in the snapshot; keep the first few.
        for measurement in &mut run.measurements {
            if let crate::metrics::MeasurementData::Samples { values } = &mut measurement.data {
                values.truncate(3);
            }
        }
        run.series.values_mut().for_each(|series| series.points.truncate(3));
        insta::assert_snapshot!("run_metrics_json", run.to_json().expect("serialises"));
    }

    #[test]
    fn html_has_the_same_rows_and_escapes_text() {
        let mut run = demo::demo_run_with_violation(7).expect("demo run");
        run.violations[0].detail = "<script>alert(1)</script> & more".into();
        let html = run_summary_html(&run, &demo_charts());
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<img src=\"plots/reorg_depth.png\""));
        assert_eq!(
            html.matches("<h3>").count(),
            run_summary_markdown(&run, &[]).matches("\n### ").count()
        );
    }

    #[test]
    fn writes_a_complete_directory() {
        let root = tempfile::tempdir().expect("temp dir");
        let directory = root.path().join("run-7");
        let run = demo::demo_run(7).expect("demo run");
        let files = write_run_report(&directory, &run, &demo_charts()).expect("writes");
        let json = std::fs::read_to_string(&files.metrics_json).expect("read");
        assert_eq!(RunMetrics::from_json(&json).expect("parses"), run);
        let markdown = std::fs::read_to_string(&files.summary_markdown).expect("read");
        assert_eq!(markdown, run_summary_markdown(&run, &demo_charts()));
        assert!(files.index_html.exists());
        assert!(directory.join("plots/reorg_depth.png").exists());
        assert!(directory.join("plots/reorg_depth.svg").exists());
    }

    #[test]
    fn io_errors_name_the_path() {
        let root = tempfile::tempdir().expect("temp dir");
        let blocker = root.path().join("file");
        std::fs::write(&blocker, "not a directory").expect("write");
        let run = demo::demo_run(7).expect("demo run");
        match write_run_report(&blocker.join("report"), &run, &[]) {
            Err(SummaryError::CreateDirectory { path, .. }) => {
                assert_eq!(path, blocker.join("report"));
            }
            other => panic!("expected CreateDirectory, got {other:?}"),
        }
    }
}
