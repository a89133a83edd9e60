//! The `[attacker]` table of a scenario file: which attacker runs, with exactly its parameters.
//!
//! Model: the table is kept as written ([`AttackerTable`]) and read as the type of the family
//! the metric selects ([`AttackerKind`], declared in that family's file). `kind = "..."` must
//! name that type's kind, and the other keys are its fields, nothing else
//! (`deny_unknown_fields`): a key of another kind, a misspelt key or a missing required key is
//! an error that names the key and the keys the kind allows; an unknown kind lists the known
//! ones. What serde cannot say (a share outside (0, 1), a split too large for the network) the
//! type checks in its own [`AttackerKind::validate`], one error per impossible value, naming
//! the field. Sweeps set a parameter by name through [`AttackerKind::set_parameter`].

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::scenario_error::{InvalidValue, at_least, at_most, out_of_range};

/// The network facts an attacker's validation needs (the `[network]` table's values).
#[derive(Debug, Clone, Copy)]
pub struct NetworkShape {
    /// Honest nodes.
    pub nodes: u64,
    /// Space of each honest node, in nonces.
    pub nonces_per_node: u64,
    /// Challenge refresh period `c`.
    pub challenge_refresh: u64,
    /// Whether the base target retargets.
    pub retarget: bool,
}

/// Capacity that gives an extra node share `q` of the total beside `honest_total` nonces.
pub fn attacker_capacity(honest_total: u64, q: f64) -> u64 {
    ((honest_total as f64) * q / (1.0 - q)).round().max(1.0) as u64
}

/// One kind of attacker: the type a family reads its `[attacker]` table as.
pub trait AttackerKind: Serialize + DeserializeOwned + Clone + Debug {
    /// The `kind = "..."` string that selects this type (kebab-case).
    const KIND: &'static str;
    /// Its sweep parameters, the keys [`AttackerKind::set_parameter`] accepts.
    const PARAMETERS: &'static [&'static str] = &[];

    /// Refuses impossible values on `network`, one error for the first found.
    fn validate(&self, network: &NetworkShape) -> Result<(), InvalidValue>;

    /// Sets sweep parameter `name`, one of [`AttackerKind::PARAMETERS`] (the caller validates
    /// afterwards).
    fn set_parameter(&mut self, _name: &str, _value: f64) -> Result<(), InvalidValue> {
        Ok(())
    }

    /// Adds the parameters a measurement of this attacker is labelled with.
    fn labels(&self, _labels: &mut BTreeMap<String, f64>) {}
}

/// `kind = "none"` (or no `[attacker]` table): nobody attacks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoAttacker {}

impl AttackerKind for NoAttacker {
    const KIND: &'static str = "none";

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        Ok(())
    }
}

/// The `[attacker]` table as written in the file: `kind` and that kind's keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttackerTable(toml::Table);

impl AttackerTable {
    /// The `kind` the table names: `"none"` without one, `"?"` if it is not a string (which
    /// [`AttackerTable::read`] refuses).
    pub fn kind(&self) -> &str {
        match self.0.get("kind") {
            None => NoAttacker::KIND,
            Some(toml::Value::String(kind)) => kind,
            Some(_) => "?",
        }
    }

    /// Reads the table as attacker type `A`; an error names the key that does not fit.
    pub fn read<A: AttackerKind>(&self) -> Result<A, InvalidValue> {
        let mut table = self.0.clone();
        table.remove("kind");
        toml::Value::Table(table).try_into::<A>().map_err(|error| InvalidValue::AttackerTable {
            kind: A::KIND,
            message: error.to_string().trim_end().to_string(),
        })
    }

    /// The table of `attacker`, `kind` first.
    pub fn write<A: AttackerKind>(attacker: &A) -> Result<AttackerTable, InvalidValue> {
        let fields = match toml::Value::try_from(attacker) {
            Ok(toml::Value::Table(fields)) => fields,
            Ok(other) => {
                return Err(InvalidValue::AttackerTable {
                    kind: A::KIND,
                    message: format!("serialises as {} rather than a table", other.type_str()),
                });
            }
            Err(error) => {
                return Err(InvalidValue::AttackerTable {
                    kind: A::KIND,
                    message: error.to_string().trim_end().to_string(),
                });
            }
        };
        let mut table = toml::Table::new();
        if A::KIND != NoAttacker::KIND {
            table.insert("kind".into(), toml::Value::String(A::KIND.into()));
        }
        table.extend(fields);
        Ok(AttackerTable(table))
    }
}

/// The kind string of an attacker whose only parameter is an issuing rate ([`Rate`]).
pub trait RateKind: Clone + Debug + PartialEq {
    /// The `kind = "..."` string.
    const KIND: &'static str;
}

/// An attacker whose one parameter is `rate`, issued per second, in [0, 1000]: conflict spam
/// (pairs of conflicting spends) and lazy tips (transfers), told apart by `K`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Rate<K> {
    /// Issued per second.
    pub rate: f64,
    #[serde(skip)]
    kind: PhantomData<K>,
}

impl<K: RateKind> AttackerKind for Rate<K> {
    const KIND: &'static str = K::KIND;
    const PARAMETERS: &'static [&'static str] = &["rate"];

    fn validate(&self, _network: &NetworkShape) -> Result<(), InvalidValue> {
        issuing_rate(self.rate)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidValue> {
        if name == "rate" {
            self.rate = value;
        }
        Ok(())
    }

    fn labels(&self, labels: &mut BTreeMap<String, f64>) {
        labels.insert("rate".into(), self.rate);
    }
}

/// `value` as a whole number, for integer parameters set by a sweep.
pub fn whole(name: &str, value: f64) -> Result<u64, InvalidValue> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 {
        Ok(value as u64)
    } else {
        Err(InvalidValue::OutOfRange {
            field: "parameter",
            value: format!("{name} = {value}"),
            expected: "a whole number",
        })
    }
}

/// A share `s` in (0, 1) held over `split` identities, 1 to 50.
pub fn share_and_split(s: f64, split: u64) -> Result<(), InvalidValue> {
    if !(s.is_finite() && s > 0.0 && s < 1.0) {
        return Err(out_of_range("attacker.s", s, "(0, 1)"));
    }
    at_least("attacker.split", split, 1)?;
    at_most("attacker.split", split, 50)
}

/// At q ≥ 1/2 the attacker wins with certainty; the races model minority attackers.
pub fn minority_share(q: f64) -> Result<(), InvalidValue> {
    if !(q.is_finite() && q > 0.0 && q < 0.5) {
        return Err(out_of_range("attacker.q", q, "(0, 0.5)"));
    }
    Ok(())
}

/// Confirmations a merchant waits, 1 to 50.
pub fn confirmations(z: u64) -> Result<(), InvalidValue> {
    at_least("attacker.z", z, 1)?;
    at_most("attacker.z", z, 50)
}

/// An issuing rate in [0, 1000] per second.
fn issuing_rate(rate: f64) -> Result<(), InvalidValue> {
    if !(rate.is_finite() && (0.0..=1_000.0).contains(&rate)) {
        return Err(out_of_range("attacker.rate", rate, "[0, 1000]"));
    }
    Ok(())
}
