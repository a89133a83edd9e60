//! Issue #17, tampering member: one member node of a consortium alters its replica, or attests
//! a false root, and every honest member must name it at the next verdict, while no honest
//! member is ever named (docs/consortium.md, "States on chain: attestations").
//!
//! Model: every honest node is a party and a member node of one consortium (quorum 2,
//! `crate::consortium_net`); the last node is the tampering member. Each node keeps a replica
//! fed by its own core events (`ReplicaFeed`, as the node process's `FeedSink` does; the engine
//! hands the events out, `Engine::keep_events`) and every [`SUBMIT_EVERY_MS`] submits the
//! attestations its feed queued (the service's attestation task). The parties write one row a
//! second, round robin. After [`WARMUP_T`] intervals of writing, at a phase of the interval that
//! varies with the seed, the tamperer acts (`attacker.mode`):
//! - `forged-row`: its operator rewrites a current row of its SQLite replica file through a
//!   second connection; the replica notices the foreign write at its next action (SQLite's
//!   `data_version`) and re-reads its rows, so it attests the forged root from then on (until
//!   the verdict makes it repair itself);
//! - `false-root`: its replica stays intact, but every attestation it submits from then on
//!   carries another root.
//!
//! Members attest exactly the heights at which the consortium applied a write, and a strict
//! majority of members attesting one root certifies it; an attestation differing from the
//! certified root of its height is a divergence, announced by `ConsortiumCertified`. Precisely:
//! let h₀ be the tamperer's head height when it acts and c₁ the first certified height above h₀
//! that member m's chain holds (the first attested height after the tampering). m detects the
//! tamperer in time when the first verdict m receives naming it concerns an attested height at
//! most c₁: within one attestation interval of the tampering (a false root may be named even
//! earlier, for a height before h₀ whose attestation was still queued).
//!
//! Measurements: `tamperer_named_by_next_verdict` (honest members detecting in time; reference
//! 1), `honest_members_accused` (verdicts on honest nodes naming an honest member among all
//! verdicts they received, over the whole run; reference 0) and `detection_latency_checkpoints`
//! (checkpoints from h₀ to the checkpoint of m's first verdict naming the tamperer, per honest
//! member; shown, not judged: its floor is 2, one checkpoint to apply the next write and one to
//! order its attestation, and beyond that it follows the network's timing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vein_node::consortium_db::{ReplicaFeed, layout};
use vein_node::core::consortium::ConsortiumTx;
use vein_node::core::crypto::AccountId;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;
use vein_node::core::node::Policy;
use vein_node::core::transaction::TxKind;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};

use crate::attacker::{AttackerKind, NetworkShape};
use crate::consortium_net::{ConsortiumNet, STATIC_ROW, TABLE};
use crate::engine::{Engine, FEE, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish, start};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::{InvalidValue, at_least, at_most};

/// How often each node submits the attestations its feed queued (the service's interval).
const SUBMIT_EVERY_MS: u64 = 250;
/// Writes per second, by the parties in turn.
const WRITE_EVERY_MS: u64 = 1_000;
/// Intervals of writing before the tamperer acts.
const WARMUP_T: u64 = 12;
/// Intervals observed after it acted.
const OBSERVE_T: u64 = 12;
/// Longest wait for the consortium's creation to reach every member's replica, in T.
const CREATE_WAIT_T: u64 = 30;
/// Party approvals a permission change needs (none is proposed here; the creation needs one).
const QUORUM: u16 = 2;
const CITATION: &str = "docs/consortium.md (States on chain: attestations)";

/// What the tampering member does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TamperMode {
    /// Its operator rewrites a current row of its replica file behind the node's back.
    ForgedRow,
    /// It attests another root than its intact replica's.
    FalseRoot,
}

/// `[attacker] kind = "tampering-member"`: the last node's member alters its replica or lies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TamperingMember {
    /// `forged-row` or `false-root`.
    pub mode: TamperMode,
}

impl AttackerKind for TamperingMember {
    const KIND: &'static str = "tampering-member";

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        let forged = f64::from(u8::from(self.mode == TamperMode::ForgedRow));
        labels.insert("forged_row".into(), forged);
    }
}

/// The family's type in the registry.
pub struct TamperingMemberFamily;

impl Family for TamperingMemberFamily {
    const METRIC: &'static str = "tampering_member";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::NextCertification];
    type Attacker = TamperingMember;

    fn validate(scenario: &Scenario) -> Result<(), InvalidValue> {
        // Three members: two honest ones are a strict majority, so the true root is certified.
        at_least("network.nodes", scenario.network.nodes, 3)?;
        at_most("network.nodes", scenario.network.nodes, 16)
    }

