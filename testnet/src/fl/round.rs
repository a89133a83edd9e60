//! One round of a task as one participant drives it, by the chain's rules
//! (docs/federated-learning.md "Operator path", `core::fl::task` and `core::fl::recovery`).
//!
//! The participant polls its node's view of the open round and takes the step that view
//! calls for, so a step lost to a kill, a race or a restart is simply taken again:
//! - no update of its own committed: train (once per round), mask with the open attempt's
//!   pairwise seeds, commit the hash, post the bytes; if the update set froze first, it
//!   dropped out of this round and only follows it;
//! - update committed: post the bytes (again, after a restart of the process); then, if some
//!   participant is missing, the leader (the smallest contributing account, as in the
//!   simulator's `fl_workload`) waits `Waits::drop` and then declares it dropped: masked, by
//!   revealing its seeds with the drop-outs (`FlTx::RevealSeeds`), which freezes the set and
//!   makes everyone else reveal too; unmasked, by committing its aggregate;
//! - once the set is known (everyone in, frozen, and masked, every contributor revealed):
//!   fetch every committed update from every node, check each against its commit, recompute
//!   the aggregate, commit its hash;
//! - settle when every contributor agreed (the leader), once agreement stands for a drop wait
//!   (the leader; anyone after two), or after half the step timeout.
//!
//! A restarted round (`open_round_attempt` grew) starts over with fresh masks.

use super::participant::{Participant, Waits};
use super::{FlCliError, poll, submit, task_detail, wait_applied};
use crate::manifest::Manifest;
use crate::{TestnetError, http};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use vein_fl_lab::scenarios::seed_bytes;
use vein_node::api_types::{FlRoundRow, FlTaskDetail, FlUpdatePost, FlUpdateStored, FlUpdates};
use vein_node::core::crypto::AccountId;
use vein_node::core::fl::aggregate::{AggregationRule, Contribution, aggregate};
use vein_node::core::fl::masking::{self, MaskSecret, RevealedSeed};
use vein_node::core::fl::model::difference;
use vein_node::core::fl::task::FlTx;
use vein_node::core::fl::update::{aggregate_hash, encode_update, update_hash, verify_update};
use vein_node::core::fl::{Fixed, TrainingSpec, train_local};
use vein_node::core::hash::Hash;

/// How a task's rounds are run.
pub(super) struct How<'a> {
    pub(super) training: &'a TrainingSpec,
    pub(super) rule: AggregationRule,
    pub(super) masked: bool,
}

/// A settled round as this participant saw it.
pub(super) struct Accepted {
    pub(super) aggregate: Vec<Fixed>,
    pub(super) hash: String,
    pub(super) contributors: u32,
    pub(super) accepted: u32,
    pub(super) training: Duration,
    /// This participant's update was among the contributions.
    pub(super) contributed: bool,
    /// The round settled while this participant was away.
    pub(super) caught_up: bool,
}

/// One round, driven by one participant.
pub(super) struct RoundRun<'a> {
    pub(super) participant: &'a Participant,
    pub(super) manifest: &'a Manifest,
    pub(super) round: u32,
    pub(super) how: &'a How<'a>,
    pub(super) waits: Waits,
}

