//! A lone driver on virtual time, for tests that run one node through minutes of chain time
//! in milliseconds: the clock jumps to each wake-up, and the network has no peers.

use std::future::{Future, pending, ready};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use vein_node::runtime::{Clock, NetError, Network};

/// Time moves only when the driver sleeps: straight to the wake-up time.
#[derive(Clone, Default)]
pub struct VirtualClock(pub Arc<AtomicU64>);

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at_ms: u64) -> impl Future<Output = ()> + Send {
        self.0.fetch_max(at_ms, Ordering::SeqCst);
        ready(())
    }
}

/// No peers; closes once the clock passes `until_ms` (which ends `Driver::run`), or never.
pub struct Alone {
    pub clock: VirtualClock,
    pub until_ms: u64,
}

impl Network for Alone {
    fn local_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    async fn send(&self, _to: SocketAddr, _bytes: Arc<Vec<u8>>) -> Result<(), NetError> {
        Ok(())
    }

    fn recv(&self) -> impl Future<Output = Result<(SocketAddr, Vec<u8>), NetError>> + Send {
        let closed = self.clock.now_ms() > self.until_ms;
        async move {
            if closed {
                return Err(NetError::Closed);
            }
            pending().await
        }
    }
}
