//! `vein-testnet`: the command line over the `vein_testnet` library. Each subcommand reads the
//! manifest in `--dir`, acts, and exits; errors print one clear line and exit 2 for a wrong
//! command line (as clap does for what it refuses itself), 3 when the ledger's rules, the chain
//! or a replica refused (`db`: no permission, final but ignored, a failed verification), 4 when
//! a client history check found violations (`check-history`, `load --history`), 1 for
//! anything else.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use vein_testnet::attacker::AttackerSpec;
use vein_testnet::manifest::Manifest;
use vein_testnet::{LinkFaultKind, LoadOptions, Sender, TestnetError, TxRequest, UpOptions};

#[derive(Parser)]
#[command(
    name = "vein-testnet",
    version,
    about = "Launch, fault and inspect a local testnet of real vein-node processes",
    after_help = "Examples:\n  \
        vein-testnet up --nodes 4                       start 4 nodes in out/testnet\n  \
        vein-testnet status                             height, finality, peers per node\n  \
        vein-testnet tx --from 0 --to 2 --amount 500    a transfer through node 0's API\n  \
        vein-testnet tx --from 0 --to 1 --amount 5 --wait    ... and wait until it is final\n  \
        vein-testnet tx --from faucet --to 1 --amount 7 --nonce 3 --via 2\n                                                  \
        a pre-signed spend (repeat with another --to for a conflict)\n  \
        vein-testnet kill 3 && vein-testnet restart 3   crash a node, bring it back\n  \
        vein-testnet partition 0,1|2,3                  split the net in two; then: heal\n  \
        vein-testnet fault --delay-ms 200 --loss-per-mille 50\n  \
        vein-testnet pause 2 && vein-testnet resume 2   freeze a node (SIGSTOP), continue it\n  \
        vein-testnet delay 0 1 --ms 300                 node 0's messages to node 1 only\n  \
        vein-testnet loss 1 0 --percent 20              drop 20% of node 1's messages to 0\n  \
        vein-testnet load --rate 20 --duration 30       throughput and finality latency\n  \
        vein-testnet load --rate 20 --duration 10 --history h.jsonl   ... and check what it saw\n  \
        vein-testnet check-history h.jsonl              check a history against every node\n  \
        vein-testnet logs 1 --lines 100\n  \
        vein-testnet put FILE                           store a file (prints its id)\n  \
        vein-testnet get ID --out PATH                  read it back from any k shards\n  \
        vein-testnet token issue --name Acme --symbol ACME --supply 1000   (prints the id)\n  \
        vein-testnet token transfer --token ID --to 1 --amount 5   (`token --help`: more)\n  \
        vein-testnet db create --name clinic --parties 0,1,2 --members 0,1,2 --quorum 2 \\\n    \
          --table 'patients(id integer key, name text)'   (prints its id; `db --help`: more)\n  \
        vein-testnet up --nodes 4 --attacker 3=withhold --attacker-nonces 192 \\\n    \
          --interval-ms 1000                            a selfish miner with half the space\n  \
        vein-testnet down                               stop all (keeps logs; --purge deletes)\n  \
        vein-testnet scenario scenarios/selfish.toml --seeds 2 --out out/selfish-testnet\n    \
          a scenario file on real processes (`scenario --help`: more)"
)]
struct Cli {
    /// Directory holding the testnet (manifest testnet.json, keys, plots, data, logs).
    #[arg(long, global = true, default_value = "out/testnet")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file (scenarios/*.toml) on fresh testnets of real processes, one per
    /// seed, and write the report the other engines write (metrics.json, summary.md).
    #[command(after_help = SCENARIO_HELP)]
    Scenario(vein_testnet::scenario_run::ScenarioArgs),
    /// Generate keys, genesis and plots; start the nodes; wait until all are ready.
    Up {
        #[arg(long, default_value_t = 4)]
        nodes: usize,
        /// Plot size per node in nonces (256 KiB each: 64 = 16 MiB).
        #[arg(long, default_value_t = 64)]
        nonces: u64,
        /// Target checkpoint interval.
        #[arg(long, default_value_t = 5_000)]
        interval_ms: u64,
        /// Finality depth k.
        #[arg(long, default_value_t = 6)]
        k: u64,
        /// Label the keys are derived from (default: random).
        #[arg(long)]
        label: Option<String>,
        /// The vein-node binary (default: next to this executable).
        #[arg(long)]
        node_bin: Option<PathBuf>,
        /// Seconds to wait for every node's /ready.
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
        /// Run node NODE with an attacker policy of the core (`vein-node run --policy`);
        /// repeatable. On the testnet's real plots: withhold (selfish mining, released by the
        /// Eyal-Sirer rule). Example: --attacker 3=withhold --attacker-nonces 256
        #[arg(long, value_name = "NODE=POLICY")]
        attacker: Vec<AttackerSpec>,
        /// Plot size of each attacker node in nonces (default: --nonces), to give it a larger
        /// share of the space.
        #[arg(long)]
        attacker_nonces: Option<u64>,
    },
    /// A table of the nodes (or JSON with --json).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Submit a transfer. Without --nonce the node signs with its own key and nonce; with
    /// --nonce (or --from faucet) the CLI signs locally and posts the signed transaction.
    Tx {
        /// A node index or `faucet`.
        #[arg(long)]
        from: String,
        /// A node index, `faucet`, or a 64-hex account.
        #[arg(long)]
        to: String,
        #[arg(long)]
        amount: u64,
        #[arg(long, default_value_t = 1)]
        fee: u64,
        #[arg(long)]
        nonce: Option<u64>,
        /// Node whose API receives it (default: the sender's node; node 0 for the faucet).
        #[arg(long)]
        via: Option<usize>,
        /// Wait until the transfer is final (applied) on that node and print how long it took.
        #[arg(long)]
        wait: bool,
        /// Seconds `--wait` waits at most.
        #[arg(long, default_value_t = 120)]
        wait_timeout: u64,
    },
    /// Kill a node (SIGKILL: a crash; --graceful: SIGTERM first).
    Kill {
        node: usize,
        #[arg(long)]
        graceful: bool,
    },
    /// Start a stopped node again (same ports, same data directory).
    Restart {
        node: usize,
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
    },
    /// Flip a byte in a node's log (killing it first if it runs) and restart it: it must refuse
    /// to start, naming the damage (exit 1 if it starts anyway). E.g. `vein-testnet corrupt 2`,
    /// `vein-testnet corrupt 1 --file shards --pick 7`.
    Corrupt {
        node: usize,
        #[arg(long, value_enum, default_value_t = vein_testnet::corrupt::LogFile::Units)]
        file: vein_testnet::corrupt::LogFile,
        /// Chooses the record and the byte (the same pick damages the same byte).
        #[arg(long, default_value_t = 1)]
        pick: u64,
        /// Seconds to wait for the node to refuse (or, wrongly, to start).
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
    },
    /// Split the net into groups, e.g. `0,1|2,3`; nodes named nowhere form one more group.
    Partition { groups: String },
    /// Remove every partition, delay and loss.
    Heal,
    /// Add delay and/or loss to outbound messages (all running nodes, or --node).
    Fault {
        #[arg(long)]
        delay_ms: Option<u64>,
        #[arg(long)]
        loss_per_mille: Option<u64>,
        #[arg(long, value_delimiter = ',')]
        node: Vec<usize>,
    },
    /// Freeze a node with SIGSTOP (a hung machine: the process stays but answers nothing).
    Pause { node: usize },
    /// Continue a paused node (SIGCONT) and wait until its API answers.
    Resume {
        node: usize,
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
    },
    /// Delay the one-way link FROM -> TO (what FROM sends to TO); `heal` clears it.
    Delay {
        from: usize,
        to: usize,
        #[arg(long)]
        ms: u64,
    },
    /// Drop a share of the one-way link FROM -> TO; `heal` clears it.
    Loss {
        from: usize,
        to: usize,
        #[arg(long)]
        percent: f64,
    },
    /// Print the last lines of a node's log; with --follow, keep printing what is appended
    /// until the node stops or Ctrl-C (e.g. `vein-testnet logs 2 --lines 20 --follow`).
    Logs {
        node: usize,
        #[arg(long, default_value_t = 50)]
        lines: usize,
        /// Keep printing new lines as the node writes them.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Offered load: transfers per second for a duration, then throughput and latency.
    #[command(after_help = "Examples:\n  \
        vein-testnet load --rate 1000 --duration 30\n  \
        vein-testnet load --token new --rate 1000 --duration 30   (token transfers, new token)\n  \
        vein-testnet load --token ID --rate 50 --duration 5 --accounts 8\n  \
        vein-testnet load --rate 5000 --duration 20 --lag-max-s 10   (give up sooner)\n\
        Exit codes: 0 done; 1 the testnet failed, or the client fell more than --lag-max-s \
        behind its schedule and stopped sending (the report is printed first); 2 bad command \
        line; 4 a --history violation.")]
    Load {
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Seconds to wait afterwards for finality.
        #[arg(long, default_value_t = 120)]
        settle: u64,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Transfers per request (POST /txs); 0 = about 200 requests per second.
        #[arg(long, default_value_t = 0)]
        batch: usize,
        /// Sending accounts the client signs from (funded by the faucet on first use);
        /// 0 = each node signs from its own account.
        #[arg(long, default_value_t = 128)]
        accounts: usize,
        /// Seconds a request answered 503 busy (node backlog over its bound) is retried, every
        /// 50 ms, before its transfers count as refused; 0 = never retry.
        #[arg(long, default_value_t = 10)]
        busy_retry_s: u64,
        /// Send transfers of a business token instead of native ones: `new` (the faucet issues
        /// one first) or a token id the faucet holds; fees stay native (docs/tokens.md).
        #[arg(long)]
        token: Option<vein_testnet::load_asset::TokenChoice>,
        /// Record every submission, answer and finality the client saw to this JSON-lines file,
        /// then check every running node's ledger against it (exit 4 on a violation).
        #[arg(long)]
        history: Option<PathBuf>,
        /// Seconds the client may fall behind its schedule (nodes answering slower than the
        /// rate): past that it sends nothing more, settles what was accepted, prints the report
        /// and exits 1 naming the requests it waited on.
        #[arg(long, default_value_t = vein_testnet::load::LAG_MAX.as_secs())]
        lag_max_s: u64,
    },
    /// Check a client history (`load --history FILE`) against every running node's ledger:
    /// each transfer seen final present once at its height, no unit or nonce applied twice,
    /// nothing refused applied, the load accounts' balances conserved. Prints the report as
    /// JSON; exit 4 on a violation (docs/testnet.md, "Client histories").
    #[command(after_help = "Examples:\n  \
        vein-testnet load --rate 20 --duration 10 --history out/h.jsonl\n  \
        vein-testnet check-history out/h.jsonl --settle 60")]
    CheckHistory {
        /// The history file (JSON lines).
        file: PathBuf,
        /// Seconds to wait for every node to finalise the heights the client saw final.
        #[arg(long, default_value_t = 60)]
        settle: u64,
    },
    /// ERC-20 transfers through the nodes' JSON-RPC at a paced rate, each followed to a receipt
    /// at a final height; the nodes' CPU per transfer, beside a native transfer's with
    /// --native-rate (docs/testnet.md, "ERC-20 load").
    #[command(after_help = "Examples:\n  \
        vein-testnet erc20-load --rate 1000 --duration 30 --native-rate 1000\n  \
        vein-testnet erc20-load --rate 5 --duration 3 --senders 2 --idle-s 0\n  \
        vein-testnet erc20-load --rate 1000 --duration 20 --resends 5 --resend-after-s 15")]
    Erc20Load {
        /// ERC-20 transfers offered per second, over all running nodes.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Seconds to wait afterwards for every transfer's receipt at a final height.
        #[arg(long, default_value_t = 120)]
        settle: u64,
        /// EVM senders (funded by the faucet and given tokens on first use).
        #[arg(long, default_value_t = 256)]
        senders: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Transfers per JSON-RPC batch; 0 = about 200 requests per second.
        #[arg(long, default_value_t = 0)]
        batch: usize,
        /// Run a native `load` phase at this rate first, for the CPU per native transfer.
        #[arg(long)]
        native_rate: Option<f64>,
        /// Seconds of idle baseline measured before the phases.
        #[arg(long, default_value_t = 5)]
        idle_s: u64,
        /// The ERC-20 artifact.
        #[arg(long, default_value = "contracts/build/VeinToken.json")]
        artifact: PathBuf,
        /// Most times one transfer is sent again: refused or lost, or accepted and without a
        /// receipt after --resend-after-s (so one lost nonce does not strand the sender's
        /// later transfers); 0 never resends.
        #[arg(long, default_value_t = 3)]
        resends: u32,
        /// Seconds an accepted transfer may go without a receipt before it is sent again.
        #[arg(long, default_value_t = 10)]
        resend_after_s: u64,
    },
    /// Store a file: encrypt and erasure-code it here, submit the StorePut (paid by the faucet)
    /// through a node, hand each shard to its storage node. Prints the file id; the owner key
    /// stays in DIR/files/ID.key.
    Put {
        file: PathBuf,
        /// Node whose API receives the StorePut.
        #[arg(long, default_value_t = 0)]
        via: usize,
        /// Shards stored (one per storage node; every genesis account, the faucet included).
        #[arg(long, default_value_t = 4)]
        n: u8,
        /// Shards any of which recover the file.
        #[arg(long, default_value_t = 2)]
        k: u8,
        /// Contract term in rounds (checkpoints).
        #[arg(long, default_value_t = 100_000)]
        term_rounds: u64,
        #[arg(long, default_value_t = 1)]
        fee: u64,
        /// Seconds to wait for the put to be applied by the holders.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Read a stored file back: any k shards, each checked against the contract's roots.
    Get {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Solidity contracts through the node's Ethereum JSON-RPC: deploy, call, send
    /// (docs/evm.md).
    #[command(after_help = CONTRACT_HELP)]
    Contract {
        #[command(subcommand)]
        command: vein_testnet::contract::ContractCommand,
    },
    /// Business tokens: issue, transfer, mint, burn, balance, list (docs/tokens.md).
    #[command(after_help = "Examples:\n  \
        vein-testnet token issue --name 'Acme Points' --symbol ACME --decimals 2 --supply 100000\n  \
        vein-testnet token issue --name Bonus --symbol BNS --supply 0 --mintable --cap 5000 --from 1\n  \
        vein-testnet token transfer --token ID --to 2 --amount 250      (from the faucet)\n  \
        vein-testnet token mint --token ID --to faucet --amount 10 --from 1\n  \
        vein-testnet token burn --token ID --amount 5 --from 2\n  \
        vein-testnet token balance --token ID --account 2\n  \
        vein-testnet token list\n\
        Transactions are signed here (--from faucet or a node index) and wait until final\n\
        unless --no-wait; the native fee (--fee) is paid in the native token.")]
    Token {
        #[command(subcommand)]
        command: vein_testnet::token::TokenCommand,
    },
    /// Consortium databases: create, grant, deny, exec, query --at, verify, history, load
    /// (docs/consortium.md).
    #[command(after_help = DB_HELP)]
    Db {
        #[command(subcommand)]
        command: vein_testnet::db::DbCommand,
    },
    /// Federated learning: post a task, run participants beside the nodes, read rounds,
    /// payments and the model (docs/federated-learning.md).
    #[command(after_help = FL_HELP)]
    Fl {
        #[command(subcommand)]
        command: vein_testnet::fl::FlCommand,
    },
    /// A side chain beside this net: its own genesis, chain id, nodes and ports in DIR/side
    /// (docs/peg.md).
    #[command(after_help = SIDE_HELP)]
    Side {
        #[command(subcommand)]
        command: SideCommand,
    },
    /// The two-way peg between this net and its side chain: relay, lock, burn, status, timed
    /// round trips (docs/peg.md).
    #[command(after_help = SIDE_HELP)]
    Peg {
        #[command(subcommand)]
        command: vein_testnet::peg::PegCommand,
    },
    /// Stop every node; keeps logs and data (and the manifest, without pids) unless --purge.
    Down {
        #[arg(long)]
        purge: bool,
    },
}

#[derive(Subcommand)]
enum SideCommand {
    /// Start the side chain's nodes (and the relayer) beside the running main net.
    Up {
        #[arg(long, default_value_t = 2)]
        nodes: usize,
        /// Plot size per side node in nonces.
        #[arg(long, default_value_t = 64)]
        nonces: u64,
        /// The side chain's target checkpoint interval (default: main's).
        #[arg(long)]
        interval_ms: Option<u64>,
        /// The side chain's finality depth k (default: main's).
        #[arg(long)]
        k: Option<u64>,
        /// Anchor interval a: every anchor ends at a multiple of it (1..=128).
        #[arg(long, default_value_t = 2)]
        anchor_interval: u64,
        /// Do not start the relayer (run `peg relay` yourself).
        #[arg(long)]
        no_relay: bool,
        /// Seconds to wait for every side node's /ready.
        #[arg(long, default_value_t = 60)]
        ready_timeout: u64,
    },
    /// Stop the relayer and the side nodes (the main net keeps running).
    Down,
}

const SIDE_HELP: &str = "Examples:
  vein-testnet up --nodes 2 --interval-ms 1000 --k 3
  vein-testnet side up --nodes 2 --anchor-interval 2      (side nodes + relayer in DIR/side)
  vein-testnet status                                     (main, side and relayer)
  vein-testnet peg roundtrip --amount 10                  (lock -> mint -> burn -> release)
  vein-testnet peg roundtrip --amount 10 --count 20       (p50/p95 per leg, and the floor)
  vein-testnet peg lock --token ID --amount 5 && vein-testnet peg status
  vein-testnet --dir DIR/side status                      (any command, on the side chain)
  vein-testnet down                                       (main, side and relayer)";

const FL_HELP: &str = "Examples:
  TASK=$(vein-testnet fl task --rule fedavg --rounds 3 --min-participants 10 --price 10000)
  for i in $(seq 0 9); do vein-testnet fl join --task $TASK --participant $i --of 10 & done; wait
  vein-testnet fl status --task $TASK
  vein-testnet fl model --task $TASK
Each participant runs beside node (i mod node count), funded by that node; it trains on its IID
share of the wine-quality set and exchanges updates through the nodes' APIs.";

const CONTRACT_HELP: &str = "Examples:
  KEY=0x0000000000000000000000000000000000000000000000000000000000000001
  ACCOUNT=0000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf   (KEY's address)
  vein-testnet tx --from faucet --to $ACCOUNT --amount 1000000000              (gas money)
  TOKEN=$(vein-testnet contract deploy --artifact contracts/build/VeinToken.json \\
        --arg Acme --arg ACME --arg 1000000 --key $KEY)
  vein-testnet contract call --to $TOKEN --function 'symbol()' --returns string
  vein-testnet contract send --to $TOKEN --function 'transfer(address,uint256)' \\
        --arg 0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF --arg 250 --key $KEY
  vein-testnet contract call --to $TOKEN --function 'balanceOf(address)' \\
        --arg 0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF --returns uint256
The key signs Ethereum transactions here (the node holds none); its address pays gas from
the native account 12 zero bytes then the address. deploy prints the contract's address, send
the transaction hash once its receipt says success (a revert is an error naming the hash),
call the --returns values one a line (uintN, intN, address, bool, bytesN, bytes, string; raw
0x hex without --returns). Arguments are typed by the artifact's ABI (deploy) or the
signature (call, send).";

const DB_HELP: &str = "Examples:
  ID=$(vein-testnet db create --name clinic --parties 0,1,2 --members 0,1,2 --quorum 2 \\
        --table 'patients(id integer key, name text, note text?)' --table 'visits(id int, day text)')
  vein-testnet db exec --consortium $ID --from 1 \"insert patients (1, 'Ada', null), (2, 'Bob', 'x')\"
  vein-testnet db exec --consortium $ID \"upsert patients (2, 'Bob', null); delete patients 1\"
  vein-testnet db deny --consortium $ID --account 2            (every table; --table for one)
  vein-testnet db grant --consortium $ID --account 3 --table visits --from 0 --approvers 2
  vein-testnet db query --consortium $ID 'SELECT id, name FROM patients ORDER BY id' --at 12
  vein-testnet db query --consortium $ID --table patients --key 2 --at 12   (row + proof)
  vein-testnet db verify --consortium $ID
  vein-testnet db history --consortium $ID
  vein-testnet db list [--consortium $ID]
  vein-testnet db load --consortium $ID --rate 100 --duration 30
  vein-testnet db load --consortium $ID --rate 3000 --duration 20 --writers 32   (32 signers)
Parties and --from are node indexes or `faucet`; transactions are signed here and each waits
until final. Tables: NAME(COLUMN TYPE[?] [key], ...), types integer, text, blob, bool; `?` is
nullable; the key defaults to the first column. Operations (one table per exec, atomic):
insert T (v, ...)[, (...)]; upsert T (v, ...); delete T KEY[, KEY]. Values: 12, 'it''s',
x'00ff', true, false, null. The data key stays in DIR/consortia/ID.json (mode 0600).
Exit codes: 0 done; 1 the testnet failed (unreachable, timeout); 2 bad command line or syntax;
3 refused by the rules, the chain or a replica (no permission, final but ignored, verify).";

/// `vein-testnet scenario --help`'s examples and exit statuses.
const SCENARIO_HELP: &str = "Examples:\n  \
    vein-testnet scenario scenarios/selfish.toml\n      \
      q = 0.4: 4 honest nodes and a withhold node, T = 500 ms, the file's 2 seeds\n  \
    vein-testnet scenario scenarios/selfish.toml --param q=0.25 --seeds 2 --duration-s 120\n  \
    vein-testnet scenario scenarios/selfish.toml --interval-ms 250 --keep   (keeps the logs)\n\n\
Families: selfish_revenue (withhold). Others are refused with the reason (exit 2).\n\
Exit status: 0 pass, 1 the report's verdict is not pass (a rejected reference or a\n\
violation such as final-reverted), 2 refused before starting, 5 a run failed.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Scenario(args) = &cli.command {
        return ExitCode::from(vein_testnet::scenario_run::main(args));
    }
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            // 2 for a wrong command line, as clap exits for the arguments it refuses itself.
            if error.is_usage() {
                ExitCode::from(2)
            } else if error.is_refusal() {
                ExitCode::from(3)
            } else if matches!(error, TestnetError::HistoryViolated { .. }) {
                ExitCode::from(4)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn side(dir: &std::path::Path, command: SideCommand) -> Result<(), TestnetError> {
    let mut main = Manifest::load(dir)?;
    match command {
        SideCommand::Up {
            nodes,
            nonces,
            interval_ms,
            k,
            anchor_interval,
            no_relay,
            ready_timeout,
        } => {
            let options = vein_testnet::side::SideOptions {
                nodes,
                nonces,
                target_interval_ms: interval_ms,
                finality_depth: k,
                anchor_interval,
                no_relay,
                ready_timeout: Duration::from_secs(ready_timeout),
            };
            let side = vein_testnet::side::up(&mut main, &options)?;
            println!("side chain {} is up ({} nodes)", side.chain_id, side.nodes.len());
            for node in &side.nodes {
                println!(
                    "  side node {}: api http://{}/  log {}",
                    node.index,
                    node.api,
                    node.log.display()
                );
            }
            println!("manifest: {}", Manifest::path(&side.dir).display());
            if let Some(entry) = &main.side {
                match entry.relayer_pid {
                    Some(pid) => {
                        println!("relayer: pid {pid}, log {}", entry.relayer_log.display())
                    }
                    None => println!("relayer: not started (run `vein-testnet peg relay`)"),
                }
            }
        }
        SideCommand::Down => {
            let (stopped, relayer) = vein_testnet::side::down(&mut main)?;
            let relayer = if relayer { " and the relayer" } else { "" };
            println!("stopped {stopped} side node(s){relayer}");
        }
    }
    Ok(())
}

/// A history report with violations is an error (exit 4), after the report was printed.
fn history_verdict(report: &vein_node::history::HistoryReport) -> Result<(), TestnetError> {
    match report.violations.first() {
        None => Ok(()),
        Some(first) => Err(TestnetError::HistoryViolated {
            count: report.violations.len(),
            first: first.to_string(),
        }),
    }
}

/// Paused nodes cannot be reached, so fault changes skip them: say so.
fn note_paused(manifest: &Manifest) {
    let paused = vein_testnet::paused_nodes(manifest);
    if !paused.is_empty() {
        eprintln!("note: paused node(s) {paused:?} were not reached; repeat after `resume`");
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}

fn execute(cli: Cli) -> Result<(), TestnetError> {
    let dir = cli.dir;
    match cli.command {
        // main() runs it before this, for its own exit statuses (its verdict is not an error).
        Command::Scenario(_) => {}
        Command::Up {
            nodes,
            nonces,
            interval_ms,
            k,
            label,
            node_bin,
            ready_timeout,
            attacker,
            attacker_nonces,
        } => {
            let options = UpOptions {
                dir,
                nodes,
                nonces,
                target_interval_ms: interval_ms,
                finality_depth: k,
                label,
                node_bin,
                ready_timeout: Duration::from_secs(ready_timeout),
                attackers: attacker,
                attacker_nonces,
            };
            let manifest = vein_testnet::up(&options)?;
            println!("testnet {} is up ({} nodes)", manifest.chain_id, manifest.nodes.len());
            for node in &manifest.nodes {
                println!(
                    "  node {}: api http://{}/  metrics http://{}/metrics  log {}",
                    node.index,
                    node.api,
                    node.api,
                    node.log.display()
                );
            }
            println!("manifest: {}", Manifest::path(&manifest.dir).display());
            if let Some(token) = &manifest.api_token {
                // Privileged routes (/control/*, node-signed transfers) need it; the CLI sends it.
                println!("API token: {} (Authorization: Bearer <its content>)", token.display());
            }
        }
        Command::Status { json } => {
            let manifest = Manifest::load(&dir)?;
            let rows = vein_testnet::status(&manifest);
            if json {
                println!("{}", to_json(&rows));
            } else {
                print!("{}", vein_testnet::status_table(&rows));
            }
            if let Some(entry) = &manifest.side {
                let side = Manifest::load(&entry.dir)?;
                let rows = vein_testnet::status(&side);
                let relayer = entry
                    .relayer_pid
                    .filter(|pid| vein_testnet::side::relayer_alive(*pid, &manifest.dir));
                if json {
                    println!("{}", to_json(&rows));
                } else {
                    println!("side chain {} (a = {}):", side.chain_id, entry.anchor_interval);
                    print!("{}", vein_testnet::status_table(&rows));
                }
                match relayer {
                    Some(pid) => {
                        eprintln!("relayer: pid {pid}, log {}", entry.relayer_log.display())
                    }
                    None => eprintln!("relayer: not running (`vein-testnet peg relay`)"),
                }
            }
        }
        Command::Tx { from, to, amount, fee, nonce, via, wait, wait_timeout } => {
            let manifest = Manifest::load(&dir)?;
            let from = match from.as_str() {
                "faucet" => Sender::Faucet,
                index => Sender::Node(index.parse().map_err(|_| TestnetError::BadArgument {
                    flag: "from",
                    reason: format!("{index:?}: not a node index or faucet"),
                })?),
            };
            let request = TxRequest { from, to, amount, fee, nonce, via };
            // The CLI's own timing, as in the library: nothing of it reaches a node's core.
            #[allow(clippy::disallowed_methods)]
            let submitted = std::time::Instant::now();
            let id = vein_testnet::tx(&manifest, &request)?;
            println!("{id}");
            if wait {
                let timeout = Duration::from_secs(wait_timeout);
                let node = request.via_node();
                let seen = vein_testnet::wait_final(&manifest, node, &id, submitted, timeout)?;
                let node_ms = seen.node_ms.map_or("-".into(), |ms| format!("{ms} ms"));
                eprintln!(
                    "final at height {} after {:.2} s (node {node}: accepted to final {node_ms})",
                    seen.height,
                    seen.waited.as_secs_f64()
                );
            }
        }
        Command::Kill { node, graceful } => {
            let mut manifest = Manifest::load(&dir)?;
            vein_testnet::kill(&mut manifest, node, graceful)?;
            println!("node {node} stopped");
        }
        Command::Restart { node, ready_timeout } => {
            let mut manifest = Manifest::load(&dir)?;
            vein_testnet::restart(&mut manifest, node, Duration::from_secs(ready_timeout))?;
            println!("node {node} running again");
        }
        Command::Corrupt { node, file, pick, ready_timeout } => {
            let mut manifest = Manifest::load(&dir)?;
            let timeout = Duration::from_secs(ready_timeout);
            let report = vein_testnet::corrupt::corrupt(&mut manifest, node, file, pick, timeout)?;
            println!(
                "{}: byte {} flipped (record {} of {}); node {node} refused to start, as it must:",
                report.file.display(),
                report.offset,
                report.record_index,
                report.records
            );
            println!("{}", report.refusal);
            println!(
                "to recover: restore the file from a backup, or move it aside and                  `vein-testnet restart {node}`"
            );
        }
        Command::Partition { groups } => {
            let manifest = Manifest::load(&dir)?;
            let groups = vein_testnet::parse_partition(&groups, manifest.nodes.len())?;
            vein_testnet::partition(&manifest, &groups)?;
            println!("partitioned: {groups:?}");
            note_paused(&manifest);
        }
        Command::Heal => {
            let manifest = Manifest::load(&dir)?;
            vein_testnet::heal(&manifest)?;
            println!("healed");
            note_paused(&manifest);
        }
        Command::Fault { delay_ms, loss_per_mille, node } => {
            vein_testnet::fault(&Manifest::load(&dir)?, &node, delay_ms, loss_per_mille)?;
            println!("faults set");
        }
        Command::Pause { node } => {
            vein_testnet::pause(&mut Manifest::load(&dir)?, node)?;
            println!("node {node} paused (SIGSTOP); `vein-testnet resume {node}` continues it");
        }
        Command::Resume { node, ready_timeout } => {
            let mut manifest = Manifest::load(&dir)?;
            vein_testnet::resume(&mut manifest, node, Duration::from_secs(ready_timeout))?;
            println!("node {node} resumed");
        }
        Command::Delay { from, to, ms } => {
            let manifest = Manifest::load(&dir)?;
            vein_testnet::link_fault(&manifest, from, to, LinkFaultKind::Delay { ms })?;
            println!("link {from} -> {to}: +{ms} ms");
        }
        Command::Loss { from, to, percent } => {
            let manifest = Manifest::load(&dir)?;
            vein_testnet::link_fault(&manifest, from, to, LinkFaultKind::Loss { percent })?;
            println!("link {from} -> {to}: {percent}% lost");
        }
        Command::Logs { node, lines, follow: false } => {
            println!("{}", vein_testnet::logs(&Manifest::load(&dir)?, node, lines)?);
        }
        Command::Logs { node, lines, follow: true } => {
            let manifest = Manifest::load(&dir)?;
            let poll = Duration::from_millis(250);
            let stdout = &mut std::io::stdout();
            let why = vein_testnet::follow_logs(&manifest, node, lines, poll, stdout, &|| false)?;
            eprintln!("{why}");
        }
        Command::Load {
            rate,
            duration,
            settle,
            concurrency,
            batch,
            accounts,
            busy_retry_s,
            history,
            token,
            lag_max_s,
        } => {
            let manifest = Manifest::load(&dir)?;
            let options = LoadOptions {
                rate,
                duration: Duration::from_secs(duration),
                settle: Duration::from_secs(settle),
                concurrency,
                batch,
                accounts,
                busy_retry: Duration::from_secs(busy_retry_s),
                history,
                token,
                lag_max: Duration::from_secs(lag_max_s),
            };
            let report = vein_testnet::load(&manifest, &options)?;
            println!("{}", to_json(&report));
            if let Some(history) = &report.history {
                history_verdict(history)?;
            }
            if let Some(stopped) = &report.stopped_behind {
                return Err(stopped.error(report.offered));
            }
        }
        Command::CheckHistory { file, settle } => {
            let manifest = Manifest::load(&dir)?;
            let history = vein_testnet::history_check::read_history(&file)?;
            let settle = Duration::from_secs(settle);
            let report = vein_testnet::history_check::check_history(&manifest, &history, settle)?;
            println!("{}", to_json(&report));
            history_verdict(&report)?;
        }
        Command::Erc20Load {
            rate,
            duration,
            settle,
            senders,
            concurrency,
            batch,
            native_rate,
            idle_s,
            artifact,
            resends,
            resend_after_s,
        } => {
            let manifest = Manifest::load(&dir)?;
            let options = vein_testnet::erc20_load::Erc20LoadOptions {
                rate,
                duration: Duration::from_secs(duration),
                settle: Duration::from_secs(settle),
                senders,
                concurrency,
                batch,
                native_rate,
                idle: Duration::from_secs(idle_s),
                artifact,
                resends,
                resend_after: Duration::from_secs(resend_after_s),
            };
            let report = vein_testnet::erc20_load::erc20_load(&manifest, &options)?;
            println!("{}", to_json(&report));
        }
        Command::Put { file, via, n, k, term_rounds, fee, timeout } => {
            let manifest = Manifest::load(&dir)?;
            let options = vein_testnet::storage::PutOptions {
                file,
                via,
                data_shards: k,
                total_shards: n,
                term_rounds,
                fee,
                timeout: Duration::from_secs(timeout),
            };
            let report = vein_testnet::storage::put(&manifest, &options)?;
            for (shard, reason) in &report.undelivered {
                eprintln!("note: shard {shard} not delivered: {reason}");
            }
            eprintln!(
                "stored shards {:?} of {} (any {} recover it); owner key {}",
                report.delivered,
                report.put.total_shards,
                report.put.data_shards,
                report.key_path.display()
            );
            println!("{}", report.file_id);
        }
        Command::Get { id, out } => {
            let manifest = Manifest::load(&dir)?;
            let file_id = vein_testnet::storage::parse_file_id(&id)?;
            let report = vein_testnet::storage::get(&manifest, &file_id, &out)?;
            for (shard, reason) in &report.skipped {
                eprintln!("note: shard {shard} skipped: {reason}");
            }
            println!(
                "wrote {} bytes to {} (from shards {:?})",
                report.bytes,
                out.display(),
                report.used
            );
        }
        Command::Contract { command } => {
            println!("{}", vein_testnet::contract::run(&Manifest::load(&dir)?, &command)?);
        }
        Command::Token { command } => {
            println!("{}", vein_testnet::token::run(&Manifest::load(&dir)?, &command)?);
        }
        Command::Db { command } => {
            println!("{}", vein_testnet::db::run(&Manifest::load(&dir)?, &command)?);
        }
        Command::Fl { command } => {
            println!("{}", vein_testnet::fl::run(&Manifest::load(&dir)?, &dir, &command)?);
        }
        Command::Side { command } => side(&dir, command)?,
        Command::Peg { command } => {
            println!("{}", vein_testnet::peg::run(&Manifest::load(&dir)?, &command)?);
        }
        Command::Down { purge } => {
            let mut manifest = Manifest::load(&dir)?;
            let stopped = vein_testnet::down(&mut manifest, purge)?;
            println!(
                "stopped {stopped} node(s){}",
                if purge { ", removed the directory" } else { "" }
            );
        }
    }
    Ok(())
}
