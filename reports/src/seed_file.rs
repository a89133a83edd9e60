//! Failing-seed files: the memory of the property tests that run fresh random seeds on every CI
//! run (the simulator's fault families, `sim/tests/properties.rs`, and the attack families,
//! `scenarios/tests/properties.rs`).
//!
//! Model: each run checks a family on a few FRESH seeds (`VEIN_SEEDS`, comma- or
//! space-separated u64s, if set; otherwise drawn from OS entropy), so that over many CI runs many
//! seeds are explored instead of the same fixed few. OS entropy only *chooses* a seed; the run
//! itself sees nothing but that seed, so it stays deterministic and replays. A committed text file
//! holds every seed that ever failed, one `family seed` per line (`#` starts a comment): each
//! family re-runs its recorded seeds first, and a fresh seed that fails is appended. A recorded
//! seed stays as a regression case after the bug is fixed.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The environment variable that replaces the fresh seeds.
pub const SEEDS_VAR: &str = "VEIN_SEEDS";

/// Errors reading or appending a seed file, or parsing `VEIN_SEEDS`.
#[derive(Debug, Error)]
pub enum SeedFileError {
    /// The seed file exists but could not be read (a missing file is an empty record).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The seed file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A failing seed could not be appended to the seed file.
    #[error("cannot append to {path}: {source}")]
    Write {
        /// The seed file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A non-comment line is not a family name, whitespace and a u64 seed.
    #[error("{path}:{line}: expected `family seed`, got {text:?}")]
    Line {
        /// The seed file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// A word of `VEIN_SEEDS` is not an unsigned 64-bit integer.
    #[error("{SEEDS_VAR}: {word:?} is not a seed (an unsigned 64-bit integer)")]
    BadSeed {
        /// The offending word.
        word: String,
    },
}

/// A failing-seed file.
#[derive(Debug, Clone)]
pub struct SeedFile {
    path: PathBuf,
}

impl SeedFile {
    /// The seed file at `path`; nothing is read or created until it is used.
    pub fn new(path: impl Into<PathBuf>) -> SeedFile {
        SeedFile { path: path.into() }
    }

    /// Where the file lives, for messages that tell a user which file to commit.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seeds recorded for `family`, in file order, each once. A missing file records nothing.
    pub fn recorded(&self, family: &str) -> Result<Vec<u64>, SeedFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(SeedFileError::Read { path: self.path.clone(), source }),
        };
        let mut seeds = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .split_once(char::is_whitespace)
                .and_then(|(name, seed)| Some((name, seed.trim().parse::<u64>().ok()?)));
            let Some((name, seed)) = parsed else {
                return Err(SeedFileError::Line {
                    path: self.path.clone(),
                    line: number + 1,
                    text: line.to_string(),
                });
            };
            if name == family && !seeds.contains(&seed) {
                seeds.push(seed);
            }
        }
        Ok(seeds)
    }

    /// Appends `family seed` as one `write` of one line, so that tests running at once append
    /// whole lines.
    pub fn record(&self, family: &str, seed: u64) -> Result<(), SeedFileError> {
        let write_error = |source| SeedFileError::Write { path: self.path.clone(), source };
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(write_error)?;
        out.write_all(format!("{family} {seed}\n").as_bytes()).map_err(write_error)
    }
}

/// Parses a seed list such as `"7, 12 13"`.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, SeedFileError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .map(|word| word.parse().map_err(|_| SeedFileError::BadSeed { word: word.to_string() }))
        .collect()
}

/// The fresh seeds of this run: `VEIN_SEEDS` if set, else `count` seeds from OS entropy.
pub fn fresh_seeds(count: usize) -> Result<Vec<u64>, SeedFileError> {
    if let Ok(list) = std::env::var(SEEDS_VAR) {
        return parse_seeds(&list);
    }
    // RandomState's keys come from the OS, new ones for each instance. They only pick the
    // seeds; nothing inside a run ever sees them.
    Ok((0..count as u64).map(|index| RandomState::new().hash_one(index)).collect())
}

