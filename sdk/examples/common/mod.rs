//! What the examples share: where the node is (`--node` or `VEIN_NODE`), its API token
//! (`--token-file` or `VEIN_TOKEN`), and an exit that prints the error in words.

// Each example uses a different part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

/// The node's API address: the flag, else `VEIN_NODE`.
pub fn node(flag: Option<SocketAddr>) -> Result<SocketAddr, String> {
    if let Some(addr) = flag {
        return Ok(addr);
    }
    let text = std::env::var("VEIN_NODE")
        .map_err(|_| "give the node's API address: --node IP:PORT or VEIN_NODE".to_string())?;
    text.trim().parse().map_err(|_| format!("VEIN_NODE={text:?} is not IP:PORT"))
}

/// The node's API token: the file's content, else `VEIN_TOKEN`, else none.
pub fn token(file: Option<&Path>) -> Result<Option<String>, String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("reading the token file {}: {error}", path.display()))?;
        return Ok(Some(text.trim().to_string()));
    }
    Ok(std::env::var("VEIN_TOKEN").ok().map(|token| token.trim().to_string()))
}

/// Exit 0 on success; print the error and exit 1 otherwise.
pub fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
