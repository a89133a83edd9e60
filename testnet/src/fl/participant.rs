//! One data owner beside a node (`fl join`): its share of the data, its derived account, and
//! the loop over the task's rounds, resumable from its log.
//!
//! Resuming: after every settled round the participant writes the accepted aggregate (and the
//! round's timing) to `DIR/fl/TASK/participant-i.json`. Started again with the same arguments,
//! it checks each logged aggregate against the hash the chain accepted for its round, rebuilds
//! the global model from them and picks up at the first round its log lacks. A round that
//! settled while it was away is taken from any participant's log in the same directory whose
//! aggregate for that round hashes to the accepted one (the chain's hash is the trust anchor;
//! the directory is only the channel).

use super::round::{Accepted, How, RoundRun};
use super::{
    FUND_AMOUNT, FUND_MIN, FlCliError, log_path, participant_key, poll, rule_of, task_detail,
};
use crate::manifest::Manifest;
use crate::{Sender, TestnetError, TxRequest, account_state, bad_argument, reachable};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vein_fl_lab::convert::accuracy;
use vein_fl_lab::scenarios::{Setup, Split, seed_bytes, shards, wine_setup};
use vein_node::api_types::FlTaskDetail;
use vein_node::core::crypto::Keypair;
use vein_node::core::fl::masking::MaskSecret;
use vein_node::core::fl::model::apply_update;
use vein_node::core::fl::task::FlTx;
use vein_node::core::fl::update::{aggregate_hash, decode_update, encode_update};
use vein_node::core::fl::{Dataset, Fixed, TrainingSpec, split};
use vein_node::core::hash::Hash;
use vein_node::genesis_file::GenesisFile;

/// A participant's log: the accepted aggregate of every settled round, encoded, and how long
/// each round took this participant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct ModelLog {
    pub(super) aggregates: Vec<String>,
    /// One entry per round in `aggregates` (absent in logs written before timing was kept).
    #[serde(default)]
    pub(super) timing: Vec<RoundTiming>,
}

/// How one round went for one participant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct RoundTiming {
    /// From the round's start (the previous round settled, as this participant saw it) to its
    /// settlement, in ms.
    pub(super) wall_ms: u64,
    /// Local training, in ms (0 if the participant did not train in the round).
    pub(super) training_ms: u64,
    /// (k + 1) · T of the testnet, in ms: the time one step takes to become final.
    pub(super) final_ms: u64,
    /// The participant's update was among the round's contributions.
    pub(super) contributed: bool,
    /// The round settled while the participant was away; its aggregate came from another log.
    pub(super) caught_up: bool,
}

/// Timing knobs of a `join`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Waits {
    /// Any one step may make no progress this long before the join gives up.
    pub(super) step: Duration,
    /// How long the round's leader waits for a missing update before it declares its owner
    /// dropped out (and, masked, reveals its seeds with it).
    pub(super) drop: Duration,
    /// (k + 1) · T of the testnet, reported beside each round's time.
    pub(super) finality: Duration,
}

impl Waits {
    /// The knobs for `manifest`'s testnet: `drop_ms` if given, else the simulator's 2 T
    /// (`FlPlan::drop_wait_ms`), but at least 10 s: real participants train on their own
    /// clocks, and one that is merely slow must not be declared dropped.
    pub(super) fn of(
        manifest: &Manifest,
        step: Duration,
        drop_ms: Option<u64>,
    ) -> Result<Waits, TestnetError> {
        let params = GenesisFile::load(&manifest.genesis)?.to_genesis()?.params;
        let interval = params.target_interval_ms;
        let finality = interval.saturating_mul(params.finality_depth.saturating_add(1));
        let drop = drop_ms.unwrap_or_else(|| interval.saturating_mul(2).max(10_000));
        Ok(Waits {
            step,
            drop: Duration::from_millis(drop),
            finality: Duration::from_millis(finality),
        })
    }
}

/// One data owner's share and identity.
pub(super) struct Participant {
    pub(super) task: Hash,
    pub(super) index: usize,
    pub(super) of: usize,
    pub(super) via: usize,
    pub(super) api: SocketAddr,
    pub(super) key: Keypair,
    pub(super) train: Dataset,
    local_test: Dataset,
    pub(super) seed: u64,
    log: PathBuf,
}

