//! Issue #18, ordering power: how much a checkpoint author can reorder the contract calls it
//! confirms, measured as sandwiches of swaps on a constant-product pool (`SwapPool`).
//!
//! What an author controls. A checkpoint applies the unconfirmed past cone of its parents in
//! post-order depth first, parents in the order named (`Dag::unconfirmed_cone`, White Flag),
//! and its author chooses those parents: honest nodes name eligible tips newest first
//! (`checkpoint_parents`). The author can also issue its own units just before it forges, with
//! parents of its choosing. So, for the swaps of its cone, it can place a unit of its own before
//! any unit it does not descend from and after any unit it approves: a buy `B` approving what
//! the first victim approves (so no victim is in `B`'s cone), helper units chaining the
//! victims, and a sell `S` approving the last helper and the last victim, issued last so that
//! its node's honest parent choice names it first. The order is then `B`, the victims, `S`.
//! What bounds it: (1) only checkpoints it authors, a share q of them; (2) only swaps that no
//! earlier checkpoint confirmed (a confirmed unit is in no later cone); (3) each victim's
//! `minOut`: the attacker sizes `B` so that every victim still gets its minimum, so it takes
//! at most the slippage the victim signed, less the pool's fee on its own two swaps.
//!
//! Story: honest nodes 0..n mine with the network's space, the attacker (last node) with share
//! q, at a fixed base target. A bank wallet deploys the pool and hands tokens to the traders;
//! `swaps` victim swaps then arrive (Poisson, `rate` per T) at honest nodes, each of a random
//! direction and about `size` of the pool's input reserve, with `minOut` = the quote on the
//! submitting node × (1 − `slippage`). The attacker reads the swaps in its DAG as a mempool
//! reader decodes calldata (the family hands it their parameters). One millisecond before each
//! of its own forges it plans the most profitable sandwich of all unconfirmed victims (the pool
//! mirrored in integers, `ordering_power_pool::Reserves`), and places it if the profit is
//! positive. Everything is judged on node 0's final chain:
//! - `victims_first_confirmed_by_attacker`: of the victims whose carriers a final checkpoint
//!   applied, those whose checkpoint the attacker authored: reference q (bounds 1 and 2);
//! - `victims_sandwiched`: of the same victims, those that lie between a buy and its sell of
//!   the attacker, both successful, in one checkpoint's order: reference q, the ceiling (bound 3
//!   keeps it below when a sandwich would not pay);
//! - `victims_reverted`: victims that reverted on their own (swaps ahead of them moved the price
//!   past their minimum; the attacker never turns a success into a revert);
//! - `sandwiched_in_own_checkpoints`: of the sandwiched, those in the attacker's checkpoints;
//! - `victim_loss_share`: per sandwiched victim, (quote at submission − paid) / quote, never
//!   above `slippage` (bound 3; a victim paid below its `minOut` is the violation
//!   `slippage-bound`, which the contract makes impossible);
//! - `sandwich_profit_token0`: per placed sandwich whose two legs applied, its profit in token 0.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use vein_node::core::dag::Outcome;
use vein_node::core::evm::{Address, B256, account_of};
use vein_node::core::hash::Hash;
use vein_node::core::node::Policy;
use vein_node::core::poc::challenge::successor_challenge;
use vein_node::core::poc::model::model_deadline_ms;
use vein_node::core::random::DetRng;
use vein_node::core::transaction::Transaction;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};

use crate::attacker::{AttackerKind, NetworkShape, minority_share};
use crate::engine::{Engine, FEE};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::attack_spec;
use crate::ordering_power_pool::{
    GAS_CALL, GAS_DEPLOY, Reserves, Signed, Wallet, balance, init_code, reserves, swap_input,
    swap_output, transfer_input,
};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

