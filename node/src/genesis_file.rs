//! The genesis file: the JSON form of [`Genesis`] that an operator (or `vein-testnet up`) writes
//! and every node of one network loads. Accounts are 64 hex characters so that the file can be
//! read and edited by hand; the proof mode is a tagged enum because `PocMode` itself carries no
//! serde derive (the core keeps its wire formats explicit).
//!
//! Example:
//! ```json
//! { "chain_id": "vein-testnet", "timestamp_ms": 1764100000000,
//!   "allocations": [{ "account": "3b6a…", "balance": 1000000000 }],
//!   "initial_base_target": 123456, "poc": { "mode": "real" }, "params": { … } }
//! ```

use crate::core::crypto::AccountId;
use crate::core::params::{Genesis, GenesisError, Params};
use crate::core::poc::PocMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One genesis balance: an account funded before the first checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The account as 64 hex characters.
    pub account: String,
    /// Its opening balance, in base units of the coin; the allocations sum to the supply.
    pub balance: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
/// [`PocMode`] in the file: `{"mode": "real"}` or `{"mode": "model", "capacities": {..}}`.
pub enum PocModeFile {
    /// Only proofs from real plot files are accepted (every public network).
    Real,
    /// Model capacities by hex account (simulation-style networks only).
    Model {
        /// Plot size in nonces of each miner, keyed by its account as 64 hex characters.
        capacities: BTreeMap<String, u64>,
    },
}

/// The whole genesis file; [`GenesisFile::to_genesis`] turns it into the core's [`Genesis`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenesisFile {
    /// Network name; it enters the genesis id, so nodes with different names never agree on a
    /// chain, and the EVM chain id is derived from it.
    pub chain_id: String,
    /// Time of the genesis checkpoint, Unix ms: the first deadline counts from it.
    pub timestamp_ms: u64,
    /// Opening balances, in file order.
    pub allocations: Vec<Allocation>,
    /// Base target of the first challenge (`deadline = hit / base_target` s); must be positive.
    /// Retargeting moves it from there unless `params.fixed_base_target` is set.
    pub initial_base_target: u64,
    /// Which proofs of capacity the network accepts.
    pub poc: PocModeFile,
    /// Consensus parameters, the same on every node of the network.
    pub params: Params,
}

