//! `logs` and `logs --follow`: a node's log file, its tail, and what it appends.

use crate::manifest::Manifest;
use crate::{TestnetError, io, is_alive, node_entry};
use std::path::Path;
use std::time::Duration;

pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last `lines` lines of node `index`'s log (all of it if shorter); an error if the node
/// has never written one.
pub fn logs(manifest: &Manifest, index: usize, lines: usize) -> Result<String, TestnetError> {
    let node = node_entry(manifest, index)?;
    if !node.log.exists() {
        return Err(TestnetError::Io {
            action: "reading",
            path: node.log.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    Ok(log_tail(&node.log, lines))
}

/// `logs --follow`: print the last `lines` lines of node `index`'s log, then what is appended,
/// checking every `poll` until the node is no longer running (its last lines printed) or
/// `stop` says so. Returns why it stopped.
pub fn follow_logs(
    manifest: &Manifest,
    index: usize,
    lines: usize,
    poll: Duration,
    out: &mut dyn std::io::Write,
    stop: &dyn Fn() -> bool,
) -> Result<String, TestnetError> {
    let node = node_entry(manifest, index)?;
    let text = logs(manifest, index, lines)?;
    let write_error =
        |source| TestnetError::Io { action: "writing", path: "stdout".into(), source };
    if !text.is_empty() {
        writeln!(out, "{text}").map_err(write_error)?;
    }
    let mut offset = std::fs::metadata(&node.log).map_err(io("reading", &node.log))?.len();
    loop {
        // Whether it runs is read before the file, so the last bytes of an exiting node are
        // printed before the loop ends.
        let running = node.pid.is_some_and(|pid| is_alive(pid, node));
        let appended;
        (appended, offset) = read_from(&node.log, offset)?;
        out.write_all(&appended).map_err(write_error)?;
        out.flush().map_err(write_error)?;
        if !running {
            return Ok(format!("node {index} is not running; stopped following"));
        }
        if stop() {
            return Ok("stopped".into());
        }
        std::thread::sleep(poll);
    }
}

/// The bytes of `path` from `offset` on (all of it if the file is now shorter: a restart with a
/// fresh log), and the offset after them.
fn read_from(path: &Path, offset: u64) -> Result<(Vec<u8>, u64), TestnetError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(io("reading", path))?;
    let length = file.metadata().map_err(io("reading", path))?.len();
    let start = if length < offset { 0 } else { offset };
    file.seek(SeekFrom::Start(start)).map_err(io("reading", path))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io("reading", path))?;
    let end = start + bytes.len() as u64;
    Ok((bytes, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_reads_what_was_appended_and_starts_over_after_a_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.log");
        std::fs::write(&path, "first\n").unwrap();
        let (bytes, offset) = read_from(&path, 0).unwrap();
        assert_eq!((bytes.as_slice(), offset), (b"first\n".as_slice(), 6));
        std::fs::write(&path, "first\nsecond\n").unwrap();
        let (bytes, offset) = read_from(&path, offset).unwrap();
        assert_eq!((bytes.as_slice(), offset), (b"second\n".as_slice(), 13));
        std::fs::write(&path, "new\n").unwrap();
        let (bytes, offset) = read_from(&path, offset).unwrap();
        assert_eq!((bytes.as_slice(), offset), (b"new\n".as_slice(), 4));
    }
}
