//! Alarms: waking a task at a simulated instant without piling up madsim timers.
//!
//! A madsim `Sleep` adds a timer to madsim's timer heap every time it is polled while pending,
//! and a dropped `Sleep` leaves its timer behind until it expires. The driver recreates its
//! sleep on every turn of its select loop, i.e. once per message, and nearly all of those sleeps
//! wait for the same instant (the next head announcement): at 1,000 nodes the heap held tens of
//! thousands of stale timers and popping them took a fifth of the run (perf, issue #3).
//!
//! An [`Alarm`] remembers the last timer it registered (instant and waker) and registers
//! another only for a different instant or task, so a task that waits for one instant over and
//! over costs one timer. Wake-ups are the same as with a fresh `Sleep` each time (a timer set
//! for an earlier wait still fires and wakes the task once), so the driver sees nothing
//! different. No task is spawned: madsim keeps a record of every task a node ever spawned until
//! the node is killed, so a task per timer would grow memory with every message.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::sim_time::sim_now_us;

/// The last timer registered: its instant (simulated µs since the start) and the task it wakes.
#[derive(Clone, Default)]
pub struct Alarm {
    last: Arc<Mutex<Option<(u64, Waker)>>>,
}

impl Alarm {
    /// An alarm with no timer registered; clones share the same timer.
    pub fn new() -> Alarm {
        Alarm::default()
    }

    /// Make sure `waker` is woken once simulated time reaches `at_us`. Must be called inside
    /// the madsim runtime.
    pub fn set(&self, at_us: u64, waker: &Waker) {
        let now_us = sim_now_us();
        if at_us <= now_us {
            waker.wake_by_ref();
            return;
        }
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.as_ref().is_some_and(|(at, known)| *at == at_us && known.will_wake(waker)) {
                return;
            }
            *last = Some((at_us, waker.clone()));
        }
        // Polled once, then dropped: the timer it registers stays and wakes `waker`. Simulated
        // time has nanoseconds, so waking `at_us - now_us` µs from now is at or after `at_us`.
        let mut sleep = std::pin::pin!(madsim::time::sleep(Duration::from_micros(at_us - now_us)));
        let _ = sleep.as_mut().poll(&mut Context::from_waker(waker));
    }

    /// A future that is ready once simulated time reaches `at_us`.
    pub fn until(&self, at_us: u64) -> Until {
        Until { alarm: self.clone(), at_us }
    }
}

/// Ready at a simulated instant ([`Alarm::until`]).
pub struct Until {
    alarm: Alarm,
    at_us: u64,
}

impl Future for Until {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if sim_now_us() >= self.at_us {
            return Poll::Ready(());
        }
        self.alarm.set(self.at_us, context.waker());
        Poll::Pending
    }
}
