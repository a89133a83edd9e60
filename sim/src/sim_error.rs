//! Why a simulated run could not start. A run that starts always ends with a
//! [`RunReport`](crate::run_report::RunReport), violations included, so this is only about
//! what is refused before the first simulated instant.

use crate::config::ConfigError;
use crate::evm_workload::EvmWorkloadError;
use vein_node::core::params::GenesisError;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration was refused by `SimConfig::validate`.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The genesis built for the configuration (funded accounts, miners' plots) is invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// The EVM workload could not be built (the committed contract build is unreadable).
    #[error("evm workload: {0}")]
    Evm(#[from] EvmWorkloadError),
    /// A genesis could not be encoded for its id (the chain id the peg and light clients use).
    #[error("genesis id: {0}")]
    GenesisId(#[from] vein_node::core::wire::WireError),
}