impl Participant {
    pub(super) fn prepare(
        manifest: &Manifest,
        dir: &Path,
        task: Hash,
        index: usize,
        of: usize,
        via: usize,
        seed: u64,
    ) -> Result<Participant, TestnetError> {
        if index >= of {
            return Err(bad_argument("participant", format!("must be below --of {of}")));
        }
        let setup: Setup = wine_setup(seed).map_err(FlCliError::from)?;
        let train = shards(&setup, of, Split::Iid).map_err(FlCliError::from)?;
        let train = train.get(index).cloned().ok_or_else(|| {
            bad_argument("of", format!("{of} participants leave participant {index} no records"))
        })?;
        let test_seed = seed_bytes(b"local-test", seed, 0, of);
        let tests = split::iid(setup.test.len(), of, test_seed).map_err(FlCliError::from)?;
        let local_test = setup.test.subset(tests.get(index).map_or(&[][..], Vec::as_slice));
        Ok(Participant {
            task,
            index,
            of,
            via,
            api: reachable(manifest, via)?.api,
            key: participant_key(&task, index),
            train,
            local_test,
            seed,
            log: log_path(dir, &task, index),
        })
    }

    pub(super) fn say(&self, line: &str) {
        println!("participant {}: {line}", self.index);
    }

    /// Fund, join, then run every round not in the log yet; returns the final line.
    pub(super) fn run(&self, manifest: &Manifest, waits: Waits) -> Result<String, TestnetError> {
        let detail = task_detail(self.api, &self.task)?;
        let rule = rule_of(&detail)?;
        let training = TrainingSpec {
            dimension: detail.summary.dimension,
            learning_rate: Fixed(detail.summary.learning_rate_fixed),
            local_epochs: detail.summary.local_epochs,
            batch_size: detail.summary.batch_size,
        };
        self.fund(manifest, waits.step)?;
        let me = self.key.account().to_hex();
        if !detail.participants.iter().any(|row| row.account == me) {
            let mask_key = MaskSecret::derive(&self.key.seed(), &self.task).public();
            let samples = self.train.len() as u64;
            let join = FlTx::Join { task: self.task, samples, mask_key };
            let id = super::submit(self.api, &self.key, join)?;
            super::wait_applied(self.api, &id, "join", waits.step)?;
        }
        self.say(&format!("joined task {} with {} records", self.task, self.train.len()));
        poll(&format!("{} participants to join", self.of), waits.step, || {
            Ok((task_detail(self.api, &self.task)?.summary.participants >= self.of).then_some(()))
        })?;
        let (mut log, mut global) = self.resume(&detail, &training)?;
        if !log.aggregates.is_empty() {
            let path = self.log.display();
            self.say(&format!("resuming at round {} (from {path})", log.aggregates.len()));
        }
        let how = How { training: &training, rule, masked: detail.summary.masked };
        for round in log.aggregates.len() as u32..detail.summary.rounds {
            #[allow(clippy::disallowed_methods)] // the CLI's own timing
            let started = Instant::now();
            let run = RoundRun { participant: self, manifest, round, how: &how, waits };
            let accepted = match run.run(&global)? {
                Some(accepted) => accepted,
                None => self.missed(round, waits.step)?,
            };
            global = apply_update(&global, &accepted.aggregate).map_err(FlCliError::from)?;
            let timing = RoundTiming {
                wall_ms: started.elapsed().as_millis() as u64,
                training_ms: accepted.training.as_millis() as u64,
                final_ms: waits.finality.as_millis() as u64,
                contributed: accepted.contributed,
                caught_up: accepted.caught_up,
            };
            log.aggregates.push(hex::encode(encode_update(&accepted.aggregate)));
            log.timing.push(timing);
            self.write_log(&log)?;
            self.report(round, &accepted, &global, timing)?;
        }
        Ok(format!("participant {}: all {} rounds settled", self.index, log.aggregates.len()))
    }

    fn report(
        &self,
        round: u32,
        accepted: &Accepted,
        global: &[Fixed],
        timing: RoundTiming,
    ) -> Result<(), TestnetError> {
        let local = accuracy(global, &self.local_test).map_err(FlCliError::from)?;
        let how = if accepted.caught_up {
            " (its aggregate taken from another participant's log, checked against the chain)"
        } else if !accepted.contributed {
            " (this participant's update is not in it)"
        } else {
            ""
        };
        self.say(&format!(
            "round {round}: {} contributors, {} accepted, aggregate {}, local test accuracy \
             {:.2}% ({} records), {:.1} s (training {:.2} s; (k+1)T {:.1} s){how}",
            accepted.contributors,
            accepted.accepted,
            accepted.hash,
            100.0 * local,
            self.local_test.len(),
            timing.wall_ms as f64 / 1000.0,
            timing.training_ms as f64 / 1000.0,
            timing.final_ms as f64 / 1000.0,
        ));
        Ok(())
    }

