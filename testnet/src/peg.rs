//! `vein-testnet peg ...`: the two-way peg between the main net and its side chain (`side up`;
//! docs/peg.md "On a testnet"). `lock` and `burn` are signed here with each chain's faucet key
//! and posted pre-signed; `relay` is the relayer ([`crate::relay`]); `status` reads both chains'
//! `GET /peg` and checks conservation per token; `roundtrip` times lock → mint → burn →
//! release end to end against the rule's floor ([`floor_ms`]).

use crate::breakdown::percentile;
use crate::manifest::Manifest;
use crate::relay::{ChainEnd, Nonces, Relayer, post_signed};
use crate::side::{side_entry, side_manifest};
use crate::{TestnetError, bad_argument, http, resolve_account};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use vein_node::api_types::{PegView, TokenBalance};
use vein_node::core::crypto::{AccountId, Keypair};
use vein_node::core::peg::{PegTx, wrapped_token_id};
use vein_node::core::token::{IssueToken, SupplyRule, TokenId, TokenTx, token_id};
use vein_node::core::transaction::TxKind;

/// Why a peg command gave up.
#[derive(Debug, thiserror::Error)]
pub enum PegCliError {
    /// A lock or burn of more than the sender holds.
    #[error("{account} holds {balance} of token {token} on {chain}; {needed} needed")]
    InsufficientBalance {
        /// "main" or "side".
        chain: &'static str,
        /// The token (64 hex).
        token: String,
        /// The sender (64 hex).
        account: String,
        /// What it holds.
        balance: u64,
        /// What was asked.
        needed: u64,
    },
    /// A leg of a round trip did not arrive in time.
    #[error("round {round}: {leg} not seen after {seconds} s (is the relayer running? {log})")]
    LegTimedOut {
        /// The round (from 0).
        round: usize,
        /// `lock → mint` or `burn → release`.
        leg: &'static str,
        /// The timeout.
        seconds: u64,
        /// The relayer's log.
        log: String,
    },
    /// `status` cannot check conservation from a truncated answer.
    #[error("{chain} holds {len} peg {what}, more than one answer lists: conservation not checked")]
    Truncated {
        /// "main" or "side".
        chain: &'static str,
        /// `outbox entries` or `claims`.
        what: &'static str,
        /// How many it holds.
        len: u64,
    },
    /// Conservation failed for a token (a bug, or a broken bridge).
    #[error(
        "token {token}: escrow {held} != minted {minted} - burned {burned} + in flight {in_flight}"
    )]
    Unbalanced {
        /// The home token (64 hex).
        token: String,
        /// Main's escrow for the side chain.
        held: u64,
        /// The side's wrapped counters.
        minted: u64,
        /// See `minted`.
        burned: u64,
        /// Locks not yet minted plus burns not yet released.
        in_flight: u64,
    },
}

/// The `vein-testnet peg` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum PegCommand {
    /// Carry anchors and claims between main and side until stopped (`side up` starts one in
    /// the background; --once for one pass).
    Relay {
        /// One pass over both directions, then exit.
        #[arg(long)]
        once: bool,
        /// Time between passes.
        #[arg(long, default_value_t = 500)]
        tick_ms: u64,
    },
    /// Lock a main-chain token (signed by main's faucet) for an account on the side chain.
    Lock {
        /// The token id on main (64 hex).
        #[arg(long)]
        token: String,
        /// Base units; at least 1.
        #[arg(long)]
        amount: u64,
        /// The side-chain recipient: a side node index, `faucet`, or a 64-hex account.
        #[arg(long, default_value = "faucet")]
        to: String,
    },
    /// Burn the wrapped form of a main-chain token on the side (signed by the side's faucet),
    /// releasing it on main.
    Burn {
        /// The token id on main (64 hex); its wrapped id on the side derives from it.
        #[arg(long)]
        token: String,
        /// Base units; at least 1.
        #[arg(long)]
        amount: u64,
        /// The main-chain recipient: a main node index, `faucet`, or a 64-hex account.
        #[arg(long, default_value = "faucet")]
        to: String,
    },
    /// Both chains' peg state and conservation per token, as JSON (exit 1 if unbalanced).
    Status,
    /// Lock on main, wait for the mint on the side, burn it, wait for the release on main;
    /// print each leg's time, and with --count N the p50/p95 and the rule's floor.
    Roundtrip {
        /// Base units moved each round.
        #[arg(long, default_value_t = 10)]
        amount: u64,
        /// Rounds, one after another.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// A main token held by main's faucet (default: issue one).
        #[arg(long)]
        token: Option<String>,
        /// Seconds each leg may take at most.
        #[arg(long, default_value_t = 180)]
        leg_timeout: u64,
    },
}

