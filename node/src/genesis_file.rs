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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The account as 64 hex characters.
    pub account: String,
    pub balance: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PocModeFile {
    Real,
    /// Model capacities by hex account (simulation-style networks only).
    Model {
        capacities: BTreeMap<String, u64>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenesisFile {
    pub chain_id: String,
    pub timestamp_ms: u64,
    pub allocations: Vec<Allocation>,
    pub initial_base_target: u64,
    pub poc: PocModeFile,
    pub params: Params,
}

#[derive(Debug, thiserror::Error)]
pub enum GenesisFileError {
    #[error("reading genesis file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing genesis file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("genesis file {path} is not valid JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("genesis account {account:?} is not 64 hex characters")]
    BadAccount { account: String },
    #[error("invalid genesis: {0}")]
    Invalid(#[from] GenesisError),
}

fn parse_account(text: &str) -> Result<AccountId, GenesisFileError> {
    AccountId::from_hex(text).map_err(|_| GenesisFileError::BadAccount { account: text.into() })
}

impl GenesisFile {
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