/// Victim wallets; a wallet signs its next swap only once its last one executed, so that the
/// nonce hold never moves a victim.
const VICTIM_WALLETS: u64 = 8;
/// The pool's starting reserves, and what the bank hands each trader of each token.
const RESERVE: u128 = 1_000_000_000_000;
const TRADER_TOKENS: u128 = 1_000_000_000_000;
/// Native units (gwei) each wallet gets for gas: thousands of swaps.
const WALLET_UNITS: u64 = 100_000_000;
/// How long before its forge the attacker places its units: one LocalNet hop is 1 ms.
const LEAD_MS: u64 = 1;
/// Longest wait for the setup and the last victims to settle, in T.
const WAIT_T: u64 = 60;
/// Points of the attacker's search over its front-run size.
const SEARCH_POINTS: u32 = 48;
const CITATION: &str = "docs/evm.md (Ordering power); White Flag order, Dag::unconfirmed_cone";

/// The family's type in the registry.
pub struct OrderingPower;

/// `[attacker] kind = "sandwich"`: the author's share, and the victims' swaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sandwicher {
    /// The attacker's share of the space (and so of the checkpoints).
    pub q: f64,
    /// The victims' slippage tolerance: `minOut` = quote × (1 − slippage).
    pub slippage: f64,
    /// A victim swap's size as a share of the pool's input reserve (× U(0.5, 1.5)).
    pub size: f64,
    /// Victim swaps per T (Poisson).
    pub rate: f64,
    /// Victim swaps per seed.
    pub swaps: u64,
}

impl AttackerKind for Sandwicher {
    const KIND: &'static str = "sandwich";
    const PARAMETERS: &'static [&'static str] = &["q", "slippage"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        minority_share(self.q)?;
        if !(self.slippage.is_finite() && self.slippage > 0.0 && self.slippage < 0.5) {
            return Err(out_of_range("attacker.slippage", self.slippage, "(0, 0.5)"));
        }
        if !(self.size.is_finite() && self.size > 0.0 && self.size <= 0.1) {
            return Err(out_of_range("attacker.size", self.size, "(0, 0.1]"));
        }
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= 8.0) {
            return Err(out_of_range("attacker.rate", self.rate, "(0, 8]"));
        }
        at_least("attacker.swaps", self.swaps, 2)?;
        at_most("attacker.swaps", self.swaps, 2_000)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "q" => self.q = value,
            "slippage" => self.slippage = value,
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("q".into(), self.q);
        labels.insert("slippage".into(), self.slippage);
    }
}

impl Family for OrderingPower {
    const METRIC: &'static str = "ordering_power";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::Share];
    const MADSIM_UNSUPPORTED: Option<&'static str> =
        Some("the attacker places units with parents of its choosing (LocalNet only)");
    type Attacker = Sandwicher;

