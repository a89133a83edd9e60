//! #8 (second half): plot sharing. One physical plot claimed by several identities to multiply
//! the space they appear to have.
//!
//! Set-up, on REAL plots (`PocMode::Real`, [`Engine::start_real`]): `network.nodes` honest
//! miners each hold their own plot of `network.nonces_per_node` nonces; the owner holds one plot
//! bound to its account, sized for share `s` of the real space; `attacker.split − 1` more
//! identities store nothing and read the owner's plot (the same bytes: one disk). Plots are
//! built by the core's plot builder (`build_plot_in_memory`, the reference PoC2 generator), so
//! every proof is a real scoop that honest nodes check by regenerating its nonce.
//!
//! The identities run the ordinary core with `Policy::PublishRefused`: for every challenge the
//! driver hands them the best proof of the owner's plot (the very deadline the owner has), they
//! forge and sign a checkpoint of their own account with it, and when their own validation
//! refuses it they publish it to every peer anyway. Honest validation is unchanged.
//!
//! Measurements: `plot_sharing_share`, the fraction of node 0's settled chain authored by the
//! group (owner and identities), judged against the owner's real space share `s` (sharing adds
//! nothing: a proof is bound to the plot's account, and even if it were not, every identity would
//! hold the owner's deadline, not a new draw); and `shared_proof_refused`, the fraction of the
//! identities' checkpoint deliveries to honest nodes refused with the typed reason
//! `checkpoint_plot_of_another_account` (`PocError::PlotOfAnotherAccount`), judged against 1.
//! A refused fraction below 1, or an identity's checkpoint on an honest chain, is also a
//! violation (`shared-plot-accepted`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vein_node::core::crypto::AccountId;
use vein_node::core::node::Policy;
use vein_reports::metrics::{Measurement, Reference, RunMetrics, Violation};
use vein_reports::reference;

use crate::attacker::{AttackerKind, NetworkShape, attacker_capacity, share_and_split, whole};
use crate::chain_view::settled_chain;
use crate::engine::{Engine, NetSpec};
use crate::family::Family;
use crate::invariants::invariants;
use crate::net_setup::{honest_capacities, params, tip_strategy};
use crate::run_context::{Context, finish};
use crate::run_error::RunError;
use crate::scenario::{ReferenceName, Scenario};
use crate::scenario_error::InvalidValue;
use crate::workload::{TxSource, drive};

/// The honest nodes' typed label for a proof from a plot of another account.
pub const REFUSED_KIND: &str = "checkpoint_plot_of_another_account";

const CITATION: &str = "vein PROTOCOL.md §3 (plots bound to their account) and §7 #8";

/// The node layout of one run: honest miners `0..owner`, the owner, then the identities.
struct Layout {
    owner: usize,
    identities: Vec<usize>,
    spec: NetSpec,
    plot_of: Vec<Option<usize>>,
    share: f64,
}

fn layout(scenario: &Scenario, s: f64, split: usize) -> Layout {
    let mut capacities = honest_capacities(scenario);
    let honest_total: u64 = capacities.iter().sum();
    let owner = capacities.len();
    let owner_nonces = attacker_capacity(honest_total, s);
    capacities.push(owner_nonces);
    let identities: Vec<usize> = (owner + 1..owner + split).collect();
    // The identities store nothing of their own.
    capacities.extend(identities.iter().map(|_| 0));
    let mut plot_of: Vec<Option<usize>> = (0..=owner).map(Some).collect();
    plot_of.extend(identities.iter().map(|_| Some(owner)));
    let mut policies = vec![Policy::Honest; capacities.len()];
    for &identity in &identities {
        policies[identity] = Policy::PublishRefused;
    }
    let spec = NetSpec {
        capacities,
        params: params(scenario),
        latency_ms: scenario.network.latency_ms,
        tip_strategy: tip_strategy(scenario),
        policies,
    };
    // The exact share after rounding the owner's plot to whole nonces.
    let share = owner_nonces as f64 / (honest_total + owner_nonces) as f64;
    Layout { owner, identities, spec, plot_of, share }
}

/// The family's type in the registry.
pub struct PlotSharing;