/// What this participant did and learnt in the round so far.
#[derive(Default)]
struct Progress {
    /// The trained (unmasked) update and the time training took.
    trained: Option<(Vec<Fixed>, Duration)>,
    /// The attempt whose update this process posted to its node.
    posted: Option<u32>,
    /// Updates fetched and checked, by account, for `fetched_attempt`.
    fetched: BTreeMap<String, Vec<Fixed>>,
    fetched_attempt: u32,
    /// Aggregates this participant computed, by hash.
    computed: BTreeMap<String, Vec<Fixed>>,
    /// When a wait (by name and attempt) started.
    waits: BTreeMap<(&'static str, u32), Instant>,
    /// The attempt this participant sent a settle for.
    settle_sent: Option<u32>,
    /// Its update was in the set (the last attempt it saw).
    contributed: bool,
}

impl Progress {
    /// True once `wait` passed since this wait was first asked about.
    fn waited(&mut self, name: &'static str, attempt: u32, wait: Duration) -> bool {
        #[allow(clippy::disallowed_methods)] // the CLI's own timing
        let now = Instant::now();
        let since = *self.waits.entry((name, attempt)).or_insert(now);
        now.duration_since(since) >= wait
    }
}

impl RoundRun<'_> {
    /// Run the round until it settles. `None` if it settled before this participant could
    /// compute its aggregate (the caller takes it from another log).
    pub(super) fn run(&self, global: &[Fixed]) -> Result<Option<Accepted>, TestnetError> {
        let mut progress = Progress::default();
        let mut last_view = String::new();
        #[allow(clippy::disallowed_methods)] // the CLI's own timing
        let mut moved = Instant::now();
        let round = self.round;
        #[allow(clippy::disallowed_methods)] // the CLI's own timing
        let started = Instant::now();
        loop {
            let detail = task_detail(self.participant.api, &self.participant.task)?;
            if let Some(row) = detail.settled.get(round as usize) {
                return self.finish(row, &progress);
            }
            let fingerprint = format!("{:?}", detail.open_round);
            if fingerprint != last_view {
                last_view = fingerprint;
                #[allow(clippy::disallowed_methods)] // the CLI's own timing
                let now = Instant::now();
                moved = now;
            }
            if moved.elapsed() > self.waits.step {
                let what = format!("progress in round {round}");
                let seconds = self.waits.step.as_secs();
                return Err(FlCliError::Timeout { what, seconds }.into());
            }
            let late = started.elapsed() > self.waits.step / 2;
            self.step(&detail, global, &mut progress, late)?;
            std::thread::sleep(super::POLL);
        }
    }

    /// The step the view calls for, if any.
    fn step(
        &self,
        detail: &FlTaskDetail,
        global: &[Fixed],
        progress: &mut Progress,
        late: bool,
    ) -> Result<(), TestnetError> {
        let view = View::of(detail)?;
        if view.attempt != progress.fetched_attempt {
            progress.fetched.clear();
            progress.fetched_attempt = view.attempt;
        }
        let me = self.participant.key.account().to_hex();
        let Some(committed) = view.updates.get(&me).copied() else {
            progress.contributed = false;
            if view.frozen() {
                // Dropped from this attempt: follow it, so the aggregate is known at the end.
                if view.set_known(self.how.masked) {
                    self.compute(&view, progress)?;
                }
                return Ok(());
            }
            if view.participants.len() < detail.summary.min_participants as usize {
                return Ok(());
            }
            return self.commit_update(&view, global, progress);
        };
        progress.contributed = true;
        if progress.posted != Some(view.attempt) {
            let encoded = self.encoded(&view, global, progress)?;
            let round = self.round;
            let me_id = self.participant.key.account();
            if update_hash(&self.participant.task, round, &me_id, &encoded) != committed {
                return Err(TestnetError::Invalid(format!(
                    "round {round}: the update committed on chain is not the one this \
                     participant computes (another process with the same key?)"
                )));
            }
            self.post_update(&encoded)?;
            progress.posted = Some(view.attempt);
        }
        if view.aggregates.contains_key(&me) {
            return self.settle(&view, progress, late);
        }
        let min = detail.summary.min_participants as usize;
        let leader = view.updates.keys().next() == Some(&me);
        let gave_up = leader
            && view.updates.len() >= min
            && progress.waited("drop", view.attempt, self.waits.drop);
        if self.how.masked && !view.dropped().is_empty() {
            if !view.revealed.contains_key(&me) {
                if view.frozen() || gave_up {
                    self.reveal(&view)?;
                }
                return Ok(());
            }
            if !view.set_known(true) {
                return Ok(());
            }
        } else if !(view.frozen() || view.dropped().is_empty() || gave_up) {
            return Ok(());
        }
        let Some(hash) = self.compute(&view, progress)? else { return Ok(()) };
        let commit = FlTx::CommitAggregate {
            task: self.participant.task,
            round: self.round,
            aggregate: hash,
        };
        self.send(commit, "aggregate commit")
    }