/// Both ends of the peg.
struct Ends {
    main: ChainEnd,
    side: ChainEnd,
    anchor_interval: u64,
}

impl Ends {
    fn load(manifest: &Manifest) -> Result<Ends, TestnetError> {
        let anchor_interval = side_entry(manifest)?.anchor_interval;
        let side = ChainEnd::load("side", side_manifest(manifest)?)?;
        Ok(Ends { main: ChainEnd::load("main", manifest.clone())?, side, anchor_interval })
    }
}

fn faucet(chain: &ChainEnd) -> Result<Keypair, TestnetError> {
    crate::read_key(&chain.manifest.faucet_key)
}

fn parse_token(text: &str) -> Result<TokenId, TestnetError> {
    TokenId::from_hex(text).ok_or_else(|| bad_argument("token", format!("{text:?}: not 64 hex")))
}

fn positive(amount: u64) -> Result<u64, TestnetError> {
    if amount == 0 {
        return Err(bad_argument("amount", "must be at least 1 (the ledger refuses 0)"));
    }
    Ok(amount)
}

/// `account`'s balance of `token` at `api`'s head; 0 for a token not (yet) there.
fn balance(api: SocketAddr, token: &TokenId, account: &AccountId) -> Result<u64, TestnetError> {
    match http::get::<TokenBalance>(api, &format!("/token/{token}/balance/{}", account.to_hex())) {
        Ok(answer) => Ok(answer.balance),
        Err(http::HttpError::Status { status: 404, .. }) => Ok(0),
        Err(error) => Err(error.into()),
    }
}

fn require(
    chain: &ChainEnd,
    token: &TokenId,
    key: &Keypair,
    needed: u64,
) -> Result<SocketAddr, TestnetError> {
    let api = chain.api()?;
    let held = balance(api, token, &key.account())?;
    if held < needed {
        return Err(PegCliError::InsufficientBalance {
            chain: chain.label,
            token: token.to_string(),
            account: key.account().to_hex(),
            balance: held,
            needed,
        }
        .into());
    }
    Ok(api)
}

fn lock(
    ends: &Ends,
    nonces: &mut Nonces,
    token: TokenId,
    amount: u64,
    to: AccountId,
) -> Result<String, TestnetError> {
    let key = faucet(&ends.main)?;
    let api = require(&ends.main, &token, &key, amount)?;
    let tx = PegTx::Lock { token, amount, dest_chain: ends.side.id, recipient: to };
    let nonce = nonces.take(api, &key.account())?;
    post_signed(api, &key, nonce, TxKind::Peg(Box::new(tx)))
}

fn burn(
    ends: &Ends,
    nonces: &mut Nonces,
    token: TokenId,
    amount: u64,
    to: AccountId,
) -> Result<String, TestnetError> {
    let key = faucet(&ends.side)?;
    let wrapped = wrapped_token_id(&ends.main.id, &token);
    let api = require(&ends.side, &wrapped, &key, amount)?;
    let tx = PegTx::Burn { wrapped, amount, recipient: to };
    let nonce = nonces.take(api, &key.account())?;
    post_signed(api, &key, nonce, TxKind::Peg(Box::new(tx)))
}

/// Run one peg command; returns what to print on stdout.
pub fn run(manifest: &Manifest, command: &PegCommand) -> Result<String, TestnetError> {
    match command {
        PegCommand::Relay { once, tick_ms } => relay(manifest, *once, *tick_ms),
        PegCommand::Lock { token, amount, to } => {
            let ends = Ends::load(manifest)?;
            let to = resolve_account(&ends.side.manifest, to)?;
            lock(&ends, &mut Nonces::default(), parse_token(token)?, positive(*amount)?, to)
        }
        PegCommand::Burn { token, amount, to } => {
            let ends = Ends::load(manifest)?;
            let to = resolve_account(manifest, to)?;
            burn(&ends, &mut Nonces::default(), parse_token(token)?, positive(*amount)?, to)
        }
        PegCommand::Status => {
            let status = status(&Ends::load(manifest)?)?;
            let text = serde_json::to_string_pretty(&status)
                .map_err(|error| TestnetError::Invalid(error.to_string()))?;
            match status.tokens.iter().find(|row| !row.conserved) {
                Some(row) => {
                    println!("{text}");
                    Err(PegCliError::Unbalanced {
                        token: row.token.clone(),
                        held: row.escrow_held,
                        minted: row.minted,
                        burned: row.burned,
                        in_flight: row.locks_in_flight + row.burns_in_flight,
                    }
                    .into())
                }
                None => Ok(text),
            }
        }
        PegCommand::Roundtrip { amount, count, token, leg_timeout } => {
            let ends = Ends::load(manifest)?;
            let token = token.as_deref().map(parse_token).transpose()?;
            let timeout = Duration::from_secs(*leg_timeout);
            roundtrip(&ends, positive(*amount)?, (*count).max(1), token, timeout)
        }
    }
}