impl Family for PlotSharing {
    const METRIC: &'static str = "plot_sharing";
    const REFERENCES: &'static [ReferenceName] = &[ReferenceName::Share];
    const MADSIM_UNSUPPORTED: Option<&'static str> = Some(
        "it needs real plots, and the engine's nodes prove from model plots; run it with \
         vein-scenarios (LocalNet)",
    );
    type Attacker = SharedPlot;

    fn story(_scenario: &Scenario) -> String {
        "Real plots (PocMode::Real, PoC2 plots built by the core's plot builder). The honest \
             miners hold their own plots; the owner holds one plot sized for share s of the real \
             space; attacker.split - 1 more identities store nothing and read the owner's plot \
             (the same bytes). They run Policy::PublishRefused: each forges a checkpoint signed \
             with its own key over the owner's best proof and publishes it to every peer even \
             though its own validation refuses it.\n\
             metric: plot_sharing_share = fraction of node 0's settled chain authored by the \
             group (Wilson CI); shared_proof_refused = fraction of the identities' checkpoint \
             deliveries to honest miners refused as checkpoint_plot_of_another_account.\n\
             reference: share = s (a proof is bound to its plot's account; the identities would \
             only repeat the owner's deadline anyway); refused = 1. A delivery not refused, or \
             an identity's checkpoint on an honest chain, is the violation shared-plot-accepted."
            .to_string()
    }

    fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
        run::<E>(scenario, seed)
    }
}

/// Runs one seed of the plot-sharing scenario.
pub fn run<E: Engine>(scenario: &Scenario, seed: u64) -> Result<RunMetrics, RunError> {
    let context = Context { scenario, seed, labels: scenario.labels() };
    let sharing: SharedPlot = context.attacker()?;
    let (s, split) = (sharing.s, sharing.split.max(1) as usize);
    let Layout { owner, identities, spec, plot_of, share } = layout(scenario, s, split);
    let mut engine = E::start_real(&spec, &plot_of, seed).map_err(|source| RunError::Start {
        scenario: scenario.name.clone(),
        seed,
        source,
    })?;
    // Transfers come from the honest miners only.
    let mut source = TxSource::new(seed, scenario.workload.tx_per_s, owner);
    drive(&mut engine, &mut source, scenario.run.duration_s * 1000);

    let k = scenario.network.finality_depth;
    let chain = settled_chain(&engine, 0, k);
    if chain.is_empty() {
        return Err(context.too_short(0, 1));
    }
    let group: Vec<AccountId> = std::iter::once(owner)
        .chain(identities.iter().copied())
        .map(|i| engine.account(i))
        .collect();
    let won = chain.iter().filter(|link| group.contains(&link.author)).count() as u64;
    let mut measurements = vec![Measurement::proportion(
        "plot_sharing_share",
        context.labels.clone(),
        won,
        chain.len() as u64,
        Some(Reference::new(
            context.reference(reference::expected_win_share(share))?,
            "s, the owner's real space share (sharing adds 0)",
            CITATION,
        )),
    )?];

    let mut violations = invariants(&engine, owner + 1, k);
    if !identities.is_empty() {
        // Every checkpoint an identity forged went to every peer: refused by its own node and
        // published anyway (the attack), or accepted by it and relayed as usual (what a core
        // that skipped the account binding would do; counted so that the test below catches it).
        let published: u64 = identities
            .iter()
            .map(|&i| {
                let view = engine.node(i);
                let stats = view.stats();
                stats.refused_own_published + stats.checkpoints_won
            })
            .sum();
        if published == 0 {
            return Err(context.setup(
                "the identities published no shared-plot checkpoint; raise run.duration_s",
            ));
        }
        // Each published checkpoint went once to every honest miner directly (honest nodes
        // relay only what they accept, and drop copies of what they hold).
        let delivered = published * owner as u64;
        let refused: u64 = (0..owner)
            .map(|i| engine.node(i).stats().rejected.get(REFUSED_KIND).copied().unwrap_or(0))
            .sum();
        let identity_accounts: Vec<AccountId> =
            identities.iter().map(|&i| engine.account(i)).collect();
        let on_honest_chains = on_honest_chains(&engine, owner, &identity_accounts);
        if refused != delivered || on_honest_chains > 0 {
            violations.push(Violation {
                invariant: "shared-plot-accepted".into(),
                at_simulated_seconds: engine.now_ms() as f64 / 1000.0,
                node: None,
                detail: format!(
                    "{refused} of {delivered} deliveries of shared-plot checkpoints refused as \
                     {REFUSED_KIND}; {on_honest_chains} on honest active chains"
                ),
            });
        }
        measurements.push(Measurement::proportion(
            "shared_proof_refused",
            context.labels.clone(),
            refused.min(delivered),
            delivered,
            Some(Reference::new(1.0, "1: refused as checkpoint_plot_of_another_account", CITATION)),
        )?);
    }
    Ok(finish(&context, &engine, violations, measurements))
}

