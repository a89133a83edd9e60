//! The poisoning and free-rider tables of docs/federated-learning.md:
//!
//! ```bash
//! cargo run -p vein-fl-lab --bin vein-fl-poisoning -- --seeds 5
//! ```
//!
//! Byzantine fractions f ∈ {0, 0.1, 0.2, 0.3} of n IID participants, sign flipping and label
//! flipping, final accuracy of FedAvg, median, trimmed mean and Krum (rules tuned for ⌈0.3 n⌉
//! bad), mean over seeds; then two free riders (the global model, noise) among honest
//! participants: how often the detection rule flags them, and its false-positive rate on the
//! honest ones over the seeds.

use clap::Parser;
use std::process::ExitCode;
use vein_fl_lab::poisoning::{Adversaries, Attack, FreeRide, poisoned};
use vein_fl_lab::scenarios::{Split, rules, shards, tolerated, wine_setup};
use vein_node::core::fl::{AggregationRule, FlError};

#[derive(Parser)]
#[command(about = "Poisoning and free-rider tables on the wine-quality set")]
struct Args {
    /// Seeds 1..=N per cell.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Rounds per run.
    #[arg(long, default_value_t = 20)]
    rounds: u32,
    /// Participants per run.
    #[arg(long, default_value_t = 20)]
    participants: usize,
}

fn main() -> ExitCode {
    match report(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vein-fl-poisoning: {error}");
            ExitCode::FAILURE
        }
    }
}

fn report(args: &Args) -> Result<(), FlError> {
    let n = args.participants;
    for (attack, name) in
        [(Attack::SignFlip, "sign flipping (−4·u)"), (Attack::LabelFlip, "label flipping")]
    {
        println!(
            "\n{name}, {n} IID participants, rules tuned for {} bad, {} rounds, mean over seeds \
             1..={}; final accuracy %:\n",
            tolerated(n),
            args.rounds,
            args.seeds
        );
        println!("| f | bad | FedAvg | median | trimmed mean | Krum |");
        println!("|---|---|---|---|---|---|");
        for fraction in [0.0, 0.1, 0.2, 0.3] {
            let byzantine = (fraction * n as f64).round() as usize;
            let adversaries = Adversaries { attack, byzantine, free_riders: Vec::new() };
            let mut cells = Vec::new();
            for rule in rules(n) {
                let mut sum = 0.0;
                for seed in 1..=args.seeds {
                    let mut setup = wine_setup(seed)?;
                    setup.rounds = args.rounds;
                    let split = shards(&setup, n, Split::Iid)?;
                    sum += poisoned(&setup, &split, rule, &adversaries)?.final_accuracy;
                }
                cells.push(format!("{:.2}", 100.0 * sum / args.seeds as f64));
            }
            println!("| {fraction} | {byzantine} | {} |", cells.join(" | "));
        }
    }
    println!(
        "\nFree riders: participants 0 (returns the global model) and 1 (noise) of {n}; \
         flagged over seeds 1..={}:\n",
        args.seeds
    );
    println!("| rule | global model flagged | noise flagged | honest flagged (FPR) |");
    println!("|---|---|---|---|");
    let riders = vec![FreeRide::GlobalModel, FreeRide::Noise];
    let adversaries = Adversaries { attack: Attack::SignFlip, byzantine: 0, free_riders: riders };
    for rule in [AggregationRule::FedAvg, AggregationRule::Median] {
        let (mut global, mut noise, mut honest_flagged, mut honest) = (0, 0, 0, 0);
        for seed in 1..=args.seeds {
            let mut setup = wine_setup(seed)?;
            setup.rounds = args.rounds;
            let split = shards(&setup, n, Split::Iid)?;
            let run = poisoned(&setup, &split, rule, &adversaries)?;
            global += usize::from(run.flagged[0]);
            noise += usize::from(run.flagged[1]);
            let (flagged, of) = run.false_positives(2);
            honest_flagged += flagged;
            honest += of;
        }
        println!(
            "| {} | {global}/{} | {noise}/{} | {honest_flagged}/{honest} ({:.2}%) |",
            rule.name(),
            args.seeds,
            args.seeds,
            100.0 * honest_flagged as f64 / honest.max(1) as f64
        );
    }
    Ok(())
}
