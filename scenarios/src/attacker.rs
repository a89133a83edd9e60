//! The `[attacker]` table of a scenario file: which attacker runs, with exactly its parameters.
//!
//! Model: `kind = "..."` selects one variant of [`Attacker`], and the other keys of the table
//! are that variant's fields, nothing else (`deny_unknown_fields`). A key of another kind, a
//! misspelt key or a missing required key is therefore a parse error that names the key and
//! the keys the kind allows; an unknown kind lists the known ones. What serde cannot say (a share
//! outside (0, 1), a split too large for the network) each variant checks in its own
//! `validate`, one error per impossible value, naming the field. Sweeps set a parameter by name
//! through [`Attacker::set_parameter`]; a name the kind does not have is refused as unused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

/// Largest on-the-fly plotting rate (nonces per second): 10^7 nonces is ~2.4 PiB plotted per
/// second, far beyond any machine, and keeps the race's per-checkpoint draw count bounded.
pub const NONCES_PER_S_MAX: f64 = 10_000_000.0;

/// Largest honest plot (nonces) for plot sharing: plots live in memory at 256 KiB a nonce,
/// and every checkpoint costs each node one nonce regeneration to verify.
pub const PLOT_NONCES_PER_NODE_MAX: u64 = 64;

/// Largest owner plot (nonces) for plot sharing, 128 MiB.
pub const OWNER_NONCES_MAX: u64 = 512;

/// Most identities (owner included) claiming the one shared plot: each is a full node.
pub const PLOT_SPLIT_MAX: u64 = 16;

/// The network facts an attacker's validation needs (the `[network]` table's values).
#[derive(Debug, Clone, Copy)]
pub struct NetworkShape {
    pub nodes: u64,
    pub nonces_per_node: u64,
    pub challenge_refresh: u64,
    pub retarget: bool,
}

/// Capacity that gives an extra node share `q` of the total beside `honest_total` nonces.
pub fn attacker_capacity(honest_total: u64, q: f64) -> u64 {
    ((honest_total as f64) * q / (1.0 - q)).round().max(1.0) as u64
}

/// Attacker behaviours, each a policy of the ordinary node (see `docs/scenarios.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Attacker {
    /// Nobody attacks.
    #[default]
    None,
    /// An honest miner holding share `s` of the space (#2), or split over identities (#8).
    LargeMiner(LargeMiner),
    /// Private double-spend race with share `q` against a merchant waiting `z` checkpoints.
    PrivateRace(PrivateRace),
    /// Selfish mining (Eyal–Sirer) with share `q`: withhold own checkpoints, release tactically.
    Withhold(Withhold),
    /// Conflict spam: `rate` pairs per second of conflicting spends of one nonce.
    ConflictSpam(Rate),
    /// Challenge grinding: share `s`, forging each checkpoint in `variants` versions and
    /// publishing the one that gives it the best next deadline.
    Grind(Grind),
    /// Network-split double-spend (#12): the network is split into the merchant's side (share
    /// `s`) and the other side for `d` target intervals; the payer spends one nonce differently
    /// on each side and the merchant delivers after `z` checkpoints of its side.
    NetworkSplit(NetworkSplit),
    /// Lazy tips / parasite sub-DAG (#10): `rate` transfers per second, each approving the
    /// attacker's previous one and an old honest unit instead of recent tips.
    LazyTips(Rate),
    /// Fake space (#7): a node storing nothing that computes `nonces_per_s` nonces per second
    /// once the challenge is known (`Policy::OnTheFly`).
    OnTheFly(OnTheFly),
    /// Extend all forks (#4, double dipping): share `q` over `split` identities, each forging on
    /// every checkpoint it knows, privately (`Policy::ExtendAllForks`).
    ExtendAllForks(ExtendAllForks),
    /// Plot sharing (#8): an owner with share `s` of the real space and `split − 1` more
    /// identities claiming its one plot (`Policy::PublishRefused`), on real plots.
    PlotSharing(PlotSharing),
}

/// `kind = "large-miner"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargeMiner {
    /// Share of the space held by the large miner.
    pub s: f64,
    /// The space split evenly over this many identities (nodes): #8, identity splitting.
    /// Absent: one identity, and the measurement is `win_share` rather than `split_share`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<u64>,
}

/// `kind = "private-race"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRace {
    /// Attacker's share of the total space.
    pub q: f64,
    /// Confirmations (checkpoints) the merchant waits.
    pub z: u64,
    /// The race is abandoned when the attacker is this many checkpoints behind (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_behind: Option<u64>,
}

/// `kind = "withhold"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withhold {
    /// Attacker's share of the total space.
    pub q: f64,
}

/// `kind = "conflict-spam"` and `kind = "lazy-tips"`: the attacker's issuing rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Conflict spam: pairs of conflicting spends per second; lazy tips: transfers per second.
    pub rate: f64,
}