/// Checkpoints authored by `authors` on the active chains of nodes `0..honest`.
fn on_honest_chains<E: Engine>(engine: &E, honest: usize, authors: &[AccountId]) -> usize {
    (0..honest)
        .map(|index| {
            let view = engine.node(index);
            let chain = view.chain();
            (1..=chain.height())
                .filter_map(|height| chain.header(&chain.active_at(height)?))
                .filter(|header| authors.contains(&header.author))
                .count()
        })
        .sum()
}

/// Largest honest plot (nonces) for plot sharing: plots live in memory at 256 KiB a nonce,
/// and every checkpoint costs each node one nonce regeneration to verify.
pub const PLOT_NONCES_PER_NODE_MAX: u64 = 64;

/// Largest owner plot (nonces) for plot sharing, 128 MiB.
pub const OWNER_NONCES_MAX: u64 = 512;

/// Most identities (owner included) claiming the one shared plot: each is a full node.
pub const PLOT_SPLIT_MAX: u64 = 16;

/// `[attacker] kind = "plot-sharing"` (#8): an owner with share `s` of the real space and
/// `split − 1` more identities claiming its one plot (`Policy::PublishRefused`), on real plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedPlot {
    /// The owner's share of the real space.
    pub s: f64,
    /// Identities claiming the one plot, the owner included. Required: one identity shares
    /// nothing.
    pub split: u64,
}

impl SharedPlot {
    /// The owner's plot size: share `s` of the real space beside the honest plots.
    pub fn owner_nonces(&self, nodes: u64, nonces_per_node: u64) -> u64 {
        attacker_capacity(nonces_per_node * nodes, self.s)
    }
}