    fn story(_scenario: &Scenario) -> String {
        format!(
            "Every node is a party and member node of one consortium; parties write a row a \
             second, each member keeps a replica fed by its node's events and submits its \
             attestations every {SUBMIT_EVERY_MS} ms. After {WARMUP_T} T the last member \
             rewrites a row of its SQLite replica file (mode forged-row) or attests other \
             roots than its replica's (false-root); {OBSERVE_T} T are observed.\n\
             metric: tamperer_named_by_next_verdict (honest members whose first verdict \
             naming the tamperer concerns an attested height <= c1, the first certified \
             height after the tampering), honest_members_accused (verdicts naming an honest \
             member), detection_latency_checkpoints (shown).\n\
             reference: 1 and 0 (a strict majority of honest members certifies the true root \
             of c1, and the tamperer's attestation of c1 differs from it)."
        )
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// A verdict a node received: the checkpoint it came at, the attested height, who diverged.
struct Verdict {
    node: usize,
    height: u64,
    attested_height: u64,
    diverged: Vec<AccountId>,
    after_tampering: bool,
}

/// The members, their feeds and what they have seen.
struct Members<'a, E> {
    context: &'a Context<'a>,
    engine: E,
    consortium: ConsortiumNet,
    feeds: Vec<ReplicaFeed>,
    tamperer: usize,
    lying: bool,
    tampered: bool,
    verdicts: Vec<Verdict>,
    writes: u64,
    writing: bool,
}

impl<E: Engine> Members<'_, E> {
    /// Runs to `until_ms`: a write every second while writing, and every 250 ms each node's
    /// events to its feed and its queued attestations to the chain.
    fn run_until(&mut self, until_ms: u64) -> Result<(), RunError> {
        while self.engine.now_ms() < until_ms {
            let next = (self.engine.now_ms() / SUBMIT_EVERY_MS + 1) * SUBMIT_EVERY_MS;
            let next = next.min(until_ms);
            if self.writing && next.is_multiple_of(WRITE_EVERY_MS) {
                let kind = self.consortium.write().map_err(|error| self.context.setup(error))?;
                let from = (self.writes % self.feeds.len() as u64) as usize;
                self.writes += 1;
                // A refused write is a party's loss; the story goes on.
                let _ = self.engine.submit(from, kind, FEE);
            }
            self.engine.run_until(next);
            self.feed_and_attest();
        }
        Ok(())
    }

    fn feed_and_attest(&mut self) {
        for (node, event) in self.engine.take_events() {
            if let Event::ConsortiumCertified { height, attested_height, diverged, .. } = &event {
                self.verdicts.push(Verdict {
                    node,
                    height: *height,
                    attested_height: *attested_height,
                    diverged: diverged.to_vec(),
                    after_tampering: self.tampered,
                });
            }
            if let Some(feed) = self.feeds.get_mut(node) {
                feed.on_event(&event);
            }
        }
        for node in 0..self.feeds.len() {
            let fee = self.engine.node(node).chain().params().fee_min;
            for mut tx in self.feeds[node].take_outgoing() {
                if self.lying
                    && node == self.tamperer
                    && let ConsortiumTx::Attest { root, .. } = &mut tx
                {
                    *root = Hash::of(root.as_bytes());
                }
                let _ = self.engine.submit(node, TxKind::Consortium(Box::new(tx)), fee);
            }
        }
    }
}

/// Rewrites the note of the static row through a second SQLite connection, as an operator
/// editing the file would. `Err` names what failed.
fn forge_row(path: &Path) -> Result<(), String> {
    let db = rusqlite::Connection::open(path).map_err(|error| error.to_string())?;
    let table = layout::version_table(TABLE);
    let sql =
        format!("UPDATE \"{table}\" SET note = 'forged' WHERE id = ?1 AND vein_valid_to IS NULL");
    let changed = db.execute(&sql, [STATIC_ROW]).map_err(|error| error.to_string())?;
    if changed == 1 { Ok(()) } else { Err(format!("{changed} current rows forged, not 1")) }
}

