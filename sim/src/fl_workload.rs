//! The federated-learning share of the simulated workload (`SimConfig::fl_share`,
//! docs/federated-learning.md "In the simulator"): one learning task driven through the chain
//! the way its acquirer's and data owners' clients would drive it, while the fault plan kills,
//! restarts and partitions their nodes.
//!
//! Model.
//! - Actors ([`FlPlan`]): node 0's account is the acquirer (the poster), up to
//!   [`PARTICIPANTS_MAX`] other funded nodes' accounts are data owners. Each owner holds its
//!   own seeded records (a linearly separable synthetic set, [`owner_data`]); they never leave
//!   the workload's memory of that owner.
//! - The off-chain side ([`Board`]): the update bytes each owner publishes and the aggregates
//!   each recomputes, as the participants' own channel would carry them (`vein-testnet fl`
//!   uses the nodes' update store). The simulator does not partition that channel: the chain
//!   is what the faults test. Every fetched update is checked against its hash on chain.
//! - A tick ([`Board::act`]) lets one actor look at its own node's ledger (its head state) and
//!   sign what that view calls for: the post (retried under a new id if unseen, as the
//!   consortium creation is; a task that then shows up late is closed by its poster), a join,
//!   the round's update (trained from the global model the settled aggregates give), the
//!   aggregate (the leader, the smallest contributor, once every participant's update is in
//!   or after [`FlPlan::wait_ms`]; everyone else once the first aggregate froze the update
//!   set) and the settlement (the poster, once every contributor committed an aggregate or
//!   [`FlPlan::wait_ms`] after agreement; an owner after twice that). A signed step is not repeated for
//!   [`FlPlan::retry_ms`]; a repeat that the chain orders after the first is refused by the
//!   ledger (a second commit, a settled round), which the checks must survive.
//! - Sizing: with six contributors and m = 3, agreement (a strict majority and m) survives two
//!   aggregates computed over an update set that a late update commit changed, the race the
//!   chain's "first aggregate commit freezes the set" rule leaves open.

use crate::fl_checks::{agreement, fl_root, masked_recovery};
use crate::seed_stream::{derive_seed, stream};
use std::collections::BTreeMap;
use vein_node::core::crypto::AccountId;
use vein_node::core::fl::masking::{self, MaskSecret};
use vein_node::core::fl::model::{apply_update, difference};
use vein_node::core::fl::recovery;
use vein_node::core::fl::update::{aggregate_hash, encode_update, update_hash, verify_update};
use vein_node::core::fl::{
    AggregationRule, Contribution, Dataset, Fixed, FlTx, Task, TaskSpec, TrainingSpec, aggregate,
    task_id, train_local,
};
use vein_node::core::hash::Hash;
use vein_node::core::node::Node;
use vein_node::core::transaction::TxKind;

/// Most data owners in the simulated task.
pub const PARTICIPANTS_MAX: usize = 6;
/// Rounds the task pays for: more than a run completes, so it is mid-task when the faults hit.
pub const ROUNDS: u32 = 40;
/// Price per round, in base units.
pub const PRICE_PER_ROUND: u64 = 10_000;
/// Features per record (the model's dimension is one more: the bias).
const FEATURES: usize = 3;
/// Each owner holds 24..48 records.
const RECORDS_MIN: u64 = 24;

/// Who plays which part, and the task's spec.
#[derive(Clone, Debug)]
pub struct FlPlan {
    /// Actor 0 is the poster, actors 1.. the data owners: each actor's node index.
    pub nodes: Vec<usize>,
    /// Each actor's account (the node's).
    pub accounts: Vec<AccountId>,
    /// Each actor's node signing seed (for its mask key).
    pub seeds: Vec<[u8; 32]>,
    /// What the poster posts.
    pub spec: TaskSpec,
    /// A signed step not seen on its node's ledger after this long is signed again.
    pub retry_ms: u64,
    /// How long the leader waits for missing updates and settlers for missing aggregates.
    pub wait_ms: u64,
    /// How long the leader of a masked round waits for a missing update before it treats its
    /// owner as dropped out and reveals its seeds with it: shorter than `wait_ms`, because a
    /// drop-out costs the others nothing but a reveal, while a late update is simply lost.
    pub drop_wait_ms: u64,
}

