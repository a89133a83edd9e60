//! Charts for run and sweep reports, drawn with plotters into PNG and SVG.
//!
//! Model: a chart is plain data ([`Chart`]): labelled series of points with 95% intervals and the
//! analytic curves they should follow, histograms with a density overlay, empirical CDFs, time
//! series and bar charts. [`render`] draws one chart twice, once per back-end, through the same
//! generic drawing code, so the PNG (for the HTML page and quick viewing) and the SVG (for papers)
//! never disagree.
//!
//! Text on bitmaps needs a font, and a system font lookup would make the output depend on the
//! machine, so the crate bundles DejaVu Sans (`assets/`, Bitstream Vera licence) and registers it
//! once with plotters' `ab_glyph` back-end under the family name `sans-serif`, the family plotters
//! uses by default. Nothing here reads the clock or a random source, and series are drawn in the
//! order given: the same chart renders to byte-identical PNGs, which a test checks.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use thiserror::Error;

use crate::stats::{EmpiricalCdf, Histogram};

/// DejaVu Sans, bundled so that text renders the same on every machine.
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Family name the font is registered under; plotters' default for labels and legends.
const FONT_FAMILY: &str = "sans-serif";

/// Pixel size of every chart.
pub const CHART_SIZE: (u32, u32) = (1024, 640);

/// Errors drawing charts; each names the file or chart concerned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlotError {
    /// plotters refused the bundled DejaVu Sans (a corrupt asset); remembered for the process.
    #[error("cannot register the bundled font with plotters: {message}")]
    FontRegistration {
        /// What went wrong.
        message: String,
    },
    /// A back-end failed to draw or write the file (missing directory, disk full, bad range).
    #[error("cannot draw chart {chart:?} into {path}: {message}")]
    Drawing {
        /// Title of the chart.
        chart: String,
        /// The PNG or SVG file being written.
        path: PathBuf,
        /// plotters' error, as text.
        message: String,
    },
    /// Every series, curve, bin or bar of the chart is empty; nothing is written.
    #[error("chart {chart:?} has no data to draw")]
    EmptyChart {
        /// Title of the chart.
        chart: String,
    },
}

/// Registers the bundled font once per process. Registration failure is remembered and returned
/// to every caller instead of panicking inside a drawing call.
pub fn ensure_font_registered() -> Result<(), PlotError> {
    static REGISTRATION: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = REGISTRATION.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "DejaVuSans.ttf is not a valid TrueType font".to_string())
    });
    outcome.clone().map_err(|message| PlotError::FontRegistration { message })
}

/// Title and axis labels (units last, e.g. `"interval (s)"`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLabels {
    /// Drawn above the plot area; also names the chart in errors.
    pub title: String,
    /// Caption of the x axis.
    pub x_label: String,
    /// Caption of the y axis.
    pub y_label: String,
}

impl ChartLabels {
    /// Labels from borrowed text.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self { title: title.into(), x_label: x_label.into(), y_label: y_label.into() }
    }
}

/// Where the legend box goes; choose the corner the data leaves empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendCorner {
    /// Top left of the plot area (default).
    #[default]
    UpperLeft,
    /// Top right of the plot area.
    UpperRight,
    /// Bottom left of the plot area.
    LowerLeft,
    /// Bottom right of the plot area.
    LowerRight,
}

impl LegendCorner {
    fn position(self) -> SeriesLabelPosition {
        match self {
            Self::UpperLeft => SeriesLabelPosition::UpperLeft,
            Self::UpperRight => SeriesLabelPosition::UpperRight,
            Self::LowerLeft => SeriesLabelPosition::LowerLeft,
            Self::LowerRight => SeriesLabelPosition::LowerRight,
        }
    }
}

/// A simulated point with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalPoint {
    /// Parameter value the point was simulated at.
    pub x: f64,
    /// The estimate, drawn as a marker.
    pub y: f64,
    /// Lower end of the error bar (95% interval).
    pub low: f64,
    /// Upper end of the error bar.
    pub high: f64,
}

/// Simulated points of one series (e.g. "z = 2, simulated").
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalSeries {
    /// Legend entry.
    pub label: String,
    /// Points in drawing order (usually ascending x).
    pub points: Vec<IntervalPoint>,
}

/// Line style of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineStyle {
    /// A continuous line (default): measured or time series.
    #[default]
    Solid,
    /// A dashed line, e.g. to set a reference curve apart from measured ones.
    Dashed,
}

