//! Recovering a masked round from drop-outs (docs/federated-learning.md "Drop-outs").
//!
//! Model. Under pairwise masks (`masking`) contributor i's masked update carries ±m(sᵢⱼ) for
//! every other participant j. If j committed no update, nothing carries the opposite sign, and
//! the contributors' sum is noise. The chain fixes who dropped: the participants without an
//! update commit when the round's update set freezes (first seed reveal or first aggregate
//! commit; no update is taken after that). Each contributor then reveals, on chain
//! (`FlTx::RevealSeeds`), its seed with each dropped participant; once every contributor has,
//! any participant removes those masks and gets Σ nᵢ·uᵢ over the contributors, bit for bit the
//! unmasked FedAvg of the survivors ([`survivors_fed_avg`]).
//!
//! Threat model (simpler than Bonawitz et al.'s, whose Shamir-shared self-masks it omits):
//! - Honest but curious participants; the chain orders and freezes. Revealed seeds are public.
//! - A dropped participant's masked update is never accepted once the set froze (the chain
//!   refuses its commit; the nodes' update store refuses bytes without a commit), so the
//!   revealed seeds unmask nothing individual. A drop-out that computed its masked update and
//!   leaked it off chain would be exposed: Bonawitz's self-mask bᵢ covers that case, this
//!   protocol does not.
//! - A survivor's masked update stays hidden: it is masked by its seeds with the other
//!   survivors, which are never revealed, and at least m ≥ 3 survivors are required
//!   ([`check_reveal`]), so the sum exposes no single update.
//! - A lying revealer (a wrong seed) corrupts the round's sum, as a wrong masked update would:
//!   masked FedAvg has no defence against a malicious contributor either way.
//! - A second drop-out, a contributor that never reveals, leaves the sum unrecoverable until it
//!   comes back: this protocol has no t-of-n reconstruction (Bonawitz's Shamir shares) and the
//!   chain no deadline in checkpoints. A restarted round (`RoundCommits::attempt`) masks with
//!   fresh seeds, so seeds revealed in an earlier attempt expose nothing later.

use super::error::FlError;
use super::fixed::Fixed;
use super::masking::{self, MaskSecret, RevealedSeed};
use super::task::{FlTx, Task};
use crate::core::crypto::AccountId;
use std::collections::BTreeMap;

/// Would `from`'s reveal of `seeds` in `round` of `task` apply? The rule the chain enforces.
pub fn check_reveal(
    task: &Task,
    from: &AccountId,
    round: u32,
    seeds: &[(AccountId, [u8; 32])],
) -> Result<(), FlError> {
    task.require_participant(from)?;
    task.require_open_round(round)?;
    if !task.spec.masked {
        return Err(FlError::NotMasked { task: task.id });
    }
    if !task.open_round.updates.contains_key(from) {
        return Err(FlError::NoUpdateCommitted { round, account: *from });
    }
    if task.open_round.revealed.contains_key(from) {
        return Err(FlError::AlreadyCommitted { task: task.id, round, account: *from });
    }
    let dropped = task.dropped();
    if dropped.is_empty() {
        return Err(FlError::NothingToReveal { round });
    }
    let survivors = task.open_round.updates.len();
    let needed = task.spec.min_participants as usize;
    if survivors < needed {
        return Err(FlError::NotEnoughSurvivors { round, survivors, needed });
    }
    let names_exactly = seeds.len() == dropped.len()
        && seeds.iter().zip(&dropped).all(|((named, _), gone)| named == gone);
    if !names_exactly {
        return Err(FlError::RevealMismatch { round, dropped: dropped.len(), named: seeds.len() });
    }
    Ok(())
}

/// `me`'s reveal for the open round of `task` as `me`'s view shows it: its seed with every
/// participant without an update commit. `None` if nobody dropped.
pub fn reveal(secret: &MaskSecret, task: &Task) -> Option<FlTx> {
    let round = task.current_round();
    let seeds: Vec<(AccountId, [u8; 32])> = task
        .dropped()
        .into_iter()
        .filter_map(|gone| {
            let key = task.participants.get(&gone)?.mask_key;
            Some((gone, secret.attempt_seed(&key, &task.id, round, task.open_round.attempt)))
        })
        .collect();
    (!seeds.is_empty()).then_some(FlTx::RevealSeeds { task: task.id, round, seeds })
}

/// True once the open round's aggregate can be computed: the update set is frozen (or every
/// participant contributed) and every contributor revealed its seeds with the drop-outs.
pub fn ready(task: &Task) -> bool {
    let commits = &task.open_round;
    if task.dropped().is_empty() {
        return true;
    }
    commits.updates_frozen() && commits.updates.keys().all(|c| commits.revealed.contains_key(c))
}

/// FedAvg over the open round's contributors of `task`, from their masked updates (`masked`,
/// by account, the words as `Fixed` the way they travel) and the seeds revealed on chain.
/// Positions are the participants' account order, as `masking::mask` was called with.
pub fn survivors_fed_avg(
    task: &Task,
    masked: &BTreeMap<AccountId, Vec<Fixed>>,
) -> Result<Vec<Fixed>, FlError> {
    let dimension = task.spec.training.dimension as usize;
    let positions: BTreeMap<AccountId, usize> = task
        .participants
        .keys()
        .enumerate()
        .map(|(position, account)| (*account, position))
        .collect();
    let position = |account: &AccountId| {
        positions
            .get(account)
            .copied()
            .ok_or(FlError::NotParticipant { task: task.id, account: *account })
    };
    let mut indexed = Vec::with_capacity(task.open_round.updates.len());
    let mut total: u64 = 0;
    for contributor in task.open_round.updates.keys() {
        let words = masked
            .get(contributor)
            .ok_or(FlError::Masking { reason: "a contributor's masked update is missing" })?;
        indexed.push((position(contributor)?, words.iter().map(|word| word.0 as u64).collect()));
        let samples = task.require_participant(contributor)?.samples;
        total = total.checked_add(samples).ok_or(FlError::Overflow { operation: "samples" })?;
    }
    let dropped: Vec<usize> = task.dropped().iter().map(position).collect::<Result<_, _>>()?;
    let mut revealed = Vec::new();
    for (survivor, seeds) in &task.open_round.revealed {
        for (gone, seed) in seeds {
            revealed.push(RevealedSeed {
                survivor: position(survivor)?,
                dropped: position(gone)?,
                seed: *seed,
            });
        }
    }
    let sum = masking::unmask_sum(&indexed, &dropped, &revealed, dimension)?;
    masking::fed_avg_from_sum(&sum, total)
}
