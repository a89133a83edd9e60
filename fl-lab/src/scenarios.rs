//! The measured scenarios, all deterministic from their seeds:
//! - **centralised bound**: the same model and schedule trained on the pooled training records;
//! - **FedAvg on IID and Dirichlet(α) splits** (McMahan et al., 2017; Hsu et al., 2019), with
//!   and without pairwise masking (Bonawitz et al., 2017) — masked runs must end on the same
//!   bits as unmasked ones;
//! - **sign-flipping poisoning**: a fraction f of participants send −s·u instead of their
//!   honest update u, against FedAvg, coordinate-wise median, trimmed mean (Yin et al., 2018)
//!   and Krum (Blanchard et al., 2017). The defender's rules are tuned for f ≤ 0.3 whatever the
//!   real f: Krum tolerates ⌈0.3 n⌉, trimmed mean drops ⌈0.3 n⌉ from each end.
//!
//! Accuracy (a float) is computed on a held-out test split for reporting only.

use crate::convert::accuracy;
use vein_node::core::fl::aggregate::{AggregationRule, Contribution, aggregate};
use vein_node::core::fl::masking::{self, MaskSecret, RevealedSeed};
use vein_node::core::fl::model::{apply_update, difference};
use vein_node::core::fl::{Dataset, Fixed, FlError, TrainingSpec, split, train_local};
use vein_node::core::hash::Hash;

/// One experiment's fixed inputs.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Records dealt to the participants (or pooled for the centralised bound).
    pub train: Dataset,
    /// Held-out records the accuracy is measured on; never trained on.
    pub test: Dataset,
    /// Model dimension, learning rate, local epochs and batch size of every local step.
    pub training: TrainingSpec,
    /// Rounds of training and aggregation (one accuracy point each).
    pub rounds: u32,
    /// Root of every derived seed (split, shuffle, masks): equal seeds give equal runs.
    pub seed: u64,
}

/// The defaults used by the report and the tests: 20 rounds of one local epoch, batch 16,
/// learning rate 0.05, 20% of the records held out.
pub fn wine_setup(seed: u64) -> Result<Setup, FlError> {
    let data = crate::wine_quality()?;
    let (train, test) = data.train_test(20, seed_bytes(b"train-test", seed, 0, 0))?;
    let training = TrainingSpec {
        dimension: data.dimension() as u32,
        learning_rate: Fixed(Fixed::ONE.0 / 20),
        local_epochs: 1,
        batch_size: 16,
    };
    Ok(Setup { train, test, training, rounds: 20, seed })
}

/// How the training records are dealt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Split {
    /// Records shuffled and dealt evenly, so every participant sees the same label mix.
    Iid,
    /// Label skew: per class, Dirichlet(`alpha`) proportions over the participants.
    Dirichlet {
        /// Concentration: small (0.1) gives each participant mostly one class, large tends
        /// to IID.
        alpha: f64,
    },
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Test accuracy after each round.
    pub accuracy_per_round: Vec<f64>,
    /// The global model after the last round (bias last, as the core's model lays it out).
    pub weights: Vec<Fixed>,
    /// Participants that received records (a Dirichlet split can leave some empty).
    pub participants: usize,
}

impl Run {
    /// Test accuracy after the last round; 0 for a run of no rounds.
    pub fn final_accuracy(&self) -> f64 {
        self.accuracy_per_round.last().copied().unwrap_or(0.0)
    }
}

/// A 32-byte seed for one purpose, round and participant.
pub fn seed_bytes(purpose: &[u8], seed: u64, round: u32, participant: usize) -> [u8; 32] {
    *Hash::of_parts(&[
        b"vein/fl-lab/seed",
        purpose,
        &seed.to_le_bytes(),
        &round.to_le_bytes(),
        &(participant as u64).to_le_bytes(),
    ])
    .as_bytes()
}

/// The same schedule on the pooled training records: the bound federated runs are held to.
pub fn centralised(setup: &Setup) -> Result<Run, FlError> {
    let mut weights = setup.training.initial_weights();
    let mut accuracy_per_round = Vec::with_capacity(setup.rounds as usize);
    for round in 0..setup.rounds {
        let seed = seed_bytes(b"central", setup.seed, round, 0);
        weights = train_local(&weights, &setup.train, &setup.training, seed)?;
        accuracy_per_round.push(accuracy(&weights, &setup.test)?);
    }
    Ok(Run { accuracy_per_round, weights, participants: 1 })
}

/// Deal the training records over `participants`; empty shards are dropped.
pub fn shards(setup: &Setup, participants: usize, how: Split) -> Result<Vec<Dataset>, FlError> {
    let seed = seed_bytes(b"split", setup.seed, 0, participants);
    let parts = match how {
        Split::Iid => split::iid(setup.train.len(), participants, seed)?,
        Split::Dirichlet { alpha } => {
            crate::split::dirichlet(setup.train.labels(), participants, alpha, seed)?
        }
    };
    Ok(parts.iter().filter(|part| !part.is_empty()).map(|part| setup.train.subset(part)).collect())
}

/// A federated run's rule and adversaries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Federation {
    /// How the server combines the round's updates (FedAvg, median, trimmed mean, Krum).
    pub rule: AggregationRule,
    /// Send updates under pairwise masks (FedAvg only).
    pub masked: bool,
    /// The first `byzantine` participants flip their update's sign and scale it.
    pub byzantine: usize,
    /// `s` of the sign flip: a Byzantine participant sends `−s·u` for its honest update `u`.
    pub flip_scale: i64,
}