/// `kind = "grind"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grind {
    /// Share of the space held by the grinder.
    pub s: f64,
    /// Versions of each checkpoint the attacker forges and chooses from.
    pub variants: u64,
}

/// `kind = "network-split"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSplit {
    /// Share of the space on the merchant's side.
    pub s: f64,
    /// Checkpoints of its side the merchant waits before delivering.
    pub z: u64,
    /// The split's duration, in target intervals T.
    pub d: f64,
}

/// `kind = "on-the-fly"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnTheFly {
    /// Nonces computed per second after the challenge (R).
    pub nonces_per_s: f64,
}

/// `kind = "extend-all-forks"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendAllForks {
    /// Attacker's share of the total space.
    pub q: f64,
    /// Identities the share is split over (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<u64>,
}

/// `kind = "plot-sharing"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotSharing {
    /// The owner's share of the real space.
    pub s: f64,
    /// Identities claiming the one plot, the owner included. Required: one identity shares
    /// nothing.
    pub split: u64,
}

impl Attacker {
    /// The `kind` string of this attacker, as written in a scenario file.
    pub fn kind(&self) -> &'static str {
        match self {
            Attacker::None => "none",
            Attacker::LargeMiner(_) => "large-miner",
            Attacker::PrivateRace(_) => "private-race",
            Attacker::Withhold(_) => "withhold",
            Attacker::ConflictSpam(_) => "conflict-spam",
            Attacker::Grind(_) => "grind",
            Attacker::NetworkSplit(_) => "network-split",
            Attacker::LazyTips(_) => "lazy-tips",
            Attacker::OnTheFly(_) => "on-the-fly",
            Attacker::ExtendAllForks(_) => "extend-all-forks",
            Attacker::PlotSharing(_) => "plot-sharing",
        }
    }

    /// Refuses impossible values of this attacker on `network`, one error for the first found.
    pub fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue> {
        match self {
            Attacker::None => Ok(()),
            Attacker::LargeMiner(miner) => {
                let split = miner.split.unwrap_or(1);
                share_and_split(miner.s, split)?;
                if network.nodes < split + 1 {
                    return Err(InvalidValue::OutOfRange {
                        field: "network.nodes",
                        value: network.nodes.to_string(),
                        expected: "at least attacker.split + 1 (the large miner's identities and \
                                   one other miner)",
                    });
                }
                Ok(())
            }
            Attacker::PrivateRace(race) => {
                minority_share(race.q)?;
                confirmations(race.z)?;
                if let Some(behind) = race.give_up_behind {
                    at_least("attacker.give_up_behind", behind, 1)?;
                    at_most("attacker.give_up_behind", behind, 500)?;
                }
                Ok(())
            }
            Attacker::Withhold(withhold) => minority_share(withhold.q),
            Attacker::ConflictSpam(rate) | Attacker::LazyTips(rate) => {
                if !(rate.rate.is_finite() && (0.0..=1_000.0).contains(&rate.rate)) {
                    return Err(out_of_range("attacker.rate", rate.rate, "[0, 1000]"));
                }
                Ok(())
            }
            Attacker::Grind(grind) => {
                share_and_split(grind.s, 1)?;
                at_least("attacker.variants", grind.variants, 1)?;
                at_most("attacker.variants", grind.variants, 64)?;
                Ok(())
            }
            Attacker::NetworkSplit(split) => {
                share_and_split(split.s, 1)?;
                if !(split.d.is_finite() && (0.0..=100.0).contains(&split.d)) {
                    return Err(out_of_range("attacker.d", split.d, "[0, 100]"));
                }
                if network.nodes < 4 {
                    return Err(InvalidValue::OutOfRange {
                        field: "network.nodes",
                        value: network.nodes.to_string(),
                        expected: "at least 4 for a network split (two nodes a side)",
                    });
                }
                confirmations(split.z)
            }
            Attacker::OnTheFly(fly) => {
                let rate = fly.nonces_per_s;
                if !(rate.is_finite()
                    && rate > 0.0
                    && rate <= NONCES_PER_S_MAX
                    && rate.fract() == 0.0)
                {
                    return Err(out_of_range(
                        "attacker.nonces_per_s",
                        rate,
                        "(0, 10000000], a whole number of nonces per second",
                    ));
                }
                if network.retarget {
                    return Err(InvalidValue::OutOfRange {
                        field: "network.retarget",
                        value: "true".into(),
                        expected: "false for on-the-fly plotting (the race assumes fixed \
                                   difficulty)",
                    });
                }
                Ok(())
            }
            Attacker::ExtendAllForks(forks) => {
                minority_share(forks.q)?;
                let split = forks.split.unwrap_or(1);
                at_least("attacker.split", split, 1)?;
                at_most("attacker.split", split, 16)?;
                at_most("network.challenge_refresh", network.challenge_refresh, 4_096)?;
                Ok(())
            }
            Attacker::PlotSharing(sharing) => sharing.validate(network),
        }
    }

    /// Sets sweep parameter `name` of this attacker; `Ok(false)` if `name` is not an attacker
    /// parameter at all, an error if it is one of another kind.
    pub fn set_parameter(
        &mut self,
        name: &str,
        value: f64,
        whole: impl Fn() -> Result<u64, InvalidValue>,
    ) -> Result<bool, InvalidValue> {
        let kind = self.kind();
        let unused = |field: &'static str| Err(InvalidValue::Unused { field, kind });
        match (name, self) {
            ("q", Attacker::PrivateRace(race)) => race.q = value,
            ("q", Attacker::Withhold(withhold)) => withhold.q = value,
            ("q", Attacker::ExtendAllForks(forks)) => forks.q = value,
            ("q", _) => return unused("attacker.q"),
            ("s", Attacker::LargeMiner(miner)) => miner.s = value,
            ("s", Attacker::Grind(grind)) => grind.s = value,
            ("s", Attacker::NetworkSplit(split)) => split.s = value,
            ("s", Attacker::PlotSharing(sharing)) => sharing.s = value,
            ("s", _) => return unused("attacker.s"),
            ("z", Attacker::PrivateRace(race)) => race.z = whole()?,
            ("z", Attacker::NetworkSplit(split)) => split.z = whole()?,
            ("z", _) => return unused("attacker.z"),
            ("give_up_behind", Attacker::PrivateRace(race)) => race.give_up_behind = Some(whole()?),
            ("give_up_behind", _) => return unused("attacker.give_up_behind"),
            ("split", Attacker::LargeMiner(miner)) => miner.split = Some(whole()?),
            ("split", Attacker::ExtendAllForks(forks)) => forks.split = Some(whole()?),
            ("split", Attacker::PlotSharing(sharing)) => sharing.split = whole()?,
            ("split", _) => return unused("attacker.split"),
            ("rate", Attacker::ConflictSpam(rate) | Attacker::LazyTips(rate)) => rate.rate = value,
            ("rate", _) => return unused("attacker.rate"),
            ("variants", Attacker::Grind(grind)) => grind.variants = whole()?,
            ("variants", _) => return unused("attacker.variants"),
            ("d", Attacker::NetworkSplit(split)) => split.d = value,
            ("d", _) => return unused("attacker.d"),
            ("nonces_per_s", Attacker::OnTheFly(fly)) => fly.nonces_per_s = value,
            ("nonces_per_s", _) => return unused("attacker.nonces_per_s"),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Adds the parameters a measurement of this attacker is labelled with.
    pub fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        let mut put = |name: &str, value: f64| {
            labels.insert(name.to_string(), value);
        };
        match self {
            Attacker::None => {}
            Attacker::LargeMiner(miner) => {
                put("s", miner.s);
                if let Some(split) = miner.split {
                    put("split", split as f64);
                }
            }
            Attacker::PrivateRace(race) => {
                put("q", race.q);
                put("z", race.z as f64);
            }
            Attacker::Withhold(withhold) => put("q", withhold.q),
            Attacker::ConflictSpam(rate) | Attacker::LazyTips(rate) => put("rate", rate.rate),
            Attacker::Grind(grind) => {
                put("s", grind.s);
                put("variants", grind.variants as f64);
            }
            Attacker::NetworkSplit(split) => {
                put("s", split.s);
                put("z", split.z as f64);
                put("d", split.d);
            }
            Attacker::OnTheFly(fly) => put("nonces_per_s", fly.nonces_per_s),
            Attacker::ExtendAllForks(forks) => {
                put("q", forks.q);
                if let Some(split) = forks.split {
                    put("split", split as f64);
                }
            }
            Attacker::PlotSharing(sharing) => {
                put("s", sharing.s);
                put("split", sharing.split as f64);
            }
        }
    }
}

impl PlotSharing {
    /// The owner's plot size: share `s` of the real space beside the honest plots.
    pub fn owner_nonces(&self, nodes: u64, nonces_per_node: u64) -> u64 {
        attacker_capacity(nonces_per_node * nodes, self.s)
    }

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
}

/// A share `s` in (0, 1) held over `split` identities, 1 to 50.
fn share_and_split(s: f64, split: u64) -> Result<(), InvalidValue> {
    if !(s.is_finite() && s > 0.0 && s < 1.0) {
        return Err(out_of_range("attacker.s", s, "(0, 1)"));
    }
    at_least("attacker.split", split, 1)?;
    at_most("attacker.split", split, 50)
}

/// At q ≥ 1/2 the attacker wins with certainty; the races model minority attackers.
fn minority_share(q: f64) -> Result<(), InvalidValue> {
    if !(q.is_finite() && q > 0.0 && q < 0.5) {
        return Err(out_of_range("attacker.q", q, "(0, 0.5)"));
    }
    Ok(())
}

fn confirmations(z: u64) -> Result<(), InvalidValue> {
    at_least("attacker.z", z, 1)?;
    at_most("attacker.z", z, 50)
}
