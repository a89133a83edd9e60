//! Where a corruption drill flips a byte of a record log: inside a record that at least one whole
//! record follows. A checksum failure there is corruption, never a torn tail (a torn write only
//! ever damages the last record), so a node must refuse to start on it. The simulator's
//! `--faults corrupt` and `vein-testnet corrupt` draw their damage here, so both test the same
//! thing.

use super::decode_ranges;

/// The byte to damage, chosen from a log's current bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DamageSite {
    /// Index of the damaged record in the log.
    pub record_index: usize,
    /// Whole records in the log.
    pub records: usize,
    /// Byte offset in the log.
    pub offset: usize,
}

/// The site `pick` selects: record `pick mod (records − 1)`, byte `(pick >> 32) mod body length`
/// of its body. `None` when fewer than two whole records exist (no record has a follower).
pub fn damage_site(log: &[u8], pick: u64) -> Option<DamageSite> {
    let (records, _, _) = decode_ranges(log);
    let damageable = records.len().checked_sub(1).filter(|count| *count > 0)?;
    let record_index = (pick % damageable as u64) as usize;
    let (_, body) = records.get(record_index)?;
    // A record's body is never empty (a unit or checkpoint encoding), so this is in it.
    let offset = body.start + ((pick >> 32) % body.len().max(1) as u64) as usize;
    Some(DamageSite { record_index, records: records.len(), offset })
}

/// Flip the byte `damage_site` picks (xor 0x5a, so never a no-op); the site, or `None` when the
/// log has no damageable record.
pub fn damage(log: &mut [u8], pick: u64) -> Option<DamageSite> {
    let site = damage_site(log, pick)?;
    *log.get_mut(site.offset)? ^= 0x5a;
    Some(site)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{KIND_TRANSACTION, encode_record};

    #[test]
    fn damages_a_record_that_a_whole_record_follows() {
        let mut log = Vec::new();
        for body in [&b"first record"[..], b"second", b"third one"] {
            log.extend_from_slice(&encode_record(KIND_TRANSACTION, body));
        }
        let clean = log.clone();
        for pick in [0u64, 1, 2, 7 << 32 | 1, u64::MAX] {
            let mut damaged = clean.clone();
            let site = damage(&mut damaged, pick).expect("three records");
            assert_eq!(site.records, 3);
            assert!(site.record_index < 2, "never the last record: {site:?}");
            assert_eq!(damaged.iter().zip(&clean).filter(|(a, b)| a != b).count(), 1);
            assert_ne!(damaged[site.offset], clean[site.offset]);
        }
        let one = encode_record(KIND_TRANSACTION, b"alone");
        assert_eq!(damage_site(&one, 3), None);
        assert_eq!(damage_site(&[], 3), None);
    }
}