/// A polyline (analytic curve, time series). `color` indexes the palette; curves that belong to
/// an interval series should use that series' index so that points and curve share a colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend entry; an empty label leaves the curve out of the legend.
    pub label: String,
    /// `(x, y)` vertices, joined in the order given.
    pub points: Vec<(f64, f64)>,
    /// Index into the 8-colour palette, taken modulo its length.
    pub color: usize,
    /// Solid or dashed.
    pub style: LineStyle,
}

impl Curve {
    /// A curve through `points` in palette colour `color`.
    pub fn new(label: &str, points: Vec<(f64, f64)>, color: usize, style: LineStyle) -> Self {
        Self { label: label.into(), points, color, style }
    }

    /// Samples `function` at `samples` evenly spaced points of `[low, high]`, skipping points
    /// where it returns `None` (outside its domain).
    pub fn from_function(
        label: &str,
        range: Range<f64>,
        samples: usize,
        color: usize,
        style: LineStyle,
        function: impl Fn(f64) -> Option<f64>,
    ) -> Self {
        let steps = samples.max(2) - 1;
        let points = (0..=steps)
            .filter_map(|i| {
                let x = range.start + (range.end - range.start) * i as f64 / steps as f64;
                function(x).filter(|y| y.is_finite()).map(|y| (x, y))
            })
            .collect();
        Self::new(label, points, color, style)
    }
}

/// Points with 95% error bars (series `i` in palette colour `i`) and reference curves.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalChart {
    /// Title and axis captions.
    pub labels: ChartLabels,
    /// Simulated series; series `i` is drawn in palette colour `i`.
    pub series: Vec<IntervalSeries>,
    /// Reference curves, drawn under the points.
    pub curves: Vec<Curve>,
    /// Corner of the legend box.
    pub legend: LegendCorner,
    /// Linear or log y axis; a log axis leaves out values that are not positive.
    pub y_scale: YScale,
}

/// Linear or logarithmic y axis. Attack probabilities span orders of magnitude (0.2 at z = 1,
/// 1e-6 at z = 10), which only a log axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YScale {
    /// Linear axis (default).
    #[default]
    Linear,
    /// Base-10 log axis over whole decades around the positive values.
    Log,
}

/// A histogram drawn as a density, with an optional density curve on top.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramChart {
    /// Title and axis captions.
    pub labels: ChartLabels,
    /// Legend entry of the bars.
    pub histogram_label: String,
    /// The bins; each bar's height is its density (count / (total × width)).
    pub histogram: Histogram,
    /// A reference density to overlay (e.g. the exponential of the target interval); `None`
    /// draws the bars alone.
    pub density: Option<Curve>,
    /// Corner of the legend box.
    pub legend: LegendCorner,
}

/// One empirical CDF.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfSeries {
    /// Legend entry.
    pub label: String,
    /// The sample's distribution, drawn as a staircase.
    pub cdf: EmpiricalCdf,
}

/// Empirical CDFs (as steps) and optional reference CDF curves.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfChart {
    /// Title and axis captions.
    pub labels: ChartLabels,
    /// Empirical CDFs; series `i` in palette colour `i`.
    pub series: Vec<CdfSeries>,
    /// Reference CDFs, drawn under the staircases; the y axis is fixed to `0..1.05`.
    pub curves: Vec<Curve>,
    /// Corner of the legend box.
    pub legend: LegendCorner,
}

/// Lines over time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeriesChart {
    /// Title and axis captions.
    pub labels: ChartLabels,
    /// One line per quantity, x being time.
    pub curves: Vec<Curve>,
    /// Corner of the legend box.
    pub legend: LegendCorner,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub category: String,
    /// Height of the bar.
    pub value: f64,
}

/// Bars over categories (e.g. reorganisation depth → count).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title and axis captions.
    pub labels: ChartLabels,
    /// Bars left to right in the order given.
    pub bars: Vec<Bar>,
}

/// Every chart kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Estimates with error bars against reference curves.
    Intervals(IntervalChart),
    /// A density histogram with an optional reference density.
    Histogram(HistogramChart),
    /// Empirical CDFs against reference CDFs.
    Cdf(CdfChart),
    /// Lines over time.
    TimeSeries(TimeSeriesChart),
    /// Bars over categories.
    Bars(BarChart),
}