/// Runs one seed.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let attacker: TamperingMember = context.attacker()?;
    let capacities = honest_capacities(scenario);
    let nodes = capacities.len();
    let mut spec_params = params(scenario);
    spec_params.fixed_base_target = !scenario.network.retarget;
    let spec = NetSpec {
        capacities,
        params: spec_params,
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies: vec![Policy::Honest; nodes],
    };
    let mut engine: E = start(&context, &spec)?;
    engine.keep_events().map_err(|error| context.setup(error.to_string()))?;
    let interval = scenario.network.target_interval_ms;
    engine.run_until(interval);
    let consortium = ConsortiumNet::create(&mut engine, seed, nodes, QUORUM)
        .map_err(|error| context.setup(error))?;
    let forged = attacker.mode == TamperMode::ForgedRow;
    // File replicas only where a file is forged; in memory they are the same code.
    let directory = if forged {
        Some(tempfile::tempdir().map_err(|error| context.setup(error.to_string()))?)
    } else {
        None
    };
    let mut feeds = Vec::with_capacity(nodes);
    for node in 0..nodes {
        let path = match &directory {
            Some(directory) => {
                let path = directory.path().join(format!("node{node}"));
                std::fs::create_dir_all(&path).map_err(|error| context.setup(error.to_string()))?;
                Some(path)
            }
            None => None,
        };
        feeds.push(consortium.feed(node, engine.account(node), path));
    }
    let mut members = Members {
        context: &context,
        engine,
        consortium,
        feeds,
        tamperer: nodes - 1,
        lying: false,
        tampered: false,
        verdicts: Vec::new(),
        writes: 0,
        writing: false,
    };
    let id = members.consortium.id;
    let cap = members.engine.now_ms() + CREATE_WAIT_T * interval;
    while members.feeds.iter().any(|feed| feed.replica(&id).is_none()) {
        if members.engine.now_ms() >= cap {
            return Err(context.setup("the consortium reached no replica within 30 T"));
        }
        let next = members.engine.now_ms() + SUBMIT_EVERY_MS;
        members.run_until(next)?;
    }
    members.writing = true;
    // One of 16 phases of the interval, by seed (any seed: no product that can overflow).
    let phase_ms = (seed % 16) * interval / 16;
    let tamper_at = members.engine.now_ms() + WARMUP_T * interval + phase_ms;
    members.run_until(tamper_at)?;
    let tamperer = members.tamperer;
    let tampered_at = members.engine.node(tamperer).chain().height();
    if forged {
        let file: Option<PathBuf> =
            directory.as_ref().map(|d| d.path().join(format!("node{tamperer}")));
        let file = file.map(|d| d.join(format!("consortium-{id}.sqlite")));
        let file = file.ok_or_else(|| context.setup("no replica directory"))?;
        forge_row(&file).map_err(|error| context.setup(format!("forging a row: {error}")))?;
    } else {
        members.lying = true;
    }
    members.tampered = true;
    let end = members.engine.now_ms() + OBSERVE_T * interval;
    members.run_until(end)?;
    measure(&context, members, tampered_at)
}

fn measure<E: Engine>(
    context: &Context<'_>,
    members: Members<'_, E>,
    tampered_at: u64,
) -> Result<RunMetrics, RunError> {
    let engine = &members.engine;
    let tamperer = members.tamperer;
    let tamperer_account = engine.account(tamperer);
    let honest: BTreeSet<usize> = (0..members.feeds.len()).filter(|n| *n != tamperer).collect();
    let honest_accounts: BTreeSet<AccountId> = honest.iter().map(|n| engine.account(*n)).collect();
    let at = engine.now_ms() as f64 / 1000.0;
    let mut violations =
        invariants(engine, members.feeds.len(), context.scenario.network.finality_depth);
    let mut in_time = 0u64;
    let mut latencies = Vec::new();
    for node in &honest {
        let received = || members.verdicts.iter().filter(|v| v.node == *node && v.after_tampering);
        // c₁: the first certified height above h₀ on this member's chain.
        let next_certified =
            received().map(|v| v.attested_height).filter(|h| *h > tampered_at).min();
        let named = received().find(|v| v.diverged.contains(&tamperer_account));
        match (named, next_certified) {
            (Some(named), Some(next)) => {
                in_time += u64::from(named.attested_height <= next);
                latencies.push(named.height.saturating_sub(tampered_at) as f64);
            }
            (Some(named), None) => {
                in_time += 1; // Named for a height before h₀: only a false root can be.
                latencies.push(named.height.saturating_sub(tampered_at) as f64);
            }
            (None, _) => violations.push(Violation {
                invariant: "tamperer-not-named".into(),
                at_simulated_seconds: at,
                node: Some(*node as u64),
                detail: format!("no verdict naming member {tamperer} after height {tampered_at}"),
            }),
        }
    }
    let received: Vec<&Verdict> =
        members.verdicts.iter().filter(|v| honest.contains(&v.node)).collect();
    let accusing = received
        .iter()
        .filter(|v| v.diverged.iter().any(|account| honest_accounts.contains(account)))
        .count() as u64;
    if received.is_empty() {
        return Err(context.setup("no verdict reached an honest member"));
    }
    let labels = &context.labels;
    let mut measurements = vec![
        Measurement::proportion(
            "tamperer_named_by_next_verdict",
            labels.clone(),
            in_time,
            honest.len() as u64,
            Some(Reference::new(1.0, "named at the first certified height after it", CITATION)),
        )?,
        Measurement::proportion(
            "honest_members_accused",
            labels.clone(),
            accusing,
            received.len() as u64,
            Some(Reference::new(0.0, "no honest member named", CITATION)),
        )?,
    ];
    if latencies.len() >= 2 {
        measurements.push(Measurement::mean_of(
            "detection_latency_checkpoints",
            labels.clone(),
            latencies,
            None,
        )?);
    }
    Ok(finish(context, engine, violations, measurements))
}