    /// The log of an earlier run of this participant, each aggregate checked against the
    /// chain, and the global model they give; empty if there is none.
    fn resume(
        &self,
        detail: &FlTaskDetail,
        training: &TrainingSpec,
    ) -> Result<(ModelLog, Vec<Fixed>), TestnetError> {
        let mut global = training.initial_weights();
        let log = match std::fs::read_to_string(&self.log) {
            Ok(text) => serde_json::from_str::<ModelLog>(&text)
                .map_err(|e| FlCliError::Log { path: self.log.clone(), reason: e.to_string() })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => ModelLog::default(),
            Err(error) => return Err(crate::error::io("reading", &self.log)(error)),
        };
        let dimension = training.dimension as usize;
        for (round, encoded) in log.aggregates.iter().enumerate() {
            let aggregate = checked_aggregate(&self.task, detail, round as u32, encoded, dimension)
                .map_err(|reason| FlCliError::Log { path: self.log.clone(), reason })?;
            global = apply_update(&global, &aggregate).map_err(FlCliError::from)?;
        }
        Ok((log, global))
    }

    /// A round that settled without this participant seeing its aggregate (it was away, or
    /// dropped and the round settled before it could recompute it): the accepted aggregate
    /// from any log in the task's directory that holds it.
    fn missed(&self, round: u32, timeout: Duration) -> Result<Accepted, TestnetError> {
        let detail = task_detail(self.api, &self.task)?;
        let row = detail.settled.get(round as usize).cloned().ok_or_else(|| {
            TestnetError::Invalid(format!("round {round} is not settled on node {}", self.via))
        })?;
        let folder = self.log.parent().map(Path::to_path_buf).unwrap_or_default();
        let dimension = detail.summary.dimension as usize;
        // The participants that computed it write their logs once they see the settlement.
        let found = poll(&format!("a log holding round {round}'s aggregate"), timeout, || {
            let mut logs: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
                .unwrap_or_default();
            logs.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
            logs.sort();
            for path in logs {
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                let Ok(log) = serde_json::from_str::<ModelLog>(&text) else { continue };
                let Some(encoded) = log.aggregates.get(round as usize) else { continue };
                let checked = checked_aggregate(&self.task, &detail, round, encoded, dimension);
                if let Ok(aggregate) = checked {
                    return Ok(Some(aggregate));
                }
            }
            Ok(None)
        });
        let aggregate = match found {
            Ok(aggregate) => aggregate,
            Err(TestnetError::Fl(FlCliError::Timeout { .. })) => {
                return Err(FlCliError::Log {
                    path: folder,
                    reason: format!(
                        "round {round} settled on {} while this participant was away, and no \
                         log here holds that aggregate",
                        row.aggregate
                    ),
                }
                .into());
            }
            Err(error) => return Err(error),
        };
        Ok(Accepted {
            aggregate,
            hash: row.aggregate,
            contributors: row.contributors,
            accepted: row.accepted,
            training: Duration::ZERO,
            contributed: false,
            caught_up: true,
        })
    }

    /// Make sure the account can pay its fees: ask its node for coins when short.
    fn fund(&self, manifest: &Manifest, timeout: Duration) -> Result<(), TestnetError> {
        let account = self.key.account();
        if account_state(self.api, &account)?.balance >= FUND_MIN {
            return Ok(());
        }
        let request = TxRequest {
            from: Sender::Node(self.via),
            to: account.to_hex(),
            amount: FUND_AMOUNT,
            fee: 1,
            nonce: None,
            via: Some(self.via),
        };
        crate::tx(manifest, &request)?;
        poll("the participant's funding", timeout, || {
            Ok((account_state(self.api, &account)?.balance >= FUND_MIN).then_some(()))
        })
    }

    fn write_log(&self, log: &ModelLog) -> Result<(), TestnetError> {
        if let Some(parent) = self.log.parent() {
            std::fs::create_dir_all(parent).map_err(crate::error::io("creating", parent))?;
        }
        let text = serde_json::to_string(log).map_err(|e| TestnetError::Invalid(e.to_string()))?;
        // Written whole then renamed, so a kill mid-write leaves the previous log to resume from.
        let partial = self.log.with_extension("json.partial");
        std::fs::write(&partial, text).map_err(crate::error::io("writing", &partial))?;
        std::fs::rename(&partial, &self.log).map_err(crate::error::io("renaming", &self.log))
    }
}

/// A logged aggregate of `round`, decoded and checked against the hash the chain accepted.
pub(super) fn checked_aggregate(
    task: &Hash,
    detail: &FlTaskDetail,
    round: u32,
    encoded: &str,
    dimension: usize,
) -> Result<Vec<Fixed>, String> {
    let settled = detail
        .settled
        .get(round as usize)
        .ok_or_else(|| format!("round {round} is logged but not settled on chain"))?;
    let bytes = hex::decode(encoded).map_err(|_| format!("round {round}: not hex"))?;
    let aggregate = decode_update(&bytes, dimension).map_err(|e| format!("round {round}: {e}"))?;
    let hash = aggregate_hash(task, round, &aggregate);
    if hash.to_string() != settled.aggregate {
        return Err(format!(
            "round {round}: aggregate {hash} is not the accepted {}",
            settled.aggregate
        ));
    }
    Ok(aggregate)
}
