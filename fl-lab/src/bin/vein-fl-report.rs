//! `vein-fl-report`: run the federated-learning scenarios on the wine-quality data set and print
//! their tables as Markdown (docs/federated-learning.md quotes them).
//!
//! ```text
//! cargo run -p vein-fl-lab --bin vein-fl-report -- --seeds 5 --local-epochs 1
//! ```

use clap::Parser;
use std::process::ExitCode;
use vein_fl_lab::scenarios::{
    Federation, Setup, Split, centralised, federated, rules, shards, tolerated, wine_setup,
};
use vein_node::core::fl::{AggregationRule, FlError};

#[derive(Parser)]
#[command(about = "Federated learning scenarios on the wine-quality data set")]
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

/// The mean of `measure` over seeds 1..=`seeds`.
fn mean_over(
    args: &Args,
    measure: impl Fn(&Setup) -> Result<f64, FlError>,
) -> Result<f64, FlError> {
    let mut sum = 0.0;
    for seed in 1..=args.seeds {
        let mut setup = wine_setup(seed)?;
        setup.training.local_epochs = args.local_epochs;
        setup.rounds = args.rounds;
        sum += measure(&setup)?;
    }
    Ok(sum / args.seeds.max(1) as f64)
}

fn report(args: &Args) -> Result<(), FlError> {
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
    let central = mean_over(args, |setup| Ok(centralised(setup)?.final_accuracy()))?;
    let n = args.participants;
    let fedavg = Federation::honest(AggregationRule::FedAvg);
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
    let iid = mean_over(args, |setup| {
        Ok(federated(setup, &shards(setup, n, Split::Iid)?, fedavg)?.final_accuracy())
    })?;
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
        let accuracy = mean_over(args, |setup| {
            let split = shards(setup, n, Split::Dirichlet { alpha })?;
            Ok(federated(setup, &split, fedavg)?.final_accuracy())
        })?;
        row(&format!("Dirichlet α = {alpha}"), accuracy);
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
    for fraction in [0.0, 0.1, 0.2, 0.3] {
        let byzantine = (fraction * n as f64).round() as usize;
        let mut cells = Vec::new();
        for rule in rules(n) {
            let federation = Federation { rule, masked: false, byzantine, flip_scale: 4 };
            let accuracy = mean_over(args, |setup| {
                Ok(federated(setup, &shards(setup, n, Split::Iid)?, federation)?.final_accuracy())
            })?;
            cells.push(percent(accuracy));
        }
        println!("| {fraction} | {byzantine} | {} |", cells.join(" | "));
    }
    Ok(())
}
