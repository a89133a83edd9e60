//! Loopback ports for a testnet's nodes: distinct, free when chosen, and below the kernel's
//! ephemeral range.

use crate::{TestnetError, io, now_ms};
use std::net::TcpListener;
use std::path::Path;

/// The lowest port a testnet takes (below it are the well-known and registered services).
const PORT_LOW: u16 = 10_000;

/// The first port of the kernel's ephemeral range (Linux: 32768 unless configured).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Free loopback ports: bind all at once (so they are distinct), record, release. They are
/// taken below the kernel's ephemeral range: a port in that range can become any outgoing
/// connection's source port while its node is down (a `kill`, a `corrupt`), and the restart
/// would then find it in use. The scan starts at a point drawn from the process id and the
/// clock, so testnets started side by side start apart; the kernel's choice is the fallback.
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>, TestnetError> {
    let high = ephemeral_low();
    if high > PORT_LOW.saturating_add(1_024) {
        let span = u64::from(high - PORT_LOW);
        let start = (u64::from(std::process::id()) * 7_919 + now_ms()) % span;
        let mut listeners = Vec::with_capacity(count);
        for step in 0..span {
            if listeners.len() == count {
                break;
            }
            let port = PORT_LOW + ((start + step) % span) as u16;
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
                listeners.push(listener);
            }
        }
        if listeners.len() == count {
            return ports_of(&listeners);
        }
    }
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io("binding", Path::new("127.0.0.1:0")))?;
    ports_of(&listeners)
}

fn ports_of(listeners: &[TcpListener]) -> Result<Vec<u16>, TestnetError> {
    listeners
        .iter()
        .map(|listener| listener.local_addr().map(|addr| addr.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io("reading", Path::new("local address")))
}