impl FlPlan {
    /// The plan for a run whose first `funded` nodes have `accounts` and `seeds`; `None`
    /// with fewer than four data owners (m = 2 of 3 could not survive one late update).
    pub fn new(
        funded: usize,
        accounts: &[AccountId],
        seeds: &[[u8; 32]],
        target_interval_ms: u64,
    ) -> Option<FlPlan> {
        let owners = funded.min(accounts.len()).saturating_sub(1).min(PARTICIPANTS_MAX);
        if owners < 4 {
            return None;
        }
        let nodes: Vec<usize> = (0..=owners).collect();
        let spec = TaskSpec {
            training: TrainingSpec {
                dimension: FEATURES as u32 + 1,
                learning_rate: Fixed(Fixed::ONE.0 / 4),
                local_epochs: 1,
                batch_size: 8,
            },
            rule: AggregationRule::FedAvg,
            masked: true,
            rounds: ROUNDS,
            // A masked sum over fewer than three would expose the others' updates.
            min_participants: (owners / 2).max(3) as u32,
            price_per_round: PRICE_PER_ROUND,
        };
        Some(FlPlan {
            accounts: nodes.iter().map(|node| accounts[*node]).collect(),
            seeds: nodes.iter().map(|node| seeds[*node]).collect(),
            nodes,
            spec,
            retry_ms: 6 * target_interval_ms,
            wait_ms: 4 * target_interval_ms,
            drop_wait_ms: 2 * target_interval_ms,
        })
    }

    /// The actors: the poster, then the owners.
    pub fn actors(&self) -> usize {
        self.nodes.len()
    }
}

/// The last owner's client crashes mid-round in every third round (from round 1): it skips
/// its update, so a masked round must recover from a drop-out in every run, not only when a
/// fault happens to kill a node during the few seconds its owner's update is due (kills and
/// partitions rarely do: their owners come back in time).
fn flaky_skips(plan: &FlPlan, actor: usize, round: u32) -> bool {
    actor + 1 == plan.actors() && round % 3 == 1
}

/// yᵢ for `actor`'s update: weighted by its samples and masked with its pairwise seed with
/// every other participant in the task's view (positions in account order).
fn mask(
    plan: &FlPlan,
    actor: usize,
    task: &Task,
    update: &[Fixed],
    samples: u64,
) -> Option<Vec<Fixed>> {
    let secret = MaskSecret::derive(&plan.seeds[actor], &task.id);
    let account = plan.accounts[actor];
    let (round, attempt) = (task.current_round(), task.open_round.attempt);
    let me = task.participants.keys().position(|a| *a == account)?;
    let peers: Vec<(usize, [u8; 32])> = task
        .participants
        .iter()
        .enumerate()
        .filter(|(position, _)| *position != me)
        .map(|(position, (_, p))| {
            (position, secret.attempt_seed(&p.mask_key, &task.id, round, attempt))
        })
        .collect();
    let weighted = masking::weigh(update, samples).ok()?;
    let words = masking::mask(me, &weighted, &peers).ok()?;
    Some(words.into_iter().map(|word| Fixed(word as i64)).collect())
}

/// Owner `owner`'s records: features uniform in [-1, 1), labelled by a hidden linear rule
/// shared by all owners (so a federated model has something to learn), drawn from the seed.
pub fn owner_data(seed: u64, owner: usize) -> Dataset {
    let mut truth = stream(seed, "fl-truth", 0);
    let weights: Vec<i64> =
        (0..=FEATURES).map(|_| truth.below(2 * 65_536) as i64 - 65_536).collect();
    let mut rng = stream(seed, "fl-data", owner as u64);
    let count = RECORDS_MIN + rng.below(RECORDS_MIN);
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..count {
        let row: Vec<Fixed> =
            (0..FEATURES).map(|_| Fixed(rng.below(2 * 65_536) as i64 - 65_536)).collect();
        let score: i64 = row.iter().zip(&weights).map(|(x, w)| x.0 * w).sum::<i64>()
            + weights[FEATURES] * 65_536;
        labels.push(score >= 0);
        features.push(row);
    }
    // Non-empty rows of equal width: `new` cannot refuse them.
    Dataset::new(features, labels).unwrap_or_else(|error| unreachable!("{error}"))
}

/// The kinds of step an actor signs, for the retry guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Join,
    Update,
    Reveal,
    Aggregate,
    Settle,
    Close,
}