impl Chart {
    /// The chart's title.
    pub fn labels(&self) -> &ChartLabels {
        match self {
            Self::Intervals(chart) => &chart.labels,
            Self::Histogram(chart) => &chart.labels,
            Self::Cdf(chart) => &chart.labels,
            Self::TimeSeries(chart) => &chart.labels,
            Self::Bars(chart) => &chart.labels,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Self::Intervals(chart) => {
                chart.series.iter().all(|s| s.points.is_empty())
                    && chart.curves.iter().all(|c| c.points.is_empty())
            }
            Self::Histogram(chart) => chart.histogram.counts.is_empty(),
            Self::Cdf(chart) => chart.series.is_empty() && chart.curves.is_empty(),
            Self::TimeSeries(chart) => chart.curves.iter().all(|c| c.points.is_empty()),
            Self::Bars(chart) => chart.bars.is_empty(),
        }
    }
}

/// Paths of the two files written for one chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedChart {
    /// `<directory>/<stem>.png`, 1024 × 640 pixels.
    pub png: PathBuf,
    /// `<directory>/<stem>.svg`, the same drawing as vector graphics.
    pub svg: PathBuf,
}

/// Draws `chart` into `<directory>/<stem>.png` and `<directory>/<stem>.svg`. The directory must
/// exist.
pub fn render(chart: &Chart, directory: &Path, stem: &str) -> Result<RenderedChart, PlotError> {
    ensure_font_registered()?;
    let title = chart.labels().title.clone();
    if chart.is_empty() {
        return Err(PlotError::EmptyChart { chart: title });
    }
    let png = directory.join(format!("{stem}.png"));
    let svg = directory.join(format!("{stem}.svg"));
    let failed = |path: &Path| {
        let chart = title.clone();
        let path = path.to_path_buf();
        move |message: String| PlotError::Drawing { chart, path, message }
    };
    {
        let root = BitMapBackend::new(&png, CHART_SIZE).into_drawing_area();
        draw(&root, chart).map_err(failed(&png))?;
        root.present().map_err(|error| failed(&png)(error.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, CHART_SIZE).into_drawing_area();
        draw(&root, chart).map_err(failed(&svg))?;
        root.present().map_err(|error| failed(&svg)(error.to_string()))?;
    }
    Ok(RenderedChart { png, svg })
}

/// Okabe–Ito colour-blind-safe palette (black moved last: it is the axis colour).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

fn text<E: std::fmt::Display>(error: E) -> String {
    error.to_string()
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(text)?;
    match chart {
        Chart::Intervals(chart) => draw_intervals(root, chart),
        Chart::Histogram(chart) => draw_histogram(root, chart),
        Chart::Cdf(chart) => draw_cdf(root, chart),
        Chart::TimeSeries(chart) => draw_time_series(root, chart),
        Chart::Bars(chart) => draw_bars(root, chart),
    }
}

/// Range covering `values` with 5% padding; degenerate or empty input gets a sane default.
fn padded_range(values: impl Iterator<Item = f64>, include_zero: bool) -> Range<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values.filter(|value| value.is_finite()) {
        low = low.min(value);
        high = high.max(value);
    }
    if include_zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    if low > high {
        return 0.0..1.0;
    }
    if low == high {
        let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        return (low - pad)..(high + pad);
    }
    let pad = (high - low) * 0.05;
    let low_padded = if include_zero && low >= 0.0 { low } else { low - pad };
    low_padded..(high + pad)
}

/// A chart context with a linear x axis and a linear or logarithmic y axis.
type Cartesian<'a, DB, Y = RangedCoordf64> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// Bounds every y coordinate here satisfies (linear `RangedCoordf64`, logarithmic `LogCoord`).
trait YAxis: Ranged<ValueType = f64> + ValueFormatter<f64> {}
impl<T: Ranged<ValueType = f64> + ValueFormatter<f64>> YAxis for T {}