/// The relayer loop: a pass every `tick_ms`, its actions logged on stdout; errors (a node
/// down, a refused transaction) are logged and the next pass tries again.
fn relay(manifest: &Manifest, once: bool, tick_ms: u64) -> Result<String, TestnetError> {
    let ends = Ends::load(manifest)?;
    let mut relayer = Relayer::new(ends.main, ends.side, ends.anchor_interval);
    loop {
        match relayer.tick() {
            Ok(lines) => {
                for line in lines {
                    println!("{} {line}", crate::now_ms());
                }
            }
            Err(error) if once => return Err(error),
            Err(error) => eprintln!("{} pass failed: {error}", crate::now_ms()),
        }
        if once {
            return Ok(String::new());
        }
        std::thread::sleep(Duration::from_millis(tick_ms.max(50)));
        // Nodes restarted since keep their ports but not their pids.
        if let (Ok(main), Ok(side)) = (Manifest::load(&manifest.dir), side_manifest(manifest)) {
            relayer.refresh(main, side);
        }
    }
}

/// One token's peg across the two chains.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenPeg {
    /// The home token on main (64 hex).
    pub token: String,
    /// Main's escrow for the side chain: locked and not released.
    pub escrow_held: u64,
    /// Ever locked for the side chain.
    pub locked: u64,
    /// Ever released on main.
    pub released: u64,
    /// The side's wrapped counters.
    pub minted: u64,
    /// See `minted`.
    pub burned: u64,
    /// Locks on main the side has not minted.
    pub locks_in_flight: u64,
    /// Burns on the side main has not released.
    pub burns_in_flight: u64,
    /// `escrow_held == minted - burned + locks_in_flight + burns_in_flight`.
    pub conserved: bool,
}

/// What `peg status` prints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PegStatus {
    /// Main's chain id (64 hex).
    pub main_chain: String,
    /// The side's chain id (64 hex).
    pub side_chain: String,
    /// Main's head height when read (main is read first: see [`status`]).
    pub main_height: u64,
    /// The side's head height when read.
    pub side_height: u64,
    /// One row per token pegged from main to the side.
    pub tokens: Vec<TokenPeg>,
}

fn whole(view: &PegView, chain: &'static str) -> Result<(), TestnetError> {
    if view.outbox_len > view.outbox.len() as u64 {
        return Err(
            PegCliError::Truncated { chain, what: "outbox entries", len: view.outbox_len }.into()
        );
    }
    if view.claimed_len > view.claimed.len() as u64 {
        return Err(PegCliError::Truncated { chain, what: "claims", len: view.claimed_len }.into());
    }
    Ok(())
}