    /// Train (once per round), encode for the open attempt, commit the hash.
    fn commit_update(
        &self,
        view: &View,
        global: &[Fixed],
        progress: &mut Progress,
    ) -> Result<(), TestnetError> {
        let encoded = self.encoded(view, global, progress)?;
        let me = self.participant.key.account();
        let update = update_hash(&self.participant.task, self.round, &me, &encoded);
        let commit = FlTx::CommitUpdate {
            task: self.participant.task,
            round: self.round,
            dimension: self.how.training.dimension,
            update,
        };
        self.send(commit, "update commit")
    }

    /// This participant's update for the open attempt, as it travels: trained once per round
    /// (deterministically, so a restarted process computes the same bytes), masked with the
    /// attempt's pairwise seeds in a masked task.
    fn encoded(
        &self,
        view: &View,
        global: &[Fixed],
        progress: &mut Progress,
    ) -> Result<Vec<u8>, TestnetError> {
        let participant = self.participant;
        let update = match &progress.trained {
            Some((update, _)) => update.clone(),
            None => {
                #[allow(clippy::disallowed_methods)] // the CLI's own timing
                let started = Instant::now();
                let seed = seed_bytes(b"local", participant.seed, self.round, participant.index);
                let trained = train_local(global, &participant.train, self.how.training, seed)
                    .map_err(FlCliError::from)?;
                let update = difference(&trained, global).map_err(FlCliError::from)?;
                progress.trained = Some((update.clone(), started.elapsed()));
                update
            }
        };
        if !self.how.masked {
            return Ok(encode_update(&update));
        }
        let secret = MaskSecret::derive(&participant.key.seed(), &participant.task);
        let me = view.position(&participant.key.account().to_hex())?;
        let samples = participant.train.len() as u64;
        let masked =
            mask_update(&secret, &participant.task, self.round, view, me, &update, samples)?;
        Ok(encode_update(&masked))
    }

    /// Reveal this participant's seeds with every participant its view shows without an update.
    fn reveal(&self, view: &View) -> Result<(), TestnetError> {
        let participant = self.participant;
        let secret = MaskSecret::derive(&participant.key.seed(), &participant.task);
        let mut seeds = Vec::new();
        for gone in view.dropped() {
            let row = &view.participants[gone];
            let account = AccountId::from_hex(&row.account)
                .map_err(|_| TestnetError::Invalid(format!("bad account {:?}", row.account)))?;
            let seed =
                secret.attempt_seed(&row.mask_key, &participant.task, self.round, view.attempt);
            seeds.push((account, seed));
        }
        let dropped = seeds.len();
        let reveal = FlTx::RevealSeeds { task: participant.task, round: self.round, seeds };
        participant.say(&format!(
            "round {}: {dropped} participant(s) dropped out; revealing this participant's seeds \
             with them",
            self.round
        ));
        self.send(reveal, "seed reveal")
    }

    /// Submit `tx` and wait until it is applied; a transaction the ledger ignored (the view it
    /// was built on was overtaken: a commit raced it) is not an error, the next view decides.
    fn send(&self, tx: FlTx, what: &'static str) -> Result<(), TestnetError> {
        let participant = self.participant;
        let id = submit(participant.api, &participant.key, tx)?;
        match wait_applied(participant.api, &id, what, self.waits.step) {
            Err(TestnetError::Fl(FlCliError::Ignored { .. })) => {
                participant
                    .say(&format!("round {}: {what} {id} ignored by the ledger", self.round));
                Ok(())
            }
            other => other,
        }
    }

    /// Fetch the set's updates (as far as the nodes hold them), recompute the aggregate; its
    /// hash once every update was found.
    fn compute(&self, view: &View, progress: &mut Progress) -> Result<Option<Hash>, TestnetError> {
        self.fetch(view, progress);
        if !view.updates.keys().all(|account| progress.fetched.contains_key(account)) {
            return Ok(None);
        }
        let aggregate =
            combine(self.how, view, &progress.fetched, self.how.training.dimension as usize)?;
        let hash = aggregate_hash(&self.participant.task, self.round, &aggregate);
        progress.computed.insert(hash.to_string(), aggregate);
        Ok(Some(hash))
    }