/// One seed checked by [`check_seeds`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRun {
    /// The seed the family ran with.
    pub seed: u64,
    /// It came from the seed file.
    pub recorded: bool,
    /// Why it failed (with its replay line), if it did.
    pub failure: Option<String>,
}

/// Checks `family` on its recorded seeds first, then on the `fresh` ones it has not recorded,
/// and appends each fresh seed that fails to `file`. `check(seed, replay)` returns the failure,
/// if any; `replay` is true for every recorded seed and the first fresh one, whose run the check
/// should repeat to compare (nondeterminism is the kind of bug fixed seeds never find). The seeds
/// go to stderr first, with the `VEIN_SEEDS` value that reruns the fresh ones.
pub fn check_seeds(
    file: &SeedFile,
    family: &str,
    fresh: &[u64],
    mut check: impl FnMut(u64, bool) -> Option<String>,
) -> Result<Vec<SeedRun>, SeedFileError> {
    let recorded = file.recorded(family)?;
    let fresh: Vec<u64> = fresh.iter().copied().filter(|seed| !recorded.contains(seed)).collect();
    let fresh_list: Vec<String> = fresh.iter().map(u64::to_string).collect();
    // Straight to stderr, past a test harness's capture: the seeds must be visible even when the
    // process dies mid-run.
    let _ = writeln!(
        std::io::stderr(),
        "properties/{family}: recorded seeds {recorded:?}, fresh seeds {fresh:?} \
         (rerun with {SEEDS_VAR}={})",
        fresh_list.join(",")
    );
    let mut runs = Vec::with_capacity(recorded.len() + fresh.len());
    let order = recorded.iter().map(|seed| (*seed, true)).chain(fresh.iter().map(|s| (*s, false)));
    for (index, (seed, is_recorded)) in order.enumerate() {
        let failure = check(seed, is_recorded || index == recorded.len());
        if failure.is_some() && !is_recorded {
            file.record(family, seed)?;
        }
        runs.push(SeedRun { seed, recorded: is_recorded, failure });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_fresh_seeds_are_recorded_and_rerun_first() {
        let dir = tempfile::tempdir().unwrap();
        let file = SeedFile::new(dir.path().join("failing-seeds.txt"));
        std::fs::write(file.path(), "# comment\nother 5\n").unwrap();
        // Odd seeds fail; the replay flag marks recorded seeds and the first fresh one.
        let mut replays = Vec::new();
        let mut odd = |seed: u64, replay: bool| {
            replays.push((seed, replay));
            (seed % 2 == 1).then(|| format!("seed {seed} is odd"))
        };
        let first = check_seeds(&file, "f", &[11, 12, 13], &mut odd).unwrap();
        assert_eq!(first.iter().filter(|run| run.failure.is_some()).count(), 2);
        assert_eq!(file.recorded("f").unwrap(), [11, 13]);
        assert_eq!(file.recorded("other").unwrap(), [5]);
        let second = check_seeds(&file, "f", &[14, 11], &mut odd).unwrap();
        let order: Vec<(u64, bool)> = second.iter().map(|run| (run.seed, run.recorded)).collect();
        assert_eq!(order, [(11, true), (13, true), (14, false)]);
        assert_eq!(replays[..3], [(11, true), (12, false), (13, false)]);
        assert_eq!(replays[3..], [(11, true), (13, true), (14, true)]);
        // Recorded seeds that fail again are not recorded twice.
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(text, "# comment\nother 5\nf 11\nf 13\n");
    }

    #[test]
    fn bad_lines_and_seeds_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = SeedFile::new(dir.path().join("seeds.txt"));
        assert!(file.recorded("f").unwrap().is_empty(), "a missing file records nothing");
        std::fs::write(file.path(), "f 1\nf x\n").unwrap();
        let error = file.recorded("f").unwrap_err().to_string();
        assert!(error.ends_with("seeds.txt:2: expected `family seed`, got \"f x\""), "{error}");
        assert_eq!(parse_seeds(" 7, 8 9,").unwrap(), [7, 8, 9]);
        let error = parse_seeds("7,-1").unwrap_err().to_string();
        assert_eq!(error, "VEIN_SEEDS: \"-1\" is not a seed (an unsigned 64-bit integer)");
    }
}