    fn story(_scenario: &Scenario) -> String {
        "A bank deploys a constant-product pool (SwapPool, 0.3% fee); victim swaps of random \
         direction arrive at honest nodes with minOut = quote x (1 - slippage). The attacker \
         (space share q) mines honestly; 1 ms before each of its forges it places a buy \
         approving what the first unconfirmed victim approves, helper units chaining the \
         victims, and a sell approving the last of them, sized for the most profit that \
         leaves every victim its minOut, so White Flag's post-order applies buy, victims, \
         sell.\n\
         metric: victims_sandwiched (victims between an attacker buy and its sell in one \
         checkpoint, node 0's final chain), victims_first_confirmed_by_attacker, \
         sandwiched_in_own_checkpoints, victim_loss_share, sandwich_profit_token0.\n\
         reference: q, the share of checkpoints the attacker authors: it can sandwich only \
         swaps its own checkpoint is the first to confirm, and takes at most the slippage \
         each victim signed."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// One victim swap as the family submitted it.
struct Victim {
    hash: B256,
    zero_for_one: bool,
    amount_in: u128,
    min_out: u128,
    /// The quote on the submitting node when signed.
    quoted: u128,
}

/// One sandwich the attacker placed.
struct Attempt {
    buy: Hash,
    sell: Hash,
    buy_hash: B256,
    sell_hash: B256,
    zero_for_one: bool,
    amount_in: u128,
    /// What the plan expected the buy to pay: exact when the buy applies before any victim
    /// in the checkpoint the attacker forged on `planned_on`, the head it planned with.
    bought: u128,
    planned_on: Hash,
}

/// The attacker's best sandwich of a list of swaps, if one is profitable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Direction of the buy (the sell goes back).
    pub zero_for_one: bool,
    /// Amount the buy sells.
    pub amount_in: u128,
    /// What the buy pays out, which the sell sells back.
    pub bought: u128,
    /// Profit in the buy's input token.
    pub profit: u128,
}

/// A victim swap as the attacker plans with it: direction, amount, minimum.
pub type Swap = (bool, u128, u128);

/// Which of `swaps` succeed, in order, on `pool` after a front-run of `amount_in`; and the
/// sell-back's payout.
fn simulate(
    pool: Reserves,
    swaps: &[Swap],
    zero_for_one: bool,
    amount_in: u128,
) -> (Vec<bool>, u128) {
    let mut pool = pool;
    let bought = if amount_in > 0 { pool.swap(zero_for_one, amount_in) } else { 0 };
    let mut succeeded = Vec::with_capacity(swaps.len());
    for (direction, amount, min_out) in swaps {
        let ok = pool.quote(*direction, *amount) >= *min_out && *amount > 0;
        if ok {
            pool.swap(*direction, *amount);
        }
        succeeded.push(ok);
    }
    let sold = if bought > 0 { pool.swap(!zero_for_one, bought) } else { 0 };
    (succeeded, sold)
}

/// The profit of a front-run of `amount_in` that leaves every swap of `baseline` successful
/// (in the buy's input token), or `None`.
fn profit_of(
    pool: Reserves,
    swaps: &[Swap],
    baseline: &[bool],
    zero_for_one: bool,
    amount_in: u128,
) -> Option<u128> {
    if amount_in == 0 {
        return None;
    }
    let (succeeded, sold) = simulate(pool, swaps, zero_for_one, amount_in);
    let keeps = baseline.iter().zip(&succeeded).all(|(before, after)| !before || *after);
    (keeps && sold > amount_in).then(|| sold - amount_in)
}

/// The most profitable sandwich of `swaps` (in that order) on `pool` that leaves every swap
/// that would succeed without it successful, with at most `budget` of each token. Profit rises
/// with the front-run's size until the pool's curve or a victim's minimum stops it (beyond,
/// infeasible), so a geometric grid finds the peak's neighbourhood and a ternary search
/// between the grid's neighbours refines it.
pub fn best_sandwich(pool: Reserves, swaps: &[Swap], budget: [u128; 2]) -> Option<Plan> {
    let (baseline, _) = simulate(pool, swaps, true, 0);
    let mut best: Option<(f64, Plan)> = None;
    for zero_for_one in [true, false] {
        let reserve_in = if zero_for_one { pool.reserve0 } else { pool.reserve1 };
        let cap = budget[usize::from(!zero_for_one)].min(reserve_in / 4);
        // Geometric from cap / 2^20 to cap.
        let grid: Vec<u128> = (0..=SEARCH_POINTS)
            .map(|step| {
                let exponent = 20.0 * f64::from(SEARCH_POINTS - step) / f64::from(SEARCH_POINTS);
                (cap as f64 / 2f64.powf(exponent)) as u128
            })
            .collect();
        let profit = |amount_in: u128| profit_of(pool, swaps, &baseline, zero_for_one, amount_in);
        let Some(peak) = (0..grid.len())
            .filter(|at| profit(grid[*at]).is_some())
            .max_by_key(|at| profit(grid[*at]).unwrap_or(0))
        else {
            continue;
        };
        let (mut low, mut high) =
            (grid[peak.saturating_sub(1)], grid[(peak + 1).min(grid.len() - 1)]);
        let score = |amount_in: u128| profit(amount_in).map_or(-1.0, |p| p as f64);
        while high - low > 2 {
            let third = (high - low) / 3;
            if score(low + third) < score(high - third) {
                low += third;
            } else {
                high -= third;
            }
        }
        let amount_in = [low, low + 1, high, grid[peak]]
            .into_iter()
            .max_by(|a, b| score(*a).total_cmp(&score(*b)))
            .unwrap_or(grid[peak]);
        let Some(gain) = profit(amount_in) else { continue };
        let value = pool.in_token0(gain, zero_for_one);
        if best.as_ref().is_none_or(|(best_value, _)| value > *best_value) {
            let bought = pool.quote(zero_for_one, amount_in);
            best = Some((value, Plan { zero_for_one, amount_in, bought, profit: gain }));
        }
    }
    best.map(|(_, plan)| plan)
}

/// The run's state: the engine, the wallets and what was placed.
struct Market<'a, E> {
    context: &'a Context<'a>,
    engine: E,
    attacker: usize,
    capacity: u64,
    honest: usize,
    chain: u64,
    pool: Address,
    victims: Vec<Wallet>,
    thief: Wallet,
    /// The attacker node's next native nonce (the family signs every unit it issues).
    native_nonce: u64,
    swaps: BTreeMap<Hash, Victim>,
    attempts: Vec<Attempt>,
    rng: DetRng,
}