/// Why a genesis file could not be read, written or turned into a [`Genesis`].
#[derive(Debug, thiserror::Error)]
pub enum GenesisFileError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("reading genesis file {path}: {source}")]
    Read {
        /// The file, as given.
        path: String,
        /// The I/O error from the read.
        #[source]
        source: std::io::Error,
    },
    /// [`GenesisFile::save`] could not write the file.
    #[error("writing genesis file {path}: {source}")]
    Write {
        /// The file, as given.
        path: String,
        /// The I/O error from the write.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON of the genesis file's shape (or, on save, could not be encoded).
    #[error("genesis file {path} is not valid JSON: {source}")]
    Json {
        /// The file, or the name the text was parsed under.
        path: String,
        /// serde_json's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// An allocation or a model capacity names an account that is not 64 hex characters.
    #[error("genesis account {account:?} is not 64 hex characters")]
    BadAccount {
        /// The account text as written in the file.
        account: String,
    },
    /// The file parsed but the genesis it describes breaks a rule of [`Genesis::validate`].
    #[error("invalid genesis: {0}")]
    Invalid(#[from] GenesisError),
}

fn parse_account(text: &str) -> Result<AccountId, GenesisFileError> {
    AccountId::from_hex(text).map_err(|_| GenesisFileError::BadAccount { account: text.into() })
}

impl GenesisFile {
    /// The file form of `genesis` (accounts as hex); [`GenesisFile::to_genesis`] inverts it.
    pub fn from_genesis(genesis: &Genesis) -> GenesisFile {
        let poc = match &genesis.poc {
            PocMode::Real => PocModeFile::Real,
            PocMode::Model { capacities } => PocModeFile::Model {
                capacities: capacities.iter().map(|(a, n)| (a.to_hex(), *n)).collect(),
            },
        };
        GenesisFile {
            chain_id: genesis.chain_id.clone(),
            timestamp_ms: genesis.timestamp_ms,
            allocations: genesis
                .allocations
                .iter()
                .map(|(account, balance)| Allocation {
                    account: account.to_hex(),
                    balance: *balance,
                })
                .collect(),
            initial_base_target: genesis.initial_base_target,
            poc,
            params: genesis.params.clone(),
        }
    }

    /// Convert and validate.
    pub fn to_genesis(&self) -> Result<Genesis, GenesisFileError> {
        let allocations = self
            .allocations
            .iter()
            .map(|allocation| Ok((parse_account(&allocation.account)?, allocation.balance)))
            .collect::<Result<Vec<_>, GenesisFileError>>()?;
        let poc = match &self.poc {
            PocModeFile::Real => PocMode::Real,
            PocModeFile::Model { capacities } => PocMode::Model {
                capacities: capacities
                    .iter()
                    .map(|(account, nonces)| Ok((parse_account(account)?, *nonces)))
                    .collect::<Result<_, GenesisFileError>>()?,
            },
        };
        let genesis = Genesis {
            chain_id: self.chain_id.clone(),
            timestamp_ms: self.timestamp_ms,
            allocations,
            initial_base_target: self.initial_base_target,
            poc,
            params: self.params.clone(),
        };
        genesis.validate()?;
        Ok(genesis)
    }

    /// Read and parse the file at `path`, not yet validated ([`GenesisFile::to_genesis`] does
    /// that).
    pub fn load(path: &Path) -> Result<GenesisFile, GenesisFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| GenesisFileError::Read { path: name.clone(), source })?;
        GenesisFile::parse(&text, &name)
    }

    /// Parse genesis file text (not yet validated: [`GenesisFile::to_genesis`] does that);
    /// `name` only names the source in errors.
    pub fn parse(text: &str, name: &str) -> Result<GenesisFile, GenesisFileError> {
        serde_json::from_str(text)
            .map_err(|source| GenesisFileError::Json { path: name.to_string(), source })
    }

    /// Write the file to `path` as pretty-printed JSON, replacing any file there.
    pub fn save(&self, path: &Path) -> Result<(), GenesisFileError> {
        let name = path.display().to_string();
        let text = serde_json::to_string_pretty(self)
            .map_err(|source| GenesisFileError::Json { path: name.clone(), source })?;
        std::fs::write(path, text).map_err(|source| GenesisFileError::Write { path: name, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Keypair;

    #[test]
    fn genesis_round_trips_through_json_with_the_same_id() {
        let account = Keypair::derived("genesis-file", 0).account();
        let genesis = Genesis {
            chain_id: "t".into(),
            timestamp_ms: 42,
            allocations: vec![(account, 7)],
            initial_base_target: 99,
            poc: PocMode::Real,
            params: Params::default(),
        };
        let file = GenesisFile::from_genesis(&genesis);
        let text = serde_json::to_string(&file).unwrap();
        let back: GenesisFile = serde_json::from_str(&text).unwrap();
        let loaded = back.to_genesis().unwrap();
        assert_eq!(loaded, genesis);
        assert_eq!(loaded.id().unwrap(), genesis.id().unwrap());
    }

    #[test]
    fn bad_accounts_and_zero_targets_are_refused() {
        let mut file = GenesisFile::from_genesis(&Genesis {
            chain_id: "t".into(),
            timestamp_ms: 0,
            allocations: vec![],
            initial_base_target: 1,
            poc: PocMode::Real,
            params: Params::default(),
        });
        file.allocations.push(Allocation { account: "zz".into(), balance: 1 });
        assert!(matches!(file.to_genesis(), Err(GenesisFileError::BadAccount { .. })));
        file.allocations.clear();
        file.initial_base_target = 0;
        assert!(matches!(file.to_genesis(), Err(GenesisFileError::Invalid(_))));
    }
}
