//! A small local run of nodes exchanging transfers on the in-memory harness: 12 miners with
//! unequal space, one transfer per 500 ms for ten simulated minutes. Prints the seed, the trace
//! hash, the chain height, how many transfers became final and each miner's checkpoint share.
//!
//! `cargo run --release -p vein-node --example localnet-demo -- [seed]`

use vein_node::core::events::Event;
use vein_node::core::params::Params;
use vein_node::localnet::LocalNet;

fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let capacities: Vec<u64> = (1..=12).map(|i| i * 100).collect();
    let params = Params::default();
    let Ok((mut net, keys)) = LocalNet::new(seed, &capacities, params, 80) else {
        eprintln!("invalid genesis");
        std::process::exit(2);
    };
    let duration_ms = 600_000;
    let mut sent = 0u64;
    let mut time = 0;
    while time < duration_ms {
        net.run_until(time);
        let from = (sent as usize * 7) % keys.len();
        let to = keys[(from + 1) % keys.len()].account();
        if net.transfer(from, to, 1_000).is_some() {
            sent += 1;
        }
        time += 500;
    }
    net.run_until(duration_ms + 120_000);
    let chain = net.nodes[0].chain();
    let finals = net
        .events
        .iter()
        .filter(|(_, node, event)| *node == 0 && matches!(event, Event::TxFinal { .. }))
        .count();
    println!("seed {seed}  trace {}", net.trace_hash());
    println!(
        "height {}  final height {}  transfers sent {sent}  final at node 0 {finals}  messages {}",
        chain.height(),
        chain.final_height(),
        net.delivered
    );
    let total: u64 = capacities.iter().sum();
    let mut wins = vec![0u64; keys.len()];
    for height in 1..=chain.height() {
        if let Some(header) = chain.active_at(height).and_then(|id| chain.header(&id))
            && let Some(index) = keys.iter().position(|key| key.account() == header.author)
        {
            wins[index] += 1;
        }
    }
    println!("miner  space share  checkpoint share");
    for (index, capacity) in capacities.iter().enumerate() {
        println!(
            "{index:>5}  {:>11.3}  {:>16.3}",
            *capacity as f64 / total as f64,
            wins[index] as f64 / chain.height().max(1) as f64
        );
    }
    match net.conflicting_finality() {
        None => println!("safety: no conflicting finality"),
        Some((height, a, b)) => {
            println!("SAFETY VIOLATION: nodes {a} and {b} disagree at final height {height}");
            std::process::exit(1);
        }
    }
}