impl<E: Engine> Market<'_, E> {
    /// Steps until `done` holds, at most [`WAIT_T`] intervals.
    fn wait_for(&mut self, what: &str, done: impl Fn(&E) -> bool) -> Result<(), RunError> {
        let cap = self.engine.now_ms() + WAIT_T * self.context.scenario.network.target_interval_ms;
        while !done(&self.engine) {
            if !self.engine.step(cap) {
                return Err(self.context.setup(format!("{what}: not within {WAIT_T} T")));
            }
        }
        Ok(())
    }

    fn submit(&mut self, node: usize, signed: &Signed) -> Result<Hash, RunError> {
        self.engine
            .submit(node, signed.kind(), FEE)
            .ok_or_else(|| self.context.setup(format!("node {node} refused an EVM carrier")))
    }

    /// Funds every wallet, deploys the pool and hands the traders their tokens.
    fn open(&mut self, bank: &mut Wallet) -> Result<(), RunError> {
        let mut funding = Vec::new();
        let addresses: Vec<Address> = std::iter::once(bank.address)
            .chain(self.victims.iter().map(|wallet| wallet.address))
            .chain(std::iter::once(self.thief.address))
            .collect();
        for (index, address) in addresses.iter().enumerate() {
            let from = index % self.honest;
            let id = self.engine.transfer(from, account_of(address), WALLET_UNITS);
            funding.push(id.ok_or_else(|| self.context.setup("a funding transfer was refused"))?);
        }
        self.wait_for("the wallets' funding", |engine| {
            let dag = engine.node(0);
            funding.iter().all(|id| dag.dag().is_confirmed(id))
        })?;
        let code = init_code(Reserves { reserve0: RESERVE, reserve1: RESERVE }, u128::MAX >> 8)
            .map_err(|error| self.context.setup(error.to_string()))?;
        let deploy = bank.sign(None, code, GAS_DEPLOY, self.chain);
        self.submit(0, &deploy)?;
        for address in addresses.iter().skip(1) {
            for token0 in [true, false] {
                let input = transfer_input(*address, token0, TRADER_TOKENS);
                let signed = bank.sign(Some(self.pool), input, GAS_CALL, self.chain);
                self.submit(0, &signed)?;
            }
        }
        let (address, nonce) = (bank.address, bank.next_nonce);
        let nodes = self.engine.node_count();
        self.wait_for("the pool's deployment", |engine| {
            (0..nodes).all(|node| engine.node(node).chain().ledger().evm().nonce(&address) == nonce)
        })
    }

    /// A victim swap from an idle wallet at an honest node; `false` if every wallet is busy.
    fn victim(&mut self, size: f64, slippage: f64) -> Result<bool, RunError> {
        let node = self.rng.below(self.honest as u64) as usize;
        let view = self.engine.node(node);
        let state = view.chain().ledger().evm();
        let Some(index) = self
            .victims
            .iter()
            .position(|wallet| state.nonce(&wallet.address) == wallet.next_nonce)
        else {
            return Ok(false);
        };
        let pool = reserves(state, &self.pool);
        drop(view);
        let zero_for_one = self.rng.below(2) == 0;
        let reserve_in = if zero_for_one { pool.reserve0 } else { pool.reserve1 };
        let scale = size * (0.5 + self.rng.unit_f64());
        let amount_in = ((reserve_in as f64 * scale) as u128).max(1);
        let quoted = pool.quote(zero_for_one, amount_in);
        let min_out = (quoted as f64 * (1.0 - slippage)) as u128;
        let input = swap_input(zero_for_one, amount_in, min_out);
        let signed = self.victims[index].sign(Some(self.pool), input, GAS_CALL, self.chain);
        let unit = self.submit(node, &signed)?;
        let victim = Victim { hash: signed.hash, zero_for_one, amount_in, min_out, quoted };
        self.swaps.insert(unit, victim);
        Ok(true)
    }

    /// When the attacker's node will forge on its current head: the head and the time.
    fn forge_time(&self) -> (Hash, u64) {
        let view = self.engine.node(self.attacker);
        let chain = view.chain();
        let head = chain.head();
        let challenge = successor_challenge(
            head.height,
            &head.generation_signature,
            &head.author,
            head.next_base_target,
            chain.params().challenge_refresh,
        );
        let deadline = model_deadline_ms(&view.account(), self.capacity, &challenge);
        (head.id, head.timestamp_ms.saturating_add(deadline))
    }

    /// Plans and places a sandwich of every unconfirmed victim in the attacker's DAG.
    fn sandwich(&mut self) -> Result<(), RunError> {
        let view = self.engine.node(self.attacker);
        let planned_on = view.chain().head().id;
        let dag = view.dag();
        let mut pending: Vec<(u64, Hash)> = self
            .swaps
            .keys()
            .filter(|id| !dag.is_confirmed(id))
            .filter_map(|id| dag.seq(id).map(|seq| (seq, *id)))
            .collect();
        // Arrival order is topological: a victim's ancestors arrived before it.
        pending.sort_unstable();
        let Some(first) = pending.first().and_then(|(_, id)| dag.get(id)) else { return Ok(()) };
        let first_parents = first.tx.body.parents;
        let state = view.chain().ledger().evm();
        let pool = reserves(state, &self.pool);
        let budget =
            [true, false].map(|token0| balance(state, &self.pool, &self.thief.address, token0));
        drop(view);
        let swaps: Vec<Swap> = pending
            .iter()
            .filter_map(|(_, id)| self.swaps.get(id))
            .map(|victim| (victim.zero_for_one, victim.amount_in, victim.min_out))
            .collect();
        let Some(plan) = best_sandwich(pool, &swaps, budget) else { return Ok(()) };
        let buy = self.thief.sign(
            Some(self.pool),
            swap_input(plan.zero_for_one, plan.amount_in, 0),
            GAS_CALL,
            self.chain,
        );
        let sell = self.thief.sign(
            Some(self.pool),
            swap_input(!plan.zero_for_one, plan.bought, 0),
            GAS_CALL,
            self.chain,
        );
        let mut units = vec![self.unit(buy.kind(), first_parents)?];
        let mut previous = self.id(&units[0])?;
        let ids: Vec<Hash> = pending.iter().map(|(_, id)| *id).collect();
        let (last, chained) = ids.split_last().unwrap_or_else(|| unreachable!("not empty"));
        for victim in chained {
            let to = self.engine.account(0);
            let helper = self
                .engine
                .build_transfer_with_parents(
                    self.attacker,
                    self.native_nonce,
                    to,
                    1,
                    [previous, *victim],
                )
                .ok_or_else(|| self.context.setup("the engine cannot place units"))?;
            self.native_nonce += 1;
            previous = self.id(&helper)?;
            units.push(helper);
        }
        let sell_unit = self.unit(sell.kind(), [previous, *last])?;
        let (buy_id, sell_id) = (self.id(&units[0])?, self.id(&sell_unit)?);
        units.push(sell_unit);
        for unit in units {
            self.engine.inject(self.attacker, unit);
        }
        self.attempts.push(Attempt {
            buy: buy_id,
            sell: sell_id,
            buy_hash: buy.hash,
            sell_hash: sell.hash,
            zero_for_one: plan.zero_for_one,
            amount_in: plan.amount_in,
            bought: plan.bought,
            planned_on,
        });
        Ok(())
    }

    fn unit(
        &mut self,
        kind: vein_node::core::transaction::TxKind,
        parents: [Hash; 2],
    ) -> Result<Transaction, RunError> {
        let unit = self
            .engine
            .build_with_parents(self.attacker, self.native_nonce, kind, parents)
            .ok_or_else(|| self.context.setup("the engine cannot place units"))?;
        self.native_nonce += 1;
        Ok(unit)
    }

    fn id(&self, unit: &Transaction) -> Result<Hash, RunError> {
        unit.id().map_err(|error| self.context.setup(error.to_string()))
    }
}

