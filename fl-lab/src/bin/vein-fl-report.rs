//! `vein-fl-report`: run the federated-learning scenarios on the wine-quality data set and print
//! their tables as Markdown (docs/federated-learning.md quotes them).
//!
//! ```text
//! cargo run -p vein-fl-lab --bin vein-fl-report -- --seeds 5 --local-epochs 1
//! cargo run -p vein-fl-lab --bin vein-fl-report -- --seeds 5 --plots docs/federated-learning
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use vein_fl_lab::charts::{self, AccuracyCurve};
use vein_fl_lab::scenarios::{
    Federation, Run, Setup, Split, centralised, federated, rules, shards, tolerated, wine_setup,
};
use vein_node::core::fl::{AggregationRule, FlError};
use vein_reports::plots::{Chart, PlotError, render};

/// Why the report stopped: a scenario failed, or a picture could not be written.
#[derive(Debug, thiserror::Error)]
enum ReportError {
    #[error(transparent)]
    Fl(#[from] FlError),
    #[error("creating the plots directory {path}: {source}")]
    PlotsDirectory { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Plot(#[from] PlotError),
}

#[derive(Parser)]
#[command(
    about = "Federated learning scenarios on the wine-quality data set",
    after_help = "Examples:\n  vein-fl-report --seeds 5                          the tables, as Markdown\n  \
                  vein-fl-report --seeds 5 --plots out/fl           ... and accuracy-per-round.{png,svg},\n                                                    \
                  poisoning.{png,svg} in out/fl\n  \
                  vein-fl-report --seeds 1 --rounds 5 --participants 4   a quick look"
)]
struct Args {
    /// Seeds 1..=N of the train/test split, the participant splits and local training; each
    /// table cell is the mean over them (one test split holds 319 records: 0.31 pp each).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Local epochs per round (client drift on non-IID splits grows with them).
    #[arg(long, default_value_t = 1)]
    local_epochs: u32,
    /// Rounds R.
    #[arg(long, default_value_t = 20)]
    rounds: u32,
    /// Participants for the IID and non-IID runs.
    #[arg(long, default_value_t = 10)]
    participants: usize,
    /// Participants for the poisoning runs.
    #[arg(long, default_value_t = 20)]
    poisoning_participants: usize,
    /// Also draw the accuracy per round (mean over the seeds) and the poisoning results as PNG
    /// and SVG into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match report(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vein-fl-report: {error}");
            ExitCode::FAILURE
        }
    }
}

fn percent(value: f64) -> String {
    format!("{:.2}", 100.0 * value)
}

/// The setup of `seed` with the arguments' rounds and local epochs.
fn setup_of(args: &Args, seed: u64) -> Result<Setup, FlError> {
    let mut setup = wine_setup(seed)?;
    setup.training.local_epochs = args.local_epochs;
    setup.rounds = args.rounds;
    Ok(setup)
}

/// The mean of `measure` over seeds 1..=`seeds`.
fn mean_over(
    args: &Args,
    measure: impl Fn(&Setup) -> Result<f64, FlError>,
) -> Result<f64, FlError> {
    let mut sum = 0.0;
    for seed in 1..=args.seeds {
        sum += measure(&setup_of(args, seed)?)?;
    }
    Ok(sum / args.seeds.max(1) as f64)
}

/// The mean accuracy after each round of `run` over seeds 1..=`seeds`.
fn curve_over(
    args: &Args,
    label: &str,
    run: impl Fn(&Setup) -> Result<Run, FlError>,
) -> Result<AccuracyCurve, FlError> {
    let runs = (1..=args.seeds)
        .map(|seed| Ok(run(&setup_of(args, seed)?)?.accuracy_per_round))
        .collect::<Result<Vec<_>, FlError>>()?;
    Ok(AccuracyCurve { label: label.into(), per_round: charts::mean_per_round(&runs) })
}

/// The last value of a curve: the mean final accuracy.
fn last(curve: &AccuracyCurve) -> f64 {
    curve.per_round.last().copied().unwrap_or(0.0)
}

/// Write `chart` as `<dir>/<stem>.{png,svg}` and say where.
fn draw(dir: &std::path::Path, stem: &str, chart: &Chart) -> Result<(), ReportError> {
    let rendered = render(chart, dir, stem)?;
    eprintln!("wrote {} and {}", rendered.png.display(), rendered.svg.display());
    Ok(())
}