    /// Every committed update not fetched yet, from every node, each checked against its
    /// commit: a node's word is not trusted.
    fn fetch(&self, view: &View, progress: &mut Progress) {
        let task = &self.participant.task;
        let dimension = self.how.training.dimension as usize;
        let route = format!("/fl/task/{task}/updates/{}", self.round);
        for node in crate::running(self.manifest) {
            if view.updates.keys().all(|account| progress.fetched.contains_key(account)) {
                return;
            }
            let Ok(held) = http::get::<FlUpdates>(node.api, &route) else { continue };
            for row in held.updates {
                let Some(committed) = view.updates.get(&row.participant) else { continue };
                if progress.fetched.contains_key(&row.participant) {
                    continue;
                }
                let (Ok(account), Ok(bytes)) =
                    (AccountId::from_hex(&row.participant), hex::decode(&row.update))
                else {
                    continue;
                };
                let checked =
                    verify_update(task, self.round, &account, &bytes, committed, dimension);
                if let Ok(update) = checked {
                    progress.fetched.insert(row.participant, update);
                }
            }
        }
    }

    /// Hand the update to this participant's node; its commit may need a moment to be applied
    /// there (a 409 until it is).
    fn post_update(&self, encoded: &[u8]) -> Result<(), TestnetError> {
        let participant = self.participant;
        let body = FlUpdatePost {
            participant: participant.key.account().to_hex(),
            round: self.round,
            update: hex::encode(encoded),
        };
        let route = format!("/fl/task/{}/update", participant.task);
        poll("the node to take the update", self.waits.step, || {
            match http::post::<_, FlUpdateStored>(participant.api, &route, &body) {
                Ok(_) => Ok(Some(())),
                Err(http::HttpError::Status { status: 409, body, .. })
                    if body.contains("no update commit") =>
                {
                    Ok(None)
                }
                Err(error) => Err(error.into()),
            }
        })?;
        participant.say(&format!("round {}: update posted", self.round));
        Ok(())
    }

    /// Settle once the view shows agreement: the leader when every contributor agreed or
    /// agreement stood for a drop wait, anyone after two, or after half the step timeout.
    fn settle(&self, view: &View, progress: &mut Progress, late: bool) -> Result<(), TestnetError> {
        if progress.settle_sent == Some(view.attempt) {
            return Ok(());
        }
        let me = self.participant.key.account().to_hex();
        let leader = view.updates.keys().next() == Some(&me);
        let all_agreed = view.updates.keys().all(|account| view.aggregates.contains_key(account));
        let agreed = view.agreement(view.min_participants);
        let wait = self.waits.drop;
        let waited = agreed && progress.waited("settle", view.attempt, wait);
        let waited_twice = agreed && progress.waited("settle", view.attempt, wait * 2);
        if leader && (all_agreed || waited) || waited_twice || late {
            // A settle that loses to another one is ignored by the ledger, which is fine: the
            // round is settled either way, and a later view shows it.
            let settle = FlTx::Settle { task: self.participant.task, round: self.round };
            submit(self.participant.api, &self.participant.key, settle)?;
            progress.settle_sent = Some(view.attempt);
        }
        Ok(())
    }

    /// The settled round as this participant saw it; `None` if it never computed the accepted
    /// aggregate.
    fn finish(
        &self,
        row: &FlRoundRow,
        progress: &Progress,
    ) -> Result<Option<Accepted>, TestnetError> {
        let Some(aggregate) = progress.computed.get(&row.aggregate) else {
            if progress.contributed && !progress.computed.is_empty() {
                let mine = progress.computed.keys().next().cloned().unwrap_or_default();
                return Err(FlCliError::AggregateRejected {
                    round: self.round,
                    accepted: row.aggregate.clone(),
                    mine,
                }
                .into());
            }
            return Ok(None);
        };
        Ok(Some(Accepted {
            aggregate: aggregate.clone(),
            hash: row.aggregate.clone(),
            contributors: row.contributors,
            accepted: row.accepted,
            training: progress.trained.as_ref().map_or(Duration::ZERO, |(_, took)| *took),
            contributed: progress.contributed,
            caught_up: false,
        }))
    }
}

