//! vein-testnet
