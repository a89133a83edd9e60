//! The peer handshake of the TCP transport: each side proves its node key on a fresh challenge
//! from the other, and an address a peer claims is believed only once this node has dialled
//! it and found the same key there.
//!
//! On a new connection the acceptor speaks first, a [`CHALLENGE_BYTES`] challenge. The dialer
//! answers with a [`Hello`] (a length-prefixed frame): its node key, its listening address, a
//! challenge of its own, and a signature over the acceptor's challenge and that address. The
//! acceptor checks the signature and answers with an [`Ack`]: its node key and a signature over
//! the dialer's challenge. Then frames flow from dialer to acceptor only.
//!
//! A signature proves who holds a key, not where: anyone can sign a hello naming any address.
//! So the acceptor believes the claimed address only when its own outbound connection to that
//! address has been acknowledged by the same key (it dials it if it has not; `tcp.rs`), and
//! delivers nothing from the connection before. A hello naming an address nobody serves, or
//! one served by another key, costs this node one connection attempt and is refused; it never
//! becomes a peer the node gossips to.
//!
//! Challenges are a keyed hash of a per-process secret (OS randomness) and a counter: never
//! repeated, even across restarts, so a recorded hello cannot be replayed.

use crate::core::crypto::{self, AccountId, Keypair, Signature};
use crate::core::hash::Hash;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of a challenge.
pub const CHALLENGE_BYTES: usize = 32;
/// Longest text of a socket address: `[` + an IPv6 address with an IPv4 tail (45 characters,
/// `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`) + `%` + a 10-digit scope id + `]:` + a
/// 5-digit port.
pub const ADDRESS_TEXT_MAX: usize = 64;
/// Longest hello: key, signature, challenge, address text.
pub const HELLO_BYTES_MAX: usize = 32 + 64 + CHALLENGE_BYTES + ADDRESS_TEXT_MAX;
/// Bytes of an acknowledgement: key and signature.
pub const ACK_BYTES: usize = 32 + 64;

const HELLO_DOMAIN: &[u8] = b"vein/p2p-hello/v1";
const ACK_DOMAIN: &[u8] = b"vein/p2p-ack/v1";

/// A challenge: random to everyone but its issuer.
pub type Challenge = [u8; CHALLENGE_BYTES];

/// Why a handshake message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Not key, signature, challenge and a socket address as text, or too long.
    #[error("the hello is not key, signature, challenge and a socket address")]
    Malformed,
    /// The signature is not the hello key's over this node's challenge and the address.
    #[error("the hello's signature is not its key's over our challenge and its address")]
    BadSignature,
}

/// The dialer's half: who it is, where it listens, and its challenge to the acceptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The dialer's node key.
    pub key: AccountId,
    /// Over the acceptor's challenge and `listen`.
    pub signature: Signature,
    /// The dialer's challenge, for the acceptor's [`Ack`].
    pub challenge: Challenge,
    /// Where the dialer listens: the name it will be known by.
    pub listen: SocketAddr,
}

impl Hello {
    /// Answer the acceptor's `theirs` as `key`, listening at `listen`, asking `mine` back.
    pub fn new(key: &Keypair, theirs: &Challenge, mine: Challenge, listen: SocketAddr) -> Hello {
        let signature = key.sign(&hello_message(theirs, &listen));
        Hello { key: key.account(), signature, challenge: mine, listen }
    }

    /// Key, signature, challenge, then the address as text.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HELLO_BYTES_MAX);
        bytes.extend_from_slice(self.key.as_bytes());
        bytes.extend_from_slice(&self.signature.0);
        bytes.extend_from_slice(&self.challenge);
        bytes.extend_from_slice(self.listen.to_string().as_bytes());
        debug_assert!(bytes.len() <= HELLO_BYTES_MAX);
        bytes
    }

    /// The hello in `bytes` (at most [`HELLO_BYTES_MAX`]), not yet verified.
    pub fn decode(bytes: &[u8]) -> Result<Hello, HandshakeError> {
        if bytes.len() > HELLO_BYTES_MAX || bytes.len() < 32 + 64 + CHALLENGE_BYTES {
            return Err(HandshakeError::Malformed);
        }
        let (key, rest) = bytes.split_at(32);
        let (signature, rest) = rest.split_at(64);
        let (challenge, text) = rest.split_at(CHALLENGE_BYTES);
        let text = std::str::from_utf8(text).map_err(|_| HandshakeError::Malformed)?;
        Ok(Hello {
            key: AccountId(key.try_into().map_err(|_| HandshakeError::Malformed)?),
            signature: Signature(signature.try_into().map_err(|_| HandshakeError::Malformed)?),
            challenge: challenge.try_into().map_err(|_| HandshakeError::Malformed)?,
            listen: text.parse().map_err(|_| HandshakeError::Malformed)?,
        })
    }

    /// Whether this hello answers `ours`, the challenge this node sent on the connection.
    pub fn verify(&self, ours: &Challenge) -> Result<(), HandshakeError> {
        crypto::verify(&self.key, &hello_message(ours, &self.listen), &self.signature)
            .map_err(|_| HandshakeError::BadSignature)
    }
}

/// The acceptor's half: its key, proven on the dialer's challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The acceptor's node key.
    pub key: AccountId,
    /// Over the dialer's challenge.
    pub signature: Signature,
}

impl Ack {
    /// Answer the dialer's challenge `theirs` as `key`.
    pub fn new(key: &Keypair, theirs: &Challenge) -> Ack {
        Ack { key: key.account(), signature: key.sign(&ack_message(theirs)) }
    }

