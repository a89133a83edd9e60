//! The testnet's API token: the bearer secret of every node's privileged routes
//! (`/control/*`, transfers a node signs). `up` makes one per testnet (32 bytes from the
//! operating system's random source, as hex), keeps it in `<dir>/api-token` readable by its
//! owner only, hands every node the file (`vein-node run --api-token-file`) and records its path
//! in the manifest; each command that calls a privileged route reads it from there.

use crate::{TestnetError, io};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where `up` writes the token, inside the testnet directory.
pub const API_TOKEN_FILE: &str = "api-token";
/// Random bytes in a token (64 hex characters).
const TOKEN_BYTES: usize = 32;

/// Make a fresh token in `dir` (replacing any left from an earlier net) and return its path.
pub fn create(dir: &Path) -> Result<PathBuf, TestnetError> {
    let urandom = Path::new("/dev/urandom");
    let mut secret = [0u8; TOKEN_BYTES];
    std::fs::File::open(urandom)
        .and_then(|mut file| file.read_exact(&mut secret))
        .map_err(io("reading", urandom))?;
    let path = dir.join(API_TOKEN_FILE);
    // The mode is set only when the file is created: an old file, possibly world-readable,
    // is removed first rather than rewritten in place.
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(io("removing", &path)(error));
        }
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("creating", &path))?;
    file.write_all(hex::encode(secret).as_bytes()).map_err(io("writing", &path))?;
    file.sync_all().map_err(io("syncing", &path))?;
    Ok(path)
}

/// The token in `path` (surrounding whitespace dropped).
pub fn read(path: &Path) -> Result<String, TestnetError> {
    let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
    Ok(text.trim().to_string())
}

/// The token a manifest names, or `None` for a testnet made before tokens existed (its nodes
/// then answer privileged routes with 401 and say why).
pub fn of_manifest(manifest: &crate::manifest::Manifest) -> Result<Option<String>, TestnetError> {
    manifest.api_token.as_deref().map(read).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn tokens_are_fresh_hex_readable_by_the_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(API_TOKEN_FILE);
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let first = read(&create(dir.path()).unwrap()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert_eq!(first.len(), 2 * TOKEN_BYTES);
        assert!(hex::decode(&first).is_ok(), "{first}");
        let second = read(&create(dir.path()).unwrap()).unwrap();
        assert_ne!(first, second);
    }
}