/// What the workload counted (all zero without `fl_share`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlReport {
    /// Ticks an actor took on a running node, and ticks skipped because its node was down.
    pub acted: u64,
    /// Ticks skipped because the actor's node was down.
    pub skipped: u64,
    /// Transactions signed: posts, joins, update commits, aggregate commits, settles, closes.
    pub posts: u64,
    /// Joins signed.
    pub joins: u64,
    /// Update commits signed (each after local training).
    pub updates: u64,
    /// Seed reveals signed (masked rounds with drop-outs).
    pub reveals: u64,
    /// Aggregate commits signed.
    pub aggregates: u64,
    /// Aggregates recomputed from masked updates (with drop-outs: from the revealed seeds too),
    /// each compared bit for bit with the plain FedAvg of the same contributors.
    pub unmasked: u64,
    /// Settles signed.
    pub settles: u64,
    /// Closes of a task posted twice.
    pub closes: u64,
    /// Head states whose FL root was compared with another node's at the same head.
    pub root_checks: u64,
    /// Filled in by the end checks: owners joined, rounds settled on the most advanced node,
    /// and the fewest rounds any node held settled when the faults ended.
    pub participants: u64,
    /// Rounds settled at the end (the most advanced running node).
    pub rounds_settled: u64,
    /// Rounds settled when the faults ended (the least advanced node then).
    pub rounds_at_faults_end: u64,
    /// Settled rounds (on the most advanced node) that some participant dropped out of: fewer
    /// contributors than participants, so a masked round recovered from revealed seeds.
    pub rounds_recovered: u64,
}

/// A finding of one tick, for the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickFinding {
    /// `fl-root` or `fl-escrow`.
    pub invariant: &'static str,
    /// The other node involved, if any.
    pub other: Option<usize>,
    /// Specifics.
    pub detail: String,
}

/// The workload's memory: the posts signed, the task chosen, the off-chain updates and
/// aggregates, each actor's pending steps and waits, the roots seen per head.
#[derive(Debug, Default)]
pub struct Board {
    /// Ids of the posts signed, with when.
    posts: Vec<(Hash, u64)>,
    /// The task the owners work on: the first post seen on the poster's ledger.
    task: Option<Hash>,
    /// Owners' records, by actor (index 0, the poster, holds none).
    data: BTreeMap<usize, Dataset>,
    /// Published update bytes, by (round, owner): masked words in a masked task.
    updates: BTreeMap<(u32, AccountId), Vec<u8>>,
    /// The unmasked updates, by (round, owner): only the `fl-masked` oracle reads them.
    plain: BTreeMap<(u32, AccountId), Vec<Fixed>>,
    /// Findings of the off-chain steps (`fl-masked`), handed to the checker at the tick's end.
    findings: Vec<TickFinding>,
    /// Aggregates recomputed, by (round, hash).
    aggregates: BTreeMap<(u32, Hash), Vec<Fixed>>,
    /// Signed steps not yet seen: (actor, kind, round) to when.
    pending: BTreeMap<(usize, Kind, u32), u64>,
    /// When an actor first saw a wait start: (actor, kind, round) to when.
    waits: BTreeMap<(usize, Kind, u32), u64>,
    /// The FL root first seen at each head checkpoint, and by which node.
    roots: BTreeMap<Hash, (Hash, usize)>,
    /// Counters.
    pub report: FlReport,
    /// The fewest rounds any node held settled at the first tick after the faults ended, and
    /// the highest head height then.
    pub at_faults_end: Option<(u32, u64)>,
}

impl Board {
    /// The task the owners work on, once the poster's ledger showed one of its posts.
    pub fn task(&self) -> Option<Hash> {
        self.task
    }

    /// Actor `actor` looks at `node` (its own, running) at `now_ms` and signs what its view
    /// calls for. Returns what the tick found wrong in the node's FL state.
    pub fn act(
        &mut self,
        plan: &FlPlan,
        seed: u64,
        actor: usize,
        node: &mut Node,
        now_ms: u64,
    ) -> Vec<TickFinding> {
        self.report.acted += 1;
        let mut findings = self.observe(plan.nodes[actor], node);
        let kind = if actor == 0 { self.poster_step(plan, node, now_ms) } else { None };
        let kind = kind.or_else(|| self.owner_step(plan, seed, actor, node, now_ms));
        findings.append(&mut self.findings);
        if let Some(kind) = kind {
            // Time 0: the node signs at its own clock (`submit` takes the later of the two).
            if node.submit(0, kind, crate::config::FEE).is_err() {
                self.report.skipped += 1;
            }
        }
        findings
    }