impl Federation {
    /// No adversaries and no masking under `rule` (`flip_scale` 4 for callers that then set
    /// `byzantine`).
    pub fn honest(rule: AggregationRule) -> Federation {
        Federation { rule, masked: false, byzantine: 0, flip_scale: 4 }
    }
}

/// R rounds of local training and aggregation over `shards`.
pub fn federated(
    setup: &Setup,
    shards: &[Dataset],
    federation: Federation,
) -> Result<Run, FlError> {
    let dimension = setup.training.dimension as usize;
    let mut global = setup.training.initial_weights();
    let mut accuracy_per_round = Vec::with_capacity(setup.rounds as usize);
    let task = Hash::of_parts(&[b"fl-lab task", &setup.seed.to_le_bytes()]);
    let secrets: Vec<MaskSecret> = (0..shards.len())
        .map(|i| MaskSecret::derive(&seed_bytes(b"mask", setup.seed, 0, i), &task))
        .collect();
    for round in 0..setup.rounds {
        let mut contributions = Vec::with_capacity(shards.len());
        for (participant, shard) in shards.iter().enumerate() {
            let seed = seed_bytes(b"local", setup.seed, round, participant);
            let trained = train_local(&global, shard, &setup.training, seed)?;
            let mut update = difference(&trained, &global)?;
            if participant < federation.byzantine {
                for value in &mut update {
                    let flipped = value.0.checked_mul(-federation.flip_scale);
                    *value = Fixed(flipped.ok_or(FlError::Overflow { operation: "sign flip" })?);
                }
            }
            contributions.push(Contribution { update, samples: shard.len() as u64 });
        }
        let aggregate = if federation.masked {
            if !federation.rule.works_on_sums() {
                return Err(FlError::RuleNeedsIndividualUpdates { rule: federation.rule.name() });
            }
            masked_fed_avg(&contributions, &secrets, &task, round, dimension)?
        } else {
            aggregate(federation.rule, &contributions, dimension)?
        };
        global = apply_update(&global, &aggregate)?;
        accuracy_per_round.push(accuracy(&global, &setup.test)?);
    }
    Ok(Run { accuracy_per_round, weights: global, participants: shards.len() })
}

/// FedAvg as secure aggregation computes it: every participant masks nᵢ·uᵢ with its pairwise
/// seeds, and only the sum of the masked vectors is unmasked.
pub fn masked_fed_avg(
    contributions: &[Contribution],
    secrets: &[MaskSecret],
    task: &Hash,
    round: u32,
    dimension: usize,
) -> Result<Vec<Fixed>, FlError> {
    let masked = mask_all(contributions, secrets, task, round)?;
    let indexed: Vec<(usize, Vec<u64>)> = masked.into_iter().enumerate().collect();
    let sum = masking::unmask_sum(&indexed, &[], &[], dimension)?;
    let total: u64 = contributions.iter().map(|c| c.samples).sum();
    masking::fed_avg_from_sum(&sum, total)
}

/// Every participant's masked update (what travels between participants under masking).
pub fn mask_all(
    contributions: &[Contribution],
    secrets: &[MaskSecret],
    task: &Hash,
    round: u32,
) -> Result<Vec<Vec<u64>>, FlError> {
    let publics: Vec<[u8; 32]> = secrets.iter().map(MaskSecret::public).collect();
    contributions
        .iter()
        .enumerate()
        .map(|(i, contribution)| {
            let peers: Vec<(usize, [u8; 32])> = (0..contributions.len())
                .filter(|&j| j != i)
                .map(|j| (j, secrets[i].pairwise_seed(&publics[j], task, round)))
                .collect();
            masking::mask(i, &masking::weigh(&contribution.update, contribution.samples)?, &peers)
        })
        .collect()
}

/// Masked FedAvg when the participants in `dropped` never sent their masked update: the
/// survivors reveal their seeds with them and the aggregate is FedAvg over the survivors.
pub fn masked_fed_avg_with_dropouts(
    contributions: &[Contribution],
    secrets: &[MaskSecret],
    task: &Hash,
    round: u32,
    dropped: &[usize],
) -> Result<Vec<Fixed>, FlError> {
    let dimension = contributions.first().map_or(0, |c| c.update.len());
    let masked = mask_all(contributions, secrets, task, round)?;
    let survivors: Vec<(usize, Vec<u64>)> =
        masked.into_iter().enumerate().filter(|(i, _)| !dropped.contains(i)).collect();
    let mut revealed = Vec::new();
    for (survivor, _) in &survivors {
        for &gone in dropped {
            let seed = secrets[*survivor].pairwise_seed(&secrets[gone].public(), task, round);
            revealed.push(RevealedSeed { survivor: *survivor, dropped: gone, seed });
        }
    }
    let sum = masking::unmask_sum(&survivors, dropped, &revealed, dimension)?;
    let total: u64 = survivors.iter().map(|(i, _)| contributions[*i].samples).sum();
    masking::fed_avg_from_sum(&sum, total)
}

/// ⌈0.3 · n⌉: how many bad participants the robust rules are tuned for.
pub fn tolerated(participants: usize) -> usize {
    (participants * 3).div_ceil(10)
}

/// The four rules, tuned for `participants`.
pub fn rules(participants: usize) -> [AggregationRule; 4] {
    let f = tolerated(participants) as u32;
    [
        AggregationRule::FedAvg,
        AggregationRule::Median,
        AggregationRule::TrimmedMean { trim: f },
        AggregationRule::Krum { byzantine: f },
    ]
}