fn report(args: &Args) -> Result<(), ReportError> {
    if let Some(dir) = &args.plots {
        std::fs::create_dir_all(dir)
            .map_err(|source| ReportError::PlotsDirectory { path: dir.clone(), source })?;
    }
    let setup = wine_setup(1)?;
    println!(
        "wine quality (red), {} training / {} test records, {} rounds × {} local epochs, batch {}, \
         learning rate {}, mean over seeds 1..={}\n",
        setup.train.len(),
        setup.test.len(),
        args.rounds,
        args.local_epochs,
        setup.training.batch_size,
        vein_fl_lab::convert::to_f64(setup.training.learning_rate),
        args.seeds
    );
    let central_curve = curve_over(args, "centralised (pooled data)", centralised)?;
    let central = last(&central_curve);
    let n = args.participants;
    let fedavg = Federation::honest(AggregationRule::FedAvg);
    let mut curves = vec![central_curve];
    println!("| split | FedAvg accuracy % | centralised % | gap (pp) |");
    println!("|---|---|---|---|");
    let row = |name: &str, accuracy: f64| {
        println!(
            "| {name} | {} | {} | {:.2} |",
            percent(accuracy),
            percent(central),
            100.0 * (central - accuracy)
        );
    };
    let iid_curve = curve_over(args, &format!("FedAvg, IID, {n} participants"), |setup| {
        federated(setup, &shards(setup, n, Split::Iid)?, fedavg)
    })?;
    let iid = last(&iid_curve);
    curves.push(iid_curve);
    row(&format!("IID, {n} participants"), iid);
    let identical = mean_over(args, |setup| {
        let split = shards(setup, n, Split::Iid)?;
        let plain = federated(setup, &split, fedavg)?;
        let masked = federated(setup, &split, Federation { masked: true, ..fedavg })?;
        Ok(if plain.weights == masked.weights { 1.0 } else { 0.0 })
    })?;
    let same = if identical == 1.0 { "bit-identical weights" } else { "WEIGHTS DIFFER" };
    row(&format!("IID, masked ({same})"), iid);
    for alpha in [100.0, 1.0, 0.1] {
        let curve = curve_over(args, &format!("FedAvg, Dirichlet α = {alpha}"), |setup| {
            federated(setup, &shards(setup, n, Split::Dirichlet { alpha })?, fedavg)
        })?;
        row(&format!("Dirichlet α = {alpha}"), last(&curve));
        curves.push(curve);
    }
    if let Some(dir) = &args.plots {
        let title = format!(
            "Wine quality: test accuracy per round, mean of {} seed(s), {n} participants",
            args.seeds
        );
        draw(dir, "accuracy-per-round", &charts::accuracy_per_round(&title, &curves))?;
    }
    println!("\nAccuracy % per round, seed 1 (IID FedAvg vs centralised):\n");
    println!("| round | FedAvg | centralised |");
    println!("|---|---|---|");
    let mut first = wine_setup(1)?;
    first.training.local_epochs = args.local_epochs;
    first.rounds = args.rounds;
    let iid_run = federated(&first, &shards(&first, n, Split::Iid)?, fedavg)?;
    let central_run = centralised(&first)?;
    for (round, (f, c)) in
        iid_run.accuracy_per_round.iter().zip(&central_run.accuracy_per_round).enumerate()
    {
        if round == 0 || (round + 1) % 5 == 0 {
            println!("| {} | {} | {} |", round + 1, percent(*f), percent(*c));
        }
    }
    let n = args.poisoning_participants;
    println!(
        "\nSign flipping (−4·u), {n} IID participants, rules tuned for {} bad; final accuracy %:\n",
        tolerated(n)
    );
    println!("| f | bad | FedAvg | median | trimmed mean | Krum |");
    println!("|---|---|---|---|---|---|");
    let mut poisoning_rows = Vec::new();
    for fraction in [0.0, 0.1, 0.2, 0.3] {
        let byzantine = (fraction * n as f64).round() as usize;
        let mut cells = Vec::new();
        for rule in rules(n) {
            let federation = Federation { rule, masked: false, byzantine, flip_scale: 4 };
            let accuracy = mean_over(args, |setup| {
                Ok(federated(setup, &shards(setup, n, Split::Iid)?, federation)?.final_accuracy())
            })?;
            cells.push(accuracy);
        }
        let text: Vec<String> = cells.iter().map(|accuracy| percent(*accuracy)).collect();
        println!("| {fraction} | {byzantine} | {} |", text.join(" | "));
        poisoning_rows.push((fraction, cells));
    }
    if let Some(dir) = &args.plots {
        let title = format!(
            "Sign flipping (−4·u), {n} IID participants: final accuracy, mean of {} seed(s)",
            args.seeds
        );
        let names = ["FedAvg", "median", "trimmed mean", "Krum"];
        draw(dir, "poisoning", &charts::poisoning(&title, &names, &poisoning_rows))?;
    }
    Ok(())
}