fn cartesian<'a, DB: DrawingBackend, Y: YAxis>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &ChartLabels,
    x: Range<f64>,
    y: Y,
) -> Result<Cartesian<'a, DB, Y>, String> {
    let mut chart = ChartBuilder::on(root)
        .caption(&labels.title, (FONT_FAMILY, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x, y)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc(labels.x_label.as_str())
        .y_desc(labels.y_label.as_str())
        .axis_desc_style((FONT_FAMILY, 20))
        .label_style((FONT_FAMILY, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(10)
        .y_labels(10)
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(text)?;
    Ok(chart)
}

fn draw_legend<'a, DB: DrawingBackend + 'a, Y: YAxis>(
    chart: &mut Cartesian<'a, DB, Y>,
    corner: LegendCorner,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(corner.position())
        .label_font((FONT_FAMILY, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .margin(15)
        .draw()
        .map_err(text)
}

fn draw_curve<'a, DB: DrawingBackend + 'a, Y: YAxis>(
    chart: &mut Cartesian<'a, DB, Y>,
    curve: &Curve,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let stroke = color(curve.color).stroke_width(2);
    if let [only] = curve.points.as_slice() {
        // A one-point "curve" (a reference at a single sweep point) would draw nothing: mark it
        // with a short horizontal bar instead, which reads as "the expected level here".
        let annotation = chart
            .draw_series(std::iter::once(
                EmptyElement::at(*only) + PathElement::new(vec![(-14, 0), (14, 0)], stroke),
            ))
            .map_err(text)?;
        if !curve.label.is_empty() {
            annotation.label(curve.label.as_str()).legend(move |(x, y)| {
                EmptyElement::at((x, y)) + PathElement::new(vec![(4, 0), (20, 0)], stroke)
            });
        }
        return Ok(());
    }
    let annotation = match curve.style {
        LineStyle::Solid => chart
            .draw_series(LineSeries::new(curve.points.iter().copied(), stroke))
            .map_err(text)?,
        LineStyle::Dashed => chart
            .draw_series(DashedLineSeries::new(curve.points.iter().copied(), 8, 5, stroke))
            .map_err(text)?,
    };
    if !curve.label.is_empty() {
        // Two segments either way so that both legend glyphs have one type; a gap reads "dashed".
        let gap = if curve.style == LineStyle::Dashed { 6 } else { 0 };
        annotation.label(curve.label.as_str()).legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (9, 0)], stroke)
                + PathElement::new(vec![(9 + gap, 0), (24, 0)], stroke)
        });
    }
    Ok(())
}

fn draw_intervals<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &IntervalChart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let points = data.series.iter().flat_map(|series| series.points.iter());
    let curve_points = data.curves.iter().flat_map(|curve| curve.points.iter());
    let x =
        padded_range(points.clone().map(|p| p.x).chain(curve_points.clone().map(|p| p.0)), false);
    match data.y_scale {
        YScale::Linear => {
            let y = padded_range(
                points.flat_map(|p| [p.y, p.low, p.high]).chain(curve_points.map(|p| p.1)),
                false,
            );
            let chart = cartesian(root, &data.labels, x, RangedCoordf64::from(y))?;
            draw_interval_body(chart, data, f64::NEG_INFINITY)
        }
        YScale::Log => {
            let y = log_range(
                points.flat_map(|p| [p.y, p.low, p.high]).chain(curve_points.map(|p| p.1)),
            );
            let floor = y.start;
            let chart = cartesian(root, &data.labels, x, LogCoord::from(y.log_scale()))?;
            draw_interval_body(chart, data, floor)
        }
    }
}

/// Decade-aligned range over the positive values (a log axis cannot show 0); `1e-6..1` if none.
fn log_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values.filter(|value| value.is_finite() && *value > 0.0) {
        low = low.min(value);
        high = high.max(value);
    }
    if low > high {
        return 1e-6..1.0;
    }
    let low = 10f64.powf(low.log10().floor());
    let high = 10f64.powf(high.log10().ceil());
    if low == high { low..high * 10.0 } else { low..high }
}