/// Runs one seed: open the market, then victims arrive and the attacker sandwiches.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let attack: Sandwicher = context.attacker()?;
    let spec = attack_spec(scenario, attack.q, Policy::Honest, false);
    let attacker = spec.capacities.len() - 1;
    let mut engine: E = start(&context, &spec)?;
    let interval = scenario.network.target_interval_ms;
    engine.run_until(interval);
    let chain = engine.node(0).chain().evm_chain_id();
    let mut bank = Wallet::derived(seed, 0);
    let pool = bank.address.create(0);
    let rng_seed = Hash::of_parts(&[b"ordering-power", &seed.to_le_bytes()]).0;
    let mut market = Market {
        context: &context,
        engine,
        attacker,
        capacity: spec.capacities[attacker],
        honest: attacker,
        chain,
        pool,
        victims: (1..=VICTIM_WALLETS).map(|index| Wallet::derived(seed, index)).collect(),
        thief: Wallet::derived(seed, VICTIM_WALLETS + 1),
        native_nonce: 0,
        swaps: BTreeMap::new(),
        attempts: Vec::new(),
        rng: DetRng::from_seed(rng_seed),
    };
    market.open(&mut bank)?;
    let mean_gap_ms = interval as f64 / attack.rate;
    let mut next_arrival = market.engine.now_ms() as f64;
    let mut acted: BTreeSet<Hash> = BTreeSet::new();
    let give_up = market.engine.now_ms() + (attack.swaps + WAIT_T) * interval * 4;
    while (market.swaps.len() as u64) < attack.swaps {
        let now = market.engine.now_ms();
        if now >= give_up {
            return Err(context.setup("the victims did not all arrive in time"));
        }
        let (head, forge_ms) = market.forge_time();
        let act_ms = forge_ms.saturating_sub(LEAD_MS);
        if !acted.contains(&head) && now >= act_ms && now < forge_ms {
            acted.insert(head);
            market.sandwich()?;
            continue;
        }
        let arrival_ms = next_arrival.ceil() as u64;
        if now >= arrival_ms {
            if market.victim(attack.size, attack.slippage)? {
                let gap = -(1.0 - market.rng.unit_f64()).ln() * mean_gap_ms;
                next_arrival += gap;
            } else {
                next_arrival += 1.0; // Every wallet busy: the swap waits a millisecond.
            }
            continue;
        }
        let mut until = arrival_ms;
        if !acted.contains(&head) && act_ms > now {
            until = until.min(act_ms);
        }
        if !market.engine.step(until) {
            market.engine.run_until(until);
        }
    }
    // The last victims, and the sandwiches around them, settle with the attacker still acting.
    let k = scenario.network.finality_depth;
    let settle_ms = market.engine.now_ms() + (k + 3) * interval;
    while market.engine.now_ms() < settle_ms {
        let now = market.engine.now_ms();
        let (head, forge_ms) = market.forge_time();
        let act_ms = forge_ms.saturating_sub(LEAD_MS);
        if !acted.contains(&head) && now >= act_ms && now < forge_ms {
            acted.insert(head);
            market.sandwich()?;
            continue;
        }
        let until =
            if !acted.contains(&head) && act_ms > now { act_ms.min(settle_ms) } else { settle_ms };
        if !market.engine.step(until) {
            market.engine.run_until(until);
        }
    }
    measure(&context, &attack, market)
}

