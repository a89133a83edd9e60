//! The consortium confidentiality canary (issue #17, "Confidentiality"): every action plaintext
//! the consortium workload writes carries [`CANARY`], and the chain may only ever carry its
//! ciphertext. So the canary's bytes must appear in no message any node sends and in no file of
//! any simulated disk; members hold plaintext only in their in-memory replicas. A [`CanaryScan`]
//! is shared by every node's network endpoint and counts every envelope it saw and every one
//! that held the canary, with the first such envelope's sender and receiver for the report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The byte string in every consortium action's plaintext (a row's text column). Long and odd
/// enough that no honest encoding, key or hash holds it by chance (a 2^-320 event).
pub const CANARY: &str = "vein-sim-canary:consortium-plaintext-leaked-f17e";

/// Whether `haystack` holds `needle` anywhere.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// Where the canary was found first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Index of the sending node (0-based, as in the run's node list).
    pub from: usize,
    /// Index of the node the envelope was addressed to.
    pub to: usize,
    /// Length of the whole envelope in bytes, not of the canary.
    pub bytes: usize,
}

/// Every envelope sent during a run, scanned for the canary as it passes.
#[derive(Debug, Default)]
pub struct CanaryScan {
    scanned: AtomicU64,
    leaks: AtomicU64,
    first: Mutex<Option<Leak>>,
}

impl CanaryScan {
    /// Scan one envelope `from` → `to`.
    pub fn message(&self, from: usize, to: usize, bytes: &[u8]) {
        self.scanned.fetch_add(1, Ordering::Relaxed);
        if contains(bytes, CANARY.as_bytes()) {
            self.leaks.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            first.get_or_insert(Leak { from, to, bytes: bytes.len() });
        }
    }

    /// Envelopes scanned so far, leaking or not; the run report shows it so that a zero leak
    /// count over zero envelopes is not mistaken for a pass.
    pub fn scanned(&self) -> u64 {
        self.scanned.load(Ordering::Relaxed)
    }

    /// Envelopes that held the canary, and the first of them.
    pub fn leaks(&self) -> (u64, Option<Leak>) {
        let first = self.first.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        (self.leaks.load(Ordering::Relaxed), first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_finds_the_needle_anywhere_and_only_whole() {
        assert!(contains(b"abcdef", b"abc"));
        assert!(contains(b"abcdef", b"def"));
        assert!(contains(b"abcdef", b"cd"));
        assert!(!contains(b"abcdef", b"deg"));
        assert!(!contains(b"ab", b"abc"));
        assert!(contains(b"aaab", b"aab"));
        let mut message = vec![0u8; 300];
        message.extend_from_slice(CANARY.as_bytes());
        assert!(contains(&message, CANARY.as_bytes()));
        message.pop();
        assert!(!contains(&message, CANARY.as_bytes()));
    }

    #[test]
    fn a_scan_counts_envelopes_and_remembers_the_first_leak() {
        let scan = CanaryScan::default();
        scan.message(0, 1, b"ciphertext only");
        assert_eq!(scan.leaks(), (0, None));
        let leaked = format!("row {CANARY} 7");
        scan.message(2, 3, leaked.as_bytes());
        scan.message(4, 5, leaked.as_bytes());
        assert_eq!(scan.scanned(), 3);
        assert_eq!(scan.leaks(), (2, Some(Leak { from: 2, to: 3, bytes: leaked.len() })));
    }
}
