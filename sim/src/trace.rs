//! The running trace hash: BLAKE3 over every delivered message (its digest) and every event, in the order the
//! simulation produced them. Two runs with the same seed must end with the same hash; any
//! difference (a HashMap iteration order, a wall-clock read, an unseeded random draw) shows up
//! here. Events are hashed by a compact field encoding rather than their Debug text, because the
//! frequent ones (units accepted on every node) dominate the cost.

use std::net::SocketAddr;
use vein_node::core::dag::Outcome;
use vein_node::core::events::Event;
use vein_node::core::hash::Hash;

/// Bytes of trace records gathered before they are hashed (see [`Trace::pending`]).
const PENDING_BYTES: usize = 64 * 1024;

/// Accumulates the trace of one run.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    hasher: blake3::Hasher,
    /// Records not yet fed to the hasher. BLAKE3 hashes a long input many chunks at a time
    /// (SIMD) but short updates one 64-byte block at a time, and a 1,000-node run writes a
    /// record for each of ten million messages. The hash of a stream does not depend on how
    /// it is split into updates, so buffering leaves every trace hash as it was.
    pending: Vec<u8>,
    /// Messages recorded so far (each delivery of a duplicate counts).
    pub messages: u64,
    /// Sum of the recorded messages' lengths, in bytes.
    pub message_bytes: u64,
    /// Node events recorded so far.
    pub events: u64,
}

impl Trace {
    /// An empty trace: the hash of nothing, all counters zero.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// A message of `len` bytes with BLAKE3 digest `digest` delivered to node `to` from `from`.
    /// The digest stands for the bytes (the transport hashes each envelope once, however many
    /// peers it goes to).
    pub fn message(&mut self, to: usize, from: SocketAddr, len: usize, digest: &Hash) {
        self.messages += 1;
        self.message_bytes += len as u64;
        // One `update` per message, of the same bytes the separate updates fed before: each
        // call has a fixed cost, and this runs for every delivered message.
        let mut record = [0u8; 1 + 8 + 16 + 2 + 8 + 32];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            record[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(b"M");
        put(&(to as u64).to_le_bytes());
        match from.ip() {
            std::net::IpAddr::V4(ip) => put(&ip.octets()),
            std::net::IpAddr::V6(ip) => put(&ip.octets()),
        }
        put(&from.port().to_le_bytes());
        put(&(len as u64).to_le_bytes());
        put(&digest.0);
        self.update(&record[..at]);
    }

    /// An event emitted by node `node` at its local time `now_ms`.
    pub fn event(&mut self, node: usize, now_ms: u64, event: &Event) {
        self.events += 1;
        let hasher = &mut Pending(&mut self.pending);
        hasher.update(b"E");
        hasher.update(&(node as u64).to_le_bytes());
        hasher.update(&now_ms.to_le_bytes());
        let outcome = |outcome: &Outcome| match outcome {
            Outcome::Applied => [1u8],
            Outcome::Ignored => [2u8],
        };
        match event {
            Event::UnitAccepted { id, own } => {
                hasher.update(&[1, u8::from(*own)]);
                hasher.update(&id.0);
            }
            Event::CheckpointAccepted { id, height, author } => {
                hasher.update(&[2]);
                hasher.update(&id.0);
                hasher.update(&height.to_le_bytes());
                hasher.update(author.as_bytes());
            }
            Event::HeadChanged { id, height, cumulative_weight, timestamp_ms } => {
                hasher.update(&[3]);
                hasher.update(&id.0);
                hasher.update(&height.to_le_bytes());
                hasher.update(&cumulative_weight.to_le_bytes());
                hasher.update(&timestamp_ms.to_le_bytes());
            }
            Event::TxConfirmed { id, height, outcome: result } => {
                hasher.update(&[4]);
                hasher.update(&id.0);
                hasher.update(&height.to_le_bytes());
                hasher.update(&outcome(result));
            }
            Event::CheckpointFinal { id, height, ledger_root, supply } => {
                hasher.update(&[5]);
                hasher.update(&id.0);
                hasher.update(&height.to_le_bytes());
                hasher.update(&ledger_root.0);
                hasher.update(&supply.to_le_bytes());
            }
            Event::TxFinal { id, height, outcome: result, from, nonce } => {
                hasher.update(&[6]);
                hasher.update(&id.0);
                hasher.update(&height.to_le_bytes());
                hasher.update(&outcome(result));
                hasher.update(from.as_bytes());
                hasher.update(&nonce.to_le_bytes());
            }
            // Rare events: their Debug text is stable and cheap enough.
            other => {
                hasher.update(&[0]);
                hasher.update(format!("{other:?}").as_bytes());
            }
        }
        self.flush_if_full();
    }

    /// Mix in a simulator decision (a fault applied, a transfer submitted).
    pub fn note(&mut self, text: &str) {
        self.update(b"N");
        self.update(text.as_bytes());
    }

    /// BLAKE3 of everything recorded so far, including records still buffered; the trace can
    /// go on being fed afterwards.
    pub fn hash(&self) -> Hash {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.pending);
        Hash(*hasher.finalize().as_bytes())
    }

    fn update(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        self.flush_if_full();
    }

    fn flush_if_full(&mut self) {
        if self.pending.len() >= PENDING_BYTES {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
    }
}

/// The event encoder's view of the pending buffer (it reads like a hasher).
struct Pending<'a>(&'a mut Vec<u8>);

impl Pending<'_> {
    fn update(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_change_the_hash() {
        let from: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let event = Event::UnitAccepted { id: Hash([1; 32]), own: false };
        let mut a = Trace::new();
        a.message(1, from, 5, &Hash::of(b"hello"));
        a.event(1, 5, &event);
        let mut b = Trace::new();
        b.event(1, 5, &event);
        b.message(1, from, 5, &Hash::of(b"hello"));
        assert_ne!(a.hash(), b.hash());
        let mut c = Trace::new();
        c.message(1, from, 5, &Hash::of(b"hello"));
        c.event(1, 5, &event);
        assert_eq!(a.hash(), c.hash());
        assert_eq!((a.messages, a.events, a.message_bytes), (1, 1, 5));
    }

    #[test]
    fn buffering_does_not_change_the_hash() {
        // Enough records to flush the buffer several times, against one plain hasher fed the
        // same bytes.
        let mut trace = Trace::new();
        let mut plain = blake3::Hasher::new();
        for index in 0..10_000u64 {
            let text = format!("decision {index}");
            trace.note(&text);
            plain.update(b"N");
            plain.update(text.as_bytes());
        }
        assert!(trace.pending.len() < PENDING_BYTES);
        assert_eq!(trace.hash(), Hash(*plain.finalize().as_bytes()));
    }
}