/// One participant as the view lists it.
struct Member {
    account: String,
    samples: u64,
    mask_key: [u8; 32],
}

/// The open round as this participant's node shows it.
pub(super) struct View {
    attempt: u32,
    min_participants: usize,
    /// Every participant, in account order (the masks' positions).
    participants: Vec<Member>,
    /// Committed update hashes, by account.
    updates: BTreeMap<String, Hash>,
    /// Committed aggregate hashes, by account.
    aggregates: BTreeMap<String, String>,
    /// Revealed seeds, by contributor, then by dropped account.
    revealed: BTreeMap<String, BTreeMap<String, [u8; 32]>>,
}

impl View {
    pub(super) fn of(detail: &FlTaskDetail) -> Result<View, TestnetError> {
        let mut participants = Vec::with_capacity(detail.participants.len());
        for row in &detail.participants {
            let mask_key = parse_bytes(&row.mask_key)
                .ok_or_else(|| TestnetError::Invalid(format!("bad mask key {:?}", row.mask_key)))?;
            participants.push(Member {
                account: row.account.clone(),
                samples: row.samples,
                mask_key,
            });
        }
        let mut updates = BTreeMap::new();
        let mut aggregates = BTreeMap::new();
        let mut revealed = BTreeMap::new();
        for row in &detail.open_round {
            if let Some(update) = &row.update {
                let hash = parse_bytes(update)
                    .map(Hash)
                    .ok_or_else(|| TestnetError::Invalid(format!("bad update hash {update:?}")))?;
                updates.insert(row.account.clone(), hash);
            }
            if let Some(aggregate) = &row.aggregate {
                aggregates.insert(row.account.clone(), aggregate.clone());
            }
            if !row.revealed.is_empty() {
                let mut seeds = BTreeMap::new();
                for seed in &row.revealed {
                    let bytes = parse_bytes(&seed.seed).ok_or_else(|| {
                        TestnetError::Invalid(format!("bad revealed seed {:?}", seed.seed))
                    })?;
                    seeds.insert(seed.dropped.clone(), bytes);
                }
                revealed.insert(row.account.clone(), seeds);
            }
        }
        Ok(View {
            attempt: detail.summary.open_round_attempt,
            min_participants: detail.summary.min_participants as usize,
            participants,
            updates,
            aggregates,
            revealed,
        })
    }

    /// The update set is fixed: an aggregate was committed or a seed revealed.
    fn frozen(&self) -> bool {
        !self.aggregates.is_empty() || !self.revealed.is_empty()
    }

    /// Positions of the participants without an update commit.
    fn dropped(&self) -> Vec<usize> {
        (0..self.participants.len())
            .filter(|&position| !self.updates.contains_key(&self.participants[position].account))
            .collect()
    }

    /// The aggregate's inputs are known: nobody is missing, or the set froze and (masked)
    /// every contributor revealed its seeds with the drop-outs.
    fn set_known(&self, masked: bool) -> bool {
        if self.dropped().is_empty() {
            return true;
        }
        self.frozen() && (!masked || self.updates.keys().all(|c| self.revealed.contains_key(c)))
    }

    fn position(&self, account: &str) -> Result<usize, TestnetError> {
        self.participants
            .iter()
            .position(|member| member.account == account)
            .ok_or_else(|| TestnetError::Invalid(format!("{account} is not a participant")))
    }

    /// Some aggregate hash has the matching commits settling needs: a strict majority of the
    /// contributors and at least `min`.
    fn agreement(&self, min: usize) -> bool {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for hash in self.aggregates.values() {
            *votes.entry(hash).or_default() += 1;
        }
        let needed = (self.updates.len() / 2 + 1).max(min);
        votes.values().any(|&count| count >= needed)
    }
}