    /// Key, then signature.
    pub fn encode(&self) -> [u8; ACK_BYTES] {
        let mut bytes = [0u8; ACK_BYTES];
        bytes[..32].copy_from_slice(self.key.as_bytes());
        bytes[32..].copy_from_slice(&self.signature.0);
        bytes
    }

    /// The key that signed `ours` in `bytes`, or `None` if the signature is not valid.
    pub fn verified_key(bytes: &[u8; ACK_BYTES], ours: &Challenge) -> Option<AccountId> {
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&bytes[32..]);
        let key = AccountId(key);
        crypto::verify(&key, &ack_message(ours), &Signature(signature)).ok().map(|()| key)
    }
}

fn hello_message(challenge: &Challenge, listen: &SocketAddr) -> Vec<u8> {
    [HELLO_DOMAIN, challenge, listen.to_string().as_bytes()].concat()
}

fn ack_message(challenge: &Challenge) -> Vec<u8> {
    [ACK_DOMAIN, challenge.as_slice()].concat()
}

/// This process's challenges: `H(secret ‖ counter)`.
pub struct Challenges {
    secret: [u8; 32],
    counter: AtomicU64,
}

impl Challenges {
    /// Challenges keyed by `secret`, which must be unknown to peers and differ per process.
    pub fn new(secret: [u8; 32]) -> Challenges {
        Challenges { secret, counter: AtomicU64::new(0) }
    }

    /// Challenges keyed by OS randomness.
    pub fn from_os() -> Result<Challenges, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)?;
        Ok(Challenges::new(secret))
    }

    /// A challenge never issued before by this process.
    pub fn next(&self) -> Challenge {
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        Hash::of_parts(&[b"vein/p2p-challenge", &self.secret, &counter.to_le_bytes()]).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

    fn listen() -> SocketAddr {
        "127.0.0.1:7000".parse().unwrap()
    }

    #[test]
    fn the_longest_socket_address_text_fits_the_hello() {
        let ip = Ipv6Addr::from([0xffff; 8]);
        let displayed = SocketAddr::V6(SocketAddrV6::new(ip, u16::MAX, 0, u32::MAX)).to_string();
        assert!(displayed.len() <= ADDRESS_TEXT_MAX, "{displayed}");
        let parsed_longest = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535";
        assert_eq!(parsed_longest.len(), ADDRESS_TEXT_MAX);
        assert!(parsed_longest.parse::<SocketAddr>().is_ok());
        let mapped = Ipv4Addr::new(255, 255, 255, 255).to_ipv6_mapped();
        let displayed = SocketAddr::V6(SocketAddrV6::new(mapped, u16::MAX, 0, u32::MAX));
        assert!(displayed.to_string().len() <= ADDRESS_TEXT_MAX);
        let key = Keypair::derived("hello", 0);
        let hello = Hello::new(
            &key,
            &[1; 32],
            [2; 32],
            SocketAddr::V6(SocketAddrV6::new(ip, u16::MAX, 0, u32::MAX)),
        );
        assert!(hello.encode().len() <= HELLO_BYTES_MAX);
    }

    #[test]
    fn a_hello_round_trips_and_verifies_only_on_its_challenge_and_address() {
        let key = Keypair::derived("hello", 1);
        let ours = [7u8; 32];
        let hello = Hello::new(&key, &ours, [9; 32], listen());
        let decoded = Hello::decode(&hello.encode()).unwrap();
        assert_eq!(decoded, hello);
        assert_eq!(decoded.verify(&ours), Ok(()));
        assert_eq!(decoded.verify(&[8; 32]), Err(HandshakeError::BadSignature));
        let moved = Hello { listen: "127.0.0.1:7001".parse().unwrap(), ..decoded.clone() };
        assert_eq!(moved.verify(&ours), Err(HandshakeError::BadSignature));
        let other = Hello { key: Keypair::derived("hello", 2).account(), ..decoded };
        assert_eq!(other.verify(&ours), Err(HandshakeError::BadSignature));
    }

    #[test]
    fn malformed_hellos_are_refused_without_panicking() {
        let hello = Hello::new(&Keypair::derived("hello", 3), &[1; 32], [2; 32], listen());
        let bytes = hello.encode();
        for length in 0..bytes.len() {
            let _ = Hello::decode(&bytes[..length]);
        }
        assert_eq!(Hello::decode(&bytes[..127]), Err(HandshakeError::Malformed));
        let mut not_text = bytes.clone();
        *not_text.last_mut().unwrap() = 0xff;
        assert_eq!(Hello::decode(&not_text), Err(HandshakeError::Malformed));
        let long = [bytes.as_slice(), &[b'0'; ADDRESS_TEXT_MAX]].concat();
        assert_eq!(Hello::decode(&long), Err(HandshakeError::Malformed));
    }

    #[test]
    fn an_ack_names_the_key_that_signed_the_challenge() {
        let key = Keypair::derived("ack", 0);
        let ack = Ack::new(&key, &[5; 32]).encode();
        assert_eq!(Ack::verified_key(&ack, &[5; 32]), Some(key.account()));
        assert_eq!(Ack::verified_key(&ack, &[6; 32]), None);
    }

    #[test]
    fn challenges_never_repeat_and_differ_by_secret() {
        let one = Challenges::new([1; 32]);
        let first = one.next();
        assert_ne!(first, one.next());
        assert_ne!(first, Challenges::new([2; 32]).next());
    }
}