/// Points, error bars and curves; values below `floor` (zero on a log axis) are clamped to it
/// so that an interval reaching 0 still shows its bar down to the axis.
fn draw_interval_body<'a, DB: DrawingBackend + 'a, Y: YAxis>(
    mut chart: Cartesian<'a, DB, Y>,
    data: &IntervalChart,
    floor: f64,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let clamp = |y: f64| y.max(floor);
    for curve in &data.curves {
        let visible: Vec<(f64, f64)> =
            curve.points.iter().copied().filter(|(_, y)| *y >= floor).collect();
        draw_curve(&mut chart, &Curve { points: visible, ..curve.clone() })?;
    }
    for (index, series) in data.series.iter().enumerate() {
        let style = color(index).stroke_width(2);
        chart
            .draw_series(
                series.points.iter().map(|p| {
                    PathElement::new(vec![(p.x, clamp(p.low)), (p.x, clamp(p.high))], style)
                }),
            )
            .map_err(text)?;
        // Caps are drawn in pixels so that they keep their size whatever the x range.
        chart
            .draw_series(series.points.iter().flat_map(|p| {
                [clamp(p.low), clamp(p.high)].map(|y| {
                    EmptyElement::at((p.x, y)) + PathElement::new(vec![(-6, 0), (6, 0)], style)
                })
            }))
            .map_err(text)?;
        let filled = color(index).filled();
        chart
            .draw_series(
                series
                    .points
                    .iter()
                    .filter(|p| p.y >= floor)
                    .map(|p| Circle::new((p.x, p.y), 5, filled)),
            )
            .map_err(text)?
            .label(series.label.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x + 12, y))
                    + PathElement::new(vec![(0, -7), (0, 7)], style)
                    + Circle::new((0, 0), 5, filled)
            });
    }
    draw_legend(&mut chart, data.legend)
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &HistogramChart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let bins = data.histogram.densities();
    let curve_points = data.density.iter().flat_map(|curve| curve.points.iter());
    let x = padded_range(
        bins.iter()
            .flat_map(|(low, high, _)| [*low, *high])
            .chain(curve_points.clone().map(|p| p.0)),
        false,
    );
    let y = padded_range(bins.iter().map(|bin| bin.2).chain(curve_points.map(|p| p.1)), true);
    let mut chart = cartesian(root, &data.labels, x, RangedCoordf64::from(y))?;
    let fill = color(0).mix(0.45).filled();
    let border = color(0).stroke_width(1);
    chart
        .draw_series(
            bins.iter()
                .map(|(low, high, density)| Rectangle::new([(*low, 0.0), (*high, *density)], fill)),
        )
        .map_err(text)?
        .label(data.histogram_label.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], fill));
    chart
        .draw_series(
            bins.iter().map(|(low, high, density)| {
                Rectangle::new([(*low, 0.0), (*high, *density)], border)
            }),
        )
        .map_err(text)?;
    if let Some(curve) = &data.density {
        draw_curve(&mut chart, curve)?;
    }
    draw_legend(&mut chart, data.legend)
}

/// Staircase of an ECDF: horizontal then vertical at each observation, starting at 0.
fn cdf_staircase(cdf: &EmpiricalCdf) -> Vec<(f64, f64)> {
    let steps = cdf.steps();
    let mut points = Vec::with_capacity(steps.len() * 2 + 1);
    let mut previous = 0.0;
    if let Some((first, _)) = steps.first() {
        points.push((*first, 0.0));
    }
    for (x, y) in steps {
        points.push((x, previous));
        points.push((x, y));
        previous = y;
    }
    points
}

fn draw_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &CdfChart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let staircases: Vec<Vec<(f64, f64)>> =
        data.series.iter().map(|series| cdf_staircase(&series.cdf)).collect();
    let x = padded_range(
        staircases
            .iter()
            .flatten()
            .map(|p| p.0)
            .chain(data.curves.iter().flat_map(|c| c.points.iter().map(|p| p.0))),
        false,
    );
    let mut chart = cartesian(root, &data.labels, x, RangedCoordf64::from(0.0..1.05))?;
    for curve in &data.curves {
        draw_curve(&mut chart, curve)?;
    }
    for (index, (series, staircase)) in data.series.iter().zip(staircases).enumerate() {
        let curve = Curve::new(&series.label, staircase, index, LineStyle::Solid);
        draw_curve(&mut chart, &curve)?;
    }
    draw_legend(&mut chart, data.legend)
}