    /// `fl-root` and `fl-escrow` on the node's head state.
    fn observe(&mut self, here: usize, node: &Node) -> Vec<TickFinding> {
        let mut findings = Vec::new();
        let head = node.chain().head().id;
        let tasks = node.chain().ledger().fl();
        let root = fl_root(tasks);
        match self.roots.get(&head) {
            None => {
                self.roots.insert(head, (root, here));
            }
            Some((first, other)) => {
                self.report.root_checks += 1;
                if *first != root {
                    findings.push(TickFinding {
                        invariant: "fl-root",
                        other: Some(*other),
                        detail: format!(
                            "head {}: FL root {} here, {} there",
                            head.short(),
                            root.short(),
                            first.short()
                        ),
                    });
                }
            }
        }
        for task in tasks.iter() {
            if let Some(detail) = crate::fl_checks::task_conservation(task) {
                let detail = format!("task {}: {detail}", task.id.short());
                findings.push(TickFinding { invariant: "fl-escrow", other: None, detail });
            }
        }
        findings
    }

    /// The poster: post until a post shows up, close any later duplicate, settle like anyone.
    fn poster_step(&mut self, plan: &FlPlan, node: &Node, now_ms: u64) -> Option<TxKind> {
        let tasks = node.chain().ledger().fl();
        if self.task.is_none() {
            self.task = self.posts.iter().map(|(id, _)| *id).find(|id| tasks.get(id).is_some());
        }
        let Some(chosen) = self.task else {
            let retry = self.posts.last().is_none_or(|(_, at)| now_ms >= at + plan.retry_ms);
            if !retry {
                return None;
            }
            let nonce = crate::consortium_workload::free_nonce(node);
            self.posts.push((task_id(&node.account(), nonce), now_ms));
            self.report.posts += 1;
            return Some(TxKind::Fl(Box::new(FlTx::Post(plan.spec.clone()))));
        };
        let duplicate = self.posts.iter().map(|(id, _)| *id).find(|id| {
            *id != chosen && tasks.get(id).is_some_and(|task| task.open_round.updates.is_empty())
        })?;
        self.guard(plan, 0, Kind::Close, 0, now_ms)?;
        self.report.closes += 1;
        Some(TxKind::Fl(Box::new(FlTx::Close { task: duplicate })))
    }

    /// A step of `actor` (an owner, or the poster settling) on the chosen task.
    fn owner_step(
        &mut self,
        plan: &FlPlan,
        seed: u64,
        actor: usize,
        node: &Node,
        now_ms: u64,
    ) -> Option<TxKind> {
        let id = self.task?;
        let task = node.chain().ledger().fl().get(&id)?.clone();
        if task.finished() {
            return None;
        }
        let round = task.current_round();
        let account = plan.accounts[actor];
        if let Some(settle) = self.settle_step(plan, actor, &task, now_ms) {
            return Some(settle);
        }
        if actor == 0 {
            return None;
        }
        if !task.participants.contains_key(&account) {
            let open = round == 0 && task.open_round.updates.is_empty();
            if !open {
                return None;
            }
            self.guard(plan, actor, Kind::Join, 0, now_ms)?;
            let data = self.data.entry(actor).or_insert_with(|| owner_data(seed, actor));
            let mask_key = MaskSecret::derive(&plan.seeds[actor], &id).public();
            self.report.joins += 1;
            let samples = data.len() as u64;
            return Some(TxKind::Fl(Box::new(FlTx::Join { task: id, samples, mask_key })));
        }
        let m = task.spec.min_participants as usize;
        let frozen = task.open_round.updates_frozen();
        if !task.open_round.updates.contains_key(&account) {
            if frozen || task.participants.len() < m {
                return None;
            }
            // Masks are computed against the participants in view; a join ordered after the
            // view would leave one pair's masks uncancelled, so round 0 waits for the plan's
            // owners (or for a long wait, if one never shows up).
            if task.spec.masked && flaky_skips(plan, actor, round) {
                return None;
            }
            let all_in = task.participants.len() + 1 >= plan.actors();
            let patient = task.spec.masked && round == 0 && !all_in;
            if patient && !self.waited_times(plan, actor, Kind::Update, round, now_ms, 3) {
                return None;
            }
            return self.update_step(plan, seed, actor, &task, now_ms);
        }
        if task.open_round.aggregates.contains_key(&account) {
            return None;
        }
        let contributors = task.open_round.updates.len();
        let leader = task.open_round.updates.keys().next() == Some(&account);
        let everyone = contributors == task.participants.len();
        if task.spec.masked && !everyone {
            // Drop-outs: the leader gives up on them after `drop_wait_ms` and reveals its seeds
            // with them (the first reveal freezes the set), the others follow, and each
            // aggregates once every contributor's reveal is on chain.
            if !task.open_round.revealed.contains_key(&account) {
                let key = (actor, Kind::Reveal, round);
                let gave_up = contributors >= m && self.waited_ms(key, now_ms, plan.drop_wait_ms);
                if !(frozen || leader && gave_up) {
                    return None;
                }
                return self.reveal_step(plan, actor, &task, now_ms);
            }
            if !recovery::ready(&task) {
                return None;
            }
            return self.aggregate_step(plan, actor, &task, now_ms);
        }
        let waited = contributors >= m && self.waited(plan, actor, Kind::Aggregate, round, now_ms);
        let late =
            contributors >= m && self.waited_times(plan, actor, Kind::Aggregate, round, now_ms, 3);
        if !(frozen || leader && (everyone || waited) || late) {
            return None;
        }
        self.aggregate_step(plan, actor, &task, now_ms)
    }

