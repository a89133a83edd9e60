//! What `vein-testnet db` keeps on this machine about a consortium: `DIR/consortia/ID.json`.
//!
//! A party's client needs the consortium's data key to seal its writes, but on chain the key
//! exists only wrapped for the member *nodes* (X25519), not for party accounts. The choice
//! here: `db create` draws the epoch-0 data key itself, wraps it for the member nodes, and
//! keeps it in this file (mode 0600, written before the creation is submitted, so a key never
//! exists on chain without its copy here). Every party client of the testnet reads it from the
//! testnet directory, which stands for the parties' own out-of-band key exchange. The file also
//! journals every consortium transaction `db` submitted (for `db history`).

use crate::{TestnetError, io};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vein_node::core::consortium::keys::DataKey;
use vein_node::core::hash::Hash;

/// One consortium transaction submitted from this directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Transaction id (hex).
    pub tx: String,
    /// `create`, `propose`, `approve`, `write`, `approve-entry` or `deny-entry`.
    pub kind: String,
    /// The signing party: a node index or `faucet`.
    pub from: String,
    /// What it does, in words: accounts, tables and operation counts, never row values.
    pub what: String,
}

/// The local record of one consortium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalConsortium {
    /// The consortium id (64 hex); also the file's name.
    pub id: String,
    /// The consortium's name as given to `db create`.
    pub name: String,
    /// The data key of each epoch this client knows (hex). Secret.
    pub data_keys: BTreeMap<u64, String>,
    /// Every consortium transaction `db` submitted for it from this directory, oldest first,
    /// ignored ones included.
    pub journal: Vec<JournalEntry>,
}

/// Why the local record cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// `DIR/consortia/ID.json` does not exist: the consortium was created from another
    /// testnet directory, or by someone else.
    #[error(
        "no local record of consortium {id} in {dir} (its data key stays where `db create` \
         ran; pass that --dir)"
    )]
    Missing {
        /// The consortium id (64 hex).
        id: String,
        /// The testnet directory searched.
        dir: PathBuf,
    },
    /// The record is not valid JSON of a [`LocalConsortium`], or a key in it is not 32 bytes
    /// of hex.
    #[error("{path} is not a consortium record: {reason}")]
    Malformed {
        /// The record's file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// The chain's current key epoch is one this record has no data key for (the key was
    /// rotated elsewhere).
    #[error(
        "this client holds no data key of consortium {id} for key epoch {epoch} (it knows \
         epochs {known:?}); a rotated key must be added to {path}"
    )]
    NoDataKey {
        /// The consortium id (64 hex).
        id: String,
        /// The key epoch asked for.
        epoch: u64,
        /// The epochs the record holds keys for, ascending.
        known: Vec<u64>,
        /// The record's file, where the key would go.
        path: PathBuf,
    },
}

impl LocalConsortium {
    /// Where the record of consortium `id` lives: `DIR/consortia/ID.json`.
    pub fn path(dir: &Path, id: &Hash) -> PathBuf {
        dir.join("consortia").join(format!("{id}.json"))
    }

    /// A fresh record holding `key` as the data key of epoch 0 and an empty journal.
    pub fn new(id: &Hash, name: &str, key: &DataKey) -> LocalConsortium {
        LocalConsortium {
            id: id.to_string(),
            name: name.to_string(),
            data_keys: [(0, hex::encode(key.0))].into(),
            journal: Vec::new(),
        }
    }

    /// Read the record of `id` from testnet directory `dir`.
    pub fn load(dir: &Path, id: &Hash) -> Result<LocalConsortium, TestnetError> {
        let path = Self::path(dir, id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let dir = dir.to_path_buf();
                return Err(LocalError::Missing { id: id.to_string(), dir }.into());
            }
            Err(error) => return Err(io("reading", &path)(error)),
        };
        serde_json::from_str(&text)
            .map_err(|error| LocalError::Malformed { path, reason: error.to_string() }.into())
    }

    /// Write the record (owner-only: it holds data keys), replacing the file atomically.
    pub fn save(&self, dir: &Path) -> Result<(), TestnetError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let id = Hash::from_hex_text(&self.id).unwrap_or(Hash::ZERO);
        let path = Self::path(dir, &id);
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::create_dir_all(&parent).map_err(io("creating", &parent))?;
        let text = serde_json::to_string_pretty(self)
            .map_err(|error| TestnetError::Invalid(error.to_string()))?;
        let partial = path.with_extension("json.partial");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .map_err(io("writing", &partial))?;
        file.write_all(text.as_bytes()).map_err(io("writing", &partial))?;
        file.sync_all().map_err(io("writing", &partial))?;
        std::fs::rename(&partial, &path).map_err(io("renaming", &partial))
    }

    /// The data key of `epoch`.
    pub fn key(&self, dir: &Path, epoch: u64) -> Result<DataKey, TestnetError> {
        let missing = || {
            let id = Hash::from_hex_text(&self.id).unwrap_or(Hash::ZERO);
            LocalError::NoDataKey {
                id: self.id.clone(),
                epoch,
                known: self.data_keys.keys().copied().collect(),
                path: Self::path(dir, &id),
            }
        };
        let text = self.data_keys.get(&epoch).ok_or_else(missing)?;
        let bytes: [u8; 32] = hex::decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| LocalError::Malformed {
                path: Self::path(dir, &Hash::from_hex_text(&self.id).unwrap_or(Hash::ZERO)),
                reason: format!("the key of epoch {epoch} is not 32 bytes of hex"),
            })?;
        Ok(DataKey(bytes))
    }

    /// Append to the journal and save.
    pub fn record(&mut self, dir: &Path, entry: JournalEntry) -> Result<(), TestnetError> {
        self.journal.push(entry);
        self.save(dir)
    }
}

/// Parse 64 hex characters as a hash.
pub trait HashText: Sized {
    /// The hash of exactly 32 bytes of hex (surrounding whitespace ignored); `None` otherwise.
    fn from_hex_text(text: &str) -> Option<Self>;
}

impl HashText for Hash {
    fn from_hex_text(text: &str) -> Option<Hash> {
        hex::decode(text.trim()).ok().and_then(|bytes| bytes.try_into().ok()).map(Hash)
    }
}

/// `bytes` from the operating system's random source (keys, salts, wrapping ephemerals).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], TestnetError> {
    use std::io::Read;
    let path = Path::new("/dev/urandom");
    let mut bytes = [0u8; N];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(io("reading", path))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_saves_owner_only_and_loads_back_with_its_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let id = Hash::of(b"c");
        let mut local = LocalConsortium::new(&id, "clinic", &DataKey([7u8; 32]));
        local.save(dir.path()).unwrap();
        let mode =
            std::fs::metadata(LocalConsortium::path(dir.path(), &id)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let entry = JournalEntry {
            tx: "aa".into(),
            kind: "write".into(),
            from: "1".into(),
            what: "1 op on t".into(),
        };
        local.record(dir.path(), entry).unwrap();
        let loaded = LocalConsortium::load(dir.path(), &id).unwrap();
        assert_eq!(loaded, local);
        assert_eq!(loaded.key(dir.path(), 0).unwrap(), DataKey([7u8; 32]));
        let error = loaded.key(dir.path(), 1).unwrap_err().to_string();
        assert!(error.contains("key epoch 1"), "{error}");
        let missing = LocalConsortium::load(dir.path(), &Hash::of(b"other")).unwrap_err();
        assert!(missing.to_string().contains("no local record"), "{missing}");
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(random_bytes::<32>().unwrap(), random_bytes::<32>().unwrap());
    }
}
