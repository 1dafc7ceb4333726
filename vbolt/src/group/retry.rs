//! The retries of a write transaction that lost to another writer
//! ([`Error::Conflict`](crate::Error::Conflict), on a shared engine): at
//! least [`Retry::MIN_ATTEMPTS`], and more until [`Retry::BUDGET`] has
//! passed (a cluster electing a new leader stalls every writer for about a
//! second), each after a pause that doubles (from 1 ms, at most 50 ms),
//! randomized so that writers that collided do not collide again in step.
//! The attempt count also goes to the engine, which may give a writer that
//! keeps losing priority over the others (see the etcd backend's module
//! docs).

use std::time::{Duration, Instant};

/// The retry state of one caller.
pub(crate) struct Retry {
    attempts: u32,
    pause: Duration,
    start: Instant,
}

impl Retry {
    pub const MIN_ATTEMPTS: u32 = 20;
    pub const BUDGET: Duration = Duration::from_secs(10);
    const MAX_PAUSE: Duration = Duration::from_millis(50);

    pub fn new() -> Retry {
        Retry {
            attempts: 0,
            pause: Duration::from_millis(1),
            start: Instant::now(),
        }
    }

    /// How many attempts have lost so far.
    pub fn lost(&self) -> u32 {
        self.attempts
    }

    /// Waits before another attempt; false when the attempts are used up.
    pub fn again(&mut self) -> bool {
        self.attempts += 1;
        if self.attempts > Retry::MIN_ATTEMPTS && self.start.elapsed() > Retry::BUDGET {
            return false;
        }
        std::thread::sleep(self.pause.mul_f64(0.5 + jitter()));
        self.pause = (self.pause * 2).min(Retry::MAX_PAUSE);
        true
    }
}

/// A number in `[0, 1)` that differs between threads and calls.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