    /// Train from the global model, publish the update, commit its hash.
    fn update_step(
        &mut self,
        plan: &FlPlan,
        seed: u64,
        actor: usize,
        task: &Task,
        now_ms: u64,
    ) -> Option<TxKind> {
        let round = task.current_round();
        let global = self.global(task)?;
        self.guard(plan, actor, Kind::Update, round, now_ms)?;
        let data = self.data.entry(actor).or_insert_with(|| owner_data(seed, actor));
        let training_seed = derive_seed(seed, "fl-train", (actor as u64) << 32 | u64::from(round));
        let trained = train_local(&global, data, &task.spec.training, training_seed).ok()?;
        let update = difference(&trained, &global).ok()?;
        let samples = data.len() as u64;
        let account = plan.accounts[actor];
        let bytes = if task.spec.masked {
            encode_update(&mask(plan, actor, task, &update, samples)?)
        } else {
            encode_update(&update)
        };
        self.plain.insert((round, account), update);
        let hash = update_hash(&task.id, round, &account, &bytes);
        self.updates.insert((round, account), bytes);
        self.report.updates += 1;
        Some(TxKind::Fl(Box::new(FlTx::CommitUpdate {
            task: task.id,
            round,
            dimension: task.spec.training.dimension,
            update: hash,
        })))
    }

    /// Reveal the actor's seeds with the participants its view shows without an update.
    fn reveal_step(
        &mut self,
        plan: &FlPlan,
        actor: usize,
        task: &Task,
        now_ms: u64,
    ) -> Option<TxKind> {
        let secret = MaskSecret::derive(&plan.seeds[actor], &task.id);
        let reveal = recovery::reveal(&secret, task)?;
        self.guard(plan, actor, Kind::Reveal, task.current_round(), now_ms)?;
        self.report.reveals += 1;
        Some(TxKind::Fl(Box::new(reveal)))
    }

    /// Fetch and check every committed update, recompute the aggregate (masked: FedAvg over the
    /// contributors from their masked updates and the revealed seeds, checked against the
    /// plain FedAvg oracle), commit its hash.
    fn aggregate_step(
        &mut self,
        plan: &FlPlan,
        actor: usize,
        task: &Task,
        now_ms: u64,
    ) -> Option<TxKind> {
        let round = task.current_round();
        let dimension = task.spec.training.dimension as usize;
        let mut contributions = Vec::new();
        let mut received = BTreeMap::new();
        for (account, committed) in &task.open_round.updates {
            let bytes = self.updates.get(&(round, *account))?;
            let update = verify_update(&task.id, round, account, bytes, committed, dimension);
            let samples = task.participants.get(account)?.samples;
            let update = update.ok()?;
            received.insert(*account, update.clone());
            contributions.push(Contribution { update, samples });
        }
        let combined = if task.spec.masked {
            let recovered = recovery::survivors_fed_avg(task, &received);
            let plain = |account: &AccountId| self.plain.get(&(round, *account)).cloned();
            if let Some(detail) = masked_recovery(task, &recovered, plain) {
                self.findings.push(TickFinding { invariant: "fl-masked", other: None, detail });
            }
            self.report.unmasked += 1;
            recovered.ok()?
        } else {
            aggregate(task.spec.rule, &contributions, dimension).ok()?
        };
        self.guard(plan, actor, Kind::Aggregate, round, now_ms)?;
        let hash = aggregate_hash(&task.id, round, &combined);
        self.aggregates.insert((round, hash), combined);
        self.report.aggregates += 1;
        Some(TxKind::Fl(Box::new(FlTx::CommitAggregate { task: task.id, round, aggregate: hash })))
    }