/// Read main's peg state, then the side's, and check conservation per token (as
/// `vein_node::core::peg::conservation` does for two ledgers). Main first: everything the side
/// claimed by then was appended on main before, so the two reads are consistent.
fn status(ends: &Ends) -> Result<PegStatus, TestnetError> {
    let main: PegView = http::get(ends.main.api()?, "/peg?limit=1000")?;
    let side: PegView = http::get(ends.side.api()?, "/peg?limit=1000")?;
    whole(&main, "main")?;
    whole(&side, "side")?;
    let (main_id, side_id) = (ends.main.id.to_string(), ends.side.id.to_string());
    let side_claims: BTreeSet<&str> =
        side.claimed.iter().filter(|c| c.chain == main_id).map(|c| c.entry.as_str()).collect();
    let main_claims: BTreeSet<&str> =
        main.claimed.iter().filter(|c| c.chain == side_id).map(|c| c.entry.as_str()).collect();
    let mut tokens: BTreeSet<String> =
        main.escrows.iter().filter(|e| e.chain == side_id).map(|e| e.token.clone()).collect();
    tokens.extend(
        side.wrapped.iter().filter(|w| w.home_chain == main_id).map(|w| w.home_token.clone()),
    );
    let rows = tokens
        .into_iter()
        .map(|token| {
            let escrow = main.escrows.iter().find(|e| e.chain == side_id && e.token == token);
            let wrapped =
                side.wrapped.iter().find(|w| w.home_chain == main_id && w.home_token == token);
            let locks_in_flight: u64 = main
                .outbox
                .iter()
                .filter(|e| e.direction == "lock" && e.dest_chain == side_id && e.token == token)
                .filter(|e| !side_claims.contains(e.id.as_str()))
                .map(|e| e.amount)
                .sum();
            let burns_in_flight: u64 = side
                .outbox
                .iter()
                .filter(|e| e.direction == "burn" && e.dest_chain == main_id && e.token == token)
                .filter(|e| !main_claims.contains(e.id.as_str()))
                .map(|e| e.amount)
                .sum();
            let (held, locked, released) =
                escrow.map_or((0, 0, 0), |e| (e.held, e.locked, e.released));
            let (minted, burned) = wrapped.map_or((0, 0), |w| (w.minted, w.burned));
            let expected = i128::from(minted) - i128::from(burned)
                + i128::from(locks_in_flight)
                + i128::from(burns_in_flight);
            TokenPeg {
                token,
                escrow_held: held,
                locked,
                released,
                minted,
                burned,
                locks_in_flight,
                burns_in_flight,
                conserved: i128::from(held) == expected,
            }
        })
        .collect();
    Ok(PegStatus {
        main_chain: main_id,
        side_chain: side_id,
        main_height: main.height,
        side_height: side.height,
        tokens: rows,
    })
}

/// The token a round trip moves: `given`, or a fresh fixed-supply one issued by main's faucet
/// (waited for until main's head holds it).
fn round_trip_token(
    ends: &Ends,
    nonces: &mut Nonces,
    given: Option<TokenId>,
) -> Result<TokenId, TestnetError> {
    if let Some(token) = given {
        return Ok(token);
    }
    let key = faucet(&ends.main)?;
    let api = ends.main.api()?;
    let nonce = nonces.take(api, &key.account())?;
    let issue = IssueToken {
        name: "Peg round trip".into(),
        symbol: "RT".into(),
        decimals: 0,
        initial_supply: 1_000_000_000_000,
        supply: SupplyRule::Fixed,
    };
    post_signed(api, &key, nonce, TxKind::Token(Box::new(TokenTx::Issue(issue))))?;
    let token = token_id(&key.account(), nonce);
    eprintln!("issued token {token} on main; waiting until applied");
    wait_balance(api, &token, &key.account(), 1, Duration::from_secs(120)).map_err(|_| {
        TestnetError::Invalid(format!("token {token} was not applied on main in 120 s"))
    })?;
    Ok(token)
}