/// The round's aggregate over the view's update set: the task's rule over the updates, or,
/// masked, FedAvg from the unmasked sum, the masks shared with drop-outs removed with the
/// seeds the contributors revealed (`core::fl::recovery::survivors_fed_avg`, from the API's
/// view).
fn combine(
    how: &How,
    view: &View,
    fetched: &BTreeMap<String, Vec<Fixed>>,
    dimension: usize,
) -> Result<Vec<Fixed>, TestnetError> {
    let samples: BTreeMap<&str, u64> =
        view.participants.iter().map(|m| (m.account.as_str(), m.samples)).collect();
    let missing = |account: &str| TestnetError::Invalid(format!("{account} is not a participant"));
    if !how.masked {
        let mut plain = Vec::with_capacity(view.updates.len());
        for account in view.updates.keys() {
            let update = fetched.get(account).cloned().ok_or_else(|| missing(account))?;
            let samples = *samples.get(account.as_str()).ok_or_else(|| missing(account))?;
            plain.push(Contribution { update, samples });
        }
        return Ok(aggregate(how.rule, &plain, dimension).map_err(FlCliError::from)?);
    }
    let mut indexed = Vec::with_capacity(view.updates.len());
    let mut total: u64 = 0;
    for account in view.updates.keys() {
        let words = fetched.get(account).ok_or_else(|| missing(account))?;
        indexed.push((view.position(account)?, words.iter().map(|word| word.0 as u64).collect()));
        total =
            total.saturating_add(*samples.get(account.as_str()).ok_or_else(|| missing(account))?);
    }
    let dropped = view.dropped();
    let mut revealed = Vec::new();
    for (survivor, seeds) in &view.revealed {
        for (gone, seed) in seeds {
            let survivor = view.position(survivor)?;
            revealed.push(RevealedSeed { survivor, dropped: view.position(gone)?, seed: *seed });
        }
    }
    let sum =
        masking::unmask_sum(&indexed, &dropped, &revealed, dimension).map_err(FlCliError::from)?;
    Ok(masking::fed_avg_from_sum(&sum, total).map_err(FlCliError::from)?)
}

/// yᵢ = nᵢ·uᵢ plus the pairwise masks of the participant at `me` with every other one, with
/// the seeds of the view's attempt, as the words travel in the update encoding.
fn mask_update(
    secret: &MaskSecret,
    task: &Hash,
    round: u32,
    view: &View,
    me: usize,
    update: &[Fixed],
    samples: u64,
) -> Result<Vec<Fixed>, TestnetError> {
    let peers: Vec<(usize, [u8; 32])> = view
        .participants
        .iter()
        .enumerate()
        .filter(|(position, _)| *position != me)
        .map(|(position, row)| {
            (position, secret.attempt_seed(&row.mask_key, task, round, view.attempt))
        })
        .collect();
    let weighted = masking::weigh(update, samples).map_err(FlCliError::from)?;
    let words = masking::mask(me, &weighted, &peers).map_err(FlCliError::from)?;
    Ok(words.into_iter().map(|word| Fixed(word as i64)).collect())
}