/// Each final height's author and predecessor.
type Authors = BTreeMap<u64, (vein_node::core::crypto::AccountId, Hash)>;

/// Where each unit of node 0's final chain applied: (height, position, outcome), and the
/// author and predecessor of each height.
fn final_order<E: Engine>(engine: &E) -> (BTreeMap<Hash, (u64, usize, Outcome)>, Authors) {
    let view = engine.node(0);
    let chain = view.chain();
    let mut positions = BTreeMap::new();
    let mut authors = BTreeMap::new();
    for height in 1..=chain.final_height() {
        if let Some(header) = chain.active_at(height).and_then(|id| chain.header(&id)) {
            authors.insert(height, (header.author, header.prev));
        }
        for (index, (unit, outcome)) in
            chain.confirmed_at(height).unwrap_or_default().iter().enumerate()
        {
            positions.insert(*unit, (height, index, *outcome));
        }
    }
    (positions, authors)
}

fn measure<E: Engine>(
    context: &Context<'_>,
    attack: &Sandwicher,
    market: Market<'_, E>,
) -> Result<RunMetrics, RunError> {
    let scenario = context.scenario;
    let engine = &market.engine;
    let k = scenario.network.finality_depth;
    let mut violations = invariants(engine, market.honest, k);
    let (positions, authors) = final_order(engine);
    let attacker_account = engine.account(market.attacker);
    let view = engine.node(0);
    let state = view.chain().ledger().evm();
    let at = engine.now_ms() as f64 / 1000.0;
    let mut first_victim: BTreeMap<u64, usize> = BTreeMap::new();
    for (height, index, _) in market.swaps.keys().filter_map(|unit| positions.get(unit)) {
        let first = first_victim.entry(*height).or_insert(*index);
        *first = (*first).min(*index);
    }
    // Placed sandwiches whose two legs applied successfully in one checkpoint.
    let mut legs: Vec<(u64, usize, usize, &Attempt, u128)> = Vec::new();
    for attempt in &market.attempts {
        let (Some(buy), Some(sell)) = (positions.get(&attempt.buy), positions.get(&attempt.sell))
        else {
            continue;
        };
        let bought = swap_output(state, &attempt.buy_hash);
        let sold = swap_output(state, &attempt.sell_hash);
        // Only victims and the attacker touch the pool: a buy no victim precedes in its
        // checkpoint meets the reserves the attacker planned with.
        let first = first_victim.get(&buy.0).is_none_or(|index| *index > buy.1);
        let planned = authors.get(&buy.0) == Some(&(attacker_account, attempt.planned_on));
        if planned && first && bought.is_some_and(|bought| bought != attempt.bought) {
            violations.push(Violation {
                invariant: "pool-mirror".into(),
                at_simulated_seconds: at,
                node: Some(0),
                detail: format!(
                    "the buy first in checkpoint {} paid {bought:?}, the mirrored pool {}",
                    buy.0, attempt.bought
                ),
            });
        }
        if let (Some(_), Some(sold)) = (bought, sold)
            && buy.0 == sell.0
        {
            legs.push((buy.0, buy.1, sell.1, attempt, sold));
        }
    }
    let (mut victims, mut sandwiched, mut authored, mut in_own) = (0u64, 0u64, 0u64, 0u64);
    let mut reverted = 0u64;
    let mut losses = Vec::new();
    let mut wrapped: BTreeSet<usize> = BTreeSet::new();
    for (unit, victim) in &market.swaps {
        let Some((height, index, outcome)) = positions.get(unit) else { continue };
        if *outcome != Outcome::Applied {
            continue;
        }
        victims += 1;
        let own = authors.get(height).is_some_and(|(author, _)| *author == attacker_account);
        authored += u64::from(own);
        // A swap can revert on its own: swaps ahead of it in the order moved the price past
        // its minimum (the attacker never makes one revert that would have succeeded).
        let Some(paid) = swap_output(state, &victim.hash) else {
            reverted += 1;
            continue;
        };
        if paid < victim.min_out {
            violations.push(Violation {
                invariant: "slippage-bound".into(),
                at_simulated_seconds: at,
                node: Some(0),
                detail: format!("a victim was paid {paid}, below its minOut {}", victim.min_out),
            });
        }
        let around = legs.iter().position(|(at_height, buy, sell, _, _)| {
            at_height == height && buy < index && index < sell
        });
        if let Some(leg) = around {
            wrapped.insert(leg);
            sandwiched += 1;
            in_own += u64::from(own);
            let quoted = victim.quoted.max(1) as f64;
            losses.push((quoted - paid as f64) / quoted);
        }
    }
    if victims < 2 {
        return Err(context.setup(format!("only {victims} victim swaps final and applied")));
    }
    let end_pool = reserves(state, &market.pool);
    let profits: Vec<f64> = wrapped
        .iter()
        .filter_map(|leg| legs.get(*leg))
        .map(|(_, _, _, attempt, sold)| {
            let profit = *sold as f64 - attempt.amount_in as f64;
            let price = if attempt.zero_for_one {
                1.0
            } else {
                end_pool.reserve0 as f64 / end_pool.reserve1.max(1) as f64
            };
            profit * price
        })
        .collect();
    let labels = &context.labels;
    let q = attack.q;
    let mut measurements = vec![
        Measurement::proportion(
            "victims_sandwiched",
            labels.clone(),
            sandwiched,
            victims,
            Some(Reference::new(
                q,
                "q: only the swaps its own checkpoints first confirm",
                CITATION,
            )),
        )?,
        Measurement::proportion(
            "victims_first_confirmed_by_attacker",
            labels.clone(),
            authored,
            victims,
            Some(Reference::new(q, "q: the attacker's share of checkpoints", CITATION)),
        )?,
        Measurement::proportion("victims_reverted", labels.clone(), reverted, victims, None)?,
    ];
    if sandwiched > 0 {
        measurements.push(Measurement::proportion(
            "sandwiched_in_own_checkpoints",
            labels.clone(),
            in_own,
            sandwiched,
            None,
        )?);
    }
    if losses.len() >= 2 {
        measurements.push(Measurement::mean_of("victim_loss_share", labels.clone(), losses, None)?);
    }
    if profits.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "sandwich_profit_token0",
            labels.clone(),
            profits,
            None,
        )?);
    }
    drop(view);
    Ok(finish(context, engine, violations, measurements))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: Reserves = Reserves { reserve0: RESERVE, reserve1: RESERVE };

    #[test]
    fn a_sandwich_takes_at_most_the_victims_slippage() {
        // A 1% swap with 2% slippage: the front-run leaves it exactly its minimum or more.
        let amount = RESERVE / 100;
        let quoted = POOL.quote(true, amount);
        let min_out = quoted * 98 / 100;
        let swaps = [(true, amount, min_out)];
        let plan = best_sandwich(POOL, &swaps, [RESERVE, RESERVE]).unwrap();
        assert!(plan.zero_for_one, "{plan:?}");
        let (succeeded, sold) = simulate(POOL, &swaps, true, plan.amount_in);
        assert_eq!(succeeded, vec![true]);
        assert_eq!(sold - plan.amount_in, plan.profit);
        // The victim's payout after the front-run stays at or above its minimum.
        let mut pool = POOL;
        pool.swap(true, plan.amount_in);
        assert!(pool.quote(true, amount) >= min_out);
    }

    #[test]
    fn no_sandwich_when_the_slippage_is_below_the_pools_fees() {
        // 0.1% slippage on a 0.1% swap: the pool's fee on two legs costs more than any gain.
        let amount = RESERVE / 1000;
        let min_out = POOL.quote(true, amount) * 999 / 1000;
        assert_eq!(best_sandwich(POOL, &[(true, amount, min_out)], [RESERVE, RESERVE]), None);
    }
}