    /// Settle once the view shows agreement and every contributor's aggregate, or a wait
    /// after agreement.
    fn settle_step(
        &mut self,
        plan: &FlPlan,
        actor: usize,
        task: &Task,
        now_ms: u64,
    ) -> Option<TxKind> {
        let round = task.current_round();
        agreement(task)?;
        // The poster settles; an owner only if the poster's settle is long in coming (its
        // node down or cut off), so a round is not settled seven times over.
        let everyone = task.open_round.aggregates.len() == task.open_round.updates.len();
        let times = if actor == 0 { 1 } else { 2 };
        let waited = self.waited_times(plan, actor, Kind::Settle, round, now_ms, times);
        if !(actor == 0 && everyone || waited) {
            return None;
        }
        self.guard(plan, actor, Kind::Settle, round, now_ms)?;
        self.report.settles += 1;
        Some(TxKind::Fl(Box::new(FlTx::Settle { task: task.id, round })))
    }

    /// The global model at the start of the task's open round: the settled aggregates applied
    /// in order (`None` if one is unknown here, which the workload's own aggregates rule out).
    fn global(&self, task: &Task) -> Option<Vec<Fixed>> {
        let mut weights = task.spec.training.initial_weights();
        for (round, settled) in task.settled.iter().enumerate() {
            let combined = self.aggregates.get(&(round as u32, settled.aggregate))?;
            weights = apply_update(&weights, combined).ok()?;
        }
        Some(weights)
    }

    /// `Some` (and the step recorded as signed now) unless the same step was signed less
    /// than `retry_ms` ago.
    fn guard(
        &mut self,
        plan: &FlPlan,
        actor: usize,
        kind: Kind,
        round: u32,
        now_ms: u64,
    ) -> Option<()> {
        let key = (actor, kind, round);
        if self.pending.get(&key).is_some_and(|at| now_ms < at + plan.retry_ms) {
            return None;
        }
        self.pending.insert(key, now_ms);
        Some(())
    }

    fn waited(&mut self, plan: &FlPlan, actor: usize, kind: Kind, round: u32, now: u64) -> bool {
        self.waited_times(plan, actor, kind, round, now, 1)
    }

    /// True once `times` waits passed since this actor first asked for this wait.
    fn waited_times(
        &mut self,
        plan: &FlPlan,
        actor: usize,
        kind: Kind,
        round: u32,
        now_ms: u64,
        times: u64,
    ) -> bool {
        self.waited_ms((actor, kind, round), now_ms, times * plan.wait_ms)
    }

    /// True once `wait_ms` passed since this (actor, kind, round) first asked for a wait.
    fn waited_ms(&mut self, key: (usize, Kind, u32), now_ms: u64, wait_ms: u64) -> bool {
        let since = *self.waits.entry(key).or_insert(now_ms);
        now_ms >= since + wait_ms
    }

    /// Record the fewest rounds settled and the highest head on the nodes seen at the first
    /// tick after the faults ended (`seen`: each running node's count and head height).
    pub fn note_faults_end(&mut self, seen: &[(u32, u64)]) {
        if self.at_faults_end.is_none() {
            let settled = seen.iter().map(|(settled, _)| *settled).min().unwrap_or(0);
            let height = seen.iter().map(|(_, height)| *height).max().unwrap_or(0);
            self.at_faults_end = Some((settled, height));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_hold_separable_seeded_records_of_the_model_dimension() {
        let data = owner_data(5, 1);
        assert_eq!(data.dimension(), FEATURES + 1);
        assert!((RECORDS_MIN as usize..2 * RECORDS_MIN as usize).contains(&data.len()));
        assert_eq!(owner_data(5, 1), data);
        assert_ne!(owner_data(5, 2), data);
        let positives = data.labels().iter().filter(|label| **label).count();
        assert!(positives > 0 && positives < data.len(), "both classes: {positives}");
    }

    #[test]
    fn the_plan_needs_four_owners_and_asks_for_half_of_them() {
        let accounts: Vec<AccountId> = (0..10u8).map(|i| AccountId([i; 32])).collect();
        let seeds = vec![[0u8; 32]; 10];
        assert!(FlPlan::new(4, &accounts, &seeds, 2_000).is_none());
        let plan = FlPlan::new(10, &accounts, &seeds, 2_000).unwrap();
        assert_eq!(plan.actors(), PARTICIPANTS_MAX + 1);
        assert_eq!(plan.spec.min_participants, 3);
        assert_eq!(plan.spec.validate(), Ok(()));
    }
}