fn draw_time_series<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &TimeSeriesChart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let points = data.curves.iter().flat_map(|curve| curve.points.iter());
    let x = padded_range(points.clone().map(|p| p.0), false);
    let y = padded_range(points.map(|p| p.1), true);
    let mut chart = cartesian(root, &data.labels, x, RangedCoordf64::from(y))?;
    for curve in &data.curves {
        draw_curve(&mut chart, curve)?;
    }
    draw_legend(&mut chart, data.legend)
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &BarChart,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let count = data.bars.len() as u32;
    let y = padded_range(data.bars.iter().map(|bar| bar.value), true);
    let mut chart = ChartBuilder::on(root)
        .caption(&data.labels.title, (FONT_FAMILY, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        // plotters treats an integer range as inclusive of its end, so `0..count - 1` holds exactly
        // `count` segments.
        .build_cartesian_2d((0u32..count.saturating_sub(1)).into_segmented(), y)
        .map_err(text)?;
    let categories: Vec<&str> = data.bars.iter().map(|bar| bar.category.as_str()).collect();
    let category_name = |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
            categories.get(*index as usize).map(|name| name.to_string()).unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(data.labels.x_label.as_str())
        .y_desc(data.labels.y_label.as_str())
        .axis_desc_style((FONT_FAMILY, 20))
        .label_style((FONT_FAMILY, 16))
        .light_line_style(RGBColor(235, 235, 235))
        .x_labels(data.bars.len().max(1))
        .x_label_formatter(&category_name)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(text)?;
    let fill = color(0).filled();
    chart
        .draw_series(data.bars.iter().enumerate().map(|(index, bar)| {
            let index = index as u32;
            let mut rectangle = Rectangle::new(
                [(SegmentValue::Exact(index), 0.0), (SegmentValue::Exact(index + 1), bar.value)],
                fill,
            );
            rectangle.set_margin(0, 0, 12, 12);
            rectangle
        }))
        .map_err(text)?;
    // Value labels above bars: counts are what a reader looks for first.
    chart
        .draw_series(data.bars.iter().enumerate().map(|(index, bar)| {
            Text::new(
                format_count(bar.value),
                (SegmentValue::CenterOf(index as u32), bar.value),
                (FONT_FAMILY, 15)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))
        .map_err(text)?;
    Ok(())
}

/// Tick text: at most six decimals, trailing zeros dropped ("20", "0.05", not "20.0" or
/// "0.30000000000000004"); scientific notation for very small or very large magnitudes.
fn tick_label(value: &f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e9).contains(&magnitude) {
        let scientific = format!("{value:.2e}");
        return match scientific.split_once('e') {
            Some((mantissa, exponent)) => {
                let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
                format!("{mantissa}e{exponent}")
            }
            None => scientific,
        };
    }
    let fixed = format!("{value:.6}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" { "0".to_string() } else { trimmed.to_string() }
}

fn format_count(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn every_chart_kind_renders_png_and_svg() {
        let directory = tempfile::tempdir().expect("temp dir");
        for (stem, chart) in demo::demo_charts(7).expect("demo data") {
            let rendered = render(&chart, directory.path(), &stem).expect("renders");
            let png = std::fs::read(&rendered.png).expect("png written");
            assert!(png.starts_with(b"\x89PNG"), "{stem}");
            let svg = std::fs::read_to_string(&rendered.svg).expect("svg written");
            assert!(svg.contains("<svg"), "{stem}");
            assert!(svg.contains(&chart.labels().title.replace('&', "&amp;")), "{stem}");
        }
    }

    #[test]
    fn png_bytes_are_deterministic() {
        let first = tempfile::tempdir().expect("temp dir");
        let second = tempfile::tempdir().expect("temp dir");
        for (stem, chart) in demo::demo_charts(11).expect("demo data") {
            let a = render(&chart, first.path(), &stem).expect("renders");
            let b = render(&chart, second.path(), &stem).expect("renders");
            let bytes_a = std::fs::read(a.png).expect("read");
            let bytes_b = std::fs::read(b.png).expect("read");
            assert!(bytes_a == bytes_b, "{stem}: PNG differs between renders");
            assert_eq!(std::fs::read(a.svg).expect("read"), std::fs::read(b.svg).expect("read"));
        }
    }

    #[test]
    fn empty_chart_is_a_typed_error() {
        let chart = Chart::Bars(BarChart { labels: ChartLabels::new("t", "x", "y"), bars: vec![] });
        let directory = tempfile::tempdir().expect("temp dir");
        let error = render(&chart, directory.path(), "empty").expect_err("empty");
        assert!(matches!(error, PlotError::EmptyChart { .. }));
    }

    #[test]
    fn missing_directory_is_a_typed_error_naming_the_path() {
        let chart = demo::reorg_chart();
        let missing = Path::new("/nonexistent/vein-reports-test");
        match render(&chart, missing, "reorg") {
            Err(PlotError::Drawing { path, .. }) => assert!(path.starts_with(missing)),
            other => panic!("expected a drawing error, got {other:?}"),
        }
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(&20.0), "20");
        assert_eq!(tick_label(&0.30000000000000004), "0.3");
        assert_eq!(tick_label(&0.05), "0.05");
        assert_eq!(tick_label(&-0.0), "0");
        assert_eq!(tick_label(&2.5e-7), "2.5e-7");
        assert_eq!(tick_label(&1e-5), "1e-5");
    }

    #[test]
    fn padded_range_handles_degenerate_input() {
        assert_eq!(padded_range(std::iter::empty(), false), 0.0..1.0);
        assert_eq!(padded_range([2.0].into_iter(), false), 1.8..2.2);
        assert_eq!(padded_range([0.0, 10.0].into_iter(), true), 0.0..10.5);
    }
}