fn parse_bytes(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vein_node::api_types::{FlCommitRow, FlParticipantRow, FlRevealedSeed, FlTaskSummary};
    use vein_node::core::crypto::Keypair;

    const DIMENSION: usize = 5;

    struct Party {
        key: Keypair,
        secret: MaskSecret,
        update: Vec<Fixed>,
        samples: u64,
    }

    fn parties(task: &Hash) -> Vec<Party> {
        let mut parties: Vec<Party> = (0..4u64)
            .map(|i| {
                let key = Keypair::derived("fl-round-test", i);
                let secret = MaskSecret::derive(&key.seed(), task);
                let update = (0..DIMENSION as i64)
                    .map(|k| Fixed((i as i64 * 31 - 40) * (k + 1) * 997))
                    .collect();
                Party { key, secret, update, samples: 10 + 13 * i }
            })
            .collect();
        // Positions are the chain's account order.
        parties.sort_by_key(|party| party.key.account().to_hex());
        parties
    }

    fn summary(task: &Hash, attempt: u32) -> FlTaskSummary {
        FlTaskSummary {
            id: task.to_string(),
            poster: "00".repeat(32),
            rule: "FedAvg".into(),
            masked: true,
            rule_parameter: None,
            dimension: DIMENSION as u32,
            learning_rate_fixed: 1,
            local_epochs: 1,
            batch_size: 1,
            rounds: 3,
            settled_rounds: 2,
            min_participants: 3,
            participants: 4,
            price_per_round: 100,
            escrow: 100,
            open_round_updates: 0,
            open_round_aggregates: 0,
            open_round_attempt: attempt,
        }
    }

    fn roster(parties: &[Party]) -> Vec<FlParticipantRow> {
        parties
            .iter()
            .map(|party| FlParticipantRow {
                account: party.key.account().to_hex(),
                samples: party.samples,
                mask_key: hex::encode(party.secret.public()),
                paid: 0,
            })
            .collect()
    }

    /// Attempt 1 of round 2, the participant at position `gone` dropped: the survivors mask with
    /// the seeds of the attempt their view shows (`masked_attempt`) and reveal their attempt-1
    /// seeds with the drop-out; the aggregate the client recomputes from that view.
    fn recovered(masked_attempt: u32, gone: usize) -> (Vec<Fixed>, Vec<Fixed>) {
        let task = Hash::of(b"task");
        let (round, attempt) = (2, 1);
        let parties = parties(&task);
        let masking_view = View::of(&FlTaskDetail {
            summary: summary(&task, masked_attempt),
            participants: roster(&parties),
            settled: Vec::new(),
            open_round: Vec::new(),
        })
        .unwrap();
        let mut open_round = Vec::new();
        let mut fetched = BTreeMap::new();
        let mut plain = Vec::new();
        for (position, party) in parties.iter().enumerate().filter(|(p, _)| *p != gone) {
            let masked = mask_update(
                &party.secret,
                &task,
                round,
                &masking_view,
                position,
                &party.update,
                party.samples,
            )
            .unwrap();
            let account = party.key.account();
            let encoded = encode_update(&masked);
            let dropped = &parties[gone];
            let seed = party.secret.attempt_seed(&dropped.secret.public(), &task, round, attempt);
            open_round.push(FlCommitRow {
                account: account.to_hex(),
                update: Some(update_hash(&task, round, &account, &encoded).to_string()),
                aggregate: None,
                revealed: vec![FlRevealedSeed {
                    dropped: dropped.key.account().to_hex(),
                    seed: hex::encode(seed),
                }],
            });
            fetched.insert(account.to_hex(), masked);
            plain.push(Contribution { update: party.update.clone(), samples: party.samples });
        }
        let detail = FlTaskDetail {
            summary: summary(&task, attempt),
            participants: roster(&parties),
            settled: Vec::new(),
            open_round,
        };
        let view = View::of(&detail).unwrap();
        assert!(view.frozen() && view.set_known(true));
        assert_eq!(view.dropped(), vec![gone]);
        let training = TrainingSpec {
            dimension: DIMENSION as u32,
            learning_rate: Fixed(1),
            local_epochs: 1,
            batch_size: 1,
        };
        let how = How { training: &training, rule: AggregationRule::FedAvg, masked: true };
        let got = combine(&how, &view, &fetched, DIMENSION).unwrap();
        let expected = aggregate(AggregationRule::FedAvg, &plain, DIMENSION).unwrap();
        (got, expected)
    }

    #[test]
    fn a_drop_out_of_a_restarted_masked_round_is_recovered_to_the_survivors_fed_avg() {
        for gone in 0..4 {
            let (got, expected) = recovered(1, gone);
            assert_eq!(got, expected, "position {gone} dropped");
        }
        // Masks of the wrong attempt do not cancel against the attempt's revealed seeds.
        let (got, expected) = recovered(0, 1);
        assert_ne!(got, expected);
    }
}