impl AttackerKind for SharedPlot {
    const KIND: &'static str = "plot-sharing";
    const PARAMETERS: &'static [&'static str] = &["s", "split"];

    /// Refuses plot-sharing set-ups that cannot run: real plots are built in memory.
    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        share_and_split(self.s, self.split)?;
        if !(1..=PLOT_SPLIT_MAX).contains(&self.split) {
            return Err(InvalidValue::OutOfRange {
                field: "attacker.split",
                value: self.split.to_string(),
                expected: "[1, 16] identities claiming the one plot, the owner included",
            });
        }
        let nonces = network.nonces_per_node;
        if nonces > PLOT_NONCES_PER_NODE_MAX {
            return Err(InvalidValue::OutOfRange {
                field: "network.nonces_per_node",
                value: nonces.to_string(),
                expected: "[1, 64] for plot sharing (real plots, 256 KiB a nonce, in memory)",
            });
        }
        let owner = self.owner_nonces(network.nodes, nonces);
        if owner > OWNER_NONCES_MAX {
            return Err(InvalidValue::OutOfRange {
                field: "attacker.s",
                value: format!("{} (an owner plot of {owner} nonces)", self.s),
                expected: "a share whose real plot fits in 512 nonces (128 MiB)",
            });
        }
        Ok(())
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        match name {
            "s" => self.s = value,
            "split" => self.split = whole(name, value)?,
            _ => {}
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("s".into(), self.s);
        labels.insert("split".into(), self.split as f64);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use super::*;
    use crate::engine::LocalNetEngine;
    use crate::scenario::{InvalidValue, ScenarioError};

    const EXAMPLE: &str = include_str!("../plot-sharing.toml");

    fn example() -> Scenario {
        Scenario::parse(EXAMPLE, Path::new("plot-sharing.toml")).unwrap()
    }

    fn invalid(text: &str) -> InvalidValue {
        match Scenario::parse(text, Path::new("x.toml")) {
            Err(ScenarioError::Invalid { source, .. }) => source,
            other => panic!("expected an invalid value, got {other:?}"),
        }
    }

    fn field_of(error: &InvalidValue) -> &'static str {
        match error {
            InvalidValue::OutOfRange { field, .. } => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn impossible_values_name_their_field() {
        let cases = [
            ("split = 4", "split = 0", "attacker.split"),
            ("split = 4", "split = 17", "attacker.split"),
            ("nonces_per_node = 8", "nonces_per_node = 65", "network.nonces_per_node"),
            ("s = 0.25", "s = 0.99", "attacker.s"),
            ("s = 0.25", "s = 1.5", "attacker.s"),
        ];
        for (from, to, field) in cases {
            assert!(EXAMPLE.contains(from), "example lacks {from}");
            let error = invalid(&EXAMPLE.replace(from, to));
            assert_eq!(field_of(&error), field, "{to}: {error}");
        }
        // One identity is not plot sharing: the count must be given, and the error names the
        // file, the kind and the missing key.
        match Scenario::parse(&EXAMPLE.replace("split = 4", ""), Path::new("x.toml")) {
            Err(
                error @ ScenarioError::Invalid {
                    source: InvalidValue::AttackerTable { .. }, ..
                },
            ) => {
                let message = error.to_string();
                assert!(message.starts_with("x.toml: "), "{message}");
                assert!(message.contains("missing field `split`"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        // deny_unknown_fields: a misspelt key names itself.
        let text = EXAMPLE.replace("split = 4", "split = 4\nidentities = 4");
        match Scenario::parse(&text, Path::new("x.toml")) {
            Err(ScenarioError::Invalid {
                source: InvalidValue::AttackerTable { kind, message },
                ..
            }) => {
                assert_eq!(kind, "plot-sharing");
                assert!(message.contains("unknown field `identities`"), "{message}")
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    /// The network adds nothing to the lottery (docs/scenarios.md, family 8b): every settled
    /// checkpoint of a sharing run is authored by the miner holding the least deadline for that
    /// round's challenge (an identity counted as its owner: it holds the owner's deadline), at
    /// exactly its parent's timestamp plus that deadline. Fails if relaying, the tie rule or
    /// the identities' refused publications ever changed who won a round or when.
    #[test]
    fn every_settled_round_goes_to_the_least_deadline() {
        use vein_node::core::poc::challenge::successor_challenge;
        use vein_node::core::poc::plot_file::{PlotReader, build_plot_in_memory};
        use vein_node::core::poc::{PlotSet, Prover};
        let mut scenario = example();
        scenario.network.nonces_per_node = 4;
        scenario.run.duration_s = 60;
        scenario.set_parameter("split", 2.0).unwrap();
        let Layout { owner, spec, plot_of, .. } = layout(&scenario, 0.25, 2);
        let mut engine = LocalNetEngine::start_real(&spec, &plot_of, 7).unwrap();
        let mut source = TxSource::new(7, scenario.workload.tx_per_s, owner);
        drive(&mut engine, &mut source, scenario.run.duration_s * 1000);
        let mut provers: Vec<_> = (0..=owner)
            .map(|i| {
                let bytes = build_plot_in_memory(&engine.account(i), 0, spec.capacities[i]);
                PlotSet::new(vec![PlotReader::open(std::io::Cursor::new(bytes)).unwrap()])
            })
            .collect();
        let accounts: Vec<AccountId> =
            (0..engine.node_count()).map(|i| engine.account(i)).collect();
        let view = engine.node(0);
        let chain = view.chain();
        let top = chain.height().saturating_sub(scenario.network.finality_depth);
        assert!(top >= 20, "only {top} settled checkpoints");
        for height in 1..=top {
            let header = chain.header(&chain.active_at(height).unwrap()).unwrap();
            let parent = chain.header(&header.prev).unwrap();
            let challenge = successor_challenge(
                parent.height,
                &parent.generation_signature,
                &parent.author,
                parent.next_base_target,
                chain.params().challenge_refresh,
            );
            let deadlines: Vec<u64> = provers
                .iter_mut()
                .map(|prover| prover.best(&challenge).unwrap().map_or(u64::MAX, |(_, d)| d))
                .collect();
            let least = *deadlines.iter().min().unwrap();
            let author = accounts.iter().position(|a| *a == header.author).unwrap().min(owner);
            assert_eq!(deadlines[author], least, "height {height}: {deadlines:?}, author {author}");
            assert_eq!(header.timestamp_ms - parent.timestamp_ms, least, "height {height}");
        }
    }

    /// Fails if an honest node accepted a checkpoint proven with a plot of another account: every
    /// delivery of an identity's checkpoint must be refused with the typed reason, none may sit
    /// on an honest chain, and the group must still have won checkpoints with the owner's plot.
    #[test]
    fn honest_nodes_refuse_every_shared_plot_proof() {
        let mut scenario = example();
        scenario.network.nonces_per_node = 4;
        scenario.run.duration_s = 60;
        scenario.set_parameter("split", 3.0).unwrap();
        let run = run::<LocalNetEngine>(&scenario, 7).unwrap();
        assert!(run.violations.is_empty(), "{:?}", run.violations);
        let refused = run.measurements.iter().find(|m| m.name == "shared_proof_refused").unwrap();
        let vein_reports::metrics::MeasurementData::Proportion { successes, trials } = refused.data
        else {
            panic!("a proportion")
        };
        assert!(trials > 0, "the identities published nothing");
        assert_eq!(successes, trials, "an honest node accepted a shared-plot proof");
        let share = run.measurements.iter().find(|m| m.name == "plot_sharing_share").unwrap();
        let vein_reports::metrics::MeasurementData::Proportion { successes, .. } = share.data
        else {
            panic!("a proportion")
        };
        assert!(successes > 0, "the owner never won with its own plot");
    }
}