/// Poll until `account` holds at least `at_least` of `token`; the time it took.
fn wait_balance(
    api: SocketAddr,
    token: &TokenId,
    account: &AccountId,
    at_least: u64,
    timeout: Duration,
) -> Result<Duration, ()> {
    // The CLI's own timing: nothing of it reaches a node's core.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    loop {
        if balance(api, token, account).is_ok_and(|held| held >= at_least) {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= timeout {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The round trips, one after another, and their report.
fn roundtrip(
    ends: &Ends,
    amount: u64,
    count: usize,
    token: Option<TokenId>,
    timeout: Duration,
) -> Result<String, TestnetError> {
    let mut nonces = Nonces::default();
    let token = round_trip_token(ends, &mut nonces, token)?;
    let wrapped = wrapped_token_id(&ends.main.id, &token);
    let (main_faucet, side_faucet) = (faucet(&ends.main)?.account(), faucet(&ends.side)?.account());
    let (main_api, side_api) = (ends.main.api()?, ends.side.api()?);
    let log = side_entry(&ends.main.manifest)?.relayer_log.display().to_string();
    let timed_out = |round, leg| PegCliError::LegTimedOut {
        round,
        leg,
        seconds: timeout.as_secs(),
        log: log.clone(),
    };
    let mut legs: Vec<(u64, u64)> = Vec::new();
    for round in 0..count {
        let minted_before = balance(side_api, &wrapped, &side_faucet)?;
        lock(ends, &mut nonces, token, amount, side_faucet)?;
        let down = wait_balance(side_api, &wrapped, &side_faucet, minted_before + amount, timeout)
            .map_err(|()| timed_out(round, "lock → mint"))?;
        let home_before = balance(main_api, &token, &main_faucet)?;
        burn(ends, &mut nonces, token, amount, main_faucet)?;
        let up = wait_balance(main_api, &token, &main_faucet, home_before + amount, timeout)
            .map_err(|()| timed_out(round, "burn → release"))?;
        let (down_ms, up_ms) = (down.as_millis() as u64, up.as_millis() as u64);
        eprintln!(
            "round {}/{count}: lock → mint {:.1} s, burn → release {:.1} s, round trip {:.1} s",
            round + 1,
            down_ms as f64 / 1e3,
            up_ms as f64 / 1e3,
            (down_ms + up_ms) as f64 / 1e3
        );
        legs.push((down_ms, up_ms));
    }
    let report = report(ends, &token, &legs)?;
    serde_json::to_string_pretty(&report).map_err(|error| TestnetError::Invalid(error.to_string()))
}

/// p50 and p95 of one leg (nearest rank), in ms.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LegTimes {
    /// Median.
    pub p50_ms: u64,
    /// 95th percentile.
    pub p95_ms: u64,
}

/// What `peg roundtrip` prints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoundTripReport {
    /// The token moved (on main).
    pub token: String,
    /// Rounds run.
    pub rounds: usize,
    /// Lock submitted on main → minted amount visible at the side's head.
    pub lock_to_mint: LegTimes,
    /// Burn submitted on the side → released amount visible at main's head.
    pub burn_to_release: LegTimes,
    /// Both legs.
    pub round_trip: LegTimes,
    /// The rule's floor for a round trip with these chains' parameters ([`floor_ms`]).
    pub floor_ms: u64,
    /// The floor plus the mean wait for an anchor boundary (`(a - 1) / 2` source intervals per
    /// leg).
    pub floor_with_alignment_ms: u64,
    /// Every round's `(lock → mint, burn → release)` in ms.
    pub legs_ms: Vec<(u64, u64)>,
}

fn leg_times(mut values: Vec<u64>) -> LegTimes {
    values.sort_unstable();
    LegTimes {
        p50_ms: percentile(&values, 0.5).unwrap_or(0),
        p95_ms: percentile(&values, 0.95).unwrap_or(0),
    }
}

fn report(
    ends: &Ends,
    token: &TokenId,
    legs: &[(u64, u64)],
) -> Result<RoundTripReport, TestnetError> {
    let (main, side) = (&ends.main.genesis.params, &ends.side.genesis.params);
    let leg = |source: &vein_node::core::params::Params, dest: &vein_node::core::params::Params| {
        floor_ms(source.target_interval_ms, source.finality_depth, dest.target_interval_ms)
    };
    let floor = leg(main, side) + leg(side, main);
    let alignment = ends.anchor_interval.saturating_sub(1)
        * (main.target_interval_ms + side.target_interval_ms)
        / 2;
    Ok(RoundTripReport {
        token: token.to_string(),
        rounds: legs.len(),
        lock_to_mint: leg_times(legs.iter().map(|leg| leg.0).collect()),
        burn_to_release: leg_times(legs.iter().map(|leg| leg.1).collect()),
        round_trip: leg_times(legs.iter().map(|leg| leg.0 + leg.1).collect()),
        floor_ms: floor,
        floor_with_alignment_ms: floor + alignment,
        legs_ms: legs.to_vec(),
    })
}

/// The rule's floor for one leg, in ms (docs/peg.md, "The floor"): the source's next checkpoint
/// includes the lock or burn (one interval `T_src`); the destination's light client must hold
/// that checkpoint final, `k` more source checkpoints, anchored; the anchor and then the claim
/// each wait for a destination checkpoint (`2 T_dst`). Relayer polling and the wait for an
/// anchor boundary (0 to `a - 1` source intervals) come on top.
pub fn floor_ms(source_interval_ms: u64, source_k: u64, dest_interval_ms: u64) -> u64 {
    (1 + source_k) * source_interval_ms + 2 * dest_interval_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_inclusion_finality_and_two_destination_checkpoints() {
        assert_eq!(floor_ms(1_000, 3, 1_000), 6_000);
        assert_eq!(floor_ms(2_000, 6, 500), 15_000);
    }
}
